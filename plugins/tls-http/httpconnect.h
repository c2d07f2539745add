/* SPDX-License-Identifier: MIT */
/*
 * httpconnect.h — an HTTP proxy's answer to `CONNECT host:port`, read by
 * a client before TLS starts through the tunnel.  Pure code: no sockets,
 * no allocation.
 *
 * Incremental byte by byte: hc_feed() takes whatever arrived and says how
 * many of those bytes belong to the answer.  It never takes a byte past
 * the blank line that ends the answer: what follows is the server's TLS
 * and must reach OpenSSL (the caller peeks, feeds, then consumes exactly
 * the bytes taken).  Interim 1xx answers before the final one are
 * skipped; the whole, interim answers included, is bounded by HC_MAX.
 */
#ifndef TLS_HTTP_HTTPCONNECT_H
#define TLS_HTTP_HTTPCONNECT_H
#include <stddef.h>
#include <stdint.h>

#define HC_MAX 8192     /* bytes of answer heads, 1xx included */
#define HC_LINE 1024    /* one status or header line */
#define HC_FIELDS 64    /* header fields of one answer */

enum hc_result {
	HC_MORE = 0,  /* a valid prefix: feed more */
	HC_DONE = 1,  /* the final answer's head is complete */
	HC_BAD = -1,  /* not an acceptable answer: why says why */
};

struct hc_parser {
	/* the answer, once HC_DONE */
	int status;               /* 100..599 */
	char reason[128];         /* the reason phrase, control bytes as '?' */
	int auth_basic;           /* a Proxy-Authenticate offers Basic */
	int auth_other;           /* a Proxy-Authenticate offers another scheme */
	const char *why;          /* HC_BAD: a short reason (a literal) */

	/* parser state */
	size_t total;             /* bytes taken so far (<= HC_MAX) */
	int in_head;              /* 0: status line next; 1: header fields */
	int fields;
	int cr;                   /* the previous byte was CR */
	int done;                 /* HC_DONE or HC_BAD reached: sticky */
	size_t len;
	char line[HC_LINE];
};

void hc_init(struct hc_parser *p);
/* Take bytes of buf (n) until the answer's head ends or the bytes run
 * out; *used gets how many were taken (never one past the blank line). */
enum hc_result hc_feed(struct hc_parser *p, const uint8_t *buf, size_t n, size_t *used);

/* Format `CONNECT host:port HTTP/1.1` with Host (and Proxy-Authorization:
 * Basic base64(auth) when auth, "user:password", is not NULL) into out.
 * An IPv6 host gets brackets.  Length written, or 0 if it does not fit. */
size_t hc_request(char *out, size_t cap, const char *host, const char *port, const char *auth);

#endif
