/* SPDX-License-Identifier: MIT */
/*
 * test_auth.c — htpasswd loading and verification (plugins/tls-http/auth.c).
 *
 * Hashes are generated here with libcrypt for each supported method, so the
 * test exercises the same library the server uses; one line comes from
 * `openssl passwd -6` verbatim to prove interoperability with that tool.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

/* openssl passwd -6 -salt tunpipeTestSalt 'correct horse' */
static const char openssl_line[] =
	"olduser:$6$tunpipeTestSalt$vJ3qPmaTCRrLwcq2ftRMJn8SWEwdc85RT6hoqAp.Eq9j3RrwDrJSznvQNa9EO/"
	"za/0QJ.IJFpzRB9DIMOM7CB1";

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/tp-test-auth-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void teardown(void)
{
	if (path[0])
		unlink(path);
	path[0] = '\0';
}

/* A user:hash line for pass with a fresh salt of `prefix` (cost `count`). */
static void hash_line(char *out, size_t cap, const char *user, const char *prefix,
		      unsigned long count, const char *pass)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, count, NULL, 0, salt, sizeof(salt)));
	const char *h = crypt_rn(pass, salt, &cd, sizeof(cd));
	ck_assert_ptr_nonnull(h);
	ck_assert_int_ne(h[0], '*');
	snprintf(out, cap, "%s:%s\n", user, h);
}

START_TEST(each_hash_type)
{
	char l6[512], ly[512], l2[512], text[2048];
	hash_line(l6, sizeof(l6), "alice", "$6$", 0, "s3cret-6");
	hash_line(ly, sizeof(ly), "bob", "$y$", 0, "s3cret-y");
	hash_line(l2, sizeof(l2), "carol", "$2b$", 4, "s3cret-2b");
	/* comments, blank lines, trailing blanks, CRLF */
	snprintf(text, sizeof(text), "# tunpipe users\n\n%s%s   \n%s%s\r\n", l6, ly, l2, openssl_line);
	write_file(text);

	char err[256] = "";
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_msg(db != NULL, "load failed: %s", err);
	ck_assert_uint_eq(auth_count(db), 4);

	ck_assert_int_eq(auth_check(db, "alice", "s3cret-6"), 1);
	ck_assert_int_eq(auth_check(db, "bob", "s3cret-y"), 1);
	ck_assert_int_eq(auth_check(db, "carol", "s3cret-2b"), 1);
	ck_assert_int_eq(auth_check(db, "olduser", "correct horse"), 1);

	/* wrong passwords, including another user's and near misses */
	ck_assert_int_eq(auth_check(db, "alice", "s3cret-y"), 0);
	ck_assert_int_eq(auth_check(db, "alice", "s3cret-"), 0);
	ck_assert_int_eq(auth_check(db, "alice", ""), 0);
	ck_assert_int_eq(auth_check(db, "carol", "S3cret-2b"), 0);
	ck_assert_int_eq(auth_check(db, "olduser", "correct horse "), 0);
	/* unknown users fail, even with a password that is valid for someone */
	ck_assert_int_eq(auth_check(db, "mallory", "s3cret-6"), 0);
	ck_assert_int_eq(auth_check(db, "", ""), 0);
	ck_assert_int_eq(auth_check(db, "Alice", "s3cret-6"), 0);
	auth_free(db);
}
END_TEST

START_TEST(htpasswd_extra_fields)
{
	char l6[512], text[1024];
	hash_line(l6, sizeof(l6), "dave", "$6$", 0, "pw");
	l6[strlen(l6) - 1] = '\0';
	snprintf(text, sizeof(text), "%s:Dave Example\n", l6);
	write_file(text);
	char err[256];
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_msg(db != NULL, "load failed: %s", err);
	ck_assert_int_eq(auth_check(db, "dave", "pw"), 1);
	auth_free(db);
}
END_TEST

START_TEST(empty_file)
{
	write_file("# nobody yet\n\n");
	char err[256];
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(auth_count(db), 0);
	ck_assert_int_eq(auth_check(db, "x", "y"), 0);
	auth_free(db);
}
END_TEST

/* Each malformed file fails with file:line and a reason, never the hash. */
static const struct {
	const char *text;
	const char *expect;
} bad[] = {
	{ "nocolon\n", ":1: expected user:hash" },
	{ "# c\n:$6$abc$def\n", ":2: empty user name" },
	{ "user:\n", ":1: empty hash" },
	{ "us er:$6$abc$def\n", ":1: white space in user name" },
	{ "u:$apr1$abcdefgh$0123456789012345678901\n", ":1: Apache MD5" },
	{ "u:$9$nosuchmethod\n", ":1: hash not recognised" },
	{ "u:abJnggxhB/yWI\n", ":1: legacy weak hash refused" },
	{ "u:$6$saltsalt$AAAA\nu:$6$saltsalt$BBBB\n", ":2: duplicate user" },
	{ "u:$6$saltsalt$"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	  ":1: hash too long" },
};

START_TEST(malformed)
{
	write_file(bad[_i].text);
	char err[256] = "";
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(err, path) != NULL, "error does not name the file: %s", err);
	ck_assert_msg(strstr(err, bad[_i].expect) != NULL, "case %d: got '%s', want '%s'", _i, err,
		      bad[_i].expect);
	const char *hash = strchr(bad[_i].text, ':');
	if (hash && hash[1] && hash[1] != '\n')
		ck_assert_msg(strstr(err, hash + 1) == NULL && strstr(err, "saltsalt") == NULL,
			      "error leaks a hash: %s", err);
}
END_TEST

START_TEST(missing_file)
{
	char err[256];
	ck_assert_ptr_null(auth_load("/nonexistent/tunpipe-users", err, sizeof(err)));
	ck_assert_msg(strstr(err, "/nonexistent/tunpipe-users") && strstr(err, "No such file"), "%s", err);
}
END_TEST

/* auth_lookup + auth_verify are auth_check in two halves (the worker's). */
START_TEST(lookup_and_verify)
{
	char l6[512], hash[AUTH_HASH_MAX], err[256];
	hash_line(l6, sizeof(l6), "erin", "$6$", 0, "pw-erin");
	write_file(l6);
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	ck_assert_int_eq(auth_lookup(db, "erin", hash, sizeof(hash)), 1);
	ck_assert_int_eq(strncmp(l6 + 5, hash, strlen(hash)), 0);
	ck_assert_int_eq(auth_verify(hash, 1, "pw-erin", cd), 1);
	ck_assert_int_eq(auth_verify(hash, 1, "pw-eri", cd), 0);
	/* unknown: a decoy of the same kind, and never a match */
	ck_assert_int_eq(auth_lookup(db, "nobody", hash, sizeof(hash)), 0);
	ck_assert_int_eq(strncmp(hash, "$6$", 3), 0);
	ck_assert_int_eq(auth_verify(hash, 0, "pw-erin", cd), 0);
	free(cd);
	auth_free(db);
}
END_TEST

static const uint8_t ip_a[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
static const uint8_t ip_b[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 2 };

START_TEST(limiter_throttles_after_n)
{
	static struct auth_limiter l;
	auth_lim_init(&l, 5, 10000, 42);
	uint64_t t = 1000000;
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(auth_lim_check(&l, ip_a, t), 0);
		auth_lim_fail(&l, ip_a, t);
		t += 100;
	}
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, t), 0); /* 4 failures: still allowed */
	auth_lim_fail(&l, ip_a, t);                        /* 5th, 400 ms after the 1st */
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, t), 10); /* 9.6 s left, rounded up */
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, t + 5000), 5);
	ck_assert_uint_eq(auth_lim_check(&l, ip_b, t), 0); /* another address is not affected */
	/* window over (10 s after the first failure): allowed again, counting anew */
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, 1000000 + 10000), 0);
	auth_lim_fail(&l, ip_a, 1000000 + 10000);
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, 1000000 + 10001), 0);
	/* reset forgets */
	for (int i = 0; i < 5; i++)
		auth_lim_fail(&l, ip_b, t);
	ck_assert_uint_ne(auth_lim_check(&l, ip_b, t), 0);
	auth_lim_reset(&l);
	ck_assert_uint_eq(auth_lim_check(&l, ip_b, t), 0);
}
END_TEST

/* Failures spread over more than the window never throttle. */
START_TEST(limiter_window_slides)
{
	static struct auth_limiter l;
	auth_lim_init(&l, 5, 10000, 7);
	for (uint64_t t = 0; t < 60000; t += 2500) {
		ck_assert_msg(auth_lim_check(&l, ip_a, t) == 0, "throttled at %llu ms", (unsigned long long)t);
		auth_lim_fail(&l, ip_a, t);
	}
}
END_TEST

/* Ten times more addresses than slots: the fixed table forgets the
 * stalest entries and keeps the recent ones throttled. */
START_TEST(limiter_table_bounded)
{
	static struct auth_limiter l;
	uint8_t ip[16] = { [10] = 0xff, [11] = 0xff, 10 };
	auth_lim_init(&l, 2, 10000, 1);
	for (unsigned i = 0; i < 10 * AUTH_LIM_SLOTS; i++) {
		ip[13] = (uint8_t)(i >> 8);
		ip[14] = (uint8_t)i;
		auth_lim_fail(&l, ip, 5000 + i);
		auth_lim_fail(&l, ip, 5000 + i);
		ck_assert_uint_ne(auth_lim_check(&l, ip, 5000 + i), 0);
	}
	/* the most recent addresses are all still held */
	unsigned held = 0;
	for (unsigned i = 10 * AUTH_LIM_SLOTS - 16; i < 10 * AUTH_LIM_SLOTS; i++) {
		ip[13] = (uint8_t)(i >> 8);
		ip[14] = (uint8_t)i;
		held += auth_lim_check(&l, ip, 5000 + 10 * AUTH_LIM_SLOTS) != 0;
	}
	ck_assert_uint_eq(held, 16);
}
END_TEST

/* Locked accounts (shadow's convention) load, and never log in: not with
 * the password the hash after `!` was made from, not with anything. */
START_TEST(locked_entries)
{
	char l6[512], text[2048], hash[AUTH_HASH_MAX], err[256];
	hash_line(l6, sizeof(l6), "bob", "$6$", 0, "pw-bob");
	/* "bob:!$6$..." : the old hash kept behind the lock */
	snprintf(text, sizeof(text), "%s\n%.4s!%scarol:*\ndave:!\nerin:!!\n", openssl_line, l6, l6 + 4);
	write_file(text);
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_uint_eq(auth_count(db), 5);
	ck_assert_int_eq(auth_check(db, "olduser", "correct horse"), 1);
	ck_assert_int_eq(auth_check(db, "bob", "pw-bob"), 0);
	ck_assert_int_eq(auth_check(db, "carol", ""), 0);
	ck_assert_int_eq(auth_check(db, "carol", "*"), 0);
	ck_assert_int_eq(auth_check(db, "dave", ""), 0);
	ck_assert_int_eq(auth_check(db, "erin", "!"), 0);
	/* a locked user is hashed against the decoy, like an unknown one */
	ck_assert_int_eq(auth_lookup(db, "bob", hash, sizeof(hash)), 0);
	ck_assert_str_eq(hash, auth_decoy(db));
	ck_assert_int_eq(strncmp(auth_entry_of(db, "bob"), "!$6$", 4), 0);
	ck_assert_str_eq(auth_entry_of(db, "carol"), "*");
	ck_assert_ptr_null(auth_entry_of(db, "nobody"));
	auth_free(db);
}
END_TEST

/* The decoy has the kind and cost most entries have, not the first
 * entry's: one cheap $6$ user ahead of bcrypt cost-5 users must not make
 * unknown names cheap (the timing leak of issue 10). */
START_TEST(decoy_of_typical_kind)
{
	char a[512], b[512], c[512], text[2048], hash[AUTH_HASH_MAX], err[256];
	hash_line(a, sizeof(a), "first", "$6$", 0, "x");
	hash_line(b, sizeof(b), "bob", "$2b$", 5, "y");
	hash_line(c, sizeof(c), "carol", "$2b$", 5, "z");
	snprintf(text, sizeof(text), "%s%slocked:!%s%s", a, b, c + 6, c);
	write_file(text);
	struct auth_db *db = auth_load(path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(auth_lookup(db, "mallory", hash, sizeof(hash)), 0);
	ck_assert_msg(strncmp(hash, "$2b$05$", 7) == 0, "decoy %s is not bcrypt cost 5", hash);
	auth_free(db);
	unlink(path);
	/* $6$ with rounds= is another cost than plain $6$ */
	write_file("u1:$6$rounds=9000$aaaaaaaa$x\nu2:$6$rounds=9000$bbbbbbbb$y\nu3:$6$cccccccc$z\n");
	ck_assert_ptr_nonnull(db = auth_load(path, err, sizeof(err)));
	ck_assert_int_eq(strncmp(auth_decoy(db), "$6$rounds=9000$", 15), 0);
	auth_free(db);
	unlink(path);
	/* only locked entries: the built-in setting */
	write_file("a:!\nb:*\n");
	ck_assert_ptr_nonnull(db = auth_load(path, err, sizeof(err)));
	ck_assert_int_eq(strncmp(auth_decoy(db), "$6$", 3), 0);
	auth_free(db);
}
END_TEST

/* Checks count from submission: 100 guesses sent at once get at most
 * max_inflight checks running and max_fails checks in all. */
START_TEST(limiter_counts_checks_in_flight)
{
	static struct auth_limiter l;
	auth_lim_init(&l, 5, 10000, 3);
	l.max_inflight = 2;
	uint64_t t = 50000;
	unsigned submitted = 0, running = 0;
	for (int round = 0; round < 50; round++) {
		/* two guesses arrive each round; whatever is allowed is submitted */
		for (int k = 0; k < 2; k++)
			if (auth_lim_check(&l, ip_a, t) == 0) {
				auth_lim_begin(&l, ip_a, t);
				submitted++;
				running++;
				ck_assert_uint_le(running, 2);
			}
		/* then one running check ends, failed */
		if (running) {
			auth_lim_end(&l, ip_a, t, 0);
			running--;
		}
		t += 10;
	}
	ck_assert_uint_eq(submitted, 5);
	ck_assert_uint_ge(auth_lim_check(&l, ip_a, t), 9);
	/* a success does not count as a failure */
	auth_lim_begin(&l, ip_b, t);
	ck_assert_int_eq(auth_lim_end(&l, ip_b, t, 1), 0);
	ck_assert_uint_eq(auth_lim_check(&l, ip_b, t), 0);
}
END_TEST

static unsigned released_n;
static uint8_t released_addr[16];
static void on_released(void *arg, const uint8_t addr[16])
{
	(void)arg;
	released_n++;
	memcpy(released_addr, addr, 16);
}

/* auth_lim_end says "throttled" once per window; expiry says "released"
 * once. */
START_TEST(limiter_throttle_and_release_once)
{
	static struct auth_limiter l;
	auth_lim_init(&l, 3, 10000, 9);
	l.released = on_released;
	released_n = 0;
	int said = 0;
	for (int i = 0; i < 6; i++) {
		auth_lim_begin(&l, ip_a, 1000 + i);
		said += auth_lim_end(&l, ip_a, 1000 + i, 0);
	}
	ck_assert_int_eq(said, 1);
	auth_lim_expire(&l, 5000);
	ck_assert_uint_eq(released_n, 0);
	auth_lim_expire(&l, 11000);
	ck_assert_uint_eq(released_n, 1);
	ck_assert_int_eq(memcmp(released_addr, ip_a, 16), 0);
	auth_lim_expire(&l, 12000);
	ck_assert_uint_eq(released_n, 1);
	ck_assert_uint_eq(auth_lim_check(&l, ip_a, 12000), 0);
}
END_TEST

/* The parser from memory, as the fuzz target drives it. */
START_TEST(parse_from_stream)
{
	char err[256], text[] = "# users\n  a:!\n\nb:*\n";
	FILE *f = fmemopen(text, strlen(text), "r");
	struct auth_db *db = auth_parse(f, "mem", err, sizeof(err));
	fclose(f);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_uint_eq(auth_count(db), 2);
	auth_free(db);
	char bad[] = "a:!\nb\n";
	f = fmemopen(bad, strlen(bad), "r");
	ck_assert_ptr_null(auth_parse(f, "mem", err, sizeof(err)));
	fclose(f);
	ck_assert_str_eq(err, "users file mem:2: expected user:hash");
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("htpasswd");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, each_hash_type);
	tcase_add_test(tc, htpasswd_extra_fields);
	tcase_add_test(tc, empty_file);
	tcase_add_loop_test(tc, malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, lookup_and_verify);
	tcase_add_test(tc, limiter_throttles_after_n);
	tcase_add_test(tc, limiter_window_slides);
	tcase_add_test(tc, limiter_table_bounded);
	tcase_add_test(tc, locked_entries);
	tcase_add_test(tc, decoy_of_typical_kind);
	tcase_add_test(tc, limiter_counts_checks_in_flight);
	tcase_add_test(tc, limiter_throttle_and_release_once);
	tcase_add_test(tc, parse_from_stream);
	suite_add_tcase(s, tc);
	return s;
}
