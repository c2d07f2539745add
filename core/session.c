/* SPDX-License-Identifier: MIT */
/*
 * session.c — sessions, the router's table and the address pool at work.
 *
 * A session is opened by the bottom endpoint for one connection and owns
 * one instance of every transform.  Closing is two-step: session_close()
 * takes the session out of every table at once (so no new data reaches it)
 * and puts it on the dead list; a deferred housekeeping call destroys it
 * after the current callback returns, because the plugin that closed it is
 * usually still running on the stack.  Abort requests from transforms are
 * delivered to the bottom endpoint by the same housekeeping call, for the
 * same reason, and before any reaping, so a session is never touched
 * after it is freed.  Housekeeping also makes every delivery the stage
 * module still holds back (see stage.c) before it reaps, for the same
 * reason: a queued event or batch names its session.
 *
 * Structs a plugin passes in (tp_session_info, tp_net_info) carry the size
 * the plugin was built with: the core reads only that much, zeroes the
 * fields the plugin does not know, and writes back (lease) no more than
 * that; a size below the first release's is refused, it is a bug.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "addrpool.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "router.h"
#include "session.h"

/* Where the fields of ABI 1.0 end: a smaller size is no release's. */
#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#define SESSION_INFO_1_0 END_OF(struct tp_session_info, peer)
#define NET_INFO_1_0 END_OF(struct tp_net_info, dns)

/* The size a plugin's struct says it has, or 0 (logged) below 1.0. */
static size_t sized(const char *who, const char *what, uint32_t size, size_t min)
{
	if (size >= min)
		return size;
	tp_log(TP_LOG_ERROR, who, "%s.size is %u, below %zu (ABI 1.0): set it to sizeof(struct %s)",
	       what, size, min, what);
	return 0;
}

/* Copy what the writer knows; the fields added after it are zero. */
static void copy_sized(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	memset(dst, 0, dst_size);
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

/* A prefix for a log line: "-" when there is none. */
static const char *pfx(const struct tp_prefix *p, char *buf, size_t len, int with_len)
{
	if (!tp_prefix_str(p, with_len, buf, len)[0])
		snprintf(buf, len, "-");
	return buf;
}

/* Who a session is, for its log lines: "user alice, address 10.0.0.2,
 * peer 10.200.0.11:40102" (what is not known yet is left out). */
static const char *who(const struct tp_session *s, char *buf, size_t len)
{
	char a[64];
	size_t n = 0;

	buf[0] = 0;
	if (s->info.user[0])
		n += (size_t)snprintf(buf + n, len - n, "user %s", s->info.user);
	if (s->info.addr4.family && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%saddress %s", n ? ", " : "",
				      pfx(&s->info.addr4, a, sizeof(a), 0));
	if (s->info.addr6.family && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%saddress %s", n ? ", " : "",
				      pfx(&s->info.addr6, a, sizeof(a), 0));
	if (s->info.peer[0] && n < len)
		snprintf(buf + n, len - n, "%speer %s", n ? ", " : "", s->info.peer);
	return buf;
}

struct tp_user_total *tp_session_user_total(struct tp_pipeline *pl, const char *user)
{
	for (int i = 0; i < pl->nusers; i++)
		if (!strcmp(pl->users[i].user, user))
			return &pl->users[i];
	if (pl->nusers == pl->cusers) {
		int n = pl->cusers ? pl->cusers * 2 : 8;
		struct tp_user_total *u = realloc(pl->users, (size_t)n * sizeof(*u));
		if (!u)
			return NULL;
		pl->users = u;
		pl->cusers = n;
	}
	struct tp_user_total *u = &pl->users[pl->nusers++];
	memset(u, 0, sizeof(*u));
	snprintf(u->user, sizeof(u->user), "%s", user);
	return u;
}

/* A session's traffic joins the totals of ended sessions when it is
 * freed, as its stages' counters do: until then status and metrics find
 * it on the live or the dead list, so no total ever goes down. */
static void destroy_session(struct tp_session *s)
{
	struct tp_user_total *u = s->is_up ? tp_session_user_total(s->pl, s->info.user) : NULL;

	tp_traffic_add(&s->pl->ended, &s->traffic);
	if (u)
		tp_traffic_add(&u->traffic, &s->traffic);
	tp_stage_forget_session(s->pl, s);
	for (int i = s->nmid - 1; i >= 0; i--)
		tp_stage_free(s->mid[i]);
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
	tp_stage_flush_all(pl);
again:
	for (s = pl->sessions; s; s = s->next) {
		if (!s->abort_pending)
			continue;
		s->abort_pending = 0;
		struct tp_event ev = { .type = TP_EV_CLOSE_REQUEST, .reason = s->reason };
		tp_stage_event(pl->bottom, s, &ev);
		goto again; /* the list may have changed under us */
	}
	tp_stage_flush_all(pl);
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
		if (tp_stage_start(st) < 0) {
			tp_log(TP_LOG_ERROR, st->name, "start() failed");
			goto fail;
		}
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
	struct tp_session_info full;
	size_t n = sized(pl->bottom->name, "tp_session_info", info->size, SESSION_INFO_1_0);

	if (!n)
		return -1;
	if (!pl->apool) {
		tp_log(TP_LOG_ERROR, pl->router_stage.name,
		       "no address pool: the top endpoint announced no network (set the tun stage's address)");
		return -1;
	}
	if (s->lease >= 0)
		tp_addrpool_release(pl->apool, s->lease);
	/* The pool writes the core's layout; the plugin's may be older. */
	copy_sized(&full, sizeof(full), info, n);
	s->lease = tp_addrpool_lease(pl->apool, user, &full);
	if (s->lease < 0) {
		tp_log(TP_LOG_WARN, pl->router_stage.name, "address pool exhausted: no address for user '%s'", user ? user : "");
		return -1;
	}
	full.size = info->size;
	memcpy(info, &full, n < sizeof(full) ? n : sizeof(full));
	return 0;
}

/* Every stage but the bottom endpoint, which caused the event: top first. */
static void broadcast(struct tp_pipeline *pl, struct tp_session *s, const struct tp_event *ev)
{
	for (int i = 0; i < pl->n - 1; i++)
		tp_stage_event(tp_stage_at(pl, s, i), s, ev);
}

int tp_session_up(struct tp_pipeline *pl, struct tp_session *s, const struct tp_session_info *info)
{
	char a[64], g[64];
	size_t n = sized(pl->bottom->name, "tp_session_info", info->size, SESSION_INFO_1_0);

	if (s->closing || !n)
		return -1;
	copy_sized(&s->info, sizeof(s->info), info, n);
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
	if (!s->is_up) {
		struct tp_user_total *u = tp_session_user_total(pl, s->info.user);
		pl->sessions_up++;
		if (u)
			u->sessions++;
		s->up_since = (int64_t)time(NULL);
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
	char w[256];
	who(s, w, sizeof(w)); /* before the call: its arguments have no order */
	tp_log(s->is_up ? TP_LOG_INFO : TP_LOG_DEBUG, pl->router_stage.name,
	       "session %u closed after %llu ms: %s; %s%sreceived %llu bytes (%llu packets), sent %llu bytes (%llu packets)",
	       s->id, (unsigned long long)(tp_loop_now_ms(pl->loop) - s->opened_ms),
	       reason ? reason : "closed", w, w[0] ? ", " : "",
	       (unsigned long long)s->traffic.rx_bytes, (unsigned long long)s->traffic.rx_packets,
	       (unsigned long long)s->traffic.tx_bytes, (unsigned long long)s->traffic.tx_packets);
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
	char w[256];
	tp_log(TP_LOG_WARN, pl->router_stage.name, "session %u: closing: %s%s%s%s", s->id, s->reason,
	       s->is_up ? " (" : "", s->is_up ? who(s, w, sizeof(w)) : "", s->is_up ? ")" : "");
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

int tp_net_announce(struct tp_pipeline *pl, const char *who, const struct tp_net_info *net)
{
	struct tp_net_info full;
	size_t n = sized(who, "tp_net_info", net->size, NET_INFO_1_0);
	char err[256];

	if (!n)
		return -1;
	copy_sized(&full, sizeof(full), net, n);
	full.size = sizeof(full);
	struct tp_addrpool *ap = tp_addrpool_new(&full, err, sizeof(err));
	if (!ap) {
		tp_log(TP_LOG_ERROR, who, "cannot build the address pool: %s", err);
		return -1;
	}
	tp_addrpool_free(pl->apool);
	pl->apool = ap;
	tp_log(TP_LOG_INFO, pl->router_stage.name, "address pool: %u addresses", tp_addrpool_available(ap));
	return 0;
}
