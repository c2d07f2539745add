/* SPDX-License-Identifier: MIT */
/*
 * authcache.c — recently verified credentials (see authcache.h).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "authcache.h"
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define AC_WAYS 8
#define AC_USER 64 /* longest user name kept; longer ones are not cached */

struct ac_entry {
	uint8_t mac[AC_MAC];
	uint64_t expires_ms; /* 0: free */
	uint64_t gen;
	char user[AC_USER];
};

struct ac {
	uint8_t key[32];
	uint64_t ttl_ms, gen;
	unsigned nsets;
	struct ac_entry *e;
};

struct ac *ac_new(unsigned slots, uint64_t ttl_ms, char *err, size_t errlen)
{
	struct ac *a = calloc(1, sizeof(*a));
	if (!a)
		goto nomem;
	a->nsets = (slots + AC_WAYS - 1) / AC_WAYS;
	if (!a->nsets)
		a->nsets = 1;
	a->ttl_ms = ttl_ms;
	a->gen = 1;
	if (!(a->e = calloc((size_t)a->nsets * AC_WAYS, sizeof(*a->e))))
		goto nomem;
	if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key)) {
		snprintf(err, errlen, "auth cache: no randomness for its key");
		ac_free(a);
		return NULL;
	}
	return a;
nomem:
	snprintf(err, errlen, "auth cache: out of memory");
	ac_free(a);
	return NULL;
}

void ac_free(struct ac *a)
{
	if (!a)
		return;
	if (a->e) {
		explicit_bzero(a->e, (size_t)a->nsets * AC_WAYS * sizeof(*a->e));
		free(a->e);
	}
	explicit_bzero(a, sizeof(*a));
	free(a);
}

void ac_mac(const struct ac *a, const char *user, const char *pass, uint8_t mac[AC_MAC])
{
	/* user NUL password: the NUL keeps ("ab","c") apart from ("a","bc"). */
	unsigned char msg[AC_USER + 1 + 512];
	unsigned len = 0;
	size_t ul = strlen(user), pl = strlen(pass);
	if (ul >= AC_USER || pl >= 512 ||
	    (memcpy(msg, user, ul + 1), memcpy(msg + ul + 1, pass, pl),
	     !HMAC(EVP_sha256(), a->key, sizeof(a->key), msg, ul + 1 + pl, mac, &len)) ||
	    len != AC_MAC) {
		/* Too long to cache (or no libcrypto): a random mac never
		 * matches, so the login just pays its crypt. */
		if (getrandom(mac, AC_MAC, 0) != AC_MAC)
			memset(mac, 0xa5, AC_MAC);
	}
	explicit_bzero(msg, sizeof(msg));
}

uint64_t ac_gen(const struct ac *a) { return a->gen; }

static struct ac_entry *set_of(const struct ac *a, const uint8_t mac[AC_MAC])
{
	uint32_t h;
	memcpy(&h, mac, sizeof(h)); /* keyed already: no need to hash again */
	return &a->e[(size_t)(h % a->nsets) * AC_WAYS];
}

static int live(const struct ac_entry *e, uint64_t now_ms)
{
	return e->expires_ms && now_ms < e->expires_ms;
}

int ac_hit(struct ac *a, const char *user, const uint8_t mac[AC_MAC], uint64_t now_ms)
{
	if (!a->ttl_ms)
		return 0;
	struct ac_entry *set = set_of(a, mac);
	for (int i = 0; i < AC_WAYS; i++) {
		struct ac_entry *e = &set[i];
		if (!live(e, now_ms) || CRYPTO_memcmp(e->mac, mac, AC_MAC) != 0)
			continue;
		return e->gen == a->gen && strcmp(e->user, user) == 0;
	}
	return 0;
}

int ac_verified(struct ac *a, const struct auth_db *db, const char *user,
		const uint8_t mac[AC_MAC], uint64_t now_ms)
{
	const char *entry = auth_entry_of(db, user);
	if (!entry || *entry == '!' || *entry == '*')
		return 0; /* removed or locked since: the file decides */
	return ac_hit(a, user, mac, now_ms);
}

void ac_put(struct ac *a, const char *user, const uint8_t mac[AC_MAC], uint64_t gen,
	    uint64_t now_ms)
{
	if (!a->ttl_ms || gen != a->gen || strlen(user) >= AC_USER)
		return;
	struct ac_entry *set = set_of(a, mac), *v = NULL;
	for (int i = 0; i < AC_WAYS; i++) {
		struct ac_entry *e = &set[i];
		if (live(e, now_ms) && memcmp(e->mac, mac, AC_MAC) == 0) {
			v = e; /* the same credential again: a fresh lifetime */
			break;
		}
		if (!live(e, now_ms)) {
			if (!v || live(v, now_ms))
				v = e;
		} else if (!v || (live(v, now_ms) && e->expires_ms < v->expires_ms)) {
			v = e;
		}
	}
	memcpy(v->mac, mac, AC_MAC);
	snprintf(v->user, sizeof(v->user), "%s", user);
	v->gen = gen;
	v->expires_ms = now_ms + a->ttl_ms;
}

unsigned ac_reload(struct ac *a, const struct auth_db *old, const struct auth_db *db)
{
	unsigned n = 0;
	size_t all = (size_t)a->nsets * AC_WAYS;
	a->gen++;
	for (size_t i = 0; i < all; i++) {
		struct ac_entry *e = &a->e[i];
		if (!e->expires_ms)
			continue;
		const char *was = auth_entry_of(old, e->user), *now = auth_entry_of(db, e->user);
		if (e->gen == a->gen - 1 && was && now && strcmp(was, now) == 0) {
			e->gen = a->gen;
			continue;
		}
		explicit_bzero(e, sizeof(*e));
		n++;
	}
	return n;
}

unsigned ac_count(const struct ac *a, uint64_t now_ms)
{
	unsigned n = 0;
	size_t all = (size_t)a->nsets * AC_WAYS;
	for (size_t i = 0; i < all; i++)
		n += live(&a->e[i], now_ms) && a->e[i].gen == a->gen;
	return n;
}
