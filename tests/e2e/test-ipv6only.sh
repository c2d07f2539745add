#!/bin/bash
# SPDX-License-Identifier: MIT
# An IPv6-only tunnel over an IPv6-only underlay: the server's tun has only
# address6 (its pool is that prefix), the client reaches the server at
# [fd99::1]:8443 and gets an IPv6 address and no IPv4 one; ping6 both ways.
# `tunpipe -t` refuses tunnels that cannot lease an address, saying why.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-ipv6only v6o
tp_need ss
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
# IPv6 only on the underlay: the topology's IPv4 addresses go.
ip -n "$S" -4 addr flush dev vc1
ip -n "$C" -4 addr flush dev eth0
ip -n "$S" addr add fd99::1/64 dev vc1 nodad
ip -n "$C" addr add fd99::11/64 dev eth0 nodad
ip -n "$C" -4 addr show dev eth0 | grep -q inet && tp_fail "the client still has an IPv4 underlay address"

sed -e 's|address = "10.0.0.1/24";|address6 = "fd00:6::1/64";|' \
	-e 's|listen = "0.0.0.0:8443";|listen = "[::]:8443";|' "$TP_CONF/server.conf" >"$TP_CONF/server6.conf"
grep -q 'address6 = "fd00:6::1/64"' "$TP_CONF/server6.conf" || tp_fail "could not make the IPv6-only server config"
grep -q '^[^#]*address = ' "$TP_CONF/server6.conf" && tp_fail "the IPv6-only server config still has an IPv4 address"
sed -e 's|https://10.200.0.1:8443/vpn|https://[fd99::1]:8443/vpn|' "$TP_CONF/client.conf" >"$TP_CONF/client6.conf"

tp_check "tunpipe -t accepts the IPv6-only server and says how many addresses it leases"
"$TUNPIPE" -t -c "$TP_CONF/server6.conf" >"$TP_TMP/t-ok.out" 2>&1 ||
	{ cat "$TP_TMP/t-ok.out"; tp_fail "-t refused a working IPv6-only server"; }
grep -q "address pool: 65535 addresses" "$TP_TMP/t-ok.out" ||
	{ cat "$TP_TMP/t-ok.out"; tp_fail "-t did not report the IPv6 pool"; }
tp_ok "$(grep -o 'address pool: .*' "$TP_TMP/t-ok.out")"

tp_check "tunpipe -t refuses tunnels that cannot lease a client address, saying why"
sed -e 's|fd00:6::1/64|fd00:6::1/127|' "$TP_CONF/server6.conf" >"$TP_CONF/bad6.conf"
tp_expect_refused "$TP_TMP/t-bad6.out" "$TP_CONF/bad6.conf" "an address6 /127 as the only tunnel address" \
	"between /64 and /126"
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/31";|' "$TP_CONF/server.conf" >"$TP_CONF/bad4.conf"
tp_expect_refused "$TP_TMP/t-bad4.out" "$TP_CONF/bad4.conf" "an IPv4 /31 that leaves no client address" \
	"/30 or shorter"
tp_ok "$(grep -o 'cannot build the address pool: .*' "$TP_TMP/t-bad6.out" | head -n 1)"

tp_check "the server starts on [::]:8443 and the client connects over IPv6"
tp_server_start server "$TP_CONF/server6.conf"
tp_start client "$C" "$TP_CONF/client6.conf"
a6=
for _ in $(seq 1 150); do
	a6=$(ip -n "$C" -6 -o addr show dev tun0 scope global 2>/dev/null | awk '{print $4; exit}')
	[ -n "$a6" ] && break
	sleep 0.1
done
[ -n "$a6" ] || tp_fail "the client got no IPv6 tunnel address within 15 s"
[ "$a6" = "fd00:6::2/64" ] || tp_fail "client address $a6, expected fd00:6::2/64 (the pool's first)"
if ip -n "$C" -4 -o addr show dev tun0 | grep -q inet; then
	tp_fail "the client's tun has an IPv4 address in an IPv6-only tunnel"
fi
tp_ok "client tun0 has $a6 and no IPv4 address"

tp_check "ping6 both ways through the tunnel"
tp_ping "$C" fd00:6::1 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping fd00:6::1 from the client failed"; }
tp_ok "client -> server: $(grep 'packets transmitted' "$TP_TMP/ping.out")"
tp_ping "$S" fd00:6::2 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping fd00:6::2 from the server failed"; }
tp_ok "server -> client: $(grep 'packets transmitted' "$TP_TMP/ping.out")"
tp_in "$C" ss -Htn state established "dst [fd99::1]:8443" | grep -q . ||
	tp_fail "the client's TLS connection is not over IPv6 to [fd99::1]:8443"
tp_ok "the TLS connection runs over the IPv6 underlay"

tp_check "both stop cleanly"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
tp_ok "clean exit"
