#!/bin/sh
# SPDX-License-Identifier: MIT
# What a third-party plugin author does: install tunpipe, build a plugin
# against the INSTALLED header and pkg-config file only, and run it in the
# INSTALLED tunpipe between the test plugins.  Works under distcheck: it
# writes only to a temporary directory and the build tree.
set -u

: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tp-oot.XXXXXX") || exit 99
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir "$tmp/plugins"

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") ----" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

# 1. Install into a staging root.  The enclosing make's flags (jobserver
# fds, -k, TESTS=…) mean nothing to this separate run.
# shellcheck disable=SC2086 # MAKE may carry arguments
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$top_builddir" \
	install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
	fail "make install DESTDIR=$tmp/root failed"

pc=$(find "$tmp/root" -name tunpipe-plugin.pc | head -n 1)
[ -n "$pc" ] || fail "tunpipe-plugin.pc was not installed"
bin=$(find "$tmp/root" -type f -name tunpipe -path '*/sbin/*' | head -n 1)
[ -n "$bin" ] || fail "the tunpipe daemon was not installed in sbin"

# 2. Compile hello.c with the installed .pc, its prefix moved under the
# staging root (the file still names the configured prefix).
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
prefix=$($PKG_CONFIG --variable=prefix tunpipe-plugin) ||
	fail "pkg-config cannot read $pc"
cflags=$($PKG_CONFIG --define-variable=prefix="$tmp/root$prefix" --cflags tunpipe-plugin) ||
	fail "pkg-config --cflags tunpipe-plugin failed"
incdir=$(echo "$cflags" | sed -n 's/.*-I\([^ ]*\).*/\1/p')
[ -f "$incdir/tunpipe/plugin.h" ] ||
	fail "pkg-config points at '$incdir', which has no tunpipe/plugin.h (cflags: $cflags)"

# Strict C99 with warnings as errors: the public header must not force
# anything on a plugin author's build.
# shellcheck disable=SC2086 # cflags is a word list
$CC -std=c99 -Wall -Wextra -Werror -shared -fPIC -o "$tmp/plugins/hello.so" \
	"$top_srcdir/tests/oot/hello.c" $cflags >"$tmp/cc.log" 2>&1 ||
	fail "hello.c does not build against the installed header ($CC $cflags)"

# 3. Run it in the installed daemon: tp-gen → hello → tp-loop.
cat >"$tmp/hello.conf" <<'CONF'
pipelines = (
  { name = "oot";
    stages = ( { plugin = "tp-gen"; count = 200; }, { plugin = "hello"; }, { plugin = "tp-loop"; } ); }
);
CONF
TUNPIPE_PLUGIN_PATH="$tmp/plugins:$top_builddir/tests/plugins"
export TUNPIPE_PLUGIN_PATH

"$bin" inspect hello >"$tmp/inspect.log" 2>&1 || fail "tunpipe inspect hello failed"
grep -q "counts packets, says hello" "$tmp/inspect.log" ||
	fail "tunpipe inspect hello does not show the plugin's description"
"$bin" inspect >"$tmp/list.log" 2>&1
grep -Eq '(^|[[:space:]])hello([[:space:]]|$)' "$tmp/list.log" ||
	fail "tunpipe inspect does not list hello"

timeout 20 "$bin" -c "$tmp/hello.conf" >"$tmp/run.log" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "tunpipe did not finish within 20 s"
[ $rc -eq 0 ] || fail "installed tunpipe exited with status $rc"
grep -q "all 200 packets came back" "$tmp/run.log" ||
	fail "not every packet came back through hello"
grep -q "hello: 400 packets (200 down, 200 up)" "$tmp/run.log" ||
	fail "hello did not log its packet count at stop"
grep -E '\[oot/hello[^]]*\] counters:' "$tmp/run.log" | grep -q "hello_down=200 hello_up=200" ||
	fail "the core did not print hello's counters (hello_down=200 hello_up=200)"

echo "PASS: hello.so built from the installed header and ran in the installed tunpipe"
exit 0
