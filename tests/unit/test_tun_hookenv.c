/* SPDX-License-Identifier: MIT */
/*
 * test_tun_hookenv.c — the environment an up/down hook gets: every fact of
 * the session, only the facts it has, nothing of ours but PATH.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "hookenv.h"
#include "prefix.h"

static struct tp_prefix pfx(const char *s, enum tn_plen_rule rule)
{
	struct tp_prefix p;
	char err[128];

	ck_assert_msg(tn_prefix_parse(s, AF_UNSPEC, rule, "t", &p, err, sizeof(err)) == 0, "%s", err);
	return p;
}

static const char *get(const struct tn_env *e, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; e->vars[i]; i++)
		if (!strncmp(e->vars[i], name, n) && e->vars[i][n] == '=')
			return e->vars[i] + n + 1;
	return NULL;
}

START_TEST(full_session)
{
	struct tp_session_info si = { .size = sizeof(si), .mtu = 1400, .n_routes = 2, .n_dns = 2 };
	struct tn_env e;

	si.addr4 = pfx("10.0.0.2/24", TN_PLEN_REQUIRED);
	si.gw4 = pfx("10.0.0.1", TN_PLEN_NONE);
	si.addr6 = pfx("fd00:5::2/64", TN_PLEN_REQUIRED);
	si.gw6 = pfx("fd00:5::1", TN_PLEN_NONE);
	si.routes[0] = pfx("0.0.0.0/1", TN_PLEN_OPTIONAL);
	si.routes[1] = pfx("::/1", TN_PLEN_OPTIONAL);
	si.dns[0] = pfx("10.0.0.53", TN_PLEN_NONE);
	si.dns[1] = pfx("fd00:5::53", TN_PLEN_NONE);
	strcpy(si.user, "alice");
	strcpy(si.search, "corp.test lab.corp.test");
	strcpy(si.peer, "[fd11::2]:8443");
	ck_assert_int_eq(tn_hook_env(&e, "up", "tun0", 1400, &si, "/bin:/usr/bin"), 0);
	ck_assert_str_eq(get(&e, "PATH"), "/bin:/usr/bin");
	ck_assert_str_eq(get(&e, "TUNPIPE_SCRIPT_TYPE"), "up");
	ck_assert_str_eq(get(&e, "TUNPIPE_DEVICE"), "tun0");
	ck_assert_str_eq(get(&e, "TUNPIPE_MTU"), "1400");
	ck_assert_str_eq(get(&e, "TUNPIPE_ADDRESS"), "10.0.0.2/24");
	ck_assert_str_eq(get(&e, "TUNPIPE_GATEWAY"), "10.0.0.1");
	ck_assert_str_eq(get(&e, "TUNPIPE_ADDRESS6"), "fd00:5::2/64");
	ck_assert_str_eq(get(&e, "TUNPIPE_GATEWAY6"), "fd00:5::1");
	ck_assert_str_eq(get(&e, "TUNPIPE_ROUTES"), "0.0.0.0/1 ::/1");
	ck_assert_str_eq(get(&e, "TUNPIPE_DNS"), "10.0.0.53 fd00:5::53");
	ck_assert_str_eq(get(&e, "TUNPIPE_DNS_SEARCH"), "corp.test lab.corp.test");
	ck_assert_str_eq(get(&e, "TUNPIPE_USER"), "alice");
	ck_assert_str_eq(get(&e, "TUNPIPE_SERVER"), "[fd11::2]:8443");
	ck_assert_int_eq(e.n, 13);
	ck_assert_ptr_null(e.vars[e.n]);
}
END_TEST

START_TEST(only_what_the_session_has)
{
	struct tp_session_info si = { .size = sizeof(si) };
	struct tn_env e;

	si.addr6 = pfx("fd00:6::2/64", TN_PLEN_REQUIRED);
	/* A full-length user name without a terminator stays inside its field. */
	memset(si.user, 'u', sizeof(si.user));
	ck_assert_int_eq(tn_hook_env(&e, "down", "tpx", 1280, &si, NULL), 0);
	ck_assert_str_eq(get(&e, "TUNPIPE_SCRIPT_TYPE"), "down");
	ck_assert_ptr_null(get(&e, "TUNPIPE_ADDRESS"));
	ck_assert_ptr_null(get(&e, "TUNPIPE_GATEWAY"));
	ck_assert_ptr_null(get(&e, "TUNPIPE_GATEWAY6"));
	ck_assert_str_eq(get(&e, "TUNPIPE_ADDRESS6"), "fd00:6::2/64");
	ck_assert_str_eq(get(&e, "TUNPIPE_ROUTES"), "");
	ck_assert_str_eq(get(&e, "TUNPIPE_DNS"), "");
	ck_assert_str_eq(get(&e, "TUNPIPE_DNS_SEARCH"), "");
	ck_assert_uint_eq(strlen(get(&e, "TUNPIPE_USER")), sizeof(si.user));
	ck_assert_ptr_nonnull(strstr(get(&e, "PATH"), "/usr/bin"));
}
END_TEST

START_TEST(sixteen_routes_and_four_servers_fit)
{
	struct tp_session_info si = { .size = sizeof(si), .n_routes = TP_MAX_ROUTES, .n_dns = TP_MAX_DNS };
	struct tn_env e;

	for (int i = 0; i < TP_MAX_ROUTES; i++)
		si.routes[i] = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120", TN_PLEN_OPTIONAL);
	for (int i = 0; i < TP_MAX_DNS; i++)
		si.dns[i] = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", TN_PLEN_NONE);
	memset(si.peer, '9', sizeof(si.peer) - 1);
	memset(si.search, 'd', sizeof(si.search) - 1);
	ck_assert_int_eq(tn_hook_env(&e, "up", "tun15characters", 65535, &si, NULL), 0);
	ck_assert_uint_eq(strlen(get(&e, "TUNPIPE_ROUTES")), TP_MAX_ROUTES * 44 - 1);
	/* A count beyond the arrays is clamped, never read past them. */
	si.n_routes = 1000;
	ck_assert_int_eq(tn_hook_env(&e, "up", "tun0", 1400, &si, NULL), 0);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("tun-hookenv");
	TCase *tc = tcase_create("env");

	tcase_add_test(tc, full_session);
	tcase_add_test(tc, only_what_the_session_has);
	tcase_add_test(tc, sixteen_routes_and_four_servers_fit);
	suite_add_tcase(s, tc);
	return s;
}
