/* SPDX-License-Identifier: MIT */
/*
 * stage-queue.c — the re-entrancy rule of plugin.h ("THE CALL SEQUENCE"):
 * a stage instance's callbacks never nest.
 *
 * Every call into a plugin's start/stop/down/up/event goes through
 * stage.c or this file and marks the instance busy, and so does every host
 * call that can call plugins back (host.c brackets those with
 * tp_stage_enter/leave).  A delivery to a busy instance is queued on it
 * and made, in arrival order, as soon as the instance is free: at once
 * when the callback the core called returns, or, when the host call came
 * from the plugin's own fd or timer callback (where the core cannot see
 * the plugin return), from a deferred call at the end of the loop round.
 * A delivery to a free instance that still holds a queue drains the queue
 * first, so nothing overtakes.  The data path of a tunnel (tun → framer →
 * transport and back) never meets a busy instance; loops (a sink that
 * answers at once) and session events do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "log.h"
#include "loop.h"
#include "stage-queue.h"

struct tp_pending {
	struct tp_pending *next;
	int kind;
	struct tp_session *s;
	struct tp_batch q;   /* TP_PD_DOWN, TP_PD_UP */
	struct tp_event ev;  /* TP_PD_EVENT; its reason points into `reason` */
	char reason[128];
};

void tp_stage_drop(struct tp_pipeline *pl, struct tp_batch *q)
{
	*pl->c_closed_drop += q->count;
	tp_pool_free_batch(pl->pool, q);
}

static void list_stage(struct tp_stage *st)
{
	struct tp_pipeline *pl = st->t->pl;

	if (st->pq_listed)
		return;
	st->pq_listed = 1;
	st->pq_next = pl->queued;
	pl->queued = st;
}

static void unlist_stage(struct tp_stage *st)
{
	if (!st->pq_listed)
		return;
	for (struct tp_stage **pp = &st->t->pl->queued; *pp; pp = &(*pp)->pq_next)
		if (*pp == st) {
			*pp = st->pq_next;
			break;
		}
	st->pq_listed = 0;
	st->pq_next = NULL;
}

static struct tp_pending *push(struct tp_stage *st, int kind, struct tp_session *s)
{
	struct tp_pending *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->s = s;
	if (st->pq_tail)
		st->pq_tail->next = e;
	else
		st->pq_head = e;
	st->pq_tail = e;
	list_stage(st);
	return e;
}

static void queue_data(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q)
{
	struct tp_pending *e = st->pq_tail;

	/* Batches that follow each other on the same way and session travel
	 * on as one, as they would have if delivered at once. */
	if (!e || e->kind != kind || e->s != s)
		e = push(st, kind, s);
	if (!e) {
		tp_log(TP_LOG_ERROR, st->name, "out of memory: %u packets dropped", q->count);
		tp_stage_drop(st->t->pl, q);
		return;
	}
	tp_batch_splice(&e->q, q);
}

static void queue_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev)
{
	struct tp_pending *e = push(st, TP_PD_EVENT, s);

	if (!e) {
		tp_log(TP_LOG_ERROR, st->name, "out of memory: event %d lost", (int)ev->type);
		return;
	}
	e->ev = *ev;
	if (ev->reason) { /* the caller's string may not outlive its call */
		snprintf(e->reason, sizeof(e->reason), "%s", ev->reason);
		e->ev.reason = e->reason;
	}
}

static void discard(struct tp_stage *st, struct tp_pending *e)
{
	if (e->q.count)
		tp_stage_drop(st->t->pl, &e->q);
	free(e);
}

void tp_stage_drop_queue(struct tp_stage *st)
{
	struct tp_pending *e;

	while ((e = st->pq_head)) {
		st->pq_head = e->next;
		discard(st, e);
	}
	st->pq_tail = NULL;
	unlist_stage(st);
}

/* Run one callback of a free instance. */
static void call(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q,
		 const struct tp_event *ev)
{
	const struct tp_plugin *p = st->t->p;

	st->depth++;
	if (kind == TP_PD_DOWN)
		p->down(st->ctx, s, q);
	else if (kind == TP_PD_UP)
		p->up(st->ctx, s, q);
	else
		p->event(st->ctx, s, ev);
	if (--st->depth == 0 && st->pq_head)
		tp_stage_flush(st);
}

/* Deliver what the instance holds, in order; what arrives meanwhile
 * (re-entering it from one of these calls) joins the end of the queue. */
void tp_stage_flush(struct tp_stage *st)
{
	struct tp_pending *e;

	if (st->depth || st->flushing)
		return;
	st->flushing = 1;
	while ((e = st->pq_head)) {
		st->pq_head = e->next;
		if (!st->pq_head)
			st->pq_tail = NULL;
		if (e->kind != TP_PD_EVENT && e->s && e->s->closing) {
			discard(st, e); /* the session closed meanwhile, as emit would drop it */
			continue;
		}
		call(st, e->kind, e->s, &e->q, &e->ev);
		free(e);
	}
	st->flushing = 0;
	unlist_stage(st);
}

static void flush_list(struct tp_pipeline *pl)
{
	for (;;) {
		struct tp_stage *st = pl->queued;
		while (st && (st->depth || st->flushing))
			st = st->pq_next;
		if (!st)
			return;
		tp_stage_flush(st);
	}
}

static void flush_deferred(void *arg)
{
	struct tp_pipeline *pl = arg;

	pl->flush_scheduled = 0;
	flush_list(pl);
}

void tp_stage_flush_all(struct tp_pipeline *pl)
{
	if (pl->flush_scheduled)
		tp_loop_defer_cancel(pl->loop, flush_deferred, pl);
	pl->flush_scheduled = 0;
	flush_list(pl);
}

void tp_stage_enter(struct tp_stage *st)
{
	st->depth++;
}

/* The end of a host call: the plugin's code runs on, so what it holds
 * waits for the end of the round unless a callback of ours returns first. */
void tp_stage_leave(struct tp_stage *st)
{
	struct tp_pipeline *pl = st->t->pl;

	if (--st->depth || !st->pq_head || pl->flush_scheduled)
		return;
	if (tp_loop_defer(pl->loop, flush_deferred, pl) == 0)
		pl->flush_scheduled = 1;
	else
		tp_log(TP_LOG_ERROR, st->name, "cannot schedule a deferred call: deliveries wait for the next one");
}

void tp_stage_forget_session(struct tp_pipeline *pl, struct tp_session *s)
{
	struct tp_stage *ends[2] = { pl->top, pl->bottom };

	for (int i = 0; i < 2; i++) {
		struct tp_stage *st = ends[i];
		struct tp_pending **pp, *e;
		if (!st)
			continue;
		st->pq_tail = NULL;
		for (pp = &st->pq_head; (e = *pp);) {
			if (e->s == s) {
				*pp = e->next;
				discard(st, e);
			} else {
				st->pq_tail = e;
				pp = &e->next;
			}
		}
		if (!st->pq_head)
			unlist_stage(st);
	}
}

void tp_stage_hand(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q)
{
	if (st->depth || st->pq_head) {
		queue_data(st, kind, s, q);
		tp_stage_flush(st); /* a free instance with a queue: drain it now */
		return;
	}
	call(st, kind, s, q, NULL);
}

void tp_stage_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev)
{
	if (!st || !st->ctx || !st->t->p->event)
		return;
	if (st->depth || st->pq_head) {
		queue_event(st, s, ev);
		tp_stage_flush(st);
		return;
	}
	call(st, TP_PD_EVENT, s, NULL, ev);
}
