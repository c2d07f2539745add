/* SPDX-License-Identifier: MIT */
/*
 * tls-http.h — what the tls-http plugin's files share.  The layers, each
 * calling only downwards (no file calls back into one above it except
 * through the tables below):
 *
 * tls-http.c   descriptor, options, create/destroy/start/stop, down(),
 *              events: picks a role table and a handshake table
 * server.c     role table th_role_server: listen, accept, max_sessions
 * client.c     role table th_role_client: URL, connect, reconnect/backoff
 * svpn-server.c, svpn-client.c
 *              handshake tables: the Simple-VPN upgrade (Basic auth, the
 *              password check on the auth worker) over a secure stream
 * link.c       a link: one stream on its way to being a session, and the
 *              session once it is; th_link_attach opens the session
 * conn.c, conn-io.c (conn.h)
 *              the TLS byte stream: no HTTP, no roles
 * proxy-accept.c, front.c
 *              behind a proxy (server): the PROXY header before TLS,
 *              trusted_proxies; the client from X-Forwarded-For/Forwarded
 *              (fwd.c) and requests not for the VPN (fallback.c, which
 *              takes the socket over from the stream)
 * util.c       host:port, URL and address-prefix parsing, file checks
 *              (both roles)
 * handshake.c / http.c / auth.c  pure protocol and password code
 * authworker.c the thread that runs password checks off the loop
 */
#ifndef TLS_HTTP_INTERNAL_H
#define TLS_HTTP_INTERNAL_H
#include <stdint.h>
#include <stddef.h>
#include <openssl/ssl.h>
#include <tunpipe/plugin.h>
#include "conn.h"
#include "handshake.h"

/* Values of the role option (its choices "client|server", in order). */
enum { TH_CLIENT = 0, TH_SERVER = 1 };

/* The option struct the core fills (see the table in tls-http.c). */
struct th_conf {
	int role;
	const char *listen, *cert, *key, *users, *realm, *path;
	int64_t max_sessions, handshake_timeout, max_request, max_headers, queue_limit;
	const char *url, *ca;
	int verify;
	int offload;              /* offer / accept Simple-VPN-Offload */
	const char *server_name, *user, *password, *password_file;
	int64_t reconnect_min, reconnect_max, auth_retry;
	int tls_min;
	int64_t keepalive;
	int64_t min_prefix, min_prefix6;
	int64_t queue_buffers, stall_timeout;
	/* budgets (budget.c) */
	int64_t max_handshakes, max_handshakes_per_address, max_sessions_per_user;
	int replace_oldest_session, allow_insecure_key;
	/* PROXY protocol (proxy-accept.c): 0 off, else PP_V1|PP_V2 bits */
	int proxy_protocol;
	const char *const *trusted_proxies;
	int retry_permanent; /* client: keep retrying after 401 / a bad certificate */
	const char *proxy, *proxy_password_file; /* client: HTTP proxy (client-proxy.c) */
	int tls;              /* server: false = plain HTTP behind a TLS-terminating proxy */
	int client_address_header; /* tls = false: enum fwd_kind of the one header read (front.c) */
	const char *fallback; /* server: HOST:PORT for requests not for the VPN (fallback.c) */
	int64_t fallback_max, fallback_per_address, fallback_lifetime; /* its bounds */
	int fallback_proxy_protocol; /* a PROXY v1 line to the web server first */
	int64_t auth_threads, auth_cache; /* password checks (svpn-server.c) */
};

/* A plain-HTTP server (tls = false; a client's tls field is never set). */
#define th_plain(cf) ((cf)->role == TH_SERVER && !(cf)->tls)

struct th_ctx;
struct th_link;
#define TH_REFUSED_AUTH 2 /* th_link.refused: the server said 401 */

/*
 * A role: how links come to be and what happens when one ends.  The
 * plugin's callbacks go through it; it never sees a protocol message.
 */
struct th_role {
	const char *name;
	const SSL_METHOD *(*method)(void);
	/* create(): check options, load files (c->role_priv is set up here). */
	int (*setup)(struct th_ctx *c, char *err, size_t errlen);
	/* Put the role's certificate and key into `ssl` (at setup, and into a
	 * fresh context on SIGHUP); NULL: the role has none to reload. */
	int (*load_keys)(struct th_ctx *c, SSL_CTX *ssl, char *err, size_t errlen);
	int (*start)(struct th_ctx *c);
	void (*stop)(struct th_ctx *c);
	void (*destroy)(struct th_ctx *c);
	/* The link down() and events talk to when the core names no session. */
	struct th_link *(*lone_link)(struct th_ctx *c);
	/* SSL object made (SNI, verification); NULL: nothing to add. */
	int (*prepare)(struct th_link *l, SSL *ssl);
	/* A link ended (l->io->why says why): log, th_link_free, plan. */
	void (*closed)(struct th_link *l);
};

/*
 * A handshake: what is said on a secure stream before it carries data.
 * Simple-VPN (an HTTP/1.1 upgrade with Basic auth) is one table per side;
 * another protocol (several requests and a cookie, say) is another pair,
 * over the same stream and links.
 */
struct th_handshake {
	const char *name;
	/* create(): options and files of the protocol; NULL: none. */
	int (*setup)(struct th_ctx *c, char *err, size_t errlen);
	int (*start)(struct th_ctx *c);   /* NULL: nothing to start */
	void (*stop)(struct th_ctx *c);   /* NULL: nothing to stop */
	void (*reload)(struct th_ctx *c); /* SIGHUP; NULL: nothing to reload */
	void (*destroy)(struct th_ctx *c);
	/* TLS is up: the first move (a client sends its request). */
	void (*begin)(struct th_link *l);
	/* More bytes may be readable (l->head), nothing pending to write. */
	void (*step)(struct th_link *l);
	/* The link goes away before the session is up: forget pending work. */
	void (*drop)(struct th_link *l);
	/* The handshake deadline passed: answer if the protocol can (408)
	 * and close; NULL: the stream is closed. */
	void (*timeout)(struct th_link *l);
};

struct th_link {
	struct th_ctx *ctx;
	struct th_link *prev, *next;
	struct th_conn *io;
	struct tp_session *s;     /* set by th_link_attach */
	int refused;              /* the peer said no to us for good (client); TH_REFUSED_AUTH: 401 */
	uint64_t retry_after;     /* ms the server asked us to wait (client), 0 = none */
	uint8_t peer_key[16];     /* source address, per-address limits (auth.h) */
	uint64_t born_ms;         /* accepted at (the oldest handshake gives way) */
	struct tp_timer *hs_timer; /* the handshake deadline (server) */
	char user[64];            /* who the session is for, once up (server) */
	int evicted;              /* closed by us to make room: not the peer's doing */
	int proxied;              /* from a trusted proxy over plain HTTP: the client is in its headers */
	int front_done;           /* front.c has seen the request head */

	char *head;               /* handshake bytes read so far */
	size_t head_len, head_cap;

	/* The handshake's own per-link state, one member per protocol. */
	union {
		struct {
			/* waiting for the worker's password check: its job
			 * and the decision that stands if it matches */
			uint64_t auth_id;
			struct hs_request pend;
			/* the credential's cache key (authcache.h) and the
			 * users generation its check runs against */
			uint8_t cred[32];
			uint64_t gen;
		} svpn;
	} hs;
};

/*
 * A warning that may come in floods: at most TH_RL_BURST lines per
 * TH_RL_MS of one kind; the first line after a quiet spell says how many
 * were suppressed.  One struct per kind of warning.
 */
#define TH_RL_BURST 1
#define TH_RL_MS 10000
struct th_ratelog {
	uint64_t since;   /* start of the current period */
	unsigned n;       /* lines logged in it */
	unsigned quiet;   /* suppressed since the last line */
};
struct th_ctx {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct th_conf *cf; /* the stage's options, as the core filled them */
	SSL_CTX *ssl;
	struct th_conn_env env;   /* what every stream shares */
	int started;
	const struct th_role *role;
	const struct th_handshake *hs;
	void *role_priv;          /* the role's own state (server.c, client.c) */
	void *hs_priv;            /* the handshake's own state */
	void *pp_priv;            /* proxy-accept.c's state (proxy_protocol on, or tls = false) */
	void *fb_priv;            /* fallback.c's state (fallback set) */

	uint64_t *c_sessions, *c_auth_failures, *c_refused, *c_bytes_in, *c_bytes_out,
		*c_queue_drops, *c_reconnects, *c_accept_errors, *c_auth_busy, *c_auth_throttled,
		*c_stalled, *c_auth_checks, *c_auth_cached;
	size_t queued_total;   /* pool buffers queued by all streams (env.queued_total) */
	struct th_ratelog rl_front[3]; /* front.c's refusals: bad header, none, per address */

	struct th_link *links; /* every live link */
	unsigned n_links;
};

#define TH_LOG(c, lvl, ...) (c)->host->log((c)->st, (lvl), __VA_ARGS__)

extern const struct th_role th_role_server, th_role_client;
extern const struct th_handshake th_hs_svpn_server, th_hs_svpn_client;

/* link.c */
/* A link over an accepted / a connecting socket (the fd is the link's
 * from now on); head_cap bytes for the handshake.  NULL on failure. */
struct th_link *th_link_accept(struct th_ctx *c, int fd, const char *peer, size_t head_cap);
struct th_link *th_link_connect(struct th_ctx *c, int fd, const char *peer, size_t head_cap);
/* Release now: the handshake's pending work, the session (closed with
 * l->io->why), the stream. */
void th_link_free(struct th_link *l);
/* The session l goes up as, in the order a server needs: the stream is
 * opened first (what stages send from the SESSION_UP event queues behind
 * the answer already written), written bytes are flushed, session_up,
 * the `sessions` counter.  0, or -1 with the link closing. */
int th_link_attach(struct th_link *l, struct tp_session *s, const struct tp_session_info *info);
/* The link down() and events of session s go to (NULL: none). */
struct th_link *th_link_of(struct th_ctx *c, struct tp_session *s);
/* Read handshake bytes into l->head; 0 or an SSL_get_error() code. */
int th_link_read_head(struct th_link *l);

/* server.c: a connection whose client address is known (from the socket,
 * or from a PROXY header) starts its handshake, within the budgets; the
 * fd is taken in any case. */
struct sockaddr_storage;
void th_srv_take(struct th_ctx *c, int fd, const struct sockaddr_storage *ss);
/* The same for a connection from a trusted proxy over plain HTTP: its
 * per-address budget waits for the client's address (front.c). */
void th_srv_take_proxied(struct th_ctx *c, int fd, const struct sockaddr_storage *ss);
/* "10.0.0.2:4711", "[2001:db8::1]:4711"; without ":port" when it is 0. */
void th_peer_name(const struct sockaddr_storage *ss, char *out, size_t cap);
/* The per-address key of ss: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64. */
void th_peer_key(const struct sockaddr_storage *ss, uint8_t key[16]);
/* ss from an address (4 or 16 bytes of family, network order) and a
 * port (host order): a PROXY header's or a Forwarded client. */
void th_sockaddr(struct sockaddr_storage *ss, int family, const uint8_t *addr, uint16_t port);

/* proxy-accept.c: the pre-TLS step of proxy_protocol (server).  Setup
 * checks trusted_proxies (nothing to do when off); th_pp_accept takes an
 * accepted fd (`sock`: its peer as text) and hands it to th_srv_take once
 * the PROXY header, if any, is read; stop closes those still waiting. */
int th_pp_setup(struct th_ctx *c, char *err, size_t errlen);
void th_pp_accept(struct th_ctx *c, int fd, const struct sockaddr_storage *ss, const char *sock);
void th_pp_stop(struct th_ctx *c);
void th_pp_destroy(struct th_ctx *c);
/* Is the address (4 or 16 bytes of family) in trusted_proxies? */
int th_pp_trusted(void *c, int family, const uint8_t *addr);

/* front.c: what a request head says before the Simple-VPN decision: with
 * tls = false the client's address from X-Forwarded-For/Forwarded (the
 * link's peer and limiter key from then on); with fallback, a request not
 * for the VPN goes to the web server.  0: decide as usual; 1: done here
 * (gone to the fallback, or refused: 400 for a bad header, 503). */
struct hs_params;
int th_front_request(struct th_link *l, const struct hs_params *p, struct hs_request *r);

/* fallback.c: relay a client's stream to the `fallback` web server. */
int th_fb_setup(struct th_ctx *c, char *err, size_t errlen);
/* Take over l's socket (and TLS), send `head` (len bytes already read)
 * to the web server and relay both ways; the link is closed.  -1: no room
 * (fallback_max, or fallback_per_address for l's limiter key), nothing
 * taken. */
int th_fb_take(struct th_link *l, const char *head, size_t len);
void th_fb_stop(struct th_ctx *c);
void th_fb_destroy(struct th_ctx *c);

/* budget.c: what one address or one user may hold (server) */
/* Live links of the handshake phase, and those of them from `key`. */
unsigned th_budget_handshakes(struct th_ctx *c, const uint8_t key[16], unsigned *from_key);
/* The handshaking link accepted first (NULL: none). */
struct th_link *th_budget_oldest_handshake(struct th_ctx *c);
/* Sessions up, and those of `user` (the oldest of them in *oldest). */
unsigned th_budget_sessions(struct th_ctx *c, const char *user, unsigned *of_user,
			    struct th_link **oldest);
/* May r->user open one more session (max_sessions counts tunnels only;
 * max_sessions_per_user, replacing the user's oldest if configured)?
 * 0 with r->status/why set to the refusal; rl paces its warning. */
struct th_ratelog;
int th_budget_session_ok(struct th_link *l, struct hs_request *r, struct th_ratelog *rl);
/* A users reload: close the sessions of users `db` no longer has or
 * whose entry changed from `old`, one log line each; how many. */
struct auth_db;
unsigned th_budget_close_revoked(struct th_ctx *c, const struct auth_db *old,
				 const struct auth_db *db);
/* "10.1.2.3" or "2001:db8:1:2::/64": an address key as logs show it. */
void th_key_str(const uint8_t key[16], char *out, size_t cap);
/* 0 if `path` is not readable by group or others (mode & 044), else -1
 * with "WHAT PATH is readable by group/others (mode 0644)" in msg. */
int th_file_private(const char *what, const char *path, char *msg, size_t cap);

void th_warn_limited(struct th_ctx *c, struct th_ratelog *rl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* util.c */
int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);
/* The pieces of https://host[:port]/path: where to connect (host, port)
 * and what to ask for (host_hdr, path). */
struct th_url {
	char host[256], port[8], path[256], host_hdr[300];
};
int th_parse_url(const char *url, struct th_url *u, char *err, size_t errlen);
/* 0 if path can be read, else -1 with "what path: reason" in err. */
int th_readable(const char *what, const char *path, char *err, size_t errlen);
/* A secret's file (password_file, proxy_password_file): its first line,
 * without the line end, into out; -1 with "what path: reason" in err when
 * it cannot be read or the line is empty. */
int th_read_first_line(const char *what, const char *path, char *out, size_t cap, char *err,
		       size_t errlen);

/* svpn-check.c: what the client accepts from a server (pure functions). */
struct th_server_addr {
	uint8_t family;           /* AF_INET, AF_INET6; 0 = unknown */
	uint8_t addr[16];
};
/* 0 if the 101 `m` (parsed into info) may be applied: Upgrade and
 * Connection say Simple-VPN, the addresses are unicast with a prefix of
 * at least min4/min6 that neither is nor covers srv (NULL: not checked),
 * the routes are not loopback/multicast/link-local.  Else -1 and why. */
int th_check_101(const struct http_msg *m, const struct tp_session_info *info,
		 const struct th_server_addr *srv, unsigned min4, unsigned min6, char *why, size_t len);
/* Copy n bytes of a peer's text (up to a NUL) with control and non-ASCII
 * bytes and '\\' as \xNN, always terminated. */
void th_escape(char *dst, size_t cap, const char *src, size_t n);

/* resolve.c: resolve host:port off the loop; `done` gets the addresses
 * (the caller frees them) or a getaddrinfo error, later through the loop,
 * or at once for an address literal (then NULL is returned).  A job not
 * yet done can be cancelled; `done` is then never called. */
struct th_resolve;
struct addrinfo;
typedef void (*th_resolved_fn)(struct th_ctx *c, struct addrinfo *ai, int rc);
struct th_resolve *th_resolve_start(struct th_ctx *c, const char *host, const char *port,
				    th_resolved_fn done);
void th_resolve_cancel(struct th_ctx *c, struct th_resolve *r);

/* certnames.c: the names a certificate holds ("DNS:a, IP:1.2.3.4, CN:a",
 * escaped; "none"), and the sentence that says why the server's
 * certificate was refused (for a name mismatch: `expected` against them). */
size_t th_cert_names(X509 *x, char *out, size_t cap);
void th_cert_refusal(SSL *ssl, const char *expected, char *out, size_t cap);
/* Retry-After as seconds (at most a day), or -1 if absent or not
 * delta-seconds. */
long th_retry_after(const struct http_msg *m);

#endif
