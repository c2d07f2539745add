/* SPDX-License-Identifier: MIT */
/*
 * fuzz_answer.c — libFuzzer target for the whole of what the client does
 * with a server's answer before anything reaches the TUN device:
 * http_parse() as a response, hs_parse_101(), the bounds of svpn-check.c
 * (th_check_101), Retry-After and the escaping of the server's text.
 *
 * Input: byte 0 = min_prefix (mod 33), byte 1 = min_prefix6 (low 7 bits,
 * mod 129; the high bit puts a valid 101 status line with Connection and
 * Upgrade in front, so the fuzzer reaches the address checks at once),
 * bytes 2-5 = the server's IPv4 address as the socket would see it, the
 * rest = the server's bytes (copied into a heap block of its exact size so
 * ASan sees any read past them).  Beyond "no crash", abort() when:
 *   - a 101 passes the check but assigns no address, or an address that
 *     is not unicast, shorter than the minimum, or (IPv4) covers the
 *     server's address — a 101 with only Simple-VPN-Address6 (an IPv6-only
 *     tunnel) is a valid answer;
 *   - the escaped text holds a byte outside printable ASCII;
 *   - Retry-After comes out outside 0 .. 86400.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_HEADERS 64
#define FZ_PREFIX "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: Simple-VPN\r\n"

static void fz_fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_answer: %s (input of %zu bytes)\n", what, size);
	abort();
}

static int covers4(const struct tp_prefix *p, const uint8_t *a)
{
	uint32_t x, y, mask = p->plen ? (uint32_t)~0u << (32 - p->plen) : 0;
	memcpy(&x, p->addr, 4);
	memcpy(&y, a, 4);
	return ((ntohl(x) ^ ntohl(y)) & mask) == 0;
}

static void check_escape(const char *s, size_t size)
{
	char out[300];
	th_escape(out, sizeof(out), s, strlen(s));
	for (const char *o = out; *o; o++)
		if (*o < 0x20 || *o >= 0x7f)
			fz_fail("th_escape let a control byte through", size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header hdrs[FZ_HEADERS];
	struct http_msg m;
	struct tp_session_info info;
	struct th_server_addr srv = { .family = AF_INET };
	char stack[128], err[200];
	unsigned min4, min6;

	if (size < 6)
		return 0;
	min4 = data[0] % 33;
	min6 = (data[1] & 0x7f) % 129u;
	const char *pre = (data[1] & 0x80) ? FZ_PREFIX : "";
	memcpy(srv.addr, data + 2, 4);
	size -= 6;
	data += 6;
	/* http_parse may write terminators into the head, as the client's
	 * head buffer allows: parse a private copy. */
	size_t pl = strlen(pre);
	char *buf = malloc(pl + size ? pl + size : 1);
	if (!buf)
		return 0;
	memcpy(buf, pre, pl);
	memcpy(buf + pl, data, size);
	size += pl;
	if (http_parse(buf, size, 1, size, hdrs, FZ_HEADERS, &m) != HTTP_DONE)
		goto out;
	if (m.reason)
		check_escape(m.reason, size);
	long ra = th_retry_after(&m);
	if (ra < -1 || ra > 86400)
		fz_fail("Retry-After out of range", size);
	if (m.status != 101)
		goto out;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (hs_parse_101(&m, &info, stack, sizeof(stack), err, sizeof(err)) < 0) {
		check_escape(err, size);
		goto out;
	}
	if (th_check_101(&m, &info, &srv, min4, min6, err, sizeof(err)) < 0) {
		check_escape(err, size);
		goto out;
	}
	/* An IPv6-only tunnel's 101 carries no IPv4 address (svpn-check.c
	 * accepts it); an accepted answer always assigns one family at least. */
	if (info.addr4.family != AF_INET && info.addr6.family != AF_INET6)
		fz_fail("accepted a 101 that assigns no address", size);
	if (info.addr4.family == AF_INET) {
		const uint8_t *a = info.addr4.addr;
		if (info.addr4.plen < min4 || info.addr4.plen > 32)
			fz_fail("accepted an IPv4 prefix out of bounds", size);
		if (a[0] == 0 || a[0] == 127 || a[0] >= 224 || (a[0] == 169 && a[1] == 254))
			fz_fail("accepted a non-unicast IPv4 address", size);
		if (covers4(&info.addr4, srv.addr))
			fz_fail("accepted an address covering the server", size);
	} else if (info.addr4.family != 0) {
		fz_fail("accepted an IPv4 address of another family", size);
	}
	if (info.addr6.family == AF_INET6) {
		const uint8_t *b = info.addr6.addr;
		if (info.addr6.plen < min6 || info.addr6.plen > 128)
			fz_fail("accepted an IPv6 prefix out of bounds", size);
		if (b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
			fz_fail("accepted a multicast or link-local IPv6 address", size);
	} else if (info.addr6.family != 0) {
		fz_fail("accepted an IPv6 address of another family", size);
	}
out:
	free(buf);
	return 0;
}
