/* SPDX-License-Identifier: MIT */
/*
 * netlink.h — the rtnetlink requests the tun plugin needs, through libmnl.
 *
 * We talk to the kernel directly instead of running `ip`: no dependency on
 * iproute2 being installed, no shell, and errors come back as errno values
 * we can report precisely.  Every request is synchronous (sent with
 * NLM_F_ACK, the ack read before returning); rtnetlink answers these at
 * once, and they only happen at start, stop and on session-up events, never
 * on the data path.
 */
#ifndef TUN_NETLINK_H
#define TUN_NETLINK_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tn_nl;

/* Open and bind a NETLINK_ROUTE socket; NULL with a message in err. */
struct tn_nl *tn_nl_open(char *err, size_t errlen);
void tn_nl_close(struct tn_nl *nl);

/* Set the link up and, when mtu != 0, its MTU.  0 or -errno. */
int tn_nl_link_up(struct tn_nl *nl, unsigned ifindex, uint32_t mtu);
/* Add (add = 1) or delete an interface address.  0 or -errno. */
int tn_nl_addr(struct tn_nl *nl, int add, unsigned ifindex, const struct tp_prefix *p);
/* Add or delete a route to `dst` through the device (main table, no gateway).
 * Adding one that already exists gives -EEXIST.  0 or -errno. */
int tn_nl_route(struct tn_nl *nl, int add, unsigned ifindex, const struct tp_prefix *dst);

/* One route of a dump: what pin.c needs to find the way to the server. */
struct tn_route {
	struct tp_prefix dst;  /* plen 0 for a default route */
	struct tp_prefix gw;   /* family 0 when directly connected */
	unsigned oif;          /* 0 for a multipath or device-less route */
	uint32_t priority;     /* metric */
	uint32_t table;
	uint8_t type;          /* RTN_* */
	uint8_t protocol;      /* RTPROT_*: who added it */
};

/* Every route of `family` in every table; `cb` is called for each.
 * 0 or -errno. */
int tn_nl_route_dump(struct tn_nl *nl, int family, void (*cb)(const struct tn_route *r, void *arg),
		     void *arg);
/* Add or delete the main-table route to `dst` via `gw` (family 0: none)
 * on device `oif`, with rtm_protocol `proto` (RTPROT_STATIC for ours, a
 * private value for the pin: a delete then matches only a route added
 * with it).  0 or -errno (-EEXIST when it already exists). */
int tn_nl_route_proto(struct tn_nl *nl, int add, const struct tp_prefix *dst, const struct tp_prefix *gw,
		      unsigned oif, uint8_t proto);

#endif
