/* SPDX-License-Identifier: MIT */
/*
 * srv.c — one-request servers on the loop (see srv.h).
 *
 * The answer is built in full as soon as the request is complete, from
 * the state of that moment, so a client that reads slowly holds only its
 * own copy of the text and never a pointer into sessions that may end
 * meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "srv.h"

void tp_sbuf_init(struct tp_sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int sbuf_room(struct tp_sbuf *b, size_t n)
{
	if (b->failed)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (b->max && cap > b->max)
		cap = b->max;
	char *p = cap >= b->len + n + 1 ? realloc(b->p, cap) : NULL;
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void tp_sbuf_put(struct tp_sbuf *b, const char *s, size_t n)
{
	if (sbuf_room(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void tp_sbuf_printf(struct tp_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		tp_sbuf_put(b, small, (size_t)n);
		return;
	}
	if (sbuf_room(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void tp_sbuf_reset(struct tp_sbuf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->p)
		b->p[0] = 0;
}

void tp_sbuf_free(struct tp_sbuf *b)
{
	free(b->p);
	tp_sbuf_init(b, b->max);
}

struct cli {
	struct cli *next, *prev;
	struct tp_srv *srv;
	int fd;
	struct tp_timer *timer;
	char *req;
	size_t rlen;
	struct tp_sbuf out;
	size_t woff;
	int answering;
	int draining;
	char who[64];
};

/* The loop is single-threaded: one request is handled at a time. */
static const char *requester = "";

const char *tp_srv_requester(void)
{
	return requester;
}

/* Name the client: its credentials on a unix socket, else its address. */
static void describe(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	char host[INET6_ADDRSTRLEN] = "?";

	buf[0] = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			snprintf(buf, len, "uid %u pid %d", (unsigned)cr.uid, (int)cr.pid);
		return;
	}
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	}
}

struct tp_srv {
	struct tp_loop *loop;
	int lfd;
	char name[64];
	struct tp_srv_limits lim;
	tp_srv_handler h;
	void *arg;
	struct cli *clients;
	int nclients;
	unsigned refused;
	struct tp_timer *paused; /* accept failed (out of fds): retry later */
};

static void cli_free(struct cli *c)
{
	struct tp_srv *s = c->srv;

	tp_loop_fd_del(s->loop, c->fd);
	close(c->fd);
	if (c->timer)
		tp_loop_timer_cancel(s->loop, c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	tp_sbuf_free(&c->out);
	free(c->req);
	free(c);
}

static void cli_timeout(void *arg)
{
	struct cli *c = arg;

	c->timer = NULL; /* fired: the loop frees it */
	if (!c->draining)
		tp_log(TP_LOG_DEBUG, c->srv->name, "client too slow (%d ms): closed", c->srv->lim.timeout_ms);
	cli_free(c);
}

/* Write what the socket takes; 1 when all is written, -1 on error. */
static int cli_write(struct cli *c)
{
	while (c->woff < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->woff, c->out.len - c->woff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->woff += (size_t)n;
	}
	return 1;
}

static void cli_drain(struct cli *c);

static void cli_read(struct cli *c)
{
	struct tp_srv *s = c->srv;

	for (;;) {
		ssize_t n = recv(c->fd, c->req + c->rlen, s->lim.max_request - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* gone before asking anything complete */
			cli_free(c);
			return;
		}
		c->rlen += (size_t)n;
		c->req[c->rlen] = 0;
		int full = c->rlen == s->lim.max_request;
		requester = c->who;
		int done = s->h(s->arg, c->req, c->rlen, full, &c->out);
		requester = "";
		if (done || full)
			break;
	}
	/* The answer is complete: nothing more is read from this client. */
	c->answering = 1;
	if (c->out.failed) {
		tp_log(TP_LOG_WARN, s->name, "answer larger than %zu bytes or out of memory: dropped",
		       s->lim.max_answer);
		cli_free(c);
		return;
	}
	int rc = cli_write(c);
	if (rc < 0)
		cli_free(c);
	else if (rc > 0)
		cli_drain(c);
	else if (tp_loop_fd_mod(s->loop, c->fd, TP_FD_WRITE) < 0)
		cli_free(c);
}

/* The answer is out: send our FIN, then read and discard until the
 * client's (within the timeout).  Closing with unread bytes in the socket
 * would send a reset that can destroy the answer before it is read. */
static void cli_drain(struct cli *c)
{
	char junk[512];

	if (!c->draining) {
		c->draining = 1;
		shutdown(c->fd, SHUT_WR);
		if (tp_loop_fd_mod(c->srv->loop, c->fd, TP_FD_READ) < 0) {
			cli_free(c);
			return;
		}
	}
	for (;;) {
		ssize_t n = recv(c->fd, junk, sizeof(junk), 0);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		cli_free(c);
		return;
	}
}

static void cli_cb(void *arg, int fd, uint32_t ev)
{
	struct cli *c = arg;
	int rc;
	(void)fd;

	if (c->draining) {
		cli_drain(c);
	} else if (c->answering) {
		if ((ev & TP_FD_ERROR) || (rc = cli_write(c)) < 0)
			cli_free(c);
		else if (rc > 0)
			cli_drain(c);
	} else {
		cli_read(c);
	}
}

static void accept_cb(void *arg, int fd, uint32_t ev);

static void resume(void *arg)
{
	struct tp_srv *s = arg;

	s->paused = NULL; /* fired: the loop frees it */
	if (tp_loop_fd_add(s->loop, s->lfd, TP_FD_READ, accept_cb, s) < 0)
		tp_log(TP_LOG_ERROR, s->name, "cannot watch the listening socket again: no more connections");
}

static void accept_cb(void *arg, int fd, uint32_t ev)
{
	struct tp_srv *s = arg;
	(void)ev;

	/* A bounded number per wakeup, so a flood cannot hold the loop. */
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
				return;
			/* Out of fds, say: the listener stays readable, so
			 * retrying at once would spin.  Pause it a second. */
			tp_log(TP_LOG_WARN, s->name, "accept: %s; not accepting for 1 s", strerror(errno));
			tp_loop_fd_del(s->loop, fd);
			if (!(s->paused = tp_loop_timer_add(s->loop, 1000, resume, s)))
				tp_log(TP_LOG_ERROR, s->name, "cannot schedule the resume: no more connections");
			return;
		}
		if (s->nclients >= s->lim.max_clients) {
			if (s->refused++ % 100 == 0)
				tp_log(TP_LOG_WARN, s->name, "%d clients at once: connection refused (%u so far)",
				       s->lim.max_clients, s->refused);
			close(cfd);
			continue;
		}
		struct cli *c = calloc(1, sizeof(*c));
		if (!c || !(c->req = malloc(s->lim.max_request + 1)) ||
		    tp_loop_fd_add(s->loop, cfd, TP_FD_READ, cli_cb, c) < 0) {
			if (c)
				free(c->req);
			free(c);
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		describe(cfd, c->who, sizeof(c->who));
		tp_sbuf_init(&c->out, s->lim.max_answer);
		c->next = s->clients;
		if (c->next)
			c->next->prev = c;
		s->clients = c;
		s->nclients++;
		c->timer = tp_loop_timer_add(s->loop, (uint64_t)s->lim.timeout_ms, cli_timeout, c);
		if (!c->timer)
			cli_free(c);
	}
}

struct tp_srv *tp_srv_new(struct tp_loop *loop, int lfd, const char *name,
			  const struct tp_srv_limits *lim, tp_srv_handler h, void *arg)
{
	struct tp_srv *s = calloc(1, sizeof(*s));

	if (!s)
		goto fail;
	s->loop = loop;
	s->lfd = lfd;
	s->lim = *lim;
	s->h = h;
	s->arg = arg;
	snprintf(s->name, sizeof(s->name), "%s", name);
	int fl = fcntl(lfd, F_GETFL);
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    tp_loop_fd_add(loop, lfd, TP_FD_READ, accept_cb, s) < 0)
		goto fail;
	return s;
fail:
	close(lfd);
	free(s);
	return NULL;
}

void tp_srv_free(struct tp_srv *s)
{
	if (!s)
		return;
	while (s->clients)
		cli_free(s->clients);
	if (s->paused)
		tp_loop_timer_cancel(s->loop, s->paused);
	else
		tp_loop_fd_del(s->loop, s->lfd);
	close(s->lfd);
	free(s);
}
