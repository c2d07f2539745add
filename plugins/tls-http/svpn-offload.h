/* SPDX-License-Identifier: MIT */
/*
 * svpn-offload.h — the offload agreement of two tunpipe peers (README
 * "Offloads"): the client offers `Simple-VPN-Offload: tso` in its GET, the
 * server that agrees echoes it in the 101, and both then mark the session
 * TP_SI_SUPER so super-packets cross the stream whole.  A peer that does
 * not know the header (the article's Simple-VPN peer) ignores it and never
 * sends it, so it keeps getting plain packets.
 *
 * Header-only so the handshake's unit tests and the fuzz target parse with
 * the plugin's own code.
 */
#ifndef TH_SVPN_OFFLOAD_H
#define TH_SVPN_OFFLOAD_H
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define TH_OFFLOAD_HEADER "Simple-VPN-Offload"
#define TH_OFFLOAD_TOKEN "tso"
#define TH_OFFLOAD_MAX 128      /* a longer value is refused as a whole */
#define TH_OFFLOAD_TOKEN_MAX 32

/*
 * The value of a Simple-VPN-Offload header: a comma-separated list of
 * tokens ([A-Za-z0-9-], 1..32 chars, spaces or tabs around commas).
 * 1: it names "tso" (any case); 0: absent (NULL) or no "tso" (a token of a
 * later version we do not know is fine); -1: malformed (a bad character,
 * an empty or overlong token, an overlong value) — treated as no offer.
 */
static inline int th_offload_parse(const char *v)
{
	size_t n, i = 0, tl;
	int found = 0;

	if (!v)
		return 0;
	n = strnlen(v, TH_OFFLOAD_MAX + 1);
	if (n > TH_OFFLOAD_MAX)
		return -1;
	for (;;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (tl = 0; i + tl < n; tl++) {
			char ch = v[i + tl];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-'))
				break;
		}
		if (tl == 0 || tl > TH_OFFLOAD_TOKEN_MAX)
			return -1;
		if (tl == sizeof(TH_OFFLOAD_TOKEN) - 1 && strncasecmp(v + i, TH_OFFLOAD_TOKEN, tl) == 0)
			found = 1;
		i += tl;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n)
			return found;
		if (v[i] != ',')
			return -1;
		i++;
	}
}

/* Insert our header before the blank line that ends the head of an HTTP
 * message of len bytes in buf (cap bytes): the new length, or 0 when it
 * does not fit or buf does not end the way every message we build ends. */
static inline size_t th_offload_append(char *buf, size_t len, size_t cap)
{
	static const char h[] = TH_OFFLOAD_HEADER ": " TH_OFFLOAD_TOKEN "\r\n\r\n";

	if (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0 || len - 2 + sizeof(h) - 1 > cap)
		return 0;
	memcpy(buf + len - 2, h, sizeof(h) - 1);
	return len - 2 + sizeof(h) - 1;
}

#endif
