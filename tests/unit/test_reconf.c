/* SPDX-License-Identifier: MIT */
/*
 * test_reconf.c — SIGHUP's comparison of the config file with what runs
 * (core/reconf.c): real pipelines built from test plugins, the file
 * rewritten, and the log read back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check-main.h"
#include "conf.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "reconf.h"

#define BASE "pipelines = ( { name = \"loop\"; stages = (\n" \
	     "  { plugin = \"tp-gen\"; count = 10; batch = 2; },\n" \
	     "  { plugin = \"tp-count\"; },\n" \
	     "  { plugin = \"tp-loop\"; } ); } );\n"

struct run {
	char conf[64], log[64];
	struct tp_conf c;
	struct tp_loader *ld;
	struct tp_loop *loop;
	struct tp_pipeline **v;
	int n;
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void start(struct run *r)
{
	struct tp_diag d;
	int fd;

	snprintf(r->conf, sizeof(r->conf), "/tmp/tp-reconf-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(r->conf), 0);
	close(fd);
	snprintf(r->log, sizeof(r->log), "/tmp/tp-reconf-log-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(r->log), 0);
	close(fd);
	put(r->conf, BASE);
	tp_diag_init(&d, stderr);
	r->ld = tp_loader_new();
	r->loop = tp_loop_new();
	tp_loader_add_default_paths(r->ld);
	ck_assert_int_eq(tp_conf_load(&r->c, r->conf, &d), 0);
	r->v = tp_pipelines_build(&r->c, r->ld, r->loop, &d, 0, &r->n);
	ck_assert_ptr_nonnull(r->v);
}

/* Rewrite the file, compare, and return what was logged. */
static char *check(struct run *r, const char *text, int *changes)
{
	static char buf[8192];
	FILE *f;
	size_t len;

	put(r->conf, text);
	ck_assert_int_eq(tp_log_open(r->log), 0);
	*changes = tp_reconf_check(&r->c, r->v, r->n);
	ck_assert_int_eq(tp_log_open(NULL), 0);
	ck_assert_ptr_nonnull(f = fopen(r->log, "r"));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = 0;
	fclose(f);
	put(r->log, "");
	return buf;
}

static void finish(struct run *r)
{
	for (int i = 0; i < r->n; i++)
		tp_pipeline_free(r->v[i]);
	free(r->v);
	tp_conf_free(&r->c);
	tp_loop_free(r->loop);
	tp_loader_free(r->ld);
	unlink(r->conf);
	unlink(r->log);
}

START_TEST(a_changed_option_is_named)
{
	struct run r;
	int n;
	char *log;

	start(&r);
	log = check(&r, "pipelines = ( { name = \"loop\"; stages = (\n"
			"  { plugin = \"tp-gen\"; count = 20; batch = 2; },\n"
			"  { plugin = \"tp-count\"; },\n"
			"  { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, 1);
	ck_assert_msg(strstr(log, "warn  [core] pipeline 'loop' stage 1 'tp-gen': option 'count' changed; restart to apply"),
		      "%s", log);
	ck_assert_msg(!strstr(log, "'batch'"), "%s", log);
	ck_assert_msg(strstr(log, ": 1 option changed that needs a restart"), "%s", log);
	finish(&r);
}
END_TEST

/* Comments, layout and a default spelt out are no change. */
START_TEST(the_same_values_are_no_change)
{
	struct run r;
	int n;
	char *log;

	start(&r);
	log = check(&r, "# a comment\npipelines = ( { name = \"loop\"; stages = (\n"
			"  { plugin = \"tp-gen\"; batch = 2; count = 10; size = 100; },\n"
			"  { plugin = \"tp-count\"; }, { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(!strstr(log, "warn"), "%s", log);
	ck_assert_msg(strstr(log, ": 0 options changed that need a restart"), "%s", log);
	finish(&r);
}
END_TEST

START_TEST(structure_and_top_level_changes_are_named)
{
	struct run r;
	int n;
	char *log;

	start(&r);
	log = check(&r, "log_level = \"debug\";\nplugin_path = [ \"/nowhere\" ];\n"
			"pipelines = ( { name = \"loop\"; max_buffers = 64; stages = (\n"
			"  { plugin = \"tp-gen\"; count = 10; batch = 2; },\n"
			"  { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, 3);
	ck_assert_msg(strstr(log, "option 'log_level' changed; restart to apply"), "%s", log);
	ck_assert_msg(strstr(log, "option 'plugin_path' changed; restart to apply"), "%s", log);
	ck_assert_msg(strstr(log, "pipeline 'loop': 2 stages now, 3 running; restart to apply"), "%s", log);
	log = check(&r, "pipelines = ( { name = \"loop\"; max_buffers = 64; stages = (\n"
			"  { plugin = \"tp-gen\"; count = 10; batch = 2; },\n"
			"  { plugin = \"tp-loop\"; }, { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, 2);
	ck_assert_msg(strstr(log, "pipeline 'loop': option 'max_buffers' changed; restart to apply"), "%s", log);
	ck_assert_msg(strstr(log, "pipeline 'loop' stage 2 'tp-count': now plugin 'tp-loop'; restart to apply"), "%s", log);
	/* The service settings are top-level options like the others. */
	log = check(&r, "metrics = \"127.0.0.1:9100\";\nmetrics_per_user = false;\n"
			"pipelines = ( { name = \"loop\"; max_buffers = 64; stages = (\n"
			"  { plugin = \"tp-gen\"; count = 10; batch = 2; },\n"
			"  { plugin = \"tp-count\"; }, { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, 3);
	ck_assert_msg(strstr(log, "option 'metrics' changed; restart to apply"), "%s", log);
	ck_assert_msg(strstr(log, "option 'metrics_per_user' changed; restart to apply"), "%s", log);
	finish(&r);
}
END_TEST

/* A file that no longer loads changes nothing and says so. */
START_TEST(a_broken_file_is_reported)
{
	struct run r;
	int n;
	char *log;

	start(&r);
	log = check(&r, "pipelines = ( { name = \"loop\"; stages = (\n"
			"  { plugin = \"tp-gen\"; count = \"many\"; },\n"
			"  { plugin = \"tp-count\"; }, { plugin = \"tp-loop\"; } ); } );\n", &n);
	ck_assert_int_eq(n, -1);
	ck_assert_msg(strstr(log, "error [core] ") && strstr(log, " no longer loads (1 error; `tunpipe -t -c "),
		      "%s", log);
	ck_assert_msg(strstr(log, "the running configuration stays"), "%s", log);
	log = check(&r, "pipelines = ( { stages = ( \n", &n);
	ck_assert_int_eq(n, -1);
	ck_assert_msg(strstr(log, " no longer loads"), "%s", log);
	finish(&r);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("reconf");
	TCase *t = tcase_create("reconf");

	tcase_add_test(t, a_changed_option_is_named);
	tcase_add_test(t, the_same_values_are_no_change);
	tcase_add_test(t, structure_and_top_level_changes_are_named);
	tcase_add_test(t, a_broken_file_is_reported);
	suite_add_tcase(s, t);
	return s;
}
