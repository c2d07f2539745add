/* SPDX-License-Identifier: MIT */
/*
 * fuzz_offload.c — libFuzzer target for what a TUN with offloads hands the
 * tun plugin: a virtio_net_hdr and a (super-)packet, parsed and split by
 * tg_segment() (pure code, compiled in directly, no plugin load).
 *
 * Input: byte 0 picks the MTU, bytes 1..10 are the virtio_net_hdr, the
 * rest is the packet.  Checked on every input:
 *  - no segment is larger than the MTU or than what the sink was asked for;
 *  - a segment of a TCP/UDP super-packet carries valid IPv4 header and L4
 *    checksums (checked here with a plain 16-bit sum, not gso.c's);
 *  - a packet without a gso type or NEEDS_CSUM comes out byte for byte;
 *  - the first segments fed back to the coalescer (gro.c) never make a
 *    super-packet longer than the input.
 * Any broken expectation abort()s, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gro.h"
#include "gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_KEEP 64

static uint8_t fz_seg[FZ_KEEP][65536 + 64];
static uint8_t fz_scratch[65536 + 64];
static size_t fz_len[FZ_KEEP];
static size_t fz_n, fz_need;
static uint32_t fz_mtu;
static int fz_check_l4;

static void fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_offload: %s\n", what);
	abort();
}

static uint32_t fz_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static int fz_l4_ok(const uint8_t *p, size_t n)
{
	size_t ihl = (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40;
	uint8_t proto = (p[0] >> 4) == 4 ? p[9] : p[6];
	uint8_t ph[40] = { 0 };
	uint32_t s;

	if ((p[0] >> 4) == 4) {
		memcpy(ph, p + 12, 8);
		ph[9] = proto;
		ph[10] = (uint8_t)((n - ihl) >> 8);
		ph[11] = (uint8_t)(n - ihl);
		s = fz_sum(ph, 12);
		if (fz_sum(p, ihl) != 0xffff)
			return 0;
	} else {
		memcpy(ph, p + 8, 32);
		ph[34] = (uint8_t)((n - ihl) >> 8);
		ph[35] = (uint8_t)(n - ihl);
		ph[39] = proto;
		s = fz_sum(ph, 40);
	}
	s += fz_sum(p + ihl, n - ihl);
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static uint8_t *fz_get(void *arg, size_t need)
{
	(void)arg;
	if (need > fz_mtu)
		fz_fail("segment over the MTU requested");
	fz_need = need;
	return fz_n < FZ_KEEP ? fz_seg[fz_n] : fz_scratch;
}

static void fz_put(void *arg, uint8_t *p, size_t len)
{
	(void)arg;
	if (len > fz_need || len > fz_mtu)
		fz_fail("segment longer than its room or the MTU");
	if (fz_check_l4 && !fz_l4_ok(p, len))
		fz_fail("segment with a bad checksum");
	if (fz_n < FZ_KEEP)
		fz_len[fz_n] = len;
	fz_n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tg_sink sink = { fz_get, fz_put, NULL };
	struct tg_vnet_hdr h;
	const uint8_t *pkt;
	size_t n, i;
	int r;

	if (size < 1 + TG_VNET_HDR_LEN)
		return 0;
	fz_mtu = 68 + (uint32_t)data[0] * 8;
	tg_vnet_read(data + 1, &h);
	pkt = data + 1 + TG_VNET_HDR_LEN;
	n = size - 1 - TG_VNET_HDR_LEN;
	if (n > 65535)
		return 0;
	fz_n = 0;
	fz_check_l4 = (h.gso_type & 0x7f) != TG_GSO_NONE;
	r = tg_segment(&h, pkt, n, fz_mtu, &sink);
	if (r >= 0 && (size_t)r != fz_n)
		fz_fail("count returned differs from segments put");
	if (r == 1 && !fz_check_l4 && !(h.flags & TG_F_NEEDS_CSUM) &&
	    (fz_len[0] != n || memcmp(fz_seg[0], pkt, n)))
		fz_fail("a plain packet was changed");
	if (r > 1) {
		struct tg_gro g;
		uint8_t hdr[TG_GRO_HDR_MAX];
		size_t total = 0;

		if (tg_gro_start(&g, fz_seg[0], fz_len[0])) {
			for (i = 1; i < (size_t)r && i < FZ_KEEP && tg_gro_add(&g, fz_seg[i], fz_len[i]); i++)
				;
			if (g.count > 1) {
				total = tg_gro_header(&g, hdr, &h) + g.total;
				if (total > n)
					fz_fail("coalesced longer than the original");
			}
		}
	}
	return 0;
}
