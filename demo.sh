#!/bin/bash
# SPDX-License-Identifier: MIT
# demo.sh — tunpipe in two network namespaces, start to finish:
#   1. namespaces "server" (10.200.0.1) and "client" (10.200.0.11) on a veth;
#   2. a throw-away CA, a certificate for vpn.test and users (conf/make-demo-creds.sh);
#   3. tunpipe -c conf/server.conf in one, tunpipe -c conf/client.conf in the other;
#   4. ping 10.0.0.1 through the tunnel, then iperf3 for 5 s; prints Gbit/s.
# Everything is removed at the end, whatever happens.  Needs root and a
# build (./run.sh demo builds first).  Uses $BUILD_DIR (default ./build) or
# $TUNPIPE / $TUNPIPE_PLUGIN_PATH when set.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/build}
[ -x "$build/core/tunpipe" ] || [ ! -x "$here/core/tunpipe" ] || build=$here
: "${TUNPIPE:=$build/core/tunpipe}"
: "${TUNPIPE_PLUGIN_PATH:=$build/plugins}"
top_srcdir=$here
top_builddir=$build
: "${TUNPIPE_ALLOW_ROOT_PLUGIN_PATH:=1}" # the demo runs as root with the build's plugins
export TUNPIPE TUNPIPE_PLUGIN_PATH TUNPIPE_ALLOW_ROOT_PLUGIN_PATH top_srcdir top_builddir

# shellcheck source=SCRIPTDIR/tests/e2e/lib.sh
. "$here/tests/e2e/lib.sh"
TP_SKIP_STATUS=1   # the demo cannot "skip": say why and fail
tp_init demo demo
tp_need iperf3 ss
S=$(tp_server_ns)
C=$(tp_client_ns 1)

tp_say "1. namespaces: $S (10.200.0.1) <-veth-> $C (10.200.0.11)"
tp_topology 1
tp_say "2. credentials: CA + vpn.test certificate + users alice/bob/carol"
tp_confdir
tp_say "3. starting the server:  tunpipe -c conf/server.conf   (in $S)"
tp_server_start server "$TP_CONF/server.conf"
tp_say "   starting the client:  tunpipe -c conf/client.conf   (in $C, user alice)"
tp_client_up client "$C" "$TP_CONF/client.conf"
tp_say "   tunnel up: client tun0 = $TP_ADDR, server tun0 = 10.0.0.1"
tp_say "4. ping through the tunnel:"
tp_ping "$C" 10.0.0.1 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping through the tunnel failed"; }
sed -n 's/^/   /;/packets transmitted\|rtt/p' "$TP_TMP/ping.out"
tp_say "5. iperf3, 5 s, one TCP stream, client -> server through the tunnel:"
rate=$(tp_iperf "$S" 10.0.0.1 "$C" 5) || tp_fail "iperf3 through the tunnel failed"
tp_say "   throughput: $rate Gbit/s"
tp_stop client || true
tp_stop server || true
tp_say "   server counters at exit:"
grep -E '\] counters:' "$(tp_logfile server)" | sed 's/^[^[]*/   /' || true
tp_say "demo done: tunnel works, $rate Gbit/s (namespaces removed)"
