#!/bin/bash
# SPDX-License-Identifier: MIT
# TUN offloads (tun option `offload`, on by default) against a peer that
# does not agree to super-packets (tls-http offload = false on the client):
# both daemons log which
# offloads the kernel accepted; one TCP stream each way over IPv4 and over
# IPv6 through the default stack; at exit the tun counters show that
# super-packets were read and split (rx_super) and that runs of segments
# were written merged (tx_merged), with no packet refused by the kernel.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-offload off
tp_need iperf3 ss
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
# IPv6 in the tunnel too: the client gets an address of the server's /64.
sed -i 's|# address6 = "fd00:7470::1/64";|address6 = "fd00:7470::1/64";|' "$TP_CONF/server.conf"
grep -q '^ *address6 = "fd00:7470::1/64";' "$TP_CONF/server.conf" ||
	tp_fail "cannot enable address6 in the copied server.conf"

# This test is about our own segmentation and coalescing (a peer that does
# not agree to super-packets, like the article's): the client does not
# offer them.  Super-packets carried whole: test-superpkt.sh.
sed -i 's|^\( *\)role   = "client";|&\n\1offload = false;|' "$TP_CONF/client.conf"
grep -q '^ *offload = false;' "$TP_CONF/client.conf" ||
	tp_fail "cannot set offload = false in the copied client.conf"

tp_check "server and client start with offloads on (default) and say so"
tp_server_start server "$TP_CONF/server.conf"
tp_client_up client "$C" "$TP_CONF/client.conf"
for d in server client; do
	grep -q "offload on tun0: csum tso4 tso6" "$(tp_logfile "$d")" ||
		{ cat "$(tp_logfile "$d")"; tp_fail "$d did not log the offloads enabled on tun0"; }
done
tp_ok "$(grep -o 'offload on tun0: [^,]*' "$(tp_logfile server)")"

tp_check "IPv6 through the tunnel"
c6=$(tp_in "$C" ip -6 -o addr show dev tun0 scope global | awk '{ print $4 }' | cut -d/ -f1)
[ -n "$c6" ] || tp_fail "the client's tun0 got no IPv6 address"
tp_wait_ping "$C" fd00:7470::1 10 || tp_fail "no IPv6 ping from the client to fd00:7470::1"
tp_wait_ping "$S" "$c6" 10 || tp_fail "no IPv6 ping from the server to $c6"
tp_ok "client $c6 <-> server fd00:7470::1"

tp_check "a full-MTU packet crosses, both families"
tp_ping "$C" 10.0.0.1 3 -M "do" -s $((1400 - 28)) ||
	{ cat "$TP_TMP/ping.out"; tp_fail "full-MTU IPv4 ping failed"; }
tp_ping "$C" fd00:7470::1 3 -M "do" -s $((1400 - 48)) ||
	{ cat "$TP_TMP/ping.out"; tp_fail "full-MTU IPv6 ping failed"; }
tp_ok "1400-byte packets pass"

tp_check "iperf3 3 s each way, IPv4 and IPv6"
up4=$(tp_iperf "$S" 10.0.0.1 "$C" 3) || tp_fail "iperf3 IPv4 client -> server failed"
down4=$(tp_iperf "$S" 10.0.0.1 "$C" 3 -R) || tp_fail "iperf3 IPv4 server -> client failed"
up6=$(tp_iperf "$S" fd00:7470::1 "$C" 3) || tp_fail "iperf3 IPv6 client -> server failed"
down6=$(tp_iperf "$S" fd00:7470::1 "$C" 3 -R) || tp_fail "iperf3 IPv6 server -> client failed"
tp_ok "IPv4 $up4 / $down4 Gbit/s, IPv6 $up6 / $down6 Gbit/s (up / down)"

tp_check "the offload paths were used and the kernel refused nothing"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
for d in server client; do
	for c in rx_super tx_merged; do
		v=$(tp_counter "$(tp_logfile "$d")" tun $c)
		[ -n "$v" ] && [ "$v" -gt 0 ] || tp_fail "$d: tun $c is '$v', expected > 0"
	done
	for c in up_errors rx_bad; do
		v=$(tp_counter "$(tp_logfile "$d")" tun $c)
		[ "${v:-0}" -eq 0 ] || tp_fail "$d: tun $c is $v"
	done
done
tp_ok "server: rx_super=$(tp_counter "$(tp_logfile server)" tun rx_super)" \
	"tx_merged=$(tp_counter "$(tp_logfile server)" tun tx_merged);" \
	"client: rx_super=$(tp_counter "$(tp_logfile client)" tun rx_super)" \
	"tx_merged=$(tp_counter "$(tp_logfile client)" tun tx_merged)"
