/* SPDX-License-Identifier: MIT */
/* test_loop.c — the event loop: fds, timers, signals, deferred calls. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

/* What the callbacks saw, in order. */
static char trace[256];
static size_t ntrace;

static void mark(char c)
{
	if (ntrace < sizeof(trace) - 1)
		trace[ntrace++] = c;
	trace[ntrace] = '\0';
}

static void reset_trace(void)
{
	ntrace = 0;
	trace[0] = '\0';
}

struct fdrec {
	struct tp_loop *l;
	int fd;
	int calls;
	uint32_t last_events;
	char tag;
	struct fdrec *victim; /* deleted (and freed) by this one's callback */
	int replace_fd;       /* victim's fd number gets a new registration */
};

static void make_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void rec_cb(void *arg, int fd, uint32_t events)
{
	struct fdrec *r = arg;

	ck_assert_int_eq(fd, r->fd);
	r->calls++;
	r->last_events = events;
	mark(r->tag);
}

START_TEST(test_fd_readiness)
{
	struct tp_loop *l = tp_loop_new();
	struct fdrec rd = { .l = l, .tag = 'r' }, wr = { .l = l, .tag = 'w' };
	int p[2];
	char c;

	make_pipe(p);
	rd.fd = p[0];
	wr.fd = p[1];
	ck_assert_int_eq(tp_loop_fd_add(l, p[0], TP_FD_READ, rec_cb, &rd), 0);
	ck_assert_int_eq(tp_loop_fd_add(l, p[0], TP_FD_READ, rec_cb, &rd), -1); /* twice */

	ck_assert_int_eq(tp_loop_run_once(l, 0), 0); /* nothing to read yet */
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(rd.calls, 1);
	ck_assert_uint_eq(rd.last_events, TP_FD_READ);
	/* Level-triggered: unread data is reported again. */
	ck_assert_int_eq(tp_loop_run_once(l, 0), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);

	/* An empty pipe is writable; fd_mod switches interest on and off. */
	ck_assert_int_eq(tp_loop_fd_add(l, p[1], 0, rec_cb, &wr), 0);
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	ck_assert_int_eq(tp_loop_fd_mod(l, p[1], TP_FD_WRITE), 0);
	ck_assert_int_eq(tp_loop_run_once(l, 0), 1);
	ck_assert_uint_eq(wr.last_events, TP_FD_WRITE);
	ck_assert_int_eq(tp_loop_fd_mod(l, p[1], 0), 0);
	ck_assert_int_eq(tp_loop_fd_mod(l, 12345, TP_FD_READ), -1); /* unknown fd */

	/* The writer goes away: the reader hears a hang-up. */
	tp_loop_fd_del(l, p[1]);
	close(p[1]);
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert(rd.last_events & TP_FD_ERROR);
	tp_loop_fd_del(l, p[0]);
	tp_loop_fd_del(l, p[0]); /* harmless */
	close(p[0]);
	tp_loop_free(l);
}
END_TEST

START_TEST(test_fd_table_grows)
{
	struct tp_loop *l = tp_loop_new();
	struct fdrec r = { .l = l, .tag = 'h', .fd = 1000 };
	int p[2];

	make_pipe(p);
	ck_assert_int_eq(dup2(p[0], 1000), 1000);
	ck_assert_int_eq(tp_loop_fd_add(l, 1000, TP_FD_READ, rec_cb, &r), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(r.calls, 1);
	tp_loop_fd_del(l, 1000);
	close(1000);
	close(p[0]);
	close(p[1]);
	tp_loop_free(l);
}
END_TEST

/* Deletes its own fd, closes it and frees its own arg. */
static void self_delete_cb(void *arg, int fd, uint32_t events)
{
	struct fdrec *r = arg;

	mark(r->tag);
	tp_loop_fd_del(r->l, fd);
	close(fd);
	free(r);
}

START_TEST(test_fd_delete_self)
{
	struct tp_loop *l = tp_loop_new();
	struct fdrec *r = calloc(1, sizeof(*r));
	int p[2];

	reset_trace();
	make_pipe(p);
	r->l = l;
	r->fd = p[0];
	r->tag = 's';
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	close(p[1]); /* readable and hung up: both in one event */
	ck_assert_int_eq(tp_loop_fd_add(l, p[0], TP_FD_READ, self_delete_cb, r), 0);
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	ck_assert_str_eq(trace, "s");
	tp_loop_free(l); /* valgrind: r freed exactly once, never touched after */
}
END_TEST

static void other_cb(void *arg, int fd, uint32_t events)
{
	mark('N'); /* the new registration must not get the old event */
}

/* Whichever of two ready fds runs first deletes the other — whose event is
 * still pending in this round — frees its arg, and, when asked, puts a new
 * pipe at the same fd number with a new callback. */
static void killer_cb(void *arg, int fd, uint32_t events)
{
	struct fdrec *r = arg, *v = r->victim;
	int q[2];

	mark(r->tag);
	if (!v)
		return;
	tp_loop_fd_del(r->l, v->fd);
	close(v->fd);
	if (r->replace_fd) {
		make_pipe(q); /* the kernel likely reuses v->fd already */
		if (q[0] != v->fd) {
			ck_assert_int_eq(dup2(q[0], v->fd), v->fd);
			close(q[0]);
		}
		ck_assert_int_eq(write(q[1], "y", 1), 1); /* readable, but only next round */
		close(q[1]);
		ck_assert_int_eq(tp_loop_fd_add(r->l, v->fd, TP_FD_READ, other_cb, NULL), 0);
	}
	free(v);
	r->victim = NULL;
}

static void delete_other(int replace)
{
	struct tp_loop *l = tp_loop_new();
	struct fdrec *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	int pa[2], pb[2], survivor;

	reset_trace();
	make_pipe(pa);
	make_pipe(pb);
	*a = (struct fdrec){ .l = l, .fd = pa[0], .tag = 'a', .victim = b, .replace_fd = replace };
	*b = (struct fdrec){ .l = l, .fd = pb[0], .tag = 'b', .victim = a, .replace_fd = replace };
	ck_assert_int_eq(write(pa[1], "x", 1), 1);
	ck_assert_int_eq(write(pb[1], "x", 1), 1);
	ck_assert_int_eq(tp_loop_fd_add(l, pa[0], TP_FD_READ, killer_cb, a), 0);
	ck_assert_int_eq(tp_loop_fd_add(l, pb[0], TP_FD_READ, killer_cb, b), 0);

	/* Both are ready in the same epoll_wait; only the first may run. */
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert_uint_eq(ntrace, 1);
	survivor = trace[0] == 'a' ? pa[0] : pb[0];
	if (replace) {
		/* The replacement fires next round, with its own callback. */
		ck_assert_int_eq(tp_loop_run_once(l, 1000), 2);
		ck_assert(strchr(trace, 'N') != NULL);
		int repl = trace[0] == 'a' ? pb[0] : pa[0];
		tp_loop_fd_del(l, repl);
		close(repl);
	}
	tp_loop_fd_del(l, survivor);
	close(survivor);
	free(trace[0] == 'a' ? (void *)a : (void *)b);
	close(pa[1]);
	close(pb[1]);
	tp_loop_free(l);
}

START_TEST(test_fd_delete_other)
{
	delete_other(0);
}
END_TEST

START_TEST(test_fd_delete_other_and_reuse_number)
{
	delete_other(1);
}
END_TEST

/* ---- timers ---- */

struct trec {
	struct tp_loop *l;
	char tag;
	struct tp_timer *cancel;  /* cancelled by this timer's callback */
	uint64_t add_ms;          /* >0 or ADD_ZERO: add a child timer */
	int stop;
};
#define ADD_ZERO ((uint64_t)-1)

static void child_timer_cb(void *arg)
{
	mark('c');
}

static void timer_cb(void *arg)
{
	struct trec *r = arg;

	mark(r->tag);
	if (r->cancel)
		tp_loop_timer_cancel(r->l, r->cancel);
	if (r->add_ms)
		ck_assert_ptr_nonnull(tp_loop_timer_add(r->l, r->add_ms == ADD_ZERO ? 0 : r->add_ms,
							child_timer_cb, NULL));
	if (r->stop)
		tp_loop_stop(r->l);
}

static void run_until(struct tp_loop *l, size_t want_marks)
{
	for (int i = 0; i < 200 && ntrace < want_marks; i++)
		ck_assert_int_ge(tp_loop_run_once(l, 100), 0);
}

START_TEST(test_timers_in_order)
{
	struct tp_loop *l = tp_loop_new();
	struct trec r[5] = { { .l = l, .tag = '3' }, { .l = l, .tag = '1' }, { .l = l, .tag = '2' },
			     { .l = l, .tag = '0' }, { .l = l, .tag = 'x' } };

	reset_trace();
	tp_loop_timer_add(l, 30, timer_cb, &r[0]);
	tp_loop_timer_add(l, 10, timer_cb, &r[1]);
	tp_loop_timer_add(l, 20, timer_cb, &r[2]);
	tp_loop_timer_add(l, 0, timer_cb, &r[3]);
	/* Same deadline as '1': fires after it, in creation order. */
	tp_loop_timer_add(l, 10, timer_cb, &r[4]);
	run_until(l, 5);
	ck_assert_str_eq(trace, "01x23");
	tp_loop_free(l);
}
END_TEST

START_TEST(test_timer_cancel)
{
	struct tp_loop *l = tp_loop_new();
	struct trec r[4] = { { .l = l, .tag = 'a' }, { .l = l, .tag = 'b' }, { .l = l, .tag = 'c' },
			     { .l = l, .tag = 'd' } };
	struct tp_timer *tb, *td;

	reset_trace();
	tp_loop_timer_add(l, 5, timer_cb, &r[0]);
	tb = tp_loop_timer_add(l, 10, timer_cb, &r[1]);
	tp_loop_timer_add(l, 15, timer_cb, &r[2]);
	td = tp_loop_timer_add(l, 15, timer_cb, &r[3]);
	tp_loop_timer_cancel(l, tb);
	r[0].cancel = td; /* 'a' cancels 'd' while it is still pending */
	run_until(l, 2);
	for (int i = 0; i < 3; i++)
		tp_loop_run_once(l, 20);
	ck_assert_str_eq(trace, "ac");
	tp_loop_free(l);
}
END_TEST

/* Cancel a third of many timers with random delays: the heap must fire the
 * rest by (delay, creation order) and never fire a cancelled one.  They are
 * all added from one callback so they share the round's cached "now". */
#define NSTRESS 300
static struct stress {
	struct tp_loop *l;
	int idx;
	uint64_t ms;
} st[NSTRESS];
static int fired[NSTRESS], nfired;

static void stress_cb(void *arg)
{
	fired[nfired++] = ((struct stress *)arg)->idx;
}

static void stress_setup_cb(void *arg)
{
	struct tp_loop *l = arg;
	struct tp_timer *t[NSTRESS];

	for (int i = 0; i < NSTRESS; i++) {
		st[i] = (struct stress){ l, i, (uint64_t)(rand() % 40) };
		t[i] = tp_loop_timer_add(l, st[i].ms, stress_cb, &st[i]);
	}
	for (int i = 1; i < NSTRESS; i += 3)
		tp_loop_timer_cancel(l, t[i]);
}

START_TEST(test_timer_heap_stress)
{
	struct tp_loop *l = tp_loop_new();
	int live = NSTRESS - NSTRESS / 3;

	srand(42);
	nfired = 0;
	tp_loop_timer_add(l, 0, stress_setup_cb, l);
	for (int i = 0; i < 100 && nfired < live; i++)
		tp_loop_run_once(l, 100);
	tp_loop_run_once(l, 50);
	ck_assert_int_eq(nfired, live);
	for (int i = 0; i < nfired; i++)
		ck_assert_int_ne(fired[i] % 3, 1);
	for (int i = 1; i < nfired; i++) {
		const struct stress *a = &st[fired[i - 1]], *b = &st[fired[i]];
		ck_assert(a->ms < b->ms || (a->ms == b->ms && a->idx < b->idx));
	}
	tp_loop_free(l);
}
END_TEST

START_TEST(test_timer_added_from_timer)
{
	struct tp_loop *l = tp_loop_new();
	struct trec a = { .l = l, .tag = 'a', .add_ms = ADD_ZERO };
	struct trec b = { .l = l, .tag = 'b', .add_ms = 10 };

	reset_trace();
	tp_loop_timer_add(l, 0, timer_cb, &a);
	/* A 0 ms timer added by a timer waits for the next round. */
	ck_assert_int_eq(tp_loop_run_once(l, 100), 1);
	ck_assert_str_eq(trace, "a");
	ck_assert_int_eq(tp_loop_run_once(l, 100), 1);
	ck_assert_str_eq(trace, "ac");

	tp_loop_timer_add(l, 0, timer_cb, &b);
	run_until(l, 4);
	ck_assert_str_eq(trace, "acbc");
	tp_loop_free(l); /* frees nothing pending; valgrind checks the cache */
}
END_TEST

START_TEST(test_timeout_capped_by_timer)
{
	struct tp_loop *l = tp_loop_new();
	struct trec a = { .l = l, .tag = 'a' };
	uint64_t t0;
	int rounds = 0;

	reset_trace();
	tp_loop_timer_add(l, 50, timer_cb, &a);
	t0 = tp_loop_now_ms(l);
	/* -1 would block forever with no fds; the timer bounds the wait (and
	 * the loop sleeps until then instead of spinning). */
	while (ntrace == 0) {
		ck_assert_int_ge(tp_loop_run_once(l, -1), 0);
		rounds++;
	}
	ck_assert_int_le(rounds, 3);
	ck_assert_uint_ge(tp_loop_now_ms(l) - t0, 50);
	ck_assert_uint_lt(tp_loop_now_ms(l) - t0, 1000);
	/* A pending timer far away does not stretch a short timeout. */
	tp_loop_timer_add(l, 10000, timer_cb, &a);
	t0 = tp_loop_now_ms(l);
	ck_assert_int_eq(tp_loop_run_once(l, 20), 0);
	ck_assert_uint_lt(tp_loop_now_ms(l) - t0, 1000);
	tp_loop_free(l); /* drops the pending timer */
}
END_TEST

/* ---- the test clock ---- */

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	ck_assert_ptr_eq(arg, &fake_now);
	return fake_now;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* With a test clock, timers fire when the clock reaches them and never
 * before, the loop does not sleep toward them, and fds still work. */
START_TEST(test_test_clock)
{
	struct tp_loop *l = tp_loop_new();
	struct trec a = { .l = l, .tag = 'a' }, b = { .l = l, .tag = 'b' };
	struct fdrec fr = { .tag = 'f' };
	uint64_t when, t0;
	int p[2];

	reset_trace();
	fake_now = 1000;
	tp_loop_set_clock(l, fake_clock, &fake_now);
	ck_assert_uint_eq(tp_loop_now_ms(l), 1000);
	ck_assert_int_eq(tp_loop_next_timer(l, &when), -1);
	tp_loop_timer_add(l, 500, timer_cb, &b);
	tp_loop_timer_add(l, 100, timer_cb, &a);
	ck_assert_int_eq(tp_loop_next_timer(l, &when), 0);
	ck_assert_uint_eq(when, 1100);

	/* Wall time passing changes nothing; -1 waits only up to the bound
	 * the caller gives, never toward a timer the clock has not reached. */
	t0 = wall_ms();
	ck_assert_int_eq(tp_loop_run_once(l, 30), 0);
	ck_assert_uint_lt(wall_ms() - t0, 1000);
	ck_assert_str_eq(trace, "");

	fake_now = 1099;
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	fake_now = 1100;
	ck_assert_int_eq(tp_loop_run_once(l, 0), 1);
	ck_assert_str_eq(trace, "a");
	ck_assert_uint_eq(tp_loop_now_ms(l), 1100);

	/* fds are real: a ready pipe is dispatched at once. */
	make_pipe(p);
	fr.l = l;
	fr.fd = p[0];
	ck_assert_int_eq(tp_loop_fd_add(l, p[0], TP_FD_READ, rec_cb, &fr), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(fr.calls, 1);
	/* The epoll fd stands for the loop in an outer poll(). */
	ck_assert_int_ge(tp_loop_fd(l), 0);
	tp_loop_fd_del(l, p[0]);
	close(p[0]);
	close(p[1]);

	/* A jump past several deadlines fires them all, in order. */
	tp_loop_timer_add(l, 50, timer_cb, &a);
	fake_now = 5000;
	ck_assert_int_eq(tp_loop_run_once(l, 0), 2);
	ck_assert_str_eq(trace, "afab");
	ck_assert_int_eq(tp_loop_next_timer(l, &when), -1);
	tp_loop_free(l);
}
END_TEST

/* ---- signals ---- */

static int got_signo;

static void sig_cb(void *arg, int signo)
{
	struct tp_loop *l = arg;

	got_signo = signo;
	tp_loop_stop(l);
}

START_TEST(test_signal)
{
	struct tp_loop *l = tp_loop_new();
	sigset_t cur;

	got_signo = 0;
	ck_assert_int_eq(tp_loop_signal(l, SIGUSR2, sig_cb, l), 0);
	ck_assert_int_eq(tp_loop_signal(l, SIGUSR1, sig_cb, l), 0); /* a second one: same fd */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	ck_assert(sigismember(&cur, SIGUSR2));
	/* Blocked, so the default action (terminate) does not run. */
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(tp_loop_run(l), 0);
	ck_assert_int_eq(got_signo, SIGUSR2);

	ck_assert_int_eq(tp_loop_signal(l, 0, sig_cb, l), -1);
	tp_loop_free(l);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	ck_assert(!sigismember(&cur, SIGUSR2)); /* unblocked again */
}
END_TEST

/* ---- deferred calls, run/stop ---- */

struct dctx {
	struct tp_loop *l;
	int requeue;
};

static void defer_cb(void *arg)
{
	struct dctx *d = arg;

	mark('d');
	if (d->requeue) {
		d->requeue = 0;
		ck_assert_int_eq(tp_loop_defer(d->l, defer_cb, d), 0);
	}
}

static void defer_fd_cb(void *arg, int fd, uint32_t events)
{
	struct dctx *d = arg;

	mark('f');
	tp_loop_fd_del(d->l, fd);
	ck_assert_int_eq(tp_loop_defer(d->l, defer_cb, d), 0);
}

START_TEST(test_defer)
{
	struct tp_loop *l = tp_loop_new();
	struct trec t = { .l = l, .tag = 't' };
	struct dctx d = { .l = l, .requeue = 1 };
	int p[2];

	reset_trace();
	make_pipe(p);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(tp_loop_fd_add(l, p[0], TP_FD_READ, defer_fd_cb, &d), 0);
	tp_loop_timer_add(l, 0, timer_cb, &t);
	/* fd first, then the due timer, then the deferred call. */
	ck_assert_int_eq(tp_loop_run_once(l, 1000), 3);
	ck_assert_str_eq(trace, "ftd");
	/* Queued by a deferred call: runs next round, which does not block
	 * even with timeout -1 and nothing else to wait for. */
	ck_assert_int_eq(tp_loop_run_once(l, -1), 1);
	ck_assert_str_eq(trace, "ftdd");
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	close(p[0]);
	close(p[1]);
	tp_loop_free(l);
}
END_TEST

static struct tp_loop *cancel_loop;
static void cancel_b_cb(void *arg);

/* 'a' cancels 'b' while the loop is walking its queue. */
static void cancel_a_cb(void *arg)
{
	mark('a');
	tp_loop_defer_cancel(cancel_loop, cancel_b_cb, arg);
}

static void cancel_b_cb(void *arg)
{
	mark('b');
}

START_TEST(test_defer_cancel)
{
	struct tp_loop *l = tp_loop_new();
	int x, y;

	reset_trace();
	cancel_loop = l;
	ck_assert_int_eq(tp_loop_defer(l, cancel_b_cb, &x), 0);
	ck_assert_int_eq(tp_loop_defer(l, cancel_b_cb, &y), 0);
	tp_loop_defer_cancel(l, cancel_b_cb, &x); /* only the call with &x */
	ck_assert_int_eq(tp_loop_run_once(l, 0), 1);
	ck_assert_str_eq(trace, "b");
	ck_assert_int_eq(tp_loop_defer(l, cancel_a_cb, &x), 0);
	ck_assert_int_eq(tp_loop_defer(l, cancel_b_cb, &x), 0);
	ck_assert_int_eq(tp_loop_run_once(l, 0), 1);
	ck_assert_str_eq(trace, "ba");
	ck_assert_int_eq(tp_loop_run_once(l, 0), 0);
	tp_loop_free(l);
}
END_TEST

START_TEST(test_run_stop)
{
	struct tp_loop *l = tp_loop_new();
	struct trec a = { .l = l, .tag = 'a' }, s = { .l = l, .tag = 's', .stop = 1 };

	reset_trace();
	tp_loop_timer_add(l, 1, timer_cb, &a);
	tp_loop_timer_add(l, 5, timer_cb, &s);
	tp_loop_timer_add(l, 3000, timer_cb, &a); /* would time the test out */
	ck_assert_int_eq(tp_loop_run(l), 0);
	ck_assert_str_eq(trace, "as");
	/* The loop can run again after a stop. */
	tp_loop_timer_add(l, 1, timer_cb, &s);
	ck_assert_int_eq(tp_loop_run(l), 0);
	ck_assert_str_eq(trace, "ass");
	tp_loop_free(l);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *fd = tcase_create("fd"), *tm = tcase_create("timer"), *mi = tcase_create("misc");

	tcase_add_test(fd, test_fd_readiness);
	tcase_add_test(fd, test_fd_table_grows);
	tcase_add_test(fd, test_fd_delete_self);
	tcase_add_test(fd, test_fd_delete_other);
	tcase_add_test(fd, test_fd_delete_other_and_reuse_number);
	tcase_add_test(tm, test_timers_in_order);
	tcase_add_test(tm, test_timer_cancel);
	tcase_add_test(tm, test_timer_heap_stress);
	tcase_add_test(tm, test_timer_added_from_timer);
	tcase_add_test(tm, test_timeout_capped_by_timer);
	tcase_add_test(tm, test_test_clock);
	tcase_add_test(mi, test_signal);
	tcase_add_test(mi, test_defer);
	tcase_add_test(mi, test_defer_cancel);
	tcase_add_test(mi, test_run_stop);
	suite_add_tcase(s, fd);
	suite_add_tcase(s, tm);
	suite_add_tcase(s, mi);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return loop_suite();
}
