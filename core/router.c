/* SPDX-License-Identifier: MIT */
/* router.c — see router.h.  A fixed array of hash buckets with short
 * chains: nodes are allocated per session (when it comes up), never per
 * packet. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "router.h"

#define NBUCKETS 1024 /* a power of two; chains stay short for thousands of sessions */

struct node {
	struct node *next;
	uint8_t family;
	uint8_t addr[16];
	struct tp_session *s;
};

struct tp_router {
	struct node *b[NBUCKETS];
};

static unsigned hash(uint8_t family, const uint8_t *a)
{
	/* FNV-1a over the address bytes: cheap and mixes the low octets,
	 * which are the ones that differ inside a pool. */
	unsigned n = family == AF_INET ? 4 : 16, h = 2166136261u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	return h & (NBUCKETS - 1);
}

static size_t alen(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

struct tp_router *tp_router_new(void)
{
	return calloc(1, sizeof(struct tp_router));
}

void tp_router_free(struct tp_router *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < NBUCKETS; i++)
		for (struct node *n = r->b[i], *nx; n; n = nx) {
			nx = n->next;
			free(n);
		}
	free(r);
}

int tp_router_add(struct tp_router *r, const struct tp_prefix *a, struct tp_session *s)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return -1;
	unsigned h = hash(a->family, a->addr);
	for (struct node *n = r->b[h]; n; n = n->next)
		if (n->family == a->family && !memcmp(n->addr, a->addr, alen(a->family))) {
			n->s = s;
			return 0;
		}
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return -1;
	n->family = a->family;
	memcpy(n->addr, a->addr, alen(a->family));
	n->s = s;
	n->next = r->b[h];
	r->b[h] = n;
	return 0;
}

void tp_router_del_session(struct tp_router *r, struct tp_session *s)
{
	for (unsigned i = 0; i < NBUCKETS; i++) {
		struct node **pp = &r->b[i];
		while (*pp) {
			struct node *n = *pp;
			if (n->s == s) {
				*pp = n->next;
				free(n);
			} else {
				pp = &n->next;
			}
		}
	}
}

int tp_ip_addr(const uint8_t *pkt, size_t len, int dst, struct tp_prefix *a)
{
	if (len < 20)
		return -1;
	switch (pkt[0] >> 4) {
	case 4:
		a->family = AF_INET;
		a->plen = 32;
		memcpy(a->addr, pkt + (dst ? 16 : 12), 4);
		return 0;
	case 6:
		if (len < 40)
			return -1;
		a->family = AF_INET6;
		a->plen = 128;
		memcpy(a->addr, pkt + (dst ? 24 : 8), 16);
		return 0;
	}
	return -1;
}

int tp_ip_src_is(const uint8_t *pkt, size_t len, const struct tp_prefix *a)
{
	struct tp_prefix src;
	if (tp_ip_addr(pkt, len, 0, &src) < 0 || src.family != a->family)
		return 0;
	return !memcmp(src.addr, a->addr, alen(a->family));
}

int tp_ip_src_link_local6(const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[16];
	const uint8_t *src = pkt + 8;
	if (len < 40 || pkt[0] >> 4 != 6)
		return 0;
	return (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) || !memcmp(src, zero, 16);
}

struct tp_session *tp_router_lookup(const struct tp_router *r, const uint8_t *pkt, size_t len)
{
	struct tp_prefix d;
	if (tp_ip_addr(pkt, len, 1, &d) < 0)
		return NULL;
	for (const struct node *n = r->b[hash(d.family, d.addr)]; n; n = n->next)
		if (n->family == d.family && !memcmp(n->addr, d.addr, alen(d.family)))
			return n->s;
	return NULL;
}
