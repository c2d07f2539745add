/* SPDX-License-Identifier: MIT */
/*
 * fuzz_forwarded.c — the forwarded-client parser (tls-http's fwd.c) on
 * arbitrary bytes, as X-Forwarded-For and as Forwarded, split into up to
 * three field values at NUL bytes, with a trust rule taken from the first
 * byte: a client found is always an address of a known family, and a
 * refusal always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "fwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int trusted(void *arg, int family, const uint8_t *a)
{
	uint8_t rule = *(const uint8_t *)arg;
	return (family == AF_INET ? 4 : 6) == (rule & 6) || a[0] == rule;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t rule = data[0];
	/* exact-size, NUL-terminated copy: ASan sees any read past the end */
	char *b = malloc(size);
	if (!b)
		return 0;
	memcpy(b, data + 1, size - 1);
	b[size - 1] = '\0';
	const char *v[3];
	size_t n = 0;
	for (char *p = b; n < 3 && p < b + size - 1; p += strlen(p) + 1)
		v[n++] = p;
	if (!n)
		v[n++] = b;
	for (int kind = FWD_XFF; kind <= FWD_FORWARDED; kind++) {
		struct fwd_addr a;
		const char *why = NULL;
		int r = fwd_client((enum fwd_kind)kind, v, n, trusted, &rule, &a, &why);
		if (r == 0 && a.family != AF_INET && a.family != AF_INET6)
			abort();
		if (r < 0 && !why)
			abort();
	}
	free(b);
	return 0;
}
