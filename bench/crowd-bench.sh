#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/crowd-bench.sh — the server under a crowd (issue 11), the "crowd"
# section of bench/netns-bench.sh (which runs it; it also runs alone):
#
#   1. storm: CROWD_N (1000) clients with CROWD_N different users (real
#      sha512-crypt hashes, openssl passwd -6) connect at once, each from
#      its own address, to a server with max_sessions 2000 and a /21 pool;
#      printed: time until all are in (each has pinged the server through
#      its session), 503 count, other failures, and the loss and worst RTT
#      of a session already up pinging meanwhile;
#   2. memory: bytes per idle session = (server RSS with the sessions of
#      the storm idle − RSS before) / sessions in (VmRSS and smaps
#      Anonymous), and the same on a fresh server for the crowd arriving in
#      waves of 50 (without the storm's peak of handshakes at once);
#   3. cycles (on that second server): CROWD_CYCLES (1000) sequential connect/upgrade/ping/close by
#      one user, ms per cycle (TLS resumption as the client offers it, and
#      CROWD_CYCLES/5 with full handshakes), the server's open fds and RSS
#      before and after.
#
#   bash bench/crowd-bench.sh   (root; from the build tree or with TUNPIPE set)
set -eu
# shellcheck source=SCRIPTDIR/../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
TP_SKIP_STATUS=1
tp_init crowd-bench cbn
tp_need ss
N=${CROWD_N:-1000}
CYCLES=${CROWD_CYCLES:-1000}
CROWD=${CROWD:-$top_builddir/bench/crowd}
[ -x "$CROWD" ] || tp_fail "load generator not built: $CROWD (make)"
# One fd per session on the server, one per client in the crowd.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((N + 500)) ] || tp_fail "ulimit -n $(ulimit -n) is too low for $N sessions"
[ "$N" -le 2000 ] || tp_fail "CROWD_N=$N: at most 2000 (the /21 pool, the source /21)"

tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
ip -n "$C" route add local 10.201.0.0/21 dev lo
ip -n "$S" route add 10.201.0.0/21 via 10.200.0.11

tp_say "crowd: hashing $N passwords with sha512-crypt (openssl passwd -6) ..."
pw=$(openssl rand -hex 12)
for _ in $(seq 1 "$N"); do printf '%s\n' "$pw"; done | openssl passwd -6 -stdin >"$TP_TMP/hashes" ||
	tp_fail "openssl passwd -6 failed"
seq 1 "$N" | paste -d: - "$TP_TMP/hashes" | sed 's/^/crowd/' >>"$TP_CONF/demo/users.htpasswd"
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/21";|' \
	-e 's|# max_sessions = 256; .*|max_sessions = 2000;|' \
	-e 's|# max_handshakes = 128; .*|max_handshakes = 2000;|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-crowd.conf"
grep -q 'max_handshakes = 2000;' "$TP_CONF/server-crowd.conf" || tp_fail "cannot edit server.conf"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$spid/status"; }
anon() { awk '$1 == "Anonymous:" { print $2 }' "/proc/$spid/smaps_rollup"; }
fds() { find "/proc/$spid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
crowd() { exec ip netns exec "$C" "$CROWD" --server 10.200.0.1:8443 --tun 10.0.0.1 --prefix crowd \
	--password "$pw" --src 10.201.0.1 --ca "$TP_CONF/demo/ca.crt" "$@"; }

# wait_idle FILE PID — until the crowd writing FILE says its sessions are
# idle (or exits); its "crowd: storm" line.
wait_idle() {
	for _ in $(seq 1 900); do
		grep -q '^crowd: idle' "$1" && break
		tp_alive "$2" || break
		sleep 0.1
	done
	grep '^crowd: storm' "$1" || { cat "$1" >&2; tp_fail "no storm result"; }
}
# leave PID — the crowd closes its sessions; until the server's fds are
# back to $fd0.
leave() {
	kill -TERM "$1"
	wait "$1" || true
	for _ in $(seq 1 100); do
		[ "$(fds)" -le "$fd0" ] && break
		sleep 0.1
	done
	sleep 1.5 # a tick: the server trims its heap once they are gone
}
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }'; }
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# A. The storm, on a fresh server with one session (alice) already up.
tp_server_start server "$TP_CONF/server-crowd.conf"
spid=$(tp_pid server)
tp_client_up alice "$C" "$TP_CONF/client.conf"
tp_wait_ping "$C" 10.0.0.1 10 || tp_fail "alice cannot ping through her tunnel"
sleep 0.5
rss0=$(rss)
anon0=$(anon)
fd0=$(fds)
tp_say "crowd: $N clients at once, alice pinging meanwhile ..."
tp_in "$C" ping -q -c 50 -i 0.1 -W 2 10.0.0.1 >"$TP_TMP/alice-ping.out" 2>&1 &
ppid=$!
crowd --storm "$N" --timeout 60 >"$TP_TMP/storm.out" 2>&1 &
cpid=$!
storm=$(wait_idle "$TP_TMP/storm.out" "$cpid") || tp_fail "the storm reported nothing"
wait "$ppid" || true
aping=$(awk -F'[ /,]+' '/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) l = $i }
	/^rtt/ { split($0, a, " = "); split(a[2], b, "/"); w = b[3] }
	END { printf "loss %s, worst RTT %s ms", l, w }' "$TP_TMP/alice-ping.out")
sleep 3 # idle: a few ticks to give back what idle sessions do not need
rss1=$(rss)
anon1=$(anon)
fd1=$(fds)
in=$(kv "$storm" in)
leave "$cpid"
rss2=$(rss)
fd2=$(fds)
a_fd0=$fd0
tp_stop alice || true
tp_stop server || tp_fail "server exited with status $?"
log=$(tp_logfile server)
threads=$(grep -o '[0-9]* password-check threads, queue [0-9]*' "$log" | head -n 1) || threads="one password-check thread, queue 64"

# B. A fresh server: the same crowd in waves of 50 (no storm peak), then
# the cycles.
tp_say "crowd: $N clients in waves of 50 on a fresh server ..."
tp_server_start server2 "$TP_CONF/server-crowd.conf"
spid=$(tp_pid server2)
sleep 0.5
r_rss0=$(rss)
r_anon0=$(anon)
fd0=$(fds)
crowd --storm "$N" --wave 50 --timeout 120 >"$TP_TMP/ramp.out" 2>&1 &
cpid=$!
ramp=$(wait_idle "$TP_TMP/ramp.out" "$cpid") || tp_fail "the waves reported nothing"
sleep 3
r_rss1=$(rss)
r_anon1=$(anon)
r_in=$(kv "$ramp" in)
leave "$cpid"

tp_say "crowd: $CYCLES sequential cycles by one user ..."
c_fd0=$(fds)
c_rss0=$(rss)
cyc=$(crowd --cycle "$CYCLES" | grep '^crowd: cycle') || tp_fail "the cycles failed"
for _ in $(seq 1 50); do
	[ "$(fds)" -le "$c_fd0" ] && break
	sleep 0.1
done
c_fd1=$(fds)
c_rss1=$(rss)
full=$((CYCLES / 5))
cyc_full=$(crowd --cycle "$full" --no-resume | grep '^crowd: cycle') || tp_fail "the full-handshake cycles failed"
tp_stop server2 || tp_fail "server exited with status $?"

printf '\nServer under a crowd: %s users (sha512-crypt), max_sessions 2000, /21 pool, %s\n' "$N" "$threads"
printf '  storm: %s of %s in after %s ms, 503: %s, other failures: %s\n' "$in" "$N" \
	"$(kv "$storm" all_in_ms)" "$(kv "$storm" busy503)" \
	"$(printf '%s\n' "$storm" | tr ' ' '\n' | grep -E '^(connect|tls|status|closed|timeout|bad_101)=' | paste -sd' ')"
printf '  a session already up, pinging every 100 ms during the storm: %s\n' "$aping"
printf '  memory per idle session after the storm (%s sessions): VmRSS %s bytes, Anonymous %s bytes (RSS %s -> %s KiB)\n' \
	"$in" "$(per "$rss0" "$rss1" "$in")" "$(per "$anon0" "$anon1" "$in")" "$rss0" "$rss1"
printf '  after the crowd left: fds %s -> %s -> %s, VmRSS %s KiB\n' "$a_fd0" "$fd1" "$fd2" "$rss2"
printf '  memory per idle session after waves of 50 (%s sessions, fresh server): VmRSS %s bytes, Anonymous %s bytes\n' \
	"$r_in" "$(per "$r_rss0" "$r_rss1" "$r_in")" "$(per "$r_anon0" "$r_anon1" "$r_in")"
printf '  %s cycles by one user: %s ms each (worst %s ms, %s resumed TLS sessions); full handshakes: %s ms each\n' \
	"$CYCLES" "$(kv "$cyc" avg_ms)" "$(kv "$cyc" worst_ms)" "$(kv "$cyc" resumed)" "$(kv "$cyc_full" avg_ms)"
printf '  server around the cycles: fds %s -> %s, VmRSS %s -> %s KiB\n' "$c_fd0" "$c_fd1" "$c_rss0" "$c_rss1"
