/* SPDX-License-Identifier: MIT */
/*
 * router.h — which session owns a tunnel address (server side).
 *
 * The top endpoint emits packets with no session; the router reads each
 * packet's destination and finds the session whose tunnel address it is.
 * Going up, a packet whose source is not its session's address is spoofed
 * and dropped.  Exact host addresses only: a client owns /32 and /128
 * addresses, not subnets.
 */
#ifndef TP_CORE_ROUTER_H
#define TP_CORE_ROUTER_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_router;

struct tp_router *tp_router_new(void);
void tp_router_free(struct tp_router *r);
/* Map a host address (family + addr of `a`) to `s`; replaces an older owner. */
int tp_router_add(struct tp_router *r, const struct tp_prefix *a, struct tp_session *s);
/* Forget every address of `s`. */
void tp_router_del_session(struct tp_router *r, struct tp_session *s);
/* The session owning the packet's destination, or NULL. */
struct tp_session *tp_router_lookup(const struct tp_router *r, const uint8_t *pkt, size_t len);

/* Source / destination address of an IP packet into `a` (plen = full).
 * Returns 0, or -1 if the packet is too short or not IPv4/IPv6. */
int tp_ip_addr(const uint8_t *pkt, size_t len, int dst, struct tp_prefix *a);
/* Does the packet's source equal the host address `a`? */
int tp_ip_src_is(const uint8_t *pkt, size_t len, const struct tp_prefix *a);
/* Is the source of an IPv6 packet link-local (fe80::/10) or ::? */
int tp_ip_src_link_local6(const uint8_t *pkt, size_t len);

#endif
