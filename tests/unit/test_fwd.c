/* SPDX-License-Identifier: MIT */
/*
 * test_fwd.c — the forwarded-client parser (plugins/tls-http/fwd.c):
 * X-Forwarded-For and RFC 7239 Forwarded lists read from the right,
 * trusted hops skipped, quoted IPv6 with ports, several header lines as
 * one list, everything malformed, unknown or oversized refused, and only
 * the configured header of a request head read.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fwd.h"
#include "http.h"

/* Trusted: 10.9.0.0/16 and fd00:9::/32. */
static int trusted(void *arg, int family, const uint8_t *a)
{
	(void)arg;
	if (family == AF_INET)
		return a[0] == 10 && a[1] == 9;
	return a[0] == 0xfd && a[1] == 0 && a[2] == 0 && a[3] == 9;
}

/* The client of one header value as "addr port", or "ERR". */
static const char *client(enum fwd_kind kind, const char *v)
{
	static char out[80];
	struct fwd_addr a;
	const char *why = NULL;
	char t[INET6_ADDRSTRLEN];
	if (fwd_client(kind, &v, 1, trusted, NULL, &a, &why) < 0) {
		ck_assert_ptr_nonnull(why);
		return "ERR";
	}
	ck_assert_ptr_null(why);
	inet_ntop(a.family, a.addr, t, sizeof(t));
	snprintf(out, sizeof(out), "%s %u", t, a.port);
	return out;
}

START_TEST(xff_basic)
{
	ck_assert_str_eq(client(FWD_XFF, "192.0.2.7"), "192.0.2.7 0");
	ck_assert_str_eq(client(FWD_XFF, " 192.0.2.7 ,\t10.9.1.1 "), "192.0.2.7 0");
	/* from the right: the client's own claims to the left are ignored */
	ck_assert_str_eq(client(FWD_XFF, "6.6.6.6, 192.0.2.7"), "192.0.2.7 0");
	ck_assert_str_eq(client(FWD_XFF, "6.6.6.6, 192.0.2.7, 10.9.0.1, 10.9.3.3"), "192.0.2.7 0");
	/* all trusted: the leftmost */
	ck_assert_str_eq(client(FWD_XFF, "10.9.0.1, 10.9.3.3"), "10.9.0.1 0");
	ck_assert_str_eq(client(FWD_XFF, "2001:db8::1"), "2001:db8::1 0");
	ck_assert_str_eq(client(FWD_XFF, "[2001:db8::1]:4711, fd00:9::5"), "2001:db8::1 4711");
	ck_assert_str_eq(client(FWD_XFF, "192.0.2.7:5555"), "192.0.2.7 5555");
	ck_assert_str_eq(client(FWD_XFF, "::ffff:192.0.2.9"), "192.0.2.9 0");
	ck_assert_str_eq(client(FWD_XFF, ",,192.0.2.7,"), "192.0.2.7 0");
}
END_TEST

static const char *xff_bad[] = {
	"", " , ", "unknown", "192.0.2", "192.0.2.7.1", "192.0.2.7:", "192.0.2.7:0",
	"192.0.2.7:65536", "192.0.2.7:80x", "[2001:db8::1", "[2001:db8::1]x", "[192.0.2.7]",
	"2001:db8::g", "192.0.2.7 10.0.0.1", "_hidden", "\"192.0.2.7\"", "300.0.2.7",
	"192.0.2.7, garbage", "192.0.2.7, unknown, 10.9.0.1", "192.0.2.7, 10.9.0.1:99999",
};

START_TEST(xff_garbage)
{
	ck_assert_msg(strcmp(client(FWD_XFF, xff_bad[_i]), "ERR") == 0, "accepted '%s'", xff_bad[_i]);
}
END_TEST

START_TEST(forwarded_basic)
{
	ck_assert_str_eq(client(FWD_FORWARDED, "for=192.0.2.60;proto=http;by=203.0.113.43"),
			 "192.0.2.60 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "For=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17 4711");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=\"[2001:db8::1]\""), "2001:db8::1 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=\"192.0.2.43:47011\""), "192.0.2.43 47011");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=192.0.2.43, for=198.51.100.17"), "198.51.100.17 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=192.0.2.43, for=\"[fd00:9::1]\";proto=https"),
			 "192.0.2.43 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "proto=https;for=192.0.2.43 ; host=\"a,b;c\""),
			 "192.0.2.43 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=\"192.0.2.43:_port\""), "192.0.2.43 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=\"\\[2001:db8::2\\]\""), "2001:db8::2 0");
	/* unknown or garbage further left is the client's own business */
	ck_assert_str_eq(client(FWD_FORWARDED, "for=_x;for=1.1.1.1, for=192.0.2.43"), "192.0.2.43 0");
	ck_assert_str_eq(client(FWD_XFF, "garbage, unknown, 192.0.2.7, 10.9.0.1"), "192.0.2.7 0");
	ck_assert_str_eq(client(FWD_FORWARDED, "for=unknown, for=192.0.2.43"), "192.0.2.43 0");
}
END_TEST

static const char *fwd_bad[] = {
	"", "for=", "for", "for=192.0.2.43;", "for=2001:db8::1", "for=\"2001:db8::1\"",
	"for=\"[2001:db8::1]", "for=192.0.2.43;for=192.0.2.44", "for=192.0.2.43 x",
	"for = 192.0.2.43", "for=unknown", "for=_hidden", "proto=https",
	"for=192.0.2.43, for=unknown", "for=\"_x\", for=10.9.0.1", "for=\"a\x01\"",
	"for=192.0.2.43:99999", "for=\"[::1]:\"", "for=[::1]", ";for=192.0.2.43",
	"for=10.9.0.1;for=10.9.0.2", "for=192.0.2.1, for=\"x", "for=192.0.2.1, for=\"[::1]\":1",
};

START_TEST(forwarded_garbage)
{
	ck_assert_msg(strcmp(client(FWD_FORWARDED, fwd_bad[_i]), "ERR") == 0, "accepted '%s'", fwd_bad[_i]);
}
END_TEST

START_TEST(several_lines)
{
	/* Two X-Forwarded-For lines are one list, in order. */
	const char *v[] = { "6.6.6.6, 192.0.2.7", "10.9.0.4" };
	const char *why = NULL;
	struct fwd_addr a;
	ck_assert_int_eq(fwd_client(FWD_XFF, v, 2, trusted, NULL, &a, &why), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_int_eq(a.addr[0], 192);
	ck_assert_int_eq(a.addr[3], 7);
	const char *v2[] = { "10.9.0.4", "192.0.2.8" };
	ck_assert_int_eq(fwd_client(FWD_XFF, v2, 2, trusted, NULL, &a, &why), 0);
	ck_assert_int_eq(a.addr[3], 8);
	ck_assert_int_eq(fwd_client(FWD_XFF, v, 0, trusted, NULL, &a, &why), -1);
}
END_TEST

START_TEST(limits)
{
	char big[4 * FWD_MAX_VALUE];
	size_t off = 0;
	const char *why = NULL, *v = big;
	struct fwd_addr a;
	for (int i = 0; i < FWD_MAX_HOPS; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s10.9.0.%d", i ? "," : "", i);
	ck_assert_int_eq(fwd_client(FWD_XFF, &v, 1, trusted, NULL, &a, &why), 0);
	snprintf(big + off, sizeof(big) - off, ",192.0.2.1");
	ck_assert_int_eq(fwd_client(FWD_XFF, &v, 1, trusted, NULL, &a, &why), -1);
	ck_assert_str_eq(why, "too many X-Forwarded-For entries");
	memset(big, ' ', FWD_MAX_VALUE);
	snprintf(big + FWD_MAX_VALUE, 16, "192.0.2.1");
	ck_assert_int_eq(fwd_client(FWD_XFF, &v, 1, trusted, NULL, &a, &why), -1);
	ck_assert_str_eq(why, "forwarding header too long");
}
END_TEST

/* The configured header only: a client's own copy of the other one,
 * passed through by the proxy, neither picks the address nor is read. */
START_TEST(one_header_only)
{
	static const struct http_header h[] = {
		{ "Host", "vpn.test" },
		{ "Forwarded", "for=198.51.100.9" },
		{ "x-forwarded-for", "6.6.6.6, 192.0.2.7" },
		{ "Forwarded", "for=_garbage;;" },
		{ "X-Forwarded-For", "10.9.0.4" },
	};
	const char *v[8], *why = NULL;
	struct fwd_addr a;
	size_t n = fwd_values(FWD_XFF, h, 5, v, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "6.6.6.6, 192.0.2.7");
	ck_assert_str_eq(v[1], "10.9.0.4");
	ck_assert_int_eq(fwd_client(FWD_XFF, v, n, trusted, NULL, &a, &why), 0);
	ck_assert_int_eq(a.addr[0], 192); /* not 198.51.100.9 */
	ck_assert_int_eq(a.addr[3], 7);
	/* the other way round: only Forwarded, malformed there */
	n = fwd_values(FWD_FORWARDED, h, 5, v, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "for=198.51.100.9");
	ck_assert_int_eq(fwd_client(FWD_FORWARDED, v, n, trusted, NULL, &a, &why), -1);
	/* at most cap values; none when the header is missing */
	ck_assert_uint_eq(fwd_values(FWD_XFF, h, 5, v, 1), 1);
	ck_assert_uint_eq(fwd_values(FWD_XFF, h, 2, v, 8), 0);
	ck_assert_str_eq(fwd_header_name(FWD_XFF), "X-Forwarded-For");
	ck_assert_str_eq(fwd_header_name(FWD_FORWARDED), "Forwarded");
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, xff_basic);
	tcase_add_loop_test(tc, xff_garbage, 0, (int)(sizeof(xff_bad) / sizeof(xff_bad[0])));
	tcase_add_test(tc, forwarded_basic);
	tcase_add_loop_test(tc, forwarded_garbage, 0, (int)(sizeof(fwd_bad) / sizeof(fwd_bad[0])));
	tcase_add_test(tc, several_lines);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, one_header_only);
	suite_add_tcase(s, tc);
	return s;
}
