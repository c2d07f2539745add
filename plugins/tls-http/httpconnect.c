/* SPDX-License-Identifier: MIT */
/*
 * httpconnect.c — the proxy's answer to CONNECT (see httpconnect.h).
 *
 * Strict on purpose (RFC 9112): lines end in CRLF (a bare CR or LF is
 * refused: a proxy that frames lines differently than we do could hide
 * bytes of the tunnel in its head), the status line is
 * `HTTP/1.x SP 3DIGIT [SP reason]`, fields are `token ":" value` without
 * control bytes, no obsolete line folding.  Nothing of a 2xx answer's
 * Content-Length or Transfer-Encoding is honoured (RFC 9110 §9.3.6: the
 * tunnel starts right after the blank line); other answers end the
 * connection, so their body is never read.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "httpconnect.h"
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void hc_init(struct hc_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static enum hc_result bad(struct hc_parser *p, const char *why)
{
	p->why = why;
	p->done = -1;
	return HC_BAD;
}

static enum hc_result status_line(struct hc_parser *p)
{
	const char *reason;
	int minor, status, ret = http_status_line(p->line, &minor, &status, &reason);
	if (ret == -1 || minor > 1) /* minor is set unless -1 */
		return bad(p, "the answer does not start with an HTTP/1.x status line");
	if (ret)
		return bad(p, "bad status code");
	p->status = status;
	size_t i = 0;
	for (const char *r = reason; *r && i + 1 < sizeof(p->reason); r++)
		p->reason[i++] = (unsigned char)*r < 0x20 || (unsigned char)*r >= 0x7f ? '?' : *r;
	p->reason[i] = '\0';
	p->auth_basic = p->auth_other = 0;
	p->fields = 0;
	p->in_head = 1;
	return HC_MORE;
}

/* Proxy-Authenticate: which schemes are offered.  A challenge list is
 * "Scheme params, Scheme params": a word at the start or after a comma
 * not followed by '=' is a scheme. */
static void note_auth(struct hc_parser *p, const char *v)
{
	const char *w = v;
	while (*w) {
		while (*w == ' ' || *w == '\t' || *w == ',')
			w++;
		size_t n = 0;
		while (w[n] && http_is_tchar((unsigned char)w[n]))
			n++;
		if (n && w[n] != '=') {
			if (n == 5 && !strncasecmp(w, "Basic", 5))
				p->auth_basic = 1;
			else
				p->auth_other = 1;
		}
		w = strchr(w + n, ',');
		if (!w)
			break;
	}
}

static enum hc_result field_line(struct hc_parser *p)
{
	char *colon = memchr(p->line, ':', p->len);
	if (p->line[0] == ' ' || p->line[0] == '\t')
		return bad(p, "obsolete header line folding");
	if (!colon || colon == p->line)
		return bad(p, "a header line without a name and colon");
	if (!http_is_token(p->line, (size_t)(colon - p->line)))
		return bad(p, "bad character in a header name");
	for (char *c = colon + 1; c < p->line + p->len; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return bad(p, "control character in a header value");
	if (++p->fields > HC_FIELDS)
		return bad(p, "too many header fields");
	*colon = '\0';
	if (!strcasecmp(p->line, "Proxy-Authenticate"))
		note_auth(p, colon + 1);
	return HC_MORE;
}

/* A complete line (CRLF stripped) is in p->line. */
static enum hc_result line_done(struct hc_parser *p)
{
	p->line[p->len] = '\0';
	if (!p->in_head)
		return status_line(p);
	if (p->len)
		return field_line(p);
	/* The blank line: an interim 1xx is followed by the real answer. */
	if (p->status == 101)
		return bad(p, "101 Switching Protocols is not an answer to CONNECT");
	if (p->status < 200) {
		p->in_head = 0;
		return HC_MORE;
	}
	p->done = 1;
	return HC_DONE;
}

enum hc_result hc_feed(struct hc_parser *p, const uint8_t *buf, size_t n, size_t *used)
{
	size_t i = 0;
	enum hc_result r = HC_MORE;

	if (p->done) {
		*used = 0;
		return p->done > 0 ? HC_DONE : HC_BAD;
	}
	while (i < n && r == HC_MORE) {
		unsigned char ch = buf[i++];
		if (++p->total > HC_MAX) {
			r = bad(p, "the answer's head is too long");
			break;
		}
		if (p->cr) {
			p->cr = 0;
			if (ch != '\n') {
				r = bad(p, "CR without LF");
				break;
			}
			r = line_done(p);
			p->len = 0;
		} else if (ch == '\r') {
			p->cr = 1;
		} else if (ch == '\n') {
			r = bad(p, "LF without CR");
		} else if (ch == '\0') {
			r = bad(p, "NUL byte in the answer");
		} else if (!p->in_head && p->len < 7 && ch != (unsigned char)"HTTP/1."[p->len]) {
			/* not HTTP at all (a TLS server, SSH): say so at once */
			r = bad(p, "the answer does not start with an HTTP/1.x status line");
		} else if (p->len + 1 >= sizeof(p->line)) {
			r = bad(p, "a line of the answer is too long");
		} else {
			p->line[p->len++] = (char)ch;
		}
	}
	*used = i;
	return r;
}

size_t hc_request(char *out, size_t cap, const char *host, const char *port, const char *auth)
{
	char hp[300], b64[700];
	int v6 = strchr(host, ':') != NULL;
	/* Only what a host name or address literal holds: nothing that could
	 * end the request line or add a header. */
	for (const char *h = host; *h; h++)
		if (!http_is_tchar((unsigned char)*h) && *h != ':')
			return 0;
	if (!host[0] || strspn(port, "0123456789") != strlen(port) || !port[0])
		return 0;
	int n = snprintf(hp, sizeof(hp), v6 ? "[%s]:%s" : "%s:%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(hp))
		return 0;
	if (auth) {
		size_t al = strlen(auth);
		if (http_b64_encode(auth, al, b64, sizeof(b64)) == 0) /* 0: too long */
			return 0;
	}
	n = snprintf(out, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", hp, hp,
		     auth ? "Proxy-Authorization: Basic " : "", auth ? b64 : "", auth ? "\r\n" : "");
	if (auth)
		explicit_bzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}
