/* SPDX-License-Identifier: MIT */
/*
 * counter.h — named uint64_t counters a stage increments directly
 * (host->counter), and the sums kept for instances that ended.
 */
#ifndef TP_CORE_COUNTER_H
#define TP_CORE_COUNTER_H
#include <stdint.h>

struct tp_counter {
	char name[32];
	uint64_t v;
};

/* The counter `name` of the array c[0..*n) (added, zeroed, if new; at most
 * max).  Never NULL: counting must not fail on the data path, so a name
 * too long or one counter too many gets a scratch slot (logged as `who`). */
uint64_t *tp_counter_get(struct tp_counter *c, int *n, int max, const char *who, const char *name);
/* Add every counter of src[0..nsrc) to the one of the same name in sums. */
void tp_counter_fold(struct tp_counter *sums, int *nsums, int max, const struct tp_counter *src, int nsrc);

#endif
