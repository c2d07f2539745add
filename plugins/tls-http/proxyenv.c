/* SPDX-License-Identifier: MIT */
/*
 * proxyenv.c — the proxy URL and the no_proxy matcher (see proxyenv.h).
 * The no_proxy rules follow what curl and most tools agree on (there is
 * no standard): a domain entry covers its subdomains with or without a
 * leading dot, `*` alone disables the proxy, prefixes apply to address
 * literals only (we never resolve a name to decide).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "proxyenv.h"
#include "handshake.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode n bytes of s into out (cap); control bytes refused. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			int h, l;
			if (i + 2 >= n)
				return -1;
			if ((h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				return -1;
			ch = h * 16 + l;
			i += 2;
		}
		if (ch < 0x20 || ch == 0x7f || o + 1 >= cap)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

int px_parse_url(const char *s, struct px_url *u, char *err, size_t errlen)
{
	const char *a = s, *end, *at, *sep;
	char hostport[300];

	memset(u, 0, sizeof(*u));
	const char *colon3 = strstr(s, "://");
	if (colon3) {
		if ((size_t)(colon3 - s) == 4 && !strncasecmp(s, "http", 4)) {
			a = colon3 + 3;
		} else if ((size_t)(colon3 - s) == 5 && !strncasecmp(s, "https", 5)) {
			snprintf(err, errlen, "https:// proxies (TLS to the proxy) are not supported; "
					      "use http://HOST:PORT (the VPN's TLS still runs end to end)");
			return -1;
		} else {
			snprintf(err, errlen, "only http:// proxies are supported "
					      "(http://[USER[:PASSWORD]@]HOST[:PORT])");
			return -1;
		}
	}
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "a space or control character in the proxy URL");
			return -1;
		}
	end = a + strcspn(a, "/?#");
	if (*end && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "a proxy URL has no path (http://[USER[:PASSWORD]@]HOST[:PORT])");
		return -1;
	}
	/* The last '@' before the host: a password may hold '@' unencoded. */
	at = NULL;
	for (const char *p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at) {
		sep = memchr(a, ':', (size_t)(at - a));
		size_t ul = sep ? (size_t)(sep - a) : (size_t)(at - a);
		if (!ul || pct_decode(a, ul, u->user, sizeof(u->user)) < 0 || !u->user[0] ||
		    strchr(u->user, ':')) {
			snprintf(err, errlen, "bad user name in the proxy URL");
			return -1;
		}
		u->has_user = 1;
		if (sep) {
			if (pct_decode(sep + 1, (size_t)(at - sep - 1), u->password,
				       sizeof(u->password)) < 0) {
				snprintf(err, errlen, "bad password in the proxy URL (too long or a "
						      "control character)");
				return -1;
			}
			u->has_password = 1;
		}
		a = at + 1;
	}
	if ((size_t)(end - a) >= sizeof(hostport) || end == a) {
		snprintf(err, errlen, "no proxy host (http://[USER[:PASSWORD]@]HOST[:PORT])");
		return -1;
	}
	memcpy(hostport, a, (size_t)(end - a));
	hostport[end - a] = '\0';
	snprintf(u->port, sizeof(u->port), "%s", PX_DEFAULT_PORT);
	if (th_split_hostport(hostport, u->host, sizeof(u->host), u->port, sizeof(u->port)) < 0) {
		snprintf(err, errlen, "bad proxy host or port '%s'", hostport);
		return -1;
	}
	for (const char *p = u->host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':' || *p == '_')) {
			snprintf(err, errlen, "bad proxy host '%s'", u->host);
			return -1;
		}
	return 0;
}

/* One entry (n bytes at e) against the host (h: its address, family 0
 * for a name). */
static int entry_match(const char *e, size_t n, const char *host, size_t hl,
		       const struct tp_prefix *h)
{
	struct tp_prefix net;

	if (n == 1 && e[0] == '*')
		return 1;
	/* an address or a prefix: address literals only */
	if (hs_prefix_parse(e, n, HS_PFX_LEN | HS_PFX_BRACKETS, &net) == 0)
		return hs_prefix_has(&net, h->family, h->addr);
	if (memchr(e, '/', n))
		return 0;
	/* host:port — the port is not ours to compare (one url, one port) */
	const char *colon = memchr(e, ':', n);
	if (colon) {
		n = (size_t)(colon - e);
		if (hs_prefix_parse(e, n, HS_PFX_LEN | HS_PFX_BRACKETS, &net) == 0)
			return hs_prefix_has(&net, h->family, h->addr);
	}
	if (h->family)
		return 0;
	if (n >= 2 && e[0] == '*' && e[1] == '.') {
		e++;
		n--;
	}
	if (n && e[0] == '.') {
		e++;
		n--;
	}
	if (n && e[n - 1] == '.')
		n--;
	if (!n || n > hl)
		return 0;
	/* itself, or a subdomain: the match ends host and starts at a dot */
	return !strncasecmp(host + hl - n, e, n) && (hl == n || host[hl - n - 1] == '.');
}

int px_no_proxy_match(const char *list, const char *host)
{
	struct tp_prefix h;
	size_t hl = strlen(host);

	if (!list || !host[0])
		return 0;
	/* the host's address as a full-length prefix, or family 0: a name */
	if (hs_prefix_parse(host, hl, HS_PFX_BRACKETS, &h) < 0)
		h.family = 0;
	if (!h.family && hl && host[hl - 1] == '.')
		hl--;
	for (const char *p = list; *p;) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n && entry_match(p, n, host, hl, &h))
			return 1;
		p += n;
	}
	return 0;
}
