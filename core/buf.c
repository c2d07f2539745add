/* SPDX-License-Identifier: MIT */
/*
 * buf.c — the packet buffer pool.
 *
 * Every buffer is one malloc: the struct tp_buf, then headroom, payload
 * room and tailroom.  Two size classes are cached: "small" (the pool's
 * default_len rounded up to a cache line, enough for one packet) and
 * "large" (TP_BUF_LARGE, for stream reads and reassembly).  Freed buffers
 * go on their class's free list, LIFO so the most recently used (cache-hot)
 * memory is handed out next.  Requests above TP_BUF_LARGE get a one-off
 * buffer that is freed on return: they are rare and would pin a lot of
 * memory if cached.
 *
 * buf->flags (reserved to the core) carries the class and a "free" bit that
 * catches double frees; buf->pool_priv points back to the pool so a buffer
 * returned to the wrong pool is caught too.  Both are logged and ignored:
 * on the data path a bug must not become a crash or heap corruption.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

#define BUF_DEFAULT_LEN 2048     /* default_len 0: room for a 1500-byte MTU and then some */
#define BUF_ALIGN 64
#define LARGE_CACHE_MAX 64       /* 4 MiB of large buffers kept at most */

/* buf->flags */
#define BF_CLASS_MASK 0x3u
#define BF_ONEOFF 2u             /* class value of one-off buffers */
#define BF_FREE (1u << 31)

enum { CL_SMALL, CL_LARGE, CL_N };

struct pool_class {
	size_t room;           /* payload room, between headroom and tailroom */
	struct tp_buf *free;   /* LIFO free list */
	size_t cached;
	size_t cache_max;      /* 0: unbounded */
};

struct tp_pool {
	size_t headroom, tailroom, max_bufs;
	struct pool_class cl[CL_N];
	struct tp_pool_stats st;
};

struct tp_pool *tp_pool_new(size_t headroom, size_t tailroom, size_t default_len, size_t max_bufs)
{
	struct tp_pool *p;

	if (default_len == 0)
		default_len = BUF_DEFAULT_LEN;
	if (default_len > TP_BUF_LARGE || headroom > 65536 || tailroom > 65536) {
		tp_log(TP_LOG_ERROR, NULL,
		       "buffer pool: bad geometry (headroom %zu, tailroom %zu, size %zu; "
		       "size must be at most %d)", headroom, tailroom, default_len, TP_BUF_LARGE);
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->headroom = headroom;
	p->tailroom = tailroom;
	p->max_bufs = max_bufs;
	p->cl[CL_SMALL].room = (default_len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
	if (p->cl[CL_SMALL].room > TP_BUF_LARGE)
		p->cl[CL_SMALL].room = TP_BUF_LARGE;
	p->cl[CL_LARGE].room = TP_BUF_LARGE;
	p->cl[CL_LARGE].cache_max = LARGE_CACHE_MAX;
	return p;
}

static size_t buf_size(const struct tp_buf *b)
{
	return sizeof(*b) + (size_t)(b->end - b->head);
}

size_t tp_pool_destroy(struct tp_pool *p)
{
	size_t leaked;

	if (!p)
		return 0;
	for (int c = 0; c < CL_N; c++) {
		struct tp_buf *b;
		while ((b = p->cl[c].free)) {
			p->cl[c].free = b->next;
			free(b);
		}
	}
	leaked = p->st.outstanding;
	if (leaked)
		tp_log(TP_LOG_WARN, NULL, "buffer pool: %zu buffer(s) never returned", leaked);
	free(p);
	return leaked;
}

static struct tp_buf *buf_new(struct tp_pool *p, size_t room, uint32_t cls)
{
	size_t total = p->headroom + room + p->tailroom;
	struct tp_buf *b = malloc(sizeof(*b) + total);

	if (!b)
		return NULL;
	b->head = (uint8_t *)(b + 1);
	b->end = b->head + total;
	b->flags = cls;
	b->pool_priv = p;
	p->st.created++;
	p->st.bytes += sizeof(*b) + total;
	return b;
}

struct tp_buf *tp_pool_alloc(struct tp_pool *p, size_t len)
{
	struct pool_class *c = NULL;
	struct tp_buf *b;

	if (p->max_bufs && p->st.outstanding >= p->max_bufs) {
		p->st.failed++;
		return NULL;
	}
	if (len == 0)
		len = p->cl[CL_SMALL].room;
	if (len <= p->cl[CL_SMALL].room)
		c = &p->cl[CL_SMALL];
	else if (len <= TP_BUF_LARGE)
		c = &p->cl[CL_LARGE];

	if (c && (b = c->free)) {
		c->free = b->next;
		c->cached--;
		p->st.cached--;
	} else {
		b = buf_new(p, c ? c->room : len, c ? (uint32_t)(c - p->cl) : BF_ONEOFF);
		if (!b)
			return NULL;
	}
	b->flags &= ~BF_FREE;
	b->data = b->head + p->headroom;
	b->len = 0;
	b->next = NULL;
	memset(&b->off, 0, sizeof(b->off)); /* a plain packet until a stage says otherwise */
	p->st.outstanding++;
	return b;
}

void tp_pool_free(struct tp_pool *p, struct tp_buf *b)
{
	struct pool_class *c;
	uint32_t cls;

	if (!b)
		return;
	if (b->pool_priv != p) {
		tp_log(TP_LOG_ERROR, NULL, "buffer pool: buffer %p belongs to another pool; not freed",
		       (void *)b);
		return;
	}
	if (b->flags & BF_FREE) {
		tp_log(TP_LOG_ERROR, NULL, "buffer pool: double free of buffer %p ignored",
		       (void *)b);
		return;
	}
	p->st.outstanding--;
	cls = b->flags & BF_CLASS_MASK;
	if (cls == BF_ONEOFF) {
		p->st.bytes -= buf_size(b);
		free(b);
		return;
	}
	c = &p->cl[cls];
	if (c->cache_max && c->cached >= c->cache_max) {
		p->st.bytes -= buf_size(b);
		free(b);
		return;
	}
	/* Reset now, so the next owner gets a buffer laid out like a new one. */
	b->data = b->head + p->headroom;
	b->len = 0;
	b->flags |= BF_FREE;
	b->next = c->free;
	c->free = b;
	c->cached++;
	p->st.cached++;
}

void tp_pool_free_batch(struct tp_pool *p, struct tp_batch *q)
{
	struct tp_buf *b = q->head;

	while (b) {
		struct tp_buf *next = b->next;
		tp_pool_free(p, b);
		b = next;
	}
	tp_batch_init(q);
}

void tp_pool_get_stats(const struct tp_pool *p, struct tp_pool_stats *st)
{
	*st = p->st;
}

size_t tp_pool_headroom(const struct tp_pool *p)
{
	return p->headroom;
}
