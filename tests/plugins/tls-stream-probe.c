/* SPDX-License-Identifier: MIT */
/*
 * tls-stream-probe — TEST-ONLY sink: the tls-http plugin's TLS byte stream
 * (plugins/tls-http/conn.h) alone, as the TLS client on a socket the test
 * made (option fd), with no HTTP and no role on top.  It opens the stream
 * as soon as TLS is up, sends what comes down, emits up what it reads,
 * and counts its end.  tests/unit/test_tls_stream.c drives it in the
 * harness against a TLS peer of its own, to see the records on the wire.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <tunpipe/plugin.h>
#include "conn.h"

struct probe_conf {
	int64_t fd;
	int frames;
	int64_t deadline;
	int64_t queue_limit;
};

struct probe {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct probe_conf *cf;
	SSL_CTX *ssl;
	struct th_conn_env env;
	struct th_conn *k;
	uint64_t *c_opened, *c_closed, *c_expired;
};

static const struct tp_option probe_options[] = {
	TP_OPTION_INT(struct probe_conf, fd, NULL, 0, 65535, "the connected socket", .flags = TP_OPT_REQUIRED),
	TP_OPTION_BOOL(struct probe_conf, frames, "false", "one TLS record per buffer", .flags = 0),
	TP_OPTION_INT(struct probe_conf, deadline, "0", 0, 100000, "ms to be open in; 0: none", .flags = 0),
	TP_OPTION_INT(struct probe_conf, queue_limit, "1048576", 16384, 1073741824, "bytes queued", .flags = 0),
	TP_OPTIONS_END
};

static void probe_secure(struct th_conn *k)
{
	struct probe *p = k->owner;
	th_conn_open(k);
	(*p->c_opened)++;
}

static void probe_input(struct th_conn *k)
{
	(void)k; /* never: the stream is opened as soon as it is secure */
}

static void probe_data(struct th_conn *k, struct tp_batch *q)
{
	struct probe *p = k->owner;
	p->host->emit_up(p->st, NULL, q);
}

static void probe_closed(struct th_conn *k)
{
	struct probe *p = k->owner;
	(*p->c_closed)++;
	if (!strcmp(k->why, "probe deadline"))
		(*p->c_expired)++;
	p->host->log(p->st, TP_LOG_DEBUG, "stream closed: %s", k->why);
	th_conn_free(k);
	p->k = NULL;
}

static const struct th_conn_ops probe_ops = {
	.secure = probe_secure,
	.input = probe_input,
	.data = probe_data,
	.closed = probe_closed,
};

static void probe_destroy(void *ctx)
{
	struct probe *p = ctx;
	SSL_CTX_free(p->ssl);
	free(p);
}

static void *probe_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			  char *err, size_t errlen)
{
	struct probe *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->st = st;
	p->host = host;
	p->cf = config;
	p->ssl = SSL_CTX_new(TLS_client_method());
	if (!p->ssl) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		probe_destroy(p);
		return NULL;
	}
	/* The same modes the plugin sets: whole records, retried as is. */
	SSL_CTX_clear_mode(p->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_mode(p->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(p->ssl, SSL_VERIFY_NONE, NULL);
	p->c_opened = host->counter(st, "opened");
	p->c_closed = host->counter(st, "closed");
	p->c_expired = host->counter(st, "expired");
	p->env = (struct th_conn_env){
		.st = st, .host = host, .ssl = p->ssl,
		.queue_limit = (size_t)p->cf->queue_limit, .keepalive = 0,
		.c_bytes_in = host->counter(st, "bytes_in"),
		.c_bytes_out = host->counter(st, "bytes_out"),
		.c_queue_drops = host->counter(st, "queue_drops"),
	};
	return p;
}

static int probe_start(void *ctx)
{
	struct probe *p = ctx;
	p->k = th_conn_connect(&p->env, (int)p->cf->fd, "test peer", &probe_ops, p);
	if (!p->k)
		return -1;
	th_conn_set_frames(p->k, p->cf->frames);
	if (p->cf->deadline && th_conn_deadline(p->k, (uint64_t)p->cf->deadline, "probe deadline") < 0)
		return -1;
	return 0;
}

static void probe_stop(void *ctx)
{
	struct probe *p = ctx;
	if (p->k)
		th_conn_free(p->k);
	p->k = NULL;
}

static void probe_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct probe *p = ctx;
	struct th_conn *k = p->k;
	(void)s;
	if (!k) {
		p->host->batch_free(p->st, q);
		return;
	}
	th_conn_enter(k);
	th_conn_queue(k, q);
	th_conn_leave(k);
}

TP_PLUGIN_DEFINE(.name = "tls-stream-probe", .kind = TP_KIND_SINK,
		 .description = "test only: the tls-http TLS byte stream alone, client side",
		 .top = TP_DATA_STREAM, .bottom = TP_DATA_NONE,
		 .options = probe_options, .config_size = sizeof(struct probe_conf),
		 .create = probe_create, .start = probe_start, .stop = probe_stop,
		 .destroy = probe_destroy, .down = probe_down);
