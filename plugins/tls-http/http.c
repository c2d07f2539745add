/* SPDX-License-Identifier: MIT */
/*
 * http.c — HTTP/1.1 head parsing and building for the tls-http handshake.
 *
 * Deliberately strict: this parser faces the Internet before any
 * authentication, so anything ambiguous (obsolete line folding, a space
 * before the colon, control characters, stray CRs) is refused with 400
 * rather than guessed at.  Bare LF line ends are accepted because RFC 9112
 * allows it and some hand-written clients send them.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

size_t http_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Split off the next line at *p (limit end): NUL-terminates it, strips the
 * CR of a CRLF, advances *p.  A CR anywhere else makes the line invalid. */
static char *next_line(char **p, char *end, int *bad)
{
	char *line = *p;
	char *nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl) {
		*bad = 1;
		return NULL;
	}
	*p = nl + 1;
	if (nl > line && nl[-1] == '\r')
		nl--;
	*nl = '\0';
	if (strchr(line, '\r'))
		*bad = 1;
	return line;
}

static enum http_result parse_version(const char *v, int *minor)
{
	if (strncmp(v, "HTTP/1.", 7) != 0 || v[7] < '0' || v[7] > '9')
		return HTTP_BAD;
	*minor = v[7] - '0';
	return HTTP_DONE;
}

static enum http_result parse_request_line(char *line, struct http_msg *m)
{
	char *sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line)
		return HTTP_BAD;
	*sp1 = '\0';
	if (!http_is_token(line, (size_t)(sp1 - line)))
		return HTTP_BAD;
	char *target = sp1 + 1;
	char *sp2 = strchr(target, ' ');
	if (!sp2 || sp2 == target)
		return HTTP_BAD;
	*sp2 = '\0';
	for (char *c = target; *c; c++)
		if (is_ctl((unsigned char)*c))
			return HTTP_BAD;
	const char *ver = sp2 + 1;
	if (strlen(ver) != 8 || parse_version(ver, &m->minor) != HTTP_DONE)
		return HTTP_BAD;
	m->method = line;
	m->target = target;
	return HTTP_DONE;
}

int http_status_line(const char *line, int *minor, int *status, const char **reason)
{
	if (strlen(line) < 12 || parse_version(line, minor) != HTTP_DONE || line[8] != ' ')
		return -1;
	const char *d = line + 9;
	if (d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
		return -2;
	if (d[3] != '\0' && d[3] != ' ')
		return -2;
	*status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	*reason = d[3] ? d + 4 : d + 3;
	return 0;
}

static enum http_result parse_header(char *line, struct http_header *h)
{
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return HTTP_BAD;
	*colon = '\0';
	/* The name must be a token: this also rejects "Name : v" (RFC 9112
	 * 5.1 says a server MUST reject whitespace before the colon). */
	if (!http_is_token(line, (size_t)(colon - line)))
		return HTTP_BAD;
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	char *e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	for (char *c = v; *c; c++)
		if (is_ctl((unsigned char)*c) && *c != '\t')
			return HTTP_BAD;
	h->name = line;
	h->value = v;
	return HTTP_DONE;
}

enum http_result http_parse(char *buf, size_t len, int is_response, size_t max_head,
			    struct http_header *hdrs, size_t max_hdrs, struct http_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->hdrs = hdrs;
	size_t end = http_head_end(buf, len < max_head ? len : max_head);
	if (!end)
		return len >= max_head ? HTTP_TOO_BIG : HTTP_MORE;
	/* Set before any refusal: callers (hs_decide's head_len) rely on it
	 * for every complete head, malformed ones included. */
	m->head_len = end;
	/* A NUL byte would silently truncate a field below: refuse it. */
	if (memchr(buf, '\0', end))
		return HTTP_BAD;

	char *p = buf, *stop = buf + end;
	int bad = 0;
	char *line = next_line(&p, stop, &bad);
	if (bad || !line || !*line)
		return HTTP_BAD;
	enum http_result r;
	if (is_response)
		r = http_status_line(line, &m->minor, &m->status, &m->reason) ? HTTP_BAD : HTTP_DONE;
	else
		r = parse_request_line(line, m);
	if (r != HTTP_DONE)
		return r;
	for (;;) {
		line = next_line(&p, stop, &bad);
		if (bad || !line)
			return HTTP_BAD;
		if (!*line)
			break; /* the blank line */
		if (*line == ' ' || *line == '\t')
			return HTTP_BAD; /* obsolete line folding */
		if (m->n_hdrs >= max_hdrs)
			return HTTP_TOO_MANY;
		r = parse_header(line, &hdrs[m->n_hdrs]);
		if (r != HTTP_DONE)
			return r;
		m->n_hdrs++;
	}
	return HTTP_DONE;
}

const char *http_get(const struct http_msg *m, const char *name)
{
	for (size_t i = 0; i < m->n_hdrs; i++)
		if (strcasecmp(m->hdrs[i].name, name) == 0)
			return m->hdrs[i].value;
	return NULL;
}

int http_has_token(const struct http_msg *m, const char *name, const char *token)
{
	size_t tlen = strlen(token);
	for (size_t i = 0; i < m->n_hdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) != 0)
			continue;
		const char *p = m->hdrs[i].value;
		while (*p) {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			const char *s = p;
			while (*p && *p != ',')
				p++;
			const char *e = p;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if ((size_t)(e - s) == tlen && strncasecmp(s, token, tlen) == 0)
				return 1;
		}
	}
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

size_t http_build_response(char *out, size_t cap, int status, const char *extra, const char *body)
{
	int n;
	if (body)
		n = snprintf(out, cap,
			     "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			     status, http_reason(status), extra ? extra : "", strlen(body), body);
	else
		n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%s\r\n", status, http_reason(status),
			     extra ? extra : "");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	return p ? (int)(p - b64chars) : -1;
}

long http_b64_decode(const char *in, size_t inlen, char *out, size_t cap)
{
	size_t o = 0;
	if (inlen % 4)
		return -1;
	for (size_t i = 0; i < inlen; i += 4) {
		int last = i + 4 == inlen;
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after '=' */
				return -1;
			if ((v[k] = b64val(c)) < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		int nout = 3 - pad;
		if (o + (size_t)nout + 1 > cap)
			return -1;
		out[o++] = (char)(w >> 16);
		if (nout > 1)
			out[o++] = (char)(w >> 8);
		if (nout > 2)
			out[o++] = (char)w;
	}
	if (o + 1 > cap)
		return -1;
	out[o] = '\0';
	return (long)o;
}

size_t http_b64_encode(const void *in, size_t inlen, char *out, size_t cap)
{
	const unsigned char *s = in;
	size_t o = 0;
	if (cap < (inlen + 2) / 3 * 4 + 1)
		return 0;
	for (size_t i = 0; i < inlen; i += 3) {
		uint32_t w = (uint32_t)s[i] << 16;
		if (i + 1 < inlen)
			w |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < inlen)
			w |= s[i + 2];
		out[o++] = b64chars[(w >> 18) & 63];
		out[o++] = b64chars[(w >> 12) & 63];
		out[o++] = i + 1 < inlen ? b64chars[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < inlen ? b64chars[w & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int http_basic_decode(const char *value, char *user, size_t ucap, char *pass, size_t pcap)
{
	char dec[512];
	if (!value || strncasecmp(value, "Basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
		return -1;
	const char *p = value + 5;
	while (*p == ' ' || *p == '\t')
		p++;
	long n = http_b64_decode(p, strlen(p), dec, sizeof(dec));
	if (n <= 0 || memchr(dec, '\0', (size_t)n))
		goto fail;
	for (long i = 0; i < n; i++)
		if (is_ctl((unsigned char)dec[i]))
			goto fail;
	char *colon = strchr(dec, ':');
	if (!colon || colon == dec)
		goto fail;
	*colon = '\0';
	size_t ul = (size_t)(colon - dec), pl = strlen(colon + 1);
	if (ul + 1 > ucap || pl + 1 > pcap)
		goto fail;
	memcpy(user, dec, ul + 1);
	memcpy(pass, colon + 1, pl + 1);
	explicit_bzero(dec, sizeof(dec));
	return 0;
fail:
	explicit_bzero(dec, sizeof(dec));
	return -1;
}
