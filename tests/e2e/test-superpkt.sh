#!/bin/bash
# SPDX-License-Identifier: MIT
# Super-packets carried whole between two tunpipe peers that agreed
# (Simple-VPN-Offload, tls-http option `offload`, on by default): one
# server, client 1 (alice) agreeing and client 2 (bob) with offload = false,
# through the same shared TUN.  Both get pings (full MTU, IPv4 and IPv6) and
# a TCP stream each way; at exit the counters show alice's tunnel carried
# super-packets whole (framer-ip up_super/down_super, tun tx_super, nothing
# split by the core on her side) while bob's carried plain packets only
# (the core split his super-packets; he never received one).  Then the
# framer-len stack, which carries super-packets too (behind a zero length),
# and the lz4 stack, whose compressor takes plain packets only (the core
# splits for it); traffic flows both ways in both.  Also a client that
# agrees but runs its tun with offload = "off": its tun splits what arrives.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-superpkt sup
tp_need iperf3 ss
tp_topology 2
tp_confdir
S=$(tp_server_ns)
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
sed -i 's|# address6 = "fd00:7470::1/64";|address6 = "fd00:7470::1/64";|' "$TP_CONF/server.conf"
grep -q '^ *address6 = "fd00:7470::1/64";' "$TP_CONF/server.conf" ||
	tp_fail "cannot enable address6 in the copied server.conf"
BOB=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
sed -i 's|^\( *\)role   = "client";|&\n\1offload = false;|' "$BOB"
grep -q '^ *offload = false;' "$BOB" || tp_fail "cannot set offload = false in $BOB"

# counter LOG STAGE NAME: the value, 0 when absent
cnt() { local v; v=$(tp_counter "$(tp_logfile "$1")" "$2" "$3"); printf '%s' "${v:-0}"; }

tp_check "a server, alice offering offloads (default) and bob not"
tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
A=$TP_ADDR
tp_client_up bob "$C2" "$BOB"
B=$TP_ADDR
tp_ok "alice $A, bob $B"

tp_check "pings both ways, full MTU, IPv4 and IPv6, for both clients"
for c in "$C1" "$C2"; do
	tp_ping "$c" 10.0.0.1 3 -M "do" -s $((1400 - 28)) ||
		{ cat "$TP_TMP/ping.out"; tp_fail "full-MTU IPv4 ping from $c failed"; }
	tp_wait_ping "$c" fd00:7470::1 10 || tp_fail "no IPv6 ping from $c to fd00:7470::1"
	tp_ping "$c" fd00:7470::1 3 -M "do" -s $((1400 - 48)) ||
		{ cat "$TP_TMP/ping.out"; tp_fail "full-MTU IPv6 ping from $c failed"; }
done
tp_ping "$S" "$A" 3 || tp_fail "server -> alice ping failed"
tp_ping "$S" "$B" 3 || tp_fail "server -> bob ping failed"
tp_ok "pings pass"

tp_check "iperf3 2 s each way: alice IPv4 and IPv6, bob IPv4 and IPv6"
a4u=$(tp_iperf "$S" 10.0.0.1 "$C1" 2) || tp_fail "alice IPv4 up failed"
a4d=$(tp_iperf "$S" 10.0.0.1 "$C1" 2 -R) || tp_fail "alice IPv4 down failed"
a6u=$(tp_iperf "$S" fd00:7470::1 "$C1" 2) || tp_fail "alice IPv6 up failed"
a6d=$(tp_iperf "$S" fd00:7470::1 "$C1" 2 -R) || tp_fail "alice IPv6 down failed"
b4u=$(tp_iperf "$S" 10.0.0.1 "$C2" 2) || tp_fail "bob IPv4 up failed"
b4d=$(tp_iperf "$S" 10.0.0.1 "$C2" 2 -R) || tp_fail "bob IPv4 down failed"
b6u=$(tp_iperf "$S" fd00:7470::1 "$C2" 2) || tp_fail "bob IPv6 up failed"
b6d=$(tp_iperf "$S" fd00:7470::1 "$C2" 2 -R) || tp_fail "bob IPv6 down failed"
tp_ok "alice (super-packets) v4 $a4u/$a4d v6 $a6u/$a6d, bob (plain) v4 $b4u/$b4d" \
	"v6 $b6u/$b6d Gbit/s (up/down)"

tp_check "alice's tunnel carried super-packets whole, bob's only plain packets"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop bob || tp_fail "bob exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
for c in up_super down_super; do
	[ "$(cnt alice framer-ip $c)" -gt 0 ] || tp_fail "alice: framer-ip $c is 0"
done
[ "$(cnt alice tun tx_super)" -gt 0 ] || tp_fail "alice: tun tx_super is 0 (no super-packet written whole)"
[ "$(cnt alice router super_split)" -eq 0 ] || tp_fail "alice: the core split $(cnt alice router super_split) super-packets"
for c in up_super down_super bad_super bad_version; do
	[ "$(cnt bob framer-ip $c)" -eq 0 ] || tp_fail "bob: framer-ip $c is $(cnt bob framer-ip $c)"
done
[ "$(cnt bob tun tx_super)" -eq 0 ] || tp_fail "bob: tun tx_super is $(cnt bob tun tx_super)"
[ "$(cnt bob router super_split)" -gt 0 ] || tp_fail "bob: the core split nothing (offload off reads no super-packet?)"
[ "$(cnt server tun tx_super)" -gt 0 ] || tp_fail "server: tun tx_super is 0"
[ "$(cnt server router super_split)" -gt 0 ] || tp_fail "server: nothing split for bob"
for d in server alice bob; do
	for c in up_errors rx_bad; do
		[ "$(cnt $d tun $c)" -eq 0 ] || tp_fail "$d: tun $c is $(cnt $d tun $c)"
	done
	for c in super_split_bad super_split_nobuf; do
		[ "$(cnt $d router $c)" -eq 0 ] || tp_fail "$d: router $c is $(cnt $d router $c)"
	done
done
tp_ok "alice: up_super=$(cnt alice framer-ip up_super) down_super=$(cnt alice framer-ip down_super)" \
	"tx_super=$(cnt alice tun tx_super); bob: split=$(cnt bob router super_split) into" \
	"$(cnt bob router super_split_segments) packets; server: tx_super=$(cnt server tun tx_super)" \
	"split for bob=$(cnt server router super_split)"

tp_check "alice agreeing, her tun without offloads (offload = off): she splits what she receives"
OFF=$TP_CONF/client-tun-off.conf
sed 's|^\( *\)plugin *= *"tun";|&\n\1offload = "off";|' "$TP_CONF/client.conf" >"$OFF"
grep -q 'offload = "off";' "$OFF" || tp_fail "cannot set offload = off in $OFF"
tp_server_start server-2 "$TP_CONF/server.conf"
tp_client_up alice-off "$C1" "$OFF"
tp_ping "$C1" 10.0.0.1 3 -M "do" -s $((1400 - 28)) || tp_fail "alice-off: full-MTU ping failed"
up=$(tp_iperf "$S" 10.0.0.1 "$C1" 2) || tp_fail "alice-off: iperf3 up failed"
down=$(tp_iperf "$S" 10.0.0.1 "$C1" 2 -R) || tp_fail "alice-off: iperf3 down failed"
tp_stop alice-off || tp_fail "alice-off exited with status $?"
tp_stop server-2 || tp_fail "server-2 exited with status $?"
[ "$(cnt alice-off framer-ip up_super)" -gt 0 ] || tp_fail "alice-off: received no super-packet"
[ "$(cnt alice-off tun tx_super)" -eq 0 ] || tp_fail "alice-off: a super-packet written whole without a vnet header"
for c in up_errors rx_bad; do
	[ "$(cnt alice-off tun $c)" -eq 0 ] || tp_fail "alice-off: tun $c is $(cnt alice-off tun $c)"
done
tp_ok "alice-off: $up / $down Gbit/s; received $(cnt alice-off framer-ip up_super) super-packets," \
	"split by her tun into $(cnt alice-off tun up_packets) packets"

for stack in len lz4; do
	tp_check "stack '$stack': iperf3 2 s each way, IPv4 and IPv6; super-packets whole (len) or split (lz4)"
	sed -i 's|address = "10.0.0.1/24";|& address6 = "fd00:7470::1/64";|' "$TP_CONF/server-$stack.conf"
	grep -q 'address6 = "fd00:7470::1/64";' "$TP_CONF/server-$stack.conf" ||
		tp_fail "cannot add address6 to server-$stack.conf"
	tp_server_start "server-$stack" "$TP_CONF/server-$stack.conf"
	tp_client_up "client-$stack" "$C1" "$TP_CONF/client-$stack.conf"
	up=$(tp_iperf "$S" 10.0.0.1 "$C1" 2) || tp_fail "$stack: iperf3 up failed"
	down=$(tp_iperf "$S" 10.0.0.1 "$C1" 2 -R) || tp_fail "$stack: iperf3 down failed"
	tp_wait_ping "$C1" fd00:7470::1 10 || tp_fail "$stack: no IPv6 ping through the tunnel"
	up6=$(tp_iperf "$S" fd00:7470::1 "$C1" 2) || tp_fail "$stack: iperf3 IPv6 up failed"
	down6=$(tp_iperf "$S" fd00:7470::1 "$C1" 2 -R) || tp_fail "$stack: iperf3 IPv6 down failed"
	tp_stop "client-$stack" || tp_fail "client-$stack exited with status $?"
	tp_stop "server-$stack" || tp_fail "server-$stack exited with status $?"
	for d in "server-$stack" "client-$stack"; do
		[ "$(cnt "$d" router super_split_bad)" -eq 0 ] || tp_fail "$d: super_split_bad"
		if [ "$stack" = len ]; then
			[ "$(cnt "$d" framer-len up_super)" -gt 0 ] || tp_fail "$d: framer-len received no super-packet"
			[ "$(cnt "$d" tun tx_super)" -gt 0 ] || tp_fail "$d: tun wrote no super-packet whole"
			[ "$(cnt "$d" router super_split)" -eq 0 ] || tp_fail "$d: the core split for framer-len"
		else
			[ "$(cnt "$d" router super_split)" -gt 0 ] || tp_fail "$d: the core split nothing for lz4"
			[ "$(cnt "$d" tun tx_super)" -eq 0 ] || tp_fail "$d: a super-packet reached the TUN"
		fi
	done
	tp_ok "$stack: v4 $up / $down, v6 $up6 / $down6 Gbit/s; client: split $(cnt "client-$stack" router super_split)," \
		"tx_super $(cnt "client-$stack" tun tx_super); server: split" \
		"$(cnt "server-$stack" router super_split), tx_super $(cnt "server-$stack" tun tx_super)"
done
