/* SPDX-License-Identifier: MIT */
/*
 * proxyproto.h — the PROXY protocol header (HAProxy's, versions 1 and 2)
 * that a TCP proxy sends before the client's bytes, telling who the
 * client is.  Pure code: no sockets, no allocation.
 *
 * "Incremental" the simple way: the caller peeks at what has arrived so
 * far and calls pp_parse() on it each time; the parser answers "need
 * more", "bad" (with why), or "done" with the header's exact length, so
 * the caller then consumes exactly that many bytes and the TLS
 * ClientHello behind it stays untouched in the socket.
 */
#ifndef TLS_HTTP_PROXYPROTO_H
#define TLS_HTTP_PROXYPROTO_H
#include <stddef.h>
#include <stdint.h>

#define PP_V1_MAX 107          /* the v1 line, CRLF included (the spec's bound) */
#define PP_V2_HEAD 16          /* signature, version/command, family, length */
/* Addresses (216 at most, AF_UNIX) plus room for the TLVs proxies add
 * (ALPN, authority, SSL info): a longer v2 header is refused. */
#define PP_V2_MAX (PP_V2_HEAD + 1024)
#define PP_MAX PP_V2_MAX       /* what a caller needs to peek at most */

enum { PP_V1 = 1, PP_V2 = 2, PP_ANY = 3 }; /* versions accepted (bit mask) */

enum pp_result {
	PP_MORE = 0,  /* a valid prefix so far: wait for more bytes */
	PP_DONE = 1,  /* a complete header of out->len bytes */
	PP_BAD = -1,  /* not a (wanted) PROXY header: out->why says why */
};

struct pp_header {
	size_t len;        /* bytes the header takes */
	int version;       /* 1 or 2 */
	/* 1: the addresses below are the real client and the address it
	 * connected to; 0: LOCAL (v2), UNKNOWN (v1) or a family we do not
	 * take (AF_UNIX): keep the socket's own address. */
	int has_addr;
	int family;        /* AF_INET or AF_INET6 when has_addr */
	uint8_t src[16], dst[16];  /* network order; IPv4 in the first 4 */
	uint16_t src_port, dst_port; /* host order */
	const char *why;   /* PP_BAD: a short reason (a literal) */
};

/* Parse the start of `buf` (n bytes) as a PROXY header of one of the
 * versions in `versions` (PP_V1|PP_V2). */
enum pp_result pp_parse(const uint8_t *buf, size_t n, int versions, struct pp_header *out);

#endif
