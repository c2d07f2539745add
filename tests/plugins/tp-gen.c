/* SPDX-License-Identifier: MIT */
/*
 * tp-gen — TEST-ONLY source endpoint: generates numbered IPv4/UDP packets
 * and checks what comes back.
 *
 * Each timer tick emits up to `batch` packets (10.99.0.2 → 10.99.0.1, UDP
 * 9999 → 9999) down, until `count` were sent.  Packet N carries N in the IP
 * id (low 16 bits), as a 32-bit big-endian number at the start of the UDP
 * payload (when size >= 32), and the byte pattern (N + i) & 0xff after it,
 * so up() can tell loss, reordering and corruption apart from success.
 *
 * Test-only behaviour: once `count` good packets came back up it logs
 * "tp-gen: all N packets came back" and raises SIGTERM on its own process,
 * which makes tunpipe shut down cleanly and print its counters.  Never put
 * this plugin in a real pipeline.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <tunpipe/plugin.h>

#define GEN_SRC 0x0a630002u /* 10.99.0.2 */
#define GEN_DST 0x0a630001u /* 10.99.0.1 */
#define GEN_PORT 9999
#define GEN_HDR 28 /* IPv4 + UDP */

struct gen_conf {
	int64_t count, size, batch, interval_ms;
};

struct gen {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct gen_conf *conf;
	struct tp_timer *timer;
	uint32_t sent, next_seq;
	int done;
	uint64_t *down_packets, *alloc_failed;
	uint64_t *up_packets, *up_bytes, *up_bad, *session_up;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* RFC 1071 sum over the 20-byte header; 0 when a stored checksum is right. */
static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += get16(h + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void gen_fill(uint8_t *p, uint32_t size, uint32_t seq)
{
	uint32_t i;

	memset(p, 0, GEN_HDR);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)size);
	put16(p + 4, (uint16_t)seq);
	put16(p + 6, 0x4000); /* DF */
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, GEN_SRC);
	put32(p + 16, GEN_DST);
	put16(p + 10, ip_csum(p));
	put16(p + 20, GEN_PORT);
	put16(p + 22, GEN_PORT);
	put16(p + 24, (uint16_t)(size - 20)); /* UDP checksum 0: none (IPv4) */
	i = GEN_HDR;
	if (size >= GEN_HDR + 4) {
		put32(p + GEN_HDR, seq);
		i += 4;
	}
	for (; i < size; i++)
		p[i] = (uint8_t)(seq + i);
}

/* The sequence number of a packet exactly as gen_fill made it, or -1. */
static int64_t gen_check(const struct gen *g, const struct tp_buf *b)
{
	const uint8_t *p = b->data;
	uint32_t size = (uint32_t)g->conf->size, seq, i;

	if (b->len != size || p[0] != 0x45 || get16(p + 2) != size || ip_csum(p) != 0 ||
	    p[9] != 17 || get32(p + 12) != GEN_SRC || get32(p + 16) != GEN_DST ||
	    get16(p + 24) != size - 20)
		return -1;
	i = GEN_HDR;
	if (size >= GEN_HDR + 4) {
		seq = get32(p + GEN_HDR);
		i += 4;
		if ((uint16_t)seq != get16(p + 4))
			return -1;
	} else {
		/* Only the IP id: take the high bits from what we expect. */
		seq = (g->next_seq & ~0xffffu) | get16(p + 4);
	}
	for (; i < size; i++)
		if (p[i] != (uint8_t)(seq + i))
			return -1;
	return seq;
}

static void gen_tick(void *arg)
{
	struct gen *g = arg;
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_buf *b;
	int64_t n;

	g->timer = NULL;
	for (n = 0; n < g->conf->batch && g->sent < g->conf->count; n++) {
		b = g->host->buf_alloc(g->st, (size_t)g->conf->size);
		if (!b) {
			(*g->alloc_failed)++; /* pool exhausted: retry next tick */
			break;
		}
		gen_fill(tp_buf_put(b, (size_t)g->conf->size), (uint32_t)g->conf->size, g->sent);
		tp_batch_add(&q, b);
		g->sent++;
	}
	*g->down_packets += q.count;
	if (q.count)
		g->host->emit_down(g->st, NULL, &q);
	if (g->sent < g->conf->count)
		g->timer = g->host->timer_add(g->st, (uint64_t)g->conf->interval_ms, gen_tick, g);
}

static void gen_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct gen *g = ctx;
	struct tp_buf *b;
	int64_t seq;

	(void)s;
	for (b = q->head; b; b = b->next) {
		seq = gen_check(g, b);
		if (seq < 0 || (uint32_t)seq != g->next_seq) {
			/* Corrupt: assume it was the expected one.  Out of order:
			 * resync so one loss costs one bad count, not all that follow. */
			(*g->up_bad)++;
			g->next_seq = seq < 0 ? g->next_seq + 1 : (uint32_t)seq + 1;
			continue;
		}
		g->next_seq++;
		(*g->up_packets)++;
		*g->up_bytes += b->len;
	}
	g->host->batch_free(g->st, q);
	if (!g->done && *g->up_packets >= (uint64_t)g->conf->count) {
		g->done = 1;
		g->host->log(g->st, TP_LOG_INFO, "tp-gen: all %llu packets came back",
			     (unsigned long long)*g->up_packets);
		raise(SIGTERM);
	}
}

static void gen_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct gen *g = ctx;
	char a[INET_ADDRSTRLEN] = "?";

	(void)s;
	if (ev->type != TP_EV_SESSION_UP || !ev->info)
		return;
	(*g->session_up)++;
	if (ev->info->addr4.family == AF_INET)
		inet_ntop(AF_INET, ev->info->addr4.addr, a, sizeof(a));
	g->host->log(g->st, TP_LOG_INFO, "tp-gen: session up, address %s/%u", a,
		     ev->info->addr4.plen);
}

static void *gen_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen)
{
	struct gen *g = calloc(1, sizeof(*g));

	(void)err;
	(void)errlen;
	if (!g)
		return NULL;
	g->st = st;
	g->host = host;
	g->conf = config;
	g->down_packets = host->counter(st, "down_packets");
	g->alloc_failed = host->counter(st, "alloc_failed");
	g->up_packets = host->counter(st, "up_packets");
	g->up_bytes = host->counter(st, "up_bytes");
	g->up_bad = host->counter(st, "up_bad");
	g->session_up = host->counter(st, "session_up");
	return g;
}

static int gen_start(void *ctx)
{
	struct gen *g = ctx;

	g->timer = g->host->timer_add(g->st, (uint64_t)g->conf->interval_ms, gen_tick, g);
	if (!g->timer) {
		g->host->log(g->st, TP_LOG_ERROR, "tp-gen: cannot arm the timer");
		return -1;
	}
	return 0;
}

static void gen_stop(void *ctx)
{
	struct gen *g = ctx;

	if (g->timer)
		g->host->timer_cancel(g->st, g->timer);
	g->timer = NULL;
}

static const struct tp_option gen_options[] = {
	TP_OPTION_INT(struct gen_conf, count, "100", 1, 100000000, "packets to send"),
	TP_OPTION_INT(struct gen_conf, size, "100", GEN_HDR, 1500,
		      "bytes per packet, IP header included"),
	TP_OPTION_INT(struct gen_conf, batch, "8", 1, 1024, "packets emitted per timer tick"),
	TP_OPTION_INT(struct gen_conf, interval_ms, "1", 0, 60000, "milliseconds between ticks"),
	TP_OPTIONS_END
};

TP_PLUGIN_DEFINE(.name = "tp-gen", .kind = TP_KIND_SOURCE,
		 .description = "test only: generate numbered IPv4/UDP packets and check them "
				"coming back",
		 .top = TP_DATA_NONE, .bottom = TP_DATA_IP,
		 .options = gen_options, .config_size = sizeof(struct gen_conf),
		 .create = gen_create, .start = gen_start, .stop = gen_stop, .destroy = free,
		 .up = gen_up, .event = gen_event);
