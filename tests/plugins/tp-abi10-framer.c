/* SPDX-License-Identifier: MIT */
/*
 * tp-abi10-framer — TEST-ONLY framer built against the frozen ABI 1.0
 * header (tests/abi-1.0), the 1.0 way: it drives the host's deframer
 * services (host->deframer_*) itself, which the core keeps for such
 * plugins.  The format: a 2-byte big-endian length, then that many bytes
 * (1..`max`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <tunpipe/plugin.h>

#if TP_ABI_MINOR != 0
#error "tp-abi10-framer must be built against tests/abi-1.0/tunpipe/plugin.h"
#endif

struct a10f_conf {
	int64_t max;
};

static const struct tp_option a10f_options[] = {
	{ TP_OPT_INT, "max", "1000", 0, 1, 65535, NULL, offsetof(struct a10f_conf, max),
	  "largest payload accepted" },
	TP_OPTIONS_END,
};

struct a10f {
	struct tp_stage *st;
	const struct tp_host *host;
	uint32_t max;
	struct tp_deframer *df;
	uint64_t *truncated, *refused;
};

static int64_t a10f_len(void *arg, const uint8_t *p, size_t avail)
{
	struct a10f *f = arg;
	uint32_t len;

	if (avail < 2)
		return 0;
	len = (uint32_t)p[0] << 8 | p[1];
	if (len == 0 || len > f->max) {
		(*f->refused)++;
		return -1;
	}
	return 2 + (int64_t)len;
}

static void *a10f_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			 char *err, size_t errlen)
{
	struct a10f *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->st = st;
	f->host = host;
	f->max = (uint32_t)((const struct a10f_conf *)config)->max;
	f->truncated = host->counter(st, "truncated");
	f->refused = host->counter(st, "refused");
	if (!(f->df = host->deframer_new(st, 2, a10f_len, f))) {
		snprintf(err, errlen, "no deframer");
		free(f);
		return NULL;
	}
	return f;
}

static void a10f_destroy(void *ctx)
{
	struct a10f *f = ctx;

	if (f->df)
		f->host->deframer_free(f->df);
	free(f);
}

static void a10f_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct a10f *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	if (f->host->deframe(f->df, q, &out) < 0)
		f->host->session_abort(f->st, s, "tp-abi10-framer: bad length");
	for (b = out.head; b; b = b->next)
		tp_buf_pull(b, 2);
	out.bytes -= 2 * out.count;
	if (out.count)
		f->host->emit_up(f->st, s, &out);
}

static void a10f_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct a10f *f = ctx;
	struct tp_buf *b;
	uint8_t *h;

	for (b = q->head; b; b = b->next) {
		h = tp_buf_push(b, 2);
		h[0] = (uint8_t)((b->len - 2) >> 8);
		h[1] = (uint8_t)(b->len - 2);
	}
	q->bytes += 2 * q->count;
	f->host->emit_down(f->st, s, q);
}

static void a10f_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct a10f *f = ctx;

	(void)s;
	if (ev->type == TP_EV_SESSION_DOWN && f->host->deframer_pending(f->df))
		(*f->truncated)++;
}

TP_PLUGIN_EXPORT = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = sizeof(struct tp_plugin),
	.name = "tp-abi10-framer",
	.kind = TP_KIND_TRANSFORM,
	.description = "test only: a framer built against ABI 1.0 on host->deframer_*",
	.top = TP_DATA_MSG,
	.bottom = TP_DATA_STREAM,
	.headroom = 2,
	.options = a10f_options,
	.config_size = sizeof(struct a10f_conf),
	.create = a10f_create,
	.destroy = a10f_destroy,
	.down = a10f_down,
	.up = a10f_up,
	.event = a10f_event,
};
