/* SPDX-License-Identifier: MIT */
/*
 * server.c — the server role of tls-http (th_role_server): the listening
 * socket, accepting within the handshake budgets (admit(): per address,
 * in total, the oldest handshake giving way), the handshake deadline,
 * and what is logged when a link ends.  With proxy_protocol a connection
 * first waits in proxy-accept.c for its PROXY header (th_srv_take after);
 * with tls = false proxy-accept.c lets only trusted proxies in.  max_sessions counts tunnels only
 * and is checked when a session opens (svpn-server.c).  What is said on an accepted stream is the
 * handshake table's business (svpn-server.c).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

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
#include <openssl/x509.h>

#define ACCEPT_BUDGET 64     /* accepts per wakeup before others get a turn */
#define ACCEPT_PAUSE_MS 500  /* stop accepting this long when out of fds/memory */

/* The server role's own part of the context (c->role_priv). */
struct srv {
	int lfd;
	struct tp_timer *accept_timer; /* accepting paused (EMFILE…) until it fires */
	struct th_ratelog rl_full;     /* "max_sessions reached" */
	struct th_ratelog rl_addr;     /* "too many handshakes from ADDR" */
	struct th_ratelog rl_evict;    /* "oldest handshake gave way" */
};

void th_peer_name(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
		snprintf(out, cap, port ? "%s:%u" : "%s", a, port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, port ? "[%s]:%u" : "[%s]", a, port);
	}
}

void th_sockaddr(struct sockaddr_storage *ss, int family, const uint8_t *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, addr, 4);
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, addr, 16);
		in6->sin6_port = htons(port);
	}
}

/* The limiter's key: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64. */
void th_peer_key(const struct sockaddr_storage *ss, uint8_t key[16])
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
	struct srv *sv = c->role_priv;
	sv->accept_timer = NULL;
	if (sv->lfd >= 0 && c->host->fd_mod(c->st, sv->lfd, TP_FD_READ) < 0)
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
	struct srv *sv = c->role_priv;
	if (sv->accept_timer)
		return;
	sv->accept_timer = c->host->timer_add(c->st, ACCEPT_PAUSE_MS, accept_resume, c);
	if (!sv->accept_timer || c->host->fd_mod(c->st, sv->lfd, 0) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "accept on %s: %s; cannot pause accepting", c->cf->listen,
		       strerror(err));
		return;
	}
	TH_LOG(c, TP_LOG_WARN, "accept on %s: %s; not accepting for %d ms (%llu accept errors so far)",
	       c->cf->listen, strerror(err), ACCEPT_PAUSE_MS,
	       (unsigned long long)*c->c_accept_errors);
}

/*
 * May a connection from `key` start a handshake?  Not when that address
 * already holds max_handshakes_per_address of them (it can only hurt
 * itself); when all max_handshakes are taken, the oldest one gives way,
 * so a flood from many addresses delays a real login by at most one
 * reconnect instead of locking it out.  Every refusal is counted.
 */
static int admit(struct th_ctx *c, const uint8_t key[16], const char *peer, int proxied)
{
	struct srv *sv = c->role_priv;
	unsigned from_key, n = th_budget_handshakes(c, key, &from_key);
	char a[64];
	if (!proxied && from_key >= (unsigned)c->cf->max_handshakes_per_address) {
		(*c->c_refused)++;
		th_key_str(key, a, sizeof(a));
		th_warn_limited(c, &sv->rl_addr, "refused %s: %s already has %u connections not "
				"logged in (max_handshakes_per_address)", peer, a, from_key);
		return 0;
	}
	/* Everything together stays within max_handshakes + max_sessions
	 * (the fds and memory the server is sized for). */
	if (c->n_links >= (unsigned)(c->cf->max_sessions + c->cf->max_handshakes) &&
	    n < (unsigned)c->cf->max_handshakes) {
		(*c->c_refused)++;
		th_warn_limited(c, &sv->rl_full, "refused %s: max_sessions (%u) reached", peer,
				(unsigned)c->cf->max_sessions);
		return 0;
	}
	if (n >= (unsigned)c->cf->max_handshakes) {
		struct th_link *o = th_budget_oldest_handshake(c);
		if (!o)
			return 0;
		(*c->c_refused)++;
		th_warn_limited(c, &sv->rl_evict, "max_handshakes (%u) reached: the oldest, from %s, "
				"gives way to %s", (unsigned)c->cf->max_handshakes, o->io->peer, peer);
		o->evicted = 1;
		th_conn_close(o->io, "gave way to a newer connection (max_handshakes)");
	}
	return 1;
}

/* The handshake deadline: the handshake table answers (408) if it can,
 * and the stream's own deadline, a second later, closes it for sure
 * (a peer that reads nothing cannot hold the answer open). */
static void deadline_cb(void *arg)
{
	struct th_link *l = arg;
	l->hs_timer = NULL;
	if (l->ctx->hs->timeout)
		l->ctx->hs->timeout(l);
	else
		th_conn_close(l->io, "handshake timed out");
}

static int arm_deadline(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	uint64_t ms = (uint64_t)c->cf->handshake_timeout;
	l->hs_timer = c->host->timer_add(c->st, ms, deadline_cb, l);
	if (!l->hs_timer)
		return -1;
	return th_conn_deadline(l->io, ms + 1000, "handshake timed out");
}

static void take(struct th_ctx *c, int cfd, const struct sockaddr_storage *ss, int proxied)
{
	uint8_t key[16];
	char peer[64];
	th_peer_name(ss, peer, sizeof(peer));
	th_peer_key(ss, key);
	if (!admit(c, key, peer, proxied)) {
		close(cfd);
		return;
	}
	/* One byte more than the limit so "exactly at the limit, no
	 * end yet" is distinguishable from "over it". */
	struct th_link *l = th_link_accept(c, cfd, peer, (size_t)c->cf->max_request + 1);
	if (!l) {
		ERR_clear_error();
		TH_LOG(c, TP_LOG_ERROR, "cannot set up the connection from %s", peer);
		return;
	}
	memcpy(l->peer_key, key, 16);
	l->proxied = proxied;
	l->born_ms = c->host->now_ms(c->st);
	if (arm_deadline(l) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot arm the handshake timer for %s", peer);
		th_conn_close(l->io, "cannot arm the handshake timer");
		return;
	}
	TH_LOG(c, TP_LOG_DEBUG, "connection from %s", peer);
}

void th_srv_take(struct th_ctx *c, int cfd, const struct sockaddr_storage *ss)
{
	take(c, cfd, ss, 0);
}

/* Every client of a reverse proxy comes from its address: the budget per
 * address is applied once the request names the client (front.c). */
void th_srv_take_proxied(struct th_ctx *c, int cfd, const struct sockaddr_storage *ss)
{
	take(c, cfd, ss, 1);
}

static void accept_cb(void *arg, int fd, uint32_t ev)
{
	struct th_ctx *c = arg;
	(void)ev;
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
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
		if (c->pp_priv) { /* who it is for comes first (proxy-accept.c) */
			char sock[64];
			th_peer_name(&ss, sock, sizeof(sock));
			th_pp_accept(c, cfd, &ss, sock);
			continue;
		}
		th_srv_take(c, cfd, &ss);
	}
}

static int srv_start(struct th_ctx *c)
{
	struct srv *sv = c->role_priv;
	char host[128], port[8] = "8443";
	struct addrinfo hints, *ai = NULL;
	int one = 1, rc;

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
	sv->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sv->lfd < 0) {
		TH_LOG(c, TP_LOG_ERROR, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(sv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sv->lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(sv->lfd, 128) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot listen on %s: %s", c->cf->listen, strerror(errno));
		goto fail;
	}
	if (c->host->fd_add(c->st, sv->lfd, TP_FD_READ, accept_cb, c) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot watch the listening socket");
		goto fail;
	}
	freeaddrinfo(ai);
	/* Passwords (Basic) and tunnel traffic cross the proxy's hop in clear. */
	TH_LOG(c, TP_LOG_INFO, "listening on %s%s", c->cf->listen,
	       c->cf->tls ? "" : " in plain HTTP (tls = false) for trusted_proxies only: keep "
				 "the hop from the proxy private");
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	if (sv->lfd >= 0)
		close(sv->lfd);
	sv->lfd = -1;
	return -1;
}

static void srv_stop(struct th_ctx *c)
{
	struct srv *sv = c->role_priv;
	if (sv->accept_timer) {
		c->host->timer_cancel(c->st, sv->accept_timer);
		sv->accept_timer = NULL;
	}
	if (sv->lfd >= 0) {
		c->host->fd_del(c->st, sv->lfd);
		close(sv->lfd);
		sv->lfd = -1;
	}
	th_pp_stop(c);
	th_fb_stop(c);
	while (c->links) {
		snprintf(c->links->io->why, sizeof(c->links->io->why), "server stopping");
		th_link_free(c->links);
	}
}

static void srv_closed(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct th_conn *k = l->io;
	/* A session that was up gets the core's line (user, addresses,
	 * duration, bytes); this one is for the connection's side of it. */
	if (k->state == CS_OPEN)
		TH_LOG(c, l->s ? TP_LOG_DEBUG : TP_LOG_INFO, "session %s (%s) closed: %s", k->peer,
		       l->s ? "up" : "-", k->why);
	else if (k->state != CS_CLOSING)
		TH_LOG(c, TP_LOG_DEBUG, "connection from %s dropped during handshake: %s", k->peer,
		       k->why);
	th_link_free(l);
}

/* A private key others can read is refused, as OpenSSH does, unless
 * allow_insecure_key says the admin knows (then it is a warning). */
static int key_private(struct th_ctx *c, char *err, size_t errlen)
{
	char msg[512];
	if (th_file_private("key", c->cf->key, msg, sizeof(msg)) == 0)
		return 0;
	if (!c->cf->allow_insecure_key) {
		snprintf(err, errlen, "%s, or set allow_insecure_key = true", msg);
		return -1;
	}
	TH_LOG(c, TP_LOG_WARN, "%s (allowed by allow_insecure_key)", msg);
	return 0;
}

/* The certificate chain and key into `ssl`: at create(), and on SIGHUP
 * into a fresh context that replaces the running one only if this works. */
static int srv_load_keys(struct th_ctx *c, SSL_CTX *ssl, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;

	if (th_readable("cert", cf->cert, err, errlen) < 0 || th_readable("key", cf->key, err, errlen) < 0)
		return -1;
	if (key_private(c, err, errlen) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ssl, cf->cert) != 1) {
		snprintf(err, errlen, "cert %s: %s", cf->cert, th_ssl_errstr());
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl, cf->key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL checks the pair here already; say it in words. */
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, "key %s does not match cert %s", cf->key, cf->cert);
		} else {
			snprintf(err, errlen, "key %s: %s", cf->key, th_ssl_errstr());
		}
		return -1;
	}
	if (SSL_CTX_check_private_key(ssl) != 1) {
		snprintf(err, errlen, "key %s does not match cert %s", cf->key, cf->cert);
		return -1;
	}
	return 0;
}

static int srv_setup(struct th_ctx *c, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;
	char h[128], p[8];
	struct srv *sv = calloc(1, sizeof(*sv));
	if (!sv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sv->lfd = -1;
	c->role_priv = sv;
	if ((cf->tls && (!cf->cert || !cf->key)) || !cf->users) {
		snprintf(err, errlen, "role = server needs option '%s'%s",
			 !cf->users ? "users" : !cf->cert ? "cert" : "key",
			 cf->users ? " (or tls = false behind a proxy that terminates TLS)" : "");
		return -1;
	}
	if (th_split_hostport(cf->listen, h, sizeof(h), p, sizeof(p)) < 0) {
		snprintf(err, errlen, "listen '%s': expected address:port or [v6]:port", cf->listen);
		return -1;
	}
	if (th_pp_setup(c, err, errlen) < 0 || th_fb_setup(c, err, errlen) < 0)
		return -1;
	return cf->tls ? srv_load_keys(c, c->ssl, err, errlen) : 0;
}

static void srv_destroy(struct th_ctx *c)
{
	th_pp_destroy(c);
	th_fb_destroy(c);
	free(c->role_priv);
	c->role_priv = NULL;
}

const struct th_role th_role_server = {
	.name = "server",
	.method = TLS_server_method,
	.setup = srv_setup,
	.load_keys = srv_load_keys,
	.start = srv_start,
	.stop = srv_stop,
	.destroy = srv_destroy,
	.lone_link = NULL,
	.prepare = NULL,
	.closed = srv_closed,
};
