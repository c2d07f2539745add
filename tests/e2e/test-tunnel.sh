#!/bin/bash
# SPDX-License-Identifier: MIT
# One server, one client, default stack (tun ── framer-ip ── tls-http):
# ping both ways through the tunnel, then iperf3 5 s in each direction.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-tunnel tun
tp_need iperf3 ss
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)

tp_check "the server starts and listens on 10.200.0.1:8443"
tp_server_start server "$TP_CONF/server.conf"
tp_ok "listening"

tp_check "the client connects and its tun gets an address from the pool"
tp_client_up client "$C" "$TP_CONF/client.conf"
caddr=$TP_ADDR
case $caddr in
10.0.0.*) tp_ok "client tunnel address $caddr" ;;
*) tp_fail "client got $caddr, not an address of 10.0.0.0/24" ;;
esac

tp_check "client -> server ping through the tunnel (10.0.0.1)"
tp_ping "$C" 10.0.0.1 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping 10.0.0.1 from the client failed"; }
tp_ok "$(grep 'packets transmitted' "$TP_TMP/ping.out")"

tp_check "server -> client ping through the tunnel ($caddr)"
tp_ping "$S" "$caddr" 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping $caddr from the server failed"; }
tp_ok "$(grep 'packets transmitted' "$TP_TMP/ping.out")"

tp_check "a 1400-byte packet (the tunnel MTU) crosses without fragmentation"
tp_ping "$C" 10.0.0.1 3 -M "do" -s $((1400 - 28)) ||
	{ cat "$TP_TMP/ping.out"; tp_fail "full-MTU ping failed"; }
tp_ok "full-size packets pass"

tp_check "iperf3 5 s client -> server"
up=$(tp_iperf "$S" 10.0.0.1 "$C" 5) || tp_fail "iperf3 client -> server failed"
tp_ok "client -> server: $up Gbit/s"

tp_check "iperf3 5 s server -> client (-R)"
down=$(tp_iperf "$S" 10.0.0.1 "$C" 5 -R) || tp_fail "iperf3 server -> client failed"
tp_ok "server -> client: $down Gbit/s"

tp_check "both daemons stop cleanly on SIGTERM and print their counters"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
grep -q "/router\] counters:" "$(tp_logfile server)" ||
	tp_fail "the server printed no router counters at exit"
tp_ok "clean exit, counters printed"
tp_say "tunnel: client->server $up Gbit/s, server->client $down Gbit/s"
