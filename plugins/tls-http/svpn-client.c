/* SPDX-License-Identifier: MIT */
/*
 * svpn-client.c — the client side of the Simple-VPN handshake
 * (th_hs_svpn_client): send the upgrade request with Basic credentials,
 * read the answer, and either go up with the addresses of the 101 or
 * report the refusal (a 401 or 409 marks the link refused, so the client
 * role waits auth_retry before the next attempt).  A 101 is applied only
 * within bounds (svpn-check.c); one that is not is refused like a 401.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "svpn-offload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define MAX_RESPONSE_HEADERS 64

/* The handshake's own part of the context (c->hs_priv). */
struct svc {
	struct th_url url;        /* Host header and path of the request */
	char password[256];
	int auth_failed_logged;   /* log a 401 loudly once, then at debug */
};

static void svc_begin(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct svc *sv = c->hs_priv;
	TH_LOG(c, TP_LOG_INFO, "TLS up with %s: %s, %s", l->io->peer, SSL_get_version(l->io->ssl),
	       SSL_get_cipher_name(l->io->ssl));
	size_t n = hs_build_request((char *)th_conn_wbuf(l->io), TH_RECORD, sv->url.host_hdr,
				    sv->url.path, c->cf->user, sv->password, c->host->stack(c->st));
	if (n && c->cf->offload) /* offer super-packets (svpn-offload.h) */
		n = th_offload_append((char *)th_conn_wbuf(l->io), n, TH_RECORD);
	/* secret: the record is wiped once written (it holds the password) */
	if (!n || th_conn_send(l->io, n, 1) < 0)
		th_conn_close(l->io, "request too large (user/password too long?)");
}

static void log_refusal(struct th_link *l, const struct http_msg *m)
{
	struct th_ctx *c = l->ctx;
	struct svc *sv = c->hs_priv;
	char body[256], reason[128], why[40];
	size_t bl = l->head_len - m->head_len, o = 0;
	long ra = th_retry_after(m);
	/* The server's text body, printable characters only. */
	for (size_t i = 0; i < bl && o + 1 < sizeof(body); i++) {
		char ch = l->head[m->head_len + i];
		if (ch == '\n' || ch == '\r')
			continue;
		body[o++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	body[o] = '\0';
	th_escape(reason, sizeof(reason), m->reason, strlen(m->reason));
	/* RFC 9110 10.2.3: a busy (503) or rate-limiting (429) server says
	 * when to come back; cli_closed() waits at least that long. */
	if (ra >= 0) {
		l->retry_after = (uint64_t)ra * 1000;
		TH_LOG(c, TP_LOG_INFO, "%s asks us to retry after %ld s", c->cf->url, ra);
	}
	if (m->status == 401) {
		(*c->c_auth_failures)++;
		TH_LOG(c, sv->auth_failed_logged ? TP_LOG_DEBUG : TP_LOG_ERROR,
		       "authentication failed for user %s at %s", c->cf->user, c->cf->url);
		sv->auth_failed_logged = 1;
		l->refused = TH_REFUSED_AUTH; /* client.c: permanent unless retry_permanent */
	} else if (m->status == 409) {
		TH_LOG(c, TP_LOG_ERROR, "%s refused our stack: %s", c->cf->url,
		       body[0] ? body : "409 Conflict");
		l->refused = 1;
	} else {
		(*c->c_refused)++;
		TH_LOG(c, TP_LOG_WARN, "%s answered %d %s: %s", c->cf->url, m->status, reason, body);
	}
	snprintf(why, sizeof(why), "server answered %d", m->status);
	th_conn_close(l->io, why);
}

/* "tunnel up": what the server gave us, in one line. */
static void log_tunnel(struct th_ctx *c, const struct tp_session_info *info)
{
	char a[64], g[64], routes[256] = "none", dns[192] = "none", p[64];
	size_t o = 0;

	/* An IPv6-only tunnel has no IPv4 address to show. */
	hs_format_prefix(info->addr4.family ? &info->addr4 : &info->addr6, 1, a, sizeof(a));
	hs_format_prefix(info->addr4.family ? &info->gw4 : &info->gw6, 0, g, sizeof(g));
	for (uint32_t i = 0; i < info->n_routes && o + 1 < sizeof(routes); i++) {
		hs_format_prefix(&info->routes[i], 1, p, sizeof(p));
		int n = snprintf(routes + o, sizeof(routes) - o, "%s%s", i ? " " : "", p);
		o = n < 0 ? o : o + (size_t)n;
	}
	o = 0;
	for (uint32_t i = 0; i < info->n_dns && o + 1 < sizeof(dns); i++) {
		hs_format_prefix(&info->dns[i], 0, p, sizeof(p));
		int n = snprintf(dns + o, sizeof(dns) - o, "%s%s", i ? " " : "", p);
		o = n < 0 ? o : o + (size_t)n;
	}
	TH_LOG(c, TP_LOG_INFO, "connected to %s: address %s gateway %s mtu %u (tunnel up; routes %s; dns %s)",
	       c->cf->url, a, g, info->mtu, routes, dns);
}

/* The server's address as the socket knows it (never as it says). */
static int check_101(struct th_link *l, const struct http_msg *m, const struct tp_session_info *info,
		     char *err, size_t errlen)
{
	const struct th_conf *cf = l->ctx->cf;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct th_server_addr srv = { 0 };

	if (getpeername(l->io->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			srv.family = AF_INET;
			memcpy(srv.addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		} else if (ss.ss_family == AF_INET6) {
			const uint8_t *a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
			static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
			int v4 = memcmp(a, mapped, 12) == 0;
			srv.family = v4 ? AF_INET : AF_INET6;
			memcpy(srv.addr, a + (v4 ? 12 : 0), v4 ? 4 : 16);
		}
	}
	return th_check_101(m, info, srv.family ? &srv : NULL, (unsigned)cf->min_prefix,
			    (unsigned)cf->min_prefix6, err, errlen);
}

static void svc_step(struct th_link *l)
{
	struct th_ctx *c = l->ctx;
	struct svc *sv = c->hs_priv;
	struct http_header hdrs[MAX_RESPONSE_HEADERS];
	struct http_msg m;
	struct tp_session_info info;
	char peer_stack[128], err[160];
	const char *eof = NULL;

	/* The server closes right after an error answer: parse what arrived
	 * before deciding how to report the close. */
	int e = th_link_read_head(l);
	if (e)
		eof = e == SSL_ERROR_ZERO_RETURN ? "server closed before answering" : th_ssl_errstr();
	switch (http_parse(l->head, l->head_len, 1, l->head_cap, hdrs, MAX_RESPONSE_HEADERS, &m)) {
	case HTTP_MORE:
		if (eof)
			th_conn_close(l->io, eof);
		return;
	case HTTP_DONE:
		break;
	default:
		th_conn_close(l->io, "malformed HTTP response from server");
		return;
	}
	if (m.status != 101) {
		log_refusal(l, &m);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (hs_parse_101(&m, &info, peer_stack, sizeof(peer_stack), err, sizeof(err)) < 0 ||
	    check_101(l, &m, &info, err, sizeof(err)) < 0) {
		char clean[200];
		/* The reason quotes the server's bytes: escaped for the log. */
		th_escape(clean, sizeof(clean), err, strlen(err));
		TH_LOG(c, TP_LOG_ERROR, "refusing the answer of %s: %s", c->cf->url, clean);
		l->refused = 1;
		th_conn_close(l->io, clean);
		return;
	}
	const char *ours = c->host->stack(c->st);
	if (strcmp(peer_stack, ours) != 0) {
		TH_LOG(c, TP_LOG_ERROR, "stack mismatch: server uses %s, we use %s", peer_stack, ours);
		l->refused = 1;
		th_conn_close(l->io, "stack mismatch");
		return;
	}
	info.flags = TP_SI_LOCAL;
	/* Only an answer to our own offer counts. */
	if (c->cf->offload && th_offload_parse(http_get(&m, TH_OFFLOAD_HEADER)) == 1)
		info.flags |= TP_SI_SUPER;
	snprintf(info.user, sizeof(info.user), "%s", c->cf->user);
	snprintf(info.peer, sizeof(info.peer), "%s", l->io->peer);
	struct tp_session *s = c->host->session_open(c->st, l);
	if (!s) {
		th_conn_close(l->io, "cannot open a session");
		return;
	}
	if (th_link_attach(l, s, &info) < 0)
		return;
	sv->auth_failed_logged = 0;
	TH_LOG(c, TP_LOG_INFO, "authenticated as %s", c->cf->user);
	log_tunnel(c, &info);
	th_conn_push(l->io, l->head + m.head_len, l->head_len - m.head_len);
	if (eof)
		th_conn_close(l->io, eof);
}

static int svc_setup(struct th_ctx *c, char *err, size_t errlen)
{
	const struct th_conf *cf = c->cf;
	struct svc *sv = calloc(1, sizeof(*sv));
	if (!sv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->hs_priv = sv;
	if (cf->password && cf->password_file) {
		snprintf(err, errlen, "give either 'password' or 'password_file', not both");
		return -1;
	}
	if (strchr(cf->user, ':') || !cf->user[0]) {
		snprintf(err, errlen, "user '%s': must be non-empty without ':'", cf->user);
		return -1;
	}
	if (th_parse_url(cf->url, &sv->url, err, errlen) < 0)
		return -1;
	if (cf->password) {
		if (strlen(cf->password) >= sizeof(sv->password)) {
			snprintf(err, errlen, "password too long");
			return -1;
		}
		snprintf(sv->password, sizeof(sv->password), "%s", cf->password);
	} else if (th_read_first_line("password_file", cf->password_file, sv->password,
				      sizeof(sv->password), err, errlen) < 0) {
		return -1;
	}
	return 0;
}

static void svc_destroy(struct th_ctx *c)
{
	struct svc *sv = c->hs_priv;
	if (!sv)
		return;
	explicit_bzero(sv->password, sizeof(sv->password));
	free(sv);
	c->hs_priv = NULL;
}

const struct th_handshake th_hs_svpn_client = {
	.name = "simple-vpn client",
	.setup = svc_setup,
	.destroy = svc_destroy,
	.begin = svc_begin,
	.step = svc_step,
	.drop = NULL,
};
