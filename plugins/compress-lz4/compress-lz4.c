/* SPDX-License-Identifier: MIT */
/*
 * compress-lz4 — per-packet LZ4 compression (a transform).
 *
 * Every message this stage emits down starts with one marker byte:
 *   0x00  stored: the payload follows as is
 *   0x01  LZ4 block: an independent LZ4 block follows (no size header)
 * The decoder accepts both whatever the options, so options never change
 * the wire identity.  See README.md for the format and the compression
 * oracle risk (this stage is off in the default pipeline on purpose).
 *
 * The output is a sequence of opaque messages whose boundaries matter, so
 * the stage must sit above a message framer (framer-len); the link masks
 * in the descriptor make the core refuse it above framer-ip.
 *
 * Data path costs: no malloc per packet.  Stored packets get their marker
 * pushed into headroom (no copy); compressed ones go into a pooled buffer.
 * The LZ4 state lives as long as the instance and is re-armed per packet
 * with the *_fast reset calls, which avoid clearing the 16 KiB hash table
 * every time (LZ4_compress_fast_extState would memset it per packet).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <lz4.h>
#include <lz4hc.h>
#include <tunpipe/plugin.h>

#define LZ_MARK_STORED 0x00
#define LZ_MARK_LZ4 0x01

/* Entropy heuristic: look at up to this many bytes spread over the packet. */
#define LZ_SAMPLES 64
/* Below this many samples the distinct-value count says too little. */
#define LZ_MIN_SAMPLES 16
/* First decode attempt: room for any packet of a usual MTU (the pool's
 * cached small class); bigger packets retry into max_size. */
#define LZ_FIRST_TRY 2048

struct lz_conf {
	int64_t level;
	int hc;
	int64_t hc_level;
	int64_t max_size;
	int64_t min_size;
	int skip_entropy;
};

static const struct tp_option lz_options[] = {
	TP_OPTION_INT(struct lz_conf, level, "1", 1, 65537,
		      "LZ4 acceleration of the fast compressor (1 = best ratio, higher = faster)"),
	TP_OPTION_BOOL(struct lz_conf, hc, "false", "use the slower, tighter LZ4 HC compressor"),
	TP_OPTION_INT(struct lz_conf, hc_level, "9", 1, 12,
		      "LZ4 HC compression level (with hc = true)"),
	TP_OPTION_INT(struct lz_conf, max_size, "65535", 64, 1048576,
		      "largest decompressed packet accepted from the peer; bigger ones are dropped"),
	TP_OPTION_INT(struct lz_conf, min_size, "64", 0, 1048576,
		      "packets shorter than this are sent stored (not worth compressing)"),
	TP_OPTION_BOOL(struct lz_conf, skip_entropy, "true",
		       "send packets that look random (already encrypted or compressed) stored "
		       "without trying"),
	TP_OPTIONS_END
};

struct lz {
	struct tp_stage *st;
	const struct tp_host *host;
	int accel;
	int hc_level;
	int hc;
	int max_size;
	uint32_t min_size;
	int skip_entropy;
	LZ4_stream_t *fast;  /* exactly one of fast/hcs is set */
	LZ4_streamHC_t *hcs;
	int reported;        /* the ratio line was logged */

	uint64_t *compressed, *stored, *skipped, *bytes_in, *bytes_out;
	uint64_t *decompressed, *bad_frame, *bad_marker, *no_buffer, *big_decodes;
};

static void *lz_create(struct tp_stage *st, const struct tp_host *host, const void *config,
		       char *err, size_t errlen)
{
	const struct lz_conf *cf = config;
	struct lz *lz = calloc(1, sizeof(*lz));

	if (!lz) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lz->st = st;
	lz->host = host;
	lz->accel = (int)cf->level;
	lz->hc = cf->hc;
	lz->hc_level = (int)cf->hc_level;
	lz->max_size = (int)cf->max_size;
	lz->min_size = (uint32_t)cf->min_size;
	lz->skip_entropy = cf->skip_entropy;

	if (lz->hc) {
		lz->hcs = LZ4_createStreamHC();
		if (!lz->hcs)
			goto nomem;
	} else {
		lz->fast = LZ4_createStream();
		if (!lz->fast)
			goto nomem;
	}

#define LZ_COUNTER(f)                                 \
	do {                                          \
		lz->f = host->counter(st, #f);        \
		if (!lz->f)                           \
			goto nocounter;               \
	} while (0)
	LZ_COUNTER(compressed);
	LZ_COUNTER(stored);
	LZ_COUNTER(skipped);
	LZ_COUNTER(bytes_in);
	LZ_COUNTER(bytes_out);
	LZ_COUNTER(decompressed);
	LZ_COUNTER(bad_frame);
	LZ_COUNTER(bad_marker);
	LZ_COUNTER(no_buffer);
	LZ_COUNTER(big_decodes);
#undef LZ_COUNTER
	return lz;

nocounter:
	snprintf(err, errlen, "the core could not register a counter");
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory allocating the LZ4%s state", lz->hc ? " HC" : "");
fail:
	LZ4_freeStream(lz->fast);
	LZ4_freeStreamHC(lz->hcs);
	free(lz);
	return NULL;
}

/* One line per instance with what compression bought, once. */
static void lz_report(struct lz *lz)
{
	if (lz->reported)
		return;
	lz->reported = 1;
	/* create()+destroy() for a config check saw no traffic: stay quiet. */
	if (!*lz->bytes_in && !*lz->decompressed && !*lz->bad_frame && !*lz->bad_marker)
		return;
	lz->host->log(lz->st, TP_LOG_INFO,
		      "down: %llu compressed, %llu stored (%llu skipped as random), "
		      "%llu -> %llu bytes, ratio %.3f; up: %llu decompressed, "
		      "%llu bad frames, %llu bad markers",
		      (unsigned long long)*lz->compressed, (unsigned long long)*lz->stored,
		      (unsigned long long)*lz->skipped, (unsigned long long)*lz->bytes_in,
		      (unsigned long long)*lz->bytes_out,
		      *lz->bytes_in ? (double)*lz->bytes_out / (double)*lz->bytes_in : 1.0,
		      (unsigned long long)*lz->decompressed, (unsigned long long)*lz->bad_frame,
		      (unsigned long long)*lz->bad_marker);
}

static void lz_stop(void *ctx)
{
	lz_report(ctx);
}

static void lz_destroy(void *ctx)
{
	struct lz *lz = ctx;

	lz_report(lz);
	LZ4_freeStream(lz->fast);
	LZ4_freeStreamHC(lz->hcs);
	free(lz);
}

/*
 * Does the payload look random (encrypted, already compressed)?  Sample up
 * to LZ_SAMPLES bytes spread evenly over it and count distinct values: 64
 * draws from uniform bytes give ~57 distinct values (σ ≈ 3), text or
 * headers-plus-padding give far fewer.  A miss only costs one compression
 * attempt or one lost opportunity, never correctness.
 */
static int lz_looks_random(const uint8_t *p, uint32_t len)
{
	uint64_t seen[4] = { 0, 0, 0, 0 };
	uint32_t n = len < LZ_SAMPLES ? len : LZ_SAMPLES;
	uint32_t stride, i, distinct = 0;

	if (n < LZ_MIN_SAMPLES)
		return 0;
	stride = len / n;
	for (i = 0; i < n; i++) {
		uint8_t v = p[(size_t)i * stride];
		uint64_t bit = 1ull << (v & 63);

		if (!(seen[v >> 6] & bit)) {
			seen[v >> 6] |= bit;
			distinct++;
		}
	}
	/* 3/4 of the samples distinct: ~48 of 64, about 3σ below random. */
	return distinct * 4 >= n * 3;
}

/*
 * Prepend the stored marker.  The core sized headroom with our descriptor's
 * 1 byte, so this is a pointer move; a foreign buffer without headroom is
 * shifted into its tailroom instead.  Returns 0, or -1 if neither fits.
 */
static int lz_mark_stored(struct tp_buf *b)
{
	if (tp_buf_headroom(b) >= 1) {
		tp_buf_push(b, 1)[0] = LZ_MARK_STORED;
		return 0;
	}
	if (tp_buf_tailroom(b) < 1)
		return -1;
	memmove(b->data + 1, b->data, b->len);
	b->data[0] = LZ_MARK_STORED;
	b->len++;
	return 0;
}

/* Compress b into a new pooled buffer; NULL when it does not pay off. */
static struct tp_buf *lz_compress(struct lz *lz, const struct tp_buf *b)
{
	struct tp_buf *out;
	int cap, n;

	/* Only a block strictly shorter than the input is worth sending, so
	 * cap the output at len-1: LZ4 then gives up early on data that does
	 * not shrink instead of filling a compressBound()-sized buffer. */
	if (b->len < 2 || b->len > (uint32_t)LZ4_MAX_INPUT_SIZE)
		return NULL;
	cap = (int)b->len - 1;
	out = lz->host->buf_alloc(lz->st, (size_t)cap + 1);
	if (!out) {
		(*lz->no_buffer)++;
		return NULL;
	}
	if (lz->hc) {
		LZ4_resetStreamHC_fast(lz->hcs, lz->hc_level);
		n = LZ4_compress_HC_continue(lz->hcs, (const char *)b->data, (char *)out->data + 1,
					     (int)b->len, cap);
	} else {
		LZ4_resetStream_fast(lz->fast);
		n = LZ4_compress_fast_continue(lz->fast, (const char *)b->data, (char *)out->data + 1,
					       (int)b->len, cap, lz->accel);
	}
	if (n <= 0)
		goto fail;
	out->data[0] = LZ_MARK_LZ4;
	out->len = (uint32_t)n + 1;
	return out;

fail:
	lz->host->buf_free(lz->st, out);
	return NULL;
}

static void lz_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct lz *lz = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b, *c;

	while ((b = tp_batch_pop(q))) {
		*lz->bytes_in += b->len;
		c = NULL;
		if (b->len < lz->min_size) {
			/* too short to be worth it */
		} else if (lz->skip_entropy && lz_looks_random(b->data, b->len)) {
			(*lz->skipped)++;
		} else {
			c = lz_compress(lz, b);
		}
		if (c) {
			lz->host->buf_free(lz->st, b);
			b = c;
			(*lz->compressed)++;
		} else if (lz_mark_stored(b) == 0) {
			(*lz->stored)++;
		} else {
			(*lz->no_buffer)++;
			lz->host->buf_free(lz->st, b);
			continue;
		}
		*lz->bytes_out += b->len;
		tp_batch_add(&out, b);
	}
	if (out.count)
		lz->host->emit_down(lz->st, s, &out);
}

/*
 * Decode the LZ4 block of b (after its marker) into a new pooled buffer
 * with room for `want` bytes, never more than max_size.  Returns
 * LZ4_decompress_safe's answer (bytes, or < 0 when the block is bad or
 * does not fit) with the buffer in *out, or -1 with *out NULL when the
 * pool is exhausted.
 */
static int lz_decode_into(struct lz *lz, const struct tp_buf *b, struct tp_buf **out, size_t want)
{
	size_t cap;

	if (want > (size_t)lz->max_size)
		want = (size_t)lz->max_size;
	*out = lz->host->buf_alloc(lz->st, want);
	if (!*out)
		return -1;
	/* The pool may round the room up; a fuller buffer is free to use. */
	cap = tp_buf_tailroom(*out);
	if (cap > (size_t)lz->max_size)
		cap = (size_t)lz->max_size;
	return LZ4_decompress_safe((const char *)b->data + 1, (char *)(*out)->data, (int)b->len - 1,
				   (int)cap);
}

/* Decode one message; returns the buffer to pass up or NULL (dropped,
 * counted, and b already freed). */
static struct tp_buf *lz_decode(struct lz *lz, struct tp_buf *b)
{
	struct tp_buf *out = NULL;
	int n;

	if (b->len == 0) {
		(*lz->bad_frame)++;
		goto drop;
	}
	switch (b->data[0]) {
	case LZ_MARK_STORED:
		tp_buf_pull(b, 1);
		return b;
	case LZ_MARK_LZ4:
		break;
	default:
		(*lz->bad_marker)++;
		goto drop;
	}

	/* The block carries no size (and the wire format has no room for
	 * one), so guess small first: a packet-sized pool buffer, which the
	 * pool recycles without malloc.  Only when LZ4 says the output does
	 * not fit do we retry into max_size of room; the pool caches few
	 * buffers that large and mallocs each one above 64 KiB + 512.
	 * LZ4_decompress_safe never writes past dstCapacity nor reads past
	 * the input, so a bomb fails both tries and is dropped. */
	n = lz_decode_into(lz, b, &out, LZ_FIRST_TRY);
	if (n < 0 && out && (int)tp_buf_tailroom(out) < lz->max_size) {
		lz->host->buf_free(lz->st, out);
		n = lz_decode_into(lz, b, &out, (size_t)lz->max_size);
		if (n > 0)
			(*lz->big_decodes)++;
	}
	if (!out) {
		(*lz->no_buffer)++;
		goto drop;
	}
	/* n == 0: a valid block for an empty packet, which our encoder never
	 * sends (empty packets go stored); treat it as garbage.  n < 0: a
	 * malformed block or one larger than max_size. */
	if (n <= 0) {
		(*lz->bad_frame)++;
		goto drop;
	}
	out->len = (uint32_t)n;
	(*lz->decompressed)++;
	lz->host->buf_free(lz->st, b);
	return out;

drop:
	if (out)
		lz->host->buf_free(lz->st, out);
	lz->host->buf_free(lz->st, b);
	return NULL;
}

static void lz_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct lz *lz = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	while ((b = tp_batch_pop(q))) {
		b = lz_decode(lz, b);
		if (b)
			tp_batch_add(&out, b);
	}
	if (out.count)
		lz->host->emit_up(lz->st, s, &out);
}

static void lz_wire_id(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "compress-lz4");
}

TP_PLUGIN_DEFINE(.name = "compress-lz4", .kind = TP_KIND_TRANSFORM,
		 .description = "per-packet LZ4 compression (mind the compression-oracle risk, "
				"see README)",
		 .top = TP_DATA_IP | TP_DATA_MSG, .bottom = TP_DATA_MSG, .headroom = 1,
		 .options = lz_options, .config_size = sizeof(struct lz_conf),
		 .create = lz_create, .stop = lz_stop, .destroy = lz_destroy,
		 .down = lz_down, .up = lz_up, .wire_id = lz_wire_id);
