/* SPDX-License-Identifier: MIT */
/*
 * test_addrpool6.c — the address pool of an IPv6-only tunnel: leases come
 * from address6's prefix, our own address is never handed out, prefixes
 * that leave no room are refused with a reason.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>
#include "addrpool.h"

static struct tp_prefix v6(const char *s, int plen)
{
	struct tp_prefix p = { .family = AF_INET6, .plen = (uint8_t)plen };
	ck_assert_int_eq(inet_pton(AF_INET6, s, p.addr), 1);
	return p;
}

static const char *str6(const struct tp_prefix *p)
{
	static char buf[INET6_ADDRSTRLEN];
	return inet_ntop(AF_INET6, p->addr, buf, sizeof(buf));
}

START_TEST(v6only_pool_leases_from_the_prefix)
{
	struct tp_net_info net = { .size = sizeof(net), .addr6 = v6("fd00:6::1", 64), .mtu = 1400 };
	struct tp_session_info si = { 0 };
	char err[200];
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(tp_addrpool_available(p), TP_ADDRPOOL_MAX - 1); /* ::1 is ours */
	ck_assert_int_ge(tp_addrpool_lease(p, "alice", &si), 0);
	ck_assert_str_eq(str6(&si.addr6), "fd00:6::2");
	ck_assert_uint_eq(si.addr6.plen, 64);
	ck_assert_uint_eq(si.addr4.family, 0);
	ck_assert_uint_eq(si.gw4.family, 0);
	ck_assert_str_eq(str6(&si.gw6), "fd00:6::1");
	ck_assert_uint_eq(si.mtu, 1400);
	int bob = tp_addrpool_lease(p, "bob", &si);
	ck_assert_str_eq(str6(&si.addr6), "fd00:6::3");
	tp_addrpool_release(p, bob);
	ck_assert_int_ge(tp_addrpool_lease(p, "bob", &si), 0);
	ck_assert_str_eq(str6(&si.addr6), "fd00:6::3"); /* sticky, like IPv4 */
	tp_addrpool_free(p);
}
END_TEST

START_TEST(v6only_small_prefix_and_host_bits)
{
	/* A /126 has offsets 1..3; ours is 3, so two remain. */
	struct tp_net_info net = { .size = sizeof(net), .addr6 = v6("fd00:7::3", 126) };
	struct tp_session_info si = { 0 };
	char err[200];
	struct tp_addrpool *p = tp_addrpool_new(&net, err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(tp_addrpool_available(p), 2);
	ck_assert_int_ge(tp_addrpool_lease(p, "a", &si), 0);
	ck_assert_str_eq(str6(&si.addr6), "fd00:7::1");
	ck_assert_int_ge(tp_addrpool_lease(p, "b", &si), 0);
	ck_assert_str_eq(str6(&si.addr6), "fd00:7::2");
	ck_assert_int_eq(tp_addrpool_lease(p, "c", &si), -1);
	tp_addrpool_free(p);

	/* Our address outside the leased range: all offsets are free. */
	net.addr6 = v6("fd00:8::1:0:0:5", 64);
	p = tp_addrpool_new(&net, err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(tp_addrpool_available(p), TP_ADDRPOOL_MAX);
	ck_assert_int_ge(tp_addrpool_lease(p, "a", &si), 0);
	ck_assert_str_eq(str6(&si.addr6), "fd00:8::1");
	tp_addrpool_free(p);
}
END_TEST

START_TEST(v6only_refusals_say_why)
{
	struct tp_net_info net = { .size = sizeof(net), .addr6 = v6("fd00::1", 127) };
	struct tp_net_info none = { .size = sizeof(none) };
	char err[200];

	ck_assert_ptr_null(tp_addrpool_new(&net, err, sizeof(err)));
	ck_assert_msg(strstr(err, "between /64 and /126") && strstr(err, "/127"), "%s", err);
	net.addr6 = v6("fd00::1", 48);
	ck_assert_ptr_null(tp_addrpool_new(&net, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/48"), "%s", err);
	ck_assert_ptr_null(tp_addrpool_new(&none, err, sizeof(err)));
	ck_assert_msg(strstr(err, "IPv4 address") && strstr(err, "IPv6 address"), "%s", err);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("addrpool6");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, v6only_pool_leases_from_the_prefix);
	tcase_add_test(tc, v6only_small_prefix_and_host_bits);
	tcase_add_test(tc, v6only_refusals_say_why);
	suite_add_tcase(s, tc);
	return s;
}
