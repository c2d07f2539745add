#!/bin/bash
# SPDX-License-Identifier: MIT
# Memory and descriptor check of the real daemon (not part of `make check`:
# it takes a minute or two).  Run it with `make memcheck` in any build tree.
#
# Under an ASan/UBSan build (configure --enable-sanitize) the daemons run as
# they are and their sanitizer reports go to $TP_TMP/asan.*; otherwise each
# runs under valgrind (leak check, fd tracking) with one log per process.
# The scenario is what the other e2e tests check for function, here for
# memory: connect and ping, server restart and client reconnect, a client
# with a wrong password, curl 401/426/404/405/431, plain-text garbage, a peer
# that stops mid-TLS, idle peers that hit the handshake timeout, a second
# client killed with -9.  It fails on any sanitizer report, any valgrind
# error or definite/indirect/possible leak, any descriptor still open at exit
# that was not inherited, or the server's fd count growing across the error
# storm (a per-connection fd leak that exit would hide).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init memcheck mem
tp_need ss curl
export TP_MEM_DIR=$TP_TMP
if ldd "$TUNPIPE" 2>/dev/null | grep -q libasan; then
	mode=asan
	export ASAN_OPTIONS="detect_leaks=1:log_path=$TP_TMP/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$TP_TMP/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	slow=1
else
	mode=valgrind
	tp_need valgrind
	# One wrapper for tp_start: valgrind is slow, so timeouts are longer.
	cat >"$TP_TMP/vg-tunpipe" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \\
	--track-fds=yes --num-callers=30 --log-file="\$TP_MEM_DIR/vg.%p.log" "$TUNPIPE" "\$@"
EOF
	chmod +x "$TP_TMP/vg-tunpipe"
	TUNPIPE="$TP_TMP/vg-tunpipe"
	slow=4
fi
tp_say "memcheck: $mode"
tp_topology 2
tp_confdir
S=$(tp_server_ns)
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
# The idle peers below must outlive the handshake timeout.
hs_ms=$((1500 * slow))
sed -i "s@# handshake_timeout = 10000;@handshake_timeout = $hs_ms;@" "$TP_CONF/server.conf"
grep -q "handshake_timeout = $hs_ms;" "$TP_CONF/server.conf" || tp_fail "cannot set handshake_timeout"

server_up() {
	tp_start server "$S" "$TP_CONF/server.conf"
	tp_wait_listen "$S" 8443 $((10 * slow)) || tp_fail "server not listening on 8443"
}
nfds() { find "/proc/$(tp_pid server)/fd" -mindepth 1 2>/dev/null | wc -l; }

tp_check "a tunnel comes up and passes traffic"
server_up
tp_start alice "$C1" "$TP_CONF/client.conf"
tp_wait_addr "$C1" tun0 $((15 * slow)) >/dev/null || tp_fail "alice got no tunnel address"
tp_wait_ping "$C1" 10.0.0.1 $((10 * slow)) || tp_fail "no ping through the tunnel"
tp_ping "$C1" 10.0.0.1 10 -s 1300 || tp_fail "pings of 1300 bytes lost"
tp_ok "alice is up"

tp_check "the client reconnects after a server restart"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
server_up
tp_wait_ping "$C1" 10.0.0.1 $((20 * slow)) || tp_fail "no ping after the server restart"
tp_ok "reconnected"

tp_check "refusals and broken peers"
sleep 1
fds0=$(nfds)
printf 'not-the-password\n' >"$TP_CONF/demo/wrong.pass"
chmod 600 "$TP_CONF/demo/wrong.pass"
sed 's#demo/client.pass#demo/wrong.pass#' "$TP_CONF/client.conf" >"$TP_CONF/client-wrong.conf"
tp_start wrong "$C2" "$TP_CONF/client-wrong.conf"
tp_wait_log "$(tp_logfile wrong)" '\b401\b|authenticat' $((10 * slow)) || tp_fail "no 401 logged by the wrong client"
http() {
	local path=$1 cred=$2
	shift 2
	tp_in "$C2" curl -sS --max-time $((5 * slow)) --cacert "$TP_CONF/demo/ca.crt" \
		--resolve vpn.test:8443:10.200.0.1 -u "$cred" -o /dev/null -w '%{http_code}' \
		"$@" "https://vpn.test:8443$path" 2>/dev/null || true
}
up=(-H 'Connection: Upgrade' -H 'Upgrade: Simple-VPN')
good="alice:$(head -n 1 "$TP_CONF/demo/alice.pass")"
big=$(head -c 9000 /dev/zero | tr '\0' a)
got="$(http /vpn alice:wrong "${up[@]}") $(http /vpn "$good") $(http /x "$good" "${up[@]}")"
got="$got $(http /vpn "$good" -X POST "${up[@]}") $(http /vpn "$good" "${up[@]}" -H "X-Big: $big")"
[ "$got" = "401 426 404 405 431" ] || tp_fail "unexpected answers: $got (want 401 426 404 405 431)"
# Plain text instead of TLS; TLS abandoned after the ClientHello; two
# peers that connect and say nothing until the handshake timeout.
tp_in "$C2" timeout 5 bash -c 'exec 3<>/dev/tcp/10.200.0.1/8443; printf "GET / HTTP/1.0\r\n\r\n" >&3; sleep 1' 2>/dev/null || true
tp_in "$C2" timeout 3 openssl s_client -connect 10.200.0.1:8443 </dev/null >/dev/null 2>&1 || true
for i in 1 2; do
	# shellcheck disable=SC2016 # $1 is the inner shell's argument
	tp_in "$C2" timeout $((hs_ms / 1000 + 5)) bash -c 'exec 3<>/dev/tcp/10.200.0.1/8443; sleep $1' _ $((hs_ms / 1000 + 2)) &
done
wait_idle=$((hs_ms / 1000 + 3))
sleep "$wait_idle"
tp_stop wrong || tp_fail "the wrong-password client exited with status $?"
sleep 1
fds1=$(nfds)
[ "$fds1" -le "$fds0" ] || tp_fail "server fds grew from $fds0 to $fds1 across the refusals"
tp_ok "answers $got; server fds $fds0 before, $fds1 after"

tp_check "a client killed with -9 is cleaned up by the server"
bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
tp_start bob "$C2" "$bob_conf"
tp_wait_addr "$C2" tun0 $((15 * slow)) >/dev/null || tp_fail "bob got no tunnel address"
tp_wait_ping "$C2" 10.0.0.1 $((10 * slow)) || tp_fail "bob cannot ping"
tp_stop bob KILL || true
tp_ping "$C1" 10.0.0.1 3 || tp_fail "alice lost the tunnel when bob died"
tp_ok "alice still pings"

tp_check "SIGHUP: the certificate reloaded, then a broken one refused"
kill -HUP "$(tp_pid server)"
tp_wait_log "$(tp_logfile server)" 'reloaded certificate' $((5 * slow)) || tp_fail "no certificate reload logged"
cp "$TP_CONF/demo/server.crt" "$TP_TMP/server.crt.good"
printf 'not a certificate\n' >"$TP_CONF/demo/server.crt"
kill -HUP "$(tp_pid server)"
tp_wait_log "$(tp_logfile server)" 'keeping the previous certificate' $((5 * slow)) || tp_fail "broken certificate not refused"
cp "$TP_TMP/server.crt.good" "$TP_CONF/demo/server.crt"
tp_ping "$C1" 10.0.0.1 3 || tp_fail "alice lost the tunnel on SIGHUP"
tp_ok "reloaded, refused, alice still pings"

tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"

tp_check "no memory or descriptor errors in any daemon"
bad=0
if [ "$mode" = asan ]; then
	for f in "$TP_TMP"/asan.* "$TP_TMP"/ubsan.*; do
		[ -e "$f" ] || continue
		tp_say "---- $f"
		head -n 40 "$f"
		bad=1
	done
	grep -l 'runtime error:' "$TP_TMP"/*.log && bad=1
else
	n=0
	for f in "$TP_TMP"/vg.*.log; do
		# A process killed with -9 leaves a log without a summary.
		grep -q 'ERROR SUMMARY' "$f" || continue
		n=$((n + 1))
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			tp_say "---- $f"
			cat "$f"
			bad=1
		fi
		# Every fd left open at exit must be one we were given.
		if awk '/Open (file descriptor|AF_)/ { open = 1; next }
			open && /inherited from parent/ { open = 0; next }
			open && /==[0-9]+== *$/ { exit 1 }' "$f"; then :; else
			tp_say "---- descriptor leak in $f"
			sed -n '/FILE DESCRIPTORS/,/HEAP SUMMARY/p' "$f"
			bad=1
		fi
	done
	[ "$n" -ge 4 ] || tp_fail "only $n valgrind summaries (want server x2, alice, wrong)"
fi
[ "$bad" = 0 ] || tp_fail "memory or descriptor errors (see above; logs in $TP_TMP with TP_KEEP=1)"
tp_ok "clean ($mode)"
