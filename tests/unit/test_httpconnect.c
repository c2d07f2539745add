/* SPDX-License-Identifier: MIT */
/*
 * test_httpconnect.c — the client's HTTP proxy code that needs no socket:
 * the CONNECT answer parser (httpconnect.c) fed whole, byte by byte and
 * in every split, 1xx before the final answer, bad status lines, bare CR
 * or LF, oversized lines and heads, and that the bytes behind the blank
 * line are never taken; the request it formats; the proxy URL
 * (proxyenv.c) and the no_proxy matcher.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "httpconnect.h"
#include "proxyenv.h"

/* Feed s in pieces of `step` bytes (0: all at once); returns the result,
 * *taken the bytes taken in all. */
static enum hc_result feed(struct hc_parser *p, const char *s, size_t n, size_t step, size_t *taken)
{
	enum hc_result r = HC_MORE;
	size_t off = 0, used;
	hc_init(p);
	*taken = 0;
	while (off < n && r == HC_MORE) {
		size_t k = step && step < n - off ? step : n - off;
		r = hc_feed(p, (const uint8_t *)s + off, k, &used);
		ck_assert_uint_le(used, k);
		*taken += used;
		off += k;
		if (r == HC_MORE)
			ck_assert_uint_eq(used, k);
	}
	return r;
}

START_TEST(ok_200_keeps_tls_bytes)
{
	static const char s[] = "HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n"
				"\x16\x03\x03\x00\x10TLS-bytes";
	size_t head = strstr(s, "\r\n\r\n") - s + 4, n = sizeof(s) - 1, taken;
	struct hc_parser p;
	for (size_t step = 0; step <= n; step++) {
		ck_assert_int_eq(feed(&p, s, n, step, &taken), HC_DONE);
		ck_assert_uint_eq(taken, head); /* not one byte of the tunnel */
		ck_assert_int_eq(p.status, 200);
		ck_assert_str_eq(p.reason, "Connection established");
	}
	/* every proper prefix of the head asks for more */
	for (size_t i = 0; i < head; i++)
		ck_assert_int_eq(feed(&p, s, i, 0, &taken), HC_MORE);
	/* once done, more bytes are not taken */
	size_t used = 99;
	feed(&p, s, n, 0, &taken);
	ck_assert_int_eq(hc_feed(&p, (const uint8_t *)"x", 1, &used), HC_DONE);
	ck_assert_uint_eq(used, 0);
}
END_TEST

START_TEST(interim_1xx_skipped)
{
	static const char s[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
				"HTTP/1.0 200 OK\r\n\r\nTLS";
	size_t taken;
	struct hc_parser p;
	ck_assert_int_eq(feed(&p, s, sizeof(s) - 1, 1, &taken), HC_DONE);
	ck_assert_int_eq(p.status, 200);
	ck_assert_uint_eq(taken, sizeof(s) - 1 - 3);
	static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
	ck_assert_int_eq(feed(&p, sw, sizeof(sw) - 1, 0, &taken), HC_BAD);
}
END_TEST

START_TEST(errors_and_auth_schemes)
{
	static const char a[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
				"Proxy-Authenticate: Negotiate\r\n"
				"proxy-authenticate: Basic realm=\"a, b\", Digest realm=x, qop=auth\r\n"
				"Content-Length: 5\r\n\r\nbody!";
	size_t taken;
	struct hc_parser p;
	ck_assert_int_eq(feed(&p, a, sizeof(a) - 1, 3, &taken), HC_DONE);
	ck_assert_int_eq(p.status, 407);
	ck_assert_int_eq(p.auth_basic, 1);
	ck_assert_int_eq(p.auth_other, 1);
	ck_assert_uint_eq(taken, sizeof(a) - 1 - 5);
	static const char b[] = "HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM\r\n\r\n";
	ck_assert_int_eq(feed(&p, b, sizeof(b) - 1, 0, &taken), HC_DONE);
	ck_assert_int_eq(p.auth_basic, 0);
	ck_assert_int_eq(p.auth_other, 1);
	static const char c[] = "HTTP/1.1 403\r\n\r\n"; /* no reason phrase */
	ck_assert_int_eq(feed(&p, c, sizeof(c) - 1, 0, &taken), HC_DONE);
	ck_assert_int_eq(p.status, 403);
	ck_assert_str_eq(p.reason, "");
	static const char d[] = "HTTP/1.1 502 Bad\x01Gateway\r\n\r\n";
	ck_assert_int_eq(feed(&p, d, sizeof(d) - 1, 0, &taken), HC_DONE);
	ck_assert_str_eq(p.reason, "Bad?Gateway");
}
END_TEST

START_TEST(bad_answers)
{
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH_9.2\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 600 Odd\r\n\r\n",
		"HTTP/1.1 099 Odd\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\n\n",                 /* bare LF */
		"HTTP/1.1 200 OK\r\r\n\r\n",           /* bare CR */
		"HTTP/1.1 200 OK\r\nX\r\n\r\n",        /* no colon */
		"HTTP/1.1 200 OK\r\n: v\r\n\r\n",      /* no name */
		"HTTP/1.1 200 OK\r\nA B: v\r\n\r\n",   /* space in the name */
		"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", /* folding */
		"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	};
	size_t taken;
	struct hc_parser p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]) ? strlen(bad[i]) : 1;
		ck_assert_msg(feed(&p, bad[i], n, 0, &taken) == HC_BAD, "accepted #%zu", i);
		ck_assert_ptr_nonnull(p.why);
		ck_assert_msg(feed(&p, bad[i], n, 1, &taken) == HC_BAD, "accepted #%zu bytewise", i);
	}
	ck_assert_int_eq(feed(&p, "HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 24, 0, &taken), HC_BAD);
}
END_TEST

START_TEST(bounded)
{
	static char s[HC_MAX * 2];
	size_t taken;
	struct hc_parser p;
	/* one line too long */
	memset(s, 'a', sizeof(s));
	memcpy(s, "HTTP/1.1 200 ", 13);
	ck_assert_int_eq(feed(&p, s, HC_LINE + 10, 7, &taken), HC_BAD);
	ck_assert_uint_le(taken, HC_LINE);
	/* many short fields: the head's bound or the fields' */
	size_t n = (size_t)snprintf(s, sizeof(s), "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < HC_FIELDS + 1; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "X-%d: v\r\n", i);
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n");
	ck_assert_int_eq(feed(&p, s, n, 0, &taken), HC_BAD);
	ck_assert_str_eq(p.why, "too many header fields");
	/* a head longer than HC_MAX in long fields */
	n = (size_t)snprintf(s, sizeof(s), "HTTP/1.1 200 OK\r\n");
	while (n < HC_MAX + 100) {
		memset(s + n, 'v', 1000);
		memcpy(s + n, "X: ", 3);
		memcpy(s + n + 998, "\r\n", 2);
		n += 1000;
	}
	ck_assert_int_eq(feed(&p, s, n, 0, &taken), HC_BAD);
	ck_assert_uint_le(taken, HC_MAX + 1);
	/* endless 1xx answers count against the same bound */
	n = 0;
	while (n < HC_MAX + 100)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "HTTP/1.1 100 Continue\r\n\r\n");
	ck_assert_int_eq(feed(&p, s, n, 0, &taken), HC_BAD);
}
END_TEST

START_TEST(request)
{
	char out[1024];
	size_t n = hc_request(out, sizeof(out), "vpn.test", "8443", NULL);
	ck_assert_str_eq(out, "CONNECT vpn.test:8443 HTTP/1.1\r\nHost: vpn.test:8443\r\n\r\n");
	ck_assert_uint_eq(n, strlen(out));
	hc_request(out, sizeof(out), "2001:db8::1", "443", "Aladdin:open sesame");
	ck_assert_str_eq(out, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n"
			      "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	ck_assert_uint_eq(hc_request(out, 20, "vpn.test", "8443", NULL), 0);
	ck_assert_uint_eq(hc_request(out, sizeof(out), "a\r\nX: y", "443", NULL), 0);
	ck_assert_uint_eq(hc_request(out, sizeof(out), "a b", "443", NULL), 0);
	ck_assert_uint_eq(hc_request(out, sizeof(out), "a", "44 3", NULL), 0);
	ck_assert_uint_eq(hc_request(out, sizeof(out), "", "443", NULL), 0);
}
END_TEST

START_TEST(proxy_url)
{
	struct px_url u;
	char err[200];
	ck_assert_int_eq(px_parse_url("http://proxy.corp:8080", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "proxy.corp");
	ck_assert_str_eq(u.port, "8080");
	ck_assert_int_eq(u.has_user, 0);
	ck_assert_int_eq(px_parse_url("HTTP://u%40x:p%3a@ss@[fd00::1]/", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "fd00::1");
	ck_assert_str_eq(u.port, PX_DEFAULT_PORT);
	ck_assert_str_eq(u.user, "u@x");
	ck_assert_str_eq(u.password, "p:@ss");
	ck_assert_int_eq(px_parse_url("10.1.2.3:3128", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "10.1.2.3");
	ck_assert_int_eq(px_parse_url("http://bob@p:1", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.has_user, 1);
	ck_assert_int_eq(u.has_password, 0);
	static const char *const bad[] = {
		"https://p:3128", "socks5://p:1080", "ftp://p", "http://p:0", "http://p:65536",
		"http://p:x", "http://p:3128/path", "http://", "http://:3128", "http://@p:1",
		"http://u:pw%0a@p:1", "http://u:pw%4@p:1", "http://p q:1", "http://fd00::1:3128",
		"http://p_\"x:1", "http://p?x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(px_parse_url(bad[i], &u, err, sizeof(err)) < 0, "accepted %s", bad[i]);
		ck_assert_msg(err[0], "no reason for %s", bad[i]);
	}
	/* the password never shows in a reason */
	px_parse_url("http://u:se%zzcret@p:1", &u, err, sizeof(err));
	ck_assert_ptr_null(strstr(err, "cret"));
}
END_TEST

START_TEST(no_proxy)
{
	const char *l = "localhost, .corp.example,example.org ,10.0.0.0/8,192.168.1.7,"
			"fd00::/16,[2001:db8::5],intra:8080,*.wild.test";
	ck_assert_int_eq(px_no_proxy_match(l, "localhost"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "LOCALHOST."), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "corp.example"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "vpn.corp.example"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "vpncorp.example"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "example.org"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "a.b.example.org"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "notexample.org"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "example.org.evil"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "intra"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "x.wild.test"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "wild.test"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "10.20.30.40"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "11.0.0.1"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "192.168.1.7"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "192.168.1.70"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "fd00:1::1"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "fd01::1"), 0);
	ck_assert_int_eq(px_no_proxy_match(l, "2001:db8::5"), 1);
	ck_assert_int_eq(px_no_proxy_match(l, "2001:db8::6"), 0);
	/* a prefix never matches a name, a name never an address */
	ck_assert_int_eq(px_no_proxy_match("10.0.0.0/8", "10.example"), 0);
	ck_assert_int_eq(px_no_proxy_match("1.2.3.4", "4"), 0);
	ck_assert_int_eq(px_no_proxy_match("*", "anything.at.all"), 1);
	ck_assert_int_eq(px_no_proxy_match("*", "10.1.1.1"), 1);
	ck_assert_int_eq(px_no_proxy_match("", "x"), 0);
	ck_assert_int_eq(px_no_proxy_match(" , ,", "x"), 0);
	ck_assert_int_eq(px_no_proxy_match(".", "x"), 0);
	ck_assert_int_eq(px_no_proxy_match("10.0.0.0/33,10.0.0.0/x,::/129", "10.0.0.1"), 0);
	ck_assert_int_eq(px_no_proxy_match("0.0.0.0/0", "203.0.113.9"), 1);
	ck_assert_int_eq(px_no_proxy_match("10.1.2.3/31", "10.1.2.2"), 1);
	ck_assert_int_eq(px_no_proxy_match("10.1.2.3/31", "10.1.2.4"), 0);
	/* the length is digits only: strtoul would read these as /0 or /8 */
	ck_assert_int_eq(px_no_proxy_match("10.0.0.0/-0,10.0.0.0/+8,10.0.0.0/ 8", "203.0.113.9"), 0);
	ck_assert_int_eq(px_no_proxy_match("10.0.0.0/-0,10.0.0.0/+8,10.0.0.0/ 8", "10.1.1.1"), 0);
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("httpconnect");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, ok_200_keeps_tls_bytes);
	tcase_add_test(tc, interim_1xx_skipped);
	tcase_add_test(tc, errors_and_auth_schemes);
	tcase_add_test(tc, bad_answers);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, request);
	tcase_add_test(tc, proxy_url);
	tcase_add_test(tc, no_proxy);
	suite_add_tcase(s, tc);
	return s;
}
