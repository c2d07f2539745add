/*
 * session.c — sessions, the router and the address pool at work.
 *
 * A session is opened by the bottom endpoint for one connection and owns
 * one instance of every transform.  Closing is two-step: session_close()
 * takes the session out of every table at once (so no new data reaches it)
 * and puts it on the dead list; a deferred housekeeping call destroys it
 * after the current callback returns, because the plugin that closed it is
 * usually still running on the stack.  Abort requests from transforms are
 * delivered to the bottom endpoint by the same housekeeping call, for the
 * same reason, and before any reaping, so a session is never touched
 * after it is freed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "log.h"
#include "pipeline.h"

static const char *pfx(const struct tp_prefix *p, char *buf, size_t len, int with_len)
{
	char a[INET6_ADDRSTRLEN] = "-";
	if (p->family)
		inet_ntop(p->family, p->addr, a, sizeof(a));
	if (with_len && p->family)
		snprintf(buf, len, "%s/%u", a, p->plen);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

static void destroy_stage(struct tp_stage *st)
{
	if (!st)
		return;
	if (st->started && st->t->p->stop)
		st->t->p->stop(st->ctx);
	if (st->ctx)
		st->t->p->destroy(st->ctx);
	/* Fold the instance's counters into its stage's totals. */
	struct tp_tmpl *t = st->t;
	for (int i = 0; i < st->ncounters; i++) {
		int j;
		for (j = 0; j < t->ntotals; j++)
			if (!strcmp(t->totals[j].name, st->counters[i].name))
				break;
		if (j == t->ntotals) {
			if (t->ntotals == TP_MAX_COUNTERS)
				continue;
			t->ntotals++;
			memcpy(t->totals[j].name, st->counters[i].name, sizeof(t->totals[j].name));
			t->totals[j].v = 0;
		}
		t->totals[j].v += st->counters[i].v;
	}
	free(st);
}

static void destroy_session(struct tp_session *s)
{
	for (int i = s->nmid - 1; i >= 0; i--)
		destroy_stage(s->mid[i]);
	free(s->mid);
	free(s);
}

static void unlink_session(struct tp_session **head, struct tp_session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void housekeeping(void *arg)
{
	struct tp_pipeline *pl = arg;
	struct tp_session *s;

	pl->hk_scheduled = 0;
again:
	for (s = pl->sessions; s; s = s->next) {
		if (!s->abort_pending)
			continue;
		s->abort_pending = 0;
		struct tp_event ev = { .type = TP_EV_CLOSE_REQUEST, .reason = s->reason };
		tp_stage_event(pl->bottom, s, &ev);
		goto again; /* the list may have changed under us */
	}
	while ((s = pl->dead)) {
		pl->dead = s->next;
		destroy_session(s);
	}
}

static void schedule(struct tp_pipeline *pl)
{
	if (!pl->hk_scheduled && tp_loop_defer(pl->loop, housekeeping, pl) == 0)
		pl->hk_scheduled = 1;
}

struct tp_session *tp_session_open(struct tp_pipeline *pl, void *tag)
{
	struct tp_session *s = calloc(1, sizeof(*s));
	char err[256];

	if (!s)
		return NULL;
	s->pl = pl;
	s->id = ++pl->next_session_id;
	s->tag = tag;
	s->lease = -1;
	s->opened_ms = tp_loop_now_ms(pl->loop);
	s->nmid = pl->n - 2;
	if (s->nmid > 0 && !(s->mid = calloc((size_t)s->nmid, sizeof(*s->mid))))
		goto fail;
	for (int i = 0; i < s->nmid; i++) {
		struct tp_tmpl *t = &pl->t[i + 1];
		struct tp_stage *st = malloc(sizeof(*st));
		if (!st)
			goto fail;
		tp_stage_init(st, t, s);
		s->mid[i] = st;
		err[0] = 0;
		st->ctx = t->p->create(st, pl->host, tp_optset_config(t->opts), err, sizeof(err));
		if (!st->ctx) {
			tp_log(TP_LOG_ERROR, st->name, "cannot create the session's instance: %s", err[0] ? err : "create() failed");
			goto fail;
		}
	}
	for (int i = 0; i < s->nmid; i++) {
		struct tp_stage *st = s->mid[i];
		if (st->t->p->start && st->t->p->start(st->ctx) < 0) {
			tp_log(TP_LOG_ERROR, st->name, "start() failed");
			goto fail;
		}
		st->started = 1;
	}
	s->next = pl->sessions;
	if (s->next)
		s->next->prev = s;
	pl->sessions = s;
	pl->nsessions++;
	tp_log(TP_LOG_DEBUG, pl->router_stage.name, "session %u opened", s->id);
	return s;
fail:
	destroy_session(s);
	return NULL;
}

int tp_session_lease(struct tp_pipeline *pl, struct tp_session *s, const char *user, struct tp_session_info *info)
{
	if (!pl->apool) {
		tp_log(TP_LOG_ERROR, pl->router_stage.name,
		       "no address pool: the top endpoint announced no network (set the tun stage's address)");
		return -1;
	}
	if (s->lease >= 0)
		tp_addrpool_release(pl->apool, s->lease);
	s->lease = tp_addrpool_lease(pl->apool, user, info);
	if (s->lease < 0) {
		tp_log(TP_LOG_WARN, pl->router_stage.name, "address pool exhausted: no address for user '%s'", user ? user : "");
		return -1;
	}
	return 0;
}

static void broadcast(struct tp_pipeline *pl, struct tp_session *s, const struct tp_event *ev)
{
	tp_stage_event(pl->top, s, ev);
	for (int i = 0; i < s->nmid; i++)
		tp_stage_event(s->mid[i], s, ev);
}

int tp_session_up(struct tp_pipeline *pl, struct tp_session *s, const struct tp_session_info *info)
{
	char a[64], g[64];
	size_t n = info->size && info->size < sizeof(s->info) ? info->size : sizeof(s->info);

	if (s->closing)
		return -1;
	memset(&s->info, 0, sizeof(s->info));
	memcpy(&s->info, info, n);
	s->info.size = sizeof(s->info);
	if (s->info.n_routes > TP_MAX_ROUTES)
		s->info.n_routes = TP_MAX_ROUTES;
	if (s->info.n_dns > TP_MAX_DNS)
		s->info.n_dns = TP_MAX_DNS;
	tp_router_del_session(pl->router, s);
	if (s->info.flags & TP_SI_LOCAL) {
		pl->local = s;
	} else {
		struct tp_prefix h;
		int bad = 0;
		if (s->info.addr4.family == AF_INET) {
			h = s->info.addr4;
			h.plen = 32;
			bad |= tp_router_add(pl->router, &h, s);
		}
		if (s->info.addr6.family == AF_INET6) {
			h = s->info.addr6;
			h.plen = 128;
			bad |= tp_router_add(pl->router, &h, s);
		}
		if (bad) {
			tp_log(TP_LOG_ERROR, pl->router_stage.name, "session %u: cannot add its addresses to the router", s->id);
			return -1;
		}
	}
	s->is_up = 1;
	tp_log(TP_LOG_INFO, pl->router_stage.name, "session %u up: %s%s%saddress %s gateway %s%s%s",
	       s->id, s->info.user[0] ? "user " : "", s->info.user, s->info.user[0] ? ", " : "",
	       pfx(&s->info.addr4, a, sizeof(a), 1), pfx(&s->info.gw4, g, sizeof(g), 0),
	       s->info.peer[0] ? " from " : "", s->info.peer);
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &s->info };
	broadcast(pl, s, &ev);
	return 0;
}

void tp_session_close(struct tp_pipeline *pl, struct tp_session *s, const char *reason)
{
	if (!s || s->closed)
		return;
	s->closed = s->closing = 1;
	s->tag = NULL; /* the bottom endpoint frees its connection now */
	unlink_session(&pl->sessions, s);
	pl->nsessions--;
	if (pl->local == s)
		pl->local = NULL;
	tp_router_del_session(pl->router, s);
	if (s->lease >= 0)
		tp_addrpool_release(pl->apool, s->lease);
	s->lease = -1;
	tp_log(s->is_up ? TP_LOG_INFO : TP_LOG_DEBUG, pl->router_stage.name,
	       "session %u closed after %llu ms: %s", s->id,
	       (unsigned long long)(tp_loop_now_ms(pl->loop) - s->opened_ms), reason ? reason : "closed");
	struct tp_event ev = { .type = TP_EV_SESSION_DOWN, .reason = reason ? reason : "closed" };
	broadcast(pl, s, &ev);
	s->next = pl->dead;
	pl->dead = s;
	schedule(pl);
}

void tp_session_abort(struct tp_pipeline *pl, struct tp_session *s, const char *reason)
{
	if (s->closing)
		return;
	s->closing = 1;
	s->abort_pending = 1;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "aborted");
	tp_log(TP_LOG_WARN, pl->router_stage.name, "session %u: closing: %s", s->id, s->reason);
	schedule(pl);
}

void tp_sessions_close_all(struct tp_pipeline *pl)
{
	while (pl->sessions)
		tp_session_close(pl, pl->sessions, "shutting down");
	/* Reap now, and make sure a queued housekeeping call never runs on
	 * a pipeline that is about to be freed. */
	if (pl->hk_scheduled)
		tp_loop_defer_cancel(pl->loop, housekeeping, pl);
	pl->hk_scheduled = 0;
	housekeeping(pl);
}

static void to_session_down(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q)
{
	tp_deliver_down(pl->n == 2 ? pl->bottom : s->mid[0], s, q);
}

#define FANOUT 8 /* sessions served per pass over a batch */

void tp_route_down(struct tp_pipeline *pl, struct tp_batch *q)
{
	struct tp_session *s = pl->local;
	struct tp_buf *b;

	/* A client has one session that takes everything. */
	if (s) {
		if (s->closing) {
			*pl->c_no_session += q->count;
			tp_pool_free_batch(pl->pool, q);
		} else {
			to_session_down(pl, s, q);
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
				to_session_down(pl, out[k].s, &out[k].q);
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
		to_session_down(pl, out[k].s, &out[k].q);
}

/* Source in fe80::/10 or the unspecified address :: */
static int link_local6(const struct tp_buf *b)
{
	static const uint8_t zero[16];
	const uint8_t *src = b->data + 8;
	if (b->len < 40 || b->data[0] >> 4 != 6)
		return 0;
	return (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) || !memcmp(src, zero, 16);
}

void tp_route_up(struct tp_pipeline *pl, struct tp_session *s, struct tp_batch *q)
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
				++*(link_local6(b) ? pl->c_link_local : pl->c_spoofed);
				tp_pool_free(pl->pool, b);
			}
		}
		if (ok.count)
			tp_deliver_up(pl->top, s, &ok);
		return;
	}
	tp_deliver_up(pl->top, s, q);
}
