# Unit tests of the lead's core modules: address pool, router, pipelines.
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_core_LDADD = core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
