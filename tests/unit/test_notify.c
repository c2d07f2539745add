/* SPDX-License-Identifier: MIT */
/* test_notify.c — the sd_notify datagrams, received on sockets of our own:
 * a path and an abstract ('@') name, the no-op without $NOTIFY_SOCKET, and
 * clear failures for an unusable address. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* A datagram socket bound at `name` ('@' = abstract). */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
	return fd;
}

/* The next datagram, NUL-terminated; "" when none is waiting. */
static const char *next_datagram(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

START_TEST(test_path_socket)
{
	char dir[] = "/tmp/tp-test-notify.XXXXXX", path[128];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(tp_notify("READY=1"), 1);
	ck_assert_int_eq(tp_notify("RELOADING=1\nMONOTONIC_USEC=42"), 1);
	ck_assert_int_eq(tp_notify("STOPPING=1"), 1);
	/* One datagram per call, in order, exactly as given. */
	ck_assert_str_eq(next_datagram(fd), "READY=1");
	ck_assert_str_eq(next_datagram(fd), "RELOADING=1\nMONOTONIC_USEC=42");
	ck_assert_str_eq(next_datagram(fd), "STOPPING=1");
	ck_assert_str_eq(next_datagram(fd), "");
	close(fd);
	unlink(path);

	/* Nobody listening any more: an error, not a crash or a hang. */
	errno = 0;
	ck_assert_int_eq(tp_notify("READY=1"), -1);
	ck_assert_int_eq(errno, ENOENT);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@tp-test-notify-%ld", (long)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(tp_notify("READY=1"), 1);
	ck_assert_str_eq(next_datagram(fd), "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_no_socket)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(tp_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(tp_notify("READY=1"), 0);

	/* Relative paths, a bare '@', vsock addresses and names too long for
	 * sun_path are refused. */
	static const char *const bad[] = { "notify", "@", "vsock:2:1234",
		"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("NOTIFY_SOCKET", bad[i], 1);
		errno = 0;
		ck_assert_int_eq(tp_notify("READY=1"), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_test(tc, test_path_socket);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_no_socket);
	suite_add_tcase(s, tc);
	return s;
}
