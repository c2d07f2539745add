/* SPDX-License-Identifier: MIT */
/*
 * svpn-auth.c — the Simple-VPN server's password checks (see
 * svpn-server.h): the credential cache answers a login it verified
 * recently; else the check runs on the auth worker threads while the
 * link waits with hs.svpn.auth_id set, and svs_auth_results() resumes it.
 * Before a job is queued, an address with too many recent failures
 * (checks in flight included) gets 429 and a full queue 503, neither
 * costing a crypt.  The once-a-second tick lives here too: the limiter's
 * windows and the buffers of idle sessions.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "svpn-server.h"
#include "authworker.h"
#include "authcache.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The link waiting for check `id`, if it still does. */
static struct th_link *waiting_for(struct th_ctx *c, uint64_t id)
{
	for (struct th_link *l = c->links; l; l = l->next)
		if (!l->s && l->hs.svpn.auth_id == id && !l->io->dead)
			return l;
	return NULL;
}

/* aw_sweep: a queued job whose link went away (timeout, reset) is
 * dropped before it costs a crypt. */
static int still_waiting(void *arg, uint64_t id)
{
	return waiting_for(arg, id) != NULL;
}

/* A check of l's address ended: one line when this throttles it (and
 * one when auth_lim_expire releases it), never one per failure. */
static void check_ended(struct th_ctx *c, const uint8_t key[16], int ok)
{
	struct svs *sv = c->hs_priv;
	uint64_t now = c->host->now_ms(c->st);
	char a[64];
	if (!auth_lim_end(&sv->lim, key, now, ok))
		return;
	th_key_str(key, a, sizeof(a));
	TH_LOG(c, TP_LOG_WARN, "%s throttled: %u failed logins; its logins get 429 without a "
	       "password check for %u s", a, (unsigned)AUTH_MAX_FAILS,
	       auth_lim_check(&sv->lim, key, now));
}

void svs_lim_released(void *arg, const uint8_t key[16])
{
	struct th_ctx *c = arg;
	char a[64];
	th_key_str(key, a, sizeof(a));
	TH_LOG(c, TP_LOG_INFO, "%s released: its logins are checked again", a);
}

/* Idle sessions hold no TLS buffers (th_conn_trim, conn-io.c): each
 * tick every open stream with nothing pending gives them back; a busy one
 * gets them again at its next record, so it pays an allocation a tick. */
static void trim_idle(struct th_ctx *c)
{
	struct svs *sv = c->hs_priv;
	unsigned n = 0, up = 0;
	for (struct th_link *l = c->links; l; l = l->next) {
		if (!l->s || l->io->dead)
			continue;
		up++;
		n += (unsigned)th_conn_trim(l->io);
	}
#ifdef __GLIBC__
	/* After a crowd came (or left) the freed buffers lie between live
	 * allocations, where free() never returns them to the kernel: hand
	 * back their pages when many went at once (a walk of the heap, so
	 * not every tick). */
	if (n >= TRIM_HEAP_AFTER || up + TRIM_HEAP_AFTER <= sv->trim_up)
		malloc_trim(0);
#endif
	sv->trim_up = up;
}

void svs_lim_tick(void *arg)
{
	struct th_ctx *c = arg;
	struct svs *sv = c->hs_priv;
	auth_lim_expire(&sv->lim, c->host->now_ms(c->st));
	trim_idle(c);
	sv->lim_timer = c->host->timer_add(c->st, LIM_TICK_MS, svs_lim_tick, c);
}

/* l's check is given up: spare the crypt if it is still queued.  A peer
 * that hangs up on its own check counts a failure (it may have cost a
 * crypt, and hanging up must not buy a free guess); our own deadline
 * passing (peer_left 0) is not the peer's doing and counts nothing. */
void svs_gone(struct th_ctx *c, struct th_link *l, int peer_left)
{
	struct svs *sv = c->hs_priv;
	if (!l->hs.svpn.auth_id)
		return;
	if (sv->aw)
		aw_cancel(sv->aw, l->hs.svpn.auth_id);
	l->hs.svpn.auth_id = 0;
	check_ended(c, l->peer_key, !peer_left);
}

/* The worker finished checks: resume each link that still waits; results
 * for links closed meanwhile find nobody and are dropped. */
void svs_auth_results(void *arg, int fd, uint32_t ev)
{
	struct th_ctx *c = arg;
	struct svs *sv = c->hs_priv;
	struct aw_result res[AUTH_COLLECT];
	struct hs_params p;
	size_t n;
	(void)fd;
	(void)ev;
	svs_params_of(c, &p);
	while ((n = aw_collect(sv->aw, res, AUTH_COLLECT)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct th_link *l = waiting_for(c, res[i].id);
			if (!l)
				continue;
			struct th_conn *k = l->io;
			l->hs.svpn.auth_id = 0;
			if (res[i].ok && sv->cache)
				ac_put(sv->cache, l->hs.svpn.pend.user, l->hs.svpn.cred,
				       l->hs.svpn.gen, c->host->now_ms(c->st));
			explicit_bzero(l->hs.svpn.cred, sizeof(l->hs.svpn.cred));
			th_conn_enter(k);
			check_ended(c, l->peer_key, res[i].ok);
			hs_auth_result(&l->hs.svpn.pend, res[i].ok);
			svs_answer(l, &p, &l->hs.svpn.pend);
			th_conn_leave(k); /* flushes a refusal via CS_CLOSING, or frees */
		}
		if (n < AUTH_COLLECT)
			break;
	}
}

/* Refuse with 503 "server busy"; the warning is rate-limited. */
static void auth_busy(struct th_link *l, const struct hs_params *p, struct hs_request *r)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	(*c->c_auth_busy)++;
	th_warn_limited(c, &sv->rl_busy, "password checks queue full (%u waiting): answering 503 "
			"(%llu so far, counted as auth_busy)", sv->aw_cap,
			(unsigned long long)*c->c_auth_busy);
	r->need_auth = 0;
	r->status = 503;
	r->why = "server busy, try again";
	r->retry_after = 1;
	svs_refuse(l, p, r);
}

/* Credentials in hand: refuse at once (throttled, busy), answer from the
 * credential cache, or hand the check to the worker and wait. */
void svs_auth_start(struct th_link *l, const struct hs_params *p, struct hs_request *r,
		       const char *pass)
{
	struct th_ctx *c = l->ctx;
	struct svs *sv = c->hs_priv;
	char hash[AUTH_HASH_MAX];
	uint64_t id;
	uint64_t now = c->host->now_ms(c->st);
	unsigned wait = auth_lim_check(&sv->lim, l->peer_key, now);
	if (wait == 1 && !auth_lim_throttled(&sv->lim, l->peer_key, now)) {
		/* Refused only because this address's checks are running: a
		 * client logs in once at a time, so a guess sent alongside
		 * others counts as a failed login (no crypt spent on it). */
		auth_lim_begin(&sv->lim, l->peer_key, now);
		check_ended(c, l->peer_key, 0);
		wait = auth_lim_check(&sv->lim, l->peer_key, now);
	}
	if (wait) {
		(*c->c_auth_throttled)++;
		r->need_auth = 0;
		r->status = 429;
		r->why = "too many failed logins";
		r->retry_after = wait;
		svs_refuse(l, p, r);
		return;
	}
	int known = auth_lookup(sv->users, r->user, hash, sizeof(hash));
	uint8_t cred[AC_MAC];
	if (sv->cache) {
		ac_mac(sv->cache, r->user, pass, cred);
		/* Verified recently against the same entry, which still
		 * exists unlocked (known): no crypt, and no check to count. */
		if (known && ac_verified(sv->cache, sv->users, r->user, cred, now)) {
			explicit_bzero(hash, sizeof(hash));
			explicit_bzero(cred, sizeof(cred));
			(*c->c_auth_cached)++;
			hs_auth_result(r, 1);
			svs_answer(l, p, r);
			return;
		}
		memcpy(l->hs.svpn.cred, cred, sizeof(cred));
		l->hs.svpn.gen = ac_gen(sv->cache);
		explicit_bzero(cred, sizeof(cred));
	}
	if (aw_submit_from(sv->aw, l->peer_key, hash, known, pass, &id) < 0 &&
	    (!aw_sweep(sv->aw, still_waiting, c) ||
	     aw_submit_from(sv->aw, l->peer_key, hash, known, pass, &id) < 0)) {
		explicit_bzero(hash, sizeof(hash));
		auth_busy(l, p, r);
		return;
	}
	explicit_bzero(hash, sizeof(hash));
	/* Counted from now on: guesses sent together cannot all be
	 * checked before the first failure is known. */
	auth_lim_begin(&sv->lim, l->peer_key, c->host->now_ms(c->st));
	(*c->c_auth_checks)++;
	l->hs.svpn.auth_id = id;
	l->hs.svpn.pend = *r;
	/* The peer may send more (or hang up) while it waits: svs_step
	 * reads on into l->head. */
}

/* Waiting for the worker: keep reading (the head may be followed by data;
 * a reset or close shows up here) so the level-triggered loop does not
 * spin, and give up the check if the peer goes away. */
void svs_auth_wait_io(struct th_link *l)
{
	const char *why = NULL;
	int e = th_link_read_head(l);
	if (e)
		why = e == SSL_ERROR_ZERO_RETURN ? "closed while its password was checked"
						 : th_ssl_errstr();
	else if (l->head_len == l->head_cap)
		why = "too much data before the answer"; /* nowhere to read it to */
	if (!why)
		return;
	svs_gone(l->ctx, l, 1);
	th_conn_close(l->io, why);
}

/* svs_auth_threads, or one per online CPU. */
unsigned svs_auth_threads(struct th_ctx *c)
{
	long n = c->cf->auth_threads;
	if (!n)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}
