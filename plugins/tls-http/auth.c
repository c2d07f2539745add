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
	char *hash;
};

struct auth_db {
	struct auth_entry *v;
	size_t n, cap;
	/* libcrypt's scratch space is ~32 KiB: keep one per database rather
	 * than on the stack or allocated per login.  Single-threaded use. */
	struct crypt_data *cd;
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
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, *user) == 0)
			return "duplicate user";
	return NULL;
}

struct auth_db *auth_load(const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t lcap = 0;
	unsigned lineno = 0;
	struct auth_db *db = calloc(1, sizeof(*db));
	FILE *f = NULL;

	if (!db || !(db->cd = calloc(1, sizeof(*db->cd)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "users file %s: %s", path, strerror(errno));
		goto fail;
	}
	ssize_t r;
	while ((r = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
			line[--r] = '\0';
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
	fclose(f);
	return db;
fail:
	if (line)
		explicit_bzero(line, lcap);
	free(line);
	if (f)
		fclose(f);
	auth_free(db);
	return NULL;
}

int auth_lookup(const struct auth_db *db, const char *user, char *out, size_t cap)
{
	const struct auth_entry *e = NULL;
	/* No early exit: the scan costs the same for every name. */
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, user) == 0)
			e = &db->v[i];
	/* Unknown user: hash anyway, with a setting of the same kind as a real
	 * entry, and fail afterwards. */
	const char *setting = e ? e->hash : db->n ? db->v[0].hash : dummy_setting;
	snprintf(out, cap, "%s", setting);
	return e != NULL;
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

static struct auth_lim_slot *lim_find(struct auth_limiter *l, const uint8_t addr[16], uint64_t now)
{
	struct auth_lim_slot *set = lim_set(l, addr);
	for (int i = 0; i < AUTH_LIM_WAYS; i++) {
		struct auth_lim_slot *e = &set[i];
		if (!e->fails || memcmp(e->addr, addr, 16) != 0)
			continue;
		if (now - e->first_ms >= l->window_ms) {
			e->fails = 0; /* window over: a clean slate */
			return NULL;
		}
		return e;
	}
	return NULL;
}

unsigned auth_lim_check(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	struct auth_lim_slot *e = lim_find(l, addr, now_ms);
	if (!e || e->fails < l->max_fails)
		return 0;
	uint64_t left = e->first_ms + l->window_ms - now_ms;
	return (unsigned)((left + 999) / 1000);
}

void auth_lim_fail(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms)
{
	struct auth_lim_slot *e = lim_find(l, addr, now_ms);
	if (e) {
		e->fails++;
		return;
	}
	/* A free or expired slot, else the one whose window started first
	 * (it is the closest to being forgotten anyway). */
	struct auth_lim_slot *set = lim_set(l, addr), *victim = &set[0];
	for (int i = 0; i < AUTH_LIM_WAYS; i++) {
		struct auth_lim_slot *s = &set[i];
		if (!s->fails || now_ms - s->first_ms >= l->window_ms) {
			victim = s;
			break;
		}
		if (s->first_ms < victim->first_ms)
			victim = s;
	}
	memcpy(victim->addr, addr, 16);
	victim->first_ms = now_ms;
	victim->fails = 1;
}
