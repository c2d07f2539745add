/*
 * framer-ip — the Simple-VPN framing: IP packets back to back on the byte
 * stream, with no header of our own.  Each packet is delimited by its own
 * length field (IPv4 total length, IPv6 payload length + 40), which makes
 * this framer interoperate with a plain Simple-VPN peer.
 *
 * Down, a packet already is its own frame: the batch goes on unchanged
 * (same buffers, no copy) once each packet's length field has been checked
 * against its buffer, because a single lying length field would
 * desynchronise the peer's parser for the rest of the connection.
 *
 * Up, the stream arrives in chunks with arbitrary boundaries.  Each byte is
 * copied exactly once, into the pooled buffer of the packet it belongs to:
 *   - a packet wholly inside a chunk is copied into a buffer of its size;
 *   - a packet that runs past the end of a chunk gets its own buffer as
 *     soon as its length is known, and the following chunks complete it
 *     (no memmove of the rest of the stream, no second copy);
 *   - the few leading bytes of a packet whose length field itself is cut
 *     (at most 5) wait in a tiny stash inside the instance.
 * Everything completed during one up() call leaves as one batch.
 *
 * The stream cannot be resynchronised after garbage (there is no marker to
 * search for), so a malformed length aborts the session and the instance
 * drops everything it receives afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tunpipe/plugin.h>

#define FIP_MIN_PACKET 68    /* smallest MTU IPv4 requires (RFC 791) */
#define FIP_MAX_PACKET 65535 /* the largest a 16-bit length field describes */
#define FIP_HDR_MAX 6        /* bytes needed to size any packet (IPv6) */

struct fip_config {
	int64_t max_packet;
};

struct fip {
	const struct tp_host *host;
	struct tp_stage *st;
	uint32_t max_packet;
	int dead; /* a framing error was seen: drop everything from now on */

	/* Reassembly of the packet that straddles chunk boundaries. */
	uint8_t stash[FIP_HDR_MAX]; /* leading bytes of a packet not yet sized */
	uint32_t stash_len;
	struct tp_buf *pend; /* packet being completed; NULL while skipping one */
	uint32_t pend_need;  /* its total length; 0 = no packet in progress */
	uint32_t pend_have;  /* bytes of it received so far */

	char reason[128]; /* handed to session_abort(); lives as long as we do */

	uint64_t *up_packets, *up_bytes, *down_packets, *down_bad;
	uint64_t *bad_version, *bad_length, *too_long, *nobuf, *truncated, *dropped;
};

static const struct tp_option fip_options[] = {
	{ TP_OPT_INT, "max_packet", "65535", 0, FIP_MIN_PACKET, FIP_MAX_PACKET, NULL,
	  offsetof(struct fip_config, max_packet),
	  "largest packet accepted from the peer; a longer length field aborts the session" },
	TP_OPTIONS_END
};

static void *fip_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	const struct fip_config *cf = config;
	struct fip *f;

	/* The core checks the range already; repeat it so that a caller that
	 * bypasses the option table cannot make us trust a bad bound. */
	if (cf->max_packet < FIP_MIN_PACKET || cf->max_packet > FIP_MAX_PACKET) {
		snprintf(err, errlen, "max_packet must be between %d and %d (got %lld)",
			 FIP_MIN_PACKET, FIP_MAX_PACKET, (long long)cf->max_packet);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->host = host;
	f->st = st;
	f->max_packet = (uint32_t)cf->max_packet;
	f->up_packets = host->counter(st, "up_packets");
	f->up_bytes = host->counter(st, "up_bytes");
	f->down_packets = host->counter(st, "down_packets");
	f->down_bad = host->counter(st, "down_bad");
	f->bad_version = host->counter(st, "bad_version");
	f->bad_length = host->counter(st, "bad_length");
	f->too_long = host->counter(st, "too_long");
	f->nobuf = host->counter(st, "nobuf");
	f->truncated = host->counter(st, "truncated");
	f->dropped = host->counter(st, "dropped");
	return f;
}

static int fip_start(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fip_reset(struct fip *f)
{
	if (f->pend)
		f->host->buf_free(f->st, f->pend);
	f->pend = NULL;
	f->pend_need = f->pend_have = 0;
	f->stash_len = 0;
}

static void fip_destroy(void *ctx)
{
	struct fip *f = ctx;

	if (!f)
		return;
	fip_reset(f);
	free(f);
}

/*
 * Length of the IP packet starting at p, from its first n bytes.
 * Returns 1 with *len set, 0 when more bytes are needed, -1 on garbage
 * (the counter is bumped and *why describes it).  The version is checked
 * from the very first byte so garbage is caught even when the peer dribbles
 * one byte at a time.
 */
static int ip_length(const uint8_t *p, size_t n, uint32_t max, uint32_t *len,
		     const char **why, char *buf, size_t buflen)
{
	uint32_t ihl, total;

	if (n < 1)
		return 0;
	switch (p[0] >> 4) {
	case 4:
		if (n < 4)
			return 0;
		ihl = (uint32_t)(p[0] & 0x0f) * 4;
		total = (uint32_t)p[2] << 8 | p[3];
		if (ihl < 20 || total < 20 || ihl > total) {
			snprintf(buf, buflen, "bad IPv4 length (header %u, total %u)", ihl, total);
			*why = "bad_length";
			return -1;
		}
		break;
	case 6:
		if (n < 6)
			return 0;
		total = ((uint32_t)p[4] << 8 | p[5]) + 40;
		break;
	default:
		snprintf(buf, buflen, "not an IP packet (version %u)", p[0] >> 4);
		*why = "bad_version";
		return -1;
	}
	if (total > max) {
		snprintf(buf, buflen, "packet of %u bytes exceeds max_packet %u", total, max);
		*why = "too_long";
		return -1;
	}
	*len = total;
	return 1;
}

/* Size the packet at p, or abort the session on garbage. */
static int fip_size(struct fip *f, struct tp_session *s, const uint8_t *p, size_t n,
		    uint32_t *len)
{
	char what[64];
	const char *why = NULL;
	int r = ip_length(p, n, f->max_packet, len, &why, what, sizeof(what));

	if (r >= 0)
		return r;
	if (!strcmp(why, "bad_version"))
		(*f->bad_version)++;
	else if (!strcmp(why, "bad_length"))
		(*f->bad_length)++;
	else
		(*f->too_long)++;
	snprintf(f->reason, sizeof(f->reason), "framer-ip: %s in the stream from the peer", what);
	f->host->log(f->st, TP_LOG_WARN, "%s; closing the session", f->reason);
	f->dead = 1;
	fip_reset(f);
	f->host->session_abort(f->st, s, f->reason);
	return -1;
}

/* Begin a packet of `len` bytes that continues in later chunks.  When the
 * pool is exhausted the packet's bytes are still consumed (pend == NULL),
 * so the stream stays in step and only this packet is lost. */
static void fip_begin(struct fip *f, uint32_t len, const uint8_t *p, uint32_t n)
{
	f->pend = f->host->buf_alloc(f->st, len);
	if (f->pend)
		memcpy(tp_buf_put(f->pend, n), p, n);
	else
		(*f->nobuf)++;
	f->pend_need = len;
	f->pend_have = n;
}

static void fip_finish(struct fip *f, struct tp_batch *out)
{
	if (f->pend) {
		(*f->up_packets)++;
		*f->up_bytes += f->pend->len;
		tp_batch_add(out, f->pend);
	}
	f->pend = NULL;
	f->pend_need = f->pend_have = 0;
}

/* Consume one chunk; completed packets are appended to `out`.
 * Returns -1 once the stream is found corrupt. */
static int fip_chunk(struct fip *f, struct tp_session *s, const uint8_t *p, uint32_t n,
		     struct tp_batch *out)
{
	uint32_t len, take;
	struct tp_buf *b;
	int r;

	while (n > 0) {
		if (f->pend_need) { /* complete the packet in progress */
			take = f->pend_need - f->pend_have;
			if (take > n)
				take = n;
			if (f->pend)
				memcpy(tp_buf_put(f->pend, take), p, take);
			f->pend_have += take;
			p += take;
			n -= take;
			if (f->pend_have == f->pend_need)
				fip_finish(f, out);
			continue;
		}
		if (f->stash_len) { /* the length field was cut: top up the stash */
			/* Every packet is at least 20 bytes, so the stash never
			 * swallows bytes of the next one. */
			take = FIP_HDR_MAX - f->stash_len;
			if (take > n)
				take = n;
			memcpy(f->stash + f->stash_len, p, take);
			r = fip_size(f, s, f->stash, f->stash_len + take, &len);
			if (r < 0)
				goto fail;
			f->stash_len += take;
			p += take;
			n -= take;
			if (r == 0)
				continue;
			fip_begin(f, len, f->stash, f->stash_len);
			f->stash_len = 0;
			if (f->pend_have == f->pend_need)
				fip_finish(f, out);
			continue;
		}
		r = fip_size(f, s, p, n, &len);
		if (r < 0)
			goto fail;
		if (r == 0) { /* fewer bytes than a length field: stash them */
			memcpy(f->stash, p, n);
			f->stash_len = n;
			break;
		}
		if (len > n) { /* runs into the next chunk */
			fip_begin(f, len, p, n);
			break;
		}
		b = f->host->buf_alloc(f->st, len);
		if (b) {
			memcpy(tp_buf_put(b, len), p, len);
			(*f->up_packets)++;
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
	/* the rest of the chunk, from the first bad byte */
	*f->dropped += n;
	return -1;
}

static void fip_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct fip *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	while ((b = tp_batch_pop(q))) {
		if (f->dead)
			*f->dropped += b->len;
		else
			fip_chunk(f, s, b->data, b->len, &out);
		f->host->buf_free(f->st, b);
	}
	/* Packets completed before an error in the same call are sound:
	 * they still go up. */
	if (out.count)
		f->host->emit_up(f->st, s, &out);
}

/* A packet is sent only if its own length field describes exactly the
 * buffer: anything else would be read differently by the peer. */
static int fip_plausible(const struct fip *f, const struct tp_buf *b)
{
	char what[64];
	const char *why;
	uint32_t len;

	if (b->len < 20 || b->len > f->max_packet)
		return 0;
	if (ip_length(b->data, b->len, FIP_MAX_PACKET, &len, &why, what, sizeof(what)) != 1)
		return 0;
	return len == b->len;
}

static void fip_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct fip *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	while ((b = tp_batch_pop(q))) {
		if (fip_plausible(f, b)) {
			(*f->down_packets)++;
			tp_batch_add(&out, b);
		} else {
			(*f->down_bad)++;
			f->host->buf_free(f->st, b);
		}
	}
	if (out.count)
		f->host->emit_down(f->st, s, &out);
}

static void fip_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct fip *f = ctx;

	(void)s;
	if (ev->type != TP_EV_SESSION_DOWN)
		return;
	if (f->stash_len || f->pend_need) {
		(*f->truncated)++;
		f->host->log(f->st, TP_LOG_INFO, "stream ended inside a packet (%u of %u bytes)",
			     f->pend_need ? f->pend_have : f->stash_len, f->pend_need);
	}
	fip_reset(f);
}

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "framer-ip",
	.kind = TP_KIND_TRANSFORM,
	.description = "Simple-VPN framing: IP packets back to back, delimited by their own length",
	.top = TP_DATA_IP,
	.bottom = TP_DATA_STREAM,
	.headroom = 0,
	.tailroom = 0,
	.options = fip_options,
	.config_size = sizeof(struct fip_config),
	.create = fip_create,
	.start = fip_start,
	.stop = NULL,
	.destroy = fip_destroy,
	.down = fip_down,
	.up = fip_up,
	.event = fip_event,
	.wire_id = NULL,
};
