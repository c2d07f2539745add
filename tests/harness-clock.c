/* SPDX-License-Identifier: MIT */
/*
 * harness-clock.c — the test clock shared by every harness of the process
 * (see harness-clock.h and the "Time" part of harness.h).
 *
 * Moving the clock is done in steps: settle every loop (run rounds without
 * waiting until no callback runs), then jump to the earliest timer of any
 * loop that is due within the target, settle again, and so on; last, the
 * clock is set to the target itself.  So timers fire in deadline order
 * across harnesses, and whatever a timer makes happen on a socket is
 * handled before the next timer fires, as it would be in real time.
 *
 * Settling also waits, for real, while another thread of this process is
 * running (a plugin's worker thread computing an answer): virtual time must
 * not run ahead of work that takes real time, or a timeout would fire
 * "before" an answer that was merely still being computed.  The wait is
 * bounded (HC_THREAD_WAIT_MS) so a thread that spins forever cannot hang
 * the test.
 */
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "harness.h"
#include "harness-clock.h"
#include "loop.h"

#define HC_START_MS 1000000      /* far from 0: "now - earlier" never wraps */
#define HC_MAX_LOOPS 64
#define HC_SETTLE_ROUNDS 100000  /* a loop busier than this is spinning */
#define HC_THREAD_WAIT_MS 10000

static uint64_t hc_now = HC_START_MS;
static struct tp_loop *hc_loops[HC_MAX_LOOPS];
static int hc_nloops;

static uint64_t hc_clock(void *arg)
{
	(void)arg;
	return hc_now;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hc_attach(struct tp_loop *l)
{
	if (hc_nloops == HC_MAX_LOOPS)
		return -1;
	tp_loop_set_clock(l, hc_clock, NULL);
	hc_loops[hc_nloops++] = l;
	return 0;
}

void hc_detach(struct tp_loop *l)
{
	for (int i = 0; i < hc_nloops; i++)
		if (hc_loops[i] == l) {
			hc_loops[i] = hc_loops[--hc_nloops];
			return;
		}
}

/* One round on every loop, without waiting.  Callbacks may create or free
 * harnesses only from the test's own code, never from a loop callback, so
 * the array is stable while we walk it. */
static int hc_round(void)
{
	int ran = 0;

	for (int i = 0; i < hc_nloops; i++) {
		int n = tp_loop_run_once(hc_loops[i], 0);

		if (n > 0)
			ran += n;
	}
	return ran;
}

/* Wait up to ms of wall time for any loop's fds. */
static int hc_wait(int ms)
{
	struct pollfd pfd[HC_MAX_LOOPS];

	for (int i = 0; i < hc_nloops; i++) {
		pfd[i].fd = tp_loop_fd(hc_loops[i]);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return poll(pfd, (nfds_t)hc_nloops, ms);
}

/* Is another thread of this process running (state R in /proc)?  A
 * worker's answer is then still being computed. */
static int hc_threads_busy(void)
{
	long self = syscall(SYS_gettid);
	struct dirent *de;
	int busy = 0;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return 0;
	while (!busy && (de = readdir(d))) {
		char path[300], buf[256];
		const char *paren;
		FILE *f;

		if (de->d_name[0] == '.' || atol(de->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		/* "tid (comm) S ...": the comm may hold spaces, so look for the
		 * last ')'. */
		if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')) && paren[1] == ' ')
			busy = paren[2] == 'R';
		fclose(f);
	}
	closedir(d);
	return busy;
}

/* Run rounds until nothing is left to do at this instant. */
static int hc_settle(int wait_threads)
{
	uint64_t t0 = 0;
	int total = 0;

	for (int i = 0; i < HC_SETTLE_ROUNDS; i++) {
		int n = hc_round();

		total += n;
		if (n > 0)
			continue;
		if (!wait_threads || !hc_threads_busy())
			return total;
		if (!t0)
			t0 = wall_ms();
		else if (wall_ms() - t0 > HC_THREAD_WAIT_MS) {
			fprintf(stderr, "[harness] warning: a thread kept running for %d ms; "
				"the test clock moves on\n", HC_THREAD_WAIT_MS);
			return total;
		}
		hc_wait(1);
	}
	fprintf(stderr, "[harness] error: the loops were still busy after %d rounds at %llu ms "
		"(a timer re-armed with 0 ms forever?)\n", HC_SETTLE_ROUNDS,
		(unsigned long long)hc_now);
	return total;
}

/* Earliest timer deadline over every loop; 0 if there is none. */
static int hc_next_timer(uint64_t *when)
{
	int found = 0;

	for (int i = 0; i < hc_nloops; i++) {
		uint64_t w;

		if (tp_loop_next_timer(hc_loops[i], &w) == 0 && (!found || w < *when)) {
			*when = w;
			found = 1;
		}
	}
	return found;
}

void tp_harness_advance(struct tp_harness *h, uint64_t ms)
{
	uint64_t target = hc_now + ms, when = 0;

	(void)h; /* one clock for every harness */
	hc_settle(1);
	while (hc_next_timer(&when) && when <= target) {
		if (when > hc_now)
			hc_now = when;
		if (hc_settle(1) == 0)
			break; /* a due timer that does not fire: do not spin */
	}
	hc_now = target;
	hc_settle(1);
}

void tp_harness_run(struct tp_harness *h, int ms)
{
	tp_harness_advance(h, ms > 0 ? (uint64_t)ms : 0);
}

int tp_harness_poll(struct tp_harness *h, int real_ms)
{
	(void)h;
	hc_wait(real_ms > 0 ? real_ms : 0);
	return hc_settle(0);
}

uint64_t tp_harness_now(const struct tp_harness *h)
{
	(void)h;
	return hc_now;
}
