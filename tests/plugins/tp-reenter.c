/* SPDX-License-Identifier: MIT */
/*
 * tp-reenter — TEST-ONLY plugins that record whether the core ever calls
 * one of their callbacks while another of theirs (or a host call made
 * from one) is still running: plugin.h's "THE CALL SEQUENCE" promises it
 * never does.  Built twice from this file:
 *
 * tp-reenter (a transform): passes data both ways.  On every SESSION_UP it
 * emits `hello` one-packet batches down, numbered on from the last ones;
 * going up it takes them out again (counting them, in order) so the top
 * endpoint sees only its own packets.
 *
 * tp-reenter-sink (built with TP_REENTER_SINK): like tp-loop, a network
 * that sends every packet straight back up, on one local session it opens
 * and declares up in start().  With `again_ms` it declares the session up
 * once more from a timer, so a host call made outside any callback the
 * core called is covered too.  It checks that hellos and tp-gen's packets
 * each arrive in order, and that the first hellos come before any data.
 *
 * Counters: reentered (a callback began while one of ours was running),
 * plus the ordering counters named below.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <tunpipe/plugin.h>

#define RE_PROTO 253 /* IP protocol "for experimentation": a hello */
#define GEN_PROTO 17 /* tp-gen's UDP packets: 32-bit sequence at byte 28 */

struct re_conf {
	int64_t hello, again_ms;
};

struct re {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct re_conf *conf;
	int depth;               /* our callbacks and host calls on the stack */
	struct tp_session *sess; /* the sink's session */
	struct tp_timer *timer;
	uint32_t hello_next, hello_expect, data_expect;
	uint64_t *reentered, *hello_sent, *hello_back, *hello_back_bad;
	uint64_t *hello_seen, *hello_order_bad, *data_seen, *data_order_bad, *data_before_hello;
};

/* Every callback starts with ENTER and ends with LEAVE. */
#define ENTER(r) do { if ((r)->depth++) (*(r)->reentered)++; } while (0)
#define LEAVE(r) ((r)->depth--)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A hello's number, or -1 for anything else. */
static int64_t hello_seq(const struct tp_buf *b)
{
	if (b->len < 24 || b->data[0] != 0x45 || b->data[9] != RE_PROTO)
		return -1;
	return get32(b->data + 20);
}

static void re_hello(struct re *r, struct tp_session *s)
{
	for (int64_t i = 0; i < r->conf->hello; i++) {
		struct tp_batch q = TP_BATCH_INIT;
		struct tp_buf *b = r->host->buf_alloc(r->st, 24);
		if (!b)
			return;
		uint8_t *p = tp_buf_put(b, 24);
		uint32_t n = r->hello_next++;
		memset(p, 0, 24);
		p[0] = 0x45;
		p[3] = 24;
		p[8] = 64;
		p[9] = RE_PROTO;
		p[12] = 10, p[13] = 99, p[14] = 0, p[15] = 2;
		p[16] = 10, p[17] = 99, p[18] = 0, p[19] = 1;
		p[20] = (uint8_t)(n >> 24), p[21] = (uint8_t)(n >> 16), p[22] = (uint8_t)(n >> 8), p[23] = (uint8_t)n;
		tp_batch_add(&q, b);
		(*r->hello_sent)++;
		r->host->emit_down(r->st, s, &q);
	}
}

static void re_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct re *r = ctx;

	ENTER(r);
#ifdef TP_REENTER_SINK
	for (struct tp_buf *b = q->head; b; b = b->next) {
		int64_t h = hello_seq(b);
		if (h >= 0) {
			(*r->hello_seen)++;
			*r->hello_order_bad += (uint32_t)h != r->hello_expect;
			r->hello_expect = (uint32_t)h + 1;
		} else if (b->len >= 32 && b->data[9] == GEN_PROTO) {
			uint32_t n = get32(b->data + 28);
			(*r->data_seen)++;
			*r->data_order_bad += n != r->data_expect;
			*r->data_before_hello += r->hello_expect < (uint32_t)r->conf->hello;
			r->data_expect = n + 1;
		}
	}
	if (!s)
		s = r->sess;
	if (s)
		r->host->emit_up(r->st, s, q);
	else
		r->host->batch_free(r->st, q);
#else
	r->host->emit_down(r->st, s, q);
#endif
	LEAVE(r);
}

static void re_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct re *r = ctx;
	struct tp_batch keep = TP_BATCH_INIT;
	struct tp_buf *b;

	ENTER(r);
	while ((b = tp_batch_pop(q))) {
		int64_t h = hello_seq(b);
		if (h < 0) {
			tp_batch_add(&keep, b);
			continue;
		}
		(*r->hello_back)++;
		*r->hello_back_bad += (uint32_t)h != r->hello_expect;
		r->hello_expect = (uint32_t)h + 1;
		r->host->buf_free(r->st, b);
	}
	r->host->emit_up(r->st, s, &keep);
	LEAVE(r);
}

static int re_session_up(struct re *r)
{
	struct tp_session_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = TP_SI_LOCAL;
	info.addr4.family = AF_INET;
	info.addr4.plen = 24;
	memcpy(info.addr4.addr, (const uint8_t[]){ 10, 99, 0, 2 }, 4);
	info.gw4.family = AF_INET;
	memcpy(info.gw4.addr, (const uint8_t[]){ 10, 99, 0, 1 }, 4);
	info.mtu = 1400;
	return r->host->session_up(r->st, r->sess, &info);
}

/* A host call from a timer: no callback of ours is on the stack. */
static void re_again(void *arg)
{
	struct re *r = arg;

	r->timer = NULL;
	ENTER(r);
	if (r->sess && re_session_up(r) < 0)
		r->host->log(r->st, TP_LOG_ERROR, "tp-reenter-sink: second session_up refused");
	LEAVE(r);
}

static void re_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct re *r = ctx;

	ENTER(r);
	if (ev->type == TP_EV_SESSION_UP)
		re_hello(r, s);
	else if (ev->type == TP_EV_CLOSE_REQUEST && r->sess && s == r->sess) {
		r->sess = NULL;
		r->host->session_close(r->st, s, ev->reason);
	}
	LEAVE(r);
}

static int re_start(void *ctx)
{
	struct re *r = ctx;
	int rc = -1;

	ENTER(r);
	r->sess = r->host->session_open(r->st, r);
	if (r->sess && re_session_up(r) == 0)
		rc = 0;
	if (rc == 0 && r->conf->again_ms > 0)
		r->timer = r->host->timer_add(r->st, (uint64_t)r->conf->again_ms, re_again, r);
	LEAVE(r);
	return rc;
}

static void re_stop(void *ctx)
{
	struct re *r = ctx;

	ENTER(r);
	if (r->timer)
		r->host->timer_cancel(r->st, r->timer);
	r->timer = NULL;
	if (r->sess) {
		struct tp_session *s = r->sess;
		r->sess = NULL;
		r->host->session_close(r->st, s, "stopping");
	}
	LEAVE(r);
}

static void *re_create(struct tp_stage *st, const struct tp_host *host, const void *config,
		       char *err, size_t errlen)
{
	struct re *r = calloc(1, sizeof(*r));

	(void)err;
	(void)errlen;
	if (!r)
		return NULL;
	r->st = st;
	r->host = host;
	r->conf = config;
	r->reentered = host->counter(st, "reentered");
	r->hello_sent = host->counter(st, "hello_sent");
	r->hello_back = host->counter(st, "hello_back");
	r->hello_back_bad = host->counter(st, "hello_back_bad");
	r->hello_seen = host->counter(st, "hello_seen");
	r->hello_order_bad = host->counter(st, "hello_order_bad");
	r->data_seen = host->counter(st, "data_seen");
	r->data_order_bad = host->counter(st, "data_order_bad");
	r->data_before_hello = host->counter(st, "data_before_hello");
	return r;
}

static const struct tp_option re_options[] = {
	TP_OPTION_INT(struct re_conf, hello, "0", 0, 1000,
		      "transform: packets sent down on every SESSION_UP (the sink: how many it expects first)"),
	TP_OPTION_INT(struct re_conf, again_ms, "0", 0, 60000,
		      "sink: declare the session up again after this many ms (0: never)"),
	TP_OPTIONS_END
};

#ifdef TP_REENTER_SINK
TP_PLUGIN_DEFINE(.name = "tp-reenter-sink", .kind = TP_KIND_SINK,
		 .description = "test only: a loopback sink that records re-entry and checks order",
		 .top = TP_DATA_IP, .bottom = TP_DATA_NONE,
		 .options = re_options, .config_size = sizeof(struct re_conf),
		 .create = re_create, .start = re_start, .stop = re_stop, .destroy = free,
		 .down = re_down, .event = re_event);
#else
TP_PLUGIN_DEFINE(.name = "tp-reenter", .kind = TP_KIND_TRANSFORM,
		 .description = "test only: a pass-through that sends hellos on SESSION_UP and records re-entry",
		 .top = TP_DATA_IP, .bottom = TP_DATA_IP,
		 .options = re_options, .config_size = sizeof(struct re_conf),
		 .create = re_create, .destroy = free,
		 .down = re_down, .up = re_up, .event = re_event);
#endif
