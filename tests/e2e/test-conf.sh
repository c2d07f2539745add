#!/bin/bash
# SPDX-License-Identifier: MIT
# Every example config in conf/ passes `tunpipe -t`; broken configs fail
# with an error that names FILE:LINE and the offending stage.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
TP_NAME=test-conf
TP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tunpipe-test-conf.XXXXXX")
trap tp_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# `tunpipe -t` opens no device and no socket: no root or namespace needed.
[ -x "$TUNPIPE" ] || tp_fail "tunpipe binary not found at '$TUNPIPE' (build first, or set TUNPIPE)"
tp_need openssl
tp_confdir

for f in "$top_srcdir"/conf/*.conf; do
	conf="$TP_CONF/$(basename "$f")"
	tp_check "$(basename "$f") passes tunpipe -t"
	"$TUNPIPE" -t -c "$conf" >"$TP_TMP/t.log" 2>&1 ||
		{ cat "$TP_TMP/t.log"; tp_fail "$(basename "$f") was rejected"; }
	tp_ok "$(basename "$f")"
done

# expect_error NAME WHAT REGEX... — $TP_CONF/NAME must fail `tunpipe -t`,
# and its output must match every extended regex.
expect_error() {
	local name=$1 what=$2 out
	shift 2
	tp_check "$what is refused"
	out="$TP_TMP/$name.out"
	tp_expect_refused "$out" "$TP_CONF/$name" "$name (a config with $what)" "$@"
	tp_ok "$what: $(grep -E -m1 -- "$1" "$out")"
}

# line_of FILE TEXT — line number of the first line containing TEXT.
line_of() { grep -nF -- "$2" "$1" | head -n 1 | cut -d: -f1; }

server_with() {  # server_with NAME TUN-STAGE MIDDLE-STAGES
	cat >"$TP_CONF/$1" <<CONF
# broken on purpose
pipelines = ( { name = "vpn";
  stages = (
    $2,
    $3
    { plugin = "tls-http"; role = "server"; listen = "127.0.0.1:8443";
      cert = "demo/server.crt"; key = "demo/server.key"; users = "demo/users.htpasswd"; }
  ); } );
CONF
}

server_with unknown.conf '{ plugin = "tun"; device = "tun0"; address = "10.0.0.1/24";
      colour = "blue"; }' '{ plugin = "framer-ip"; },'
expect_error unknown.conf "an unknown option" \
	"unknown\.conf:$(line_of "$TP_CONF/unknown.conf" colour):" "colour" "'tun'"

server_with wrongtype.conf '{ plugin = "tun"; device = "tun0"; address = "10.0.0.1/24";
      mtu = "large"; }' '{ plugin = "framer-ip"; },'
expect_error wrongtype.conf "an option of the wrong type" \
	"wrongtype\.conf:$(line_of "$TP_CONF/wrongtype.conf" large):" "mtu" "'tun'"

server_with noplugin.conf '{ plugin = "tun"; device = "tun0"; address = "10.0.0.1/24"; }' \
	'{ plugin = "no-such-plugin"; },'
expect_error noplugin.conf "a plugin that does not exist" \
	"noplugin\.conf:$(line_of "$TP_CONF/noplugin.conf" no-such-plugin):" "no-such-plugin"

server_with lz4ip.conf '{ plugin = "tun"; device = "tun0"; address = "10.0.0.1/24"; }' \
	'{ plugin = "compress-lz4"; },
    { plugin = "framer-ip"; },'
expect_error lz4ip.conf "compress-lz4 directly above framer-ip" \
	"lz4ip\.conf:($(line_of "$TP_CONF/lz4ip.conf" compress-lz4)|$(line_of "$TP_CONF/lz4ip.conf" framer-ip)):" \
	"compress-lz4" "framer-ip"

# A server leases and routes from its tun's network: a tun without one.
server_with noaddr.conf '{ plugin = "tun"; device = "tun0"; }' '{ plugin = "framer-ip"; },'
expect_error noaddr.conf "a server whose tun stage has no address" \
	"noaddr\.conf:$(line_of "$TP_CONF/noaddr.conf" '"tun"'):" "stage 1 'tun'" "has no address" \
	"'tls-http' \(line $(line_of "$TP_CONF/noaddr.conf" '"tls-http"')\) is a server"

tp_say "all config checks passed"
