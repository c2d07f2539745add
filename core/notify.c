/* SPDX-License-Identifier: MIT */
/*
 * notify.c — the service manager's readiness protocol (sd_notify), written
 * out rather than linked from libsystemd: it is one datagram of
 * "KEY=VALUE\n" lines to the AF_UNIX socket named in $NOTIFY_SOCKET, where
 * a leading '@' means Linux's abstract namespace.  Without the variable
 * (not run by systemd, or a unit that is not Type=notify) every call is a
 * no-op, so the daemon behaves the same everywhere else.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int tp_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;
	ssize_t n;
	int fd = -1, saved;

	if (!path || !*path || !state)
		return 0;
	len = strlen(path);
	/* Only a filesystem path or an abstract name: systemd also allows
	 * "vsock:" addresses, which a VPN daemon has no use for. */
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len > sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the name is not NUL-terminated */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* MSG_NOSIGNAL: a manager that went away must not kill us. */
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (n < 0)
		goto fail;
	close(fd);
	return 1;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}
