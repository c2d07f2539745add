/* SPDX-License-Identifier: MIT */
/*
 * harness.c — plugin instances between fake ends (see harness.h).
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
 * As in the core, a stage's callbacks never nest (harness-queue.c), and
 * host->session_up() sends TP_EV_SESSION_UP to every other stage.  What the
 * fake host does NOT do: session_close() only records (no SESSION_DOWN
 * broadcast; a test delivers it with tp_harness_event()), there is one
 * session and no router.
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

#include "harness-priv.h"
#include "harness-clock.h"
#include "loader.h"
#include "loop.h"

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
	hh_live_add(h); /* from here its stage handles are accepted */
	h->pool_limit = -1;
	h->fail_alloc_after = -1;
	h->last_fd = -1;
	for (i = 0; i < H_MAX_FDS; i++)
		h->fds[i].fd = -1;
	hh_host_init(&h->host);
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
		if (hh_start(h, i) < 0) {
			set_error("%s: start failed", h->stages[i].p->name);
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
			hh_stop(h, i);
	hh_drop_queues(h);
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
	hh_live_remove(h);
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
	free(h->alloc_sizes);
	free(h->log);
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
	hh_deliver(h, 0, 0, q);
}

void tp_harness_push_up_batch(struct tp_harness *h, struct tp_batch *q)
{
	hh_deliver(h, h->nstages - 1, 1, q);
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
	if (ev->type == TP_EV_SESSION_UP && ev->info)
		h->si_flags = ev->info->flags;
	for (int i = 0; i < h->nstages; i++)
		hh_event(h, i, ev);
}

int tp_harness_stages(const struct tp_harness *h) { return h->nstages; }

void tp_harness_accept_super(struct tp_harness *h, int on) { h->ends_super = on; }

uint64_t tp_harness_super_split(const struct tp_harness *h, uint64_t *segments, uint64_t *bad)
{
	if (segments)
		*segments = h->split[1];
	if (bad)
		*bad = h->split[2] + h->split[3];
	return h->split[0];
}

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

