/* SPDX-License-Identifier: MIT */
/*
 * fuzz_superpkt.c — libFuzzer target for the super-packet parsing of
 * ABI 1.2.  The first byte picks what: odd, the Simple-VPN-Offload header
 * value (th_offload_parse: the answer is -1, 0 or 1, and 1 only when the
 * value names "tso"); even, a framer-ip stream (bit 1 clear) or a
 * framer-len stream of width 2 (bit 1 set) on a session that agreed
 * (TP_SI_SUPER), cut in two at a place the second byte picks.  Every
 * buffer that comes up is either a plain frame (framer-ip: a whole IP
 * packet) or a super-packet whose metadata is sane (gso_size >= 64 with a
 * type, offsets inside the packet, the IP version matching the type), and
 * sent back down it must give exactly the stream's bytes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "svpn-offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tp_harness *pin[2]; /* keep the plugins loaded (fuzz_framer.c says why) */

static void fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz superpkt: %s (input of %zu bytes)\n", what, size);
	abort();
}

static void header(const uint8_t *data, size_t size)
{
	char v[TH_OFFLOAD_MAX + 40];
	size_t n = size < sizeof(v) - 1 ? size : sizeof(v) - 1;
	int r;

	memcpy(v, data, n);
	v[n] = '\0';
	r = th_offload_parse(v);
	if (r < -1 || r > 1)
		fail("th_offload_parse answered outside -1..1", size);
	for (size_t i = 0; i < n; i++) /* a lower-case copy for strstr */
		if (v[i] >= 'A' && v[i] <= 'Z')
			v[i] = (char)(v[i] - 'A' + 'a');
	if (r == 1 && !strstr(v, TH_OFFLOAD_TOKEN))
		fail("an offer accepted without the token", size);
}

static int sane(const struct tp_buf *b)
{
	const struct tp_offload *o = &b->off;
	unsigned ver = b->data[0] >> 4;

	if (o->gso_type > TP_GSO_UDP || (o->flags & ~TP_OFF_KNOWN_FLAGS))
		return 0;
	if (o->gso_type == TP_GSO_NONE ? o->gso_size != 0 || !(o->flags & TP_OFF_NEEDS_CSUM)
				       : o->gso_size < 64 || o->hdr_len >= b->len)
		return 0;
	if ((o->flags & TP_OFF_NEEDS_CSUM) && (size_t)o->csum_start + o->csum_offset + 2 > b->len)
		return 0;
	if ((o->gso_type == TP_GSO_TCP4 && ver != 4) || (o->gso_type == TP_GSO_TCP6 && ver != 6))
		return 0;
	/* the checksum only where a kernel puts it: never over the addresses */
	if (!tp_offload_canonical(o, b->data, b->len))
		return 0;
	return ver == 4 || ver == 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_session_info info = { .size = sizeof(info), .flags = TP_SI_SUPER };
	struct tp_event up = { .type = TP_EV_SESSION_UP, .info = &info };
	struct tp_harness *h;
	struct tp_buf *b, *d;
	size_t cut, off = 0, prefix;
	const char *plugin;
	int len;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		header(data + 1, size - 1);
		return 0;
	}
	len = (data[0] >> 1) & 1;
	plugin = len ? "framer-len" : "framer-ip";
	prefix = len ? 2 : 0;
	if (!pin[len])
		pin[len] = tp_harness_new(plugin, NULL);
	h = tp_harness_new(plugin, NULL);
	if (!h || !pin[len]) {
		fprintf(stderr, "fuzz: cannot load %s (TUNPIPE_PLUGIN_PATH?): %s\n", plugin,
			tp_harness_last_error());
		exit(1);
	}
	tp_harness_event(h, &up);
	tp_harness_accept_super(h, 1);
	data += 2;
	size -= 2;
	cut = size ? data[-1] * size / 256 : 0;
	tp_harness_push_up(h, data, cut);
	tp_harness_push_up(h, data + cut, size - cut);
	while ((b = tp_harness_pull_up(h))) {
		int super = tp_buf_is_super(b);
		size_t n = prefix + b->len + (super ? 16 : 0);
		struct tp_batch q = TP_BATCH_INIT;

		if ((!len || super) && b->len < 20)
			fail("a packet of fewer than 20 bytes came up", size);
		if (super && !sane(b))
			fail("a buffer came up that is neither a packet nor a sane super-packet", size);
		if (off + n > size)
			fail("more came up than went in", size);
		d = tp_harness_buf(h, b->data, b->len);
		d->off = b->off;
		tp_harness_buf_free(h, b);
		tp_batch_add(&q, d);
		tp_harness_push_down_batch(h, &q);
		d = tp_harness_pull_down(h);
		if (!d || d->len != n || memcmp(d->data, data + off, n))
			fail("what came up does not go back down as the same bytes", size);
		tp_harness_buf_free(h, d);
		off += n;
	}
	tp_harness_free(h);
	return 0;
}
