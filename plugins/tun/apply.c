/* SPDX-License-Identifier: MIT */
/*
 * apply.c — opening the TUN device and configuring it through netlink:
 * link up and MTU, addresses, routes, and what a client learns in the
 * handshake.  Everything added is remembered so stop() removes exactly that
 * (and a route that already existed, added by someone else, is left alone).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun.h"

#define LOG(t, lvl, ...) (t)->host->log((t)->st, lvl, __VA_ARGS__)

static int open_tun(struct tun *t)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		LOG(t, TP_LOG_ERROR, "cannot open /dev/net/tun: %s%s", strerror(errno),
		    errno == ENOENT ? " (is the tun module loaded?)" : "");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No packet-info header: each read/write is exactly one IP packet,
	 * preceded by a virtio_net_hdr when offloads are on (tun.c). */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (t->vnet ? IFF_VNET_HDR : 0);
	if (t->conf->device)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->conf->device);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		LOG(t, TP_LOG_ERROR, "cannot create tun device '%s': %s%s",
		    t->conf->device ? t->conf->device : "tun%d", strerror(errno),
		    errno == EPERM ? " (needs CAP_NET_ADMIN)"
		    : errno == EBUSY ? " (the name is in use by another device or process)" : "");
		close(fd);
		return -1;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = '\0';
	t->ifindex = if_nametoindex(t->ifname);
	if (!t->ifindex) {
		LOG(t, TP_LOG_ERROR, "tun device %s vanished: %s", t->ifname, strerror(errno));
		close(fd);
		return -1;
	}
	t->fd = fd;
	if (t->vnet && tun_offload_setup(t)) {
		t->fd = -1;
		close(fd);
		return -1;
	}
	return 0;
}

static int set_addr(struct tun *t, struct tp_prefix *cur, const struct tp_prefix *p)
{
	char s[TN_PREFIX_STRLEN];
	int r = tn_nl_addr(t->nl, 1, t->ifindex, p);

	if (r < 0 && r != -EEXIST) {
		LOG(t, TP_LOG_ERROR, "cannot add address %s to %s: %s", tn_prefix_str(p, 1, s, sizeof(s)),
		    t->ifname, strerror(-r));
		return -1;
	}
	*cur = *p;
	return 0;
}

static void del_addr(struct tun *t, struct tp_prefix *cur)
{
	char s[TN_PREFIX_STRLEN];
	int r;

	if (!cur->family)
		return;
	r = tn_nl_addr(t->nl, 0, t->ifindex, cur);
	/* Gone already (someone removed it, or the device) is fine. */
	if (r < 0 && r != -EADDRNOTAVAIL && r != -ENODEV)
		LOG(t, TP_LOG_WARN, "cannot remove address %s from %s: %s",
		    tn_prefix_str(cur, 1, s, sizeof(s)), t->ifname, strerror(-r));
	memset(cur, 0, sizeof(*cur));
}

/* 1: added by us, 0: it already existed (not ours to remove), -1: error. */
static int add_route(struct tun *t, const struct tp_prefix *p)
{
	char s[TN_PREFIX_STRLEN];
	int r = tn_nl_route(t->nl, 1, t->ifindex, p);

	if (r == -EEXIST) {
		LOG(t, TP_LOG_INFO, "route %s already exists, leaving it alone", tn_prefix_str(p, 1, s, sizeof(s)));
		return 0;
	}
	if (r < 0) {
		LOG(t, TP_LOG_ERROR, "cannot add route %s via %s: %s", tn_prefix_str(p, 1, s, sizeof(s)),
		    t->ifname, strerror(-r));
		return -1;
	}
	return 1;
}

static void del_route(struct tun *t, const struct tp_prefix *p)
{
	char s[TN_PREFIX_STRLEN];
	int r = tn_nl_route(t->nl, 0, t->ifindex, p);

	/* The kernel drops a device's routes with its addresses or the
	 * device itself; ESRCH then just means it is gone already. */
	if (r < 0 && r != -ESRCH && r != -ENODEV)
		LOG(t, TP_LOG_WARN, "cannot remove route %s via %s: %s", tn_prefix_str(p, 1, s, sizeof(s)),
		    t->ifname, strerror(-r));
}

int tun_device_open(struct tun *t)
{
	char err[256];
	size_t i;
	int r;

	if (open_tun(t))
		return -1;
	t->nl = tn_nl_open(err, sizeof(err));
	if (!t->nl) {
		LOG(t, TP_LOG_ERROR, "%s", err);
		goto fail;
	}
	/* Up first: IPv4 refuses routes through a device that is down. */
	r = tn_nl_link_up(t->nl, t->ifindex, t->mtu);
	if (r < 0) {
		LOG(t, TP_LOG_ERROR, "cannot set %s up with mtu %u: %s", t->ifname, t->mtu, strerror(-r));
		goto fail;
	}
	t->cur_mtu = t->mtu;
	if (t->addr4.family && set_addr(t, &t->cur4, &t->addr4))
		goto fail;
	if (t->addr6.family && set_addr(t, &t->cur6, &t->addr6))
		goto fail;
	for (i = 0; i < t->n_routes; i++) {
		r = add_route(t, &t->routes[i]);
		if (r < 0)
			goto fail;
		t->route_added[i] = (uint8_t)r;
	}
	return 0;

fail:
	tun_device_close(t);
	return -1;
}

static void del_pushed(struct tun *t)
{
	uint32_t i;

	for (i = 0; i < t->n_pushed; i++)
		del_route(t, &t->pushed[i]);
	t->n_pushed = 0;
}

void tun_device_close(struct tun *t)
{
	size_t i;

	if (t->nl && t->ifindex) {
		del_pushed(t);
		for (i = 0; i < t->n_routes; i++)
			if (t->route_added[i])
				del_route(t, &t->routes[i]);
		del_addr(t, &t->cur4);
		del_addr(t, &t->cur6);
	}
	/* route_added is NULL when no routes are configured, and memset's
	 * pointer must be valid even for a zero length (UBSan nonnull). */
	if (t->n_routes)
		memset(t->route_added, 0, t->n_routes);
	tn_nl_close(t->nl);
	t->nl = NULL;
	/* Closing the last fd of a non-persistent TUN deletes the device. */
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->ifindex = 0;
}

static int route_in(const struct tp_prefix *p, const struct tp_prefix *list, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (tn_prefix_equal(p, &list[i]))
			return 1;
	return 0;
}

/* Make the pushed routes we own equal to `want` (minus those that already
 * existed): remove the ones no longer pushed, add the new ones. */
static void sync_pushed(struct tun *t, const struct tp_prefix *want, uint32_t n_want)
{
	struct tp_prefix keep[TP_MAX_ROUTES];
	uint32_t i, n_keep = 0;

	for (i = 0; i < t->n_pushed; i++) {
		if (route_in(&t->pushed[i], want, n_want))
			keep[n_keep++] = t->pushed[i];
		else
			del_route(t, &t->pushed[i]);
	}
	for (i = 0; i < n_want && n_keep < TP_MAX_ROUTES; i++) {
		if (route_in(&want[i], keep, n_keep) || tn_prefix_has_host_bits(&want[i]))
			continue;
		if (add_route(t, &want[i]) == 1)
			keep[n_keep++] = want[i];
	}
	memcpy(t->pushed, keep, sizeof(keep[0]) * n_keep);
	t->n_pushed = n_keep;
}

/* Returns 1 when an address of ours was replaced. */
static int replace_addr(struct tun *t, struct tp_prefix *cur, const struct tp_prefix *want)
{
	int had = cur->family != 0;

	if (!want->family || tn_prefix_equal(cur, want))
		return 0;
	/* Reconnected with another address: the old one must go, or the
	 * kernel would keep sourcing packets from it.  Delete before adding:
	 * with the new one in the same subnet it would be a secondary, which
	 * the kernel deletes along with the primary. */
	del_addr(t, cur);
	set_addr(t, cur, want);
	return had;
}

/* Removing a device's last IPv4 address flushes every route through it,
 * ours included: put back the ones we own.  EEXIST means it survived. */
static void readd_owned_routes(struct tun *t)
{
	size_t i;

	for (i = 0; i < t->n_routes; i++)
		if (t->route_added[i] && tn_nl_route(t->nl, 1, t->ifindex, &t->routes[i]) == 0)
			LOG(t, TP_LOG_DEBUG, "route %zu re-added after the address change", i);
	for (i = 0; i < t->n_pushed; i++)
		tn_nl_route(t->nl, 1, t->ifindex, &t->pushed[i]);
}

/* Whether the device carries IPv6 once this session is applied: an
 * address (configured, current or the session's) or a route of ours. */
static int carries_ipv6(const struct tun *t, const struct tp_session_info *info, uint32_t n_routes)
{
	size_t i;

	if (t->addr6.family || t->cur6.family || info->addr6.family)
		return 1;
	for (i = 0; i < t->n_routes; i++)
		if (t->routes[i].family == AF_INET6)
			return 1;
	for (i = 0; i < n_routes; i++)
		if (info->routes[i].family == AF_INET6)
			return 1;
	return 0;
}

void tun_apply_session(struct tun *t, const struct tp_session_info *info)
{
	char a4[TN_PREFIX_STRLEN], a6[TN_PREFIX_STRLEN];
	uint32_t n_routes = info->n_routes < TP_MAX_ROUTES ? info->n_routes : TP_MAX_ROUTES;
	int r, changed = 0;

	/* Below 1280 the kernel switches IPv6 off on the device and drops its
	 * IPv6 addresses and routes: IPv6 meant for the tunnel would leave
	 * by the default route.  The server's MTU is not worth that. */
	if (info->mtu && info->mtu < 1280 && carries_ipv6(t, info, n_routes)) {
		LOG(t, TP_LOG_ERROR, "%s: not applying the session's mtu %u: below 1280, IPv6 would "
		    "be switched off on a device that carries it; keeping %u", t->ifname, info->mtu,
		    t->cur_mtu);
	} else if (info->mtu && info->mtu != t->cur_mtu) {
		r = tn_nl_link_up(t->nl, t->ifindex, info->mtu);
		if (r < 0)
			LOG(t, TP_LOG_ERROR, "cannot set mtu %u on %s: %s", info->mtu, t->ifname, strerror(-r));
		else
			t->cur_mtu = info->mtu;
	}
	/* A configured address is the operator's choice and wins over one
	 * learnt from a session (only a client should learn addresses). */
	if (info->addr4.family == AF_INET && !t->addr4.family)
		changed |= replace_addr(t, &t->cur4, &info->addr4);
	if (info->addr6.family == AF_INET6 && !t->addr6.family)
		changed |= replace_addr(t, &t->cur6, &info->addr6);
	if ((info->addr4.family && t->addr4.family) || (info->addr6.family && t->addr6.family))
		LOG(t, TP_LOG_INFO, "%s: keeping the configured address; the session's is ignored", t->ifname);
	if (changed)
		readd_owned_routes(t);
	/* Routes after addresses: a route through a device needs it up with
	 * an address of the family for the kernel to source packets. */
	if (t->conf->accept_routes)
		sync_pushed(t, info->routes, n_routes);
	LOG(t, TP_LOG_INFO, "%s: address %s%s%s mtu %u, %u pushed route(s) %s", t->ifname,
	    tn_prefix_str(&t->cur4, 1, a4, sizeof(a4)), t->cur6.family ? " " : "",
	    t->cur6.family ? tn_prefix_str(&t->cur6, 1, a6, sizeof(a6)) : "", t->cur_mtu, n_routes,
	    !t->conf->accept_routes ? "ignored (accept_routes = false)" : "applied");
}
