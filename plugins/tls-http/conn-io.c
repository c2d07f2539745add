/* SPDX-License-Identifier: MIT */
/*
 * conn-io.c — a TLS byte stream's read and write paths (see conn.h):
 * handshake-phase reads into the owner's buffer, stream reads into pool
 * buffers, the bounded write queue and its two write modes (coalesced
 * records, or one record per buffer).  The layer below conn.c: nothing
 * here closes the stream or arms a timer; failures are returned, and
 * conn.c decides.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

/*
 * The one OpenSSL error formatter of the plugin.  The earliest queued
 * error is the root cause ("no start line", "wrong version number"); later
 * ones only add context.  With an empty queue a failed socket call left
 * errno; with neither, the peer simply closed.  Clears the queue so the
 * next call starts clean.
 */
const char *th_ssl_errstr(void)
{
	static char buf[256];
	unsigned long e = ERR_peek_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else if (errno)
		snprintf(buf, sizeof(buf), "%s", strerror(errno));
	else
		snprintf(buf, sizeof(buf), "connection closed by peer");
	ERR_clear_error();
	return buf;
}

int th_conn_rd(struct th_conn *k, void *buf, int n, int *e)
{
	k->trimmed = 0; /* OpenSSL may take its buffers again */
	if (!k->plain) {
		int r = SSL_read(k->ssl, buf, n);
		if (r <= 0)
			*e = SSL_get_error(k->ssl, r);
		return r;
	}
	ssize_t r = recv(k->fd, buf, (size_t)n, 0);
	if (r > 0)
		return (int)r;
	*e = r == 0 ? SSL_ERROR_ZERO_RETURN
	     : errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SSL_ERROR_WANT_READ
	     : SSL_ERROR_SYSCALL;
	return r == 0 ? 0 : -1;
}

/* Plain mode may write part of rec[]; the caller keeps the rest. */
int th_conn_wr(struct th_conn *k, const void *buf, int n, int *e)
{
	k->trimmed = 0;
	if (!k->plain) {
		int r = SSL_write(k->ssl, buf, n);
		if (r <= 0)
			*e = SSL_get_error(k->ssl, r);
		return r;
	}
	ssize_t r = send(k->fd, buf, (size_t)n, MSG_NOSIGNAL);
	if (r > 0)
		return (int)r;
	*e = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? SSL_ERROR_WANT_WRITE
	     : SSL_ERROR_SYSCALL;
	return -1;
}

int th_conn_read(struct th_conn *k, char *buf, size_t cap, size_t *len)
{
	/* Only the last SSL call's wish counts: a stale WANT_WRITE would keep
	 * TP_FD_WRITE registered on an idle socket and spin the loop. */
	k->io_want_write = 0;
	while (*len < cap) {
		ERR_clear_error();
		errno = 0;
		int e, n = th_conn_rd(k, buf + *len, (int)(cap - *len), &e);
		if (n > 0) {
			*len += (size_t)n;
			continue;
		}
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

uint8_t *th_conn_wbuf(struct th_conn *k) { return k->rec; }

int th_conn_send(struct th_conn *k, size_t len, int secret)
{
	if (len > sizeof(k->rec) || k->rec_len)
		return -1;
	k->rec_len = len;
	k->wipe = secret;
	return 0;
}

int th_conn_pending(const struct th_conn *k) { return k->rec_len || k->wq.head; }

/*
 * What a queued buffer costs the shared pool: the whole allocation, not its
 * payload.  A 64-byte packet pins a 2 KiB-class buffer, and the pool is
 * bounded for all sessions together: counting payload bytes would let one
 * stuck peer hold ~30 times queue_limit and starve every other session.
 */
static size_t buf_cost(const struct tp_buf *b)
{
	return (size_t)(b->end - b->head);
}

/* The queue's head is written out: back to the pool, uncharged. */
static void release_head(struct th_conn *k)
{
	const struct th_conn_env *env = k->env;
	struct tp_buf *b = tp_batch_pop(&k->wq);

	k->wq_bytes -= buf_cost(b);
	k->wq_bufs--;
	if (env->queued_total)
		(*env->queued_total)--;
	env->host->buf_free(env->st, b);
}

/* Fill rec[] from the queue: as many buffers as fit in one record, or in
 * frame mode exactly one (th_conn_queue admits none larger than rec). */
static void fill_record(struct th_conn *k)
{
	while (!k->rec_len || (!k->frames && k->rec_len < TH_RECORD && k->wq.head && k->state == CS_OPEN)) {
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
		/* The buffer is charged whole (th_conn_queue) until it goes
		 * back to the pool, however much of it is copied. */
		if (!b->len)
			release_head(k);
		if (k->rec_len == TH_RECORD)
			break;
	}
}

int th_conn_write(struct th_conn *k, const char **err)
{
	const struct th_conn_env *env = k->env;
	k->io_want_write = 0;
	for (;;) {
		/* A buffer of a whole record or more (a super-packet) is
		 * encrypted from where it lies, not copied into rec[] first.
		 * OpenSSL cuts it into full records; without partial writes a
		 * WANT_WRITE retry repeats this same call (same buffer, same
		 * length: it stays at the queue's head).  rec[] is empty here,
		 * so no coalesced record is half sent.  A plain stream (no TLS)
		 * may send part of a buffer, so it always goes through rec[]. */
		struct tp_buf *big = NULL;
		if (!k->rec_len && !k->frames && !k->plain && k->state == CS_OPEN && k->wq.head &&
		    k->wq.head->len >= TH_RECORD)
			big = k->wq.head;
		else
			fill_record(k); /* coalescing: one SSL_write for many small packets */
		if (!big && !k->rec_len)
			return 0;
		ERR_clear_error();
		errno = 0;
		int e, n = big ? th_conn_wr(k, big->data, (int)big->len, &e)
			       : th_conn_wr(k, k->rec, (int)k->rec_len, &e);
		if (n > 0 && !big && (size_t)n < k->rec_len) { /* plain: a partial send */
			*env->c_bytes_out += (uint64_t)n;
			k->stalled_since = 0;
			memmove(k->rec, k->rec + n, k->rec_len - (size_t)n);
			k->rec_len -= (size_t)n;
			continue;
		}
		if (n > 0) {
			*env->c_bytes_out += (uint64_t)n;
			k->stalled_since = 0; /* the peer reads */
			if (big) {
				release_head(k);
				continue;
			}
			if (k->wipe) { /* it held a secret (a password) */
				explicit_bzero(k->rec, k->rec_len);
				k->wipe = 0;
			}
			k->rec_len = 0;
			continue;
		}
		switch (e) {
		case SSL_ERROR_WANT_WRITE:
			k->io_want_write = 1;
			return 0;
		case SSL_ERROR_WANT_READ:
			return 0;
		default:
			*err = th_ssl_errstr();
			return -1;
		}
	}
}

void th_conn_admit(struct th_conn *k, struct tp_batch *q)
{
	const struct th_conn_env *env = k->env;
	struct tp_buf *b;
	while ((b = tp_batch_pop(q))) {
		/* Whole buffers only: dropping part of one would corrupt the
		 * framing of the stream.  rec[] is part of the stream, not
		 * the pool, so only queued buffers count.  An empty queue
		 * takes any one buffer: a 64 KiB-class one (jumbo MTU) costs
		 * more than the smallest queue_limit. */
		size_t cost = buf_cost(b);
		size_t left = !env->queued_total ? SIZE_MAX
			      : env->queue_buffers > *env->queued_total
				      ? env->queue_buffers - *env->queued_total : 0;
		if (k->dead || k->state != CS_OPEN || (k->frames && b->len > TH_RECORD) ||
		    (k->wq.head && k->wq_bytes + cost > env->queue_limit) || k->wq_bufs >= left) {
			(*env->c_queue_drops)++;
			env->host->buf_free(env->st, b);
			continue;
		}
		k->wq_bytes += cost;
		k->wq_bufs++;
		if (env->queued_total)
			(*env->queued_total)++;
		tp_batch_add(&k->wq, b);
	}
}

/*
 * Read until OpenSSL has nothing more (or the budget is spent, so one busy
 * peer cannot starve the others), then hand everything on as one batch.
 *
 * SSL_read hands out at most one record (16 KiB) per call, but pool
 * buffers are usually much larger: each buffer is filled with as many
 * records as fit before the next one is taken.  Fewer, fuller buffers mean
 * fewer pool operations and fewer calls into the stage above per byte.
 */
#define TH_FILL_MIN 2048 /* below this much room, start a new buffer */

#define TH_EMIT_EVERY 8

/* CPU time is what the read budget shares, so it is measured with the
 * real clock, not host->now_ms (a test clock does not model CPU cost). */
static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A stream that spent its whole byte budget adapts it: halved when the
 * turn (reads and the work above them) took longer than TH_TURN_US,
 * doubled when it took less than half. */
static void adapt_budget(struct th_conn *k, size_t limit, uint64_t took_us)
{
	if (took_us > TH_TURN_US && limit / 2 >= TH_READ_MIN)
		limit /= 2;
	else if (took_us < TH_TURN_US / 2 && limit * 2 <= TH_READ_BYTES)
		limit *= 2;
	k->read_budget = limit;
}

const char *th_conn_read_batch(struct th_conn *k, long *again_ms)
{
	const struct th_conn_env *env = k->env;
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b = NULL;
	const char *err = NULL;
	int budget = TH_READ_BUDGET;
	size_t got = 0, limit = k->read_budget ? k->read_budget : TH_READ_START;
	uint64_t t0 = mono_us();
	long again = -1; /* ms until we read again by timer; -1: epoll will tell */
	*again_ms = -1;

	/* As in th_conn_read: set again below if SSL_read still needs
	 * writability, else an idle stream keeps TP_FD_WRITE and spins. */
	k->io_want_write = 0;

	while (budget-- > 0) {
		if (!b && !(b = env->host->buf_alloc(env->st, TH_RECORD))) {
			/* pool limit: let the pipeline drain, come back soon */
			again = 10;
			k->paused = 1; /* level-triggered epoll would spin */
			break;
		}
		size_t room = tp_buf_tailroom(b);
		if (room > limit - got)
			room = limit - got; /* SSL_read keeps the rest of a record */
		ERR_clear_error();
		errno = 0;
		int e, n = th_conn_rd(k, b->data + b->len, (int)room, &e);
		if (n > 0) {
			tp_buf_put(b, (size_t)n);
			*env->c_bytes_in += (uint64_t)n;
			got += (size_t)n;
			if (tp_buf_tailroom(b) < TH_FILL_MIN) {
				tp_batch_add(&q, b);
				b = NULL;
				/* Hand on every few buffers: the same few stay
				 * warm in the pool instead of a busy peer pinning
				 * hundreds of 64 KiB buffers before one emit. */
				if (q.count == TH_EMIT_EVERY)
					k->ops->data(k, &q);
			}
			if (got >= limit) {
				budget = -1; /* the others' turn; back at once */
				break;
			}
			continue;
		}
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
		env->host->buf_free(env->st, b);
	if (budget < 0) {
		/* Back on the next turn, after every other ready stream:
		 * OpenSSL may hold decrypted data epoll cannot see, and
		 * level-triggered epoll would give a readable socket a
		 * second turn in this one, so reading waits for the timer. */
		again = 0;
		k->paused = 1;
	}
	if (q.count)
		k->ops->data(k, &q);
	if (got >= limit)
		adapt_budget(k, limit, mono_us() - t0);
	*again_ms = again;
	return err;
}

/*
 * Memory an idle stream need not hold (issue 11: a server keeps thousands
 * of quiet sessions).  OpenSSL's read buffer (TH_READ_AHEAD with
 * read_ahead) and write buffer go back to the heap while they hold
 * nothing; OpenSSL allocates them again on the next read or write.  Not
 * SSL_MODE_RELEASE_BUFFERS: that frees and reallocates them around every
 * record of a busy stream; this runs about once a second per stream.
 * rec[] stays inside the stream, but its whole pages go back to the kernel
 * (MADV_DONTNEED: they read as zeros when next touched, which is fine as
 * nothing is in it: rec_len is 0).  Returns 1 if anything was released;
 * a stream already trimmed and not used since is left alone (no syscall,
 * and no count that would make the caller walk the heap every tick).
 */
int th_conn_trim(struct th_conn *k)
{
	if (k->trimmed || k->dead || k->busy || k->state != CS_OPEN || th_conn_pending(k) ||
	    !k->ssl || SSL_has_pending(k->ssl))
		return 0;
	k->trimmed = 1;
	int freed = SSL_free_buffers(k->ssl) == 1;
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)k->rec + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	uintptr_t e = ((uintptr_t)k->rec + sizeof(k->rec)) & ~((uintptr_t)pg - 1);
	if (pg > 0 && e > a && madvise((void *)a, e - a, MADV_DONTNEED) == 0)
		freed = 1;
	return freed;
}
