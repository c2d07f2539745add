/* SPDX-License-Identifier: MIT */
/*
 * stage.c — stage instances and the hand-off of batches and events
 * between them.
 *
 * A plugin never names its neighbour: emit_down/emit_up look at the
 * calling instance's position and session (tp_stage_at), and the router
 * sits between the top endpoint and the sessions: it splits what the top
 * emits by destination, and checks the source of what goes up to it.
 *
 * Re-entrancy.  Every call into a plugin's start/stop/down/up/event goes
 * through this file and marks the instance busy, and so does every host
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
#include "counter.h"
#include "log.h"
#include "loop.h"
#include "router.h"
#include "stage.h"
#include "super.h"

enum { PD_DOWN, PD_UP, PD_EVENT };

struct tp_pending {
	struct tp_pending *next;
	int kind;
	struct tp_session *s;
	struct tp_batch q;   /* PD_DOWN, PD_UP */
	struct tp_event ev;  /* PD_EVENT; its reason points into `reason` */
	char reason[128];
};

static void pass_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
static void pass_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);

void tp_stage_init(struct tp_stage *st, struct tp_tmpl *t, struct tp_session *s)
{
	memset(st, 0, sizeof(*st));
	st->t = t;
	st->sess = s;
	if (s)
		snprintf(st->name, sizeof(st->name), "%s#%u", t->name, s->id);
	else
		snprintf(st->name, sizeof(st->name), "%s", t->name);
}

struct tp_stage *tp_stage_at(struct tp_pipeline *pl, struct tp_session *s, int index)
{
	if (index == 0)
		return pl->top;
	if (index == pl->n - 1)
		return pl->bottom;
	if (!s || index < 1 || index > s->nmid)
		return NULL;
	return s->mid[index - 1];
}

/* Data for a session that is closing (or for no session) has nowhere to
 * go: count it and give the buffers back. */
static void drop(struct tp_pipeline *pl, struct tp_batch *q)
{
	*pl->c_closed_drop += q->count;
	tp_pool_free_batch(pl->pool, q);
}

uint64_t *tp_stage_counter(struct tp_stage *st, const char *name)
{
	return tp_counter_get(st->counters, &st->ncounters, TP_MAX_COUNTERS, st->name, name);
}

/* ---- the queue of a busy instance ---------------------------------------- */

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
		drop(st->t->pl, q);
		return;
	}
	tp_batch_splice(&e->q, q);
}

static void queue_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev)
{
	struct tp_pending *e = push(st, PD_EVENT, s);

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
		drop(st->t->pl, &e->q);
	free(e);
}

static void drop_queue(struct tp_stage *st)
{
	struct tp_pending *e;

	while ((e = st->pq_head)) {
		st->pq_head = e->next;
		discard(st, e);
	}
	st->pq_tail = NULL;
	unlist_stage(st);
}

static void flush(struct tp_stage *st);

/* Run one callback of a free instance. */
static void call(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q,
		 const struct tp_event *ev)
{
	const struct tp_plugin *p = st->t->p;

	st->depth++;
	if (kind == PD_DOWN)
		p->down(st->ctx, s, q);
	else if (kind == PD_UP)
		p->up(st->ctx, s, q);
	else
		p->event(st->ctx, s, ev);
	if (--st->depth == 0 && st->pq_head)
		flush(st);
}

/* Deliver what the instance holds, in order; what arrives meanwhile
 * (re-entering it from one of these calls) joins the end of the queue. */
static void flush(struct tp_stage *st)
{
	struct tp_pending *e;

	if (st->depth || st->flushing)
		return;
	st->flushing = 1;
	while ((e = st->pq_head)) {
		st->pq_head = e->next;
		if (!st->pq_head)
			st->pq_tail = NULL;
		if (e->kind != PD_EVENT && e->s && e->s->closing) {
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
		flush(st);
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

/* ---- delivering ------------------------------------------------------------ */

static void deliver(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q)
{
	if (!(kind == PD_DOWN ? st->t->p->down : st->t->p->up)) {
		/* No callback this way: the stage is skipped, as if it had
		 * emitted the batch itself. */
		if (kind == PD_DOWN)
			pass_down(st, s, q);
		else
			pass_up(st, s, q);
		return;
	}
	/* Caps: plain packets only for a stage without TP_PLUGIN_SUPER or a
	 * session whose peer did not agree (super.c). */
	if (!tp_super_gate(st->t->pl->pool, st->t->p->flags, kind == PD_DOWN,
			   s ? s->info.flags : 0, q, &st->t->pl->split_c))
		return;
	if (st->depth || st->pq_head) {
		queue_data(st, kind, s, q);
		flush(st); /* a free instance with a queue: drain it now */
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
		flush(st);
		return;
	}
	call(st, PD_EVENT, s, NULL, ev);
}

#define FANOUT 8 /* sessions served per pass over a batch */

/* The router hands a session its batch: the session's tx figures. */
static void to_session(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q)
{
	tp_traffic_count(&s->traffic.tx_packets, &s->traffic.tx_bytes, q);
	deliver(tp_stage_at(pl, s, 1), PD_DOWN, s, q);
}

/* Top endpoint → sessions, by destination. */
static void route_down(struct tp_pipeline *pl, struct tp_batch *q)
{
	struct tp_session *s = pl->local;
	struct tp_buf *b;

	/* A client has one session that takes everything. */
	if (s) {
		if (s->closing) {
			*pl->c_no_session += q->count;
			tp_pool_free_batch(pl->pool, q);
		} else {
			to_session(pl, s, q);
		}
		return;
	}
	/* A server splits the batch by destination; packets for the same
	 * session keep their order and travel on as one batch. */
	struct {
		struct tp_session *s;
		struct tp_batch q;
	} out[FANOUT];
	int nout = 0;
	while ((b = tp_batch_pop(q))) {
		s = tp_router_lookup(pl->router, b->data, b->len);
		if (!s || s->closing) {
			++*(pl->sessions ? pl->c_no_route : pl->c_no_session);
			tp_pool_free(pl->pool, b);
			continue;
		}
		int k;
		for (k = 0; k < nout && out[k].s != s; k++)
			;
		if (k == FANOUT) {
			for (k = 0; k < nout; k++)
				to_session(pl, out[k].s, &out[k].q);
			nout = k = 0;
		}
		if (k == nout) {
			out[k].s = s;
			tp_batch_init(&out[k].q);
			nout++;
		}
		tp_batch_add(&out[k].q, b);
	}
	for (int k = 0; k < nout; k++)
		to_session(pl, out[k].s, &out[k].q);
}

/* A session → top endpoint, after the anti-spoofing check. */
static void route_up(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q)
{
	if (!s->is_up) {
		*pl->c_no_session += q->count;
		tp_pool_free_batch(pl->pool, q);
		return;
	}
	if (!(s->info.flags & TP_SI_LOCAL)) {
		/* Anti-spoofing: a client may only send from its own addresses. */
		struct tp_batch ok = TP_BATCH_INIT;
		struct tp_buf *b;
		while ((b = tp_batch_pop(q))) {
			if (tp_ip_src_is(b->data, b->len, &s->info.addr4) ||
			    (s->info.addr6.family && tp_ip_src_is(b->data, b->len, &s->info.addr6))) {
				tp_batch_add(&ok, b);
			} else {
				/* A client's kernel sends IPv6 link-local traffic
				 * (router solicitations) on its own: dropped, but
				 * not an attack worth counting as spoofing. */
				++*(tp_ip_src_link_local6(b->data, b->len) ? pl->c_link_local : pl->c_spoofed);
				tp_pool_free(pl->pool, b);
			}
		}
		tp_batch_splice(q, &ok);
		if (!q->count)
			return;
	}
	/* the session's rx figures: what passed */
	tp_traffic_count(&s->traffic.rx_packets, &s->traffic.rx_bytes, q);
	deliver(pl->top, PD_UP, s, q);
}

static void pass_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	struct tp_pipeline *pl = st->t->pl;
	int next = st->t->index + 1;

	if (!q->count)
		return;
	if (st->t->index == 0) {
		route_down(pl, q);
	} else if (next >= pl->n || !s || s->closing) {
		drop(pl, q);
		return;
	} else {
		deliver(tp_stage_at(pl, s, next), PD_DOWN, s, q);
	}
	tp_batch_init(q); /* the contract: the caller's batch comes back empty */
}

static void pass_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	struct tp_pipeline *pl = st->t->pl;
	int prev = st->t->index - 1;

	if (!q->count)
		return;
	if (prev < 0 || !s || s->closing) {
		drop(pl, q);
		return;
	}
	if (prev == 0)
		route_up(pl, s, q);
	else
		deliver(tp_stage_at(pl, s, prev), PD_UP, s, q);
	tp_batch_init(q);
}

void tp_stage_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	tp_stage_enter(st);
	pass_down(st, s, q);
	tp_stage_leave(st);
}

void tp_stage_emit_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	tp_stage_enter(st);
	pass_up(st, s, q);
	tp_stage_leave(st);
}

/* ---- life cycle ------------------------------------------------------------ */

int tp_stage_start(struct tp_stage *st)
{
	int rc = 0;

	st->depth++;
	if (st->t->p->start)
		rc = st->t->p->start(st->ctx);
	st->depth--;
	if (rc < 0) {
		drop_queue(st);
		return -1;
	}
	st->started = 1;
	flush(st); /* what reached it while it was starting */
	return 0;
}

void tp_stage_stop(struct tp_stage *st)
{
	if (!st)
		return;
	if (st->started && st->t->p->stop) {
		st->depth++;
		st->t->p->stop(st->ctx);
		st->depth--;
	}
	st->started = 0;
	drop_queue(st); /* a stopped instance takes nothing more */
}

void tp_stage_free(struct tp_stage *st)
{
	if (!st)
		return;
	tp_stage_stop(st);
	if (st->ctx)
		st->t->p->destroy(st->ctx);
	if (st->sess) /* a per-session instance: its stage keeps the sums */
		tp_counter_fold(st->t->totals, &st->t->ntotals, TP_MAX_COUNTERS, st->counters, st->ncounters);
	free(st);
}
