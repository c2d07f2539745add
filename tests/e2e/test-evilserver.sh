#!/bin/bash
# SPDX-License-Identifier: MIT
# A malicious server against the real client (issue 10, finding 5):
# tests/e2e/evil-server answers each connection with the next answer below
# (addresses covering half of IPv4 or the server itself, loopback,
# multicast, link-local, unspecified, an IPv6 /1, bad routes, an MTU below
# IPv6's 1280 with an IPv6 address, a 101 without
# its Upgrade/Connection headers, control bytes, a 503 with Retry-After).
# The client must refuse each with a clear log line, and the client
# namespace's routing table (`ip route`, `ip -6 route`) must be exactly what
# it was before.  Last, a valid 101 pushing 0.0.0.0/1 + 128.0.0.0/1 with
# accept_routes = false: only the device's own on-link networks appear.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-evilserver evl
EVIL=${EVIL_SERVER:-$top_builddir/tests/e2e/evil-server}
[ -x "$EVIL" ] || tp_fail "evil-server not found at '$EVIL' (make tests/e2e/evil-server)"
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
A=$TP_TMP/answers
mkdir -p "$A"

# answer NAME HEADER-LINES… — a 101 with the given header lines (each
# without CRLF); "-" as the first line leaves out Connection/Upgrade.
n=0
answer() {
	local name=$1 f
	shift
	n=$((n + 1))
	f=$(printf '%s/%02d-%s' "$A" "$n" "$name")
	{
		printf 'HTTP/1.1 101 Switching Protocols\r\n'
		if [ "${1:-}" = - ]; then shift; else printf 'Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n'; fi
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n'
	} >"$f"
}
GW='Simple-VPN-Gateway: 10.9.0.1'
OK4='Simple-VPN-Address: 10.9.0.2/24'
# name, then the expected log text (grep -F) after "refusing the answer of URL: "
cases=(
	half4 'Simple-VPN-Address 200.0.0.2/1: prefix shorter than /16'
	server 'Simple-VPN-Address 10.200.0.1/24 is the server'
	cover 'Simple-VPN-Address 10.200.7.7/16 covers the server'
	short 'Simple-VPN-Address 10.9.0.2/8: prefix shorter than /16'
	loop4 'Simple-VPN-Address 127.0.0.2/24 is loopback'
	mcast4 'Simple-VPN-Address 224.0.0.5/24 is multicast'
	ll4 'Simple-VPN-Address 169.254.3.4/24 is link-local'
	zero4 'Simple-VPN-Address 0.0.0.5/24 is unspecified'
	bcast4 'Simple-VPN-Address 10.9.0.255/24 is the subnet'
	half6 'Simple-VPN-Address6 2001:db8::2/1: prefix shorter than /64'
	ll6 'Simple-VPN-Address6 fe80::2/64 is link-local'
	mcast6 'Simple-VPN-Address6 ff02::2/64 is multicast'
	loop6 'Simple-VPN-Address6 ::1/128 is loopback'
	route-lo 'Simple-VPN-Route 127.0.0.0/8 is a loopback network'
	route-mc 'Simple-VPN-Route ff00::/8 is a multicast network'
	mtu6 'Simple-VPN-MTU 576 is below 1280'
	no-upgrade "101 without 'Upgrade: Simple-VPN'"
	h2c "101 without 'Upgrade: Simple-VPN'"
	no-connection "101 without 'Connection: Upgrade'"
	esc '=cannot connect to .*: malformed HTTP response from server'
	c1 'bad Simple-VPN-MTU: 1\x9b31m\xe2\x80\xaeder'
)
answer half4 'Simple-VPN-Address: 200.0.0.2/1' "$GW"
answer server 'Simple-VPN-Address: 10.200.0.1/24' "$GW"
answer cover 'Simple-VPN-Address: 10.200.7.7/16' "$GW"
answer short 'Simple-VPN-Address: 10.9.0.2/8' "$GW"
answer loop4 'Simple-VPN-Address: 127.0.0.2/24' "$GW"
answer mcast4 'Simple-VPN-Address: 224.0.0.5/24' "$GW"
answer ll4 'Simple-VPN-Address: 169.254.3.4/24' "$GW"
answer zero4 'Simple-VPN-Address: 0.0.0.5/24' "$GW"
answer bcast4 'Simple-VPN-Address: 10.9.0.255/24' "$GW"
answer half6 "$OK4" "$GW" 'Simple-VPN-Address6: 2001:db8::2/1'
answer ll6 "$OK4" "$GW" 'Simple-VPN-Address6: fe80::2/64'
answer mcast6 "$OK4" "$GW" 'Simple-VPN-Address6: ff02::2/64'
answer loop6 "$OK4" "$GW" 'Simple-VPN-Address6: ::1/128'
answer route-lo "$OK4" "$GW" 'Simple-VPN-Route: 127.0.0.0/8'
answer route-mc "$OK4" "$GW" 'Simple-VPN-Route: ff00::/8'
# Below 1280 the kernel would switch IPv6 off on tun0 (the red team's leak).
answer mtu6 "$OK4" "$GW" 'Simple-VPN-Address6: fd00:9::2/64' 'Simple-VPN-MTU: 576'
answer no-upgrade - 'Connection: Upgrade' "$OK4" "$GW"
answer h2c - 'Connection: Upgrade' 'Upgrade: h2c' "$OK4" "$GW"
answer no-connection - 'Upgrade: Simple-VPN' "$OK4" "$GW"
# A raw ESC is not HTTP (the parser refuses it); C1 controls and a
# right-to-left override are obs-text, so they reach the error message.
answer esc "$OK4" "$GW" "$(printf 'Simple-VPN-MTU: 1\033[31mred')"
answer c1 "$OK4" "$GW" "$(printf 'Simple-VPN-MTU: 1\23331m\342\200\256der')"
# A busy server: come back in 3 s, not at the usual backoff.
n=$((n + 1))
printf 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n' \
	>"$(printf '%s/%02d-busy' "$A" "$n")"
# Finally a valid answer that pushes half of IPv4 twice over.
answer valid "$OK4" "$GW" 'Simple-VPN-Address6: fd00:9::2/64' 'Simple-VPN-Gateway6: fd00:9::1' \
	'Simple-VPN-Route: 0.0.0.0/1' 'Simple-VPN-Route: 128.0.0.0/1'

conf=$TP_CONF/client-evil.conf
sed -e 's|# accept_routes = true;.*|accept_routes = false;|' \
	-e 's|# auth_retry = 60000;.*|auth_retry = 100;|' \
	-e 's|# reconnect_min = 500;.*|reconnect_min = 100;|' "$TP_CONF/client.conf" >"$conf"
if ! grep -q 'accept_routes = false' "$conf" || ! grep -q 'auth_retry = 100' "$conf"; then
	tp_fail "cannot edit $conf"
fi

routes() { { ip -n "$C" route; ip -n "$C" -6 route; } | grep -v '^fe80::/64 dev tun0 ' || true; }
routes >"$TP_TMP/routes.before"
tp_say "routes before: $(tr '\n' ';' <"$TP_TMP/routes.before")"

ip netns exec "$S" "$EVIL" 8443 "$TP_CONF/demo/server.crt" "$TP_CONF/demo/server.key" "$A"/* \
	>>"$TP_TMP/evil.log" 2>&1 &
echo $! >"$TP_TMP/evil.pid"
tp_wait_listen "$S" 8443 10 || tp_fail "evil-server is not listening"
tp_start client "$C" "$conf"
log=$(tp_logfile client)

tp_check "each bad answer is refused with its reason and changes no route"
i=0
while [ $i -lt ${#cases[@]} ]; do
	name=${cases[$i]} want=${cases[$((i + 1))]}
	i=$((i + 2))
	if [ "${want#=}" != "$want" ]; then
		re=${want#=} want=${re##*: }
	else
		# shellcheck disable=SC2016 # sed's own $ and \, not the shell's
		re="refusing the answer of .*$(printf '%s' "$want" | sed 's/[][\.*^$()/|?+{}]/\\&/g')"
	fi
	tp_wait_log "$log" "$re" 10 || tp_fail "$name: no log line matching '$re'"
	routes >"$TP_TMP/routes.now"
	diff -u "$TP_TMP/routes.before" "$TP_TMP/routes.now" ||
		tp_fail "$name: the routing table changed"
	if ip -n "$C" -o addr show dev tun0 2>/dev/null | grep -v ' fe80::' | grep -q inet; then
		tp_fail "$name: tun0 got an address: $(ip -n "$C" -o addr show dev tun0)"
	fi
	tp_ok "$name: $(grep -F -m1 -- "$want" "$log" | sed 's/.*\(refusing the answer of\|cannot connect to\) [^ ]* //')"
done

tp_check "the server's control bytes are escaped in the client's log"
if LC_ALL=C grep -q "[$(printf '\033\233\342')]" "$log"; then
	tp_fail "a raw control or non-ASCII byte from the server reached the log"
fi
tp_ok "no raw ESC, C1 or UTF-8 byte in the log"

tp_check "a 503 with Retry-After: 3 is honoured"
tp_wait_log "$log" 'asks us to retry after 3 s' 10 || tp_fail "Retry-After was not noticed"
tp_wait_log "$TP_TMP/evil.log" "answer $n sent" 15 || tp_fail "the client did not come back after the 503"
t_busy=$(sed -n "s/.*answer $((n - 1)) sent at \([0-9]*\) ms.*/\1/p" "$TP_TMP/evil.log")
t_next=$(sed -n "s/.*answer $n sent at \([0-9]*\) ms.*/\1/p" "$TP_TMP/evil.log")
gap=$((t_next - t_busy))
[ "$gap" -ge 2900 ] || tp_fail "the client came back after $gap ms, before Retry-After (3000 ms)"
tp_ok "next attempt $gap ms after the 503 (reconnect_min is 100 ms)"

tp_check "a valid 101 pushing 0.0.0.0/1 and 128.0.0.0/1 with accept_routes = false"
addr=$(tp_wait_addr "$C" tun0 10) || tp_fail "the valid answer was not applied"
[ "$addr" = 10.9.0.2 ] || tp_fail "tun0 got $addr, want 10.9.0.2"
tp_wait_log "$log" 'pushed route\(s\) ignored' 5 || tp_fail "no 'pushed route(s) ignored' line"
sleep 0.5
routes >"$TP_TMP/routes.after"
tp_say "routes after: $(tr '\n' ';' <"$TP_TMP/routes.after")"
# Exactly the device's own on-link networks are new.
diff <(sort "$TP_TMP/routes.before") <(sort "$TP_TMP/routes.after") | sed -n 's/^> //p' \
	>"$TP_TMP/routes.new"
grep -q '^10\.9\.0\.0/24 dev tun0 ' "$TP_TMP/routes.new" || tp_fail "no on-link 10.9.0.0/24 route"
if grep -v -e '^10\.9\.0\.0/24 dev tun0 ' -e '^fd00:9::/64 dev tun0 ' "$TP_TMP/routes.new" | grep -q .; then
	tp_fail "routes beyond the on-link networks: $(cat "$TP_TMP/routes.new")"
fi
if diff <(sort "$TP_TMP/routes.before") <(sort "$TP_TMP/routes.after") | grep -q '^<'; then
	tp_fail "a route of the host disappeared"
fi
tp_ok "new routes: $(tr '\n' ';' <"$TP_TMP/routes.new")"
tp_stop client || tp_fail "the client exited with status $?"
tp_stop evil || true
tp_ok "client stopped; $(grep -c 'refusing the answer' "$log") answers refused"
