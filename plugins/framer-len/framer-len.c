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
 * Up, the stream arrives in chunks with arbitrary boundaries.  The core's
 * deframer service (host->deframer_*) reassembles it from one length
 * function (flen_frame_len: prefix + payload): each byte is copied once
 * into a pooled buffer of its frame's size, a cut prefix waits inside the
 * service, and the prefix is pulled off the finished buffer in place.
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
	int dead; /* a framing error was seen: the session was aborted once */
	struct tp_deframer *df; /* the core's reassembly; NULL once the session ended */

	char reason[128]; /* handed to session_abort(); lives as long as we do */

	uint64_t *up_frames, *up_bytes, *down_frames, *down_bytes;
	uint64_t *down_too_long, *down_empty, *down_noroom;
	uint64_t *zero_length, *too_long, *truncated, *dropped;
};

static const struct tp_option flen_options[] = {
	{ TP_OPT_INT, "width", "2", 0, 2, 4, NULL, offsetof(struct flen_config, width),
	  "bytes of the big-endian length prefix: 2 or 4" },
	{ TP_OPT_INT, "max_frame", "65535", 0, 1, FLEN_MAX_FRAME, NULL,
	  offsetof(struct flen_config, max_frame),
	  "largest payload sent or accepted; a longer frame from the peer aborts the session" },
	TP_OPTIONS_END
};

static int64_t flen_frame_len(void *arg, const uint8_t *p, size_t avail);

static void *flen_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			 char *err, size_t errlen)
{
	const struct flen_config *cf = config;
	struct flen *f = NULL;

	if (cf->width != 2 && cf->width != 4) {
		snprintf(err, errlen, "width must be 2 or 4 (got %lld)", (long long)cf->width);
		goto fail;
	}
	if (cf->max_frame < 1 || cf->max_frame > FLEN_MAX_FRAME) {
		snprintf(err, errlen, "max_frame must be between 1 and %d (got %lld)",
			 FLEN_MAX_FRAME, (long long)cf->max_frame);
		goto fail;
	}
	if (cf->width == 2 && cf->max_frame > 65535) {
		snprintf(err, errlen,
			 "max_frame %lld does not fit a 2-byte length prefix (at most 65535); "
			 "use width = 4", (long long)cf->max_frame);
		goto fail;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f->host = host;
	f->st = st;
	f->width = (uint32_t)cf->width;
	f->max_frame = (uint32_t)cf->max_frame;
	/* Overwritten by flen_frame_len; this one covers a refusal by the
	 * deframer itself. */
	snprintf(f->reason, sizeof(f->reason), "framer-len: the stream from the peer cannot be framed");
	f->up_frames = host->counter(st, "up_frames");
	f->up_bytes = host->counter(st, "up_bytes");
	f->down_frames = host->counter(st, "down_frames");
	f->down_bytes = host->counter(st, "down_bytes");
	f->down_too_long = host->counter(st, "down_too_long");
	f->down_empty = host->counter(st, "down_empty");
	f->down_noroom = host->counter(st, "down_noroom");
	f->zero_length = host->counter(st, "zero_length");
	f->too_long = host->counter(st, "too_long");
	(void)host->counter(st, "nobuf"); /* counted by the deframer */
	f->truncated = host->counter(st, "truncated");
	/* The deframer counts the bytes it drops after a refusal in this same
	 * counter (same name, same slot); we add what arrives after the end. */
	f->dropped = host->counter(st, "dropped");
	f->df = host->deframer_new(st, f->width, flen_frame_len, f);
	if (!f->df) {
		snprintf(err, errlen, "cannot create the stream deframer");
		goto fail;
	}
	return f;

fail:
	free(f);
	return NULL;
}

static void flen_destroy(void *ctx)
{
	struct flen *f = ctx;

	if (!f)
		return;
	if (f->df)
		f->host->deframer_free(f->df);
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

/* The deframer's length function: a frame is its prefix plus the payload
 * the prefix announces.  A zero or oversized length is counted, logged and
 * refused: there is no way to find the next frame after it. */
static int64_t flen_frame_len(void *arg, const uint8_t *p, size_t avail)
{
	struct flen *f = arg;
	uint32_t len;

	if (avail < f->width)
		return 0;
	len = get_be(p, f->width);
	if (len != 0 && len <= f->max_frame)
		return (int64_t)f->width + len;
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
	return -1;
}

static void flen_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct flen *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	if (!f->df) { /* after SESSION_DOWN: nowhere to go */
		*f->dropped += q->bytes;
		f->host->batch_free(f->st, q);
		return;
	}
	/* The first refusal aborts the session; the deframer drops (and
	 * counts) everything after. */
	if (f->host->deframe(f->df, q, &out) < 0 && !f->dead) {
		f->dead = 1;
		f->host->session_abort(f->st, s, f->reason);
	}
	/* Frames completed before an error in the same call are sound: they
	 * still go up, prefix stripped (in place: data just moves forward). */
	for (b = out.head; b; b = b->next) {
		tp_buf_pull(b, f->width);
		*f->up_bytes += b->len;
	}
	out.bytes -= out.count * f->width;
	*f->up_frames += out.count;
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
	size_t held;

	(void)s;
	if (ev->type != TP_EV_SESSION_DOWN || !f->df)
		return;
	held = f->host->deframer_pending(f->df);
	if (held) {
		(*f->truncated)++;
		f->host->log(f->st, TP_LOG_WARN,
			     "stream ended inside a frame (%zu bytes of it received, prefix included)",
			     held);
	}
	/* Give a half-received frame's buffer back now, not at destroy(). */
	f->host->deframer_free(f->df);
	f->df = NULL;
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
	.stop = NULL,
	.destroy = flen_destroy,
	.down = flen_down,
	.up = flen_up,
	.event = flen_event,
	.wire_id = flen_wire_id,
};
