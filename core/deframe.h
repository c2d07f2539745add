/* SPDX-License-Identifier: MIT */
/*
 * deframe.h — stream reassembly, the core side of host->deframer_*.
 *
 * A framer describes its wire format with one length function
 * (tp_frame_len_fn in plugin.h); the deframer turns chunks of a byte stream
 * with arbitrary boundaries into whole frames, each copied once into a
 * pooled buffer of exactly its size.  See plugin.h for the contract.
 *
 * The deframer knows nothing of pipelines: it reaches the buffer pool and
 * the counters only through the `host` and `st` it was created with, so the
 * core (host.c) and the plugin harness (tests/harness.c) share this one
 * implementation behind their own struct tp_host.
 *
 * It registers two counters on the owning stage (the names are shared with
 * the framer, which may register them too and gets the same slot):
 *   nobuf    frames lost because buf_alloc() failed (their bytes are still
 *            consumed, so the stream stays in step);
 *   dropped  bytes thrown away once the stream was refused: the refused
 *            frame's bytes (including any held back from earlier chunks)
 *            and everything fed afterwards.
 */
#ifndef TP_CORE_DEFRAME_H
#define TP_CORE_DEFRAME_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

/* Largest hdr_bytes accepted: the stash for a cut header lives inside the
 * deframer, and no real format needs more to size a frame. */
#define TP_DEFRAME_MAX_HDR 64

/* NULL (logged through host->log) when hdr_bytes is 0 or above
 * TP_DEFRAME_MAX_HDR, len_fn is NULL, or memory is short.  Call it from
 * the stage's create(): it registers counters. */
struct tp_deframer *tp_deframer_new(const struct tp_host *host, struct tp_stage *st,
				    uint32_t hdr_bytes, tp_frame_len_fn len_fn, void *arg);
int tp_deframe(struct tp_deframer *d, struct tp_batch *in, struct tp_batch *out);
size_t tp_deframer_pending(const struct tp_deframer *d);
/* Gives a half-received frame's buffer back to the pool; NULL is a no-op. */
void tp_deframer_free(struct tp_deframer *d);

#endif
