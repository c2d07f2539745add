/* SPDX-License-Identifier: MIT */
/*
 * tls-http.c — the tls-http plugin: bottom endpoint speaking Simple-VPN
 * (TLS + an HTTP/1.1 upgrade) as a client or as a multi-session server.
 * create() picks the role table (server.c, client.c) and the handshake
 * table (svpn-server.c, svpn-client.c); every callback after that goes
 * through them (tls-http.h draws the layers).
 *
 * The option table says which role each option belongs to (`when`): the
 * core writes only that role's defaults and refuses the other role's
 * options, so create() sees a complete, consistent config.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* OpenSSL's read buffer with read_ahead: room for several full records
 * (16 KiB + overhead each), so a busy socket is drained in few read()s. */
#define TH_READ_AHEAD (4 * 16384 + 4096)

#define SERVER .when = "role=server"
#define CLIENT .when = "role=client"
#define REQUIRED .flags = TP_OPT_REQUIRED

/* Every default is written here once; the core writes a role's defaults
 * only for that role and refuses an option of the other role. */
static const struct tp_option th_options[] = {
	TP_OPTION_ENUM(struct th_conf, role, NULL, "client|server",
		       "client connects to url; server listens and accepts many sessions", REQUIRED),
	/* server */
	TP_OPTION_STRING(struct th_conf, listen, "0.0.0.0:8443",
			 "address:port to listen on ([::]:8443 for IPv6)", SERVER),
	/* cert and key are checked by the server role: tls = false needs none */
	TP_OPTION_PATH(struct th_conf, cert, NULL, "certificate chain (PEM); required unless tls = false",
		       SERVER),
	TP_OPTION_PATH(struct th_conf, key, NULL, "private key (PEM); required unless tls = false",
		       SERVER),
	TP_OPTION_PATH(struct th_conf, users, NULL,
		       "htpasswd-style user:hash file ($6$, $y$, $2b$), re-read on SIGHUP", SERVER,
		       REQUIRED),
	TP_OPTION_STRING(struct th_conf, realm, "tunpipe", "Basic realm", SERVER),
	TP_OPTION_STRING(struct th_conf, path, "/vpn", "request path", SERVER),
	TP_OPTION_INT(struct th_conf, max_sessions, "256", 1, 1000000,
		      "concurrent sessions (tunnels up); handshakes have max_handshakes", SERVER),
	TP_OPTION_INT(struct th_conf, handshake_timeout, "10000", 1, 3600000,
		      "ms for TLS + upgrade request", SERVER),
	TP_OPTION_INT(struct th_conf, max_request, "8192", 64, 1048576,
		      "bytes of request line + headers, more gets 431", SERVER),
	TP_OPTION_INT(struct th_conf, max_headers, "64", 1, 256, "header fields, more gets 431",
		      SERVER),
	/* server budgets (budget.c) */
	TP_OPTION_INT(struct th_conf, max_handshakes, "128", 1, 1000000,
		      "concurrent connections not yet authenticated; when full the oldest gives way",
		      SERVER),
	TP_OPTION_INT(struct th_conf, max_handshakes_per_address, "32", 1, 1000000,
		      "of those, from one IPv4 address or IPv6 /64; more are refused", SERVER),
	TP_OPTION_INT(struct th_conf, max_sessions_per_user, "4", 0, 1000000,
		      "sessions one user may hold (0 = unlimited); more get 503", SERVER),
	TP_OPTION_BOOL(struct th_conf, replace_oldest_session, "false",
		       "at max_sessions_per_user, close the user's oldest session instead of "
		       "refusing the new one", SERVER),
	TP_OPTION_BOOL(struct th_conf, allow_insecure_key, "false",
		       "start even if the key file is readable by group or others", SERVER),
	TP_OPTION_ENUM(struct th_conf, proxy_protocol, "off", "off|v1|v2|any",
		       "a PROXY header (HAProxy's) before TLS from trusted_proxies gives the real "
		       "client address; others connect directly", SERVER),
	TP_OPTION_LIST(struct th_conf, trusted_proxies,
		       "prefixes (10.0.0.5/32, fd00::/64) whose connections must start with a "
		       "PROXY header when proxy_protocol is on; with tls = false, the only "
		       "addresses served", SERVER),
	TP_OPTION_BOOL(struct th_conf, tls, "true",
		       "false: plain HTTP for a reverse proxy that terminates TLS (nginx); needs "
		       "trusted_proxies, refuses everyone else, takes the client from "
		       "X-Forwarded-For/Forwarded", SERVER),
	TP_OPTION_ENUM(struct th_conf, client_address_header, "x-forwarded-for",
		       "x-forwarded-for|forwarded",
		       "with tls = false, the one header the proxy writes the client's address "
		       "in; the other is ignored (the proxy may pass on the client's own)", SERVER),
	TP_OPTION_STRING(struct th_conf, fallback, NULL,
			 "HOST:PORT of a web server that gets every request not for the VPN "
			 "(another path, no Upgrade) instead of 404", SERVER),
	TP_OPTION_INT(struct th_conf, fallback_max, "64", 1, 100000,
		      "fallback relays at once; more get 503", SERVER),
	TP_OPTION_INT(struct th_conf, fallback_per_address, "8", 1, 100000,
		      "of those, from one IPv4 address or IPv6 /64; more get 503", SERVER),
	TP_OPTION_INT(struct th_conf, fallback_lifetime, "600", 0, 86400,
		      "seconds a fallback relay may last, however busy; 0 = no limit (an idle one "
		      "is closed after 30 s)", SERVER),
	TP_OPTION_BOOL(struct th_conf, fallback_proxy_protocol, "false",
		       "send the fallback web server a PROXY v1 line naming the client first "
		       "(nginx: listen ... proxy_protocol)", SERVER),
	TP_OPTION_INT(struct th_conf, auth_threads, "0", 0, 64,
		      "password-check threads; 0 = one per online CPU", SERVER),
	TP_OPTION_INT(struct th_conf, auth_cache, "300", 0, 86400,
		      "seconds a verified user/password pair is remembered (a keyed hash, never the "
		      "password) so a reconnect skips crypt; 0 = off", SERVER),
	/* client */
	TP_OPTION_STRING(struct th_conf, url, NULL, "https://host[:port]/path", CLIENT, REQUIRED),
	TP_OPTION_PATH(struct th_conf, ca, NULL,
		       "CA file to verify the server (default: the system store)", CLIENT),
	TP_OPTION_BOOL(struct th_conf, verify, "true",
		       "verify the server certificate and name (do not turn off outside tests)",
		       CLIENT),
	TP_OPTION_STRING(struct th_conf, server_name, NULL,
			 "name for SNI and verification (default: the url's host)", CLIENT),
	TP_OPTION_STRING(struct th_conf, user, NULL, "user name", CLIENT, REQUIRED),
	TP_OPTION_STRING(struct th_conf, password, NULL, "password (or password_file)", CLIENT,
			 .flags = TP_OPT_SECRET),
	TP_OPTION_PATH(struct th_conf, password_file, NULL,
		       "file whose first line is the password", CLIENT),
	TP_OPTION_INT(struct th_conf, reconnect_min, "500", 1, 86400000,
		      "first reconnect delay in ms", CLIENT),
	TP_OPTION_INT(struct th_conf, reconnect_max, "30000", 1, 86400000,
		      "longest reconnect delay in ms", CLIENT),
	TP_OPTION_INT(struct th_conf, auth_retry, "60000", 1, 86400000,
		      "ms to wait after an authentication or stack refusal", CLIENT),
	TP_OPTION_INT(struct th_conf, min_prefix, "16", 1, 32,
		      "shortest IPv4 prefix the server may assign (its on-link network)", CLIENT),
	TP_OPTION_INT(struct th_conf, min_prefix6, "64", 1, 128,
		      "shortest IPv6 prefix the server may assign", CLIENT),
	/* both */
	TP_OPTION_INT(struct th_conf, queue_limit, "1048576", 16384, 1073741824,
		      "bytes waiting for a slow peer per connection; more is dropped and counted"),
	TP_OPTION_INT(struct th_conf, queue_buffers, "2048", 16, 1000000,
		      "pool buffers all connections together may hold queued (keep it below the "
		      "pipeline's max_buffers); each gets at most what is still free"),
	TP_OPTION_INT(struct th_conf, stall_timeout, "15000", 0, 3600000,
		      "ms a peer may leave queued data unread before it is closed; 0 = never"),
	TP_OPTION_ENUM(struct th_conf, tls_min, "1.2", "1.2|1.3", "lowest TLS version"),
	TP_OPTION_INT(struct th_conf, keepalive, "30", 0, 3600,
		      "seconds of silence before TCP keepalive probes; a peer that vanished is "
		      "dropped (and its address freed) within about twice this; 0 = off"),
	TP_OPTION_BOOL(struct th_conf, offload, "true",
		       "agree with a tunpipe peer to carry TUN super-packets whole (the "
		       "Simple-VPN-Offload header); a peer that does not offer it gets plain packets"),
	TP_OPTION_BOOL(struct th_conf, retry_permanent, "false",
		       "keep retrying (every auth_retry ms) after a wrong password (401) or a server "
		       "certificate that fails verification, instead of exiting with status 3 or 4 "
		       "(for a service)", CLIENT),
	TP_OPTION_STRING(struct th_conf, proxy, NULL,
			 "http://[USER[:PASSWORD]@]HOST[:PORT] (port 3128 by default): connect "
			 "through this HTTP proxy with CONNECT; \"none\" ignores https_proxy; unset: "
			 "https_proxy/HTTPS_PROXY unless no_proxy matches", CLIENT,
			 .flags = TP_OPT_SECRET),
	TP_OPTION_PATH(struct th_conf, proxy_password_file, NULL,
		       "file whose first line is the proxy's password (the user is in the proxy URL)",
		       CLIENT),
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

/* The role option's value picks the role and the handshake spoken. */
static const struct {
	const struct th_role *role;
	const struct th_handshake *hs;
} th_roles[] = {
	[TH_CLIENT] = { &th_role_client, &th_hs_svpn_client },
	[TH_SERVER] = { &th_role_server, &th_hs_svpn_server },
};

/* Each counter is named as its field, without the c_. */
#define TH_COUNTER(x) { #x, &c->c_##x }

static int th_counters(struct th_ctx *c)
{
	const struct {
		const char *name;
		uint64_t **p;
	} tab[] = {
		TH_COUNTER(sessions),      TH_COUNTER(auth_failures),  TH_COUNTER(refused),
		TH_COUNTER(bytes_in),      TH_COUNTER(bytes_out),      TH_COUNTER(queue_drops),
		TH_COUNTER(reconnects),    TH_COUNTER(accept_errors),  TH_COUNTER(auth_busy),
		TH_COUNTER(auth_throttled), TH_COUNTER(stalled),       TH_COUNTER(auth_checks),
		TH_COUNTER(auth_cached),
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!(*tab[i].p = c->host->counter(c->st, tab[i].name)))
			return -1;
	return 0;
}

/* A TLS context with every setting of ours but the certificate and key:
 * at create(), and on SIGHUP for the context that replaces the running one. */
static SSL_CTX *th_ssl_new(struct th_ctx *c, char *err, size_t errlen)
{
	SSL_CTX *ssl = SSL_CTX_new(c->role->method());

	if (!ssl) {
		snprintf(err, errlen, "SSL_CTX_new: %s", th_ssl_errstr());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ssl, c->cf->tls_min == 1 ? TLS1_3_VERSION : TLS1_2_VERSION);
	/* We retry SSL_write with the same record buffer, and want whole
	 * records written or nothing (no partial-write bookkeeping). */
	SSL_CTX_clear_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* No SSL_MODE_RELEASE_BUFFERS: under load it frees and reallocates
	 * the read and write buffers around every record, a malloc/free pair
	 * per 16 KiB each way; keeping them costs ~85 KiB per connection. */
	SSL_CTX_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read ahead into a buffer of several records: without it OpenSSL
	 * reads each record with two read() calls (header, then body); with
	 * it one read() brings in a whole record and often more (measured:
	 * ~19 KiB per read() under iperf3 load).  conn-io.c reads until
	 * WANT_READ, so nothing is left in OpenSSL's buffer unseen. */
	SSL_CTX_set_read_ahead(ssl, 1);
	SSL_CTX_set_default_read_buffer_len(ssl, TH_READ_AHEAD);
	SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
	return ssl;
}

/* "AB:CD:…" of the context's certificate (empty when it has none). */
static void th_fingerprint(SSL_CTX *ssl, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *x = SSL_CTX_get0_certificate(ssl);

	out[0] = 0;
	if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1)
		return;
	for (unsigned int i = 0; i < n && 3 * (size_t)i + 3 <= cap; i++)
		snprintf(out + 3 * i, cap - 3 * i, "%02X:", md[i]);
	if (out[0])
		out[strlen(out) - 1] = 0; /* the last ':' */
}

/*
 * SIGHUP: the certificate and key go into a fresh context, which replaces
 * the running one only when the pair loads and matches; new handshakes use
 * it.  Each live connection's SSL holds a reference to the context it was
 * made from, so freeing ours leaves them running on the old pair.
 */
static void th_reload_keys(struct th_ctx *c)
{
	char err[512] = "", fp[3 * EVP_MAX_MD_SIZE + 1];
	SSL_CTX *ssl;

	if (!c->role->load_keys || th_plain(c->cf))
		return;
	ssl = th_ssl_new(c, err, sizeof(err));
	if (!ssl || c->role->load_keys(c, ssl, err, sizeof(err)) < 0) {
		TH_LOG(c, TP_LOG_ERROR, "reload: %s; keeping the previous certificate and key", err);
		SSL_CTX_free(ssl);
		ERR_clear_error();
		return;
	}
	SSL_CTX_free(c->ssl);
	c->ssl = c->env.ssl = ssl;
	th_fingerprint(ssl, fp, sizeof(fp));
	TH_LOG(c, TP_LOG_INFO, "reloaded certificate %s (SHA-256 %s) and key %s; new handshakes use them",
	       c->cf->cert, fp, c->cf->key);
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
	c->cf = config; /* valid until destroy(), defaults filled in by the core */
	const struct th_conf *cf = c->cf;

	c->role = th_roles[cf->role].role;
	c->hs = th_roles[cf->role].hs;

	if (!(c->ssl = th_ssl_new(c, err, errlen)))
		goto fail;
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
	c->env.queue_buffers = (size_t)cf->queue_buffers;
	c->env.queued_total = &c->queued_total;
	c->env.stall_ms = (uint64_t)cf->stall_timeout;
	c->env.c_stalled = c->c_stalled;
	c->env.keepalive = (int)cf->keepalive;
	c->env.plain = th_plain(cf);
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
	if (ev->type == TP_EV_RELOAD) {
		th_reload_keys(c);
		if (c->hs->reload)
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

TP_PLUGIN_DEFINE(.name = "tls-http", .kind = TP_KIND_SINK,
		 .description = "Simple-VPN transport: TLS + HTTP/1.1 upgrade, client or multi-session server",
		 .top = TP_DATA_STREAM, .bottom = TP_DATA_NONE,
		 .options = th_options, .config_size = sizeof(struct th_conf),
		 .create = th_create, .start = th_start, .stop = th_stop, .destroy = th_destroy,
		 .down = th_down, .event = th_event);
