/* SPDX-License-Identifier: MIT */
/*
 * super-hdr.h — framer-ip's super-packet header (README "Wire format with
 * offloads"), in a header of its own so the unit tests and the fuzz target
 * parse with exactly the plugin's code.  16 bytes, network byte order:
 *
 *   0     0x50: version nibble 5 (an IP packet starts with 4 or 6), format 0
 *   1     gso type: 0 none, 1 TCP/IPv4, 2 TCP/IPv6, 3 UDP (TP_GSO_*)
 *   2-3   length of the IP packet that follows (20..65535)
 *   4     flags: 1 checksum partial (NEEDS_CSUM), 2 ECN (TCP only)
 *   5     0
 *   6-7   gso_size: payload bytes per segment (0 with type none)
 *   8-9   hdr_len: IP + L4 header bytes
 *   10-11 csum_start, 12-13 csum_offset (from the IP header; NEEDS_CSUM)
 *   14-15 0
 */
#ifndef FRAMER_IP_SUPER_HDR_H
#define FRAMER_IP_SUPER_HDR_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <tunpipe/plugin.h>

#define FIP_SUPER_HDR 16
#define FIP_SUPER_VERSION 5
#define FIP_SUPER_BYTE0 0x50
/* The smallest segment payload we accept: below it a peer could make us
 * (or the far kernel) emit tens of thousands of tiny packets. */
#define FIP_SUPER_MIN_GSO 64
/* What fip_super_len needs to decide: the header and the first 10 bytes of
 * the packet (version, header length, protocol / next header). */
#define FIP_SUPER_NEED (FIP_SUPER_HDR + 10)

static inline uint16_t fip_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void fip_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static inline void fip_super_write(uint8_t *p, const struct tp_offload *o, uint32_t len)
{
	p[0] = FIP_SUPER_BYTE0;
	p[1] = o->gso_type;
	fip_wr16(p + 2, (uint16_t)len);
	p[4] = o->flags;
	p[5] = 0;
	fip_wr16(p + 6, o->gso_size);
	fip_wr16(p + 8, o->hdr_len);
	fip_wr16(p + 10, o->csum_start);
	fip_wr16(p + 12, o->csum_offset);
	p[14] = p[15] = 0;
}

/* Only after fip_super_len accepted the header. */
static inline void fip_super_read(const uint8_t *p, struct tp_offload *o)
{
	o->gso_type = p[1];
	o->flags = p[4];
	o->gso_size = fip_rd16(p + 6);
	o->hdr_len = fip_rd16(p + 8);
	o->csum_start = fip_rd16(p + 10);
	o->csum_offset = fip_rd16(p + 12);
}

/*
 * The frame length (header + packet) of the super-packet header at p, from
 * its first n bytes: 0 while fewer than FIP_SUPER_NEED are there, -1 on
 * anything but a header we would have sent ourselves for that packet (why
 * says what; *bad = badc), never more than FIP_SUPER_HDR + max.
 */
static inline int64_t fip_super_len(const uint8_t *p, size_t n, uint32_t max, char *why,
				    size_t whylen, uint64_t **bad, uint64_t *badc)
{
	uint32_t len, gso, hlen, cs, co, ver;
	uint8_t type, fl;

	*bad = badc;
	if (n >= 1 && p[0] != FIP_SUPER_BYTE0) {
		snprintf(why, whylen, "unknown super-packet format 0x%02x", p[0]);
		return -1;
	}
	if (n < FIP_SUPER_NEED)
		return 0;
	type = p[1];
	len = fip_rd16(p + 2);
	fl = p[4];
	gso = fip_rd16(p + 6);
	hlen = fip_rd16(p + 8);
	cs = fip_rd16(p + 10);
	co = fip_rd16(p + 12);
	ver = p[FIP_SUPER_HDR] >> 4;
	if (type > TP_GSO_UDP || (fl & ~TP_OFF_KNOWN_FLAGS) || p[5] || p[14] || p[15]) {
		snprintf(why, whylen, "bad super-packet header (type %u, flags 0x%02x)", type, fl);
		return -1;
	}
	if (len < 20 || len > max) {
		snprintf(why, whylen, "super-packet of %u bytes (20..%u allowed)", len, max);
		return -1;
	}
	if ((type == TP_GSO_TCP4 && ver != 4) || (type == TP_GSO_TCP6 && ver != 6) ||
	    (ver != 4 && ver != 6)) {
		snprintf(why, whylen, "super-packet of type %u holds IP version %u", type, ver);
		return -1;
	}
	if (type == TP_GSO_NONE ? (gso || !(fl & TP_OFF_NEEDS_CSUM) || (fl & TP_OFF_ECN))
				: (gso < FIP_SUPER_MIN_GSO || hlen < 28 || hlen >= len ||
				   (type == TP_GSO_UDP && (fl & TP_OFF_ECN)))) {
		snprintf(why, whylen, "bad segmentation in a super-packet header (type %u, "
			 "gso_size %u, hdr_len %u, length %u)", type, gso, hlen, len);
		return -1;
	}
	if ((fl & TP_OFF_NEEDS_CSUM) ? (cs < 20 || (uint32_t)cs + co + 2 > len) : (cs || co)) {
		snprintf(why, whylen, "bad checksum offsets in a super-packet header (start %u, "
			 "offset %u, length %u)", cs, co, len);
		return -1;
	}
	/* Only where a kernel puts it: the far end (our checksum completion
	 * or its kernel's) writes the checksum there, after the router's
	 * anti-spoofing check has read the source address. */
	struct tp_offload o = { .gso_type = type, .flags = fl, .csum_start = (uint16_t)cs,
				.csum_offset = (uint16_t)co };
	if (!tp_offload_canonical(&o, p + FIP_SUPER_HDR, n - FIP_SUPER_HDR)) {
		snprintf(why, whylen, "super-packet metadata that does not fit its packet (type %u, "
			 "checksum at %u+%u)", type, cs, co);
		return -1;
	}
	return FIP_SUPER_HDR + (int64_t)len;
}

/*
 * What both framers keep per session for super-packets: whether the peer
 * agreed (TP_SI_SUPER at SESSION_UP) and three counters.  The framers
 * differ only in what stands before the header (nothing, or a zero length).
 */
struct fip_super {
	int agreed;
	uint64_t *up, *down, *bad;
};

static inline void fip_super_init(struct fip_super *s, struct tp_stage *st,
				  const struct tp_host *host)
{
	s->agreed = 0;
	s->up = host->counter(st, "up_super");
	s->down = host->counter(st, "down_super");
	s->bad = host->counter(st, "bad_super");
}

/* The event callback of a framer whose context begins with its struct
 * fip_super: it learns at SESSION_UP whether the peer agreed. */
static inline void fip_super_event(void *ctx, struct tp_session *sess, const struct tp_event *ev)
{
	struct fip_super *s = ctx;

	(void)sess;
	if (ev->type == TP_EV_SESSION_UP && ev->info)
		s->agreed = !!(ev->info->flags & TP_SI_SUPER);
}

/* Down: whether b may go out as a super-packet on this session (the core
 * hands one only to a session that agreed; the length fits the header). */
static inline int fip_super_ok(const struct fip_super *s, const struct tp_buf *b)
{
	return s->agreed && b->len >= 20 && b->len <= 65535;
}

/* Down: the header goes into b's headroom (the caller checked there is
 * room) and b becomes a plain frame payload. */
static inline void fip_super_push(struct fip_super *s, struct tp_buf *b)
{
	uint32_t len = b->len;

	fip_super_write(tp_buf_push(b, FIP_SUPER_HDR), &b->off, len);
	memset(&b->off, 0, sizeof(b->off));
	(*s->down)++;
}

/* Up: b starts at a header that fip_super_len accepted; it becomes the
 * packet behind it, with the metadata set. */
static inline void fip_super_pull(struct fip_super *s, struct tp_buf *b)
{
	fip_super_read(b->data, &b->off);
	tp_buf_pull(b, FIP_SUPER_HDR);
	(*s->up)++;
}

#endif
