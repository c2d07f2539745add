# SPDX-License-Identifier: MIT
# Unit tests of the core modules: address pool, router, pipelines.
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c tests/unit/check-main.c
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_core_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# The core's stream reassembly (host->deframer_*) alone, through the
# harness's host (a tp-count stage stands in for a framer).
check_PROGRAMS += tests/unit/test_deframe
TESTS += tests/unit/test_deframe
tests_unit_test_deframe_SOURCES = tests/unit/test_deframe.c tests/unit/check-main.c
tests_unit_test_deframe_CFLAGS = $(TP_HARNESS_TEST_CFLAGS)
tests_unit_test_deframe_LDADD = $(TP_HARNESS_TEST_LDADD)

# SIGHUP's comparison of the config file with the running pipelines.
check_PROGRAMS += tests/unit/test_reconf
TESTS += tests/unit/test_reconf
tests_unit_test_reconf_SOURCES = tests/unit/test_reconf.c tests/unit/check-main.c
tests_unit_test_reconf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_reconf_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# Status, control protocol and metrics formats on a hand-made pipeline.
check_PROGRAMS += tests/unit/test_status
TESTS += tests/unit/test_status
tests_unit_test_status_SOURCES = tests/unit/test_status.c tests/unit/check-main.c
tests_unit_test_status_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_status_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# The address pool of an IPv6-only tunnel.
check_PROGRAMS += tests/unit/test_addrpool6
TESTS += tests/unit/test_addrpool6
tests_unit_test_addrpool6_SOURCES = tests/unit/test_addrpool6.c tests/unit/check-main.c
tests_unit_test_addrpool6_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_addrpool6_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
