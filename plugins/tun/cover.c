/* SPDX-License-Identifier: MIT */
/*
 * cover.c — see cover.h.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cover.h"
#include "prefix.h"

int tn_peer_addr(const char *peer, struct tp_prefix *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *end, *port;
	size_t len;
	int bracket = 0;

	memset(out, 0, sizeof(*out));
	if (!peer)
		return -1;
	if (peer[0] == '[') {
		end = strchr(peer, ']');
		if (!end || end[1] != ':')
			return -1;
		peer++;
		port = end + 2;
		bracket = 1;
	} else {
		end = strrchr(peer, ':');
		if (!end)
			return -1;
		port = end + 1;
	}
	len = (size_t)(end - peer);
	if (!len || len >= sizeof(host) || !*port || strspn(port, "0123456789") != strlen(port))
		return -1;
	memcpy(host, peer, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		out->plen = 32;
		return 0;
	}
	/* An IPv6 address only in brackets: "::1:443" is ambiguous. */
	if (bracket && inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		out->plen = 128;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int tn_routes_cover(const struct tp_prefix *routes, size_t n, const struct tp_prefix *a)
{
	for (size_t i = 0; i < n; i++)
		if (tn_prefix_contains(&routes[i], a))
			return (int)i;
	return -1;
}
