/* SPDX-License-Identifier: MIT */
/*
 * auth.c — htpasswd loading, constant-time password checks, and the
 * failed-login limiter per source address.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth_entry {
	char *user;
	char *hash;   /* as in the file: a locked one keeps its ! or * */
	int locked;
};

struct auth_db {
	struct auth_entry *v;
	size_t n, cap;
	/* libcrypt's scratch space is ~32 KiB: keep one per database rather
	 * than on the stack or allocated per login.  Single-threaded use. */
	struct crypt_data *cd;
	const char *decoy; /* an entry's hash, or dummy_setting */
};

/* Used for unknown users when the file is empty: a valid SHA-512 setting. */
static const char dummy_setting[] = "$6$tunpipe.dummy$";

void auth_free(struct auth_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++) {
		free(db->v[i].user);
		free(db->v[i].hash);
	}
	free(db->v);
	if (db->cd) {
		explicit_bzero(db->cd, sizeof(*db->cd));
		free(db->cd);
	}
	free(db);
}

size_t auth_count(const struct auth_db *db) { return db ? db->n : 0; }

static int add_entry(struct auth_db *db, const char *user, const char *hash)
{
	if (db->n == db->cap) {
		size_t ncap = db->cap ? db->cap * 2 : 16;
		struct auth_entry *nv = realloc(db->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		db->v = nv;
		db->cap = ncap;
	}
	char *u = strdup(user), *h = strdup(hash);
	if (!u || !h) {
		free(u);
		free(h);
		return -1;
	}
	db->v[db->n].user = u;
	db->v[db->n].hash = h;
	db->v[db->n].locked = *h == '!' || *h == '*';
	db->n++;
	return 0;
}

/* Check one "user:hash" line (already stripped of its line end); returns a
 * static reason on error. */
static const char *check_line(struct auth_db *db, char *line, char **user, char **hash)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return "expected user:hash";
	*colon = '\0';
	*user = line;
	*hash = colon + 1;
	if (!**user)
		return "empty user name";
	if (strpbrk(*user, " \t"))
		return "white space in user name";
	/* Apache's htpasswd may append ":comment" fields; keep only the hash. */
	char *more = strchr(*hash, ':');
	if (more)
		*more = '\0';
	if (!**hash)
		return "empty hash";
	if (strlen(*hash) >= AUTH_HASH_MAX)
		return "hash too long";
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, *user) == 0)
			return "duplicate user";
	/* Locked (shadow's convention): whatever follows is kept, never
	 * used to log in, so it need not be a hash libcrypt knows. */
	if (**hash == '!' || **hash == '*')
		return NULL;
	if (strncmp(*hash, "$apr1$", 6) == 0)
		return "Apache MD5 ($apr1$) is not supported by libcrypt; use htpasswd -B or openssl passwd -6";
	switch (crypt_checksalt(*hash)) {
	case CRYPT_SALT_OK:
		break;
	case CRYPT_SALT_METHOD_LEGACY:
		return "legacy weak hash refused; use SHA-512 crypt (openssl passwd -6), yescrypt or bcrypt (htpasswd -B)";
	default:
		return "hash not recognised by libcrypt";
	}
	return NULL;
}

/* The part of a hash that sets its cost: "$2b$12$", "$6$rounds=N$",
 * "$y$j9T$" (method and parameters, not the salt).  Its length. */
static size_t kind_len(const char *h)
{
	const char *f[5];
	int n = 0;
	for (const char *p = h; *p && n < 5; p++)
		if (*p == '$')
			f[n++] = p;
	if (n < 2 || f[0] != h)
		return 0;
	/* bcrypt: $2b$NN$ then salt and hash in one field */
	if (h[1] == '2' && n >= 3)
		return (size_t)(f[2] - h) + 1;
	/* $id$params$salt$hash, or $id$salt$hash without parameters */
	if (n >= 4)
		return (size_t)(f[2] - h) + 1;
	return (size_t)(f[1] - h) + 1;
}

/* The decoy for unknown and locked users: the hash of an unlocked entry
 * whose kind and cost most entries share, so a made-up name costs what a
 * typical real one does.  O(n^2) once per load; files are small. */
static void pick_decoy(struct auth_db *db)
{
	size_t best = 0, best_n = 0;
	db->decoy = dummy_setting;
	for (size_t i = 0; i < db->n; i++) {
		if (db->v[i].locked)
			continue;
		size_t k = kind_len(db->v[i].hash), same_n = 0;
		for (size_t j = 0; j < db->n; j++)
			if (!db->v[j].locked && kind_len(db->v[j].hash) == k &&
			    strncmp(db->v[i].hash, db->v[j].hash, k) == 0)
				same_n++;
		if (same_n > best_n) {
			best_n = same_n;
			best = i;
		}
	}
	if (best_n)
		db->decoy = db->v[best].hash;
}

struct auth_db *auth_parse(FILE *f, const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t lcap = 0;
	unsigned lineno = 0;
	struct auth_db *db = calloc(1, sizeof(*db));

	if (!db || !(db->cd = calloc(1, sizeof(*db->cd)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ssize_t r;
	while ((r = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
			line[--r] = '\0';
		if (memchr(line, '\0', (size_t)r)) {
			snprintf(err, errlen, "users file %s:%u: NUL byte in line", path, lineno);
			goto fail;
		}
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *user, *hash;
		const char *why = check_line(db, p, &user, &hash);
		if (why) {
			snprintf(err, errlen, "users file %s:%u: %s", path, lineno, why);
			goto fail;
		}
		if (add_entry(db, user, hash) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "users file %s: read error", path);
		goto fail;
	}
	if (line)
		explicit_bzero(line, lcap);
	free(line);
	pick_decoy(db);
	return db;
fail:
	if (line)
		explicit_bzero(line, lcap);
	free(line);
	auth_free(db);
	return NULL;
}

struct auth_db *auth_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "users file %s: %s", path, strerror(errno));
		return NULL;
	}
	struct auth_db *db = auth_parse(f, path, err, errlen);
	fclose(f);
	return db;
}

const char *auth_entry_of(const struct auth_db *db, const char *user)
{
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, user) == 0)
			return db->v[i].hash;
	return NULL;
}

const char *auth_decoy(const struct auth_db *db) { return db->decoy; }

int auth_lookup(const struct auth_db *db, const char *user, char *out, size_t cap)
{
	const struct auth_entry *e = NULL;
	/* No early exit: the scan costs the same for every name. */
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, user) == 0)
			e = &db->v[i];
	/* Unknown or locked user: hash anyway, against the decoy of the
	 * file's typical kind and cost, and fail afterwards. */
	int known = e && !e->locked;
	snprintf(out, cap, "%s", known ? e->hash : db->decoy);
	return known;
}

/* Our own constant-time compare: the worker thread calls no OpenSSL. */
static int same(const char *a, const char *b, size_t n)
{
	volatile unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int auth_verify(const char *hash, int known, const char *pass, struct crypt_data *cd)
{
	memset(cd, 0, sizeof(*cd));
	const char *out = crypt_rn(pass, hash, cd, (int)sizeof(*cd));
	int ok = 0;
	if (out && out[0] != '*' && known) {
		size_t hl = strlen(hash);
		ok = strlen(out) == hl && same(out, hash, hl);
	}
	explicit_bzero(cd, sizeof(*cd));
	return ok;
}

int auth_check(const struct auth_db *db, const char *user, const char *pass)
{
	char hash[AUTH_HASH_MAX];
	int known = auth_lookup(db, user, hash, sizeof(hash));
	return auth_verify(hash, known, pass, db->cd);
}

/* ---- failed-login limiter ---- */

void auth_lim_init(struct auth_limiter *l, unsigned max_fails, uint64_t window_ms, uint32_t seed)
{
	memset(l, 0, sizeof(*l));
	l->max_fails = max_fails;
	l->max_inflight = max_fails;
	l->window_ms = window_ms;
	l->seed = seed;
}

void auth_lim_reset(struct auth_limiter *l)
{
	memset(l->slot, 0, sizeof(l->slot));
}

/* The set of AUTH_LIM_WAYS slots addr may live in (FNV-1a, seeded so a
 * client cannot aim many addresses at one set on purpose). */
static struct auth_lim_slot *lim_set(struct auth_limiter *l, const uint8_t addr[16])
{
	uint32_t h = 2166136261u ^ l->seed;
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h ^= h >> 15;
	return &l->slot[(h % (AUTH_LIM_SLOTS / AUTH_LIM_WAYS)) * AUTH_LIM_WAYS];
}

/* The window of e is over: its failures are forgotten (a throttled
 * address is released, and said so); checks in flight still count. */
static void lim_age(struct auth_limiter *l, struct auth_lim_slot *e, uint64_t now)
{
	if (!e->used || !e->fails || now - e->first_ms < l->window_ms)
		return;
	e->fails = 0;
	if (e->throttled) {
		e->throttled = 0;
		if (l->released)
			l->released(l->arg, e->addr);
	}
	if (!e->pending)
		e->used = 0;
}

static struct auth_lim_slot *lim_find(struct auth_limiter *l, const uint8_t addr[16], uint64_t now)
{
	struct auth_lim_slot *set = lim_set(l, addr);
	for (int i = 0; i < AUTH_LIM_WAYS; i++) {
		struct auth_lim_slot *e = &set[i];
		if (!e->used || memcmp(e->addr, addr, 16) != 0)
			continue;
		lim_age(l, e, now);
		return e->used ? e : NULL;
	}
	return NULL;
}

/* addr's slot, made if needed: a free or expired slot, else the one
 * without checks in flight whose window started first (the closest to
 * being forgotten anyway), else the first. */
static struct auth_lim_slot *lim_get(struct auth_limiter *l, const uint8_t addr[16], uint64_t now)
{
	struct auth_lim_slot *e = lim_find(l, addr, now);
	if (e)
		return e;
	struct auth_lim_slot *set = lim_set(l, addr), *victim = NULL;
	for (int i = 0; i < AUTH_LIM_WAYS; i++) {
		struct auth_lim_slot *s = &set[i];
		lim_age(l, s, now);
		if (!s->used) {
			victim = s;
			break;
		}
		if (!s->pending && (!victim || s->first_ms < victim->first_ms))
			victim = s;
	}
	if (!victim)
		victim = &set[0];
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, addr, 16);
	victim->first_ms = now;
	victim->used = 1;
	return victim;
}

unsigned auth_lim_check(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	struct auth_lim_slot *e = lim_find(l, addr, now_ms);
	if (!e)
		return 0;
	if (e->fails + e->pending < l->max_fails && e->pending < l->max_inflight)
		return 0;
	if (e->fails < l->max_fails)
		return 1; /* only checks in flight hold it back: they end soon */
	uint64_t left = e->first_ms + l->window_ms - now_ms;
	return (unsigned)((left + 999) / 1000);
}

int auth_lim_throttled(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	struct auth_lim_slot *e = lim_find(l, addr, now_ms);
	return e && e->fails >= l->max_fails;
}

void auth_lim_begin(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	struct auth_lim_slot *e = lim_get(l, addr, now_ms);
	if (e->pending < UINT16_MAX)
		e->pending++;
}

int auth_lim_end(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms, int ok)
{
	struct auth_lim_slot *e = ok ? lim_find(l, addr, now_ms) : lim_get(l, addr, now_ms);
	if (!e)
		return 0;
	if (e->pending)
		e->pending--;
	if (ok) {
		if (!e->fails && !e->pending)
			e->used = 0;
		return 0;
	}
	if (!e->fails++)
		e->first_ms = now_ms;
	if (e->fails >= l->max_fails && !e->throttled) {
		e->throttled = 1;
		return 1;
	}
	return 0;
}

void auth_lim_fail(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	auth_lim_begin(l, addr, now_ms);
	auth_lim_end(l, addr, now_ms, 0);
}

void auth_lim_expire(struct auth_limiter *l, uint64_t now_ms)
{
	for (int i = 0; i < AUTH_LIM_SLOTS; i++)
		lim_age(l, &l->slot[i], now_ms);
}
