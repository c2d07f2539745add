/* SPDX-License-Identifier: MIT */
/*
 * svpn-check.c — what the client accepts from a server's 101.  A server is
 * trusted to carry our traffic, not to rewrite our host's routing: the
 * address it assigns becomes an on-link network of our TUN device, so a
 * "200.0.0.2/1" would pull half of IPv4 into the tunnel whatever
 * accept_routes says, and an address covering the server's own would
 * route the tunnel into itself.  Everything here is pure (no socket, no
 * log), so the unit tests and the fuzz target run it as the client does.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Why an IPv4 address is not a host's unicast address, or NULL. */
static const char *bad4(const uint8_t *a)
{
	if (a[0] == 0)
		return "unspecified";
	if (a[0] == 127)
		return "loopback";
	if (a[0] >= 224 && a[0] < 240)
		return "multicast";
	if (a[0] >= 240)
		return "reserved/broadcast";
	if (a[0] == 169 && a[1] == 254)
		return "link-local";
	return NULL;
}

static const char *bad6(const uint8_t *a)
{
	static const uint8_t zero[16], v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return a[15] ? "loopback" : "unspecified";
	if (a[0] == 0xff)
		return "multicast";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	if (memcmp(a, v4mapped, 12) == 0)
		return "IPv4-mapped";
	return NULL;
}

static void fmt(const struct tp_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->plen);
}

/* One assigned address (addr4/addr6). */
static int check_addr(const struct tp_prefix *p, const struct th_server_addr *srv, unsigned min,
		      const char *hdr, char *why, size_t len)
{
	char s[64];
	int v4 = p->family == AF_INET;
	unsigned max = v4 ? 32 : 128;
	const char *bad = v4 ? bad4(p->addr) : bad6(p->addr);

	fmt(p, s, sizeof(s));
	if (bad) {
		snprintf(why, len, "%s %s is %s, not a unicast address", hdr, s, bad);
		return -1;
	}
	if (p->plen < min || p->plen > max) {
		snprintf(why, len, "%s %s: prefix shorter than /%u (min_prefix%s)", hdr, s, min,
			 v4 ? "" : "6");
		return -1;
	}
	/* The network and broadcast addresses of a subnet are not a host's. */
	if (v4 && p->plen < 31) {
		uint32_t a, host = (uint32_t)~0u >> p->plen;
		memcpy(&a, p->addr, 4);
		a = ntohl(a) & host;
		if (a == 0 || a == host) {
			snprintf(why, len, "%s %s is the subnet's %s address", hdr, s,
				 a ? "broadcast" : "network");
			return -1;
		}
	}
	if (srv && hs_prefix_has(p, srv->family, srv->addr)) {
		snprintf(why, len, "%s %s %s the server's own address", hdr, s,
			 memcmp(p->addr, srv->addr, v4 ? 4 : 16) == 0 ? "is" : "covers");
		return -1;
	}
	return 0;
}

/* A pushed route: any length (a full tunnel pushes 0.0.0.0/0), but never
 * to a loopback, multicast or link-local network: no server has a use for
 * those and they would break the host. */
static int check_route(const struct tp_prefix *p, char *why, size_t len)
{
	char s[64];
	const char *bad = p->family == AF_INET ? bad4(p->addr) : bad6(p->addr);
	/* 0.0.0.0/0, 0.0.0.0/1 and ::/1 reach far beyond "this network":
	 * only a route inside it (0.0.0.0/8 or longer, ::/128) is bogus. */
	if (bad && strcmp(bad, "unspecified") == 0 && p->plen < (p->family == AF_INET ? 8 : 128))
		bad = NULL;
	if (!bad)
		return 0;
	fmt(p, s, sizeof(s));
	snprintf(why, len, "Simple-VPN-Route %s is a %s network", s, bad);
	return -1;
}

int th_check_101(const struct http_msg *m, const struct tp_session_info *info,
		 const struct th_server_addr *srv, unsigned min4, unsigned min6, char *why, size_t len)
{
	/* RFC 9110 7.8: a 101 names the protocol switched to and is
	 * hop-by-hop; a server that does not say Simple-VPN did not agree to
	 * it (a proxy or a confused endpoint), whatever follows. */
	if (!http_has_token(m, "Upgrade", "Simple-VPN")) {
		snprintf(why, len, "101 without 'Upgrade: Simple-VPN'");
		return -1;
	}
	if (!http_has_token(m, "Connection", "upgrade")) {
		snprintf(why, len, "101 without 'Connection: Upgrade'");
		return -1;
	}
	/* An IPv6-only tunnel's 101 has no IPv4 address; one of the two
	 * must be there (hs_parse_101 refuses an answer with neither). */
	if (!info->addr4.family && !info->addr6.family) {
		snprintf(why, len, "101 assigns no tunnel address");
		return -1;
	}
	if (info->addr4.family &&
	    check_addr(&info->addr4, srv, min4, "Simple-VPN-Address", why, len) < 0)
		return -1;
	if (info->addr4.family && bad4(info->gw4.addr)) {
		snprintf(why, len, "Simple-VPN-Gateway is %s", bad4(info->gw4.addr));
		return -1;
	}
	if (info->addr6.family &&
	    check_addr(&info->addr6, srv, min6, "Simple-VPN-Address6", why, len) < 0)
		return -1;
	if (info->gw6.family && bad6(info->gw6.addr)) {
		snprintf(why, len, "Simple-VPN-Gateway6 is %s", bad6(info->gw6.addr));
		return -1;
	}
	/* Below 1280 the kernel turns IPv6 off on the device: its addresses
	 * and routes go, and IPv6 traffic the tunnel should carry leaks. */
	if (info->addr6.family && info->mtu && info->mtu < 1280) {
		snprintf(why, len, "Simple-VPN-MTU %u is below 1280, the least IPv6 allows, and "
			 "the answer assigns an IPv6 address", info->mtu);
		return -1;
	}
	for (uint32_t i = 0; i < info->n_routes; i++)
		if (check_route(&info->routes[i], why, len) < 0)
			return -1;
	return 0;
}

void th_escape(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && src[i] && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
	}
	if (cap)
		dst[o < cap ? o : cap - 1] = '\0';
}

long th_retry_after(const struct http_msg *m)
{
	const char *v = http_get(m, "Retry-After");
	long s = 0;
	if (!v || !*v)
		return -1;
	/* delta-seconds only; an HTTP-date would need our clock to agree
	 * with the server's, so it is treated as absent. */
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		s = s * 10 + (*v - '0');
		if (s > 86400)
			s = 86400;
	}
	return s;
}
