/* SPDX-License-Identifier: MIT */
/*
 * test_http.c — the tls-http handshake from raw bytes: the HTTP head
 * parser, base64/Basic, every error answer the server gives, and the 101
 * exchange (plugins/tls-http/http.c, handshake.c).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <arpa/inet.h>
#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "handshake.h"
#include "http.h"

static struct http_header H[64];
static struct http_msg M;
static char buf[16384];

static enum http_result parse_req(const char *raw, size_t max_head, size_t max_hdrs)
{
	size_t n = strlen(raw);
	ck_assert_uint_lt(n, sizeof(buf));
	memcpy(buf, raw, n + 1);
	return http_parse(buf, n, 0, max_head, H, max_hdrs, &M);
}

START_TEST(parse_basic_request)
{
	const char *raw = "GET /vpn HTTP/1.1\r\nHost: example.com\r\nX-Pad:   spaced value \t\r\n"
			  "connection: keep-alive, Upgrade\r\n\r\nEXTRA";
	ck_assert_int_eq(parse_req(raw, 8192, 64), HTTP_DONE);
	ck_assert_str_eq(M.method, "GET");
	ck_assert_str_eq(M.target, "/vpn");
	ck_assert_int_eq(M.minor, 1);
	ck_assert_uint_eq(M.n_hdrs, 3);
	ck_assert_str_eq(http_get(&M, "HOST"), "example.com");
	ck_assert_str_eq(http_get(&M, "x-pad"), "spaced value");
	ck_assert_ptr_null(http_get(&M, "Upgrade"));
	ck_assert(http_has_token(&M, "Connection", "upgrade"));
	ck_assert(http_has_token(&M, "Connection", "KEEP-ALIVE"));
	ck_assert(!http_has_token(&M, "Connection", "close"));
	ck_assert(!http_has_token(&M, "Connection", "Upgrad"));
	/* the bytes after the head are not part of it */
	ck_assert_uint_eq(M.head_len, strlen(raw) - 5);
	ck_assert_int_eq(memcmp(buf + M.head_len, "EXTRA", 5), 0);
}
END_TEST

START_TEST(parse_bare_lf)
{
	ck_assert_int_eq(parse_req("GET / HTTP/1.0\nA: b\n\n", 8192, 64), HTTP_DONE);
	ck_assert_int_eq(M.minor, 0);
	ck_assert_str_eq(http_get(&M, "a"), "b");
	ck_assert_uint_eq(M.head_len, 21);
}
END_TEST

/* Fed one byte at a time, the parser says MORE until the blank line is
 * complete, and never modifies the buffer before that. */
START_TEST(parse_split_reads)
{
	const char *raw = "GET /vpn HTTP/1.1\r\nHost: h\r\nUpgrade: Simple-VPN\r\n\r\n";
	size_t n = strlen(raw);
	char b[256];
	memcpy(b, raw, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(http_parse(b, i, 0, 8192, H, 64, &M), HTTP_MORE);
		ck_assert_int_eq(memcmp(b, raw, n), 0);
	}
	ck_assert_int_eq(http_parse(b, n, 0, 8192, H, 64, &M), HTTP_DONE);
	ck_assert_str_eq(http_get(&M, "upgrade"), "Simple-VPN");
}
END_TEST

static const char *malformed[] = {
	"GET /vpn HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",     /* obsolete folding */
	"GET /vpn HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n",
	"GET /vpn HTTP/1.1\r\nHost : h\r\n\r\n",               /* space before colon */
	"GET /vpn HTTP/1.1\r\nNoColon\r\n\r\n",
	"GET /vpn HTTP/1.1\r\n: empty-name\r\n\r\n",
	"GET /vpn HTTP/1.1\r\nA: b\rc\r\n\r\n",                /* stray CR */
	"GET /vpn HTTP/1.1\r\nA: b\x01\r\n\r\n",               /* control char */
	"GET  /vpn HTTP/1.1\r\n\r\n",                          /* double space */
	"GET /vpn\r\n\r\n",                                    /* HTTP/0.9 */
	"GET /vpn HTTP/2.0\r\n\r\n",
	"GET /vpn HTTP/1.1 extra\r\n\r\n",
	"G(T /vpn HTTP/1.1\r\n\r\n",                           /* method not a token */
	"\r\nGET /vpn HTTP/1.1\r\n\r\n",
	"GET /vpn HTTP/1.1\r\nBad Name: x\r\n\r\n",
};

START_TEST(parse_malformed)
{
	ck_assert_msg(parse_req(malformed[_i], 8192, 64) == HTTP_BAD, "case %d accepted", _i);
}
END_TEST

START_TEST(parse_nul_byte)
{
	char b[] = "GET /vpn HTTP/1.1\r\nA: x\0y\r\n\r\nPKT";
	ck_assert_int_eq(http_parse(b, sizeof(b) - 1, 0, 8192, H, 64, &M), HTTP_BAD);
	/* The head is complete, only malformed: its length is still known
	 * (hs_request.head_len promises it for every decision). */
	ck_assert_uint_eq(M.head_len, sizeof(b) - 1 - 3);
}
END_TEST

START_TEST(parse_limits)
{
	char raw[8192];
	/* exactly max_head bytes: accepted; one less limit: too big */
	snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nA: %0*d\r\n\r\n", 100, 0);
	size_t n = strlen(raw);
	ck_assert_int_eq(parse_req(raw, n, 64), HTTP_DONE);
	ck_assert_int_eq(parse_req(raw, n - 1, 64), HTTP_TOO_BIG);
	/* no end in sight and over the limit: too big without waiting */
	ck_assert_int_eq(parse_req("GET / HTTP/1.1\r\nA: 0123456789012345678901234567890", 32, 64),
			 HTTP_TOO_BIG);
	ck_assert_int_eq(parse_req("GET / HTTP/1.1\r\nA: 01", 32, 64), HTTP_MORE);
	/* header count */
	ck_assert_int_eq(parse_req("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 8192, 3), HTTP_DONE);
	ck_assert_int_eq(parse_req("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 8192, 2),
			 HTTP_TOO_MANY);
}
END_TEST

START_TEST(parse_response)
{
	char b[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: Simple-VPN\r\n\r\n";
	ck_assert_int_eq(http_parse(b, strlen(b), 1, 8192, H, 64, &M), HTTP_DONE);
	ck_assert_int_eq(M.status, 101);
	ck_assert_str_eq(M.reason, "Switching Protocols");
	char b2[] = "HTTP/1.1 404\r\n\r\n";
	ck_assert_int_eq(http_parse(b2, strlen(b2), 1, 8192, H, 64, &M), HTTP_DONE);
	ck_assert_int_eq(M.status, 404);
	ck_assert_str_eq(M.reason, "");
	char b3[] = "HTTP/1.1 1O1 x\r\n\r\n";
	ck_assert_int_eq(http_parse(b3, strlen(b3), 1, 8192, H, 64, &M), HTTP_BAD);
	char b4[] = "ICY 200 OK\r\n\r\n";
	ck_assert_int_eq(http_parse(b4, strlen(b4), 1, 8192, H, 64, &M), HTTP_BAD);
}
END_TEST

START_TEST(base64_vectors)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[64];
	for (int i = 0; i < 7; i++) {
		ck_assert_uint_eq(http_b64_encode(plain[i], strlen(plain[i]), out, sizeof(out)), strlen(enc[i]));
		ck_assert_str_eq(out, enc[i]);
		ck_assert_int_eq(http_b64_decode(enc[i], strlen(enc[i]), out, sizeof(out)), (long)strlen(plain[i]));
		ck_assert_str_eq(out, plain[i]);
	}
	static const char *bad_in[] = { "Zg=", "Z===", "Zg=a", "Zm9v!A==", "Zg==Zg==", "Zm 9" };
	for (int i = 0; i < 6; i++)
		ck_assert_msg(http_b64_decode(bad_in[i], strlen(bad_in[i]), out, sizeof(out)) < 0, "%s", bad_in[i]);
	ck_assert_int_lt(http_b64_decode("Zm9vYmFy", 8, out, 6), 0); /* no room */
}
END_TEST

START_TEST(basic_auth)
{
	char u[64], p[64];
	/* "alice:pa:ss" — the password may contain colons */
	ck_assert_int_eq(http_basic_decode("Basic YWxpY2U6cGE6c3M=", u, sizeof(u), p, sizeof(p)), 0);
	ck_assert_str_eq(u, "alice");
	ck_assert_str_eq(p, "pa:ss");
	ck_assert_int_eq(http_basic_decode("basic   YWxpY2U6", u, sizeof(u), p, sizeof(p)), 0);
	ck_assert_str_eq(p, "");
	ck_assert_int_lt(http_basic_decode("Bearer YWxpY2U6cGE=", u, sizeof(u), p, sizeof(p)), 0);
	ck_assert_int_lt(http_basic_decode("BasicYWxpY2U6cGE=", u, sizeof(u), p, sizeof(p)), 0);
	ck_assert_int_lt(http_basic_decode("Basic YWxpY2U=", u, sizeof(u), p, sizeof(p)), 0);     /* no colon */
	ck_assert_int_lt(http_basic_decode("Basic OnBhc3M=", u, sizeof(u), p, sizeof(p)), 0);     /* empty user */
	ck_assert_int_lt(http_basic_decode("Basic !!!!", u, sizeof(u), p, sizeof(p)), 0);
	ck_assert_int_lt(http_basic_decode("Basic YWxpY2U6cGE6c3M=", u, 3, p, sizeof(p)), 0);   /* too long */
}
END_TEST

/* ---- the server's answers ---------------------------------------------- */

static char users_path[64];
static struct auth_db *users;
static struct hs_params P;

/* "alice:wonderland" → YWxpY2U6d29uZGVybGFuZA== */
#define AUTH_OK "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n"
#define UPGRADE "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n"

static void setup_users(void)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[512];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)));
	snprintf(line, sizeof(line), "alice:%s\n", crypt_rn("wonderland", salt, &cd, sizeof(cd)));
	snprintf(users_path, sizeof(users_path), "/tmp/tp-test-http-XXXXXX");
	int fd = mkstemp(users_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	char err[256];
	users = auth_load(users_path, err, sizeof(err));
	ck_assert_msg(users != NULL, "%s", err);
	P = (struct hs_params){ .path = "/vpn", .realm = "test realm", .stack = "framer-ip",
				.max_request = 8192, .max_headers = 64, .users = users };
}

static void teardown_users(void)
{
	auth_free(users);
	users = NULL;
	unlink(users_path);
}

/* Decide on raw, build the answer, and check it is well-formed HTTP with a
 * Content-Length that matches its body.  Returns the status. */
static char answer[4096];
static struct http_msg AM;
static struct http_header AH[32];
static int decide(const char *raw, struct hs_request *r)
{
	size_t n = strlen(raw);
	memcpy(buf, raw, n + 1);
	hs_decide(buf, n, &P, r);
	if (r->status == 0 || r->status == 101)
		return r->status;
	size_t len = hs_error_response(answer, sizeof(answer), &P, r);
	ck_assert_uint_gt(len, 0);
	answer[len] = '\0';
	static char copy[4096]; /* AM points into it after we return */
	memcpy(copy, answer, len + 1);
	ck_assert_int_eq(http_parse(copy, len, 1, sizeof(copy), AH, 32, &AM), HTTP_DONE);
	ck_assert_int_eq(AM.status, r->status);
	const char *cl = http_get(&AM, "Content-Length");
	ck_assert_ptr_nonnull(cl);
	ck_assert_uint_eq(strtoul(cl, NULL, 10), len - AM.head_len);
	ck_assert_uint_gt(len - AM.head_len, 0);
	return r->status;
}

START_TEST(answer_ok)
{
	struct hs_request r;
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nHost: x\r\n" AUTH_OK UPGRADE "\r\n", &r), 101);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_str_eq(r.peer_stack, "framer-ip"); /* absent header = plain Simple-VPN */
	/* a query string does not change the path; lower-case tokens match */
	const char *raw = "GET /vpn?x=1 HTTP/1.1\r\n" AUTH_OK "connection: upgrade\r\n"
			  "upgrade: simple-vpn\r\nSimple-VPN-Stack: framer-ip\r\n\r\nPKT";
	ck_assert_int_eq(decide(raw, &r), 101);
	ck_assert_uint_eq(r.head_len, strlen(raw) - 3);
	ck_assert_int_eq(memcmp(buf + r.head_len, "PKT", 3), 0);
}
END_TEST

START_TEST(answer_incomplete)
{
	struct hs_request r;
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nHost: x\r\n", &r), 0);
}
END_TEST

START_TEST(answer_errors)
{
	struct hs_request r;
	ck_assert_int_eq(decide("POST /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "\r\n", &r), 405);
	ck_assert_str_eq(http_get(&AM, "Allow"), "GET");

	ck_assert_int_eq(decide("GET /other HTTP/1.1\r\n" AUTH_OK UPGRADE "\r\n", &r), 404);
	ck_assert_int_eq(decide("GET /vpnx HTTP/1.1\r\n" AUTH_OK UPGRADE "\r\n", &r), 404);

	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n", &r), 400);
	ck_assert_int_eq(decide("GET /vpn\r\n\r\n", &r), 400);

	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" UPGRADE "\r\n", &r), 401);
	ck_assert_str_eq(http_get(&AM, "WWW-Authenticate"), "Basic realm=\"test realm\"");
	/* wrong password: alice:alice */
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nAuthorization: Basic YWxpY2U6YWxpY2U=\r\n" UPGRADE "\r\n", &r), 401);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_ptr_nonnull(http_get(&AM, "WWW-Authenticate"));
	/* unknown user bob:wonderland */
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nAuthorization: Basic Ym9iOndvbmRlcmxhbmQ=\r\n" UPGRADE "\r\n", &r), 401);
	/* not Basic, bad base64 */
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nAuthorization: Bearer abc\r\n" UPGRADE "\r\n", &r), 401);
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\nAuthorization: Basic ***\r\n" UPGRADE "\r\n", &r), 401);

	/* no upgrade headers, or only one of them */
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK "\r\n", &r), 426);
	ck_assert_str_eq(http_get(&AM, "Upgrade"), "Simple-VPN");
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK "Upgrade: Simple-VPN\r\n\r\n", &r), 426);
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", &r), 426);
}
END_TEST

START_TEST(answer_stack_mismatch)
{
	struct hs_request r;
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "Simple-VPN-Stack: compress-lz4,framer-len/2\r\n\r\n", &r), 409);
	ck_assert_str_eq(http_get(&AM, "Simple-VPN-Stack"), "framer-ip");
	ck_assert_ptr_nonnull(strstr(answer, "stack mismatch: client uses compress-lz4,framer-len/2, server uses framer-ip"));
	/* a plain peer (no header) against a server with another stack */
	P.stack = "framer-len/2";
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "\r\n", &r), 409);
	ck_assert_ptr_nonnull(strstr(answer, "client uses framer-ip, server uses framer-len/2"));
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "Simple-VPN-Stack: framer-len/2\r\n\r\n", &r), 101);
}
END_TEST

START_TEST(answer_limits)
{
	struct hs_request r;
	char raw[12000];
	int o = snprintf(raw, sizeof(raw), "GET /vpn HTTP/1.1\r\nX: ");
	memset(raw + o, 'a', 9000);
	raw[o + 9000] = '\0';
	ck_assert_int_eq(decide(raw, &r), 431); /* no blank line needed: over the limit already */
	P.max_headers = 4;
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "A: 1\r\nB: 2\r\n\r\n", &r), 431);
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "A: 1\r\n\r\n", &r), 101);
}
END_TEST

/* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored, so the
 * request asks for no upgrade: 426, never 101 (issue 10). */
START_TEST(upgrade_needs_http11)
{
	struct hs_request r;
	ck_assert_int_eq(decide("GET /vpn HTTP/1.0\r\n" AUTH_OK UPGRADE "\r\n", &r), 426);
	ck_assert_str_eq(r.why, "Upgrade needs HTTP/1.1");
	ck_assert_int_eq(decide("GET /vpn HTTP/1.1\r\n" AUTH_OK UPGRADE "\r\n", &r), 101);
}
END_TEST

/* The answer to a request that did not arrive in time. */
START_TEST(answer_408)
{
	struct hs_request r = { .status = 408, .why = "request not complete in time" };
	size_t len = hs_error_response(answer, sizeof(answer), &P, &r);
	ck_assert_uint_gt(len, 0);
	answer[len] = '\0';
	ck_assert_int_eq(strncmp(answer, "HTTP/1.1 408 Request Timeout\r\n", 30), 0);
	ck_assert_ptr_nonnull(strstr(answer, "Connection: close\r\n"));
}
END_TEST

START_TEST(answer_503)
{
	struct hs_request r = { .status = 503, .why = "pool" };
	size_t len = hs_error_response(answer, sizeof(answer), &P, &r);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(strncmp(answer, "HTTP/1.1 503 Service Unavailable\r\n", 34), 0);
}
END_TEST

/* The client's own request passes the server's checks. */
START_TEST(request_roundtrip)
{
	char req[1024];
	struct hs_request r;
	size_t n = hs_build_request(req, sizeof(req), "vpn.example:8443", "/vpn", "alice", "wonderland",
				    "framer-ip");
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(decide(req, &r), 101);
	ck_assert_uint_eq(r.head_len, n);
	n = hs_build_request(req, sizeof(req), "h", "/vpn", "alice", "nope", "framer-ip");
	ck_assert_int_eq(decide(req, &r), 401);
}
END_TEST

static struct tp_prefix pfx(const char *s)
{
	struct tp_prefix p;
	ck_assert_int_eq(hs_parse_prefix(s, 1, &p), 0);
	return p;
}

START_TEST(response_101_roundtrip)
{
	struct tp_session_info in, out;
	char resp[2048], stack[128], err[160];
	memset(&in, 0, sizeof(in));
	in.addr4 = pfx("10.0.0.2/24");
	in.gw4 = pfx("10.0.0.1");
	in.addr6 = pfx("fd00::2/64");
	in.gw6 = pfx("fd00::1");
	in.mtu = 1400;
	in.n_routes = 2;
	in.routes[0] = pfx("192.168.10.0/24");
	in.routes[1] = pfx("fd10::/48");
	in.n_dns = 1;
	in.dns[0] = pfx("10.0.0.1");
	size_t n = hs_build_101(resp, sizeof(resp), &in, "compress-lz4,framer-len/2");
	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(resp, "Simple-VPN-Address: 10.0.0.2/24\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "Simple-VPN-Gateway: 10.0.0.1\r\n"));
	ck_assert_int_eq(http_parse(resp, n, 1, sizeof(resp), H, 64, &M), HTTP_DONE);
	ck_assert(http_has_token(&M, "Upgrade", "Simple-VPN"));
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(hs_parse_101(&M, &out, stack, sizeof(stack), err, sizeof(err)), 0);
	ck_assert_str_eq(stack, "compress-lz4,framer-len/2");
	ck_assert_int_eq(memcmp(&out.addr4, &in.addr4, sizeof(in.addr4)), 0);
	ck_assert_int_eq(out.gw4.family, AF_INET);
	ck_assert_int_eq(memcmp(out.gw4.addr, in.gw4.addr, 4), 0);
	ck_assert_int_eq(memcmp(&out.addr6, &in.addr6, sizeof(in.addr6)), 0);
	ck_assert_int_eq(memcmp(out.gw6.addr, in.gw6.addr, 16), 0);
	ck_assert_uint_eq(out.mtu, 1400);
	ck_assert_uint_eq(out.n_routes, 2);
	ck_assert_int_eq(memcmp(&out.routes[1], &in.routes[1], sizeof(in.routes[1])), 0);
	ck_assert_uint_eq(out.n_dns, 1);
}
END_TEST

/* The article's server sends only the two address headers. */
START_TEST(response_101_minimal)
{
	struct tp_session_info out;
	char stack[128], err[160];
	char resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: Simple-VPN\r\n"
		      "Simple-VPN-Address: 10.0.0.2/24\r\nSimple-VPN-Gateway: 10.0.0.1\r\n\r\n\x45\x00";
	ck_assert_int_eq(http_parse(resp, sizeof(resp) - 1, 1, 8192, H, 64, &M), HTTP_DONE);
	ck_assert_uint_eq(M.head_len, sizeof(resp) - 3); /* two stream bytes follow */
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(hs_parse_101(&M, &out, stack, sizeof(stack), err, sizeof(err)), 0);
	ck_assert_str_eq(stack, "framer-ip");
	ck_assert_uint_eq(out.addr4.plen, 24);
	ck_assert_uint_eq(out.mtu, 0);
	ck_assert_uint_eq(out.n_routes, 0);
	ck_assert_uint_eq(out.addr6.family, 0);
}
END_TEST

START_TEST(response_101_bad)
{
	struct tp_session_info out;
	char stack[128], err[160];
	static const char *cases[] = {
		"HTTP/1.1 101 OK\r\nSimple-VPN-Gateway: 10.0.0.1\r\n\r\n",
		"HTTP/1.1 101 OK\r\nSimple-VPN-Address: 10.0.0.2/24\r\n\r\n",
		"HTTP/1.1 101 OK\r\nSimple-VPN-Address: 10.0.0.300/24\r\nSimple-VPN-Gateway: 10.0.0.1\r\n\r\n",
		"HTTP/1.1 101 OK\r\nSimple-VPN-Address: 10.0.0.2/33\r\nSimple-VPN-Gateway: 10.0.0.1\r\n\r\n",
		"HTTP/1.1 101 OK\r\nSimple-VPN-Address: 10.0.0.2/24\r\nSimple-VPN-Gateway: 10.0.0.1\r\nSimple-VPN-MTU: 12x\r\n\r\n",
		"HTTP/1.1 101 OK\r\nSimple-VPN-Address: 10.0.0.2/24\r\nSimple-VPN-Gateway: 10.0.0.1\r\nSimple-VPN-Route: nope\r\n\r\n",
		"HTTP/1.1 200 OK\r\nSimple-VPN-Address: 10.0.0.2/24\r\nSimple-VPN-Gateway: 10.0.0.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char b[512];
		snprintf(b, sizeof(b), "%s", cases[i]);
		ck_assert_int_eq(http_parse(b, strlen(b), 1, 8192, H, 64, &M), HTTP_DONE);
		memset(&out, 0, sizeof(out));
		err[0] = '\0';
		ck_assert_msg(hs_parse_101(&M, &out, stack, sizeof(stack), err, sizeof(err)) < 0, "case %zu", i);
		ck_assert_msg(err[0], "no error text for case %zu", i);
	}
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tp = tcase_create("parser");
	tcase_add_test(tp, parse_basic_request);
	tcase_add_test(tp, parse_bare_lf);
	tcase_add_test(tp, parse_split_reads);
	tcase_add_loop_test(tp, parse_malformed, 0, (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tp, parse_nul_byte);
	tcase_add_test(tp, parse_limits);
	tcase_add_test(tp, parse_response);
	tcase_add_test(tp, base64_vectors);
	tcase_add_test(tp, basic_auth);
	suite_add_tcase(s, tp);

	TCase *ta = tcase_create("answers");
	tcase_add_checked_fixture(ta, setup_users, teardown_users);
	tcase_set_timeout(ta, 30);
	tcase_add_test(ta, answer_ok);
	tcase_add_test(ta, answer_incomplete);
	tcase_add_test(ta, answer_errors);
	tcase_add_test(ta, answer_stack_mismatch);
	tcase_add_test(ta, answer_limits);
	tcase_add_test(ta, upgrade_needs_http11);
	tcase_add_test(ta, answer_408);
	tcase_add_test(ta, answer_503);
	tcase_add_test(ta, request_roundtrip);
	suite_add_tcase(s, ta);

	TCase *t1 = tcase_create("101");
	tcase_add_test(t1, response_101_roundtrip);
	tcase_add_test(t1, response_101_minimal);
	tcase_add_test(t1, response_101_bad);
	suite_add_tcase(s, t1);

	return s;
}
