/* SPDX-License-Identifier: MIT */
/*
 * counter.c — named counters: a plain slot per name, so a plugin counts
 * with one increment and the core prints them at exit and on SIGUSR1.
 */
#include <stdio.h>
#include <string.h>
#include "counter.h"
#include "log.h"

uint64_t *tp_counter_get(struct tp_counter *c, int *n, int max, const char *who, const char *name)
{
	/* A stage that registers too many counters shares one scratch slot
	 * for the rest: counting must never fail on the data path. */
	static uint64_t scratch;
	if (strlen(name) >= sizeof(c[0].name)) {
		/* Cut, it would no longer match itself on the next call. */
		tp_log(TP_LOG_ERROR, who, "counter name '%s' is too long (max %zu characters); not reported",
		       name, sizeof(c[0].name) - 1);
		return &scratch;
	}
	for (int i = 0; i < *n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i].v;
	if (*n == max) {
		tp_log(TP_LOG_WARN, who, "too many counters; '%s' is not reported", name);
		return &scratch;
	}
	struct tp_counter *nc = &c[(*n)++];
	snprintf(nc->name, sizeof(nc->name), "%s", name);
	nc->v = 0;
	return &nc->v;
}

void tp_counter_fold(struct tp_counter *sums, int *nsums, int max, const struct tp_counter *src, int nsrc)
{
	for (int i = 0; i < nsrc; i++) {
		int j;
		for (j = 0; j < *nsums; j++)
			if (!strcmp(sums[j].name, src[i].name))
				break;
		if (j == *nsums) {
			if (*nsums == max)
				continue;
			(*nsums)++;
			memcpy(sums[j].name, src[i].name, sizeof(sums[j].name));
			sums[j].v = 0;
		}
		sums[j].v += src[i].v;
	}
}
