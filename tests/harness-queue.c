/* SPDX-License-Identifier: MIT */
/*
 * harness-queue.c — the harness keeps the core's re-entrancy rule (plugin.h,
 * THE CALL SEQUENCE; core/stage.c does the same for the daemon): a stage
 * instance's callbacks never nest.
 *
 * Every call the harness makes into a stage's start/stop/down/up/event, and
 * every host call that can lead back into stages (emit_*, session_up),
 * marks the stage busy.  A delivery to a busy stage is queued on it and
 * made, in arrival order, as soon as it is free: when the callback the
 * harness called returns or, for a host call made from the stage's own fd
 * or timer callback, from a deferred call at the end of the loop round (or
 * right after tp_harness_fd_fire()).  A delivery to a free stage that still
 * holds a queue drains the queue first, so nothing overtakes.  Without
 * this a plugin tested here would see nested calls the core never makes
 * (and could come to depend on them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness-priv.h"
#include "loop.h"
#include "super.h"

enum { HQ_DOWN, HQ_UP, HQ_EVENT };

struct hq_item {
	struct hq_item *next;
	int kind;
	struct tp_batch q;            /* HQ_DOWN, HQ_UP */
	struct tp_event ev;           /* HQ_EVENT; pointers into the copies below */
	struct tp_session_info info;
	char reason[128];
};

static struct hq_item *hq_push(struct h_stage *s, int kind)
{
	struct hq_item *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	tp_batch_init(&e->q);
	if (s->q_tail)
		s->q_tail->next = e;
	else
		s->q_head = e;
	s->q_tail = e;
	return e;
}

static void hq_queue_data(struct tp_harness *h, struct h_stage *s, int kind, struct tp_batch *q)
{
	struct hq_item *e = s->q_tail;

	/* Batches that follow each other the same way travel on as one, as
	 * in the core. */
	if (!e || e->kind != kind)
		e = hq_push(s, kind);
	if (!e) {
		fprintf(stderr, "[harness/%s] error: out of memory: %u buffers dropped\n",
			s->p->name, (unsigned)q->count);
		tp_pool_free_batch(h->pool, q);
		return;
	}
	tp_batch_splice(&e->q, q);
}

static void hq_queue_event(struct h_stage *s, const struct tp_event *ev)
{
	struct hq_item *e = hq_push(s, HQ_EVENT);

	if (!e) {
		fprintf(stderr, "[harness/%s] error: out of memory: event %d lost\n", s->p->name,
			(int)ev->type);
		return;
	}
	/* The sender's info and reason may not outlive its call. */
	e->ev = *ev;
	if (ev->info) {
		size_t n = ev->info->size && ev->info->size < sizeof(e->info) ?
			ev->info->size : sizeof(e->info);
		memcpy(&e->info, ev->info, n);
		e->ev.info = &e->info;
	}
	if (ev->reason) {
		snprintf(e->reason, sizeof(e->reason), "%s", ev->reason);
		e->ev.reason = e->reason;
	}
}

static void hq_flush(struct tp_harness *h, struct h_stage *s);

/* Run one callback of a free stage, then what reached it meanwhile. */
static void hq_call(struct tp_harness *h, struct h_stage *s, int kind, struct tp_batch *q,
		    const struct tp_event *ev)
{
	s->depth++;
	if (kind == HQ_DOWN)
		s->p->down(s->ctx, &h->sessions[0], q);
	else if (kind == HQ_UP)
		s->p->up(s->ctx, &h->sessions[0], q);
	else
		s->p->event(s->ctx, &h->sessions[0], ev);
	if (--s->depth == 0 && s->q_head)
		hq_flush(h, s);
}

/* Deliver what the stage holds, in order; what arrives meanwhile joins the
 * end of the queue. */
static void hq_flush(struct tp_harness *h, struct h_stage *s)
{
	struct hq_item *e;

	if (s->depth || s->flushing)
		return;
	s->flushing = 1;
	while ((e = s->q_head)) {
		s->q_head = e->next;
		if (!s->q_head)
			s->q_tail = NULL;
		hq_call(h, s, e->kind, &e->q, &e->ev);
		free(e);
	}
	s->flushing = 0;
}

void hh_plain(struct tp_harness *h, uint32_t stage_flags, int down, struct tp_batch *q)
{
	/* The core's caps rule (core/super.h), with the core's code. */
	const struct tp_split_counters sc = { &h->split[0], &h->split[1], &h->split[2], &h->split[3] };

	tp_super_gate(h->pool, stage_flags, down, h->si_flags, q, &sc);
}

void hh_deliver(struct tp_harness *h, int idx, int up, struct tp_batch *q)
{
	struct h_stage *s = &h->stages[idx];

	if (up ? s->p->up : s->p->down) {
		hh_plain(h, s->p->flags, !up, q);
		if (!q->count)
			return;
	}
	if (!(up ? s->p->up : s->p->down)) {
		/* No callback this way: pass-through, as in the core. */
		hh_emit(h, idx, up, q);
		return;
	}
	if (s->depth || s->q_head) {
		hq_queue_data(h, s, up ? HQ_UP : HQ_DOWN, q);
		hq_flush(h, s); /* a free stage with a queue: drain it now */
		return;
	}
	hq_call(h, s, up ? HQ_UP : HQ_DOWN, q, NULL);
}

void hh_event(struct tp_harness *h, int idx, const struct tp_event *ev)
{
	struct h_stage *s = &h->stages[idx];

	if (!s->ctx || !s->p->event)
		return;
	if (s->depth || s->q_head) {
		hq_queue_event(s, ev);
		hq_flush(h, s);
		return;
	}
	hq_call(h, s, HQ_EVENT, NULL, ev);
}

static void hq_deferred(void *arg);

void hh_flush_all(struct tp_harness *h)
{
	if (h->flush_scheduled)
		tp_loop_defer_cancel(h->loop, hq_deferred, h);
	h->flush_scheduled = 0;
	for (int i = 0; i < h->nstages; i++)
		if (h->stages[i].q_head)
			hq_flush(h, &h->stages[i]);
}

static void hq_deferred(void *arg)
{
	struct tp_harness *h = arg;

	h->flush_scheduled = 0;
	hh_flush_all(h);
}

void hh_enter(struct h_stage *s)
{
	s->depth++;
}

/* The end of a host call: the plugin's code runs on, so what it holds
 * waits for the end of the loop round unless a callback the harness made
 * returns first. */
void hh_leave(struct tp_harness *h, struct h_stage *s)
{
	if (--s->depth || !s->q_head || h->flush_scheduled)
		return;
	if (tp_loop_defer(h->loop, hq_deferred, h) == 0)
		h->flush_scheduled = 1;
	else
		fprintf(stderr, "[harness/%s] error: cannot schedule a deferred call\n", s->p->name);
}

static void hq_drop(struct tp_harness *h, struct h_stage *s)
{
	struct hq_item *e;

	while ((e = s->q_head)) {
		s->q_head = e->next;
		tp_pool_free_batch(h->pool, &e->q);
		free(e);
	}
	s->q_tail = NULL;
}

int hh_start(struct tp_harness *h, int idx)
{
	struct h_stage *s = &h->stages[idx];
	int rc = 0;

	s->depth++;
	if (s->p->start)
		rc = s->p->start(s->ctx);
	s->depth--;
	if (rc < 0) {
		hq_drop(h, s);
		return -1;
	}
	hq_flush(h, s); /* what reached it while it was starting */
	return 0;
}

void hh_stop(struct tp_harness *h, int idx)
{
	struct h_stage *s = &h->stages[idx];

	if (s->ctx && s->p->stop) {
		s->depth++;
		s->p->stop(s->ctx);
		s->depth--;
	}
	hq_drop(h, s); /* a stopped stage takes nothing more */
}

void hh_drop_queues(struct tp_harness *h)
{
	if (h->flush_scheduled)
		tp_loop_defer_cancel(h->loop, hq_deferred, h);
	h->flush_scheduled = 0;
	for (int i = 0; i < h->nstages; i++)
		hq_drop(h, &h->stages[i]);
}
