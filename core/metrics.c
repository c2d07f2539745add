/* SPDX-License-Identifier: MIT */
/*
 * metrics.c — Prometheus metrics: the text exposition format 0.0.4 over a
 * minimal HTTP/1.x server on the loop (one request per connection, then
 * close), bounded like the control socket (srv.c).
 *
 * A family is written once with its HELP and TYPE and then every sample
 * of every pipeline, as the format wants.  Stage counters form one family
 * labelled by stage and counter name: plugins name their counters freely,
 * and a label value, unlike a metric name, may be anything.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "status.h"

#define MAX_REQUEST 4096
#define MAX_ANSWER (64u << 20)

struct tp_metrics {
	struct tp_srv *srv;
	struct tp_view view;
};

/* A label value: backslash, double quote and newline escaped. */
static void label(struct tp_sbuf *o, const char *name, const char *v, int first)
{
	tp_sbuf_printf(o, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			tp_sbuf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			tp_sbuf_put(o, "\\n", 2);
		else
			tp_sbuf_put(o, v, 1);
	}
	tp_sbuf_put(o, "\"", 1);
}

static void family(struct tp_sbuf *o, const char *name, const char *type, const char *help)
{
	tp_sbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{pipeline="…"[,k="v"]…} value */
static void sample(struct tp_sbuf *o, const char *name, const struct tp_pipeline *pl, const char *const *kv,
		   unsigned long long v)
{
	tp_sbuf_printf(o, "%s{", name);
	label(o, "pipeline", pl->name, 1);
	for (; kv && kv[0]; kv += 2)
		label(o, kv[0], kv[1], 0);
	tp_sbuf_printf(o, "} %llu\n", v);
}

static void traffic(struct tp_sbuf *o, const char *name, const struct tp_pipeline *pl, const char *user,
		    uint64_t rx, uint64_t tx)
{
	const char *rxl[] = { "user", user, "direction", "rx", NULL };
	const char *txl[] = { "user", user, "direction", "tx", NULL };
	sample(o, name, pl, user ? rxl : rxl + 2, rx);
	sample(o, name, pl, user ? txl : txl + 2, tx);
}

void tp_metrics_format(struct tp_pipeline *const *pipes, int n, int per_user, struct tp_sbuf *o)
{
	struct tp_traffic t;
	struct tp_counter c[TP_MAX_COUNTERS];
	struct tp_pool_stats ps;
	int p, nc;

	family(o, "tunpipe_build_info", "gauge", "tunpipe version, always 1");
	tp_sbuf_printf(o, "tunpipe_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n", PACKAGE_VERSION, TP_ABI_MAJOR,
		       TP_ABI_MINOR);
	family(o, "tunpipe_sessions", "gauge", "sessions up now");
	for (p = 0; p < n; p++) {
		unsigned up = 0;
		for (struct tp_session *s = pipes[p]->sessions; s; s = s->next)
			up += (unsigned)s->is_up;
		sample(o, "tunpipe_sessions", pipes[p], NULL, up);
	}
	family(o, "tunpipe_sessions_started_total", "counter", "sessions that came up since start");
	for (p = 0; p < n; p++)
		sample(o, "tunpipe_sessions_started_total", pipes[p], NULL, pipes[p]->sessions_up);
	family(o, "tunpipe_tunnel_packets_total", "counter",
	       "IP packets through the tunnel: rx from peers, tx to peers");
	for (p = 0; p < n; p++) {
		tp_status_traffic(pipes[p], &t);
		traffic(o, "tunpipe_tunnel_packets_total", pipes[p], NULL, t.rx_packets, t.tx_packets);
	}
	family(o, "tunpipe_tunnel_bytes_total", "counter",
	       "bytes of IP packets through the tunnel: rx from peers, tx to peers");
	for (p = 0; p < n; p++) {
		tp_status_traffic(pipes[p], &t);
		traffic(o, "tunpipe_tunnel_bytes_total", pipes[p], NULL, t.rx_bytes, t.tx_bytes);
	}
	if (per_user) {
		static const char *const fam[3][3] = {
			{ "tunpipe_user_sessions", "gauge", "sessions of the user up now" },
			{ "tunpipe_user_packets_total", "counter", "IP packets of the user: rx from, tx to" },
			{ "tunpipe_user_bytes_total", "counter", "bytes of the user's IP packets: rx from, tx to" },
		};
		/* Each user's figures once per scrape (each walks the sessions),
		 * then the three families from them. */
		struct user_fig { int live; struct tp_traffic t; } **fig = calloc((size_t)n + 1, sizeof(*fig));
		for (p = 0; fig && p < n; p++) {
			fig[p] = calloc((size_t)pipes[p]->nusers + 1, sizeof(*fig[p]));
			for (int u = 0; fig[p] && u < pipes[p]->nusers; u++)
				fig[p][u].live = tp_status_user_at(pipes[p], u, &fig[p][u].t);
		}
		for (int f = 0; f < 3; f++) {
			family(o, fam[f][0], fam[f][1], fam[f][2]);
			for (p = 0; fig && p < n; p++)
				for (int u = 0; fig[p] && u < pipes[p]->nusers; u++) {
					const char *user = pipes[p]->users[u].user;
					const char *kv[] = { "user", user, NULL };
					const struct user_fig *g = &fig[p][u];
					if (f == 0)
						sample(o, fam[f][0], pipes[p], kv, (unsigned)g->live);
					else if (f == 1)
						traffic(o, fam[f][0], pipes[p], user, g->t.rx_packets, g->t.tx_packets);
					else
						traffic(o, fam[f][0], pipes[p], user, g->t.rx_bytes, g->t.tx_bytes);
				}
		}
		for (p = 0; fig && p < n; p++)
			free(fig[p]);
		free(fig);
	}
	family(o, "tunpipe_stage_total", "counter",
	       "the counters every stage keeps (per-session stages: all sessions, ended and live)");
	for (p = 0; p < n; p++) {
		struct tp_pipeline *pl = pipes[p];
		char st[96];
		for (int i = 0; i < pl->n; i++) {
			tp_status_stage_counters(pl, i, c, &nc);
			tp_status_stage_label(pl, i, st, sizeof(st));
			for (int k = 0; k < nc; k++) {
				const char *kv[] = { "stage", st, "counter", c[k].name, NULL };
				sample(o, "tunpipe_stage_total", pl, kv, c[k].v);
			}
		}
		for (int k = 0; k < pl->router_stage.ncounters; k++) {
			const char *kv[] = { "stage", "router", "counter", pl->router_stage.counters[k].name, NULL };
			sample(o, "tunpipe_stage_total", pl, kv, pl->router_stage.counters[k].v);
		}
	}
	family(o, "tunpipe_buffers", "gauge", "packet buffers: in use, or cached for reuse");
	for (p = 0; p < n; p++) {
		const char *out[] = { "state", "in_use", NULL }, *cached[] = { "state", "cached", NULL };
		tp_pool_get_stats(pipes[p]->pool, &ps);
		sample(o, "tunpipe_buffers", pipes[p], out, ps.outstanding);
		sample(o, "tunpipe_buffers", pipes[p], cached, ps.cached);
	}
	family(o, "tunpipe_buffer_bytes", "gauge", "memory held by the packet buffer pool");
	for (p = 0; p < n; p++) {
		tp_pool_get_stats(pipes[p]->pool, &ps);
		sample(o, "tunpipe_buffer_bytes", pipes[p], NULL, ps.bytes);
	}
	family(o, "tunpipe_buffers_refused_total", "counter", "buffer allocations refused by max_buffers");
	for (p = 0; p < n; p++) {
		tp_pool_get_stats(pipes[p]->pool, &ps);
		sample(o, "tunpipe_buffers_refused_total", pipes[p], NULL, ps.failed);
	}
}

static void answer(struct tp_sbuf *out, const char *status, const char *extra, const char *body)
{
	tp_sbuf_printf(out, "HTTP/1.0 %s\r\nContent-Type: text/plain; charset=utf-8\r\n%s"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		       status, extra, strlen(body), body);
}

int tp_metrics_http(void *arg, const char *req, size_t len, int full, struct tp_sbuf *out)
{
	const struct tp_view *v = arg;
	char method[16], target[256], version[16];

	if (!strstr(req, "\r\n\r\n") && !strstr(req, "\n\n")) {
		if (!full && strlen(req) == len) /* a NUL inside is no HTTP */
			return 0;
		if (full)
			answer(out, "431 Request Header Fields Too Large", "", "request too large\n");
		else
			answer(out, "400 Bad Request", "", "bad request\n");
		return 1;
	}
	if (sscanf(req, "%15s %255s %15[^\r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		answer(out, "400 Bad Request", "", "bad request\n");
		return 1;
	}
	int head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		answer(out, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "only GET\n");
		return 1;
	}
	size_t tl = strcspn(target, "?");
	if (tl != 8 || strncmp(target, "/metrics", 8)) {
		answer(out, "404 Not Found", "", "not found: try /metrics\n");
		return 1;
	}
	struct tp_sbuf body;
	tp_sbuf_init(&body, out->max);
	tp_metrics_format(v->pipes, v->n, v->per_user, &body);
	if (body.failed) {
		tp_sbuf_free(&body);
		answer(out, "500 Internal Server Error", "", "out of memory\n");
		return 1;
	}
	tp_sbuf_printf(out, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
	if (!head)
		tp_sbuf_put(out, body.p, body.len);
	tp_sbuf_free(&body);
	return 1;
}

struct tp_metrics *tp_metrics_open(struct tp_loop *loop, const char *addr, int per_user,
				   struct tp_pipeline *const *pipes, int n)
{
	static const struct tp_srv_limits lim = {
		.max_request = MAX_REQUEST, .max_answer = MAX_ANSWER, .max_clients = 16, .timeout_ms = 10000,
	};
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[256];
	int one = 1, fd = -1;
	struct tp_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		goto fail;
	m->view.pipes = pipes;
	m->view.n = n;
	m->view.per_user = per_user;
	if (tp_conf_listen_addr(addr, &ss, &sl, err, sizeof(err)) < 0) {
		tp_log(TP_LOG_ERROR, "metrics", "metrics = \"%s\": %s", addr, err);
		goto fail;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		tp_log(TP_LOG_ERROR, "metrics", "cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	m->srv = tp_srv_new(loop, fd, "metrics", &lim, tp_metrics_http, &m->view);
	fd = -1; /* the server owns it now, even on failure */
	if (!m->srv)
		goto fail;
	tp_log(TP_LOG_INFO, "metrics", "serving http://%s/metrics%s", addr,
	       per_user ? "" : " (no per-user series)");
	return m;
fail:
	if (fd >= 0)
		close(fd);
	free(m);
	return NULL;
}

void tp_metrics_close(struct tp_metrics *m)
{
	if (!m)
		return;
	tp_srv_free(m->srv);
	free(m);
}
