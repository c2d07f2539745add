/* SPDX-License-Identifier: MIT */
/*
 * netlink.c — rtnetlink requests through libmnl (see netlink.h).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "netlink.h"

struct tn_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	/* One buffer for the request and its ack; requests never overlap
	 * (single-threaded, synchronous).  Fixed size: MNL_SOCKET_BUFFER_SIZE
	 * is a sysconf() call, and 8 KiB holds any ack we get. */
	char buf[8192];
};

struct tn_nl *tn_nl_open(char *err, size_t errlen)
{
	struct tn_nl *nl = calloc(1, sizeof(*nl));
	/* The kernel answers at once; the timeout only guards against a
	 * lost ack hanging the event loop forever. */
	struct timeval tv = { .tv_sec = 2 };

	if (!nl) {
		snprintf(err, errlen, "netlink: out of memory");
		goto fail;
	}
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock) {
		snprintf(err, errlen, "netlink: cannot open a NETLINK_ROUTE socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink: cannot bind: %s", strerror(errno));
		goto fail;
	}
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return nl;

fail:
	tn_nl_close(nl);
	return NULL;
}

void tn_nl_close(struct tn_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

static struct nlmsghdr *msg_start(struct tn_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Send the request and wait for its ack: 0 or -errno from the kernel. */
static int transact(struct tn_nl *nl, struct nlmsghdr *nlh)
{
	unsigned seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		/* MNL_CB_STOP once the ack for `seq` arrived; an error ack
		 * makes it return -1 with errno set to the kernel's error. */
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, NULL, NULL);
	} while (ret == MNL_CB_OK);
	return ret < 0 ? -errno : 0;
}

#define TN_TXQLEN 1000

int tn_nl_link_up(struct tn_nl *nl, unsigned ifindex, uint32_t mtu)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	/* A TUN device starts with a 500-packet queue towards us; a burst
	 * larger than that while we are busy writing the other way is
	 * dropped by the kernel (measured ~2% under iperf3), and the inner
	 * TCP then backs off.  Give it the usual Ethernet length. */
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, TN_TXQLEN);
	return transact(nl, nlh);
}

static size_t family_len(const struct tp_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

int tn_nl_addr(struct tn_nl *nl, int add, unsigned ifindex, const struct tp_prefix *p)
{
	struct nlmsghdr *nlh = msg_start(nl, add ? RTM_NEWADDR : RTM_DELADDR,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* A TUN has no link layer to probe: duplicate address detection
	 * would only leave the IPv6 address "tentative" for a while. */
	ifa->ifa_flags = p->family == AF_INET6 ? IFA_F_NODAD : 0;
	/* Like `ip addr add`: IFA_LOCAL and IFA_ADDRESS equal means a plain
	 * (not point-to-point) address, so the kernel adds the subnet route. */
	mnl_attr_put(nlh, IFA_LOCAL, family_len(p), p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, family_len(p), p->addr);
	return transact(nl, nlh);
}

/* No gateway: the destination is reached directly on the device (the
 * same message as tn_nl_route_proto without RTA_GATEWAY). */
int tn_nl_route(struct tn_nl *nl, int add, unsigned ifindex, const struct tp_prefix *dst)
{
	static const struct tp_prefix none;
	return tn_nl_route_proto(nl, add, dst, &none, ifindex, RTPROT_STATIC);
}

int tn_nl_route_proto(struct tn_nl *nl, int add, const struct tp_prefix *dst, const struct tp_prefix *gw,
		      unsigned oif, uint8_t proto)
{
	struct nlmsghdr *nlh = msg_start(nl, add ? RTM_NEWROUTE : RTM_DELROUTE,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = dst->plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = proto;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gw->family || dst->family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	mnl_attr_put(nlh, RTA_DST, family_len(dst), dst->addr);
	if (gw->family)
		mnl_attr_put(nlh, RTA_GATEWAY, family_len(gw), gw->addr);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, oif);
	return transact(nl, nlh);
}

struct dump_ctx {
	int family;
	void (*cb)(const struct tn_route *r, void *arg);
	void *arg;
};

static int dump_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static void copy_addr(struct tp_prefix *p, int family, const struct nlattr *a, uint8_t plen)
{
	size_t len = family == AF_INET ? 4 : 16;

	if (!a || mnl_attr_get_payload_len(a) < len)
		return;
	p->family = (uint8_t)family;
	p->plen = plen;
	memcpy(p->addr, mnl_attr_get_payload(a), len);
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct dump_ctx *d = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct tn_route r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != d->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), dump_attr, tb);
	memset(&r, 0, sizeof(r));
	r.dst.family = (uint8_t)d->family;
	r.dst.plen = rtm->rtm_dst_len;
	copy_addr(&r.dst, d->family, tb[RTA_DST], rtm->rtm_dst_len);
	copy_addr(&r.gw, d->family, tb[RTA_GATEWAY], d->family == AF_INET ? 32 : 128);
	if (tb[RTA_OIF])
		r.oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		r.priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	r.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r.type = rtm->rtm_type;
	r.protocol = rtm->rtm_protocol;
	d->cb(&r, d->arg);
	return MNL_CB_OK;
}

int tn_nl_route_dump(struct tn_nl *nl, int family, void (*cb)(const struct tn_route *r, void *arg),
		     void *arg)
{
	/* A dump comes in multipart messages as large as the reader offers
	 * room for; 32 KiB is what libmnl advises (MNL_SOCKET_DUMP_SIZE). */
	enum { DUMP_BUF = 32768 };
	struct dump_ctx d = { family, cb, arg };
	struct nlmsghdr *nlh = msg_start(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	unsigned seq = nlh->nlmsg_seq;
	char *buf = NULL;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	rtm->rtm_family = (uint8_t)family;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	buf = malloc(DUMP_BUF);
	if (!buf)
		return -ENOMEM;
	do {
		n = mnl_socket_recvfrom(nl->sock, buf, DUMP_BUF);
		if (n < 0) {
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, dump_cb, &d);
	} while (ret == MNL_CB_OK);
	ret = ret < 0 ? -errno : 0;
out:
	free(buf);
	return ret;
}
