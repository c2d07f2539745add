/* SPDX-License-Identifier: MIT */
/*
 * super.h — the core's segmentation of super-packets (plugin.h, ABI 1.2)
 * for stages and sessions that take only plain IP packets.
 */
#ifndef TP_CORE_SUPER_H
#define TP_CORE_SUPER_H
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_pool;

struct tp_split_counters {
	uint64_t *split;    /* super-packets replaced by their segments */
	uint64_t *segments; /* plain packets they became */
	uint64_t *bad;      /* dropped: metadata that does not describe the packet */
	uint64_t *nobuf;    /* dropped (wholly or partly): the pool ran out */
};

/* The caps rule (plugin.h, TP_PLUGIN_SUPER): a delivery must hold plain
 * packets only when it goes to a stage that did not declare super-packets,
 * or down to a session whose peer did not agree to them.  The core's
 * stage.c and the test harness apply the same rule. */
static inline int tp_super_plain_only(uint32_t stage_flags, int down, uint32_t si_flags)
{
	return !(stage_flags & TP_PLUGIN_SUPER) || (down && !(si_flags & TP_SI_SUPER));
}

/* The caps gate: when tp_super_plain_only() says so, replace every
 * super-packet of q, in place and in order, by the plain IP packets it
 * stands for (pool buffers, every checksum complete); otherwise only those
 * whose metadata is not what a kernel makes (tp_offload_canonical), which
 * the peer would refuse.  Returns how many buffers q holds afterwards. */
uint32_t tp_super_gate(struct tp_pool *pool, uint32_t stage_flags, int down, uint32_t si_flags,
		       struct tp_batch *q, const struct tp_split_counters *c);

#endif
