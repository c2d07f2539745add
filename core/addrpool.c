/* SPDX-License-Identifier: MIT */
/* addrpool.c — see addrpool.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "addrpool.h"

struct tp_addrpool {
	struct tp_net_info net;
	uint32_t first, last; /* host byte order, inclusive */
	uint32_t count;
	uint32_t used_count;
	int v6only;           /* no IPv4: first..last are host offsets in addr6's prefix */
	uint8_t *used;        /* one byte per address: leased or not */
	/* Sticky memory: the user who last held each address ("" = nobody). */
	char (*owner)[64];
};

static uint32_t get4(const struct tp_prefix *p)
{
	uint32_t v;
	memcpy(&v, p->addr, 4);
	return ntohl(v);
}

static void put4(struct tp_prefix *p, uint32_t host, uint8_t plen)
{
	uint32_t v = htonl(host);
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->plen = plen;
	memcpy(p->addr, &v, 4);
}

/* Low 32 bits of an IPv6 address, host order. */
static uint32_t low6(const struct tp_prefix *p)
{
	uint32_t v;
	memcpy(&v, p->addr + 12, 4);
	return ntohl(v);
}

/*
 * An IPv6-only tunnel: the pool is the first addresses of the TUN's prefix
 * (offsets 1.., at most TP_ADDRPOOL_MAX; a /64 has far more than anyone
 * leases), minus our own.  Offset 0 is the subnet-router anycast address.
 */
static struct tp_addrpool *new_v6only(const struct tp_net_info *net, char *err, size_t errlen)
{
	struct tp_addrpool *p = NULL;
	unsigned hostbits = 128u - net->addr6.plen;

	if (net->addr6.plen > 126 || net->addr6.plen < 64) {
		snprintf(err, errlen, "an IPv6-only tunnel needs an address6 prefix between /64 and /126 to lease "
			 "client addresses (it has /%u)", net->addr6.plen);
		return NULL;
	}
	if (net->pool4_first.family) {
		snprintf(err, errlen, "'pool' is an IPv4 range; an IPv6-only tunnel leases from address6's prefix");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->net = *net;
	p->v6only = 1;
	/* A /64../96 offers more than TP_ADDRPOOL_MAX: use the first ones. */
	uint64_t span = hostbits >= 32 ? (1ull << 32) : (1ull << hostbits);
	p->first = 1;
	p->last = span - 1 > TP_ADDRPOOL_MAX ? TP_ADDRPOOL_MAX : (uint32_t)(span - 1);
	p->count = p->last - p->first + 1;
	p->used = calloc(p->count, 1);
	p->owner = calloc(p->count, sizeof(*p->owner));
	if (!p->used || !p->owner)
		goto nomem;
	/* Our own address is never leased (when it lies in the leased range
	 * and its bits above the low 32 are the network's). */
	uint32_t hmask = hostbits >= 32 ? 0xffffffffu : (1u << hostbits) - 1;
	struct tp_prefix self_net = net->addr6;
	int high_zero = 1;
	for (unsigned b = net->addr6.plen; b < 96; b++)
		if (self_net.addr[b / 8] & (0x80u >> (b % 8)))
			high_zero = 0;
	uint32_t self = low6(&net->addr6) & hmask;
	if (high_zero && self >= p->first && self <= p->last) {
		p->used[self - p->first] = 2;
		p->used_count++;
	}
	return p;
nomem:
	snprintf(err, errlen, "out of memory");
	tp_addrpool_free(p);
	return NULL;
}

struct tp_addrpool *tp_addrpool_new(const struct tp_net_info *net, char *err, size_t errlen)
{
	struct tp_addrpool *p = NULL;

	if (net->addr4.family != AF_INET && net->addr6.family == AF_INET6)
		return new_v6only(net, err, errlen);
	if (net->addr4.family != AF_INET || net->addr4.plen > 30) {
		snprintf(err, errlen, "the tunnel needs an IPv4 address with a prefix of /30 or shorter, or an IPv6 "
			 "address with a prefix of /126 or shorter, to lease client addresses");
		goto fail;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->net = *net;
	uint32_t self = get4(&net->addr4);
	uint32_t mask = net->addr4.plen ? 0xffffffffu << (32 - net->addr4.plen) : 0;
	uint32_t netw = self & mask, bcast = netw | ~mask;
	if (net->pool4_first.family == AF_INET) {
		p->first = get4(&net->pool4_first);
		p->last = net->pool4_last.family == AF_INET ? get4(&net->pool4_last) : p->first;
		if ((p->first & mask) != netw || (p->last & mask) != netw || p->last < p->first) {
			snprintf(err, errlen, "the address pool is not a range inside the tunnel's subnet");
			goto fail;
		}
	} else {
		p->first = netw + 1;
		p->last = bcast - 1;
	}
	p->count = p->last - p->first + 1;
	/* One byte of state and 64 of sticky memory per address: a /8 would
	 * cost a gigabyte and a linear scan per lease. */
	if (p->count > TP_ADDRPOOL_MAX) {
		snprintf(err, errlen, "the address pool has %u addresses; at most %u are supported (set a smaller 'pool' range)",
			 p->count, TP_ADDRPOOL_MAX);
		goto fail;
	}
	if (net->addr6.family == AF_INET6 && net->addr6.plen > 128 - (32 - net->addr4.plen)) {
		/* Client IPv6 addresses reuse the IPv4 host part: it must fit. */
		snprintf(err, errlen, "the IPv6 prefix /%u is too long to pair with the IPv4 /%u: use /%u or shorter",
			 net->addr6.plen, net->addr4.plen, 128 - (32 - net->addr4.plen));
		goto fail;
	}
	p->used = calloc(p->count, 1);
	p->owner = calloc(p->count, sizeof(*p->owner));
	if (!p->used || !p->owner)
		goto nomem;
	/* The gateway (our own address), network and broadcast are never
	 * leased; nor is the address whose IPv6 twin is our own IPv6 address. */
	uint32_t self6_off = ~0u;
	if (net->addr6.family == AF_INET6) {
		uint32_t low;
		memcpy(&low, net->addr6.addr + 12, 4);
		self6_off = ntohl(low) & ~mask;
	}
	for (uint32_t a = p->first; a <= p->last; a++)
		if (a == self || a == netw || a == bcast || (a & ~mask) == self6_off)
			p->used[a - p->first] = 2;
	for (uint32_t i = 0; i < p->count; i++)
		if (p->used[i] == 2)
			p->used_count++;
	return p;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	tp_addrpool_free(p);
	return NULL;
}

void tp_addrpool_free(struct tp_addrpool *p)
{
	if (!p)
		return;
	free(p->used);
	free(p->owner);
	free(p);
}

static int pick(struct tp_addrpool *p, const char *user)
{
	int fresh = -1, any = -1;
	for (uint32_t i = 0; i < p->count; i++) {
		if (p->used[i])
			continue;
		if (user[0] && strcmp(p->owner[i], user) == 0)
			return (int)i;
		if (fresh < 0 && p->owner[i][0] == 0)
			fresh = (int)i;
		if (any < 0)
			any = (int)i;
	}
	return fresh >= 0 ? fresh : any;
}

/* The address at host offset `off` in the TUN's IPv6 prefix. */
static void lease6(const struct tp_addrpool *p, uint32_t off, struct tp_session_info *info)
{
	unsigned plen = p->net.addr6.plen;
	struct tp_prefix a = p->net.addr6;

	/* Clear the host bits, then put the offset in the low 32. */
	for (unsigned b = plen; b < 128; b++)
		a.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	uint32_t v = htonl(low6(&a) | off);
	memcpy(a.addr + 12, &v, 4);
	memset(&info->addr4, 0, sizeof(info->addr4));
	memset(&info->gw4, 0, sizeof(info->gw4));
	info->addr6 = a;
	info->gw6 = p->net.addr6;
	info->gw6.plen = 128;
}

int tp_addrpool_lease(struct tp_addrpool *p, const char *user, struct tp_session_info *info)
{
	int i = pick(p, user ? user : "");
	if (i < 0)
		return -1;
	p->used[i] = 1;
	p->used_count++;
	snprintf(p->owner[i], sizeof(p->owner[i]), "%s", user ? user : "");

	uint32_t a = p->first + (uint32_t)i;
	if (p->v6only) {
		lease6(p, a, info);
		goto common;
	}
	put4(&info->addr4, a, p->net.addr4.plen);
	info->gw4 = p->net.addr4;
	info->gw4.plen = 32;
	if (p->net.addr6.family == AF_INET6) {
		/* Same host offset inside the TUN's IPv6 prefix. */
		uint32_t mask = p->net.addr4.plen ? 0xffffffffu << (32 - p->net.addr4.plen) : 0;
		uint32_t off = a & ~mask;
		info->addr6 = p->net.addr6;
		uint32_t low;
		memcpy(&low, info->addr6.addr + 12, 4);
		low = htonl((ntohl(low) & mask) | off);
		memcpy(info->addr6.addr + 12, &low, 4);
		info->gw6 = p->net.addr6;
		info->gw6.plen = 128;
	}
common:
	info->mtu = p->net.mtu;
	info->n_routes = p->net.n_routes;
	memcpy(info->routes, p->net.routes, sizeof(info->routes));
	info->n_dns = p->net.n_dns;
	memcpy(info->dns, p->net.dns, sizeof(info->dns));
	memcpy(info->search, p->net.search, sizeof(info->search));
	info->search[sizeof(info->search) - 1] = '\0';
	return i;
}

void tp_addrpool_release(struct tp_addrpool *p, int lease)
{
	if (!p || lease < 0 || (uint32_t)lease >= p->count || p->used[lease] != 1)
		return;
	p->used[lease] = 0;
	p->used_count--;
}

uint32_t tp_addrpool_available(const struct tp_addrpool *p)
{
	return p->count - p->used_count;
}
