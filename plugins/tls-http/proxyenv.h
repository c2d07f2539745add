/* SPDX-License-Identifier: MIT */
/*
 * proxyenv.h — which HTTP proxy a client goes through: the proxy URL
 * (option `proxy`, or https_proxy / HTTPS_PROXY) and the no_proxy list.
 * Pure code: no sockets, no environment, no allocation.
 */
#ifndef TLS_HTTP_PROXYENV_H
#define TLS_HTTP_PROXYENV_H
#include <stddef.h>
#include <stdint.h>

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

/* util.c, declared here so pure code needs no more. */
/* host, [v6]:port */
int th_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);
/* An address prefix: no_proxy's and trusted_proxies' entries. */
struct th_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned len;     /* bits: 32 or 128 for a bare address */
};
/* "ADDR" or "ADDR/BITS" (n bytes at s), IPv4 or IPv6, the address in
 * brackets or not: 0, or -1 if it is not one (BITS over 32 or 128). */
int th_prefix_parse(const char *s, size_t n, struct th_prefix *p);
/* Is addr (4 or 16 bytes of family) inside p? */
int th_prefix_has(const struct th_prefix *p, int family, const uint8_t *addr);

#endif
