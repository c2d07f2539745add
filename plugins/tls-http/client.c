/* SPDX-License-Identifier: MIT */
/*
 * client.c — the client role of tls-http (th_role_client): connect to the
 * url's host, TLS with peer verification (SNI, host name), and reconnect
 * when a link ends.  What is said once TLS is up is the handshake table's
 * business (svpn-client.c).
 *
 * Failures are not fatal for a client: the TUN device outlives the
 * connection and we retry, with exponential backoff (±20% jitter so a
 * fleet of clients does not reconnect in lock-step) for transport errors,
 * and a long fixed wait (auth_retry) when the server said no to our
 * credentials or stack (l->refused) — hammering it would not change its
 * mind.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "client-proxy.h"
#include "race.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define STABLE_MS 10000 /* a session this long resets the backoff */
#define HEAD_CAP 16384  /* bytes of the server's answer head */
#define HS_TIMEOUT 15000 /* ms for TCP + TLS + the upgrade */
/* Happy Eyeballs (race.c): the next address starts this long after the
 * previous one unless that one connected or failed first — RFC 8305's
 * recommended Connection Attempt Delay.  An address whose packets vanish
 * (no ICMP) costs this much, not a whole timeout. */
#define STAGGER_MS 250

/* The client role's own part of the context (c->role_priv). */
struct cli {
	struct th_url url;
	struct th_link *cc;       /* the one link, if any */
	struct addrinfo *ai;      /* the url host's (or proxy's) addresses */
	struct th_race *race;     /* the TCP connects under way (race.c) */
	struct th_resolve *res;   /* a resolution under way (resolve.c) */
	struct tp_timer *retry;
	uint64_t backoff;
	struct th_cproxy *px;     /* the HTTP proxy, NULL: direct (client-proxy.c) */
};

static void cli_connect(void *arg);
static void backoff(struct th_ctx *c);
static void cli_tunnel(struct th_ctx *c, int fd, enum th_px_result r, const char *why);

static uint64_t jitter(uint64_t ms)
{
	uint32_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)ms * 2654435761u;
	/* 0.8 .. 1.2 times ms */
	return ms * 8 / 10 + (uint64_t)((double)ms * 0.4 * ((double)r / 4294967295.0));
}

/* The next delay, the backoff give or take 20%; the backoff doubles, up
 * to reconnect_max. */
static uint64_t backoff_step(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	uint64_t delay = jitter(cl->backoff);
	cl->backoff *= 2;
	if (cl->backoff > (uint64_t)c->cf->reconnect_max)
		cl->backoff = (uint64_t)c->cf->reconnect_max;
	return delay;
}

static void schedule(struct th_ctx *c, uint64_t ms)
{
	struct cli *cl = c->role_priv;
	if (cl->retry)
		c->host->timer_cancel(c->st, cl->retry);
	cl->retry = c->host->timer_add(c->st, ms, cli_connect, c);
	if (!cl->retry)
		TH_LOG(c, TP_LOG_ERROR, "cannot schedule a reconnect timer");
}

/* The name the certificate must hold. */
static const char *expected_name(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	return c->cf->server_name ? c->cf->server_name : cl->url.host;
}

/* A wrong password or a certificate that does not verify will not get
 * better by retrying: say so and stop the process with a status of its
 * own, unless retry_permanent asks to keep trying (a service). */
static int permanent(struct th_ctx *c, int status, const char *what)
{
	if (c->cf->retry_permanent || !TP_HOST_HAS(c->host, exit) || !c->host->exit) {
		TH_LOG(c, TP_LOG_ERROR, "%s; retrying in %lld ms (retry_permanent)", what,
		       (long long)c->cf->auth_retry);
		return 0;
	}
	TH_LOG(c, TP_LOG_ERROR, "%s", what);
	c->host->exit(c->st, status, status == TP_EXIT_AUTH     ? "authentication refused"
				     : status == TP_EXIT_PROXY  ? "the proxy refused the tunnel"
								: "server certificate refused");
	return 1;
}

/* A connection attempt or session ended (l->io->why says why): free it
 * and plan the next attempt. */
static void cli_closed(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct cli *cl = c->role_priv;
	int was_up = l->io->state == CS_OPEN, refused = l->refused;
	uint64_t retry_after = l->retry_after;
	uint64_t lasted = was_up ? c->host->now_ms(c->st) - l->io->open_since : 0;
	char what[512];
	int status = 0;

	/* verify_result stays X509_V_OK unless verification ran and failed. */
	if (!was_up && c->cf->verify && l->io->ssl && SSL_get_verify_result(l->io->ssl) != X509_V_OK) {
		th_cert_refusal(l->io->ssl, expected_name(c), what, sizeof(what));
		status = TP_EXIT_VERIFY;
		refused = 1;
	} else if (refused == TH_REFUSED_AUTH) {
		snprintf(what, sizeof(what), "wrong user name or password for %s at %s (401)",
			 c->cf->user, c->cf->url);
		status = TP_EXIT_AUTH;
	} else if (was_up) {
		TH_LOG(c, TP_LOG_WARN, "connection to %s lost: %s", c->cf->url, l->io->why);
	} else if (!refused) {
		TH_LOG(c, TP_LOG_WARN, "cannot connect to %s (%s): %s", c->cf->url, l->io->peer,
		       l->io->why);
	}
	if (cl->cc == l)
		cl->cc = NULL;
	th_link_free(l);
	if (!c->started)
		return;
	if (status && permanent(c, status, what))
		return;
	uint64_t delay;
	if (refused) {
		delay = (uint64_t)c->cf->auth_retry;
	} else {
		if (was_up && lasted > STABLE_MS)
			cl->backoff = (uint64_t)c->cf->reconnect_min;
		delay = backoff_step(c);
	}
	/* The server said when it can take us again (Retry-After), within
	 * the longest wait we are configured for: a server cannot park us
	 * for a day by saying so. */
	uint64_t cap = (uint64_t)(c->cf->auth_retry > c->cf->reconnect_max ? c->cf->auth_retry
									  : c->cf->reconnect_max);
	if (retry_after > cap)
		retry_after = cap;
	if (retry_after > delay)
		delay = retry_after;
	(*c->c_reconnects)++;
	TH_LOG(c, TP_LOG_DEBUG, "reconnecting in %llu ms", (unsigned long long)delay);
	schedule(c, delay);
}

static void backoff(struct th_ctx *c)
{
	(*c->c_reconnects)++;
	schedule(c, backoff_step(c));
}

/* TLS and the upgrade over a connected fd, HS_TIMEOUT for all of it. */
static void start_link(struct th_ctx *c, int fd, const char *peer)
{
	struct cli *cl = c->role_priv;
	struct th_link *l = th_link_connect(c, fd, peer, HEAD_CAP);
	if (!l) { /* the fd is the link's, closed on failure */
		TH_LOG(c, TP_LOG_ERROR, "cannot register the connection to %s", c->cf->url);
		backoff(c);
		return;
	}
	cl->cc = l;
	if (th_conn_deadline(l->io, HS_TIMEOUT, "handshake timed out") < 0)
		th_conn_close(l->io, "cannot arm the handshake timer");
}

/* The TCP race is over (race.c): TLS to the server over the winner, or
 * CONNECT first through a proxy; none connected: back off. */
static void cli_raced(struct th_ctx *c, int fd, const char *peer, const char *why)
{
	struct cli *cl = c->role_priv;

	cl->race = NULL;
	if (fd < 0) {
		TH_LOG(c, TP_LOG_WARN, "cannot connect to %s%s: %s", cl->px ? "the proxy for " : "",
		       c->cf->url, why);
		backoff(c);
		return;
	}
	if (cl->px) {
		/* CONNECT first; the link starts in cli_tunnel */
		if (th_cproxy_open(cl->px, fd, peer, HS_TIMEOUT, cli_tunnel) < 0)
			backoff(c);
		return;
	}
	start_link(c, fd, peer);
}

/* The proxy's CONNECT ended (client-proxy.c): TLS over the tunnel, or
 * the next address, a backoff, or a permanent error. */
static void cli_tunnel(struct th_ctx *c, int fd, enum th_px_result r, const char *why)
{
	struct cli *cl = c->role_priv;

	if (r == TH_PX_OK) {
		/* The session's peer is the socket's: the proxy's IP:PORT.  The
		 * tun plugin pins a host route to it and hooks get it as
		 * TUNPIPE_SERVER; the server's name would be of no use there. */
		start_link(c, fd, th_cproxy_peer(cl->px));
		return;
	}
	if (r == TH_PX_RETRY) {
		TH_LOG(c, TP_LOG_WARN, "cannot connect to %s: %s", c->cf->url, why);
		backoff(c);
		return;
	}
	if (permanent(c, r == TH_PX_AUTH ? TP_EXIT_AUTH : TP_EXIT_PROXY, why))
		return;
	(*c->c_reconnects)++;
	schedule(c, (uint64_t)c->cf->auth_retry);
}

static void cli_resolved(struct th_ctx *c, struct addrinfo *ai, int rc)
{
	struct cli *cl = c->role_priv;
	cl->res = NULL;
	if (rc) {
		TH_LOG(c, TP_LOG_WARN, "cannot resolve %s: %s", cl->px ? th_cproxy_host(cl->px) : cl->url.host,
		       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		backoff(c);
		return;
	}
	/* Every address is tried, families interleaved from the order
	 * getaddrinfo sorts them (RFC 6724: usually IPv6 first). */
	cl->ai = ai;
	if (th_race_start(c, ai, cl->px ? "proxy " : "", STAGGER_MS, HS_TIMEOUT, cli_raced,
			  &cl->race) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "cannot start connecting: out of memory");
		backoff(c);
	}
}

static void cli_connect(void *arg)
{
	struct th_ctx *c = arg;
	struct cli *cl = c->role_priv;

	cl->retry = NULL;
	if (cl->ai) {
		freeaddrinfo(cl->ai);
		cl->ai = NULL;
	}
	/* Each attempt resolves again: the server may have moved. */
	if (cl->px) {
		TH_LOG(c, TP_LOG_INFO, "resolving the proxy %s", th_cproxy_host(cl->px));
		cl->res = th_resolve_start(c, th_cproxy_host(cl->px), th_cproxy_port(cl->px),
					   cli_resolved);
		return;
	}
	TH_LOG(c, TP_LOG_INFO, "resolving %s", cl->url.host);
	cl->res = th_resolve_start(c, cl->url.host, cl->url.port, cli_resolved);
}

/* SNI and what to verify, on the fresh SSL object. */
static int cli_prepare(struct th_link *l, SSL *ssl)
{
	struct th_ctx *c = l->ctx;
	unsigned char ip[16];
	const char *name = expected_name(c);
	int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	/* RFC 6066: SNI carries host names only, never address literals. */
	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		return -1;
	if (c->cf->verify) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) : SSL_set1_host(ssl, name);
		if (ok != 1)
			return -1;
	}
	return 0;
}

static int cli_start(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	cl->backoff = (uint64_t)c->cf->reconnect_min;
	cli_connect(c);
	return 0;
}

static void cli_stop(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	if (cl->retry) {
		c->host->timer_cancel(c->st, cl->retry);
		cl->retry = NULL;
	}
	th_resolve_cancel(c, cl->res);
	cl->res = NULL;
	th_race_cancel(cl->race);
	cl->race = NULL;
	th_cproxy_cancel(cl->px);
	if (cl->cc) {
		snprintf(cl->cc->io->why, sizeof(cl->cc->io->why), "client stopping");
		th_link_free(cl->cc);
		cl->cc = NULL;
	}
}

static struct th_link *cli_lone_link(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	return cl->cc;
}

static int cli_setup(struct th_ctx *c, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;
	struct cli *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->role_priv = cl;
	if (!cf->url || !cf->user || (!cf->password && !cf->password_file)) {
		snprintf(err, errlen, "role = client needs option '%s'",
			 !cf->url ? "url" : !cf->user ? "user" : "password' or 'password_file");
		return -1;
	}
	if (cf->reconnect_min > cf->reconnect_max) {
		snprintf(err, errlen, "reconnect_min (%lld) is larger than reconnect_max (%lld)",
			 (long long)cf->reconnect_min, (long long)cf->reconnect_max);
		return -1;
	}
	if (th_parse_url(cf->url, &cl->url, err, errlen) < 0)
		return -1;
	if (th_cproxy_setup(c, cl->url.host, cl->url.port, &cl->px, err, errlen) < 0)
		return -1;
	SSL_CTX_set_verify(c->ssl, cf->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (cf->ca) {
		if (th_readable("ca", cf->ca, err, errlen) < 0)
			return -1;
		if (SSL_CTX_load_verify_locations(c->ssl, cf->ca, NULL) != 1) {
			snprintf(err, errlen, "ca %s: %s", cf->ca, th_ssl_errstr());
			return -1;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
		snprintf(err, errlen, "cannot load the system CA store: %s", th_ssl_errstr());
		return -1;
	}
	if (!cf->verify)
		TH_LOG(c, TP_LOG_WARN, "verify = false: the server is NOT authenticated");
	return 0;
}

static void cli_destroy(struct th_ctx *c)
{
	struct cli *cl = c->role_priv;
	if (cl && cl->ai)
		freeaddrinfo(cl->ai);
	if (cl)
		th_cproxy_free(cl->px);
	free(c->role_priv);
	c->role_priv = NULL;
}

const struct th_role th_role_client = {
	.name = "client",
	.method = TLS_client_method,
	.setup = cli_setup,
	.start = cli_start,
	.stop = cli_stop,
	.destroy = cli_destroy,
	.lone_link = cli_lone_link,
	.prepare = cli_prepare,
	.closed = cli_closed,
};
