#!/bin/bash
# SPDX-License-Identifier: MIT
# tunpipe behind real HAProxy (Debian's 2.6) in TCP mode with the PROXY
# protocol (issue 8): HAProxy in its own namespace (10.200.0.11) forwards
# :443 with send-proxy-v2 and :444 with send-proxy (v1) to the server,
# whose trusted_proxies is HAProxy's address alone.
#  - alice (10.200.0.12, through :443, v2) and bob (10.200.0.13, through
#    :444, v1) get working tunnels; the server's log and `tunpipe status`
#    show their own addresses, never HAProxy's;
#  - an attacker (10.200.0.14) guessing bob's password through the same
#    proxy is throttled (429) as 10.200.0.14, while carol logging in
#    through that proxy meanwhile gets 101;
#  - a direct connection from an address not in trusted_proxies is served
#    as it is (TLS without a PROXY header), but one that sends a PROXY
#    header is refused and logged at warn with the reason; so is a trusted
#    proxy that sends none, or not within handshake_timeout;
#  - idle connections from one untrusted address are held up to
#    max_handshakes_per_address while a login through HAProxy succeeds;
#  - proxy_protocol without trusted_proxies, or a bad prefix, fails -t.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-haproxy hap
tp_need haproxy python3 ss
tp_topology 4
tp_confdir
S=$(tp_server_ns)
H=$(tp_client_ns 1)      # 10.200.0.11: HAProxy
A=$(tp_client_ns 2)      # 10.200.0.12: alice
B=$(tp_client_ns 3)      # 10.200.0.13: bob, later carol
X=$(tp_client_ns 4)      # 10.200.0.14: the attacker
CA="$TP_CONF/demo/ca.crt"
hp() { tp_hostile "$@"; }
pw() { head -n 1 "$TP_CONF/demo/$1.pass"; }
srvlog=$(tp_logfile server)
tp_say "$(haproxy -v 2>&1 | head -n 1)"

tp_check "the server with proxy_protocol = \"any\", trusted_proxies = HAProxy"
SC="$TP_CONF/server-haproxy.conf"
{
	printf 'control = "server.sock";\n'
	sed -e '/^ *users *= /a\        proxy_protocol = "any"; handshake_timeout = 3000;\n        trusted_proxies = [ "10.200.0.11/32", "fd00:99::/64" ];' \
		"$TP_CONF/server.conf"
} >"$SC"
grep -q 'proxy_protocol = "any"' "$SC" || tp_fail "could not edit $SC"
# Without trusted_proxies the option is refused, saying why.
sed -e '/trusted_proxies/d' "$SC" >"$TP_CONF/bad.conf"
tp_expect_refused "$TP_TMP/bad.out" "$TP_CONF/bad.conf" "proxy_protocol without trusted_proxies" \
	'needs trusted_proxies'
sed -e 's#"10.200.0.11/32"#"10.200.0.300/32"#' "$SC" >"$TP_CONF/bad2.conf"
tp_expect_refused "$TP_TMP/bad2.out" "$TP_CONF/bad2.conf" "trusted_proxies 10.200.0.300/32" \
	"trusted_proxies: '10.200.0.300/32' is not an address"
"$TUNPIPE" -t -c "$SC" >"$TP_TMP/t.out" 2>&1 || { cat "$TP_TMP/t.out"; tp_fail "tunpipe -t refused $SC"; }
tp_server_start server "$SC"
tp_ok "without trusted_proxies: $(grep -m 1 'needs trusted_proxies' "$TP_TMP/bad.out")"

tp_check "HAProxy in TCP mode: :443 send-proxy-v2, :444 send-proxy"
cat >"$TP_TMP/haproxy.cfg" <<CFG
global
    maxconn 200

defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s

frontend vpn_v2
    bind 10.200.0.11:443
    default_backend tunpipe_v2

backend tunpipe_v2
    server vpn 10.200.0.1:8443 send-proxy-v2

frontend vpn_v1
    bind 10.200.0.11:444
    default_backend tunpipe_v1

backend tunpipe_v1
    server vpn 10.200.0.1:8443 send-proxy

# misconfigured on purpose: no PROXY header from a trusted proxy
frontend vpn_none
    bind 10.200.0.11:445
    default_backend tunpipe_none

backend tunpipe_none
    server vpn 10.200.0.1:8443
CFG
haproxy -c -f "$TP_TMP/haproxy.cfg" >"$TP_TMP/haproxy-check.out" 2>&1 ||
	{ cat "$TP_TMP/haproxy-check.out"; tp_fail "haproxy -c refused the config"; }
ip netns exec "$H" haproxy -db -f "$TP_TMP/haproxy.cfg" >"$TP_TMP/haproxy.log" 2>&1 &
echo $! >"$TP_TMP/haproxy.pid"
{ tp_wait_listen "$H" 443 10 && tp_wait_listen "$H" 444 10; } || tp_fail "haproxy is not listening"
tp_ok "haproxy listening on 10.200.0.11:443, :444 and :445"

tp_check "alice through v2 and bob through v1: tunnels work"
ca=$(sed -e 's#https://10.200.0.1:8443/vpn#https://10.200.0.11:443/vpn#' "$TP_CONF/client.conf")
printf '%s\n' "$ca" >"$TP_CONF/client-alice.conf"
grep -q '10.200.0.11:443' "$TP_CONF/client-alice.conf" || tp_fail "could not point alice at HAProxy"
bconf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
sed -i -e 's#https://10.200.0.1:8443/vpn#https://10.200.0.11:444/vpn#' "$bconf"
grep -q '10.200.0.11:444' "$bconf" || tp_fail "could not point bob at HAProxy"
tp_client_up alice "$A" "$TP_CONF/client-alice.conf"
aaddr=$TP_ADDR
tp_client_up bob "$B" "$bconf"
baddr=$TP_ADDR
tp_ping "$A" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "alice cannot ping through the tunnel"; }
tp_ping "$B" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "bob cannot ping through the tunnel"; }
tp_ok "alice $aaddr, bob $baddr: 3/3 pings each"

tp_check "the server sees 10.200.0.12 and 10.200.0.13, not HAProxy's 10.200.0.11"
"$TUNPIPE" status -c "$SC" --json >"$TP_TMP/status.json" 2>"$TP_TMP/status.err" ||
	{ cat "$TP_TMP/status.err"; tp_fail "tunpipe status --json failed"; }
peer() {
	python3 - "$TP_TMP/status.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for p in d["pipelines"] for s in p["sessions"] if s["user"] == sys.argv[2]]
print(s[0]["peer"] if len(s) == 1 else "sessions=%d" % len(s))
PY
}
pa=$(peer alice)
pb=$(peer bob)
case $pa in 10.200.0.12:*) ;; *) tp_fail "status: alice's peer is $pa, expected 10.200.0.12:PORT" ;; esac
case $pb in 10.200.0.13:*) ;; *) tp_fail "status: bob's peer is $pb, expected 10.200.0.13:PORT" ;; esac
grep -q 'alice.*10\.200\.0\.12\|10\.200\.0\.12.*alice' "$srvlog" || tp_fail "no log line with alice and 10.200.0.12"
grep -q 'bob.*10\.200\.0\.13\|10\.200\.0\.13.*bob' "$srvlog" || tp_fail "no log line with bob and 10.200.0.13"
if grep -q '10\.200\.0\.11' "$srvlog"; then
	grep '10\.200\.0\.11' "$srvlog"
	tp_fail "the server log names HAProxy's address"
fi
tp_ok "status: alice from $pa, bob from $pb; the log never names 10.200.0.11"

tp_check "five wrong logins from 10.200.0.14 through HAProxy: 429 for it, not for carol"
tp_proxy_burst "$X" "$B" 443 "$srvlog" proxy
car1=$(hp "$B" login 10.200.0.11 444 "$CA" carol "$(pw carol)" 1 | awk '{ print $1 }')
[ "$car1" = 101 ] || tp_fail "carol through the v1 frontend got '$car1', expected 101"
if grep -q '10\.200\.0\.11 throttled' "$srvlog"; then tp_fail "HAProxy's address was throttled"; fi
tp_ok "attacker: $(tr '\n' ' ' <"$TP_TMP/burst.out")then $TP_ATT; carol: $TP_CAROL (v2), $car1 (v1)"

tp_check "a direct client from an untrusted address is served without a PROXY header"
dir=$(hp "$A" login 10.200.0.1 8443 "$CA" carol "$(pw carol)" 1 | awk '{ print $1 }')
[ "$dir" = 101 ] || tp_fail "carol directly from 10.200.0.12 got '$dir', expected 101"
tp_ok "direct from 10.200.0.12: $dir"

tp_check "a PROXY header from an untrusted address is refused and logged at warn"
# The attacker claims to be 10.200.0.99 (v1, then v2) and then starts TLS:
# the server must close without answering.
spoof() {
	tp_in "$X" python3 - "$1" <<'PY'
import socket, sys
hdr = {"v1": b"PROXY TCP4 10.200.0.99 10.200.0.1 4000 8443\r\n",
       "v2": b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([10, 200, 0, 99, 10, 200, 0, 1])
             + (4000).to_bytes(2, "big") + (8443).to_bytes(2, "big")}[sys.argv[1]]
s = socket.create_connection(("10.200.0.1", 8443), timeout=5)
s.sendall(hdr + b"\x16\x03\x01\x00\x05hello")
try:
    d = s.recv(100)
    print("closed" if d == b"" else "answered %r" % d[:20])
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("timeout")
PY
}
r1=$(spoof v1)
[ "$r1" = closed ] || tp_fail "an untrusted v1 header: $r1, expected the connection closed"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.14:[0-9]+: PROXY header from an address not in trusted_proxies' 5 ||
	{ grep 'refused' "$srvlog" | tail -n 3; tp_fail "no warning for the untrusted PROXY header"; }
r2=$(spoof v2)
[ "$r2" = closed ] || tp_fail "an untrusted v2 header: $r2, expected the connection closed"
if grep -q '10\.200\.0\.99' "$srvlog"; then tp_fail "the spoofed address 10.200.0.99 reached the log"; fi
tp_ok "v1: $r1, v2: $r2; $(grep -m 1 'PROXY header from an address not in' "$srvlog" | sed 's/^.*\] //')"

tp_check "a trusted proxy that sends no PROXY header is refused and logged at warn"
nohdr=$(hp "$A" login 10.200.0.11 445 "$CA" carol "$(pw carol)" 1 | awk '{ print $1 }')
[ "$nohdr" = 0 ] || tp_fail "a login through the frontend without send-proxy got '$nohdr', expected no answer"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.11:[0-9]+: a trusted proxy sent no valid PROXY header: no PROXY header' 5 ||
	{ grep 'refused' "$srvlog" | tail -n 3; tp_fail "no warning for the missing PROXY header"; }
tp_ok "$(grep -m 1 'trusted proxy sent no valid' "$srvlog" | sed 's/^.*\] //')"

tp_check "a trusted proxy whose header does not come within handshake_timeout is closed"
late=$(tp_in "$A" python3 - <<'PY'
import socket, time
s = socket.create_connection(("10.200.0.11", 445), timeout=10)
t0 = time.monotonic()
try:
    d = s.recv(100)
    print("closed" if d == b"" else "answered", int((time.monotonic() - t0) * 1000))
except ConnectionResetError:
    print("closed", int((time.monotonic() - t0) * 1000))
except socket.timeout:
    print("timeout", 10000)
PY
)
case $late in closed\ *) ;; *) tp_fail "a silent connection through HAProxy: $late, expected closed" ;; esac
ms=${late#closed }
{ [ "$ms" -ge 2500 ] && [ "$ms" -lt 6000 ]; } || tp_fail "closed after $ms ms (handshake_timeout 3000)"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.11:[0-9]+: no complete PROXY header within handshake_timeout' 3 ||
	tp_fail "no warning for the late PROXY header"
tp_ok "closed after $ms ms; $(grep -m 1 'no complete PROXY header' "$srvlog" | sed 's/^.*\] //')"

tp_check "60 idle connections from one untrusted address: 32 wait, the rest are refused"
hp "$X" idle 10.200.0.1 8443 60 6 >"$TP_TMP/idle.out" 2>&1 &
idle_pid=$!
sleep 2
# Only sockets the server has accepted count (ss -p names their owner):
# the flood keeps reconnecting, and a connection the kernel has completed
# but tunpipe not yet accepted (and refused) is ESTABLISHED without one.
held=$(tp_in "$S" ss -Htnp state established "( sport = :8443 and dst 10.200.0.14 )" |
	grep -c "pid=$(tp_pid server)," || true)
car2=$(hp "$B" login 10.200.0.11 443 "$CA" carol "$(pw carol)" 1 | awk '{ print $1 }')
wait "$idle_pid" || { cat "$TP_TMP/idle.out"; tp_fail "the idle flood failed"; }
[ "$car2" = 101 ] || tp_fail "carol through HAProxy during the idle flood got '$car2', expected 101"
[ "$held" -le 32 ] || tp_fail "the server held $held idle connections from 10.200.0.14 (max_handshakes_per_address 32)"
grep -q 'refused 10\.200\.0\.14:[0-9]*: 10\.200\.0\.14 already has 32 connections not logged in' "$srvlog" ||
	tp_fail "no per-address refusal logged for 10.200.0.14"
tp_ok "attacker: $(cat "$TP_TMP/idle.out"), $held held by the server; carol: $car2"

tp_check "stopping everything"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop bob || tp_fail "bob exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clients and server stopped cleanly"
