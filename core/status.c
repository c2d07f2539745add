/* SPDX-License-Identifier: MIT */
/*
 * status.c — the live status of the pipelines, for `tunpipe status`
 * (text for people, JSON for programs), and the sums metrics.c reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "buf.h"
#include "loop.h"
#include "status.h"

void tp_status_stage_counters(struct tp_pipeline *pl, int index, struct tp_counter *out, int *n)
{
	struct tp_tmpl *t = &pl->t[index];
	struct tp_stage *st = tp_stage_at(pl, NULL, index);

	*n = 0;
	if (st) { /* an endpoint: one instance for the pipeline's life */
		tp_counter_fold(out, n, TP_MAX_COUNTERS, st->counters, st->ncounters);
		return;
	}
	tp_counter_fold(out, n, TP_MAX_COUNTERS, t->totals, t->ntotals);
	struct tp_session *lists[2] = { pl->sessions, pl->dead };
	for (int l = 0; l < 2; l++)
		for (struct tp_session *s = lists[l]; s; s = s->next)
			if ((st = tp_stage_at(pl, s, index)))
				tp_counter_fold(out, n, TP_MAX_COUNTERS, st->counters, st->ncounters);
}

void tp_status_traffic(struct tp_pipeline *pl, struct tp_traffic *t)
{
	*t = pl->ended;
	struct tp_session *lists[2] = { pl->sessions, pl->dead };
	for (int l = 0; l < 2; l++)
		for (struct tp_session *s = lists[l]; s; s = s->next)
			tp_traffic_add(t, &s->traffic);
}

/* base (the user's ended sessions, or zero) plus the user's sessions up
 * now or closed and not yet reaped; how many of them are live. */
static int user_figures(struct tp_pipeline *pl, const char *user, const struct tp_traffic *base,
			struct tp_traffic *t)
{
	int live = 0;

	*t = *base;
	struct tp_session *lists[2] = { pl->sessions, pl->dead };
	for (int l = 0; l < 2; l++)
		for (struct tp_session *s = lists[l]; s; s = s->next) {
			if (!s->is_up || strcmp(s->info.user, user))
				continue;
			tp_traffic_add(t, &s->traffic);
			live += l == 0;
		}
	return live;
}

int tp_status_user(struct tp_pipeline *pl, const char *user, struct tp_traffic *t)
{
	static const struct tp_traffic zero;
	for (int i = 0; i < pl->nusers; i++)
		if (!strcmp(pl->users[i].user, user))
			return tp_status_user_at(pl, i, t);
	return user_figures(pl, user, &zero, t); /* no session of theirs ended yet */
}

int tp_status_user_at(struct tp_pipeline *pl, int i, struct tp_traffic *t)
{
	return user_figures(pl, pl->users[i].user, &pl->users[i].traffic, t);
}

void tp_status_stage_label(const struct tp_pipeline *pl, int index, char *buf, size_t len)
{
	const char *name = pl->t[index].p->name;
	int dup = 0;

	for (int i = 0; i < pl->n; i++)
		dup += !strcmp(pl->t[i].p->name, name);
	if (dup > 1)
		snprintf(buf, len, "%s#%d", name, index + 1);
	else
		snprintf(buf, len, "%s", name);
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong 3-byte forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

void tp_json_str(struct tp_sbuf *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	tp_sbuf_put(o, "\"", 1);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			tp_sbuf_printf(o, "\\%c", *s++);
		} else if (*s < 0x20 || *s == 0x7f) {
			tp_sbuf_printf(o, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			tp_sbuf_put(o, (const char *)s++, 1);
		} else {
			int n = utf8_len(s);
			if (n) { /* valid UTF-8 stays as written */
				tp_sbuf_put(o, (const char *)s, (size_t)n);
				s += n;
			} else { /* a stray byte would make the document invalid */
				tp_sbuf_put(o, "\\ufffd", 6);
				s++;
			}
		}
	}
	tp_sbuf_put(o, "\"", 1);
}

/* Sessions oldest first (the live list holds the newest first). */
static struct tp_session *oldest(struct tp_pipeline *pl)
{
	struct tp_session *s = pl->sessions;

	while (s && s->next)
		s = s->next;
	return s;
}

static const char *kind_word(enum tp_kind k)
{
	return k == TP_KIND_SOURCE ? "source" : k == TP_KIND_SINK ? "sink" : "transform";
}

static void iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_counters(struct tp_sbuf *o, const struct tp_counter *c, int n)
{
	tp_sbuf_put(o, "{", 1);
	for (int i = 0; i < n; i++) {
		tp_sbuf_put(o, i ? "," : "", i ? 1 : 0);
		tp_json_str(o, c[i].name);
		tp_sbuf_printf(o, ":%llu", (unsigned long long)c[i].v);
	}
	tp_sbuf_put(o, "}", 1);
}

static void json_traffic(struct tp_sbuf *o, const struct tp_traffic *t)
{
	tp_sbuf_printf(o, "\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,\"tx_bytes\":%llu",
		       (unsigned long long)t->rx_packets, (unsigned long long)t->rx_bytes,
		       (unsigned long long)t->tx_packets, (unsigned long long)t->tx_bytes);
}

static void json_addr(struct tp_sbuf *o, const char *key, const struct tp_prefix *p, int with_len)
{
	char a[64];

	tp_sbuf_printf(o, ",\"%s\":", key);
	if (tp_prefix_str(p, with_len, a, sizeof(a))[0])
		tp_json_str(o, a);
	else
		tp_sbuf_put(o, "null", 4);
}

static void json_session(struct tp_sbuf *o, struct tp_pipeline *pl, struct tp_session *s, int64_t now)
{
	char since[32];

	iso_time(s->up_since, since, sizeof(since));
	tp_sbuf_printf(o, "{\"id\":%u,\"user\":", s->id);
	tp_json_str(o, s->info.user);
	json_addr(o, "address", &s->info.addr4, 1);
	json_addr(o, "address6", &s->info.addr6, 1);
	json_addr(o, "gateway", &s->info.gw4, 0);
	tp_sbuf_put(o, ",\"peer\":", 8);
	tp_json_str(o, s->info.peer);
	tp_sbuf_put(o, ",\"stack\":", 9);
	tp_json_str(o, pl->stack);
	tp_sbuf_printf(o, ",\"local\":%s,\"since\":\"%s\",\"since_epoch\":%lld,\"seconds\":%lld,",
		       (s->info.flags & TP_SI_LOCAL) ? "true" : "false", since, (long long)s->up_since,
		       (long long)(s->up_since ? now - s->up_since : 0));
	json_traffic(o, &s->traffic);
	tp_sbuf_put(o, ",\"stages\":[", 11);
	for (int i = 1; i <= s->nmid; i++) {
		struct tp_stage *st = tp_stage_at(pl, s, i);
		tp_sbuf_printf(o, "%s{\"index\":%d,\"plugin\":", i > 1 ? "," : "", i + 1);
		tp_json_str(o, st->t->p->name);
		tp_sbuf_put(o, ",\"counters\":", 12);
		json_counters(o, st->counters, st->ncounters);
		tp_sbuf_put(o, "}", 1);
	}
	tp_sbuf_put(o, "]}", 2);
}

static void json_pipeline(struct tp_sbuf *o, struct tp_pipeline *pl, int64_t now)
{
	struct tp_counter c[TP_MAX_COUNTERS];
	struct tp_traffic t;
	struct tp_pool_stats ps;
	int n;

	tp_sbuf_put(o, "{\"name\":", 8);
	tp_json_str(o, pl->name);
	tp_sbuf_put(o, ",\"stack\":", 9);
	tp_json_str(o, pl->stack);
	tp_sbuf_printf(o, ",\"sessions_up_total\":%llu,", (unsigned long long)pl->sessions_up);
	tp_status_traffic(pl, &t);
	json_traffic(o, &t);
	tp_sbuf_put(o, ",\"stages\":[", 11);
	for (int i = 0; i < pl->n; i++) {
		tp_status_stage_counters(pl, i, c, &n);
		tp_sbuf_printf(o, "%s{\"index\":%d,\"plugin\":", i ? "," : "", i + 1);
		tp_json_str(o, pl->t[i].p->name);
		tp_sbuf_printf(o, ",\"kind\":\"%s\",\"per_session\":%s,\"counters\":", kind_word(pl->t[i].p->kind),
			       i && i < pl->n - 1 ? "true" : "false");
		json_counters(o, c, n);
		tp_sbuf_put(o, "}", 1);
	}
	tp_sbuf_put(o, "],\"router\":", 11);
	json_counters(o, pl->router_stage.counters, pl->router_stage.ncounters);
	tp_pool_get_stats(pl->pool, &ps);
	tp_sbuf_printf(o, ",\"buffers\":{\"outstanding\":%zu,\"cached\":%zu,\"created\":%zu,\"bytes\":%zu,\"refused\":%zu}",
		       ps.outstanding, ps.cached, ps.created, ps.bytes, ps.failed);
	tp_sbuf_put(o, ",\"users\":[", 10);
	for (int i = 0, first = 1; i < pl->nusers; i++) {
		int live = tp_status_user_at(pl, i, &t);
		tp_sbuf_put(o, first ? "{\"user\":" : ",{\"user\":", first ? 8 : 9);
		first = 0;
		tp_json_str(o, pl->users[i].user);
		tp_sbuf_printf(o, ",\"sessions\":%d,\"sessions_total\":%llu,", live,
			       (unsigned long long)pl->users[i].sessions);
		json_traffic(o, &t);
		tp_sbuf_put(o, "}", 1);
	}
	tp_sbuf_printf(o, "],\"session_count\":%u,\"sessions\":[", pl->nsessions);
	int first = 1;
	for (struct tp_session *s = oldest(pl); s; s = s->prev) {
		if (!s->is_up)
			continue; /* still in its handshake */
		tp_sbuf_put(o, first ? "" : ",", first ? 0 : 1);
		first = 0;
		json_session(o, pl, s, now);
	}
	tp_sbuf_put(o, "]}", 2);
}

void tp_status_json(struct tp_pipeline *const *pipes, int n, struct tp_sbuf *o)
{
	int64_t now = (int64_t)time(NULL);

	tp_sbuf_printf(o, "{\"version\":\"%s\",\"time\":%lld,\"pipelines\":[", PACKAGE_VERSION, (long long)now);
	for (int i = 0; i < n; i++) {
		tp_sbuf_put(o, i ? "," : "", i ? 1 : 0);
		json_pipeline(o, pipes[i], now);
	}
	tp_sbuf_put(o, "]}\n", 3);
}

/* ---- text ------------------------------------------------------------------ */

static void text_counters(struct tp_sbuf *o, const struct tp_counter *c, int n)
{
	if (!n)
		tp_sbuf_put(o, " -", 2);
	for (int i = 0; i < n; i++)
		tp_sbuf_printf(o, " %s=%llu", c[i].name, (unsigned long long)c[i].v);
	tp_sbuf_put(o, "\n", 1);
}

static void text_duration(struct tp_sbuf *o, int64_t s)
{
	if (s >= 86400)
		tp_sbuf_printf(o, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		tp_sbuf_printf(o, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		tp_sbuf_printf(o, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
}

static void text_session(struct tp_sbuf *o, struct tp_pipeline *pl, struct tp_session *s, int64_t now)
{
	char a4[64], a6[64], since[32];

	iso_time(s->up_since, since, sizeof(since));
	tp_prefix_str(&s->info.addr4, 1, a4, sizeof(a4));
	tp_prefix_str(&s->info.addr6, 1, a6, sizeof(a6));
	tp_sbuf_printf(o, "  session %u: user %s, address %s%s%s, peer %s, stack %s\n", s->id,
		       s->info.user[0] ? s->info.user : "-", a4[0] ? a4 : "-", a6[0] ? " " : "", a6,
		       s->info.peer[0] ? s->info.peer : "-", pl->stack[0] ? pl->stack : "-");
	tp_sbuf_printf(o, "    since %s (", since);
	text_duration(o, s->up_since ? now - s->up_since : 0);
	tp_sbuf_printf(o, "), rx %llu packets %llu bytes, tx %llu packets %llu bytes\n",
		       (unsigned long long)s->traffic.rx_packets, (unsigned long long)s->traffic.rx_bytes,
		       (unsigned long long)s->traffic.tx_packets, (unsigned long long)s->traffic.tx_bytes);
	for (int i = 1; i <= s->nmid; i++) {
		struct tp_stage *st = tp_stage_at(pl, s, i);
		tp_sbuf_printf(o, "    %d %-12s", i + 1, st->t->p->name);
		text_counters(o, st->counters, st->ncounters);
	}
}

void tp_status_text(struct tp_pipeline *const *pipes, int n, struct tp_sbuf *o)
{
	int64_t now = (int64_t)time(NULL);
	struct tp_counter c[TP_MAX_COUNTERS];
	struct tp_traffic t;
	int nc;

	for (int p = 0; p < n; p++) {
		struct tp_pipeline *pl = pipes[p];
		unsigned up = 0;
		for (struct tp_session *s = pl->sessions; s; s = s->next)
			up += (unsigned)s->is_up;
		tp_status_traffic(pl, &t);
		tp_sbuf_printf(o, "%spipeline %s (stack %s): %u session%s up, %llu since start\n", p ? "\n" : "",
			       pl->name, pl->stack[0] ? pl->stack : "-", up, up == 1 ? "" : "s",
			       (unsigned long long)pl->sessions_up);
		tp_sbuf_printf(o, "  traffic: rx %llu packets %llu bytes, tx %llu packets %llu bytes\n",
			       (unsigned long long)t.rx_packets, (unsigned long long)t.rx_bytes,
			       (unsigned long long)t.tx_packets, (unsigned long long)t.tx_bytes);
		for (struct tp_session *s = oldest(pl); s; s = s->prev)
			if (s->is_up)
				text_session(o, pl, s, now);
		tp_sbuf_printf(o, "  stages (all sessions):\n");
		for (int i = 0; i < pl->n; i++) {
			tp_status_stage_counters(pl, i, c, &nc);
			tp_sbuf_printf(o, "    %d %-12s", i + 1, pl->t[i].p->name);
			text_counters(o, c, nc);
		}
		tp_sbuf_printf(o, "      %-12s", "router");
		text_counters(o, pl->router_stage.counters, pl->router_stage.ncounters);
	}
}
