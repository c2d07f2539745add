/* SPDX-License-Identifier: MIT */
/*
 * fwd.c — X-Forwarded-For and Forwarded (RFC 7239) lists to one client
 * address (see fwd.h).  Strict where it counts: an entry the walk from
 * the right reaches must be an address (else the request is refused, not
 * given the proxy's own address, which would put every client under one
 * limiter key); entries left of the client are its own text and may be
 * anything.  A Forwarded value must still be well-formed as a whole:
 * without that, its elements cannot be told apart.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "fwd.h"
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct hop {
	int known;             /* 1; 0: "unknown", obfuscated or no for=; -1: not an address */
	struct fwd_addr a;
	const char *why;       /* known == -1 */
};

struct hops {
	struct hop h[FWD_MAX_HOPS];
	size_t n;
};

static int is_ows(char ch) { return ch == ' ' || ch == '\t'; }

static int port_of(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* An IP literal of n bytes (no brackets) of the given family. */
static int ip_of(const char *s, size_t n, int family, struct fwd_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 1];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(family, buf, a->addr) != 1)
		return -1;
	a->family = family;
	/* ::ffff:a.b.c.d is the IPv4 client of a dual-stack proxy. */
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a->addr)) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
	}
	return 0;
}

/*
 * One node: "1.2.3.4", "1.2.3.4:80", "[v6]", "[v6]:80"; and, when
 * bare6 (X-Forwarded-For), a bare "v6".  RFC 7239 nodes may also be
 * "unknown" or "_obfuscated" (known = 0), with an obfuscated port too.
 */
static int node_of(const char *s, size_t n, int bare6, int rfc, struct hop *h)
{
	const char *colon, *end = s + n;
	memset(h, 0, sizeof(*h));
	if (rfc && n == 7 && strncasecmp(s, "unknown", 7) == 0)
		return 0;
	if (rfc && n > 1 && s[0] == '_') {
		for (size_t i = 1; i < n; i++)
			if (!http_is_tchar((unsigned char)s[i]) || s[i] == ':')
				return -1;
		return 0;
	}
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb || ip_of(s + 1, (size_t)(rb - s - 1), AF_INET6, &h->a) < 0)
			return -1;
		colon = rb + 1;
		if (colon == end)
			goto ok;
		if (*colon != ':')
			return -1;
		goto port;
	}
	colon = memchr(s, ':', n);
	if (colon && bare6 && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
		if (ip_of(s, n, AF_INET6, &h->a) < 0)
			return -1;
		goto ok;
	}
	if (ip_of(s, colon ? (size_t)(colon - s) : n, AF_INET, &h->a) < 0)
		return -1;
	if (!colon)
		goto ok;
port:
	/* RFC 7239 6.3: an obfuscated port says nothing we can use. */
	if (rfc && colon + 1 < end && colon[1] == '_')
		goto ok;
	if (port_of(colon + 1, (size_t)(end - colon - 1), &h->a.port) < 0)
		return -1;
ok:
	h->known = 1;
	return 0;
}

static int add(struct hops *hs, const struct hop *h)
{
	if (hs->n == FWD_MAX_HOPS)
		return -1;
	hs->h[hs->n++] = *h;
	return 0;
}

/* "a, b ,c": empty elements are allowed by the list syntax and skipped. */
static int parse_xff(const char *v, struct hops *hs, const char **why)
{
	while (*v) {
		const char *e = strchr(v, ',');
		size_t n = e ? (size_t)(e - v) : strlen(v);
		const char *p = v;
		while (n && is_ows(*p))
			p++, n--;
		while (n && is_ows(p[n - 1]))
			n--;
		if (n) {
			/* Left of the client an entry is the client's own text:
			 * a bad one matters only if the walk reaches it. */
			struct hop h;
			if (node_of(p, n, 1, 0, &h) < 0) {
				h.known = -1;
				h.why = "X-Forwarded-For entry is not an IP address";
			}
			if (add(hs, &h) < 0) {
				*why = "too many X-Forwarded-For entries";
				return -1;
			}
		}
		if (!e)
			break;
		v = e + 1;
	}
	return 0;
}

/* A token or quoted-string at *pp (moved past it), unquoted into out. */
static int value_of(const char **pp, char *out, size_t cap, size_t *len)
{
	const char *p = *pp;
	size_t n = 0;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (!*p || (unsigned char)*p < 0x20 || *p == 0x7f)
				return -1;
			if (*p == '\\' && !*++p)
				return -1;
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p;
		}
		p++;
	} else {
		while (http_is_tchar((unsigned char)*p)) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p++;
		}
		if (!n)
			return -1;
	}
	out[n] = '\0';
	*len = n;
	*pp = p;
	return 0;
}

/* forwarded-element *( OWS "," OWS forwarded-element ), each element
 * pairs separated by ";" (RFC 7239 4), for= at most once per element. */
static int parse_forwarded(const char *p, struct hops *hs, const char **why)
{
	char val[256];
	*why = "malformed Forwarded header";
	for (;;) {
		struct hop h;
		int have_for = 0;
		memset(&h, 0, sizeof(h));
		while (is_ows(*p) || *p == ',')
			p++;
		if (!*p)
			return 0;
		for (;;) {
			const char *name = p;
			size_t vlen;
			while (http_is_tchar((unsigned char)*p))
				p++;
			size_t nlen = (size_t)(p - name);
			if (!nlen || *p++ != '=' || value_of(&p, val, sizeof(val), &vlen) < 0)
				return -1;
			if (nlen == 3 && strncasecmp(name, "for", 3) == 0) {
				if (have_for++) {
					h.known = -1;
					h.why = "Forwarded element with two for= parameters";
				} else if (node_of(val, vlen, 0, 1, &h) < 0) {
					h.known = -1;
					h.why = "Forwarded for= is not a node (IPv6 needs \"[...]\")";
				}
			}
			while (is_ows(*p))
				p++;
			if (*p != ';')
				break;
			p++;
			while (is_ows(*p))
				p++;
		}
		if (*p && *p != ',')
			return -1;
		if (add(hs, &h) < 0) {
			*why = "too many Forwarded elements";
			return -1;
		}
	}
}

const char *fwd_header_name(enum fwd_kind kind)
{
	return kind == FWD_XFF ? "X-Forwarded-For" : "Forwarded";
}

size_t fwd_values(enum fwd_kind kind, const struct http_header *h, size_t n, const char **out,
		  size_t cap)
{
	const char *name = fwd_header_name(kind);
	size_t k = 0;
	for (size_t i = 0; i < n && k < cap; i++)
		if (strcasecmp(h[i].name, name) == 0)
			out[k++] = h[i].value;
	return k;
}

int fwd_client(enum fwd_kind kind, const char *const *values, size_t n, fwd_trusted_fn trusted,
	       void *arg, struct fwd_addr *out, const char **why)
{
	struct hops hs;
	hs.n = 0;
	for (size_t i = 0; i < n; i++) {
		if (strlen(values[i]) > FWD_MAX_VALUE) {
			*why = "forwarding header too long";
			return -1;
		}
		if ((kind == FWD_XFF ? parse_xff(values[i], &hs, why)
				     : parse_forwarded(values[i], &hs, why)) < 0)
			return -1;
	}
	if (!hs.n) {
		*why = "empty forwarding header";
		return -1;
	}
	size_t i = hs.n;
	while (i-- > 0) {
		const struct hop *h = &hs.h[i];
		if (h->known < 0) {
			*why = h->why;
			return -1;
		}
		if (!h->known) {
			*why = "the client is \"unknown\" or obfuscated";
			return -1;
		}
		if (i == 0 || !trusted(arg, h->a.family, h->a.addr)) {
			*out = h->a;
			*why = NULL;
			return 0;
		}
	}
	return -1; /* not reached: i == 0 returns */
}
