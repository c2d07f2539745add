#!/bin/bash
# SPDX-License-Identifier: MIT
# Interoperability with a plain Simple-VPN peer written to the article's
# design (tests/e2e/article-peer.c: no tunpipe code, no Simple-VPN-Stack
# header, only Address and Gateway in its 101, framer-ip on the wire):
#   (a) article client -> tunpipe server (conf/server.conf)
#   (b) tunpipe client (conf/client.conf) -> article server
# Each: a refused login is understood, the tunnel address is applied, pings
# (small and full-MTU) cross both ways, and the ends close cleanly.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-interop iop
tp_need ss timeout
PEER=${ARTICLE_PEER:-$top_builddir/tests/e2e/article-peer}
[ -x "$PEER" ] || tp_fail "article-peer not found at '$PEER' (make tests/e2e/article-peer, or set ARTICLE_PEER)"
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
DEMO=$TP_CONF/demo
PASS=$(head -n 1 "$DEMO/alice.pass")
URL=https://10.200.0.1:8443/vpn

# peer_start NAME NS ARGS… — article-peer in the background, like tp_start
# (log in NAME.log, pid in NAME.pid, so tp_stop and tp_cleanup handle it).
peer_start() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$PEER" "$@" >>"$TP_TMP/$name.log" 2>&1 &
	echo $! >"$TP_TMP/$name.pid"
}

# pings NS_A ADDR_A NS_B ADDR_B LABEL — 5 pings each way, then 3 full-MTU
# (1400-byte, DF) ones each way: a whole packet must survive the framing.
pings() {
	local a=$1 aaddr=$2 b=$3 baddr=$4 what=$5 got
	tp_ping "$a" "$baddr" 5 || { cat "$TP_TMP/ping.out"; tp_fail "$what: ping $baddr failed"; }
	tp_ping "$b" "$aaddr" 5 || { cat "$TP_TMP/ping.out"; tp_fail "$what: ping $aaddr failed"; }
	tp_ping "$a" "$baddr" 3 -M "do" -s 1372 || { cat "$TP_TMP/ping.out"; tp_fail "$what: full-MTU ping $baddr failed"; }
	tp_ping "$b" "$aaddr" 3 -M "do" -s 1372 || { cat "$TP_TMP/ping.out"; tp_fail "$what: full-MTU ping $aaddr failed"; }
	# A burst with 16 in flight: many packets per TLS record, and records
	# that end in the middle of a packet, so both framers must reassemble.
	tp_in "$a" ping -q -f -l 16 -c 400 -s 1372 -w 20 "$baddr" >"$TP_TMP/ping.out" 2>&1 || true
	# With -l, ping keeps a window of requests in flight and exits with some
	# still unanswered, so "transmitted" exceeds 400: count the replies.
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' "$TP_TMP/ping.out")
	[ "${got:-0}" -ge 400 ] ||
		{ cat "$TP_TMP/ping.out"; tp_fail "$what: a burst of 400 full-size pings to $baddr lost packets"; }
	tp_ok "$what: pings both ways, 1400-byte packets and a 400-packet burst included"
}

# framing_clean LOG — framer-ip's error counters at exit are all zero: the
# peer's byte stream parsed into whole packets with nothing left over.
framing_clean() {
	local c v
	for c in down_bad bad_version bad_length too_long truncated; do
		v=$(tp_counter "$1" framer-ip "$c")
		[ "$v" = 0 ] || tp_fail "framer-ip counter $c is '${v:-missing}' in $(basename "$1"), want 0"
	done
}

# relayed LOG FIELD — from the article peer's summary at exit: 1 packets
# out, 2 packets in, 3 TLS reads, 4 reads that ended inside a packet.
relayed() {
	sed -n "s/.*relayed \([0-9]*\) packets tun->tls, \([0-9]*\) packets tls->tun (\([0-9]*\) TLS reads, \([0-9]*\) ended.*/\\$2/p" "$1" | tail -n 1
}

# ---------------------------------------------------------------- (a)
tp_check "(a) tunpipe server (conf/server.conf) starts"
tp_server_start server "$TP_CONF/server.conf"
SLOG=$(tp_logfile server)
tp_ok "listening"

tp_check "(a) the article client understands tunpipe's 401 for a wrong password"
rc=0
timeout 20 ip netns exec "$C" "$PEER" client "$URL" alice not-the-password "$DEMO/ca.crt" vpn.test \
	>"$TP_TMP/article-badpass.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$TP_TMP/article-badpass.log"; tp_fail "article client exited $rc, want 1 on 401"; }
grep -q 'server refused: HTTP/1.1 401' "$TP_TMP/article-badpass.log" ||
	{ cat "$TP_TMP/article-badpass.log"; tp_fail "the article client did not get a 401"; }
grep -qi '^WWW-Authenticate: Basic' "$TP_TMP/article-badpass.log" ||
	tp_fail "tunpipe's 401 carries no WWW-Authenticate: Basic"
tp_wait_log "$SLOG" 'refused .*401.*alice' 5 || tp_fail "the tunpipe server did not log the 401 for alice"
tp_ok "401 with WWW-Authenticate; server: $(grep -m1 -E 'refused .*401' "$SLOG")"

tp_check "(a) the article client (no stack header) connects and gets an address"
peer_start article-client "$C" client "$URL" alice "$PASS" "$DEMO/ca.crt" vpn.test
ALOG=$(tp_logfile article-client)
caddr=$(tp_wait_addr "$C" svpn0 20) || tp_fail "the article client's svpn0 got no address within 20 s"
case $caddr in
10.0.0.1) tp_fail "the article client was given the server's own address" ;;
10.0.0.*) tp_ok "article client tunnel address $caddr" ;;
*) tp_fail "article client got $caddr, not an address of 10.0.0.0/24" ;;
esac
# The peer logs this line just after configuring svpn0: wait for it, a
# plain grep right after the address appears races with that write.
tp_wait_log "$ALOG" "connected: address $caddr/24 gateway 10\.0\.0\.1" 5 ||
	tp_fail "the article client did not report address $caddr/24 and gateway 10.0.0.1"
# The server's session line names the framing it settled on; the client
# sent no Simple-VPN-Stack, so that must be the default, framer-ip.
tp_wait_log "$SLOG" "session up: user alice from 10\.200\.0\.11:[0-9]+, address $caddr/24, stack framer-ip" 5 ||
	tp_fail "the server log has no 'session up … address $caddr/24, stack framer-ip' for alice"
tp_ok "server: $(grep -m1 'session up: user alice' "$SLOG")"

tp_check "(a) pings through tunpipe server <-> article client"
pings "$S" 10.0.0.1 "$C" "$caddr" "(a)"

tp_check "(a) the article client closes the tunnel; the server ends the session"
tp_stop article-client || tp_fail "the article client exited with status $? on SIGTERM"
down=$(relayed "$ALOG" 1)
up=$(relayed "$ALOG" 2)
if [ "${down:-0}" -lt 416 ] || [ "${up:-0}" -lt 416 ]; then
	tp_fail "the article client relayed ${down:-?} packets out and ${up:-?} in; want at least 416 each (the pings)"
fi
# Fewer reads than packets: tunpipe's batches reached the plain peer as
# several packets per record, and its length-field parser coped.
[ "$(relayed "$ALOG" 3)" -lt "$up" ] ||
	tp_fail "the article client read $up packets in $(relayed "$ALOG" 3) TLS reads: no batching seen"
tp_wait_log "$SLOG" 'session [0-9]+ closed after' 10 || tp_fail "the server did not close the session"
tp_stop server || tp_fail "the tunpipe server exited with status $? on SIGTERM"
framing_clean "$SLOG"
tp_ok "article client relayed $down out / $up in ($(relayed "$ALOG" 3) TLS reads, $(relayed "$ALOG" 4) ended mid-packet); server: $(grep -m1 -E 'session [0-9]+ closed' "$SLOG")"

# ---------------------------------------------------------------- (b)
tp_check "(b) the article server starts"
peer_start article-server "$S" server 8443 "$DEMO/server.crt" "$DEMO/server.key" alice "$PASS" \
	10.0.0.1/24 10.0.0.1 10.0.0.2/24
AS_LOG=$(tp_logfile article-server)
tp_wait_listen "$S" 8443 10 || tp_fail "the article server is not listening on 8443 after 10 s"
tp_ok "listening"

tp_check "(b) tunpipe understands the article server's 401 (user bob is not allowed)"
# retry_permanent: the client keeps running after the 401 (a service's
# setting), so SIGTERM below still finds it.
bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
sed -i 's/^\( *role *= *"client";\)/\1 retry_permanent = true;/' "$bob_conf"
grep -q 'retry_permanent = true' "$bob_conf" || tp_fail "could not set retry_permanent in $bob_conf"
tp_start client-bob "$C" "$bob_conf"
tp_wait_log "$(tp_logfile client-bob)" 'authentication failed for user bob' 10 ||
	tp_fail "the tunpipe client did not report the 401"
tp_wait_addr "$C" tun0 1 >/dev/null && tp_fail "the refused client configured an address on tun0"
tp_stop client-bob || tp_fail "client-bob exited with status $? on SIGTERM"
grep -q 'refused: 401' "$AS_LOG" || tp_fail "the article server did not refuse bob with 401"
tp_ok "$(grep -m1 'authentication failed' "$(tp_logfile client-bob)")"

tp_check "(b) tunpipe client applies the address from a 101 with Address and Gateway only"
tp_client_up client "$C" "$TP_CONF/client.conf"
CLOG=$(tp_logfile client)
[ "$TP_ADDR" = 10.0.0.2 ] || tp_fail "the tunpipe client got $TP_ADDR, the article server handed out 10.0.0.2"
tp_wait_log "$CLOG" 'connected to https://10\.200\.0\.1:8443/vpn: address 10\.0\.0\.2/24 gateway 10\.0\.0\.1' 5 ||
	tp_fail "the client log has no 'connected … address 10.0.0.2/24 gateway 10.0.0.1'"
tp_wait_log "$CLOG" 'session [0-9]+ up: .*address 10\.0\.0\.2/24 gateway 10\.0\.0\.1' 5 ||
	tp_fail "the client's pipeline did not bring the session up"
grep -q 'session up: user alice, address 10.0.0.2/24' "$AS_LOG" ||
	tp_fail "the article server did not log the session"
tp_ok "client: $(grep -m1 'connected to' "$CLOG")"

tp_check "(b) pings through article server <-> tunpipe client"
pings "$S" 10.0.0.1 "$C" 10.0.0.2 "(b)"

tp_check "(b) the tunpipe client leaves; the article server sees it and exits 0"
tp_stop client || tp_fail "the tunpipe client exited with status $? on SIGTERM"
framing_clean "$CLOG"
apid=$(tp_pid article-server)
for _ in $(seq 1 50); do
	tp_alive "$apid" || break
	sleep 0.1
done
tp_alive "$apid" && tp_fail "the article server is still running 5 s after the client left"
rc=0
wait "$apid" 2>/dev/null || rc=$?
rm -f "$TP_TMP/article-server.pid"
[ "$rc" -eq 0 ] || tp_fail "the article server exited with status $rc"
grep -q 'peer closed the tunnel' "$AS_LOG" || tp_fail "the article server did not see a clean close"
down=$(relayed "$AS_LOG" 1)
up=$(relayed "$AS_LOG" 2)
if [ "${down:-0}" -lt 416 ] || [ "${up:-0}" -lt 416 ]; then
	tp_fail "the article server relayed ${down:-?} packets out and ${up:-?} in; want at least 416 each (the pings)"
fi
# Fewer reads than packets: tunpipe's batches reached the plain peer as
# several packets per record, and its length-field parser coped.
[ "$(relayed "$AS_LOG" 3)" -lt "$up" ] ||
	tp_fail "the article server read $up packets in $(relayed "$AS_LOG" 3) TLS reads: no batching seen"
tp_ok "article server relayed $down out / $up in ($(relayed "$AS_LOG" 3) TLS reads, $(relayed "$AS_LOG" 4) ended mid-packet), exited 0"
tp_say "interop: article client <-> tunpipe server and tunpipe client <-> article server both work"
