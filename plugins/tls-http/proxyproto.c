/* SPDX-License-Identifier: MIT */
/*
 * proxyproto.c — the PROXY protocol header parser (proxyproto.h).
 * Strict where strictness costs nothing (single spaces, decimal ports,
 * addresses of the named family) so that a garbled header is refused
 * rather than guessed at; TLVs of v2 are skipped, never read.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "proxyproto.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const char v1_sig[] = "PROXY ";

static enum pp_result bad(struct pp_header *h, const char *why)
{
	h->why = why;
	return PP_BAD;
}

/* One space-separated field of the v1 line starting at *p (before end):
 * its bytes into out (NUL-terminated); 0, or -1 if empty or too long. */
static int v1_field(const char **p, const char *end, char *out, size_t cap)
{
	size_t n = 0;
	while (*p < end && **p != ' ') {
		if (n + 1 >= cap)
			return -1;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	if (*p < end)
		(*p)++; /* the single space */
	return n ? 0 : -1;
}

static int v1_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static enum pp_result parse_v1(const uint8_t *buf, size_t n, struct pp_header *h)
{
	size_t lim = n < PP_V1_MAX ? n : PP_V1_MAX, eol = 0;
	char proto[8], src[48], dst[48], sp[8], dp[8];

	for (size_t i = 0; i < lim; i++) {
		if (buf[i] == '\n') {
			eol = i;
			break;
		}
		/* Printable ASCII only, CR only right before LF: binary
		 * garbage is refused at once instead of at the deadline. */
		if (buf[i] == '\r') {
			if (i + 1 < lim && buf[i + 1] != '\n')
				return bad(h, "v1 header: CR not followed by LF");
		} else if (buf[i] < 0x20 || buf[i] > 0x7e) {
			return bad(h, "v1 header: a control or non-ASCII byte");
		}
	}
	if (!eol)
		return n >= PP_V1_MAX ? bad(h, "v1 header: no CRLF within 107 bytes") : PP_MORE;
	if (buf[eol - 1] != '\r')
		return bad(h, "v1 header: line not ended by CRLF");
	h->version = 1;
	h->len = eol + 1;

	const char *p = (const char *)buf + sizeof(v1_sig) - 1;
	const char *end = (const char *)buf + eol - 1;
	if (v1_field(&p, end, proto, sizeof(proto)) < 0)
		return bad(h, "v1 header: no protocol");
	if (strcmp(proto, "UNKNOWN") == 0)
		return PP_DONE; /* the rest of the line is to be ignored */
	if (strcmp(proto, "TCP4") == 0)
		h->family = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		h->family = AF_INET6;
	else
		return bad(h, "v1 header: protocol not TCP4, TCP6 or UNKNOWN");
	if (v1_field(&p, end, src, sizeof(src)) < 0 || v1_field(&p, end, dst, sizeof(dst)) < 0 ||
	    v1_field(&p, end, sp, sizeof(sp)) < 0 || v1_field(&p, end, dp, sizeof(dp)) < 0 ||
	    p != end || end[-1] == ' ')
		return bad(h, "v1 header: not 'PROXY TCPx SRC DST SPORT DPORT'");
	if (inet_pton(h->family, src, h->src) != 1 || inet_pton(h->family, dst, h->dst) != 1)
		return bad(h, "v1 header: an address not of the named family");
	if (v1_port(sp, &h->src_port) < 0 || v1_port(dp, &h->dst_port) < 0)
		return bad(h, "v1 header: a port not in 0..65535");
	h->has_addr = 1;
	return PP_DONE;
}

static enum pp_result parse_v2(const uint8_t *buf, size_t n, struct pp_header *h)
{
	if (n < PP_V2_HEAD)
		return PP_MORE;
	unsigned ver = buf[12] >> 4, cmd = buf[12] & 0xf;
	unsigned fam = buf[13] >> 4, proto = buf[13] & 0xf;
	size_t len = ((size_t)buf[14] << 8) | buf[15];
	if (ver != 2)
		return bad(h, "v2 header: version not 2");
	if (cmd > 1)
		return bad(h, "v2 header: command neither LOCAL nor PROXY");
	if (PP_V2_HEAD + len > PP_V2_MAX)
		return bad(h, "v2 header: longer than 1040 bytes");
	if (n < PP_V2_HEAD + len)
		return PP_MORE;
	h->version = 2;
	h->len = PP_V2_HEAD + len;
	if (cmd == 0) /* LOCAL: the proxy's own connection (a health check) */
		return PP_DONE;
	if (fam == 0 || fam == 3) /* UNSPEC, AF_UNIX: no address we can use */
		return PP_DONE;
	if (fam > 3)
		return bad(h, "v2 header: unknown address family");
	if (proto != 1)
		return bad(h, "v2 header: not a stream (TCP) connection");
	const uint8_t *a = buf + PP_V2_HEAD;
	size_t alen = fam == 1 ? 4 : 16;
	if (len < 2 * alen + 4)
		return bad(h, "v2 header: addresses shorter than their family needs");
	h->family = fam == 1 ? AF_INET : AF_INET6;
	memcpy(h->src, a, alen);
	memcpy(h->dst, a + alen, alen);
	h->src_port = (uint16_t)((a[2 * alen] << 8) | a[2 * alen + 1]);
	h->dst_port = (uint16_t)((a[2 * alen + 2] << 8) | a[2 * alen + 3]);
	h->has_addr = 1;
	return PP_DONE; /* TLVs after the addresses are skipped */
}

enum pp_result pp_parse(const uint8_t *buf, size_t n, int versions, struct pp_header *out)
{
	memset(out, 0, sizeof(*out));
	size_t k1 = n < sizeof(v1_sig) - 1 ? n : sizeof(v1_sig) - 1;
	size_t k2 = n < sizeof(v2_sig) ? n : sizeof(v2_sig);
	int v1 = (versions & PP_V1) && memcmp(buf, v1_sig, k1) == 0;
	int v2 = (versions & PP_V2) && memcmp(buf, v2_sig, k2) == 0;

	if (n == 0)
		return PP_MORE;
	if (v1 && k1 == sizeof(v1_sig) - 1)
		return parse_v1(buf, n, out);
	if (v2 && k2 == sizeof(v2_sig))
		return parse_v2(buf, n, out);
	if (v1 || v2)
		return PP_MORE;
	return bad(out, versions == PP_V1 ? "no PROXY v1 header"
		   : versions == PP_V2 ? "no PROXY v2 header" : "no PROXY header");
}
