/* SPDX-License-Identifier: MIT */
/*
 * framer-ip — the Simple-VPN framing: IP packets back to back on the byte
 * stream, with no header of our own.  Each packet is delimited by its own
 * length field (IPv4 total length, IPv6 payload length + 40), which makes
 * this framer interoperate with a plain Simple-VPN peer.
 *
 * The core's framing service does the reassembly, up(), down() and the
 * common counters (plugin.h, struct tp_framing); this file is the format:
 * the length of the packet at the front of the stream (at most 6 bytes
 * tell it), and, going down, the check that a packet's own length field
 * describes exactly its buffer, because a single lying length field would
 * desynchronise the peer's parser for the rest of the connection.  Down,
 * packets already are their own frames: same buffers, no copy.
 *
 * The stream cannot be resynchronised after garbage (there is no marker to
 * search for), so a malformed length makes the core abort the session.
 *
 * Super-packets (ABI 1.2, README "Wire format with offloads"): on a session
 * whose peer agreed (TP_SI_SUPER), a buffer with offload metadata goes out
 * as a 16-byte header of ours, first nibble 5 (no IP version), then the
 * super-packet; plain packets stay exactly as they were.  Such a header is
 * parsed strictly and refused, like any garbage, on any other session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tunpipe/plugin.h>

#include "super-hdr.h"

#define FIP_MIN_PACKET 68    /* smallest MTU IPv4 requires (RFC 791) */
#define FIP_MAX_PACKET 65535 /* the largest a 16-bit length field describes */
/* Bytes needed to size (and check) any frame: 6 for an IPv6 packet, the
 * super-packet header and the first bytes of its packet. */
#define FIP_HDR_MAX FIP_SUPER_NEED

struct fip_config {
	int64_t max_packet;
};

struct fip {
	struct fip_super super;  /* first: fip_super_event takes the context */
	uint32_t max_packet;
	uint64_t *down_bad, *bad_version, *bad_length, *too_long;
};

static const struct tp_option fip_options[] = {
	TP_OPTION_INT(struct fip_config, max_packet, "65535", FIP_MIN_PACKET, FIP_MAX_PACKET,
		      "largest packet accepted from the peer; a longer length field aborts the "
		      "session"),
	TP_OPTIONS_END
};

/* max_packet needs no check of ours: the core parsed it against the table
 * (its range included), and the framing service refuses a config that did
 * not come from this plugin's own table. */
static void *fip_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	struct fip *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->max_packet = (uint32_t)((const struct fip_config *)config)->max_packet;
	f->down_bad = host->counter(st, "down_bad");
	f->bad_version = host->counter(st, "bad_version");
	f->bad_length = host->counter(st, "bad_length");
	f->too_long = host->counter(st, "too_long");
	fip_super_init(&f->super, st, host);
	return f;
}

/*
 * Length of the IP packet starting at p, from its first n bytes: > 0, 0
 * when more bytes are needed, -1 on garbage (*bad names the counter to bump,
 * why describes the fault).  The version is checked from the very first
 * byte so garbage is caught even when the peer dribbles one byte at a time.
 */
static int64_t ip_length(const uint8_t *p, size_t n, uint32_t max, uint64_t **bad,
			 const struct fip *f, char *why, size_t whylen)
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
			snprintf(why, whylen, "bad IPv4 length (header %u, total %u)", ihl, total);
			*bad = f->bad_length;
			return -1;
		}
		break;
	case 6:
		if (n < 6)
			return 0;
		total = ((uint32_t)p[4] << 8 | p[5]) + 40;
		break;
	case FIP_SUPER_VERSION:
		/* Without the agreement it is what it always was: not IP. */
		if (f->super.agreed)
			return fip_super_len(p, n, max, why, whylen, bad, f->super.bad);
		/* fall through */
	default:
		snprintf(why, whylen, "not an IP packet (version %u)", p[0] >> 4);
		*bad = f->bad_version;
		return -1;
	}
	if (total > max) {
		snprintf(why, whylen, "packet of %u bytes exceeds max_packet %u", total, max);
		*bad = f->too_long;
		return -1;
	}
	return total;
}

static int64_t fip_frame_len(void *ctx, const uint8_t *p, size_t avail, char *why, size_t whylen)
{
	struct fip *f = ctx;
	uint64_t *bad = NULL;
	int64_t r = ip_length(p, avail, f->max_packet, &bad, f, why, whylen);

	if (r < 0)
		(*bad)++;
	return r;
}

/* A packet is sent only if its own length field describes exactly the
 * buffer: anything else would be read differently by the peer. */
static int fip_frame_down(void *ctx, struct tp_buf *b)
{
	struct fip *f = ctx;
	uint64_t *bad;
	char why[64];

	if (tp_buf_is_super(b)) {
		if (!fip_super_ok(&f->super, b) || tp_buf_headroom(b) < FIP_SUPER_HDR) {
			(*f->down_bad)++;
			return -1;
		}
		fip_super_push(&f->super, b);
		return 0;
	}
	if (b->len >= 20 && b->len <= f->max_packet && b->data[0] >> 4 != FIP_SUPER_VERSION
	    && ip_length(b->data, b->len, FIP_MAX_PACKET, &bad, f, why, sizeof(why)) == b->len)
		return 0;
	(*f->down_bad)++;
	return -1;
}

/* Up: a super-packet frame becomes its packet with the metadata set. */
static void fip_frame_up(void *ctx, struct tp_buf *b)
{
	struct fip *f = ctx;

	if (b->len < 1 || b->data[0] >> 4 != FIP_SUPER_VERSION)
		return;
	fip_super_pull(&f->super, b);
}

TP_PLUGIN_DEFINE(.name = "framer-ip", .kind = TP_KIND_TRANSFORM,
		 .description = "Simple-VPN framing: IP packets back to back, delimited by their "
				"own length",
		 .top = TP_DATA_IP, .bottom = TP_DATA_STREAM,
		 .options = fip_options, .config_size = sizeof(struct fip_config),
		 .framing = TP_FRAMING(.hdr_bytes = FIP_HDR_MAX, .unit = "packets",
				       .frame_len = fip_frame_len, .frame_up = fip_frame_up,
				       .frame_down = fip_frame_down),
		 .create = fip_create, .destroy = free,
		 .event = fip_super_event, .headroom = FIP_SUPER_HDR, .flags = TP_PLUGIN_SUPER);
