#!/bin/bash
# SPDX-License-Identifier: MIT
# Anti-spoofing: a client that sends packets with a source address other
# than the one the server leased to it gets nothing through, and the
# server's router counts the drops (spoofed=N at exit).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-spoof spf
tp_need ss
tp_topology 1
tp_confdir
C=$(tp_client_ns 1)

tp_server_start server "$TP_CONF/server.conf"
tp_client_up client "$C" "$TP_CONF/client.conf"
caddr=$TP_ADDR

tp_check "the honest source ($caddr) gets through"
tp_ping "$C" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "plain ping failed"; }
tp_ok "ping from $caddr works"

# A second address on the client's tun that the server never leased.
forged=10.0.0.250
[ "$caddr" != "$forged" ] || forged=10.0.0.249
ip -n "$C" addr add "$forged/32" dev tun0

tp_check "pings from a forged source ($forged) get no answer"
# Packets the server writes to its tun0 (its rx) show whether the forged
# ones were dropped before the server's kernel saw them, rather than only
# their replies being lost.  Stray kernel traffic (IPv6 noise) may add one
# or two, so the bound is "fewer than the 5 forged".
tun_rx() { awk '$1 == "tun0:" { print $3 }' "/proc/$(tp_pid server)/net/dev"; }
rx0=$(tun_rx)
if tp_in "$C" ping -q -c 5 -i 0.2 -W 1 -I "$forged" 10.0.0.1 >"$TP_TMP/ping.out" 2>&1; then
	cat "$TP_TMP/ping.out"
	tp_fail "a ping with forged source $forged got answers"
fi
grep -q ' 0 received' "$TP_TMP/ping.out" || { cat "$TP_TMP/ping.out"; tp_fail "some forged pings were answered"; }
rx1=$(tun_rx)
[ $((rx1 - rx0)) -lt 5 ] || tp_fail "the server's tun0 received $((rx1 - rx0)) packet(s) from the forged source"
tp_ok "0 of 5 answered, server tun0 received $((rx1 - rx0)) packet(s)"

tp_check "the honest address still works after the spoofing attempt"
tp_ping "$C" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "ping from $caddr failed after spoofing"; }
tp_ok "ping from $caddr works"

tp_check "the router reports spoofed > 0 at exit"
tp_stop client || true
tp_stop server || tp_fail "server exited with status $?"
spoofed=$(tp_counter "$(tp_logfile server)" router spoofed)
[ -n "$spoofed" ] || tp_fail "no 'spoofed=' counter in the server's router counters line"
[ "$spoofed" -ge 5 ] || tp_fail "router counted spoofed=$spoofed, expected at least 5"
tp_ok "spoofed=$spoofed"
