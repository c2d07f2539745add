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
