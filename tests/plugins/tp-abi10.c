/* SPDX-License-Identifier: MIT */
/*
 * tp-abi10 — TEST-ONLY transform built against the frozen ABI 1.0 header
 * (tests/abi-1.0): the proof that a plugin built for an older minor loads
 * and runs in this core.  Written the 1.0 way on purpose: positional option
 * rows (1.0 rows have no `when`), a descriptor without option_size.
 *
 * Down it adds `key` to every byte, up it subtracts it, and it counts
 * packets in a counter named by its `label` option, so a test sees that
 * every option of the 1.0 table reached the config struct.
 */
#include <stdlib.h>
#include <tunpipe/plugin.h>

#if TP_ABI_MINOR != 0
#error "tp-abi10 must be built against tests/abi-1.0/tunpipe/plugin.h"
#endif

struct abi10_conf {
	const char *label;
	int64_t key;
	int mode;
	int verbose;
};

static const struct tp_option abi10_options[] = {
	{ TP_OPT_STRING, "label", "packets", 0, 0, 0, NULL, offsetof(struct abi10_conf, label),
	  "name of the packet counter" },
	{ TP_OPT_INT, "key", "1", 0, 0, 255, NULL, offsetof(struct abi10_conf, key),
	  "added to every byte going down" },
	{ TP_OPT_ENUM, "mode", "plain", 0, 0, 0, "plain|shift", offsetof(struct abi10_conf, mode),
	  "plain: key as given; shift: key + 1" },
	{ TP_OPT_BOOL, "verbose", "false", 0, 0, 0, NULL, offsetof(struct abi10_conf, verbose),
	  "log every batch" },
	TP_OPTIONS_END,
};

struct abi10 {
	struct tp_stage *st;
	const struct tp_host *host;
	uint8_t key;
	int verbose;
	uint64_t *packets;
};

static void *abi10_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			  char *err, size_t errlen)
{
	const struct abi10_conf *cf = config;
	struct abi10 *a = calloc(1, sizeof(*a));

	(void)err;
	(void)errlen;
	if (!a)
		return NULL;
	a->st = st;
	a->host = host;
	a->key = (uint8_t)(cf->key + (cf->mode == 1));
	a->verbose = cf->verbose;
	a->packets = host->counter(st, cf->label);
	return a;
}

static void shift(struct abi10 *a, struct tp_batch *q, int sign)
{
	struct tp_buf *b;
	uint32_t i;

	for (b = q->head; b; b = b->next)
		for (i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(b->data[i] + sign * a->key);
	*a->packets += q->count;
	if (a->verbose)
		a->host->log(a->st, TP_LOG_INFO, "%u packets", q->count);
}

static void abi10_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct abi10 *a = ctx;

	shift(a, q, 1);
	a->host->emit_down(a->st, s, q);
}

static void abi10_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct abi10 *a = ctx;

	shift(a, q, -1);
	a->host->emit_up(a->st, s, q);
}

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "tp-abi10",
	.kind = TP_KIND_TRANSFORM,
	.description = "test only: a plugin built against ABI 1.0",
	.top = TP_DATA_IP | TP_DATA_MSG,
	.bottom = TP_DATA_IP | TP_DATA_MSG,
	.options = abi10_options,
	.config_size = sizeof(struct abi10_conf),
	.create = abi10_create,
	.destroy = free,
	.down = abi10_down,
	.up = abi10_up,
};
