#!/bin/bash
# SPDX-License-Identifier: MIT
# test-crowd.sh — a crowd at the door (issue 11): CROWD_N (200) clients with
# CROWD_N different users (real sha512-crypt hashes) connect at once from
# CROWD_N source addresses; every one gets in on its first try (no 503, no
# other failure) and pings the server's tunnel address through its session,
# while a session that was already up (a real tunpipe client) keeps pinging
# without loss; after idling (the server gives back idle sessions' buffers)
# every session pings again.  Then CROWD_N sequential connect/upgrade/ping/close cycles by
# one user all succeed, the credential cache spares their crypt (auth_cached),
# and the server's open fds come back to where they were.  Behaviour only:
# bench/netns-bench.sh prints the times.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
# 200 crypts and TLS handshakes at once load the machine on purpose: no
# timing test runs alongside (lib.sh's e2e lock).
# shellcheck disable=SC2034 # read by lib.sh's tp_lock
TP_EXCLUSIVE=1
tp_init crowd crd
tp_need ss
N=${CROWD_N:-200}
CROWD=${CROWD:-$top_builddir/bench/crowd}
[ -x "$CROWD" ] || tp_fail "load generator not built: $CROWD"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((N * 2 + 200)) ] || tp_skip "ulimit -n $(ulimit -n) is too low for $N clients"

tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
# The crowd's source addresses: 10.201.0.0/21 is local to the client
# namespace (any address in it can be bound) and routed there from the server.
ip -n "$C" route add local 10.201.0.0/21 dev lo
ip -n "$S" route add 10.201.0.0/21 via 10.200.0.11

# CROWD_N users crowd1..crowdN, one password, each its own salt, hashed by
# the real default (openssl passwd -6, sha512-crypt) in one process.
pw=$(openssl rand -hex 12)
for _ in $(seq 1 "$N"); do printf '%s\n' "$pw"; done | openssl passwd -6 -stdin >"$TP_TMP/hashes" ||
	tp_fail "openssl passwd -6 failed"
seq 1 "$N" | paste -d: - "$TP_TMP/hashes" | sed 's/^/crowd/' >>"$TP_CONF/demo/users.htpasswd"
# shellcheck disable=SC2016 # a literal $6$
[ "$(grep -c '^crowd[0-9]*:\$6\$' "$TP_CONF/demo/users.htpasswd")" -eq "$N" ] ||
	tp_fail "the users file does not hold $N sha512-crypt users"

# The server as in the issue: a /21 pool, max_sessions 2000, room for the
# whole crowd's handshakes at once.
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/21";|' \
	-e 's|# max_sessions = 256; .*|max_sessions = 2000;|' \
	-e 's|# max_handshakes = 128; .*|max_handshakes = 2000;|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-crowd.conf"
grep -q 'max_handshakes = 2000;' "$TP_CONF/server-crowd.conf" || tp_fail "cannot edit server.conf"
grep -q '10.0.0.1/21' "$TP_CONF/server-crowd.conf" || tp_fail "cannot set the /21 in server.conf"
tp_server_start server "$TP_CONF/server-crowd.conf"
srvlog=$(tp_logfile server)
spid=$(tp_pid server)
tp_wait_log "$srvlog" "password-check threads" 5 || tp_fail "no start-up line about the password checks"
tp_ok "$(grep -o '[0-9]* password-check threads, queue [0-9]*' "$srvlog")"

fds() { find "/proc/$spid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# A session already up, pinging through the storm.
tp_client_up alice "$C" "$TP_CONF/client.conf"
tp_wait_ping "$C" 10.0.0.1 10 || tp_fail "alice cannot ping through her tunnel"
sleep 0.3
fd_start=$(fds)
tp_in "$C" ping -q -c 40 -i 0.1 -W "$(($(tp_ms 2000) / 1000))" 10.0.0.1 >"$TP_TMP/alice-ping.out" 2>&1 &
ppid=$!

tp_check "$N users at once from $N addresses: all in, no 503"
# (ip netns exec execs the program: $! is the crowd itself, to signal)
ip netns exec "$C" "$CROWD" --storm "$N" --server 10.200.0.1:8443 --tun 10.0.0.1 --prefix crowd \
	--password "$pw" --src 10.201.0.1 --ca "$TP_CONF/demo/ca.crt" --timeout "$(($(tp_ms 60000) / 1000))" \
	>"$TP_TMP/storm.out" 2>&1 &
cpid=$!
for _ in $(seq 1 $(($(tp_ms 60000) / 100))); do
	grep -q '^crowd: idle' "$TP_TMP/storm.out" && break
	tp_alive "$cpid" || break
	sleep 0.1
done
cat "$TP_TMP/storm.out"
line=$(grep '^crowd: storm' "$TP_TMP/storm.out") || tp_fail "the crowd reported nothing"
case $line in
*" in=$N "*" busy503=0 connect=0 tls=0 status=0 closed=0 timeout=0 bad_101=0"*) ;;
*) tp_fail "not every client got in on its first try: $line" ;;
esac
tp_ok "$line"
wait "$ppid" || { cat "$TP_TMP/alice-ping.out"; tp_fail "alice's ping lost packets during the storm"; }
grep -q ' 0% packet loss' "$TP_TMP/alice-ping.out" || tp_fail "alice's ping lost packets: $(cat "$TP_TMP/alice-ping.out")"
tp_ok "alice's session kept flowing: $(grep -o '[0-9]* received' "$TP_TMP/alice-ping.out") of 40"
# Idle for a few of the server's ticks, which give back idle sessions'
# TLS and record buffers: every session must still carry a ping.
sleep 2.5
kill -USR1 "$cpid"
for _ in $(seq 1 $(($(tp_ms 30000) / 100))); do
	grep -q '^crowd: pinged again' "$TP_TMP/storm.out" && break
	sleep 0.1
done
again=$(grep '^crowd: pinged again' "$TP_TMP/storm.out") || tp_fail "the crowd did not ping again"
[ "$again" = "crowd: pinged again sent=$N replies=$N" ] || tp_fail "after idling: $again"
tp_ok "after idling: $again"
kill -TERM "$cpid"
wait "$cpid" || tp_fail "the crowd exited with status $? after SIGTERM"
grep -q "^crowd: end still_up=$N" "$TP_TMP/storm.out" || tp_fail "sessions were lost while idle: $(tail -n 1 "$TP_TMP/storm.out")"

# The crowd's sessions are gone once it closed them, and so are their fds.
for _ in $(seq 1 50); do
	[ "$(fds)" -le "$fd_start" ] && break
	sleep 0.1
done
[ "$(fds)" -eq "$fd_start" ] || tp_fail "the server holds $(fds) fds after the crowd left, $fd_start before it came"
tp_ok "server fds back to $fd_start after the crowd left"
fd0=$(fds)

tp_check "$N sequential connect/upgrade/ping/close cycles by one user"
tp_in "$C" "$CROWD" --cycle "$N" --server 10.200.0.1:8443 --tun 10.0.0.1 --prefix crowd \
	--password "$pw" --src 10.201.0.1 --ca "$TP_CONF/demo/ca.crt" >"$TP_TMP/cycle.out" 2>&1 ||
	{ cat "$TP_TMP/cycle.out"; tp_fail "cycles failed"; }
line=$(grep '^crowd: cycle' "$TP_TMP/cycle.out")
case $line in
*" n=$N ok=$N "*) ;;
*) tp_fail "not every cycle succeeded: $line" ;;
esac
tp_ok "$line"
for _ in $(seq 1 50); do
	[ "$(fds)" -eq "$fd0" ] && break
	sleep 0.1
done
[ "$(fds)" -eq "$fd0" ] || tp_fail "the server holds $(fds) fds after the cycles, $fd0 before"
tp_ok "server fds back to $fd0"

tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
cached=$(tp_counter "$srvlog" tls-http auth_cached)
checks=$(tp_counter "$srvlog" tls-http auth_checks)
# The storm: one crypt per user; the cycles: the first one at most (its
# user was verified in the storm), every other a cache hit.
[ "${checks:-0}" -le $((N + 2)) ] || tp_fail "auth_checks=$checks: the cycles paid crypt"
[ "${cached:-0}" -ge $((N - 1)) ] || tp_fail "auth_cached=$cached: the cycles did not use the cache"
tp_ok "auth_checks=$checks auth_cached=$cached"
tp_say "PASS: $TP_NAME"
