/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c — from a parsed config to running pipelines.
 *
 * Building checks everything a config can get wrong before anything runs,
 * and keeps going after the first error so `tunpipe -t` reports them all:
 * plugins that do not load, options that do not validate, stages in the
 * wrong place for their kind, neighbours whose link types do not match,
 * and the plugins' own semantic checks in create().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addrpool.h"
#include "host.h"
#include "inspect.h"
#include "log.h"
#include "pipeline.h"
#include "router.h"
#include "session.h"

#define DEFAULT_MAX_BUFFERS 4096
/* buf_alloc(0) and every request up to this size get a small buffer: one
 * packet at a usual MTU, in few cache lines.  Larger requests (stream
 * reads, jumbo MTUs) come from the 64 KiB class. */
#define DEFAULT_BUF_LEN 2048

static const char *kind_name(enum tp_kind k)
{
	switch (k) {
	case TP_KIND_SOURCE: return "a source (top endpoint)";
	case TP_KIND_TRANSFORM: return "a transform";
	case TP_KIND_SINK: return "a sink (bottom endpoint)";
	}
	return "of an unknown kind";
}

static void where(char *buf, size_t len, const struct tp_pipeline_conf *pc, int i, const char *plugin)
{
	snprintf(buf, len, "pipeline '%s' stage %d '%s'", pc->name, i + 1, plugin ? plugin : "?");
}

/* Explain a link that cannot work, and what would. */
static void link_error(struct tp_diag *d, const char *file, const struct tp_pipeline_conf *pc,
		       const struct tp_tmpl *a, const struct tp_tmpl *b)
{
	char w[160], ga[64], tb[64];
	const char *hint = "";

	where(w, sizeof(w), pc, b->index, b->p->name);
	tp_data_name(a->p->bottom, ga, sizeof(ga));
	tp_data_name(b->p->top, tb, sizeof(tb));
	if (b->p->top == TP_DATA_IP && (a->p->bottom & TP_DATA_MSG))
		hint = " A stage that gives messages needs a framer that delimits any message below it (e.g. framer-len), not one that relies on IP length fields.";
	else if ((b->p->top & TP_DATA_STREAM) && !(a->p->bottom & TP_DATA_STREAM))
		hint = " Put a framer (framer-ip or framer-len) between them to turn packets into a byte stream.";
	else if ((a->p->bottom & TP_DATA_STREAM) && !(b->p->top & TP_DATA_STREAM))
		hint = " A byte stream must go straight to a transport (e.g. tls-http).";
	tp_diag_error(d, file, b->line, w,
		      "cannot be linked below stage %d '%s' (line %d): '%s' gives %s, but '%s' takes %s.%s",
		      a->index + 1, a->p->name, a->line, a->p->name, ga, b->p->name, tb, hint);
}

static struct tp_stage *create_stage(struct tp_pipeline *pl, struct tp_tmpl *t, struct tp_diag *d,
				     const char *file, const struct tp_pipeline_conf *pc)
{
	char err[512] = "", w[160];
	struct tp_stage *st = malloc(sizeof(*st));

	if (!st)
		return NULL;
	tp_stage_init(st, t, NULL);
	st->ctx = t->p->create(st, pl->host, tp_optset_config(t->opts), err, sizeof(err));
	if (!st->ctx) {
		where(w, sizeof(w), pc, t->index, t->p->name);
		tp_diag_error(d, file, t->line, w, "%s", err[0] ? err : "the plugin refused its configuration");
		free(st);
		return NULL;
	}
	return st;
}

static struct tp_pipeline *build_one(struct tp_conf *c, const struct tp_pipeline_conf *pc, struct tp_loader *ld,
				     struct tp_loop *loop, struct tp_diag *d, int check_only)
{
	int errors = d->errors;
	char err[1024], w[160];
	struct tp_pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	snprintf(pl->name, sizeof(pl->name), "%s", pc->name);
	pl->loop = loop;
	pl->host = &tp_core_host;
	pl->n = pc->nstages;
	pl->t = calloc((size_t)(pl->n ? pl->n : 1), sizeof(*pl->t));
	pl->router = tp_router_new();
	if (!pl->t || !pl->router)
		goto fail;
	snprintf(pl->router_stage.name, sizeof(pl->router_stage.name), "%s/router", pl->name);
	pl->c_spoofed = tp_stage_counter(&pl->router_stage, "spoofed");
	pl->c_link_local = tp_stage_counter(&pl->router_stage, "link_local");
	pl->c_no_route = tp_stage_counter(&pl->router_stage, "no_route");
	pl->c_no_session = tp_stage_counter(&pl->router_stage, "no_session");
	pl->c_closed_drop = tp_stage_counter(&pl->router_stage, "closing_drops");
	pl->split_c.split = tp_stage_counter(&pl->router_stage, "super_split");
	pl->split_c.segments = tp_stage_counter(&pl->router_stage, "super_split_segments");
	pl->split_c.bad = tp_stage_counter(&pl->router_stage, "super_split_bad");
	pl->split_c.nobuf = tp_stage_counter(&pl->router_stage, "super_split_nobuf");

	if (pl->n < 2)
		tp_diag_error(d, c->file, pc->line, NULL,
			      "pipeline '%s' needs at least two stages: a source (e.g. tun) first and a sink (e.g. tls-http) last",
			      pc->name);
	for (int i = 0; i < pl->n; i++) {
		const struct tp_stage_conf *sc = &pc->stages[i];
		struct tp_tmpl *t = &pl->t[i];
		t->pl = pl;
		t->index = i;
		t->line = sc->line;
		if (!sc->plugin)
			continue; /* reported by the config reader */
		where(w, sizeof(w), pc, i, sc->plugin);
		t->p = tp_loader_get(ld, sc->plugin, err, sizeof(err));
		if (!t->p) {
			tp_diag_error(d, c->file, sc->line, w, "%s", err);
			continue;
		}
		snprintf(t->name, sizeof(t->name), "%s/%s", pl->name, t->p->name);
		t->opts = tp_options_parse(t->p->options, t->p->config_size, sc->group, c->file, w, d);
		enum tp_kind want = i == 0 ? TP_KIND_SOURCE : i == pl->n - 1 ? TP_KIND_SINK : TP_KIND_TRANSFORM;
		if (pl->n >= 2 && t->p->kind != want)
			tp_diag_error(d, c->file, sc->line, w, "'%s' is %s but stands where %s belongs%s", t->p->name,
				      kind_name(t->p->kind), kind_name(want),
				      want == TP_KIND_SOURCE ? " (the first stage)" :
				      want == TP_KIND_SINK ? " (the last stage)" : " (between the endpoints)");
	}
	for (int i = 0; i + 1 < pl->n; i++)
		if (pl->t[i].p && pl->t[i + 1].p && !(pl->t[i].p->bottom & pl->t[i + 1].p->top))
			link_error(d, c->file, pc, &pl->t[i], &pl->t[i + 1]);
	if (d->errors != errors)
		goto fail;

	size_t head = 0, tail = 0;
	for (int i = 0; i < pl->n; i++) {
		head += pl->t[i].p->headroom;
		tail += pl->t[i].p->tailroom;
	}
	pl->pool = tp_pool_new(head, tail, DEFAULT_BUF_LEN, pc->max_buffers > 0 ? (size_t)pc->max_buffers : DEFAULT_MAX_BUFFERS);
	if (!pl->pool)
		goto fail;

	/* Transforms are made per session; make one now so their options are
	 * checked at start, and learn their wire ids for the stack string. */
	for (int i = 1; i < pl->n - 1; i++) {
		struct tp_tmpl *t = &pl->t[i];
		struct tp_stage *st = create_stage(pl, t, d, c->file, pc);
		if (!st)
			continue;
		if (t->p->wire_id)
			t->p->wire_id(st->ctx, t->wire, sizeof(t->wire));
		if (!t->wire[0])
			snprintf(t->wire, sizeof(t->wire), "%s", t->p->name);
		/* A local-only stage leaves the wire bytes alone: the peer
		 * need not run it, so it is no part of what both ends agree. */
		if (!(t->p->flags & TP_PLUGIN_LOCAL_ONLY)) {
			size_t len = strlen(pl->stack);
			snprintf(pl->stack + len, sizeof(pl->stack) - len, "%s%s", len ? "," : "", t->wire);
		}
		tp_stage_free(st);
	}
	pl->top = create_stage(pl, &pl->t[0], d, c->file, pc);
	pl->bottom = create_stage(pl, &pl->t[pl->n - 1], d, c->file, pc);
	if (d->errors != errors)
		goto fail;
	/* A server leases its clients' tunnel addresses from the network the
	 * top endpoint announced at create(), and routes by them: without one,
	 * no session could ever come up. */
	struct tp_tmpl *sink = &pl->t[pl->n - 1];
	if (!pl->apool && tp_optset_holds(sink->opts, "role=server")) {
		where(w, sizeof(w), pc, 0, pl->t[0].p->name);
		tp_diag_error(d, c->file, pl->t[0].line, w,
			      "has no address, but stage %d '%s' (line %d) is a server: it leases each client's "
			      "tunnel address from this stage's network and routes by it; set 'address' "
			      "(or 'address6')", sink->index + 1, sink->p->name, sink->line);
		goto fail;
	}
	if (check_only) {
		tp_pipeline_free(pl);
		return NULL;
	}
	return pl;
fail:
	tp_pipeline_free(pl);
	return NULL;
}

struct tp_pipeline **tp_pipelines_build(struct tp_conf *c, struct tp_loader *ld, struct tp_loop *loop,
					struct tp_diag *d, int check_only, int *npipes)
{
	int errors = d->errors;
	struct tp_pipeline **v = calloc((size_t)(c->npipes ? c->npipes : 1), sizeof(*v));

	*npipes = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < c->npipes; i++) {
		struct tp_pipeline *pl = build_one(c, &c->pipes[i], ld, loop, d, check_only);
		if (pl)
			v[(*npipes)++] = pl;
	}
	if (d->errors != errors || check_only) {
		for (int i = 0; i < *npipes; i++)
			tp_pipeline_free(v[i]);
		free(v);
		*npipes = 0;
		return NULL;
	}
	return v;
}

int tp_pipeline_start(struct tp_pipeline *pl)
{
	/* Top first: a sink may open a session (and send session-up) while
	 * it starts, and the top endpoint must be ready to hear it. */
	struct tp_stage *ends[2] = { pl->top, pl->bottom };
	for (int i = 0; i < 2; i++) {
		struct tp_stage *st = ends[i];
		if (tp_stage_start(st) < 0) {
			tp_log(TP_LOG_ERROR, st->name, "failed to start");
			return -1;
		}
	}
	tp_log(TP_LOG_INFO, pl->router_stage.name, "pipeline '%s' running: %s", pl->name, pl->stack[0] ? pl->stack : "(no transforms)");
	return 0;
}

void tp_pipeline_stop(struct tp_pipeline *pl)
{
	/* What the stages still hold goes out while they all run; then
	 * bottom first: no new sessions or data arrive while we tear down. */
	tp_stage_flush_all(pl);
	tp_stage_stop(pl->bottom);
	tp_sessions_close_all(pl);
	tp_stage_stop(pl->top);
}

static void log_counters(const char *name, const struct tp_counter *c, int n)
{
	char line[1024];
	size_t len = 0;
	line[0] = 0;
	for (int i = 0; i < n && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s=%llu", i ? " " : "", c[i].name,
					(unsigned long long)c[i].v);
	if (n)
		tp_log(TP_LOG_INFO, name, "counters: %s", line);
}

void tp_pipeline_log_counters(struct tp_pipeline *pl)
{
	for (int i = 0; i < pl->n; i++) {
		struct tp_tmpl *t = &pl->t[i];
		struct tp_stage *st = tp_stage_at(pl, NULL, i); /* endpoints only */
		if (st)
			log_counters(t->name, st->counters, st->ncounters);
		else
			log_counters(t->name, t->totals, t->ntotals); /* ended sessions */
	}
	log_counters(pl->router_stage.name, pl->router_stage.counters, pl->router_stage.ncounters);
	struct tp_pool_stats ps;
	tp_pool_get_stats(pl->pool, &ps);
	tp_log(TP_LOG_INFO, pl->router_stage.name, "sessions=%u buffers: out=%zu cached=%zu created=%zu bytes=%zu refused=%zu",
	       pl->nsessions, ps.outstanding, ps.cached, ps.created, ps.bytes, ps.failed);
}

void tp_pipeline_reload(struct tp_pipeline *pl)
{
	struct tp_event ev = { .type = TP_EV_RELOAD };
	tp_stage_event(pl->top, NULL, &ev);
	tp_stage_event(pl->bottom, NULL, &ev);
	for (struct tp_session *s = pl->sessions; s; s = s->next)
		for (int i = 1; i < pl->n - 1; i++)
			tp_stage_event(tp_stage_at(pl, s, i), s, &ev);
}

void tp_pipeline_free(struct tp_pipeline *pl)
{
	if (!pl)
		return;
	if (pl->pool)
		tp_sessions_close_all(pl);
	tp_stage_free(pl->bottom);
	tp_stage_free(pl->top);
	if (pl->pool) {
		size_t leaked = tp_pool_destroy(pl->pool);
		if (leaked)
			tp_log(TP_LOG_WARN, pl->router_stage.name, "%zu buffers were not returned to the pool", leaked);
	}
	for (int i = 0; i < pl->n; i++)
		tp_optset_free(pl->t[i].opts);
	tp_addrpool_free(pl->apool);
	tp_router_free(pl->router);
	free(pl->users);
	free(pl->t);
	free(pl);
}
