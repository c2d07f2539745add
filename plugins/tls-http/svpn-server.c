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
 * an address with too many recent failures gets 429 and a full queue gets
 * 503, neither costing a crypt.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
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

/* The handshake's own part of the context (c->hs_priv). */
struct svs {
	struct auth_db *users;
	struct aw *aw;                 /* password checks (started with the server) */
	struct auth_limiter lim;       /* failed logins per source address */
	uint64_t busy_warned_ms;       /* last "auth queue full" warning */
	int busy_warned;
};

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
	if (r->status == 409)
		TH_LOG(c, TP_LOG_WARN, "refused %s: 409 stack mismatch: client uses %s, server uses %s",
		       l->io->peer, r->peer_stack, p->stack);
	else /* 429 and 503-busy come in floods: counted, and warned about elsewhere */
		TH_LOG(c, r->status == 429 || r->retry_after ? TP_LOG_DEBUG : TP_LOG_WARN,
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
	struct tp_session_info info;
	if (r->status != 101) {
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
	if (!n) {
		c->host->session_close(c->st, s, "101 answer too large");
		r->status = 500;
		r->why = "101 answer too large";
		refuse(l, p, r);
		return;
	}
	th_conn_send(l->io, n, 0);
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

static void auth_failed(struct th_ctx *c, struct th_link *l)
{
	struct svs *sv = c->hs_priv;
	uint64_t now = c->host->now_ms(c->st);
	auth_lim_fail(&sv->lim, l->peer_key, now);
	unsigned wait = auth_lim_check(&sv->lim, l->peer_key, now);
	if (wait)
		TH_LOG(c, TP_LOG_WARN, "%s: %u failed logins; its logins get 429 for %u s",
		       l->io->peer, (unsigned)AUTH_MAX_FAILS, wait);
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
			if (!res[i].ok)
				auth_failed(c, l);
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
	unsigned wait = auth_lim_check(&sv->lim, l->peer_key, c->host->now_ms(c->st));
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
	if (aw_submit(sv->aw, hash, known, pass, &id) < 0 &&
	    (!aw_sweep(sv->aw, still_waiting, c) || aw_submit(sv->aw, hash, known, pass, &id) < 0)) {
		auth_busy(l, p, r);
		return;
	}
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
	struct svs *sv = l->ctx->hs_priv;
	const char *why = NULL;
	int e = th_link_read_head(l);
	if (e)
		why = e == SSL_ERROR_ZERO_RETURN ? "closed while its password was checked"
						 : th_ssl_errstr();
	else if (l->head_len == l->head_cap)
		why = "too much data before the answer"; /* nowhere to read it to */
	if (!why)
		return;
	aw_cancel(sv->aw, l->hs.svpn.auth_id);
	l->hs.svpn.auth_id = 0;
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
	struct svs *sv = l->ctx->hs_priv;
	if (l->hs.svpn.auth_id && sv->aw)
		aw_cancel(sv->aw, l->hs.svpn.auth_id);
	l->hs.svpn.auth_id = 0;
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
	/* The seed keeps clients from aiming addresses at one limiter set. */
	uint32_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)c;
	auth_lim_init(&sv->lim, AUTH_MAX_FAILS, AUTH_WINDOW_MS, seed);
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
	TH_LOG(c, TP_LOG_INFO, "Simple-VPN upgrade on path %s, %zu users", c->cf->path,
	       auth_count(sv->users));
	return 0;
}

/* Nobody waits any more: the worker finishes the check it is running (at
 * most one crypt), drops the queue, and is joined. */
static void svs_stop(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
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
	/* Checks in flight hold copies of their hashes: freeing is safe. */
	auth_free(sv->users);
	sv->users = db;
	/* The admin changed the users: failures against the old file (a
	 * user not added yet) should not lock the new one out. */
	auth_lim_reset(&sv->lim);
	TH_LOG(c, TP_LOG_INFO, "reloaded %s: %zu users", c->cf->users, auth_count(db));
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
};
