/* SPDX-License-Identifier: MIT */
/*
 * run.c — see run.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "tun.h"

#define LOG(t, lvl, ...) (t)->host->log((t)->st, lvl, __VA_ARGS__)
/* Output kept for the log; a chatty script is cut, never buffered whole. */
#define OUT_MAX 4096

extern char **environ;

struct tn_job {
	struct tun *t;
	char what[64];
	pid_t pid;
	int pidfd, outfd;
	struct tp_timer *timer;
	int timed_out;
	tn_job_done done;
	void *arg;
	char out[OUT_MAX];
	size_t outlen, dropped;
};

/* Fork and exec; the child's stdout and stderr go to *outfd. */
static pid_t spawn(struct tun *t, const char *what, char *const argv[], char *const envp[],
		   const char *input, int *outfd)
{
	int out[2] = { -1, -1 }, in[2] = { -1, -1 };
	size_t ilen = input ? strlen(input) : 0;
	sigset_t all;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		goto fail;
	/* The input is a few lines (resolvconf): it fits the pipe's buffer,
	 * so writing it before the fork never blocks. */
	if (ilen && (ilen > 4096 || write(in[1], input, ilen) != (ssize_t)ilen))
		goto fail;
	close(in[1]);
	in[1] = -1;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		/* The daemon blocks the signals it takes through a signalfd:
		 * a script must start with none blocked and default actions. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0); /* a timeout kills the whole group */
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		closefrom(3);
		execvpe(argv[0], argv, envp ? envp : environ);
		/* Only async-signal-safe calls here: the daemon may have threads
		 * (the auth workers) whose locks a forked child must not touch. */
		(void)!write(2, "cannot run ", 11);
		(void)!write(2, argv[0], strlen(argv[0]));
		(void)!write(2, errno == ENOENT ? ": not found\n" : ": cannot execute\n",
			     errno == ENOENT ? 12 : 17);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	*outfd = out[0];
	return pid;

fail:
	LOG(t, TP_LOG_ERROR, "cannot start %s: %s", what, strerror(errno));
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	return -1;
}

/* Read what is there; 1 at end of file (every writer gone). */
static int keep_output(struct tn_job *j)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(j->outfd, buf, sizeof(buf))) > 0) {
		size_t room = sizeof(j->out) - 1 - j->outlen, k = (size_t)n < room ? (size_t)n : room;
		memcpy(j->out + j->outlen, buf, k);
		j->outlen += k;
		j->dropped += (size_t)n - k;
	}
	return n == 0;
}

/* One log line per output line, at info: the operator wants to see it. */
static void log_output(struct tn_job *j)
{
	char *line, *save = NULL;

	j->out[j->outlen] = '\0';
	for (line = strtok_r(j->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		LOG(j->t, TP_LOG_INFO, "%s: %s", j->what, line);
	if (j->dropped)
		LOG(j->t, TP_LOG_INFO, "%s: (%zu more bytes of output not logged)", j->what, j->dropped);
}

static int decode(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

static void finish(struct tn_job *j, int status, int notify)
{
	struct tun *t = j->t;

	if (j->pidfd >= 0) {
		t->host->fd_del(t->st, j->pidfd);
		close(j->pidfd);
	}
	if (j->outfd >= 0) {
		keep_output(j);
		t->host->fd_del(t->st, j->outfd);
		close(j->outfd);
	}
	if (j->timer)
		t->host->timer_cancel(t->st, j->timer);
	log_output(j);
	if (notify && j->done)
		j->done(j->arg, j->timed_out ? -1 : status, j->timed_out);
	free(j);
}

static void on_exit_cb(void *arg, int fd, uint32_t events)
{
	struct tn_job *j = arg;
	int st;

	(void)fd;
	(void)events;
	if (waitpid(j->pid, &st, WNOHANG) != j->pid)
		return;
	finish(j, decode(st), 1);
}

static void on_out_cb(void *arg, int fd, uint32_t events)
{
	struct tn_job *j = arg;

	(void)events;
	/* At EOF stop watching, or the fd stays readable and spins. */
	if (keep_output(j)) {
		j->t->host->fd_del(j->t->st, fd);
		close(fd);
		j->outfd = -1;
	}
}

static void on_timeout(void *arg)
{
	struct tn_job *j = arg;

	j->timer = NULL;
	j->timed_out = 1;
	LOG(j->t, TP_LOG_WARN, "%s did not finish in time: killed", j->what);
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
}

struct tn_job *tn_job_start(struct tun *t, const char *what, char *const argv[], char *const envp[],
			    const char *input, unsigned timeout_ms, tn_job_done done, void *arg)
{
	struct tn_job *j = calloc(1, sizeof(*j));

	if (!j) {
		LOG(t, TP_LOG_ERROR, "cannot start %s: out of memory", what);
		return NULL;
	}
	j->t = t;
	j->pidfd = j->outfd = -1;
	snprintf(j->what, sizeof(j->what), "%s", what);
	j->done = done;
	j->arg = arg;
	j->pid = spawn(t, what, argv, envp, input, &j->outfd);
	if (j->pid < 0) {
		free(j);
		return NULL;
	}
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	if (j->pidfd < 0 || t->host->fd_add(t->st, j->pidfd, TP_FD_READ, on_exit_cb, j) < 0 ||
	    t->host->fd_add(t->st, j->outfd, TP_FD_READ, on_out_cb, j) < 0) {
		LOG(t, TP_LOG_ERROR, "cannot watch %s: %s", what, strerror(errno));
		tn_job_cancel(j);
		return NULL;
	}
	j->timer = t->host->timer_add(t->st, timeout_ms, on_timeout, j);
	return j;
}

void tn_job_cancel(struct tn_job *j)
{
	int st;

	if (!j)
		return;
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	waitpid(j->pid, &st, 0);
	finish(j, -1, 0);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

void tn_job_wait(struct tn_job *j, unsigned timeout_ms)
{
	struct timespec t0;
	int st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < (long)timeout_ms) {
		struct pollfd p = { .fd = j->outfd, .events = POLLIN };

		if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
			finish(j, decode(st), 1);
			return;
		}
		if (j->outfd < 0) {
			usleep(20000);
		} else if (poll(&p, 1, 20) > 0 && keep_output(j)) {
			j->t->host->fd_del(j->t->st, j->outfd);
			close(j->outfd);
			j->outfd = -1;
		}
	}
	LOG(j->t, TP_LOG_WARN, "%s did not finish in time: killed", j->what);
	j->timed_out = 1;
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	waitpid(j->pid, &st, 0);
	finish(j, -1, 1);
}

int tn_run_sync(struct tun *t, const char *what, char *const argv[], char *const envp[],
		const char *input, unsigned timeout_ms)
{
	struct tn_job j = { .t = t, .pidfd = -1, .outfd = -1 };
	struct timespec t0;
	int st = 0, got = 0, eof = 0;

	snprintf(j.what, sizeof(j.what), "%s", what);
	j.pid = spawn(t, what, argv, envp, input, &j.outfd);
	if (j.pid < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < (long)timeout_ms) {
		struct pollfd p = { .fd = j.outfd, .events = POLLIN };

		if (waitpid(j.pid, &st, WNOHANG) == j.pid) {
			got = 1;
			break;
		}
		/* The end is seen by waitpid, not by the pipe: a background
		 * grandchild may keep the pipe open after its parent ended. */
		if (eof)
			usleep(20000);
		else if (poll(&p, 1, 20) > 0)
			eof = keep_output(&j);
	}
	if (!got) {
		LOG(t, TP_LOG_WARN, "%s did not finish in time: killed", what);
		kill(-j.pid, SIGKILL);
		kill(j.pid, SIGKILL);
		waitpid(j.pid, &st, 0);
	}
	keep_output(&j);
	close(j.outfd);
	log_output(&j);
	return got ? decode(st) : -1;
}
