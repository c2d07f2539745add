/* SPDX-License-Identifier: MIT */
/*
 * test_offload.c — TUN offloads: userspace segmentation (gso.c) and write
 * coalescing (gro.c) tested directly against a reference checksum written
 * here independently (16-bit words over an explicit pseudo-header), and
 * the tun plugin with offloads on against the real kernel through the
 * harness (root and /dev/net/tun; each test in a fresh network namespace).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/udp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gro.h"
#include "gso.h"
#include "harness.h"
#include "unit/check-main.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* ---- reference computation, independent of gso.c ---- */

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header as bytes, summed (RFC 793 / RFC 8200 8.1). */
static uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	uint8_t ph[40] = { 0 };

	if ((ip[0] >> 4) == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		return ref_sum(0, ph, 12);
	}
	memcpy(ph, ip + 8, 32);
	ph[32] = (uint8_t)(l4len >> 24);
	ph[33] = (uint8_t)(l4len >> 16);
	ph[34] = (uint8_t)(l4len >> 8);
	ph[35] = (uint8_t)l4len;
	ph[39] = proto;
	return ref_sum(0, ph, 40);
}

static size_t ref_ihl(const uint8_t *p) { return (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40; }

/* A packet whose IPv4 header and L4 checksums verify sums to 0xffff. */
static int ref_l4_ok(const uint8_t *p, size_t n, uint8_t proto)
{
	size_t ihl = ref_ihl(p);

	return ref_fold(ref_sum(ref_pseudo(p, proto, (uint32_t)(n - ihl)), p + ihl, n - ihl)) == 0xffff;
}

static int ref_ip4_ok(const uint8_t *p) { return ref_fold(ref_sum(0, p, ref_ihl(p))) == 0xffff; }

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* ---- packet builder ---- */

#define SEQ0 0xfffff000u /* wraps during a long split */
#define ID0 0xfff0

struct spec {
	int v6;
	uint8_t proto;  /* 6 or 17 */
	int opts;       /* TCP option bytes (multiple of 4) */
	uint8_t flags;  /* TCP */
	uint32_t seq;
	uint8_t ttl, tos;
	uint16_t dport;
};

static uint8_t pat(size_t i) { return (uint8_t)(i * 7 + 3); }

/* Build headers + `plen` pattern bytes starting at pattern offset poff;
 * a valid L4 checksum when csum, else garbage there.  Returns the length. */
static size_t build(const struct spec *s, size_t plen, size_t poff, int csum, uint8_t *p)
{
	size_t ihl = s->v6 ? 40 : 20, l4h = s->proto == 6 ? 20 + (size_t)s->opts : 8, i, n;
	uint8_t *l4 = p + ihl;

	n = ihl + l4h + plen;
	memset(p, 0, ihl + l4h);
	if (s->v6) {
		p[0] = 0x60 | (s->tos >> 4);
		p[1] = (uint8_t)(s->tos << 4) | 0x0a; /* a flow label */
		p[3] = 0x42;
		put16(p + 4, (uint16_t)(n - 40));
		p[6] = s->proto;
		p[7] = s->ttl;
		inet_pton(AF_INET6, "fd00:97::1", p + 8);
		inet_pton(AF_INET6, "fd00:97::2", p + 24);
	} else {
		p[0] = 0x45;
		p[1] = s->tos;
		put16(p + 2, (uint16_t)n);
		put16(p + 4, ID0);
		p[6] = 0x40; /* DF */
		p[8] = s->ttl;
		p[9] = s->proto;
		inet_pton(AF_INET, "10.97.0.1", p + 12);
		inet_pton(AF_INET, "10.97.0.2", p + 16);
		put16(p + 10, (uint16_t)~ref_fold(ref_sum(0, p, 20)));
	}
	put16(l4, 40000);
	put16(l4 + 2, s->dport ? s->dport : 5201);
	if (s->proto == 6) {
		l4[4] = (uint8_t)(s->seq >> 24);
		l4[5] = (uint8_t)(s->seq >> 16);
		l4[6] = (uint8_t)(s->seq >> 8);
		l4[7] = (uint8_t)s->seq;
		put16(l4 + 8, 0x1234);
		put16(l4 + 10, 0x5678);
		l4[12] = (uint8_t)((l4h / 4) << 4);
		l4[13] = s->flags;
		put16(l4 + 14, 501);
		for (i = 20; i < l4h; i++)
			l4[i] = i == 20 || i == 21 ? 1 : (uint8_t)(0x80 + i); /* NOP NOP, then bytes */
	} else {
		put16(l4 + 4, (uint16_t)(8 + plen));
	}
	for (i = 0; i < plen; i++)
		p[ihl + l4h + i] = pat(poff + i);
	if (csum) {
		int o = s->proto == 6 ? 16 : 6;
		put16(l4 + o, (uint16_t)~ref_fold(ref_sum(ref_pseudo(p, s->proto, (uint32_t)(n - ihl)), l4,
							  n - ihl)));
	} else {
		put16(l4 + (s->proto == 6 ? 16 : 6), 0xdead);
	}
	return n;
}

/* ---- a sink of fixed buffers ---- */

#define NSEG 128
static uint8_t segbuf[NSEG][1600];
static size_t seglen[NSEG];
static int nseg, seg_limit;

static uint8_t *t_get(void *arg, size_t need)
{
	(void)arg;
	ck_assert_uint_le(need, sizeof(segbuf[0]));
	if (nseg >= seg_limit)
		return NULL;
	return segbuf[nseg];
}

static void t_put(void *arg, uint8_t *p, size_t len)
{
	(void)arg;
	ck_assert_ptr_eq(p, segbuf[nseg]);
	seglen[nseg++] = len;
}

static const struct tg_sink sink = { t_get, t_put, NULL };

static void sink_reset(void)
{
	nseg = 0;
	seg_limit = NSEG;
}

static uint8_t big[70000];

/* Split a super-packet of `payload` bytes with gso_size mss at `mtu` and
 * check every segment against the reference. */
static void check_split(const struct spec *s, size_t payload, uint16_t mss, uint32_t mtu)
{
	size_t ihl = s->v6 ? 40 : 20, l4h = s->proto == 6 ? 20 + (size_t)s->opts : 8;
	size_t hlen = ihl + l4h, n, off = 0, eff = mss;
	struct tg_vnet_hdr h = { TG_F_NEEDS_CSUM, 0, (uint16_t)hlen, mss, (uint16_t)ihl,
				 (uint16_t)(s->proto == 6 ? 16 : 6) };
	int i, want;

	if (hlen + eff > mtu)
		eff = mtu - hlen;
	h.gso_type = s->proto == 17 ? TG_GSO_UDP_L4 : s->v6 ? TG_GSO_TCPV6 : TG_GSO_TCPV4;
	n = build(s, payload, 0, 0, big);
	want = payload ? (int)((payload + eff - 1) / eff) : 1;
	sink_reset();
	ck_assert_int_eq(tg_segment(&h, big, n, mtu, &sink), want);
	ck_assert_int_eq(nseg, want);
	for (i = 0; i < nseg; i++) {
		const uint8_t *d = segbuf[i], *l4 = d + ihl;
		size_t len = payload - off < eff ? payload - off : eff, k;
		int last = i == nseg - 1;

		ck_assert_uint_eq(seglen[i], hlen + len);
		ck_assert_uint_le(seglen[i], mtu);
		if (s->v6) {
			ck_assert_uint_eq(get16(d + 4), l4h + len);
		} else {
			ck_assert_uint_eq(get16(d + 2), hlen + len);
			ck_assert_uint_eq(get16(d + 4), (uint16_t)(ID0 + i));
			ck_assert(ref_ip4_ok(d));
		}
		ck_assert_msg(ref_l4_ok(d, seglen[i], s->proto), "segment %d checksum", i);
		if (s->proto == 6) {
			ck_assert_uint_eq(get32(l4 + 4), (uint32_t)(SEQ0 + off));
			ck_assert_uint_eq(l4[13] & (TCP_FIN | TCP_PSH), last ? s->flags & (TCP_FIN | TCP_PSH) : 0);
			ck_assert_uint_eq(l4[13] & TCP_CWR, i == 0 ? s->flags & TCP_CWR : 0);
			ck_assert_uint_eq(l4[13] & TCP_ACK, TCP_ACK);
			ck_assert(!memcmp(l4 + 20, big + ihl + 20, (size_t)s->opts));
		} else {
			ck_assert_uint_eq(get16(l4 + 4), 8 + len);
		}
		for (k = 0; k < len; k++)
			ck_assert_uint_eq(d[hlen + k], pat(off + k));
		off += len;
	}
	ck_assert_uint_eq(off, payload);
}

static void split_edges(struct spec *s)
{
	const uint32_t mtu = 1400;
	size_t hlen = (s->v6 ? 40 : 20) + (s->proto == 6 ? 20 + (size_t)s->opts : 8);
	uint16_t mss = (uint16_t)(mtu - hlen);
	size_t k, kmax = (65535 - hlen) / mss;
	static const size_t ks[] = { 1, 2, 3, 10 };

	s->seq = SEQ0;
	s->ttl = 64;
	for (k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
		check_split(s, ks[k] * mss - 1, mss, mtu);
		check_split(s, ks[k] * mss, mss, mtu);
		check_split(s, ks[k] * mss + 1, mss, mtu);
	}
	check_split(s, 1, mss, mtu);
	check_split(s, kmax * mss, mss, mtu);                 /* the largest exact multiple */
	check_split(s, 65535 - hlen, mss, mtu);               /* the largest super-packet */
	check_split(s, 5000, 1000, mtu);                      /* the kernel's own smaller mss */
	if (s->proto == 6)
		check_split(s, 5000, (uint16_t)(mss + 100), mtu); /* cut finer than asked */
}

START_TEST(test_split_tcp4)
{
	struct spec s = { .proto = 6, .flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR };

	split_edges(&s);
	s.opts = 12;
	split_edges(&s);
	s.opts = 40;
	s.flags = TCP_ACK;
	split_edges(&s);
}
END_TEST

START_TEST(test_split_tcp6)
{
	struct spec s = { .v6 = 1, .proto = 6, .flags = TCP_ACK | TCP_PSH | TCP_CWR };

	split_edges(&s);
	s.opts = 12;
	split_edges(&s);
}
END_TEST

START_TEST(test_split_udp)
{
	struct spec s = { .proto = 17 };

	split_edges(&s);
	s.v6 = 1;
	split_edges(&s);
}
END_TEST

/* A single packet whose checksum the kernel left to us. */
START_TEST(test_needs_csum)
{
	static const uint8_t protos[] = { 6, 17 };
	int v6, i;

	for (v6 = 0; v6 < 2; v6++)
		for (i = 0; i < 2; i++) {
			struct spec s = { .v6 = v6, .proto = protos[i], .opts = 12, .flags = TCP_ACK, .ttl = 9 };
			size_t ihl = v6 ? 40 : 20, n = build(&s, 333, 0, 0, big);
			int o = protos[i] == 6 ? 16 : 6;
			struct tg_vnet_hdr h = { TG_F_NEEDS_CSUM, TG_GSO_NONE, 0, 0, (uint16_t)ihl, (uint16_t)o };

			/* What the kernel leaves there: the pseudo-header sum. */
			put16(big + ihl + o, ref_fold(ref_pseudo(big, protos[i], (uint32_t)(n - ihl))));
			sink_reset();
			ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), 1);
			ck_assert_uint_eq(seglen[0], n);
			ck_assert(ref_l4_ok(segbuf[0], n, protos[i]));
			/* Without the flag the packet passes untouched. */
			h.flags = 0;
			sink_reset();
			ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), 1);
			ck_assert(!memcmp(segbuf[0], big, n));
		}
}
END_TEST

START_TEST(test_split_errors)
{
	struct spec s = { .proto = 6, .flags = TCP_ACK, .seq = SEQ0, .ttl = 64 };
	struct tg_vnet_hdr h = { 0, TG_GSO_TCPV4, 40, 1360, 20, 16 };
	size_t n = build(&s, 5000, 0, 0, big);

	sink_reset();
	h.gso_type = TG_GSO_TCPV6; /* IPv4 packet, IPv6 type */
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_EBAD);
	h.gso_type = TG_GSO_UDP_L4; /* TCP packet, UDP type */
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_EBAD);
	h.gso_type = TG_GSO_UDP; /* UFO: never */
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_EBAD);
	h.gso_type = TG_GSO_TCPV4;
	ck_assert_int_eq(tg_segment(&h, big, 39, 1400, &sink), TG_EBAD);  /* cut TCP header */
	h.gso_size = 0;
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_EBAD);
	h.gso_size = 1360;
	big[6] |= 0x20; /* MF: a fragment cannot be segmented */
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_EBAD);
	big[6] &= (uint8_t)~0x20;
	ck_assert_int_eq(nseg, 0);
	seg_limit = 2; /* the pool runs dry after two */
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_ENOBUF);
	ck_assert_int_eq(nseg, 2);
	/* A plain packet over the MTU, a checksum place outside it. */
	h.gso_type = TG_GSO_NONE;
	sink_reset();
	ck_assert_int_eq(tg_segment(&h, big, 1401, 1400, &sink), TG_ETOOLONG);
	h.flags = TG_F_NEEDS_CSUM;
	h.csum_start = 1000;
	h.csum_offset = 6;
	ck_assert_int_eq(tg_segment(&h, big, 1007, 1400, &sink), TG_EBAD);
	/* A UDP datagram larger than the MTU cannot be cut. */
	s.proto = 17;
	n = build(&s, 3000, 0, 0, big);
	h = (struct tg_vnet_hdr){ 0, TG_GSO_UDP_L4, 28, 1500, 20, 6 };
	ck_assert_int_eq(tg_segment(&h, big, n, 1400, &sink), TG_ETOOLONG);
	ck_assert_int_eq(nseg, 0);
}
END_TEST

/* ---- coalescing ---- */

#define NPKT 80
static uint8_t pk[NPKT][1600];
static size_t pkn[NPKT];

/* Segment i of a stream of mss-byte segments. */
static void mk(int i, const struct spec *base, size_t mss, size_t plen)
{
	struct spec s = *base;

	s.seq = base->seq + (uint32_t)(i * mss);
	pkn[i] = build(&s, plen, (size_t)i * mss, 1, pk[i]);
}

/* Merge pk[0..n) as the kernel would receive them, and check the merged
 * super-packet's headers and that completing its checksum from csum_start
 * (what the kernel does with NEEDS_CSUM) gives a valid segment. */
static void check_merged(const struct tg_gro *g, int n, const struct spec *s, size_t mss)
{
	struct tg_vnet_hdr h;
	uint8_t hdr[TG_GRO_HDR_MAX];
	size_t hl = tg_gro_header(g, hdr, &h), len = hl, ihl = s->v6 ? 40 : 20, k;
	int i;

	ck_assert_uint_eq(hl, ihl + 20 + (size_t)s->opts);
	ck_assert_uint_eq(h.gso_type, s->v6 ? TG_GSO_TCPV6 : TG_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, mss);
	ck_assert_uint_eq(h.hdr_len, hl);
	ck_assert_uint_eq(h.flags, TG_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.csum_start, ihl);
	ck_assert_uint_eq(h.csum_offset, 16);
	memcpy(big, hdr, hl);
	for (i = 0; i < n; i++) {
		memcpy(big + len, pk[i] + hl, pkn[i] - hl);
		len += pkn[i] - hl;
	}
	if (!s->v6) {
		ck_assert_uint_eq(get16(big + 2), len);
		ck_assert(ref_ip4_ok(big));
	} else {
		ck_assert_uint_eq(get16(big + 4), len - 40);
	}
	ck_assert_uint_eq(get32(big + ihl + 4), s->seq);
	for (k = 0; k < len - hl; k++)
		ck_assert_uint_eq(big[hl + k], pat(k));
	ck_assert_uint_eq(get16(big + ihl + 16), ref_fold(ref_pseudo(big, 6, (uint32_t)(len - ihl))));
	put16(big + ihl + 16, (uint16_t)~ref_fold(ref_sum(0, big + ihl, len - ihl)));
	ck_assert(ref_l4_ok(big, len, 6));
}

static void merge_stream(int v6, int opts)
{
	struct spec s = { .v6 = v6, .proto = 6, .opts = opts, .flags = TCP_ACK, .seq = SEQ0, .ttl = 64 };
	size_t mss = 1400 - (v6 ? 40 : 20) - 20 - (size_t)opts;
	struct tg_gro g;
	int i;

	/* Four full segments, a short fifth (which ends the run), a sixth. */
	for (i = 0; i < 6; i++)
		mk(i, &s, mss, i == 4 ? mss - 1 : mss);
	ck_assert(tg_gro_start(&g, pk[0], pkn[0]));
	for (i = 1; i < 5; i++)
		ck_assert_msg(tg_gro_add(&g, pk[i], pkn[i]), "segment %d", i);
	ck_assert(!tg_gro_add(&g, pk[5], pkn[5]));
	ck_assert_uint_eq(g.count, 5);
	check_merged(&g, 5, &s, mss);

	/* PSH on a middle segment: merged, and the run ends there with PSH. */
	s.flags = TCP_ACK;
	for (i = 0; i < 4; i++) {
		s.flags = i == 2 ? TCP_ACK | TCP_PSH : TCP_ACK;
		mk(i, &s, mss, mss);
	}
	s.flags = TCP_ACK;
	ck_assert(tg_gro_start(&g, pk[0], pkn[0]));
	ck_assert(tg_gro_add(&g, pk[1], pkn[1]));
	ck_assert(tg_gro_add(&g, pk[2], pkn[2]));
	ck_assert(!tg_gro_add(&g, pk[3], pkn[3]));
	{
		uint8_t hdr[TG_GRO_HDR_MAX];
		struct tg_vnet_hdr h;

		tg_gro_header(&g, hdr, &h);
		ck_assert_uint_eq(hdr[(v6 ? 40 : 20) + 13], TCP_ACK | TCP_PSH);
	}

	/* Up to the size limits: never more than 64 segments or 64 KiB. */
	s.opts = opts;
	for (i = 0; i < NPKT; i++)
		mk(i, &s, 100, 100);
	ck_assert(tg_gro_start(&g, pk[0], pkn[0]));
	for (i = 1; i < NPKT && tg_gro_add(&g, pk[i], pkn[i]); i++)
		;
	ck_assert_int_eq(i, TG_GRO_MAX);
	for (i = 0; i < 50; i++)
		mk(i, &s, mss, mss);
	ck_assert(tg_gro_start(&g, pk[0], pkn[0]));
	for (i = 1; i < 50 && tg_gro_add(&g, pk[i], pkn[i]); i++)
		;
	ck_assert_uint_le(g.hlen + g.total, 65535);
	ck_assert_uint_gt(g.hlen + g.total + mss, 65535);
	check_merged(&g, i, &s, mss);
}

START_TEST(test_merge)
{
	merge_stream(0, 0);
	merge_stream(0, 12);
	merge_stream(1, 0);
	merge_stream(1, 12);
}
END_TEST

/* Each way a second segment may differ from the first: never merged. */
START_TEST(test_no_merge)
{
	struct spec s = { .proto = 6, .opts = 12, .flags = TCP_ACK, .seq = SEQ0, .ttl = 64 };
	static const uint8_t bad_flags[] = { TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST | TCP_ACK,
					     TCP_URG | TCP_ACK, TCP_ECE | TCP_ACK, TCP_CWR | TCP_ACK, 0 };
	const size_t mss = 1000;
	struct tg_gro g;
	struct spec o;
	int v6, i;

	for (v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		mk(0, &s, mss, mss);
#define SECOND_REFUSED(what) do { \
		ck_assert(tg_gro_start(&g, pk[0], pkn[0])); \
		ck_assert_msg(!tg_gro_add(&g, pk[1], pkn[1]), "merged across %s (v6=%d)", what, v6); \
	} while (0)
		/* The control: an exact continuation merges. */
		mk(1, &s, mss, mss);
		ck_assert(tg_gro_start(&g, pk[0], pkn[0]));
		ck_assert(tg_gro_add(&g, pk[1], pkn[1]));

		o = s; o.dport = 5202; mk(1, &o, mss, mss); SECOND_REFUSED("a flow");
		o = s; o.seq += 1; mk(1, &o, mss, mss); SECOND_REFUSED("a sequence gap");
		o = s; o.seq -= 1; mk(1, &o, mss, mss); SECOND_REFUSED("an overlap");
		o = s; o.ttl = 63; mk(1, &o, mss, mss); SECOND_REFUSED("a TTL change");
		o = s; o.tos = 0x10; mk(1, &o, mss, mss); SECOND_REFUSED("a TOS change");
		o = s; o.v6 = !v6; mk(1, &o, mss, mss); SECOND_REFUSED("IP versions");
		for (i = 0; i < (int)sizeof(bad_flags); i++) {
			o = s; o.flags = bad_flags[i]; mk(1, &o, mss, mss); SECOND_REFUSED("a flag change");
		}
		mk(1, &s, mss, mss + 1); SECOND_REFUSED("a larger segment");
		mk(1, &s, mss, mss);
		pk[1][pkn[1] - 1] ^= 1; SECOND_REFUSED("a bad checksum");
		mk(1, &s, mss, mss);
		pk[1][(v6 ? 40 : 20) + 30] ^= 1; SECOND_REFUSED("different TCP options");
		mk(1, &s, mss, mss);
		pk[1][(v6 ? 40 : 20) + 11] ^= 1; /* ack number */
		put16(pk[1] + (v6 ? 40 : 20) + 16, 0);
		put16(pk[1] + (v6 ? 40 : 20) + 16, (uint16_t)~ref_fold(ref_sum(ref_pseudo(pk[1], 6,
			(uint32_t)(pkn[1] - (v6 ? 40 : 20))), pk[1] + (v6 ? 40 : 20), pkn[1] - (v6 ? 40 : 20))));
		SECOND_REFUSED("an ack change");
#undef SECOND_REFUSED

		/* A head that cannot start a run. */
		mk(0, &s, mss, mss);
		pk[0][pkn[0] - 1] ^= 1;
		ck_assert(!tg_gro_start(&g, pk[0], pkn[0]));           /* bad checksum */
		mk(0, &s, mss, 0);
		ck_assert(!tg_gro_start(&g, pk[0], pkn[0]));           /* pure ACK */
		o = s; o.flags = TCP_SYN | TCP_ACK; mk(0, &o, mss, mss);
		ck_assert(!tg_gro_start(&g, pk[0], pkn[0]));
		o = s; o.proto = 17; mk(0, &o, mss, mss);
		ck_assert(!tg_gro_start(&g, pk[0], pkn[0]));           /* UDP */
		o = s; o.flags = TCP_ACK | TCP_PSH; mk(0, &o, mss, mss); mk(1, &s, mss, mss);
		ck_assert(tg_gro_start(&g, pk[0], pkn[0]));            /* PSH ends the run at once */
		ck_assert(!tg_gro_add(&g, pk[1], pkn[1]));
	}
	/* IPv4 options. */
	s.v6 = 0;
	mk(0, &s, mss, mss);
	memmove(pk[0] + 24, pk[0] + 20, pkn[0] - 20);
	pk[0][0] = 0x46;
	memset(pk[0] + 20, 1, 4); /* four NOP options */
	pkn[0] += 4;
	put16(pk[0] + 2, (uint16_t)pkn[0]);
	put16(pk[0] + 10, 0);
	put16(pk[0] + 10, (uint16_t)~ref_fold(ref_sum(0, pk[0], 24)));
	ck_assert(ref_l4_ok(pk[0], pkn[0], 6));
	ck_assert(!tg_gro_start(&g, pk[0], pkn[0]));
}
END_TEST

START_TEST(test_csum_matches_reference)
{
	size_t n, off;

	for (n = 0; n < 200; n++)
		big[n] = (uint8_t)(n * 131 + 17);
	for (off = 0; off < 4; off++)
		for (n = 0; n < 150; n++)
			ck_assert_uint_eq(tg_csum_fold(tg_csum_add(0, big + off, n)),
					  ref_fold(ref_sum(0, big + off, n)));
	/* All ones: every 64-bit addition carries. */
	memset(big, 0xff, 70000);
	for (n = 0; n < 70000; n += n < 40 ? 1 : 997)
		ck_assert_uint_eq(tg_csum_fold(tg_csum_add(0x1234, big, n)),
				  ref_fold(ref_sum(0x1234, big, n)));
	for (n = 0; n < 70000; n++)
		big[n] = (uint8_t)(0xf0 | (n * 13));
	ck_assert_uint_eq(tg_csum_fold(tg_csum_add(0, big, 65535)), ref_fold(ref_sum(0, big, 65535)));
}
END_TEST


/* ---- the plugin against the real kernel ---- */

static void enter_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	ck_assert_int_eq(system("ip link set lo up"), 0);
}

static struct tp_harness *dev_new(const char *extra)
{
	char opts[256];
	struct tp_harness *h;

	snprintf(opts, sizeof(opts), "device = \"tpo0\"; address = \"10.97.0.1/24\"; "
		 "address6 = \"fd00:97::1/64\"; mtu = 1400; %s", extra);
	h = tp_harness_new("tun", opts);
	ck_assert_msg(h != NULL, "tun: %s", tp_harness_last_error());
	tp_harness_manual_fds(h, 1);
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

/* Offloads are on by default, and the log says which; off means none. */
START_TEST(test_dev_enabled)
{
	struct tp_harness *h;

	enter_netns();
	h = dev_new("");
	ck_assert_msg(strstr(tp_harness_log_text(h), "offload on tpo0: csum tso4 tso6") != NULL, "%s",
		      tp_harness_log_text(h));
	tp_harness_free(h);
	h = dev_new("offload = \"off\";");
	ck_assert_ptr_null(strstr(tp_harness_log_text(h), "offload on"));
	tp_harness_free(h);
}
END_TEST

/* The kernel hands us a real super-packet (a UDP_SEGMENT send, USO); it
 * goes down as ordinary datagrams, each complete with its checksums. */
START_TEST(test_dev_split_udp)
{
	static const char *const dst[] = { "10.97.0.2", "fd00:97::2" };
	struct tp_harness *h;
	int v6;

	enter_netns();
	h = dev_new("");
	/* IPv6 DAD would hold the address back; not needed to send. */
	for (v6 = 0; v6 < 2; v6++) {
		struct sockaddr_storage ss = { 0 };
		int us = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0), seg = 1000, i, got = 0;
		size_t k, off = 0;
		socklen_t sl;
		struct tp_buf *b;

		if (v6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			a->sin6_family = AF_INET6;
			a->sin6_port = htons(9);
			inet_pton(AF_INET6, dst[1], &a->sin6_addr);
			sl = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			a->sin_family = AF_INET;
			a->sin_port = htons(9);
			inet_pton(AF_INET, dst[0], &a->sin_addr);
			sl = sizeof(*a);
		}
		ck_assert_int_ge(us, 0);
		ck_assert_int_eq(setsockopt(us, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)), 0);
		for (k = 0; k < 8500; k++)
			big[k] = pat(k);
		ck_assert_int_eq(sendto(us, big, 8500, 0, (struct sockaddr *)&ss, sl), 8500);
		tp_harness_fd_fire(h, tp_harness_fd(h, NULL), TP_FD_READ);
		while ((b = tp_harness_pull_down(h))) {
			size_t ihl = (b->data[0] >> 4) == 4 ? 20 : 40;

			/* Router solicitations and the like may come too. */
			if (b->len > ihl + 8 && b->data[ihl == 20 ? 9 : 6] == 17 &&
			    get16(b->data + ihl + 2) == 9) {
				ck_assert_uint_eq((size_t)(b->data[0] >> 4), v6 ? 6u : 4u);
				ck_assert_uint_le(b->len, 1400);
				ck_assert(v6 || ref_ip4_ok(b->data));
				ck_assert(ref_l4_ok(b->data, b->len, 17));
				for (k = 0; k < b->len - ihl - 8; k++)
					ck_assert_uint_eq(b->data[ihl + 8 + k], pat(off + k));
				off += b->len - ihl - 8;
				got++;
			}
			tp_harness_buf_free(h, b);
		}
		ck_assert_int_eq(got, 9);
		ck_assert_uint_eq(off, 8500);
		close(us);
		(void)i;
	}
	ck_assert_uint_ge(tp_harness_counter(h, "rx_super"), 2);
	tp_harness_free(h);
}
END_TEST

/* A run of segments pushed up is written as one super-packet the kernel
 * accepts: a packet socket on the device sees one packet of the run's
 * whole length. */
START_TEST(test_dev_merge_write)
{
	struct spec s = { .proto = 6, .opts = 12, .flags = TCP_ACK, .seq = SEQ0, .ttl = 64 };
	const size_t mss = 1000;
	struct tp_batch q = TP_BATCH_INIT;
	struct sockaddr_ll sll = { 0 };
	struct tp_harness *h;
	int ps, i, v6;
	ssize_t n;

	enter_netns();
	h = dev_new("");
	ps = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	ck_assert_int_ge(ps, 0);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex("tpo0");
	ck_assert_int_eq(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	for (v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		for (i = 0; i < 20; i++) {
			mk(i, &s, mss, mss);
			/* build() sends from ::1/.1 to ::2/.2: swap to come in. */
			if (v6) {
				uint8_t a[16];
				memcpy(a, pk[i] + 8, 16); memcpy(pk[i] + 8, pk[i] + 24, 16); memcpy(pk[i] + 24, a, 16);
			} else {
				uint8_t a[4];
				memcpy(a, pk[i] + 12, 4); memcpy(pk[i] + 12, pk[i] + 16, 4); memcpy(pk[i] + 16, a, 4);
			}
			tp_batch_add(&q, tp_harness_buf(h, pk[i], pkn[i]));
		}
		tp_harness_push_up_batch(h, &q);
		ck_assert_uint_eq(tp_harness_counter(h, "up_errors"), 0);
		ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 20u * (unsigned)(v6 + 1));
		ck_assert_uint_eq(tp_harness_counter(h, "tx_merged"), (unsigned)(v6 + 1));
		ck_assert_uint_eq(tp_harness_outstanding(h), 0);
		do
			n = recv(ps, big, sizeof(big), MSG_DONTWAIT);
		while (n > 0 && (size_t)n != pkn[0] + 19 * mss); /* skip what the kernel sent */
		ck_assert_int_eq(n, (ssize_t)(pkn[0] + 19 * mss));
		ck_assert_uint_eq(get32(big + (v6 ? 40 : 20) + 4), SEQ0);
	}
	close(ps);
	tp_harness_free(h);
}
END_TEST

/* A device that refuses the merged write: merging stops (logged) and the
 * same packets are tried one by one, each counted, none lost silently. */
START_TEST(test_dev_merge_refused)
{
	struct spec s = { .proto = 6, .flags = TCP_ACK, .seq = SEQ0, .ttl = 64 };
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_harness *h;
	int i, fd, ro;

	enter_netns();
	h = dev_new("");
	fd = tp_harness_fd(h, NULL);
	ro = open("/dev/null", O_RDONLY); /* every write fails, EBADF */
	ck_assert_int_ge(ro, 0);
	ck_assert_int_eq(dup2(ro, fd), fd);
	close(ro);
	for (i = 0; i < 5; i++) {
		mk(i, &s, 1000, 1000);
		tp_batch_add(&q, tp_harness_buf(h, pk[i], pkn[i]));
	}
	tp_harness_push_up_batch(h, &q);
	ck_assert_msg(strstr(tp_harness_log_text(h), "refused a merged write") != NULL, "%s",
		      tp_harness_log_text(h));
	ck_assert_uint_eq(tp_harness_counter(h, "up_errors"), 5);
	ck_assert_uint_eq(tp_harness_counter(h, "tx_merged"), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

static void offload_dev_tests(Suite *s)
{
	TCase *dev = tcase_create("device");

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		return;
	tcase_add_test(dev, test_dev_enabled);
	tcase_add_test(dev, test_dev_split_udp);
	tcase_add_test(dev, test_dev_merge_write);
	tcase_add_test(dev, test_dev_merge_refused);
	suite_add_tcase(s, dev);
}

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *fn = tcase_create("functions");

	tcase_set_timeout(fn, 60);
	tcase_add_test(fn, test_csum_matches_reference);
	tcase_add_test(fn, test_split_tcp4);
	tcase_add_test(fn, test_split_tcp6);
	tcase_add_test(fn, test_split_udp);
	tcase_add_test(fn, test_needs_csum);
	tcase_add_test(fn, test_split_errors);
	tcase_add_test(fn, test_merge);
	tcase_add_test(fn, test_no_merge);
	suite_add_tcase(s, fn);
	offload_dev_tests(s);
	return s;
}
