/* SPDX-License-Identifier: MIT */
/*
 * hello — the smallest useful third-party tunpipe plugin.
 *
 * Built outside the tunpipe tree, against the installed header only:
 *     cc -shared -fPIC -o hello.so hello.c $(pkg-config --cflags tunpipe-plugin)
 * It passes every packet through unchanged and counts them; when its
 * session ends (stop) it logs "hello: N packets (D down, U up)".
 */
#include <stdlib.h>
#include <tunpipe/plugin.h>

struct hello {
	struct tp_stage *st;
	const struct tp_host *host;
	uint64_t *down, *up;
};

static void hello_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct hello *h = ctx;

	*h->down += q->count;
	h->host->emit_down(h->st, s, q);
}

static void hello_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct hello *h = ctx;

	*h->up += q->count;
	h->host->emit_up(h->st, s, q);
}

static void *hello_create(struct tp_stage *st, const struct tp_host *host, const void *config,
			  char *err, size_t errlen)
{
	struct hello *h = calloc(1, sizeof(*h));

	(void)config;
	(void)err;
	(void)errlen;
	if (!h)
		return NULL;
	h->st = st;
	h->host = host;
	h->down = host->counter(st, "hello_down");
	h->up = host->counter(st, "hello_up");
	return h;
}

static void hello_stop(void *ctx)
{
	struct hello *h = ctx;

	h->host->log(h->st, TP_LOG_INFO, "hello: %llu packets (%llu down, %llu up)",
		     (unsigned long long)(*h->down + *h->up), (unsigned long long)*h->down,
		     (unsigned long long)*h->up);
}

/* The ABI version and struct sizes are filled in by the macro. */
TP_PLUGIN_DEFINE(.name = "hello", .kind = TP_KIND_TRANSFORM,
		 .description = "example third-party plugin: counts packets, says hello",
		 .top = TP_DATA_IP, .bottom = TP_DATA_IP,
		 .create = hello_create, .stop = hello_stop, .destroy = free,
		 .down = hello_down, .up = hello_up);
