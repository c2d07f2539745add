/* SPDX-License-Identifier: MIT */
/*
 * test_tun_cover.c — the pure half of the client's host route to its
 * server: the server's address from the transport's peer string, and
 * whether routes about to be applied cover it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "cover.h"
#include "prefix.h"

static struct tp_prefix pfx(const char *s)
{
	struct tp_prefix p;
	char err[128];

	ck_assert_msg(tn_prefix_parse(s, AF_UNSPEC, TN_PLEN_OPTIONAL, "t", &p, err, sizeof(err)) == 0, "%s", err);
	return p;
}

START_TEST(peer_strings)
{
	struct tp_prefix a;
	char s[TN_PREFIX_STRLEN];

	ck_assert_int_eq(tn_peer_addr("10.200.1.1:8443", &a), 0);
	ck_assert_str_eq(tn_prefix_str(&a, 1, s, sizeof(s)), "10.200.1.1/32");
	ck_assert_int_eq(tn_peer_addr("[fd10:1::1]:443", &a), 0);
	ck_assert_str_eq(tn_prefix_str(&a, 1, s, sizeof(s)), "fd10:1::1/128");
	ck_assert_int_eq(tn_peer_addr("[::ffff:10.0.0.1]:1", &a), 0);
	ck_assert_uint_eq(a.family, AF_INET6);
	/* Not a peer string: no port, no brackets around IPv6, a name, junk. */
	ck_assert_int_eq(tn_peer_addr("10.200.1.1", &a), -1);
	ck_assert_int_eq(tn_peer_addr("fd10::1:443", &a), -1);
	ck_assert_int_eq(tn_peer_addr("vpn.example:443", &a), -1);
	ck_assert_int_eq(tn_peer_addr("10.0.0.1:", &a), -1);
	ck_assert_int_eq(tn_peer_addr("10.0.0.1:44x", &a), -1);
	ck_assert_int_eq(tn_peer_addr("[fd10::1]443", &a), -1);
	ck_assert_int_eq(tn_peer_addr("[fd10::1:443", &a), -1);
	ck_assert_int_eq(tn_peer_addr(":443", &a), -1);
	ck_assert_int_eq(tn_peer_addr("", &a), -1);
	ck_assert_int_eq(tn_peer_addr(NULL, &a), -1);
	ck_assert_uint_eq(a.family, 0);
}
END_TEST

START_TEST(routes_that_cover_the_server)
{
	struct tp_prefix half[2] = { pfx("0.0.0.0/1"), pfx("128.0.0.0/1") };
	struct tp_prefix other[3] = { pfx("10.0.0.0/8"), pfx("192.168.0.0/16"), pfx("fd00::/8") };
	struct tp_prefix def[2] = { pfx("::/0"), pfx("0.0.0.0/0") };
	struct tp_prefix srv, srv6;

	ck_assert_int_eq(tn_peer_addr("10.200.1.1:8443", &srv), 0);
	ck_assert_int_eq(tn_peer_addr("[2001:db8::5]:8443", &srv6), 0);
	ck_assert_int_eq(tn_routes_cover(half, 2, &srv), 0);
	ck_assert_int_eq(tn_routes_cover(half + 1, 1, &srv), -1);
	ck_assert_int_eq(tn_peer_addr("200.1.2.3:1", &srv), 0);
	ck_assert_int_eq(tn_routes_cover(half, 2, &srv), 1);
	ck_assert_int_eq(tn_routes_cover(other, 3, &srv), -1);
	ck_assert_int_eq(tn_peer_addr("192.168.7.7:1", &srv), 0);
	ck_assert_int_eq(tn_routes_cover(other, 3, &srv), 1); /* any prefix holding it */
	ck_assert_int_eq(tn_routes_cover(def, 2, &srv), 1);   /* families never mix */
	ck_assert_int_eq(tn_routes_cover(def, 2, &srv6), 0);
	ck_assert_int_eq(tn_routes_cover(other, 3, &srv6), -1);
	ck_assert_int_eq(tn_routes_cover(half, 0, &srv), -1);
	/* A host route to exactly the server covers it as well. */
	struct tp_prefix host = pfx("192.168.7.7");
	ck_assert_int_eq(tn_routes_cover(&host, 1, &srv), 0);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("tun-cover");
	TCase *tc = tcase_create("cover");

	tcase_add_test(tc, peer_strings);
	tcase_add_test(tc, routes_that_cover_the_server);
	suite_add_tcase(s, tc);
	return s;
}
