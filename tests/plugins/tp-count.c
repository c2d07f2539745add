/* SPDX-License-Identifier: MIT */
/*
 * tp-count — TEST-ONLY transform: counts what crosses it in each direction
 * and passes every batch on unchanged, with the session it came with.
 * Put it anywhere in a pipeline to observe traffic (and, through the core's
 * per-session instances, to check that counters of ended sessions are
 * summed into the stage's totals).  Built twice: tp-count, and
 * tp-count-local (-DTP_COUNT_LOCAL), the same counter declared local-only.
 */
#include <stdlib.h>
#include <tunpipe/plugin.h>

struct cnt {
	struct tp_stage *st;
	const struct tp_host *host;
	uint64_t *down_packets, *down_bytes, *up_packets, *up_bytes;
	uint64_t *session_up, *session_down;
};

static void cnt_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct cnt *c = ctx;

	*c->down_packets += q->count;
	*c->down_bytes += q->bytes;
	c->host->emit_down(c->st, s, q);
}

static void cnt_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct cnt *c = ctx;

	*c->up_packets += q->count;
	*c->up_bytes += q->bytes;
	c->host->emit_up(c->st, s, q);
}

static void cnt_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct cnt *c = ctx;

	(void)s;
	if (ev->type == TP_EV_SESSION_UP)
		(*c->session_up)++;
	else if (ev->type == TP_EV_SESSION_DOWN)
		(*c->session_down)++;
}

static void *cnt_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	struct cnt *c = calloc(1, sizeof(*c));

	(void)config;
	(void)err;
	(void)errlen;
	if (!c)
		return NULL;
	c->st = st;
	c->host = host;
	c->down_packets = host->counter(st, "down_packets");
	c->down_bytes = host->counter(st, "down_bytes");
	c->up_packets = host->counter(st, "up_packets");
	c->up_bytes = host->counter(st, "up_bytes");
	c->session_up = host->counter(st, "session_up");
	c->session_down = host->counter(st, "session_down");
	return c;
}

#ifdef TP_COUNT_LOCAL
/* The same counter, declared local-only: it leaves the wire bytes alone,
 * so it is no part of the stack the peers agree on and may run on one end
 * only (tests/e2e/test-localonly.sh puts it on the server alone). */
TP_PLUGIN_DEFINE(.name = "tp-count-local", .kind = TP_KIND_TRANSFORM,
		 .description = "test only: count packets and bytes both ways, local only (not on the wire)",
		 .top = TP_DATA_IP | TP_DATA_MSG, .bottom = TP_DATA_IP | TP_DATA_MSG,
		 .create = cnt_create, .destroy = free,
		 .down = cnt_down, .up = cnt_up, .event = cnt_event,
		 .flags = TP_PLUGIN_LOCAL_ONLY);
#else
TP_PLUGIN_DEFINE(.name = "tp-count", .kind = TP_KIND_TRANSFORM,
		 .description = "test only: count packets and bytes both ways, pass them through",
		 .top = TP_DATA_IP | TP_DATA_MSG, .bottom = TP_DATA_IP | TP_DATA_MSG,
		 .create = cnt_create, .destroy = free,
		 .down = cnt_down, .up = cnt_up, .event = cnt_event);
#endif
