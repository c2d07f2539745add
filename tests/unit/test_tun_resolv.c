/* SPDX-License-Identifier: MIT */
/*
 * test_tun_resolv.c — the resolv.conf that `dns = file` writes: what was
 * pushed replaces its like and nothing else, and a file we wrote is
 * recognised as ours.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "resolv.h"

#define HEAD TN_RESOLV_HEADER " for tun0\n"
#define ORIG "# from the host\nnameserver 192.0.2.1\nnameserver\t192.0.2.2\nsearch home.test\n" \
	     "domain home.test\noptions ndots:2\nsortlist 10.0.0.0/8\n"

/* tn_resolv_merge(head, orig, servers, search) compared whole. */
static void merged(const char *head, const char *orig, int servers, int search, const char *want)
{
	size_t len;
	char *got = tn_resolv_merge(head, orig, servers, search, &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(got);
}

START_TEST(pushed_replaces_its_like)
{
	/* Servers and search domains: only options, sortlist, comments stay. */
	merged(HEAD "nameserver 10.0.0.53\nsearch corp.test\n", ORIG, 1, 1,
	       HEAD "nameserver 10.0.0.53\nsearch corp.test\n"
	       "# from the host\noptions ndots:2\nsortlist 10.0.0.0/8\n");
	/* Search domains alone: the host's resolvers stay (tab or blank). */
	merged(HEAD "search corp.test\n", ORIG, 0, 1,
	       HEAD "search corp.test\n# from the host\nnameserver 192.0.2.1\nnameserver\t192.0.2.2\n"
	       "options ndots:2\nsortlist 10.0.0.0/8\n");
	/* Servers alone: the host's search and domain lines stay. */
	merged(HEAD "nameserver 10.0.0.53\n", ORIG, 1, 0,
	       HEAD "nameserver 10.0.0.53\n# from the host\nsearch home.test\ndomain home.test\n"
	       "options ndots:2\nsortlist 10.0.0.0/8\n");
}
END_TEST

START_TEST(lines_as_the_resolver_reads_them)
{
	/* A keyword is a whole word at the start of the line: not a prefix of
	 * another word, not indented, not in a comment. */
	merged("", "nameservers 1.1.1.1\n nameserver 1.1.1.2\n#nameserver 1.1.1.3\nsearchx a\nnameserver\n", 1, 1,
	       "nameservers 1.1.1.1\n nameserver 1.1.1.2\n#nameserver 1.1.1.3\nsearchx a\nnameserver\n");
	/* The last line without its newline gets one; empty lines stay. */
	merged(HEAD, "options edns0\n\nsearch a.test", 0, 1, HEAD "options edns0\n\n");
	merged(HEAD, "options edns0", 1, 0, HEAD "options edns0\n");
	merged(HEAD, "", 1, 1, HEAD);
}
END_TEST

START_TEST(ours_or_not)
{
	ck_assert(tn_resolv_ours(HEAD "nameserver 10.0.0.53\n"));
	ck_assert(!tn_resolv_ours(ORIG));
	ck_assert(!tn_resolv_ours(""));
	/* Only as the first line: a comment further down is the host's. */
	ck_assert(!tn_resolv_ours("nameserver 192.0.2.1\n" HEAD));
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("tun-resolv");
	TCase *tc = tcase_create("resolv");

	tcase_add_test(tc, pushed_replaces_its_like);
	tcase_add_test(tc, lines_as_the_resolver_reads_them);
	tcase_add_test(tc, ours_or_not);
	suite_add_tcase(s, tc);
	return s;
}
