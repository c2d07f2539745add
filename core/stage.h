/* SPDX-License-Identifier: MIT */
/*
 * stage.h — the data model of a running pipeline, and the stage module:
 * stage instances and the passing of batches and events between them.
 *
 * A pipeline is a list of stage templates (plugin + validated options).
 * The two endpoints are instantiated once; the transforms between them
 * are instantiated per session.  stage.c is the only place that knows how
 * an index maps to an instance (tp_stage_at) and the only place that calls
 * a plugin's down/up/event/start/stop, so it can keep the promise of
 * plugin.h's "THE CALL SEQUENCE": a stage instance's callbacks never nest.
 */
#ifndef TP_CORE_STAGE_H
#define TP_CORE_STAGE_H
#include <stdint.h>
#include <tunpipe/plugin.h>

#include "counter.h"
#include "super.h"

#define TP_MAX_COUNTERS 32

/* One stage as configured: shared by all of its instances. */
struct tp_tmpl {
	struct tp_pipeline *pl;
	const struct tp_plugin *p;
	struct tp_optset *opts;
	int index;
	int line;
	char name[80];      /* "PIPELINE/PLUGIN" */
	/* Counters of ended per-session instances, summed. */
	struct tp_counter totals[TP_MAX_COUNTERS];
	int ntotals;
	char wire[64];      /* wire id of a transform, for the stack string */
};

/* Packets and bytes each way: rx from the peer (up), tx to it (down). */
struct tp_traffic {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

static inline void tp_traffic_add(struct tp_traffic *sum, const struct tp_traffic *t)
{
	sum->rx_packets += t->rx_packets;
	sum->rx_bytes += t->rx_bytes;
	sum->tx_packets += t->tx_packets;
	sum->tx_bytes += t->tx_bytes;
}

/* What ended sessions of one user carried (kept for monotonic metrics). */
struct tp_user_total {
	char user[64];
	struct tp_traffic traffic;
	uint64_t sessions;       /* sessions that came up, ever */
};

struct tp_pending; /* a delivery held back until the instance is free */

/* struct tp_stage: one instance (the handle plugins see). */
struct tp_stage {
	struct tp_tmpl *t;
	struct tp_session *sess; /* transforms only */
	void *ctx;
	int started;
	char name[96];           /* "PIPELINE/PLUGIN" or "PIPELINE/PLUGIN#SESSION" */
	struct tp_counter counters[TP_MAX_COUNTERS];
	int ncounters;
	/* Re-entrancy: callbacks and host calls of this instance now on the
	 * stack, and what arrived meanwhile, in order. */
	int depth;
	int flushing;
	struct tp_pending *pq_head, *pq_tail;
	struct tp_stage *pq_next; /* on the pipeline's list of stages with a queue */
	int pq_listed;
};

struct tp_session {
	struct tp_pipeline *pl;
	struct tp_session *next, *prev;
	unsigned id;
	void *tag;
	struct tp_stage **mid;   /* instances of stages 1..n-2 */
	int nmid;
	struct tp_session_info info;
	int is_up;
	int closing;             /* closed or abort requested: data is dropped */
	int closed;              /* session_close() ran */
	int abort_pending;       /* CLOSE_REQUEST not yet delivered */
	char reason[128];        /* why it is being aborted */
	int lease;               /* address pool lease, -1 none */
	uint64_t opened_ms;
	/* Tunnel traffic at the router hop, counted by the core for status
	 * and metrics: rx = IP packets from the peer that passed anti-spoofing, tx = routed to
	 * the peer; also in the session-close log line. */
	struct tp_traffic traffic;
	int64_t up_since;        /* wall clock (s) of session_up, 0 before */
};

struct tp_pipeline {
	char name[64];
	struct tp_loop *loop;
	struct tp_pool *pool;
	const struct tp_host *host;
	struct tp_tmpl *t;
	int n;
	struct tp_stage *top, *bottom;
	struct tp_session *sessions;  /* live */
	struct tp_session *dead;      /* closed, destroyed by housekeeping */
	struct tp_session *local;     /* a client's session (TP_SI_LOCAL), if up */
	int hk_scheduled;
	unsigned next_session_id;
	unsigned nsessions;
	struct tp_router *router;
	struct tp_addrpool *apool;
	char stack[256];
	struct tp_stage *queued;      /* instances holding deliveries */
	/* Accounting of ended sessions (session.c): the whole pipeline's and
	 * each user's, so totals never go down when a session ends. */
	struct tp_traffic ended;
	uint64_t sessions_up;         /* sessions that came up, ever */
	struct tp_user_total *users;
	int nusers, cusers;
	int flush_scheduled;
	/* the router's own counters */
	struct tp_stage router_stage; /* holds counters + name for logging */
	uint64_t *c_spoofed, *c_link_local, *c_no_route, *c_no_session, *c_closed_drop;
	struct tp_split_counters split_c; /* super.c */
};

/* Instances. */
void tp_stage_init(struct tp_stage *st, struct tp_tmpl *t, struct tp_session *s);
/* The instance at position `index` for session `s` (NULL for a transform
 * without a session): the one place that maps indices to instances. */
struct tp_stage *tp_stage_at(struct tp_pipeline *pl, struct tp_session *s, int index);
int tp_stage_start(struct tp_stage *st);
void tp_stage_stop(struct tp_stage *st);
/* Stop, drop what is queued for it, destroy, and fold a per-session
 * instance's counters into its template's totals. */
void tp_stage_free(struct tp_stage *st);
/* A named counter of the instance (host->counter). */
uint64_t *tp_stage_counter(struct tp_stage *st, const char *name);

/* Moving data: host->emit_down/emit_up.  The caller's batch comes back empty. */
void tp_stage_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
void tp_stage_emit_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
/* An event to one instance (queued while the instance is busy). */
void tp_stage_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev);

/* Bracket a host call that may call plugins back (host.c). */
void tp_stage_enter(struct tp_stage *st);
void tp_stage_leave(struct tp_stage *st);
/* Deliver everything held back, now (no plugin may be on the stack). */
void tp_stage_flush_all(struct tp_pipeline *pl);
/* Forget what endpoints hold for a session that is being freed. */
void tp_stage_forget_session(struct tp_pipeline *pl, struct tp_session *s);

#endif
