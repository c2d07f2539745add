/* SPDX-License-Identifier: MIT */
/*
 * test_compress_lz4.c — the compress-lz4 transform between the harness's
 * fake ends: round trips, the wire format, hostile input, options, leaks.
 *
 * Frames for the "hostile peer" cases are built here with liblz4 directly,
 * so these tests check the decoder against the format in README.md, not
 * just against our own encoder.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>

#include "harness.h"

#define PLUGIN "compress-lz4"
#define MAXLEN 65535

static uint8_t pkt[MAXLEN];

/* xorshift: deterministic "random" payloads, so a failure reproduces. */
static uint32_t rng_state;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	rng_state = seed ? seed : 1;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rng() >> 11);
}

/* Text-like and repetitive: compresses well. */
static void fill_text(uint8_t *p, size_t len)
{
	static const char words[] = "GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n";

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)words[i % (sizeof(words) - 1)];
}

/* Words picked at random from a small vocabulary: compressible, but with
 * matches of every length and distance, where a better matcher shows. */
static void fill_words(uint8_t *p, size_t len, uint32_t seed)
{
	static const char *const words[] = { "tunnel ", "packet ", "the ", "session ",
		"compress ", "of ", "buffer ", "a ", "pipeline ", "stage ", "and ", "frame ",
		"router ", "peer ", "in ", "header " };
	size_t i = 0;

	rng_state = seed;
	while (i < len) {
		const char *w = words[rng() % 16];

		while (*w && i < len)
			p[i++] = (uint8_t)*w++;
	}
}

/* First half text, second half random. */
static void fill_mixed(uint8_t *p, size_t len, uint32_t seed)
{
	fill_text(p, len / 2);
	fill_random(p + len / 2, len - len / 2, seed);
}

static struct tp_harness *new_h(const char *opts)
{
	struct tp_harness *h = tp_harness_new(PLUGIN, opts);

	ck_assert_msg(h != NULL, "harness for %s (%s): %s", PLUGIN, opts ? opts : "defaults",
		      tp_harness_last_error());
	return h;
}

static void free_h(struct tp_harness *h)
{
	ck_assert_uint_eq(tp_harness_queued_down(h), 0);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
}

/*
 * Send len bytes down, check the one message that comes out, feed that very
 * buffer up and check the original comes back.  Returns the marker seen.
 */
static int round_trip(struct tp_harness *h, const uint8_t *data, size_t len)
{
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *wire, *back;
	int marker;

	tp_harness_push_down(h, data, len);
	ck_assert_uint_eq(tp_harness_queued_down(h), 1);
	wire = tp_harness_pull_down(h);
	ck_assert_uint_ge(wire->len, 1);
	marker = wire->data[0];
	ck_assert_msg(marker == 0 || marker == 1, "len %zu: marker %d", len, marker);
	if (marker == 0) {
		ck_assert_uint_eq(wire->len, len + 1);
		ck_assert_int_eq(memcmp(wire->data + 1, data, len), 0);
	} else {
		ck_assert_msg(wire->len < len + 1, "len %zu: compressed to %u, not smaller",
			      len, (unsigned)wire->len);
	}

	tp_batch_add(&q, wire);
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	back = tp_harness_pull_up(h);
	ck_assert_uint_eq(back->len, len);
	ck_assert_int_eq(memcmp(back->data, data, len), 0);
	tp_harness_buf_free(h, back);
	return marker;
}

static const size_t sizes[] = { 1, 2, 15, 16, 63, 64, 65, 100, 257, 576, 1280, 1400, 1500,
				4096, 9000, 32768, 65534, MAXLEN };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

START_TEST(test_random_stored)
{
	/* With and without the entropy shortcut: random data never shrinks,
	 * so it must always go stored, whichever path decided it. */
	const char *opts = _i ? "skip_entropy = false;" : NULL;
	struct tp_harness *h = new_h(opts);
	uint64_t bytes = 0, big = 0;

	for (size_t i = 0; i < NSIZES; i++) {
		fill_random(pkt, sizes[i], (uint32_t)i + 7);
		ck_assert_int_eq(round_trip(h, pkt, sizes[i]), 0);
		bytes += sizes[i];
		big += sizes[i] >= 64;
	}
	ck_assert_uint_eq(tp_harness_counter(h, "stored"), NSIZES);
	ck_assert_uint_eq(tp_harness_counter(h, "compressed"), 0);
	ck_assert_uint_eq(tp_harness_counter(h, "skipped"), _i ? 0 : big);
	ck_assert_uint_eq(tp_harness_counter(h, "bytes_in"), bytes);
	ck_assert_uint_eq(tp_harness_counter(h, "bytes_out"), bytes + NSIZES);
	free_h(h);
}
END_TEST

START_TEST(test_text_compressed)
{
	struct tp_harness *h = new_h(NULL);
	uint64_t small = 0, bytes_out = 0;

	uint64_t wins = 0;

	fill_text(pkt, MAXLEN);
	for (size_t i = 0; i < NSIZES; i++) {
		int m = round_trip(h, pkt, sizes[i]);

		/* min_size defaults to 64: shorter packets are not attempted.
		 * Our 57-byte text period only starts paying off a little above
		 * 64 bytes (LZ4 needs a 4-byte match and 5 trailing literals). */
		if (sizes[i] < 64)
			ck_assert_msg(m == 0, "len %zu: compressed below min_size", sizes[i]);
		else if (sizes[i] >= 100)
			ck_assert_msg(m == 1, "len %zu: text not compressed", sizes[i]);
		small += sizes[i] < 64;
		wins += m;
	}
	ck_assert_uint_ge(wins, NSIZES - small - 2);
	ck_assert_uint_eq(tp_harness_counter(h, "compressed"), wins);
	ck_assert_uint_eq(tp_harness_counter(h, "decompressed"), wins);
	ck_assert_uint_eq(tp_harness_counter(h, "stored"), NSIZES - wins);
	ck_assert_uint_eq(tp_harness_counter(h, "skipped"), 0);
	bytes_out = tp_harness_counter(h, "bytes_out");
	ck_assert_uint_lt(bytes_out, tp_harness_counter(h, "bytes_in") / 10);
	free_h(h);
}
END_TEST

START_TEST(test_mixed_and_state_reuse)
{
	/* Alternate incompressible and compressible packets with the
	 * heuristic off, so every packet goes through the compressor: a
	 * failed attempt must not spoil the reused LZ4 state. */
	struct tp_harness *h = new_h(_i ? "hc = true; hc_level = 12; skip_entropy = false;"
				     : "skip_entropy = false; level = 3;");
	static uint8_t txt[MAXLEN];

	fill_text(txt, MAXLEN);
	for (size_t i = 0; i < NSIZES; i++) {
		size_t len = sizes[i];
		int m;

		fill_random(pkt, len, (uint32_t)len);
		ck_assert_int_eq(round_trip(h, pkt, len), 0);
		m = round_trip(h, txt, len);
		if (len < 64 || len >= 100)
			ck_assert_msg(m == (len >= 64), "len %zu: marker %d", len, m);
		fill_mixed(pkt, len, (uint32_t)len * 3);
		round_trip(h, pkt, len);
	}
	ck_assert_uint_ge(tp_harness_counter(h, "compressed"), 12);
	free_h(h);
}
END_TEST

START_TEST(test_stored_uses_headroom)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b, *out;
	uint8_t *before;

	fill_random(pkt, 300, 42);
	b = tp_harness_buf(h, pkt, 300);
	before = b->data;
	tp_batch_add(&q, b);
	tp_harness_push_down_batch(h, &q);
	out = tp_harness_pull_down(h);
	ck_assert_ptr_eq(out, b);            /* the same buffer went on */
	ck_assert_ptr_eq(out->data, before - 1); /* marker pushed in front */
	ck_assert_uint_eq(out->data[0], 0);
	ck_assert_int_eq(memcmp(out->data + 1, pkt, 300), 0);
	tp_harness_buf_free(h, out);
	free_h(h);
}
END_TEST

START_TEST(test_batch_one_emit)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b;
	int markers[3];

	fill_text(pkt, 1000);
	tp_batch_add(&q, tp_harness_buf(h, pkt, 1000));
	fill_random(pkt, 1000, 5);
	tp_batch_add(&q, tp_harness_buf(h, pkt, 1000));
	tp_batch_add(&q, tp_harness_buf(h, pkt, 10));
	tp_harness_push_down_batch(h, &q);
	ck_assert_uint_eq(tp_harness_batches_down(h), 1);
	ck_assert_uint_eq(tp_harness_queued_down(h), 3);
	for (int i = 0; i < 3; i++) {
		b = tp_harness_pull_down(h);
		markers[i] = b->data[0];
		tp_harness_buf_free(h, b);
	}
	/* order kept: compressed text, stored random, stored short */
	ck_assert_int_eq(markers[0], 1);
	ck_assert_int_eq(markers[1], 0);
	ck_assert_int_eq(markers[2], 0);
	free_h(h);
}
END_TEST

/* Feed one raw message up; expect it dropped, nothing emitted. */
static void expect_dropped(struct tp_harness *h, const void *msg, size_t len, const char *counter,
			   uint64_t want)
{
	tp_harness_push_up(h, msg, len);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_uint_eq(tp_harness_batches_up(h), 0);
	ck_assert_uint_eq(tp_harness_counter(h, counter), want);
	ck_assert_int_eq(tp_harness_aborts(h), 0); /* one bad packet is not fatal */
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
}

/* marker 1 + an LZ4 block of src, built with liblz4 itself. */
static int make_frame(uint8_t *frame, const uint8_t *src, int len)
{
	int n = LZ4_compress_default((const char *)src, (char *)frame + 1, len,
				     LZ4_compressBound(len));

	ck_assert_int_gt(n, 0);
	frame[0] = 1;
	return n + 1;
}

START_TEST(test_bad_input_dropped)
{
	struct tp_harness *h = new_h(NULL);
	static uint8_t frame[LZ4_COMPRESSBOUND(MAXLEN) + 1];
	static const uint8_t bad2[] = { 2, 'x' }, badff[] = { 0xff }, lone[] = { 1 };
	static const uint8_t garbage[] = { 1, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00 };
	uint64_t bad = 0;
	int n;

	expect_dropped(h, "", 0, "bad_frame", ++bad);
	expect_dropped(h, bad2, sizeof(bad2), "bad_marker", 1);
	expect_dropped(h, badff, sizeof(badff), "bad_marker", 2);
	expect_dropped(h, lone, sizeof(lone), "bad_frame", ++bad);
	expect_dropped(h, garbage, sizeof(garbage), "bad_frame", ++bad);

	/* Truncated blocks: LZ4 ends every block with literals, so any cut
	 * leaves a sequence that points past the input. */
	fill_mixed(pkt, 2000, 9);
	n = make_frame(frame, pkt, 2000);
	for (int cut = 1; cut < n - 1; cut += n / 7 + 1)
		expect_dropped(h, frame, (size_t)cut + 1, "bad_frame", ++bad);
	expect_dropped(h, frame, (size_t)n - 1, "bad_frame", ++bad);

	/* A match offset reaching before the start of the output. */
	{
		static const uint8_t far[] = { 1, 0x1f, 'a', 0xff, 0x00, 0x00 };
		expect_dropped(h, far, sizeof(far), "bad_frame", ++bad);
	}

	/* A block that decodes to 65536 bytes, one more than max_size. */
	{
		static uint8_t big[65536];
		memset(big, 'z', sizeof(big));
		n = make_frame(frame, big, (int)sizeof(big));
		ck_assert_int_lt(n, 400); /* tiny on the wire: a bomb */
		expect_dropped(h, frame, (size_t)n, "bad_frame", ++bad);
		/* it failed the retry too: not counted as a big decode */
		ck_assert_uint_eq(tp_harness_counter(h, "big_decodes"), 0);
	}

	/* The stage still works after all that. */
	fill_text(pkt, 1000);
	n = make_frame(frame, pkt, 1000);
	tp_harness_push_up(h, frame, (size_t)n);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	{
		struct tp_buf *b = tp_harness_pull_up(h);
		ck_assert_uint_eq(b->len, 1000);
		ck_assert_int_eq(memcmp(b->data, pkt, 1000), 0);
		tp_harness_buf_free(h, b);
	}
	ck_assert_uint_eq(tp_harness_counter(h, "decompressed"), 1);
	free_h(h);
}
END_TEST

/*
 * Decoding takes a packet-sized pool buffer first and a max_size one only
 * when the packet does not fit there (big_decodes): a usual packet must
 * never cost a 64 KiB-class buffer, whatever max_size says (above
 * 64 KiB + 512 the pool would malloc one per packet).
 */
static struct tp_buf *decode_frame(struct tp_harness *h, const uint8_t *src, int len)
{
	static uint8_t frame[LZ4_COMPRESSBOUND(MAXLEN) + 1];
	int n = make_frame(frame, src, len);

	tp_harness_push_up(h, frame, (size_t)n);
	ck_assert_uint_eq(tp_harness_queued_up(h), 1);
	return tp_harness_pull_up(h);
}

START_TEST(test_decode_buffer_size)
{
	const char *opts[] = { NULL, "max_size = 1048576;" };

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct tp_harness *h = new_h(opts[i]);
		struct tp_buf *b;

		fill_text(pkt, 9000);
		b = decode_frame(h, pkt, 1400);
		ck_assert_uint_eq(b->len, 1400);
		ck_assert_int_eq(memcmp(b->data, pkt, 1400), 0);
		ck_assert_msg(b->end - b->head < 8192, "a 1400-byte packet was decoded into a %td-byte buffer",
			      b->end - b->head);
		tp_harness_buf_free(h, b);
		ck_assert_uint_eq(tp_harness_counter(h, "big_decodes"), 0);

		/* Too big for the first try: decoded on the retry, intact. */
		b = decode_frame(h, pkt, 9000);
		ck_assert_uint_eq(b->len, 9000);
		ck_assert_int_eq(memcmp(b->data, pkt, 9000), 0);
		tp_harness_buf_free(h, b);
		ck_assert_uint_eq(tp_harness_counter(h, "big_decodes"), 1);
		ck_assert_uint_eq(tp_harness_counter(h, "decompressed"), 2);
		ck_assert_uint_eq(tp_harness_counter(h, "bad_frame"), 0);
		free_h(h);
	}
}
END_TEST

START_TEST(test_max_size_boundary)
{
	struct tp_harness *h = new_h("max_size = 64;");
	uint8_t frame[LZ4_COMPRESSBOUND(65) + 1];
	struct tp_buf *b;
	int n;

	memset(pkt, 'q', 65);
	n = make_frame(frame, pkt, 64);
	tp_harness_push_up(h, frame, (size_t)n);
	b = tp_harness_pull_up(h);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, 64);
	tp_harness_buf_free(h, b);

	n = make_frame(frame, pkt, 65);
	tp_harness_push_up(h, frame, (size_t)n);
	ck_assert_uint_eq(tp_harness_queued_up(h), 0);
	ck_assert_uint_eq(tp_harness_counter(h, "bad_frame"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "decompressed"), 1);
	free_h(h);
}
END_TEST

START_TEST(test_batch_up_good_and_bad)
{
	struct tp_harness *h = new_h(NULL);
	struct tp_batch q = TP_BATCH_INIT;
	static const uint8_t stored[] = { 0, 'h', 'i' }, junk[] = { 7, 1, 2 };
	struct tp_buf *b;

	tp_batch_add(&q, tp_harness_buf(h, stored, sizeof(stored)));
	tp_batch_add(&q, tp_harness_buf(h, junk, sizeof(junk)));
	tp_batch_add(&q, tp_harness_buf(h, "", 0));
	tp_batch_add(&q, tp_harness_buf(h, stored, sizeof(stored)));
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_batches_up(h), 1);
	ck_assert_uint_eq(tp_harness_queued_up(h), 2);
	while ((b = tp_harness_pull_up(h))) {
		ck_assert_uint_eq(b->len, 2);
		ck_assert_int_eq(memcmp(b->data, "hi", 2), 0);
		tp_harness_buf_free(h, b);
	}
	ck_assert_uint_eq(tp_harness_counter(h, "bad_marker"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "bad_frame"), 1);
	free_h(h);
}
END_TEST

START_TEST(test_min_size)
{
	struct tp_harness *h = new_h("min_size = 1000;");

	fill_text(pkt, 1000);
	ck_assert_int_eq(round_trip(h, pkt, 999), 0);
	ck_assert_int_eq(round_trip(h, pkt, 1000), 1);
	free_h(h);
}
END_TEST

START_TEST(test_hc_smaller_than_fast)
{
	struct tp_harness *fast = new_h("level = 1;");
	struct tp_harness *hc = new_h("hc = true; hc_level = 12;");

	fill_words(pkt, 8000, 3);
	ck_assert_int_eq(round_trip(fast, pkt, 8000), 1);
	ck_assert_int_eq(round_trip(hc, pkt, 8000), 1);
	/* The options reach the compressor: HC 12 beats the fast one. */
	ck_assert_uint_lt(tp_harness_counter(hc, "bytes_out"), tp_harness_counter(fast, "bytes_out"));
	free_h(fast);
	free_h(hc);
}
END_TEST

static const char *const bad_opts[][2] = {
	{ "level = 0;", "level" },
	{ "level = 65538;", "level" },
	{ "hc_level = 13;", "hc_level" },
	{ "hc_level = 0;", "hc_level" },
	{ "max_size = 63;", "max_size" },
	{ "max_size = 1048577;", "max_size" },
	{ "hc = 1;", "hc" },
	{ "lvl = 3;", "lvl" },
};

START_TEST(test_bad_options)
{
	struct tp_harness *h = tp_harness_new(PLUGIN, bad_opts[_i][0]);

	ck_assert_msg(h == NULL, "'%s' was accepted", bad_opts[_i][0]);
	ck_assert_msg(strstr(tp_harness_last_error(), bad_opts[_i][1]) != NULL,
		      "error for '%s' does not name the option: %s", bad_opts[_i][0],
		      tp_harness_last_error());
}
END_TEST

START_TEST(test_good_options)
{
	struct tp_harness *h = new_h("level = 65537; hc = true; hc_level = 1; max_size = 1048576;"
				     " min_size = 0; skip_entropy = false;");

	/* With min_size 0 even a 2-byte packet is tried (and stored). */
	ck_assert_int_eq(round_trip(h, (const uint8_t *)"aa", 2), 0);
	/* A packet bigger than the pool's large class still round-trips. */
	{
		static uint8_t big[200000];
		fill_text(big, sizeof(big));
		ck_assert_int_eq(round_trip(h, big, sizeof(big)), 1);
	}
	free_h(h);
}
END_TEST

static Suite *lz4_suite(void)
{
	Suite *s = suite_create("compress-lz4");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_random_stored, 0, 2);
	tcase_add_test(tc, test_text_compressed);
	tcase_add_loop_test(tc, test_mixed_and_state_reuse, 0, 2);
	tcase_add_test(tc, test_stored_uses_headroom);
	tcase_add_test(tc, test_batch_one_emit);
	tcase_add_test(tc, test_bad_input_dropped);
	tcase_add_test(tc, test_decode_buffer_size);
	tcase_add_test(tc, test_max_size_boundary);
	tcase_add_test(tc, test_batch_up_good_and_bad);
	tcase_add_test(tc, test_min_size);
	tcase_add_test(tc, test_hc_smaller_than_fast);
	tcase_add_loop_test(tc, test_bad_options, 0, (int)(sizeof(bad_opts) / sizeof(bad_opts[0])));
	tcase_add_test(tc, test_good_options);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return lz4_suite();
}
