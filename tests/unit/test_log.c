/* SPDX-License-Identifier: MIT */
/* test_log.c — line format, level threshold, rotation with tp_log_reopen,
 * journald detection ($JOURNAL_STREAM) and its priority prefixes. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static char dir[64], path[128], rotated[160];

static void setup(void)
{
	strcpy(dir, "/tmp/tp-test-log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tunpipe.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/tunpipe.log.1", dir);
	ck_assert_int_eq(tp_log_open(path), 0);
	tp_log_set_level(TP_LOG_INFO);
}

static void teardown(void)
{
	tp_log_open(NULL); /* back to stderr, closes the file */
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

/* The file's lines, NUL-separated in a static buffer; returns the count. */
static char content[8192];
static int read_lines(const char *file, char *lines[], int max)
{
	FILE *f = fopen(file, "r");
	size_t n;
	int count = 0;

	if (!f)
		return -1;
	n = fread(content, 1, sizeof(content) - 1, f);
	fclose(f);
	content[n] = '\0';
	for (char *p = content; *p && count < max;) {
		char *nl = strchr(p, '\n');
		ck_assert_msg(nl != NULL, "line without newline: %s", p);
		*nl = '\0';
		lines[count++] = p;
		p = nl + 1;
	}
	return count;
}

START_TEST(test_format)
{
	char *lines[8];
	regex_t re;

	errno = EAGAIN;
	tp_log(TP_LOG_INFO, "vpn/tls-http", "connected to %s:%d", "10.1.2.3", 443);
	ck_assert_int_eq(errno, EAGAIN); /* callers log, then look at errno */
	tp_log(TP_LOG_ERROR, NULL, "core says %d", 42);
	tp_log(TP_LOG_WARN, "x", "w");
	ck_assert_int_eq(read_lines(path, lines, 8), 3);

	ck_assert_int_eq(regcomp(&re,
				 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
				 "info  \\[vpn/tls-http\\] connected to 10\\.1\\.2\\.3:443$",
				 REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, lines[0], 0, NULL, 0) == 0, "bad line: %s", lines[0]);
	regfree(&re);
	ck_assert_ptr_nonnull(strstr(lines[1], " error [core] core says 42"));
	ck_assert_ptr_nonnull(strstr(lines[2], " warn  [x] w"));
}
END_TEST

START_TEST(test_level)
{
	char *lines[8];

	ck_assert_int_eq(tp_log_level_parse("error"), TP_LOG_ERROR);
	ck_assert_int_eq(tp_log_level_parse("warn"), TP_LOG_WARN);
	ck_assert_int_eq(tp_log_level_parse("info"), TP_LOG_INFO);
	ck_assert_int_eq(tp_log_level_parse("debug"), TP_LOG_DEBUG);
	ck_assert_int_eq(tp_log_level_parse("verbose"), -1);
	ck_assert_int_eq(tp_log_level_parse(NULL), -1);

	ck_assert_int_eq(tp_log_get_level(), TP_LOG_INFO);
	tp_log(TP_LOG_DEBUG, NULL, "hidden");
	tp_log_set_level(TP_LOG_WARN);
	ck_assert_int_eq(tp_log_get_level(), TP_LOG_WARN);
	tp_log(TP_LOG_INFO, NULL, "hidden too");
	tp_log(TP_LOG_WARN, NULL, "shown");
	tp_log_set_level(TP_LOG_DEBUG);
	tp_log(TP_LOG_DEBUG, NULL, "debug shown");
	ck_assert_int_eq(read_lines(path, lines, 8), 2);
	ck_assert_ptr_nonnull(strstr(lines[0], "shown"));
	ck_assert_ptr_nonnull(strstr(lines[1], "debug [core] debug shown"));
}
END_TEST

START_TEST(test_one_line_per_event)
{
	char *lines[8], big[5000];

	/* A newline in logged data must not forge a second line. */
	tp_log(TP_LOG_INFO, "p", "user %s", "bob\n2026-01-01T00:00:00.000 error [core] forged");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tp_log(TP_LOG_INFO, "p", "%s", big);
	ck_assert_int_eq(read_lines(path, lines, 8), 2);
	ck_assert_ptr_nonnull(strstr(lines[0], "user bob?2026"));
	ck_assert_uint_lt(strlen(lines[1]), sizeof(big));
	ck_assert_uint_gt(strlen(lines[1]), 1000);
	ck_assert_str_eq(lines[1] + strlen(lines[1]) - 3, "...");
}
END_TEST

START_TEST(test_reopen)
{
	char *lines[8];

	tp_log(TP_LOG_INFO, NULL, "before rotation");
	ck_assert_int_eq(rename(path, rotated), 0);
	tp_log(TP_LOG_INFO, NULL, "still old file");
	ck_assert_int_eq(tp_log_reopen(), 0);
	tp_log(TP_LOG_INFO, NULL, "after rotation");

	ck_assert_int_eq(read_lines(rotated, lines, 8), 2);
	ck_assert_ptr_nonnull(strstr(lines[1], "still old file"));
	ck_assert_int_eq(read_lines(path, lines, 8), 1);
	ck_assert_ptr_nonnull(strstr(lines[0], "after rotation"));

	/* A bad path fails cleanly and keeps the current file. */
	ck_assert_int_eq(tp_log_open("/nonexistent-dir/x.log"), -1);
	ck_assert_int_eq(errno, ENOENT);
	tp_log(TP_LOG_INFO, NULL, "kept");
	ck_assert_int_eq(read_lines(path, lines, 8), 2);
}
END_TEST

/* Log to a stderr that is `file` with JOURNAL_STREAM set to `env` (NULL:
 * the file's own "dev:ino"); returns what tp_log_detect_journal said. */
static int log_via_stderr(const char *file, const char *env)
{
	struct stat st;
	char val[64];
	int saved = dup(STDERR_FILENO), fd, journal;

	ck_assert_int_ge(saved, 0);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	snprintf(val, sizeof(val), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env ? env : val, 1);
	ck_assert_int_eq(tp_log_open(NULL), 0); /* to stderr */
	tp_log_set_level(TP_LOG_DEBUG);
	journal = tp_log_detect_journal();
	tp_log(TP_LOG_ERROR, "vpn/tls-http", "cannot load %s", "cert.pem");
	tp_log(TP_LOG_WARN, NULL, "w");
	tp_log(TP_LOG_INFO, "vpn/tun", "up");
	tp_log(TP_LOG_DEBUG, NULL, "d");
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	return journal;
}

START_TEST(test_journal_prefix)
{
	char *lines[8];

	ck_assert_int_eq(log_via_stderr(path, NULL), 1);
	ck_assert_int_eq(read_lines(path, lines, 8), 4);
	/* The journal keeps the time: only the priority and our text. */
	ck_assert_str_eq(lines[0], "<3>[vpn/tls-http] cannot load cert.pem");
	ck_assert_str_eq(lines[1], "<4>[core] w");
	ck_assert_str_eq(lines[2], "<6>[vpn/tun] up");
	ck_assert_str_eq(lines[3], "<7>[core] d");

	/* A file given to tp_log_open keeps full lines even then. */
	ck_assert_int_eq(tp_log_detect_journal(), 0); /* env is gone again */
}
END_TEST

START_TEST(test_journal_mismatch)
{
	char *lines[8];
	struct stat st;
	char env[64];

	/* stderr redirected elsewhere since systemd set JOURNAL_STREAM (a
	 * different inode), or a malformed value: plain lines with time. */
	ck_assert_int_eq(stat(dir, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ck_assert_int_eq(log_via_stderr(path, env), 0);
	ck_assert_int_eq(read_lines(path, lines, 8), 4);
	ck_assert_ptr_nonnull(strstr(lines[0], " error [vpn/tls-http] cannot load cert.pem"));
	ck_assert_int_eq(lines[0][0] == '<', 0);
	ck_assert_int_eq(log_via_stderr(path, "12:34x"), 0);
	ck_assert_int_eq(log_via_stderr(path, "garbage"), 0);
	ck_assert_int_eq(log_via_stderr(path, ""), 0);
	ck_assert_int_eq(read_lines(path, lines, 8), 4);
	ck_assert_ptr_nonnull(strstr(lines[3], " debug [core] d"));
}
END_TEST

START_TEST(test_journal_file_wins)
{
	char *lines[8], other[200];

	/* stderr is "the journal" but a log_file is open: the file gets
	 * timestamps, and nothing goes to stderr. */
	snprintf(other, sizeof(other), "%s/stderr.out", dir);
	{
		struct stat st;
		char env[64];
		int saved = dup(STDERR_FILENO), fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &st), 0);
		dup2(fd, STDERR_FILENO);
		close(fd);
		snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", env, 1);
		ck_assert_int_eq(tp_log_detect_journal(), 1);
		tp_log(TP_LOG_ERROR, NULL, "to the file");
		dup2(saved, STDERR_FILENO);
		close(saved);
		unsetenv("JOURNAL_STREAM");
	}
	ck_assert_int_eq(read_lines(path, lines, 8), 1);
	ck_assert_ptr_nonnull(strstr(lines[0], " error [core] to the file"));
	ck_assert_int_eq(lines[0][0] == '<', 0);
	ck_assert_int_eq(read_lines(other, lines, 8), 0);
	tp_log_detect_journal(); /* env unset: back to plain */
	unlink(other);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_level);
	tcase_add_test(tc, test_one_line_per_event);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_journal_prefix);
	tcase_add_test(tc, test_journal_mismatch);
	tcase_add_test(tc, test_journal_file_wins);
	suite_add_tcase(s, tc);
	return s;
}

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	return log_suite();
}
