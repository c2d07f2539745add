/* SPDX-License-Identifier: MIT */
/*
 * auth.h — htpasswd-style user database verified with libcrypt.
 *
 * The file holds `user:hash` lines; `#` comments and blank lines are
 * ignored.  Hashes are whatever libcrypt's crypt_r() understands and
 * crypt_checksalt() calls current: $6$ (openssl passwd -6), $y$
 * (yescrypt), $2b$/$2y$ (htpasswd -B), $5$, ...  Legacy DES and the
 * Apache-only $apr1$ format are refused when the file is loaded, with the
 * line number, instead of failing every login later.
 *
 * A hash starting with `!` or `*` is a locked account (the shadow-file
 * convention: `bob:!$6$...` keeps the old hash, `bob:*` never had one):
 * accepted at load, and every login of that user fails exactly like a
 * wrong password (401), after the same crypt as anybody else's.
 */
#ifndef TLS_HTTP_AUTH_H
#define TLS_HTTP_AUTH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct auth_db;
struct crypt_data;

/* Longest hash kept (libcrypt's CRYPT_OUTPUT_SIZE): a longer one could
 * never equal crypt's output, so the loader refuses it. */
#define AUTH_HASH_MAX 384

/* Parse the file.  NULL on error with a message naming file:line in err
 * (never echoing a hash). */
struct auth_db *auth_load(const char *path, char *err, size_t errlen);
/* The same from an open stream; `name` is what messages call it (the
 * fuzz target parses memory through fmemopen). */
struct auth_db *auth_parse(FILE *f, const char *name, char *err, size_t errlen);
void auth_free(struct auth_db *db);
size_t auth_count(const struct auth_db *db);

/* 1 if user/pass match, 0 otherwise.  An unknown user still costs one
 * crypt() so the answer's timing does not reveal which users exist. */
int auth_check(const struct auth_db *db, const char *user, const char *pass);

/* The user's entry as written in the file (a locked one with its `!` or
 * `*`), NULL for an unknown user: a reload compares old and new to close
 * the sessions of users removed or whose hash changed. */
const char *auth_entry_of(const struct auth_db *db, const char *user);
/* The setting unknown and locked users are hashed against: an entry of
 * the file's most common kind and cost ("$2b$12$", "$6$", ...). */
const char *auth_decoy(const struct auth_db *db);

/*
 * auth_check in two halves, so the expensive one can run on another thread
 * (authworker.c) without touching the database, which a reload may free:
 *
 * auth_lookup copies into out (cap >= AUTH_HASH_MAX) the hash to hash the
 * password against: the user's own, or for an unknown user a decoy of the
 * same kind, so the timing does not tell.  Returns 1 for a known user, 0
 * for an unknown one (the check must then fail).
 *
 * auth_verify is the pure part: crypt + constant-time compare, thread
 * safe with its own `cd` (zeroed before and after).  1 on a match.
 */
int auth_lookup(const struct auth_db *db, const char *user, char *out, size_t cap);
int auth_verify(const char *hash, int known, const char *pass, struct crypt_data *cd);

/*
 * Failed-login limiter per source address: after `max_fails` failures
 * within `window_ms` of the first one, the address is refused until the
 * window ends, without any crypt.  A check counts from the moment it is
 * submitted (auth_lim_begin), not when it ends, so guesses sent together
 * cannot all be checked before the first failure is known: failures plus
 * checks in flight never exceed max_fails, and at most `max_inflight`
 * checks of one address run at once.
 *
 * A fixed table (AUTH_LIM_SLOTS, no allocation), hashed with a
 * per-instance seed into sets of AUTH_LIM_WAYS; a full set forgets its
 * stalest entry, so many addresses can only make the limiter forget,
 * never grow.  IPv6 addresses count per /64 (what one host usually
 * gets); IPv4 as ::ffff:a.b.c.d.  Single-threaded (the loop).  The state
 * is the limiter's alone: a users reload does not touch it.
 */
#define AUTH_LIM_SLOTS 256
#define AUTH_LIM_WAYS 8

struct auth_lim_slot {
	uint8_t addr[16];
	uint64_t first_ms; /* first failure of the current window */
	uint32_t fails;    /* failures in the window */
	uint16_t pending;  /* checks submitted, not finished */
	uint8_t throttled; /* reported as throttled, not yet as released */
	uint8_t used;
};

struct auth_limiter {
	struct auth_lim_slot slot[AUTH_LIM_SLOTS];
	uint32_t seed;
	unsigned max_fails, max_inflight;
	uint64_t window_ms;
	/* Called once when a throttled address's window ends (NULL: none). */
	void (*released)(void *arg, const uint8_t addr[16]);
	void *arg;
};

/* max_inflight starts equal to max_fails; set it lower after init. */
void auth_lim_init(struct auth_limiter *l, unsigned max_fails, uint64_t window_ms, uint32_t seed);
/* Forget every address (tests; the server never calls it). */
void auth_lim_reset(struct auth_limiter *l);
/* 0: the address may submit a check now; else whole seconds until it may
 * (Retry-After): failures + checks in flight reached max_fails, or
 * max_inflight checks of it are running (then 1). */
unsigned auth_lim_check(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms);
/* 1 if addr has max_fails failures in its window (not merely checks in
 * flight). */
int auth_lim_throttled(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms);
/* A check of addr was submitted. */
void auth_lim_begin(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms);
/* That check ended (ok: the password matched; 0 also for a check given
 * up because its peer left: it may have run).  Returns 1 when this failure throttles the address
 * (once per window: the caller logs it). */
int auth_lim_end(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms, int ok);
/* Count one failed login from addr (no check was submitted for it). */
void auth_lim_fail(struct auth_limiter *l, const uint8_t addr[16], uint64_t now_ms);
/* Report (l->released) and clear throttled addresses whose window ended;
 * call it about once a second. */
void auth_lim_expire(struct auth_limiter *l, uint64_t now_ms);

#endif
