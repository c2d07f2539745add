# SPDX-License-Identifier: MIT
# Test-only plugins (never installed) and the pipeline test that runs them
# in the real daemon.  -rpath makes libtool build real shared modules
# (.libs/NAME.so) although they are check_ libraries.
TP_TEST_PLUGIN_FLAGS = -rpath /nowhere $(TP_MODULE_FLAGS)

# A unit test that drives a built plugin through the harness (tests/harness.h).
TP_HARNESS_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS) -I$(top_srcdir)/tests
TP_HARNESS_TEST_LDADD = tests/libtpharness.la core/libtpcore.la $(LIBCONFIG_LIBS) $(CHECK_LIBS)

check_LTLIBRARIES += tests/plugins/tp-gen.la tests/plugins/tp-count.la tests/plugins/tp-loop.la
tests_plugins_tp_gen_la_SOURCES = tests/plugins/tp-gen.c
tests_plugins_tp_gen_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_count_la_SOURCES = tests/plugins/tp-count.c
tests_plugins_tp_count_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_loop_la_SOURCES = tests/plugins/tp-loop.c
tests_plugins_tp_loop_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)

# The framing service (core/framer.c) and the framers on it, each driven
# through the harness: framer-ip, framer-len, and a third framer in a few
# lines (tp-framer-byte, tested in test_framer_len).
check_LTLIBRARIES += tests/plugins/tp-framer-byte.la
tests_plugins_tp_framer_byte_la_SOURCES = tests/plugins/tp-framer-byte.c
tests_plugins_tp_framer_byte_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
check_PROGRAMS += tests/unit/test_framer_ip tests/unit/test_framer_len
TESTS += tests/unit/test_framer_ip tests/unit/test_framer_len
tests_unit_test_framer_ip_SOURCES = tests/unit/test_framer_ip.c tests/unit/check-main.c
tests_unit_test_framer_ip_CFLAGS = $(TP_HARNESS_TEST_CFLAGS)
tests_unit_test_framer_ip_LDADD = $(TP_HARNESS_TEST_LDADD)
tests_unit_test_framer_len_SOURCES = tests/unit/test_framer_len.c tests/unit/check-main.c
tests_unit_test_framer_len_CFLAGS = $(TP_HARNESS_TEST_CFLAGS)
tests_unit_test_framer_len_LDADD = $(TP_HARNESS_TEST_LDADD)

# Built against the frozen ABI 1.0 header, which must win over include/.
check_LTLIBRARIES += tests/plugins/tp-abi10.la tests/plugins/tp-abi10-framer.la
tests_plugins_tp_abi10_la_SOURCES = tests/plugins/tp-abi10.c tests/abi-1.0/tunpipe/plugin.h
tests_plugins_tp_abi10_la_CPPFLAGS = -I$(top_srcdir)/tests/abi-1.0
tests_plugins_tp_abi10_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_abi10_framer_la_SOURCES = tests/plugins/tp-abi10-framer.c
tests_plugins_tp_abi10_framer_la_CPPFLAGS = -I$(top_srcdir)/tests/abi-1.0
tests_plugins_tp_abi10_framer_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
EXTRA_DIST += tests/abi-1.0/README.md

TESTS += tests/test-pipeline.sh
EXTRA_DIST += tests/test-pipeline.sh tests/conf/loopback.conf

# tp-reenter: a transform and a sink, from one source, that record whether
# the core ever nests their callbacks (tests/unit/test_core.c).
check_LTLIBRARIES += tests/plugins/tp-reenter.la tests/plugins/tp-reenter-sink.la
tests_plugins_tp_reenter_la_SOURCES = tests/plugins/tp-reenter.c
tests_plugins_tp_reenter_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_reenter_sink_la_SOURCES = tests/plugins/tp-reenter.c
tests_plugins_tp_reenter_sink_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_REENTER_SINK
tests_plugins_tp_reenter_sink_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)

# tp-count-local: tp-count declared TP_PLUGIN_LOCAL_ONLY (left out of the
# stack string; run on the server alone by tests/e2e/test-localonly.sh).
check_LTLIBRARIES += tests/plugins/tp-count-local.la
tests_plugins_tp_count_local_la_SOURCES = tests/plugins/tp-count.c
tests_plugins_tp_count_local_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_COUNT_LOCAL
tests_plugins_tp_count_local_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)

# Super-packets (ABI 1.2): framer-ip carrying them, the core's caps rule
# splitting them, the header parser's edges, the agreement header.
check_PROGRAMS += tests/unit/test_superpkt
TESTS += tests/unit/test_superpkt
tests_unit_test_superpkt_SOURCES = tests/unit/test_superpkt.c tests/unit/check-main.c
tests_unit_test_superpkt_CFLAGS = $(TP_HARNESS_TEST_CFLAGS) -I$(top_srcdir)/plugins/tls-http
tests_unit_test_superpkt_LDADD = $(TP_HARNESS_TEST_LDADD)
