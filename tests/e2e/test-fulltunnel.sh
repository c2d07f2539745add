#!/bin/bash
# SPDX-License-Identifier: MIT
# Full tunnel: the server pushes 0.0.0.0/1 + 128.0.0.0/1 + ::/1 + 8000::/1
# and sits behind a router; a third "internet" namespace answers only the
# tunnel's addresses.  The client pins a host route to the server through
# its previous route, so traffic to the internet goes through the tunnel
# and the TLS connection does not; after the underlying route changes, a
# reconnect follows the new one; stopping the client restores `ip route`
# and `ip -6 route` exactly; the host route a SIGKILLed client left is
# replaced by the next run and removed at its stop.  Then the same over an
# IPv6 underlay.
#
#   C eth0 10.210.0.2 ── R 10.210.0.1 │ R 10.211.0.1 ── S eth0 10.211.0.2 (tun 10.0.0.1)
#   C eth1 10.213.0.2 ── R 10.213.0.1 │ R 10.212.0.1 ── I eth0 10.212.0.2
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-fulltunnel ft
tp_need ss
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
R=${TP_P}r
I=${TP_P}i
for ns in "$S" "$C" "$R" "$I"; do tp_ns_add "$ns"; done

# link NS_A DEV_A ADDR4_A ADDR6_A NS_B DEV_B ADDR4_B ADDR6_B
link() {
	ip link add "$2" netns "$1" type veth peer name "$6" netns "$5" || tp_fail "cannot create veth $2/$6"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" addr add "$4" dev "$2" nodad
	ip -n "$5" addr add "$7" dev "$6"
	ip -n "$5" addr add "$8" dev "$6" nodad
	ip -n "$1" link set "$2" up
	ip -n "$5" link set "$6" up
}
link "$C" eth0 10.210.0.2/24 fd10::2/64 "$R" rc 10.210.0.1/24 fd10::1/64
link "$C" eth1 10.213.0.2/24 fd13::2/64 "$R" rc2 10.213.0.1/24 fd13::1/64
link "$S" eth0 10.211.0.2/24 fd11::2/64 "$R" rs 10.211.0.1/24 fd11::1/64
link "$I" eth0 10.212.0.2/24 fd12::2/64 "$R" ri 10.212.0.1/24 fd12::1/64
for ns in "$R" "$S"; do
	tp_in "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done
ip -n "$C" route add default via 10.210.0.1
ip -n "$C" -6 route add default via fd10::1
ip -n "$S" route add default via 10.211.0.1
ip -n "$S" -6 route add default via fd11::1
ip -n "$R" route add 10.0.0.0/24 via 10.211.0.2
ip -n "$R" -6 route add fd00:5::/64 via fd11::2
# The internet answers the server's side and the tunnel's addresses only:
# a packet from the client's own underlay address gets no answer.
ip -n "$I" route add 10.211.0.0/24 via 10.212.0.1
ip -n "$I" route add 10.0.0.0/24 via 10.212.0.1
ip -n "$I" -6 route add fd11::/64 via fd12::1
ip -n "$I" -6 route add fd00:5::/64 via fd12::1

tp_check "the premise: the client reaches the server, the internet does not answer it directly"
# (The first IPv6 packets wait for neighbour discovery: up to 10 s.)
tp_wait_ping "$C" 10.211.0.2 10 || tp_fail "client cannot reach the server through the router"
tp_wait_ping "$C" fd11::2 10 || tp_fail "client cannot reach fd11::2 through the router"
tp_wait_ping "$S" 10.212.0.2 10 || tp_fail "the server cannot reach the internet"
tp_wait_ping "$S" fd12::2 10 || tp_fail "the server cannot reach fd12::2"
tp_in "$C" ping -c 2 -W 2 10.212.0.2 >/dev/null 2>&1 && tp_fail "the internet answers the client without a tunnel"
tp_in "$C" ping -c 2 -W 2 fd12::2 >/dev/null 2>&1 && tp_fail "the internet answers the client over IPv6 without a tunnel"
tp_ok "server reachable; internet silent to the client's own addresses"

sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; address6 = "fd00:5::1/64"; push_routes = [ "0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-full.conf"
grep -q '"8000::/1"' "$TP_CONF/server-full.conf" || tp_fail "could not write the full-tunnel server config"
sed -e 's|https://10.200.0.1:8443/vpn|https://10.211.0.2:8443/vpn|' "$TP_CONF/client.conf" >"$TP_CONF/client-full.conf"

tp_check "tunpipe -t explains what a pushed default route does"
"$TUNPIPE" -t -c "$TP_CONF/server-full.conf" >"$TP_TMP/t.out" 2>&1 || { cat "$TP_TMP/t.out"; tp_fail "-t refused the config"; }
grep -q "push_routes 0.0.0.0/1 covers every client's way to this server: clients pin a host route" "$TP_TMP/t.out" ||
	{ cat "$TP_TMP/t.out"; tp_fail "-t did not explain the host route"; }
tp_ok "$(grep -o 'push_routes 0.0.0.0/1 covers.*' "$TP_TMP/t.out" | cut -c1-90)…"

before4=$(ip -n "$C" route)
before6=$(ip -n "$C" -6 route)

tp_check "the client pins 10.211.0.2 via its previous route before applying the pushed routes"
tp_server_start server "$TP_CONF/server-full.conf"
tp_client_up client "$C" "$TP_CONF/client-full.conf"
tp_wait_log "$(tp_logfile client)" "host route 10.211.0.2 via 10.210.0.1 dev eth0 added" 10 ||
	tp_fail "no host route to the server logged"
tp_wait_log "$(tp_logfile client)" "4 pushed route\(s\) applied" 10 || tp_fail "pushed routes not applied"
got=$(ip -n "$C" route get 10.211.0.2)
case $got in *"via 10.210.0.1 dev eth0"*) ;; *) tp_fail "route to the server is now: $got" ;; esac
got=$(ip -n "$C" route get 10.212.0.2)
case $got in *"dev tun0"*) ;; *) tp_fail "route to the internet does not use tun0: $got" ;; esac
got=$(ip -n "$C" -6 route get fd12::2)
case $got in *"dev tun0"*) ;; *) tp_fail "IPv6 route to the internet does not use tun0: $got" ;; esac
tp_ok "server via eth0, internet via tun0 (IPv4 and IPv6)"

tp_check "traffic to the internet goes through the tunnel, the TLS connection does not"
tp_ping "$C" 10.212.0.2 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping 10.212.0.2 through the tunnel failed"; }
tp_ok "ping 10.212.0.2: $(grep 'packets transmitted' "$TP_TMP/ping.out")"
tp_ping "$C" fd12::2 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping fd12::2 through the tunnel failed"; }
tp_ok "ping fd12::2: $(grep 'packets transmitted' "$TP_TMP/ping.out")"
tp_in "$C" ss -Htn state established "dst 10.211.0.2:8443" | grep -q "10.210.0.2:" ||
	{ tp_in "$C" ss -tn; tp_fail "the TLS connection does not run from 10.210.0.2 over eth0"; }
tp_ok "TLS connection from 10.210.0.2 (eth0), still up"

tp_check "after the underlying route changes, a reconnect follows the new one"
ip -n "$C" route replace default via 10.213.0.1 dev eth1
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
tp_wait_log "$(tp_logfile client)" "host route 10.211.0.2 via 10.213.0.1 dev eth1 added" 10 ||
	tp_fail "the host route did not move to eth1 when the session went down"
tp_server_start server2 "$TP_CONF/server-full.conf"
n=0
until tp_in "$C" ss -Htn state established "dst 10.211.0.2:8443" | grep -q "10.213.0.2:"; do
	n=$((n + 1))
	[ $n -lt 300 ] || { tp_in "$C" ss -tn; tp_fail "no reconnect over eth1 within 30 s"; }
	sleep 0.1
done
tp_wait_ping "$C" 10.212.0.2 15 || tp_fail "no traffic through the tunnel after the reconnect"
tp_ok "reconnected from 10.213.0.2 (eth1); the internet answers through the tunnel"
ip -n "$C" route replace default via 10.210.0.1 dev eth0

tp_check "stopping the client restores the routing table exactly"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
after4=$(ip -n "$C" route)
after6=$(ip -n "$C" -6 route)
[ "$before4" = "$after4" ] || { diff <(echo "$before4") <(echo "$after4"); tp_fail "ip route differs after stop"; }
[ "$before6" = "$after6" ] || { diff <(echo "$before6") <(echo "$after6"); tp_fail "ip -6 route differs after stop"; }
tp_ok "ip route and ip -6 route as before ($(echo "$before4" | wc -l) + $(echo "$before6" | wc -l) lines)"

tp_check "a host route left by a killed client is replaced by the next run and removed at its stop"
tp_client_up killed "$C" "$TP_CONF/client-full.conf"
tp_wait_log "$(tp_logfile killed)" "host route 10.211.0.2 via 10.210.0.1 dev eth0 added" 10 ||
	tp_fail "no host route to the server logged"
tp_stop killed KILL && tp_fail "the client survived SIGKILL"
left=$(ip -n "$C" route show 10.211.0.2)
[ -n "$left" ] || tp_fail "no host route left after SIGKILL (the premise)"
tp_client_up again "$C" "$TP_CONF/client-full.conf"
tp_wait_log "$(tp_logfile again)" "host route 10.211.0.2 via 10.210.0.1 dev eth0 added" 10 ||
	tp_fail "the next run did not pin the server"
grep -q 'removed the host route to the server 10.211.0.2 left by a run that did not stop cleanly' \
	"$(tp_logfile again)" || tp_fail "the leftover host route was not taken over"
grep -q 'exists already' "$(tp_logfile again)" && tp_fail "the leftover host route was left alone"
tp_stop again || tp_fail "again exited with status $? on SIGTERM"
[ "$before4" = "$(ip -n "$C" route)" ] || { diff <(echo "$before4") <(ip -n "$C" route); tp_fail "ip route differs after stop"; }
tp_ok "left after SIGKILL: '$left'; the next run: $(grep -m1 'left by a run' "$(tp_logfile again)" | sed 's/.*\] //'); ip route as before after its stop"
tp_stop server2 || tp_fail "server2 exited with status $? on SIGTERM"

tp_check "over an IPv6 underlay: the client pins fd11::2/128 via fd10::1"
sed -e 's|listen = "0.0.0.0:8443";|listen = "[::]:8443";|' "$TP_CONF/server-full.conf" >"$TP_CONF/server-full6.conf"
sed -e 's|https://10.200.0.1:8443/vpn|https://[fd11::2]:8443/vpn|' "$TP_CONF/client.conf" >"$TP_CONF/client-full6.conf"
tp_start server6 "$S" "$TP_CONF/server-full6.conf"
tp_wait_listen "$S" 8443 10 || tp_fail "IPv6 server not listening"
tp_client_up client6 "$C" "$TP_CONF/client-full6.conf"
tp_wait_log "$(tp_logfile client6)" "host route fd11::2 via fd10::1 dev eth0 added" 10 ||
	tp_fail "no IPv6 host route to the server logged"
got=$(ip -n "$C" -6 route get fd11::2)
case $got in *"via fd10::1 dev eth0"*) ;; *) tp_fail "IPv6 route to the server is now: $got" ;; esac
tp_ping "$C" fd12::2 3 || { cat "$TP_TMP/ping.out"; tp_fail "ping6 through the tunnel failed"; }
tp_ping "$C" 10.212.0.2 3 || { cat "$TP_TMP/ping.out"; tp_fail "ping through the tunnel failed"; }
tp_stop client6 || tp_fail "client6 exited with status $? on SIGTERM"
[ "$before4" = "$(ip -n "$C" route)" ] || tp_fail "ip route differs after the IPv6 client stopped"
[ "$before6" = "$(ip -n "$C" -6 route)" ] || { diff <(echo "$before6") <(ip -n "$C" -6 route); tp_fail "ip -6 route differs after the IPv6 client stopped"; }
tp_ok "pinned over IPv6, pings through the tunnel, routes restored"
tp_stop server6 || tp_fail "server6 exited with status $? on SIGTERM"
