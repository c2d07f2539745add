/* SPDX-License-Identifier: MIT */
/*
 * framer.c — the glue every framer used to carry: a deframer per session
 * instance, up() and down() around the plugin's format hooks, the abort of
 * a session whose stream cannot be framed, the log of a stream cut
 * mid-frame, and the counters.  See framer.h for how it is installed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "deframe.h"
#include "framer.h"

struct fr {
	const struct tp_framer_class *fc;
	const struct tp_host *host;
	struct tp_stage *st;
	void *ctx;              /* the plugin's instance */
	struct tp_deframer *df; /* NULL once the session ended */
	int dead;               /* the stream was refused: aborted once */
	uint64_t *up_n, *up_bytes, *down_n, *down_bytes, *truncated, *dropped;
	char why[128];
	char reason[192]; /* handed to session_abort(); lives as long as we do */
};

static const struct tp_framer_class *class_of(const void *config)
{
	const struct tp_option *rows = tp_optset_table_of(config);
	const struct tp_framer_table *t;

	if (!rows)
		return NULL;
	t = (const void *)((const unsigned char *)rows - offsetof(struct tp_framer_table, rows));
	return t->magic == TP_FRAMER_TABLE_MAGIC ? t->fc : NULL;
}

/* The deframer's length function: the plugin's, plus the one log line and
 * the abort reason when it refuses the stream. */
static int64_t fr_len(void *arg, const uint8_t *p, size_t avail)
{
	struct fr *f = arg;
	int64_t r;

	f->why[0] = '\0';
	r = f->fc->framing.frame_len(f->ctx, p, avail, f->why, sizeof(f->why));
	if (r != -1)
		return r;
	snprintf(f->reason, sizeof(f->reason), "%s: %s in the stream from the peer",
		 f->fc->orig.name, f->why[0] ? f->why : "a frame that cannot be sized");
	f->host->log(f->st, TP_LOG_WARN, "%s; closing the session", f->reason);
	return -1;
}

static uint64_t *unit_counter(struct fr *f, const char *dir)
{
	const char *unit = f->fc->framing.unit ? f->fc->framing.unit : "frames";
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", dir, unit);
	return f->host->counter(f->st, name);
}

static void *fr_create(struct tp_stage *st, const struct tp_host *host, const void *config,
		       char *err, size_t errlen)
{
	const struct tp_framer_class *fc = class_of(config);
	struct fr *f = NULL;

	if (!fc) {
		snprintf(err, errlen, "framer created with a config not parsed against its own table");
		goto fail;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f->fc = fc;
	f->host = host;
	f->st = st;
	f->up_n = unit_counter(f, "up");
	f->up_bytes = host->counter(st, "up_bytes");
	f->down_n = unit_counter(f, "down");
	f->down_bytes = host->counter(st, "down_bytes");
	f->truncated = host->counter(st, "truncated");
	/* The deframer counts what it drops after a refusal in this same
	 * counter (same name, same slot); we add what arrives after the end. */
	f->dropped = host->counter(st, "dropped");
	f->ctx = (void *)config;
	if (fc->orig.create && !(f->ctx = fc->orig.create(st, host, config, err, errlen)))
		goto fail;
	snprintf(f->reason, sizeof(f->reason), "%s: the stream from the peer cannot be framed",
		 fc->orig.name);
	f->df = tp_deframer_new(host, st, fc->framing.hdr_bytes, fr_len, f);
	if (!f->df) {
		snprintf(err, errlen, "cannot create the stream deframer");
		goto fail_ctx;
	}
	return f;

fail_ctx:
	if (fc->orig.create && fc->orig.destroy)
		fc->orig.destroy(f->ctx);
fail:
	free(f);
	return NULL;
}

static void fr_destroy(void *ctx)
{
	struct fr *f = ctx;

	if (!f)
		return;
	tp_deframer_free(f->df);
	if (f->fc->orig.create && f->fc->orig.destroy)
		f->fc->orig.destroy(f->ctx);
	free(f);
}

static int fr_start(void *ctx)
{
	struct fr *f = ctx;
	return f->fc->orig.start ? f->fc->orig.start(f->ctx) : 0;
}

static void fr_stop(void *ctx)
{
	struct fr *f = ctx;

	if (f->fc->orig.stop)
		f->fc->orig.stop(f->ctx);
}

static void fr_wire_id(void *ctx, char *buf, size_t len)
{
	struct fr *f = ctx;

	f->fc->orig.wire_id(f->ctx, buf, len);
}

static void fr_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct fr *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	if (!f->df) { /* after SESSION_DOWN: nowhere to go */
		*f->dropped += q->bytes;
		f->host->batch_free(f->st, q);
		return;
	}
	/* There is no way to find the next frame after a refused one: the
	 * first refusal aborts the session and the deframer drops (and
	 * counts) everything after. */
	if (tp_deframe(f->df, q, &out) < 0 && !f->dead) {
		f->dead = 1;
		f->host->session_abort(f->st, s, f->reason);
	}
	/* Frames completed before a refusal in the same call are sound: they
	 * still go up, as one batch. */
	out.bytes = 0;
	for (b = out.head; b; b = b->next) {
		if (f->fc->framing.frame_up)
			f->fc->framing.frame_up(f->ctx, b);
		out.bytes += b->len;
	}
	*f->up_n += out.count;
	*f->up_bytes += out.bytes;
	if (out.count)
		f->host->emit_up(f->st, s, &out);
}

static void fr_down(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct fr *f = ctx;
	struct tp_batch out = TP_BATCH_INIT;
	struct tp_buf *b;

	while ((b = tp_batch_pop(q))) {
		if (f->fc->framing.frame_down && f->fc->framing.frame_down(f->ctx, b) < 0) {
			f->host->buf_free(f->st, b);
			continue;
		}
		/* Framed: the bytes are stream now, whatever metadata the
		 * format encoded in them. */
		memset(&b->off, 0, sizeof(b->off));
		(*f->down_n)++;
		*f->down_bytes += b->len;
		tp_batch_add(&out, b);
	}
	if (out.count)
		f->host->emit_down(f->st, s, &out);
}

static void fr_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct fr *f = ctx;
	size_t held;

	if (ev->type == TP_EV_SESSION_DOWN && f->df) {
		held = tp_deframer_pending(f->df);
		if (held) {
			(*f->truncated)++;
			f->host->log(f->st, TP_LOG_INFO,
				     "stream ended inside a frame (%zu bytes of it received)", held);
		}
		/* Give a half-received frame's buffer back now, not at destroy(). */
		tp_deframer_free(f->df);
		f->df = NULL;
	}
	if (f->fc->orig.event)
		f->fc->orig.event(f->ctx, s, ev);
}

int tp_framer_check(const struct tp_plugin *p, const struct tp_framing *fr, char *err,
		    size_t errlen)
{
	const char *bad = NULL;

	if (fr->size < sizeof(struct tp_framing))
		bad = "its struct tp_framing is shorter than ABI 1.1's";
	else if (!fr->frame_len)
		bad = "it has no frame_len";
	else if (fr->hdr_bytes == 0 || fr->hdr_bytes > TP_DEFRAME_MAX_HDR)
		bad = "hdr_bytes is not within 1..64";
	else if (p->kind != TP_KIND_TRANSFORM || !(p->bottom & TP_DATA_STREAM))
		bad = "a framer is a transform with a byte stream (TP_DATA_STREAM) below";
	else if (p->up || p->down)
		bad = "a framer leaves up() and down() to the core";
	else if (!p->create != !p->destroy)
		bad = "a framer has both create() and destroy() or neither";
	if (!bad)
		return 0;
	snprintf(err, errlen, "bad framing: %s", bad);
	return -1;
}

void tp_framer_install(struct tp_plugin *desc, const struct tp_framer_class *fc)
{
	desc->create = fr_create;
	desc->destroy = fr_destroy;
	desc->start = fc->orig.start ? fr_start : NULL;
	desc->stop = fc->orig.stop ? fr_stop : NULL;
	desc->up = fr_up;
	desc->down = fr_down;
	desc->event = fr_event;
	desc->wire_id = fc->orig.wire_id ? fr_wire_id : NULL;
}
