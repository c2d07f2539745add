/* SPDX-License-Identifier: MIT */
/*
 * prefix.h — parsing and checking the tun plugin's address options.
 *
 * Kept apart from tun.c so the rules (what a valid prefix, pool or route
 * is) can be unit-tested without a device, and so create() can validate
 * every option before anything touches the kernel.
 */
#ifndef TUN_PREFIX_H
#define TUN_PREFIX_H
#include <stddef.h>
#include <tunpipe/plugin.h>

/* Longest text tn_prefix_str() writes: an IPv6 address plus "/128". */
#define TN_PREFIX_STRLEN 52

/* What a string may look like. */
enum tn_plen_rule {
	TN_PLEN_REQUIRED, /* "10.0.0.1/24" (interface addresses) */
	TN_PLEN_OPTIONAL, /* "10.1.0.0/16" or "10.1.2.3" = host route */
	TN_PLEN_NONE,     /* a bare address (DNS servers, pool ends) */
};

/*
 * Parse `s` as an address of `family` (AF_INET, AF_INET6 or AF_UNSPEC for
 * either) with a prefix length according to `rule`.  On error writes a
 * message naming `what` and the text into err and returns -1.
 */
int tn_prefix_parse(const char *s, int family, enum tn_plen_rule rule, const char *what,
		    struct tp_prefix *out, char *err, size_t errlen);

/* 1 if `a` lies inside the network of `net` (same family, first plen bits equal). */
int tn_prefix_contains(const struct tp_prefix *net, const struct tp_prefix *a);
/* 1 if any bit beyond plen is set ("10.1.2.3/16"): the kernel refuses such routes. */
int tn_prefix_has_host_bits(const struct tp_prefix *p);
/* Copy of p with the host bits cleared. */
struct tp_prefix tn_prefix_network(const struct tp_prefix *p);
/* Same family, length and address. */
int tn_prefix_equal(const struct tp_prefix *a, const struct tp_prefix *b);
/* Compare IPv4 addresses as numbers: <0, 0, >0. */
int tn_prefix_cmp4(const struct tp_prefix *a, const struct tp_prefix *b);

/* "10.0.0.1/24" (with_len) or "10.0.0.1"; returns buf. */
const char *tn_prefix_str(const struct tp_prefix *p, int with_len, char *buf, size_t len);

/*
 * Parse a pool "10.0.0.10-10.0.0.200" that must lie inside `net`'s subnet,
 * have first <= last and not contain `net`'s own address.
 */
int tn_pool_parse(const char *s, const struct tp_prefix *net, struct tp_prefix *first,
		  struct tp_prefix *last, char *err, size_t errlen);

/* Check DNS search domains and join them with spaces into out[cap]. */
int tn_search_join(const char *const *list, char *out, size_t cap, char *err, size_t errlen);

#endif
