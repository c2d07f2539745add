/* SPDX-License-Identifier: MIT */
/*
 * framer-len — length-prefixed framing: every frame on the byte stream is a
 * big-endian length (2 or 4 bytes, option `width`) followed by that many
 * bytes of payload.  Unlike framer-ip it carries any message, not only IP
 * packets, and the prefix width is part of its wire identity
 * ("framer-len/2", "framer-len/4") so both ends agree on it in the
 * handshake.
 *
 * The core's framing service does the reassembly, up(), down() and the
 * common counters (plugin.h, struct tp_framing); this file is the format:
 * the length function, the prefix pulled off a frame going up, and the
 * prefix written into the headroom of a payload going down (the descriptor
 * reserves 4 bytes, so the core sizes every buffer for it: no copy).
 *
 * A zero or oversized length means the peer is broken or hostile; there is
 * no way to find the next frame, so the core aborts the session.  Down, an
 * empty or oversized payload is dropped here instead: the peer would abort.
 *
 * Super-packets (ABI 1.2): on a session whose peer agreed (TP_SI_SUPER), a
 * buffer with offload metadata goes out as a zero length (which no plain
 * frame has) followed by framer-ip's 16-byte super-packet header and the
 * packet (README "Wire format with offloads"); the header is parsed by the
 * same strict code (super-hdr.h).  Without the agreement a zero length is
 * refused as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tunpipe/plugin.h>

#include "super-hdr.h"

#define FLEN_MAX_FRAME (16 * 1024 * 1024)

struct flen_config {
	int64_t width;
	int64_t max_frame;
};

struct flen {
	struct fip_super super;  /* first: fip_super_event takes the context */
	uint32_t width;
	uint32_t max_frame;
	uint64_t *down_too_long, *down_empty, *down_noroom, *zero_length, *too_long;
};

static const struct tp_option flen_options[] = {
	TP_OPTION_INT(struct flen_config, width, "2", 2, 4,
		      "bytes of the big-endian length prefix: 2 or 4"),
	TP_OPTION_INT(struct flen_config, max_frame, "65535", 1, FLEN_MAX_FRAME,
		      "largest payload sent or accepted; a longer frame from the peer aborts "
		      "the session"),
	TP_OPTIONS_END
};

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
	if (!(f = calloc(1, sizeof(*f)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f->width = (uint32_t)cf->width;
	f->max_frame = (uint32_t)cf->max_frame;
	f->down_too_long = host->counter(st, "down_too_long");
	f->down_empty = host->counter(st, "down_empty");
	f->down_noroom = host->counter(st, "down_noroom");
	f->zero_length = host->counter(st, "zero_length");
	f->too_long = host->counter(st, "too_long");
	fip_super_init(&f->super, st, host);
	return f;

fail:
	free(f);
	return NULL;
}

static void flen_wire_id(void *ctx, char *buf, size_t len)
{
	const struct flen *f = ctx;

	snprintf(buf, len, "framer-len/%u", f->width);
}

/* A frame is its prefix plus the payload the prefix announces.  A zero or
 * oversized length is counted and refused. */
static int64_t flen_frame_len(void *ctx, const uint8_t *p, size_t avail, char *why, size_t whylen)
{
	struct flen *f = ctx;
	uint32_t len = 0, i;

	if (avail < f->width)
		return 0;
	for (i = 0; i < f->width; i++)
		len = len << 8 | p[i];
	if (len != 0 && len <= f->max_frame)
		return (int64_t)f->width + len;
	if (len == 0 && f->super.agreed) {
		uint64_t *bad;
		int64_t r = fip_super_len(p + f->width, avail - f->width,
					  f->max_frame < 65535 ? f->max_frame : 65535, why, whylen, &bad,
					  f->super.bad);
		if (r < 0)
			(*bad)++;
		return r > 0 ? (int64_t)f->width + r : r;
	}
	if (len == 0) {
		(*f->zero_length)++;
		snprintf(why, whylen, "zero-length frame");
	} else {
		(*f->too_long)++;
		snprintf(why, whylen, "frame of %u bytes exceeds max_frame %u", len, f->max_frame);
	}
	return -1;
}

static void flen_frame_up(void *ctx, struct tp_buf *b)
{
	struct flen *f = ctx;
	uint32_t any = 0, i;

	/* a zero length: only on an agreed session, where frame_len vouched
	 * for the super-packet header behind it */
	for (i = 0; f->super.agreed && i < f->width; i++)
		any |= b->data[i];
	tp_buf_pull(b, f->width); /* in place: data just moves forward */
	if (f->super.agreed && any == 0)
		fip_super_pull(&f->super, b);
}

static int flen_frame_down(void *ctx, struct tp_buf *b)
{
	struct flen *f = ctx;
	uint32_t len = b->len, i;
	uint8_t *h;

	if (tp_buf_is_super(b)) {
		size_t need = f->width + FIP_SUPER_HDR;

		if (!fip_super_ok(&f->super, b) || len > f->max_frame ||
		    (tp_buf_headroom(b) < need && tp_buf_tailroom(b) < need - tp_buf_headroom(b))) {
			(*f->down_noroom)++;
			return -1;
		}
		/* The descriptor reserves room for the plain prefix only; the
		 * tun plugin reads super-packets with room to spare, so this
		 * move is for the rare small packet with a partial checksum. */
		if (tp_buf_headroom(b) < need) {
			size_t shift = need - tp_buf_headroom(b);
			memmove(b->data + shift, b->data, len);
			b->data += shift;
		}
		fip_super_push(&f->super, b);
		memset(tp_buf_push(b, f->width), 0, f->width);
		return 0;
	}
	/* The peer would abort on an empty or oversized frame, so neither may
	 * leave: drop it here and keep the session. */
	if (len == 0 || len > f->max_frame || tp_buf_headroom(b) < f->width) {
		if (len == 0)
			(*f->down_empty)++;
		else if (len > f->max_frame)
			(*f->down_too_long)++;
		else
			(*f->down_noroom)++;
		return -1;
	}
	h = tp_buf_push(b, f->width);
	for (i = f->width; i-- > 0; len >>= 8)
		h[i] = (uint8_t)len;
	return 0;
}

TP_PLUGIN_DEFINE(.name = "framer-len", .kind = TP_KIND_TRANSFORM,
		 .description = "length-prefixed framing (2- or 4-byte big-endian length) for IP "
				"packets or messages",
		 .top = TP_DATA_IP | TP_DATA_MSG, .bottom = TP_DATA_STREAM,
		 .headroom = 4, .flags = TP_PLUGIN_SUPER, .event = fip_super_event,
		 .options = flen_options, .config_size = sizeof(struct flen_config),
		 /* the widest prefix (a 2-byte one is sized from 2), or a zero
		  * prefix, the super-packet header and the first bytes of its packet */
		 .framing = TP_FRAMING(.hdr_bytes = 4 + FIP_SUPER_NEED, .unit = "frames",
				       .frame_len = flen_frame_len, .frame_up = flen_frame_up,
				       .frame_down = flen_frame_down),
		 .create = flen_create, .destroy = free, .wire_id = flen_wire_id);
