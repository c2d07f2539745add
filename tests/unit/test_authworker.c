/* SPDX-License-Identifier: MIT */
/*
 * test_authworker.c — the auth worker thread on its own (authworker.c).
 *
 * Most cases run a fake check that can be held at a "gate", so which job
 * is queued, running or done is decided by the test, not by timing: the
 * worker is stopped inside the gated job while the test cancels, fills
 * the queue or shuts down.  One case runs the real auth_verify() with
 * bcrypt.  Results are always awaited through the eventfd with poll(),
 * as the event loop would.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "authworker.h"

/* ---- a fake check: ok when pass equals hash; "gate" blocks ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_open, in_gate;
static char seen[16][32]; /* passwords the check ran on, in order */
static int n_seen;

static int fake_verify(const char *hash, int known, const char *pass, struct crypt_data *cd)
{
	(void)cd;
	pthread_mutex_lock(&mu);
	if (n_seen < 16)
		snprintf(seen[n_seen++], sizeof(seen[0]), "%s", pass);
	if (strcmp(hash, "gate") == 0) {
		in_gate = 1;
		pthread_cond_broadcast(&cv);
		while (!gate_open)
			pthread_cond_wait(&cv, &mu);
		in_gate = 0;
	}
	pthread_mutex_unlock(&mu);
	return known && strcmp(hash, pass) == 0;
}

static void reset_fake(void)
{
	gate_open = in_gate = n_seen = 0;
	memset(seen, 0, sizeof(seen));
}

/* Block until the worker sits in the gated job. */
static void wait_in_gate(void)
{
	pthread_mutex_lock(&mu);
	while (!in_gate)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void open_gate(void)
{
	pthread_mutex_lock(&mu);
	gate_open = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int ran(const char *pass)
{
	pthread_mutex_lock(&mu);
	int r = 0;
	for (int i = 0; i < n_seen; i++)
		r |= strcmp(seen[i], pass) == 0;
	pthread_mutex_unlock(&mu);
	return r;
}

static struct aw *new_worker(unsigned cap, aw_verify_fn fn)
{
	char err[256] = "";
	struct aw *w = aw_new(cap, fn, err, sizeof(err));
	ck_assert_msg(w != NULL, "aw_new: %s", err);
	return w;
}

static uint64_t submit(struct aw *w, const char *hash, const char *pass)
{
	uint64_t id = 0;
	ck_assert_int_eq(aw_submit(w, hash, 1, pass, &id), 0);
	ck_assert_uint_ne(id, 0);
	return id;
}

/* Collect `want` results through the eventfd (poll, then aw_collect), as
 * the loop does; fails after 5 s. */
static size_t await(struct aw *w, struct aw_result *out, size_t want)
{
	size_t n = 0;
	while (n < want) {
		struct pollfd pfd = { .fd = aw_fd(w), .events = POLLIN };
		ck_assert_msg(poll(&pfd, 1, 5000) == 1, "no result signalled within 5 s (%zu/%zu)", n, want);
		n += aw_collect(w, out + n, want - n);
	}
	return n;
}

/* Nothing signalled within ms. */
static int quiet_for(struct aw *w, int ms)
{
	struct pollfd pfd = { .fd = aw_fd(w), .events = POLLIN };
	return poll(&pfd, 1, ms) == 0;
}

/* Several threads: a check stuck in one (a slow hash) does not hold up
 * the others, which the remaining threads finish meanwhile. */
START_TEST(threads_run_checks_side_by_side)
{
	char err[256] = "";
	struct aw *w = aw_new_n(16, 3, fake_verify, err, sizeof(err));
	ck_assert_msg(w != NULL, "aw_new_n: %s", err);
	ck_assert_uint_eq(aw_threads(w), 3);
	reset_fake();
	uint64_t gated = submit(w, "gate", "g");
	wait_in_gate(); /* one thread is held */
	uint64_t id[6];
	for (int i = 0; i < 6; i++)
		id[i] = submit(w, "x", i % 2 ? "x" : "y");
	struct aw_result r[6];
	ck_assert_uint_eq(await(w, r, 6), 6); /* all done while the gate holds */
	int ok = 0;
	for (int i = 0; i < 6; i++) {
		ck_assert_uint_ne(r[i].id, gated);
		ok += r[i].ok;
	}
	ck_assert_int_eq(ok, 3);
	(void)id;
	open_gate();
	ck_assert_uint_eq(await(w, r, 1), 1);
	ck_assert_uint_eq(r[0].id, gated);
	aw_free(w);
}
END_TEST

START_TEST(thread_count_checked)
{
	char err[256] = "";
	ck_assert_ptr_null(aw_new_n(16, 0, fake_verify, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "threads"));
	ck_assert_ptr_null(aw_new_n(16, 65, fake_verify, err, sizeof(err)));
	ck_assert_ptr_null(aw_new_n(0, 2, fake_verify, err, sizeof(err)));
}
END_TEST

/* Fairness: an address with many checks queued gets one per round, like
 * an address with one; the others do not wait behind its queue. */
START_TEST(round_robin_across_keys)
{
	static const uint8_t ka[16] = { 1 }, kb[16] = { 2 }, kc[16] = { 3 };
	struct aw *w = new_worker(16, fake_verify);
	uint64_t id;
	reset_fake();
	ck_assert_int_eq(aw_submit_from(w, ka, "gate", 1, "g", &id), 0);
	wait_in_gate(); /* the worker is busy: everything below queues */
	const char *order[][2] = { { "a", "a1" }, { "a", "a2" }, { "a", "a3" }, { "a", "a4" },
				   { "b", "b1" }, { "c", "c1" } };
	for (int i = 0; i < 6; i++) {
		const uint8_t *k = order[i][0][0] == 'a' ? ka : order[i][0][0] == 'b' ? kb : kc;
		ck_assert_int_eq(aw_submit_from(w, k, "x", 1, order[i][1], &id), 0);
	}
	open_gate();
	struct aw_result r[7];
	ck_assert_uint_eq(await(w, r, 7), 7);
	/* a's running check was its turn of round 0: b and c go first */
	const char *want[] = { "g", "b1", "c1", "a1", "a2", "a3", "a4" };
	pthread_mutex_lock(&mu);
	ck_assert_int_eq(n_seen, 7);
	for (int i = 0; i < 7; i++)
		ck_assert_msg(strcmp(seen[i], want[i]) == 0, "check %d ran %s, want %s", i, seen[i],
			      want[i]);
	pthread_mutex_unlock(&mu);
	aw_free(w);
}
END_TEST

START_TEST(jobs_complete_in_order)
{
	struct aw *w = new_worker(8, fake_verify);
	uint64_t id[4];
	id[0] = submit(w, "a", "a");
	id[1] = submit(w, "b", "wrong");
	id[2] = submit(w, "c", "c");
	uint64_t unknown = 0;
	ck_assert_int_eq(aw_submit(w, "d", 0, "d", &unknown), 0); /* unknown user */
	id[3] = unknown;
	struct aw_result r[4];
	ck_assert_uint_eq(await(w, r, 4), 4);
	/* One worker, FIFO: completion order is submission order. */
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(r[i].id, id[i]);
	ck_assert_int_eq(r[0].ok, 1);
	ck_assert_int_eq(r[1].ok, 0);
	ck_assert_int_eq(r[2].ok, 1);
	ck_assert_int_eq(r[3].ok, 0); /* right password, but known = 0 */
	ck_assert_uint_eq(aw_pending(w), 0);
	ck_assert(quiet_for(w, 50)); /* the eventfd was cleared */
	/* ids are never reused */
	ck_assert_uint_gt(submit(w, "e", "e"), id[3]);
	aw_free(w);
}
END_TEST

/* The loop's array may be smaller than what is done: the rest stays
 * signalled. */
START_TEST(collect_in_parts)
{
	struct aw *w = new_worker(8, fake_verify);
	for (int i = 0; i < 5; i++)
		submit(w, "x", "x");
	for (;;) { /* all five done and posted: no later write can re-arm the fd */
		pthread_mutex_lock(&mu);
		int done = n_seen == 5;
		pthread_mutex_unlock(&mu);
		if (done)
			break;
		usleep(1000);
	}
	usleep(20000);
	struct aw_result r[5];
	size_t n = 0;
	for (int part = 0; part < 3; part++) {
		struct pollfd pfd = { .fd = aw_fd(w), .events = POLLIN };
		ck_assert_msg(poll(&pfd, 1, 0) == 1, "part %d: results left but the fd is quiet", part);
		n += aw_collect(w, r + n, n + 2 <= 5 ? 2 : 5 - n);
	}
	ck_assert_uint_eq(n, 5);
	for (int i = 1; i < 5; i++)
		ck_assert_uint_gt(r[i].id, r[i - 1].id);
	ck_assert(quiet_for(w, 20));
	aw_free(w);
}
END_TEST

START_TEST(cancel_queued_never_runs)
{
	struct aw *w = new_worker(8, fake_verify);
	uint64_t g = submit(w, "gate", "gate");
	wait_in_gate();
	uint64_t a = submit(w, "a", "pass-a");
	uint64_t b = submit(w, "b", "b");
	ck_assert_uint_eq(aw_pending(w), 3);
	aw_cancel(w, a);
	ck_assert_uint_eq(aw_pending(w), 2); /* its slot is free at once */
	aw_cancel(w, 12345);                 /* unknown ids are ignored */
	open_gate();
	struct aw_result r[2];
	await(w, r, 2);
	ck_assert_uint_eq(r[0].id, g);
	ck_assert_uint_eq(r[1].id, b);
	ck_assert(!ran("pass-a"));
	ck_assert(quiet_for(w, 100));
	ck_assert_uint_eq(aw_pending(w), 0);
	aw_free(w);
}
END_TEST

START_TEST(cancel_running_drops_result)
{
	struct aw *w = new_worker(8, fake_verify);
	uint64_t g = submit(w, "gate", "gate");
	wait_in_gate();
	aw_cancel(w, g);
	open_gate();
	ck_assert(quiet_for(w, 200)); /* no result for it, ever */
	struct aw_result r[1];
	ck_assert_uint_eq(aw_collect(w, r, 1), 0);
	ck_assert_uint_eq(aw_pending(w), 0);
	/* the worker goes on with the next job */
	uint64_t n = submit(w, "n", "n");
	await(w, r, 1);
	ck_assert_uint_eq(r[0].id, n);
	aw_free(w);
}
END_TEST

/* Done but not collected yet, then cancelled: not handed out. */
START_TEST(cancel_done_drops_result)
{
	struct aw *w = new_worker(8, fake_verify);
	uint64_t a = submit(w, "a", "a");
	uint64_t b = submit(w, "b", "b");
	while (!ran("b"))
		usleep(1000);
	struct pollfd pfd = { .fd = aw_fd(w), .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	usleep(20000); /* b's result posted too */
	aw_cancel(w, a);
	struct aw_result r[2];
	ck_assert_uint_eq(aw_collect(w, r, 2), 1);
	ck_assert_uint_eq(r[0].id, b);
	aw_free(w);
}
END_TEST

START_TEST(queue_full_refuses)
{
	struct aw *w = new_worker(4, fake_verify);
	submit(w, "gate", "gate");
	wait_in_gate();
	submit(w, "a", "a");
	submit(w, "b", "b");
	submit(w, "c", "c");
	uint64_t id = 0;
	errno = 0;
	ck_assert_int_eq(aw_submit(w, "d", 1, "pass-d", &id), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* too long for a job: refused, not truncated */
	char big[300];
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	open_gate();
	struct aw_result r[4];
	await(w, r, 4);
	ck_assert(!ran("pass-d"));
	ck_assert_int_eq(aw_submit(w, "d", 1, "d", &id), 0); /* room again */
	ck_assert_int_eq(aw_submit(w, "e", 1, big, &id), -1);
	ck_assert_int_eq(errno, E2BIG);
	await(w, r, 1);
	aw_free(w);
}
END_TEST

static int keep_odd(void *arg, uint64_t id)
{
	(*(int *)arg)++;
	return (int)(id & 1);
}

START_TEST(sweep_drops_orphans)
{
	struct aw *w = new_worker(8, fake_verify);
	uint64_t g = submit(w, "gate", "gate");
	wait_in_gate();
	uint64_t id[4];
	for (int i = 0; i < 4; i++)
		id[i] = submit(w, "s", i % 2 ? "odd" : "even");
	int asked = 0;
	ck_assert_uint_eq(aw_sweep(w, keep_odd, &asked), 2);
	ck_assert_int_eq(asked, 4); /* queued jobs only, not the running one */
	open_gate();
	struct aw_result r[3];
	await(w, r, 3);
	ck_assert_uint_eq(r[0].id, g);
	/* ids are consecutive: the odd ones among id[0..3] survived */
	ck_assert_uint_eq(r[1].id, id[0] & 1 ? id[0] : id[1]);
	ck_assert_uint_eq(r[2].id, id[2] & 1 ? id[2] : id[3]);
	ck_assert(quiet_for(w, 50));
	aw_free(w);
}
END_TEST

static void *open_gate_later(void *arg)
{
	(void)arg;
	usleep(100000);
	open_gate();
	return NULL;
}

/* aw_free with a job running and others queued: the running one ends,
 * the queued ones never run, and the thread is joined (valgrind: no leak). */
START_TEST(shutdown_with_jobs_pending)
{
	struct aw *w = new_worker(8, fake_verify);
	submit(w, "gate", "gate");
	wait_in_gate();
	submit(w, "a", "pass-q1");
	submit(w, "b", "pass-q2");
	pthread_t t;
	pthread_create(&t, NULL, open_gate_later, NULL);
	aw_free(w);
	pthread_join(t, NULL);
	ck_assert(!ran("pass-q1"));
	ck_assert(!ran("pass-q2"));
}
END_TEST

/* The real check: bcrypt through auth_lookup/auth_verify on the worker. */
START_TEST(real_crypt)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], path[64] = "/tmp/tp-test-aw-XXXXXX", line[256];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	int n = snprintf(line, sizeof(line), "carol:%s\n", crypt_rn("open sesame", salt, &cd, sizeof(cd)));
	ck_assert_int_eq(write(fd, line, (size_t)n), n);
	close(fd);
	char err[256], hash[AUTH_HASH_MAX];
	struct auth_db *db = auth_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(db != NULL, "%s", err);

	struct aw *w = new_worker(4, NULL);
	uint64_t id[3];
	int known = auth_lookup(db, "carol", hash, sizeof(hash));
	ck_assert_int_eq(known, 1);
	auth_free(db); /* a reload: the jobs hold copies */
	ck_assert_int_eq(aw_submit(w, hash, known, "open sesame", &id[0]), 0);
	ck_assert_int_eq(aw_submit(w, hash, known, "open sesame!", &id[1]), 0);
	ck_assert_int_eq(aw_submit(w, hash, 0, "open sesame", &id[2]), 0);
	struct aw_result r[3];
	await(w, r, 3);
	ck_assert_uint_eq(r[0].id, id[0]);
	ck_assert_int_eq(r[0].ok, 1);
	ck_assert_int_eq(r[1].ok, 0);
	ck_assert_int_eq(r[2].ok, 0);
	aw_free(w);
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("authworker");
	TCase *tc = tcase_create("worker");
	tcase_add_checked_fixture(tc, reset_fake, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, jobs_complete_in_order);
	tcase_add_test(tc, round_robin_across_keys);
	tcase_add_test(tc, threads_run_checks_side_by_side);
	tcase_add_test(tc, thread_count_checked);
	tcase_add_test(tc, collect_in_parts);
	tcase_add_test(tc, cancel_queued_never_runs);
	tcase_add_test(tc, cancel_running_drops_result);
	tcase_add_test(tc, cancel_done_drops_result);
	tcase_add_test(tc, queue_full_refuses);
	tcase_add_test(tc, sweep_drops_orphans);
	tcase_add_test(tc, shutdown_with_jobs_pending);
	tcase_add_test(tc, real_crypt);
	suite_add_tcase(s, tc);
	return s;
}
