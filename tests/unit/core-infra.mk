# SPDX-License-Identifier: MIT
# unit/core-infra.mk — Check tests for the core's log, event loop and buffer pool.
check_PROGRAMS += tests/unit/test_loop tests/unit/test_buf tests/unit/test_log
TESTS += tests/unit/test_loop tests/unit/test_buf tests/unit/test_log

tests_unit_test_loop_SOURCES = tests/unit/test_loop.c tests/unit/check-main.c tests/unit/check-main.h
tests_unit_test_loop_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_loop_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

tests_unit_test_buf_SOURCES = tests/unit/test_buf.c tests/unit/check-main.c
tests_unit_test_buf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_buf_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

tests_unit_test_log_SOURCES = tests/unit/test_log.c tests/unit/check-main.c
tests_unit_test_log_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_log_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
