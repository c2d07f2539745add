/* SPDX-License-Identifier: MIT */
/*
 * authworker.h — password checks off the event loop.
 *
 * crypt() is slow on purpose (5 ms for $6$, 30 ms for $y$, ~100 ms for
 * $2b$ cost 10); run on the loop it would freeze every tunnel of the
 * server while unauthenticated clients try passwords.  Worker threads (as
 * many as the machine has cores, on a server) take jobs from a bounded queue, runs the pure crypt + compare on copies
 * of the hash and the password, and signals each result through an eventfd
 * the loop watches.
 *
 * Ownership: the loop thread calls every function here; the worker only
 * runs the verify function on a job's own copies (never the host, a
 * connection, OpenSSL or the users database, which a reload may free).
 *
 * Jobs have ids (never 0, never reused).  A result whose id the caller no
 * longer knows (the connection closed meanwhile) is simply not looked up:
 * cancellation needs no callback into the connection.  aw_cancel() spares
 * the crypt of a job still queued.
 *
 * Fairness: each job carries its source's key (auth.h's address key) and
 * the queue is served round robin across keys, not first come first
 * served: a job is given the next round its key has not used yet (its
 * running check counts as used), and the worker runs the lowest round
 * first, the oldest among equals.  An address that queued twenty
 * checks gets one per round like an address that queued one, so it can
 * only slow itself.
 */
#ifndef TLS_HTTP_AUTHWORKER_H
#define TLS_HTTP_AUTHWORKER_H
#include <stddef.h>
#include <stdint.h>

struct aw;
struct crypt_data;

/* The check run by the worker; auth_verify() unless a test says otherwise. */
typedef int (*aw_verify_fn)(const char *hash, int known, const char *pass, struct crypt_data *cd);

struct aw_result {
	uint64_t id;
	int ok; /* 1: password matched */
};

/* Start the worker with room for `cap` jobs not yet collected (queued,
 * running or done).  NULL with a message in err. */
struct aw *aw_new(unsigned cap, aw_verify_fn verify, char *err, size_t errlen);
/* The same with `threads` worker threads (1..64) taking jobs from the one
 * queue; with more than one, jobs of the same round run concurrently and
 * results may complete out of submission order. */
struct aw *aw_new_n(unsigned cap, unsigned threads, aw_verify_fn verify, char *err,
		    size_t errlen);
/* Worker threads running. */
unsigned aw_threads(const struct aw *w);
/* Stop the workers (the jobs running finish; queued ones are dropped),
 * join it, wipe every password copy and free everything. */
void aw_free(struct aw *w);

/* The eventfd to watch for TP_FD_READ; readable when results wait. */
int aw_fd(const struct aw *w);

/* Queue a check.  0 with *id set; -1 when the queue is full (the caller
 * answers "busy" instead) or hash/pass do not fit. */
int aw_submit(struct aw *w, const char *hash, int known, const char *pass, uint64_t *id);
/* The same for a source `key` (16 bytes); aw_submit uses an all-zero key. */
int aw_submit_from(struct aw *w, const uint8_t key[16], const char *hash, int known,
		   const char *pass, uint64_t *id);

/* Forget a job: dropped if still queued, its result discarded if running
 * or done.  Unknown ids are ignored. */
void aw_cancel(struct aw *w, uint64_t id);

/* Drop every queued job for which keep(arg, id) returns 0 (their owners
 * went away without cancelling).  Returns how many were dropped. */
unsigned aw_sweep(struct aw *w, int (*keep)(void *arg, uint64_t id), void *arg);

/* Jobs submitted and not yet collected or cancelled. */
unsigned aw_pending(struct aw *w);

/* Take up to `max` results, in order of completion; clears the eventfd. */
size_t aw_collect(struct aw *w, struct aw_result *out, size_t max);

#endif
