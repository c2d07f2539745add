/* SPDX-License-Identifier: MIT */
/*
 * tp-framer-byte — TEST-ONLY: a third framer, to show what the core's
 * framing service (plugin.h, struct tp_framing) leaves to a framer.  The
 * format: a 1-byte length prefix, then 1..255 bytes of payload.  No
 * create(), no state: the core runs the deframer, up(), down(), the
 * counters, the abort and the truncation log.
 */
#include <stdio.h>
#include <tunpipe/plugin.h>

static int64_t fb_len(void *ctx, const uint8_t *p, size_t avail, char *why, size_t whylen)
{
	(void)ctx;
	(void)avail; /* never 0: hdr_bytes is 1 */
	if (p[0] == 0) {
		snprintf(why, whylen, "zero-length frame");
		return -1;
	}
	return 1 + (int64_t)p[0];
}

static void fb_up(void *ctx, struct tp_buf *b)
{
	(void)ctx;
	tp_buf_pull(b, 1);
}

static int fb_down(void *ctx, struct tp_buf *b)
{
	uint8_t len = (uint8_t)b->len;

	(void)ctx;
	if (b->len == 0 || b->len > 255 || tp_buf_headroom(b) < 1)
		return -1;
	*tp_buf_push(b, 1) = len;
	return 0;
}

TP_PLUGIN_DEFINE(.name = "tp-framer-byte", .kind = TP_KIND_TRANSFORM,
		 .description = "test only: 1-byte length prefix framing",
		 .top = TP_DATA_MSG, .bottom = TP_DATA_STREAM, .headroom = 1,
		 .framing = TP_FRAMING(.hdr_bytes = 1, .frame_len = fb_len, .frame_up = fb_up,
				       .frame_down = fb_down));
