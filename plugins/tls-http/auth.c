/*
 * auth.c — htpasswd loading and constant-time password checks.
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
#include <openssl/crypto.h>

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

int auth_check(const struct auth_db *db, const char *user, const char *pass)
{
	const struct auth_entry *e = NULL;
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].user, user) == 0)
			e = &db->v[i];
	/* Unknown user: hash anyway, with a setting of the same kind as a real
	 * entry, and fail afterwards. */
	const char *setting = e ? e->hash : db->n ? db->v[0].hash : dummy_setting;
	memset(db->cd, 0, sizeof(*db->cd));
	const char *out = crypt_rn(pass, setting, db->cd, (int)sizeof(*db->cd));
	int ok = 0;
	if (out && out[0] != '*' && e) {
		size_t hl = strlen(e->hash);
		ok = strlen(out) == hl && CRYPTO_memcmp(out, e->hash, hl) == 0;
	}
	explicit_bzero(db->cd, sizeof(*db->cd));
	return ok;
}
