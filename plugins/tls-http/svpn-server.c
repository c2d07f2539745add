/* SPDX-License-Identifier: MIT */
/*
 * svpn-server.c — the server side of the Simple-VPN handshake
 * (th_hs_svpn_server): read the upgrade request, decide it (handshake.c),
 * check the password off the loop, then refuse with an HTTP error or
 * open the session, answer 101 and go up.
 *
 * The password check is svpn-auth.c's: the request is decided up to the
 * password (hs_decide_deferred), then svs_auth_start() answers from the
 * credential cache or hands the check to the auth worker threads, and
 * svs_auth_results() resumes the link with the outcome.
 *
 * Budgets per user live here too: max_sessions (tunnels only) and
 * max_sessions_per_user are checked when a session would open; a users
 * reload closes the sessions of users removed or whose hash changed.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "svpn-server.h"
#include "svpn-offload.h"
#include "authworker.h"
#include "authcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

void svs_params_of(struct th_ctx *c, struct hs_params *p)
{
	struct svs *sv = c->hs_priv;
	memset(p, 0, sizeof(*p));
	p->path = c->cf->path;
	p->realm = c->cf->realm;
	p->stack = c->host->stack(c->st);
	p->max_request = (size_t)c->cf->max_request;
	p->max_headers = (size_t)c->cf->max_headers;
	p->users = sv->users;
}

/* Write the error answer and flush it before closing (CS_CLOSING). */
void svs_refuse(struct th_link *l, const struct hs_params *p, const struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	char why[32];
	(*c->c_refused)++;
	if (r->status == 401)
		(*c->c_auth_failures)++;
	struct svs *sv = c->hs_priv;
	/* Every refusal may come in a flood: counted always, warned about
	 * at a bounded rate (429 and 503-busy have their own lines). */
	if (r->status == 409)
		th_warn_limited(c, &sv->rl_refused, "refused %s: 409 stack mismatch: client uses %s, "
				"server uses %s", l->io->peer, r->peer_stack, p->stack);
	else if (r->status == 429 || r->retry_after)
		TH_LOG(c, TP_LOG_DEBUG, "refused %s: %d %s%s%s", l->io->peer, r->status, r->why,
		       r->user[0] ? " for user " : "", r->user);
	else
		th_warn_limited(c, r->status == 408 ? &sv->rl_timeout : &sv->rl_refused,
				"refused %s: %d %s%s%s", l->io->peer, r->status, r->why,
				r->user[0] ? " for user " : "", r->user);
	th_conn_send(l->io, hs_error_response((char *)th_conn_wbuf(l->io), TH_RECORD, p, r), 0);
	snprintf(why, sizeof(why), "refused with %d", r->status);
	th_conn_linger(l->io, why);
}

/* The request is decided (r final): refuse it, or open the session,
 * answer 101 and go up. */
void svs_answer(struct th_link *l, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	struct tp_session_info info;
	if (r->status != 101 || !th_budget_session_ok(l, r, &sv->rl_user)) {
		svs_refuse(l, p, r);
		return;
	}
	struct tp_session *s = c->host->session_open(c->st, l);
	if (!s) {
		r->status = 503;
		r->why = "cannot open a session";
		svs_refuse(l, p, r);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (c->host->lease(c->st, s, r->user, &info) < 0) {
		c->host->session_close(c->st, s, "address pool exhausted");
		r->status = 503;
		r->why = "address pool exhausted";
		svs_refuse(l, p, r);
		return;
	}
	info.size = sizeof(info);
	info.flags &= ~TP_SI_LOCAL;
	snprintf(info.user, sizeof(info.user), "%s", r->user);
	snprintf(info.peer, sizeof(info.peer), "%s", l->io->peer);
	size_t n = hs_build_101((char *)th_conn_wbuf(l->io), TH_RECORD, &info, p->stack);
	if (n && r->offload && c->cf->offload) { /* agreed: echo the offer */
		n = th_offload_append((char *)th_conn_wbuf(l->io), n, TH_RECORD);
		info.flags |= TP_SI_SUPER;
	}
	if (!n) {
		c->host->session_close(c->st, s, "101 answer too large");
		r->status = 500;
		r->why = "101 answer too large";
		svs_refuse(l, p, r);
		return;
	}
	th_conn_send(l->io, n, 0);
	snprintf(l->user, sizeof(l->user), "%s", r->user);
	if (th_link_attach(l, s, &info) < 0)
		return;
	char a[64];
	hs_format_prefix(info.addr4.family ? &info.addr4 : &info.addr6, 1, a, sizeof(a));
	TH_LOG(c, TP_LOG_INFO, "session up: user %s from %s, address %s, stack %s", r->user,
	       l->io->peer, a, p->stack);
	th_conn_push(l->io, l->head + r->head_len, l->head_len - r->head_len);
	/* The handshake is over: its buffer (max_request bytes) is not kept
	 * for the session's lifetime. */
	free(l->head);
	l->head = NULL;
	l->head_len = l->head_cap = 0;
}

static void svs_begin(struct th_link *l)
{
	(void)l; /* the client speaks first */
}

static void svs_step(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct hs_request r;
	struct hs_params p;
	char pass[256];

	if (l->hs.svpn.auth_id) {
		svs_auth_wait_io(l);
		return;
	}
	int e = th_link_read_head(l);
	if (e) {
		th_conn_close(l->io, e == SSL_ERROR_ZERO_RETURN ? "closed before the request"
							 : th_ssl_errstr());
		return;
	}
	svs_params_of(c, &p);
	if (th_front_request(l, &p, &r)) /* gone to the fallback, or refused */
		return;
	hs_decide_deferred(l->head, l->head_len, &p, &r, pass, sizeof(pass));
	if (r.need_auth)
		svs_auth_start(l, &p, &r, pass);
	else if (r.status)
		svs_answer(l, &p, &r);
	explicit_bzero(pass, sizeof(pass));
}

/* A link that goes away while its check waits: spare the crypt. */
static void svs_drop(struct th_link *l)
{
	svs_gone(l->ctx, l, !l->evicted);
}

/* The handshake deadline: a peer whose request did not arrive in time
 * gets 408 (RFC 9110 15.5.9); one still in TLS, or whose password is
 * being checked, or with an answer pending, is just closed. */
static void svs_timeout(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct hs_params p;
	struct hs_request r;
	if (l->io->state == CS_CLOSING)
		return; /* an answer is on its way; the stream's deadline ends it */
	if (l->io->state != CS_SECURE || l->hs.svpn.auth_id || th_conn_pending(l->io)) {
		svs_gone(c, l, 0);
		th_conn_close(l->io, "handshake timed out");
		return;
	}
	svs_params_of(c, &p);
	memset(&r, 0, sizeof(r));
	r.status = 408;
	r.why = "request not complete in time";
	th_conn_enter(l->io);
	svs_refuse(l, &p, &r);
	th_conn_flush(l->io);
	th_conn_leave(l->io);
}

/* Hashes are secrets too (offline guessing): say so if others can read
 * them, without refusing (a group-readable file may be deliberate). */
static void users_private(struct th_ctx *c)
{
	char msg[512];
	if (th_file_private("users file", c->cf->users, msg, sizeof(msg)) < 0)
		TH_LOG(c, TP_LOG_WARN, "%s", msg);
}

static int svs_setup(struct th_ctx *c, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;
	struct svs *sv = calloc(1, sizeof(*sv));
	if (!sv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->hs_priv = sv;
	if (strchr(cf->realm, '"') || strpbrk(cf->realm, "\r\n")) {
		snprintf(err, errlen, "realm must not contain quotes or line breaks");
		return -1;
	}
	if (cf->path[0] != '/' || strpbrk(cf->path, " \t\r\n?")) {
		snprintf(err, errlen, "path '%s' must start with / and contain no spaces or '?'", cf->path);
		return -1;
	}
	if (!(sv->users = auth_load(cf->users, err, errlen)))
		return -1;
	users_private(c);
	/* The seed keeps clients from aiming addresses at one limiter set. */
	uint32_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)c;
	auth_lim_init(&sv->lim, AUTH_MAX_FAILS, AUTH_WINDOW_MS, seed);
	sv->lim.max_inflight = AUTH_INFLIGHT;
	sv->lim.released = svs_lim_released;
	sv->lim.arg = c;
	/* One check per session that may come at once (a reconnect storm),
	 * within bounds: a job holds ~700 bytes. */
	sv->aw_cap = cf->max_sessions < AUTH_QUEUE_MIN	 ? AUTH_QUEUE_MIN
		     : cf->max_sessions > AUTH_QUEUE_MAX ? AUTH_QUEUE_MAX
							 : (unsigned)cf->max_sessions;
	if (cf->auth_cache &&
	    !(sv->cache = ac_new(2 * sv->aw_cap, (uint64_t)cf->auth_cache * 1000, err, errlen)))
		return -1;
	return 0;
}


static int svs_start(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	char err[256];
	if (!(sv->aw = aw_new_n(sv->aw_cap, svs_auth_threads(c), NULL, err, sizeof(err)))) {
		TH_LOG(c, TP_LOG_ERROR, "%s", err);
		return -1;
	}
	if (c->host->fd_add(c->st, aw_fd(sv->aw), TP_FD_READ, svs_auth_results, c) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot watch the auth worker's eventfd");
		aw_free(sv->aw);
		sv->aw = NULL;
		return -1;
	}
	sv->lim_timer = c->host->timer_add(c->st, LIM_TICK_MS, svs_lim_tick, c);
	TH_LOG(c, TP_LOG_INFO, "Simple-VPN upgrade on path %s, %zu users, %u password-check "
	       "threads, queue %u, auth_cache %llds", c->cf->path, auth_count(sv->users),
	       aw_threads(sv->aw), sv->aw_cap, (long long)c->cf->auth_cache);
	return 0;
}

/* Nobody waits any more: the worker finishes the check it is running (at
 * most one crypt), drops the queue, and is joined. */
static void svs_stop(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	if (sv->lim_timer) {
		c->host->timer_cancel(c->st, sv->lim_timer);
		sv->lim_timer = NULL;
	}
	if (sv->aw) {
		c->host->fd_del(c->st, aw_fd(sv->aw));
		aw_free(sv->aw);
		sv->aw = NULL;
	}
}

static void svs_reload(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	char err[256];
	struct auth_db *db = auth_load(c->cf->users, err, sizeof(err));
	if (!db) {
		TH_LOG(c, TP_LOG_ERROR, "reload: %s; keeping the previous users", err);
		return;
	}
	users_private(c);
	unsigned closed = th_budget_close_revoked(c, sv->users, db);
	if (sv->cache)
		ac_reload(sv->cache, sv->users, db);
	/* Checks in flight hold copies of their hashes: freeing is safe.
	 * The limiter is left alone: log rotation sends SIGHUP too, and it
	 * must not give an attacker a fresh allowance. */
	auth_free(sv->users);
	sv->users = db;
	TH_LOG(c, TP_LOG_INFO, "reloaded %s: %zu users, %u sessions closed", c->cf->users,
	       auth_count(db), closed);
}

static void svs_destroy(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	if (!sv)
		return;
	aw_free(sv->aw); /* normally gone with stop(); joins the threads */
	ac_free(sv->cache);
	auth_free(sv->users);
	free(sv);
	c->hs_priv = NULL;
}

const struct th_handshake th_hs_svpn_server = {
	.name = "simple-vpn server",
	.setup = svs_setup,
	.start = svs_start,
	.stop = svs_stop,
	.reload = svs_reload,
	.destroy = svs_destroy,
	.begin = svs_begin,
	.step = svs_step,
	.drop = svs_drop,
	.timeout = svs_timeout,
};
