# SPDX-License-Identifier: MIT
# End-to-end tests: real tunpipe processes in network namespaces the tests
# create and remove (tests/e2e/lib.sh).  They need root and /dev/net/tun and
# exit 77 (skipped) without them.  Each runs under AM_TESTS_ENVIRONMENT, so
# TUNPIPE, TUNPIPE_PLUGIN_PATH and top_srcdir point at this build.
E2E_TESTS = \
	tests/e2e/test-conf.sh \
	tests/e2e/test-tunnel.sh \
	tests/e2e/test-multi.sh \
	tests/e2e/test-auth.sh \
	tests/e2e/test-spoof.sh \
	tests/e2e/test-reconnect.sh \
	tests/e2e/test-stacks.sh \
	tests/e2e/test-reload.sh \
	tests/e2e/test-deadpeer.sh \
	tests/e2e/test-slowclient.sh \
	tests/e2e/test-localonly.sh \
	tests/e2e/test-reload-cert.sh \
	tests/e2e/test-sessionlog.sh \
	tests/e2e/test-status.sh
TESTS += $(E2E_TESTS)
dist_noinst_SCRIPTS += $(E2E_TESTS) tests/e2e/lib.sh tests/e2e/memcheck.sh \
	conf/make-demo-creds.sh demo.sh run.sh bench/netns-bench.sh .ci/run

# The example configs are loaded by the tests, so they ship in the tarball.
dist_noinst_DATA += \
	conf/server.conf conf/client.conf \
	conf/server-len.conf conf/client-len.conf \
	conf/server-lz4.conf conf/client-lz4.conf

# `make bench`: throughput of every stack against the bare veth (root).
bench: all
	$(AM_TESTS_ENVIRONMENT) bash $(srcdir)/bench/netns-bench.sh

# `make memcheck`: the daemon under valgrind (or, in a --enable-sanitize
# build, ASan/UBSan) through a tunnel's life and its error paths (root).
memcheck: all
	$(AM_TESTS_ENVIRONMENT) bash $(srcdir)/tests/e2e/memcheck.sh
.PHONY: bench memcheck
