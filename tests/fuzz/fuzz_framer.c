/* SPDX-License-Identifier: MIT */
/*
 * fuzz_framer.c — the skeleton of the framer fuzz targets (fuzz_framer.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_framer.h"

#define FZ_MAX_CHUNKS 8

static const struct fz_framer *fz_cur;

/* One instance kept for the whole run only to keep the plugin loaded:
 * every per-input harness has its own loader, and if the last one
 * dlclose()d the instrumented module, libFuzzer would read coverage
 * counters from unmapped memory. */
static struct tp_harness *fz_pin;

void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz %s: %s (input of %zu bytes)\n", fz_cur->plugin, what, size);
	abort();
}

static struct tp_harness *fz_instance(const struct fz_framer *fz, unsigned sel)
{
	struct tp_harness *h;

	if (!fz_pin)
		fz_pin = tp_harness_new(fz->plugin, NULL);
	h = tp_harness_new(fz->plugin, fz->config(sel));
	if (!h || !fz_pin) {
		fprintf(stderr, "fuzz: cannot load %s (is TUNPIPE_PLUGIN_PATH set to the build "
			"tree's plugins/?): %s\n", fz->plugin, tp_harness_last_error());
		exit(1);
	}
	return h;
}

/* Feed stream[0..len) in ncut + 1 chunks (some may be empty), as one batch
 * or one up() call each. */
static void fz_feed(struct tp_harness *h, const uint8_t *stream, size_t len, const size_t *cut,
		    size_t ncut, int batch, size_t size)
{
	struct tp_batch q = TP_BATCH_INIT;
	size_t off, i, n;

	for (off = 0, i = 0; i <= ncut; i++) {
		n = i < ncut ? cut[i] : len - off;
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
}

int fz_framer_run(const struct fz_framer *fz, const uint8_t *data, size_t size)
{
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "fuzz" };
	size_t cut[FZ_MAX_CHUNKS], ncut, len, left, i, nframes = 0;
	const uint8_t *stream, *ref;
	struct tp_harness *h;
	struct tp_buf *b;
	int garbage = 0, pending = 0;
	unsigned sel;
	long l;

	fz_cur = fz;
	if (size < 1)
		return 0;
	ncut = data[0] & 7;
	sel = data[0] >> 4;
	if (size < 1 + ncut)
		return 0;
	for (i = 0; i < ncut; i++)
		cut[i] = data[1 + i];
	stream = data + 1 + ncut;
	len = size - 1 - ncut;

	/* A fresh instance per input: framer state (the pending frame, the
	 * dead flag after an abort) must not leak between inputs. */
	h = fz_instance(fz, sel);
	fz_feed(h, stream, len, cut, ncut, data[0] >> 3 & 1, size);

	for (ref = stream, left = len; left > 0; ref += l, left -= (size_t)l, nframes++) {
		l = fz->ref_len(ref, left, sel);
		if (l < 0) {
			garbage = 1;
			break;
		}
		if (l == 0 || (size_t)l > left) {
			pending = 1;
			break;
		}
		if (!(b = tp_harness_pull_up(h)))
			fz_fail("a frame of the stream was not emitted", size);
		fz->check_frame(h, b, ref, l, sel, size);
	}
	if (tp_harness_queued_up(h) || tp_harness_queued_down(h))
		fz_fail("emitted more than the stream holds", size);
	if (tp_harness_aborts(h) != garbage)
		fz_fail(garbage ? "garbage did not abort the session" : "spurious abort", size);
	if (tp_harness_counter(h, fz->up_counter) != nframes)
		fz_fail("the up counter disagrees", size);

	/* The whole input as one message going down. */
	tp_harness_push_down(h, data, size);
	b = tp_harness_pull_down(h);
	if ((b != NULL) != (fz->down_ok(data, size, sel) != 0))
		fz_fail("down() let garbage through or dropped a good message", size);
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
