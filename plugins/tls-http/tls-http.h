/*
 * tls-http.h — internals shared by the tls-http plugin's files.
 *
 * tls-http.c  descriptor, options, create/destroy/start/stop, events, down()
 * conn.c      one TLS connection: fd events, handshake step, reads pushed
 *             up in batches, the bounded write queue, teardown
 * server.c    listening socket, accepting, answering the upgrade request
 * client.c    URL, connect/reconnect with backoff, reading the 101
 * handshake.c / http.c / auth.c  pure protocol and password code
 * authworker.c the thread that runs password checks off the loop
 */
#ifndef TLS_HTTP_INTERNAL_H
#define TLS_HTTP_INTERNAL_H
#include <stdint.h>
#include <stddef.h>
#include <openssl/ssl.h>
#include <tunpipe/plugin.h>
#include "auth.h"
#include "handshake.h"

#define TH_RECORD 16384          /* one full TLS record of plaintext */
#define TH_READ_BUDGET 256       /* SSL_reads per wakeup before yielding */
#define TH_CLIENT_HS_TIMEOUT 15000
#define TH_STABLE_MS 10000       /* a session this long resets the backoff */
#define TH_AUTH_QUEUE 64         /* password checks waiting; more get 503 */
#define TH_AUTH_MAX_FAILS 5      /* failed logins per address per window … */
#define TH_AUTH_WINDOW_MS 10000  /* … before it gets 429 until the window ends */

enum { TH_CLIENT = 0, TH_SERVER = 1 };

/* The option struct the core fills (see the table in tls-http.c). */
struct th_conf {
	int role;
	const char *listen, *cert, *key, *users, *realm, *path;
	int64_t max_sessions, handshake_timeout, max_request, max_headers, queue_limit;
	const char *url, *ca;
	int verify;
	const char *server_name, *user, *password, *password_file;
	int64_t reconnect_min, reconnect_max, auth_retry;
	int tls_min;
	int64_t keepalive;
};

enum th_state {
	CS_CONNECTING, /* client: TCP connect in progress */
	CS_TLS,        /* TLS handshake */
	CS_HTTP,       /* upgrade request/response; on the server, auth_id != 0
			* means the request waits for its password check (a
			* sub-state, so conn.c's dispatch needs no new case) */
	CS_UP,         /* established: stream data both ways */
	CS_CLOSING,    /* flushing an error answer, then close */
};

struct th_ctx;

struct th_conn {
	struct th_ctx *ctx;
	struct th_conn *prev, *next;
	int fd;
	SSL *ssl;
	enum th_state state;
	uint32_t events;          /* what is registered with the loop */
	int io_want_write;        /* the last SSL call asked for writability */
	int paused;               /* out of pool buffers: reading resumes by timer */
	int busy;                 /* inside a callback that may re-enter */
	int dead;                 /* teardown requested (deferred while busy) */
	int auth_fail;            /* client: retry after auth_retry, not backoff */
	char why[200];            /* refusal / close reason */
	struct tp_session *s;
	struct tp_timer *timer;   /* handshake timeout / read resume */
	uint64_t up_since;
	char peer[64];
	uint8_t peer_ip[16];      /* server: the limiter's key (auth.h) */

	/* Server, while the worker checks the password: the job and the
	 * decision that stands if it matches (hs_decide_deferred). */
	uint64_t auth_id;
	struct hs_request pend;

	char *head;               /* request/response head being read */
	size_t head_len, head_cap;

	/* Write side: `rec` is the record being written (SSL_write must be
	 * retried with the same bytes); `wq` the bounded queue behind it. */
	struct tp_batch wq;
	size_t wq_bytes;          /* pool memory the queued buffers pin (th_buf_cost) */
	uint8_t rec[TH_RECORD];
	size_t rec_len;
};

struct th_ctx {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct th_conf *cf; /* points at conf */
	struct th_conf conf;      /* the core's values with role defaults applied */
	SSL_CTX *ssl;
	int started;

	uint64_t *c_sessions, *c_auth_failures, *c_refused, *c_bytes_in, *c_bytes_out,
		*c_queue_drops, *c_reconnects, *c_accept_errors, *c_auth_busy, *c_auth_throttled;

	struct th_conn *conns; /* every live connection */
	unsigned n_conns;

	/* server */
	struct auth_db *users;
	int lfd;
	struct tp_timer *accept_timer; /* accepting paused (EMFILE…) until it fires */
	int full_warned;               /* "max_sessions reached" logged at full_warned_ms */
	uint64_t full_warned_ms;
	unsigned full_quiet;           /* refusals since then, not logged */
	struct aw *aw;                 /* password checks (started with the server) */
	struct auth_limiter lim;       /* failed logins per source address */
	uint64_t busy_warned_ms;       /* last "auth queue full" warning */
	int busy_warned;

	/* client */
	char uhost[256], port[8], path[256], host_hdr[300], password[256];
	struct th_conn *cc;
	struct tp_timer *retry;
	uint64_t backoff;
	int auth_failed_logged;
};

#define TH_LOG(c, lvl, ...) (c)->host->log((c)->st, (lvl), __VA_ARGS__)

/* conn.c */
struct th_conn *th_conn_new(struct th_ctx *c, int fd, const char *peer);
void th_conn_close(struct th_conn *k, const char *reason);
void th_conn_free(struct th_conn *k);
void th_conn_update(struct th_conn *k);
int th_conn_flush(struct th_conn *k);
int th_conn_read_head(struct th_conn *k);
void th_conn_queue(struct th_conn *k, struct tp_batch *q);
void th_conn_established(struct th_conn *k);
void th_conn_push_up(struct th_conn *k, const char *extra, size_t extra_len);
int th_conn_arm_timeout(struct th_conn *k, uint64_t ms);
void th_conn_enter(struct th_conn *k);
void th_conn_leave(struct th_conn *k);
int th_conn_start_tls(struct th_conn *k);
const char *th_ssl_errstr(void);

/* server.c */
int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);
int th_server_start(struct th_ctx *c);
void th_server_reload(struct th_ctx *c);
void th_server_stop(struct th_ctx *c);
void th_server_http(struct th_conn *k);

/* client.c */
int th_client_parse_url(struct th_ctx *c, const char *url, char *err, size_t errlen);
int th_client_start(struct th_ctx *c);
void th_client_stop(struct th_ctx *c);
void th_client_connected(struct th_conn *k);
void th_client_tls_done(struct th_conn *k);
void th_client_http(struct th_conn *k);
void th_client_failed(struct th_conn *k);

#endif
