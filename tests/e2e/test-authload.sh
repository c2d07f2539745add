#!/bin/bash
# SPDX-License-Identifier: MIT
# Password checks do not stall the server's other tunnels:
#  - with a bcrypt (cost 10, ~100 ms per check) users file, 30 parallel curl
#    logins with a wrong password arrive while alice's established session
#    pings through the tunnel: no ping is lost and none waits long (with
#    crypt on the event loop the 30 checks would freeze it for ~3 s);
#  - every curl gets a real answer (401, or 429/503 from the limits), none
#    times out;
#  - that address is throttled afterwards: 429 with Retry-After, no crypt;
#    alice, from another address, is not affected.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-authload aul
tp_need curl ss htpasswd
tp_topology 2
tp_confdir
S=$(tp_server_ns)
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
users="$TP_CONF/demo/users.htpasswd"

tp_check "a bcrypt users file is accepted"
htpasswd -nbB -C 10 alice "$(head -n 1 "$TP_CONF/demo/alice.pass")" | grep . >"$users.new"
mv "$users.new" "$users"
tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice cannot ping before the load"
tp_ok "alice is up with $TP_ADDR (bcrypt cost 10)"

tp_check "30 parallel wrong-password logins while alice pings"
tp_in "$C1" ping -n -c 40 -i 0.1 -W 2 10.0.0.1 >"$TP_TMP/load-ping.out" 2>&1 &
ping_pid=$!
sleep 0.3
curl_pids=()
for i in $(seq 1 30); do
	tp_in "$C2" curl -sS --max-time 20 --cacert "$TP_CONF/demo/ca.crt" \
		--resolve vpn.test:8443:10.200.0.1 -u "alice:wrong-$i" \
		-H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN' \
		-o /dev/null -w '%{http_code}\n' "https://vpn.test:8443/vpn" \
		>"$TP_TMP/curl-$i.code" 2>"$TP_TMP/curl-$i.err" &
	curl_pids+=($!)
done
for p in "${curl_pids[@]}"; do
	wait "$p" || true
done
wait "$ping_pid" || { cat "$TP_TMP/load-ping.out"; tp_fail "alice lost pings during the login flood"; }
codes=$(cat "$TP_TMP"/curl-*.code | sort | uniq -c | tr -s ' \n' ' ')
bad=$(cat "$TP_TMP"/curl-*.code | grep -cvE '^(401|429|503)$' || true)
[ "$bad" -eq 0 ] || { cat "$TP_TMP"/curl-*.err; tp_fail "answers other than 401/429/503: $codes"; }
grep -qx 401 "$TP_TMP"/curl-*.code || tp_fail "no 401 at all: $codes"
rtt_max=$(sed -n 's#.*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*#\1#p' "$TP_TMP/load-ping.out")
[ -n "$rtt_max" ] || { cat "$TP_TMP/load-ping.out"; tp_fail "no ping statistics"; }
# Loopback veths answer in well under 1 ms; a stalled loop would show seconds.
awk -v m="$rtt_max" -v lim="$(tp_ms 250)" 'BEGIN { exit !(m < lim) }' ||
	{ cat "$TP_TMP/load-ping.out"; tp_fail "a ping took $rtt_max ms during the flood"; }
tp_ok "answers:$codes; 40/40 pings, max rtt $rtt_max ms"

tp_check "the flooding address is throttled (429 with Retry-After)"
code=$(tp_in "$C2" curl -sS --max-time 5 --cacert "$TP_CONF/demo/ca.crt" \
	--resolve vpn.test:8443:10.200.0.1 -u "alice:$(head -n 1 "$TP_CONF/demo/alice.pass")" \
	-H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN' -D "$TP_TMP/headers" \
	-o /dev/null -w '%{http_code}' "https://vpn.test:8443/vpn" 2>"$TP_TMP/curl.err" || true)
[ "$code" = 429 ] || { cat "$TP_TMP/curl.err"; tp_fail "expected 429, got '$code'"; }
grep -qi '^Retry-After: [1-9]' "$TP_TMP/headers" || { cat "$TP_TMP/headers"; tp_fail "429 without Retry-After"; }
tp_ping "$C1" 10.0.0.1 3 || tp_fail "alice cannot ping after the flood"
tp_ok "429, $(grep -i -m1 '^Retry-After' "$TP_TMP/headers" | tr -d '\r'); alice still passes traffic"

tp_check "the server counts it and stops cleanly"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
log=$(tp_logfile server)
thr=$(tp_counter "$log" tls-http auth_throttled)
fails=$(tp_counter "$log" tls-http auth_failures)
[ "${thr:-0}" -ge 1 ] || tp_fail "auth_throttled is '${thr:-}'"
[ "${fails:-0}" -ge 1 ] || tp_fail "auth_failures is '${fails:-}'"
tp_ok "auth_failures=$fails auth_throttled=$thr auth_busy=$(tp_counter "$log" tls-http auth_busy)"
