/* SPDX-License-Identifier: MIT */
/*
 * deframe.c — stream reassembly shared by every framer (host->deframer_*).
 *
 * The stream arrives in chunks with arbitrary boundaries.  At any moment
 * the deframer is in one of three states:
 *   - between frames (need == 0, stash_len == 0): the next byte starts a
 *     frame; the length function looks straight into the chunk;
 *   - inside a cut header (stash_len > 0): fewer bytes than the length
 *     function needed were left at the end of a chunk; they wait in the
 *     stash (at most hdr_bytes) and the next chunk tops it up;
 *   - inside a frame (need > 0): its pooled buffer was allocated as soon as
 *     its length was known, and the following chunks complete it.
 * So every byte is copied once, into the buffer of its frame (the few
 * header bytes of a cut header are also copied into the stash so that
 * the length function sees them contiguously), and nothing behind the
 * current frame is ever moved.
 *
 * When the pool refuses a buffer the frame is skipped byte for byte
 * (pend == NULL while need > 0): the stream stays in step and only that
 * frame is lost.  When the length function refuses a frame there is no way
 * to find the next one, so everything from there on is dropped.
 */
#include <stdlib.h>
#include <string.h>
#include "deframe.h"

/* A frame must fit tp_buf's 32-bit length; beyond 2 GiB a length function
 * is certainly reading garbage that it failed to refuse. */
#define DF_MAX_FRAME INT32_MAX

struct tp_deframer {
	const struct tp_host *host;
	struct tp_stage *st;
	tp_frame_len_fn len_fn;
	void *arg;
	uint32_t hdr_bytes;
	int refused;         /* len_fn refused the stream: drop everything */

	struct tp_buf *pend; /* frame being completed; NULL while skipping one */
	uint32_t need;       /* its total length; 0 = between frames */
	uint32_t have;       /* bytes of it consumed so far */
	uint32_t stash_len;  /* bytes of a cut header held in stash */

	uint64_t *nobuf, *dropped;
	uint8_t stash[];     /* hdr_bytes */
};

struct tp_deframer *tp_deframer_new(const struct tp_host *host, struct tp_stage *st,
				    uint32_t hdr_bytes, tp_frame_len_fn len_fn, void *arg)
{
	struct tp_deframer *d;

	if (!len_fn || hdr_bytes == 0 || hdr_bytes > TP_DEFRAME_MAX_HDR) {
		host->log(st, TP_LOG_ERROR,
			  "deframer_new: need a length function and 1..%d header bytes (got %u%s)",
			  TP_DEFRAME_MAX_HDR, hdr_bytes, len_fn ? "" : ", no function");
		return NULL;
	}
	d = calloc(1, sizeof(*d) + hdr_bytes);
	if (!d) {
		host->log(st, TP_LOG_ERROR, "deframer_new: out of memory");
		return NULL;
	}
	d->host = host;
	d->st = st;
	d->len_fn = len_fn;
	d->arg = arg;
	d->hdr_bytes = hdr_bytes;
	d->nobuf = host->counter(st, "nobuf");
	d->dropped = host->counter(st, "dropped");
	return d;
}

void tp_deframer_free(struct tp_deframer *d)
{
	if (!d)
		return;
	if (d->pend)
		d->host->buf_free(d->st, d->pend);
	free(d);
}

size_t tp_deframer_pending(const struct tp_deframer *d)
{
	return d->need ? d->have : d->stash_len;
}

/*
 * Ask the length function about the `avail` bytes at p, of which the first
 * `held` came from earlier chunks.  Returns the frame length, 0 for "more
 * bytes", or -1 when the stream is refused.  A length function that breaks
 * its contract would make us loop, overflow the stash or split a frame
 * wrongly, so that is refused too, loudly: it is a bug in the framer.
 */
static int64_t df_size(struct tp_deframer *d, const uint8_t *p, size_t avail, uint32_t held)
{
	int64_t r = d->len_fn(d->arg, p, avail);
	const char *bug;

	if (r == -1)
		return -1;
	if (r < -1)
		bug = "a negative length";
	else if (r > DF_MAX_FRAME)
		bug = "a length above 2 GiB";
	else if (r == 0 && avail >= d->hdr_bytes)
		bug = "0 (more bytes) although it had hdr_bytes";
	else if (r > 0 && r < held)
		bug = "a frame shorter than the bytes it asked to see";
	else
		return r;
	d->host->log(d->st, TP_LOG_ERROR,
		     "deframer: the length function returned %s (%lld for %zu bytes); "
		     "refusing the stream", bug, (long long)r, avail);
	return -1;
}

static void df_finish(struct tp_deframer *d, struct tp_batch *out)
{
	if (d->pend)
		tp_batch_add(out, d->pend);
	d->pend = NULL;
	d->need = d->have = 0;
}

/* Start a frame of `len` bytes: its buffer, exactly that big, or a skip. */
static void df_begin(struct tp_deframer *d, uint32_t len)
{
	d->pend = d->host->buf_alloc(d->st, len);
	if (!d->pend)
		(*d->nobuf)++;
	d->need = len;
	d->have = 0;
}

/* Move up to n bytes at p into the frame in progress; returns how many it
 * took and hands the frame to `out` once complete. */
static uint32_t df_fill(struct tp_deframer *d, const uint8_t *p, uint32_t n,
			struct tp_batch *out)
{
	uint32_t take = d->need - d->have;

	if (take > n)
		take = n;
	if (d->pend)
		memcpy(tp_buf_put(d->pend, take), p, take);
	d->have += take;
	if (d->have == d->need)
		df_finish(d, out);
	return take;
}

/* Consume one chunk.  Returns -1 when the stream is refused (the bytes
 * from the refused frame's first one on are counted as dropped). */
static int df_chunk(struct tp_deframer *d, const uint8_t *p, uint32_t n, struct tp_batch *out)
{
	uint32_t take, held, c;
	int64_t r;

	while (n > 0) {
		if (d->need) {
			c = df_fill(d, p, n, out);
			p += c;
			n -= c;
			continue;
		}
		if (d->stash_len) {
			/* Top the stash up for the length function, but consume
			 * nothing from the chunk yet: the frame may end before the
			 * top-up does (a frame shorter than hdr_bytes), and the
			 * bytes after it belong to the next frame. */
			held = d->stash_len;
			take = d->hdr_bytes - held < n ? d->hdr_bytes - held : n;
			memcpy(d->stash + held, p, take);
			r = df_size(d, d->stash, held + take, held);
			if (r < 0) {
				*d->dropped += held + n;
				d->stash_len = 0;
				return -1;
			}
			if (r == 0) { /* still too short: take < n is impossible */
				d->stash_len += take;
				p += take;
				n -= take;
				continue;
			}
			d->stash_len = 0;
			df_begin(d, (uint32_t)r);
			df_fill(d, d->stash, held, out); /* r >= held: may complete it */
			continue;
		}
		r = df_size(d, p, n, 0);
		if (r < 0) {
			*d->dropped += n;
			return -1;
		}
		if (r == 0) { /* n < hdr_bytes: wait for the rest of the header */
			memcpy(d->stash, p, n);
			d->stash_len = n;
			break;
		}
		df_begin(d, (uint32_t)r);
		c = df_fill(d, p, n, out);
		p += c;
		n -= c;
	}
	return 0;
}

int tp_deframe(struct tp_deframer *d, struct tp_batch *in, struct tp_batch *out)
{
	struct tp_buf *b;

	while ((b = tp_batch_pop(in))) {
		if (d->refused)
			*d->dropped += b->len;
		else if (df_chunk(d, b->data, b->len, out) < 0)
			d->refused = 1;
		d->host->buf_free(d->st, b);
	}
	return d->refused ? -1 : 0;
}
