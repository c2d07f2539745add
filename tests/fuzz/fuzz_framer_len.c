/*
 * fuzz_framer_len.c — libFuzzer target for the framer-len transform.
 *
 * The input is a hostile byte stream from the peer, cut into chunks at
 * places the input itself chooses:
 *     byte 0: bits 0-2 number of cuts, bit 3 one batch vs one call per
 *             chunk, bit 4 width (2 or 4), bits 5-6 max_frame (table below)
 *     then one byte per cut: the chunk's length (the last chunk is the rest)
 *     then the stream.
 * The framer's output is compared with a one-pass reference parser run on
 * the whole stream: the same payloads whatever the cuts; an abort exactly
 * when the reference meets a zero or oversized length; `truncated` at
 * session end exactly when the stream stops inside a frame.  Each payload
 * is then sent back down and must come out as the very bytes of the stream
 * (prefix in headroom, payload untouched).  Any broken expectation abort()s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_CHUNKS 8

/* [width 2 or 4][bits 5-6] */
static const char *const fz_configs[2][4] = {
	{ "width = 2; max_frame = 65535;", "width = 2; max_frame = 100;",
	  "width = 2; max_frame = 1;", "width = 2; max_frame = 300;" },
	{ "width = 4; max_frame = 16777216;", "width = 4; max_frame = 100;",
	  "width = 4; max_frame = 1;", "width = 4; max_frame = 70000;" },
};
static const uint32_t fz_max[2][4] = { { 65535, 100, 1, 300 }, { 16777216, 100, 1, 70000 } };

/* One instance kept for the whole run only to keep the plugin loaded:
 * every per-input harness has its own loader, and if the last one
 * dlclose()d the instrumented module, libFuzzer would read coverage
 * counters from unmapped memory. */
static struct tp_harness *fz_pin;

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_framer_len: %s (input of %zu bytes)\n", what, size);
	abort();
}

static uint32_t get_be(const uint8_t *p, unsigned w)
{
	uint32_t v = 0;

	while (w--)
		v = v << 8 | *p++;
	return v;
}

/* Send one payload down and check the framed bytes against the stream. */
static void fz_down(struct tp_harness *h, const uint8_t *frame, unsigned w, uint32_t plen,
		    size_t size)
{
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b = tp_harness_buf(h, frame + w, plen), *o;
	uint8_t *payload = b->data;

	tp_batch_add(&q, b);
	tp_harness_push_down_batch(h, &q);
	o = tp_harness_pull_down(h);
	if (!o)
		fz_fail("a payload we received was not sent back down", size);
	if (o != b || o->data != payload - w)
		fz_fail("the prefix was not written into headroom", size);
	if (o->len != w + plen || memcmp(o->data, frame, w + plen))
		fz_fail("the framed payload differs from the stream's frame", size);
	tp_harness_buf_free(h, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "fuzz" };
	struct tp_batch q = TP_BATCH_INIT;
	const uint8_t *stream, *ref;
	size_t len, cut[FZ_MAX_CHUNKS], ncut, off, left, i, nframes = 0;
	struct tp_harness *h;
	struct tp_buf *b;
	unsigned w, wi, mi;
	uint32_t max, plen;
	int garbage = 0, pending = 0, batch;

	if (size < 1)
		return 0;
	ncut = data[0] & 7;
	batch = data[0] >> 3 & 1;
	wi = data[0] >> 4 & 1;
	mi = data[0] >> 5 & 3;
	w = wi ? 4 : 2;
	max = fz_max[wi][mi];
	if (size < 1 + ncut)
		return 0;
	for (i = 0; i < ncut; i++)
		cut[i] = data[1 + i];
	stream = data + 1 + ncut;
	len = size - 1 - ncut;

	/* A fresh instance per input: the pending frame and the dead flag
	 * after an abort must not leak between inputs. */
	if (!fz_pin)
		fz_pin = tp_harness_new("framer-len", NULL);
	h = tp_harness_new("framer-len", fz_configs[wi][mi]);
	if (!h || !fz_pin) {
		fprintf(stderr, "fuzz_framer_len: cannot load framer-len (is TUNPIPE_PLUGIN_PATH "
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

	/* Compare with the reference, frame by frame. */
	for (ref = stream, left = len; left > 0;) {
		if (left < w) {
			pending = 1;
			break;
		}
		plen = get_be(ref, w);
		if (plen == 0 || plen > max) {
			garbage = 1;
			break;
		}
		if (plen > left - w) {
			pending = 1;
			break;
		}
		b = tp_harness_pull_up(h);
		if (!b)
			fz_fail("a frame of the stream was not emitted", size);
		if (b->len != plen || memcmp(b->data, ref + w, plen))
			fz_fail("emitted payload differs from the stream", size);
		tp_harness_buf_free(h, b);
		fz_down(h, ref, w, plen, size);
		ref += w + plen;
		left -= w + plen;
		nframes++;
	}
	if (tp_harness_queued_up(h) || tp_harness_queued_down(h))
		fz_fail("emitted more than the stream holds", size);
	if (tp_harness_aborts(h) != garbage)
		fz_fail(garbage ? "a bad length did not abort the session" : "spurious abort", size);
	if (tp_harness_counter(h, "up_frames") != nframes)
		fz_fail("up_frames disagrees", size);

	/* The whole input as one message going down: sent iff it fits. */
	tp_harness_push_down(h, data, size);
	b = tp_harness_pull_down(h);
	if ((b != NULL) != (size <= max))
		fz_fail("down() sent an oversized message or dropped a good one", size);
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
