#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh — from a fresh clone on Debian 12, as root:
#   ./run.sh demo    install what is missing, build, run demo.sh
#   ./run.sh test    install what is missing, build, run `make check`
#                    (unit tests + end-to-end tests in namespaces)
#   ./run.sh bench   install what is missing, build, run `make bench`
#   ./run.sh fuzz    also install clang, build instrumented in ./build-fuzz,
#                    run every libFuzzer target for FUZZ_SECONDS (default 60)
#   ./run.sh sanitize  build with ASan+UBSan in ./build-sanitize, run the unit
#                    tests and the end-to-end tunnel, auth and hostile tests
#                    (SANITIZE_TESTS overrides the list)
# The build is out of tree in ./build (override with BUILD_DIR=DIR).
# Packages are installed only when dpkg says they are absent.
set -eu
cd "$(dirname "$0")"
src=$PWD
mode=${1:-}
case $mode in
demo | test | bench | fuzz | sanitize) ;;
*)
	echo "usage: $0 demo|test|bench|fuzz|sanitize" >&2
	exit 2
	;;
esac

pkgs=(build-essential autoconf automake libtool libtool-bin pkg-config
	libssl-dev libconfig-dev liblz4-dev check libmnl-dev libcrypt-dev
	iproute2 iperf3 iputils-ping curl openssl apache2-utils procps ca-certificates
	man-db groff-base bash-completion libcap-ng-dev socat systemd strace
	prometheus python3)
# test-dns.sh: pushed DNS through Debian's resolvconf (it conflicts with
# systemd-resolved on a desktop; on a CI machine it is harmless).
pkgs+=(resolvconf)
# test-haproxy.sh: tunpipe behind HAProxy 2.6 with the PROXY protocol.
pkgs+=(haproxy)
# test-httpproxy.sh: the client through Debian's tinyproxy with CONNECT.
pkgs+=(tinyproxy)
# test-nginx.sh: tunpipe behind nginx (stream with proxy_protocol; http
# terminating TLS in front of tls = false); Debian 12 ships the stream
# module separately.
pkgs+=(nginx libnginx-mod-stream)

install_missing() {
	local p missing=()
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "run.sh: not a Debian system; make sure these are installed: ${pkgs[*]}" >&2
		return 0
	fi
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "run.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	echo "run.sh: installing ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

build() {
	[ -x "$src/configure" ] || "$src/autogen.sh"
	mkdir -p "$BUILD_DIR"
	cd "$BUILD_DIR"
	[ -f Makefile ] || "$src/configure" -q "${configure_flags[@]}"
	make -j"$(nproc)"
}

configure_flags=()
if [ "$mode" = fuzz ]; then
	# libFuzzer comes with clang; the core and plugins are instrumented
	# too, so coverage guides the fuzzer into the code under test.
	pkgs+=(clang libclang-rt-14-dev)
	BUILD_DIR=${BUILD_DIR:-$src/build-fuzz}
	export CC=clang CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,address'
	configure_flags+=(--enable-fuzz)
fi
if [ "$mode" = sanitize ]; then
	# Any ASan or UBSan report fails the test that triggered it: UBSan
	# would only print and go on without halt_on_error.
	BUILD_DIR=${BUILD_DIR:-$src/build-sanitize}
	configure_flags+=(--enable-sanitize)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	# Instrumented code is slower: the e2e tests' latency limits (there to
	# catch a stalled loop) are scaled by this factor (tests/e2e/lib.sh).
	export TP_TIME_FACTOR=${TP_TIME_FACTOR:-4}
fi
BUILD_DIR=${BUILD_DIR:-$src/build}
export BUILD_DIR
install_missing
build

case $mode in
demo)
	exec "$src/demo.sh"
	;;
bench)
	exec make bench
	;;
fuzz)
	exec make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
	;;
sanitize)
	# Every unit test, and the end-to-end tests where a peer's bytes
	# meet our parsers and budgets.
	units=$(make -s print-tests | tr ' ' '\n' | grep '^tests/unit/' | tr '\n' ' ')
	e2e="tests/e2e/test-tunnel.sh tests/e2e/test-auth.sh tests/e2e/test-spoof.sh
		tests/e2e/test-smallflood.sh tests/e2e/test-slowclient.sh tests/e2e/test-authload.sh
		tests/e2e/test-interop.sh tests/e2e/test-evilserver.sh tests/e2e/test-fairshare.sh
		tests/e2e/test-hostile-login.sh tests/e2e/test-hostile-users.sh tests/e2e/test-haproxy.sh
		tests/e2e/test-httpproxy.sh tests/e2e/test-nginx.sh tests/e2e/test-superpkt.sh
		tests/e2e/test-superspoof.sh"
	# One line: make takes TESTS as a blank-separated list.
	# shellcheck disable=SC2086 # word lists
	tests=$(printf '%s ' ${SANITIZE_TESTS:-$units $e2e})
	if make -j"$(nproc)" check TESTS="$tests"; then
		echo "run.sh: sanitizer tests passed (logs in $BUILD_DIR)"
	else
		status=$?
		grep -l '^:test-result: \(FAIL\|ERROR\)' -r --include='*.trs' . >&2 || true
		exit "$status"
	fi
	;;
test)
	# make check prints the summary; on failure show which logs to read.
	if make -j"$(nproc)" check; then
		echo "run.sh: all tests passed (logs in $BUILD_DIR/tests/**/*.log)"
	else
		status=$?
		echo "run.sh: make check failed; failed tests:" >&2
		grep -l '^:test-result: \(FAIL\|ERROR\)' -r --include='*.trs' . >&2 || true
		echo "see $BUILD_DIR/test-suite.log" >&2
		exit "$status"
	fi
	;;
esac
