/*
 * tls-http.c — the tls-http plugin: bottom endpoint speaking Simple-VPN
 * (TLS + an HTTP/1.1 upgrade) as a client or as a multi-session server.
 *
 * Role-specific options have no table default (their defaults are applied
 * in create()), because that is the only way to tell "not given" from
 * "given with the default value" and so refuse options of the other role.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "auth.h"
#include "authworker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <openssl/err.h>

#define OFF(f) offsetof(struct th_conf, f)

/* OpenSSL's read buffer with read_ahead: room for several full records
 * (16 KiB + overhead each), so a busy socket is drained in few read()s. */
#define TH_READ_AHEAD (4 * 16384 + 4096)

static const struct tp_option th_options[] = {
	{ TP_OPT_ENUM, "role", NULL, TP_OPT_REQUIRED, 0, 0, "client|server", OFF(role),
	  "client connects to url; server listens and accepts many sessions" },
	/* server */
	{ TP_OPT_STRING, "listen", NULL, 0, 0, 0, NULL, OFF(listen),
	  "server: address:port to listen on (default 0.0.0.0:8443; [::]:8443 for IPv6)" },
	{ TP_OPT_PATH, "cert", NULL, 0, 0, 0, NULL, OFF(cert), "server: certificate chain (PEM), required" },
	{ TP_OPT_PATH, "key", NULL, 0, 0, 0, NULL, OFF(key), "server: private key (PEM), required" },
	{ TP_OPT_PATH, "users", NULL, 0, 0, 0, NULL, OFF(users),
	  "server: htpasswd-style user:hash file ($6$, $y$, $2b$), re-read on SIGHUP; required" },
	{ TP_OPT_STRING, "realm", NULL, 0, 0, 0, NULL, OFF(realm), "server: Basic realm (default tunpipe)" },
	{ TP_OPT_STRING, "path", NULL, 0, 0, 0, NULL, OFF(path), "server: request path (default /vpn)" },
	{ TP_OPT_INT, "max_sessions", NULL, 0, 1, 1000000, NULL, OFF(max_sessions),
	  "server: concurrent connections, handshaking ones included (default 256)" },
	{ TP_OPT_INT, "handshake_timeout", NULL, 0, 1, 3600000, NULL, OFF(handshake_timeout),
	  "server: ms for TLS + upgrade request (default 10000)" },
	{ TP_OPT_INT, "max_request", NULL, 0, 64, 1048576, NULL, OFF(max_request),
	  "server: bytes of request line + headers, more gets 431 (default 8192)" },
	{ TP_OPT_INT, "max_headers", NULL, 0, 1, 256, NULL, OFF(max_headers),
	  "server: header fields, more gets 431 (default 64)" },
	{ TP_OPT_INT, "queue_limit", NULL, 0, 16384, 1073741824, NULL, OFF(queue_limit),
	  "bytes waiting for a slow peer per connection; more is dropped and counted (default 1048576)" },
	/* client */
	{ TP_OPT_STRING, "url", NULL, 0, 0, 0, NULL, OFF(url), "client: https://host[:port]/path, required" },
	{ TP_OPT_PATH, "ca", NULL, 0, 0, 0, NULL, OFF(ca),
	  "client: CA file to verify the server (default: the system store)" },
	{ TP_OPT_BOOL, "verify", "true", 0, 0, 0, NULL, OFF(verify),
	  "client: verify the server certificate and name (do not turn off outside tests)" },
	{ TP_OPT_STRING, "server_name", NULL, 0, 0, 0, NULL, OFF(server_name),
	  "client: name for SNI and verification (default: the url's host)" },
	{ TP_OPT_STRING, "user", NULL, 0, 0, 0, NULL, OFF(user), "client: user name, required" },
	{ TP_OPT_STRING, "password", NULL, TP_OPT_SECRET, 0, 0, NULL, OFF(password),
	  "client: password (or password_file)" },
	{ TP_OPT_PATH, "password_file", NULL, 0, 0, 0, NULL, OFF(password_file),
	  "client: file whose first line is the password" },
	{ TP_OPT_INT, "reconnect_min", NULL, 0, 1, 86400000, NULL, OFF(reconnect_min),
	  "client: first reconnect delay in ms (default 500)" },
	{ TP_OPT_INT, "reconnect_max", NULL, 0, 1, 86400000, NULL, OFF(reconnect_max),
	  "client: longest reconnect delay in ms (default 30000)" },
	{ TP_OPT_INT, "auth_retry", NULL, 0, 1, 86400000, NULL, OFF(auth_retry),
	  "client: ms to wait after an authentication or stack refusal (default 60000)" },
	/* both */
	{ TP_OPT_ENUM, "tls_min", "1.2", 0, 0, 0, "1.2|1.3", OFF(tls_min), "lowest TLS version" },
	{ TP_OPT_INT, "keepalive", "30", 0, 0, 3600, NULL, OFF(keepalive),
	  "seconds of silence before TCP keepalive probes; a peer that vanished is dropped "
	  "(and its address freed) within about twice this; 0 = off" },
	TP_OPTIONS_END
};

static void th_destroy(void *ctx)
{
	struct th_ctx *c = ctx;
	if (!c)
		return;
	aw_free(c->aw); /* normally gone with stop(); joins the thread */
	auth_free(c->users);
	SSL_CTX_free(c->ssl);
	explicit_bzero(c->password, sizeof(c->password));
	free(c);
}

/* The option `name` was given (non-zero) but belongs to the other role. */
#define OTHER_ROLE(field, name, role)                                                     \
	do {                                                                              \
		if (cf->field) {                                                          \
			snprintf(err, errlen, "option '%s' is only valid with role = %s", \
				 name, role);                                             \
			goto fail;                                                        \
		}                                                                         \
	} while (0)

#define DEFAULT(field, v) do { if (!cf->field) cf->field = (v); } while (0)

/*
 * The one OpenSSL error formatter of the plugin (create() and the data path
 * both use it).  The earliest queued error is the root cause ("no start
 * line", "wrong version number"); later ones only add context.  With an
 * empty queue a failed socket call left errno; with neither, the peer
 * simply closed.  Clears the queue so the next call starts clean.
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

static int read_password_file(struct th_ctx *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "password_file %s: %s", path, strerror(errno));
		return -1;
	}
	int ok = fgets(c->password, sizeof(c->password), f) != NULL;
	fclose(f);
	c->password[strcspn(c->password, "\r\n")] = '\0';
	if (!ok || !c->password[0]) {
		snprintf(err, errlen, "password_file %s: empty first line", path);
		return -1;
	}
	return 0;
}

/* A missing or unreadable file is the usual mistake: say it plainly
 * rather than through OpenSSL's error string. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int setup_server(struct th_ctx *c, char *err, size_t errlen)
{
	struct th_conf *cf = &c->conf;
	char h[128], p[8];
	if (!cf->cert || !cf->key || !cf->users) {
		snprintf(err, errlen, "role = server needs option '%s'",
			 !cf->cert ? "cert" : !cf->key ? "key" : "users");
		return -1;
	}
	if (th_split_hostport(cf->listen, h, sizeof(h), p, sizeof(p)) < 0) {
		snprintf(err, errlen, "listen '%s': expected address:port or [v6]:port", cf->listen);
		return -1;
	}
	if (readable("cert", cf->cert, err, errlen) < 0 || readable("key", cf->key, err, errlen) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(c->ssl, cf->cert) != 1) {
		snprintf(err, errlen, "cert %s: %s", cf->cert, th_ssl_errstr());
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl, cf->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "key %s: %s", cf->key, th_ssl_errstr());
		return -1;
	}
	if (SSL_CTX_check_private_key(c->ssl) != 1) {
		snprintf(err, errlen, "key %s does not match cert %s", cf->key, cf->cert);
		return -1;
	}
	if (!(c->users = auth_load(cf->users, err, errlen)))
		return -1;
	/* The seed keeps clients from aiming addresses at one limiter set. */
	uint32_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)c;
	auth_lim_init(&c->lim, TH_AUTH_MAX_FAILS, TH_AUTH_WINDOW_MS, seed);
	return 0;
}

static int setup_client(struct th_ctx *c, char *err, size_t errlen)
{
	struct th_conf *cf = &c->conf;
	if (!cf->url || !cf->user || (!cf->password && !cf->password_file)) {
		snprintf(err, errlen, "role = client needs option '%s'",
			 !cf->url ? "url" : !cf->user ? "user" : "password' or 'password_file");
		return -1;
	}
	if (cf->password && cf->password_file) {
		snprintf(err, errlen, "give either 'password' or 'password_file', not both");
		return -1;
	}
	if (strchr(cf->user, ':') || !cf->user[0]) {
		snprintf(err, errlen, "user '%s': must be non-empty without ':'", cf->user);
		return -1;
	}
	if (cf->reconnect_min > cf->reconnect_max) {
		snprintf(err, errlen, "reconnect_min (%lld) is larger than reconnect_max (%lld)",
			 (long long)cf->reconnect_min, (long long)cf->reconnect_max);
		return -1;
	}
	if (th_client_parse_url(c, cf->url, err, errlen) < 0)
		return -1;
	if (cf->password) {
		if (strlen(cf->password) >= sizeof(c->password)) {
			snprintf(err, errlen, "password too long");
			return -1;
		}
		snprintf(c->password, sizeof(c->password), "%s", cf->password);
	} else if (read_password_file(c, cf->password_file, err, errlen) < 0) {
		return -1;
	}
	SSL_CTX_set_verify(c->ssl, cf->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (cf->ca) {
		if (readable("ca", cf->ca, err, errlen) < 0)
			return -1;
		if (SSL_CTX_load_verify_locations(c->ssl, cf->ca, NULL) != 1) {
			snprintf(err, errlen, "ca %s: %s", cf->ca, th_ssl_errstr());
			return -1;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
		snprintf(err, errlen, "cannot load the system CA store: %s", th_ssl_errstr());
		return -1;
	}
	return 0;
}

static void *th_create(struct tp_stage *st, const struct tp_host *host, const void *config,
		       char *err, size_t errlen)
{
	struct th_ctx *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->st = st;
	c->host = host;
	c->conf = *(const struct th_conf *)config;
	c->cf = &c->conf;
	c->lfd = -1;
	struct th_conf *cf = &c->conf;

	if (cf->role == TH_SERVER) {
		OTHER_ROLE(url, "url", "client");
		OTHER_ROLE(ca, "ca", "client");
		OTHER_ROLE(server_name, "server_name", "client");
		OTHER_ROLE(user, "user", "client");
		OTHER_ROLE(password, "password", "client");
		OTHER_ROLE(password_file, "password_file", "client");
		OTHER_ROLE(reconnect_min, "reconnect_min", "client");
		OTHER_ROLE(reconnect_max, "reconnect_max", "client");
		OTHER_ROLE(auth_retry, "auth_retry", "client");
	} else {
		OTHER_ROLE(listen, "listen", "server");
		OTHER_ROLE(cert, "cert", "server");
		OTHER_ROLE(key, "key", "server");
		OTHER_ROLE(users, "users", "server");
		OTHER_ROLE(realm, "realm", "server");
		OTHER_ROLE(path, "path", "server");
		OTHER_ROLE(max_sessions, "max_sessions", "server");
		OTHER_ROLE(handshake_timeout, "handshake_timeout", "server");
		OTHER_ROLE(max_request, "max_request", "server");
		OTHER_ROLE(max_headers, "max_headers", "server");
	}
	DEFAULT(listen, "0.0.0.0:8443");
	DEFAULT(realm, "tunpipe");
	DEFAULT(path, "/vpn");
	DEFAULT(max_sessions, 256);
	DEFAULT(handshake_timeout, 10000);
	DEFAULT(max_request, 8192);
	DEFAULT(max_headers, 64);
	DEFAULT(queue_limit, 1048576);
	DEFAULT(reconnect_min, 500);
	DEFAULT(reconnect_max, 30000);
	DEFAULT(auth_retry, 60000);
	if (strchr(cf->realm, '"') || strpbrk(cf->realm, "\r\n")) {
		snprintf(err, errlen, "realm must not contain quotes or line breaks");
		goto fail;
	}
	if (cf->path[0] != '/' || strpbrk(cf->path, " \t\r\n?")) {
		snprintf(err, errlen, "path '%s' must start with / and contain no spaces or '?'", cf->path);
		goto fail;
	}

	c->ssl = SSL_CTX_new(cf->role == TH_SERVER ? TLS_server_method() : TLS_client_method());
	if (!c->ssl) {
		snprintf(err, errlen, "SSL_CTX_new: %s", th_ssl_errstr());
		goto fail;
	}
	SSL_CTX_set_min_proto_version(c->ssl, cf->tls_min == 1 ? TLS1_3_VERSION : TLS1_2_VERSION);
	/* We retry SSL_write with the same record buffer, and want whole
	 * records written or nothing (no partial-write bookkeeping). */
	SSL_CTX_clear_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* No SSL_MODE_RELEASE_BUFFERS: under load it frees and reallocates
	 * the read and write buffers around every record, a malloc/free pair
	 * per 16 KiB each way; keeping them costs ~85 KiB per connection. */
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read ahead into a buffer of several records: without it OpenSSL
	 * reads each record with two read() calls (header, then body); with
	 * it one read() brings in a whole record and often more (measured:
	 * ~19 KiB per read() under iperf3 load).  conn.c reads
	 * until WANT_READ, so nothing is left in OpenSSL's buffer unseen. */
	SSL_CTX_set_read_ahead(c->ssl, 1);
	SSL_CTX_set_default_read_buffer_len(c->ssl, TH_READ_AHEAD);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
	if ((cf->role == TH_SERVER ? setup_server(c, err, errlen) : setup_client(c, err, errlen)) < 0)
		goto fail;

	c->c_sessions = host->counter(st, "sessions");
	c->c_auth_failures = host->counter(st, "auth_failures");
	c->c_refused = host->counter(st, "refused");
	c->c_bytes_in = host->counter(st, "bytes_in");
	c->c_bytes_out = host->counter(st, "bytes_out");
	c->c_queue_drops = host->counter(st, "queue_drops");
	c->c_reconnects = host->counter(st, "reconnects");
	c->c_accept_errors = host->counter(st, "accept_errors");
	c->c_auth_busy = host->counter(st, "auth_busy");
	c->c_auth_throttled = host->counter(st, "auth_throttled");
	if (!c->c_sessions || !c->c_auth_failures || !c->c_refused || !c->c_bytes_in ||
	    !c->c_bytes_out || !c->c_queue_drops || !c->c_reconnects || !c->c_accept_errors ||
	    !c->c_auth_busy || !c->c_auth_throttled) {
		snprintf(err, errlen, "cannot register counters");
		goto fail;
	}
	if (cf->role == TH_CLIENT && !cf->verify)
		host->log(st, TP_LOG_WARN, "verify = false: the server is NOT authenticated");
	return c;
fail:
	ERR_clear_error();
	th_destroy(c);
	return NULL;
}

static int th_start(void *ctx)
{
	struct th_ctx *c = ctx;
	/* SIGPIPE (SSL_write to a reset peer) is the host's business: the
	 * core ignores it before any plugin starts, and a library must not
	 * change process-wide signal dispositions behind its host's back. */
	c->started = 1;
	int r = c->cf->role == TH_SERVER ? th_server_start(c) : th_client_start(c);
	if (r < 0)
		c->started = 0;
	return r;
}

static void th_stop(void *ctx)
{
	struct th_ctx *c = ctx;
	c->started = 0;
	if (c->cf->role == TH_SERVER)
		th_server_stop(c);
	else
		th_client_stop(c);
}

static struct th_conn *conn_of(struct th_ctx *c, struct tp_session *s)
{
	if (s)
		return c->host->session_tag(s);
	return c->cf->role == TH_CLIENT ? c->cc : NULL;
}

static void th_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct th_ctx *c = ctx;
	struct th_conn *k = conn_of(c, s);
	if (!k) {
		*c->c_queue_drops += q->count;
		c->host->batch_free(c->st, q);
		return;
	}
	th_conn_enter(k);
	th_conn_queue(k, q);
	th_conn_leave(k);
}

static void th_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct th_ctx *c = ctx;
	if (ev->type == TP_EV_RELOAD && c->cf->role == TH_SERVER) {
		th_server_reload(c);
	} else if (ev->type == TP_EV_CLOSE_REQUEST) {
		struct th_conn *k = conn_of(c, s);
		if (!k)
			return;
		th_conn_enter(k);
		th_conn_close(k, ev->reason ? ev->reason : "closed on request");
		th_conn_leave(k);
	}
}

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "tls-http",
	.kind = TP_KIND_SINK,
	.description = "Simple-VPN transport: TLS + HTTP/1.1 upgrade, client or multi-session server",
	.top = TP_DATA_STREAM,
	.bottom = TP_DATA_NONE,
	.options = th_options,
	.config_size = sizeof(struct th_conf),
	.create = th_create,
	.start = th_start,
	.stop = th_stop,
	.destroy = th_destroy,
	.down = th_down,
	.up = NULL,
	.event = th_event,
};
