/* SPDX-License-Identifier: MIT */
/*
 * hooks.c — a client's `up` and `down` scripts.
 *
 * `up` runs when a session comes up (after the addresses, routes and DNS
 * are applied), `down` when it goes away, each with the session's facts in
 * TUNPIPE_* variables (hookenv.c).  They run off the event loop (run.c);
 * their output and exit status are logged.  A failing `up` closes the
 * session unless `up_failure = "ignore"` (the client then reconnects and
 * runs it again, with its usual backoff).  At stop a running hook gets
 * the rest of its timeout, then the `down` hook runs to its end.
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

static void up_done(void *arg, int status, int timed_out)
{
	struct tun *t = arg;

	t->hooks.job = NULL;
	if (status == 0) {
		LOG(t, TP_LOG_INFO, "up hook %s exited with status 0", t->conf->up);
		return;
	}
	if (t->conf->up_failure == 1 || !t->hooks.session) {
		LOG(t, TP_LOG_WARN, "up hook %s %s%.0d; the session stays up (%s)", t->conf->up,
		    timed_out ? "timed out" : "failed with status ", timed_out ? 0 : status,
		    t->hooks.session ? "up_failure = ignore" : "it is already gone");
		return;
	}
	LOG(t, TP_LOG_ERROR, "up hook %s %s%.0d: closing the session (up_failure = close)", t->conf->up,
	    timed_out ? "timed out" : "failed with status ", timed_out ? 0 : status);
	t->host->session_abort(t->st, t->hooks.session, "up hook failed");
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
}

static void run(struct tun *t, const char *type, const char *script, tn_job_done done, int sync)
{
	struct tn_env env;
	char *argv[] = { (char *)script, NULL };
	char what[80];

	if (tn_hook_env(&env, type, t->ifname, t->cur_mtu, &t->hooks.info, getenv("PATH")) < 0) {
		LOG(t, TP_LOG_ERROR, "%s hook: the environment does not fit; not run", type);
		return;
	}
	snprintf(what, sizeof(what), "%s hook", type);
	LOG(t, TP_LOG_INFO, "running %s hook %s", type, script);
	if (sync) {
		int st = tn_run_sync(t, what, argv, env.vars, NULL, timeout_ms(t));
		done(t, st, st < 0);
		return;
	}
	t->hooks.job = tn_job_start(t, what, argv, env.vars, NULL, timeout_ms(t), done, t);
	if (!t->hooks.job && !strcmp(type, "up"))
		up_done(t, -1, 0);
}

/* One hook at a time, in order: the previous one gets its timeout. */
static void settle(struct tun *t)
{
	if (t->hooks.job)
		tn_job_wait(t->hooks.job, timeout_ms(t));
	t->hooks.job = NULL;
}

void tun_hooks_up(struct tun *t, struct tp_session *s, const struct tp_session_info *info)
{
	t->hooks.session = s;
	t->hooks.info = *info;
	t->hooks.up = 1;
	if (!t->conf->up)
		return;
	settle(t);
	run(t, "up", t->conf->up, up_done, 0);
}

void tun_hooks_down(struct tun *t, struct tp_session *s, int at_stop)
{
	if (s && s != t->hooks.session)
		return;
	t->hooks.session = NULL;
	if (!t->hooks.up)
		return;
	t->hooks.up = 0;
	if (!t->conf->down) {
		if (at_stop)
			settle(t);
		return;
	}
	settle(t);
	run(t, "down", t->conf->down, down_done, at_stop);
}

void tun_hooks_stop(struct tun *t)
{
	tun_hooks_down(t, NULL, 1);
	settle(t);
}
