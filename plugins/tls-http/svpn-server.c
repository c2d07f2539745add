/* SPDX-License-Identifier: MIT */
/*
 * svpn-server.c — the server side of the Simple-VPN handshake
 * (th_hs_svpn_server): read the upgrade request, decide it (handshake.c),
 * check the password off the loop, then refuse with an HTTP error or
 * open the session, answer 101 and go up.
 *
 * The password check runs on the auth worker (authworker.h): the request
 * is decided up to the password (hs_decide_deferred), the link waits with
 * hs.svpn.auth_id set while the loop serves everybody else, and
 * auth_results() resumes it with the outcome.  Before a job is queued,
 * an address with too many recent failures (checks in flight included)
 * gets 429 and a full queue gets 503, neither costing a crypt.
 *
 * Budgets per user live here too: max_sessions (tunnels only) and
 * max_sessions_per_user are checked when a session would open; a users
 * reload closes the sessions of users removed or whose hash changed.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "svpn-offload.h"
#include "auth.h"
#include "authworker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#define AUTH_QUEUE 64         /* password checks waiting; more get 503 */
#define AUTH_MAX_FAILS 5      /* failed logins per address per window … */
#define AUTH_WINDOW_MS 10000  /* … before it gets 429 until the window ends */
#define AUTH_COLLECT 32       /* results taken per aw_collect() */
#define BUSY_WARN_MS 10000    /* at most one "queue full" warning per this */
#define AUTH_INFLIGHT 4       /* password checks of one address at once */
#define LIM_TICK_MS 1000      /* how often released addresses are noticed */

/* The handshake's own part of the context (c->hs_priv). */
struct svs {
	struct auth_db *users;
	struct aw *aw;                 /* password checks (started with the server) */
	struct auth_limiter lim;       /* failed logins per source address */
	uint64_t busy_warned_ms;       /* last "auth queue full" warning */
	int busy_warned;
	struct tp_timer *lim_timer;    /* auth_lim_expire() every LIM_TICK_MS */
	struct th_ratelog rl_refused, rl_timeout, rl_user;
};

static void gone(struct th_ctx *c, struct th_link *l, int peer_left);

static void params_of(struct th_ctx *c, struct hs_params *p)
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
static void refuse(struct th_link *l, const struct hs_params *p, const struct hs_request *r)
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
static void answer(struct th_link *l, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	struct tp_session_info info;
	if (r->status != 101 || !th_budget_session_ok(l, r, &sv->rl_user)) {
		refuse(l, p, r);
		return;
	}
	struct tp_session *s = c->host->session_open(c->st, l);
	if (!s) {
		r->status = 503;
		r->why = "cannot open a session";
		refuse(l, p, r);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (c->host->lease(c->st, s, r->user, &info) < 0) {
		c->host->session_close(c->st, s, "address pool exhausted");
		r->status = 503;
		r->why = "address pool exhausted";
		refuse(l, p, r);
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
		refuse(l, p, r);
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
}

static struct th_link *waiting_for(struct th_ctx *c, uint64_t id)
{
	for (struct th_link *l = c->links; l; l = l->next)
		if (!l->s && l->hs.svpn.auth_id == id && !l->io->dead)
			return l;
	return NULL;
}

/* aw_sweep: a queued job whose link went away (timeout, reset) is
 * dropped before it costs a crypt. */
static int still_waiting(void *arg, uint64_t id)
{
	return waiting_for(arg, id) != NULL;
}

/* A check of l's address ended: one line when this throttles it (and
 * one when auth_lim_expire releases it), never one per failure. */
static void check_ended(struct th_ctx *c, const uint8_t key[16], int ok)
{
	struct svs *sv = c->hs_priv;
	uint64_t now = c->host->now_ms(c->st);
	char a[64];
	if (!auth_lim_end(&sv->lim, key, now, ok))
		return;
	th_key_str(key, a, sizeof(a));
	TH_LOG(c, TP_LOG_WARN, "%s throttled: %u failed logins; its logins get 429 without a "
	       "password check for %u s", a, (unsigned)AUTH_MAX_FAILS,
	       auth_lim_check(&sv->lim, key, now));
}

static void lim_released(void *arg, const uint8_t key[16])
{
	struct th_ctx *c = arg;
	char a[64];
	th_key_str(key, a, sizeof(a));
	TH_LOG(c, TP_LOG_INFO, "%s released: its logins are checked again", a);
}

static void lim_tick(void *arg)
{
	struct th_ctx *c = arg;
	struct svs *sv = c->hs_priv;
	auth_lim_expire(&sv->lim, c->host->now_ms(c->st));
	sv->lim_timer = c->host->timer_add(c->st, LIM_TICK_MS, lim_tick, c);
}

/* l's check is given up: spare the crypt if it is still queued.  A peer
 * that hangs up on its own check counts a failure (it may have cost a
 * crypt, and hanging up must not buy a free guess); our own deadline
 * passing (peer_left 0) is not the peer's doing and counts nothing. */
static void gone(struct th_ctx *c, struct th_link *l, int peer_left)
{
	struct svs *sv = c->hs_priv;
	if (!l->hs.svpn.auth_id)
		return;
	if (sv->aw)
		aw_cancel(sv->aw, l->hs.svpn.auth_id);
	l->hs.svpn.auth_id = 0;
	check_ended(c, l->peer_key, !peer_left);
}

/* The worker finished checks: resume each link that still waits; results
 * for links closed meanwhile find nobody and are dropped. */
static void auth_results(void *arg, int fd, uint32_t ev)
{
	struct th_ctx *c = arg;
	struct svs *sv = c->hs_priv;
	struct aw_result res[AUTH_COLLECT];
	struct hs_params p;
	size_t n;
	(void)fd;
	(void)ev;
	params_of(c, &p);
	while ((n = aw_collect(sv->aw, res, AUTH_COLLECT)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct th_link *l = waiting_for(c, res[i].id);
			if (!l)
				continue;
			struct th_conn *k = l->io;
			l->hs.svpn.auth_id = 0;
			th_conn_enter(k);
			check_ended(c, l->peer_key, res[i].ok);
			hs_auth_result(&l->hs.svpn.pend, res[i].ok);
			answer(l, &p, &l->hs.svpn.pend);
			th_conn_leave(k); /* flushes a refusal via CS_CLOSING, or frees */
		}
		if (n < AUTH_COLLECT)
			break;
	}
}

/* Refuse with 503 "server busy"; the warning at most every BUSY_WARN_MS. */
static void auth_busy(struct th_link *l, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	uint64_t now = c->host->now_ms(c->st);
	(*c->c_auth_busy)++;
	if (!sv->busy_warned || now - sv->busy_warned_ms >= BUSY_WARN_MS) {
		TH_LOG(c, TP_LOG_WARN, "password checks queue full (%d waiting): answering 503 "
		       "(%llu so far, counted as auth_busy)", AUTH_QUEUE,
		       (unsigned long long)*c->c_auth_busy);
		sv->busy_warned = 1;
		sv->busy_warned_ms = now;
	}
	r->need_auth = 0;
	r->status = 503;
	r->why = "server busy, try again";
	r->retry_after = 1;
	refuse(l, p, r);
}

/* Credentials in hand: refuse at once (throttled, busy) or hand the
 * check to the worker and wait. */
static void auth_start(struct th_link *l, const struct hs_params *p, struct hs_request *r,
		       const char *pass)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	char hash[AUTH_HASH_MAX];
	uint64_t id;
	uint64_t now = c->host->now_ms(c->st);
	unsigned wait = auth_lim_check(&sv->lim, l->peer_key, now);
	if (wait == 1 && !auth_lim_throttled(&sv->lim, l->peer_key, now)) {
		/* Refused only because this address's checks are running: a
		 * client logs in once at a time, so a guess sent alongside
		 * others counts as a failed login (no crypt spent on it). */
		auth_lim_begin(&sv->lim, l->peer_key, now);
		check_ended(c, l->peer_key, 0);
		wait = auth_lim_check(&sv->lim, l->peer_key, now);
	}
	if (wait) {
		(*c->c_auth_throttled)++;
		r->need_auth = 0;
		r->status = 429;
		r->why = "too many failed logins";
		r->retry_after = wait;
		refuse(l, p, r);
		return;
	}
	int known = auth_lookup(sv->users, r->user, hash, sizeof(hash));
	if (aw_submit_from(sv->aw, l->peer_key, hash, known, pass, &id) < 0 &&
	    (!aw_sweep(sv->aw, still_waiting, c) ||
	     aw_submit_from(sv->aw, l->peer_key, hash, known, pass, &id) < 0)) {
		explicit_bzero(hash, sizeof(hash));
		auth_busy(l, p, r);
		return;
	}
	explicit_bzero(hash, sizeof(hash));
	/* Counted from now on: guesses sent together cannot all be
	 * checked before the first failure is known. */
	auth_lim_begin(&sv->lim, l->peer_key, c->host->now_ms(c->st));
	(*c->c_auth_checks)++;
	l->hs.svpn.auth_id = id;
	l->hs.svpn.pend = *r;
	/* The peer may send more (or hang up) while it waits: svs_step
	 * reads on into l->head. */
}

/* Waiting for the worker: keep reading (the head may be followed by data;
 * a reset or close shows up here) so the level-triggered loop does not
 * spin, and give up the check if the peer goes away. */
static void auth_wait_io(struct th_link *l)
{
	const char *why = NULL;
	int e = th_link_read_head(l);
	if (e)
		why = e == SSL_ERROR_ZERO_RETURN ? "closed while its password was checked"
						 : th_ssl_errstr();
	else if (l->head_len == l->head_cap)
		why = "too much data before the answer"; /* nowhere to read it to */
	if (!why)
		return;
	gone(l->ctx, l, 1);
	th_conn_close(l->io, why);
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
		auth_wait_io(l);
		return;
	}
	int e = th_link_read_head(l);
	if (e) {
		th_conn_close(l->io, e == SSL_ERROR_ZERO_RETURN ? "closed before the request"
							 : th_ssl_errstr());
		return;
	}
	params_of(c, &p);
	hs_decide_deferred(l->head, l->head_len, &p, &r, pass, sizeof(pass));
	if (r.need_auth)
		auth_start(l, &p, &r, pass);
	else if (r.status)
		answer(l, &p, &r);
	explicit_bzero(pass, sizeof(pass));
}

/* A link that goes away while its check waits: spare the crypt. */
static void svs_drop(struct th_link *l)
{
	gone(l->ctx, l, !l->evicted);
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
		gone(c, l, 0);
		th_conn_close(l->io, "handshake timed out");
		return;
	}
	params_of(c, &p);
	memset(&r, 0, sizeof(r));
	r.status = 408;
	r.why = "request not complete in time";
	th_conn_enter(l->io);
	refuse(l, &p, &r);
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
	sv->lim.released = lim_released;
	sv->lim.arg = c;
	return 0;
}

static int svs_start(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	char err[256];
	if (!(sv->aw = aw_new(AUTH_QUEUE, NULL, err, sizeof(err)))) {
		TH_LOG(c, TP_LOG_ERROR, "%s", err);
		return -1;
	}
	if (c->host->fd_add(c->st, aw_fd(sv->aw), TP_FD_READ, auth_results, c) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot watch the auth worker's eventfd");
		aw_free(sv->aw);
		sv->aw = NULL;
		return -1;
	}
	sv->lim_timer = c->host->timer_add(c->st, LIM_TICK_MS, lim_tick, c);
	TH_LOG(c, TP_LOG_INFO, "Simple-VPN upgrade on path %s, %zu users", c->cf->path,
	       auth_count(sv->users));
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
	aw_free(sv->aw); /* normally gone with stop(); joins the thread */
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
