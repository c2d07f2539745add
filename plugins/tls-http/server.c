/*
 * server.c — the listening side of tls-http: accept, TLS, answer the
 * upgrade request (handshake.c decides), open and lease the session.
 *
 * The password check runs on the auth worker (authworker.h): the request
 * is decided up to the password (hs_decide_deferred), the connection
 * waits with k->auth_id set while the loop serves everybody else, and
 * auth_results() resumes it with the outcome.  Before a job is queued,
 * an address with too many recent failures gets 429 and a full queue gets
 * 503, neither costing a crypt.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "authworker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#define ACCEPT_BUDGET 64     /* accepts per wakeup before others get a turn */
#define ACCEPT_PAUSE_MS 500  /* stop accepting this long when out of fds/memory */
#define FULL_WARN_MS 10000   /* at most one "max_sessions reached" line per this */
#define AUTH_COLLECT 32      /* results taken per aw_collect() */

int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *h = s, *he, *p;
	if (*s == '[') {
		h = s + 1;
		he = strchr(h, ']');
		if (!he || (he[1] != ':' && he[1] != '\0'))
			return -1;
		p = he[1] ? he + 2 : NULL;
	} else {
		he = strrchr(s, ':');
		if (he && strchr(s, ':') != he)
			return -1; /* bare IPv6 needs brackets */
		p = he ? he + 1 : NULL;
		if (!he)
			he = s + strlen(s);
	}
	size_t hl = (size_t)(he - h);
	if (hl == 0 || hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (!*p || *end || v == 0 || v > 65535 || strlen(p) >= pcap)
			return -1;
		snprintf(port, pcap, "%lu", v);
	}
	return 0;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
		snprintf(out, cap, "%s:%u", a, port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, "[%s]:%u", a, port);
	}
}

/* The limiter's key: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64. */
static void peer_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		int mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
		memcpy(key, &in6->sin6_addr, mapped ? 16 : 8);
	}
}

static void accept_resume(void *arg)
{
	struct th_ctx *c = arg;
	c->accept_timer = NULL;
	if (c->lfd >= 0 && c->host->fd_mod(c->st, c->lfd, TP_FD_READ) < 0)
		TH_LOG(c, TP_LOG_ERROR, "cannot watch %s again: no new connections are accepted",
		       c->cf->listen);
}

/*
 * Out of fds or memory: the pending connection stays in the backlog, the
 * listening socket stays readable, and a level-triggered loop would call
 * us back at once, forever, logging each time.  Stop watching it for a
 * while instead; connections that arrive meanwhile wait in the backlog
 * (the kernel's problem, not a spin of ours).  One log line per pause.
 */
static void accept_pause(struct th_ctx *c, int err)
{
	if (c->accept_timer)
		return;
	c->accept_timer = c->host->timer_add(c->st, ACCEPT_PAUSE_MS, accept_resume, c);
	if (!c->accept_timer || c->host->fd_mod(c->st, c->lfd, 0) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "accept on %s: %s; cannot pause accepting", c->cf->listen,
		       strerror(err));
		return;
	}
	TH_LOG(c, TP_LOG_WARN, "accept on %s: %s; not accepting for %d ms (%llu accept errors so far)",
	       c->cf->listen, strerror(err), ACCEPT_PAUSE_MS,
	       (unsigned long long)*c->c_accept_errors);
}

/* Every refusal is counted (`refused`); the log says so at most once per
 * FULL_WARN_MS, or a connection flood would become a log flood. */
static void refuse_full(struct th_ctx *c, const char *peer)
{
	uint64_t now = c->host->now_ms(c->st);
	(*c->c_refused)++;
	if (c->full_warned && now - c->full_warned_ms < FULL_WARN_MS) {
		c->full_quiet++;
		return;
	}
	if (c->full_quiet)
		TH_LOG(c, TP_LOG_WARN, "refused %s: max_sessions (%u) reached (and %u more since the "
		       "last warning)", peer, (unsigned)c->cf->max_sessions, c->full_quiet);
	else
		TH_LOG(c, TP_LOG_WARN, "refused %s: max_sessions (%u) reached; further refusals are "
		       "counted and logged at most every %d s", peer, (unsigned)c->cf->max_sessions,
		       FULL_WARN_MS / 1000);
	c->full_warned = 1;
	c->full_warned_ms = now;
	c->full_quiet = 0;
}

static void accept_cb(void *arg, int fd, uint32_t ev)
{
	struct th_ctx *c = arg;
	(void)ev;
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[64];
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			int e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED)
				return;
			(*c->c_accept_errors)++;
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
				accept_pause(c, e);
			else /* the failed connection was taken off the backlog: no spin */
				TH_LOG(c, TP_LOG_WARN, "accept on %s: %s", c->cf->listen, strerror(e));
			return;
		}
		peer_name(&ss, peer, sizeof(peer));
		/* Handshaking connections count too: otherwise a flood of
		 * idle TLS handshakes would hold unbounded memory. */
		if (c->n_conns >= (unsigned)c->cf->max_sessions) {
			refuse_full(c, peer);
			close(cfd);
			continue;
		}
		struct th_conn *k = th_conn_new(c, cfd, peer);
		if (!k) {
			TH_LOG(c, TP_LOG_ERROR, "cannot register connection from %s", peer);
			close(cfd);
			continue;
		}
		peer_key(&ss, k->peer_ip);
		if (th_conn_start_tls(k) < 0 || th_conn_arm_timeout(k, (uint64_t)c->cf->handshake_timeout) < 0) {
			snprintf(k->why, sizeof(k->why), "cannot set up TLS: %s", th_ssl_errstr());
			TH_LOG(c, TP_LOG_ERROR, "%s", k->why);
			th_conn_close(k, k->why);
			continue;
		}
		TH_LOG(c, TP_LOG_DEBUG, "connection from %s", peer);
	}
}

static void params_of(struct th_ctx *c, struct hs_params *p)
{
	memset(p, 0, sizeof(*p));
	p->path = c->cf->path;
	p->realm = c->cf->realm;
	p->stack = c->host->stack(c->st);
	p->max_request = (size_t)c->cf->max_request;
	p->max_headers = (size_t)c->cf->max_headers;
	p->users = c->users;
}

/* Queue the error answer and flush it before closing (CS_CLOSING). */
static void refuse(struct th_conn *k, const struct hs_params *p, const struct hs_request *r)
{
	struct th_ctx *c = k->ctx;
	(*c->c_refused)++;
	if (r->status == 401)
		(*c->c_auth_failures)++;
	if (r->status == 409)
		TH_LOG(c, TP_LOG_WARN, "refused %s: 409 stack mismatch: client uses %s, server uses %s",
		       k->peer, r->peer_stack, p->stack);
	else /* 429 and 503-busy come in floods: counted, and warned about elsewhere */
		TH_LOG(c, r->status == 429 || r->retry_after ? TP_LOG_DEBUG : TP_LOG_WARN,
		       "refused %s: %d %s%s%s", k->peer, r->status, r->why,
		       r->user[0] ? " for user " : "", r->user);
	k->rec_len = hs_error_response((char *)k->rec, sizeof(k->rec), p, r);
	snprintf(k->why, sizeof(k->why), "refused with %d", r->status);
	k->state = CS_CLOSING;
}

/* The request is decided (r final): refuse it, or open the session,
 * answer 101 and go up. */
static void answer(struct th_conn *k, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = k->ctx;
	struct tp_session_info info;
	if (r->status != 101) {
		refuse(k, p, r);
		return;
	}
	struct tp_session *s = c->host->session_open(c->st, k);
	if (!s) {
		r->status = 503;
		r->why = "cannot open a session";
		refuse(k, p, r);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (c->host->lease(c->st, s, r->user, &info) < 0) {
		c->host->session_close(c->st, s, "address pool exhausted");
		r->status = 503;
		r->why = "address pool exhausted";
		refuse(k, p, r);
		return;
	}
	info.size = sizeof(info);
	info.flags &= ~TP_SI_LOCAL;
	snprintf(info.user, sizeof(info.user), "%s", r->user);
	snprintf(info.peer, sizeof(info.peer), "%s", k->peer);
	k->rec_len = hs_build_101((char *)k->rec, sizeof(k->rec), &info, p->stack);
	if (!k->rec_len) {
		c->host->session_close(c->st, s, "101 answer too large");
		r->status = 500;
		r->why = "101 answer too large";
		refuse(k, p, r);
		return;
	}
	k->s = s;
	/* Up before session_up: stages may send down from the SESSION_UP
	 * event, and that data must queue behind the 101, not be dropped. */
	th_conn_established(k);
	if (th_conn_flush(k) < 0)
		return;
	if (c->host->session_up(c->st, s, &info) < 0) {
		th_conn_close(k, "session_up refused");
		return;
	}
	(*c->c_sessions)++;
	char a[64];
	hs_format_prefix(&info.addr4, 1, a, sizeof(a));
	TH_LOG(c, TP_LOG_INFO, "session up: user %s from %s, address %s, stack %s", r->user, k->peer,
	       a, p->stack);
	th_conn_push_up(k, k->head + r->head_len, k->head_len - r->head_len);
}

static struct th_conn *waiting_for(struct th_ctx *c, uint64_t id)
{
	for (struct th_conn *k = c->conns; k; k = k->next)
		if (k->auth_id == id && !k->dead)
			return k;
	return NULL;
}

/* aw_sweep: a queued job whose connection went away (timeout, reset)
 * is dropped before it costs a crypt. */
static int still_waiting(void *arg, uint64_t id)
{
	return waiting_for(arg, id) != NULL;
}

static void auth_failed(struct th_ctx *c, struct th_conn *k)
{
	uint64_t now = c->host->now_ms(c->st);
	auth_lim_fail(&c->lim, k->peer_ip, now);
	unsigned wait = auth_lim_check(&c->lim, k->peer_ip, now);
	if (wait)
		TH_LOG(c, TP_LOG_WARN, "%s: %u failed logins; its logins get 429 for %u s",
		       k->peer, (unsigned)TH_AUTH_MAX_FAILS, wait);
}

/* The worker finished checks: resume each connection that still waits;
 * results for connections closed meanwhile find nobody and are dropped. */
static void auth_results(void *arg, int fd, uint32_t ev)
{
	struct th_ctx *c = arg;
	struct aw_result res[AUTH_COLLECT];
	struct hs_params p;
	size_t n;
	(void)fd;
	(void)ev;
	params_of(c, &p);
	while ((n = aw_collect(c->aw, res, AUTH_COLLECT)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct th_conn *k = waiting_for(c, res[i].id);
			if (!k)
				continue;
			k->auth_id = 0;
			th_conn_enter(k);
			if (!res[i].ok)
				auth_failed(c, k);
			hs_auth_result(&k->pend, res[i].ok);
			answer(k, &p, &k->pend);
			th_conn_leave(k); /* flushes a refusal via CS_CLOSING, or frees */
		}
		if (n < AUTH_COLLECT)
			break;
	}
}

/* Refuse with 503 "server busy"; the warning at most every FULL_WARN_MS. */
static void auth_busy(struct th_conn *k, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = k->ctx;
	uint64_t now = c->host->now_ms(c->st);
	(*c->c_auth_busy)++;
	if (!c->busy_warned || now - c->busy_warned_ms >= FULL_WARN_MS) {
		TH_LOG(c, TP_LOG_WARN, "password checks queue full (%d waiting): answering 503 "
		       "(%llu so far, counted as auth_busy)", TH_AUTH_QUEUE,
		       (unsigned long long)*c->c_auth_busy);
		c->busy_warned = 1;
		c->busy_warned_ms = now;
	}
	r->need_auth = 0;
	r->status = 503;
	r->why = "server busy, try again";
	r->retry_after = 1;
	refuse(k, p, r);
}

/* Credentials in hand: refuse at once (throttled, busy) or hand the
 * check to the worker and wait. */
static void auth_start(struct th_conn *k, const struct hs_params *p, struct hs_request *r,
		       const char *pass)
{
	struct th_ctx *c = k->ctx;
	char hash[AUTH_HASH_MAX];
	uint64_t id;
	unsigned wait = auth_lim_check(&c->lim, k->peer_ip, c->host->now_ms(c->st));
	if (wait) {
		(*c->c_auth_throttled)++;
		r->need_auth = 0;
		r->status = 429;
		r->why = "too many failed logins";
		r->retry_after = wait;
		refuse(k, p, r);
		return;
	}
	int known = auth_lookup(c->users, r->user, hash, sizeof(hash));
	if (aw_submit(c->aw, hash, known, pass, &id) < 0 &&
	    (!aw_sweep(c->aw, still_waiting, c) || aw_submit(c->aw, hash, known, pass, &id) < 0)) {
		auth_busy(k, p, r);
		return;
	}
	k->auth_id = id;
	k->pend = *r;
	/* The peer may send more (or hang up) while it waits: th_server_http
	 * reads on into k->head. */
}

int th_server_start(struct th_ctx *c)
{
	char host[128], port[8] = "8443", err[256];
	struct addrinfo hints, *ai = NULL;
	int one = 1, rc;

	int aw_watched = 0;

	if (!(c->aw = aw_new(TH_AUTH_QUEUE, NULL, err, sizeof(err)))) {
		TH_LOG(c, TP_LOG_ERROR, "%s", err);
		goto fail;
	}
	if (c->host->fd_add(c->st, aw_fd(c->aw), TP_FD_READ, auth_results, c) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot watch the auth worker's eventfd");
		goto fail;
	}
	aw_watched = 1;
	if (th_split_hostport(c->cf->listen, host, sizeof(host), port, sizeof(port)) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "bad listen address '%s'", c->cf->listen);
		goto fail;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		TH_LOG(c, TP_LOG_ERROR, "listen address '%s': %s", c->cf->listen, gai_strerror(rc));
		goto fail;
	}
	c->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		TH_LOG(c, TP_LOG_ERROR, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(c->lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(c->lfd, 128) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot listen on %s: %s", c->cf->listen, strerror(errno));
		goto fail;
	}
	if (c->host->fd_add(c->st, c->lfd, TP_FD_READ, accept_cb, c) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot watch the listening socket");
		goto fail;
	}
	freeaddrinfo(ai);
	TH_LOG(c, TP_LOG_INFO, "listening on %s (path %s, %zu users)", c->cf->listen, c->cf->path,
	       auth_count(c->users));
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	if (c->lfd >= 0)
		close(c->lfd);
	c->lfd = -1;
	if (aw_watched)
		c->host->fd_del(c->st, aw_fd(c->aw));
	aw_free(c->aw);
	c->aw = NULL;
	return -1;
}

void th_server_stop(struct th_ctx *c)
{
	if (c->accept_timer) {
		c->host->timer_cancel(c->st, c->accept_timer);
		c->accept_timer = NULL;
	}
	if (c->lfd >= 0) {
		c->host->fd_del(c->st, c->lfd);
		close(c->lfd);
		c->lfd = -1;
	}
	while (c->conns) {
		snprintf(c->conns->why, sizeof(c->conns->why), "server stopping");
		th_conn_free(c->conns);
	}
	/* Nobody waits any more: the worker finishes the check it is running
	 * (at most one crypt), drops the queue, and is joined. */
	if (c->aw) {
		c->host->fd_del(c->st, aw_fd(c->aw));
		aw_free(c->aw);
		c->aw = NULL;
	}
}

void th_server_reload(struct th_ctx *c)
{
	char err[256];
	struct auth_db *db = auth_load(c->cf->users, err, sizeof(err));
	if (!db) {
		TH_LOG(c, TP_LOG_ERROR, "reload: %s; keeping the previous users", err);
		return;
	}
	/* Checks in flight hold copies of their hashes: freeing is safe. */
	auth_free(c->users);
	c->users = db;
	/* The admin changed the users: failures against the old file (a
	 * user not added yet) should not lock the new one out. */
	auth_lim_reset(&c->lim);
	TH_LOG(c, TP_LOG_INFO, "reloaded %s: %zu users", c->cf->users, auth_count(db));
}

/* Waiting for the worker: keep reading (the head may be followed by data;
 * a reset or close shows up here) so the level-triggered loop does not
 * spin, and give up the check if the peer goes away. */
static void auth_wait_io(struct th_conn *k)
{
	const char *why = NULL;
	int e = th_conn_read_head(k);
	if (e)
		why = e == SSL_ERROR_ZERO_RETURN ? "closed while its password was checked"
						 : th_ssl_errstr();
	else if (k->head_len == k->head_cap)
		why = "too much data before the answer"; /* nowhere to read it to */
	if (!why)
		return;
	aw_cancel(k->ctx->aw, k->auth_id);
	k->auth_id = 0;
	th_conn_close(k, why);
}

void th_server_http(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	struct hs_request r;
	struct hs_params p;
	char pass[256];

	if (k->auth_id) {
		auth_wait_io(k);
		return;
	}
	int e = th_conn_read_head(k);
	if (e) {
		th_conn_close(k, e == SSL_ERROR_ZERO_RETURN ? "closed before the request" : th_ssl_errstr());
		return;
	}
	params_of(c, &p);
	hs_decide_deferred(k->head, k->head_len, &p, &r, pass, sizeof(pass));
	if (r.need_auth)
		auth_start(k, &p, &r, pass);
	else if (r.status)
		answer(k, &p, &r);
	explicit_bzero(pass, sizeof(pass));
}
