# SPDX-License-Identifier: MIT
# unit/core-conf.mk — config parsing, option tables, the plugin loader and
# inspect.

# core/options.c and core/optset.c (the option-table half of conf.c) are
# listed in core/local.mk; only their private header is added here.
core_libtpcore_la_SOURCES += core/conf-priv.h

check_PROGRAMS += tests/unit/test_conf tests/unit/test_options tests/unit/test_loader
TESTS += tests/unit/test_conf tests/unit/test_options tests/unit/test_loader

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c tests/unit/check-main.c tests/unit/conf-check.h
tests_unit_test_conf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_conf_LDADD = core/libtpcore.la $(CHECK_LIBS) $(LIBCONFIG_LIBS)

tests_unit_test_options_SOURCES = tests/unit/test_options.c tests/unit/check-main.c tests/unit/conf-check.h
tests_unit_test_options_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_unit_test_options_LDADD = core/libtpcore.la $(CHECK_LIBS) $(LIBCONFIG_LIBS)

tests_unit_test_loader_SOURCES = tests/unit/test_loader.c tests/unit/check-main.c
tests_unit_test_loader_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_loader_LDADD = tests/libtpharness.la core/libtpcore.la $(CHECK_LIBS) \
	$(LIBCONFIG_LIBS)

# Test-only plugin modules, built by `make check` only (-rpath makes libtool
# build a shared module that is never installed).  test_loader finds them
# in $(top_builddir)/tests/unit/plugins/.libs.
TP_TEST_MODULE_FLAGS = -rpath /nowhere $(TP_MODULE_FLAGS)
check_LTLIBRARIES += tests/unit/plugins/optdemo.la tests/unit/plugins/abi_major.la \
	tests/unit/plugins/abi_minor.la tests/unit/plugins/bad_table.la \
	tests/unit/plugins/misnamed.la
tests_unit_plugins_optdemo_la_SOURCES = tests/unit/plugins/optdemo.c
tests_unit_plugins_optdemo_la_LDFLAGS = $(TP_TEST_MODULE_FLAGS)
tests_unit_plugins_abi_major_la_SOURCES = tests/unit/plugins/abi_major.c tests/unit/plugins/dummy.h
tests_unit_plugins_abi_major_la_LDFLAGS = $(TP_TEST_MODULE_FLAGS)
tests_unit_plugins_abi_minor_la_SOURCES = tests/unit/plugins/abi_minor.c tests/unit/plugins/dummy.h
tests_unit_plugins_abi_minor_la_LDFLAGS = $(TP_TEST_MODULE_FLAGS)
tests_unit_plugins_bad_table_la_SOURCES = tests/unit/plugins/bad_table.c tests/unit/plugins/dummy.h
tests_unit_plugins_bad_table_la_LDFLAGS = $(TP_TEST_MODULE_FLAGS)
tests_unit_plugins_misnamed_la_SOURCES = tests/unit/plugins/misnamed.c tests/unit/plugins/dummy.h
tests_unit_plugins_misnamed_la_LDFLAGS = $(TP_TEST_MODULE_FLAGS)
