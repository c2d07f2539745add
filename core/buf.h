/* SPDX-License-Identifier: MIT */
/*
 * buf.h — the packet buffer pool.
 *
 * Buffers come in size classes (payload room: the pool's default size, and
 * 64 KiB for stream reads and reassembly); every buffer has the pool's
 * headroom before `data` and tailroom after the payload room.  Freed
 * buffers go on a per-class free list and are reused, so the data path does
 * not allocate once warm.  `max_bufs` bounds how many buffers may be out
 * at once (0 = unbounded): allocation then fails and the caller drops and
 * counts.
 */
#ifndef TP_CORE_BUF_H
#define TP_CORE_BUF_H
#include <stddef.h>
#include <tunpipe/plugin.h>

#define TP_BUF_LARGE (64 * 1024 + 512)

struct tp_pool;

struct tp_pool_stats {
	size_t outstanding; /* handed out, not yet freed */
	size_t cached;      /* on the free lists */
	size_t created;     /* malloc()s done since the pool was made */
	size_t bytes;       /* memory held (outstanding + cached) */
	size_t failed;      /* allocations refused by max_bufs */
};

struct tp_pool *tp_pool_new(size_t headroom, size_t tailroom, size_t default_len, size_t max_bufs);
/* Frees cached buffers and the pool.  Outstanding buffers are a leak: the
 * count is returned so tests can assert on it. */
size_t tp_pool_destroy(struct tp_pool *p);
/* len == 0: default_len.  len > TP_BUF_LARGE: a one-off buffer of exactly
 * that size (freed, not cached, when returned).  buf->len is 0. */
struct tp_buf *tp_pool_alloc(struct tp_pool *p, size_t len);
void tp_pool_free(struct tp_pool *p, struct tp_buf *b);
void tp_pool_free_batch(struct tp_pool *p, struct tp_batch *q);
void tp_pool_get_stats(const struct tp_pool *p, struct tp_pool_stats *st);
size_t tp_pool_headroom(const struct tp_pool *p);

#endif
