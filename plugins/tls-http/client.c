/*
 * client.c — the connecting side of tls-http: connect, TLS with peer
 * verification, the upgrade request, the 101, and reconnecting.
 *
 * Failures are not fatal for a client: the TUN device outlives the
 * connection and we retry, with exponential backoff (±20% jitter so a
 * fleet of clients does not reconnect in lock-step) for transport errors,
 * and a long fixed wait (auth_retry) when the server said no to our
 * credentials or stack — hammering it would not change its mind.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "handshake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define MAX_RESPONSE_HEADERS 64

int th_client_parse_url(struct th_ctx *c, const char *url, char *err, size_t errlen)
{
	char auth[300];
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "url '%s': must start with https://", url);
		return -1;
	}
	const char *a = url + 8;
	const char *slash = strchr(a, '/');
	size_t al = slash ? (size_t)(slash - a) : strlen(a);
	if (al == 0 || al >= sizeof(auth) || memchr(a, '@', al)) {
		snprintf(err, errlen, "url '%s': bad host part", url);
		return -1;
	}
	memcpy(auth, a, al);
	auth[al] = '\0';
	snprintf(c->port, sizeof(c->port), "443");
	if (th_split_hostport(auth, c->uhost, sizeof(c->uhost), c->port, sizeof(c->port)) < 0) {
		snprintf(err, errlen, "url '%s': bad host or port", url);
		return -1;
	}
	snprintf(c->host_hdr, sizeof(c->host_hdr), "%s", auth);
	const char *path = slash ? slash : "/";
	if (strlen(path) >= sizeof(c->path) || strpbrk(path, " \t\r\n")) {
		snprintf(err, errlen, "url '%s': bad path", url);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	return 0;
}

static void client_connect(void *arg);

static uint64_t jitter(uint64_t ms)
{
	uint32_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)ms * 2654435761u;
	/* 0.8 .. 1.2 times ms */
	return ms * 8 / 10 + (uint64_t)((double)ms * 0.4 * ((double)r / 4294967295.0));
}

static void schedule(struct th_ctx *c, uint64_t ms)
{
	if (c->retry)
		c->host->timer_cancel(c->st, c->retry);
	c->retry = c->host->timer_add(c->st, ms, client_connect, c);
	if (!c->retry)
		TH_LOG(c, TP_LOG_ERROR, "cannot schedule a reconnect timer");
}

/* A connection attempt or session ended (k->why says why): free it and
 * plan the next attempt. */
void th_client_failed(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	int was_up = k->state == CS_UP, auth = k->auth_fail;
	uint64_t lasted = was_up ? c->host->now_ms(c->st) - k->up_since : 0;

	if (was_up)
		TH_LOG(c, TP_LOG_WARN, "connection to %s lost: %s", c->cf->url, k->why);
	else if (!auth)
		TH_LOG(c, TP_LOG_WARN, "cannot connect to %s: %s", c->cf->url, k->why);
	th_conn_free(k);
	if (!c->started)
		return;
	uint64_t delay;
	if (auth) {
		delay = (uint64_t)c->cf->auth_retry;
	} else {
		if (was_up && lasted > TH_STABLE_MS)
			c->backoff = (uint64_t)c->cf->reconnect_min;
		delay = jitter(c->backoff);
		c->backoff *= 2;
		if (c->backoff > (uint64_t)c->cf->reconnect_max)
			c->backoff = (uint64_t)c->cf->reconnect_max;
	}
	(*c->c_reconnects)++;
	TH_LOG(c, TP_LOG_DEBUG, "reconnecting in %llu ms", (unsigned long long)delay);
	schedule(c, delay);
}

static void client_connect(void *arg)
{
	struct th_ctx *c = arg;
	struct addrinfo hints, *ai = NULL;
	char peer[64];
	int fd = -1, rc;

	c->retry = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* Blocking for a host name (the loop has no resolver); numeric
	 * addresses return at once. */
	if ((rc = getaddrinfo(c->uhost, c->port, &hints, &ai)) != 0) {
		TH_LOG(c, TP_LOG_WARN, "cannot resolve %s: %s", c->uhost, gai_strerror(rc));
		goto retry;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		TH_LOG(c, TP_LOG_WARN, "cannot connect to %s: %s", c->cf->url, strerror(errno));
		goto retry;
	}
	snprintf(peer, sizeof(peer), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", c->uhost, c->port);
	freeaddrinfo(ai);
	ai = NULL;
	struct th_conn *k = th_conn_new(c, fd, peer);
	if (!k) {
		TH_LOG(c, TP_LOG_ERROR, "cannot register the connection to %s", c->cf->url);
		goto retry;
	}
	k->state = CS_CONNECTING;
	c->cc = k;
	if (th_conn_arm_timeout(k, TH_CLIENT_HS_TIMEOUT) < 0)
		th_conn_close(k, "cannot arm the handshake timer");
	return;
retry:
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	(*c->c_reconnects)++;
	uint64_t delay = jitter(c->backoff);
	c->backoff = c->backoff * 2 > (uint64_t)c->cf->reconnect_max ? (uint64_t)c->cf->reconnect_max
								      : c->backoff * 2;
	schedule(c, delay);
}

void th_client_connected(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	unsigned char ip[16];

	if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(k->why, sizeof(k->why), "connect: %s", strerror(soerr));
		th_conn_close(k, k->why);
		return;
	}
	if (th_conn_start_tls(k) < 0)
		goto fail;
	const char *name = c->cf->server_name ? c->cf->server_name : c->uhost;
	int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	/* RFC 6066: SNI carries host names only, never address literals. */
	if (!is_ip && SSL_set_tlsext_host_name(k->ssl, name) != 1)
		goto fail;
	if (c->cf->verify) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(k->ssl);
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) : SSL_set1_host(k->ssl, name);
		if (ok != 1)
			goto fail;
	}
	return;
fail:
	snprintf(k->why, sizeof(k->why), "TLS setup: %s", th_ssl_errstr());
	th_conn_close(k, k->why);
}

void th_client_tls_done(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	k->rec_len = hs_build_request((char *)k->rec, sizeof(k->rec), c->host_hdr, c->path,
				      c->cf->user, c->password, c->host->stack(c->st));
	if (!k->rec_len)
		th_conn_close(k, "request too large (user/password too long?)");
}

static void log_refusal(struct th_conn *k, const struct http_msg *m)
{
	struct th_ctx *c = k->ctx;
	char body[256];
	size_t bl = k->head_len - m->head_len, o = 0;
	/* The server's text body, printable characters only. */
	for (size_t i = 0; i < bl && o + 1 < sizeof(body); i++) {
		char ch = k->head[m->head_len + i];
		if (ch == '\n' || ch == '\r')
			continue;
		body[o++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	body[o] = '\0';
	if (m->status == 401) {
		(*c->c_auth_failures)++;
		TH_LOG(c, c->auth_failed_logged ? TP_LOG_DEBUG : TP_LOG_ERROR,
		       "authentication failed for user %s at %s", c->cf->user, c->cf->url);
		c->auth_failed_logged = 1;
		k->auth_fail = 1;
	} else if (m->status == 409) {
		TH_LOG(c, TP_LOG_ERROR, "%s refused our stack: %s", c->cf->url,
		       body[0] ? body : "409 Conflict");
		k->auth_fail = 1;
	} else {
		(*c->c_refused)++;
		TH_LOG(c, TP_LOG_WARN, "%s answered %d %s: %s", c->cf->url, m->status, m->reason, body);
	}
	snprintf(k->why, sizeof(k->why), "server answered %d", m->status);
	th_conn_close(k, k->why);
}

void th_client_http(struct th_conn *k)
{
	struct th_ctx *c = k->ctx;
	struct http_header hdrs[MAX_RESPONSE_HEADERS];
	struct http_msg m;
	struct tp_session_info info;
	char peer_stack[128], err[160], a[64], g[64];
	const char *eof = NULL;

	if (k->rec_len)
		return; /* the request is still going out */
	explicit_bzero(k->rec, sizeof(k->rec)); /* it held our password */
	/* The server closes right after an error answer: parse what arrived
	 * before deciding how to report the close. */
	int e = th_conn_read_head(k);
	if (e)
		eof = e == SSL_ERROR_ZERO_RETURN ? "server closed before answering" : th_ssl_errstr();
	switch (http_parse(k->head, k->head_len, 1, k->head_cap, hdrs, MAX_RESPONSE_HEADERS, &m)) {
	case HTTP_MORE:
		if (eof)
			th_conn_close(k, eof);
		return;
	case HTTP_DONE:
		break;
	default:
		th_conn_close(k, "malformed HTTP response from server");
		return;
	}
	if (m.status != 101) {
		log_refusal(k, &m);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (hs_parse_101(&m, &info, peer_stack, sizeof(peer_stack), err, sizeof(err)) < 0) {
		th_conn_close(k, err);
		return;
	}
	const char *ours = c->host->stack(c->st);
	if (strcmp(peer_stack, ours) != 0) {
		TH_LOG(c, TP_LOG_ERROR, "stack mismatch: server uses %s, we use %s", peer_stack, ours);
		k->auth_fail = 1;
		th_conn_close(k, "stack mismatch");
		return;
	}
	info.flags = TP_SI_LOCAL;
	snprintf(info.user, sizeof(info.user), "%s", c->cf->user);
	snprintf(info.peer, sizeof(info.peer), "%s", k->peer);
	struct tp_session *s = c->host->session_open(c->st, k);
	if (!s) {
		th_conn_close(k, "cannot open a session");
		return;
	}
	k->s = s;
	th_conn_established(k);
	if (c->host->session_up(c->st, s, &info) < 0) {
		th_conn_close(k, "session_up refused");
		return;
	}
	(*c->c_sessions)++;
	c->auth_failed_logged = 0;
	hs_format_prefix(&info.addr4, 1, a, sizeof(a));
	hs_format_prefix(&info.gw4, 0, g, sizeof(g));
	if (info.mtu)
		TH_LOG(c, TP_LOG_INFO, "connected to %s: address %s gateway %s mtu %u", c->cf->url, a, g,
		       info.mtu);
	else
		TH_LOG(c, TP_LOG_INFO, "connected to %s: address %s gateway %s", c->cf->url, a, g);
	th_conn_push_up(k, k->head + m.head_len, k->head_len - m.head_len);
	if (eof)
		th_conn_close(k, eof);
}

int th_client_start(struct th_ctx *c)
{
	c->backoff = (uint64_t)c->cf->reconnect_min;
	client_connect(c);
	return 0;
}

void th_client_stop(struct th_ctx *c)
{
	if (c->retry) {
		c->host->timer_cancel(c->st, c->retry);
		c->retry = NULL;
	}
	if (c->cc) {
		snprintf(c->cc->why, sizeof(c->cc->why), "client stopping");
		th_conn_free(c->cc);
	}
}
