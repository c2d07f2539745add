/* SPDX-License-Identifier: MIT */
/*
 * timers.h — the loop's one-shot timers: a binary min-heap ordered by
 * deadline, ties broken by creation order, with a small cache of fired
 * timers so a busy data path does not malloc per timer.
 *
 * The loop owns the clock; this module only compares the deadlines it is
 * given.  O(log n) add, cancel and fire.
 */
#ifndef TP_CORE_TIMERS_H
#define TP_CORE_TIMERS_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_timers {
	struct tp_timer **heap;
	size_t n, cap;
	uint64_t next_seq;
	struct tp_timer *cache; /* fired or cancelled timers kept for reuse */
	size_t ncache;
};

/* Arm cb(arg) for the deadline `when`.  NULL when out of memory. */
struct tp_timer *tp_timers_add(struct tp_timers *ts, uint64_t when, tp_timer_cb cb, void *arg);
/* Cancel a pending timer; a timer already fired or cancelled is ignored. */
void tp_timers_cancel(struct tp_timers *ts, struct tp_timer *t);
/* Deadline of the earliest timer: 0, or -1 if there is none. */
int tp_timers_next(const struct tp_timers *ts, uint64_t *when);
/* Fire, in deadline order, the timers due at `now` that existed when the
 * call began; returns how many ran. */
int tp_timers_run(struct tp_timers *ts, uint64_t now);
/* Free every timer (pending ones are dropped without running). */
void tp_timers_free(struct tp_timers *ts);

#endif
