#!/bin/bash
# SPDX-License-Identifier: MIT
# tunpipe behind real nginx (Debian's 1.22, issue 8), nginx run by the test
# with its own config and prefix in $TP_TMP (never the system service),
# in its own namespace (10.200.0.11); the website is python3's http.server
# on 127.0.0.1:8000 in the server's namespace, reached only through
# tunpipe's `fallback`.
#  (a) nginx `stream` with `proxy_protocol on` to a TLS listener with
#      proxy_protocol = "v1": alice's tunnel works, the server sees
#      10.200.0.12; https://…/ (not the VPN) through that listener returns
#      the website, directly and through nginx;
#  (b) nginx `http` terminating TLS (a certificate of its own from the test
#      CA) proxies /vpn to a plain listener (tls = false) with
#      X-Forwarded-For on :8444 (the default client_address_header), and
#      / to the same listener, whose fallback serves the website, and with
#      Forwarded on :8445 to a second server whose listener has
#      client_address_header = "forwarded": alice (XFF) and bob
#      (Forwarded) get tunnels and ping, the servers see 10.200.0.12 and
#      10.200.0.13:PORT, never nginx's address for them;
#  (c) an attacker's 8 wrong logins through nginx get 401s then 429,
#      while carol through the same nginx gets 101; wrong logins each with
#      its own `Forwarded: for=198.51.100.N`, which nginx passes through on
#      :8444, are still counted under the client's real address (429 after
#      the limiter's allowance, 'throttled' for it, 198.51.100.N nowhere);
#  - a direct connection to the plain listener from an address not in
#    trusted_proxies is refused and logged at warn; a proxy that passes a
#    malformed or no X-Forwarded-For gets 400; -t refuses tls = false
#    without trusted_proxies; with the website down the fallback says 502.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-nginx ngx
tp_need nginx python3 curl ss openssl
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	tp_skip "nginx's stream module is not installed (apt-get install libnginx-mod-stream)"
tp_topology 4
tp_confdir
S=$(tp_server_ns)
N=$(tp_client_ns 1)      # 10.200.0.11: nginx
A=$(tp_client_ns 2)      # 10.200.0.12: alice
B=$(tp_client_ns 3)      # 10.200.0.13: bob, later carol
X=$(tp_client_ns 4)      # 10.200.0.14: the attacker
D="$TP_CONF/demo"
CA="$D/ca.crt"
hp() { tp_hostile "$@"; }
pw() { head -n 1 "$D/$1.pass"; }
tp_say "$(nginx -v 2>&1)"

# The website: one page with a marker no tunpipe answer contains.
mkdir -p "$TP_TMP/www"
printf '<html><body>tunpipe-nginx-test website %s</body></html>\n' "$$" >"$TP_TMP/www/index.html"
# and 4 MiB to push through the fallback's bounded buffers (16 KiB each way)
head -c 4194304 /dev/urandom >"$TP_TMP/www/big.bin"
big_sum=$(sha256sum <"$TP_TMP/www/big.bin" | cut -d' ' -f1)
tp_in "$S" ip link set lo up
ip netns exec "$S" python3 -m http.server 8000 --bind 127.0.0.1 --directory "$TP_TMP/www" \
	>"$TP_TMP/www.log" 2>&1 &
echo $! >"$TP_TMP/www.pid"
tp_wait_listen "$S" 8000 10 || tp_fail "the website (python3 http.server) is not listening"

# nginx's own certificate, signed by the test CA, for vpn.test.
openssl ecparam -name prime256v1 -genkey -noout -out "$D/nginx.key" 2>/dev/null
openssl req -new -key "$D/nginx.key" -subj "/CN=vpn.test" -out "$D/nginx.csr" 2>/dev/null
printf 'subjectAltName = DNS:vpn.test,IP:10.200.0.11\nextendedKeyUsage = serverAuth\n' >"$D/nginx.ext"
openssl x509 -req -in "$D/nginx.csr" -CA "$CA" -CAkey "$D/ca.key" -set_serial 0x4e47 -days 2 \
	-sha256 -extfile "$D/nginx.ext" -out "$D/nginx.crt" 2>/dev/null || tp_fail "cannot sign nginx's certificate"

# nginx CONF_NAME — run nginx in the nginx namespace with $TP_TMP/CONF_NAME.
NGX="$TP_TMP/nginx"
mkdir -p "$NGX/logs" "$NGX/tmp"
nginx_start() {
	ip netns exec "$N" nginx -t -p "$NGX" -c "$TP_TMP/$1" >"$TP_TMP/nginx-t.out" 2>&1 ||
		{ cat "$TP_TMP/nginx-t.out"; tp_fail "nginx -t refused $1"; }
	ip netns exec "$N" nginx -p "$NGX" -c "$TP_TMP/$1" >>"$TP_TMP/nginx.out" 2>&1 &
	echo $! >"$TP_TMP/nginx.pid"
}
nginx_stop() {
	local pid
	pid=$(cat "$TP_TMP/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do tp_alive "$pid" || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
ngx_common() {
	cat <<CFG
daemon off;
master_process on;
worker_processes 1;
user root root;
error_log $NGX/logs/error.log info;
pid $NGX/nginx.pid;
events { worker_connections 256; }
CFG
}

peer_of() {
	"$TUNPIPE" status -c "$1" --json >"$TP_TMP/status.json" 2>"$TP_TMP/status.err" ||
		{ cat "$TP_TMP/status.err"; tp_fail "tunpipe status --json failed"; }
	python3 - "$TP_TMP/status.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for p in d["pipelines"] for s in p["sessions"] if s["user"] == sys.argv[2]]
print(s[0]["peer"] if len(s) == 1 else "sessions=%d" % len(s))
PY
}

# ---------------------------------------------------------------- (a)
tp_check "(a) the TLS listener with proxy_protocol = \"v1\" and fallback"
SA="$TP_CONF/server-stream.conf"
{
	printf 'control = "server-a.sock";\n'
	sed -e '/^ *users *= /a\        proxy_protocol = "v1"; trusted_proxies = [ "10.200.0.11/32" ];\n        fallback = "127.0.0.1:8000";' \
		"$TP_CONF/server.conf"
} >"$SA"
grep -q 'fallback = ' "$SA" || tp_fail "could not edit $SA"
"$TUNPIPE" -t -c "$SA" >"$TP_TMP/t.out" 2>&1 || { cat "$TP_TMP/t.out"; tp_fail "tunpipe -t refused $SA"; }
tp_server_start server-a "$SA"
srvlog=$(tp_logfile server-a)
{
	echo 'load_module /usr/lib/nginx/modules/ngx_stream_module.so;' # first, or nginx refuses it
	ngx_common
	cat <<CFG
stream {
    server {
        listen 10.200.0.11:443;
        proxy_pass 10.200.0.1:8443;
        proxy_protocol on;
        proxy_timeout 1h;
    }
}
CFG
} >"$TP_TMP/nginx-stream.conf"
nginx_start nginx-stream.conf
tp_wait_listen "$N" 443 10 || { cat "$TP_TMP/nginx.out"; tp_fail "nginx (stream) is not listening"; }
sed -e 's#https://10.200.0.1:8443/vpn#https://10.200.0.11:443/vpn#' "$TP_CONF/client.conf" >"$TP_CONF/client-a.conf"
grep -q '10.200.0.11:443' "$TP_CONF/client-a.conf" || tp_fail "could not point alice at nginx"
tp_client_up alice "$A" "$TP_CONF/client-a.conf"
tp_ping "$A" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "alice cannot ping through nginx stream"; }
pa=$(peer_of "$SA" alice)
case $pa in 10.200.0.12:*) ;; *) tp_fail "status: alice's peer is $pa, expected 10.200.0.12:PORT" ;; esac
grep -q 'session up: user alice from 10\.200\.0\.12:' "$srvlog" || tp_fail "no 'session up' line with 10.200.0.12"
if grep -q '10\.200\.0\.11' "$srvlog"; then grep '10\.200\.0\.11' "$srvlog"; tp_fail "the log names nginx's address"; fi
tp_ok "alice $TP_ADDR through nginx stream: 3/3 pings; status and log: $pa"

tp_check "(a) a request that is not for the VPN gets the website through the fallback"
web() { # NS URL RESOLVE [CURL-ARGS] -> body
	local ns=$1 url=$2 res=$3
	shift 3
	tp_in "$ns" curl -sS --fail --max-time 10 --cacert "$CA" --resolve "$res" "$@" "$url"
}
w1=$(web "$A" https://vpn.test:8443/ vpn.test:8443:10.200.0.1) || tp_fail "curl to the TLS listener failed"
case $w1 in *"tunpipe-nginx-test website $$"*) ;; *) tp_fail "the TLS listener's / answered '$w1', not the website" ;; esac
w2=$(web "$B" https://vpn.test:443/index.html vpn.test:443:10.200.0.11) || tp_fail "curl through nginx stream failed"
case $w2 in *"tunpipe-nginx-test website $$"*) ;; *) tp_fail "/index.html through nginx answered '$w2'" ;; esac
# /vpn without Upgrade is not a VPN request either; with it, no credentials stay 401.
c404=$(tp_in "$A" curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" \
	--resolve vpn.test:8443:10.200.0.1 https://vpn.test:8443/vpn)
[ "$c404" = 404 ] || tp_fail "GET /vpn without Upgrade got $c404, expected the website's 404"
c401=$(tp_in "$A" curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" \
	-H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN' --resolve vpn.test:8443:10.200.0.1 https://vpn.test:8443/vpn)
[ "$c401" = 401 ] || tp_fail "an upgrade without credentials got $c401, expected 401 from tunpipe"
grep -q '"GET / HTTP/1.1" 200' "$TP_TMP/www.log" || tp_fail "the website's log shows no GET /"
s1=$(web "$A" https://vpn.test:8443/big.bin vpn.test:8443:10.200.0.1 | sha256sum | cut -d' ' -f1)
[ "$s1" = "$big_sum" ] || tp_fail "4 MiB through the TLS listener's fallback arrived changed or cut"
tp_ok "the website's page directly and through nginx, 4 MiB intact; /vpn without Upgrade: $c404 (website), with Upgrade and no credentials: $c401"
tp_stop alice || tp_fail "alice exited with status $?"
nginx_stop
tp_stop server-a || tp_fail "server-a exited with status $?"

# ---------------------------------------------------------------- (b)
tp_check "(b) tls = false: refused without trusted_proxies, needs no cert"
SB="$TP_CONF/server-plain.conf"
{
	printf 'control = "server-b.sock";\nlog_level = "debug";\n'
	sed -e '/^ *cert *= /d' -e '/^ *key *= /d' \
		-e 's#listen = "0.0.0.0:8443"#listen = "10.200.0.1:8080"#' \
		-e '/^ *users *= /a\        tls = false;\n        trusted_proxies = [ "10.200.0.11/32" ];\n        fallback = "127.0.0.1:8000";' \
		"$TP_CONF/server.conf"
} >"$SB"
grep -q 'tls = false' "$SB" || tp_fail "could not edit $SB"
if grep -q 'cert *=' "$SB"; then tp_fail "$SB still names a certificate"; fi
sed -e '/trusted_proxies/d' "$SB" >"$TP_CONF/bad.conf"
tp_expect_refused "$TP_TMP/bad.out" "$TP_CONF/bad.conf" "tls = false without trusted_proxies" \
	'tls = false needs trusted_proxies'
"$TUNPIPE" -t -c "$SB" >"$TP_TMP/t.out" 2>&1 || { cat "$TP_TMP/t.out"; tp_fail "tunpipe -t refused $SB"; }
tp_start server-b "$S" "$SB"
tp_wait_listen "$S" 8080 10 || { cat "$(tp_logfile server-b)"; tp_fail "server-b is not listening on 8080"; }
srvlog=$(tp_logfile server-b)
# The same listener reading Forwarded, in a second server (its own tun
# device and subnet) on :8081, for bob through nginx's :8445.
SF="$TP_CONF/server-fwd.conf"
sed -e 's#control = "server-b.sock"#control = "server-f.sock"#' -e 's#10.200.0.1:8080#10.200.0.1:8081#' \
	-e 's#device  = "tun0"#device  = "tun1"#' -e 's#address = "10.0.0.1/24"#address = "10.0.1.1/24"#' \
	-e '/^ *tls = false;/a\        client_address_header = "forwarded";' "$SB" >"$SF"
for w in client_address_header tun1 10.0.1.1/24 8081; do
	grep -q "$w" "$SF" || tp_fail "could not edit $SF ($w)"
done
tp_start server-f "$S" "$SF"
tp_wait_listen "$S" 8081 10 || { cat "$(tp_logfile server-f)"; tp_fail "server-f is not listening on 8081"; }
tp_ok "$(grep -m 1 'needs trusted_proxies' "$TP_TMP/bad.out")"

tp_check "(b) nginx terminating TLS: /vpn to the plain listeners (XFF on :8444, Forwarded on :8445)"
vpn_location() { # PORT HEADER-LINE
	cat <<CFG
        location /vpn {
            proxy_pass http://10.200.0.1:$1;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            $2
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
        location / {
            proxy_pass http://10.200.0.1:$1;
            $2
        }
CFG
}
{
	ngx_common
	cat <<CFG
http {
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    server {
        listen 10.200.0.11:8444 ssl;
        server_name vpn.test;
        ssl_certificate $D/nginx.crt;
        ssl_certificate_key $D/nginx.key;
$(vpn_location 8080 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;')
    }
    server {
        listen 10.200.0.11:8445 ssl;
        server_name vpn.test;
        ssl_certificate $D/nginx.crt;
        ssl_certificate_key $D/nginx.key;
$(vpn_location 8081 'proxy_set_header Forwarded "for=\"$remote_addr:$remote_port\"";')
    }
    server { # misconfigured on purpose: passes on whatever the client sent
        listen 10.200.0.11:8446 ssl;
        server_name vpn.test;
        ssl_certificate $D/nginx.crt;
        ssl_certificate_key $D/nginx.key;
        location / {
            proxy_pass http://10.200.0.1:8080;
            proxy_set_header X-Forwarded-For \$http_x_forwarded_for;
        }
    }
}
CFG
} >"$TP_TMP/nginx-http.conf"
nginx_start nginx-http.conf
{ tp_wait_listen "$N" 8444 10 && tp_wait_listen "$N" 8445 10; } ||
	{ cat "$TP_TMP/nginx.out"; tp_fail "nginx (http) is not listening"; }
sed -e 's#https://10.200.0.1:8443/vpn#https://10.200.0.11:8444/vpn#' "$TP_CONF/client.conf" >"$TP_CONF/client-b.conf"
bconf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
sed -i -e 's#https://10.200.0.1:8443/vpn#https://10.200.0.11:8445/vpn#' "$bconf"
tp_client_up alice "$A" "$TP_CONF/client-b.conf"
aaddr=$TP_ADDR
tp_client_up bob "$B" "$bconf"
baddr=$TP_ADDR
tp_ping "$A" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "alice cannot ping through nginx http"; }
tp_ping "$B" 10.0.1.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "bob cannot ping through nginx http"; }
tp_ping "$A" 10.0.0.1 50 -s 1300 -i 0.01 || { cat "$TP_TMP/ping.out"; tp_fail "alice: 50 pings of 1300 bytes did not all pass"; }
pa=$(peer_of "$SB" alice)
pb=$(peer_of "$SF" bob)
[ "$pa" = 10.200.0.12 ] || tp_fail "status: alice's peer is '$pa', expected 10.200.0.12 (X-Forwarded-For has no port)"
case $pb in 10.200.0.13:[0-9]*) ;; *) tp_fail "status: bob's peer is '$pb', expected 10.200.0.13:PORT (Forwarded)" ;; esac
grep -q 'session up: user alice from 10\.200\.0\.12,' "$srvlog" || tp_fail "no 'session up' line for alice from 10.200.0.12"
grep -q 'session up: user bob from 10\.200\.0\.13:' "$(tp_logfile server-f)" ||
	tp_fail "no 'session up' line for bob from 10.200.0.13"
if grep -E 'session up.*10\.200\.0\.11' "$srvlog" "$(tp_logfile server-f)"; then
	tp_fail "a session is logged as nginx's address"
fi
tp_ok "alice $aaddr (XFF) from $pa, bob $baddr (Forwarded) from $pb; pings pass, 50×1300 bytes too"

tp_check "(b) / through nginx and the plain listener's fallback is the website"
w3=$(web "$X" https://vpn.test:8444/ vpn.test:8444:10.200.0.11) || tp_fail "curl through nginx http failed"
case $w3 in *"tunpipe-nginx-test website $$"*) ;; *) tp_fail "/ through nginx answered '$w3', not the website" ;; esac
s2=$(web "$X" https://vpn.test:8444/big.bin vpn.test:8444:10.200.0.11 | sha256sum | cut -d' ' -f1)
[ "$s2" = "$big_sum" ] || tp_fail "4 MiB through nginx and the plain listener's fallback arrived changed or cut"
tp_ok "the website's page and 4 MiB intact through nginx → tunpipe (tls = false) → fallback"

tp_check "(c) 8 wrong logins from 10.200.0.14 through nginx: 429 for it, 101 for carol"
tp_proxy_burst "$X" "$B" 8444 "$srvlog" nginx
grep -q '^401 ' "$TP_TMP/burst.out" || { cat "$TP_TMP/burst.out"; tp_fail "the attacker got no 401"; }
if grep -q '10\.200\.0\.11 throttled' "$srvlog"; then tp_fail "nginx's address was throttled"; fi
tp_ok "attacker: $(tr '\n' ' ' <"$TP_TMP/burst.out")then $TP_ATT; carol: $TP_CAROL"

# nginx's :8444 sets X-Forwarded-For and passes the client's own Forwarded
# on (the README adds proxy_set_header Forwarded ""; this one does not):
# tunpipe must not read it.
tp_check "(c) 10 wrong logins from 10.200.0.12, each with its own Forwarded: for=198.51.100.N"
: >"$TP_TMP/spoof.out"
for i in $(seq 1 10); do
	tp_in "$A" curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --cacert "$CA" \
		--resolve vpn.test:8444:10.200.0.11 -H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN' \
		-H "Forwarded: for=198.51.100.$i" -u "bob:wrong-$i" https://vpn.test:8444/vpn >>"$TP_TMP/spoof.out"
done
spoof=$(sort "$TP_TMP/spoof.out" | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')
grep -q '^429$' "$TP_TMP/spoof.out" || tp_fail "no 429 among the spoofed-Forwarded logins: $spoof"
[ "$(grep -c '^401$' "$TP_TMP/spoof.out")" -le 5 ] || tp_fail "more 401s than the limiter allows: $spoof"
tp_wait_log "$srvlog" '10\.200\.0\.12 throttled' 10 || tp_fail "no 'throttled' line for 10.200.0.12"
if grep '198\.51\.100\.' "$srvlog"; then tp_fail "a client-sent Forwarded address reached the log"; fi
tp_ok "$spoof; $(grep -m 1 '10\.200\.0\.12 throttled' "$srvlog" | sed 's/^.*\] //')"

tp_check "a trusted proxy passing a bad or no X-Forwarded-For (:8446) gets 400 and a warning"
code() { # NS PORT [CURL-ARGS]
	local ns=$1 port=$2
	shift 2
	tp_in "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" \
		--resolve "vpn.test:$port:10.200.0.11" "$@" "https://vpn.test:$port/"
}
bad=$(code "$B" 8446 -H 'X-Forwarded-For: 1.2.3.4, junk')
[ "$bad" = 400 ] || tp_fail "X-Forwarded-For ending in 'junk' got $bad, expected 400"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.11:[0-9]+: 400 X-Forwarded-For entry is not an IP address' 5 ||
	{ grep refused "$srvlog" | tail -n 3; tp_fail "no warning for the malformed X-Forwarded-For"; }
none=$(code "$B" 8446)
[ "$none" = 400 ] || tp_fail "no X-Forwarded-For from a trusted proxy got $none, expected 400"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.11:[0-9]+: 400 a trusted proxy sent no X-Forwarded-For' 5 ||
	{ grep refused "$srvlog" | tail -n 3; tp_fail "no log line for the missing X-Forwarded-For"; }
# nginx appends the client's address on :8444: junk further left is the
# client's own text and is never read.
left=$(code "$B" 8444 -H 'X-Forwarded-For: junk, 6.6.6.6')
[ "$left" = 200 ] || tp_fail "junk left of nginx's entry got $left, expected the website (200)"
tp_ok "junk next to the proxy: $bad, no header: $none; junk left of the client: $left"

tp_check "a direct connection to the plain listener from 10.200.0.12 is refused"
code=$(tp_in "$A" curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://10.200.0.1:8080/ || true)
[ "$code" = 000 ] || tp_fail "a direct plain request got HTTP $code, expected the connection closed"
tp_wait_log "$srvlog" 'warn.*refused 10\.200\.0\.12:[0-9]+: not in trusted_proxies' 5 ||
	tp_fail "no warning for the direct connection"
tp_ok "closed without an answer; $(grep -m 1 'not in trusted_proxies' "$srvlog" | sed 's/^.*\] //')"

tp_check "the website down: the fallback answers 502 and warns"
kill "$(cat "$TP_TMP/www.pid")" 2>/dev/null || true
wait "$(cat "$TP_TMP/www.pid")" 2>/dev/null || true
rm -f "$TP_TMP/www.pid"
down=$(code "$X" 8444)
[ "$down" = 502 ] || tp_fail "/ with the website down got $down, expected 502"
tp_wait_log "$srvlog" 'warn.*fallback 127\.0\.0\.1:8000: Connection refused \(the client 10\.200\.0\.14 gets 502\)' 5 ||
	tp_fail "no warning for the unreachable website"
tp_ping "$A" 10.0.0.1 3 || tp_fail "alice's tunnel suffered from the fallback's failure"
tp_ok "$down; $(grep -m 1 'gets 502' "$srvlog" | sed 's/^.*\] //')"

tp_check "stopping everything"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop bob || tp_fail "bob exited with status $?"
nginx_stop
tp_stop server-b || tp_fail "server-b exited with status $?"
tp_stop server-f || tp_fail "server-f exited with status $?"
tp_ok "clients, nginx and servers stopped cleanly"
