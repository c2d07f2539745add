/* SPDX-License-Identifier: MIT */
/*
 * gso.c — userspace segmentation of the super-packets a TUN device with
 * TSO/USO enabled hands us, so every stage below keeps seeing ordinary IP
 * packets no larger than the tunnel MTU.  Each segment gets its own IP
 * length, IPv4 id and header checksum, TCP sequence number and flags, and
 * a full TCP/UDP checksum: the peer may be anything.
 */
#include <string.h>

#include "gso.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)(v >> 16)); wr16(p + 2, (uint16_t)v); }

void tg_vnet_read(const uint8_t *p, struct tg_vnet_hdr *h)
{
	h->flags = p[0];
	h->gso_type = p[1];
	memcpy(&h->hdr_len, p + 2, 2);
	memcpy(&h->gso_size, p + 4, 2);
	memcpy(&h->csum_start, p + 6, 2);
	memcpy(&h->csum_offset, p + 8, 2);
}

void tg_vnet_write(uint8_t *p, const struct tg_vnet_hdr *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	memcpy(p + 2, &h->hdr_len, 2);
	memcpy(p + 4, &h->gso_size, 2);
	memcpy(p + 6, &h->csum_start, 2);
	memcpy(p + 8, &h->csum_offset, 2);
}

/* The one's-complement sum does not depend on byte order (RFC 1071 2.B):
 * sum native 64-bit words with end-around carry, fold, and swap the
 * 16-bit result on a little-endian host.  Valid for a piece that starts
 * at an even offset of the checksummed data, which every caller's does.
 * The hot loop of both offload directions: it touches every byte. */
uint64_t tg_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t s = 0, v;
	uint32_t w;
	uint16_t h;

	while (n >= 8) {
		memcpy(&v, p, 8);
		s += v;
		s += s < v;
		p += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w, p, 4);
		s += w;
		s += s < w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		s += h;
		s += s < h;
		p += 2;
		n -= 2;
	}
	if (n) {
		/* The last byte is the first of a 16-bit word padded with 0. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		v = p[0];
#else
		v = (uint64_t)p[0] << 8;
#endif
		s += v;
		s += s < v;
	}
	h = tg_csum_fold(s);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	h = (uint16_t)(h >> 8 | h << 8);
#endif
	return sum + h;
}

uint16_t tg_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t tg_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	uint64_t sum;

	if ((ip[0] >> 4) == 4)
		sum = tg_csum_add(0, ip + 12, 8);
	else
		sum = tg_csum_add(0, ip + 8, 32);
	return sum + proto + l4len;
}

/* The IP header's length, 0 for what is not IPv4/IPv6 (n >= 1). */
static size_t ip_hlen(const uint8_t *pkt, size_t n)
{
	if ((pkt[0] >> 4) == 6)
		return n >= 40 ? 40 : 0;
	if ((pkt[0] >> 4) == 4 && (pkt[0] & 15) >= 5 && n >= (size_t)(pkt[0] & 15) * 4)
		return (size_t)(pkt[0] & 15) * 4;
	return 0;
}

/* A packet that is not a super-packet but whose L4 checksum the kernel
 * left to us (VIRTIO_NET_HDR_F_NEEDS_CSUM): the field holds the pseudo-
 * header sum, we add the rest from csum_start.  Never inside the IP
 * header: whatever the metadata says, the addresses the anti-spoofing
 * check read stay as they are. */
static int csum_fits(const struct tg_vnet_hdr *h, const uint8_t *pkt, size_t n)
{
	size_t ihl;

	if (!(h->flags & TG_F_NEEDS_CSUM))
		return 1;
	return n >= 1 && (ihl = ip_hlen(pkt, n)) && h->csum_start >= ihl &&
	       (size_t)h->csum_start + h->csum_offset + 2 <= n;
}

int tg_complete(const struct tg_vnet_hdr *h, uint8_t *pkt, size_t n)
{
	if (!(h->flags & TG_F_NEEDS_CSUM))
		return 1;
	if (!csum_fits(h, pkt, n))
		return TG_EBAD;
	wr16(pkt + h->csum_start + h->csum_offset,
	     (uint16_t)~tg_csum_fold(tg_csum_add(0, pkt + h->csum_start, n - h->csum_start)));
	return 1;
}

static int complete_one(const struct tg_vnet_hdr *h, const uint8_t *pkt, size_t n, uint32_t mtu,
			const struct tg_sink *sink)
{
	uint8_t *d;

	if (n > mtu)
		return TG_ETOOLONG;
	if (!csum_fits(h, pkt, n))
		return TG_EBAD;
	d = sink->get(sink->arg, n);
	if (!d)
		return TG_ENOBUF;
	memcpy(d, pkt, n);
	tg_complete(h, d, n);
	sink->put(sink->arg, d, n);
	return 1;
}

static void ip4_fix(uint8_t *d, size_t ihl, size_t total, uint16_t id)
{
	wr16(d + 2, (uint16_t)total);
	wr16(d + 4, id);
	wr16(d + 10, 0);
	wr16(d + 10, (uint16_t)~tg_csum_fold(tg_csum_add(0, d, ihl)));
}

int tg_segment(const struct tg_vnet_hdr *h, const uint8_t *pkt, size_t n, uint32_t mtu,
	       const struct tg_sink *sink)
{
	uint8_t gt = h->gso_type & (uint8_t)~TG_GSO_ECN;
	size_t ihl, l4h, hlen, payload, mss, off;
	uint8_t proto;
	int v6, count = 0;
	uint16_t id0;
	uint32_t seq0;

	if (gt == TG_GSO_NONE)
		return complete_one(h, pkt, n, mtu, sink);
	if (n < 20)
		return TG_EBAD;
	v6 = (pkt[0] >> 4) == 6;
	if (v6) {
		if (n < 40)
			return TG_EBAD;
		ihl = 40;
		/* Extension headers would need walking; the kernel's TSO
		 * gives us none for the traffic we carry. */
		proto = pkt[6];
	} else if ((pkt[0] >> 4) == 4) {
		ihl = (size_t)(pkt[0] & 15) * 4;
		if (ihl < 20 || n < ihl || (rd16(pkt + 6) & 0x3fff))
			return TG_EBAD;
		proto = pkt[9];
	} else {
		return TG_EBAD;
	}
	if (gt == TG_GSO_TCPV4 && !v6 && proto == 6)
		;
	else if (gt == TG_GSO_TCPV6 && v6 && proto == 6)
		;
	else if (gt == TG_GSO_UDP_L4 && proto == 17)
		;
	else
		return TG_EBAD;
	if (proto == 6) {
		if (n < ihl + 20)
			return TG_EBAD;
		l4h = (size_t)(pkt[ihl + 12] >> 4) * 4;
		if (l4h < 20 || n < ihl + l4h)
			return TG_EBAD;
	} else {
		l4h = 8;
		if (n < ihl + l4h)
			return TG_EBAD;
	}
	hlen = ihl + l4h;
	payload = n - hlen;
	mss = h->gso_size;
	if (!mss || hlen >= mtu)
		return TG_EBAD;
	if (hlen + mss > mtu) {
		/* TCP can be cut finer than the kernel asked; a UDP datagram
		 * boundary belongs to the application. */
		if (proto != 6)
			return TG_ETOOLONG;
		mss = mtu - hlen;
	}
	id0 = rd16(pkt + 4);
	seq0 = proto == 6 ? rd32(pkt + ihl + 4) : 0;
	off = 0;
	do {
		size_t len = payload - off < mss ? payload - off : mss;
		int last = off + len >= payload;
		uint8_t *d = sink->get(sink->arg, hlen + len);
		uint8_t *l4;
		uint16_t c;

		if (!d)
			return TG_ENOBUF;
		memcpy(d, pkt, hlen);
		memcpy(d + hlen, pkt + hlen + off, len);
		l4 = d + ihl;
		if (v6)
			wr16(d + 4, (uint16_t)(l4h + len));
		else
			ip4_fix(d, ihl, hlen + len, (uint16_t)(id0 + count));
		if (proto == 6) {
			wr32(l4 + 4, seq0 + (uint32_t)off);
			if (!last)
				l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (count)
				l4[13] &= (uint8_t)~TCP_CWR;
			wr16(l4 + 16, 0);
			c = (uint16_t)~tg_csum_fold(tg_csum_add(tg_pseudo(d, 6, (uint32_t)(l4h + len)), l4,
								 l4h + len));
			wr16(l4 + 16, c);
		} else {
			wr16(l4 + 4, (uint16_t)(8 + len));
			wr16(l4 + 6, 0);
			c = (uint16_t)~tg_csum_fold(tg_csum_add(tg_pseudo(d, 17, (uint32_t)(8 + len)), l4,
								 8 + len));
			/* 0 means "no checksum" in UDP: send its other form. */
			wr16(l4 + 6, c ? c : 0xffff);
		}
		sink->put(sink->arg, d, hlen + len);
		count++;
		off += len;
	} while (off < payload);
	return count;
}
