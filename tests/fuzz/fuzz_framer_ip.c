/* SPDX-License-Identifier: MIT */
/*
 * fuzz_framer_ip.c — libFuzzer target for the framer-ip transform, on the
 * shared skeleton (fuzz_framer.h: input layout and checks).  `sel` bits
 * 0-1 pick max_packet (65535, 1500, 68, default).  Every frame must also be
 * a whole IP packet whose length field equals its buffer length, and must
 * pass back down unchanged.
 */
#include <string.h>

#include "fuzz_framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fip_configs[] = {
	"max_packet = 65535;", "max_packet = 1500;", "max_packet = 68;", NULL,
};
static const uint32_t fip_max[] = { 65535, 1500, 68, 65535 };

static const char *fip_config(unsigned sel)
{
	return fip_configs[sel & 3];
}

static long fip_ref_len(const uint8_t *p, size_t n, unsigned sel)
{
	uint32_t ihl, total;

	if (n < 1)
		return 0;
	if (p[0] >> 4 == 4) {
		if (n < 4)
			return 0;
		ihl = (p[0] & 15u) * 4;
		total = (uint32_t)p[2] << 8 | p[3];
		if (ihl < 20 || total < 20 || ihl > total)
			return -1;
	} else if (p[0] >> 4 == 6) {
		if (n < 6)
			return 0;
		total = ((uint32_t)p[4] << 8 | p[5]) + 40;
	} else {
		return -1;
	}
	return total > fip_max[sel & 3] ? -1 : (long)total;
}

/* Is b a whole IP packet whose length field matches its buffer? */
static int whole_ip(const struct tp_buf *b)
{
	const uint8_t *p = b->data;

	if (b->len < 20)
		return 0;
	if (p[0] >> 4 == 4)
		return ((uint32_t)p[2] << 8 | p[3]) == b->len && (p[0] & 15u) * 4 >= 20 &&
		       (p[0] & 15u) * 4 <= b->len;
	if (p[0] >> 4 == 6)
		return b->len >= 40 && ((uint32_t)p[4] << 8 | p[5]) + 40 == b->len;
	return 0;
}

static void fip_check_frame(struct tp_harness *h, struct tp_buf *b, const uint8_t *ref, long l,
			    unsigned sel, size_t size)
{
	if (!whole_ip(b) || b->len > fip_max[sel & 3])
		fz_fail("emitted something that is not one whole IP packet", size);
	if (b->len != (size_t)l || memcmp(b->data, ref, (size_t)l))
		fz_fail("emitted packet differs from the stream", size);
	/* what came up must go back down untouched */
	tp_harness_push_down(h, b->data, b->len);
	tp_harness_buf_free(h, b);
	b = tp_harness_pull_down(h);
	if (!b || b->len != (size_t)l || memcmp(b->data, ref, (size_t)l))
		fz_fail("a received packet does not pass down unchanged", size);
	tp_harness_buf_free(h, b);
}

/* Sent iff it is one plausible packet. */
static int fip_down_ok(const uint8_t *data, size_t size, unsigned sel)
{
	long l = fip_ref_len(data, size, sel);

	return l > 0 && (size_t)l == size;
}

static const struct fz_framer fip_fuzz = {
	.plugin = "framer-ip", .up_counter = "up_packets", .config = fip_config,
	.ref_len = fip_ref_len, .check_frame = fip_check_frame, .down_ok = fip_down_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_framer_run(&fip_fuzz, data, size);
}
