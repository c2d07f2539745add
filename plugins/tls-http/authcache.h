/* SPDX-License-Identifier: MIT */
/*
 * authcache.h — recently verified credentials, so a reconnect storm (every
 * client coming back after a server restart or a network blip) does not
 * pay one crypt() per login.
 *
 * What is kept is never the password: the key of an entry is
 * HMAC-SHA256(k, user NUL password) under a random key k made when the
 * cache is (per process, never written anywhere), so a memory dump gives
 * nothing to guess offline faster than the users file does.  The value is
 * the user name, the users-file generation the check ran against and an
 * expiry.  Only successful checks go in (a failed one never does), and a
 * hit is honoured only if the entry's generation is the current one and
 * the caller has checked that the user still exists and is not locked.
 *
 * A users reload (SIGHUP) calls ac_reload(): entries of users whose entry
 * in the file changed (new hash, locked, removed) are dropped, the others
 * move to the new generation; a check that was running across the reload
 * carries the old generation and is not cached.
 *
 * A fixed table of sets (no growth): a full set forgets the entry closest
 * to expiry.  Time comes from the caller (now_ms), so a test clock drives
 * expiry.  Single-threaded: the loop alone uses it.
 */
#ifndef TLS_HTTP_AUTHCACHE_H
#define TLS_HTTP_AUTHCACHE_H
#include <stddef.h>
#include <stdint.h>

#define AC_MAC 32 /* HMAC-SHA256 */

struct ac;
struct auth_db;

/* A cache of `slots` entries (rounded up to whole sets) whose entries live
 * ttl_ms.  NULL with a message in err (no randomness, no memory). */
struct ac *ac_new(unsigned slots, uint64_t ttl_ms, char *err, size_t errlen);
void ac_free(struct ac *a);

/* The credential's key (never the password) into mac. */
void ac_mac(const struct ac *a, const char *user, const char *pass, uint8_t mac[AC_MAC]);
/* The users-file generation now (bumped by ac_reload). */
uint64_t ac_gen(const struct ac *a);

/* 1 if mac was verified for user at the current generation and has not
 * expired; the caller must still check the user exists and is unlocked. */
int ac_hit(struct ac *a, const char *user, const uint8_t mac[AC_MAC], uint64_t now_ms);
/* ac_hit for a user that db has, unlocked: what a login may skip crypt on. */
int ac_verified(struct ac *a, const struct auth_db *db, const char *user,
		const uint8_t mac[AC_MAC], uint64_t now_ms);
/* Remember a successful check of user run against generation gen (ignored
 * when a reload happened since). */
void ac_put(struct ac *a, const char *user, const uint8_t mac[AC_MAC], uint64_t gen,
	    uint64_t now_ms);
/* The users file was reloaded from old to db: drop the entries of users
 * whose entry differs, move the rest to a new generation.  How many went. */
unsigned ac_reload(struct ac *a, const struct auth_db *old, const struct auth_db *db);
/* Entries held (tests, status). */
unsigned ac_count(const struct ac *a, uint64_t now_ms);

#endif
