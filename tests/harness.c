/*
 * harness.c — one plugin instance between fake ends (see harness.h).
 *
 * The harness is deliberately a second, independent implementation of
 * struct tp_host: a plugin that works here and in the real core is coded to
 * the contract in plugin.h, not to one host's accidents.  It reuses the
 * core's loader, option parser, buffer pool and event loop, because those
 * are exactly what a plugin sees in production (and because a leak must
 * show up in the real pool's statistics).
 *
 * What the fake host does NOT do: it does not broadcast session events back
 * into the stage (session_up/close only record), and it has no router.  A
 * test delivers events itself with tp_harness_event().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libconfig.h>

#include "harness.h"
#include "buf.h"
#include "conf.h"
#include "deframe.h"
#include "loader.h"
#include "loop.h"

#define H_HEADROOM 64
#define H_TAILROOM 64
#define H_DEFAULT_LEN 2048
#define H_MAX_COUNTERS 32
#define H_MAX_SESSIONS 8

/* The harness's own definitions of the opaque handles; plugins only ever
 * hold pointers to them. */
struct tp_stage {
	struct tp_harness *h;
};

struct tp_session {
	void *tag;
	int open;   /* handed out by session_open and not closed yet */
	int closed; /* session_close was called on it */
};

struct h_counter {
	char name[48];
	uint64_t value;
};

struct tp_harness {
	struct tp_stage stage;
	struct tp_host host;
	const struct tp_plugin *p;
	void *ctx;
	int started, stopped;

	struct tp_loader *ld;
	config_t cfg; /* owns the option strings the stage may keep */
	struct tp_optset *opts;
	struct tp_pool *pool;
	struct tp_loop *loop;

	struct tp_batch out_down, out_up;
	size_t batches_down, batches_up;

	struct h_counter counters[H_MAX_COUNTERS];
	int ncounters;
	uint64_t counter_overflow; /* handed out when the table is full */

	/* sessions[0] is the harness's session, passed to every callback. */
	struct tp_session sessions[H_MAX_SESSIONS];
	int aborts, closes;
	char abort_reason[128], close_reason[128];
	struct tp_session_info info;
	int has_info;
	struct tp_net_info net;
	int has_net;
	char stack[256];
};

static char last_error[1024];

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *tp_harness_last_error(void) { return last_error; }

/* ---- host services ---------------------------------------------------- */

static void h_log(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void h_log(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *name = (unsigned)lvl < 4 ? names[lvl] : "?";
	va_list ap;

	fprintf(stderr, "[harness/%s] %s: ", st->h->p->name, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct tp_buf *h_buf_alloc(struct tp_stage *st, size_t len) { return tp_pool_alloc(st->h->pool, len); }
static void h_buf_free(struct tp_stage *st, struct tp_buf *b) { tp_pool_free(st->h->pool, b); }
static void h_batch_free(struct tp_stage *st, struct tp_batch *q) { tp_pool_free_batch(st->h->pool, q); }

/* Record what the stage emitted.  A stage that emits after stop() breaks
 * the contract: say so loudly and drop the data, so the test sees neither
 * the packets nor a leak. */
static void h_emit(struct tp_harness *h, int up, struct tp_batch *q)
{
	if (up)
		h->batches_up++;
	else
		h->batches_down++;
	if (h->stopped) {
		fprintf(stderr, "[harness/%s] error: emit_%s after stop(); %u buffers dropped\n",
			h->p->name, up ? "up" : "down", (unsigned)q->count);
		tp_pool_free_batch(h->pool, q);
		return;
	}
	tp_batch_splice(up ? &h->out_up : &h->out_down, q);
}

static void h_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q) { (void)s; h_emit(st->h, 0, q); }
static void h_emit_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q) { (void)s; h_emit(st->h, 1, q); }

static int h_fd_add(struct tp_stage *st, int fd, uint32_t events, tp_fd_cb cb, void *arg)
{
	return tp_loop_fd_add(st->h->loop, fd, events, cb, arg);
}

static int h_fd_mod(struct tp_stage *st, int fd, uint32_t events) { return tp_loop_fd_mod(st->h->loop, fd, events); }
static void h_fd_del(struct tp_stage *st, int fd) { tp_loop_fd_del(st->h->loop, fd); }

static struct tp_timer *h_timer_add(struct tp_stage *st, uint64_t ms, tp_timer_cb cb, void *arg)
{
	return tp_loop_timer_add(st->h->loop, ms, cb, arg);
}

static void h_timer_cancel(struct tp_stage *st, struct tp_timer *t) { tp_loop_timer_cancel(st->h->loop, t); }
static uint64_t h_now_ms(struct tp_stage *st) { return tp_loop_now_ms(st->h->loop); }

static uint64_t *h_counter(struct tp_stage *st, const char *name)
{
	struct tp_harness *h = st->h;
	struct h_counter *c;
	int i;

	for (i = 0; i < h->ncounters; i++)
		if (strcmp(h->counters[i].name, name) == 0)
			return &h->counters[i].value;
	if (h->ncounters == H_MAX_COUNTERS || strlen(name) >= sizeof(c->name)) {
		/* The contract has no failure return: hand out a scratch slot so
		 * the plugin keeps working, and make the test's author notice. */
		fprintf(stderr, "[harness/%s] error: counter '%s' not recorded (table full or name too long)\n",
			h->p->name, name);
		return &h->counter_overflow;
	}
	c = &h->counters[h->ncounters++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->value = 0;
	return &c->value;
}

static struct tp_session *h_session_open(struct tp_stage *st, void *tag)
{
	struct tp_harness *h = st->h;
	int i;

	/* The first session opened is the harness's own session, so that what a
	 * sink emits and what tests push carry the same handle. */
	for (i = 0; i < H_MAX_SESSIONS; i++) {
		struct tp_session *s = &h->sessions[i];

		if (!s->open && !s->closed) {
			s->open = 1;
			s->tag = tag;
			return s;
		}
	}
	fprintf(stderr, "[harness/%s] error: session_open: all %d fake sessions used\n",
		h->p->name, H_MAX_SESSIONS);
	return NULL;
}

static void *h_session_tag(struct tp_session *s) { return s ? s->tag : NULL; }

static void h_prefix4(struct tp_prefix *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t plen)
{
	memset(p, 0, sizeof(*p));
	p->family = 2; /* AF_INET, without pulling in the socket headers */
	p->plen = plen;
	p->addr[0] = a;
	p->addr[1] = b;
	p->addr[2] = c;
	p->addr[3] = d;
}

static int h_lease(struct tp_stage *st, struct tp_session *s, const char *user,
		   struct tp_session_info *info)
{
	(void)st;
	(void)s;
	(void)user;
	h_prefix4(&info->addr4, 10, 0, 0, 2, 24);
	h_prefix4(&info->gw4, 10, 0, 0, 1, 32);
	info->mtu = 1400;
	return 0;
}

static int h_session_up(struct tp_stage *st, struct tp_session *s, const struct tp_session_info *info)
{
	struct tp_harness *h = st->h;
	size_t n = info->size && info->size < sizeof(h->info) ? info->size : sizeof(h->info);

	(void)s;
	memset(&h->info, 0, sizeof(h->info));
	memcpy(&h->info, info, n);
	h->has_info = 1;
	return 0;
}

static void h_session_close(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	struct tp_harness *h = st->h;

	h->closes++;
	snprintf(h->close_reason, sizeof(h->close_reason), "%s", reason ? reason : "");
	if (s && s->closed)
		fprintf(stderr, "[harness/%s] error: session_close on a closed session\n", h->p->name);
	if (s) {
		s->open = 0;
		s->closed = 1;
	}
}

static void h_session_abort(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	struct tp_harness *h = st->h;

	(void)s;
	h->aborts++;
	snprintf(h->abort_reason, sizeof(h->abort_reason), "%s", reason ? reason : "");
}

static const char *h_stack(struct tp_stage *st) { return st->h->stack; }

static int h_net_announce(struct tp_stage *st, const struct tp_net_info *net)
{
	struct tp_harness *h = st->h;
	size_t n = net->size && net->size < sizeof(h->net) ? net->size : sizeof(h->net);

	memset(&h->net, 0, sizeof(h->net));
	memcpy(&h->net, net, n);
	h->has_net = 1;
	return 0;
}

/* Reassembly is the core's own code, not a second implementation: what is
 * under test is the framer's length function and its use of the service. */
static struct tp_deframer *h_deframer_new(struct tp_stage *st, uint32_t hdr_bytes,
					  tp_frame_len_fn len_fn, void *arg)
{
	return tp_deframer_new(&st->h->host, st, hdr_bytes, len_fn, arg);
}

static void h_host_init(struct tp_host *host)
{
	memset(host, 0, sizeof(*host));
	host->size = sizeof(*host);
	host->abi_major = TP_ABI_MAJOR;
	host->abi_minor = TP_ABI_MINOR;
	host->log = h_log;
	host->buf_alloc = h_buf_alloc;
	host->buf_free = h_buf_free;
	host->batch_free = h_batch_free;
	host->emit_down = h_emit_down;
	host->emit_up = h_emit_up;
	host->fd_add = h_fd_add;
	host->fd_mod = h_fd_mod;
	host->fd_del = h_fd_del;
	host->timer_add = h_timer_add;
	host->timer_cancel = h_timer_cancel;
	host->now_ms = h_now_ms;
	host->counter = h_counter;
	host->session_open = h_session_open;
	host->session_tag = h_session_tag;
	host->lease = h_lease;
	host->session_up = h_session_up;
	host->session_close = h_session_close;
	host->session_abort = h_session_abort;
	host->stack = h_stack;
	host->net_announce = h_net_announce;
	host->deframer_new = h_deframer_new;
	host->deframe = tp_deframe;
	host->deframer_pending = tp_deframer_pending;
	host->deframer_free = tp_deframer_free;
}

/* ---- life cycle ------------------------------------------------------- */

/* Validate `options` with the core's parser; diagnostics land in
 * last_error through a memory stream. */
static int h_parse_options(struct tp_harness *h, const char *options)
{
	static const struct tp_option no_options[] = { TP_OPTIONS_END };
	const struct tp_option *table = h->p->options ? h->p->options : no_options;
	const config_setting_t *group = NULL;
	struct tp_diag d;
	char *text = NULL;
	size_t textlen = 0;
	FILE *mem;

	if (options) {
		if (config_read_string(&h->cfg, options) != CONFIG_TRUE) {
			set_error("%s: options line %d: %s", h->p->name,
				  config_error_line(&h->cfg), config_error_text(&h->cfg));
			return -1;
		}
		group = config_root_setting(&h->cfg);
	}
	mem = open_memstream(&text, &textlen);
	if (!mem) {
		set_error("open_memstream: %s", strerror(errno));
		return -1;
	}
	tp_diag_init(&d, mem);
	h->opts = tp_options_parse(table, h->p->config_size, group, "<harness>",
				   h->p->name, &d);
	fclose(mem);
	if (!h->opts || d.errors) {
		/* Keep the diagnostics verbatim (trailing newline dropped). */
		if (textlen && text[textlen - 1] == '\n')
			text[textlen - 1] = '\0';
		set_error("%s", textlen ? text : "options rejected (no diagnostic printed)");
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

struct tp_harness *tp_harness_new(const char *plugin, const char *options)
{
	struct tp_harness *h;
	char err[512] = "";
	size_t headroom;

	last_error[0] = '\0';
	h = calloc(1, sizeof(*h));
	if (!h) {
		set_error("out of memory");
		return NULL;
	}
	config_init(&h->cfg);
	h->stage.h = h;
	snprintf(h->stack, sizeof(h->stack), "framer-ip");
	h_host_init(&h->host);
	tp_batch_init(&h->out_down);
	tp_batch_init(&h->out_up);

	h->ld = tp_loader_new();
	if (!h->ld) {
		set_error("tp_loader_new failed");
		goto fail;
	}
	tp_loader_add_default_paths(h->ld);
	h->p = tp_loader_get(h->ld, plugin, err, sizeof(err));
	if (!h->p) {
		set_error("%s", err[0] ? err : "plugin failed to load (no reason given)");
		goto fail;
	}
	if (h_parse_options(h, options) < 0)
		goto fail;

	headroom = h->p->headroom > H_HEADROOM ? h->p->headroom : H_HEADROOM;
	h->pool = tp_pool_new(headroom, H_TAILROOM + h->p->tailroom, H_DEFAULT_LEN, 0);
	h->loop = tp_loop_new();
	if (!h->pool || !h->loop) {
		set_error("cannot create the buffer pool or the event loop");
		goto fail;
	}
	/* The harness session exists from the start, like a transform's
	 * session does in the core. */
	h->sessions[0].open = 1;

	err[0] = '\0';
	h->ctx = h->p->create(&h->stage, &h->host, tp_optset_config(h->opts), err, sizeof(err));
	if (!h->ctx) {
		set_error("%s: create failed: %s", plugin, err[0] ? err : "(no reason given)");
		goto fail;
	}
	return h;

fail:
	tp_harness_free(h);
	return NULL;
}

int tp_harness_start(struct tp_harness *h)
{
	if (h->started)
		return 0;
	/* Let a sink's session_open() hand out the harness session. */
	if (h->p->kind == TP_KIND_SINK)
		h->sessions[0].open = 0;
	if (h->p->start && h->p->start(h->ctx) < 0) {
		set_error("%s: start failed", h->p->name);
		return -1;
	}
	h->started = 1;
	return 0;
}

void tp_harness_free(struct tp_harness *h)
{
	size_t leaked;

	if (!h)
		return;
	if (h->ctx) {
		if (h->started && h->p->stop)
			h->p->stop(h->ctx);
		h->stopped = 1;
		h->p->destroy(h->ctx);
	}
	if (h->pool) {
		tp_pool_free_batch(h->pool, &h->out_down);
		tp_pool_free_batch(h->pool, &h->out_up);
		leaked = tp_pool_destroy(h->pool);
		if (leaked)
			fprintf(stderr, "[harness/%s] error: %zu buffers never returned to the pool\n",
				h->p ? h->p->name : "?", leaked);
	}
	if (h->loop)
		tp_loop_free(h->loop);
	if (h->opts)
		tp_optset_free(h->opts);
	config_destroy(&h->cfg);
	/* Last: dlclose() unmaps the plugin's code and its name string. */
	if (h->ld)
		tp_loader_free(h->ld);
	free(h);
}

/* ---- data ------------------------------------------------------------- */

struct tp_buf *tp_harness_buf(struct tp_harness *h, const void *data, size_t len)
{
	struct tp_buf *b = tp_pool_alloc(h->pool, len);

	if (!b) {
		fprintf(stderr, "[harness/%s] error: pool refused a %zu-byte buffer\n", h->p->name, len);
		abort(); /* a test cannot go on meaningfully */
	}
	if (len)
		memcpy(tp_buf_put(b, len), data, len);
	return b;
}

void tp_harness_push_down_batch(struct tp_harness *h, struct tp_batch *q)
{
	/* A missing callback means pass-through, as in the core. */
	if (h->p->down)
		h->p->down(h->ctx, &h->sessions[0], q);
	else
		h_emit(h, 0, q);
}

void tp_harness_push_up_batch(struct tp_harness *h, struct tp_batch *q)
{
	if (h->p->up)
		h->p->up(h->ctx, &h->sessions[0], q);
	else
		h_emit(h, 1, q);
}

void tp_harness_push_down(struct tp_harness *h, const void *data, size_t len)
{
	struct tp_batch q = TP_BATCH_INIT;

	tp_batch_add(&q, tp_harness_buf(h, data, len));
	tp_harness_push_down_batch(h, &q);
}

void tp_harness_push_up(struct tp_harness *h, const void *data, size_t len)
{
	struct tp_batch q = TP_BATCH_INIT;

	tp_batch_add(&q, tp_harness_buf(h, data, len));
	tp_harness_push_up_batch(h, &q);
}

struct tp_buf *tp_harness_pull_down(struct tp_harness *h) { return tp_batch_pop(&h->out_down); }
struct tp_buf *tp_harness_pull_up(struct tp_harness *h) { return tp_batch_pop(&h->out_up); }
size_t tp_harness_queued_down(const struct tp_harness *h) { return h->out_down.count; }
size_t tp_harness_queued_up(const struct tp_harness *h) { return h->out_up.count; }
size_t tp_harness_batches_down(const struct tp_harness *h) { return h->batches_down; }
size_t tp_harness_batches_up(const struct tp_harness *h) { return h->batches_up; }

void tp_harness_buf_free(struct tp_harness *h, struct tp_buf *b)
{
	if (b)
		tp_pool_free(h->pool, b);
}

/* ---- events and observations ------------------------------------------ */

void tp_harness_event(struct tp_harness *h, const struct tp_event *ev)
{
	if (h->p->event)
		h->p->event(h->ctx, &h->sessions[0], ev);
}

uint64_t tp_harness_counter(const struct tp_harness *h, const char *name)
{
	int i;

	for (i = 0; i < h->ncounters; i++)
		if (strcmp(h->counters[i].name, name) == 0)
			return h->counters[i].value;
	return 0;
}

int tp_harness_aborts(const struct tp_harness *h) { return h->aborts; }

const char *tp_harness_abort_reason(const struct tp_harness *h)
{
	return h->aborts ? h->abort_reason : NULL;
}

size_t tp_harness_outstanding(const struct tp_harness *h)
{
	struct tp_pool_stats s;

	tp_pool_get_stats(h->pool, &s);
	return s.outstanding;
}

struct tp_session *tp_harness_session(struct tp_harness *h) { return &h->sessions[0]; }

void tp_harness_set_stack(struct tp_harness *h, const char *stack)
{
	snprintf(h->stack, sizeof(h->stack), "%s", stack ? stack : "");
}

const struct tp_session_info *tp_harness_session_info(const struct tp_harness *h)
{
	return h->has_info ? &h->info : NULL;
}

static uint64_t h_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tp_harness_run(struct tp_harness *h, int ms)
{
	uint64_t deadline = h_mono_ms() + (uint64_t)(ms > 0 ? ms : 0);
	uint64_t now;

	/* Always one round, so ms == 0 still dispatches what is ready. */
	do {
		now = h_mono_ms();
		if (tp_loop_run_once(h->loop, now < deadline ? (int)(deadline - now) : 0) < 0) {
			fprintf(stderr, "[harness/%s] error: event loop failed\n", h->p->name);
			return;
		}
	} while (h_mono_ms() < deadline);
}
