/* SPDX-License-Identifier: MIT */
/*
 * test_superpkt — super-packets (plugin.h ABI 1.2) through the harness:
 * framer-ip carries one whole, metadata and bytes, between two peers that
 * agreed; the core's caps rule splits it for a session that did not agree
 * and for a plain-only stage (tp-count), into segments whose checksums
 * match a reference computation; the super-packet header is parsed
 * strictly at every edge; and the Simple-VPN-Offload agreement header.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "harness.h"
#include "svpn-offload.h"

#define PAYLOAD 5000
#define MSS 1000

static uint8_t pkt[20 + 20 + PAYLOAD];

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* The reference: RFC 1071, one 16-bit word at a time, no tricks. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}
static unsigned ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}
/* An IPv4 TCP packet's checksums both verify. */
static int ref_ok4(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	if (ref_fold(ref_sum(0, p, 20)) != 0xffff || get16(p + 2) != n)
		return 0;
	s = ref_sum(s, p + 12, 8);
	s += 6 + (uint32_t)(n - 20);
	return ref_fold(ref_sum(s, p + 20, n - 20)) == 0xffff;
}

/* A TCP/IPv4 super-packet as a TUN with TSO hands it over: one header,
 * PAYLOAD bytes, the TCP checksum partial (the pseudo-header sum only). */
static size_t mk_super(struct tp_offload *o)
{
	size_t n = sizeof(pkt);
	uint32_t s;

	memset(pkt, 0, 40);
	pkt[0] = 0x45;
	put16(pkt + 2, (unsigned)n);
	put16(pkt + 4, 0x1234);
	pkt[8] = 64;
	pkt[9] = 6;
	memcpy(pkt + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	put16(pkt + 10, ~ref_fold(ref_sum(0, pkt, 20)) & 0xffff);
	put16(pkt + 20, 40000);
	put16(pkt + 22, 5201);
	memcpy(pkt + 24, "\x01\x02\x03\x04", 4);
	pkt[32] = 5 << 4;
	pkt[33] = 0x18; /* ACK PSH */
	put16(pkt + 34, 512);
	for (size_t i = 40; i < n; i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	s = ref_sum(0, pkt + 12, 8) + 6 + (uint32_t)(n - 20);
	put16(pkt + 36, ref_fold(s)); /* partial: not inverted */
	memset(o, 0, sizeof(*o));
	o->gso_type = TP_GSO_TCP4;
	o->flags = TP_OFF_NEEDS_CSUM;
	o->gso_size = MSS;
	o->hdr_len = 40;
	o->csum_start = 20;
	o->csum_offset = 16;
	return n;
}

static void session_up(struct tp_harness *h, uint32_t flags)
{
	struct tp_session_info info = { .size = sizeof(info), .flags = flags };
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &info };

	tp_harness_event(h, &ev);
}

static struct tp_harness *new_h(const char *plugin, const char *opts)
{
	struct tp_harness *h = tp_harness_new(plugin, opts);

	ck_assert_msg(h != NULL, "harness: %s", tp_harness_last_error());
	return h;
}

static void push_super(struct tp_harness *h)
{
	struct tp_offload o;
	size_t n = mk_super(&o);
	struct tp_buf *b = tp_harness_buf(h, pkt, n);
	struct tp_batch q = TP_BATCH_INIT;

	b->off = o;
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(h, &q);
}

/* The five segments of the super-packet, each a full packet whose
 * checksums verify, payloads in order. */
static void expect_segments(struct tp_harness *h, int up, size_t skip)
{
	struct tp_buf *b;
	size_t off = 0;
	unsigned seq = 0x01020304;
	int k = 0;

	while ((b = up ? tp_harness_pull_up(h) : tp_harness_pull_down(h))) {
		const uint8_t *p = b->data + skip;
		size_t n = b->len - skip;

		ck_assert(!tp_buf_is_super(b));
		ck_assert_uint_eq(n, 40 + MSS);
		ck_assert_msg(ref_ok4(p, n), "segment %d: a checksum does not verify", k);
		ck_assert_uint_eq(((unsigned)p[24] << 24 | (unsigned)p[25] << 16 | get16(p + 26)), seq);
		ck_assert_uint_eq(p[33], k == 4 ? 0x18 : 0x10); /* PSH on the last only */
		ck_assert(!memcmp(p + 40, pkt + 40 + off, MSS));
		off += MSS;
		seq += MSS;
		k++;
		tp_harness_buf_free(h, b);
	}
	ck_assert_int_eq(k, PAYLOAD / MSS);
}

/* Agreed: one frame down (16-byte header + the packet), and a second
 * framer-ip turns it back into the same packet with the same metadata. */
START_TEST(carried_whole)
{
	struct tp_harness *tx = new_h("framer-ip", NULL), *rx = new_h("framer-ip", NULL);
	struct tp_offload o;
	size_t n = mk_super(&o);
	struct tp_buf *f, *b;

	session_up(tx, TP_SI_SUPER);
	session_up(rx, TP_SI_SUPER);
	tp_harness_accept_super(rx, 1);
	push_super(tx);
	ck_assert_uint_eq(tp_harness_queued_down(tx), 1);
	f = tp_harness_pull_down(tx);
	ck_assert_uint_eq(f->len, 16 + n);
	ck_assert(!tp_buf_is_super(f)); /* stream bytes now */
	ck_assert_uint_eq(f->data[0], 0x50);
	ck_assert_uint_eq(f->data[1], TP_GSO_TCP4);
	ck_assert_uint_eq(get16(f->data + 2), n);
	ck_assert_uint_eq(f->data[4], TP_OFF_NEEDS_CSUM);
	ck_assert_uint_eq(get16(f->data + 6), MSS);
	ck_assert_uint_eq(get16(f->data + 8), 40);
	ck_assert_uint_eq(get16(f->data + 10), 20);
	ck_assert_uint_eq(get16(f->data + 12), 16);
	ck_assert(!memcmp(f->data + 16, pkt, n));
	/* byte at a time: every state of the reassembler */
	for (size_t i = 0; i < f->len; i++)
		tp_harness_push_up(rx, f->data + i, 1);
	tp_harness_buf_free(tx, f);
	b = tp_harness_pull_up(rx);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, n);
	ck_assert(!memcmp(b->data, pkt, n));
	ck_assert(!memcmp(&b->off, &o, sizeof(o)));
	tp_harness_buf_free(rx, b);
	ck_assert_uint_eq(tp_harness_counter(tx, "down_super"), 1);
	ck_assert_uint_eq(tp_harness_counter(rx, "up_super"), 1);
	ck_assert_uint_eq(tp_harness_super_split(tx, NULL, NULL), 0);
	ck_assert_int_eq(tp_harness_aborts(rx), 0);
	tp_harness_free(tx);
	tp_harness_free(rx);
}
END_TEST

/* Agreed, but metadata no kernel makes (the checksum on the source
 * address): the core completes it before the framer, which sends a plain
 * packet whose checksum is where the IP header says; nothing goes whole. */
START_TEST(odd_metadata_goes_plain)
{
	struct tp_harness *tx = new_h("framer-ip", NULL);
	struct tp_offload o;
	size_t n = mk_super(&o);
	struct tp_buf *b = tp_harness_buf(tx, pkt, n), *f;
	struct tp_batch q = TP_BATCH_INIT;
	uint64_t bad = 0;

	session_up(tx, TP_SI_SUPER);
	b->off = o;
	b->off.gso_type = TP_GSO_NONE;
	b->off.gso_size = 0;
	b->off.csum_start = 14; /* inside the IPv4 header: the source address */
	b->off.csum_offset = 0;
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(tx, &q);
	/* tg_complete refuses to write inside the IP header: dropped, counted */
	ck_assert_uint_eq(tp_harness_queued_down(tx), 0);
	ck_assert_uint_eq(tp_harness_counter(tx, "down_super"), 0);
	tp_harness_super_split(tx, NULL, &bad);
	ck_assert_uint_eq(bad, 1);

	/* The TCP checksum's own bytes, but as 24 + 12 where a kernel says
	 * 20 + 16: not trusted to travel as metadata.  Completed here as it
	 * says (summed from 24: a wrong checksum the far kernel drops, which
	 * is what this sender asked for) and sent as a plain packet */
	b = tp_harness_buf(tx, pkt, n);
	b->off = o;
	b->off.gso_type = TP_GSO_NONE;
	b->off.gso_size = 0;
	b->off.csum_start = 24;
	b->off.csum_offset = 12; /* TCP bytes 36-37 of the packet: its checksum */
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(tx, &q);
	ck_assert_uint_eq(tp_harness_queued_down(tx), 1);
	f = tp_harness_pull_down(tx);
	ck_assert(!tp_buf_is_super(f));
	ck_assert_uint_eq(f->len, n);  /* no 16-byte super header */
	ck_assert_uint_eq(f->data[0], 0x45);
	ck_assert(!memcmp(f->data + 12, pkt + 12, 8)); /* addresses untouched */
	ck_assert(memcmp(f->data + 36, pkt + 36, 2) != 0); /* written where it said */
	ck_assert(!memcmp(f->data + 38, pkt + 38, n - 38));
	tp_harness_buf_free(tx, f);
	ck_assert_uint_eq(tp_harness_counter(tx, "down_super"), 0);
	ck_assert_uint_eq(tp_harness_super_split(tx, NULL, NULL), 1); /* the refused one is not */
	tp_harness_free(tx);
}
END_TEST

/* Agreed on the wire, but the stage above the framer (here the harness's
 * end) takes plain packets only: the core splits on the way up. */
START_TEST(split_up_for_plain_stage)
{
	struct tp_harness *tx = new_h("framer-ip", NULL), *rx = new_h("framer-ip", NULL);
	struct tp_buf *f;

	session_up(tx, TP_SI_SUPER);
	session_up(rx, TP_SI_SUPER);
	push_super(tx);
	f = tp_harness_pull_down(tx);
	tp_harness_push_up(rx, f->data, f->len);
	tp_harness_buf_free(tx, f);
	expect_segments(rx, 1, 0);
	ck_assert_uint_eq(tp_harness_super_split(rx, NULL, NULL), 1);
	tp_harness_free(tx);
	tp_harness_free(rx);
}
END_TEST

/* A session that did not agree: framer-ip declares TP_PLUGIN_SUPER but is
 * handed the five plain segments, and sends them as plain IP packets. */
START_TEST(split_for_session_not_agreed)
{
	struct tp_harness *h = new_h("framer-ip", NULL);
	uint64_t segs, bad;

	session_up(h, 0);
	push_super(h);
	expect_segments(h, 0, 0);
	ck_assert_uint_eq(tp_harness_super_split(h, &segs, &bad), 1);
	ck_assert_uint_eq(segs, 5);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(tp_harness_counter(h, "down_super"), 0);
	tp_harness_free(h);
}
END_TEST

/* A stage that does not declare TP_PLUGIN_SUPER (tp-count, as any plugin
 * built for ABI 1.0/1.1): split even when agreed. */
START_TEST(split_for_plain_only_stage)
{
	struct tp_harness *h = new_h("tp-count", NULL);

	session_up(h, TP_SI_SUPER);
	tp_harness_accept_super(h, 1);
	push_super(h);
	expect_segments(h, 0, 0);
	ck_assert_uint_eq(tp_harness_super_split(h, NULL, NULL), 1);
	tp_harness_free(h);
}
END_TEST

/* framer-len carries one too, behind a zero length, for both widths; a
 * zero length on a session that did not agree is refused as before. */
START_TEST(framer_len_carries)
{
	static const char *const opts[] = { "width = 2;", "width = 4;" };

	for (int w = 0; w < 2; w++) {
		struct tp_harness *tx = new_h("framer-len", opts[w]), *rx = new_h("framer-len", opts[w]);
		struct tp_harness *no = new_h("framer-len", opts[w]);
		size_t width = w ? 4 : 2;
		struct tp_offload o;
		size_t n = mk_super(&o);
		struct tp_buf *f, *b;

		session_up(tx, TP_SI_SUPER);
		session_up(rx, TP_SI_SUPER);
		session_up(no, 0);
		tp_harness_accept_super(rx, 1);
		push_super(tx);
		f = tp_harness_pull_down(tx);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->len, width + 16 + n);
		for (size_t i = 0; i < width; i++)
			ck_assert_uint_eq(f->data[i], 0);
		ck_assert_uint_eq(f->data[width], 0x50);
		for (size_t i = 0; i < f->len; i += 7)
			tp_harness_push_up(rx, f->data + i, f->len - i < 7 ? f->len - i : 7);
		tp_harness_push_up(no, f->data, f->len);
		tp_harness_buf_free(tx, f);
		b = tp_harness_pull_up(rx);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(b->len, n);
		ck_assert(!memcmp(b->data, pkt, n));
		ck_assert(!memcmp(&b->off, &o, sizeof(o)));
		tp_harness_buf_free(rx, b);
		ck_assert_int_eq(tp_harness_aborts(rx), 0);
		ck_assert_int_eq(tp_harness_aborts(no), 1);
		ck_assert_ptr_nonnull(strstr(tp_harness_abort_reason(no), "zero-length frame"));
		ck_assert_uint_eq(tp_harness_counter(tx, "down_super"), 1);
		ck_assert_uint_eq(tp_harness_counter(rx, "up_super"), 1);
		tp_harness_free(tx);
		tp_harness_free(rx);
		tp_harness_free(no);
	}
}
END_TEST

/* Metadata that does not describe the packet: dropped and counted, never
 * passed on half-made. */
START_TEST(split_refuses_bad_metadata)
{
	struct tp_harness *h = new_h("framer-ip", NULL);
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_offload o;
	size_t n = mk_super(&o);
	struct tp_buf *b = tp_harness_buf(h, pkt, n);
	uint64_t bad;

	session_up(h, 0);
	b->off = o;
	b->off.hdr_len = 0;
	b->off.gso_type = TP_GSO_TCP6; /* an IPv4 packet */
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(h, &q);
	ck_assert_uint_eq(tp_harness_queued_down(h), 0);
	tp_harness_super_split(h, NULL, &bad);
	ck_assert_uint_eq(bad, 1);
	tp_harness_free(h);
}
END_TEST

/* ---- the header parser at its edges ---- */

struct hdr {
	unsigned type, len, flags, gso, hlen, cs, co, r5, r14;
	uint8_t byte0, ver, ihl, proto; /* 0: 4, 5 words, TCP (UDP for that type) */
};

static size_t mk_frame(uint8_t *out, const struct hdr *h)
{
	memset(out, 0, 16 + h->len);
	out[0] = h->byte0 ? h->byte0 : 0x50;
	out[1] = (uint8_t)h->type;
	put16(out + 2, h->len);
	out[4] = (uint8_t)h->flags;
	out[5] = (uint8_t)h->r5;
	put16(out + 6, h->gso);
	put16(out + 8, h->hlen);
	put16(out + 10, h->cs);
	put16(out + 12, h->co);
	out[14] = (uint8_t)h->r14;
	out[16] = (uint8_t)((h->ver ? h->ver : 4) << 4 | (h->ihl ? h->ihl : 5));
	/* the protocol (IPv4) or next header (IPv6) */
	out[16 + (h->ver == 6 ? 6 : 9)] = h->proto ? h->proto : h->type == TP_GSO_UDP ? 17 : 6;
	return 16 + h->len;
}

static uint8_t frame[16 + 70000];

/* 1: accepted (one packet up), 0: the session aborted with `why` in the reason. */
static int feed(const struct hdr *hd, uint32_t si, const char *opts, const char *why)
{
	struct tp_harness *h = new_h("framer-ip", opts);
	size_t n = mk_frame(frame, hd);
	int ok;

	session_up(h, si);
	tp_harness_accept_super(h, 1);
	tp_harness_push_up(h, frame, n);
	ok = tp_harness_aborts(h) == 0;
	if (ok) {
		struct tp_buf *b = tp_harness_pull_up(h);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(b->len, hd->len);
		tp_harness_buf_free(h, b);
	} else if (why) {
		ck_assert_msg(strstr(tp_harness_abort_reason(h), why) != NULL, "reason '%s' lacks '%s'",
			      tp_harness_abort_reason(h), why);
	}
	tp_harness_free(h);
	return ok;
}

START_TEST(header_edges)
{
	const struct hdr good = { .type = TP_GSO_TCP4, .len = 1040, .flags = 1, .gso = 64,
				  .hlen = 40, .cs = 20, .co = 16 };
	struct hdr h;

	ck_assert(feed(&good, TP_SI_SUPER, NULL, NULL));
	/* without the agreement it is what it always was: not IP */
	ck_assert(!feed(&good, 0, NULL, "not an IP packet (version 5)"));
	h = good; h.byte0 = 0x51;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "unknown super-packet format 0x51"));
	h = good; h.type = 4;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad super-packet header"));
	h = good; h.flags = 4;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad super-packet header"));
	h = good; h.r5 = 1;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad super-packet header"));
	h = good; h.r14 = 1;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad super-packet header"));
	/* length: 20 is the least, max_packet the most */
	h = good; h.type = TP_GSO_NONE; h.gso = 0; h.len = 19; h.hlen = 0; h.cs = 0; h.co = 0; h.flags = 1;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "super-packet of 19 bytes"));
	h = good; h.len = 1501;
	ck_assert(!feed(&h, TP_SI_SUPER, "max_packet = 1500;", "super-packet of 1501 bytes"));
	h.len = 1500;
	ck_assert(feed(&h, TP_SI_SUPER, "max_packet = 1500;", NULL));
	h = good; h.len = 65535;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	/* gso_size: 64 is the least */
	h = good; h.gso = 63;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation"));
	h = good; h.hlen = 27;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation"));
	h = good; h.hlen = h.len;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation"));
	h = good; h.hlen = h.len - 1;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	/* type none: only to carry a partial checksum, and no gso_size */
	h = good; h.type = TP_GSO_NONE; h.gso = 0;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	h.flags = 0; h.cs = 0; h.co = 0;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation"));
	h = good; h.type = TP_GSO_NONE;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation"));
	h = good; h.type = TP_GSO_UDP; h.flags = 3;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad segmentation")); /* ECN on UDP */
	/* checksum offsets: inside the packet ... */
	h = good; h.cs = 19;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad checksum offsets"));
	h = good; h.co = (unsigned)(h.len - h.cs - 1);
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad checksum offsets"));
	/* ... and only where a kernel puts them: in the TCP or UDP header
	 * right behind the IP header.  Elsewhere, whoever completes the
	 * checksum would write over bytes the router already checked. */
	h = good; h.co = (unsigned)(h.len - h.cs - 2);
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h = good; h.co = 6; /* UDP's place in a TCP packet */
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h = good; h.cs = 24; /* behind a 20-byte IPv4 header */
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h.ihl = 6; h.hlen = 44; /* a 24-byte header: there it belongs */
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	h = good; h.type = TP_GSO_UDP; h.co = 6;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	h.co = 16; /* TCP's place in a UDP datagram */
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h = good; h.proto = 17; /* TCP segmentation of a UDP datagram */
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h = good; h.type = TP_GSO_NONE; h.gso = 0; h.proto = 1; /* ICMP: no partial checksum */
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	/* The red team's spoof: an IPv6 packet whose "checksum" lands on the
	 * last 16 bits of its source address (bytes 22-23). */
	h = good; h.type = TP_GSO_NONE; h.gso = 0; h.ver = 6; h.cs = 20; h.co = 2;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet"));
	h.cs = 40; h.co = 16;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	h = good; h.flags = 0;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "bad checksum offsets")); /* offsets without the flag */
	/* the IP version must match the type */
	h = good; h.ver = 6;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "holds IP version 6"));
	h = good; h.type = TP_GSO_TCP6;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "holds IP version 4"));
	h.ver = 6;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "does not fit its packet")); /* csum_start 20 */
	h.cs = 40;
	ck_assert(feed(&h, TP_SI_SUPER, NULL, NULL));
	h = good; h.ver = 5;
	ck_assert(!feed(&h, TP_SI_SUPER, NULL, "holds IP version 5"));
}
END_TEST

/* ---- the agreement header ---- */

START_TEST(agreement_header)
{
	char big[300], msg[64];
	size_t n;

	ck_assert_int_eq(th_offload_parse(NULL), 0);
	ck_assert_int_eq(th_offload_parse("tso"), 1);
	ck_assert_int_eq(th_offload_parse("TSO"), 1);
	ck_assert_int_eq(th_offload_parse("  tso\t"), 1);
	ck_assert_int_eq(th_offload_parse("uso, tso"), 1);
	ck_assert_int_eq(th_offload_parse("future-thing,tso ,x"), 1);
	ck_assert_int_eq(th_offload_parse("uso"), 0);
	ck_assert_int_eq(th_offload_parse("tsox"), 0);
	ck_assert_int_eq(th_offload_parse("ts"), 0);
	ck_assert_int_eq(th_offload_parse(""), -1);
	ck_assert_int_eq(th_offload_parse("tso,"), -1);
	ck_assert_int_eq(th_offload_parse(",tso"), -1);
	ck_assert_int_eq(th_offload_parse("tso;q=1"), -1);
	ck_assert_int_eq(th_offload_parse("tso tso"), -1);
	ck_assert_int_eq(th_offload_parse("t\xc3\xa9so"), -1);
	memset(big, 'a', 33);
	strcpy(big + 33, ",tso");
	ck_assert_int_eq(th_offload_parse(big), -1); /* a 33-character token */
	memset(big, 'a', 32);
	strcpy(big + 32, ",tso");
	ck_assert_int_eq(th_offload_parse(big), 1); /* 32 is the most */
	memset(big, 'a', sizeof(big));
	for (int i = 10; i < 290; i += 11)
		big[i] = ',';
	memcpy(big, "tso,", 4);
	big[299] = '\0';
	ck_assert_int_eq(th_offload_parse(big), -1); /* more than 128 characters */
	big[128] = '\0';
	ck_assert_int_eq(th_offload_parse(big), 1); /* 128 is the most */

	strcpy(msg, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	n = th_offload_append(msg, strlen(msg), sizeof(msg));
	ck_assert_uint_eq(n, 27 + 25);
	msg[n] = '\0'; /* it writes the head, not a C string */
	ck_assert_str_eq(msg, "GET / HTTP/1.1\r\nHost: x\r\nSimple-VPN-Offload: tso\r\n\r\n");
	strcpy(msg, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_uint_eq(th_offload_append(msg, strlen(msg), strlen(msg) + 24), 0); /* no room */
	ck_assert_uint_eq(th_offload_append(msg, strlen(msg) - 1, sizeof(msg)), 0);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("superpkt");
	TCase *tc = tcase_create("superpkt");

	tcase_add_test(tc, carried_whole);
	tcase_add_test(tc, odd_metadata_goes_plain);
	tcase_add_test(tc, split_up_for_plain_stage);
	tcase_add_test(tc, split_for_session_not_agreed);
	tcase_add_test(tc, split_for_plain_only_stage);
	tcase_add_test(tc, framer_len_carries);
	tcase_add_test(tc, split_refuses_bad_metadata);
	tcase_add_test(tc, header_edges);
	tcase_add_test(tc, agreement_header);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
