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
 * A harness holds a chain of one or more stages, top (index 0) to bottom:
 * what stage i emits down is stage i+1's down(), what stage i+1 emits up is
 * stage i's up(); the ends are queues the test pulls from.  The stages share
 * one pool, one loop (on the test clock, harness-clock.c) and one session.
 *
 * What the fake host does NOT do: it does not broadcast session events back
 * into the stages (session_up/close only record), and it has no router.  A
 * test delivers events itself with tp_harness_event().
 *
 * A buffer still out of the pool when the harness is freed fails the Check
 * test that freed it, naming the stages and the count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <libconfig.h>

#include "harness.h"
#include "harness-clock.h"
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
#define H_MAX_STAGES 8
#define H_MAX_FDS 16

/* The harness's own definitions of the opaque handles; plugins only ever
 * hold pointers to them.  A stage knows its place in the chain. */
struct tp_stage {
	struct tp_harness *h;
	int idx;
};

struct tp_session {
	void *tag;
	int open;   /* handed out by session_open and not closed yet */
	int closed; /* session_close was called on it */
};

/* An fd a stage registered (watched by the loop unless fds are manual). */
struct h_fd {
	int fd; /* -1: slot free */
	uint32_t events;
	tp_fd_cb cb;
	void *arg;
};

struct h_counter {
	char name[48];
	uint64_t value;
};

/* One plugin instance of the chain, with what it alone did. */
struct h_stage {
	struct tp_stage st;
	const struct tp_plugin *p;
	void *ctx;
	config_t cfg; /* owns the option strings the stage may keep */
	struct tp_optset *opts;
	struct h_counter counters[H_MAX_COUNTERS];
	int ncounters;
	uint64_t counter_overflow; /* handed out when the table is full */
	int aborts;
	char abort_reason[128];
};

struct tp_harness {
	struct tp_host host;
	struct h_stage stages[H_MAX_STAGES];
	int nstages;
	int started, stopped;

	struct tp_loader *ld;
	struct tp_pool *pool;
	struct tp_loop *loop;

	struct tp_batch out_down, out_up;
	size_t batches_down, batches_up;
	size_t session_emits; /* batches that reached an end with a session */
	long pool_limit;      /* buffers the stages may hold, -1: no limit */
	int manual_fds;
	struct h_fd fds[H_MAX_FDS];
	int last_fd;

	/* sessions[0] is the harness's session, passed to every callback. */
	struct tp_session sessions[H_MAX_SESSIONS];
	int closes;
	char close_reason[128];
	struct tp_session_info info;
	int has_info;
	struct tp_net_info net;
	int has_net, net_announces;
	char stack[256];
	char names[256]; /* "a > b", for messages after the plugins are unloaded */
};

#define ST(st) (&(st)->h->stages[(st)->idx])

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

	fprintf(stderr, "[harness/%s] %s: ", ST(st)->p->name, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct tp_buf *h_buf_alloc(struct tp_stage *st, size_t len)
{
	struct tp_harness *h = st->h;

	if (h->pool_limit >= 0 && tp_harness_outstanding(h) >= (size_t)h->pool_limit)
		return NULL;
	return tp_pool_alloc(h->pool, len);
}

static void h_buf_free(struct tp_stage *st, struct tp_buf *b) { tp_pool_free(st->h->pool, b); }
static void h_batch_free(struct tp_stage *st, struct tp_batch *q) { tp_pool_free_batch(st->h->pool, q); }

static void h_deliver(struct tp_harness *h, int idx, int up, struct tp_batch *q);

/* Pass what stage idx emitted to its neighbour, or record it at an end.  A
 * stage that emits after stop() breaks the contract: say so loudly and drop
 * the data, so the test sees neither the packets nor a leak. */
static void h_emit(struct tp_harness *h, int idx, int up, struct tp_batch *q)
{
	if (h->stopped) {
		fprintf(stderr, "[harness/%s] error: emit_%s after stop(); %u buffers dropped\n",
			h->stages[idx].p->name, up ? "up" : "down", (unsigned)q->count);
		tp_pool_free_batch(h->pool, q);
		return;
	}
	if (up && idx > 0) {
		h_deliver(h, idx - 1, 1, q);
	} else if (!up && idx + 1 < h->nstages) {
		h_deliver(h, idx + 1, 0, q);
	} else if (up) {
		h->batches_up++;
		tp_batch_splice(&h->out_up, q);
	} else {
		h->batches_down++;
		tp_batch_splice(&h->out_down, q);
	}
}

/* Feed stage idx; a missing callback means pass-through, as in the core. */
static void h_deliver(struct tp_harness *h, int idx, int up, struct tp_batch *q)
{
	struct h_stage *s = &h->stages[idx];
	void (*fn)(void *, struct tp_session *, struct tp_batch *) = up ? s->p->up : s->p->down;

	if (fn)
		fn(s->ctx, &h->sessions[0], q);
	else
		h_emit(h, idx, up, q);
}

static void h_emit_dir(struct tp_stage *st, struct tp_session *s, struct tp_batch *q, int up)
{
	struct tp_harness *h = st->h;

	if (s && (up ? st->idx == 0 : st->idx == h->nstages - 1))
		h->session_emits++;
	h_emit(h, st->idx, up, q);
}

static void h_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q) { h_emit_dir(st, s, q, 0); }
static void h_emit_up(struct tp_stage *st, struct tp_session *s, struct tp_batch *q) { h_emit_dir(st, s, q, 1); }

static struct h_fd *h_fd_find(struct tp_harness *h, int fd)
{
	for (int i = 0; i < H_MAX_FDS; i++)
		if (h->fds[i].fd == fd)
			return &h->fds[i];
	return NULL;
}

/* Every registration is recorded, so a test can look at it and fire it;
 * with manual fds that is all that happens (no loop). */
static int h_fd_add(struct tp_stage *st, int fd, uint32_t events, tp_fd_cb cb, void *arg)
{
	struct tp_harness *h = st->h;
	struct h_fd *e = fd >= 0 ? h_fd_find(h, -1) : NULL;

	if (!e || h_fd_find(h, fd)) {
		fprintf(stderr, "[harness/%s] error: fd_add(%d): bad, duplicate or over %d fds\n",
			ST(st)->p->name, fd, H_MAX_FDS);
		return -1;
	}
	if (!h->manual_fds && tp_loop_fd_add(h->loop, fd, events, cb, arg) < 0)
		return -1;
	e->fd = fd;
	e->events = events;
	e->cb = cb;
	e->arg = arg;
	h->last_fd = fd;
	return 0;
}

static int h_fd_mod(struct tp_stage *st, int fd, uint32_t events)
{
	struct tp_harness *h = st->h;
	struct h_fd *e = fd >= 0 ? h_fd_find(h, fd) : NULL;

	if (!e || (!h->manual_fds && tp_loop_fd_mod(h->loop, fd, events) < 0))
		return -1;
	e->events = events;
	return 0;
}

static void h_fd_del(struct tp_stage *st, int fd)
{
	struct tp_harness *h = st->h;
	struct h_fd *e = fd >= 0 ? h_fd_find(h, fd) : NULL;

	if (!h->manual_fds)
		tp_loop_fd_del(h->loop, fd);
	if (e)
		e->fd = -1;
	if (h->last_fd == fd)
		h->last_fd = -1;
}

static struct tp_timer *h_timer_add(struct tp_stage *st, uint64_t ms, tp_timer_cb cb, void *arg)
{
	return tp_loop_timer_add(st->h->loop, ms, cb, arg);
}

static void h_timer_cancel(struct tp_stage *st, struct tp_timer *t) { tp_loop_timer_cancel(st->h->loop, t); }
static uint64_t h_now_ms(struct tp_stage *st) { return tp_loop_now_ms(st->h->loop); }

static uint64_t *h_counter(struct tp_stage *st, const char *name)
{
	struct h_stage *h = ST(st);
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
		ST(st)->p->name, H_MAX_SESSIONS);
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
		fprintf(stderr, "[harness/%s] error: session_close on a closed session\n", ST(st)->p->name);
	if (s) {
		s->open = 0;
		s->closed = 1;
	}
}

static void h_session_abort(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	struct h_stage *h = ST(st);

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
	h->net_announces++;
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
static int h_parse_options(struct h_stage *s, const char *options)
{
	static const struct tp_option no_options[] = { TP_OPTIONS_END };
	const struct tp_option *table = s->p->options ? s->p->options : no_options;
	const config_setting_t *group = NULL;
	struct tp_diag d;
	char *text = NULL;
	size_t textlen = 0;
	FILE *mem;

	if (options) {
		if (config_read_string(&s->cfg, options) != CONFIG_TRUE) {
			set_error("%s: options line %d: %s", s->p->name,
				  config_error_line(&s->cfg), config_error_text(&s->cfg));
			return -1;
		}
		group = config_root_setting(&s->cfg);
	}
	mem = open_memstream(&text, &textlen);
	if (!mem) {
		set_error("open_memstream: %s", strerror(errno));
		return -1;
	}
	tp_diag_init(&d, mem);
	s->opts = tp_options_parse(table, s->p->config_size, group, "<harness>",
				   s->p->name, &d);
	fclose(mem);
	if (!s->opts || d.errors) {
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

/* Load the plugin of spec "name" or "name: options" and check its options
 * (the instance is created once the shared pool exists). */
static int h_load_stage(struct tp_harness *h, const char *spec)
{
	struct h_stage *s = &h->stages[h->nstages];
	const char *colon = strchr(spec, ':');
	char name[128], err[512] = "";
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	while (n && spec[n - 1] == ' ')
		n--;
	if (h->nstages == H_MAX_STAGES || n == 0 || n >= sizeof(name)) {
		set_error("bad stage '%s' (or more than %d stages)", spec, H_MAX_STAGES);
		return -1;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	config_init(&s->cfg);
	s->st.h = h;
	s->st.idx = h->nstages++;
	s->p = tp_loader_get(h->ld, name, err, sizeof(err));
	if (!s->p) {
		set_error("%s", err[0] ? err : "plugin failed to load (no reason given)");
		return -1;
	}
	snprintf(h->names + strlen(h->names), sizeof(h->names) - strlen(h->names), "%s%s",
		 s->st.idx ? " > " : "", s->p->name);
	return h_parse_options(s, colon ? colon + 1 : NULL);
}

struct tp_harness *tp_harness_new_chain(const char *const specs[])
{
	struct tp_harness *h;
	size_t headroom = 0, tailroom = 0;
	int i;

	last_error[0] = '\0';
	h = calloc(1, sizeof(*h));
	if (!h) {
		set_error("out of memory");
		return NULL;
	}
	snprintf(h->stack, sizeof(h->stack), "framer-ip");
	h->pool_limit = -1;
	h->last_fd = -1;
	for (i = 0; i < H_MAX_FDS; i++)
		h->fds[i].fd = -1;
	h_host_init(&h->host);
	tp_batch_init(&h->out_down);
	tp_batch_init(&h->out_up);

	h->ld = tp_loader_new();
	if (!h->ld) {
		set_error("tp_loader_new failed");
		goto fail;
	}
	tp_loader_add_default_paths(h->ld);
	for (i = 0; specs[i]; i++) {
		if (h_load_stage(h, specs[i]) < 0)
			goto fail;
		headroom += h->stages[i].p->headroom;
		tailroom += h->stages[i].p->tailroom;
	}
	if (h->nstages == 0) {
		set_error("no stage given");
		goto fail;
	}

	/* Room for every stage's header, as the core sizes its pools. */
	h->pool = tp_pool_new(headroom > H_HEADROOM ? headroom : H_HEADROOM,
			      H_TAILROOM + tailroom, H_DEFAULT_LEN, 0);
	h->loop = tp_loop_new();
	if (!h->pool || !h->loop || hc_attach(h->loop) < 0) {
		set_error("cannot create the buffer pool or the event loop");
		goto fail;
	}
	/* The harness session exists from the start, like a transform's
	 * session does in the core. */
	h->sessions[0].open = 1;

	for (i = 0; i < h->nstages; i++) {
		struct h_stage *s = &h->stages[i];
		char err[512] = "";

		s->ctx = s->p->create(&s->st, &h->host, tp_optset_config(s->opts), err, sizeof(err));
		if (!s->ctx) {
			set_error("%s: create failed: %s", s->p->name, err[0] ? err : "(no reason given)");
			goto fail;
		}
	}
	return h;

fail:
	tp_harness_free(h);
	return NULL;
}

struct tp_harness *tp_harness_new(const char *plugin, const char *options)
{
	char spec[4096];
	const char *specs[] = { spec, NULL };

	if (snprintf(spec, sizeof(spec), "%s%s%s", plugin, options ? ":" : "",
		     options ? options : "") >= (int)sizeof(spec)) {
		set_error("options too long");
		return NULL;
	}
	return tp_harness_new_chain(specs);
}

int tp_harness_start(struct tp_harness *h)
{
	int i;

	if (h->started)
		return 0;
	/* Let a sink's session_open() hand out the harness session. */
	if (h->stages[h->nstages - 1].p->kind == TP_KIND_SINK)
		h->sessions[0].open = 0;
	/* Bottom first: an endpoint below may open the session the stages
	 * above then see. */
	for (i = h->nstages - 1; i >= 0; i--) {
		struct h_stage *s = &h->stages[i];

		if (s->p->start && s->p->start(s->ctx) < 0) {
			set_error("%s: start failed", s->p->name);
			return -1;
		}
	}
	h->started = 1;
	return 0;
}

void tp_harness_stop(struct tp_harness *h)
{
	if (h->started)
		for (int i = 0; i < h->nstages; i++)
			if (h->stages[i].ctx && h->stages[i].p->stop)
				h->stages[i].p->stop(h->stages[i].ctx);
	h->started = 0;
	h->stopped = 1;
}

void tp_harness_free(struct tp_harness *h)
{
	size_t leaked = 0;
	char names[sizeof(h->names)];
	int i;

	if (!h)
		return;
	tp_harness_stop(h);
	for (i = h->nstages - 1; i >= 0; i--)
		if (h->stages[i].ctx)
			h->stages[i].p->destroy(h->stages[i].ctx);
	if (h->pool) {
		tp_pool_free_batch(h->pool, &h->out_down);
		tp_pool_free_batch(h->pool, &h->out_up);
		leaked = tp_pool_destroy(h->pool);
	}
	if (h->loop) {
		hc_detach(h->loop);
		tp_loop_free(h->loop);
	}
	for (i = 0; i < h->nstages; i++) {
		if (h->stages[i].opts)
			tp_optset_free(h->stages[i].opts);
		config_destroy(&h->stages[i].cfg);
	}
	/* Last: dlclose() unmaps the plugins' code and their name strings. */
	if (h->ld)
		tp_loader_free(h->ld);
	snprintf(names, sizeof(names), "%s", h->names);
	free(h);
	/* A leak is a failed test, not a line in a log nobody reads. */
	if (leaked)
		ck_abort_msg("harness (%s): %zu buffers never returned to the pool", names, leaked);
}

/* ---- data ------------------------------------------------------------- */

struct tp_buf *tp_harness_buf(struct tp_harness *h, const void *data, size_t len)
{
	struct tp_buf *b = tp_pool_alloc(h->pool, len);

	if (!b) {
		fprintf(stderr, "[harness/%s] error: pool refused a %zu-byte buffer\n", h->names, len);
		abort(); /* a test cannot go on meaningfully */
	}
	if (len)
		memcpy(tp_buf_put(b, len), data, len);
	return b;
}

void tp_harness_push_down_batch(struct tp_harness *h, struct tp_batch *q)
{
	h_deliver(h, 0, 0, q);
}

void tp_harness_push_up_batch(struct tp_harness *h, struct tp_batch *q)
{
	h_deliver(h, h->nstages - 1, 1, q);
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
	for (int i = 0; i < h->nstages; i++)
		if (h->stages[i].p->event)
			h->stages[i].p->event(h->stages[i].ctx, &h->sessions[0], ev);
}

int tp_harness_stages(const struct tp_harness *h) { return h->nstages; }

uint64_t tp_harness_stage_counter(const struct tp_harness *h, int stage, const char *name)
{
	const struct h_stage *s = &h->stages[stage];

	for (int i = 0; i < s->ncounters; i++)
		if (strcmp(s->counters[i].name, name) == 0)
			return s->counters[i].value;
	return 0;
}

uint64_t tp_harness_counter(const struct tp_harness *h, const char *name)
{
	return tp_harness_stage_counter(h, 0, name);
}

int tp_harness_stage_aborts(const struct tp_harness *h, int stage)
{
	return h->stages[stage].aborts;
}

const char *tp_harness_stage_abort_reason(const struct tp_harness *h, int stage)
{
	return h->stages[stage].aborts ? h->stages[stage].abort_reason : NULL;
}

int tp_harness_aborts(const struct tp_harness *h)
{
	int n = 0;

	for (int i = 0; i < h->nstages; i++)
		n += h->stages[i].aborts;
	return n;
}

/* The reason of the topmost stage that aborted (NULL if none did). */
const char *tp_harness_abort_reason(const struct tp_harness *h)
{
	for (int i = 0; i < h->nstages; i++)
		if (h->stages[i].aborts)
			return h->stages[i].abort_reason;
	return NULL;
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

/* ---- white-box access ---------------------------------------------------- */

void tp_harness_set_pool_limit(struct tp_harness *h, long limit) { h->pool_limit = limit; }
void tp_harness_manual_fds(struct tp_harness *h, int on) { h->manual_fds = on; }

int tp_harness_fd(const struct tp_harness *h, uint32_t *events)
{
	const struct h_fd *e = NULL;

	for (int i = 0; h->last_fd >= 0 && i < H_MAX_FDS; i++)
		if (h->fds[i].fd == h->last_fd)
			e = &h->fds[i];
	if (events)
		*events = e ? e->events : 0;
	return e ? e->fd : -1;
}

void tp_harness_fd_fire(struct tp_harness *h, int fd, uint32_t events)
{
	struct h_fd *e = fd >= 0 ? h_fd_find(h, fd) : NULL;

	ck_assert_msg(e != NULL, "harness (%s): fd %d is not registered", h->names, fd);
	e->cb(e->arg, fd, events);
}

const struct tp_net_info *tp_harness_net_info(const struct tp_harness *h)
{
	return h->has_net ? &h->net : NULL;
}

int tp_harness_net_announces(const struct tp_harness *h) { return h->net_announces; }
size_t tp_harness_session_emits(const struct tp_harness *h) { return h->session_emits; }
void *tp_harness_instance(struct tp_harness *h, int stage) { return h->stages[stage].ctx; }
