/* SPDX-License-Identifier: MIT */
/*
 * run.h — running a helper program (a user's up/down hook, resolvectl,
 * resolvconf) from the tun plugin without blocking the event loop: fork and
 * exec, the output read through a pipe and logged, the end watched with a
 * pidfd on the host's fd service, a timeout that kills the process group.
 */
#ifndef TUN_RUN_H
#define TUN_RUN_H
#include <stddef.h>

struct tun;
struct tn_job;

/* status: the exit status (0..255), 128+N for a signal, -1 when it could
 * not run or timed out (timed_out set). */
typedef void (*tn_job_done)(void *arg, int status, int timed_out);

/* Start argv[0] (searched in PATH when it has no '/') with envp (NULL:
 * ours) and `input` on its standard input (NULL: /dev/null).  `what`
 * names it in the log.  NULL when it could not start (logged; `done` is
 * not called). */
struct tn_job *tn_job_start(struct tun *t, const char *what, char *const argv[], char *const envp[],
			    const char *input, unsigned timeout_ms, tn_job_done done, void *arg);
/* Kill and reap a running job; `done` is not called. */
void tn_job_cancel(struct tn_job *j);
/* Wait up to timeout_ms for a running job to end (at stop), then kill it;
 * `done` is called either way. */
void tn_job_wait(struct tn_job *j, unsigned timeout_ms);
/* The same, waiting for the end (at stop, when the loop is going away).
 * Returns the status as above. */
int tn_run_sync(struct tun *t, const char *what, char *const argv[], char *const envp[],
		const char *input, unsigned timeout_ms);

#endif
