#!/bin/bash
# SPDX-License-Identifier: MIT
# Hostile logins (issue 10, findings 1, 2, 3, 8, 9 and the small ones),
# attackers and victims in separate namespaces with their own addresses:
#  - 300 idle connections held from one address (reopened as dropped):
#    every correct login from another address succeeds;
#  - 100 wrong guesses sent at once from one address get at most the
#    limiter's allowance (5) of password checks (the auth_checks counter),
#    and the address is logged as throttled once, and released once;
#  - bcrypt cost-12 users, one address flooding logins with a valid
#    account (as many at once as it may without being throttled, so it
#    keeps the password checker busy all the time; auth_cache = 0, or the
#    cache would answer its repeated login without a check): another
#    address's login completes in under 2 s each time;
#  - a wrong password costs the same for a bcrypt user and for a name that
#    does not exist (medians within 10 %), although the file's first entry
#    is a cheap $6$ one;
#  - max_sessions_per_user: the third session of a user gets 503; with
#    replace_oldest_session the oldest is closed instead;
#  - a request that does not arrive in time gets 408; Upgrade over
#    HTTP/1.0 gets 426.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
# It loads the machine on purpose: no timing test runs alongside (lib.sh).
TP_EXCLUSIVE=1
tp_init test-hostile-login hhl
tp_need curl ss htpasswd python3
tp_topology 3
tp_confdir
S=$(tp_server_ns)
VICTIM=$(tp_client_ns 1)   # 10.200.0.11
ATTACK=$(tp_client_ns 2)   # 10.200.0.12
OTHER=$(tp_client_ns 3)    # 10.200.0.13, and .101-.112 for the timing
CA="$TP_CONF/demo/ca.crt"
HP="$top_srcdir/tests/e2e/hostile.py"
hp() {
	local ns=$1
	shift
	tp_in "$ns" python3 "$HP" "$@"
}
# hp_bg OUT NS ARGS — hostile.py in the background, output to OUT; $! is
# python itself (ip netns exec execs it), so kill $! stops it.
hp_bg() {
	local out=$1 ns=$2
	shift 2
	# Emptied here, not by the background job's redirection: a wait for
	# its first line must not find the last run's (hold1.out is reused).
	: >"$out"
	ip netns exec "$ns" python3 "$HP" "$@" >>"$out" 2>&1 &
}
pw() { head -n 1 "$TP_CONF/demo/$1.pass"; }
srvlog=$(tp_logfile server)

# counter NAME — its value now (SIGUSR1 logs every counter).
counter() {
	local before
	before=$(grep -c 'tls-http\] counters:' "$srvlog" || true)
	kill -USR1 "$(tp_pid server)"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'tls-http\] counters:' "$srvlog" || true)" -gt "$before" ] && break
		sleep 0.1
	done
	tp_counter "$srvlog" tls-http "$1"
}

# The users: alice first with a cheap $6$ hash (what made unknown names
# cheap before), the rest bcrypt cost 12; mallory is the attacker's own
# valid account.
tp_check "a users file of bcrypt cost-12 users"
users="$TP_CONF/demo/users.htpasswd"
echo "mallory-password" >"$TP_CONF/demo/mallory.pass"
{
	grep '^alice:' "$users"
	for u in bob carol mallory; do
		htpasswd -nbB -C 12 "$u" "$(pw "$u")" | grep .
	done
} >"$users.new"
mv "$users.new" "$users"
chmod 600 "$users"
conf="$TP_CONF/server-hostile.conf"
sed -e '/^ *users *= /a\        max_sessions_per_user = 2;\n        handshake_timeout = 4000;\n        auth_cache = 0;' \
	"$TP_CONF/server.conf" >"$conf"
grep -q 'max_sessions_per_user = 2' "$conf" || tp_fail "could not edit $conf"
tp_server_start server "$conf"
tp_ok "alice (\$6\$) + bob, carol, mallory (\$2b\$ cost 12)"

tp_check "300 idle connections from $ATTACK do not lock out logins from another address"
hp "$ATTACK" idle 10.200.0.1 8443 300 14 >"$TP_TMP/idle.out" 2>&1 &
idle_pid=$!
sleep 3
hp "$VICTIM" login 10.200.0.1 8443 "$CA" alice "$(pw alice)" 11 >"$TP_TMP/victim.out" 2>&1 || true
wait "$idle_pid" || { cat "$TP_TMP/idle.out"; tp_fail "the idle flood failed"; }
ok=$(awk '$1 == 101' "$TP_TMP/victim.out" | wc -l)
slow=$(awk 'NR == 1 || $2 > m { m = $2 } END { print m + 0 }' "$TP_TMP/victim.out")
[ "$ok" -eq 11 ] || { cat "$TP_TMP/victim.out"; tp_fail "only $ok of 11 correct logins succeeded"; }
lines=$(grep -c 'max_handshakes_per_address' "$srvlog" || true)
[ "$lines" -le 3 ] || tp_fail "$lines warnings about one address's handshakes in 14 s (not rate-limited)"
tp_ok "attacker: $(cat "$TP_TMP/idle.out"); victim: 11/11 logins, slowest $slow ms; $lines warning line(s)"

tp_check "100 wrong guesses at once from one address get at most 5 password checks"
checks0=$(counter auth_checks)
hp "$OTHER" burst 10.200.0.1 8443 "$CA" bob 100 >"$TP_TMP/burst.out" 2>&1 ||
	{ cat "$TP_TMP/burst.out"; tp_fail "the burst failed"; }
checks1=$(counter auth_checks)
n=$((checks1 - checks0))
[ "$n" -le 5 ] || tp_fail "$n password checks for 100 guesses (allowance 5)"
grep -q '^401 ' "$TP_TMP/burst.out" || { cat "$TP_TMP/burst.out"; tp_fail "no 401 at all"; }
grep -q '^429 ' "$TP_TMP/burst.out" || { cat "$TP_TMP/burst.out"; tp_fail "no 429 at all"; }
tp_wait_log "$srvlog" '10\.200\.0\.13 throttled' 10 || tp_fail "no 'throttled' line for 10.200.0.13"
thr=$(grep -c '10\.200\.0\.13 throttled' "$srvlog")
[ "$thr" -eq 1 ] || tp_fail "$thr 'throttled' lines for one address"
tp_ok "answers: $(tr '\n' ' ' <"$TP_TMP/burst.out")-> $n password checks; one 'throttled' line"

tp_check "one address flooding logins (bcrypt cost 12) does not stall another's"
checks0=$(counter auth_checks)
hp "$ATTACK" flood 10.200.0.1 8443 "$CA" mallory mallory-password 12 2 >"$TP_TMP/flood.out" 2>&1 &
flood_pid=$!
sleep 2
hp "$VICTIM" login 10.200.0.1 8443 "$CA" carol "$(pw carol)" 5 >"$TP_TMP/fair.out" 2>&1 || true
wait "$flood_pid" || true
# The flood must really have kept the checker busy (a cache hit or a
# refusal costs no check, and then this would measure nothing).
n=$(($(counter auth_checks) - checks0))
[ "$n" -ge 10 ] || { cat "$TP_TMP/flood.out"; tp_fail "only $n password checks during the flood: it did not load the checker"; }
awk '$1 != 101 { bad = 1 } END { exit bad }' "$TP_TMP/fair.out" ||
	{ cat "$TP_TMP/fair.out"; tp_fail "carol's logins did not all succeed"; }
worst=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$TP_TMP/fair.out")
limit=$(tp_ms 2000)
[ "$worst" -lt "$limit" ] || { cat "$TP_TMP/fair.out"; tp_fail "carol's login took $worst ms (limit $limit)"; }
tp_ok "attacker's answers $(cat "$TP_TMP/flood.out") ($n password checks); carol's 5 logins: $(awk '{ printf "%s ", $2 }' "$TP_TMP/fair.out")ms"

tp_check "a wrong password costs the same for a bcrypt user and for an unknown name"
srcs=()
for i in $(seq 101 112); do
	ip -n "$OTHER" addr add "10.200.0.$i/24" dev eth0
	srcs+=("10.200.0.$i")
done
hp "$OTHER" timing 10.200.0.1 8443 "$CA" 9 bob no-such-user "${srcs[@]}" >"$TP_TMP/timing.out" 2>&1 ||
	{ cat "$TP_TMP/timing.out"; tp_fail "the timing run failed"; }
# The fastest of 9: what the server spends, without the scheduling delays
# a shared machine adds to the others (measured here: quartiles and
# medians wander by 10-15 % under load, minimums by 1-2 %; before the fix
# the unknown name took ~1 % of the known user's time, far outside that).
fastest() { sed -n "s/^$1 .*min_ms=\([0-9.]*\).*/\1/p" "$TP_TMP/timing.out"; }
med() { sed -n "s/^$1 .*median_ms=\([0-9.]*\).*/\1/p" "$TP_TMP/timing.out"; }
known=$(fastest bob)
unknown=$(fastest no-such-user)
[ "$(grep -c 'statuses=401x9$' "$TP_TMP/timing.out")" -eq 2 ] || { cat "$TP_TMP/timing.out"; tp_fail "not all 401"; }
awk -v k="$known" -v u="$unknown" 'BEGIN { d = k - u; if (d < 0) d = -d; exit !(k > 0 && d <= 0.1 * k) }' ||
	{ cat "$TP_TMP/timing.out"; tp_fail "known $known ms vs unknown $unknown ms: more than 10 % apart"; }
tp_ok "wrong-password answer, fastest (median) of 9: bob $known ms ($(med bob)), unknown name $unknown ms ($(med no-such-user))"

tp_check "max_sessions_per_user = 2: the third session of alice gets 503"
hp_bg "$TP_TMP/hold1.out" "$VICTIM" hold 10.200.0.1 8443 "$CA" alice "$(pw alice)" 20
h1=$!
hp_bg "$TP_TMP/hold2.out" "$VICTIM" hold 10.200.0.1 8443 "$CA" alice "$(pw alice)" 20
h2=$!
tp_wait_log "$TP_TMP/hold1.out" '^up' 10 && tp_wait_log "$TP_TMP/hold2.out" '^up' 10 ||
	tp_fail "alice's first two sessions did not come up"
third=$(hp "$OTHER" login 10.200.0.1 8443 "$CA" alice "$(pw alice)" 1 | awk '{ print $1 }')
[ "$third" = 503 ] || tp_fail "the third session got '$third', expected 503"
bob=$(hp "$OTHER" login 10.200.0.1 8443 "$CA" carol "$(pw carol)" 1 | awk '{ print $1 }')
[ "$bob" = 101 ] || tp_fail "another user got '$bob' while alice is at her limit"
kill "$h1" "$h2" 2>/dev/null || true
wait "$h1" "$h2" 2>/dev/null || true
tp_ok "third session: 503; carol meanwhile: 101"

tp_check "a request that does not arrive in time gets 408; Upgrade over HTTP/1.0 gets 426"
partial=$(printf 'GET /vpn HTTP/1.1\r\nHost: vpn.test\r\n' | od -An -tx1 | tr -d ' \n')
r408=$(hp "$VICTIM" raw 10.200.0.1 8443 "$CA" 8 "$partial")
case $r408 in
"HTTP/1.1 408 Request Timeout|"*) ;;
*) tp_fail "partial request answered '$r408'" ;;
esac
cred=$(printf 'alice:%s' "$(pw alice)" | base64 -w0)
req10=$(printf 'GET /vpn HTTP/1.0\r\nHost: vpn.test\r\nAuthorization: Basic %s\r\nConnection: Upgrade\r\nUpgrade: Simple-VPN\r\n\r\n' "$cred" |
	od -An -tx1 | tr -d ' \n')
r10=$(hp "$VICTIM" raw 10.200.0.1 8443 "$CA" 5 "$req10")
case $r10 in
"HTTP/1.1 426 "*) ;;
*) tp_fail "HTTP/1.0 upgrade answered '$r10'" ;;
esac
tp_ok "partial request: ${r408%%|*} after ${r408##*|} ms (handshake_timeout 4000); HTTP/1.0: ${r10%%|*}"

tp_check "the throttled address is released, in one line"
tp_wait_log "$srvlog" '10\.200\.0\.13 released' 15 || tp_fail "no 'released' line for 10.200.0.13"
rel=$(grep -c '10\.200\.0\.13 released' "$srvlog")
[ "$rel" -eq 1 ] || tp_fail "$rel 'released' lines"
tp_ok "one 'released' line"

tp_check "replace_oldest_session: the third session replaces alice's oldest"
tp_stop server || tp_fail "server exited with status $?"
sed -i -e 's/max_sessions_per_user = 2;/max_sessions_per_user = 2; replace_oldest_session = true;/' "$conf"
tp_server_start server "$conf"
hp_bg "$TP_TMP/hold1.out" "$VICTIM" hold 10.200.0.1 8443 "$CA" alice "$(pw alice)" 20
h1=$!
tp_wait_log "$TP_TMP/hold1.out" '^up' 10 || tp_fail "alice's first session did not come up"
hp_bg "$TP_TMP/hold2.out" "$VICTIM" hold 10.200.0.1 8443 "$CA" alice "$(pw alice)" 20
h2=$!
tp_wait_log "$TP_TMP/hold2.out" '^up' 10 || tp_fail "alice's second session did not come up"
third=$(hp "$OTHER" login 10.200.0.1 8443 "$CA" alice "$(pw alice)" 1 | awk '{ print $1 }')
[ "$third" = 101 ] || tp_fail "the third session got '$third', expected 101"
tp_wait_log "$TP_TMP/hold1.out" '^closed' 5 ||
	{ tail "$TP_TMP"/hold?.out; tp_fail "alice's oldest session was not closed"; }
grep -q '^open\|^closed' "$TP_TMP/hold2.out" && tp_fail "alice's second session was closed too"
kill "$h1" "$h2" 2>/dev/null || true
wait "$h1" "$h2" 2>/dev/null || true
tp_ok "third session: 101; the oldest closed, the second kept"

tp_stop server || tp_fail "server exited with status $?"
tp_ok "refused=$(tp_counter "$srvlog" tls-http refused) auth_checks=$(tp_counter "$srvlog" tls-http auth_checks) auth_throttled=$(tp_counter "$srvlog" tls-http auth_throttled)"
