/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h — switching to an ordinary user once everything privileged is
 * open, keeping only the capabilities the running daemon still uses.
 */
#ifndef TP_CORE_PRIVDROP_H
#define TP_CORE_PRIVDROP_H
#include <stddef.h>
#include <sys/types.h>

struct tp_privdrop {
	const char *user;   /* as configured; NULL: no switch asked for */
	uid_t uid;
	gid_t gid;          /* `group`, else the user's primary group */
};

/* Look the names up (done at start and by `tunpipe -t`, so a typo is a
 * configuration error, not a surprise after the TUN is up).  `user` NULL
 * with `group` set is an error: a group alone would leave us root.
 * 0, or -1 with err filled. */
int tp_privdrop_resolve(struct tp_privdrop *p, const char *user, const char *group, char *err,
			size_t errlen);

/*
 * Become p->uid/p->gid (no supplementary groups) keeping CAP_NET_ADMIN in
 * the effective and permitted sets only: the client's TUN gets its address
 * and routes again on every reconnect.  Everything else — including
 * CAP_NET_BIND_SERVICE, whose socket is bound by now — is dropped, from
 * the bounding set too when we may change it, and no_new_privs is set.
 * Root without p->user: nothing changes (0).  Not root (started
 * unprivileged, CAP_NET_ADMIN granted by the service manager's ambient set
 * or a file capability): no uid to switch, but the effective and permitted
 * sets are trimmed to CAP_NET_ADMIN (if held), the inheritable and ambient
 * sets emptied and no_new_privs set (2).
 * 1 when switched, 2 when trimmed, 0 when nothing was done, -1 with err filled.
 */
int tp_privdrop_apply(const struct tp_privdrop *p, char *err, size_t errlen);

#endif
