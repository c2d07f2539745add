/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c — libFuzzer target for the tls-http handshake parsers: the
 * code that reads what an unauthenticated peer sends.
 *
 * Byte 0 picks the mode, the rest is the peer's bytes:
 *   bit 0 = 0  server side: the input is a client's upgrade request fed to
 *              hs_decide(); with bit 1 set it comes after a fixed request
 *              line and valid credentials, so the fuzzer reaches the
 *              post-authentication checks (Upgrade tokens, stack) at once.
 *              bits 2-3 pick max_request/max_headers (small limits reach
 *              the 431 paths).
 *   bit 0 = 1  client side: the input is the server's answer, parsed with
 *              http_parse() and, for a 101, hs_parse_101().
 * Each input is copied into a heap block of its exact size, so ASan sees
 * any read past the peer's bytes.  Beyond "no crash", the target checks
 * properties and abort()s when one breaks:
 *   - the decision on any prefix that already holds a complete head equals
 *     the decision on the whole input (bytes after the head never matter);
 *   - only the statuses the server sends come out; user and stack strings
 *     are printable; a non-101 decision has an error answer that fits;
 *   - a 101 that parses, rebuilt with hs_build_101() and parsed again,
 *     gives the very same session information (addresses, MTU, routes, DNS);
 *   - Basic credentials that decode re-encode and decode to the same pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "auth.h"
#include "handshake.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One user "u" with password "p"; SHA-512 crypt at its minimum cost ($5$ counts as legacy) so a
 * login attempt does not dominate the run. */
#define FZ_HASH "$6$rounds=1000$fuzzsalt$6xqUEi8SzVvxm4Lw/a3S8jaTmtPTQoJq6xARwPmbbLMMMikHhJBl0zO5wOs1wYM9ZnvJfEq7Eujy4Ag.TxGqK1"
#define FZ_PREFIX "GET /vpn HTTP/1.1\r\nAuthorization: Basic dTpw\r\n" /* u:p */
#define FZ_STACK "framer-ip"

static struct auth_db *fz_users;

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_http: %s (input of %zu bytes)\n", what, size);
	abort();
}

static void fz_load_users(void)
{
	char path[] = "/tmp/fuzz_http_users.XXXXXX", err[256];
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, "u:" FZ_HASH "\n", sizeof("u:" FZ_HASH "\n") - 1) < 0) {
		perror("fuzz_http: users file");
		abort();
	}
	close(fd);
	fz_users = auth_load(path, err, sizeof(err));
	unlink(path);
	if (!fz_users) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
}

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* hs_decide on a private, exactly sized copy (it writes into the buffer). */
static void fz_decide(const char *in, size_t len, const struct hs_params *p, struct hs_request *r)
{
	char *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	memcpy(buf, in, len);
	hs_decide(buf, len, p, r);
	free(buf);
}

static void fz_server(const char *in, size_t len, unsigned mode, size_t size)
{
	static const size_t max_req[4] = { 8192, 8192, 64, 200 };
	static const size_t max_hdr[4] = { 64, 2, 64, 300 };
	struct hs_params p = {
		.path = "/vpn", .realm = "tunpipe", .stack = FZ_STACK,
		.max_request = max_req[(mode >> 2) & 3], .max_headers = max_hdr[(mode >> 2) & 3],
		.users = fz_users,
	};
	struct hs_request r, rp;
	static char answer[16384];

	fz_decide(in, len, &p, &r);
	switch (r.status) {
	case 0: case 101: case 400: case 401: case 404: case 405: case 409: case 426: case 431:
		break;
	default:
		fz_fail("hs_decide gave a status the server never sends", size);
	}
	if (!printable(r.user) || !printable(r.peer_stack))
		fz_fail("user or stack not printable", size);
	if (r.status == 101 && strcmp(r.peer_stack, FZ_STACK) != 0)
		fz_fail("101 with a different stack", size);
	if (r.status && r.status != 431 && (r.head_len == 0 || r.head_len > len))
		fz_fail("head_len outside the input", size);
	if (r.status && r.status != 101 && !hs_error_response(answer, sizeof(answer), &p, &r))
		fz_fail("the error answer does not fit one record", size);

	/* Prefixes: once the head is complete the rest must not matter. */
	for (size_t cut = 1; cut < len; cut += 1 + cut / 4) {
		fz_decide(in, cut, &p, &rp);
		if (rp.status && rp.status != r.status) {
			fprintf(stderr, "prefix of %zu bytes: %d, whole input: %d\n", cut, rp.status,
				r.status);
			fz_fail("a prefix with a complete head decided differently", size);
		}
	}
}

static int same_prefix(const struct tp_prefix *a, const struct tp_prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static int same_info(const struct tp_session_info *a, const struct tp_session_info *b)
{
	if (!same_prefix(&a->addr4, &b->addr4) || !same_prefix(&a->gw4, &b->gw4) ||
	    a->addr6.family != b->addr6.family || a->gw6.family != b->gw6.family ||
	    a->mtu != b->mtu || a->n_routes != b->n_routes || a->n_dns != b->n_dns)
		return 0;
	if (a->addr6.family && !same_prefix(&a->addr6, &b->addr6))
		return 0;
	if (a->gw6.family && !same_prefix(&a->gw6, &b->gw6))
		return 0;
	for (uint32_t i = 0; i < a->n_routes; i++)
		if (!same_prefix(&a->routes[i], &b->routes[i]))
			return 0;
	for (uint32_t i = 0; i < a->n_dns; i++)
		if (!same_prefix(&a->dns[i], &b->dns[i]))
			return 0;
	return 1;
}

/* Parse a response head in buf[0..len) and, for a 101, its session info. */
static int fz_parse_101(char *buf, size_t len, struct tp_session_info *info, char *stack,
			size_t stack_cap, size_t size)
{
	struct http_header hdrs[64];
	struct http_msg m;
	char err[160];

	if (http_parse(buf, len, 1, 16384, hdrs, 64, &m) != HTTP_DONE)
		return -1;
	if (m.status < 100 || m.status > 599 || m.head_len > len || m.n_hdrs > 64)
		fz_fail("http_parse: status, head_len or header count out of range", size);
	for (size_t i = 0; i < m.n_hdrs; i++) {
		char user[64], pass[256];
		if (strcasecmp(hdrs[i].name, "Authorization") != 0 ||
		    http_basic_decode(hdrs[i].value, user, sizeof(user), pass, sizeof(pass)) < 0)
			continue;
		/* Credentials that decode must survive a round trip. */
		char b64[512], again[300], u2[64], p2[256];
		int n = snprintf(again, sizeof(again), "%s:%s", user, pass);
		size_t bl = strlen("Basic ");
		memcpy(b64, "Basic ", bl);
		if (n < 0 || (size_t)n >= sizeof(again) ||
		    !http_b64_encode(again, (size_t)n, b64 + bl, sizeof(b64) - bl))
			continue;
		if (http_basic_decode(b64, u2, sizeof(u2), p2, sizeof(p2)) < 0 ||
		    strcmp(user, u2) != 0 || strcmp(pass, p2) != 0)
			fz_fail("Basic credentials do not round-trip", size);
	}
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (hs_parse_101(&m, info, stack, stack_cap, err, sizeof(err)) < 0)
		return -1;
	if (info->addr4.family != AF_INET || info->addr4.plen > 32 || info->gw4.family != AF_INET ||
	    info->n_routes > TP_MAX_ROUTES || info->n_dns > TP_MAX_DNS ||
	    (info->mtu && (info->mtu < 576 || info->mtu > 65535)) || !printable(stack))
		fz_fail("hs_parse_101 accepted out-of-range values", size);
	return 0;
}

static void fz_client(const char *in, size_t len, size_t size)
{
	struct tp_session_info info, info2;
	char stack[128], stack2[128];
	static char built[16384];
	char *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	memcpy(buf, in, len);
	if (fz_parse_101(buf, len, &info, stack, sizeof(stack), size) == 0) {
		size_t bl = hs_build_101(built, sizeof(built), &info, stack);
		if (!bl)
			fz_fail("hs_build_101 cannot rebuild what hs_parse_101 accepted", size);
		if (fz_parse_101(built, bl, &info2, stack2, sizeof(stack2), size) < 0)
			fz_fail("our own 101 does not parse", size);
		if (!same_info(&info, &info2) || strcmp(stack, stack2) != 0)
			fz_fail("101 parse/build/parse changed the session information", size);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[16384 + sizeof(FZ_PREFIX)];
	size_t len, off = 0;
	unsigned mode;

	if (!fz_users)
		fz_load_users();
	if (size < 1 || size > 16384)
		return 0;
	mode = data[0];
	if (mode & 1) {
		fz_client((const char *)data + 1, size - 1, size);
		return 0;
	}
	if (mode & 2) {
		memcpy(in, FZ_PREFIX, sizeof(FZ_PREFIX) - 1);
		off = sizeof(FZ_PREFIX) - 1;
	}
	memcpy(in + off, data + 1, size - 1);
	len = off + size - 1;
	fz_server(in, len, mode, size);
	return 0;
}
