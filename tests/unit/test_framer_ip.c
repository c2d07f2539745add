/* SPDX-License-Identifier: MIT */
/*
 * test_framer_ip — the Simple-VPN framer through the plugin harness.
 *
 * The stream tests cut the same byte stream of mixed IPv4/IPv6 packets at
 * every possible place, so every state of the reassembler (nothing pending,
 * a cut length field, a cut payload) is crossed at least once.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define NPKT 6

struct pkt {
	uint8_t *data;
	size_t len;
};

/* An IPv4 packet of `total` bytes with a header of ihl 32-bit words. */
static size_t mk_ip4(uint8_t *p, size_t total, unsigned ihl, uint8_t seed)
{
	size_t i;

	for (i = 0; i < total; i++)
		p[i] = (uint8_t)(seed + i * 7);
	p[0] = (uint8_t)(0x40 | ihl);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	return total;
}

/* An IPv6 packet with `payload` bytes after the 40-byte header. */
static size_t mk_ip6(uint8_t *p, size_t payload, uint8_t seed)
{
	size_t i;

	for (i = 0; i < payload + 40; i++)
		p[i] = (uint8_t)(seed + i * 13);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	return payload + 40;
}

static uint8_t stream[8192];
static size_t stream_len;
static struct pkt pkts[NPKT];

/* Mixed packets: minimal sizes, IPv4 options, an empty IPv6 payload, an odd
 * length and one above the harness's default buffer size. */
static void build_stream(void)
{
	uint8_t *p = stream;

	pkts[0].len = mk_ip4(p, 20, 5, 1);
	pkts[1].len = mk_ip6(p + 20, 0, 2);
	pkts[2].len = mk_ip4(p + 60, 77, 6, 3);
	pkts[3].len = mk_ip6(p + 137, 300, 4);
	pkts[4].len = mk_ip4(p + 477, 2500, 15, 5);
	pkts[5].len = mk_ip6(p + 2977, 1, 6);
	stream_len = 2977 + 41;
	for (size_t i = 0, off = 0; i < NPKT; off += pkts[i].len, i++)
		pkts[i].data = stream + off;
}

static struct tp_harness *new_h(const char *opts)
{
	struct tp_harness *h = tp_harness_new("framer-ip", opts);

	ck_assert_msg(h != NULL, "harness: %s", tp_harness_last_error());
	return h;
}

/* Pull everything emitted up and compare it with pkts[first..first+n). */
static void expect_up(struct tp_harness *h, int first, int n, size_t ctx)
{
	struct tp_buf *b;

	ck_assert_uint_eq(tp_harness_queued_up(h), n);
	for (int i = first; i < first + n; i++) {
		b = tp_harness_pull_up(h);
		ck_assert_ptr_nonnull(b);
		ck_assert_msg(b->len == pkts[i].len, "split %zu: packet %d has %u bytes, want %zu",
			      ctx, i, b->len, pkts[i].len);
		ck_assert_msg(!memcmp(b->data, pkts[i].data, b->len),
			      "split %zu: packet %d differs", ctx, i);
		tp_harness_buf_free(h, b);
	}
	ck_assert_ptr_null(tp_harness_pull_up(h));
}

static void done(struct tp_harness *h)
{
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}

START_TEST(split_everywhere)
{
	struct tp_harness *h = new_h(NULL);

	build_stream();
	for (size_t k = 0; k <= stream_len; k++) {
		tp_harness_push_up(h, stream, k);
		tp_harness_push_up(h, stream + k, stream_len - k);
		expect_up(h, 0, NPKT, k);
		/* nothing may stay pending once the stream is whole */
		ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	}
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), NPKT * (stream_len + 1));
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	done(h);
}
END_TEST

START_TEST(byte_at_a_time)
{
	struct tp_harness *h = new_h(NULL);

	build_stream();
	for (size_t k = 0; k < stream_len; k++)
		tp_harness_push_up(h, stream + k, 1);
	expect_up(h, 0, NPKT, 0);
	ck_assert_uint_eq(tp_harness_counter(h, "up_bytes"), stream_len);
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	done(h);
}
END_TEST

START_TEST(one_chunk_one_batch)
{
	struct tp_harness *h = new_h(NULL);

	build_stream();
	tp_harness_push_up(h, stream, stream_len);
	ck_assert_uint_eq(tp_harness_batches_up(h), 1);
	expect_up(h, 0, NPKT, 0);
	done(h);
}
END_TEST

/* Several chunks in one up() call, packets straddling them: still one batch. */
START_TEST(one_call_one_batch)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_batch q = TP_BATCH_INIT;

	build_stream();
	tp_batch_add(&q, tp_harness_buf(h, stream, 30));
	tp_batch_add(&q, tp_harness_buf(h, stream + 30, 1000));
	tp_batch_add(&q, tp_harness_buf(h, stream + 1030, stream_len - 1030));
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_batches_up(h), 1);
	expect_up(h, 0, NPKT, 0);
	done(h);
}
END_TEST

/* An abort case: good packet, then `bad` fed in chunks of `step` bytes,
 * then a good packet that must not come out. */
static void check_abort(const char *opts, const uint8_t *bad, size_t badlen, size_t step,
			const char *counter, const char *in_reason)
{
	struct tp_harness *h = new_h(opts);

	build_stream();
	tp_harness_push_up(h, pkts[0].data, pkts[0].len);
	expect_up(h, 0, 1, 0);
	for (size_t off = 0; off < badlen; off += step)
		tp_harness_push_up(h, bad + off, badlen - off < step ? badlen - off : step);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, counter), 1);
	ck_assert_ptr_nonnull(tp_harness_abort_reason(h));
	ck_assert_msg(strstr(tp_harness_abort_reason(h), in_reason) != NULL,
		      "reason '%s' lacks '%s'", tp_harness_abort_reason(h), in_reason);
	/* dead from now on: nothing more goes up, no second abort */
	tp_harness_push_up(h, stream, stream_len);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 1);
	done(h);
}

START_TEST(bad_version)
{
	uint8_t p[64];

	mk_ip4(p, 40, 5, 9);
	p[0] = 0x55;
	check_abort(NULL, p, 40, 40, "bad_version", "version 5");
	check_abort(NULL, p, 40, 1, "bad_version", "version 5");
	p[0] = 0x00;
	check_abort(NULL, p, 40, 1, "bad_version", "version 0");
}
END_TEST

START_TEST(bad_length)
{
	uint8_t p[128];

	mk_ip4(p, 19, 5, 9); /* total length below the minimal header */
	check_abort(NULL, p, 19, 19, "bad_length", "IPv4 length");
	mk_ip4(p, 40, 4, 9); /* IHL 4: a 16-byte header */
	check_abort(NULL, p, 40, 3, "bad_length", "IPv4 length");
	mk_ip4(p, 40, 15, 9); /* a 60-byte header in a 40-byte packet */
	check_abort(NULL, p, 40, 1, "bad_length", "IPv4 length");
	ck_assert_uint_eq(mk_ip4(p, 60, 15, 9), 60); /* but exactly fitting is fine */
	{
		struct tp_harness *h = new_h(NULL);

		tp_harness_push_up(h, p, 60);
		ck_assert_uint_eq(tp_harness_queued_up(h), 1);
		ck_assert_int_eq(tp_harness_aborts(h), 0);
		tp_harness_buf_free(h, tp_harness_pull_up(h));
		done(h);
	}
}
END_TEST

/* Packets before the garbage in the same chunk are sound and still go up,
 * in the same single batch; nothing after it does. */
START_TEST(good_then_garbage_in_one_chunk)
{
	struct tp_harness *h = new_h(NULL);
	uint8_t buf[256];

	build_stream();
	memcpy(buf, stream, 137);      /* packets 0..2 */
	memset(buf + 137, 0xff, 20);   /* version 15 */
	memcpy(buf + 157, stream, 20); /* a good packet after the garbage */
	tp_harness_push_up(h, buf, 177);
	ck_assert_uint_eq(tp_harness_batches_up(h), 1);
	expect_up(h, 0, 3, 0);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "bad_version"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "dropped"), 40);
	done(h);
}
END_TEST

START_TEST(max_packet)
{
	static uint8_t p[70000];
	struct tp_harness *h;

	/* exactly max_packet passes, one more aborts, for both families */
	h = new_h("max_packet = 100;");
	mk_ip4(p, 100, 5, 1);
	tp_harness_push_up(h, p, 100);
	mk_ip6(p, 60, 1);
	tp_harness_push_up(h, p, 100);
	ck_assert_uint_eq(tp_harness_queued_up(h), 2);
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	while (tp_harness_queued_up(h))
		tp_harness_buf_free(h, tp_harness_pull_up(h));
	done(h);

	mk_ip4(p, 101, 5, 1);
	check_abort("max_packet = 100;", p, 101, 101, "too_long", "max_packet 100");
	mk_ip6(p, 61, 1);
	check_abort("max_packet = 100;", p, 101, 2, "too_long", "max_packet 100");

	/* default: the largest IPv6 payload length field is 65535 + 40 */
	mk_ip6(p, 65535, 1);
	check_abort(NULL, p, 65575, 65575, "too_long", "65575");
	/* the largest IPv4 packet passes */
	h = new_h(NULL);
	mk_ip4(p, 65535, 5, 3);
	tp_harness_push_up(h, p, 30000);
	tp_harness_push_up(h, p + 30000, 65535 - 30000);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	{
		struct tp_buf *b = tp_harness_pull_up(h);

		ck_assert_uint_eq(b->len, 65535);
		ck_assert(!memcmp(b->data, p, 65535));
		tp_harness_buf_free(h, b);
	}
	done(h);

	ck_assert_ptr_null(tp_harness_new("framer-ip", "max_packet = 67;"));
	ck_assert_ptr_null(tp_harness_new("framer-ip", "max_packet = 65536;"));
}
END_TEST

START_TEST(down_passthrough)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b[NPKT], *o;
	uint8_t *data[NPKT];

	build_stream();
	for (int i = 0; i < NPKT; i++) {
		b[i] = tp_harness_buf(h, pkts[i].data, pkts[i].len);
		data[i] = b[i]->data;
		tp_batch_add(&q, b[i]);
	}
	tp_harness_push_down_batch(h, &q);
	ck_assert_uint_eq(tp_harness_batches_down(h), 1);
	for (int i = 0; i < NPKT; i++) {
		o = tp_harness_pull_down(h);
		ck_assert_ptr_eq(o, b[i]);       /* the same buffer… */
		ck_assert_ptr_eq(o->data, data[i]); /* …untouched: no header */
		ck_assert_uint_eq(o->len, pkts[i].len);
		ck_assert(!memcmp(o->data, pkts[i].data, o->len));
		tp_harness_buf_free(h, o);
	}
	ck_assert_uint_eq(tp_harness_counter(h, "down_packets"), NPKT);
	ck_assert_uint_eq(tp_harness_counter(h, "down_bad"), 0);
	done(h);
}
END_TEST

START_TEST(down_drops_implausible)
{
	struct tp_harness *h = new_h("max_packet = 1000;");
	uint8_t p[2048];
	struct tp_buf *o;

	mk_ip4(p, 100, 5, 1);
	tp_harness_push_down(h, p, 99);   /* length field says 100 */
	tp_harness_push_down(h, p, 100);  /* good */
	p[3] = 101;
	tp_harness_push_down(h, p, 100);  /* length field says 101 */
	mk_ip6(p, 60, 1);
	tp_harness_push_down(h, p, 101);  /* one byte too many */
	p[0] = 0x70;
	tp_harness_push_down(h, p, 100);  /* not IP */
	tp_harness_push_down(h, p, 0);    /* empty */
	mk_ip4(p, 1001, 5, 1);
	tp_harness_push_down(h, p, 1001); /* the peer would refuse it */

	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	o = tp_harness_pull_down(h);
	ck_assert_uint_eq(o->len, 100);
	ck_assert_uint_eq(o->data[0], 0x45);
	tp_harness_buf_free(h, o);
	ck_assert_uint_eq(tp_harness_counter(h, "down_bad"), 6);
	ck_assert_uint_eq(tp_harness_counter(h, "down_packets"), 1);
	done(h);
}
END_TEST

/* A packet cut by the end of the stream is counted and its buffer freed. */
START_TEST(truncated_at_session_down)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_event ev = { .type = TP_EV_SESSION_DOWN, .reason = "test" };

	build_stream();
	tp_harness_push_up(h, stream, 500); /* 4 packets and 23 bytes of the 5th */
	expect_up(h, 0, 4, 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 1); /* the pending packet */
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_counter(h, "truncated"), 1);
	done(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("framer-ip");
	TCase *tc = tcase_create("framer-ip");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, split_everywhere);
	tcase_add_test(tc, byte_at_a_time);
	tcase_add_test(tc, one_chunk_one_batch);
	tcase_add_test(tc, one_call_one_batch);
	tcase_add_test(tc, bad_version);
	tcase_add_test(tc, bad_length);
	tcase_add_test(tc, good_then_garbage_in_one_chunk);
	tcase_add_test(tc, max_packet);
	tcase_add_test(tc, down_passthrough);
	tcase_add_test(tc, down_drops_implausible);
	tcase_add_test(tc, truncated_at_session_down);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return suite();
}
