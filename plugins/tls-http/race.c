/* SPDX-License-Identifier: MIT */
/*
 * race.c — Happy Eyeballs for the client's TCP connect (RFC 8305, the
 * connection part): the resolved addresses are tried in an order that
 * alternates IPv6 and IPv4 (the family getaddrinfo put first leads), a new
 * attempt starts every `stagger` ms — or at once when one fails — while the
 * earlier ones keep going, and the first connect() to complete wins; the
 * others are closed.  So an IPv6 address whose packets vanish costs
 * `stagger` ms instead of a whole connect timeout, and a working address
 * late in the list is reached without waiting for each before it.
 *
 * Only the TCP connect races: TLS and the upgrade run once, on the winner
 * (racing TLS would double the server's work for every client).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "race.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RACE_MAX 16 /* addresses tried per attempt; more are ignored */

struct th_race_leg {
	struct th_race *r;
	const struct addrinfo *ai;
	int fd;            /* -1: not started, or done */
	char peer[64];
};

struct th_race {
	struct th_ctx *c;
	th_race_done_fn done;
	struct th_race_leg legs[RACE_MAX];
	unsigned n, started, live;
	uint64_t stagger;
	struct tp_timer *step;     /* the next attempt's start */
	struct tp_timer *deadline; /* the whole race */
	char why[200];             /* the last failure, for the report */
	const char *label;         /* "" or "proxy ", for the log lines */
};

static void start_next(struct th_race *r);

static void leg_close(struct th_race_leg *g)
{
	struct th_ctx *c = g->r->c;
	if (g->fd < 0)
		return;
	c->host->fd_del(c->st, g->fd);
	close(g->fd);
	g->fd = -1;
	g->r->live--;
}

static void race_free(struct th_race *r)
{
	struct th_ctx *c = r->c;
	for (unsigned i = 0; i < r->n; i++)
		leg_close(&r->legs[i]);
	if (r->step)
		c->host->timer_cancel(c->st, r->step);
	if (r->deadline)
		c->host->timer_cancel(c->st, r->deadline);
	free(r);
}

/* The race is over: report once and free everything. */
static void finish(struct th_race *r, int fd, const char *peer, const char *why)
{
	struct th_ctx *c = r->c;
	th_race_done_fn done = r->done;
	char p[64], w[200];
	snprintf(p, sizeof(p), "%s", peer ? peer : "");
	snprintf(w, sizeof(w), "%s", why ? why : "");
	race_free(r);
	done(c, fd, p, w);
}

static void lost(struct th_race_leg *g, const char *why)
{
	struct th_race *r = g->r;
	TH_LOG(r->c, TP_LOG_WARN, "cannot connect to %s: %s", g->peer, why);
	snprintf(r->why, sizeof(r->why), "%s: %s", g->peer, why);
	leg_close(g);
	/* A failure frees a slot at once: no reason to wait for the stagger. */
	if (r->started < r->n) {
		start_next(r);
		return;
	}
	if (!r->live)
		finish(r, -1, NULL, r->why);
}

static void on_io(void *arg, int fd, uint32_t events)
{
	struct th_race_leg *g = arg;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr == EINPROGRESS || soerr == EALREADY)
		return;
	if (soerr) {
		lost(g, strerror(soerr));
		return;
	}
	/* Won: the fd leaves the loop and the race; the caller registers it. */
	struct th_race *r = g->r;
	struct th_ctx *c = r->c;
	c->host->fd_del(c->st, fd);
	g->fd = -1;
	r->live--;
	finish(r, fd, g->peer, NULL); /* it copies the name before freeing g */
}

static void on_step(void *arg)
{
	struct th_race *r = arg;
	r->step = NULL;
	start_next(r);
}

static void on_deadline(void *arg)
{
	struct th_race *r = arg;
	r->deadline = NULL;
	for (unsigned i = 0; i < r->n; i++)
		if (r->legs[i].fd >= 0)
			TH_LOG(r->c, TP_LOG_WARN, "cannot connect to %s: connect timed out",
			       r->legs[i].peer);
	finish(r, -1, NULL, "connect timed out");
}

/* Start the next address (those that fail at once are skipped), and plan
 * the one after it. */
static void start_next(struct th_race *r)
{
	struct th_ctx *c = r->c;
	while (r->started < r->n) {
		struct th_race_leg *g = &r->legs[r->started++];
		TH_LOG(c, TP_LOG_INFO, "connecting to %s%s", r->label, g->peer);
		int fd = socket(g->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || (connect(fd, g->ai->ai_addr, g->ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
			int e = errno;
			TH_LOG(c, TP_LOG_WARN, "cannot connect to %s: %s", g->peer, strerror(e));
			snprintf(r->why, sizeof(r->why), "%s: %s", g->peer, strerror(e));
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (c->host->fd_add(c->st, fd, TP_FD_WRITE, on_io, g) < 0) {
			close(fd);
			snprintf(r->why, sizeof(r->why), "cannot watch the connection to %s", g->peer);
			continue;
		}
		g->fd = fd;
		r->live++;
		if (r->started < r->n) {
			if (r->step)
				c->host->timer_cancel(c->st, r->step);
			r->step = c->host->timer_add(c->st, r->stagger, on_step, r);
		}
		return;
	}
	if (!r->live)
		finish(r, -1, NULL, r->why[0] ? r->why : "no address to connect to");
}

/* RFC 8305 section 4: interleave the families, the first one first. */
static unsigned order(const struct addrinfo *list, const struct addrinfo **out)
{
	const struct addrinfo *a[RACE_MAX], *b[RACE_MAX];
	unsigned na = 0, nb = 0, n = 0;
	int first = list ? list->ai_family : 0;
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_family == first) {
			if (na < RACE_MAX)
				a[na++] = ai;
		} else if (nb < RACE_MAX) {
			b[nb++] = ai;
		}
	}
	for (unsigned i = 0; n < RACE_MAX && (i < na || i < nb); i++) {
		if (i < na)
			out[n++] = a[i];
		if (i < nb && n < RACE_MAX)
			out[n++] = b[i];
	}
	return n;
}

int th_race_start(struct th_ctx *c, const struct addrinfo *list, const char *label, uint64_t stagger_ms, uint64_t total_ms, th_race_done_fn done,
		  struct th_race **out)
{
	const struct addrinfo *ord[RACE_MAX];
	struct th_race *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->c = c;
	r->done = done;
	r->stagger = stagger_ms;
	r->label = label ? label : "";
	r->n = order(list, ord);
	for (unsigned i = 0; i < r->n; i++) {
		struct th_race_leg *g = &r->legs[i];
		const struct addrinfo *ai = ord[i];
		g->r = r;
		g->ai = ai;
		g->fd = -1;
		/* getaddrinfo was given the port: the address carries it */
		th_peer_name((const struct sockaddr_storage *)(const void *)ai->ai_addr, g->peer,
			     sizeof(g->peer));
	}
	r->deadline = c->host->timer_add(c->st, total_ms, on_deadline, r);
	if (!r->deadline) {
		free(r);
		return -1;
	}
	/* The handle first: when every address fails at once, done() runs
	 * inside start_next and may clear it. */
	*out = r;
	start_next(r);
	return 0;
}

void th_race_cancel(struct th_race *r)
{
	if (r)
		race_free(r);
}
