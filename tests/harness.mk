# SPDX-License-Identifier: MIT
# The plugin harness (tests/harness.h) and its own unit test.
check_LTLIBRARIES += tests/libtpharness.la
tests_libtpharness_la_SOURCES = tests/harness.c tests/harness.h tests/harness-priv.h \
	tests/harness-host.c tests/harness-queue.c \
	tests/harness-clock.c tests/harness-clock.h
# Check: a leak found when a harness is freed fails the running test.
tests_libtpharness_la_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(CHECK_CFLAGS)
tests_libtpharness_la_LIBADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_harness
TESTS += tests/unit/test_harness
tests_unit_test_harness_SOURCES = tests/unit/test_harness.c tests/unit/check-main.c
tests_unit_test_harness_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_harness_LDADD = tests/libtpharness.la $(CHECK_LIBS)
