/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c — after start, stop being root (user/group in the config).
 *
 * The order is the one OpenVPN and ocserv use: open the TUN device, the
 * netlink socket and the listening socket, read the keys, then switch.
 * libcap-ng's capng_change_id() does the delicate part (keep-caps across
 * setresuid, dropping the setuid/setgid capabilities it borrowed).  What
 * remains is CAP_NET_ADMIN: without it the client could not give its TUN
 * the address and routes of the next session after a reconnect.
 */
#include "config.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/capability.h>

#include "privdrop.h"

int tp_privdrop_resolve(struct tp_privdrop *p, const char *user, const char *group, char *err,
			size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	memset(p, 0, sizeof(*p));
	if (!user) {
		if (group) {
			snprintf(err, errlen, "'group' needs 'user' too (a group alone would leave us root)");
			return -1;
		}
		return 0;
	}
	errno = 0;
	if (!(pw = getpwnam(user))) {
		snprintf(err, errlen, "user '%s': %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user '%s' is root: name an unprivileged user", user);
		return -1;
	}
	p->user = user;
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (group) {
		errno = 0;
		if (!(gr = getgrnam(group))) {
			snprintf(err, errlen, "group '%s': %s", group,
				 errno ? strerror(errno) : "no such group");
			return -1;
		}
		p->gid = gr->gr_gid;
	}
	return 0;
}

/* Started unprivileged with capabilities granted (ambient, or a file
 * capability): no uid to change, but what we hold beyond CAP_NET_ADMIN,
 * and anything a child could inherit, goes. */
static int trim(char *err, size_t errlen)
{
	int admin;

	if (capng_get_caps_process() < 0) {
		snprintf(err, errlen, "cannot read our capabilities: %s", strerror(errno));
		return -1;
	}
	admin = capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN);
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (admin)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 2;
}

int tp_privdrop_apply(const struct tp_privdrop *p, char *err, size_t errlen)
{
	int r, setpcap;

	if (geteuid() != 0)
		return trim(err, errlen);
	if (!p->user)
		return 0;
	setpcap = capng_get_caps_process() == 0 && capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			 CAP_NET_ADMIN) < 0) {
		snprintf(err, errlen, "cannot prepare the capability set");
		return -1;
	}
	/* The bounding set first, down to what we keep: it needs CAP_SETPCAP,
	 * which a unit's CapabilityBoundingSet= may have left out (the manager
	 * has then bounded us already).  libcap-ng's own CAPNG_CLEAR_BOUNDING
	 * would empty it instead. */
	if (setpcap && capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
		snprintf(err, errlen, "cannot reduce the capability bounding set: %s", strerror(errno));
		return -1;
	}
	r = capng_change_id((int)p->uid, (int)p->gid, CAPNG_DROP_SUPP_GRP);
	if (r < 0) {
		/* The codes are libcap-ng's steps, errno the kernel's reason. */
		snprintf(err, errlen, "cannot switch to user '%s' (uid %u gid %u): step %d: %s",
			 p->user, (unsigned)p->uid, (unsigned)p->gid, -r, strerror(errno));
		return -1;
	}
	/* Nothing we exec could regain what was just dropped. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 1;
}
