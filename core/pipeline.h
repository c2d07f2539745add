/*
 * pipeline.h — assembling stages into pipelines and running them.
 *
 * A pipeline is a list of stage templates (plugin + validated options).
 * The two endpoints are instantiated once; the transforms between them
 * are instantiated per session (struct tp_session).  Data moves between
 * instances through the host services in host.c; sessions, the router
 * and the address pool live in session.c.
 */
#ifndef TP_CORE_PIPELINE_H
#define TP_CORE_PIPELINE_H
#include <stdint.h>
#include <tunpipe/plugin.h>
#include "conf.h"
#include "loader.h"
#include "loop.h"
#include "buf.h"
#include "router.h"
#include "addrpool.h"

#define TP_MAX_COUNTERS 32

struct tp_counter {
	char name[32];
	uint64_t v;
};

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

/* struct tp_stage: one instance (the handle plugins see). */
struct tp_stage {
	struct tp_tmpl *t;
	struct tp_session *sess; /* transforms only */
	void *ctx;
	int started;
	char name[96];           /* "PIPELINE/PLUGIN" or "PIPELINE/PLUGIN#SESSION" */
	struct tp_counter counters[TP_MAX_COUNTERS];
	int ncounters;
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
	/* the router's own counters */
	struct tp_stage router_stage; /* holds counters + name for logging */
	uint64_t *c_spoofed, *c_link_local, *c_no_route, *c_no_session, *c_closed_drop;
};

/* Build every pipeline of `c`: load plugins, validate options and links,
 * create the endpoints (and a throwaway instance of every transform so its
 * options are checked).  All errors go to `d`.  check_only: destroy
 * everything again (for `tunpipe -t`).  Returns the array (count in
 * *npipes) or NULL if any error was found. */
struct tp_pipeline **tp_pipelines_build(struct tp_conf *c, struct tp_loader *ld, struct tp_loop *loop,
					struct tp_diag *d, int check_only, int *npipes);
int tp_pipeline_start(struct tp_pipeline *pl);
/* Stop endpoints (bottom first), close sessions, destroy everything. */
void tp_pipeline_stop(struct tp_pipeline *pl);
void tp_pipeline_free(struct tp_pipeline *pl);
void tp_pipeline_log_counters(struct tp_pipeline *pl);
void tp_pipeline_reload(struct tp_pipeline *pl);

/* host.c */
extern const struct tp_host tp_core_host;
void tp_stage_init(struct tp_stage *st, struct tp_tmpl *t, struct tp_session *s);
/* Deliver a batch to an instance's down/up (or pass it on if absent). */
void tp_deliver_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
void tp_deliver_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
void tp_stage_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev);

/* session.c */
struct tp_session *tp_session_open(struct tp_pipeline *pl, void *tag);
int tp_session_up(struct tp_pipeline *pl, struct tp_session *s, const struct tp_session_info *info);
void tp_session_close(struct tp_pipeline *pl, struct tp_session *s, const char *reason);
void tp_session_abort(struct tp_pipeline *pl, struct tp_session *s, const char *reason);
int tp_session_lease(struct tp_pipeline *pl, struct tp_session *s, const char *user,
		     struct tp_session_info *info);
/* Top endpoint → sessions, by destination. */
void tp_route_down(struct tp_pipeline *pl, struct tp_batch *q);
/* A session → top endpoint, after the anti-spoofing check. */
void tp_route_up(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q);
/* Close every session now (shutdown). */
void tp_sessions_close_all(struct tp_pipeline *pl);

#endif
