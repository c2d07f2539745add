/* SPDX-License-Identifier: MIT */
/*
 * race.h — the client's TCP connect with Happy Eyeballs (RFC 8305): every
 * resolved address, families interleaved, a new attempt every stagger ms
 * or as soon as one fails, the first to connect wins.
 */
#ifndef TLS_HTTP_RACE_H
#define TLS_HTTP_RACE_H
#include <stdint.h>
#include <netdb.h>

struct th_ctx;
struct th_race;

/* The race is over.  fd >= 0: connected to `peer` ("ADDR:PORT"), off the
 * loop, the caller's.  fd < 0: every address failed or total_ms passed;
 * why says the last failure.  Each attempt's start and failure are logged. */
typedef void (*th_race_done_fn)(struct th_ctx *c, int fd, const char *peer, const char *why);

/* Race the addresses of `list` (which must outlive the race; each carries
 * its port); label ("proxy " or "") goes
 * into the "connecting to LABELADDRESS" lines.  0: *out is the race, set
 * before the first attempt starts — when every address fails at once,
 * done() runs before this returns, and *out is dangling unless done()
 * clears it.  -1: cannot start (out of memory), done() not called. */
int th_race_start(struct th_ctx *c, const struct addrinfo *list, const char *label, uint64_t stagger_ms, uint64_t total_ms, th_race_done_fn done,
		  struct th_race **out);
/* Abandon a race under way: every attempt closed, done() not called. */
void th_race_cancel(struct th_race *r);

#endif
