/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proxyproto.c — the PROXY header parser (proxyproto.c) on arbitrary
 * bytes, with each version mask; what it says must be consistent: a
 * header never longer than its input or its version's bound, and asking
 * for more never happens once the bound is reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h;
	/* A copy of exactly `size` bytes: ASan sees any read past the end. */
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	for (int v = 1; v <= 3; v++) {
		enum pp_result r = pp_parse(b, size, v, &h);
		if (r == PP_DONE && (h.len == 0 || h.len > size || h.len > PP_MAX ||
				     (h.version == 1 && h.len > PP_V1_MAX)))
			abort();
		if (r == PP_BAD && !h.why)
			abort();
		if (r == PP_MORE && size >= PP_MAX)
			abort();
	}
	free(b);
	return 0;
}
