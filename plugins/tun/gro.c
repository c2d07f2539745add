/* SPDX-License-Identifier: MIT */
/*
 * gro.c — merge a run of TCP segments into one super-packet (see gro.h).
 * The rules are the conservative half of the kernel's TCP GRO: anything
 * that is not obviously a plain continuation of the same stream ends the
 * run, and a segment whose checksum does not verify is never merged
 * (merging would hand the kernel a checksum we vouch for on its behalf).
 */
#include <string.h>

#include "gro.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A mergeable TCP segment: returns its IP header length and sets *hlen,
 * or 0.  IPv4 without options or fragments, IPv6 without extension
 * headers; lengths consistent with n; ACK set, nothing but ACK/PSH. */
static size_t parse(const uint8_t *p, size_t n, size_t *hlen)
{
	size_t ihl, thl;

	if (n < 20)
		return 0;
	if ((p[0] >> 4) == 4) {
		if ((p[0] & 15) != 5 || p[9] != 6 || rd16(p + 2) != n || (rd16(p + 6) & 0x3fff))
			return 0;
		ihl = 20;
	} else if ((p[0] >> 4) == 6) {
		if (n < 40 || p[6] != 6 || rd16(p + 4) + 40u != n)
			return 0;
		ihl = 40;
	} else {
		return 0;
	}
	if (n < ihl + 20)
		return 0;
	thl = (size_t)(p[ihl + 12] >> 4) * 4;
	if (thl < 20 || n <= ihl + thl)
		return 0; /* also: no payload, nothing to merge */
	if ((p[ihl + 13] & ~TCP_PSH) != TCP_ACK || (p[ihl + 12] & 0x0f))
		return 0;
	*hlen = ihl + thl;
	return ihl;
}

static int csum_ok(const uint8_t *p, size_t n, size_t ihl)
{
	uint64_t s = tg_csum_add(tg_pseudo(p, 6, (uint32_t)(n - ihl)), p + ihl, n - ihl);

	return tg_csum_fold(s) == 0xffff;
}

int tg_gro_start(struct tg_gro *g, const uint8_t *p, size_t n)
{
	size_t ihl, hlen;

	memset(g, 0, sizeof(*g));
	ihl = parse(p, n, &hlen);
	if (!ihl || !csum_ok(p, n, ihl))
		return 0;
	g->head = p;
	g->ihl = ihl;
	g->hlen = hlen;
	g->mss = n - hlen;
	g->total = g->mss;
	g->next_seq = rd32(p + ihl + 4) + (uint32_t)g->mss;
	g->count = 1;
	g->last_flags = p[ihl + 13];
	/* PSH ends a run: the receiver must see it on the run's last byte. */
	g->closed = (g->last_flags & TCP_PSH) != 0;
	return 1;
}

int tg_gro_add(struct tg_gro *g, const uint8_t *p, size_t n)
{
	const uint8_t *h = g->head;
	size_t ihl, hlen, plen;

	if (!g->count || g->closed || g->count >= TG_GRO_MAX)
		return 0;
	ihl = parse(p, n, &hlen);
	if (ihl != g->ihl || hlen != g->hlen)
		return 0;
	plen = n - hlen;
	if (plen > g->mss || hlen + g->total + plen > 65535)
		return 0;
	if (ihl == 20) {
		/* TOS, DF, TTL, protocol, addresses. */
		if (p[1] != h[1] || (p[6] & 0x40) != (h[6] & 0x40) || p[8] != h[8] ||
		    memcmp(p + 12, h + 12, 8))
			return 0;
	} else {
		/* Traffic class and flow label, hop limit, addresses. */
		if (memcmp(p, h, 4) || p[7] != h[7] || memcmp(p + 8, h + 8, 32))
			return 0;
	}
	/* Ports, then ack, data offset, flags (PSH may differ), window; the
	 * urgent pointer is meaningless without URG; options byte for byte. */
	if (memcmp(p + ihl, h + ihl, 4) || memcmp(p + ihl + 8, h + ihl + 8, 5) ||
	    memcmp(p + ihl + 14, h + ihl + 14, 2) || memcmp(p + ihl + 20, h + ihl + 20, hlen - ihl - 20))
		return 0;
	if (rd32(p + ihl + 4) != g->next_seq)
		return 0;
	if (!csum_ok(p, n, ihl))
		return 0;
	g->count++;
	g->total += plen;
	g->next_seq += (uint32_t)plen;
	g->last_flags = p[ihl + 13];
	g->closed = plen < g->mss || (g->last_flags & TCP_PSH);
	return 1;
}

size_t tg_gro_header(const struct tg_gro *g, uint8_t *hdr, struct tg_vnet_hdr *h)
{
	size_t ihl = g->ihl, l4len = g->hlen - ihl + g->total;
	uint8_t *th = hdr + ihl;

	memcpy(hdr, g->head, g->hlen);
	if (ihl == 20) {
		wr16(hdr + 2, (uint16_t)(g->hlen + g->total));
		wr16(hdr + 10, 0);
		wr16(hdr + 10, (uint16_t)~tg_csum_fold(tg_csum_add(0, hdr, 20)));
	} else {
		wr16(hdr + 4, (uint16_t)l4len);
	}
	th[13] = (uint8_t)((th[13] & ~TCP_PSH) | (g->last_flags & TCP_PSH));
	/* NEEDS_CSUM: the field holds the pseudo-header sum, not inverted;
	 * the kernel completes (or segments and completes) from there. */
	wr16(th + 16, tg_csum_fold(tg_pseudo(hdr, 6, (uint32_t)l4len)));
	h->flags = TG_F_NEEDS_CSUM;
	h->gso_type = ihl == 20 ? TG_GSO_TCPV4 : TG_GSO_TCPV6;
	h->hdr_len = (uint16_t)g->hlen;
	h->gso_size = (uint16_t)g->mss;
	h->csum_start = (uint16_t)ihl;
	h->csum_offset = 16;
	return g->hlen;
}
