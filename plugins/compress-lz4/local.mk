# SPDX-License-Identifier: MIT
# compress-lz4: per-packet LZ4 transform (a libtool module).
pkglib_LTLIBRARIES += plugins/compress-lz4/compress-lz4.la
plugins_compress_lz4_compress_lz4_la_SOURCES = plugins/compress-lz4/compress-lz4.c
plugins_compress_lz4_compress_lz4_la_CFLAGS = $(AM_CFLAGS) $(LZ4_CFLAGS)
plugins_compress_lz4_compress_lz4_la_LDFLAGS = $(TP_MODULE_FLAGS)
plugins_compress_lz4_compress_lz4_la_LIBADD = $(LZ4_LIBS)
EXTRA_DIST += plugins/compress-lz4/README.md

# Unit tests (Check, through the plugin harness).
check_PROGRAMS += tests/unit/test_compress_lz4
TESTS += tests/unit/test_compress_lz4
tests_unit_test_compress_lz4_SOURCES = tests/unit/test_compress_lz4.c tests/unit/check-main.c
tests_unit_test_compress_lz4_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_unit_test_compress_lz4_CFLAGS = $(AM_CFLAGS) $(LZ4_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_compress_lz4_LDADD = tests/libtpharness.la core/libtpcore.la \
	$(LIBCONFIG_LIBS) $(LZ4_LIBS) $(CHECK_LIBS)
