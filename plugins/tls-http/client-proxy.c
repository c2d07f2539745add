/* SPDX-License-Identifier: MIT */
/*
 * client-proxy.c — a client's connection through an HTTP proxy: the
 * choice of proxy at create() and, per attempt, the CONNECT exchange on
 * the plain socket before the TLS stream (conn.c) gets it.
 *
 * The answer is peeked at, parsed (httpconnect.c) and only the bytes of
 * its head are consumed, so nothing of what the server sends through the
 * tunnel is lost before OpenSSL reads the fd.  The proxy's credentials
 * are sent once per attempt and never logged; the request buffer is
 * wiped once written.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "client-proxy.h"
#include "httpconnect.h"
#include "proxyenv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* No connecting phase: race.c hands over a connected socket. */
enum { PH_IDLE, PH_SEND, PH_ANSWER };

struct th_cproxy {
	struct th_ctx *c;
	struct px_url u;
	char target[300];      /* host:port for messages */
	char host[256], port[8];
	/* one attempt at a time */
	int phase;
	int fd;
	char peer[64];
	struct tp_timer *timer;
	const char *expiry;
	th_px_done_fn done;
	char req[2048];
	size_t req_len, sent;
	struct hc_parser hp;
};

static int read_pw_file(struct th_cproxy *p, const char *path, char *err, size_t errlen)
{
	char msg[300];

	if (th_read_first_line("proxy_password_file", path, p->u.password, sizeof(p->u.password),
			       err, errlen) < 0)
		return -1;
	p->u.has_password = 1;
	/* Like a key: a secret others can read is worth a warning. */
	if (th_file_private("proxy_password_file", path, msg, sizeof(msg)) < 0)
		TH_LOG(p->c, TP_LOG_WARN, "%s", msg);
	return 0;
}

/* Where the proxy comes from: the option, else the environment.  NULL
 * and *why set: no proxy. */
static const char *choose(struct th_ctx *c, const char *host, const char **why)
{
	const char *v = c->cf->proxy, *np;
	if (v) {
		*why = "option proxy";
		return strcmp(v, "none") ? v : NULL;
	}
	*why = "https_proxy";
	if (!(v = getenv("https_proxy")) || !*v) {
		*why = "HTTPS_PROXY";
		v = getenv("HTTPS_PROXY");
	}
	if (!v || !*v) {
		*why = NULL;
		return NULL;
	}
	np = getenv("no_proxy");
	if (!np || !*np)
		np = getenv("NO_PROXY");
	if (np && px_no_proxy_match(np, host)) {
		TH_LOG(c, TP_LOG_INFO, "no_proxy matches %s: connecting directly, not through the "
				       "proxy of %s", host, *why);
		*why = NULL;
		return NULL;
	}
	return v;
}

int th_cproxy_setup(struct th_ctx *c, const char *host, const char *port, struct th_cproxy **out,
		    char *err, size_t errlen)
{
	const char *why = NULL, *url = choose(c, host, &why);
	char e[200];
	struct th_cproxy *p;

	*out = NULL;
	if (!url) {
		if (c->cf->proxy)
			TH_LOG(c, TP_LOG_INFO, "proxy = \"none\": connecting directly");
		if (c->cf->proxy_password_file && (!c->cf->proxy || strcmp(c->cf->proxy, "none")))
			TH_LOG(c, TP_LOG_DEBUG, "proxy_password_file unused: no proxy");
		return 0;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->c = c;
	p->fd = -1;
	if (px_parse_url(url, &p->u, e, sizeof(e)) < 0) {
		/* the URL itself is not echoed: it may hold a password */
		snprintf(err, errlen, "%s: %s", why, e);
		goto fail;
	}
	if (c->cf->proxy_password_file) {
		if (!p->u.has_user) {
			snprintf(err, errlen, "proxy_password_file needs a user name in the proxy URL "
					      "(http://USER@HOST:PORT)");
			goto fail;
		}
		if (p->u.has_password) {
			snprintf(err, errlen, "give the proxy password either in the URL of %s or in "
					      "proxy_password_file, not both", why);
			goto fail;
		}
		if (read_pw_file(p, c->cf->proxy_password_file, err, errlen) < 0)
			goto fail;
	}
	snprintf(p->host, sizeof(p->host), "%s", host);
	snprintf(p->port, sizeof(p->port), "%s", port);
	snprintf(p->target, sizeof(p->target), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	TH_LOG(c, TP_LOG_INFO, "using the HTTP proxy %s%s%s:%s (from %s)%s",
	       p->u.has_user ? p->u.user : "", p->u.has_user ? "@" : "", p->u.host, p->u.port,
	       why, p->u.has_user ? ", with Basic authentication" : "");
	*out = p;
	return 0;
fail:
	explicit_bzero(&p->u, sizeof(p->u));
	free(p);
	return -1;
}

const char *th_cproxy_host(const struct th_cproxy *p) { return p->u.host; }
const char *th_cproxy_port(const struct th_cproxy *p) { return p->u.port; }
const char *th_cproxy_peer(const struct th_cproxy *p) { return p->peer; }

static void release(struct th_cproxy *p, int close_fd)
{
	struct th_ctx *c = p->c;
	if (p->timer)
		c->host->timer_cancel(c->st, p->timer);
	p->timer = NULL;
	if (p->fd >= 0) {
		c->host->fd_del(c->st, p->fd);
		if (close_fd)
			close(p->fd);
	}
	p->fd = -1;
	p->phase = PH_IDLE;
	explicit_bzero(p->req, sizeof(p->req));
}

static void finish(struct th_cproxy *p, enum th_px_result r, const char *why)
{
	int fd = p->fd;
	release(p, r != TH_PX_OK);
	p->done(p->c, r == TH_PX_OK ? fd : -1, r, why);
}

static void expired(void *arg)
{
	struct th_cproxy *p = arg;
	p->timer = NULL;
	finish(p, TH_PX_RETRY, p->expiry);
}

static int arm(struct th_cproxy *p, uint64_t ms, const char *why)
{
	const struct tp_host *h = p->c->host;
	if (p->timer)
		h->timer_cancel(p->c->st, p->timer);
	p->expiry = why;
	p->timer = h->timer_add(p->c->st, ms, expired, p);
	return p->timer ? 0 : -1;
}

/* The final answer is in p->hp: what it means for us. */
static void judge(struct th_cproxy *p)
{
	char why[800];
	const struct hc_parser *hp = &p->hp;
	int st = hp->status;

	if (st >= 200 && st < 300) {
		TH_LOG(p->c, TP_LOG_INFO, "proxy tunnel to %s open", p->target);
		finish(p, TH_PX_OK, "");
		return;
	}
	/* Some proxies (tinyproxy 1.11) answer wrong credentials with 401:
	 * before TLS, only the proxy can be speaking. */
	if ((st == 407 || st == 401) && p->u.has_user) {
		snprintf(why, sizeof(why), "the proxy %s refused the credentials of %s (%d %s)",
			 p->peer, p->u.user, st, hp->reason);
		finish(p, TH_PX_AUTH, why);
	} else if (st == 407 || st == 401) {
		snprintf(why, sizeof(why), "proxy requires authentication (%s: %d %s%s); give "
			 "http://USER@HOST:PORT and the password in proxy_password_file "
			 "(--proxy-password-file)",
			 p->peer, st, hp->reason,
			 hp->auth_other && !hp->auth_basic ? ", and it offers no Basic scheme" : "");
		finish(p, TH_PX_AUTH, why);
	} else if (st == 403) {
		snprintf(why, sizeof(why), "proxy refused CONNECT to %s (403 %s)", p->target,
			 hp->reason);
		finish(p, TH_PX_REFUSED, why);
	} else if (st == 502 || st == 503 || st == 504) {
		snprintf(why, sizeof(why), "the proxy %s cannot reach %s (%d %s)", p->peer, p->target,
			 st, hp->reason);
		finish(p, TH_PX_RETRY, why);
	} else {
		snprintf(why, sizeof(why), "the proxy %s answered CONNECT %s with %d %s", p->peer,
			 p->target, st, hp->reason);
		finish(p, TH_PX_RETRY, why);
	}
}

static void on_answer(struct th_cproxy *p)
{
	uint8_t b[HC_MAX];
	char why[300];
	for (;;) {
		ssize_t n = recv(p->fd, b, sizeof(b), MSG_PEEK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (n < 0)
				snprintf(why, sizeof(why), "reading the answer of the proxy %s: %s",
					 p->peer, strerror(errno));
			else
				snprintf(why, sizeof(why), "the proxy %s closed the connection %s",
					 p->peer, p->hp.total ? "in the middle of its answer"
							      : "without answering");
			finish(p, TH_PX_RETRY, why);
			return;
		}
		size_t used = 0;
		enum hc_result r = hc_feed(&p->hp, b, (size_t)n, &used);
		/* Consume exactly the answer's bytes: the rest is the server's. */
		if (used && recv(p->fd, b, used, 0) != (ssize_t)used) {
			snprintf(why, sizeof(why), "reading the proxy's answer: %s", strerror(errno));
			finish(p, TH_PX_RETRY, why);
			return;
		}
		if (r == HC_DONE) {
			judge(p);
			return;
		}
		if (r == HC_BAD) {
			snprintf(why, sizeof(why), "the proxy %s gave a bad answer to CONNECT: %s",
				 p->peer, p->hp.why);
			finish(p, TH_PX_RETRY, why);
			return;
		}
	}
}

static void on_io(void *arg, int fd, uint32_t ev)
{
	struct th_cproxy *p = arg;
	struct th_ctx *c = p->c;
	char why[300];
	(void)ev;

	if (p->phase == PH_SEND) {
		while (p->sent < p->req_len) {
			ssize_t n = send(fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n < 0) {
				snprintf(why, sizeof(why), "sending CONNECT to the proxy %s: %s",
					 p->peer, strerror(errno));
				finish(p, TH_PX_RETRY, why);
				return;
			}
			p->sent += (size_t)n;
		}
		explicit_bzero(p->req, sizeof(p->req));
		p->phase = PH_ANSWER;
		c->host->fd_mod(c->st, fd, TP_FD_READ);
		return; /* the answer comes with the next readable event */
	}
	if (p->phase == PH_ANSWER)
		on_answer(p);
}

int th_cproxy_open(struct th_cproxy *p, int fd, const char *peer, uint64_t answer_ms,
		   th_px_done_fn done)
{
	struct th_ctx *c = p->c;
	char auth[400];
	int al = 0;

	th_cproxy_cancel(p);
	p->fd = fd;
	p->done = done;
	p->sent = 0;
	hc_init(&p->hp);
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	if (p->u.has_user)
		al = snprintf(auth, sizeof(auth), "%s:%s", p->u.user, p->u.password);
	p->req_len = al < (int)sizeof(auth)
			     ? hc_request(p->req, sizeof(p->req), p->host, p->port,
					  p->u.has_user ? auth : NULL)
			     : 0;
	explicit_bzero(auth, sizeof(auth));
	if (!p->req_len) {
		TH_LOG(c, TP_LOG_ERROR, "cannot form the CONNECT request for %s (a bad host name, "
		       "or too long)", p->target);
		goto fail;
	}
	if (c->host->fd_add(c->st, fd, TP_FD_WRITE, on_io, p) < 0)
		goto fail;
	p->phase = PH_SEND;
	if (arm(p, answer_ms, "the proxy did not answer CONNECT in time") < 0) {
		release(p, 1);
		return -1;
	}
	TH_LOG(c, TP_LOG_DEBUG, "connected to the proxy %s: CONNECT %s", p->peer, p->target);
	return 0;
fail:
	explicit_bzero(p->req, sizeof(p->req));
	p->fd = -1;
	close(fd);
	return -1;
}

void th_cproxy_cancel(struct th_cproxy *p)
{
	if (p && p->phase != PH_IDLE)
		release(p, 1);
}

void th_cproxy_free(struct th_cproxy *p)
{
	if (!p)
		return;
	th_cproxy_cancel(p);
	explicit_bzero(&p->u, sizeof(p->u));
	free(p);
}
