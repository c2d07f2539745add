/* SPDX-License-Identifier: MIT */
/*
 * hookenv.h — the environment of an up/down hook: the session's facts as
 * TUNPIPE_* variables (like OpenVPN's --up), plus PATH.  Pure, so it is
 * unit-tested without running anything.
 */
#ifndef TUN_HOOKENV_H
#define TUN_HOOKENV_H
#include <stddef.h>
#include <tunpipe/plugin.h>

#define TN_ENV_MAX 16

struct tn_env {
	char *vars[TN_ENV_MAX + 1];  /* NULL-terminated, point into buf */
	char buf[4096];
	size_t used;
	int n;
};

/* Build the environment for `type` ("up" or "down") of device `dev` with
 * MTU `mtu`; `path` is our PATH (NULL: a default).  0, or -1 when it does
 * not fit (cannot happen with TP_MAX_ROUTES/TP_MAX_DNS as they are). */
int tn_hook_env(struct tn_env *e, const char *type, const char *dev, uint32_t mtu,
		const struct tp_session_info *info, const char *path);

#endif
