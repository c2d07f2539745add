/* SPDX-License-Identifier: MIT */
/*
 * host.c — the services the core offers plugins (struct tp_host): thin
 * wrappers over the stage module (stage.c), the sessions (session.c), the
 * loop and the pool.
 *
 * Every service receives the calling stage's handle, which knows its
 * pipeline, its position and (for transforms) its session, so the plugin
 * never has to say where data goes: "down" and "up" are enough.  The
 * services that can call plugins back are bracketed with
 * tp_stage_enter/leave, so nothing re-enters the calling instance before
 * the service returns (plugin.h, "THE CALL SEQUENCE").
 */
#include <stdarg.h>
#include "buf.h"
#include "deframe.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "session.h"
#include "stage.h"

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

static int is_bottom(struct tp_stage *st, const char *what)
{
	if (st->t->index == PL(st)->n - 1)
		return 1;
	tp_log(TP_LOG_ERROR, st->name, "%s() is for the bottom endpoint only", what);
	return 0;
}

static struct tp_session *h_session_open(struct tp_stage *st, void *tag)
{
	struct tp_session *s;

	if (!is_bottom(st, "session_open"))
		return NULL;
	tp_stage_enter(st); /* the transforms start, and may emit */
	s = tp_session_open(PL(st), tag);
	tp_stage_leave(st);
	return s;
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
	int rc;

	if (!is_bottom(st, "session_up"))
		return -1;
	tp_stage_enter(st); /* SESSION_UP handlers may emit down to us */
	rc = tp_session_up(PL(st), s, info);
	tp_stage_leave(st);
	return rc;
}

static void h_session_close(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	if (!is_bottom(st, "session_close"))
		return;
	tp_stage_enter(st);
	tp_session_close(PL(st), s, reason);
	tp_stage_leave(st);
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
	if (st->t->index != 0) {
		tp_log(TP_LOG_ERROR, st->name, "net_announce() is for the top endpoint only");
		return -1;
	}
	return tp_net_announce(PL(st), st->name, net);
}

/* The deframer reaches the stage's pool and counters back through this
 * very host, so it needs no knowledge of pipelines (the harness shares it). */
static struct tp_deframer *h_deframer_new(struct tp_stage *st, uint32_t hdr_bytes,
					  tp_frame_len_fn len_fn, void *arg)
{
	return tp_deframer_new(&tp_core_host, st, hdr_bytes, len_fn, arg);
}

static int exit_status;

/* The first request wins: a later one (a second stage failing as the
 * loop winds down) would hide the cause. */
static void h_exit(struct tp_stage *st, int status, const char *reason)
{
	if (status < 1 || status > 125)
		status = 1;
	if (exit_status)
		return;
	exit_status = status;
	tp_log(TP_LOG_ERROR, st ? st->name : NULL, "stopping: %s (exit status %d)",
	       reason ? reason : "permanent error", status);
	tp_loop_stop(PL(st)->loop);
}

int tp_host_exit_status(void)
{
	return exit_status;
}

const struct tp_host tp_core_host = {
	.size = sizeof(struct tp_host),
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.log = h_log,
	.buf_alloc = h_buf_alloc,
	.buf_free = h_buf_free,
	.batch_free = h_batch_free,
	.emit_down = tp_stage_emit_down,
	.emit_up = tp_stage_emit_up,
	.fd_add = h_fd_add,
	.fd_mod = h_fd_mod,
	.fd_del = h_fd_del,
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.now_ms = h_now_ms,
	.counter = tp_stage_counter,
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
	.exit = h_exit,
};
