/* SPDX-License-Identifier: MIT */
/*
 * test_harness — the plugin harness, exercised with the test plugins
 * (tp-gen, tp-count, tp-loop).  These double as tests of those plugins,
 * which the pipeline and out-of-tree tests rely on.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static volatile sig_atomic_t got_sigterm;

static void on_sigterm(int sig)
{
	(void)sig;
	got_sigterm++;
}

/* tp-gen ends a daemon run with raise(SIGTERM); catch it instead of dying. */
static void catch_sigterm(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	got_sigterm = 0;
}

static struct tp_harness *must_new(const char *plugin, const char *options)
{
	struct tp_harness *h = tp_harness_new(plugin, options);

	ck_assert_msg(h != NULL, "tp_harness_new(%s): %s", plugin, tp_harness_last_error());
	return h;
}

/* Let tp-gen's timer run until it emitted `n` packets (or 5 s passed). */
static void run_until_queued_down(struct tp_harness *h, size_t n)
{
	int i;

	for (i = 0; i < 500 && tp_harness_queued_down(h) < n; i++)
		tp_harness_run(h, 10);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

START_TEST(count_passes_both_ways)
{
	struct tp_harness *h = must_new("tp-count", NULL);
	const char a[] = "hello", b[] = "world!!";
	struct tp_buf *out;

	tp_harness_push_down(h, a, sizeof(a));
	tp_harness_push_up(h, b, sizeof(b));
	tp_harness_push_up(h, b, sizeof(b));

	ck_assert_uint_eq(tp_harness_counter(h, "down_packets"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "down_bytes"), sizeof(a));
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 2);
	ck_assert_uint_eq(tp_harness_counter(h, "up_bytes"), 2 * sizeof(b));
	ck_assert_uint_eq(tp_harness_counter(h, "no_such_counter"), 0);
	ck_assert_uint_eq(tp_harness_batches_down(h), 1);
	ck_assert_uint_eq(tp_harness_batches_up(h), 2);
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	ck_assert_uint_eq(tp_harness_queued_up(h), 2);

	out = tp_harness_pull_down(h);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(out->len, sizeof(a));
	ck_assert_mem_eq(out->data, a, sizeof(a));
	ck_assert_uint_ge(tp_buf_headroom(out), 64);
	tp_harness_buf_free(h, out);
	ck_assert_ptr_null(tp_harness_pull_down(h));

	while ((out = tp_harness_pull_up(h)) != NULL) {
		ck_assert_mem_eq(out->data, b, sizeof(b));
		tp_harness_buf_free(h, out);
	}
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	ck_assert_ptr_null(tp_harness_abort_reason(h));
	tp_harness_free(h);
}
END_TEST

START_TEST(count_keeps_batches_and_events)
{
	struct tp_harness *h = must_new("tp-count", NULL);
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_event ev = { .type = TP_EV_SESSION_UP };
	struct tp_session_info info = { .size = sizeof(info) };
	struct tp_buf *out;
	int i;

	for (i = 0; i < 5; i++)
		tp_batch_add(&q, tp_harness_buf(h, &i, sizeof(i)));
	ck_assert_uint_eq(tp_harness_outstanding(h), 5);
	tp_harness_push_down_batch(h, &q);
	/* One batch in, one batch out, order kept. */
	ck_assert_uint_eq(tp_harness_batches_down(h), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 5);
	for (i = 0; i < 5; i++) {
		out = tp_harness_pull_down(h);
		ck_assert_int_eq(*(int *)out->data, i);
		tp_harness_buf_free(h, out);
	}

	ev.info = &info;
	tp_harness_event(h, &ev);
	ev.type = TP_EV_SESSION_DOWN;
	ev.info = NULL;
	ev.reason = "test";
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_counter(h, "session_up"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "session_down"), 1);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

START_TEST(unread_output_is_outstanding)
{
	struct tp_harness *h = must_new("tp-count", NULL);

	tp_harness_push_up(h, "x", 1);
	/* Not pulled yet: still out of the pool (freed by tp_harness_free). */
	ck_assert_uint_eq(tp_harness_outstanding(h), 1);
	tp_harness_free(h);
}
END_TEST

START_TEST(options_errors_are_reported)
{
	ck_assert_ptr_null(tp_harness_new("tp-gen", "size = 10;"));
	ck_assert_msg(strstr(tp_harness_last_error(), "size") != NULL,
		      "out-of-range error does not name the option: '%s'", tp_harness_last_error());

	ck_assert_ptr_null(tp_harness_new("tp-gen", "bogus = 1;"));
	ck_assert_msg(strstr(tp_harness_last_error(), "bogus") != NULL,
		      "unknown-key error does not name the key: '%s'", tp_harness_last_error());

	ck_assert_ptr_null(tp_harness_new("tp-gen", "count = \"many\";"));
	ck_assert_msg(strstr(tp_harness_last_error(), "count") != NULL,
		      "type error does not name the option: '%s'", tp_harness_last_error());

	ck_assert_ptr_null(tp_harness_new("tp-gen", "count = ;"));
	ck_assert_msg(strstr(tp_harness_last_error(), "line 1") != NULL,
		      "syntax error has no line: '%s'", tp_harness_last_error());

	/* tp-count has no options at all. */
	ck_assert_ptr_null(tp_harness_new("tp-count", "width = 4;"));
	ck_assert_msg(strstr(tp_harness_last_error(), "width") != NULL,
		      "'%s'", tp_harness_last_error());
}
END_TEST

START_TEST(missing_plugin_is_reported)
{
	ck_assert_ptr_null(tp_harness_new("tp-no-such-plugin", NULL));
	ck_assert_msg(strstr(tp_harness_last_error(), "tp-no-such-plugin") != NULL,
		      "'%s'", tp_harness_last_error());
}
END_TEST

START_TEST(gen_emits_valid_numbered_packets)
{
	struct tp_harness *h = must_new("tp-gen", "count = 20; size = 60; batch = 8;");
	struct tp_buf *b;
	uint32_t seq = 0;

	ck_assert_int_eq(tp_harness_start(h), 0);
	run_until_queued_down(h, 20);
	tp_harness_run(h, 20); /* must not send more than count */
	ck_assert_uint_eq(tp_harness_queued_down(h), 20);
	ck_assert_uint_eq(tp_harness_batches_down(h), 3); /* 8 + 8 + 4 */
	ck_assert_uint_eq(tp_harness_counter(h, "down_packets"), 20);

	while ((b = tp_harness_pull_down(h)) != NULL) {
		ck_assert_uint_eq(b->len, 60);
		ck_assert_uint_eq(b->data[0], 0x45);
		ck_assert_uint_eq(get16(b->data + 2), 60);
		ck_assert_uint_eq(get16(b->data + 4), seq);
		ck_assert_uint_eq(b->data[9], 17);
		ck_assert_mem_eq(b->data + 12, "\x0a\x63\x00\x02\x0a\x63\x00\x01", 8);
		seq++;
		tp_harness_buf_free(h, b);
	}
	ck_assert_uint_eq(seq, 20);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

START_TEST(gen_checks_what_comes_back)
{
	struct tp_harness *h = must_new("tp-gen", "count = 10; batch = 4;");
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b;
	uint8_t bad[100];

	catch_sigterm();
	ck_assert_int_eq(tp_harness_start(h), 0);
	run_until_queued_down(h, 10);
	ck_assert_uint_eq(tp_harness_queued_down(h), 10);

	/* Corrupt packet 3's payload, drop packet 5: both must count as bad. */
	while ((b = tp_harness_pull_down(h)) != NULL) {
		uint16_t id = get16(b->data + 4);

		if (id == 3)
			b->data[50] ^= 0xff;
		if (id == 5) {
			tp_harness_buf_free(h, b);
			continue;
		}
		tp_batch_add(&q, b);
	}
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 7);
	ck_assert_uint_eq(tp_harness_counter(h, "up_bad"), 2); /* corrupt 3, out of order 6 */
	ck_assert_uint_eq(tp_harness_counter(h, "up_bytes"), 700);
	ck_assert_int_eq(got_sigterm, 0);

	/* Garbage of the right size is bad too. */
	memset(bad, 0xab, sizeof(bad));
	tp_harness_push_up(h, bad, sizeof(bad));
	ck_assert_uint_eq(tp_harness_counter(h, "up_bad"), 3);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

START_TEST(gen_raises_sigterm_when_all_came_back)
{
	struct tp_harness *h = must_new("tp-gen", NULL); /* defaults: 100 × 100 bytes */
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b;

	catch_sigterm();
	ck_assert_int_eq(tp_harness_start(h), 0);
	run_until_queued_down(h, 100);
	ck_assert_uint_eq(tp_harness_queued_down(h), 100);
	while ((b = tp_harness_pull_down(h)) != NULL) {
		ck_assert_uint_eq(b->len, 100);
		tp_batch_add(&q, b);
	}
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 100);
	ck_assert_uint_eq(tp_harness_counter(h, "up_bad"), 0);
	ck_assert_int_eq(got_sigterm, 1);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

START_TEST(loop_opens_session_and_reflects)
{
	struct tp_harness *h = must_new("tp-loop", NULL);
	const struct tp_session_info *info;
	struct tp_event ev = { .type = TP_EV_CLOSE_REQUEST, .reason = "bad input" };
	struct tp_buf *b;

	ck_assert_ptr_null(tp_harness_session_info(h));
	ck_assert_int_eq(tp_harness_start(h), 0);
	info = tp_harness_session_info(h);
	ck_assert_ptr_nonnull(info);
	ck_assert_uint_eq(info->flags & TP_SI_LOCAL, TP_SI_LOCAL);
	ck_assert_uint_eq(info->addr4.family, AF_INET);
	ck_assert_uint_eq(info->addr4.plen, 24);
	ck_assert_mem_eq(info->addr4.addr, "\x0a\x63\x00\x02", 4);
	ck_assert_mem_eq(info->gw4.addr, "\x0a\x63\x00\x01", 4);
	ck_assert_uint_eq(info->mtu, 1400);

	tp_harness_push_down(h, "ping", 4);
	ck_assert_uint_eq(tp_harness_counter(h, "down_packets"), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 0);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	b = tp_harness_pull_up(h);
	ck_assert_mem_eq(b->data, "ping", 4);
	tp_harness_buf_free(h, b);

	/* The opened session is the harness's one, so events reach it. */
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_counter(h, "sessions_closed"), 1);
	tp_harness_event(h, &ev); /* already closed: nothing more */
	ck_assert_uint_eq(tp_harness_counter(h, "sessions_closed"), 1);

	/* After the close it has no session to loop on: dropped, not leaked. */
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

START_TEST(stack_and_session_accessors)
{
	struct tp_harness *h = must_new("tp-count", NULL);

	ck_assert_ptr_nonnull(tp_harness_session(h));
	ck_assert_ptr_eq(tp_harness_session(h), tp_harness_session(h));
	tp_harness_set_stack(h, "compress-lz4,framer-len/2");
	tp_harness_free(h);
}
END_TEST

/* ---- chains ---- */

/* Collect a queue's buffers into one byte string. */
static size_t drain(struct tp_harness *h, int up, uint8_t *out, size_t cap)
{
	struct tp_buf *b;
	size_t n = 0;

	while ((b = up ? tp_harness_pull_up(h) : tp_harness_pull_down(h)) != NULL) {
		ck_assert_uint_le(n + b->len, cap);
		memcpy(out + n, b->data, b->len);
		n += b->len;
		tp_harness_buf_free(h, b);
	}
	return n;
}

/* compress-lz4 over framer-len: packets pushed at the top come out at the
 * bottom as one framed stream of compressed packets; that stream pushed
 * back up at the bottom, in odd-sized pieces, gives the packets back. */
START_TEST(chain_lz4_over_framer_len)
{
	const char *const specs[] = { "compress-lz4: min_size = 0;", "framer-len: width = 2;", NULL };
	struct tp_harness *h = tp_harness_new_chain(specs);
	static uint8_t pkt[5][1000], stream[8192];
	struct tp_buf *b;
	size_t n, off;
	int i;

	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_stages(h), 2);
	for (i = 0; i < 5; i++) {
		memset(pkt[i], 'a' + i, sizeof(pkt[i])); /* compresses well */
		pkt[i][0] = 0x45;
		tp_harness_push_down(h, pkt[i], sizeof(pkt[i]));
	}
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "compressed"), 5);
	ck_assert_uint_eq(tp_harness_counter(h, "compressed"), 5); /* stage 0's */
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "down_frames"), 5);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "compressed"), 0);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	n = drain(h, 0, stream, sizeof(stream));
	ck_assert_uint_lt(n, 5 * 200); /* compressed before it was framed */
	ck_assert_uint_eq((size_t)stream[0] << 8 | stream[1], n / 5 - 2); /* 5 equal frames */

	for (off = 0; off < n; off += 7)
		tp_harness_push_up(h, stream + off, n - off < 7 ? n - off : 7);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "up_frames"), 5);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "decompressed"), 5);
	for (i = 0; i < 5; i++) {
		b = tp_harness_pull_up(h);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(b->len, sizeof(pkt[i]));
		ck_assert_mem_eq(b->data, pkt[i], sizeof(pkt[i]));
		tp_harness_buf_free(h, b);
	}
	ck_assert_ptr_null(tp_harness_pull_up(h));
	ck_assert_int_eq(tp_harness_aborts(h), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

/* framer-len over framer-len: a zero-length frame reaching the lower one
 * aborts the session there, and the count says which stage it was. */
START_TEST(chain_aborts_are_per_stage)
{
	const char *const specs[] = { "framer-len: width = 4;", "framer-len: width = 2;", NULL };
	struct tp_harness *h = tp_harness_new_chain(specs);
	uint8_t frame[16];
	struct tp_buf *b;

	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	tp_harness_push_down(h, "\x45hello", 6);
	b = tp_harness_pull_down(h);
	ck_assert_ptr_nonnull(b);
	/* 2-byte length of (4-byte length + 6 bytes), then the inner frame */
	ck_assert_uint_eq(b->len, 12);
	memcpy(frame, b->data, b->len);
	ck_assert_mem_eq(frame, "\x00\x0a\x00\x00\x00\x06\x45hello", 12);
	tp_harness_buf_free(h, b);
	tp_harness_push_up(h, frame, 12);
	b = tp_harness_pull_up(h);
	ck_assert_ptr_nonnull(b);
	ck_assert_mem_eq(b->data, "\x45hello", 6);
	tp_harness_buf_free(h, b);

	tp_harness_push_up(h, "\x00\x00", 2);
	ck_assert_int_eq(tp_harness_stage_aborts(h, 0), 0);
	ck_assert_int_eq(tp_harness_stage_aborts(h, 1), 1);
	ck_assert_int_eq(tp_harness_aborts(h), 1);
	ck_assert_ptr_nonnull(strstr(tp_harness_stage_abort_reason(h, 1), "zero-length"));
	ck_assert_ptr_null(tp_harness_stage_abort_reason(h, 0));
	ck_assert_str_eq(tp_harness_abort_reason(h), tp_harness_stage_abort_reason(h, 1));
	tp_harness_free(h);
}
END_TEST

START_TEST(chain_bad_spec_is_reported)
{
	const char *const bad[] = { "tp-count", "tp-gen: size = 10;", NULL };
	const char *const none[] = { NULL };

	ck_assert_ptr_null(tp_harness_new_chain(bad));
	ck_assert_msg(strstr(tp_harness_last_error(), "size") != NULL, "'%s'", tp_harness_last_error());
	ck_assert_ptr_null(tp_harness_new_chain(none));
}
END_TEST

/* ---- the test clock ---- */

/* tp-gen sends a batch per interval: with the test clock nothing is sent
 * until the test moves time, then exactly what the elapsed time allows. */
START_TEST(clock_fires_timers_only_when_advanced)
{
	struct tp_harness *h = must_new("tp-gen", "count = 10; batch = 1; interval_ms = 100;");
	struct tp_harness *other = must_new("tp-gen", "count = 10; batch = 1; interval_ms = 250;");
	uint64_t t0 = tp_harness_now(h);
	struct tp_buf *b;

	ck_assert_uint_eq(tp_harness_now(other), t0); /* one clock */
	ck_assert_int_eq(tp_harness_start(h), 0);
	ck_assert_int_eq(tp_harness_start(other), 0);
	ck_assert_int_eq(tp_harness_poll(h, 50), 0); /* 50 ms of wall time: no timer */
	ck_assert_uint_eq(tp_harness_queued_down(h), 0);
	ck_assert_uint_eq(tp_harness_now(h), t0);

	tp_harness_advance(h, 99);
	ck_assert_uint_eq(tp_harness_queued_down(h), 0);
	tp_harness_advance(h, 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	/* One step over several deadlines fires each of them, on every
	 * harness: 100 ms ticks at 200..500, 250 ms ones at 250 and 500. */
	tp_harness_advance(other, 400);
	ck_assert_uint_eq(tp_harness_now(h), t0 + 500);
	ck_assert_uint_eq(tp_harness_queued_down(h), 5);
	ck_assert_uint_eq(tp_harness_queued_down(other), 2);
	while ((b = tp_harness_pull_down(h)) != NULL)
		tp_harness_buf_free(h, b);
	while ((b = tp_harness_pull_down(other)) != NULL)
		tp_harness_buf_free(other, b);
	tp_harness_free(other);
	tp_harness_free(h);
}
END_TEST

/* ---- no nesting (plugin.h, THE CALL SEQUENCE) ---- */

/* tp-reenter sends `hello` packets down from its SESSION_UP handler;
 * tp-loop below sends each straight back up, into tp-reenter's up() --
 * while tp-reenter's event() is still running.  The core holds that up()
 * until event() has returned, and so must the harness: tp-reenter counts
 * every nested call in "reentered", and checks the hellos come back in
 * order. */
START_TEST(no_nesting_event_into_loopback)
{
	const char *const specs[] = { "tp-reenter: hello = 3;", "tp-loop", NULL };
	struct tp_harness *h = tp_harness_new_chain(specs);
	struct tp_session_info info = { .size = sizeof(info) };
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &info };
	uint64_t sent;

	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	sent = tp_harness_stage_counter(h, 0, "hello_sent");
	tp_harness_event(h, &ev);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "hello_sent"), sent + 3);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "reentered"), 0);
	/* every held delivery was made, in order, before tp_harness_event returned */
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "hello_back"), sent + 3);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "hello_back_bad"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "down_packets"), sent + 3);
	/* tp-reenter takes its hellos out: nothing reaches the top, not even
	 * an empty batch (the core passes none on) */
	ck_assert_uint_eq(tp_harness_batches_up(h), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

/* The harness twin of test_core's no_host_call_reenters_the_calling_stage:
 * the sink declares its session up from start() and again from a timer
 * (a host call outside any callback the harness made); the SESSION_UP the
 * harness broadcasts makes tp-reenter send hellos down into the sink that
 * is still inside session_up(); the sink answers tp-gen's packets at once,
 * inside tp-reenter's and tp-gen's emit_down().  Nothing nests, nothing is
 * lost, each kind keeps its order. */
START_TEST(no_nesting_session_up_and_loopback)
{
	const char *const specs[] = { "tp-gen: count = 40; batch = 4;", "tp-reenter: hello = 3;",
				      "tp-reenter-sink: hello = 3; again_ms = 5;", NULL };
	struct tp_harness *h = tp_harness_new_chain(specs);

	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	catch_sigterm();
	ck_assert_int_eq(tp_harness_start(h), 0);
	/* start() returned before the sink's down() saw the first hellos,
	 * and they had all made the round trip by then */
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "hello_sent"), 3);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "hello_seen"), 3);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "hello_back"), 3);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "session_up"), 1);
	tp_harness_advance(h, 100);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(tp_harness_stage_counter(h, i, "reentered"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "session_up"), 2);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "hello_sent"), 6);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "hello_seen"), 6);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "hello_back"), 6);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "data_seen"), 40);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "up_packets"), 40);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "data_before_hello"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "hello_order_bad"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 2, "data_order_bad"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 1, "hello_back_bad"), 0);
	ck_assert_uint_eq(tp_harness_stage_counter(h, 0, "up_bad"), 0);
	ck_assert_int_eq(got_sigterm, 1);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}
END_TEST

/* ---- leaks fail ---- */

START_TEST(leaky_test)
{
	struct tp_harness *h = must_new("tp-count", NULL);

	(void)tp_harness_buf(h, "lost", 4); /* never given back */
	tp_harness_free(h);
}
END_TEST

/* Run test t under its own runner in a child: it must fail, with a message
 * holding `want`. */
static void must_fail(const TTest *t, const char *want)
{
	char logf[] = "/tmp/tp-harness-fail-XXXXXX";
	char text[4096] = "";
	int fd = mkstemp(logf), status;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		Suite *s = suite_create("must-fail");
		TCase *tc = tcase_create("must-fail");
		SRunner *sr;

		tcase_add_test(tc, t);
		suite_add_tcase(s, tc);
		sr = srunner_create(s);
		srunner_set_log(sr, logf);
		srunner_run_all(sr, CK_SILENT);
		_exit(srunner_ntests_failed(sr) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_ge(read(fd, text, sizeof(text) - 1), 1);
	close(fd);
	unlink(logf);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the test did not fail: %s", text);
	ck_assert_msg(strstr(text, want) != NULL, "'%s' lacks '%s'", text, want);
}

/* It must fail, naming the plugin and the count. */
START_TEST(leak_fails_the_test)
{
	must_fail(leaky_test, "harness (tp-count): 1 buffers never returned to the pool");
}
END_TEST

/* ---- what a stage does through the host, recorded ---- */

/* A host service called with a handle the harness never gave a stage: the
 * core would take it for one of its own structs. */
START_TEST(foreign_handle_test)
{
	struct tp_harness *h = must_new("tp-count", NULL);
	struct tp_stage *bogus = (struct tp_stage *)&h; /* any other pointer */

	(void)tp_harness_host(h)->buf_alloc(bogus, 10);
	tp_harness_free(h);
}
END_TEST

START_TEST(foreign_stage_handle_fails_the_test)
{
	must_fail(foreign_handle_test, "host->buf_alloc() was given");
}
END_TEST

/* tp-gen allocates `size` bytes per packet: every request is recorded,
 * the refused one too; the refusal is one call, once; the log keeps what
 * the stage said, line by line, until cleared. */
START_TEST(allocs_failures_and_log_are_recorded)
{
	struct tp_harness *h = must_new("tp-gen", "count = 4; batch = 2; size = 60; interval_ms = 10;");
	struct tp_session_info info = { .size = sizeof(info) };
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &info };
	const size_t *sizes;
	struct tp_buf *b;
	size_t n;

	ck_assert_int_eq(tp_harness_start(h), 0);
	tp_harness_fail_alloc_after(h, 1);
	tp_harness_advance(h, 10); /* tick 1: one packet, then the refusal */
	ck_assert_uint_eq(tp_harness_counter(h, "alloc_failed"), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	tp_harness_advance(h, 20); /* ticks 2 and 3: the other three */
	ck_assert_uint_eq(tp_harness_counter(h, "alloc_failed"), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 4);
	n = tp_harness_allocs(h, &sizes);
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(sizes[i], 60);
	tp_harness_allocs_clear(h);
	ck_assert_uint_eq(tp_harness_allocs(h, NULL), 0);
	while ((b = tp_harness_pull_down(h)) != NULL)
		tp_harness_buf_free(h, b);

	ck_assert_str_eq(tp_harness_log_text(h), "");
	info.addr4.family = AF_INET;
	info.addr4.plen = 24;
	memcpy(info.addr4.addr, "\x0a\x00\x00\x02", 4);
	tp_harness_event(h, &ev);
	tp_harness_event(h, &ev);
	ck_assert_str_eq(tp_harness_log_text(h), "info: tp-gen: session up, address 10.0.0.2/24\n"
						 "info: tp-gen: session up, address 10.0.0.2/24\n");
	ck_assert_int_eq(tp_harness_log_count(h, TP_LOG_INFO), 2);
	ck_assert_int_eq(tp_harness_log_count(h, TP_LOG_ERROR), 0);
	tp_harness_log_clear(h);
	ck_assert_str_eq(tp_harness_log_text(h), "");
	ck_assert_int_eq(tp_harness_log_count(h, TP_LOG_INFO), 0);
	ck_assert_ptr_eq(tp_harness_stage_handle(h, 0), tp_harness_stage_handle(h, 0));
	tp_harness_free(h);
}
END_TEST

static Suite *harness_suite(void)
{
	Suite *s = suite_create("harness");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, count_passes_both_ways);
	tcase_add_test(tc, count_keeps_batches_and_events);
	tcase_add_test(tc, unread_output_is_outstanding);
	tcase_add_test(tc, options_errors_are_reported);
	tcase_add_test(tc, missing_plugin_is_reported);
	tcase_add_test(tc, gen_emits_valid_numbered_packets);
	tcase_add_test(tc, gen_checks_what_comes_back);
	tcase_add_test(tc, gen_raises_sigterm_when_all_came_back);
	tcase_add_test(tc, loop_opens_session_and_reflects);
	tcase_add_test(tc, stack_and_session_accessors);
	tcase_add_test(tc, chain_lz4_over_framer_len);
	tcase_add_test(tc, chain_aborts_are_per_stage);
	tcase_add_test(tc, chain_bad_spec_is_reported);
	tcase_add_test(tc, clock_fires_timers_only_when_advanced);
	tcase_add_test(tc, no_nesting_event_into_loopback);
	tcase_add_test(tc, no_nesting_session_up_and_loopback);
	tcase_add_test(tc, leak_fails_the_test);
	tcase_add_test(tc, foreign_stage_handle_fails_the_test);
	tcase_add_test(tc, allocs_failures_and_log_are_recorded);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return harness_suite();
}
