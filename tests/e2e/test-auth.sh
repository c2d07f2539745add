#!/bin/bash
# SPDX-License-Identifier: MIT
# Authentication and HTTP errors of the tls-http server:
#  - a client with a wrong password logs an authentication failure and does
#    not hammer the server (counted as accepted TCP connections);
#  - curl gets 401 (+ WWW-Authenticate) for a wrong password, 426 without the
#    Upgrade headers, 404 for another path, 405 for another method.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-auth aut
tp_need curl ss
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)

tp_server_start server "$TP_CONF/server.conf"

# http PATH USER:PASS [curl args] — prints the status of one request from the client
# namespace; the certificate is verified against the demo CA for vpn.test.
http() {
	local path=$1 cred=$2
	shift 2
	tp_in "$C" curl -sS --max-time 5 --cacert "$TP_CONF/demo/ca.crt" \
		--resolve vpn.test:8443:10.200.0.1 -u "$cred" \
		-D "$TP_TMP/headers" -o "$TP_TMP/body" -w '%{http_code}' \
		"$@" "https://vpn.test:8443$path" 2>"$TP_TMP/curl.err" || true
}
upgrade=(-H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN')
good="alice:$(head -n 1 "$TP_CONF/demo/alice.pass")"

tp_check "curl with a wrong password gets 401 and a Basic challenge"
code=$(http /vpn alice:wrong "${upgrade[@]}")
[ "$code" = 401 ] || { cat "$TP_TMP/curl.err"; tp_fail "expected 401, got '$code'"; }
grep -qi '^WWW-Authenticate: *Basic realm=' "$TP_TMP/headers" ||
	{ cat "$TP_TMP/headers"; tp_fail "401 without WWW-Authenticate: Basic realm=…"; }
tp_ok "401, $(grep -i -m1 '^WWW-Authenticate' "$TP_TMP/headers" | tr -d '\r')"

tp_check "curl with an unknown user gets 401"
code=$(http /vpn mallory:demo-password-alice "${upgrade[@]}")
[ "$code" = 401 ] || tp_fail "expected 401 for an unknown user, got '$code'"
tp_ok "401"

tp_check "curl with good credentials but no Upgrade headers gets 426"
code=$(http /vpn "$good")
[ "$code" = 426 ] || { cat "$TP_TMP/curl.err"; tp_fail "expected 426, got '$code'"; }
grep -qi '^Upgrade: *Simple-VPN' "$TP_TMP/headers" ||
	{ cat "$TP_TMP/headers"; tp_fail "426 without 'Upgrade: Simple-VPN'"; }
tp_ok "426 with Upgrade: Simple-VPN"

tp_check "curl GET on another path gets 404"
code=$(http /not-vpn "$good" "${upgrade[@]}")
[ "$code" = 404 ] || tp_fail "expected 404, got '$code'"
tp_ok "404"

tp_check "curl POST on the VPN path gets 405"
code=$(http /vpn "$good" -X POST "${upgrade[@]}")
[ "$code" = 405 ] || tp_fail "expected 405, got '$code'"
tp_ok "405"

tp_check "a client with a wrong password is refused and says why"
printf 'not-the-password\n' >"$TP_CONF/demo/wrong.pass"
chmod 600 "$TP_CONF/demo/wrong.pass"
sed 's#demo/client.pass#demo/wrong.pass#' "$TP_CONF/client.conf" >"$TP_CONF/client-wrong.conf"
opens0=$(tp_passive_opens "$S")
tp_start client "$C" "$TP_CONF/client-wrong.conf"
tp_wait_log "$(tp_logfile client)" '\b401\b|authenticat|credential|password' 10 ||
	tp_fail "the client logged no authentication failure within 10 s"
tp_ok "client log: $(grep -Ei -m1 '\b401\b|authenticat|credential|password' "$(tp_logfile client)")"

tp_check "the refused client does not retry in a tight loop (5 s window)"
opens1=$(tp_passive_opens "$S")
sleep 5
opens2=$(tp_passive_opens "$S")
tries=$((opens2 - opens1))
# A backoff starting at 1 s and doubling allows 3 in 5 s; a loop makes hundreds.
[ "$tries" -le 3 ] || tp_fail "$tries connections in 5 s after a 401: no backoff"
tp_ok "$((opens1 - opens0)) connection(s) before the failure was logged, $tries in the next 5 s"
if ip -n "$C" -4 -o addr show dev tun0 2>/dev/null | grep -q inet; then
	tp_fail "the refused client has a tunnel address"
fi
tp_ok "no tunnel address was configured"
if tp_alive "$(tp_pid client)"; then
	tp_stop client || true
fi

tp_check "the server survived all of it and stops cleanly"
tp_alive "$(tp_pid server)" || tp_fail "the server died"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"

tp_check "no password, right or wrong, appears in any log"
for secret in not-the-password demo-password-alice "$(printf '%s' 'alice:not-the-password' | base64)"; do
	if grep -rlF -- "$secret" "$TP_TMP"/*.log; then
		tp_fail "a log contains the secret '$secret'"
	fi
done
tp_ok "logs are free of passwords and Basic credentials"
