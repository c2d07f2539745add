/* SPDX-License-Identifier: MIT */
/*
 * test_hs_v6search.c — the two additions to the Simple-VPN 101 answer for
 * issue 8: an IPv6-only tunnel's answer without the IPv4 headers, and the
 * DNS search domains header, both built and parsed back; bad values refused.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "handshake.h"
#include "http.h"

static struct tp_prefix p6(const char *s, int plen)
{
	struct tp_prefix p = { .family = AF_INET6, .plen = (uint8_t)plen };
	ck_assert_int_eq(inet_pton(AF_INET6, s, p.addr), 1);
	return p;
}

/* Parse a 101 head; 0 or -1 with err. */
static int parse(char *buf, struct tp_session_info *out, char *err, size_t errlen)
{
	struct http_header h[64];
	struct http_msg m;
	char stack[128];

	ck_assert_int_eq(http_parse(buf, strlen(buf), 1, 8192, h, 64, &m), HTTP_DONE);
	memset(out, 0, sizeof(*out));
	return hs_parse_101(&m, out, stack, sizeof(stack), err, errlen);
}

START_TEST(ipv6_only_answer_round_trips)
{
	struct tp_session_info in = { .size = sizeof(in), .mtu = 1400 }, out;
	char buf[4096], err[128];

	in.addr6 = p6("fd00:6::2", 64);
	in.gw6 = p6("fd00:6::1", 128);
	ck_assert_uint_gt(hs_build_101(buf, sizeof(buf), &in, "framer-ip"), 0);
	ck_assert_ptr_null(strstr(buf, "Simple-VPN-Address:"));
	ck_assert_ptr_null(strstr(buf, "Simple-VPN-Gateway:"));
	ck_assert_ptr_nonnull(strstr(buf, "Simple-VPN-Address6: fd00:6::2/64"));
	ck_assert_msg(parse(buf, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(out.addr4.family, 0);
	ck_assert_uint_eq(out.addr6.family, AF_INET6);
	ck_assert_uint_eq(out.addr6.plen, 64);
	ck_assert_uint_eq(out.gw6.family, AF_INET6);

	/* Neither address at all is still an error. */
	char none[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: Simple-VPN\r\n\r\n";
	ck_assert_int_eq(parse(none, &out, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Simple-VPN-Address"));
}
END_TEST

START_TEST(search_domains_round_trip)
{
	struct tp_session_info in = { .size = sizeof(in) }, out;
	char buf[4096], err[128];

	in.addr4.family = AF_INET;
	in.addr4.plen = 24;
	inet_pton(AF_INET, "10.0.0.2", in.addr4.addr);
	in.gw4 = in.addr4;
	strcpy(in.search, "corp.test lab.corp.test");
	ck_assert_uint_gt(hs_build_101(buf, sizeof(buf), &in, "framer-ip"), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nSimple-VPN-DNS-Search: corp.test lab.corp.test\r\n"));
	ck_assert_msg(parse(buf, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(out.search, "corp.test lab.corp.test");

	/* None pushed: no header, nothing parsed. */
	in.search[0] = '\0';
	ck_assert_uint_gt(hs_build_101(buf, sizeof(buf), &in, "framer-ip"), 0);
	ck_assert_ptr_null(strstr(buf, "Search"));
	ck_assert_msg(parse(buf, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(out.search, "");
}
END_TEST

START_TEST(bad_search_values_are_refused)
{
	static const char *const bad[] = { "a;rm -rf /", "corp.test\tx", "corp..test x;y",
					   "a  b", "évil.test", "x/y",
					   /* host names only: no option-like word for
					    * resolvectl, no empty or dash-edged label */
					   "corp.test -h", "--interface", ".", "..", "-", "a..b",
					   "corp-.test", "a.-corp", "corp.test..", "x.toolonglabelxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };
	struct tp_session_info out;
	char buf[1024], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nSimple-VPN-Address: 10.0.0.2/24\r\n"
			 "Simple-VPN-Gateway: 10.0.0.1\r\nSimple-VPN-DNS-Search: %s\r\n\r\n", bad[i]);
		ck_assert_msg(parse(buf, &out, err, sizeof(err)) == -1, "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "bad Simple-VPN-DNS-Search"));
	}
	/* what a search list may hold: names, a final dot, digits, inner hyphens */
	snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nSimple-VPN-Address: 10.0.0.2/24\r\n"
		 "Simple-VPN-Gateway: 10.0.0.1\r\nSimple-VPN-DNS-Search: corp.test. lab-2.corp.test 3com.example\r\n\r\n");
	ck_assert_int_eq(parse(buf, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.search, "corp.test. lab-2.corp.test 3com.example");
	/* Longer than the field. */
	char longv[400];
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nSimple-VPN-Address: 10.0.0.2/24\r\n"
		 "Simple-VPN-Gateway: 10.0.0.1\r\nSimple-VPN-DNS-Search: %s\r\n\r\n", longv);
	ck_assert_int_eq(parse(buf, &out, err, sizeof(err)), -1);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("hs-v6search");
	TCase *tc = tcase_create("101");

	tcase_add_test(tc, ipv6_only_answer_round_trips);
	tcase_add_test(tc, search_domains_round_trip);
	tcase_add_test(tc, bad_search_values_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
