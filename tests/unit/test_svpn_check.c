/* SPDX-License-Identifier: MIT */
/*
 * test_svpn_check.c — what the client accepts from a server's 101
 * (plugins/tls-http/svpn-check.c), from raw answers: each bound of the
 * assigned addresses and routes, the Upgrade/Connection headers, the
 * escaping of a server's text and Retry-After.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls-http.h"

#define UPG "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n"
#define GW "Simple-VPN-Gateway: 10.9.0.1\r\n"

static struct http_header H[64];
static struct http_msg M;
static char buf[4096], why[200];
static const struct th_server_addr SRV = { .family = AF_INET, .addr = { 192, 0, 2, 1 } };

/* Parse `headers` after a 101 status line and check it: 0 or -1 (why). */
static int check(const char *headers)
{
	struct tp_session_info info;
	char stack[64];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\n%s\r\n", headers);
	ck_assert_int_eq(http_parse(buf, (size_t)n, 1, sizeof(buf), H, 64, &M), HTTP_DONE);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	why[0] = '\0';
	if (hs_parse_101(&M, &info, stack, sizeof(stack), why, sizeof(why)) < 0)
		return -2; /* not even parsed */
	return th_check_101(&M, &info, &SRV, 16, 64, why, sizeof(why));
}

START_TEST(accepts_sane_answers)
{
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW), 0);
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/16\r\n" GW), 0);
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/32\r\n" GW), 0);
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW
				   "Simple-VPN-Address6: fd00::2/64\r\nSimple-VPN-Route: 0.0.0.0/0\r\n"
				   "Simple-VPN-Route: 0.0.0.0/1\r\nSimple-VPN-Route: ::/1\r\n"),
			 0);
	/* a small MTU is fine without IPv6, 1280 is fine with it */
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-MTU: 576\r\n"), 0);
	ck_assert_int_eq(check(UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW
				   "Simple-VPN-Address6: fd00::2/64\r\nSimple-VPN-MTU: 1280\r\n"),
			 0);
	/* an IPv6-only tunnel: no IPv4 address at all */
	ck_assert_int_eq(check(UPG "Simple-VPN-Address6: fd00:6::2/64\r\n"
				   "Simple-VPN-Gateway6: fd00:6::1\r\n"),
			 0);
	/* case and token lists as HTTP allows */
	ck_assert_int_eq(check("connection: keep-alive, upgrade\r\nupgrade: simple-vpn\r\n"
			       "Simple-VPN-Address: 10.9.0.2/24\r\n" GW),
			 0);
}
END_TEST

static const struct {
	const char *headers, *why;
} bad[] = {
	{ UPG "Simple-VPN-Address: 200.0.0.2/1\r\n" GW, "prefix shorter than /16" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/15\r\n" GW, "prefix shorter than /16" },
	{ UPG "Simple-VPN-Address: 192.0.2.1/24\r\n" GW, "is the server's own address" },
	{ UPG "Simple-VPN-Address: 192.0.2.7/24\r\n" GW, "covers the server's own address" },
	{ UPG "Simple-VPN-Address: 127.0.0.2/24\r\n" GW, "loopback" },
	{ UPG "Simple-VPN-Address: 224.1.2.3/24\r\n" GW, "multicast" },
	{ UPG "Simple-VPN-Address: 250.1.2.3/24\r\n" GW, "reserved" },
	{ UPG "Simple-VPN-Address: 169.254.0.9/24\r\n" GW, "link-local" },
	{ UPG "Simple-VPN-Address: 0.1.2.3/24\r\n" GW, "unspecified" },
	{ UPG "Simple-VPN-Address: 10.9.0.0/24\r\n" GW, "network address" },
	{ UPG "Simple-VPN-Address: 10.9.0.255/24\r\n" GW, "broadcast address" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\nSimple-VPN-Gateway: 127.0.0.1\r\n", "Gateway is loopback" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: fd00::2/63\r\n", "shorter than /64" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: 2001:db8::2/1\r\n", "shorter than /64" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: ::/128\r\n", "unspecified" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: ::1/128\r\n", "loopback" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: fe80::2/64\r\n", "link-local" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: ff02::2/64\r\n", "multicast" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: ::ffff:10.9.0.2/120\r\n", "IPv4-mapped" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Address6: fd00::2/64\r\nSimple-VPN-MTU: 1279\r\n",
	  "below 1280" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Route: 127.0.0.0/8\r\n", "loopback network" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Route: 224.0.0.0/4\r\n", "multicast network" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Route: 0.0.0.0/8\r\n", "unspecified network" },
	{ UPG "Simple-VPN-Address: 10.9.0.2/24\r\n" GW "Simple-VPN-Route: fe80::/10\r\n", "link-local network" },
	{ "Connection: Upgrade\r\nSimple-VPN-Address: 10.9.0.2/24\r\n" GW, "without 'Upgrade: Simple-VPN'" },
	{ "Connection: Upgrade\r\nUpgrade: h2c\r\nSimple-VPN-Address: 10.9.0.2/24\r\n" GW, "without 'Upgrade: Simple-VPN'" },
	{ "Upgrade: Simple-VPN\r\nSimple-VPN-Address: 10.9.0.2/24\r\n" GW, "without 'Connection: Upgrade'" },
};

START_TEST(refuses_bad_answers)
{
	ck_assert_int_eq(check(bad[_i].headers), -1);
	ck_assert_msg(strstr(why, bad[_i].why), "case %d: '%s' does not say '%s'", _i, why, bad[_i].why);
}
END_TEST

START_TEST(min_prefix_is_configurable)
{
	struct tp_session_info info;
	char stack[64];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 101 OK\r\n" UPG
			 "Simple-VPN-Address: 10.9.0.2/12\r\n" GW "\r\n");
	ck_assert_int_eq(http_parse(buf, (size_t)n, 1, sizeof(buf), H, 64, &M), HTTP_DONE);
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(hs_parse_101(&M, &info, stack, sizeof(stack), why, sizeof(why)), 0);
	ck_assert_int_eq(th_check_101(&M, &info, NULL, 16, 64, why, sizeof(why)), -1);
	ck_assert_int_eq(th_check_101(&M, &info, NULL, 12, 64, why, sizeof(why)), 0);
}
END_TEST

START_TEST(escape_and_retry_after)
{
	char out[64];
	th_escape(out, sizeof(out), "ok\x1b[2J\x9b\\", 8);
	ck_assert_str_eq(out, "ok\\x1b[2J\\x9b\\x5c");
	/* never overflows, always terminated */
	th_escape(out, 8, "\x01\x02\x03\x04", 4);
	ck_assert_uint_lt(strlen(out), 8);

	const char *cases[][2] = { { "Retry-After: 30\r\n", "30" }, { "Retry-After: 0\r\n", "0" },
				   { "Retry-After: 999999999999\r\n", "86400" },
				   { "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n", "-1" },
				   { "Retry-After: -5\r\n", "-1" }, { "X: y\r\n", "-1" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "HTTP/1.1 503 Busy\r\n%s\r\n", cases[i][0]);
		ck_assert_int_eq(http_parse(buf, (size_t)n, 1, sizeof(buf), H, 64, &M), HTTP_DONE);
		ck_assert_int_eq(th_retry_after(&M), atol(cases[i][1]));
	}
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("svpn-check");
	TCase *tc = tcase_create("check");
	tcase_add_test(tc, accepts_sane_answers);
	tcase_add_loop_test(tc, refuses_bad_answers, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, min_prefix_is_configurable);
	tcase_add_test(tc, escape_and_retry_after);
	suite_add_tcase(s, tc);
	return s;
}
