/* SPDX-License-Identifier: MIT */
/*
 * hooks.c — a client's `up` and `down` scripts.
 *
 * `up` runs when a session comes up (after the addresses, routes and DNS
 * are applied), `down` when it goes away, each with the session's facts in
 * TUNPIPE_* variables (hookenv.c).  They run off the event loop (run.c);
 * their output and exit status are logged.  A failing `up` closes the
 * session unless `up_failure = "ignore"` (the client then reconnects and
 * runs it again, with its usual backoff).  One hook runs at a time, in
 * order: one asked for while another runs waits in a short queue and
 * starts from the previous one's end — the loop never waits for a hook
 * (a slow `up` must not stall the tunnel or the control socket).  A
 * failing `up` closes only the session it ran for.  At stop a running
 * hook gets the rest of its timeout, then the owed `down` hooks run to
 * their end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookenv.h"
#include "run.h"
#include "tun.h"

#define LOG(t, lvl, ...) (t)->host->log((t)->st, lvl, __VA_ARGS__)

static unsigned timeout_ms(const struct tun *t)
{
	return (unsigned)t->conf->hook_timeout * 1000u;
}

static void next(struct tun *t);

static void up_done(void *arg, int status, int timed_out)
{
	struct tun *t = arg;
	/* Only the session this hook ran for, and only while it is the
	 * current one: a later session is not closed for an old hook. */
	struct tp_session *s = t->hooks.job_gen == t->hooks.gen ? t->hooks.session : NULL;

	t->hooks.job = NULL;
	t->hooks.job_gen = 0;
	if (status == 0) {
		LOG(t, TP_LOG_INFO, "up hook %s exited with status 0", t->conf->up);
	} else if (t->conf->up_failure == 1 || !s) {
		LOG(t, TP_LOG_WARN, "up hook %s %s%.0d; the session stays up (%s)", t->conf->up,
		    timed_out ? "timed out" : "failed with status ", timed_out ? 0 : status,
		    s ? "up_failure = ignore" : "it is already gone");
	} else {
		LOG(t, TP_LOG_ERROR, "up hook %s %s%.0d: closing the session (up_failure = close)",
		    t->conf->up, timed_out ? "timed out" : "failed with status ", timed_out ? 0 : status);
		t->host->session_abort(t->st, s, "up hook failed");
	}
	next(t);
}

static void down_done(void *arg, int status, int timed_out)
{
	struct tun *t = arg;

	t->hooks.job = NULL;
	if (status == 0)
		LOG(t, TP_LOG_INFO, "down hook %s exited with status 0", t->conf->down);
	else if (timed_out)
		LOG(t, TP_LOG_WARN, "down hook %s timed out", t->conf->down);
	else
		LOG(t, TP_LOG_WARN, "down hook %s failed with status %d", t->conf->down, status);
	next(t);
}

/* Start (or, at stop, run to its end) one hook. */
static void run(struct tun *t, const struct tn_hook_call *c, int sync)
{
	const char *type = c->down ? "down" : "up", *script = c->down ? t->conf->down : t->conf->up;
	tn_job_done done = c->down ? down_done : up_done;
	struct tn_env env;
	char *argv[] = { (char *)script, NULL };
	char what[80];

	if (tn_hook_env(&env, type, t->ifname, t->cur_mtu, &c->info, getenv("PATH")) < 0) {
		LOG(t, TP_LOG_ERROR, "%s hook: the environment does not fit; not run", type);
		return;
	}
	snprintf(what, sizeof(what), "%s hook", type);
	LOG(t, TP_LOG_INFO, "running %s hook %s", type, script);
	if (!c->down)
		t->hooks.job_gen = c->gen;
	if (sync) {
		int st = tn_run_sync(t, what, argv, env.vars, NULL, timeout_ms(t));
		done(t, st, st < 0);
		return;
	}
	t->hooks.job = tn_job_start(t, what, argv, env.vars, NULL, timeout_ms(t), done, t);
	if (!t->hooks.job && !c->down)
		up_done(t, -1, 0);
}

/* The next queued hook, once none runs. */
static void next(struct tun *t)
{
	struct tn_hook_call c;

	if (t->hooks.job || !t->hooks.queued || t->hooks.stopping)
		return;
	c = t->hooks.queue[0];
	memmove(&t->hooks.queue[0], &t->hooks.queue[1], --t->hooks.queued * sizeof(c));
	run(t, &c, 0);
}

static void ask(struct tun *t, int down, unsigned gen, const struct tp_session_info *info)
{
	unsigned n = t->hooks.queued;
	struct tn_hook_call *q = t->hooks.queue;

	if (!t->hooks.job && !n) {
		struct tn_hook_call c = { .down = down, .gen = gen, .info = *info };
		run(t, &c, 0);
		return;
	}
	/* A queued up and its down, neither run yet, cancel out. */
	if (down && n && !q[n - 1].down && q[n - 1].gen == gen) {
		t->hooks.queued--;
		return;
	}
	if (n == sizeof(t->hooks.queue) / sizeof(t->hooks.queue[0])) {
		/* Only with `down` alone and sessions flapping during a slow
		 * one: keep the order by waiting (bounded by hook_timeout). */
		tn_job_wait(t->hooks.job, timeout_ms(t));
		n = t->hooks.queued;
	}
	q[n] = (struct tn_hook_call){ .down = down, .gen = gen, .info = *info };
	t->hooks.queued = n + 1;
	next(t);
}

void tun_hooks_up(struct tun *t, struct tp_session *s, const struct tp_session_info *info)
{
	t->hooks.session = s;
	t->hooks.gen = ++t->hooks.last_gen ? t->hooks.last_gen : ++t->hooks.last_gen;
	t->hooks.info = *info;
	if (t->conf->up)
		ask(t, 0, t->hooks.gen, info);
}

void tun_hooks_down(struct tun *t, struct tp_session *s, int at_stop)
{
	struct tn_hook_call c;
	unsigned gen = t->hooks.gen;

	if (s && s != t->hooks.session)
		return;
	t->hooks.session = NULL;
	t->hooks.gen = 0;
	if (!gen)
		return;
	if (!t->conf->down)
		return;
	if (!at_stop) {
		ask(t, 1, gen, &t->hooks.info);
		return;
	}
	c = (struct tn_hook_call){ .down = 1, .gen = gen, .info = t->hooks.info };
	run(t, &c, 1);
}

/* At stop: the running hook gets the rest of its timeout, the queued
 * `down`s run to their end (a queued `up` no longer has a session), then
 * the current session's `down`. */
void tun_hooks_stop(struct tun *t)
{
	t->hooks.stopping = 1;
	if (t->hooks.job)
		tn_job_wait(t->hooks.job, timeout_ms(t));
	for (unsigned i = 0; i < t->hooks.queued; i++)
		if (t->hooks.queue[i].down)
			run(t, &t->hooks.queue[i], 1);
	t->hooks.queued = 0;
	tun_hooks_down(t, NULL, 1);
}
