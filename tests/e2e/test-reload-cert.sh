#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGHUP re-reads the server's certificate and key without disturbing
# sessions:
#  - a renewed certificate (new key, same CA) replaces the old one: a fresh
#    `openssl s_client` sees the new fingerprint, a new client verifies it
#    and connects, and alice's session from before the reload keeps passing
#    traffic on the same connection (no reconnect);
#  - a broken pair (key that does not match, certificate that is not PEM,
#    certificate missing) is refused: the log says why, and handshakes keep
#    using the certificate in force;
#  - an option that only a restart applies (tls-http's listen) changed in
#    the file is logged as such, by name, and not applied.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-reload-cert rlc
tp_topology 2
tp_confdir
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
demo="$TP_CONF/demo"
log=$(tp_logfile server)

# The SHA-256 fingerprint a fresh TLS client is shown by the server.
served_fp() {
	ip netns exec "$C2" timeout 10 openssl s_client -connect 10.200.0.1:8443 \
		-servername vpn.test </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'
}
file_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
# A new key and certificate for vpn.test from the demo CA, into $1.crt/.key.
renew() {
	(umask 077
	 openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
	 openssl req -new -key "$1.key" -subj "/CN=vpn.test" -out "$1.csr"
	 printf '%s\n' 'basicConstraints = critical,CA:FALSE' \
		'keyUsage = critical,digitalSignature,keyEncipherment' \
		'extendedKeyUsage = serverAuth' 'subjectAltName = DNS:vpn.test,IP:10.200.0.1' >"$1.ext"
	 openssl x509 -req -in "$1.csr" -CA "$demo/ca.crt" -CAkey "$demo/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 -extfile "$1.ext" \
		-out "$1.crt" 2>/dev/null) || tp_fail "cannot make a renewed certificate"
	chmod 644 "$1.crt"
}
# SIGHUP, then wait for the N-th line matching ERE.
hup_and_wait() {
	local re=$1 n=$2 i
	kill -HUP "$(tp_pid server)"
	for i in $(seq 1 50); do
		[ "$(grep -Eci -- "$re" "$log" || true)" -ge "$n" ] && return 0
		sleep 0.1
	done
	tp_fail "no new line matching '$re' after SIGHUP: $(tail -n 3 "$log")"
}

tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice cannot ping before the reload"
old=$(file_fp "$demo/server.crt")
[ "$(served_fp)" = "$old" ] || tp_fail "s_client does not see the configured certificate before the reload"

tp_check "SIGHUP with a renewed certificate: new handshakes get it, alice's session runs on"
renew "$TP_TMP/new"
cp "$TP_TMP/new.key" "$demo/server.key"
cp "$TP_TMP/new.crt" "$demo/server.crt"
new=$(file_fp "$demo/server.crt")
[ "$new" != "$old" ] || tp_fail "the renewed certificate has the old fingerprint"
hup_and_wait 'reloaded certificate' 1
grep -qi "reloaded certificate .*$new" "$log" || tp_fail "the reload line lacks the new fingerprint: $(grep -i reloaded "$log")"
got=$(served_fp)
[ "$got" = "$new" ] || tp_fail "s_client sees $got, not the renewed $new"
tp_ping "$C1" 10.0.0.1 3 || tp_fail "alice's session broke on the reload"
[ "$(grep -c 'session .* up' "$(tp_logfile alice)")" -eq 1 ] ||
	tp_fail "alice reconnected: $(grep 'session' "$(tp_logfile alice)")"
bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
tp_client_up bob "$C2" "$bob_conf"
tp_ping "$C2" 10.0.0.1 2 || tp_fail "bob (verifying the renewed certificate) cannot ping"
tp_stop bob || tp_fail "bob exited with status $?"
tp_ok "s_client sees $new; alice pings on her first connection; bob verified and connected"

tp_check "a key that does not match the certificate is refused, the renewed pair stays"
openssl ecparam -name prime256v1 -genkey -noout -out "$demo/server.key" 2>/dev/null
hup_and_wait 'does not match.*keeping the previous certificate' 1
[ "$(served_fp)" = "$new" ] || tp_fail "the server no longer serves the renewed certificate"
tp_ok "$(grep -Ei -m1 'does not match' "$log" | sed 's/^[^[]*//')"

tp_check "a certificate that is not PEM is refused, the renewed pair stays"
cp "$TP_TMP/new.key" "$demo/server.key"
printf 'not a certificate\n' >"$demo/server.crt"
hup_and_wait 'cert .*server.crt: .*keeping the previous certificate' 1
[ "$(served_fp)" = "$new" ] || tp_fail "the server no longer serves the renewed certificate"
tp_ok "$(grep -Ei -m1 'server.crt: .*keeping' "$log" | sed 's/^[^[]*//')"

tp_check "a missing certificate is refused, the renewed pair stays"
rm -f "$demo/server.crt"
hup_and_wait 'server.crt: No such file.*keeping the previous certificate' 1
[ "$(served_fp)" = "$new" ] || tp_fail "the server no longer serves the renewed certificate"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice's session broke on a refused reload"
tp_ok "$(grep -Ei -m1 'No such file.*keeping' "$log" | sed 's/^[^[]*//')"

tp_check "a changed option that needs a restart is named in the log and not applied"
cp "$TP_TMP/new.crt" "$demo/server.crt"
sed -i 's/listen = "0.0.0.0:8443";/listen = "0.0.0.0:8444";/' "$TP_CONF/server.conf"
grep -q '0.0.0.0:8444' "$TP_CONF/server.conf" || tp_fail "could not change listen in server.conf"
hup_and_wait "pipeline 'vpn' stage 3 'tls-http': option 'listen' changed; restart to apply" 1
grep -q "1 option changed that needs a restart" "$log" || tp_fail "the summary line is missing"
grep -Ei "option '[a-z_]*' changed" "$log" | grep -vq "'listen'" &&
	tp_fail "options other than listen reported: $(grep -Ei "option '[a-z_]*' changed" "$log")"
[ "$(served_fp)" = "$new" ] || tp_fail "the server stopped serving on 8443"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice's session broke"
tp_ok "$(grep -E -m1 "option 'listen' changed" "$log" | sed 's/^[^[]*//'); still on 8443"

tp_alive "$(tp_pid server)" || tp_fail "the server died"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
