/* SPDX-License-Identifier: MIT */
/*
 * fuzz_lz4.c — libFuzzer target for the compress-lz4 transform.
 *
 * Each input is used twice:
 *  1. as a message from a hostile peer, fed to up(): whatever comes out
 *     must fit in max_size, nothing may crash or leak;
 *  2. as a packet of ours, round-tripped down() then up(): it must come
 *     back byte for byte (that checks the encoder, the marker logic and
 *     the decoder against each other on shapes no unit test thought of);
 *  3. that compressed message with one byte flipped and its tail cut, fed
 *     up again: near-valid blocks reach deep into the LZ4 decoder, which
 *     random bytes rarely do (liblz4 itself is not instrumented, so the
 *     fuzzer cannot find its way in there by coverage alone).
 * The first input byte picks the configuration (fast or HC, entropy
 * shortcut on or off) so both compressors get fuzzed by one target.
 *
 * Any broken expectation abort()s, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define FZ_MAX_SIZE 65535

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fz_configs[] = {
	"min_size = 0; skip_entropy = false; max_size = 65535;",
	"min_size = 0; skip_entropy = true; max_size = 65535; level = 8;",
	"min_size = 0; skip_entropy = false; max_size = 65535; hc = true; hc_level = 9;",
	"min_size = 32; max_size = 65535; hc = true; hc_level = 12;",
};
#define FZ_NCONFIGS (sizeof(fz_configs) / sizeof(fz_configs[0]))

/* Harnesses live for the whole run: creating one per input would spend the
 * time in dlopen() and option parsing instead of in the plugin. */
static struct tp_harness *fz_h[FZ_NCONFIGS];
static uint8_t fz_frame[FZ_MAX_SIZE + 2];

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_lz4: %s (input of %zu bytes)\n", what, size);
	abort();
}

static struct tp_harness *fz_get(unsigned i)
{
	if (!fz_h[i]) {
		fz_h[i] = tp_harness_new("compress-lz4", fz_configs[i]);
		if (!fz_h[i]) {
			fprintf(stderr, "fuzz_lz4: cannot load compress-lz4 (is TUNPIPE_PLUGIN_PATH "
					"set to the build tree's plugins/?): %s\n",
				tp_harness_last_error());
			exit(1);
		}
	}
	return fz_h[i];
}

/* Load the plugin before fuzzing starts, so libFuzzer registers its
 * coverage counters with the modules it knows from the start. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < FZ_NCONFIGS; i++)
		fz_get(i);
	return 0;
}

/* Free everything the stage emitted up; check sizes on the way. */
static size_t fz_drain_up(struct tp_harness *h, size_t size)
{
	struct tp_buf *b;
	size_t n = 0;

	while ((b = tp_harness_pull_up(h))) {
		if (b->len > FZ_MAX_SIZE)
			fz_fail("up() emitted more than max_size", size);
		tp_harness_buf_free(h, b);
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_harness *h;
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *wire, *back;
	size_t fz_len;

	if (size == 0)
		return 0;
	h = fz_get(data[0] % FZ_NCONFIGS);

	/* 1: hostile input on the network side (the whole input, marker and
	 * all, so libFuzzer can find the interesting markers). */
	tp_harness_push_up(h, data, size);
	if (fz_drain_up(h, size) > 1)
		fz_fail("one message in, several out", size);

	/* 2: round trip of the rest of the input as a packet. */
	data++;
	size--;
	if (size > FZ_MAX_SIZE)
		return 0; /* the peer would rightly refuse it */
	tp_harness_push_down(h, data, size);
	if (tp_harness_queued_down(h) != 1)
		fz_fail("down() did not emit exactly one message", size);
	wire = tp_harness_pull_down(h);
	if (wire->len < 1 || wire->len > size + 1 || wire->data[0] > 1)
		fz_fail("bad message on the wire", size);
	fz_len = wire->len;
	memcpy(fz_frame, wire->data, fz_len);
	tp_batch_add(&q, wire);
	tp_harness_push_up_batch(h, &q);
	back = tp_harness_pull_up(h);
	if (!back)
		fz_fail("our own message was dropped on the way up", size);
	if (back->len != size || memcmp(back->data, data, size) != 0)
		fz_fail("round trip changed the packet", size);
	tp_harness_buf_free(h, back);
	if (tp_harness_queued_up(h) || tp_harness_queued_down(h))
		fz_fail("stray output", size);

	/* 3: damage our own compressed message, the input choosing where. */
	if (fz_len > 2 && fz_frame[0] == 1 && size >= 2) {
		size_t at = 1 + (data[0] | (size_t)data[size - 1] << 8) % (fz_len - 1);
		size_t keep = fz_len - (data[1] % 4);

		fz_frame[at] ^= (uint8_t)(data[size / 2] | 1);
		tp_harness_push_up(h, fz_frame, keep);
		fz_drain_up(h, size);
	}

	if (tp_harness_outstanding(h) != 0)
		fz_fail("pool buffers leaked", size);
	return 0;
}
