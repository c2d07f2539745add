/* SPDX-License-Identifier: MIT */
/*
 * harness-clock.h — the harness's test clock (internal to the harness).
 *
 * Every loop a harness creates reads the time from one process-wide
 * virtual clock, so several harnesses (a TLS server and its client) see
 * the same time and their timers fire in one global order.  The clock only
 * moves when a test says so (tp_harness_advance); fds stay real.
 */
#ifndef TP_TESTS_HARNESS_CLOCK_H
#define TP_TESTS_HARNESS_CLOCK_H
#include <stdint.h>

struct tp_loop;

/* Put a new loop on the test clock / take it off before freeing it. */
int hc_attach(struct tp_loop *l);
void hc_detach(struct tp_loop *l);

#endif
