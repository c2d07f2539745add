/* SPDX-License-Identifier: MIT */
/*
 * proxyenv.h — which HTTP proxy a client goes through: the proxy URL
 * (option `proxy`, or https_proxy / HTTPS_PROXY) and the no_proxy list.
 * Pure code: no sockets, no environment, no allocation.
 */
#ifndef TLS_HTTP_PROXYENV_H
#define TLS_HTTP_PROXYENV_H
#include <stddef.h>

#define PX_DEFAULT_PORT "3128" /* a proxy URL without a port (squid's) */

struct px_url {
	char host[256], port[8];
	char user[128], password[256]; /* percent-decoded; "" = none */
	int has_user, has_password;
};

/* Parse `http://[user[:password]@]host[:port][/]`.  A URL without a
 * scheme ("host:port", as some set https_proxy) is taken as http://.
 * https:// and other schemes, a path, a bad host or port are refused:
 * -1 with the reason in err (never the password). */
int px_parse_url(const char *s, struct px_url *u, char *err, size_t errlen);

/* Does `host` (a name, or an address literal without brackets) match the
 * no_proxy list: entries separated by commas or spaces, each `*` (every
 * host), a name (itself and its subdomains; a leading '.' or "*." is the
 * same), an address, or a prefix (10.0.0.0/8, fd00::/8) for address
 * literals.  Names compare without case and a trailing dot; an entry's
 * `:port` is ignored.  1 or 0. */
int px_no_proxy_match(const char *list, const char *host);

/* util.c (host, [v6]:port); declared here so pure code needs no more. */
int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);

#endif
