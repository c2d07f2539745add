/* SPDX-License-Identifier: MIT */
/*
 * fuzz_framer.h — the skeleton both framer fuzz targets share.
 *
 * The input is a hostile byte stream from the peer, cut into chunks at
 * places the input itself chooses:
 *     byte 0: bits 0-2 number of cuts, bit 3 one batch vs one call per
 *             chunk, bits 4-7 `sel`, the target's choice of options
 *     then one byte per cut: the chunk's length (the last chunk is the rest)
 *     then the stream.
 * A fresh instance per input is fed the chunks, then its output is compared
 * with the target's one-pass reference parser run on the whole stream: the
 * same frames, whatever the cuts, each also sent back down (check_frame);
 * an abort exactly when the reference finds garbage; `truncated` at session
 * end exactly when the stream stops inside a frame; the whole input sent
 * down as one message exactly when down_ok says; no buffer leaked.  Any
 * broken expectation abort()s.
 */
#ifndef TP_FUZZ_FRAMER_H
#define TP_FUZZ_FRAMER_H
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct fz_framer {
	const char *plugin;     /* "framer-ip" */
	const char *up_counter; /* counts the frames that went up */
	/* Options for selector `sel` (NULL: the defaults). */
	const char *(*config)(unsigned sel);
	/* Reference: total length of the frame at p (n bytes left), 0 if the
	 * stream stops before its length is known, -1 for garbage. */
	long (*ref_len)(const uint8_t *p, size_t n, unsigned sel);
	/* `b` came up for the stream's frame ref[0..l): check it, free it and
	 * check that its payload goes back down as that frame. */
	void (*check_frame)(struct tp_harness *h, struct tp_buf *b, const uint8_t *ref, long l,
			    unsigned sel, size_t size);
	/* Whether data[0..size) as one message going down must be sent. */
	int (*down_ok)(const uint8_t *data, size_t size, unsigned sel);
};

/* Run one input; for LLVMFuzzerTestOneInput. */
int fz_framer_run(const struct fz_framer *fz, const uint8_t *data, size_t size);
/* Report a broken expectation and abort(). */
void fz_fail(const char *what, size_t size) __attribute__((noreturn));

#endif
