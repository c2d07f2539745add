/* SPDX-License-Identifier: MIT */
/*
 * tp-loop — TEST-ONLY sink endpoint: a network that answers every packet
 * with itself.
 *
 * At start it opens one session and declares it up as a client would after
 * a handshake (TP_SI_LOCAL, 10.99.0.2/24 via 10.99.0.1, MTU 1400), so the
 * router sends it every down packet.  down() hands each batch straight back
 * up on the same session.  A TP_EV_CLOSE_REQUEST closes the session, as a
 * real transport would tear its connection down.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <tunpipe/plugin.h>

struct lp {
	struct tp_stage *st;
	const struct tp_host *host;
	struct tp_session *sess; /* NULL once closed */
	uint64_t *down_packets, *down_bytes, *sessions_closed;
};

static void lp_prefix4(struct tp_prefix *p, uint8_t last, uint8_t plen)
{
	static const uint8_t net[3] = { 10, 99, 0 };

	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->plen = plen;
	memcpy(p->addr, net, sizeof(net));
	p->addr[3] = last;
}

static void lp_close(struct lp *l, const char *reason)
{
	struct tp_session *s = l->sess;

	if (!s)
		return;
	/* Forget it first: session_close may call back into event(). */
	l->sess = NULL;
	(*l->sessions_closed)++;
	l->host->session_close(l->st, s, reason);
}

static void lp_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct lp *l = ctx;

	*l->down_packets += q->count;
	*l->down_bytes += q->bytes;
	if (!s)
		s = l->sess;
	if (!s) { /* nothing to loop it back on */
		l->host->batch_free(l->st, q);
		return;
	}
	l->host->emit_up(l->st, s, q);
}

static void lp_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct lp *l = ctx;

	if (ev->type == TP_EV_CLOSE_REQUEST && s && s == l->sess)
		lp_close(l, ev->reason ? ev->reason : "close requested");
}

static int lp_start(void *ctx)
{
	struct lp *l = ctx;
	struct tp_session_info info;

	l->sess = l->host->session_open(l->st, l);
	if (!l->sess)
		return -1; /* the host logged why */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = TP_SI_LOCAL;
	lp_prefix4(&info.addr4, 2, 24);
	lp_prefix4(&info.gw4, 1, 32);
	info.mtu = 1400;
	strcpy(info.peer, "loopback");
	if (l->host->session_up(l->st, l->sess, &info) < 0) {
		l->host->log(l->st, TP_LOG_ERROR, "tp-loop: session_up refused");
		lp_close(l, "session_up refused");
		return -1;
	}
	return 0;
}

static void lp_stop(void *ctx)
{
	lp_close(ctx, "stopping");
}

static void *lp_create(struct tp_stage *st, const struct tp_host *host, const void *config,
		       char *err, size_t errlen)
{
	struct lp *l = calloc(1, sizeof(*l));

	(void)config;
	(void)err;
	(void)errlen;
	if (!l)
		return NULL;
	l->st = st;
	l->host = host;
	l->down_packets = host->counter(st, "down_packets");
	l->down_bytes = host->counter(st, "down_bytes");
	l->sessions_closed = host->counter(st, "sessions_closed");
	return l;
}

TP_PLUGIN_DEFINE(.name = "tp-loop", .kind = TP_KIND_SINK,
		 .description = "test only: one local session that sends every packet back up",
		 .top = TP_DATA_IP | TP_DATA_MSG | TP_DATA_STREAM, .bottom = TP_DATA_NONE,
		 .create = lp_create, .start = lp_start, .stop = lp_stop, .destroy = free,
		 .down = lp_down, .event = lp_event);
