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
 * Whether a delivery is made now or waits for a busy instance (the
 * re-entrancy rule) is stage-queue.c's part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "counter.h"
#include "router.h"
#include "stage-queue.h"
#include "super.h"

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

uint64_t *tp_stage_counter(struct tp_stage *st, const char *name)
{
	return tp_counter_get(st->counters, &st->ncounters, TP_MAX_COUNTERS, st->name, name);
}

/* ---- delivering ------------------------------------------------------------ */

static void deliver(struct tp_stage *st, int kind, struct tp_session *s, struct tp_batch *q)
{
	if (!(kind == TP_PD_DOWN ? st->t->p->down : st->t->p->up)) {
		/* No callback this way: the stage is skipped, as if it had
		 * emitted the batch itself. */
		if (kind == TP_PD_DOWN)
			pass_down(st, s, q);
		else
			pass_up(st, s, q);
		return;
	}
	/* Caps: plain packets only for a stage without TP_PLUGIN_SUPER or a
	 * session whose peer did not agree (super.c). */
	if (!tp_super_gate(st->t->pl->pool, st->t->p->flags, kind == TP_PD_DOWN,
			   s ? s->info.flags : 0, q, &st->t->pl->split_c))
		return;
	tp_stage_hand(st, kind, s, q);
}

#define FANOUT 8 /* sessions served per pass over a batch */

/* A session's figures one way, each buffer seen once per router hop.  A
 * batch the router rebuilt buffer by buffer (tp_batch_add) carries its
 * exact byte sum; one passed on whole is walked, since its `bytes` may lag
 * a stage that pulled a header in place. */
static void count(uint64_t *packets, uint64_t *bytes, const struct tp_batch *q, int rebuilt)
{
	*packets += q->count;
	if (rebuilt) {
		*bytes += q->bytes;
		return;
	}
	for (const struct tp_buf *b = q->head; b; b = b->next)
		*bytes += b->len;
}

/* The router hands a session its batch: the session's tx figures. */
static void to_session(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q, int rebuilt)
{
	count(&s->traffic.tx_packets, &s->traffic.tx_bytes, q, rebuilt);
	deliver(tp_stage_at(pl, s, 1), TP_PD_DOWN, s, q);
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
			to_session(pl, s, q, 0);
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
				to_session(pl, out[k].s, &out[k].q, 1);
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
		to_session(pl, out[k].s, &out[k].q, 1);
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
		*q = ok; /* q is empty now, but its `bytes` may not be 0 */
		if (!q->count)
			return;
	}
	/* the session's rx figures: what passed */
	count(&s->traffic.rx_packets, &s->traffic.rx_bytes, q, !(s->info.flags & TP_SI_LOCAL));
	deliver(pl->top, TP_PD_UP, s, q);
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
		tp_stage_drop(pl, q);
		return;
	} else {
		deliver(tp_stage_at(pl, s, next), TP_PD_DOWN, s, q);
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
		tp_stage_drop(pl, q);
		return;
	}
	if (prev == 0)
		route_up(pl, s, q);
	else
		deliver(tp_stage_at(pl, s, prev), TP_PD_UP, s, q);
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
		tp_stage_drop_queue(st);
		return -1;
	}
	st->started = 1;
	tp_stage_flush(st); /* what reached it while it was starting */
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
	tp_stage_drop_queue(st); /* a stopped instance takes nothing more */
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
