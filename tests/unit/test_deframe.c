/* SPDX-License-Identifier: MIT */
/*
 * test_deframe.c — the core's stream reassembly (core/deframe.c) alone,
 * driven through the harness's host as a framer would drive it: the stage
 * is a tp-count instance the harness made (a pass-through that logs nothing
 * and whose counters have names of their own), the pool is the harness's real
 * core pool, and the harness records every buf_alloc() size, refuses the
 * allocation the test names, captures the log and fails the test on a
 * leaked buffer or a stage handle it never handed out.
 *
 * The toy format (hdr_bytes = 3) has frames shorter than the header, so
 * the deframer's "frame ends inside the header top-up" path is exercised:
 *   'K'                    1 byte
 *   'S' n  <n bytes>       2 + n bytes
 *   'T' hi lo <payload>    3 + (hi << 8 | lo) bytes, at most TOY_MAX
 *   anything else          refused
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deframe.h"
#include "harness.h"

#define TOY_HDR 3
#define TOY_MAX 4000
#define MAX_FRAMES 16

static struct tp_harness *h;
static const struct tp_host *host;
static struct tp_stage *stage;

static int len_calls;     /* toy_len invocations */
static int toy_refusals;  /* toy_len returned -1 */
static int64_t evil_ret;  /* evil_len's answer */

/* A counter of the stage (registered, zeroed, if the deframer did not),
 * through the host as the stage itself would; an lvalue. */
#define counter(name) (*host->counter(stage, (name)))

static size_t outstanding(void)
{
	return tp_harness_outstanding(h);
}

/* The last line the stage logged (without its "level: "), or "". */
static const char *last_log(void)
{
	static char line[512];
	const char *text = tp_harness_log_text(h), *p, *colon;
	size_t n = strlen(text);

	if (n && text[n - 1] == '\n')
		n--;
	for (p = text + n; p > text && p[-1] != '\n'; p--)
		;
	colon = memchr(p, ':', (size_t)(text + n - p));
	if (colon && colon[1] == ' ')
		p = colon + 2;
	snprintf(line, sizeof(line), "%.*s", (int)(text + n - p), p);
	return line;
}

static int nlog_errors(void)
{
	return tp_harness_log_count(h, TP_LOG_ERROR);
}

static void setup(void)
{
	h = tp_harness_new("tp-count", NULL);
	ck_assert_msg(h != NULL, "tp_harness_new(tp-count): %s", tp_harness_last_error());
	host = tp_harness_host(h);
	stage = tp_harness_stage_handle(h, 0);
	len_calls = toy_refusals = 0;
}

static void teardown(void)
{
	tp_harness_free(h); /* fails the test if a buffer leaked */
}

/* ---- the toy format --------------------------------------------------- */

static int64_t toy_len(void *arg, const uint8_t *p, size_t avail)
{
	int64_t len;

	ck_assert_ptr_eq(arg, stage);
	len_calls++;
	/* the contract: at least min(hdr_bytes, what the stream has) */
	ck_assert_uint_ge(avail, 1);
	switch (p[0]) {
	case 'K':
		return 1;
	case 'S':
		return avail < 2 ? 0 : 2 + (int64_t)p[1];
	case 'T':
		if (avail < 3)
			return 0;
		len = 3 + ((int64_t)p[1] << 8 | p[2]);
		if (len <= TOY_MAX)
			return len;
		break;
	}
	toy_refusals++;
	return -1;
}

/* A length function that answers whatever the test says. */
static int64_t evil_len(void *arg, const uint8_t *p, size_t avail)
{
	(void)arg, (void)p, (void)avail;
	len_calls++;
	return evil_ret;
}

static uint8_t stream[8192];
static size_t stream_len;
static size_t frame_off[MAX_FRAMES], frame_len[MAX_FRAMES];
static int nframes;

/* Frames shorter than, equal to and longer than the header, in both pool
 * size classes. */
static void build_stream(void)
{
	static const struct { uint8_t type; size_t payload; } spec[] = {
		{ 'K', 0 }, { 'S', 0 }, { 'S', 5 }, { 'T', 0 }, { 'K', 0 }, { 'T', 1 },
		{ 'S', 200 }, { 'T', 2500 }, { 'K', 0 }, { 'T', 300 }, { 'K', 0 },
	};
	uint8_t *p;
	size_t hdr, pay;

	stream_len = 0;
	for (nframes = 0; nframes < (int)(sizeof(spec) / sizeof(spec[0])); nframes++) {
		p = stream + stream_len;
		pay = spec[nframes].payload;
		hdr = spec[nframes].type == 'K' ? 1 : spec[nframes].type == 'S' ? 2 : 3;
		p[0] = spec[nframes].type;
		p[1] = (uint8_t)(hdr == 3 ? pay >> 8 : pay); /* harmless for K */
		p[2] = (uint8_t)pay;
		for (size_t i = 0; i < pay; i++)
			p[hdr + i] = (uint8_t)(nframes * 37 + i * 11 + 5);
		frame_off[nframes] = stream_len;
		frame_len[nframes] = hdr + pay;
		stream_len += hdr + pay;
	}
}

static struct tp_deframer *new_toy(void)
{
	struct tp_deframer *d = host->deframer_new(stage, TOY_HDR, toy_len, stage);

	ck_assert_ptr_nonnull(d);
	return d;
}

static struct tp_buf *chunk(const uint8_t *p, size_t n)
{
	return tp_harness_buf(h, p, n); /* not a stage's buf_alloc: not recorded */
}

/* Feed p[0..n) as one chunk in its own deframe() call. */
static int push(struct tp_deframer *d, const uint8_t *p, size_t n, struct tp_batch *out)
{
	struct tp_batch in = TP_BATCH_INIT;
	int r;

	tp_batch_add(&in, chunk(p, n));
	r = host->deframe(d, &in, out);
	ck_assert_uint_eq(in.count, 0); /* every input buffer consumed */
	ck_assert_ptr_null(in.head);
	return r;
}

#define feed(d, off, n, out) push((d), stream + (off), (n), (out))

/* Feed the whole stream in chunks of `step` bytes, one call each. */
static void feed_steps(struct tp_deframer *d, size_t step, struct tp_batch *out)
{
	for (size_t k = 0; k < stream_len; k += step)
		ck_assert_int_eq(feed(d, k, stream_len - k < step ? stream_len - k : step, out), 0);
}

/* The next frame in `out` is p[0..n); it is freed. */
static void pop_is(struct tp_batch *out, const void *p, size_t n)
{
	struct tp_buf *b = tp_batch_pop(out);

	ck_assert_ptr_nonnull(b);
	ck_assert(b->len == n && !memcmp(b->data, p, n));
	tp_harness_buf_free(h, b);
}

/* `out` must hold exactly frames first..first+n-1 of the stream, byte for
 * byte, except frame `lost` (-1: none); they are freed. */
static void expect_frames(struct tp_batch *out, int first, int n, int lost, size_t ctx)
{
	struct tp_buf *b;
	int want = n - (lost >= first && lost < first + n);

	ck_assert_msg(out->count == (uint32_t)want, "split %zu: %u frames, want %d", ctx,
		      out->count, want);
	for (int i = first; i < first + n; i++) {
		if (i == lost)
			continue;
		b = tp_batch_pop(out);
		ck_assert_msg(b->len == frame_len[i], "split %zu: frame %d has %u bytes, want %zu",
			      ctx, i, b->len, frame_len[i]);
		ck_assert_msg(!memcmp(b->data, stream + frame_off[i], b->len),
			      "split %zu: frame %d differs", ctx, i);
		tp_harness_buf_free(h, b);
	}
}

/* Each frame got a buffer requested at exactly its size, in order. */
static void expect_alloc_sizes(size_t ctx)
{
	const size_t *alloc_len;
	size_t nalloc = tp_harness_allocs(h, &alloc_len);

	ck_assert_msg(nalloc == (size_t)nframes, "split %zu: %zu allocations for %d frames", ctx,
		      nalloc, nframes);
	for (int i = 0; i < nframes; i++)
		ck_assert_msg(alloc_len[i] == frame_len[i],
			      "split %zu: frame %d allocated %zu bytes, want %zu", ctx, i,
			      alloc_len[i], frame_len[i]);
	tp_harness_allocs_clear(h);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(split_everywhere)
{
	struct tp_deframer *d = new_toy();
	struct tp_batch out = TP_BATCH_INIT, in = TP_BATCH_INIT;

	build_stream();
	for (size_t k = 0; k <= stream_len; k++) {
		/* two calls */
		ck_assert_int_eq(feed(d, 0, k, &out), 0);
		ck_assert_int_eq(feed(d, k, stream_len - k, &out), 0);
		expect_frames(&out, 0, nframes, -1, k);
		ck_assert_uint_eq(host->deframer_pending(d), 0);
		expect_alloc_sizes(k);
		/* the same two chunks in one call */
		tp_batch_add(&in, chunk(stream, k));
		tp_batch_add(&in, chunk(stream + k, stream_len - k));
		ck_assert_int_eq(host->deframe(d, &in, &out), 0);
		expect_frames(&out, 0, nframes, -1, k);
		expect_alloc_sizes(k);
		ck_assert_uint_eq(outstanding(), 0);
	}
	ck_assert_uint_eq(counter("nobuf"), 0);
	ck_assert_uint_eq(counter("dropped"), 0);
	host->deframer_free(d);
}
END_TEST

START_TEST(byte_at_a_time)
{
	struct tp_deframer *d = new_toy();
	struct tp_batch out = TP_BATCH_INIT, in = TP_BATCH_INIT;

	build_stream();
	feed_steps(d, 1, &out);
	expect_frames(&out, 0, nframes, -1, 0);
	expect_alloc_sizes(0);
	/* and as one batch of one-byte chunks */
	for (size_t k = 0; k < stream_len; k++)
		tp_batch_add(&in, chunk(stream + k, 1));
	ck_assert_int_eq(host->deframe(d, &in, &out), 0);
	expect_frames(&out, 0, nframes, -1, 0);
	expect_alloc_sizes(0);
	ck_assert_uint_eq(host->deframer_pending(d), 0);
	host->deframer_free(d);
}
END_TEST

/* Many frames in one chunk: one pass, the length function asked once per
 * frame, frames appended in order behind what `out` already holds; empty
 * chunks are harmless. */
START_TEST(frames_per_chunk)
{
	struct tp_deframer *d = new_toy();
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *sentinel = chunk((const uint8_t *)"s", 1);

	build_stream();
	tp_batch_add(&out, sentinel);
	ck_assert_int_eq(feed(d, 0, 0, &out), 0);
	ck_assert_int_eq(feed(d, 0, stream_len, &out), 0);
	ck_assert_int_eq(len_calls, nframes);
	ck_assert_uint_eq(out.bytes, 1 + stream_len);
	ck_assert_ptr_eq(tp_batch_pop(&out), sentinel);
	tp_harness_buf_free(h, sentinel);
	expect_frames(&out, 0, nframes, -1, 0);
	host->deframer_free(d);
}
END_TEST

/* A frame shorter than the header ends inside the bytes used to top the
 * stash up: the rest of the top-up is the next frame. */
START_TEST(short_frame_after_cut_header)
{
	static const uint8_t s[] = { 'S', 0, 'K', 'S', 1, 'x' };
	struct tp_deframer *d = new_toy();
	struct tp_batch in = TP_BATCH_INIT, out = TP_BATCH_INIT;

	tp_batch_add(&in, chunk(s, 1));
	tp_batch_add(&in, chunk(s + 1, 5));
	ck_assert_int_eq(host->deframe(d, &in, &out), 0);
	ck_assert_uint_eq(out.count, 3);
	pop_is(&out, "S\0", 2);
	pop_is(&out, "K", 1);
	pop_is(&out, "S\1x", 3);
	ck_assert_uint_eq(host->deframer_pending(d), 0);
	host->deframer_free(d);
}
END_TEST

/* pending() counts the bytes of the unfinished frame, header included;
 * len_fn is asked again as a cut header grows; freeing a deframer that
 * holds a frame gives its buffer back. */
START_TEST(pending_bytes)
{
	static const uint8_t t[] = { 'T', 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct tp_deframer *d = new_toy();
	const size_t *alloc_len;
	struct tp_batch out = TP_BATCH_INIT;

	ck_assert_uint_eq(host->deframer_pending(d), 0);
	ck_assert_int_eq(push(d, t, 1, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 1);
	ck_assert_int_eq(len_calls, 1);
	ck_assert_int_eq(push(d, t + 1, 1, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 2);
	ck_assert_int_eq(len_calls, 2);
	ck_assert_uint_eq(outstanding(), 0); /* no buffer before the length is known */
	ck_assert_int_eq(push(d, t + 2, 4, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 6);
	ck_assert_int_eq(len_calls, 3);
	ck_assert_uint_eq(outstanding(), 1); /* the frame's own buffer */
	ck_assert_uint_eq(tp_harness_allocs(h, &alloc_len), 1);
	ck_assert_uint_eq(alloc_len[0], 13);
	ck_assert_int_eq(push(d, t + 6, 7, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 0);
	ck_assert_uint_eq(out.count, 1);
	pop_is(&out, t, 13);

	ck_assert_int_eq(push(d, t, 8, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 8);
	host->deframer_free(d); /* with a frame half done: no leak (teardown checks) */
}
END_TEST

/* A refused frame stops the stream: frames before it (same chunk) go out,
 * its bytes (also those held from earlier chunks) and everything after are
 * dropped and counted, len_fn is never asked again. */
START_TEST(refusal_stops_and_drops)
{
	struct tp_deframer *d = new_toy();
	struct tp_batch out = TP_BATCH_INIT, in = TP_BATCH_INIT;
	uint8_t buf[64];
	int calls;

	build_stream();
	/* K, S0 and S5 are 1 + 2 + 7 bytes: cut inside S5 */
	ck_assert_int_eq(feed(d, 0, 8, &out), 0);
	memcpy(buf, stream + 8, 2);   /* the end of S5 */
	buf[2] = 'X';                 /* garbage */
	memset(buf + 3, 'K', 10);     /* would be frames, but come after it */
	tp_batch_add(&in, chunk(buf, 13));
	tp_batch_add(&in, chunk(stream, 20));
	ck_assert_int_eq(host->deframe(d, &in, &out), -1);
	ck_assert_uint_eq(in.count, 0);
	expect_frames(&out, 0, 3, -1, 0);
	ck_assert_int_eq(toy_refusals, 1);
	ck_assert_uint_eq(counter("dropped"), 11 + 20);
	ck_assert_uint_eq(host->deframer_pending(d), 0);
	calls = len_calls;
	ck_assert_int_eq(feed(d, 0, stream_len, &out), -1); /* still refused */
	ck_assert_uint_eq(out.count, 0);
	ck_assert_int_eq(len_calls, calls);
	ck_assert_uint_eq(counter("dropped"), 31 + stream_len);
	host->deframer_free(d);

	/* Refused after a cut header: the held bytes count as dropped too. */
	d = new_toy();
	counter("dropped") = 0;
	ck_assert_int_eq(push(d, (const uint8_t *)"T\xff", 2, &out), 0);
	ck_assert_uint_eq(host->deframer_pending(d), 2);
	ck_assert_int_eq(push(d, (const uint8_t *)"\xffKK", 3, &out), -1);
	ck_assert_uint_eq(out.count, 0);
	ck_assert_uint_eq(counter("dropped"), 5);
	ck_assert_uint_eq(host->deframer_pending(d), 0);
	ck_assert_int_eq(nlog_errors(), 0); /* a refusal is the framer's to log */
	host->deframer_free(d);
}
END_TEST

/* The pool refuses a buffer: that frame is lost and counted, its bytes are
 * skipped, and every later frame comes out intact.  Tried for every frame,
 * with the stream fed whole and cut at every 97th byte. */
START_TEST(pool_exhaustion)
{
	struct tp_deframer *d = new_toy();
	struct tp_batch out = TP_BATCH_INIT;
	uint64_t lost = 0;

	build_stream();
	for (int step = 0; step < 2; step++) {
		for (int f = 0; f < nframes; f++) {
			tp_harness_allocs_clear(h);
			tp_harness_fail_alloc_after(h, f);
			feed_steps(d, step ? 97 : stream_len, &out);
			ck_assert_uint_eq(counter("nobuf"), ++lost);
			expect_frames(&out, 0, nframes, f, (size_t)f);
			ck_assert_uint_eq(host->deframer_pending(d), 0);
			ck_assert_uint_eq(outstanding(), 0);
		}
	}
	ck_assert_uint_eq(counter("dropped"), 0);
	/* While a frame is skipped the stream is still inside it: pending. */
	tp_harness_allocs_clear(h);
	tp_harness_fail_alloc_after(h, 0);
	ck_assert_int_eq(feed(d, frame_off[7], 100, &out), 0); /* the 2503-byte T frame */
	ck_assert_uint_eq(host->deframer_pending(d), 100);
	ck_assert_uint_eq(outstanding(), 0);
	ck_assert_int_eq(feed(d, frame_off[7] + 100, frame_len[7] - 100 + frame_len[8], &out), 0);
	expect_frames(&out, 8, 1, -1, 0);
	ck_assert_uint_eq(counter("nobuf"), lost + 1);
	host->deframer_free(d);
}
END_TEST

/* A length function that breaks its contract is refused loudly instead of
 * looping, overflowing the stash or splitting frames wrongly. */
static void check_evil(int64_t ret, size_t first, const char *in_log)
{
	static const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct tp_deframer *d = host->deframer_new(stage, 4, evil_len, NULL);
	struct tp_batch out = TP_BATCH_INIT;

	ck_assert_ptr_nonnull(d);
	tp_harness_log_clear(h);
	evil_ret = 0; /* first hold `first` bytes in the stash, then misbehave */
	ck_assert_int_eq(push(d, bytes, first, &out), 0);
	evil_ret = ret;
	ck_assert_int_eq(push(d, bytes, 8, &out), -1);
	ck_assert_uint_eq(out.count, 0);
	ck_assert_int_eq(nlog_errors(), 1);
	ck_assert_msg(strstr(last_log(), in_log), "log '%s' lacks '%s'", last_log(), in_log);
	host->deframer_free(d);
}

START_TEST(len_fn_contract)
{
	check_evil(0, 0, "although it had hdr_bytes");
	check_evil(-7, 0, "negative");
	check_evil((int64_t)1 << 40, 0, "above 2 GiB");
	check_evil(2, 3, "shorter than the bytes");
}
END_TEST

START_TEST(bad_arguments)
{
	ck_assert_ptr_null(host->deframer_new(stage, 0, toy_len, NULL));
	ck_assert_int_eq(nlog_errors(), 1);
	ck_assert_ptr_null(host->deframer_new(stage, TP_DEFRAME_MAX_HDR + 1, toy_len, NULL));
	ck_assert_ptr_null(host->deframer_new(stage, 4, NULL, NULL));
	ck_assert_int_eq(nlog_errors(), 3);
	ck_assert_msg(strstr(last_log(), "no function"), "log: %s", last_log());
	host->deframer_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("deframe");
	TCase *tc = tcase_create("deframe");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, split_everywhere);
	tcase_add_test(tc, byte_at_a_time);
	tcase_add_test(tc, frames_per_chunk);
	tcase_add_test(tc, short_frame_after_cut_header);
	tcase_add_test(tc, pending_bytes);
	tcase_add_test(tc, refusal_stops_and_drops);
	tcase_add_test(tc, pool_exhaustion);
	tcase_add_test(tc, len_fn_contract);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return suite();
}
