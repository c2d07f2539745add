/* SPDX-License-Identifier: MIT */
/*
 * link.c — a link: one TLS stream (conn.h) on its way to being a session,
 * and the session once it is.  The stream's callbacks land here and go on
 * through the instance's tables: the handshake table while the stream is
 * secure but not open, the pipeline (emit_up) once it is, the role table
 * when it ends.  Nothing here knows which role or protocol runs.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <stdlib.h>
#include <unistd.h>

static int link_prepare(struct th_conn *k, SSL *ssl)
{
	struct th_link *l = k->owner;
	return l->ctx->role->prepare ? l->ctx->role->prepare(l, ssl) : 0;
}

static void link_secure(struct th_conn *k)
{
	struct th_link *l = k->owner;
	l->head_len = 0;
	l->ctx->hs->begin(l);
}

static void link_input(struct th_conn *k)
{
	struct th_link *l = k->owner;
	l->ctx->hs->step(l);
}

static void link_data(struct th_conn *k, struct tp_batch *q)
{
	struct th_link *l = k->owner;
	l->ctx->host->emit_up(l->ctx->st, l->s, q);
}

static void link_closed(struct th_conn *k)
{
	struct th_link *l = k->owner;
	l->ctx->role->closed(l);
}

static const struct th_conn_ops link_ops = {
	.prepare = link_prepare,
	.secure = link_secure,
	.input = link_input,
	.data = link_data,
	.closed = link_closed,
};

static struct th_link *link_new(struct th_ctx *c, int fd, const char *peer, size_t head_cap,
				int accept)
{
	struct th_link *l = calloc(1, sizeof(*l));
	if (!l || !(l->head = malloc(head_cap))) {
		free(l);
		close(fd); /* the link's from now on */
		return NULL;
	}
	l->ctx = c;
	l->head_cap = head_cap;
	l->io = accept ? th_conn_accept(&c->env, fd, peer, &link_ops, l)
		       : th_conn_connect(&c->env, fd, peer, &link_ops, l);
	if (!l->io) {
		free(l->head);
		free(l);
		return NULL;
	}
	l->next = c->links;
	if (c->links)
		c->links->prev = l;
	c->links = l;
	c->n_links++;
	return l;
}

struct th_link *th_link_accept(struct th_ctx *c, int fd, const char *peer, size_t head_cap)
{
	return link_new(c, fd, peer, head_cap, 1);
}

struct th_link *th_link_connect(struct th_ctx *c, int fd, const char *peer, size_t head_cap)
{
	return link_new(c, fd, peer, head_cap, 0);
}

/* The server's handshake deadline (server.c) ends with the handshake. */
static void link_disarm(struct th_link *l)
{
	if (l->hs_timer) {
		l->ctx->host->timer_cancel(l->ctx->st, l->hs_timer);
		l->hs_timer = NULL;
	}
}

void th_link_free(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	link_disarm(l);
	if (!l->s && c->hs->drop)
		c->hs->drop(l);
	if (l->s)
		c->host->session_close(c->st, l->s, l->io->why[0] ? l->io->why : "closed");
	th_conn_free(l->io);
	if (l->prev)
		l->prev->next = l->next;
	else
		c->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	c->n_links--;
	free(l->head);
	free(l);
}

int th_link_attach(struct th_link *l, struct tp_session *s, const struct tp_session_info *info)
{
	struct th_ctx *c = l->ctx;
	l->s = s;
	link_disarm(l);
	th_conn_open(l->io);
	if (th_conn_flush(l->io) < 0)
		return -1;
	if (c->host->session_up(c->st, s, info) < 0) {
		th_conn_close(l->io, "session_up refused");
		return -1;
	}
	(*c->c_sessions)++;
	return 0;
}

struct th_link *th_link_of(struct th_ctx *c, struct tp_session *s)
{
	if (s)
		return c->host->session_tag(s);
	return c->role->lone_link ? c->role->lone_link(c) : NULL;
}

int th_link_read_head(struct th_link *l)
{
	return th_conn_read(l->io, l->head, l->head_cap, &l->head_len);
}
