/*
 * tls-http.c — the tls-http plugin: bottom endpoint speaking Simple-VPN
 * (TLS + an HTTP/1.1 upgrade) as a client or as a multi-session server.
 * create() picks the role table (server.c, client.c) and the handshake
 * table (svpn-server.c, svpn-client.c); every callback after that goes
 * through them (tls-http.h draws the layers).
 *
 * Role-specific options have no table default (their defaults are applied
 * in create(), by the role table's defaults()), because that is the only
 * way to tell "not given" from "given with the default value" and so
 * refuse options of the other role.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	if (c->hs && c->hs->destroy)
		c->hs->destroy(c);
	if (c->role && c->role->destroy)
		c->role->destroy(c);
	SSL_CTX_free(c->ssl);
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

/* The role option's value picks the role and the handshake spoken. */
static const struct {
	const struct th_role *role;
	const struct th_handshake *hs;
} th_roles[] = {
	[TH_CLIENT] = { &th_role_client, &th_hs_svpn_client },
	[TH_SERVER] = { &th_role_server, &th_hs_svpn_server },
};

static int th_counters(struct th_ctx *c)
{
	struct tp_stage *st = c->st;
	const struct tp_host *host = c->host;
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
	    !c->c_auth_busy || !c->c_auth_throttled)
		return -1;
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
	c->role = th_roles[cf->role].role;
	c->hs = th_roles[cf->role].hs;
	c->role->defaults(cf);
	/* Both roles; no table default only because the table's rows do
	 * not say so yet (see README). */
	if (!cf->queue_limit)
		cf->queue_limit = 1048576;

	c->ssl = SSL_CTX_new(c->role->method());
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
	 * ~19 KiB per read() under iperf3 load).  conn-io.c reads until
	 * WANT_READ, so nothing is left in OpenSSL's buffer unseen. */
	SSL_CTX_set_read_ahead(c->ssl, 1);
	SSL_CTX_set_default_read_buffer_len(c->ssl, TH_READ_AHEAD);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
	if (c->role->setup(c, err, errlen) < 0 || (c->hs->setup && c->hs->setup(c, err, errlen) < 0))
		goto fail;
	if (th_counters(c) < 0) {
		snprintf(err, errlen, "cannot register counters");
		goto fail;
	}
	c->env.st = st;
	c->env.host = host;
	c->env.ssl = c->ssl;
	c->env.queue_limit = (size_t)cf->queue_limit;
	c->env.keepalive = (int)cf->keepalive;
	c->env.c_bytes_in = c->c_bytes_in;
	c->env.c_bytes_out = c->c_bytes_out;
	c->env.c_queue_drops = c->c_queue_drops;
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
	if (c->hs->start && c->hs->start(c) < 0)
		return -1;
	c->started = 1;
	if (c->role->start(c) < 0) {
		c->started = 0;
		if (c->hs->stop)
			c->hs->stop(c);
		return -1;
	}
	return 0;
}

static void th_stop(void *ctx)
{
	struct th_ctx *c = ctx;
	c->started = 0;
	c->role->stop(c); /* the links first: they may still hold handshake work */
	if (c->hs->stop)
		c->hs->stop(c);
}

static void th_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct th_ctx *c = ctx;
	struct th_link *l = th_link_of(c, s);
	if (!l) {
		*c->c_queue_drops += q->count;
		c->host->batch_free(c->st, q);
		return;
	}
	struct th_conn *k = l->io;
	th_conn_enter(k);
	th_conn_queue(k, q);
	th_conn_leave(k);
}

static void th_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct th_ctx *c = ctx;
	if (ev->type == TP_EV_RELOAD && c->hs->reload) {
		c->hs->reload(c);
	} else if (ev->type == TP_EV_CLOSE_REQUEST) {
		struct th_link *l = th_link_of(c, s);
		if (!l)
			return;
		struct th_conn *k = l->io;
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
