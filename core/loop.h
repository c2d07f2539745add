/* SPDX-License-Identifier: MIT */
/*
 * loop.h — the event loop: epoll for fds, a timer heap, signals through
 * signalfd, and deferred calls that run after the current dispatch round
 * (used to free sessions that are still on the call stack).
 */
#ifndef TP_CORE_LOOP_H
#define TP_CORE_LOOP_H
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_loop;
typedef void (*tp_signal_cb)(void *arg, int signo);
typedef void (*tp_defer_cb)(void *arg);

struct tp_loop *tp_loop_new(void);
/* Frees the loop; pending timers and deferred calls are dropped, fds are
 * not closed (their owners close them). */
void tp_loop_free(struct tp_loop *l);

/* events: TP_FD_READ | TP_FD_WRITE.  The callback receives what happened,
 * with TP_FD_ERROR for EPOLLERR/EPOLLHUP.  An fd may be deleted (and its
 * arg freed) from inside any callback, including its own. */
int tp_loop_fd_add(struct tp_loop *l, int fd, uint32_t events, tp_fd_cb cb, void *arg);
int tp_loop_fd_mod(struct tp_loop *l, int fd, uint32_t events);
void tp_loop_fd_del(struct tp_loop *l, int fd);

/* One-shot timer.  A fired timer is freed by the loop; cancelling it
 * afterwards is a bug.  Cancel is O(log n). */
struct tp_timer *tp_loop_timer_add(struct tp_loop *l, uint64_t ms, tp_timer_cb cb, void *arg);
void tp_loop_timer_cancel(struct tp_loop *l, struct tp_timer *t);
/* Monotonic milliseconds, cached per dispatch round. */
uint64_t tp_loop_now_ms(struct tp_loop *l);

/* Tests: read the time from fn(arg) (milliseconds, never going back)
 * instead of CLOCK_MONOTONIC; NULL restores the real clock.  With a test
 * clock the loop never sleeps toward a timer (only up to the timeout given
 * to tp_loop_run_once), and timers fire once the clock reaches them. */
typedef uint64_t (*tp_clock_fn)(void *arg);
void tp_loop_set_clock(struct tp_loop *l, tp_clock_fn fn, void *arg);
/* Deadline of the earliest timer (in the loop's clock): 0, or -1 if none. */
int tp_loop_next_timer(const struct tp_loop *l, uint64_t *when);
/* The loop's epoll fd: readable when a watched fd is ready, so a test can
 * wait on several loops at once with poll(). */
int tp_loop_fd(const struct tp_loop *l);

/* Deliver `signo` through the loop (blocks it and reads it from a
 * signalfd).  One callback per signal. */
int tp_loop_signal(struct tp_loop *l, int signo, tp_signal_cb cb, void *arg);

/* Run `cb(arg)` after the current round of callbacks. */
int tp_loop_defer(struct tp_loop *l, tp_defer_cb cb, void *arg);
/* Forget every queued call of `cb(arg)` (before freeing `arg`). */
void tp_loop_defer_cancel(struct tp_loop *l, tp_defer_cb cb, void *arg);

/* One round: wait up to timeout_ms (-1 forever, or until the next timer),
 * dispatch fds, due timers, then deferred calls.  Returns the number of
 * callbacks run, or -1 on a fatal epoll error. */
int tp_loop_run_once(struct tp_loop *l, int timeout_ms);
/* Rounds until tp_loop_stop().  Returns 0, or -1 on a fatal error. */
int tp_loop_run(struct tp_loop *l);
void tp_loop_stop(struct tp_loop *l);

#endif
