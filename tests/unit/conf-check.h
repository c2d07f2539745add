/* SPDX-License-Identifier: MIT */
/*
 * conf-check.h — helpers shared by test_conf.c and test_options.c: a
 * private temp directory per test (setup/teardown as a Check fixture),
 * writing a config file into it, and capturing tp_diag output in memory
 * so tests assert on the exact text users see.
 */
#ifndef TP_TEST_CONF_CHECK_H
#define TP_TEST_CONF_CHECK_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static char tmpdir[64];
static char path[128];

static inline void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tp-test-conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
}

static inline void teardown(void)
{
	char sub[128];

	unlink(path);
	snprintf(sub, sizeof(sub), "%s/sub/stage.inc", tmpdir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	rmdir(sub);
	rmdir(tmpdir);
}

static inline void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Diagnostics go to a memory stream so tests can assert on the text. */
struct capture {
	struct tp_diag d;
	char *text;
	size_t len;
	FILE *f;
};

static inline void cap_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	ck_assert_ptr_nonnull(c->f);
	tp_diag_init(&c->d, c->f);
}

/* Flushes; c->text then holds everything reported so far. */
static inline const char *cap_text(struct capture *c)
{
	fflush(c->f);
	return c->text ? c->text : "";
}

static inline void cap_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (hay))
#endif
