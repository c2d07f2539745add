# Test-only plugins (never installed) and the pipeline test that runs them
# in the real daemon.  -rpath makes libtool build real shared modules
# (.libs/NAME.so) although they are check_ libraries.
TP_TEST_PLUGIN_FLAGS = -rpath /nowhere $(TP_MODULE_FLAGS)

check_LTLIBRARIES += tests/plugins/tp-gen.la tests/plugins/tp-count.la tests/plugins/tp-loop.la
tests_plugins_tp_gen_la_SOURCES = tests/plugins/tp-gen.c
tests_plugins_tp_gen_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_count_la_SOURCES = tests/plugins/tp-count.c
tests_plugins_tp_count_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
tests_plugins_tp_loop_la_SOURCES = tests/plugins/tp-loop.c
tests_plugins_tp_loop_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)

# A third framer in a few lines, over the core's framing service.
check_LTLIBRARIES += tests/plugins/tp-framer-byte.la
tests_plugins_tp_framer_byte_la_SOURCES = tests/plugins/tp-framer-byte.c
tests_plugins_tp_framer_byte_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)

# Built against the frozen ABI 1.0 header, which must win over include/.
check_LTLIBRARIES += tests/plugins/tp-abi10.la
tests_plugins_tp_abi10_la_SOURCES = tests/plugins/tp-abi10.c tests/abi-1.0/tunpipe/plugin.h
tests_plugins_tp_abi10_la_CPPFLAGS = -I$(top_srcdir)/tests/abi-1.0
tests_plugins_tp_abi10_la_LDFLAGS = $(TP_TEST_PLUGIN_FLAGS)
EXTRA_DIST += tests/abi-1.0/README.md

TESTS += tests/test-pipeline.sh
EXTRA_DIST += tests/test-pipeline.sh tests/conf/loopback.conf
