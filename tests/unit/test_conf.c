/* SPDX-License-Identifier: MIT */
/*
 * test_conf.c — the config file loader.  Every test asserts the exact
 * text users see (file:line, where, message) and the error count, since
 * precise config errors are a feature.  Stage options: test_options.c.
 */
#include "config.h"

#include "conf-check.h"

/* ---- the file ---- */

START_TEST(syntax_error_names_file_and_line)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	write_conf("log_level = \"info\";\n"
		   "pipelines = (\n"
		   "  { stages = ( { plugin = \"tun\"; } ); }\n"
		   ");\n"
		   "oops = ;\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), -1);
	snprintf(want, sizeof(want), "%s:5: syntax error: ", path);
	ck_assert_has(cap_text(&cap), want);
	ck_assert_int_eq(cap.d.errors, 1);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(missing_file_is_reported)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), -1);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	ck_assert_has(cap_text(&cap), want);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(unknown_top_level_keys_all_reported)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	write_conf("log_level = \"info\";\n"
		   "log_levle = \"debug\";\n"
		   "pipelines = ( { stages = ( { plugin = \"tun\"; } ); } );\n"
		   "frobnicate = 1;\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	snprintf(want, sizeof(want),
		 "%s:2: unknown top-level key 'log_levle'; did you mean 'log_level'?\n", path);
	ck_assert_has(cap_text(&cap), want);
	snprintf(want, sizeof(want), "%s:4: unknown top-level key 'frobnicate'\n", path);
	ck_assert_has(cap_text(&cap), want);
	ck_assert_int_eq(cap.d.errors, 2);
	/* The rest of the file was still read. */
	ck_assert_int_eq(c.log_level, 2);
	ck_assert_int_eq(c.npipes, 1);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(stage_without_plugin)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	write_conf("pipelines = (\n"
		   "  { name = \"vpn\";\n"
		   "    stages = (\n"
		   "      { plugin = \"tun\"; },\n"
		   "      { width = 4; },\n"
		   "      { plugin = 7; }\n"
		   "    );\n"
		   "  }\n"
		   ");\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	snprintf(want, sizeof(want), "%s:5: pipeline 'vpn' stage 2: stage has no 'plugin' setting\n",
		 path);
	ck_assert_has(cap_text(&cap), want);
	snprintf(want, sizeof(want),
		 "%s:6: pipeline 'vpn' stage 3: 'plugin' expects a string, got an integer\n", path);
	ck_assert_has(cap_text(&cap), want);
	ck_assert_int_eq(cap.d.errors, 2);
	ck_assert_int_eq(c.pipes[0].nstages, 3);
	ck_assert_str_eq(c.pipes[0].stages[0].plugin, "tun");
	ck_assert_ptr_null(c.pipes[0].stages[1].plugin);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(valid_file_is_loaded)
{
	struct tp_conf c;
	struct capture cap;

	write_conf("log_level = \"debug\";\n"
		   "log_file = \"/var/log/tp.log\";\n"
		   "plugin_path = [ \"/a\", \"/b\" ];\n"
		   "pipelines = (\n"
		   "  { max_buffers = 512;\n"
		   "    stages = ( { plugin = \"tun\"; mtu = 1400; },\n"
		   "               { plugin = \"tls-http\"; } ); },\n"
		   "  { name = \"second\"; stages = ( { plugin = \"x\"; } ); }\n"
		   ");\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_int_eq(cap.d.errors, 0);
	ck_assert_int_eq(c.log_level, 3);
	ck_assert_str_eq(c.log_file, "/var/log/tp.log");
	ck_assert_str_eq(c.plugin_path[0], "/a");
	ck_assert_str_eq(c.plugin_path[1], "/b");
	ck_assert_ptr_null(c.plugin_path[2]);
	ck_assert_int_eq(c.npipes, 2);
	ck_assert_str_eq(c.pipes[0].name, "pipeline1");
	ck_assert_int_eq(c.pipes[0].line, 5);
	ck_assert_int_eq(c.pipes[0].max_buffers, 512);
	ck_assert_int_eq(c.pipes[0].nstages, 2);
	ck_assert_int_eq(c.pipes[0].stages[1].index, 1);
	ck_assert_int_eq(c.pipes[0].stages[1].line, 7);
	ck_assert_str_eq(c.pipes[0].stages[1].plugin, "tls-http");
	ck_assert_ptr_nonnull(config_setting_get_member(c.pipes[0].stages[0].group, "mtu"));
	ck_assert_str_eq(c.pipes[1].name, "second");
	ck_assert_int_eq(c.pipes[1].max_buffers, 0);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(plugin_path_single_string_and_defaults)
{
	struct tp_conf c;
	struct capture cap;

	write_conf("plugin_path = \"/opt/tp\";\n"
		   "pipelines = ( { stages = ( { plugin = \"tun\"; } ); } );\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	ck_assert_int_eq(cap.d.errors, 0);
	ck_assert_str_eq(c.plugin_path[0], "/opt/tp");
	ck_assert_ptr_null(c.plugin_path[1]);
	ck_assert_int_eq(c.log_level, -1);
	ck_assert_ptr_null(c.log_file);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(pipeline_errors_all_reported)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	write_conf("log_level = \"loud\";\n"
		   "pipelines = (\n"
		   "  { name = \"vpn\";\n"
		   "    max_buffer = 10;\n"
		   "    max_buffers = -1;\n"
		   "    stages = ( { plugin = \"tun\"; } ); },\n"
		   "  { name = \"empty\"; }\n"
		   ");\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	snprintf(want, sizeof(want),
		 "%s:1: 'log_level' is 'loud'; expected one of: error, warn, info, debug\n", path);
	ck_assert_has(cap_text(&cap), want);
	snprintf(want, sizeof(want),
		 "%s:4: pipeline 'vpn': unknown pipeline key 'max_buffer'; did you mean 'max_buffers'?\n",
		 path);
	ck_assert_has(cap_text(&cap), want);
	snprintf(want, sizeof(want), "%s:5: pipeline 'vpn': 'max_buffers' must be positive, got -1\n",
		 path);
	ck_assert_has(cap_text(&cap), want);
	snprintf(want, sizeof(want), "%s:7: pipeline 'empty': pipeline has no 'stages'\n", path);
	ck_assert_has(cap_text(&cap), want);
	ck_assert_int_eq(cap.d.errors, 4);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(no_pipelines)
{
	struct tp_conf c;
	struct capture cap;
	char want[256];

	write_conf("log_level = \"info\";\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	snprintf(want, sizeof(want), "%s: no 'pipelines' defined\n", path);
	ck_assert_str_eq(cap_text(&cap), want);
	ck_assert_int_eq(cap.d.errors, 1);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, syntax_error_names_file_and_line);
	tcase_add_test(tc, missing_file_is_reported);
	tcase_add_test(tc, unknown_top_level_keys_all_reported);
	tcase_add_test(tc, stage_without_plugin);
	tcase_add_test(tc, valid_file_is_loaded);
	tcase_add_test(tc, plugin_path_single_string_and_defaults);
	tcase_add_test(tc, pipeline_errors_all_reported);
	tcase_add_test(tc, no_pipelines);
	suite_add_tcase(s, tc);
	return s;
}
