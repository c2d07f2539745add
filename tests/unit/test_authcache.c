/* SPDX-License-Identifier: MIT */
/*
 * test_authcache.c — the cache of verified credentials
 * (plugins/tls-http/authcache.c): hits, misses, expiry on a test clock,
 * wrong passwords, users-file reloads and locked users, against users
 * databases parsed by the real loader (auth.c).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "authcache.h"

#define TTL 300000 /* ms, the default auth_cache */

/* Two valid SHA-512 hashes (openssl passwd -6 -salt ...): the cache never
 * runs crypt, it only compares entries. */
#define H1 "$6$tunpipeTestSalt$vJ3qPmaTCRrLwcq2ftRMJn8SWEwdc85RT6hoqAp.Eq9j3RrwDrJSznvQNa9EO/" \
	   "za/0QJ.IJFpzRB9DIMOM7CB1"
#define H2 "$6$otherSalt$8Rty6/iUrO6NQj9xIX7PhFTAuW7rDBx/hUmBBslC3Wn/AhVXcW7fQ0e1IMltM/" \
	   ".ETCvyju.eNhc0YOCk16t1S/"

static struct auth_db *db_of(const char *text)
{
	char err[256] = "";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_ptr_nonnull(f);
	struct auth_db *db = auth_parse(f, "test", err, sizeof(err));
	fclose(f);
	ck_assert_msg(db != NULL, "parse: %s", err);
	return db;
}

static struct ac *cache(uint64_t ttl)
{
	char err[256] = "";
	struct ac *a = ac_new(64, ttl, err, sizeof(err));
	ck_assert_msg(a != NULL, "ac_new: %s", err);
	return a;
}

/* Verify user/pass once (as a worker result would), at now. */
static void verified(struct ac *a, const char *user, const char *pass, uint64_t now)
{
	uint8_t m[AC_MAC];
	ac_mac(a, user, pass, m);
	ac_put(a, user, m, ac_gen(a), now);
}

static int hit(struct ac *a, const struct auth_db *db, const char *user, const char *pass,
	       uint64_t now)
{
	uint8_t m[AC_MAC];
	ac_mac(a, user, pass, m);
	return ac_verified(a, db, user, m, now);
}

START_TEST(hit_and_miss)
{
	struct auth_db *db = db_of("alice:" H1 "\ncarol:" H2 "\n");
	struct ac *a = cache(TTL);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 1000), 0); /* empty: miss */
	verified(a, "alice", "pw", 1000);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 1001), 1);
	ck_assert_int_eq(hit(a, db, "carol", "pw", 1001), 0); /* another user */
	ck_assert_int_eq(hit(a, db, "nobody", "pw", 1001), 0); /* not in the file */
	ck_assert_uint_eq(ac_count(a, 1001), 1);
	ac_free(a);
	auth_free(db);
}
END_TEST

START_TEST(wrong_password_is_no_hit)
{
	struct auth_db *db = db_of("alice:" H1 "\n");
	struct ac *a = cache(TTL);
	verified(a, "alice", "pw", 0);
	ck_assert_int_eq(hit(a, db, "alice", "pw2", 1), 0);
	ck_assert_int_eq(hit(a, db, "alice", "", 1), 0);
	ck_assert_int_eq(hit(a, db, "alice", "PW", 1), 0);
	/* user NUL password: "alic"+"epw" is not "alice"+"pw" */
	uint8_t m1[AC_MAC], m2[AC_MAC];
	ac_mac(a, "alice", "pw", m1);
	ac_mac(a, "alic", "epw", m2);
	ck_assert_int_ne(memcmp(m1, m2, AC_MAC), 0);
	/* the key is the password's keyed hash, not the password */
	ck_assert_ptr_null(memmem(m1, AC_MAC, "pw", 2));
	ck_assert_int_eq(hit(a, db, "alice", "pw", 1), 1);
	ac_free(a);
	auth_free(db);
}
END_TEST

/* Two caches have different keys: the mac is per process, not a plain
 * hash anyone could precompute. */
START_TEST(key_is_random)
{
	struct ac *a = cache(TTL), *b = cache(TTL);
	uint8_t m1[AC_MAC], m2[AC_MAC];
	ac_mac(a, "alice", "pw", m1);
	ac_mac(b, "alice", "pw", m2);
	ck_assert_int_ne(memcmp(m1, m2, AC_MAC), 0);
	ac_free(a);
	ac_free(b);
}
END_TEST

START_TEST(expiry_on_the_test_clock)
{
	struct auth_db *db = db_of("alice:" H1 "\n");
	struct ac *a = cache(TTL);
	verified(a, "alice", "pw", 5000);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 5000 + TTL - 1), 1);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 5000 + TTL), 0);
	ck_assert_uint_eq(ac_count(a, 5000 + TTL), 0);
	/* verified again: a fresh lifetime */
	verified(a, "alice", "pw", 5000 + TTL);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 5000 + 2 * TTL - 1), 1);
	ac_free(a);
	auth_free(db);
}
END_TEST

START_TEST(off_when_zero)
{
	struct auth_db *db = db_of("alice:" H1 "\n");
	struct ac *a = cache(0);
	verified(a, "alice", "pw", 0);
	ck_assert_int_eq(hit(a, db, "alice", "pw", 0), 0);
	ck_assert_uint_eq(ac_count(a, 0), 0);
	ac_free(a);
	auth_free(db);
}
END_TEST

/* A reload drops the users whose entry changed or went, keeps the rest. */
START_TEST(reload_drops_changed_users)
{
	struct auth_db *old = db_of("alice:" H1 "\ncarol:" H1 "\ndave:" H1 "\n");
	struct auth_db *db = db_of("alice:" H2 "\ncarol:" H1 "\n");
	struct ac *a = cache(TTL);
	verified(a, "alice", "pw", 0);
	verified(a, "carol", "pw", 0);
	verified(a, "dave", "pw", 0);
	ck_assert_uint_eq(ac_reload(a, old, db), 2); /* alice changed, dave gone */
	ck_assert_int_eq(hit(a, db, "alice", "pw", 1), 0);
	ck_assert_int_eq(hit(a, db, "dave", "pw", 1), 0);
	ck_assert_int_eq(hit(a, db, "carol", "pw", 1), 1);
	/* alice's old password is gone even if the file changes back */
	ck_assert_int_eq(hit(a, old, "alice", "pw", 1), 0);
	ac_free(a);
	auth_free(old);
	auth_free(db);
}
END_TEST

/* A check that ran against the file before a reload is not cached: it
 * proved the old hash, not the new one. */
START_TEST(check_across_reload_not_cached)
{
	struct auth_db *old = db_of("alice:" H1 "\n"), *db = db_of("alice:" H2 "\n");
	struct ac *a = cache(TTL);
	uint8_t m[AC_MAC];
	ac_mac(a, "alice", "old", m);
	uint64_t gen = ac_gen(a); /* submitted now … */
	ac_reload(a, old, db);
	ac_put(a, "alice", m, gen, 0); /* … its result arrives after the reload */
	ck_assert_int_eq(ac_verified(a, db, "alice", m, 1), 0);
	ck_assert_uint_eq(ac_count(a, 1), 0);
	ac_free(a);
	auth_free(old);
	auth_free(db);
}
END_TEST

START_TEST(locked_user)
{
	struct auth_db *old = db_of("alice:" H1 "\n"), *locked = db_of("alice:!" H1 "\n");
	struct ac *a = cache(TTL);
	verified(a, "alice", "pw", 0);
	/* the file as it is now decides, even before the reload is seen */
	ck_assert_int_eq(hit(a, locked, "alice", "pw", 1), 0);
	ck_assert_int_eq(hit(a, old, "alice", "pw", 1), 1);
	ck_assert_uint_eq(ac_reload(a, old, locked), 1);
	ck_assert_int_eq(hit(a, old, "alice", "pw", 1), 0);
	ac_free(a);
	auth_free(old);
	auth_free(locked);
}
END_TEST

/* A fixed table: many users make it forget, never grow. */
START_TEST(bounded)
{
	static char text[64 * 1024];
	char u[256];
	text[0] = '\0';
	for (int i = 0; i < 500; i++) {
		snprintf(u, sizeof(u), "user%d:" H1 "\n", i);
		strcat(text, u);
	}
	struct auth_db *db = db_of(text);
	struct ac *a = cache(TTL);
	for (int i = 0; i < 500; i++) {
		snprintf(u, sizeof(u), "user%d", i);
		verified(a, u, "pw", (uint64_t)i);
	}
	ck_assert_uint_le(ac_count(a, 500), 64);
	ck_assert_uint_ge(ac_count(a, 500), 32);
	/* the latest ones are there */
	ck_assert_int_eq(hit(a, db, "user499", "pw", 500), 1);
	ac_free(a);
	auth_free(db);
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("authcache");
	TCase *tc = tcase_create("cache");
	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, wrong_password_is_no_hit);
	tcase_add_test(tc, key_is_random);
	tcase_add_test(tc, expiry_on_the_test_clock);
	tcase_add_test(tc, off_when_zero);
	tcase_add_test(tc, reload_drops_changed_users);
	tcase_add_test(tc, check_across_reload_not_cached);
	tcase_add_test(tc, locked_user);
	tcase_add_test(tc, bounded);
	suite_add_tcase(s, tc);
	return s;
}
