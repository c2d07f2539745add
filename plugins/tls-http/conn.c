/*
 * conn.c — one TLS connection of the tls-http plugin.
 *
 * Everything runs on the core's loop with non-blocking sockets: each fd
 * event drives SSL_do_handshake/SSL_read/SSL_write as far as they go and
 * re-registers for what OpenSSL asked for (WANT_READ/WANT_WRITE).
 *
 * Teardown is deferred while a connection is "busy": emit_up() can come
 * back into us (a stage calls session_abort, the core sends
 * TP_EV_CLOSE_REQUEST), and freeing the connection under our own feet
 * would be a use-after-free.  th_conn_close() only marks it; whoever holds
 * the busy count frees it on the way out.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>

static void conn_io(void *arg, int fd, uint32_t ev);

/* Dead-peer detection by the kernel: a client that vanished without a FIN
 * (power loss, a NAT that forgot us) would otherwise hold its session and
 * its address forever.  Probes start after `idle` quiet seconds; unacked
 * data gives up after twice that.  Best effort, like TCP_NODELAY. */
static void conn_keepalive(int fd, int idle)
{
	int on = idle > 0, intvl = idle / 3 > 0 ? idle / 3 : 1, cnt = 3;
	unsigned timeout_ms = (unsigned)idle * 2000u;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	if (!on)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
}

struct th_conn *th_conn_new(struct th_ctx *c, int fd, const char *peer)
{
	struct th_conn *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->ctx = c;
	k->fd = fd;
	/* We coalesce packets into full records ourselves and flush once per
	 * batch; Nagle would only hold the batch's last, partial record back
	 * until the peer ACKs (up to a delayed-ACK timeout with a quiet
	 * peer).  Best effort: a non-TCP socket (tests) refuses it. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_keepalive(fd, (int)c->cf->keepalive);
	snprintf(k->peer, sizeof(k->peer), "%s", peer);
	tp_batch_init(&k->wq);
	/* One byte more than the limit so "exactly at the limit, no end yet"
	 * is distinguishable from "over it". */
	k->head_cap = c->cf->role == TH_SERVER ? (size_t)c->cf->max_request + 1 : 16384;
	k->head = malloc(k->head_cap);
	if (!k->head)
		goto fail;
	k->events = c->cf->role == TH_CLIENT ? TP_FD_WRITE : TP_FD_READ;
	if (c->host->fd_add(c->st, fd, k->events, conn_io, k) < 0)
		goto fail;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->n_conns++;
	return k;
fail:
	free(k->head);
	free(k);
	return NULL;
}

int th_conn_start_tls(struct th_conn *k)
{
	k->ssl = SSL_new(k->ctx->ssl);
	if (!k->ssl || SSL_set_fd(k->ssl, k->fd) != 1)
		return -1;
	if (k->ctx->cf->role == TH_SERVER)
		SSL_set_accept_state(k->ssl);
	else
		SSL_set_connect_state(k->ssl);
	k->state = CS_TLS;
	return 0;
}

/* Release everything; the session (if any) is closed with k->why. */
void th_conn_free(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	if (k->timer)
		c->host->timer_cancel(c->st, k->timer);
	if (k->s)
		c->host->session_close(c->st, k->s, k->why[0] ? k->why : "closed");
	if (k->ssl) {
		/* Best effort close_notify; never wait for the peer's. */
		if (k->state == CS_UP || k->state == CS_CLOSING || k->state == CS_HTTP) {
			ERR_clear_error();
			SSL_shutdown(k->ssl);
		}
		SSL_free(k->ssl);
	}
	ERR_clear_error();
	if (k->fd >= 0) {
		c->host->fd_del(c->st, k->fd);
		close(k->fd);
	}
	c->host->batch_free(c->st, &k->wq);
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->n_conns--;
	if (c->cc == k)
		c->cc = NULL;
	free(k->head);
	free(k);
}

static void conn_finish(struct th_conn *k)
{
	if (k->ctx->cf->role == TH_CLIENT) {
		th_client_failed(k);
		return;
	}
	if (k->state == CS_UP)
		TH_LOG(k->ctx, TP_LOG_INFO, "session %s (%s) closed: %s", k->peer,
		       k->s ? "up" : "-", k->why);
	else if (k->state != CS_CLOSING)
		TH_LOG(k->ctx, TP_LOG_DEBUG, "connection from %s dropped during handshake: %s",
		       k->peer, k->why);
	th_conn_free(k);
}

void th_conn_close(struct th_conn *k, const char *reason)
{
	if (!k->dead) {
		k->dead = 1;
		if (reason != k->why)
			snprintf(k->why, sizeof(k->why), "%s", reason);
	}
	if (!k->busy)
		conn_finish(k);
}

void th_conn_update(struct th_conn *k)
{
	uint32_t want;
	if (k->dead)
		return;
	if (k->state == CS_CONNECTING)
		want = TP_FD_WRITE;
	else
		want = (k->paused ? 0 : TP_FD_READ) | (k->rec_len || k->wq.head || k->io_want_write ? TP_FD_WRITE : 0);
	if (want != k->events && k->ctx->host->fd_mod(k->ctx->st, k->fd, want) == 0)
		k->events = want;
}

/* Read the HTTP head into k->head until OpenSSL has nothing more or the
 * buffer is full.  0 then, or the SSL_get_error() code of a closed or
 * failed connection (what arrived before it is in k->head). */
int th_conn_read_head(struct th_conn *k)
{
	/* Only the last SSL call's wish counts: a stale WANT_WRITE would keep
	 * TP_FD_WRITE registered on an idle socket and spin the loop. */
	k->io_want_write = 0;
	while (k->head_len < k->head_cap) {
		ERR_clear_error();
		errno = 0;
		int n = SSL_read(k->ssl, k->head + k->head_len, (int)(k->head_cap - k->head_len));
		if (n > 0) {
			k->head_len += (size_t)n;
			continue;
		}
		int e = SSL_get_error(k->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			k->io_want_write = 1;
			return 0;
		}
		return e;
	}
	return 0;
}

/*
 * What a queued buffer costs the shared pool: the whole allocation, not its
 * payload.  A 64-byte packet pins a 2 KiB-class buffer, and the pool is
 * bounded for all sessions together: counting payload bytes would let one
 * stuck peer hold ~30 times queue_limit and starve every other session.
 */
static size_t th_buf_cost(const struct tp_buf *b)
{
	return (size_t)(b->end - b->head);
}

int th_conn_flush(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	k->io_want_write = 0;
	for (;;) {
		/* Coalesce queued buffers into one full record: one SSL_write
		 * and one syscall for many small packets. */
		while (!k->rec_len || (k->rec_len < TH_RECORD && k->wq.head && k->state == CS_UP)) {
			struct tp_buf *b = k->wq.head;
			if (!b)
				break;
			size_t take = TH_RECORD - k->rec_len;
			if (take > b->len)
				take = b->len;
			memcpy(k->rec + k->rec_len, b->data, take);
			k->rec_len += take;
			tp_buf_pull(b, take);
			k->wq.bytes -= (uint32_t)take;
			/* The buffer is charged whole (th_conn_queue) until it
			 * goes back to the pool, however much of it is copied. */
			if (!b->len) {
				k->wq_bytes -= th_buf_cost(b);
				c->host->buf_free(c->st, tp_batch_pop(&k->wq));
			}
			if (k->rec_len == TH_RECORD)
				break;
		}
		if (!k->rec_len)
			return 0;
		ERR_clear_error();
		errno = 0;
		int n = SSL_write(k->ssl, k->rec, (int)k->rec_len);
		if (n > 0) {
			*c->c_bytes_out += (uint64_t)n;
			k->rec_len = 0;
			continue;
		}
		switch (SSL_get_error(k->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			k->io_want_write = 1;
			return 0;
		case SSL_ERROR_WANT_READ:
			return 0;
		default:
			th_conn_close(k, th_ssl_errstr());
			return -1;
		}
	}
}

void th_conn_queue(struct th_conn *k, struct tp_batch *q)
{
	struct th_ctx *c = k->ctx;
	struct tp_buf *b;
	while ((b = tp_batch_pop(q))) {
		/* Whole buffers only: dropping part of one would corrupt the
		 * framing of the stream.  rec[] is part of the connection, not
		 * the pool, so only queued buffers count.  An empty queue
		 * takes any one buffer: a 64 KiB-class one (jumbo MTU) costs
		 * more than the smallest queue_limit. */
		size_t cost = th_buf_cost(b);
		if (k->dead || k->state != CS_UP ||
		    (k->wq.head && k->wq_bytes + cost > (size_t)c->cf->queue_limit)) {
			(*c->c_queue_drops)++;
			c->host->buf_free(c->st, b);
			continue;
		}
		k->wq_bytes += cost;
		tp_batch_add(&k->wq, b);
	}
	if (k->state == CS_UP && !k->dead)
		th_conn_flush(k);
}

static void conn_resume(void *arg)
{
	struct th_conn *k = arg;
	k->timer = NULL;
	k->paused = 0;
	conn_io(k, k->fd, TP_FD_READ);
}

/*
 * Read until OpenSSL has nothing more (or the budget is spent, so one busy
 * peer cannot starve the others), then emit everything as one batch.
 *
 * SSL_read hands out at most one record (16 KiB) per call, but pool
 * buffers are usually much larger: each buffer is filled with as many
 * records as fit before the next one is taken.  Fewer, fuller buffers mean
 * fewer pool operations and fewer calls into the stage above per byte.
 */
#define TH_FILL_MIN 2048 /* below this much room, start a new buffer */

#define TH_EMIT_EVERY 8

static void conn_read(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b = NULL;
	const char *err = NULL;
	int budget = TH_READ_BUDGET;
	long again = -1; /* ms until we read again by timer; -1: epoll will tell */

	/* As in th_conn_read_head: set again below if SSL_read still needs
	 * writability, else an idle connection keeps TP_FD_WRITE and spins. */
	k->io_want_write = 0;

	while (budget-- > 0) {
		if (!b && !(b = c->host->buf_alloc(c->st, TH_RECORD))) {
			/* pool limit: let the pipeline drain, come back soon */
			again = 10;
			k->paused = 1; /* level-triggered epoll would spin */
			break;
		}
		size_t room = tp_buf_tailroom(b);
		if (room > 65536)
			room = 65536;
		ERR_clear_error();
		errno = 0;
		int n = SSL_read(k->ssl, b->data + b->len, (int)room);
		if (n > 0) {
			tp_buf_put(b, (size_t)n);
			*c->c_bytes_in += (uint64_t)n;
			if (tp_buf_tailroom(b) < TH_FILL_MIN) {
				tp_batch_add(&q, b);
				b = NULL;
				/* Hand on every few buffers: the same few stay
				 * warm in the pool instead of a busy peer pinning
				 * hundreds of 64 KiB buffers before one emit. */
				if (q.count == TH_EMIT_EVERY)
					c->host->emit_up(c->st, k->s, &q);
			}
			continue;
		}
		int e = SSL_get_error(k->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			k->io_want_write = 1;
		else if (e == SSL_ERROR_ZERO_RETURN)
			err = "peer closed the connection";
		else if (e != SSL_ERROR_WANT_READ)
			err = th_ssl_errstr();
		break;
	}
	if (b && b->len) /* a partly filled buffer still goes up now */
		tp_batch_add(&q, b);
	else if (b)
		c->host->buf_free(c->st, b);
	if (budget < 0)
		again = 0; /* OpenSSL may hold decrypted data epoll cannot see */
	if (again >= 0 && !k->timer && !err)
		k->timer = c->host->timer_add(c->st, (uint64_t)again, conn_resume, k);
	if (q.count)
		c->host->emit_up(c->st, k->s, &q);
	if (err)
		th_conn_close(k, err);
}

static void conn_timeout(void *arg)
{
	struct th_conn *k = arg;
	k->timer = NULL;
	th_conn_close(k, "handshake timed out");
}

int th_conn_arm_timeout(struct th_conn *k, uint64_t ms)
{
	k->timer = k->ctx->host->timer_add(k->ctx->st, ms, conn_timeout, k);
	return k->timer ? 0 : -1;
}

void th_conn_established(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	k->state = CS_UP;
	k->up_since = c->host->now_ms(c->st);
	if (k->timer) {
		c->host->timer_cancel(c->st, k->timer);
		k->timer = NULL;
	}
}

/* Stream bytes that came in the same read as the handshake head. */
void th_conn_push_up(struct th_conn *k, const char *extra, size_t extra_len)
{
	struct th_ctx *c = k->ctx;
	struct tp_batch q = TP_BATCH_INIT;
	while (extra_len) {
		struct tp_buf *b = c->host->buf_alloc(c->st, extra_len);
		if (!b) {
			th_conn_close(k, "out of buffers for early data");
			break;
		}
		size_t n = tp_buf_tailroom(b) < extra_len ? tp_buf_tailroom(b) : extra_len;
		memcpy(tp_buf_put(b, n), extra, n);
		extra += n;
		extra_len -= n;
		*c->c_bytes_in += n;
		tp_batch_add(&q, b);
	}
	if (q.count)
		c->host->emit_up(c->st, k->s, &q);
}

static void tls_step(struct th_conn *k)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(k->ssl);
	if (r == 1) {
		k->state = CS_HTTP;
		k->head_len = 0;
		if (k->ctx->cf->role == TH_CLIENT)
			th_client_tls_done(k);
		return;
	}
	int e = SSL_get_error(k->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		k->io_want_write = 0;
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		k->io_want_write = 1;
		return;
	}
	long vr = SSL_get_verify_result(k->ssl);
	if (k->ctx->cf->role == TH_CLIENT && vr != X509_V_OK)
		snprintf(k->why, sizeof(k->why), "certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
	else
		snprintf(k->why, sizeof(k->why), "TLS handshake failed: %s", th_ssl_errstr());
	th_conn_close(k, k->why);
}

/* In CS_CLOSING we only flush the answer; whatever the peer still sends is
 * read and thrown away so a level-triggered loop does not spin. */
static void closing_step(struct th_conn *k)
{
	if (th_conn_flush(k) < 0)
		return;
	if (!k->rec_len) {
		th_conn_close(k, k->why);
		return;
	}
	ERR_clear_error();
	while (SSL_read(k->ssl, k->head, (int)k->head_cap) > 0)
		;
	ERR_clear_error();
}

static void conn_io(void *arg, int fd, uint32_t ev)
{
	struct th_conn *k = arg;
	int iter = 0;
	(void)fd;
	k->busy++;
	enum th_state before;
	do { /* run on while a step moves to the next state */
		before = k->state;
		iter++;
		switch (k->state) {
		case CS_CONNECTING:
			th_client_connected(k);
			break;
		case CS_TLS:
			tls_step(k);
			break;
		case CS_HTTP:
			if (k->rec_len && th_conn_flush(k) < 0)
				break;
			if (k->ctx->cf->role == TH_SERVER)
				th_server_http(k);
			else
				th_client_http(k);
			break;
		case CS_UP:
			/* Just established: OpenSSL may already hold stream data. */
			if (iter > 1 || ev & (TP_FD_READ | TP_FD_ERROR) || k->io_want_write)
				conn_read(k);
			if (!k->dead && (k->rec_len || k->wq.head))
				th_conn_flush(k);
			break;
		case CS_CLOSING:
			closing_step(k);
			break;
		}
	} while (!k->dead && k->state != before);
	k->busy--;
	if (k->dead) {
		if (!k->busy)
			conn_finish(k);
		return;
	}
	th_conn_update(k);
}

/* Entry for code outside an fd callback (down(), events) that may close. */
void th_conn_enter(struct th_conn *k) { k->busy++; }
void th_conn_leave(struct th_conn *k)
{
	if (--k->busy == 0 && k->dead)
		conn_finish(k);
	else if (!k->busy)
		th_conn_update(k);
}
