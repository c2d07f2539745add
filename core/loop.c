/* SPDX-License-Identifier: MIT */
/*
 * loop.c — the event loop, in the spirit of Redis' ae.c.
 *
 * One round (tp_loop_run_once) is: wait in epoll_wait (bounded by the next
 * timer), dispatch the ready fds, fire the due timers, then run the deferred
 * calls.  Everything is level-triggered, so a callback that leaves data
 * unread is simply called again next round.
 *
 * fds live in a table indexed by fd number.  Each registration gets a fresh
 * generation number, carried in the epoll event's user data next to the fd.
 * A callback may delete any fd — its own, or one whose event is still
 * further down this round's event array — and even register a new one that
 * the kernel gave the same number: the stale event no longer matches the
 * table's generation and is skipped, so a freed `arg` is never used.
 *
 * Timers live in timers.c: a min-heap ordered by (deadline, creation
 * order), O(log n) cancel, fired timers cached so a steady timer load does
 * not malloc.  The loop owns the clock they are measured against.
 *
 * Signals arrive on one signalfd and are dispatched like any fd.
 *
 * Tests may replace the clock (tp_loop_set_clock): the loop then reads the
 * time from the test and never sleeps toward a timer, so a test decides
 * when timers fire by moving its clock, while fds keep working for real.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "timers.h"

#define MAX_EVENTS 128      /* per epoll_wait; the rest come next round */

struct fd_entry {
	tp_fd_cb cb; /* NULL: slot unused */
	void *arg;
	uint32_t events;
	uint32_t gen;
};

struct defer {
	tp_defer_cb cb;
	void *arg;
};

struct tp_loop {
	int epfd;
	bool stop;
	tp_clock_fn clock; /* NULL: CLOCK_MONOTONIC */
	void *clock_arg;
	bool in_round; /* between the start of a round and its end */
	uint64_t now;

	struct fd_entry *fds;
	int nfds; /* table size */
	uint32_t next_gen;

	struct tp_timers timers;

	struct defer *defers;
	size_t ndefer, defer_cap;

	int sigfd; /* -1 until the first tp_loop_signal */
	sigset_t sigmask;     /* signals we route through sigfd */
	sigset_t sig_unblock; /* those we blocked ourselves (undone at free) */
	struct {
		tp_signal_cb cb;
		void *arg;
	} sigs[_NSIG];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t loop_clock(struct tp_loop *l)
{
	return l->clock ? l->clock(l->clock_arg) : mono_ms();
}

struct tp_loop *tp_loop_new(void)
{
	struct tp_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		tp_log(TP_LOG_ERROR, NULL, "epoll_create1: %s", strerror(errno));
		free(l);
		return NULL;
	}
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	sigemptyset(&l->sig_unblock);
	l->now = loop_clock(l);
	return l;
}

void tp_loop_free(struct tp_loop *l)
{
	if (!l)
		return;
	tp_timers_free(&l->timers);
	if (l->sigfd >= 0) {
		/* Drop signals still pending: unblocking them now would run
		 * their default action (SIGTERM kills us mid-cleanup). */
		struct signalfd_siginfo si;
		while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(l->sigfd);
		sigprocmask(SIG_UNBLOCK, &l->sig_unblock, NULL);
	}
	close(l->epfd);
	free(l->fds);
	free(l->defers);
	free(l);
}

/* ---- fds ---------------------------------------------------------------- */

static uint32_t to_epoll(uint32_t ev)
{
	return ((ev & TP_FD_READ) ? EPOLLIN : 0u) | ((ev & TP_FD_WRITE) ? EPOLLOUT : 0u);
}

static uint32_t from_epoll(uint32_t ev)
{
	return ((ev & EPOLLIN) ? TP_FD_READ : 0u) | ((ev & EPOLLOUT) ? TP_FD_WRITE : 0u) |
	       ((ev & (EPOLLERR | EPOLLHUP)) ? TP_FD_ERROR : 0u);
}

static struct fd_entry *fd_lookup(struct tp_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || !l->fds[fd].cb)
		return NULL;
	return &l->fds[fd];
}

static int fd_table_grow(struct tp_loop *l, int fd)
{
	int n = l->nfds ? l->nfds : 64;
	struct fd_entry *nf;

	while (n <= fd)
		n *= 2;
	nf = realloc(l->fds, (size_t)n * sizeof(*nf));
	if (!nf)
		return -1;
	memset(nf + l->nfds, 0, (size_t)(n - l->nfds) * sizeof(*nf));
	l->fds = nf;
	l->nfds = n;
	return 0;
}

int tp_loop_fd_add(struct tp_loop *l, int fd, uint32_t events, tp_fd_cb cb, void *arg)
{
	struct epoll_event ee = { 0 };
	struct fd_entry *e;
	uint32_t gen;

	if (fd < 0 || !cb) {
		errno = EINVAL;
		return -1;
	}
	if (fd_lookup(l, fd)) {
		tp_log(TP_LOG_ERROR, NULL, "loop: fd %d is already registered", fd);
		errno = EEXIST;
		return -1;
	}
	if (fd >= l->nfds && fd_table_grow(l, fd) < 0)
		return -1;
	gen = ++l->next_gen;
	ee.events = to_epoll(events);
	ee.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		int saved = errno;
		tp_log(TP_LOG_ERROR, NULL, "loop: cannot watch fd %d: %s", fd, strerror(errno));
		errno = saved;
		return -1;
	}
	e = &l->fds[fd];
	e->cb = cb;
	e->arg = arg;
	e->events = events;
	e->gen = gen;
	return 0;
}

int tp_loop_fd_mod(struct tp_loop *l, int fd, uint32_t events)
{
	struct fd_entry *e = fd_lookup(l, fd);
	struct epoll_event ee = { 0 };

	if (!e) {
		errno = ENOENT;
		return -1;
	}
	if (e->events == events)
		return 0; /* writers toggle TP_FD_WRITE a lot; skip the syscall */
	ee.events = to_epoll(events);
	ee.data.u64 = ((uint64_t)e->gen << 32) | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0) {
		int saved = errno;
		tp_log(TP_LOG_ERROR, NULL, "loop: cannot change events of fd %d: %s", fd,
		       strerror(errno));
		errno = saved;
		return -1;
	}
	e->events = events;
	return 0;
}

void tp_loop_fd_del(struct tp_loop *l, int fd)
{
	struct fd_entry *e = fd_lookup(l, fd);

	if (!e)
		return;
	/* Fails only if the owner closed the fd first, which already took it
	 * out of the epoll set: nothing left to undo. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(e, 0, sizeof(*e));
}

/* ---- timers ------------------------------------------------------------- */

struct tp_timer *tp_loop_timer_add(struct tp_loop *l, uint64_t ms, tp_timer_cb cb, void *arg)
{
	/* Inside a round the cached time is the round's "now" (timers set by
	 * one callback line up with each other); outside, the cache may be
	 * arbitrarily old. */
	if (!l->in_round)
		l->now = loop_clock(l);
	return tp_timers_add(&l->timers, l->now + ms, cb, arg);
}

void tp_loop_timer_cancel(struct tp_loop *l, struct tp_timer *t)
{
	tp_timers_cancel(&l->timers, t);
}

uint64_t tp_loop_now_ms(struct tp_loop *l)
{
	return l->now;
}

int tp_loop_next_timer(const struct tp_loop *l, uint64_t *when)
{
	return tp_timers_next(&l->timers, when);
}

void tp_loop_set_clock(struct tp_loop *l, tp_clock_fn fn, void *arg)
{
	l->clock = fn;
	l->clock_arg = arg;
	l->now = loop_clock(l);
}

int tp_loop_fd(const struct tp_loop *l)
{
	return l->epfd;
}

/* ---- signals ------------------------------------------------------------ */

static void on_signalfd(void *arg, int fd, uint32_t events)
{
	struct tp_loop *l = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;
		if (signo > 0 && signo < _NSIG && l->sigs[signo].cb)
			l->sigs[signo].cb(l->sigs[signo].arg, signo);
	}
}

int tp_loop_signal(struct tp_loop *l, int signo, tp_signal_cb cb, void *arg)
{
	sigset_t one, old, mask = l->sigmask;
	bool blocked_here = false;
	int fd = -1;

	if (signo <= 0 || signo >= _NSIG || !cb) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, &old) < 0)
		goto fail;
	blocked_here = !sigismember(&old, signo);
	sigaddset(&mask, signo);
	/* With an existing fd, signalfd() only updates its mask. */
	fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (l->sigfd < 0 && tp_loop_fd_add(l, fd, TP_FD_READ, on_signalfd, l) < 0)
		goto fail;
	l->sigfd = fd;
	l->sigmask = mask;
	if (blocked_here)
		sigaddset(&l->sig_unblock, signo);
	l->sigs[signo].cb = cb;
	l->sigs[signo].arg = arg;
	return 0;

fail:
	tp_log(TP_LOG_ERROR, NULL, "loop: cannot route signal %d through signalfd: %s", signo,
	       strerror(errno));
	if (fd >= 0 && fd != l->sigfd)
		close(fd);
	if (blocked_here)
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	return -1;
}

/* ---- deferred calls ------------------------------------------------------ */

int tp_loop_defer(struct tp_loop *l, tp_defer_cb cb, void *arg)
{
	if (l->ndefer == l->defer_cap) {
		size_t cap = l->defer_cap ? l->defer_cap * 2 : 16;
		struct defer *nd = realloc(l->defers, cap * sizeof(*nd));
		if (!nd)
			return -1;
		l->defers = nd;
		l->defer_cap = cap;
	}
	l->defers[l->ndefer].cb = cb;
	l->defers[l->ndefer].arg = arg;
	l->ndefer++;
	return 0;
}

/* Entries are blanked, not removed: run_defers() may be walking the
 * array by index right now. */
void tp_loop_defer_cancel(struct tp_loop *l, tp_defer_cb cb, void *arg)
{
	for (size_t i = 0; i < l->ndefer; i++)
		if (l->defers[i].cb == cb && l->defers[i].arg == arg)
			l->defers[i].cb = NULL;
}

/* Run the calls queued so far; calls they queue run next round (which then
 * does not block).  Read by index: a callback may grow the array. */
static int run_defers(struct tp_loop *l)
{
	size_t n = l->ndefer;
	int ran = 0;

	if (n == 0)
		return 0; /* defers may still be NULL: memmove(NULL, …, 0) is UB */
	for (size_t i = 0; i < n; i++)
		if (l->defers[i].cb) { /* NULL: cancelled */
			l->defers[i].cb(l->defers[i].arg);
			ran++;
		}
	l->ndefer -= n;
	memmove(l->defers, l->defers + n, l->ndefer * sizeof(*l->defers));
	return ran;
}

/* ---- the round ------------------------------------------------------------ */

static int wait_timeout(struct tp_loop *l, int timeout_ms)
{
	uint64_t when, delta;

	if (l->ndefer > 0)
		return 0;
	if (tp_timers_next(&l->timers, &when) < 0)
		return timeout_ms;
	/* A test clock does not move while we sleep: waiting for its next
	 * timer would only stall; the caller's bound alone applies. */
	if (l->clock && when > l->now)
		return timeout_ms;
	delta = when > l->now ? when - l->now : 0;
	if (delta > INT32_MAX)
		delta = INT32_MAX;
	if (timeout_ms < 0 || (uint64_t)timeout_ms > delta)
		timeout_ms = (int)delta;
	return timeout_ms;
}

int tp_loop_run_once(struct tp_loop *l, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, ran = 0;

	l->now = loop_clock(l);
	n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait_timeout(l, timeout_ms));
	if (n < 0) {
		if (errno != EINTR) {
			tp_log(TP_LOG_ERROR, NULL, "loop: epoll_wait: %s", strerror(errno));
			return -1;
		}
		n = 0; /* a signal we do not route: still run timers */
	}
	l->now = loop_clock(l);
	l->in_round = true;

	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct fd_entry *e = fd_lookup(l, fd);

		/* Deleted (or deleted and re-added) by an earlier callback of
		 * this round: the event belongs to a registration that is gone. */
		if (!e || e->gen != gen)
			continue;
		e->cb(e->arg, fd, from_epoll(evs[i].events));
		ran++;
	}
	ran += tp_timers_run(&l->timers, l->now);
	ran += run_defers(l);
	l->in_round = false;
	return ran;
}

int tp_loop_run(struct tp_loop *l)
{
	int rc = 0;

	while (!l->stop) {
		if (tp_loop_run_once(l, -1) < 0) {
			rc = -1;
			break;
		}
	}
	l->stop = false; /* the loop can be run again */
	return rc;
}

void tp_loop_stop(struct tp_loop *l)
{
	l->stop = true;
}
