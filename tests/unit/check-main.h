/* SPDX-License-Identifier: MIT */
/*
 * check-main.h — the one main() of the Check unit tests.
 *
 * A test program defines tp_test_suite(); check-main.c runs it (with
 * CK_ENV, so CK_VERBOSITY and CK_FORK apply; "normal" by default) and
 * exits with the failure status.  tp_test_suite() runs once, before any
 * test and in the parent process, so it is also where process-wide
 * set-up goes (a signal disposition, a log level, paths from the
 * environment).
 */
#ifndef TP_TESTS_CHECK_MAIN_H
#define TP_TESTS_CHECK_MAIN_H
#include <check.h>

Suite *tp_test_suite(void);

#endif
