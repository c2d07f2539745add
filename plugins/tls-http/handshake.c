/* SPDX-License-Identifier: MIT */
/*
 * handshake.c — server decisions and the 101 exchange (see handshake.h).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "handshake.h"
#include "auth.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "svpn-offload.h"
#include <sys/socket.h>

#define HS_HARD_MAX_HEADERS 256 /* the array on the stack; max_headers is capped to it */

static int refuse(struct hs_request *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return status;
}

/* Copy a header value into a fixed field, replacing anything that is not
 * printable ASCII: it ends up in logs and in our 409 body. */
static void copy_clean(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/*
 * Everything but the password check.  The credentials are checked first
 * (an unauthenticated peer learns nothing about our stack), so the later
 * answers (426, 409) are decided as if it matched and hs_auth_result()
 * overrides them with 401 when it did not.
 */
void hs_decide_deferred(char *buf, size_t len, const struct hs_params *p, struct hs_request *r,
			char *pass, size_t cap)
{
	struct http_header hdrs[HS_HARD_MAX_HEADERS];
	struct http_msg m;
	size_t maxh = p->max_headers < HS_HARD_MAX_HEADERS ? p->max_headers : HS_HARD_MAX_HEADERS;

	memset(r, 0, sizeof(*r));
	if (cap)
		pass[0] = '\0';
	switch (http_parse(buf, len, 0, p->max_request, hdrs, maxh, &m)) {
	case HTTP_MORE:
		return;
	case HTTP_BAD:
		refuse(r, 400, "malformed request");
		goto out;
	case HTTP_TOO_BIG:
		refuse(r, 431, "request head too large");
		goto out;
	case HTTP_TOO_MANY:
		refuse(r, 431, "too many header fields");
		goto out;
	case HTTP_DONE:
		break;
	}
	r->head_len = m.head_len;
	if (strcmp(m.method, "GET") != 0) {
		refuse(r, 405, "method not allowed");
		goto out;
	}
	size_t plen = strcspn(m.target, "?");
	if (plen != strlen(p->path) || strncmp(m.target, p->path, plen) != 0) {
		refuse(r, 404, "unknown path");
		goto out;
	}
	const char *authz = http_get(&m, "Authorization");
	if (!authz) {
		refuse(r, 401, "no credentials");
		goto out;
	}
	if (http_basic_decode(authz, r->user, sizeof(r->user), pass, cap) < 0) {
		r->user[0] = '\0';
		explicit_bzero(pass, cap);
		refuse(r, 401, "malformed Basic credentials");
		goto out;
	}
	/* The name came from the peer: keep it printable for logs. */
	copy_clean(r->user, sizeof(r->user), r->user);
	r->need_auth = 1;
	if (!http_has_token(&m, "Connection", "upgrade") ||
	    !http_has_token(&m, "Upgrade", "Simple-VPN")) {
		refuse(r, 426, "no Upgrade: Simple-VPN / Connection: upgrade");
		goto out;
	}
	/* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored, so such
	 * a request asks for no upgrade at all. */
	if (m.minor < 1) {
		refuse(r, 426, "Upgrade needs HTTP/1.1");
		goto out;
	}
	const char *stack = http_get(&m, "Simple-VPN-Stack");
	copy_clean(r->peer_stack, sizeof(r->peer_stack), stack ? stack : HS_DEFAULT_STACK);
	if (strcmp(r->peer_stack, p->stack) != 0) {
		refuse(r, 409, "stack mismatch");
		goto out;
	}
	r->offload = th_offload_parse(http_get(&m, TH_OFFLOAD_HEADER)) == 1;
	r->status = 101;
	r->why = "accepted";
out:
	if (!r->head_len)
		r->head_len = m.head_len;
}

void hs_auth_result(struct hs_request *r, int ok)
{
	if (r->need_auth && !ok)
		refuse(r, 401, "wrong user or password");
	r->need_auth = 0;
}

void hs_decide(char *buf, size_t len, const struct hs_params *p, struct hs_request *r)
{
	char pass[256];
	hs_decide_deferred(buf, len, p, r, pass, sizeof(pass));
	if (r->need_auth)
		hs_auth_result(r, p->users && auth_check(p->users, r->user, pass));
	explicit_bzero(pass, sizeof(pass));
}

size_t hs_error_response(char *out, size_t cap, const struct hs_params *p, const struct hs_request *r)
{
	char extra[512], body[384];
	extra[0] = '\0';
	switch (r->status) {
	case 405:
		snprintf(extra, sizeof(extra), "Allow: GET\r\n");
		snprintf(body, sizeof(body), "method not allowed\n");
		break;
	case 404:
		snprintf(body, sizeof(body), "not found\n");
		break;
	case 401:
		snprintf(extra, sizeof(extra), "WWW-Authenticate: Basic realm=\"%s\"\r\n", p->realm);
		snprintf(body, sizeof(body), "authentication required\n");
		break;
	case 426:
		snprintf(extra, sizeof(extra), "Upgrade: Simple-VPN\r\n");
		snprintf(body, sizeof(body), "this endpoint speaks Simple-VPN: send Connection: Upgrade and Upgrade: Simple-VPN\n");
		break;
	case 409:
		snprintf(extra, sizeof(extra), "Simple-VPN-Stack: %s\r\n", p->stack);
		snprintf(body, sizeof(body), "stack mismatch: client uses %s, server uses %s\n",
			 r->peer_stack, p->stack);
		break;
	case 431:
		snprintf(body, sizeof(body), "request header fields too large\n");
		break;
	/* 503 and 500 come from the server's own state (no address left, no
	 * session, an answer too large), never from request bytes: r->why is
	 * our fixed text and tells the client which one it was. */
	case 503:
		if (r->retry_after)
			snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", r->retry_after);
		snprintf(body, sizeof(body), "service unavailable: %s\n",
			 r->why ? r->why : "no tunnel address available");
		break;
	case 429:
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", r->retry_after);
		snprintf(body, sizeof(body), "too many failed logins from your address; try again later\n");
		break;
	case 500:
		snprintf(body, sizeof(body), "internal server error: %s\n",
			 r->why ? r->why : "unexpected failure");
		break;
	case 408:
		snprintf(body, sizeof(body), "handshake timed out\n");
		break;
	case 400:
		snprintf(body, sizeof(body), "bad request\n");
		break;
	default:
		snprintf(body, sizeof(body), "%s\n", http_reason(r->status));
		break;
	}
	return http_build_response(out, cap, r->status, extra, body);
}

void hs_format_prefix(const struct tp_prefix *p, int with_plen, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (with_plen)
		snprintf(out, cap, "%s/%u", a, p->plen);
	else
		snprintf(out, cap, "%s", a);
}

int hs_prefix_parse(const char *s, size_t n, int flags, struct tp_prefix *out)
{
	char a[INET6_ADDRSTRLEN + 1], bits[16], *end;
	const char *slash = memchr(s, '/', n);
	size_t al = slash ? (size_t)(slash - s) : n, bl = slash ? n - al - 1 : 0;
	unsigned long v;

	memset(out, 0, sizeof(*out));
	if (slash && !(flags & HS_PFX_LEN))
		return -1;
	if ((flags & HS_PFX_BRACKETS) && al >= 2 && s[0] == '[' && s[al - 1] == ']') {
		s++;
		al -= 2;
	}
	if (al == 0 || al >= sizeof(a))
		return -1;
	memcpy(a, s, al);
	a[al] = '\0';
	if (inet_pton(AF_INET, a, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, a, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	out->plen = out->family == AF_INET ? 32 : 128;
	if (!slash)
		return 0;
	if (bl == 0 || bl >= sizeof(bits))
		return -1;
	memcpy(bits, slash + 1, bl);
	bits[bl] = '\0';
	if (bits[0] < '0' || bits[0] > '9') /* strtoul would take " 8", "+8", "-0" */
		return -1;
	v = strtoul(bits, &end, 10); /* too big: ULONG_MAX, refused below */
	if (*end || v > out->plen)
		return -1;
	out->plen = (uint8_t)v;
	return 0;
}

int hs_parse_prefix(const char *s, int allow_plen, struct tp_prefix *out)
{
	return hs_prefix_parse(s, strlen(s), allow_plen ? HS_PFX_LEN : 0, out);
}

int hs_prefix_has(const struct tp_prefix *p, int family, const uint8_t *addr)
{
	unsigned full = p->plen / 8, rest = p->plen % 8;
	if (p->family != family || memcmp(p->addr, addr, full) != 0)
		return 0;
	return !rest || ((p->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Append to out at *off; returns -1 once it does not fit. */
__attribute__((format(printf, 4, 5)))
static int put(char *out, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

size_t hs_build_101(char *out, size_t cap, const struct tp_session_info *info, const char *stack)
{
	char a[64];
	size_t off = 0;
	int bad = put(out, cap, &off, "HTTP/1.1 101 Switching Protocols\r\n"
		      "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n");
	/* An IPv6-only tunnel has no IPv4 address to give. */
	if (info->addr4.family == AF_INET) {
		hs_format_prefix(&info->addr4, 1, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-Address: %s\r\n", a);
		hs_format_prefix(&info->gw4, 0, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-Gateway: %s\r\n", a);
	}
	if (info->addr6.family == AF_INET6) {
		hs_format_prefix(&info->addr6, 1, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-Address6: %s\r\n", a);
	}
	if (info->gw6.family == AF_INET6) {
		hs_format_prefix(&info->gw6, 0, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-Gateway6: %s\r\n", a);
	}
	if (info->mtu)
		bad |= put(out, cap, &off, "Simple-VPN-MTU: %u\r\n", info->mtu);
	for (uint32_t i = 0; i < info->n_routes && i < TP_MAX_ROUTES; i++) {
		hs_format_prefix(&info->routes[i], 1, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-Route: %s\r\n", a);
	}
	for (uint32_t i = 0; i < info->n_dns && i < TP_MAX_DNS; i++) {
		hs_format_prefix(&info->dns[i], 0, a, sizeof(a));
		bad |= put(out, cap, &off, "Simple-VPN-DNS: %s\r\n", a);
	}
	if (info->search[0])
		bad |= put(out, cap, &off, "Simple-VPN-DNS-Search: %.*s\r\n", (int)sizeof(info->search),
			   info->search);
	bad |= put(out, cap, &off, "Simple-VPN-Stack: %s\r\n\r\n", stack);
	return bad ? 0 : off;
}

size_t hs_build_request(char *out, size_t cap, const char *host_hdr, const char *path,
			const char *user, const char *pass, const char *stack)
{
	char cred[512], b64[700];
	int n = snprintf(cred, sizeof(cred), "%s:%s", user, pass);
	size_t off = 0;
	if (n < 0 || (size_t)n >= sizeof(cred) || !http_b64_encode(cred, (size_t)n, b64, sizeof(b64)))
		goto fail;
	if (put(out, cap, &off, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
		"Connection: Upgrade\r\nUpgrade: Simple-VPN\r\nSimple-VPN-Stack: %s\r\n\r\n",
		path, host_hdr, b64, stack) < 0)
		goto fail;
	explicit_bzero(cred, sizeof(cred));
	explicit_bzero(b64, sizeof(b64));
	return off;
fail:
	explicit_bzero(cred, sizeof(cred));
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

/* One host name of a search list: labels of 1..63 letters, digits and
 * inner hyphens, dot-separated, an optional final dot; so never "-x"
 * (an option to a command), "." or "a..b". */
static int dns_name_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Names separated by single spaces, none at either end. */
static int search_list_ok(const char *v)
{
	for (;;) {
		const char *sp = strchr(v, ' ');
		size_t n = sp ? (size_t)(sp - v) : strlen(v);
		if (!dns_name_ok(v, n))
			return 0;
		if (!sp)
			return 1;
		v = sp + 1;
	}
}

int hs_parse_101(const struct http_msg *m, struct tp_session_info *info, char *peer_stack,
		 size_t stack_cap, char *err, size_t errlen)
{
	const char *v;
	if (m->status != 101) {
		snprintf(err, errlen, "server answered %d, not 101", m->status);
		return -1;
	}
	/* IPv4 may be absent only in an IPv6-only tunnel (Address6 present). */
	int v6only = !http_get(m, "Simple-VPN-Address") && http_get(m, "Simple-VPN-Address6");
	if (!v6only && (!(v = http_get(m, "Simple-VPN-Address")) || hs_parse_prefix(v, 1, &info->addr4) < 0 ||
	    info->addr4.family != AF_INET)) {
		snprintf(err, errlen, "101 without a valid Simple-VPN-Address");
		return -1;
	}
	/* The article's servers send "10.0.0.2/24"; a bare address means a host. */
	if (!v6only && (!(v = http_get(m, "Simple-VPN-Gateway")) || hs_parse_prefix(v, 0, &info->gw4) < 0 ||
	    info->gw4.family != AF_INET)) {
		snprintf(err, errlen, "101 without a valid Simple-VPN-Gateway");
		return -1;
	}
	if ((v = http_get(m, "Simple-VPN-Address6")) &&
	    (hs_parse_prefix(v, 1, &info->addr6) < 0 || info->addr6.family != AF_INET6)) {
		snprintf(err, errlen, "bad Simple-VPN-Address6: %.64s", v);
		return -1;
	}
	if ((v = http_get(m, "Simple-VPN-Gateway6")) &&
	    (hs_parse_prefix(v, 0, &info->gw6) < 0 || info->gw6.family != AF_INET6)) {
		snprintf(err, errlen, "bad Simple-VPN-Gateway6: %.64s", v);
		return -1;
	}
	if ((v = http_get(m, "Simple-VPN-MTU"))) {
		char *end;
		unsigned long mtu = strtoul(v, &end, 10);
		if (!*v || *end || mtu < 576 || mtu > 65535) {
			snprintf(err, errlen, "bad Simple-VPN-MTU: %.64s", v);
			return -1;
		}
		info->mtu = (uint32_t)mtu;
	}
	for (size_t i = 0; i < m->n_hdrs; i++) {
		const struct http_header *h = &m->hdrs[i];
		int route = strcasecmp(h->name, "Simple-VPN-Route") == 0;
		int dns = strcasecmp(h->name, "Simple-VPN-DNS") == 0;
		if (!route && !dns)
			continue;
		struct tp_prefix pfx;
		if (hs_parse_prefix(h->value, route, &pfx) < 0) {
			snprintf(err, errlen, "bad %s: %.64s", h->name, h->value);
			return -1;
		}
		/* More than we can hold is not fatal: the tunnel still works. */
		if (route && info->n_routes < TP_MAX_ROUTES)
			info->routes[info->n_routes++] = pfx;
		if (dns && info->n_dns < TP_MAX_DNS)
			info->dns[info->n_dns++] = pfx;
	}
	/* Search domains end up in resolv.conf, resolvectl's arguments and
	 * scripts' environment: host names only (RFC 1123 labels), single
	 * spaces between them. */
	if ((v = http_get(m, "Simple-VPN-DNS-Search"))) {
		size_t len = strlen(v);
		if (!len || len >= sizeof(info->search) || !search_list_ok(v)) {
			snprintf(err, errlen, "bad Simple-VPN-DNS-Search: %.64s", v);
			return -1;
		}
		memcpy(info->search, v, len + 1);
	}
	v = http_get(m, "Simple-VPN-Stack");
	copy_clean(peer_stack, stack_cap, v ? v : HS_DEFAULT_STACK);
	return 0;
}
