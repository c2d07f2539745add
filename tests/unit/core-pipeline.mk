# Unit tests of the core modules: address pool, router, pipelines.
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c tests/unit/check-main.c
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_core_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# The core's stream reassembly (host->deframer_*) alone, behind a fake host.
check_PROGRAMS += tests/unit/test_deframe
TESTS += tests/unit/test_deframe
tests_unit_test_deframe_SOURCES = tests/unit/test_deframe.c tests/unit/check-main.c
tests_unit_test_deframe_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_deframe_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

# Status, control protocol and metrics formats on a hand-made pipeline.
check_PROGRAMS += tests/unit/test_status
TESTS += tests/unit/test_status
tests_unit_test_status_SOURCES = tests/unit/test_status.c tests/unit/check-main.c
tests_unit_test_status_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_status_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
