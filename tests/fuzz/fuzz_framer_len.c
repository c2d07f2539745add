/* SPDX-License-Identifier: MIT */
/*
 * fuzz_framer_len.c — libFuzzer target for the framer-len transform, on
 * the shared skeleton (fuzz_framer.h: input layout and checks).  `sel` bit
 * 0 picks the width (2 or 4), bits 1-2 max_frame (table below).  Each
 * payload is sent back down and must come out as the very bytes of the
 * stream (prefix in headroom, payload untouched).
 */
#include <string.h>

#include "fuzz_framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [width 2 or 4][max_frame choice] */
static const char *const flen_configs[2][4] = {
	{ "width = 2; max_frame = 65535;", "width = 2; max_frame = 100;",
	  "width = 2; max_frame = 1;", "width = 2; max_frame = 300;" },
	{ "width = 4; max_frame = 16777216;", "width = 4; max_frame = 100;",
	  "width = 4; max_frame = 1;", "width = 4; max_frame = 70000;" },
};
static const uint32_t flen_max[2][4] = { { 65535, 100, 1, 300 }, { 16777216, 100, 1, 70000 } };

#define W(sel) ((sel) & 1 ? 4u : 2u)
#define MAX(sel) flen_max[(sel) & 1][(sel) >> 1 & 3]

static const char *flen_config(unsigned sel)
{
	return flen_configs[sel & 1][sel >> 1 & 3];
}

static long flen_ref_len(const uint8_t *p, size_t n, unsigned sel)
{
	uint32_t plen = 0, i;

	if (n < W(sel))
		return 0;
	for (i = 0; i < W(sel); i++)
		plen = plen << 8 | p[i];
	if (plen == 0 || plen > MAX(sel))
		return -1;
	return (long)(W(sel) + plen);
}

static void flen_check_frame(struct tp_harness *h, struct tp_buf *b, const uint8_t *ref, long l,
			     unsigned sel, size_t size)
{
	struct tp_batch q = TP_BATCH_INIT;
	uint32_t w = W(sel), plen = (uint32_t)l - w;
	struct tp_buf *o;
	uint8_t *payload;

	if (b->len != plen || memcmp(b->data, ref + w, plen))
		fz_fail("emitted payload differs from the stream", size);
	tp_harness_buf_free(h, b);
	/* the payload goes down with its prefix written into the headroom */
	b = tp_harness_buf(h, ref + w, plen);
	payload = b->data;
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(h, &q);
	if (!(o = tp_harness_pull_down(h)))
		fz_fail("a payload we received was not sent back down", size);
	if (o != b || o->data != payload - w)
		fz_fail("the prefix was not written into headroom", size);
	if (o->len != (uint32_t)l || memcmp(o->data, ref, (size_t)l))
		fz_fail("the framed payload differs from the stream's frame", size);
	tp_harness_buf_free(h, o);
}

/* Sent iff it fits max_frame. */
static int flen_down_ok(const uint8_t *data, size_t size, unsigned sel)
{
	(void)data;
	return size <= MAX(sel);
}

static const struct fz_framer flen_fuzz = {
	.plugin = "framer-len", .up_counter = "up_frames", .config = flen_config,
	.ref_len = flen_ref_len, .check_frame = flen_check_frame, .down_ok = flen_down_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_framer_run(&flen_fuzz, data, size);
}
