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
 * Up, the stream arrives in chunks with arbitrary boundaries.  The core's
 * deframer service (host->deframer_*) reassembles it: this file only says
 * how long the packet at the front of the stream is (fip_frame_len), and
 * the service copies each byte once into a pooled buffer of its packet's
 * size, holding a cut length field (at most 6 bytes) until the next chunk.
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
	int dead; /* a framing error was seen: the session was aborted once */
	struct tp_deframer *df; /* the core's reassembly; NULL once the session ended */

	char reason[128]; /* handed to session_abort(); lives as long as we do */

	uint64_t *up_packets, *up_bytes, *down_packets, *down_bad;
	uint64_t *bad_version, *bad_length, *too_long, *truncated, *dropped;
};

static const struct tp_option fip_options[] = {
	{ TP_OPT_INT, "max_packet", "65535", 0, FIP_MIN_PACKET, FIP_MAX_PACKET, NULL,
	  offsetof(struct fip_config, max_packet),
	  "largest packet accepted from the peer; a longer length field aborts the session" },
	TP_OPTIONS_END
};

static int64_t fip_frame_len(void *arg, const uint8_t *p, size_t avail);

static void *fip_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	const struct fip_config *cf = config;
	struct fip *f = NULL;

	/* The core checks the range already; repeat it so that a caller that
	 * bypasses the option table cannot make us trust a bad bound. */
	if (cf->max_packet < FIP_MIN_PACKET || cf->max_packet > FIP_MAX_PACKET) {
		snprintf(err, errlen, "max_packet must be between %d and %d (got %lld)",
			 FIP_MIN_PACKET, FIP_MAX_PACKET, (long long)cf->max_packet);
		goto fail;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f->host = host;
	f->st = st;
	f->max_packet = (uint32_t)cf->max_packet;
	/* Overwritten by fip_frame_len; this one covers a refusal by the
	 * deframer itself. */
	snprintf(f->reason, sizeof(f->reason), "framer-ip: the stream from the peer cannot be framed");
	f->up_packets = host->counter(st, "up_packets");
	f->up_bytes = host->counter(st, "up_bytes");
	f->down_packets = host->counter(st, "down_packets");
	f->down_bad = host->counter(st, "down_bad");
	f->bad_version = host->counter(st, "bad_version");
	f->bad_length = host->counter(st, "bad_length");
	f->too_long = host->counter(st, "too_long");
	(void)host->counter(st, "nobuf"); /* counted by the deframer */
	f->truncated = host->counter(st, "truncated");
	/* The deframer counts the bytes it drops after a refusal in this same
	 * counter (same name, same slot); we add what arrives after the end. */
	f->dropped = host->counter(st, "dropped");
	f->df = host->deframer_new(st, FIP_HDR_MAX, fip_frame_len, f);
	if (!f->df) {
		snprintf(err, errlen, "cannot create the stream deframer");
		goto fail;
	}
	return f;

fail:
	free(f);
	return NULL;
}

static void fip_destroy(void *ctx)
{
	struct fip *f = ctx;

	if (!f)
		return;
	if (f->df)
		f->host->deframer_free(f->df);
	free(f);
}

/*
 * Length of the IP packet starting at p, from its first n bytes.
 * Returns 1 with *len set, 0 when more bytes are needed, -1 on garbage
 * (*why names the counter to bump, buf describes the fault).  The version is checked
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

/* The deframer's length function: size the packet at the front of the
 * stream, or count and log why the stream cannot go on. */
static int64_t fip_frame_len(void *arg, const uint8_t *p, size_t avail)
{
	struct fip *f = arg;
	char what[64];
	const char *why = NULL;
	uint32_t len;
	int r = ip_length(p, avail, f->max_packet, &len, &why, what, sizeof(what));

	if (r > 0)
		return len;
	if (r == 0)
		return 0;
	if (!strcmp(why, "bad_version"))
		(*f->bad_version)++;
	else if (!strcmp(why, "bad_length"))
		(*f->bad_length)++;
	else
		(*f->too_long)++;
	snprintf(f->reason, sizeof(f->reason), "framer-ip: %s in the stream from the peer", what);
	f->host->log(f->st, TP_LOG_WARN, "%s; closing the session", f->reason);
	return -1;
}

static void fip_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct fip *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;

	if (!f->df) { /* after SESSION_DOWN: nowhere to go */
		*f->dropped += q->bytes;
		f->host->batch_free(f->st, q);
		return;
	}
	/* The stream cannot be resynchronised, so the first refusal aborts
	 * the session; the deframer drops (and counts) everything after. */
	if (f->host->deframe(f->df, q, &out) < 0 && !f->dead) {
		f->dead = 1;
		f->host->session_abort(f->st, s, f->reason);
	}
	/* Packets completed before an error in the same call are sound:
	 * they still go up. */
	*f->up_packets += out.count;
	*f->up_bytes += out.bytes;
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
	size_t held;

	(void)s;
	if (ev->type != TP_EV_SESSION_DOWN || !f->df)
		return;
	held = f->host->deframer_pending(f->df);
	if (held) {
		(*f->truncated)++;
		f->host->log(f->st, TP_LOG_INFO, "stream ended inside a packet (%zu bytes of it received)",
			     held);
	}
	/* Give a half-received packet's buffer back now, not at destroy(). */
	f->host->deframer_free(f->df);
	f->df = NULL;
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
	.stop = NULL,
	.destroy = fip_destroy,
	.down = fip_down,
	.up = fip_up,
	.event = fip_event,
	.wire_id = NULL,
};
