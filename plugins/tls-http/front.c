/* SPDX-License-Identifier: MIT */
/*
 * front.c — what the server reads in a request head before the
 * Simple-VPN decision (svpn-server.c calls th_front_request once the head
 * is complete):
 *
 * - tls = false (behind a reverse proxy that terminates TLS): the
 *   connection is from a trusted proxy (proxy-accept.c refused everyone
 *   else), and the client is whom its Forwarded or X-Forwarded-For says
 *   (fwd.c: from the right, trusted hops skipped).  That address becomes
 *   the link's peer (logs, status) and limiter key, as a PROXY header's
 *   does, and the per-address handshake budget is applied to it now.
 *   Only the header client_address_header names is read: a proxy that
 *   writes one passes the client's own copy of the other through, and
 *   letting that one win would let a client choose its limiter key.  A
 *   request without that header, or one we cannot read whole, gets 400
 *   and a warning: falling back to the proxy's own address would put
 *   every client under one limiter key (an attacker's failed logins
 *   would lock everybody out).
 *
 * - fallback: a request that is not a Simple-VPN upgrade on our path
 *   (another path or method, no Upgrade: Simple-VPN / Connection:
 *   upgrade) goes to the web server (fallback.c), so the listener looks
 *   like that website to everyone else.  A VPN request keeps its 401s.
 *
 * The head is parsed from a copy: the decision after us parses l->head
 * in place, and the fallback must send the bytes exactly as they came.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "fwd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define FRONT_MAX_HEADERS 256

static void set_addr(struct th_link *l, const struct fwd_addr *a)
{
	struct sockaddr_storage ss;
	th_sockaddr(&ss, a->family, a->addr, a->port);
	th_peer_name(&ss, l->io->peer, sizeof(l->io->peer));
	th_peer_key(&ss, l->peer_key);
}

/* The client from the proxy's headers; 0, or -1 with r set to refuse. */
static int client_of(struct th_link *l, const struct http_msg *m, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	const char *vals[FRONT_MAX_HEADERS];
	const char *why = NULL;
	enum fwd_kind kind = (enum fwd_kind)c->cf->client_address_header;
	size_t n = fwd_values(kind, m->hdrs, m->n_hdrs, vals, FRONT_MAX_HEADERS);
	struct fwd_addr a;
	char proxy[64];
	unsigned from_key;

	snprintf(proxy, sizeof(proxy), "%s", l->io->peer);
	if (!n)
		why = kind == FWD_XFF ? "a trusted proxy sent no X-Forwarded-For (client_address_header)"
				      : "a trusted proxy sent no Forwarded (client_address_header)";
	else
		fwd_client(kind, vals, n, th_pp_trusted, c, &a, &why); /* why: NULL if found */
	if (why) {
		char v[200] = "";
		if (n)
			th_escape(v, sizeof(v), vals[n - 1], strlen(vals[n - 1]));
		th_warn_limited(c, &c->rl_front[n ? 0 : 1], "refused %s: 400 %s%s%s", proxy, why, n ? ": " : "", v);
		r->status = 400;
		r->why = why;
		return -1;
	}
	set_addr(l, &a);
	TH_LOG(c, TP_LOG_DEBUG, "connection from %s is for %s (%s)", proxy, l->io->peer,
	       fwd_header_name(kind));
	th_budget_handshakes(c, l->peer_key, &from_key);
	/* this link already counts under its new key */
	if (from_key > (unsigned)c->cf->max_handshakes_per_address) {
		th_warn_limited(c, &c->rl_front[2], "refused %s: 503 it already has %u connections not "
				"logged in (max_handshakes_per_address)", l->io->peer, from_key - 1);
		r->status = 503;
		r->why = "too many connections not logged in from this address";
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

/* A Simple-VPN upgrade on our path, whatever its credentials say. */
static int for_vpn(const struct http_msg *m, const struct hs_params *p)
{
	size_t plen = strcspn(m->target, "?");
	return strcmp(m->method, "GET") == 0 && plen == strlen(p->path) &&
	       strncmp(m->target, p->path, plen) == 0 && http_has_token(m, "Connection", "upgrade") &&
	       http_has_token(m, "Upgrade", "Simple-VPN");
}

/* The answer is sent from here, then the stream closes (CS_CLOSING). */
static int refuse(struct th_link *l, const struct hs_params *p, const struct hs_request *r)
{
	size_t n = hs_error_response((char *)th_conn_wbuf(l->io), TH_RECORD, p, r);
	(*l->ctx->c_refused)++;
	th_conn_send(l->io, n, 0);
	th_conn_linger(l->io, r->status == 400 ? "refused with 400" : "refused with 503");
	return 1;
}

int th_front_request(struct th_link *l, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	struct http_header hdrs[FRONT_MAX_HEADERS];
	struct http_msg m;
	size_t maxh = p->max_headers < FRONT_MAX_HEADERS ? p->max_headers : FRONT_MAX_HEADERS;
	size_t n;
	char *copy;
	int ret = 0;

	if (l->front_done || (!l->proxied && !c->fb_priv))
		return 0;
	if (!(n = http_head_end(l->head, l->head_len)))
		return 0; /* not complete: the decision says wait, or 431 */
	l->front_done = 1;
	if (!(copy = malloc(n)))
		return 0;
	memcpy(copy, l->head, n);
	memset(r, 0, sizeof(*r));
	/* a head the parser refuses gets its 400/431 from the decision */
	if (http_parse(copy, n, 0, p->max_request, hdrs, maxh, &m) != HTTP_DONE)
		goto out;
	if (l->proxied && client_of(l, &m, r) < 0) {
		ret = refuse(l, p, r);
		goto out;
	}
	if (c->fb_priv && !for_vpn(&m, p)) {
		char what[160], meth[24];
		th_escape(what, sizeof(what), m.target, strlen(m.target));
		th_escape(meth, sizeof(meth), m.method, strlen(m.method));
		if (th_fb_take(l, l->head, l->head_len) == 0) {
			TH_LOG(c, TP_LOG_DEBUG, "%s: %s %s goes to the fallback %s", l->io->peer, meth,
			       what, c->cf->fallback);
			ret = 1;
		} else {
			r->status = 503;
			r->why = "too many fallback connections";
			r->retry_after = 1;
			ret = refuse(l, p, r);
		}
	}
out:
	free(copy);
	return ret;
}
