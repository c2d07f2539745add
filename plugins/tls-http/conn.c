/* SPDX-License-Identifier: MIT */
/*
 * conn.c — a TLS byte stream's life: socket set-up, the connect and TLS
 * handshake steps, the fd callback that drives every state, deadlines,
 * close and teardown (see conn.h).  The read and write paths below it
 * are in conn-io.c, which never calls back up here.
 *
 * Everything runs on the core's loop with non-blocking sockets: each fd
 * event drives SSL_do_handshake/SSL_read/SSL_write as far as they go and
 * re-registers for what OpenSSL asked for (WANT_READ/WANT_WRITE).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/x509.h>

static void conn_resume(void *arg);
static void conn_io(void *arg, int fd, uint32_t ev);

/* Dead-peer detection by the kernel: a peer that vanished without a FIN
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

static int start_tls(struct th_conn *k, int accept)
{
	k->ssl = SSL_new(k->env->ssl);
	if (!k->ssl || SSL_set_fd(k->ssl, k->fd) != 1)
		return -1;
	if (accept)
		SSL_set_accept_state(k->ssl);
	else
		SSL_set_connect_state(k->ssl);
	if (k->ops->prepare && k->ops->prepare(k, k->ssl) != 0)
		return -1;
	k->state = CS_TLS;
	return 0;
}

static struct th_conn *conn_new(const struct th_conn_env *env, int fd, const char *peer,
				const struct th_conn_ops *ops, void *owner, int accept)
{
	struct th_conn *k = calloc(1, sizeof(*k));
	if (!k)
		goto fail;
	k->env = env;
	k->ops = ops;
	k->owner = owner;
	k->fd = fd;
	/* We coalesce packets into full records ourselves and flush once per
	 * batch; Nagle would only hold the batch's last, partial record back
	 * until the peer ACKs (up to a delayed-ACK timeout with a quiet
	 * peer).  Best effort: a non-TCP socket (tests) refuses it. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_keepalive(fd, env->keepalive);
	snprintf(k->peer, sizeof(k->peer), "%s", peer);
	tp_batch_init(&k->wq);
	k->state = CS_CONNECTING;
	k->plain = accept && env->plain;
	if (k->plain)
		k->state = CS_TLS; /* passes at the first event (tls_step) */
	else if (accept && start_tls(k, 1) < 0)
		goto fail_ssl;
	k->events = accept ? TP_FD_READ : TP_FD_WRITE;
	if (env->host->fd_add(env->st, fd, k->events, conn_io, k) < 0)
		goto fail_ssl;
	return k;
fail_ssl:
	SSL_free(k->ssl);
	ERR_clear_error();
	free(k);
fail:
	close(fd);
	return NULL;
}

struct th_conn *th_conn_accept(const struct th_conn_env *env, int fd, const char *peer,
			       const struct th_conn_ops *ops, void *owner)
{
	return conn_new(env, fd, peer, ops, owner, 1);
}

struct th_conn *th_conn_connect(const struct th_conn_env *env, int fd, const char *peer,
				const struct th_conn_ops *ops, void *owner)
{
	return conn_new(env, fd, peer, ops, owner, 0);
}

void th_conn_set_frames(struct th_conn *k, int on) { k->frames = on != 0; }

void th_conn_free(struct th_conn *k)
{
	const struct th_conn_env *env = k->env;
	if (k->timer)
		env->host->timer_cancel(env->st, k->timer);
	if (k->ssl) {
		/* Best effort close_notify; never wait for the peer's. */
		if (k->state == CS_OPEN || k->state == CS_CLOSING || k->state == CS_SECURE) {
			ERR_clear_error();
			SSL_shutdown(k->ssl);
		}
		SSL_free(k->ssl);
	}
	ERR_clear_error();
	if (k->fd >= 0) {
		env->host->fd_del(env->st, k->fd);
		close(k->fd);
	}
	if (k->stall_timer)
		env->host->timer_cancel(env->st, k->stall_timer);
	if (env->queued_total)
		*env->queued_total -= k->wq_bufs;
	k->wq_bufs = 0;
	env->host->batch_free(env->st, &k->wq);
	if (k->wipe)
		explicit_bzero(k->rec, sizeof(k->rec));
	free(k);
}

void th_conn_close(struct th_conn *k, const char *reason)
{
	if (!k->dead) {
		k->dead = 1;
		if (reason != k->why)
			snprintf(k->why, sizeof(k->why), "%s", reason);
	}
	if (!k->busy)
		k->ops->closed(k);
}

static void conn_update(struct th_conn *k)
{
	uint32_t want;
	if (k->dead)
		return;
	if (k->state == CS_CONNECTING)
		want = TP_FD_WRITE;
	else
		want = (k->paused ? 0 : TP_FD_READ) |
		       (k->rec_len || k->wq.head || k->io_want_write ? TP_FD_WRITE : 0);
	if (want != k->events && k->env->host->fd_mod(k->env->st, k->fd, want) == 0)
		k->events = want;
}

static void conn_timeout(void *arg)
{
	struct th_conn *k = arg;
	k->timer = NULL;
	th_conn_close(k, k->expiry);
}

int th_conn_deadline(struct th_conn *k, uint64_t ms, const char *reason)
{
	k->expiry = reason;
	k->timer = k->env->host->timer_add(k->env->st, ms, conn_timeout, k);
	return k->timer ? 0 : -1;
}

void th_conn_open(struct th_conn *k)
{
	const struct th_conn_env *env = k->env;
	k->state = CS_OPEN;
	k->open_since = env->host->now_ms(env->st);
	if (k->timer) {
		env->host->timer_cancel(env->st, k->timer);
		k->timer = NULL;
	}
}

void th_conn_linger(struct th_conn *k, const char *reason)
{
	snprintf(k->why, sizeof(k->why), "%s", reason);
	k->state = CS_CLOSING;
}

int th_conn_flush(struct th_conn *k)
{
	const char *err = NULL;
	if (th_conn_write(k, &err) == 0)
		return 0;
	th_conn_close(k, err);
	return -1;
}

static void stall_check(struct th_conn *k);

static void stall_fired(void *arg)
{
	struct th_conn *k = arg;
	k->stall_timer = NULL;
	stall_check(k);
}

/* Data is waiting: a peer that reads (th_conn_write resets the clock) may
 * be slow; one that has read nothing for stall_ms holds its share of the
 * pool and its tunnel address for nothing, so it goes.  Checked when more
 * data comes and by a timer, for a peer that stops while we fall silent. */
static void stall_check(struct th_conn *k)
{
	const struct th_conn_env *env = k->env;
	if (!env->stall_ms || k->dead || k->state != CS_OPEN)
		return;
	if (!k->rec_len && !k->wq.head) {
		k->stalled_since = 0;
		return;
	}
	uint64_t now = env->host->now_ms(env->st);
	if (!k->stalled_since)
		k->stalled_since = now;
	uint64_t waited = now - k->stalled_since;
	if (waited >= env->stall_ms) {
		char why[80];
		if (env->c_stalled)
			(*env->c_stalled)++;
		snprintf(why, sizeof(why), "peer read nothing for %llu ms (stall_timeout)",
			 (unsigned long long)waited);
		th_conn_close(k, why);
	} else if (!k->stall_timer) {
		k->stall_timer = env->host->timer_add(env->st, env->stall_ms - waited, stall_fired, k);
	}
}

void th_conn_queue(struct th_conn *k, struct tp_batch *q)
{
	th_conn_admit(k, q);
	if (k->state == CS_OPEN && !k->dead && th_conn_flush(k) == 0)
		stall_check(k);
}

/* Stream data: read what there is, hand it on; come back by timer when
 * the pool ran dry or the read budget was spent. */
static void read_data(struct th_conn *k)
{
	long again;
	const char *err = th_conn_read_batch(k, &again);
	if (again >= 0 && !k->timer && !err && !k->dead)
		k->timer = k->env->host->timer_add(k->env->st, (uint64_t)again, conn_resume, k);
	if (err)
		th_conn_close(k, err);
}

void th_conn_push(struct th_conn *k, const char *data, size_t len)
{
	const struct th_conn_env *env = k->env;
	struct tp_batch q = TP_BATCH_INIT;
	while (len) {
		struct tp_buf *b = env->host->buf_alloc(env->st, len);
		if (!b) {
			th_conn_close(k, "out of buffers for early data");
			break;
		}
		size_t n = tp_buf_tailroom(b) < len ? tp_buf_tailroom(b) : len;
		memcpy(tp_buf_put(b, n), data, n);
		data += n;
		len -= n;
		*env->c_bytes_in += n;
		tp_batch_add(&q, b);
	}
	if (q.count)
		k->ops->data(k, &q);
}

static void conn_resume(void *arg)
{
	struct th_conn *k = arg;
	k->timer = NULL;
	k->paused = 0;
	conn_io(k, k->fd, TP_FD_READ);
}

/* The non-blocking connect finished, well or not. */
static void connect_step(struct th_conn *k)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(k->why, sizeof(k->why), "connect: %s", strerror(soerr));
		th_conn_close(k, k->why);
		return;
	}
	if (start_tls(k, 0) < 0) {
		snprintf(k->why, sizeof(k->why), "TLS setup: %s", th_ssl_errstr());
		th_conn_close(k, k->why);
	}
}

static void tls_step(struct th_conn *k)
{
	if (k->plain) {
		k->state = CS_SECURE;
		k->ops->secure(k);
		return;
	}
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(k->ssl);
	if (r == 1) {
		k->state = CS_SECURE;
		k->ops->secure(k);
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
	/* Only the connecting side verifies a certificate here. */
	long vr = SSL_get_verify_result(k->ssl);
	if (!SSL_is_server(k->ssl) && vr != X509_V_OK)
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
	char sink[4096];
	int e;
	if (th_conn_flush(k) < 0)
		return;
	if (!k->rec_len) {
		th_conn_close(k, k->why);
		return;
	}
	ERR_clear_error();
	while (th_conn_rd(k, sink, (int)sizeof(sink), &e) > 0)
		;
	ERR_clear_error();
}

static void conn_io(void *arg, int fd, uint32_t ev)
{
	struct th_conn *k = arg;
	int iter = 0;
	(void)fd;
	k->busy++;
	enum th_conn_state before;
	do { /* run on while a step moves to the next state */
		before = k->state;
		iter++;
		switch (k->state) {
		case CS_CONNECTING:
			connect_step(k);
			break;
		case CS_TLS:
			tls_step(k);
			break;
		case CS_SECURE:
			if (k->rec_len && th_conn_flush(k) < 0)
				break;
			if (!k->rec_len)
				k->ops->input(k);
			break;
		case CS_OPEN:
			/* Just opened: OpenSSL may already hold stream data. */
			if (iter > 1 || ev & (TP_FD_READ | TP_FD_ERROR) || k->io_want_write)
				read_data(k);
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
			k->ops->closed(k);
		return;
	}
	conn_update(k);
}

/* Entry for code outside an fd callback (down(), events) that may close. */
void th_conn_enter(struct th_conn *k) { k->busy++; }
void th_conn_leave(struct th_conn *k)
{
	if (--k->busy == 0 && k->dead)
		k->ops->closed(k);
	else if (!k->busy)
		conn_update(k);
}
