/* SPDX-License-Identifier: MIT */
/*
 * budget.c — what one address or one user may hold on a server, so an
 * attacker cannot take from users what they need to log in: counts of
 * handshaking links (in total and per source address) and of sessions
 * per user, the quiet logs a flood needs, and the permission check of
 * secret files.
 *
 * Counting walks the link list: it holds at most max_handshakes +
 * max_sessions links, and a walk of a few hundred entries per accepted
 * connection costs less than the TLS handshake that follows.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

unsigned th_budget_handshakes(struct th_ctx *c, const uint8_t key[16], unsigned *from_key)
{
	unsigned n = 0, k = 0;
	for (struct th_link *l = c->links; l; l = l->next) {
		if (l->s || l->io->dead)
			continue;
		n++;
		if (key && memcmp(l->peer_key, key, 16) == 0)
			k++;
	}
	if (from_key)
		*from_key = k;
	return n;
}

struct th_link *th_budget_oldest_handshake(struct th_ctx *c)
{
	struct th_link *o = NULL;
	for (struct th_link *l = c->links; l; l = l->next)
		if (!l->s && !l->io->dead && (!o || l->born_ms <= o->born_ms))
			o = l;
	return o;
}

unsigned th_budget_sessions(struct th_ctx *c, const char *user, unsigned *of_user,
			    struct th_link **oldest)
{
	unsigned n = 0, u = 0;
	struct th_link *o = NULL;
	for (struct th_link *l = c->links; l; l = l->next) {
		if (!l->s || l->io->dead)
			continue;
		n++;
		if (user && strcmp(l->user, user) == 0) {
			u++;
			if (!o || l->io->open_since <= o->io->open_since)
				o = l;
		}
	}
	if (of_user)
		*of_user = u;
	if (oldest)
		*oldest = o;
	return n;
}

/*
 * May r->user open one more session?  Not past max_sessions (tunnels
 * only); at max_sessions_per_user the user's oldest session is closed
 * (replace_oldest_session) or the new one gets 503.  0 with r set to
 * the refusal.
 */
int th_budget_session_ok(struct th_link *l, struct hs_request *r, struct th_ratelog *rl)
{
	struct th_ctx *c = l->ctx;
	const struct th_conf *cf = c->cf;
	struct th_link *oldest;
	unsigned mine, all = th_budget_sessions(c, r->user, &mine, &oldest);
	int at_user = cf->max_sessions_per_user && mine >= (unsigned)cf->max_sessions_per_user;
	if (at_user && cf->replace_oldest_session && oldest) {
		TH_LOG(c, TP_LOG_INFO, "user %s: session from %s replaced by a new one from %s "
		       "(max_sessions_per_user %u)", r->user, oldest->io->peer, l->io->peer,
		       (unsigned)cf->max_sessions_per_user);
		th_conn_close(oldest->io, "replaced by a newer session of the same user");
		return 1;
	}
	if (at_user) {
		th_warn_limited(c, rl, "user %s already has %u sessions "
				"(max_sessions_per_user); refusing %s", r->user, mine, l->io->peer);
		r->status = 503;
		r->why = "too many sessions for this user";
		return 0;
	}
	if (all >= (unsigned)cf->max_sessions) {
		r->status = 503;
		r->why = "max_sessions reached";
		return 0;
	}
	return 1;
}

/* Close the sessions of users the new file no longer has, or whose
 * entry changed (a new password, a lock): one line per session. */
unsigned th_budget_close_revoked(struct th_ctx *c, const struct auth_db *old,
				 const struct auth_db *db)
{
	unsigned n = 0;
	struct th_link *next;
	for (struct th_link *l = c->links; l; l = next) {
		next = l->next; /* closing frees l */
		if (!l->s || l->io->dead)
			continue;
		const char *was = auth_entry_of(old, l->user), *now = auth_entry_of(db, l->user);
		if (now && was && strcmp(was, now) == 0)
			continue;
		const char *why = !now ? "user removed from the users file"
				       : "user's entry changed in the users file";
		TH_LOG(c, TP_LOG_INFO, "closing the session of user %s from %s: %s", l->user,
		       l->io->peer, why);
		th_conn_close(l->io, why);
		n++;
	}
	return n;
}

void th_key_str(const uint8_t key[16], char *out, size_t cap)
{
	static const uint8_t v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char a[INET6_ADDRSTRLEN] = "?";
	if (memcmp(key, v4, 12) == 0) {
		inet_ntop(AF_INET, key + 12, a, sizeof(a));
		snprintf(out, cap, "%s", a);
	} else {
		inet_ntop(AF_INET6, key, a, sizeof(a));
		snprintf(out, cap, "%s/64", a);
	}
}

int th_file_private(const char *what, const char *path, char *msg, size_t cap)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(msg, cap, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!(st.st_mode & (S_IRGRP | S_IROTH)))
		return 0;
	snprintf(msg, cap, "%s %s is readable by %s (mode %04o); chmod 600 it", what, path,
		 (st.st_mode & S_IRGRP) && (st.st_mode & S_IROTH) ? "group and others"
		 : st.st_mode & S_IRGRP				  ? "its group"
								  : "others",
		 (unsigned)(st.st_mode & 07777));
	return -1;
}

void th_warn_limited(struct th_ctx *c, struct th_ratelog *rl, const char *fmt, ...)
{
	uint64_t now = c->host->now_ms(c->st);
	char line[512];
	va_list ap;
	if (!rl->n || now - rl->since >= TH_RL_MS) {
		rl->since = now;
		rl->n = 0;
	}
	if (rl->n >= TH_RL_BURST) {
		rl->quiet++;
		return;
	}
	rl->n++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->quiet)
		TH_LOG(c, TP_LOG_WARN, "%s (and %u like it suppressed)", line, rl->quiet);
	else if (rl->n == TH_RL_BURST && !rl->quiet)
		TH_LOG(c, TP_LOG_WARN, "%s (more like it are counted, not logged, for %d s)", line,
		       TH_RL_MS / 1000);
	else
		TH_LOG(c, TP_LOG_WARN, "%s", line);
	rl->quiet = 0;
}
