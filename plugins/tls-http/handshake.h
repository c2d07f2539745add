/* SPDX-License-Identifier: MIT */
/*
 * handshake.h — the Simple-VPN upgrade handshake, as pure functions over
 * bytes: the server's decision on a request (which HTTP answer, and why)
 * and building/parsing the 101 answer.  No sockets, no OpenSSL, so every
 * answer can be unit-tested from raw request bytes.
 */
#ifndef TLS_HTTP_HANDSHAKE_H
#define TLS_HTTP_HANDSHAKE_H
#include <stddef.h>
#include <tunpipe/plugin.h>
#include "http.h"

struct auth_db;

#define HS_DEFAULT_STACK "framer-ip" /* what a peer without Simple-VPN-Stack speaks */

struct hs_params {
	const char *path;             /* "/vpn" */
	const char *realm;
	const char *stack;            /* our host->stack() */
	size_t max_request;           /* bytes of request line + headers */
	size_t max_headers;
	const struct auth_db *users;
};

struct hs_request {
	int status;            /* 0: need more bytes; 101: accept; else the error to send */
	const char *why;       /* for the log; never contains the password */
	char user[64];         /* from Authorization, once decoded */
	char peer_stack[128];  /* the client's stack (sanitised, maybe truncated) */
	size_t head_len;       /* bytes of the request head when status != 0 */
	int need_auth;         /* hs_decide_deferred: credentials await a check */
	unsigned retry_after;  /* 429/503: seconds for Retry-After (0: none) */
	int offload;           /* the client offered Simple-VPN-Offload: tso */
};

/* Decide on the request at buf[0..len).  buf is modified once complete. */
void hs_decide(char *buf, size_t len, const struct hs_params *p, struct hs_request *r);

/*
 * The same decision without the expensive password check, for a server
 * that runs it elsewhere: when the request carries well-formed Basic
 * credentials, the password is copied to pass (cap bytes; wipe it after
 * use), r->need_auth is set, and r->status is what the answer will be if
 * the password matches (101, 426 or 409).  Call hs_auth_result() with the
 * check's outcome to get the final answer.  Without credentials, or for
 * an earlier error, need_auth is 0 and r is final.
 */
void hs_decide_deferred(char *buf, size_t len, const struct hs_params *p, struct hs_request *r,
			char *pass, size_t cap);
/* ok == 0 turns a pending decision into 401; clears need_auth. */
void hs_auth_result(struct hs_request *r, int ok);

/* The full HTTP error response for r->status (not 101).  Returns its
 * length, 0 if cap is too small. */
size_t hs_error_response(char *out, size_t cap, const struct hs_params *p, const struct hs_request *r);

/* The 101 answer carrying info (addresses, MTU, routes, DNS) and stack. */
size_t hs_build_101(char *out, size_t cap, const struct tp_session_info *info, const char *stack);

/* The client's request. */
size_t hs_build_request(char *out, size_t cap, const char *host_hdr, const char *path,
			const char *user, const char *pass, const char *stack);

/*
 * Client side: check a parsed 101 response and fill info (flags untouched)
 * and peer_stack (HS_DEFAULT_STACK when absent).  -1 with err on a missing
 * or malformed Simple-VPN-Address/Gateway or a bad optional header.
 */
int hs_parse_101(const struct http_msg *m, struct tp_session_info *info, char *peer_stack,
		 size_t stack_cap, char *err, size_t errlen);

/* "10.0.0.2/24", "fd00::1" (plen = 32/128 when absent and allow_plen) */
int hs_parse_prefix(const char *s, int allow_plen, struct tp_prefix *out);
/* The same for n bytes at s (not NUL-terminated): "/LEN" only with
 * HS_PFX_LEN, the address in brackets ("[fd00::]/8") only with
 * HS_PFX_BRACKETS.  Also trusted_proxies' and no_proxy's entries. */
#define HS_PFX_LEN 1
#define HS_PFX_BRACKETS 2
int hs_prefix_parse(const char *s, size_t n, int flags, struct tp_prefix *out);
/* Is addr (4 or 16 bytes of family) inside p? */
int hs_prefix_has(const struct tp_prefix *p, int family, const uint8_t *addr);
/* Text form; with_plen adds "/N". */
void hs_format_prefix(const struct tp_prefix *p, int with_plen, char *out, size_t cap);

#endif
