/* SPDX-License-Identifier: MIT */
/*
 * conn.h — one TLS byte stream over a non-blocking socket, on the core's
 * loop: connect or accept, the TLS handshake, reads into pool buffers,
 * a bounded write queue, timeouts, close.  It knows no HTTP and no roles:
 * whatever is said on the stream before it carries data (an upgrade, a
 * login) is its owner's business, told through struct th_conn_ops.
 * Behind a proxy that terminates TLS (env->plain) an accepted stream is
 * plain TCP with the same states and calls (th_conn_rd/th_conn_wr).
 *
 * States: CONNECTING (TCP connect in progress) -> TLS -> SECURE (TLS is
 * up; the owner runs its handshake with th_conn_read/th_conn_wbuf) ->
 * OPEN (th_conn_open: stream data both ways) or CLOSING (th_conn_linger:
 * flush what is written, then close).
 *
 * Write modes (th_conn_set_frames): by default queued buffers are
 * coalesced into full 16 KiB records, one SSL_write and one syscall for
 * many small packets.  In frame mode every queued buffer becomes exactly
 * one TLS record, for protocols whose peer takes one record as one frame;
 * a buffer larger than a record cannot be sent that way and is dropped
 * (counted in queue_drops).
 *
 * Re-entrancy (busy/dead): delivering data (ops->data) calls into the
 * pipeline, and host->session_up() may today call this sink's own down()
 * or event(CLOSE_REQUEST) before it returns; a stage may also abort the
 * session from inside emit_up.  Freeing the stream under our own feet
 * would be a use-after-free, so th_conn_close() only marks a busy stream
 * dead, and whoever holds the last busy count finishes it on the way out
 * (th_conn_enter/th_conn_leave around any call from outside an fd
 * callback).  If the core comes to defer such calls, the guard could
 * shrink; nothing here relies on that.
 *
 * Fair sharing (issue 10): every stream of an instance queues from one
 * budget of pool buffers (env->queue_buffers, a dynamic threshold: one
 * more only while it holds fewer than are free), a stream whose peer
 * reads nothing for env->stall_ms while data waits is closed, and reads
 * yield after a per-stream byte budget that adapts to the work a turn
 * costs (TH_READ_*), so a flood of tiny packets costs its own stream.
 *
 * Time comes only from host->now_ms and host->timer_add, so a test clock
 * drives every timeout (the read budget alone measures CPU time with the
 * real clock: a test clock does not model it).
 */
#ifndef TLS_HTTP_CONN_H
#define TLS_HTTP_CONN_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <tunpipe/plugin.h>

#define TH_RECORD 16384     /* one full TLS record of plaintext */
#define TH_READ_BUDGET 256  /* SSL_reads per wakeup before yielding */
/* Bytes read per stream per wakeup before yielding to the others, adapted
 * per stream between TH_READ_MIN and TH_READ_BYTES so that a turn costs
 * about TH_TURN_US of work (the stages above run inside it): 64 KiB of
 * 1400-byte packets is ~50 packets of work, 64 KiB of 20-byte packets
 * 3,300, which held the loop (and every other session) for tens of ms. */
#define TH_READ_BYTES 65536
#define TH_READ_MIN 2048
/* A new stream starts at one record: 16 KiB of 20-byte packets already
 * takes ~800 pool buffers once the framer splits them. */
#define TH_READ_START 16384
#define TH_TURN_US 500

enum th_conn_state {
	CS_CONNECTING, /* TCP connect in progress */
	CS_TLS,        /* TLS handshake */
	CS_SECURE,     /* TLS up, the owner's handshake runs */
	CS_OPEN,       /* stream data both ways */
	CS_CLOSING,    /* flushing a last answer, then close */
};

/* What every stream of one plugin instance shares. */
struct th_conn_env {
	struct tp_stage *st;
	const struct tp_host *host;
	SSL_CTX *ssl;
	size_t queue_limit;  /* pool memory queued per stream (th_conn_queue) */
	/* Pool buffers all streams together may hold queued, and how many
	 * are: a stream may queue one more only while it holds fewer than
	 * remain free (a dynamic threshold), so N stalled streams share the
	 * budget, N/(N+1) of it at most, and a new one always gets room. */
	size_t queue_buffers;
	size_t *queued_total; /* NULL: no shared budget (queue_limit only) */
	uint64_t stall_ms;   /* close a stream whose queue has not moved this long; 0 = never */
	uint64_t *c_stalled;  /* may be NULL */
	int keepalive;       /* seconds before TCP keepalive probes; 0 = off */
	/* Accepted streams are plain TCP (behind a proxy that terminates
	 * TLS, tls = false): no SSL object, reads and writes go to the fd,
	 * CS_TLS passes at once; everything above is unchanged. */
	int plain;
	uint64_t *c_bytes_in, *c_bytes_out, *c_queue_drops;
};

struct th_conn;

/* The owner's side.  Every callback may close the stream (th_conn_close);
 * it is freed only after the callback returns. */
struct th_conn_ops {
	/* SSL object made, before the TLS handshake (SNI, verification);
	 * NULL: nothing to add.  Nonzero fails the stream. */
	int (*prepare)(struct th_conn *k, SSL *ssl);
	/* The TLS handshake is done (state CS_SECURE). */
	void (*secure)(struct th_conn *k);
	/* CS_SECURE and the socket is ready: read on (th_conn_read) or go
	 * on writing.  Called only when nothing written is still pending. */
	void (*input)(struct th_conn *k);
	/* CS_OPEN: bytes read, in pool buffers; the callee takes them. */
	void (*data)(struct th_conn *k, struct tp_batch *q);
	/* The stream ended (k->why says why; th_conn_state() where).  The
	 * callee must call th_conn_free(k) before it returns. */
	void (*closed)(struct th_conn *k);
};

struct th_conn {
	const struct th_conn_env *env;
	const struct th_conn_ops *ops;
	void *owner;              /* the ops' own data */
	int fd;
	SSL *ssl;
	enum th_conn_state state;
	uint32_t events;          /* what is registered with the loop */
	int io_want_write;        /* the last SSL call asked for writability */
	int paused;               /* out of pool buffers: reading resumes by timer */
	int busy;                 /* inside a callback that may re-enter */
	int dead;                 /* teardown requested (deferred while busy) */
	int frames;               /* write mode: one queued buffer per record */
	int wipe;                 /* wipe rec[] once written (secrets) */
	int plain;                /* no TLS: ssl is NULL (env->plain) */
	int trimmed;              /* th_conn_trim gave the buffers back; no I/O since */
	char why[200];            /* close reason */
	char peer[64];
	struct tp_timer *timer;   /* handshake deadline / read resume */
	const char *expiry;       /* th_conn_deadline's reason (a literal) */
	uint64_t open_since;      /* now_ms() at th_conn_open */

	/* Write side: `rec` is the record being written (SSL_write must be
	 * retried with the same bytes); `wq` the bounded queue behind it. */
	struct tp_batch wq;
	size_t wq_bytes;          /* pool memory the queued buffers pin */
	size_t wq_bufs;           /* and how many buffers (env->queued_total) */
	uint64_t stalled_since;   /* now_ms() when data started waiting; 0 = moving */
	size_t read_budget;       /* bytes per wakeup now (0: TH_READ_START) */
	struct tp_timer *stall_timer; /* checks stalled_since while data waits */
	uint8_t rec[TH_RECORD];
	size_t rec_len;
};

/* A stream over a connected (accept) or connecting (connect, in progress)
 * socket; the fd is the stream's from now on, also on failure.  The TLS
 * handshake starts at once on an accepted socket, after the connect
 * completes otherwise. */
struct th_conn *th_conn_accept(const struct th_conn_env *env, int fd, const char *peer,
			       const struct th_conn_ops *ops, void *owner);
struct th_conn *th_conn_connect(const struct th_conn_env *env, int fd, const char *peer,
				const struct th_conn_ops *ops, void *owner);
/* Close, keeping `reason` in k->why (the first reason stands); the
 * teardown waits while the stream is busy. */
void th_conn_close(struct th_conn *k, const char *reason);
/* Release everything now (from ops->closed, or on shutdown). */
void th_conn_free(struct th_conn *k);
/* Fail the stream with `reason` if it is not open within ms. */
int th_conn_deadline(struct th_conn *k, uint64_t ms, const char *reason);

/* Frame mode on or off (see the top of this file); off by default. */
void th_conn_set_frames(struct th_conn *k, int on);

/* Handshake phase: read into buf until OpenSSL has nothing more or buf
 * (cap bytes, *len used) is full.  0, or the SSL_get_error() code of a
 * closed (SSL_ERROR_ZERO_RETURN) or failed stream; what arrived before
 * is in buf. */
int th_conn_read(struct th_conn *k, char *buf, size_t cap, size_t *len);
/* Handshake phase: the record buffer to write one message into (cap
 * TH_RECORD, empty: nothing pending), then th_conn_send(k, len, secret)
 * to send it; secret wipes it once written. */
uint8_t *th_conn_wbuf(struct th_conn *k);
int th_conn_send(struct th_conn *k, size_t len, int secret);
/* Written bytes not yet handed to TLS. */
int th_conn_pending(const struct th_conn *k);
/* An open stream with nothing pending gives back its TLS buffers and the
 * pages of its record buffer (conn-io.c); 1 if anything was released. */
int th_conn_trim(struct th_conn *k);

/* Go to CS_OPEN: stream data flows, the deadline is off.  What was sent
 * before stays ahead of everything queued after. */
void th_conn_open(struct th_conn *k);
/* Flush what is written, then close with `reason` (an error answer). */
void th_conn_linger(struct th_conn *k, const char *reason);
/* Bytes that arrived with the handshake, delivered as stream data. */
void th_conn_push(struct th_conn *k, const char *data, size_t len);
/* Queue buffers for the peer (CS_OPEN; else they are dropped and
 * counted).  Takes them all; bounded by env->queue_limit. */
void th_conn_queue(struct th_conn *k, struct tp_batch *q);
/* Write what is pending; -1 when the stream failed (and is closing). */
int th_conn_flush(struct th_conn *k);

/* Around calls from outside an fd callback that may close the stream. */
void th_conn_enter(struct th_conn *k);
void th_conn_leave(struct th_conn *k);

/* conn-io.c, for conn.c only: the paths without the decisions.  Write
 * what is pending (-1 with *err: the stream failed); take buffers into
 * the queue or drop them (counted); read into pool buffers and hand
 * them to ops->data, returning NULL or why the stream ended, with
 * *again_ms >= 0 when reading must resume by timer. */
int th_conn_write(struct th_conn *k, const char **err);
void th_conn_admit(struct th_conn *k, struct tp_batch *q);
const char *th_conn_read_batch(struct th_conn *k, long *again_ms);

/* conn-io.c: one read or write on the stream, TLS or plain, with
 * OpenSSL's codes in *e when it returns <= 0 (plain: WANT_READ/WRITE for
 * EAGAIN, ZERO_RETURN for EOF, SYSCALL with errno). */
int th_conn_rd(struct th_conn *k, void *buf, int n, int *e);
int th_conn_wr(struct th_conn *k, const void *buf, int n, int *e);

/* The OpenSSL error of the last failed call, as text (clears the queue). */
const char *th_ssl_errstr(void);

#endif
