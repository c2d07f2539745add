/* SPDX-License-Identifier: MIT */
/*
 * harness-host.c — the harness's struct tp_host (harness.c says why it is a
 * second implementation), the plumbing between the stages of a chain, and
 * the white-box controls of harness.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "harness-priv.h"
#include "deframe.h"
#include "loop.h"

/* ---- host services ---------------------------------------------------- */

static void h_log(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void h_log(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *name = (unsigned)lvl < 4 ? names[lvl] : "?";
	struct tp_harness *h = HH(st);
	char line[1024];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A fuzzer feeds millions of bad inputs, each logged: TP_HARNESS_QUIET
	 * (set by `make fuzz`) keeps the lines out of its output; they are
	 * still counted and kept for the test. */
	static int quiet = -1;
	if (quiet < 0)
		quiet = getenv("TP_HARNESS_QUIET") != NULL;
	if (!quiet)
		fprintf(stderr, "[harness/%s] %s: %s\n", h->stages[st->idx].p->name, name, line);
	if ((unsigned)lvl < 4)
		h->log_counts[lvl]++;
	/* Kept for tp_harness_log_text(): "level: text\n". */
	n = strlen(name) + 2 + strlen(line) + 1;
	if (h->log_len + n + 1 > H_MAX_LOG_TEXT)
		return;
	if (h->log_len + n + 1 > h->log_cap) {
		size_t cap = (h->log_len + n + 1) * 2;
		char *p = realloc(h->log, cap);
		if (!p) {
			fprintf(stderr, "[harness] error: out of memory: log line not kept\n");
			return;
		}
		h->log = p;
		h->log_cap = cap;
	}
	snprintf(h->log + h->log_len, h->log_cap - h->log_len, "%s: %s\n", name, line);
	h->log_len += n;
}

/* Keep the length of a buf_alloc() request (tp_harness_allocs). */
static void h_record_alloc(struct tp_harness *h, size_t len)
{
	if (h->nallocs == H_MAX_ALLOC_RECORD)
		return;
	if (h->nallocs == h->alloc_cap) {
		size_t cap = h->alloc_cap ? h->alloc_cap * 2 : 64;
		size_t *p = realloc(h->alloc_sizes, cap * sizeof(*p));
		if (!p) {
			fprintf(stderr, "[harness] error: out of memory recording buf_alloc\n");
			abort(); /* the record would lie */
		}
		h->alloc_sizes = p;
		h->alloc_cap = cap;
	}
	h->alloc_sizes[h->nallocs++] = len;
}

static struct tp_buf *h_buf_alloc(struct tp_stage *st, size_t len)
{
	struct tp_harness *h = HH(st);

	h_record_alloc(h, len); /* refused requests too */
	if (h->fail_alloc_after >= 0 && h->fail_alloc_after-- == 0)
		return NULL;
	if (h->pool_limit >= 0 && tp_harness_outstanding(h) >= (size_t)h->pool_limit)
		return NULL;
	return tp_pool_alloc(h->pool, len);
}

static void h_buf_free(struct tp_stage *st, struct tp_buf *b) { tp_pool_free(HH(st)->pool, b); }
static void h_batch_free(struct tp_stage *st, struct tp_batch *q) { tp_pool_free_batch(HH(st)->pool, q); }

/* Pass what stage idx emitted to its neighbour, or record it at an end.  An
 * empty batch goes nowhere (the core passes none on).  A stage that emits
 * after stop() breaks the contract: say so loudly and drop the data, so the
 * test sees neither the packets nor a leak. */
void hh_emit(struct tp_harness *h, int idx, int up, struct tp_batch *q)
{
	if (!q->count)
		return;
	if (h->stopped) {
		fprintf(stderr, "[harness/%s] error: emit_%s after stop(); %u buffers dropped\n",
			h->stages[idx].p->name, up ? "up" : "down", (unsigned)q->count);
		tp_pool_free_batch(h->pool, q);
		return;
	}
	if (up && idx > 0) {
		hh_deliver(h, idx - 1, 1, q);
	} else if (!up && idx + 1 < h->nstages) {
		hh_deliver(h, idx + 1, 0, q);
	} else {
		/* The harness's own ends are plain-only stages unless the test
		 * says otherwise (tp_harness_accept_super). */
		hh_plain(h, h->ends_super ? TP_PLUGIN_SUPER : 0, !up, q);
		if (up) {
			h->batches_up++;
			tp_batch_splice(&h->out_up, q);
		} else {
			h->batches_down++;
			tp_batch_splice(&h->out_down, q);
		}
	}
	tp_batch_init(q); /* the contract: the caller's batch comes back empty */
}

/* The emitting stage is busy until emit returns: what its neighbours send
 * it meanwhile waits (harness-queue.c). */
static void h_emit_dir(struct tp_stage *st, struct tp_session *s, struct tp_batch *q, int up)
{
	struct tp_harness *h = HH(st);

	if (s && q->count && (up ? st->idx == 0 : st->idx == h->nstages - 1))
		h->session_emits++;
	hh_enter(&h->stages[st->idx]);
	hh_emit(h, st->idx, up, q);
	hh_leave(h, &h->stages[st->idx]);
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
	struct tp_harness *h = HH(st);
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
	struct tp_harness *h = HH(st);
	struct h_fd *e = fd >= 0 ? h_fd_find(h, fd) : NULL;

	if (!e || (!h->manual_fds && tp_loop_fd_mod(h->loop, fd, events) < 0))
		return -1;
	e->events = events;
	return 0;
}

static void h_fd_del(struct tp_stage *st, int fd)
{
	struct tp_harness *h = HH(st);
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
	return tp_loop_timer_add(HH(st)->loop, ms, cb, arg);
}

static void h_timer_cancel(struct tp_stage *st, struct tp_timer *t) { tp_loop_timer_cancel(HH(st)->loop, t); }
static uint64_t h_now_ms(struct tp_stage *st) { return tp_loop_now_ms(HH(st)->loop); }

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
	struct tp_harness *h = HH(st);
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
	struct tp_harness *h = HH(st);
	size_t n = info->size && info->size < sizeof(h->info) ? info->size : sizeof(h->info);

	(void)s;
	memset(&h->info, 0, sizeof(h->info));
	memcpy(&h->info, info, n);
	h->has_info = 1;
	h->si_flags = h->info.flags;
	/* As the core: TP_EV_SESSION_UP to every other stage, top first; what
	 * their handlers send the caller waits until this returns. */
	if (!h->stopped) {
		struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &h->info };

		hh_enter(&h->stages[st->idx]);
		for (int i = 0; i < h->nstages; i++)
			if (i != st->idx)
				hh_event(h, i, &ev);
		hh_leave(h, &h->stages[st->idx]);
	}
	return 0;
}

static void h_session_close(struct tp_stage *st, struct tp_session *s, const char *reason)
{
	struct tp_harness *h = HH(st);

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

static const char *h_stack(struct tp_stage *st) { return HH(st)->stack; }

static int h_net_announce(struct tp_stage *st, const struct tp_net_info *net)
{
	struct tp_harness *h = HH(st);
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
	return tp_deframer_new(&HH(st)->host, st, hdr_bytes, len_fn, arg);
}

/* ---- stage handles ------------------------------------------------------ */

static struct tp_harness *hh_live;

void hh_live_add(struct tp_harness *h)
{
	h->live_next = hh_live;
	hh_live = h;
}

void hh_live_remove(struct tp_harness *h)
{
	for (struct tp_harness **pp = &hh_live; *pp; pp = &(*pp)->live_next)
		if (*pp == h) {
			*pp = h->live_next;
			return;
		}
}

struct tp_harness *hh_h(struct tp_stage *st, const char *service)
{
	for (struct tp_harness *h = hh_live; h; h = h->live_next)
		for (int i = 0; i < h->nstages; i++)
			if (st == &h->stages[i].st)
				return h;
	/* service is the function's name: h_buf_alloc for host->buf_alloc */
	ck_abort_msg("harness: host->%s() was given %p, which is no stage handle of a live harness "
		     "(a plugin must pass the st its create() got)",
		     strncmp(service, "h_", 2) ? service : service + 2, (void *)st);
	return NULL; /* not reached */
}

void hh_host_init(struct tp_host *host)
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
	hh_flush_all(h); /* the end of this "round" */
}

const struct tp_net_info *tp_harness_net_info(const struct tp_harness *h)
{
	return h->has_net ? &h->net : NULL;
}

int tp_harness_net_announces(const struct tp_harness *h) { return h->net_announces; }
size_t tp_harness_session_emits(const struct tp_harness *h) { return h->session_emits; }
void *tp_harness_instance(struct tp_harness *h, int stage) { return h->stages[stage].ctx; }

struct tp_stage *tp_harness_stage_handle(struct tp_harness *h, int stage) { return &h->stages[stage].st; }
const struct tp_host *tp_harness_host(const struct tp_harness *h) { return &h->host; }

size_t tp_harness_allocs(const struct tp_harness *h, const size_t **sizes)
{
	if (sizes)
		*sizes = h->alloc_sizes;
	return h->nallocs;
}

void tp_harness_allocs_clear(struct tp_harness *h) { h->nallocs = 0; }
void tp_harness_fail_alloc_after(struct tp_harness *h, long n) { h->fail_alloc_after = n < 0 ? -1 : n; }

const char *tp_harness_log_text(const struct tp_harness *h) { return h->log ? h->log : ""; }

int tp_harness_log_count(const struct tp_harness *h, enum tp_log_level lvl)
{
	return (unsigned)lvl < 4 ? h->log_counts[lvl] : 0;
}

void tp_harness_log_clear(struct tp_harness *h)
{
	h->log_len = 0;
	if (h->log)
		h->log[0] = '\0';
	memset(h->log_counts, 0, sizeof(h->log_counts));
}
