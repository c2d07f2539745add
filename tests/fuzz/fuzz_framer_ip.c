/*
 * fuzz_framer_ip.c — libFuzzer target for the framer-ip transform.
 *
 * The input is a hostile byte stream from the peer, cut into chunks at
 * places the input itself chooses:
 *     byte 0: bits 0-2 number of cuts, bit 3 one batch vs one call per
 *             chunk, bits 4-5 max_packet (65535, 1500, 68, 65535)
 *     then one byte per cut: the chunk's length (the last chunk is the rest)
 *     then the stream.
 * The framer's output is compared with a one-pass reference parser run on
 * the whole stream: the same packets, byte for byte, whatever the cuts; an
 * abort exactly when the reference finds garbage; a pending packet exactly
 * when the stream stops inside one.  Every packet must also be a whole IP
 * packet whose length field equals its buffer length, and must pass back
 * down unchanged.  Any broken expectation abort()s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_CHUNKS 8

static const char *const fz_configs[] = {
	"max_packet = 65535;", "max_packet = 1500;", "max_packet = 68;", NULL,
};
static const uint32_t fz_max[] = { 65535, 1500, 68, 65535 };

/* One instance kept for the whole run only to keep the plugin loaded:
 * every per-input harness has its own loader, and if the last one
 * dlclose()d the instrumented module, libFuzzer would read coverage
 * counters from unmapped memory. */
static struct tp_harness *fz_pin;

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_framer_ip: %s (input of %zu bytes)\n", what, size);
	abort();
}

/* Reference: length of the packet at p (n bytes left), 0 if the stream
 * stops before its length is known, -1 for garbage. */
static long ref_length(const uint8_t *p, size_t n, uint32_t max)
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
	return total > max ? -1 : (long)total;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "fuzz" };
	struct tp_batch q = TP_BATCH_INIT;
	const uint8_t *stream, *ref;
	size_t len, cut[FZ_MAX_CHUNKS], ncut, off, left, i, npkt = 0;
	struct tp_harness *h;
	struct tp_buf *b;
	uint32_t max;
	int garbage = 0, pending = 0, batch;
	long l;

	if (size < 1)
		return 0;
	ncut = data[0] & 7;
	batch = data[0] >> 3 & 1;
	max = fz_max[data[0] >> 4 & 3];
	if (size < 1 + ncut)
		return 0;
	for (i = 0; i < ncut; i++)
		cut[i] = data[1 + i];
	stream = data + 1 + ncut;
	len = size - 1 - ncut;

	/* A fresh instance per input: framer state (pending packet, the dead
	 * flag after an abort) must not leak between inputs. */
	if (!fz_pin)
		fz_pin = tp_harness_new("framer-ip", NULL);
	h = tp_harness_new("framer-ip", fz_configs[data[0] >> 4 & 3]);
	if (!h || !fz_pin) {
		fprintf(stderr, "fuzz_framer_ip: cannot load framer-ip (is TUNPIPE_PLUGIN_PATH "
				"set to the build tree's plugins/?): %s\n", tp_harness_last_error());
		exit(1);
	}

	/* Feed the stream in ncut + 1 chunks (some may be empty). */
	for (off = 0, i = 0; i <= ncut; i++) {
		size_t n = i < ncut ? cut[i] : len - off;

		if (n > len - off)
			n = len - off;
		if (batch)
			tp_batch_add(&q, tp_harness_buf(h, stream + off, n));
		else
			tp_harness_push_up(h, stream + off, n);
		off += n;
	}
	if (batch) {
		tp_harness_push_up_batch(h, &q);
		if (tp_harness_batches_up(h) > 1)
			fz_fail("one up() call emitted several batches", size);
	}

	/* Compare with the reference, packet by packet. */
	for (ref = stream, left = len; left > 0;) {
		l = ref_length(ref, left, max);
		if (l < 0) {
			garbage = 1;
			break;
		}
		if (l == 0 || (size_t)l > left) {
			pending = 1;
			break;
		}
		b = tp_harness_pull_up(h);
		if (!b)
			fz_fail("a packet of the stream was not emitted", size);
		if (!whole_ip(b) || b->len > max)
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
		ref += l;
		left -= (size_t)l;
		npkt++;
	}
	if (tp_harness_queued_up(h) || tp_harness_queued_down(h))
		fz_fail("emitted more than the stream holds", size);
	if (tp_harness_aborts(h) != garbage)
		fz_fail(garbage ? "garbage did not abort the session" : "spurious abort", size);
	if (tp_harness_counter(h, "up_packets") != npkt)
		fz_fail("up_packets disagrees", size);

	/* The whole input as one packet going down: sent iff plausible. */
	tp_harness_push_down(h, data, size);
	b = tp_harness_pull_down(h);
	l = ref_length(data, size, max);
	if ((b != NULL) != (l > 0 && (size_t)l == size))
		fz_fail("down() let garbage through or dropped a good packet", size);
	if (b)
		tp_harness_buf_free(h, b);

	tp_harness_event(h, &down);
	if (tp_harness_counter(h, "truncated") != (uint64_t)(pending && !garbage))
		fz_fail("truncated disagrees with the stream's end", size);
	if (tp_harness_outstanding(h) != 0)
		fz_fail("pool buffers leaked", size);
	tp_harness_free(h);
	return 0;
}
