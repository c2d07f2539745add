# framer-len: length-prefixed framing (2- or 4-byte big-endian prefix).
pkglib_LTLIBRARIES += plugins/framer-len/framer-len.la
plugins_framer_len_framer_len_la_SOURCES = plugins/framer-len/framer-len.c
plugins_framer_len_framer_len_la_LDFLAGS = $(TP_MODULE_FLAGS)
EXTRA_DIST += plugins/framer-len/README.md

# Its unit test drives the built module through the plugin harness.
check_PROGRAMS += tests/unit/test_framer_len
TESTS += tests/unit/test_framer_len
tests_unit_test_framer_len_SOURCES = tests/unit/test_framer_len.c tests/unit/check-main.c
tests_unit_test_framer_len_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_framer_len_LDADD = tests/libtpharness.la core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
