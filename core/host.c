/*
 * host.c — the services the core offers plugins (struct tp_host), and the
 * hand-off of batches from one stage instance to the next.
 *
 * Every service receives the calling stage's handle, which knows its
 * pipeline, its position and (for transforms) its session, so the plugin
 * never has to say where data goes: "down" and "up" are enough.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "deframe.h"
#include "log.h"
#include "pipeline.h"

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

static struct tp_pipeline *PL(struct tp_stage *st)
{
	return st->t->pl;
}

static void h_log(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tp_vlog(lvl, st ? st->name : NULL, fmt, ap);
	va_end(ap);
}

static struct tp_buf *h_buf_alloc(struct tp_stage *st, size_t len)
{
	return tp_pool_alloc(PL(st)->pool, len);
}

static void h_buf_free(struct tp_stage *st, struct tp_buf *b)
{
	tp_pool_free(PL(st)->pool, b);
}

static void h_batch_free(struct tp_stage *st, struct tp_batch *q)
{
	tp_pool_free_batch(PL(st)->pool, q);
}

/* Data for a session that is closing (or for no session) has nowhere to
 * go: count it and give the buffers back. */
static void drop(struct tp_pipeline *pl, struct tp_batch *q)
{
	*pl->c_closed_drop += q->count;
	tp_pool_free_batch(pl->pool, q);
}

void tp_deliver_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	if (st->t->p->down)
		st->t->p->down(st->ctx, s, q);
	else
		tp_core_host.emit_down(st, s, q);
}

void tp_deliver_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	if (st->t->p->up)
		st->t->p->up(st->ctx, s, q);
	else
		tp_core_host.emit_up(st, s, q);
}

void tp_stage_event(struct tp_stage *st, struct tp_session *s, const struct tp_event *ev)
{
	if (st && st->ctx && st->t->p->event)
		st->t->p->event(st->ctx, s, ev);
}

static void h_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	struct tp_pipeline *pl = PL(st);
	int next = st->t->index + 1;

	if (!q->count)
		return;
	if (st->t->index == 0) {
		tp_route_down(pl, q);
		tp_batch_init(q);
		return;
	}
	if (next >= pl->n || !s || s->closing) {
		drop(pl, q);
		return;
	}
	tp_deliver_down(next == pl->n - 1 ? pl->bottom : s->mid[next - 1], s, q);
	tp_batch_init(q); /* the contract: the caller's batch comes back empty */
}

static void h_emit_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	struct tp_pipeline *pl = PL(st);
	int prev = st->t->index - 1;

	if (!q->count)
		return;
	if (prev < 0 || !s || s->closing) {
		drop(pl, q);
		return;
	}
	if (prev == 0)
		tp_route_up(pl, s, q);
	else
		tp_deliver_up(s->mid[prev - 1], s, q);
	tp_batch_init(q);
}

static int h_fd_add(struct tp_stage *st, int fd, uint32_t ev, tp_fd_cb cb, void *arg)
{
	return tp_loop_fd_add(PL(st)->loop, fd, ev, cb, arg);
}

static int h_fd_mod(struct tp_stage *st, int fd, uint32_t ev)
{
	return tp_loop_fd_mod(PL(st)->loop, fd, ev);
}

static void h_fd_del(struct tp_stage *st, int fd)
{
	tp_loop_fd_del(PL(st)->loop, fd);
}

static struct tp_timer *h_timer_add(struct tp_stage *st, uint64_t ms, tp_timer_cb cb, void *arg)
{
	return tp_loop_timer_add(PL(st)->loop, ms, cb, arg);
}

static void h_timer_cancel(struct tp_stage *st, struct tp_timer *t)
{
	tp_loop_timer_cancel(PL(st)->loop, t);
}

static uint64_t h_now_ms(struct tp_stage *st)
{
	return tp_loop_now_ms(PL(st)->loop);
}

static uint64_t *h_counter(struct tp_stage *st, const char *name)
{
	/* A stage that registers too many counters shares one scratch slot
	 * for the rest: counting must never fail on the data path. */
	static uint64_t scratch;
	if (strlen(name) >= sizeof(st->counters[0].name)) {
		/* Cut, it would no longer match itself on the next call. */
		tp_log(TP_LOG_ERROR, st->name, "counter name '%s' is too long (max %zu characters); not reported",
		       name, sizeof(st->counters[0].name) - 1);
		return &scratch;
	}
	for (int i = 0; i < st->ncounters; i++)
		if (!strcmp(st->counters[i].name, name))
			return &st->counters[i].v;
	if (st->ncounters == TP_MAX_COUNTERS) {
		tp_log(TP_LOG_WARN, st->name, "too many counters; '%s' is not reported", name);
		return &scratch;
	}
	struct tp_counter *c = &st->counters[st->ncounters++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->v = 0;
	return &c->v;
}

static int is_bottom(struct tp_stage *st, const char *what)
{
	if (st->t->index == PL(st)->n - 1)
		return 1;
	tp_log(TP_LOG_ERROR, st->name, "%s() is for the bottom endpoint only", what);
	return 0;
}

static struct tp_session *h_session_open(struct tp_stage *st, void *tag)
{
	return is_bottom(st, "session_open") ? tp_session_open(PL(st), tag) : NULL;
}

static void *h_session_tag(struct tp_session *s)
{
	return s ? s->tag : NULL;
}

static int h_lease(struct tp_stage *st, struct tp_session *s, const char *user, struct tp_session_info *info)
{
	return is_bottom(st, "lease") ? tp_session_lease(PL(st), s, user, info) : -1;
}

static int h_session_up(struct tp_stage *st, struct tp_session *s, const struct tp_session_info *info)
{
	return is_bottom(st, "session_up") ? tp_session_up(PL(st), s, info) : -1;
}

static void h_session_close(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	if (is_bottom(st, "session_close"))
		tp_session_close(PL(st), s, reason);
}

static void h_session_abort(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	if (s)
		tp_session_abort(PL(st), s, reason);
}

static const char *h_stack(struct tp_stage *st)
{
	return PL(st)->stack;
}

static int h_net_announce(struct tp_stage *st, const struct tp_net_info *net)
{
	struct tp_pipeline *pl = PL(st);
	char err[256];

	if (st->t->index != 0) {
		tp_log(TP_LOG_ERROR, st->name, "net_announce() is for the top endpoint only");
		return -1;
	}
	struct tp_addrpool *ap = tp_addrpool_new(net, err, sizeof(err));
	if (!ap) {
		tp_log(TP_LOG_ERROR, st->name, "cannot build the address pool: %s", err);
		return -1;
	}
	tp_addrpool_free(pl->apool);
	pl->apool = ap;
	tp_log(TP_LOG_INFO, pl->router_stage.name, "address pool: %u addresses", tp_addrpool_available(ap));
	return 0;
}

/* The deframer reaches the stage's pool and counters back through this
 * very host, so it needs no knowledge of pipelines (the harness shares it). */
static struct tp_deframer *h_deframer_new(struct tp_stage *st, uint32_t hdr_bytes,
					  tp_frame_len_fn len_fn, void *arg)
{
	return tp_deframer_new(&tp_core_host, st, hdr_bytes, len_fn, arg);
}

const struct tp_host tp_core_host = {
	.size = sizeof(struct tp_host),
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.log = h_log,
	.buf_alloc = h_buf_alloc,
	.buf_free = h_buf_free,
	.batch_free = h_batch_free,
	.emit_down = h_emit_down,
	.emit_up = h_emit_up,
	.fd_add = h_fd_add,
	.fd_mod = h_fd_mod,
	.fd_del = h_fd_del,
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.now_ms = h_now_ms,
	.counter = h_counter,
	.session_open = h_session_open,
	.session_tag = h_session_tag,
	.lease = h_lease,
	.session_up = h_session_up,
	.session_close = h_session_close,
	.session_abort = h_session_abort,
	.stack = h_stack,
	.net_announce = h_net_announce,
	.deframer_new = h_deframer_new,
	.deframe = tp_deframe,
	.deframer_pending = tp_deframer_pending,
	.deframer_free = tp_deframer_free,
};
