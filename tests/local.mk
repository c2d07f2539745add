# SPDX-License-Identifier: MIT
# Tests: Check unit tests, the plugin harness, test plugins, end-to-end
# scripts.  Each piece has its own fragment.
TEST_PLUGIN_PATH = $(abs_top_builddir)/plugins:$(abs_top_builddir)/tests/plugins
AM_TESTS_ENVIRONMENT = TUNPIPE_PLUGIN_PATH='$(TEST_PLUGIN_PATH)'; export TUNPIPE_PLUGIN_PATH; \
	TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1; export TUNPIPE_ALLOW_ROOT_PLUGIN_PATH; \
	TUNPIPE='$(abs_top_builddir)/core/tunpipe'; export TUNPIPE; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	CK_VERBOSITY=normal; export CK_VERBOSITY;

include $(srcdir)/tests/harness.mk
include $(srcdir)/tests/plugins/local.mk
include $(srcdir)/tests/unit/core-infra.mk
include $(srcdir)/tests/unit/core-conf.mk
include $(srcdir)/tests/unit/core-pipeline.mk
include $(srcdir)/tests/e2e/local.mk
include $(srcdir)/tests/e2e/interop.mk
include $(srcdir)/tests/fuzz/local.mk
include $(srcdir)/tests/oot/local.mk

# The README's list of tests is checked against $(TESTS).
TESTS += tests/check-readme.sh tests/check-options-doc.sh tests/check-spdx.sh
EXTRA_DIST += tests/check-readme.sh tests/check-options-doc.sh tests/check-spdx.sh
print-tests:
	@echo $(TESTS)
.PHONY: print-tests
