/* SPDX-License-Identifier: MIT */
/*
 * pin.c — a client's host route to its server.
 *
 * When the routes a client applies cover the server's own address (a full
 * tunnel: 0.0.0.0/1 + 128.0.0.0/1, ::/0, or any prefix holding it), the
 * TLS connection would follow them into the tunnel it carries and die.
 * Before those routes go in, we add a host route (/32, /128) to the server
 * through the way it was reached before: the best route of the main table
 * that does not go through our device.  Looking that up in a dump, not with
 * RTM_GETROUTE for the address, matters on a reconnect: our covering routes
 * are still there, and the kernel's answer would be our own device.
 *
 * The pin is refreshed when a session goes down too, so the next connection
 * follows the underlying route as it is then (a new gateway after a network
 * change), and it is removed at stop.  A host route that someone else
 * already had is left alone, never removed.  Ours carry a protocol of their
 * own (PIN_PROTO), so one left behind by a run killed before its stop is
 * told apart from someone else's: the next pin to that server replaces it.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tun.h"

#define LOG(t, lvl, ...) (t)->host->log((t)->st, lvl, __VA_ARGS__)

/* rtm_protocol of our host routes (`proto 112` in `ip route`): a value no
 * routing daemon in iproute2's rt_protos uses. */
#define PIN_PROTO 112

struct best {
	const struct tp_prefix *dst;  /* the server */
	unsigned skip_oif;            /* our device */
	struct tn_route r;
	int found;
};

static void consider(const struct tn_route *r, void *arg)
{
	struct best *b = arg;

	if (r->table != RT_TABLE_MAIN || r->type != RTN_UNICAST || !r->oif || r->oif == b->skip_oif)
		return;
	if (!tn_prefix_contains(&r->dst, b->dst))
		return;
	/* Our own pin (or one a killed run left) is no way out: it may
	 * follow a gateway that is gone. */
	if (r->protocol == PIN_PROTO)
		return;
	/* Longest prefix first, then the lowest metric, as the kernel picks. */
	if (b->found && (r->dst.plen < b->r.dst.plen ||
			 (r->dst.plen == b->r.dst.plen && r->priority >= b->r.priority)))
		return;
	b->r = *r;
	b->found = 1;
}

void tun_pin_remove(struct tun *t)
{
	char s[TN_PREFIX_STRLEN];
	int r;

	if (!t->pin.active || !t->nl)
		return;
	r = tn_nl_route_proto(t->nl, 0, &t->pin.server, &t->pin.gw, t->pin.oif, PIN_PROTO);
	/* ESRCH: gone with its device or removed by hand; either way done. */
	if (r < 0 && r != -ESRCH && r != -ENODEV)
		LOG(t, TP_LOG_WARN, "cannot remove the host route to the server %s: %s",
		    tn_prefix_str(&t->pin.server, 1, s, sizeof(s)), strerror(-r));
	else
		LOG(t, TP_LOG_INFO, "host route to the server %s removed",
		    tn_prefix_str(&t->pin.server, 1, s, sizeof(s)));
	t->pin.active = 0;
}

/* Which route about to be applied covers the server: -1 none. */
static int covering(const struct tun *t, const struct tp_session_info *info, const struct tp_prefix **p)
{
	int i;

	if (info && t->conf->accept_routes) {
		uint32_t n = info->n_routes < TP_MAX_ROUTES ? info->n_routes : TP_MAX_ROUTES;
		i = tn_routes_cover(info->routes, n, &t->pin.server);
		if (i >= 0) {
			*p = &info->routes[i];
			return i;
		}
	}
	/* After a session went down, the pushed routes we own stay. */
	if (!info) {
		i = tn_routes_cover(t->pushed, t->n_pushed, &t->pin.server);
		if (i >= 0) {
			*p = &t->pushed[i];
			return i;
		}
	}
	i = tn_routes_cover(t->routes, t->n_routes, &t->pin.server);
	if (i >= 0)
		*p = &t->routes[i];
	return i;
}

static void tagged(const struct tn_route *r, void *arg)
{
	struct best *b = arg;

	if (r->table == RT_TABLE_MAIN && r->protocol == PIN_PROTO && tn_prefix_equal(&r->dst, b->dst)) {
		b->r = *r;
		b->found = 1;
	}
}

/* Our host route to the server already exists: one a run killed before
 * its stop left behind.  Removed, so the caller can add the right one; 0
 * if there is none (the route that exists is someone else's). */
static int remove_leftover(struct tun *t, const char *server)
{
	struct best b;

	memset(&b, 0, sizeof(b));
	b.dst = &t->pin.server;
	if (tn_nl_route_dump(t->nl, t->pin.server.family, tagged, &b) < 0 || !b.found ||
	    tn_nl_route_proto(t->nl, 0, &b.r.dst, &b.r.gw, b.r.oif, PIN_PROTO) < 0)
		return 0;
	LOG(t, TP_LOG_INFO, "removed the host route to the server %s left by a run that did not stop "
	    "cleanly", server);
	return 1;
}

/* A route about to be applied that is wide enough (/0, /1) to cover any
 * server: NULL if none. */
static const struct tp_prefix *wide(const struct tun *t, const struct tp_session_info *info)
{
	uint32_t n = info->n_routes < TP_MAX_ROUTES ? info->n_routes : TP_MAX_ROUTES;

	for (uint32_t i = 0; t->conf->accept_routes && i < n; i++)
		if (info->routes[i].plen <= 1)
			return &info->routes[i];
	for (size_t i = 0; i < t->n_routes; i++)
		if (t->routes[i].plen <= 1)
			return &t->routes[i];
	return NULL;
}

void tun_pin_update(struct tun *t, const struct tp_session_info *info)
{
	char s[TN_PREFIX_STRLEN], c[TN_PREFIX_STRLEN], g[TN_PREFIX_STRLEN], dev[IF_NAMESIZE] = "?";
	const struct tp_prefix *cover = NULL;
	struct tp_prefix server;
	struct best b;
	int r;

	if (info) {
		if (tn_peer_addr(info->peer, &server) < 0) {
			/* Nothing tells whether the routes cover the server then: a
			 * wide one most likely does, and would swallow the connection. */
			cover = wide(t, info);
			if (cover)
				LOG(t, TP_LOG_WARN, "no server address in '%s': no host route, and route %s "
				    "may take the connection to the server into the tunnel", info->peer,
				    tn_prefix_str(cover, 1, c, sizeof(c)));
			else
				LOG(t, TP_LOG_DEBUG, "no server address in '%s': no host route", info->peer);
			tun_pin_remove(t);
			memset(&t->pin.server, 0, sizeof(t->pin.server));
			return;
		}
		if (!tn_prefix_equal(&server, &t->pin.server))
			tun_pin_remove(t);
		t->pin.server = server;
	}
	if (!t->pin.server.family)
		return;
	tn_prefix_str(&t->pin.server, 0, s, sizeof(s));
	if (covering(t, info, &cover) < 0) {
		tun_pin_remove(t);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.dst = &t->pin.server;
	b.skip_oif = t->ifindex;
	r = tn_nl_route_dump(t->nl, t->pin.server.family, consider, &b);
	if (r < 0 || !b.found) {
		LOG(t, TP_LOG_WARN, "route %s covers the server %s, and %s: the connection to the server "
		    "may go into the tunnel", tn_prefix_str(cover, 1, c, sizeof(c)), s,
		    r < 0 ? strerror(-r) : "no other route leads there");
		return;
	}
	if (t->pin.active && t->pin.oif == b.r.oif && tn_prefix_equal(&t->pin.gw, &b.r.gw))
		return; /* still right */
	tun_pin_remove(t);
	r = tn_nl_route_proto(t->nl, 1, &t->pin.server, &b.r.gw, b.r.oif, PIN_PROTO);
	if (r == -EEXIST && remove_leftover(t, s))
		r = tn_nl_route_proto(t->nl, 1, &t->pin.server, &b.r.gw, b.r.oif, PIN_PROTO);
	if_indextoname(b.r.oif, dev);
	if (b.r.gw.family)
		snprintf(g, sizeof(g), " via %s", tn_prefix_str(&b.r.gw, 0, c, sizeof(c)));
	else
		g[0] = '\0';
	if (r == -EEXIST) {
		LOG(t, TP_LOG_INFO, "a host route to the server %s exists already; leaving it alone", s);
		return;
	}
	if (r < 0) {
		LOG(t, TP_LOG_ERROR, "cannot add the host route to the server %s%s dev %s: %s", s, g, dev,
		    strerror(-r));
		return;
	}
	t->pin.gw = b.r.gw;
	t->pin.oif = b.r.oif;
	t->pin.active = 1;
	LOG(t, TP_LOG_INFO, "route %s covers the server %s: host route %s%s dev %s added, so the "
	    "connection to the server stays outside the tunnel", tn_prefix_str(cover, 1, c, sizeof(c)), s,
	    s, g, dev);
}

/* Routes this wide cover any server a client may use. */
static void explain(struct tun *t, const struct tp_prefix *p, size_t n, int pushed)
{
	char s[TN_PREFIX_STRLEN];

	for (size_t i = 0; i < n; i++) {
		if (p[i].plen > 1)
			continue;
		if (pushed)
			LOG(t, TP_LOG_INFO, "push_routes %s covers every client's way to this server: clients "
			    "pin a host route to the server through their previous route before applying it",
			    tn_prefix_str(&p[i], 1, s, sizeof(s)));
		else
			LOG(t, TP_LOG_INFO, "route %s covers the server too: it is added at start, before the "
			    "server's address is known, so the first connection goes into the tunnel unless "
			    "the server is reached by a more specific route; let the server push it instead "
			    "(pushed routes get a host route to the server first)",
			    tn_prefix_str(&p[i], 1, s, sizeof(s)));
		return;
	}
}

void tun_explain_cover(struct tun *t)
{
	explain(t, t->net.routes, t->net.n_routes, 1);
	explain(t, t->routes, t->n_routes, 0);
}
