/* SPDX-License-Identifier: MIT */
/*
 * test_framer_len — the length-prefix framer through the plugin harness.
 *
 * The round trip goes through the plugin both ways: messages are pushed
 * down, the framed bytes it emits are concatenated into one stream, and
 * that stream is fed back up cut at every possible place.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>
#include <unistd.h>
#include "harness.h"
#include "conf.h"
#include "loader.h"
#include "loop.h"
#include "pipeline.h"

#define NMSG 7
static const size_t msg_len[NMSG] = { 1, 2, 3, 4, 5, 300, 2600 };
static uint8_t msgs[NMSG][2600];
static uint8_t stream[8192];
static size_t stream_len;

static struct tp_harness *new_h(const char *opts)
{
	struct tp_harness *h = tp_harness_new("framer-len", opts);

	ck_assert_msg(h != NULL, "harness: %s", tp_harness_last_error());
	return h;
}

static void done(struct tp_harness *h)
{
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}

/* Push every message down in one batch; check each came out with its
 * prefix written in front of the untouched payload; build `stream`. */
static void frame_down(struct tp_harness *h, unsigned width)
{
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b[NMSG], *o;
	uint8_t *data[NMSG];
	uint32_t len;

	for (int i = 0; i < NMSG; i++) {
		for (size_t j = 0; j < msg_len[i]; j++)
			msgs[i][j] = (uint8_t)(i * 31 + j * 7 + 1);
		b[i] = tp_harness_buf(h, msgs[i], msg_len[i]);
		data[i] = b[i]->data;
		tp_batch_add(&q, b[i]);
	}
	tp_harness_push_down_batch(h, &q);
	ck_assert_uint_eq(tp_harness_batches_down(h), 1);
	stream_len = 0;
	for (int i = 0; i < NMSG; i++) {
		o = tp_harness_pull_down(h);
		ck_assert_ptr_eq(o, b[i]);
		/* the prefix went into headroom: the payload did not move */
		ck_assert_ptr_eq(o->data, data[i] - width);
		ck_assert_uint_eq(o->len, msg_len[i] + width);
		len = 0;
		for (unsigned k = 0; k < width; k++)
			len = len << 8 | o->data[k];
		ck_assert_uint_eq(len, msg_len[i]);
		ck_assert(!memcmp(o->data + width, msgs[i], msg_len[i]));
		memcpy(stream + stream_len, o->data, o->len);
		stream_len += o->len;
		tp_harness_buf_free(h, o);
	}
	ck_assert_ptr_null(tp_harness_pull_down(h));
	ck_assert_uint_eq(tp_harness_counter(h, "down_frames"), NMSG);
}

static void expect_up(struct tp_harness *h, int n, size_t ctx)
{
	struct tp_buf *b;

	ck_assert_uint_eq(tp_harness_queued_up(h), n);
	for (int i = 0; i < n; i++) {
		b = tp_harness_pull_up(h);
		ck_assert_msg(b->len == msg_len[i], "split %zu: frame %d has %u bytes, want %zu",
			      ctx, i, b->len, msg_len[i]);
		ck_assert_msg(!memcmp(b->data, msgs[i], b->len), "split %zu: frame %d differs",
			      ctx, i);
		tp_harness_buf_free(h, b);
	}
}

static void round_trip(const char *opts, unsigned width)
{
	struct tp_harness *h = new_h(opts);
	size_t batches;

	frame_down(h, width);
	for (size_t k = 0; k <= stream_len; k++) {
		tp_harness_push_up(h, stream, k);
		tp_harness_push_up(h, stream + k, stream_len - k);
		expect_up(h, NMSG, k);
		ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	}
	for (size_t k = 0; k < stream_len; k++)
		tp_harness_push_up(h, stream + k, 1);
	expect_up(h, NMSG, 0);
	/* everything at once: one batch */
	batches = tp_harness_batches_up(h);
	tp_harness_push_up(h, stream, stream_len);
	ck_assert_uint_eq(tp_harness_batches_up(h), batches + 1);
	expect_up(h, NMSG, 0);
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	done(h);
}

START_TEST(round_trip_width2)
{
	round_trip(NULL, 2);
}
END_TEST

START_TEST(round_trip_width4)
{
	round_trip("width = 4;", 4);
}
END_TEST

/* Good frame, then `bad` in chunks of `step`, then good frames that must
 * not come out. */
static void check_abort(const char *opts, const uint8_t *bad, size_t badlen, size_t step,
			const char *counter, const char *in_reason)
{
	static const uint8_t good[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	struct tp_harness *h = new_h(opts);
	unsigned w = strstr(opts ? opts : "", "width = 4") ? 4 : 2;

	tp_harness_push_up(h, good + 4 - w, 3 + w);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	tp_harness_buf_free(h, tp_harness_pull_up(h));
	for (size_t off = 0; off < badlen; off += step)
		tp_harness_push_up(h, bad + off, badlen - off < step ? badlen - off : step);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, counter), 1);
	ck_assert_msg(strstr(tp_harness_abort_reason(h), in_reason) != NULL,
		      "reason '%s' lacks '%s'", tp_harness_abort_reason(h), in_reason);
	tp_harness_push_up(h, good + 4 - w, 3 + w);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "up_frames"), 1);
	done(h);
}

START_TEST(zero_length)
{
	static const uint8_t z4[] = { 0, 0, 0, 0, 'x' };

	check_abort(NULL, z4, 3, 3, "zero_length", "zero-length");
	check_abort(NULL, z4, 2, 1, "zero_length", "zero-length");
	check_abort("width = 4;", z4, 5, 1, "zero_length", "zero-length");
}
END_TEST

START_TEST(too_long)
{
	static const uint8_t l101[] = { 0, 101, 'x' };
	static const uint8_t l101w4[] = { 0, 0, 0, 101, 'x' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	struct tp_harness *h;
	static uint8_t f[104];

	check_abort("max_frame = 100;", l101, 3, 1, "too_long", "max_frame 100");
	check_abort("width = 4; max_frame = 100;", l101w4, 5, 2, "too_long", "101 bytes");
	check_abort("width = 4;", huge, 4, 4, "too_long", "max_frame 65535");

	/* exactly max_frame is fine */
	h = new_h("max_frame = 100;");
	f[1] = 100;
	tp_harness_push_up(h, f, 102);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	tp_harness_buf_free(h, tp_harness_pull_up(h));
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	done(h);
}
END_TEST

START_TEST(down_drops)
{
	struct tp_harness *h = new_h("max_frame = 100;");
	static uint8_t m[101];
	struct tp_buf *o;

	tp_harness_push_down(h, m, 101); /* too long for the peer */
	tp_harness_push_down(h, m, 0);   /* would read as a protocol error */
	tp_harness_push_down(h, m, 100);
	ck_assert_uint_eq(tp_harness_counter(h, "down_too_long"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "down_empty"), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	o = tp_harness_pull_down(h);
	ck_assert_uint_eq(o->len, 102);
	ck_assert_uint_eq(o->data[0], 0);
	ck_assert_uint_eq(o->data[1], 100);
	tp_harness_buf_free(h, o);
	done(h);
}
END_TEST

static void bad_options(const char *opts, const char *msg)
{
	ck_assert_ptr_null(tp_harness_new("framer-len", opts));
	ck_assert_msg(strstr(tp_harness_last_error(), msg) != NULL,
		      "options '%s': error '%s' lacks '%s'", opts, tp_harness_last_error(), msg);
}

START_TEST(options)
{
	struct tp_harness *h;

	bad_options("width = 3;", "width must be 2 or 4");
	bad_options("max_frame = 65536;", "2-byte");
	bad_options("width = 2; max_frame = 16777216;", "2-byte");
	/* the same max_frame is fine with a 4-byte prefix */
	h = new_h("width = 4; max_frame = 16777216;");
	done(h);
	h = new_h("width = 2; max_frame = 65535;");
	done(h);
	/* outside the table's range: the core's parser refuses it */
	ck_assert_ptr_null(tp_harness_new("framer-len", "width = 8;"));
	ck_assert_ptr_null(tp_harness_new("framer-len", "width = 4; max_frame = 16777217;"));
	ck_assert_ptr_null(tp_harness_new("framer-len", "max_frame = 0;"));
}
END_TEST

static void check_truncated(const char *opts, const uint8_t *part, size_t n, size_t held)
{
	struct tp_harness *h = new_h(opts);
	struct tp_event ev = { .type = TP_EV_SESSION_DOWN, .reason = "test" };

	tp_harness_push_up(h, part, n);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), held);
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 1);
	done(h);
}

START_TEST(truncated)
{
	static const uint8_t part[] = { 0, 10, 'a', 'b', 'c' };
	static const uint8_t whole[] = { 0, 1, 'a' };
	struct tp_harness *h;
	struct tp_event ev = { .type = TP_EV_SESSION_DOWN, .reason = "test" };

	check_truncated(NULL, part, 5, 1); /* inside a payload: its buffer is held */
	check_truncated(NULL, part, 1, 0); /* inside the prefix */
	check_truncated("width = 4;", part, 3, 0);
	/* a stream ending on a frame boundary is not truncated */
	h = new_h(NULL);
	tp_harness_push_up(h, whole, 3);
	tp_harness_buf_free(h, tp_harness_pull_up(h));
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 0);
	done(h);
}
END_TEST

/* The harness does not expose wire_id, so the wire id is read where the
 * core uses it: the stack string of a real pipeline (tp-gen, framer-len,
 * tp-loop), built from a config file with the core's own host. */
static void check_wire_id(const char *opts, const char *want)
{
	char path[] = "/tmp/tp-framer-len-XXXXXX", text[512], err[512];
	struct tp_loader *ld = tp_loader_new();
	struct tp_loop *loop = tp_loop_new();
	struct tp_pipeline **v;
	const struct tp_plugin *p;
	struct tp_diag d;
	struct tp_conf c;
	int fd, n = 0;

	tp_loader_add_default_paths(ld);
	p = tp_loader_get(ld, "framer-len", err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(p->headroom, 4);
	ck_assert_uint_eq(p->top, TP_DATA_IP | TP_DATA_MSG);
	ck_assert_uint_eq(p->bottom, TP_DATA_STREAM);
	ck_assert_ptr_nonnull(p->wire_id);

	snprintf(text, sizeof(text), "pipelines = ( { name = \"wire\"; stages = (\n"
		 "  { plugin = \"tp-gen\"; },\n  { plugin = \"framer-len\"; %s },\n"
		 "  { plugin = \"tp-loop\"; } ); } );\n", opts);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	tp_diag_init(&d, stderr);
	ck_assert_int_eq(tp_conf_load(&c, path, &d), 0);
	v = tp_pipelines_build(&c, ld, loop, &d, 0, &n);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v[0]->stack, want);
	tp_pipeline_free(v[0]);
	free(v);
	tp_conf_free(&c);
	unlink(path);
	tp_loop_free(loop);
	tp_loader_free(ld);
}

START_TEST(wire_id)
{
	check_wire_id("", "framer-len/2");
	check_wire_id("width = 4;", "framer-len/4");
}
END_TEST

/* ---- a third framer: tests/plugins/tp-framer-byte.c, a length function
 * and two one-line hooks over the core's framing service ---- */

START_TEST(third_framer_byte_prefix)
{
	static const uint8_t stream[] = { 3, 'a', 'b', 'c', 1, 'd', 5, 'e', 'f', 'g', 'h', 'i' };
	static const char *const want[] = { "abc", "d", "efghi" };
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "test" };
	struct tp_harness *h;
	struct tp_buf *b;

	for (size_t cut = 0; cut <= sizeof(stream); cut++) {
		h = tp_harness_new("tp-framer-byte", NULL);
		ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
		tp_harness_push_up(h, stream, cut);
		tp_harness_push_up(h, stream + cut, sizeof(stream) - cut);
		ck_assert_uint_eq(tp_harness_queued_up(h), 3);
		for (int i = 0; i < 3; i++) {
			b = tp_harness_pull_up(h);
			ck_assert_uint_eq(b->len, strlen(want[i]));
			ck_assert_int_eq(memcmp(b->data, want[i], b->len), 0);
			tp_harness_buf_free(h, b);
		}
		ck_assert_uint_eq(tp_harness_counter(h, "up_frames"), 3);
		ck_assert_uint_eq(tp_harness_counter(h, "up_bytes"), 9);
		done(h);
	}

	h = tp_harness_new("tp-framer-byte", NULL);
	/* down: the prefix goes into the headroom */
	tp_harness_push_down(h, "xyz", 3);
	tp_harness_push_down(h, "", 0); /* cannot be framed: dropped */
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	b = tp_harness_pull_down(h);
	ck_assert_uint_eq(b->len, 4);
	ck_assert_int_eq(memcmp(b->data, "\3xyz", 4), 0);
	tp_harness_buf_free(h, b);
	ck_assert_uint_eq(tp_harness_counter(h, "down_frames"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "down_bytes"), 4);
	/* a cut frame at the end of the session is counted */
	tp_harness_push_up(h, "\5ab", 3);
	tp_harness_event(h, &down);
	ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 1);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);

	/* a refused frame aborts the session once, with the framer's words */
	h = tp_harness_new("tp-framer-byte", NULL);
	tp_harness_push_up(h, "\1a\0\1b", 5);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	tp_harness_buf_free(h, tp_harness_pull_up(h));
	tp_harness_push_up(h, "\1c", 2);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_str_eq(tp_harness_abort_reason(h),
			 "tp-framer-byte: zero-length frame in the stream from the peer");
	ck_assert_uint_eq(tp_harness_counter(h, "dropped"), 3 + 2);
	done(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("framer-len");
	TCase *tc = tcase_create("framer-len");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_width2);
	tcase_add_test(tc, round_trip_width4);
	tcase_add_test(tc, zero_length);
	tcase_add_test(tc, too_long);
	tcase_add_test(tc, down_drops);
	tcase_add_test(tc, options);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, wire_id);
	tcase_add_test(tc, third_framer_byte_prefix);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return suite();
}
