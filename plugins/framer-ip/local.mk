# framer-ip: the Simple-VPN framing (IP packets delimited by their own length).
pkglib_LTLIBRARIES += plugins/framer-ip/framer-ip.la
plugins_framer_ip_framer_ip_la_SOURCES = plugins/framer-ip/framer-ip.c
plugins_framer_ip_framer_ip_la_LDFLAGS = $(TP_MODULE_FLAGS)
EXTRA_DIST += plugins/framer-ip/README.md

# Its unit test drives the built module through the plugin harness.
check_PROGRAMS += tests/unit/test_framer_ip
TESTS += tests/unit/test_framer_ip
tests_unit_test_framer_ip_SOURCES = tests/unit/test_framer_ip.c tests/unit/check-main.c
tests_unit_test_framer_ip_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests
tests_unit_test_framer_ip_LDADD = tests/libtpharness.la core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)
