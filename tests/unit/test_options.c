/* SPDX-License-Identifier: MIT */
/*
 * test_options.c — stage options checked against an option table (unknown
 * keys, types, ranges, choices, required, defaults, paths) and the sanity
 * checks on a plugin's own table.  Assertions are on the exact messages.
 */
#include "config.h"

#include "conf-check.h"

/* ---- options ---- */

struct demo {
	const char *name;
	int64_t max_frame;
	int on;
	int mode;
	const char *const *list;
	const char *file;
	const char *const *deflist;
	const char *const *nolist;
	const char *word;
	const char *key;
};

static const struct tp_option demo_table[] = {
	TP_OPTION_STRING(struct demo, name, "\"anon\"", "n"),
	TP_OPTION_INT(struct demo, max_frame, "1500", 64, 65535, "m"),
	TP_OPTION_BOOL(struct demo, on, "true", "b"),
	TP_OPTION_ENUM(struct demo, mode, NULL, "client|server", "e", .flags = TP_OPT_REQUIRED),
	TP_OPTION_LIST(struct demo, list, "l"),
	TP_OPTION_PATH(struct demo, file, NULL, "p"),
	/* TP_OPTION_LIST has no default: a list with one is written out */
	{ .type = TP_OPT_STRLIST, .name = "deflist", .def = "[\"a\", \"b\"]",
	  .offset = offsetof(struct demo, deflist), .help = "" },
	TP_OPTION_LIST(struct demo, nolist, ""),
	TP_OPTION_STRING(struct demo, word, "unquoted", ""),
	TP_OPTION_PATH(struct demo, key, "keys/k.pem", ""),
	TP_OPTIONS_END,
};

#define WHERE "pipeline 'vpn' stage 2 'demo'"

/* Parse `text` as a stage group (as if read from `file`) against
 * demo_table: its `stage` group if it has one (a group with a line of its
 * own, like a real stage), else the whole text. */
static struct tp_optset *parse(const char *text, const char *file, struct capture *cap)
{
	config_t cfg;
	struct tp_optset *o;
	config_setting_t *g;

	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text) == CONFIG_TRUE, "bad test input: %s line %d",
		      config_error_text(&cfg), config_error_line(&cfg));
	cap_open(cap);
	if (!(g = config_lookup(&cfg, "stage")))
		g = config_root_setting(&cfg);
	o = tp_options_parse(demo_table, sizeof(struct demo), g, file, WHERE, &cap->d);
	/* The optset must not depend on libconfig's memory. */
	config_destroy(&cfg);
	return o;
}

START_TEST(options_valid_and_defaults)
{
	struct capture cap;
	struct tp_optset *o = parse("plugin = \"demo\";\nmode = \"server\";\nlist = [\"x\", \"y\"];\n",
				    "/etc/tp/vpn.conf", &cap);
	const struct demo *v;

	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_str_eq(v->name, "anon");
	ck_assert_int_eq(v->max_frame, 1500);
	ck_assert_int_eq(v->on, 1);
	ck_assert_int_eq(v->mode, 1);
	ck_assert_str_eq(v->list[0], "x");
	ck_assert_str_eq(v->list[1], "y");
	ck_assert_ptr_null(v->list[2]);
	ck_assert_ptr_null(v->file);
	ck_assert_str_eq(v->deflist[0], "a");
	ck_assert_str_eq(v->deflist[1], "b");
	ck_assert_ptr_null(v->deflist[2]);
	ck_assert_ptr_nonnull(v->nolist); /* absent list: empty, never NULL */
	ck_assert_ptr_null(v->nolist[0]);
	ck_assert_str_eq(v->word, "unquoted");
	ck_assert_str_eq(v->key, "/etc/tp/keys/k.pem"); /* PATH defaults are resolved too */
	tp_optset_free(o);
	cap_close(&cap);
}
END_TEST

START_TEST(options_given_values)
{
	struct capture cap;
	struct tp_optset *o = parse("name = \"n1\"; max_frame = 64; on = false; mode = \"client\";"
				    "list = \"solo\"; file = \"/abs/f\"; deflist = (); key = \"k\";",
				    NULL, &cap);
	const struct demo *v;

	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_str_eq(v->name, "n1");
	ck_assert_int_eq(v->max_frame, 64);
	ck_assert_int_eq(v->on, 0);
	ck_assert_int_eq(v->mode, 0);
	ck_assert_str_eq(v->list[0], "solo"); /* a single string is a one-element list */
	ck_assert_ptr_null(v->list[1]);
	ck_assert_str_eq(v->file, "/abs/f");
	ck_assert_ptr_null(v->deflist[0]); /* an explicit empty list overrides the default */
	ck_assert_str_eq(v->key, "k"); /* no file: relative paths stay relative to the cwd */
	tp_optset_free(o);
	cap_close(&cap);
}
END_TEST

START_TEST(options_path_resolution)
{
	struct capture cap;
	struct tp_optset *o = parse("mode = \"client\"; file = \"certs/a.pem\"; key = \"/k\";",
				    "conf/site/vpn.conf", &cap);
	const struct demo *v;

	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_str_eq(v->file, "conf/site/certs/a.pem");
	ck_assert_str_eq(v->key, "/k");
	tp_optset_free(o);
	cap_close(&cap);

	/* A config file in the cwd: nothing to prepend. */
	o = parse("mode = \"client\"; file = \"a.pem\";", "vpn.conf", &cap);
	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_str_eq(v->file, "a.pem");
	ck_assert_str_eq(v->key, "keys/k.pem");
	tp_optset_free(o);
	cap_close(&cap);
}
END_TEST

START_TEST(options_unknown_key_suggests)
{
	struct capture cap;
	struct tp_optset *o = parse("mode = \"client\";\nmax_fram = 100;\nzzzzzz = 1;\n", "f.conf", &cap);

	ck_assert_ptr_null(o);
	ck_assert_has(cap_text(&cap), "f.conf:2: " WHERE
		      ": unknown option 'max_fram'; did you mean 'max_frame'?\n");
	ck_assert_has(cap_text(&cap), "f.conf:3: " WHERE ": unknown option 'zzzzzz' (see");
	ck_assert_int_eq(cap.d.errors, 2);
	cap_close(&cap);
}
END_TEST

START_TEST(options_wrong_types)
{
	struct capture cap;
	struct tp_optset *o = parse("mode = 1;\n"
				    "name = 5;\n"
				    "max_frame = \"big\";\n"
				    "on = 1;\n"
				    "list = 3;\n"
				    "file = true;\n"
				    "deflist = [ 1, 2 ];\n"
				    "nolist = ( \"a\", 2 );\n",
				    "f.conf", &cap);
	const char *t;

	ck_assert_ptr_null(o);
	t = cap_text(&cap);
	ck_assert_has(t, "f.conf:1: " WHERE ": option 'mode' expects a string (one of the choices), got an integer\n");
	ck_assert_has(t, "f.conf:2: " WHERE ": option 'name' expects a string, got an integer\n");
	ck_assert_has(t, "f.conf:3: " WHERE ": option 'max_frame' expects an integer, got a string\n");
	ck_assert_has(t, "f.conf:4: " WHERE ": option 'on' expects a boolean (true or false), got an integer\n");
	ck_assert_has(t, "f.conf:5: " WHERE ": option 'list' expects a string or a list of strings, got an integer\n");
	ck_assert_has(t, "f.conf:6: " WHERE ": option 'file' expects a string (a file name), got a boolean\n");
	ck_assert_has(t, "f.conf:7: " WHERE ": option 'deflist' expects a list of strings; element 1 is an integer\n");
	ck_assert_has(t, "f.conf:8: " WHERE ": option 'nolist' expects a list of strings; element 2 is an integer\n");
	ck_assert_int_eq(cap.d.errors, 8);
	cap_close(&cap);
}
END_TEST

START_TEST(options_float_is_not_an_integer)
{
	struct capture cap;
	struct tp_optset *o = parse("mode = \"client\"; max_frame = 1.5;", "f.conf", &cap);

	ck_assert_ptr_null(o);
	ck_assert_has(cap_text(&cap), "option 'max_frame' expects an integer, got a float");
	ck_assert_int_eq(cap.d.errors, 1);
	cap_close(&cap);
}
END_TEST

START_TEST(options_range_enum_required_in_one_run)
{
	struct capture cap;
	struct tp_optset *o = parse("stage = { plugin = \"demo\";\n"
				    "max_frame = 70000;\n"
				    "name = \"ok\";\n"
				    "bogus = 1; };\n",
				    "f.conf", &cap);
	const char *t;

	ck_assert_ptr_null(o);
	t = cap_text(&cap);
	ck_assert_has(t, "f.conf:2: " WHERE ": option 'max_frame' is 70000, out of range 64..65535\n");
	ck_assert_has(t, "f.conf:4: " WHERE ": unknown option 'bogus'");
	/* Missing options are reported at the group's line. */
	ck_assert_has(t, "f.conf:1: " WHERE ": missing required option 'mode' (enum)\n");
	ck_assert_int_eq(cap.d.errors, 3);
	cap_close(&cap);

	o = parse("mode = \"peer\";\n", "f.conf", &cap);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(cap_text(&cap),
			 "f.conf:1: " WHERE ": option 'mode' is 'peer'; expected one of: client|server\n");
	ck_assert_int_eq(cap.d.errors, 1);
	cap_close(&cap);
}
END_TEST

START_TEST(options_null_group)
{
	struct capture cap;
	struct tp_optset *o;
	static const struct tp_option opt_table[] = {
		{ .type = TP_OPT_INT, .name = "n", .def = "7", .help = "" },
		TP_OPTIONS_END,
	};

	cap_open(&cap);
	o = tp_options_parse(demo_table, sizeof(struct demo), NULL, NULL, "x", &cap.d);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(cap_text(&cap), "x: missing required option 'mode' (enum)\n");
	cap_close(&cap);

	cap_open(&cap);
	o = tp_options_parse(opt_table, sizeof(int64_t), NULL, NULL, "x", &cap.d);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(*(const int64_t *)tp_optset_config(o), 7);
	tp_optset_free(o);
	/* No table: only `plugin` is allowed. */
	o = tp_options_parse(NULL, 0, NULL, NULL, "x", &cap.d);
	ck_assert_ptr_nonnull(o);
	tp_optset_free(o);
	ck_assert_int_eq(cap.d.errors, 0);
	cap_close(&cap);
}
END_TEST

/* ---- a plugin's own table ---- */

static void check_bad_table(const struct tp_option *t, size_t size, const char *want)
{
	char err[256] = "";

	ck_assert_int_eq(tp_options_check_table(t, size, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want), "expected \"%s\" in \"%s\"", want, err);
}

/* ---- options that belong to one role ---- */

struct roles {
	int role;
	const char *listen;
	const char *connect;
	int64_t queue;
	int idle;
};

static const struct tp_option roles_table[] = {
	TP_OPTION_ENUM(struct roles, role, "client", "client|server", "which end"),
	TP_OPTION_STRING(struct roles, listen, "0.0.0.0:443", "where a server listens",
			 .when = "role=server"),
	TP_OPTION_STRING(struct roles, connect, NULL, "where a client connects",
			 .flags = TP_OPT_REQUIRED, .when = "role=client"),
	/* one name, one default per role */
	TP_OPTION_INT(struct roles, queue, "64", 1, 1000, "a server's queue", .when = "role=server"),
	TP_OPTION_INT(struct roles, queue, "8", 1, 1000, "a client's queue", .when = "role=client"),
	TP_OPTION_BOOL(struct roles, idle, "true", "for either role"),
	TP_OPTIONS_END,
};

static struct tp_optset *parse_roles(const char *text, struct capture *cap)
{
	config_t cfg;
	struct tp_optset *o;

	config_init(&cfg);
	ck_assert(config_read_string(&cfg, text) == CONFIG_TRUE);
	cap_open(cap);
	o = tp_options_parse(roles_table, sizeof(struct roles), config_root_setting(&cfg),
			     "r.conf", WHERE, &cap->d);
	config_destroy(&cfg);
	return o;
}

START_TEST(roles_defaults_per_role)
{
	struct capture cap;
	struct tp_optset *o;
	const struct roles *v;
	char err[256];

	ck_assert_int_eq(tp_options_check_table(roles_table, sizeof(struct roles), err,
						sizeof(err)), 0);
	o = parse_roles("role = \"server\";\n", &cap);
	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_int_eq(v->role, 1);
	ck_assert_str_eq(v->listen, "0.0.0.0:443");
	ck_assert_ptr_null(v->connect); /* a client's required option: not asked of a server */
	ck_assert_int_eq(v->queue, 64);
	ck_assert_int_eq(v->idle, 1);
	tp_optset_free(o);
	cap_close(&cap);

	/* the enum's default picks the role; the other role's default stays out */
	o = parse_roles("connect = \"vpn.example:443\";\nqueue = 3;\n", &cap);
	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_ptr_nonnull(o);
	v = tp_optset_config(o);
	ck_assert_int_eq(v->role, 0);
	ck_assert_ptr_null(v->listen);
	ck_assert_str_eq(v->connect, "vpn.example:443");
	ck_assert_int_eq(v->queue, 3);
	tp_optset_free(o);
	cap_close(&cap);

	o = parse_roles("connect = \"x:1\";\n", &cap);
	ck_assert_int_eq(((const struct roles *)tp_optset_config(o))->queue, 8);
	tp_optset_free(o);
	cap_close(&cap);
}
END_TEST

START_TEST(roles_wrong_role_is_an_error)
{
	struct capture cap;
	struct tp_optset *o;
	const char *t;

	/* the setting comes before the enum that decides: order does not matter */
	o = parse_roles("listen = \"0.0.0.0:8443\";\nrole = \"client\";\nqueue = 2000;\n", &cap);
	ck_assert_ptr_null(o);
	t = cap_text(&cap);
	ck_assert_has(t, "r.conf:1: " WHERE ": option 'listen' is only valid with role = server; "
		      "this stage has role = client\n");
	/* the client's row of `queue` checks the range */
	ck_assert_has(t, "r.conf:3: " WHERE ": option 'queue' is 2000, out of range 1..1000\n");
	ck_assert_has(t, WHERE ": missing required option 'connect' (string)\n");
	ck_assert_int_eq(cap.d.errors, 3);
	cap_close(&cap);

	o = parse_roles("role = \"server\";\nconnect = \"x:1\";\n", &cap);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(cap_text(&cap), "r.conf:2: " WHERE ": option 'connect' is only valid "
			 "with role = client; this stage has role = server\n");
	cap_close(&cap);

	/* a bad role is reported once, not once more per role option */
	o = parse_roles("role = \"peer\";\nlisten = \"x\";\n", &cap);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(cap_text(&cap), "r.conf:1: " WHERE ": option 'role' is 'peer'; "
			 "expected one of: client|server\n");
	cap_close(&cap);

	/* an unknown key still gets its hint, from every row's name */
	o = parse_roles("role = \"server\";\nlistn = \"x\";\n", &cap);
	ck_assert_ptr_null(o);
	ck_assert_has(cap_text(&cap), "unknown option 'listn'; did you mean 'listen'?");
	cap_close(&cap);
}
END_TEST

START_TEST(roles_table_checks)
{
	static const struct tp_option no_such[] = {
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "mode=server"),
		TP_OPTIONS_END };
	static const struct tp_option later[] = {
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role=server"),
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTIONS_END };
	static const struct tp_option not_enum[] = {
		TP_OPTION_INT(struct roles, queue, NULL, 0, 0, ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "queue=1"),
		TP_OPTIONS_END };
	static const struct tp_option no_eq[] = {
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role"),
		TP_OPTIONS_END };
	static const struct tp_option bad_choice[] = {
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role=peer"),
		TP_OPTIONS_END };
	static const struct tp_option same_when[] = {
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role=server"),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role=server"),
		TP_OPTIONS_END };
	static const struct tp_option one_without[] = {
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, ""),
		TP_OPTION_BOOL(struct roles, idle, NULL, "", .when = "role=server"),
		TP_OPTIONS_END };
	static const struct tp_option bad_role_default[] = {
		TP_OPTION_ENUM(struct roles, role, NULL, "client|server", ""),
		TP_OPTION_INT(struct roles, queue, "0", 1, 9, "", .when = "role=server"),
		TP_OPTIONS_END };

	check_bad_table(no_such, sizeof(struct roles),
			"option 'idle': when \"mode=server\" names no earlier enum option");
	check_bad_table(later, sizeof(struct roles),
			"option 'idle': when \"role=server\" names no earlier enum option");
	check_bad_table(not_enum, sizeof(struct roles),
			"option 'idle': when \"queue=1\" names no earlier enum option");
	check_bad_table(no_eq, sizeof(struct roles),
			"option 'idle': when \"role\" names no earlier enum option");
	check_bad_table(bad_choice, sizeof(struct roles),
			"option 'idle': when \"role=peer\" names no choice of that option");
	check_bad_table(same_when, sizeof(struct roles),
			"option 'idle' is declared twice for the same role");
	check_bad_table(one_without, sizeof(struct roles), "option 'idle' is declared twice");
	check_bad_table(bad_role_default, sizeof(struct roles),
			"bad default: option 'queue' is 0, out of range 1..9");
}
END_TEST

/* A stage from an @include'd file: messages name that file and its lines,
 * and its relative paths are relative to it. */
START_TEST(included_file_is_followed)
{
	struct tp_conf c;
	struct capture cap;
	struct tp_optset *o;
	char inc[128], want[512];
	FILE *f;

	snprintf(inc, sizeof(inc), "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(inc, 0700), 0);
	snprintf(inc, sizeof(inc), "%s/sub/stage.inc", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(inc, "w"));
	fputs("{ plugin = \"demo\";\n  mode = \"peer\";\n  file = \"certs/a.pem\"; }\n", f);
	fclose(f);
	write_conf("pipelines = (\n"
		   "  { stages = (\n"
		   "@include \"sub/stage.inc\"\n"
		   "  ); }\n"
		   ");\n");
	cap_open(&cap);
	ck_assert_int_eq(tp_conf_load(&c, path, &cap.d), 0);
	ck_assert_str_eq(cap_text(&cap), "");
	ck_assert_int_eq(c.pipes[0].nstages, 1);
	o = tp_options_parse(demo_table, sizeof(struct demo), c.pipes[0].stages[0].group, c.file,
			     WHERE, &cap.d);
	ck_assert_ptr_null(o);
	snprintf(want, sizeof(want),
		 "%s:2: " WHERE ": option 'mode' is 'peer'; expected one of: client|server\n", inc);
	ck_assert_str_eq(cap_text(&cap), want);
	config_setting_remove(c.pipes[0].stages[0].group, "mode");
	config_setting_set_string(config_setting_add(c.pipes[0].stages[0].group, "mode",
						     CONFIG_TYPE_STRING), "client");
	o = tp_options_parse(demo_table, sizeof(struct demo), c.pipes[0].stages[0].group, c.file,
			     WHERE, &cap.d);
	ck_assert_ptr_nonnull(o);
	tp_conf_free(&c); /* the optset outlives the file */
	snprintf(want, sizeof(want), "%s/sub/certs/a.pem", tmpdir);
	ck_assert_str_eq(((const struct demo *)tp_optset_config(o))->file, want);
	tp_optset_free(o);
	cap_close(&cap);
}
END_TEST

START_TEST(check_table_catches_plugin_bugs)
{
	char err[256];
	static const struct tp_option past_end[] = {
		{ .type = TP_OPT_INT, .name = "a", .offset = 4, .help = "" }, TP_OPTIONS_END };
	static const struct tp_option dup[] = {
		{ .type = TP_OPT_BOOL, .name = "a", .help = "" },
		{ .type = TP_OPT_BOOL, .name = "a", .offset = 4, .help = "" }, TP_OPTIONS_END };
	static const struct tp_option no_choices[] = {
		{ .type = TP_OPT_ENUM, .name = "m", .help = "" }, TP_OPTIONS_END };
	static const struct tp_option bad_def[] = {
		{ .type = TP_OPT_INT, .name = "n", .def = "abc", .help = "" }, TP_OPTIONS_END };
	static const struct tp_option def_range[] = {
		{ .type = TP_OPT_INT, .name = "n", .def = "9", .min = 1, .max = 4, .help = "" }, TP_OPTIONS_END };
	static const struct tp_option def_enum[] = {
		{ .type = TP_OPT_ENUM, .name = "m", .def = "peer", .choices = "a|b", .help = "" }, TP_OPTIONS_END };
	static const struct tp_option reserved[] = {
		{ .type = TP_OPT_STRING, .name = "plugin", .help = "" }, TP_OPTIONS_END };
	static const struct tp_option unnamed[] = {
		{ .type = TP_OPT_STRING, .name = NULL, .help = "" }, TP_OPTIONS_END };
	static const struct tp_option bad_type[] = {
		{ .type = (enum tp_opt_type)42, .name = "x", .help = "" }, TP_OPTIONS_END };

	check_bad_table(past_end, 8, "option 'a' (integer) at offset 4 does not fit in config_size 8");
	check_bad_table(dup, 8, "option 'a' is declared twice");
	check_bad_table(no_choices, 8, "enum option 'm' needs choices");
	check_bad_table(bad_def, 8, "bad default: default 'abc' of option 'n' is not an integer");
	check_bad_table(def_range, 8, "bad default: option 'n' is 9, out of range 1..4");
	check_bad_table(def_enum, 8, "bad default: option 'm' is 'peer'; expected one of: a|b");
	check_bad_table(reserved, 8, "option name 'plugin' is reserved");
	check_bad_table(unnamed, 8, "option #1 has no name");
	check_bad_table(bad_type, 8, "option 'x' has unknown type 42");
	ck_assert_int_eq(tp_options_check_table(demo_table, sizeof(struct demo), err, sizeof(err)), 0);
	ck_assert_int_eq(tp_options_check_table(NULL, 0, err, sizeof(err)), 0);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(tp_opt_type_name(TP_OPT_INT), "integer");
	ck_assert_str_eq(tp_opt_type_name(TP_OPT_STRLIST), "string list");
	ck_assert_str_eq(tp_opt_type_name(TP_OPT_PATH), "path");
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("options");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, options_valid_and_defaults);
	tcase_add_test(tc, options_given_values);
	tcase_add_test(tc, options_path_resolution);
	tcase_add_test(tc, options_unknown_key_suggests);
	tcase_add_test(tc, options_wrong_types);
	tcase_add_test(tc, options_float_is_not_an_integer);
	tcase_add_test(tc, options_range_enum_required_in_one_run);
	tcase_add_test(tc, options_null_group);
	tcase_add_test(tc, included_file_is_followed);
	tcase_add_test(tc, check_table_catches_plugin_bugs);
	tcase_add_test(tc, type_names);
	tcase_add_test(tc, roles_defaults_per_role);
	tcase_add_test(tc, roles_wrong_role_is_an_error);
	tcase_add_test(tc, roles_table_checks);
	suite_add_tcase(s, tc);
	return s;
}
