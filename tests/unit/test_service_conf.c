/* SPDX-License-Identifier: MIT */
/* test_service_conf.c — the settings for running as a service: log_target,
 * user and group (parsed in conf.c, names looked up by privdrop.c), with
 * the messages a mistake gets. */
#include "config.h"

#include <check.h>
#include <pwd.h>
#include <unistd.h>

#include "conf-check.h"
#include "privdrop.h"

#define PIPES "pipelines = ( { stages = ( { plugin = \"tun\"; } ); } );\n"

/* Load `text`; returns the error count, diagnostics in *cap. */
static int load(struct capture *cap, struct tp_conf *c, const char *text)
{
	write_conf(text);
	cap_open(cap);
	ck_assert_int_eq(tp_conf_load(c, path, &cap->d), 0);
	return cap->d.errors;
}

START_TEST(test_defaults)
{
	struct capture cap;
	struct tp_conf c;

	ck_assert_int_eq(load(&cap, &c, PIPES), 0);
	ck_assert_int_eq(c.log_syslog, 0);
	ck_assert_ptr_null(c.user);
	ck_assert_ptr_null(c.group);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(test_values)
{
	struct capture cap;
	struct tp_conf c;

	ck_assert_int_eq(load(&cap, &c, "log_target = \"syslog\";\nuser = \"nobody\";\n"
					"group = \"nogroup\";\n" PIPES), 0);
	ck_assert_int_eq(c.log_syslog, 1);
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_str_eq(c.group, "nogroup");
	tp_conf_free(&c);
	cap_close(&cap);

	ck_assert_int_eq(load(&cap, &c, "log_target = \"stderr\";\n" PIPES), 0);
	ck_assert_int_eq(c.log_syslog, 0);
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(test_errors)
{
	struct capture cap;
	struct tp_conf c;

	ck_assert_int_eq(load(&cap, &c, "log_target = \"journal\";\n" PIPES), 1);
	ck_assert_has(cap_text(&cap), "t.conf:1: 'log_target' is 'journal'; expected one of: stderr, syslog");
	tp_conf_free(&c);
	cap_close(&cap);

	ck_assert_int_eq(load(&cap, &c, "\nuser = 65534;\ngroup = \"\";\n" PIPES), 2);
	ck_assert_has(cap_text(&cap), "t.conf:2: 'user' expects a string, got an integer");
	ck_assert_has(cap_text(&cap), "t.conf:3: 'group' is empty");
	tp_conf_free(&c);
	cap_close(&cap);

	ck_assert_int_eq(load(&cap, &c, "log_target = \"syslog\";\nlog_file = \"/tmp/x.log\";\n" PIPES), 1);
	ck_assert_has(cap_text(&cap), "'log_file' and log_target = \"syslog\" exclude each other");
	tp_conf_free(&c);
	cap_close(&cap);

	/* A near miss gets the usual hint. */
	ck_assert_int_eq(load(&cap, &c, "usr = \"nobody\";\n" PIPES), 1);
	ck_assert_has(cap_text(&cap), "unknown top-level key 'usr'; did you mean 'user'?");
	tp_conf_free(&c);
	cap_close(&cap);
}
END_TEST

START_TEST(test_resolve)
{
	struct tp_privdrop pd;
	struct passwd *pw = getpwnam("nobody");
	char err[256];

	ck_assert_int_eq(tp_privdrop_resolve(&pd, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_null(pd.user);
	/* Nothing asked: applying is a no-op even as root. */
	ck_assert_int_eq(tp_privdrop_apply(&pd, err, sizeof(err)), 0);

	ck_assert_int_eq(tp_privdrop_resolve(&pd, NULL, "nogroup", err, sizeof(err)), -1);
	ck_assert_has(err, "'group' needs 'user' too");
	ck_assert_int_eq(tp_privdrop_resolve(&pd, "tp-no-such-user", NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "user 'tp-no-such-user': no such user");
	ck_assert_int_eq(tp_privdrop_resolve(&pd, "root", NULL, err, sizeof(err)), -1);
	ck_assert_has(err, "is root: name an unprivileged user");
	if (pw) {
		ck_assert_int_eq(tp_privdrop_resolve(&pd, "nobody", NULL, err, sizeof(err)), 0);
		ck_assert_uint_eq(pd.uid, pw->pw_uid);
		ck_assert_uint_eq(pd.gid, pw->pw_gid); /* the primary group */
		ck_assert_int_eq(tp_privdrop_resolve(&pd, "nobody", "tp-no-such-group", err,
						     sizeof(err)), -1);
		ck_assert_str_eq(err, "group 'tp-no-such-group': no such group");
		ck_assert_int_eq(tp_privdrop_resolve(&pd, "nobody", "root", err, sizeof(err)), 0);
		ck_assert_uint_eq(pd.gid, 0);
	}
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("service_conf");
	TCase *tc = tcase_create("service_conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_resolve);
	suite_add_tcase(s, tc);
	return s;
}
