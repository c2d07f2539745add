/* SPDX-License-Identifier: MIT */
/*
 * fuzz_connect.c — an HTTP proxy's answer to CONNECT (httpconnect.c) on
 * arbitrary bytes, and the no_proxy matcher (proxyenv.c).
 *
 * Byte 0 picks the piece size (1..256, 0 = all at once) the answer is
 * fed in; the rest is the proxy's bytes, from an exact-size heap copy so
 * ASan sees any over-read.  Properties, abort() when one breaks:
 *   - the outcome and the bytes taken do not depend on how the input is
 *     split (whole vs. pieces);
 *   - never more taken than given, never more than HC_MAX in all, and a
 *     final answer's head ends exactly in CRLF CRLF (nothing of what
 *     follows it is taken);
 *   - a final answer is 200..599 (never 1xx), a refusal says why;
 *   - the input split at its first comma as (no_proxy list, host) never
 *     crashes, and `*` matches every host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "httpconnect.h"
#include "proxyenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum hc_result run(struct hc_parser *p, const uint8_t *b, size_t n, size_t step,
			  size_t *taken)
{
	enum hc_result r = HC_MORE;
	size_t off = 0, used;
	hc_init(p);
	*taken = 0;
	while (off < n && r == HC_MORE) {
		size_t k = step && step < n - off ? step : n - off;
		r = hc_feed(p, b + off, k, &used);
		if (used > k || (r == HC_MORE && used != k))
			abort();
		*taken += used;
		off += k;
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_parser a, b;
	size_t ta, tb;
	if (size < 1)
		return 0;
	size_t step = data[0];
	size_t n = size - 1;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, n);

	enum hc_result ra = run(&a, buf, n, 0, &ta);
	enum hc_result rb = run(&b, buf, n, step, &tb);
	if (ra != rb || ta != tb || ta > n || ta > HC_MAX)
		abort();
	if (ra == HC_DONE) {
		if (ta < 4 || memcmp(buf + ta - 4, "\r\n\r\n", 4) != 0)
			abort();
		if (a.status < 200 || a.status > 599 || a.status != b.status ||
		    strcmp(a.reason, b.reason) != 0)
			abort();
	}
	if (ra == HC_BAD && !a.why)
		abort();

	/* no_proxy: "list,host" as C strings (NULs end them early: fine) */
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, buf, n);
		s[n] = '\0';
		char *comma = strchr(s, ',');
		const char *host = comma ? comma + 1 : "example.org";
		if (comma)
			*comma = '\0';
		px_no_proxy_match(s, host);
		if (!px_no_proxy_match("*", host) && host[0])
			abort();
		free(s);
	}
	free(buf);
	return 0;
}
