#!/bin/bash
# SPDX-License-Identifier: MIT
# systemd-analyze verify on tunpipe@.service, as built (paths filled in),
# with ExecStart pointed at this build's binary (verify checks that the
# programs exist) and instantiated as tunpipe@test.service.  Any message
# about the unit — unknown setting, bad value, missing program — fails.
set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TUNPIPE:=$top_builddir/core/tunpipe}"
unit="$top_builddir/systemd/tunpipe@.service"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian package 'systemd'; run.sh installs it)"
	exit 77
fi
[ -f "$unit" ] || { echo "FAIL: $unit not built"; exit 1; }
[ -x "$TUNPIPE" ] || { echo "FAIL: no tunpipe binary at $TUNPIPE"; exit 1; }
if grep -n '@[a-z_]*@' "$unit"; then
	echo "FAIL: unsubstituted @VARIABLE@ left in $unit"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tunpipe-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Only the program path changes: every other line is verified as shipped.
sed -E "s#^(ExecStart(Pre)?=)[^ ]*/tunpipe #\1$TUNPIPE #" "$unit" >"$tmp/tunpipe@test.service"
[ "$(grep -c "^ExecStart.*=$TUNPIPE " "$tmp/tunpipe@test.service")" = 2 ] ||
	{ echo "FAIL: could not point ExecStart/ExecStartPre at $TUNPIPE"; exit 1; }

for want in '^Type=notify$' '^ExecReload=/bin/kill -HUP \$MAINPID$' '^Restart=on-failure$' \
	'^DeviceAllow=/dev/net/tun rw$' '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' \
	'^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID$'; do
	grep -Eq "$want" "$unit" || { echo "FAIL: the unit has no line matching $want"; exit 1; }
done

set +e
out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/tunpipe@test.service" 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
	# Without a running systemd, verify still loads units from files; it
	# only fails to start at all where it cannot run (no /proc, say).
	if printf '%s' "$out" | grep -q 'tunpipe@test'; then
		echo "FAIL: systemd-analyze verify found problems in the unit (exit $rc)"
		exit 1
	fi
	echo "FAIL: systemd-analyze verify exited $rc"
	exit 1
fi
if printf '%s' "$out" | grep -q 'tunpipe@'; then
	echo "FAIL: systemd-analyze verify complained about the unit"
	exit 1
fi
echo "ok: systemd-analyze verify accepts tunpipe@.service ($(systemd-analyze --version | head -n 1))"
