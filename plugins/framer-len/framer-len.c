/*
 * framer-len — length-prefixed framing: every frame on the byte stream is a
 * big-endian length (2 or 4 bytes, option `width`) followed by that many
 * bytes of payload.  Unlike framer-ip it carries any message, not only IP
 * packets, and the prefix width is part of its wire identity
 * ("framer-len/2", "framer-len/4") so both ends agree on it in the
 * handshake.
 *
 * Down, the prefix is written into the buffer's headroom (the descriptor
 * reserves 4 bytes, so the core sizes every buffer for it): no copy of the
 * payload.
 *
 * Up, the stream arrives in chunks with arbitrary boundaries.  Each payload
 * byte is copied exactly once, into the pooled buffer of its frame:
 *   - a frame wholly inside a chunk is copied into a buffer of its size;
 *   - a frame that runs past the end of a chunk gets its own buffer as soon
 *     as its prefix is known, and the following chunks complete it (no
 *     memmove of the rest of the stream, no second copy);
 *   - a prefix cut by a chunk boundary (at most 3 bytes) waits in a tiny
 *     stash inside the instance.
 * Everything completed during one up() call leaves as one batch.
 *
 * A zero or oversized length means the peer is broken or hostile; there is
 * no way to find the next frame, so the session is aborted and everything
 * after is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tunpipe/plugin.h>

#define FLEN_MAX_FRAME (16 * 1024 * 1024)

struct flen_config {
	int64_t width;
	int64_t max_frame;
};

struct flen {
	const struct tp_host *host;
	struct tp_stage *st;
	uint32_t width;
	uint32_t max_frame;
	int dead; /* a framing error was seen: drop everything from now on */

	/* Reassembly of the frame that straddles chunk boundaries. */
	uint8_t stash[4]; /* prefix bytes received so far */
	uint32_t stash_len;
	struct tp_buf *pend; /* payload being completed; NULL while skipping one */
	uint32_t pend_need;  /* payload length; 0 = no frame in progress */
	uint32_t pend_have;  /* payload bytes received so far */

	char reason[128]; /* handed to session_abort(); lives as long as we do */

	uint64_t *up_frames, *up_bytes, *down_frames, *down_bytes;
	uint64_t *down_too_long, *down_empty, *down_noroom;
	uint64_t *zero_length, *too_long, *nobuf, *truncated, *dropped;
};

static const struct tp_option flen_options[] = {
	{ TP_OPT_INT, "width", "2", 0, 2, 4, NULL, offsetof(struct flen_config, width),
	  "bytes of the big-endian length prefix: 2 or 4" },
	{ TP_OPT_INT, "max_frame", "65535", 0, 1, FLEN_MAX_FRAME, NULL,
	  offsetof(struct flen_config, max_frame),
	  "largest payload sent or accepted; a longer frame from the peer aborts the session" },
	TP_OPTIONS_END
};

static void *flen_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			 char *err, size_t errlen)
{
	const struct flen_config *cf = config;
	struct flen *f;

	if (cf->width != 2 && cf->width != 4) {
		snprintf(err, errlen, "width must be 2 or 4 (got %lld)", (long long)cf->width);
		return NULL;
	}
	if (cf->max_frame < 1 || cf->max_frame > FLEN_MAX_FRAME) {
		snprintf(err, errlen, "max_frame must be between 1 and %d (got %lld)",
			 FLEN_MAX_FRAME, (long long)cf->max_frame);
		return NULL;
	}
	if (cf->width == 2 && cf->max_frame > 65535) {
		snprintf(err, errlen,
			 "max_frame %lld does not fit a 2-byte length prefix (at most 65535); "
			 "use width = 4", (long long)cf->max_frame);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->host = host;
	f->st = st;
	f->width = (uint32_t)cf->width;
	f->max_frame = (uint32_t)cf->max_frame;
	f->up_frames = host->counter(st, "up_frames");
	f->up_bytes = host->counter(st, "up_bytes");
	f->down_frames = host->counter(st, "down_frames");
	f->down_bytes = host->counter(st, "down_bytes");
	f->down_too_long = host->counter(st, "down_too_long");
	f->down_empty = host->counter(st, "down_empty");
	f->down_noroom = host->counter(st, "down_noroom");
	f->zero_length = host->counter(st, "zero_length");
	f->too_long = host->counter(st, "too_long");
	f->nobuf = host->counter(st, "nobuf");
	f->truncated = host->counter(st, "truncated");
	f->dropped = host->counter(st, "dropped");
	return f;
}

static int flen_start(void *ctx)
{
	(void)ctx;
	return 0;
}

static void flen_reset(struct flen *f)
{
	if (f->pend)
		f->host->buf_free(f->st, f->pend);
	f->pend = NULL;
	f->pend_need = f->pend_have = 0;
	f->stash_len = 0;
}

static void flen_destroy(void *ctx)
{
	struct flen *f = ctx;

	if (!f)
		return;
	flen_reset(f);
	free(f);
}

static void flen_wire_id(void *ctx, char *buf, size_t len)
{
	const struct flen *f = ctx;

	snprintf(buf, len, "framer-len/%u", f->width);
}

static uint32_t get_be(const uint8_t *p, uint32_t width)
{
	uint32_t v = 0;

	while (width--)
		v = v << 8 | *p++;
	return v;
}

/* Check a prefix value; abort the session on garbage. */
static int flen_check(struct flen *f, struct tp_session *s, uint32_t len)
{
	if (len != 0 && len <= f->max_frame)
		return 0;
	if (len == 0) {
		(*f->zero_length)++;
		snprintf(f->reason, sizeof(f->reason),
			 "framer-len: zero-length frame in the stream from the peer");
	} else {
		(*f->too_long)++;
		snprintf(f->reason, sizeof(f->reason),
			 "framer-len: frame of %u bytes from the peer exceeds max_frame %u",
			 len, f->max_frame);
	}
	f->host->log(f->st, TP_LOG_WARN, "%s; closing the session", f->reason);
	f->dead = 1;
	flen_reset(f);
	f->host->session_abort(f->st, s, f->reason);
	return -1;
}

/* Begin a payload of `len` bytes that continues in later chunks.  When the
 * pool is exhausted the payload is still consumed (pend == NULL), so the
 * stream stays in step and only this frame is lost. */
static void flen_begin(struct flen *f, uint32_t len, const uint8_t *p, uint32_t n)
{
	f->pend = f->host->buf_alloc(f->st, len);
	if (f->pend)
		memcpy(tp_buf_put(f->pend, n), p, n);
	else
		(*f->nobuf)++;
	f->pend_need = len;
	f->pend_have = n;
}

static void flen_finish(struct flen *f, struct tp_batch *out)
{
	if (f->pend) {
		(*f->up_frames)++;
		*f->up_bytes += f->pend->len;
		tp_batch_add(out, f->pend);
	}
	f->pend = NULL;
	f->pend_need = f->pend_have = 0;
}

/* Consume one chunk; completed payloads are appended to `out`.
 * Returns -1 once the stream is found corrupt. */
static int flen_chunk(struct flen *f, struct tp_session *s, const uint8_t *p, uint32_t n,
		      struct tp_batch *out)
{
	uint32_t len, take, w = f->width;
	struct tp_buf *b;

	while (n > 0) {
		if (f->pend_need) { /* complete the payload in progress */
			take = f->pend_need - f->pend_have;
			if (take > n)
				take = n;
			if (f->pend)
				memcpy(tp_buf_put(f->pend, take), p, take);
			f->pend_have += take;
			p += take;
			n -= take;
			if (f->pend_have == f->pend_need)
				flen_finish(f, out);
			continue;
		}
		if (f->stash_len || n < w) { /* the prefix is cut: collect it */
			take = w - f->stash_len;
			if (take > n)
				take = n;
			memcpy(f->stash + f->stash_len, p, take);
			f->stash_len += take;
			p += take;
			n -= take;
			if (f->stash_len < w)
				continue;
			len = get_be(f->stash, w);
			f->stash_len = 0;
			if (flen_check(f, s, len) < 0)
				goto fail;
			take = len < n ? len : n;
			flen_begin(f, len, p, take);
			p += take;
			n -= take;
			if (f->pend_have == f->pend_need)
				flen_finish(f, out);
			continue;
		}
		len = get_be(p, w);
		if (flen_check(f, s, len) < 0)
			goto fail;
		p += w;
		n -= w;
		if (len > n) { /* runs into the next chunk */
			flen_begin(f, len, p, n);
			break;
		}
		b = f->host->buf_alloc(f->st, len);
		if (b) {
			memcpy(tp_buf_put(b, len), p, len);
			(*f->up_frames)++;
			*f->up_bytes += len;
			tp_batch_add(out, b);
		} else {
			(*f->nobuf)++;
		}
		p += len;
		n -= len;
	}
	return 0;

fail:
	/* the rest of the chunk after the bad prefix */
	*f->dropped += n;
	return -1;
}

static void flen_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct flen *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	while ((b = tp_batch_pop(q))) {
		if (f->dead)
			*f->dropped += b->len;
		else
			flen_chunk(f, s, b->data, b->len, &out);
		f->host->buf_free(f->st, b);
	}
	/* Frames completed before an error in the same call are sound: they
	 * still go up. */
	if (out.count)
		f->host->emit_up(f->st, s, &out);
}

static void flen_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct flen *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;
	uint32_t len, i;
	uint8_t *h;

	while ((b = tp_batch_pop(q))) {
		len = b->len;
		/* The peer would abort on an empty or oversized frame, so
		 * neither may leave: drop it here and keep the session. */
		if (len == 0 || len > f->max_frame || tp_buf_headroom(b) < f->width) {
			if (len == 0)
				(*f->down_empty)++;
			else if (len > f->max_frame)
				(*f->down_too_long)++;
			else
				(*f->down_noroom)++;
			f->host->buf_free(f->st, b);
			continue;
		}
		h = tp_buf_push(b, f->width);
		for (i = f->width; i-- > 0; len >>= 8)
			h[i] = (uint8_t)len;
		(*f->down_frames)++;
		*f->down_bytes += b->len;
		tp_batch_add(&out, b);
	}
	if (out.count)
		f->host->emit_down(f->st, s, &out);
}

static void flen_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct flen *f = ctx;

	(void)s;
	if (ev->type != TP_EV_SESSION_DOWN)
		return;
	if (f->stash_len || f->pend_need) {
		(*f->truncated)++;
		if (f->pend_need)
			f->host->log(f->st, TP_LOG_WARN,
				     "stream ended inside a frame (%u of %u payload bytes)",
				     f->pend_have, f->pend_need);
		else
			f->host->log(f->st, TP_LOG_WARN,
				     "stream ended inside a length prefix (%u of %u bytes)",
				     f->stash_len, f->width);
	}
	flen_reset(f);
}

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "framer-len",
	.kind = TP_KIND_TRANSFORM,
	.description = "length-prefixed framing (2- or 4-byte big-endian length) for IP packets or messages",
	.top = TP_DATA_IP | TP_DATA_MSG,
	.bottom = TP_DATA_STREAM,
	.headroom = 4,
	.tailroom = 0,
	.options = flen_options,
	.config_size = sizeof(struct flen_config),
	.create = flen_create,
	.start = flen_start,
	.stop = NULL,
	.destroy = flen_destroy,
	.down = flen_down,
	.up = flen_up,
	.event = flen_event,
	.wire_id = flen_wire_id,
};
