/* SPDX-License-Identifier: MIT */
/*
 * prefix.c — address option parsing for the tun plugin (see prefix.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IP";
}

int tn_prefix_parse(const char *s, int family, enum tn_plen_rule rule, const char *what,
		    struct tp_prefix *out, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *kind = rule == TN_PLEN_NONE ? "address" : "prefix";
	char *slash, *end;
	long plen = -1;
	int maxlen;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= sizeof(text))
		goto bad;
	strcpy(text, s);
	slash = strchr(text, '/');
	if (slash) {
		if (rule == TN_PLEN_NONE)
			goto bad;
		*slash++ = '\0';
		errno = 0;
		plen = strtol(slash, &end, 10);
		/* strtol accepts " 24" and "+24"; a prefix length is digits only. */
		if (*slash < '0' || *slash > '9' || *end || errno)
			goto bad;
	} else if (rule == TN_PLEN_REQUIRED) {
		goto bad;
	}

	if ((family == AF_INET || family == AF_UNSPEC) && inet_pton(AF_INET, text, out->addr) == 1)
		out->family = AF_INET;
	else if ((family == AF_INET6 || family == AF_UNSPEC) && inet_pton(AF_INET6, text, out->addr) == 1)
		out->family = AF_INET6;
	else
		goto bad;

	maxlen = out->family == AF_INET ? 32 : 128;
	if (plen > maxlen)
		goto bad;
	out->plen = (uint8_t)(plen < 0 ? maxlen : plen);
	return 0;

bad:
	memset(out, 0, sizeof(*out));
	snprintf(err, errlen, "%s '%s' is not an %s %s%s", what, s ? s : "(null)", family_name(family),
		 kind, rule != TN_PLEN_REQUIRED ? "" : family == AF_INET6 ? " (like fd00::1/64)" : " (like 10.0.0.1/24)");
	return -1;
}

static int addr_len(const struct tp_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

int tn_prefix_contains(const struct tp_prefix *net, const struct tp_prefix *a)
{
	int full = net->plen / 8, rest = net->plen % 8;

	if (net->family != a->family || net->plen > addr_len(net) * 8)
		return 0;
	if (memcmp(net->addr, a->addr, (size_t)full))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((net->addr[full] ^ a->addr[full]) & mask)
			return 0;
	}
	return 1;
}

struct tp_prefix tn_prefix_network(const struct tp_prefix *p)
{
	struct tp_prefix n = *p;
	int i, bits = p->plen;

	for (i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		n.addr[i] &= bits > 0 ? (uint8_t)(0xff << (8 - bits)) : 0;
	}
	return n;
}

int tn_prefix_has_host_bits(const struct tp_prefix *p)
{
	struct tp_prefix n = tn_prefix_network(p);

	return memcmp(n.addr, p->addr, sizeof(n.addr)) != 0;
}

int tn_prefix_equal(const struct tp_prefix *a, const struct tp_prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       memcmp(a->addr, b->addr, (size_t)addr_len(a)) == 0;
}

int tn_prefix_cmp4(const struct tp_prefix *a, const struct tp_prefix *b)
{
	return memcmp(a->addr, b->addr, 4);
}

const char *tn_prefix_str(const struct tp_prefix *p, int with_len, char *buf, size_t len)
{
	if (!tp_prefix_str(p, with_len, buf, len)[0])
		snprintf(buf, len, "(none)");
	return buf;
}

int tn_pool_parse(const char *s, const struct tp_prefix *net, struct tp_prefix *first,
		  struct tp_prefix *last, char *err, size_t errlen)
{
	char text[2 * INET_ADDRSTRLEN + 2], netstr[TN_PREFIX_STRLEN];
	char *dash;

	if (strlen(s) >= sizeof(text) || !(dash = strchr(strcpy(text, s), '-'))) {
		snprintf(err, errlen, "pool '%s' is not an IPv4 range (like 10.0.0.10-10.0.0.200)", s);
		return -1;
	}
	*dash++ = '\0';
	if (tn_prefix_parse(text, AF_INET, TN_PLEN_NONE, "pool start", first, err, errlen) ||
	    tn_prefix_parse(dash, AF_INET, TN_PLEN_NONE, "pool end", last, err, errlen))
		return -1;
	tn_prefix_str(net, 1, netstr, sizeof(netstr));
	if (!tn_prefix_contains(net, first) || !tn_prefix_contains(net, last)) {
		snprintf(err, errlen, "pool '%s' is not inside address %s's subnet", s, netstr);
		return -1;
	}
	if (tn_prefix_cmp4(first, last) > 0) {
		snprintf(err, errlen, "pool '%s' starts after it ends", s);
		return -1;
	}
	if (tn_prefix_cmp4(first, net) <= 0 && tn_prefix_cmp4(net, last) <= 0) {
		snprintf(err, errlen, "pool '%s' contains the server's own address %s", s, netstr);
		return -1;
	}
	return 0;
}

int tn_search_join(const char *const *list, char *out, size_t cap, char *err, size_t errlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; list && list[i]; i++) {
		const char *d = list[i];
		size_t len = strlen(d);

		/* Names only: they go into resolv.conf and a script's environment. */
		if (!len || len > 253 || d[0] == '.' || d[0] == '-' ||
		    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != len ||
		    strstr(d, "..")) {
			snprintf(err, errlen, "push_search '%s' is not a domain name", d);
			return -1;
		}
		if (off + (off ? 1 : 0) + len >= cap) {
			snprintf(err, errlen, "push_search: the domains take more than %zu characters", cap - 1);
			return -1;
		}
		off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? " " : "", d);
	}
	return 0;
}
