/* SPDX-License-Identifier: MIT */
/*
 * fwd.h — who the client is, from the headers a reverse proxy adds:
 * X-Forwarded-For ("1.2.3.4, 10.0.0.5") and Forwarded (RFC 7239,
 * "for=1.2.3.4;proto=https, for=\"[2001:db8::1]:4711\"").  Pure code: no
 * sockets, no allocation, so it is unit-tested and fuzzed from bytes.
 *
 * The list is read from the right: the last entry is what the nearest
 * proxy saw.  Entries that are trusted proxies themselves are skipped
 * (a chain of our own proxies); the first one that is not is the client.
 * Everything to its left was written by the client and proves nothing.
 * When every entry is trusted, the leftmost is the client.
 */
#ifndef TLS_HTTP_FWD_H
#define TLS_HTTP_FWD_H
#include <stddef.h>
#include <stdint.h>

#define FWD_MAX_HOPS 32    /* entries in one request, all headers together */
#define FWD_MAX_VALUE 4096 /* bytes of one field value */

struct fwd_addr {
	int family;            /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;         /* 0: not given */
};

/* In the order of client_address_header's choices (tls-http.c). */
enum fwd_kind { FWD_XFF, FWD_FORWARDED };

struct http_header;

/* "X-Forwarded-For" or "Forwarded". */
const char *fwd_header_name(enum fwd_kind kind);

/*
 * The values of kind's header among the n fields of a request head, in
 * the order they came, at most cap of them; returns how many.  Only that
 * header is read: the proxy is configured to write one of them
 * (client_address_header), and it may pass the client's own copy of the
 * other through untouched, so the other is the client's text and must
 * not pick the address (nor get the request refused).
 */
size_t fwd_values(enum fwd_kind kind, const struct http_header *h, size_t n, const char **out,
		  size_t cap);

/* Is addr (4 or 16 bytes of `family`) one of our trusted proxies? */
typedef int (*fwd_trusted_fn)(void *arg, int family, const uint8_t *addr);

/*
 * The client's address from the n field values of one header kind, in the
 * order they arrived (several X-Forwarded-For lines are one list).  0 with
 * *out set and *why NULL; -1 with *why (a literal) when a value is malformed, has more
 * than FWD_MAX_HOPS entries, or the client's entry is "unknown" or an
 * obfuscated name (RFC 7239 6.2-6.3: then nobody knows who it is).
 * An IPv4-mapped IPv6 address comes out as the IPv4 address it is.
 */
int fwd_client(enum fwd_kind kind, const char *const *values, size_t n, fwd_trusted_fn trusted,
	       void *arg, struct fwd_addr *out, const char **why);

#endif
