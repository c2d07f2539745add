/* SPDX-License-Identifier: MIT */
/* test_buf.c — the packet buffer pool and the batch helpers of plugin.h. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

START_TEST(test_geometry)
{
	struct tp_pool *p = tp_pool_new(40, 16, 1500, 0);
	struct tp_buf *b;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(tp_pool_headroom(p), 40);
	b = tp_pool_alloc(p, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, 0);
	ck_assert_uint_eq(tp_buf_headroom(b), 40);
	/* Payload room is default_len rounded up, plus the pool's tailroom. */
	ck_assert_uint_ge(tp_buf_tailroom(b), 1500 + 16);
	ck_assert_uint_lt(tp_buf_tailroom(b), 1500 + 16 + 64);
	ck_assert_ptr_null(b->next);
	/* The whole room is writable (valgrind would flag an overrun). */
	memset(b->head, 0xab, (size_t)(b->end - b->head));
	tp_pool_free(p, b);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_push_pull_put)
{
	struct tp_pool *p = tp_pool_new(8, 4, 100, 0);
	struct tp_buf *b = tp_pool_alloc(p, 0);
	size_t tail0 = tp_buf_tailroom(b);
	uint8_t *d0 = b->data, *q;

	q = tp_buf_put(b, 10);
	ck_assert_ptr_eq(q, d0);
	memcpy(q, "0123456789", 10);
	ck_assert_uint_eq(b->len, 10);
	ck_assert_uint_eq(tp_buf_tailroom(b), tail0 - 10);

	q = tp_buf_push(b, 8); /* a framer's header, in place */
	ck_assert_ptr_eq(q, d0 - 8);
	ck_assert_ptr_eq(q, b->head);
	ck_assert_uint_eq(tp_buf_headroom(b), 0);
	ck_assert_uint_eq(b->len, 18);
	memcpy(q, "HDRHDRHD", 8);

	q = tp_buf_pull(b, 8);
	ck_assert_ptr_eq(q, d0);
	ck_assert_uint_eq(b->len, 10);
	ck_assert_int_eq(memcmp(b->data, "0123456789", 10), 0);

	tp_buf_trim(b, 4);
	ck_assert_uint_eq(b->len, 4);
	tp_buf_trim(b, 40); /* never grows */
	ck_assert_uint_eq(b->len, 4);

	tp_pool_free(p, b);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_reuse_no_growth)
{
	struct tp_pool *p = tp_pool_new(32, 0, 1600, 0);
	struct tp_pool_stats st;
	struct tp_buf *b = tp_pool_alloc(p, 0), *first = b;

	/* Dirty it: the next owner must see a fresh layout. */
	tp_buf_put(b, 100);
	tp_buf_pull(b, 20);
	tp_pool_free(p, b);
	for (int i = 0; i < 10000; i++) {
		b = tp_pool_alloc(p, 0);
		ck_assert_ptr_eq(b, first);
		ck_assert_uint_eq(b->len, 0);
		ck_assert_uint_eq(tp_buf_headroom(b), 32);
		tp_buf_put(b, (size_t)(i % 1500));
		tp_pool_free(p, b);
	}
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.created, 1);
	ck_assert_uint_eq(st.outstanding, 0);
	ck_assert_uint_eq(st.cached, 1);
	ck_assert_uint_gt(st.bytes, 1600 + 32);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_lifo)
{
	struct tp_pool *p = tp_pool_new(0, 0, 256, 0);
	struct tp_buf *a = tp_pool_alloc(p, 0), *b = tp_pool_alloc(p, 0);

	ck_assert_ptr_ne(a, b);
	tp_pool_free(p, a);
	tp_pool_free(p, b);
	/* Last freed, first reused: it is the one still in the CPU cache. */
	ck_assert_ptr_eq(tp_pool_alloc(p, 0), b);
	ck_assert_ptr_eq(tp_pool_alloc(p, 0), a);
	ck_assert_uint_eq(tp_pool_destroy(p), 2); /* both still out: reported */
	free(a);
	free(b);
}
END_TEST

START_TEST(test_max_bufs)
{
	struct tp_pool *p = tp_pool_new(16, 0, 512, 3);
	struct tp_pool_stats st;
	struct tp_buf *b[3];

	for (int i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(b[i] = tp_pool_alloc(p, 0));
	ck_assert_ptr_null(tp_pool_alloc(p, 0));
	ck_assert_ptr_null(tp_pool_alloc(p, 70000)); /* one-offs count too */
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.failed, 2);
	ck_assert_uint_eq(st.outstanding, 3);

	tp_pool_free(p, b[1]); /* a slot frees up */
	b[1] = tp_pool_alloc(p, 0);
	ck_assert_ptr_nonnull(b[1]);
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.failed, 2);
	ck_assert_uint_eq(st.created, 3);
	for (int i = 0; i < 3; i++)
		tp_pool_free(p, b[i]);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_classes)
{
	struct tp_pool *p = tp_pool_new(64, 8, 2000, 0);
	struct tp_pool_stats st;
	struct tp_buf *s, *l, *big, *l2;

	s = tp_pool_alloc(p, 1000);
	ck_assert_uint_ge(tp_buf_tailroom(s), 2000); /* small class serves it */
	ck_assert_uint_lt(tp_buf_tailroom(s), TP_BUF_LARGE);

	l = tp_pool_alloc(p, 5000);
	ck_assert_uint_ge(tp_buf_tailroom(l), TP_BUF_LARGE + 8);
	ck_assert_uint_eq(tp_buf_headroom(l), 64);
	l2 = tp_pool_alloc(p, TP_BUF_LARGE);
	ck_assert_uint_ge(tp_buf_tailroom(l2), TP_BUF_LARGE);

	big = tp_pool_alloc(p, TP_BUF_LARGE + 1);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq(tp_buf_tailroom(big), TP_BUF_LARGE + 1 + 8);
	ck_assert_uint_eq(tp_buf_headroom(big), 64);
	memset(big->data, 1, TP_BUF_LARGE + 1 + 8);

	tp_pool_free(p, s);
	tp_pool_free(p, l);
	tp_pool_free(p, l2);
	tp_pool_free(p, big);
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.created, 4);
	ck_assert_uint_eq(st.cached, 3); /* the one-off was freed, not cached */
	ck_assert_uint_eq(st.outstanding, 0);

	/* Each class reuses its own buffers. */
	ck_assert_ptr_eq(tp_pool_alloc(p, 10), s);
	ck_assert_ptr_eq(tp_pool_alloc(p, 3000), l2);
	tp_pool_free(p, s);
	tp_pool_free(p, l2);
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.created, 4);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_bad_geometry)
{
	ck_assert_ptr_null(tp_pool_new(0, 0, TP_BUF_LARGE + 1, 0));
	struct tp_pool *p = tp_pool_new(0, 0, 0, 0); /* 0: a sane default */
	struct tp_buf *b = tp_pool_alloc(p, 0);
	ck_assert_uint_ge(tp_buf_tailroom(b), 1500);
	tp_pool_free(p, b);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_double_free)
{
	struct tp_pool *p = tp_pool_new(0, 0, 128, 0);
	struct tp_pool *other = tp_pool_new(0, 0, 128, 0);
	struct tp_pool_stats st;
	struct tp_buf *a = tp_pool_alloc(p, 0), *b;

	tp_pool_free(p, a);
	tp_pool_free(p, a); /* logged and ignored */
	tp_pool_get_stats(p, &st);
	ck_assert_uint_eq(st.outstanding, 0);
	ck_assert_uint_eq(st.cached, 1);
	/* Without the guard the list would hold `a` twice and hand it out twice. */
	a = tp_pool_alloc(p, 0);
	b = tp_pool_alloc(p, 0);
	ck_assert_ptr_ne(a, b);

	tp_pool_free(other, a); /* wrong pool: refused */
	tp_pool_get_stats(other, &st);
	ck_assert_uint_eq(st.cached, 0);
	tp_pool_free(p, a);
	tp_pool_free(p, b);
	tp_pool_free(p, NULL);
	ck_assert_uint_eq(tp_pool_destroy(other), 0);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

static struct tp_buf *filled(struct tp_pool *p, uint32_t len)
{
	struct tp_buf *b = tp_pool_alloc(p, 0);
	memset(tp_buf_put(b, len), (int)len, len);
	return b;
}

START_TEST(test_batch)
{
	struct tp_pool *p = tp_pool_new(0, 0, 256, 0);
	struct tp_batch a = TP_BATCH_INIT, b = TP_BATCH_INIT;
	struct tp_buf *x = filled(p, 10), *y = filled(p, 20), *z = filled(p, 30);

	ck_assert_ptr_null(tp_batch_pop(&a));
	tp_batch_add(&a, x);
	tp_batch_add(&a, y);
	tp_batch_add(&b, z);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_uint_eq(a.bytes, 30);

	tp_batch_splice(&a, &b);
	ck_assert_uint_eq(a.count, 3);
	ck_assert_uint_eq(a.bytes, 60);
	ck_assert_ptr_eq(a.tail, z);
	ck_assert_ptr_null(b.head);
	ck_assert_ptr_null(b.tail);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.bytes, 0);
	tp_batch_splice(&a, &b); /* empty: no change */
	ck_assert_uint_eq(a.count, 3);
	tp_batch_splice(&b, &a); /* into an empty batch */
	ck_assert_ptr_eq(b.head, x);
	ck_assert_uint_eq(b.count, 3);

	ck_assert_ptr_eq(tp_batch_pop(&b), x); /* FIFO order */
	ck_assert_ptr_null(x->next);
	ck_assert_uint_eq(b.bytes, 50);
	ck_assert_uint_eq(b.count, 2);
	tp_pool_free(p, x);

	tp_pool_free_batch(p, &b);
	ck_assert_ptr_null(b.head);
	ck_assert_ptr_null(b.tail);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.bytes, 0);
	ck_assert_uint_eq(tp_pool_destroy(p), 0);
}
END_TEST

START_TEST(test_leak_count)
{
	struct tp_pool *p = tp_pool_new(0, 0, 256, 0);
	struct tp_buf *b[5];

	for (int i = 0; i < 5; i++)
		b[i] = tp_pool_alloc(p, i == 4 ? 100000 : 0);
	tp_pool_free(p, b[0]);
	tp_pool_free(p, b[4]);
	ck_assert_uint_eq(tp_pool_destroy(p), 3);
	for (int i = 1; i < 4; i++)
		free(b[i]); /* single-malloc buffers: the test can clean up */
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_geometry);
	tcase_add_test(tc, test_push_pull_put);
	tcase_add_test(tc, test_reuse_no_growth);
	tcase_add_test(tc, test_lifo);
	tcase_add_test(tc, test_max_bufs);
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_bad_geometry);
	tcase_add_test(tc, test_double_free);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_leak_count);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return buf_suite();
}
