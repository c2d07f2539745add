/* SPDX-License-Identifier: MIT */
/*
 * addrpool.h — the server's tunnel address pool (IPv4, with IPv6 derived).
 * An IPv6-only tunnel (no IPv4 address announced) leases from the first
 * TP_ADDRPOOL_MAX addresses of the IPv6 prefix instead.
 *
 * Built from what the top endpoint announces (struct tp_net_info).  Each
 * session leases one IPv4 address; if the TUN has an IPv6 prefix too, the
 * client's IPv6 address is that prefix with the same host offset, so the
 * two stay paired without a second pool.  A user gets back the address it
 * had last time when that address is free ("sticky"); fresh addresses are
 * preferred over ones remembered for other users.
 */
#ifndef TP_CORE_ADDRPOOL_H
#define TP_CORE_ADDRPOOL_H
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_addrpool;

#define TP_ADDRPOOL_MAX 65536u

/* NULL with err filled when the announced network cannot make a pool
 * (no IPv4 address, range outside the subnet, empty range). */
struct tp_addrpool *tp_addrpool_new(const struct tp_net_info *net, char *err, size_t errlen);
void tp_addrpool_free(struct tp_addrpool *p);
/* Lease an address for `user` and fill the address fields of `info`
 * (addr4, gw4, addr6, gw6, mtu, routes, dns).  Returns the lease handle
 * (>= 0) or -1 when the pool is exhausted. */
int tp_addrpool_lease(struct tp_addrpool *p, const char *user, struct tp_session_info *info);
void tp_addrpool_release(struct tp_addrpool *p, int lease);
/* Free addresses left. */
uint32_t tp_addrpool_available(const struct tp_addrpool *p);

#endif
