/* SPDX-License-Identifier: MIT */
/*
 * http.h — the small HTTP/1.1 head parser and builder used by tls-http.
 *
 * Only what the Simple-VPN handshake needs: one request or response head
 * (start line + headers, no body parsing), parsed in place.  The parser
 * NUL-terminates the pieces inside the caller's buffer, so names and values
 * are plain C strings that live as long as the buffer.  It is pure (no I/O,
 * no allocation) so it can be unit-tested from raw bytes.
 */
#ifndef TLS_HTTP_HTTP_H
#define TLS_HTTP_HTTP_H
#include <stddef.h>
#include <string.h>

struct http_header {
	const char *name;  /* as received; compare case-insensitively */
	const char *value; /* optional whitespace trimmed */
};

struct http_msg {
	/* request */
	const char *method;
	const char *target;
	/* response */
	int status;
	const char *reason;
	/* both */
	int minor;               /* HTTP/1.minor */
	struct http_header *hdrs; /* caller's array */
	size_t n_hdrs;
	size_t head_len;         /* bytes of the head, terminating blank line included */
};

enum http_result {
	HTTP_DONE = 0,     /* a complete, valid head */
	HTTP_MORE,         /* no end of head yet and still under the limit */
	HTTP_BAD,          /* malformed: 400 */
	HTTP_TOO_BIG,      /* head longer than max_head: 431 */
	HTTP_TOO_MANY,     /* more than max_hdrs headers: 431 */
};

/* An RFC 9110 token character (tchar): methods, header names, auth
 * schemes, and what Forwarded and CONNECT targets may hold.  Inline so
 * code that needs nothing else of HTTP (fwd.c) links without http.c. */
static inline int http_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Are the n bytes at s all tchars (a token when n > 0)? */
static inline int http_is_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!http_is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Length of the head (through the blank line; CRLF or bare LF) in
 * buf[0..len), or 0 if it is not complete yet. */
size_t http_head_end(const char *buf, size_t len);

/*
 * Parse a request (is_response = 0) or a response head at the start of
 * buf[0..len).  buf is modified (line ends become NUL).  hdrs has room for
 * max_hdrs entries.  On HTTP_MORE nothing was modified, so call again with
 * more bytes.  Bytes after m->head_len are not part of the head (body or,
 * after an upgrade, stream data).
 */
enum http_result http_parse(char *buf, size_t len, int is_response, size_t max_head,
			    struct http_header *hdrs, size_t max_hdrs, struct http_msg *m);

/* A status line, "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 4), as a C
 * string: 0 with minor, status (100..599) and reason (inside line, maybe
 * ""); -1 if it does not start with "HTTP/1.x " and three more bytes,
 * -2 for a bad status code.  Shared by http_parse and the CONNECT answer
 * parser (httpconnect.c). */
int http_status_line(const char *line, int *minor, int *status, const char **reason);

/* First value of header `name` (case-insensitive), or NULL. */
const char *http_get(const struct http_msg *m, const char *name);
/* Does any `name` header carry `token` in its comma-separated list
 * (case-insensitive)?  For Connection: keep-alive, Upgrade. */
int http_has_token(const struct http_msg *m, const char *name, const char *token);

/* Standard reason phrase for the statuses we send. */
const char *http_reason(int status);

/*
 * Build a complete response: status line, `extra` (zero or more full
 * "Name: value\r\n" lines, may be NULL), Content-Length and
 * Connection: close when body != NULL, then the body.  Returns the length,
 * or 0 if it does not fit in cap.
 */
size_t http_build_response(char *out, size_t cap, int status, const char *extra, const char *body);

/* Standard base64 (RFC 4648, with padding).  Decode returns the decoded
 * length or -1 on bad input / not enough room; out is NUL-terminated. */
long http_b64_decode(const char *in, size_t inlen, char *out, size_t cap);
size_t http_b64_encode(const void *in, size_t inlen, char *out, size_t cap);

/* Parse "Basic <b64(user:pass)>" into user/pass (NUL-terminated).
 * 0 or -1 (wrong scheme, bad base64, no colon, empty user, too long,
 * control characters). */
int http_basic_decode(const char *value, char *user, size_t ucap, char *pass, size_t pcap);

#endif
