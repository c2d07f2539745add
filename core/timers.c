/* SPDX-License-Identifier: MIT */
/*
 * timers.c — the timer heap behind tp_loop_timer_add (see timers.h).
 */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>

#include "timers.h"

#define TIMER_CACHE_MAX 64 /* fired timers kept for reuse */
#define NOT_IN_HEAP ((size_t)-1)

struct tp_timer {
	uint64_t when; /* deadline in the loop's clock */
	uint64_t seq;  /* creation order: breaks ties, and bounds a round */
	tp_timer_cb cb;
	void *arg;
	size_t idx; /* heap position, NOT_IN_HEAP once fired/cancelled */
	struct tp_timer *next_free;
};

static bool timer_before(const struct tp_timer *a, const struct tp_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_set(struct tp_timers *ts, size_t i, struct tp_timer *t)
{
	ts->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct tp_timers *ts, size_t i)
{
	struct tp_timer *t = ts->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(t, ts->heap[parent]))
			break;
		heap_set(ts, i, ts->heap[parent]);
		i = parent;
	}
	heap_set(ts, i, t);
}

static void heap_down(struct tp_timers *ts, size_t i)
{
	struct tp_timer *t = ts->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= ts->n)
			break;
		if (c + 1 < ts->n && timer_before(ts->heap[c + 1], ts->heap[c]))
			c++;
		if (!timer_before(ts->heap[c], t))
			break;
		heap_set(ts, i, ts->heap[c]);
		i = c;
	}
	heap_set(ts, i, t);
}

/* Take t out of the heap: the last element fills its hole and moves up or
 * down, whichever restores the order. */
static void heap_remove(struct tp_timers *ts, struct tp_timer *t)
{
	size_t i = t->idx;
	struct tp_timer *last = ts->heap[--ts->n];

	t->idx = NOT_IN_HEAP;
	if (last == t)
		return;
	heap_set(ts, i, last);
	heap_up(ts, i);
	heap_down(ts, last->idx);
}

static void timer_release(struct tp_timers *ts, struct tp_timer *t)
{
	if (ts->ncache >= TIMER_CACHE_MAX) {
		free(t);
		return;
	}
	t->cb = NULL;
	t->next_free = ts->cache;
	ts->cache = t;
	ts->ncache++;
}

struct tp_timer *tp_timers_add(struct tp_timers *ts, uint64_t when, tp_timer_cb cb, void *arg)
{
	struct tp_timer *t;

	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 16;
		struct tp_timer **nh = realloc(ts->heap, cap * sizeof(*nh));
		if (!nh)
			return NULL;
		ts->heap = nh;
		ts->cap = cap;
	}
	if ((t = ts->cache)) {
		ts->cache = t->next_free;
		ts->ncache--;
	} else if (!(t = malloc(sizeof(*t)))) {
		return NULL;
	}
	t->when = when;
	t->seq = ts->next_seq++;
	t->cb = cb;
	t->arg = arg;
	t->next_free = NULL;
	ts->heap[ts->n++] = t;
	heap_up(ts, ts->n - 1);
	return t;
}

void tp_timers_cancel(struct tp_timers *ts, struct tp_timer *t)
{
	if (!t)
		return;
	/* A timer cancelled from its own callback is already out of the heap;
	 * that is harmless.  Anything else not in the heap is a caller bug. */
	if (t->idx == NOT_IN_HEAP || t->idx >= ts->n || ts->heap[t->idx] != t)
		return;
	heap_remove(ts, t);
	timer_release(ts, t);
}

int tp_timers_next(const struct tp_timers *ts, uint64_t *when)
{
	if (ts->n == 0)
		return -1;
	*when = ts->heap[0]->when;
	return 0;
}

/* Timers created while we fire (seq at or past `limit`) wait for the next
 * call, so a callback re-arming a 0 ms timer cannot keep us here forever. */
int tp_timers_run(struct tp_timers *ts, uint64_t now)
{
	uint64_t limit = ts->next_seq;
	int n = 0;

	while (ts->n > 0) {
		struct tp_timer *t = ts->heap[0];
		if (t->when > now || t->seq >= limit)
			break;
		heap_remove(ts, t);
		t->cb(t->arg);
		timer_release(ts, t);
		n++;
	}
	return n;
}

void tp_timers_free(struct tp_timers *ts)
{
	struct tp_timer *t;

	for (size_t i = 0; i < ts->n; i++)
		free(ts->heap[i]);
	while ((t = ts->cache)) {
		ts->cache = t->next_free;
		free(t);
	}
	free(ts->heap);
	ts->heap = NULL;
	ts->n = ts->cap = ts->ncache = 0;
}
