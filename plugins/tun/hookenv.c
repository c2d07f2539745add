/* SPDX-License-Identifier: MIT */
/*
 * hookenv.c — see hookenv.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hookenv.h"
#include "prefix.h"

static int add(struct tn_env *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->n >= TN_ENV_MAX)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->used, sizeof(e->buf) - e->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->buf) - e->used)
		return -1;
	e->vars[e->n++] = e->buf + e->used;
	e->vars[e->n] = NULL;
	e->used += (size_t)n + 1;
	return 0;
}

/* "A B C" from a list of prefixes. */
static void join(char *out, size_t cap, const struct tp_prefix *p, uint32_t n, int with_len)
{
	char a[TN_PREFIX_STRLEN];
	size_t off = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "",
					tn_prefix_str(&p[i], with_len, a, sizeof(a)));
}

int tn_hook_env(struct tn_env *e, const char *type, const char *dev, uint32_t mtu,
		const struct tp_session_info *info, const char *path)
{
	char a[TN_PREFIX_STRLEN], list[TP_MAX_ROUTES * TN_PREFIX_STRLEN];
	uint32_t nr = info->n_routes < TP_MAX_ROUTES ? info->n_routes : TP_MAX_ROUTES;
	uint32_t nd = info->n_dns < TP_MAX_DNS ? info->n_dns : TP_MAX_DNS;
	int bad = 0;

	memset(e, 0, sizeof(*e));
	/* Only names that cannot collide with the caller's: the script gets a
	 * clean environment, not ours (which may hold anything). */
	bad |= add(e, "PATH=%s", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	bad |= add(e, "TUNPIPE_SCRIPT_TYPE=%s", type);
	bad |= add(e, "TUNPIPE_DEVICE=%s", dev);
	bad |= add(e, "TUNPIPE_MTU=%u", mtu);
	if (info->addr4.family)
		bad |= add(e, "TUNPIPE_ADDRESS=%s", tn_prefix_str(&info->addr4, 1, a, sizeof(a)));
	if (info->gw4.family)
		bad |= add(e, "TUNPIPE_GATEWAY=%s", tn_prefix_str(&info->gw4, 0, a, sizeof(a)));
	if (info->addr6.family)
		bad |= add(e, "TUNPIPE_ADDRESS6=%s", tn_prefix_str(&info->addr6, 1, a, sizeof(a)));
	if (info->gw6.family)
		bad |= add(e, "TUNPIPE_GATEWAY6=%s", tn_prefix_str(&info->gw6, 0, a, sizeof(a)));
	join(list, sizeof(list), info->routes, nr, 1);
	bad |= add(e, "TUNPIPE_ROUTES=%s", list);
	join(list, sizeof(list), info->dns, nd, 0);
	bad |= add(e, "TUNPIPE_DNS=%s", list);
	bad |= add(e, "TUNPIPE_DNS_SEARCH=%.*s", (int)strnlen(info->search, sizeof(info->search)), info->search);
	bad |= add(e, "TUNPIPE_USER=%.*s", (int)strnlen(info->user, sizeof(info->user)), info->user);
	bad |= add(e, "TUNPIPE_SERVER=%.*s", (int)strnlen(info->peer, sizeof(info->peer)), info->peer);
	return bad ? -1 : 0;
}
