#!/bin/bash
# SPDX-License-Identifier: MIT
# The client through a real HTTP proxy (Debian's tinyproxy) with CONNECT.
#
#   client ns  10.202.0.11 ── 10.202.0.1  proxy ns  10.200.0.2 ── 10.200.0.1  server ns
#
# The client's namespace has a route to the proxy's network only, the proxy
# does not forward packets, and only the proxy knows the name vpn.test: the
# tunnel can only come up through CONNECT.  Cases: no authentication →
# tunnel and ping; Basic authentication with the right password (URL and
# proxy_password_file) → tunnel; no or wrong credentials → exit status 3
# with the message, quickly; https_proxy from the environment; no_proxy
# matching the server, or --proxy none, bypasses the proxy (and then cannot
# reach the server); the
# proxy refusing the port (403) → exit status 5 with the message; an answer
# that is not HTTP, a 502 and a proxy that never answers (15 s) → a clear
# message and retries.  Last, a proxy reached through the client's default
# route and a server pushing 0.0.0.0/1 + 128.0.0.0/1: the client pins a host
# route to the proxy (its session's peer), pings through the tunnel, and
# reconnects through the proxy after a server restart.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-httpproxy hp
tp_need tinyproxy
tp_confdir
S=${TP_P}s P=${TP_P}p C=${TP_P}c1
DEMO=$TP_CONF/demo
PW=$(cat "$DEMO/alice.pass")
URL=https://alice@vpn.test:8443/vpn

tp_ns_add "$S"
tp_ns_add "$P"
tp_ns_add "$C"
ip link add vp netns "$S" type veth peer name eth1 netns "$P" || tp_fail "veth server-proxy"
ip link add vc netns "$P" type veth peer name eth0 netns "$C" || tp_fail "veth proxy-client"
ip -n "$S" addr add 10.200.0.1/24 dev vp
ip -n "$S" link set vp up
ip -n "$P" addr add 10.200.0.2/24 dev eth1
ip -n "$P" addr add 10.202.0.1/24 dev vc
ip -n "$P" link set eth1 up
ip -n "$P" link set vc up
ip -n "$C" addr add 10.202.0.11/24 dev eth0
ip -n "$C" link set eth0 up
tp_in "$P" sysctl -qw net.ipv4.ip_forward=0
mkdir -p "/etc/netns/$P" "/etc/netns/$C"
printf '10.200.0.1 vpn.test\n' >"/etc/netns/$P/hosts"
printf '127.0.0.1 localhost\n' >"/etc/netns/$C/hosts"

tp_check "the client's namespace cannot reach the server by itself"
tp_wait_ping "$C" 10.202.0.1 10 || tp_fail "no link to the proxy"
tp_in "$C" ping -c 1 -W 1 10.200.0.1 >/dev/null 2>&1 && tp_fail "the client reaches the server directly"
tp_ok "10.202.0.1 (proxy) reachable, 10.200.0.1 (server) not"

# tinyproxy PORT [AUTH] [ADDRESS] — a tinyproxy of our own in the proxy
# namespace, in the foreground, allowing CONNECT to port 8443 only.
tinyproxy_start() {
	local port=$1 auth=${2:-} listen=${3:-10.202.0.1} conf=$TP_TMP/tinyproxy-$1.conf
	cat >"$conf" <<EOF
User nobody
Group nogroup
Port $port
Listen $listen
Timeout 30
MaxClients 20
Allow 10.202.0.0/24
ConnectPort 8443
LogLevel Info
EOF
	[ -n "$auth" ] && printf 'BasicAuth %s\n' "$auth" >>"$conf"
	tp_in "$P" tinyproxy -d -c "$conf" >>"$TP_TMP/tinyproxy-$port.log" 2>&1 &
	echo $! >"$TP_TMP/tinyproxy-$port.pid"
	tp_wait_listen "$P" "$port" 10 || tp_fail "tinyproxy is not listening on $port"
}
tinyproxy_start 3128
tinyproxy_start 3129 "puser psecret"

tp_server_start server "$TP_CONF/server.conf"

# connect NAME ARGS… — tunpipe connect in the client namespace, alice's
# password on its standard input; PROXY_ENV (if set) as extra environment.
connect() {
	local name=$1
	shift
	# shellcheck disable=SC2086 # PROXY_ENV: zero or more NAME=VALUE words
	printf '%s\n' "$PW" | ip netns exec "$C" env ${PROXY_ENV:-} "$TUNPIPE" connect "$@" \
		>>"$TP_TMP/$name.log" 2>&1 &
	echo $! >"$TP_TMP/$name.pid"
}
# up NAME — the tunnel comes up and pings; the progress lines are there.
up() {
	local name=$1 log
	log=$(tp_logfile "$name")
	TP_ADDR=$(tp_wait_addr "$C" tun0 "$(($(tp_ms 20000) / 1000))") ||
		tp_fail "$name: no tunnel address"
	tp_ping "$C" 10.0.0.1 3 || tp_fail "$name: no ping through the tunnel"
	for re in 'connecting to proxy 10\.202\.0\.1:312[89]' 'proxy tunnel to vpn\.test:8443 open' \
		'TLS up with ' 'authenticated as alice'; do
		grep -Eq "$re" "$log" || tp_fail "$name: no line matching '$re'"
	done
	grep -q -- "$PW" "$log" && tp_fail "$name: alice's password in the log"
	grep -q psecret "$log" && tp_fail "$name: the proxy password in the log"
	tp_stop "$name" || tp_fail "$name: status $? on SIGTERM"
}

tp_check "through the proxy without authentication: tunnel up, ping, TLS checked against vpn.test"
connect noauth "$URL" --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3128
up noauth
grep -q 'using the HTTP proxy 10.202.0.1:3128 (from option proxy)' "$(tp_logfile noauth)" ||
	tp_fail "the proxy in use is not logged"
grep -q 'CONNECT vpn.test:8443' "$TP_TMP/tinyproxy-3128.log" ||
	tp_fail "tinyproxy did not log the CONNECT"
tp_ok "tunnel $TP_ADDR through tinyproxy, ping ok"

tp_check "Basic authentication with the right password (--proxy-password-file)"
printf 'psecret\n' >"$TP_TMP/proxy.pass"
chmod 600 "$TP_TMP/proxy.pass"
connect auth "$URL" --ca "$DEMO/ca.crt" --proxy http://puser@10.202.0.1:3129 \
	--proxy-password-file "$TP_TMP/proxy.pass"
up auth
grep -q 'using the HTTP proxy puser@10.202.0.1:3129 .*with Basic authentication' \
	"$(tp_logfile auth)" || tp_fail "the authenticated proxy is not logged"
tp_ok "tunnel $TP_ADDR, the password never logged"

tp_check "Basic authentication with the password in the proxy URL (a config file)"
sed -e 's#url *= *"[^"]*"#url = "https://vpn.test:8443/vpn"#' \
	-e "s#password_file = \"demo/client.pass\"#password_file = \"demo/alice.pass\"; proxy = \"http://puser:psecret@10.202.0.1:3129\"#" \
	"$TP_CONF/client.conf" >"$TP_CONF/client-proxy.conf"
grep -q 'puser:psecret@' "$TP_CONF/client-proxy.conf" || tp_fail "could not write the config"
tp_start pwfile "$C" "$TP_CONF/client-proxy.conf"
up pwfile
tp_ok "tunnel $TP_ADDR"

tp_check "no proxy credentials: exit status 3, 'proxy requires authentication', within 5 s"
connect nocred "$URL" --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3129
tp_exits_within nocred 5
[ "$EXIT_RC" = 3 ] || tp_fail "exit status $EXIT_RC, not 3"
grep -q 'proxy requires authentication (10.202.0.1:3129: 407 ' "$(tp_logfile nocred)" ||
	tp_fail "no message for the 407"
tp_ok "status 3 after $EXIT_MS ms: $(grep -m1 'requires auth' "$(tp_logfile nocred)" | sed 's/.*\] //')"

tp_check "a wrong proxy password: exit status 3 naming the proxy user, within 5 s"
printf 'wrong\n' >"$TP_TMP/proxy-bad.pass"
connect badcred "$URL" --ca "$DEMO/ca.crt" --proxy http://puser@10.202.0.1:3129 \
	--proxy-password-file "$TP_TMP/proxy-bad.pass"
tp_exits_within badcred 5
[ "$EXIT_RC" = 3 ] || tp_fail "exit status $EXIT_RC, not 3"
grep -Eq 'the proxy 10.202.0.1:3129 refused the credentials of puser \(40[17] ' "$(tp_logfile badcred)" ||
	tp_fail "no message for the refused credentials"
grep -q 'wrong' "$(tp_logfile badcred)" && tp_fail "the wrong proxy password is in the log"
tp_ok "status 3 after $EXIT_MS ms"

tp_check "https_proxy from the environment is used"
PROXY_ENV="https_proxy=http://10.202.0.1:3128 no_proxy=localhost,.example.org"
connect env "$URL" --ca "$DEMO/ca.crt"
up env
grep -q 'using the HTTP proxy 10.202.0.1:3128 (from https_proxy)' "$(tp_logfile env)" ||
	tp_fail "the proxy from the environment is not logged"
tp_ok "tunnel $TP_ADDR through https_proxy"

tp_check "no_proxy matching the server: direct connection (and no route to it)"
printf '10.200.0.1 vpn.test\n' >"/etc/netns/$C/hosts"
before=$(grep -c 'CONNECT' "$TP_TMP/tinyproxy-3128.log")
PROXY_ENV="HTTPS_PROXY=http://10.202.0.1:3128 NO_PROXY=10.9.0.0/16,.test"
connect bypass "$URL" --ca "$DEMO/ca.crt"
tp_wait_log "$(tp_logfile bypass)" 'cannot connect to .*10\.200\.0\.1:8443' 10 ||
	tp_fail "no failed direct attempt"
tp_stop bypass || tp_fail "bypass: status $? on SIGTERM"
grep -q 'no_proxy matches vpn.test: connecting directly' "$(tp_logfile bypass)" ||
	tp_fail "the bypass is not logged"
grep -q 'connecting to proxy' "$(tp_logfile bypass)" && tp_fail "the proxy was used"
[ "$(grep -c 'CONNECT' "$TP_TMP/tinyproxy-3128.log")" = "$before" ] || tp_fail "tinyproxy saw a CONNECT"
tp_ok "$(grep -m1 'cannot connect' "$(tp_logfile bypass)" | sed 's/.*\] //')"

tp_check "--proxy none ignores https_proxy"
PROXY_ENV="https_proxy=http://10.202.0.1:3128"
connect none "$URL" --ca "$DEMO/ca.crt" --proxy none
tp_wait_log "$(tp_logfile none)" 'cannot connect to .*10\.200\.0\.1:8443' 10 ||
	tp_fail "no failed direct attempt"
tp_stop none || tp_fail "none: status $? on SIGTERM"
grep -q 'proxy = "none": connecting directly' "$(tp_logfile none)" || tp_fail "not logged"
grep -q 'connecting to proxy' "$(tp_logfile none)" && tp_fail "the proxy was used"
[ "$(grep -c 'CONNECT' "$TP_TMP/tinyproxy-3128.log")" = "$before" ] || tp_fail "tinyproxy saw a CONNECT"
tp_ok "direct attempt, tinyproxy untouched"
printf '127.0.0.1 localhost\n' >"/etc/netns/$C/hosts"
PROXY_ENV=

tp_check "the proxy refuses the port: exit status 5 with the proxy's answer, within 5 s"
connect refused https://alice@vpn.test:9443/vpn --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3128
tp_exits_within refused 5
[ "$EXIT_RC" = 5 ] || tp_fail "exit status $EXIT_RC, not 5"
grep -q 'proxy refused CONNECT to vpn.test:9443 (403 ' "$(tp_logfile refused)" ||
	tp_fail "no message for the 403"
tp_ok "status 5 after $EXIT_MS ms: $(grep -m1 'refused CONNECT' "$(tp_logfile refused)" | sed 's/.*\] //')"

# Misbehaving proxies (python3): 3130 answers SSH's banner, 3131 accepts
# and never answers, 3132 answers 502 (the proxy cannot reach the server).
tp_need python3
tp_in "$P" python3 - >>"$TP_TMP/fakeproxy.log" 2>&1 <<'PY' &
import socket, threading, time
answers = {3130: b"SSH-2.0-OpenSSH_9.2\r\n", 3131: None,
           3132: b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"}
def serve(port, answer):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.202.0.1", port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        c.recv(4096)
        if answer is not None:
            c.sendall(answer)
            time.sleep(0.2)
            c.close()
        # the silent one keeps the connection open, says nothing
for port, answer in answers.items():
    threading.Thread(target=serve, args=(port, answer), daemon=True).start()
time.sleep(3600)
PY
echo $! >"$TP_TMP/fakeproxy.pid"
for port in 3130 3131 3132; do
	tp_wait_listen "$P" "$port" 10 || tp_fail "the fake proxy is not listening on $port"
done

tp_check "a proxy that never answers is given up after 15 s, and retried"
connect silent "$URL" --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3131
t0=$(date +%s%N)

tp_check "an answer that is not HTTP: a clear message, retried"
connect garbage "$URL" --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3130
tp_wait_log "$(tp_logfile garbage)" 'the proxy 10\.202\.0\.1:3130 gave a bad answer to CONNECT: the answer does not start with an HTTP/1\.x status line' 5 ||
	tp_fail "no message for the garbage answer"
sleep 1
[ "$(grep -c 'connecting to proxy' "$(tp_logfile garbage)")" -ge 2 ] || tp_fail "not retried"
tp_stop garbage || tp_fail "garbage: status $? on SIGTERM"
tp_ok "$(grep -m1 'bad answer' "$(tp_logfile garbage)" | sed 's/.*\] //')"

tp_check "502 from the proxy: transient, retried with backoff"
connect gw "$URL" --ca "$DEMO/ca.crt" --proxy http://10.202.0.1:3132
tp_wait_log "$(tp_logfile gw)" 'the proxy 10\.202\.0\.1:3132 cannot reach vpn\.test:8443 \(502 Bad Gateway\)' 5 ||
	tp_fail "no message for the 502"
sleep 1
[ "$(grep -c 'cannot reach' "$(tp_logfile gw)")" -ge 2 ] || tp_fail "not retried"
tp_alive "$(tp_pid gw)" || tp_fail "exited on a 502"
tp_stop gw || tp_fail "gw: status $? on SIGTERM"
tp_ok "$(grep -m1 'cannot reach' "$(tp_logfile gw)" | sed 's/.*\] //')"

tp_wait_log "$(tp_logfile silent)" 'the proxy did not answer CONNECT in time' "$(($(tp_ms 20000) / 1000))" ||
	tp_fail "no message for the silent proxy within 20 s"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 14000 ] || tp_fail "the silent proxy was given up after $ms ms, before 15 s"
tp_alive "$(tp_pid silent)" || tp_fail "exited on a silent proxy"
tp_stop silent || tp_fail "silent: status $? on SIGTERM"
tp_ok "given up after ≈$ms ms, still running (retrying)"

tp_check "bad proxy URLs are refused at start naming the option"
for bad in https://10.202.0.1:3128 socks5://10.202.0.1:1080 http://10.202.0.1:99999 \
	http://10.202.0.1:3128/path; do
	rc=0
	out=$(printf '%s\n' "$PW" | ip netns exec "$C" "$TUNPIPE" connect "$URL" --proxy "$bad" 2>&1) || rc=$?
	[ "$rc" != 0 ] || tp_fail "--proxy $bad accepted"
	printf '%s\n' "$out" | grep -q 'option proxy: ' || tp_fail "--proxy $bad: no clear error: $out"
done
tp_ok "https://, socks5://, a bad port and a path refused"

tp_check "tunpipe connect refuses a proxy password on its command line"
rc=0
out=$(printf '%s\n' "$PW" | ip netns exec "$C" "$TUNPIPE" connect "$URL" \
	--proxy http://puser:psecret@10.202.0.1:3129 2>&1) || rc=$?
[ "$rc" = 2 ] || tp_fail "exit status $rc, not 2: $out"
printf '%s\n' "$out" | grep -q -- '--proxy-password-file' || tp_fail "no pointer to --proxy-password-file: $out"
tp_ok "status 2: $(printf '%s\n' "$out" | head -n 1)"

tp_check "a pushed full tunnel through a proxy reached by the default route: the proxy stays outside"
# The proxy's 10.204.0.1 is no neighbour of the client: only its default
# route leads there, and 0.0.0.0/1 covers it.  The session's peer is the
# proxy's address, so the client pins a host route to it before applying
# the pushed routes; else the connection to the proxy would go into the
# tunnel it carries, and every reconnect after it.
ip -n "$P" addr add 10.204.0.1/32 dev lo
ip -n "$C" route add default via 10.202.0.1
tinyproxy_start 3133 "" 10.204.0.1
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; push_routes = [ "0.0.0.0/1", "128.0.0.0/1" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-full.conf"
grep -q '"128.0.0.0/1"' "$TP_CONF/server-full.conf" || tp_fail "could not write the full-tunnel server config"
tp_stop server || tp_fail "server: status $? on SIGTERM"
tp_server_start full "$TP_CONF/server-full.conf"
connect fullc "$URL" --ca "$DEMO/ca.crt" --proxy http://10.204.0.1:3133
log=$(tp_logfile fullc)
tp_wait_addr "$C" tun0 "$(($(tp_ms 20000) / 1000))" >/dev/null || tp_fail "fullc: no tunnel address"
tp_wait_log "$log" '2 pushed route\(s\) applied' 10 || tp_fail "the pushed routes were not applied"
got=$(ip -n "$C" route get 10.204.0.1)
case $got in *"via 10.202.0.1 dev eth0"*) ;; *) tp_fail "the route to the proxy is now: $got" ;; esac
grep -q 'host route 10.204.0.1 via 10.202.0.1 dev eth0 added' "$log" ||
	tp_fail "no host route to the proxy logged"
got=$(ip -n "$C" route get 192.0.2.1)
case $got in *"dev tun0"*) ;; *) tp_fail "the pushed routes do not lead into tun0: $got" ;; esac
grep -q 'TLS up with 10.204.0.1:3133' "$log" || tp_fail "the session's peer is not the proxy's address"
tp_ping "$C" 10.0.0.1 3 || tp_fail "no ping through the full tunnel"
tp_ok "$(grep -m1 'host route 10.204.0.1' "$log" | sed 's/.*\] //')"

tp_check "after a server restart the client reconnects through the proxy"
tp_stop full || tp_fail "full: status $? on SIGTERM"
tp_server_start full2 "$TP_CONF/server-full.conf"
n=0
until [ "$(grep -c 'proxy tunnel to vpn\.test:8443 open' "$log")" -ge 2 ] && tp_ping "$C" 10.0.0.1 1; do
	n=$((n + 1))
	[ $n -lt 150 ] || tp_fail "no new session through the proxy within 30 s"
	sleep 0.2
done
got=$(ip -n "$C" route get 10.204.0.1)
case $got in *"via 10.202.0.1 dev eth0"*) ;; *) tp_fail "the route to the proxy is now: $got" ;; esac
tp_stop fullc || tp_fail "fullc: status $? on SIGTERM"
ip -n "$C" route | grep -q '10.204.0.1' && tp_fail "the host route to the proxy stayed after stop"
tp_stop full2 || tp_fail "full2: status $? on SIGTERM"
tp_ok "reconnected through the proxy, pinged; the host route removed at stop"
