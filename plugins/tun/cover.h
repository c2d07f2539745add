/* SPDX-License-Identifier: MIT */
/*
 * cover.h — pure helpers for a client's host route to its server: where
 * the server is (from the transport's peer string) and whether the routes
 * about to be applied would swallow the connection to it.  Apart from
 * pin.c so they can be unit-tested without a kernel.
 */
#ifndef TUN_COVER_H
#define TUN_COVER_H
#include <stddef.h>
#include <tunpipe/plugin.h>

/* "1.2.3.4:443" or "[2001:db8::1]:443" (tp_session_info.peer) into a host
 * prefix (/32 or /128).  0, or -1 when it is not such a string. */
int tn_peer_addr(const char *peer, struct tp_prefix *out);

/* Index of the first route in `routes` that contains `a`, or -1. */
int tn_routes_cover(const struct tp_prefix *routes, size_t n, const struct tp_prefix *a);

#endif
