/* SPDX-License-Identifier: MIT */
/*
 * super.c — see super.h.  The segmentation itself is gso.c's (what a NIC's
 * TSO/USO does: per-segment IP length, id and header checksum, TCP
 * sequence and flags, full L4 checksums); this file feeds it a buffer's
 * metadata and collects the segments into pool buffers.  It runs only for
 * a destination that did not declare TP_PLUGIN_SUPER or a session that did
 * not agree (stage.c), so two tunpipe peers that agreed pay nothing here.
 */
#include <string.h>

#include "buf.h"
#include "gso.h"
#include "super.h"

/* Segments are gso_size-driven: the kernel chose gso_size for the device's
 * MTU, so no MTU of ours needs to cut them further. */
#define SPLIT_MTU 65535

struct split {
	struct tp_pool *pool;
	struct tp_batch out;
};

static uint8_t *sp_get(void *arg, size_t need)
{
	struct split *sp = arg;
	struct tp_buf *b = tp_pool_alloc(sp->pool, need);

	if (!b)
		return NULL; /* else it has room for `need` after data */
	tp_batch_add(&sp->out, b); /* put() always follows: it is the tail */
	return b->data;
}

static void sp_put(void *arg, uint8_t *p, size_t len)
{
	struct split *sp = arg;

	(void)p;
	sp->out.tail->len = (uint32_t)len;
	sp->out.bytes += (uint32_t)len;
}

/* Whether b must be split before this delivery: every super-packet for a
 * plain-only one, else only metadata a kernel would not have made (an
 * IPv6 packet with extension headers from our own TUN, say) — the peer's
 * framer refuses such a header, so it travels as plain packets. */
static int must_split(const struct tp_buf *b, int plain)
{
	return tp_buf_is_super(b) &&
	       (plain || b->len < 20 || !tp_offload_canonical(&b->off, b->data, b->len));
}

static unsigned split(struct tp_pool *pool, struct tp_batch *q, const struct tp_split_counters *c,
		      int plain)
{
	struct split sp = { pool, TP_BATCH_INIT };
	const struct tg_sink sink = { sp_get, sp_put, &sp };
	struct tp_batch in = *q;
	struct tg_vnet_hdr h;
	struct tp_buf *b;
	unsigned n = 0;
	int r;

	tp_batch_init(q);
	while ((b = tp_batch_pop(&in))) {
		if (!must_split(b, plain)) {
			tp_batch_add(q, b);
			continue;
		}
		tg_off_to_vnet(&b->off, &h);
		if (b->off.gso_type == TP_GSO_NONE && b->len <= SPLIT_MTU) {
			/* One packet, only its checksum to finish: in place,
			 * no new buffer, no copy (what tg_segment would do
			 * through the sink). */
			if (tg_complete(&h, b->data, b->len) < 0) {
				++*c->bad;
				tp_pool_free(pool, b);
				continue;
			}
			memset(&b->off, 0, sizeof(b->off));
			tp_batch_add(q, b);
			++*c->segments;
			n++;
			continue;
		}
		r = tg_segment(&h, b->data, b->len, SPLIT_MTU, &sink);
		if (r == TG_ENOBUF)
			++*c->nobuf;
		else if (r < 0)
			++*c->bad;
		else
			n++;
		*c->segments += sp.out.count;
		tp_batch_splice(q, &sp.out);
		tp_pool_free(pool, b);
	}
	*c->split += n;
	return n;
}

uint32_t tp_super_gate(struct tp_pool *pool, uint32_t stage_flags, int down, uint32_t si_flags,
		       struct tp_batch *q, const struct tp_split_counters *c)
{
	int plain = tp_super_plain_only(stage_flags, down, si_flags);

	for (const struct tp_buf *b = q->head; b; b = b->next)
		if (must_split(b, plain)) {
			split(pool, q, c, plain);
			break;
		}
	return q->count;
}
