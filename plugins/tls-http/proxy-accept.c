/* SPDX-License-Identifier: MIT */
/*
 * proxy-accept.c — the server role's pre-TLS step for proxy_protocol:
 * an accepted connection waits here until we know who it is for.
 *
 * From a trusted proxy (trusted_proxies) a PROXY header must come first;
 * it is read exactly — peek at what arrived, parse (proxyproto.c),
 * consume only bytes that belong to the header — so the TLS ClientHello
 * behind it is still in the socket when OpenSSL gets the fd, and the
 * real client's address becomes the link's peer and limiter key.
 *
 * From anyone else the connection is served as it is (HAProxy's
 * "expect-proxy if trusted" pattern: direct clients keep working), but a
 * PROXY header from them is refused and logged: believing it would let
 * anyone choose the address the limiter sees.  One peek tells: a TLS
 * connection starts with 0x16, a PROXY header with 'P' or '\r'.
 *
 * Every waiting connection counts against max_handshakes (the oldest
 * gives way) and must be decided within handshake_timeout.
 *
 * With tls = false the same trusted_proxies decide who may connect at
 * all: a plain-HTTP listener serves our reverse proxies only.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "proxyproto.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PP_MAX_TRUSTED 64

struct pp_wait {
	struct pp_wait *prev, *next;
	struct th_ctx *c;
	int fd;
	int trusted;
	uint8_t key[16];             /* th_peer_key of ss */
	struct sockaddr_storage ss;  /* the socket's peer (the proxy's address) */
	char sock[64];               /* and as text, for the log */
	struct tp_timer *timer;
	size_t have;                 /* header bytes consumed into b */
	uint8_t b[PP_MAX];
};

struct pp_state {
	struct tp_prefix trusted[PP_MAX_TRUSTED];
	unsigned n_trusted;
	struct pp_wait *head, *tail; /* oldest first */
	unsigned n_wait;
	/* one pace per kind: a flood of one does not hide the others */
	struct th_ratelog rl_bad, rl_untrusted, rl_late, rl_evict, rl_addr, rl_plain;
};

static const char *mode_name(int m)
{
	return m == PP_V1 ? "v1" : m == PP_V2 ? "v2" : "any";
}

/* An IPv4 client of a dual-stack socket ([::]) is ::ffff:a.b.c.d: it is
 * matched, and shown, as the IPv4 address it is. */
static int trusted_addr(const struct pp_state *ps, int fam, const uint8_t *a)
{
	for (unsigned i = 0; i < ps->n_trusted; i++)
		if (hs_prefix_has(&ps->trusted[i], fam, a))
			return 1;
	return 0;
}

int th_pp_trusted(void *ctx, int family, const uint8_t *addr)
{
	struct th_ctx *c = ctx;
	return c->pp_priv && trusted_addr(c->pp_priv, family, addr);
}

static int trusted(const struct pp_state *ps, const struct sockaddr_storage *ss)
{
	int fam = ss->ss_family;
	const uint8_t *a;
	if (fam == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	} else {
		a = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a)) {
			fam = AF_INET;
			a += 12;
		}
	}
	return trusted_addr(ps, fam, a);
}

int th_pp_setup(struct th_ctx *c, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;
	struct pp_state *ps;
	if (!cf->proxy_protocol && cf->tls)
		return 0;
	/* nginx's http proxy sends no PROXY header; one listener, one rule */
	if (cf->proxy_protocol && !cf->tls) {
		snprintf(err, errlen, "proxy_protocol = %s and tls = false cannot be combined: a plain "
			 "listener takes the client from X-Forwarded-For/Forwarded",
			 mode_name((int)cf->proxy_protocol));
		return -1;
	}
	if (!(ps = calloc(1, sizeof(*ps)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->pp_priv = ps;
	for (size_t i = 0; cf->trusted_proxies && cf->trusted_proxies[i]; i++) {
		if (ps->n_trusted == PP_MAX_TRUSTED) {
			snprintf(err, errlen, "trusted_proxies: more than %d prefixes", PP_MAX_TRUSTED);
			return -1;
		}
		const char *t = cf->trusted_proxies[i];
		if (hs_prefix_parse(t, strlen(t), HS_PFX_LEN, &ps->trusted[ps->n_trusted++]) < 0) {
			snprintf(err, errlen, "trusted_proxies: '%s' is not an address or "
				 "address/prefix-length", t);
			return -1;
		}
	}
	if (!ps->n_trusted && !cf->tls) {
		snprintf(err, errlen, "tls = false needs trusted_proxies (the addresses of the "
			 "reverse proxies that terminate TLS; nobody else may connect in plain HTTP)");
		return -1;
	}
	if (!ps->n_trusted) {
		snprintf(err, errlen, "proxy_protocol = %s needs trusted_proxies (the addresses "
			 "of the proxies allowed to send a PROXY header)", mode_name((int)cf->proxy_protocol));
		return -1;
	}
	return 0;
}

static void wait_free(struct pp_wait *w, int close_fd)
{
	struct th_ctx *c = w->c;
	struct pp_state *ps = c->pp_priv;
	if (w->timer)
		c->host->timer_cancel(c->st, w->timer);
	c->host->fd_del(c->st, w->fd);
	if (close_fd)
		close(w->fd);
	if (w->prev)
		w->prev->next = w->next;
	else
		ps->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		ps->tail = w->prev;
	ps->n_wait--;
	free(w);
}

static void refuse(struct pp_wait *w, struct th_ratelog *rl, const char *why, const char *detail)
{
	struct th_ctx *c = w->c;
	(*c->c_refused)++;
	th_warn_limited(c, rl, "refused %s: %s%s%s", w->sock, why, detail ? ": " : "",
			detail ? detail : "");
	wait_free(w, 1);
}

static void hand_over(struct pp_wait *w, const struct sockaddr_storage *ss)
{
	struct th_ctx *c = w->c;
	int fd = w->fd;
	struct sockaddr_storage real = *ss;
	wait_free(w, 0);
	th_srv_take(c, fd, &real);
}

static void wait_read(void *arg, int fd, uint32_t ev)
{
	struct pp_wait *w = arg;
	struct pp_state *ps = w->c->pp_priv;
	struct pp_header h;
	(void)ev;
	ssize_t m = recv(fd, w->b + w->have, sizeof(w->b) - w->have, MSG_PEEK);
	if (m < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (m <= 0) {
		TH_LOG(w->c, TP_LOG_DEBUG, "connection from %s ended before its first bytes%s",
		       w->sock, w->trusted ? " (PROXY header expected)" : "");
		wait_free(w, 1);
		return;
	}
	/* Not trusted, and not the start of a PROXY header: TLS's business. */
	if (!w->trusted && w->have == 0 && w->b[0] != 'P' && w->b[0] != '\r') {
		hand_over(w, &w->ss);
		return;
	}
	size_t total = w->have + (size_t)m;
	enum pp_result r = pp_parse(w->b, total, w->trusted ? (int)w->c->cf->proxy_protocol : PP_ANY, &h);
	if (r == PP_BAD) {
		refuse(w, &ps->rl_bad, w->trusted ? "a trusted proxy sent no valid PROXY header"
		       : "neither TLS nor a valid PROXY header", h.why);
		return;
	}
	if (r == PP_DONE && !w->trusted) {
		refuse(w, &ps->rl_untrusted, "PROXY header from an address not in trusted_proxies", NULL);
		return;
	}
	/* Take exactly the header's bytes out of the socket: all of what
	 * arrived while it is incomplete, up to its end once it is. */
	size_t take = (r == PP_DONE ? h.len : total) - w->have;
	if (take && recv(fd, w->b + w->have, take, 0) != (ssize_t)take) {
		TH_LOG(w->c, TP_LOG_DEBUG, "connection from %s: reading the PROXY header failed", w->sock);
		wait_free(w, 1);
		return;
	}
	w->have += take;
	if (r == PP_MORE)
		return;
	if (h.has_addr) {
		struct sockaddr_storage real;
		th_sockaddr(&real, h.family, h.src, h.src_port);
		hand_over(w, &real);
	} else {
		hand_over(w, &w->ss); /* LOCAL / UNKNOWN: the proxy itself */
	}
}

static void wait_expired(void *arg)
{
	struct pp_wait *w = arg;
	struct pp_state *ps = w->c->pp_priv;
	w->timer = NULL;
	refuse(w, &ps->rl_late, w->trusted ? "no complete PROXY header within handshake_timeout"
	       : "no TLS or PROXY header within handshake_timeout", NULL);
}

/*
 * An address that is not a proxy gets max_handshakes_per_address here
 * too, waiting and handshaking together: idle connections from one
 * address must not fill the waiting list and push out the proxy's.
 */
static int over_budget(struct th_ctx *c, const uint8_t key[16])
{
	struct pp_state *ps = c->pp_priv;
	unsigned from_key = 0, waiting = 0;
	th_budget_handshakes(c, key, &from_key);
	for (struct pp_wait *w = ps->head; w; w = w->next)
		waiting += !w->trusted && memcmp(w->key, key, 16) == 0;
	return from_key + waiting >= (unsigned)c->cf->max_handshakes_per_address;
}

void th_pp_accept(struct th_ctx *c, int fd, const struct sockaddr_storage *ss, const char *sock)
{
	struct pp_state *ps = c->pp_priv;
	struct pp_wait *w;
	uint8_t key[16];
	char a[64];
	int trust = trusted(ps, ss);

	th_peer_key(ss, key);
	/* Plain HTTP (tls = false): only our reverse proxies may talk to
	 * us; anyone else could write X-Forwarded-For, and reaches us
	 * without TLS, so they are refused before a byte is read. */
	if (!c->cf->tls) {
		if (trust) {
			th_srv_take_proxied(c, fd, ss);
			return;
		}
		(*c->c_refused)++;
		th_warn_limited(c, &ps->rl_plain, "refused %s: not in trusted_proxies (tls = false "
				"serves only the reverse proxies)", sock);
		close(fd);
		return;
	}
	if (!trust && over_budget(c, key)) {
		(*c->c_refused)++;
		th_key_str(key, a, sizeof(a));
		th_warn_limited(c, &ps->rl_addr, "refused %s: %s already has %u connections not "
				"logged in (max_handshakes_per_address)", sock, a,
				(unsigned)c->cf->max_handshakes_per_address);
		close(fd);
		return;
	}
	/* Waiting connections hold fds and memory too: within max_handshakes,
	 * the oldest giving way, as handshakes do. */
	if (ps->n_wait >= (unsigned)c->cf->max_handshakes)
		refuse(ps->head, &ps->rl_evict, "waited longest for its first bytes and gives way (max_handshakes)",
		       NULL);
	if (!(w = calloc(1, sizeof(*w))))
		goto fail;
	w->c = c;
	w->fd = fd;
	w->ss = *ss;
	w->trusted = trust;
	memcpy(w->key, key, 16);
	snprintf(w->sock, sizeof(w->sock), "%s", sock);
	if (c->host->fd_add(c->st, fd, TP_FD_READ, wait_read, w) < 0)
		goto fail;
	if (!(w->timer = c->host->timer_add(c->st, (uint64_t)c->cf->handshake_timeout,
					     wait_expired, w))) {
		c->host->fd_del(c->st, fd);
		goto fail;
	}
	w->prev = ps->tail;
	if (ps->tail)
		ps->tail->next = w;
	else
		ps->head = w;
	ps->tail = w;
	ps->n_wait++;
	return;
fail:
	free(w);
	close(fd);
	TH_LOG(c, TP_LOG_ERROR, "cannot set up the connection from %s", sock);
}

void th_pp_stop(struct th_ctx *c)
{
	struct pp_state *ps = c->pp_priv;
	while (ps && ps->head)
		wait_free(ps->head, 1);
}

void th_pp_destroy(struct th_ctx *c)
{
	th_pp_stop(c);
	free(c->pp_priv);
	c->pp_priv = NULL;
}
