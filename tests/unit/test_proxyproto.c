/* SPDX-License-Identifier: MIT */
/*
 * test_proxyproto.c — the PROXY protocol header parser
 * (plugins/tls-http/proxyproto.c): v1 TCP4/TCP6/UNKNOWN, v2 PROXY/LOCAL
 * over IPv4 and IPv6 with TLVs, every truncation of a valid header (must
 * ask for more, never decide early), garbage, oversize, versions not
 * wanted, and that the bytes behind the header are never counted in.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "proxyproto.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* A v2 header: cmd (0 LOCAL, 1 PROXY), family byte, `body` of blen. */
static size_t v2(uint8_t *out, unsigned cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* Every proper prefix of a good header must be PP_MORE. */
static void all_prefixes_more(const uint8_t *b, size_t n, int versions)
{
	struct pp_header h;
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(pp_parse(b, i, versions, &h) == PP_MORE, "prefix of %zu/%zu bytes", i, n);
}

START_TEST(v1_tcp4)
{
	const char *s = "PROXY TCP4 192.0.2.7 10.0.0.1 40000 443\r\n\x16\x03\x01";
	struct pp_header h;
	size_t n = strlen(s);
	ck_assert_int_eq(pp_parse((const uint8_t *)s, n, PP_ANY, &h), PP_DONE);
	ck_assert_uint_eq(h.len, n - 3); /* the ClientHello's bytes are not the header's */
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.has_addr, 1);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_mem_eq(h.src, "\xc0\x00\x02\x07", 4);
	ck_assert_mem_eq(h.dst, "\x0a\x00\x00\x01", 4);
	ck_assert_uint_eq(h.src_port, 40000);
	ck_assert_uint_eq(h.dst_port, 443);
	all_prefixes_more((const uint8_t *)s, n - 3, PP_V1);
}
END_TEST

START_TEST(v1_tcp6)
{
	const char *s = "PROXY TCP6 2001:db8::5 fd00::1 65535 0\r\n";
	struct pp_header h;
	uint8_t want[16];
	inet_pton(AF_INET6, "2001:db8::5", want);
	ck_assert_int_eq(pp_parse((const uint8_t *)s, strlen(s), PP_V1, &h), PP_DONE);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_mem_eq(h.src, want, 16);
	ck_assert_uint_eq(h.src_port, 65535);
	ck_assert_uint_eq(h.dst_port, 0);
}
END_TEST

START_TEST(v1_unknown)
{
	const char *a = "PROXY UNKNOWN\r\n", *b = "PROXY UNKNOWN ffff::1 whatever 1 2\r\n";
	struct pp_header h;
	ck_assert_int_eq(pp_parse((const uint8_t *)a, strlen(a), PP_ANY, &h), PP_DONE);
	ck_assert_int_eq(h.has_addr, 0);
	ck_assert_uint_eq(h.len, strlen(a));
	ck_assert_int_eq(pp_parse((const uint8_t *)b, strlen(b), PP_ANY, &h), PP_DONE);
	ck_assert_int_eq(h.has_addr, 0);
}
END_TEST

static const char *v1_bad[] = {
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000 443\n",       /* LF without CR */
	"PROXY TCP4 192.0.2.7  10.0.0.1 40000 443\r\n",    /* two spaces */
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000\r\n",         /* a field missing */
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000 443 9\r\n",   /* one too many */
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000 443 \r\n",    /* trailing space */
	"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n",         /* IPv6 under TCP4 */
	"PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n",           /* IPv4 under TCP6 */
	"PROXY TCP4 192.0.2.7 10.0.0.1 65536 443\r\n",     /* port too big */
	"PROXY TCP4 192.0.2.7 10.0.0.1 0443 443\r\n",      /* leading zero */
	"PROXY TCP4 192.0.2.7 10.0.0.1 -1 443\r\n",
	"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",
	"PROXY \r\n",
	"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n",             /* lone CR */
	"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x01\r\n",           /* control byte */
	"GET / HTTP/1.1\r\n",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",   /* a ClientHello, no header */
	"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
};

START_TEST(v1_garbage)
{
	struct pp_header h;
	const char *s = v1_bad[_i];
	ck_assert_msg(pp_parse((const uint8_t *)s, strlen(s), PP_ANY, &h) == PP_BAD, "%s", s);
	ck_assert_ptr_nonnull(h.why);
}
END_TEST

START_TEST(v1_oversize)
{
	/* The longest legal line is 107 bytes; one more without CRLF is refused. */
	uint8_t b[200];
	struct pp_header h;
	memcpy(b, "PROXY UNKNOWN ", 14);
	memset(b + 14, 'x', sizeof(b) - 14);
	ck_assert_int_eq(pp_parse(b, PP_V1_MAX - 1, PP_V1, &h), PP_MORE);
	ck_assert_int_eq(pp_parse(b, PP_V1_MAX, PP_V1, &h), PP_BAD);
	ck_assert_int_eq(pp_parse(b, sizeof(b), PP_V1, &h), PP_BAD);
	/* exactly 107 bytes with its CRLF: accepted */
	b[PP_V1_MAX - 2] = '\r';
	b[PP_V1_MAX - 1] = '\n';
	ck_assert_int_eq(pp_parse(b, PP_V1_MAX, PP_V1, &h), PP_DONE);
	ck_assert_uint_eq(h.len, PP_V1_MAX);
}
END_TEST

START_TEST(v2_proxy_ipv4_tlv)
{
	/* 12 bytes of addresses, then a TLV (type 0x01 ALPN, "h2") skipped. */
	const uint8_t body[] = { 198, 51, 100, 9, 10, 200, 0, 1, 0x9c, 0x40, 0x01, 0xbb,
				 0x01, 0x00, 0x02, 'h', '2' };
	uint8_t b[64];
	struct pp_header h;
	size_t n = v2(b, 1, 0x11, body, sizeof(body));
	b[n] = 0x16; /* the ClientHello behind */
	ck_assert_int_eq(pp_parse(b, n + 1, PP_ANY, &h), PP_DONE);
	ck_assert_uint_eq(h.len, n);
	ck_assert_int_eq(h.version, 2);
	ck_assert_int_eq(h.has_addr, 1);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_mem_eq(h.src, "\xc6\x33\x64\x09", 4);
	ck_assert_uint_eq(h.src_port, 40000);
	ck_assert_uint_eq(h.dst_port, 443);
	all_prefixes_more(b, n, PP_V2);
	all_prefixes_more(b, n, PP_ANY);
}
END_TEST

START_TEST(v2_proxy_ipv6)
{
	uint8_t body[36] = { 0 }, b[64];
	struct pp_header h;
	inet_pton(AF_INET6, "2001:db8::42", body);
	inet_pton(AF_INET6, "fd00::1", body + 16);
	body[32] = 0x12, body[33] = 0x34, body[34] = 0x01, body[35] = 0xbb;
	size_t n = v2(b, 1, 0x21, body, sizeof(body));
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_DONE);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_mem_eq(h.src, body, 16);
	ck_assert_mem_eq(h.dst, body + 16, 16);
	ck_assert_uint_eq(h.src_port, 0x1234);
	/* too short for two IPv6 addresses and ports */
	n = v2(b, 1, 0x21, body, 35);
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
}
END_TEST

START_TEST(v2_local_and_unspec)
{
	const uint8_t body[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	uint8_t b[64];
	struct pp_header h;
	size_t n = v2(b, 0, 0x11, body, sizeof(body)); /* LOCAL with addresses: ignored */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_DONE);
	ck_assert_int_eq(h.has_addr, 0);
	ck_assert_uint_eq(h.len, n);
	n = v2(b, 0, 0x00, body, 0);
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_DONE);
	ck_assert_uint_eq(h.len, 16);
	n = v2(b, 1, 0x00, body, 0); /* PROXY, UNSPEC: keep the socket's address */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_DONE);
	ck_assert_int_eq(h.has_addr, 0);
}
END_TEST

START_TEST(v2_garbage)
{
	const uint8_t body[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	uint8_t b[64];
	struct pp_header h;
	size_t n = v2(b, 1, 0x11, body, sizeof(body));
	b[12] = 0x11; /* version 1 in a v2 header */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
	b[12] = 0x22; /* command 2 */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
	b[12] = 0x21;
	b[13] = 0x12; /* UDP over IPv4 */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
	b[13] = 0x41; /* family 4 */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
	b[13] = 0x11;
	b[5] ^= 0xff; /* signature broken in the middle */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
	ck_assert_int_eq(pp_parse(b, 6, PP_V2, &h), PP_BAD);
	ck_assert_int_eq(pp_parse(b, 5, PP_V2, &h), PP_MORE);
	n = v2(b, 1, 0x11, body, 11); /* one byte short of IPv4 addresses */
	ck_assert_int_eq(pp_parse(b, n, PP_V2, &h), PP_BAD);
}
END_TEST

START_TEST(v2_oversize)
{
	static uint8_t b[PP_V2_MAX + 64];
	struct pp_header h;
	uint8_t body[12] = { 1, 2, 3, 4 };
	v2(b, 1, 0x11, body, sizeof(body));
	size_t len = PP_V2_MAX - 16;
	b[14] = (uint8_t)(len >> 8), b[15] = (uint8_t)len; /* exactly the bound: fine */
	ck_assert_int_eq(pp_parse(b, PP_V2_MAX - 1, PP_V2, &h), PP_MORE);
	ck_assert_int_eq(pp_parse(b, PP_V2_MAX, PP_V2, &h), PP_DONE);
	len++;
	b[14] = (uint8_t)(len >> 8), b[15] = (uint8_t)len; /* one over: refused from the 16 bytes */
	ck_assert_int_eq(pp_parse(b, 16, PP_V2, &h), PP_BAD);
	b[14] = b[15] = 0xff;
	ck_assert_int_eq(pp_parse(b, 16, PP_V2, &h), PP_BAD);
}
END_TEST

START_TEST(versions_wanted)
{
	const char *s1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
	const uint8_t body[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	uint8_t b[64];
	struct pp_header h;
	size_t n = v2(b, 1, 0x11, body, sizeof(body));
	ck_assert_int_eq(pp_parse((const uint8_t *)s1, strlen(s1), PP_V2, &h), PP_BAD);
	ck_assert_int_eq(pp_parse(b, n, PP_V1, &h), PP_BAD);
	ck_assert_int_eq(pp_parse(b, 1, PP_V1, &h), PP_BAD); /* "\r" cannot start "PROXY" */
	ck_assert_int_eq(pp_parse((const uint8_t *)"PRO", 3, PP_V1, &h), PP_MORE);
	ck_assert_int_eq(pp_parse((const uint8_t *)"", 0, PP_ANY, &h), PP_MORE);
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp6);
	tcase_add_test(tc, v1_unknown);
	tcase_add_loop_test(tc, v1_garbage, 0, (int)(sizeof(v1_bad) / sizeof(v1_bad[0])));
	tcase_add_test(tc, v1_oversize);
	tcase_add_test(tc, v2_proxy_ipv4_tlv);
	tcase_add_test(tc, v2_proxy_ipv6);
	tcase_add_test(tc, v2_local_and_unspec);
	tcase_add_test(tc, v2_garbage);
	tcase_add_test(tc, v2_oversize);
	tcase_add_test(tc, versions_wanted);
	suite_add_tcase(s, tc);
	return s;
}
