/* SPDX-License-Identifier: MIT */
/*
 * log.c — one line per event:
 *
 *     2026-11-26T07:31:00.123 info  [vpn/tls-http] message
 *
 * Two other targets: syslog(3) (log_target = "syslog"), and the journal
 * when stderr is one of journald's streams ($JOURNAL_STREAM names its
 * device and inode).  Both store a timestamp and a priority of their own,
 * so there the line is "[vpn/tls-http] message": to the journal with the
 * "<3>" priority prefix it parses (sd-daemon(3)), so `journalctl -p err`
 * finds our errors.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(), so lines from one process never interleave, and with O_APPEND
 * several processes can share one file.  Nothing is buffered in stdio, so a
 * crash loses no lines and rotation needs no flush.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longer messages are cut and end with "..." rather than split into two
 * lines: a line is the unit a reader greps for. */
#define LOG_LINE_MAX 2048

static enum tp_log_level log_level = TP_LOG_INFO;
static int log_fd = -1;        /* -1: stderr */
static char *log_path;         /* what tp_log_open got, for tp_log_reopen */
static int log_journal;        /* stderr is journald's: "<N>" prefix, no time */
static int log_syslog;         /* syslog(3) instead of stderr or the file */

/* syslog priorities of our levels, for syslog(3) and the "<N>" prefix. */
static const int level_prio[] = {
	[TP_LOG_ERROR] = LOG_ERR,
	[TP_LOG_WARN] = LOG_WARNING,
	[TP_LOG_INFO] = LOG_INFO,
	[TP_LOG_DEBUG] = LOG_DEBUG,
};

/* Padded to five columns so messages line up. */
static const char *const level_names[] = {
	[TP_LOG_ERROR] = "error",
	[TP_LOG_WARN] = "warn ",
	[TP_LOG_INFO] = "info ",
	[TP_LOG_DEBUG] = "debug",
};

void tp_log_set_level(enum tp_log_level lvl)
{
	if (lvl > TP_LOG_DEBUG)
		lvl = TP_LOG_DEBUG;
	log_level = lvl;
}

enum tp_log_level tp_log_get_level(void)
{
	return log_level;
}

int tp_log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int open_log_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
}

int tp_log_open(const char *path)
{
	char *copy = NULL;
	int fd = -1;

	if (path) {
		copy = strdup(path);
		if (!copy)
			goto fail;
		fd = open_log_file(path);
		if (fd < 0)
			goto fail;
	}
	if (log_fd >= 0)
		close(log_fd);
	free(log_path);
	log_fd = fd;
	log_path = copy;
	return 0;

fail:;
	int saved = errno;
	free(copy);
	errno = saved;
	return -1;
}

int tp_log_reopen(void)
{
	int fd;

	if (!log_path)
		return 0; /* stderr: nothing to rotate */
	/* Open the new file before closing the old one: if it fails (disk
	 * full, permissions changed) we keep logging somewhere. */
	fd = open_log_file(log_path);
	if (fd < 0)
		return -1;
	close(log_fd);
	log_fd = fd;
	return 0;
}

int tp_log_detect_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int used = 0;

	log_journal = 0;
	/* "DEV:INO" in decimal; anything else (or a stderr that was
	 * redirected since systemd set it) is not the journal. */
	if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &used) != 2 || env[used] != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	log_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return log_journal;
}

int tp_log_journal(void)
{
	return log_journal;
}

void tp_log_use_syslog(const char *ident)
{
	if (ident) {
		/* LOG_NDELAY: connect to /dev/log now, before the privilege
		 * drop and any sandbox can take it away. */
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
	} else if (log_syslog) {
		closelog();
		log_syslog = 0;
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report a logging failure */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Control characters (a newline in a peer-supplied string, say) would let
 * one event forge another line; show them as '?'. */
static void sanitize(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			p[i] = (p[i] == '\t') ? ' ' : '?';
}

void tp_vlog(enum tp_log_level lvl, const char *who, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n, room = sizeof(line) - 1; /* keep one byte for '\n' */
	int r;
	int saved_errno = errno; /* callers often log then inspect errno */

	if (lvl > log_level)
		return;
	if (lvl > TP_LOG_DEBUG)
		lvl = TP_LOG_DEBUG;

	if (log_syslog || (log_journal && log_fd < 0)) {
		/* The receiver keeps the time and the priority. */
		n = 0;
		if (log_syslog)
			r = snprintf(line, room, "[%s] ", who ? who : "core");
		else
			r = snprintf(line, room, "<%d>[%s] ", level_prio[lvl], who ? who : "core");
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, room, "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, room - n, ".%03ld %s [%s] ", ts.tv_nsec / 1000000L,
			     level_names[lvl], who ? who : "core");
	}
	if (r < 0)
		goto out;
	n += (size_t)r < room - n ? (size_t)r : room - n - 1;

	r = vsnprintf(line + n, room - n, fmt, ap);
	if (r < 0)
		goto out;
	if ((size_t)r >= room - n) {
		/* Truncated: vsnprintf left a NUL at room-1. */
		memcpy(line + room - 4, "...", 3);
		r = (int)(room - n - 1);
	}
	sanitize(line + n, (size_t)r);
	n += (size_t)r;
	if (log_syslog) {
		line[n] = '\0';
		syslog(level_prio[lvl], "%s", line);
		goto out;
	}
	line[n++] = '\n';
	write_all(log_fd >= 0 ? log_fd : STDERR_FILENO, line, n);
out:
	errno = saved_errno;
}

void tp_log(enum tp_log_level lvl, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_vlog(lvl, who, fmt, ap);
	va_end(ap);
}
