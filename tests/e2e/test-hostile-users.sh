#!/bin/bash
# SPDX-License-Identifier: MIT
# The users file under change (issue 10, findings 6 and 10; issue 9's
# reload of users):
#  - `bob:!<hash>` and `carol:*` (locked, shadow's convention) load, and
#    their logins get 401 like a wrong password, with the right password;
#  - SIGHUP with a user locked, one removed and one whose password changed
#    closes exactly those users' sessions within a second, one log line
#    each; the others keep theirs;
#  - a locked entry added by SIGHUP refuses that user from then on;
#  - a broken file on SIGHUP keeps the old list and says so at error
#    level with the line; logins go on as before;
#  - the failed-login limiter survives SIGHUP (log rotation sends it);
#  - as root, TUNPIPE_PLUGIN_PATH is ignored with a warning unless
#    TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-hostile-users hhu
tp_need ss openssl python3
tp_topology 2
tp_confdir
USERS_NS=$(tp_client_ns 1)  # 10.200.0.11: the users
ATTACK=$(tp_client_ns 2)    # 10.200.0.12: guesses passwords
CA="$TP_CONF/demo/ca.crt"
HP="$top_srcdir/tests/e2e/hostile.py"
hp() { tp_hostile "$@"; }
# hp_bg OUT NS ARGS — hostile.py in the background, output to OUT; $! is
# python itself (ip netns exec execs it), so kill $! stops it.
hp_bg() {
	local out=$1 ns=$2
	shift 2
	ip netns exec "$ns" python3 "$HP" "$@" >"$out" 2>&1 &
}
users="$TP_CONF/demo/users.htpasswd"
srvlog=$(tp_logfile server)
# entry USER PASSWORD — a user:hash line ($6$, as make-demo-creds makes)
entry() { printf '%s:%s\n' "$1" "$(openssl passwd -6 "$2")"; }
# login USER PASSWORD [SRC] — the status of one login; wrong ones come
# from addresses of their own (.21-.29) so the users' address is never
# throttled by this test's own refusals.
login() { hp "$USERS_NS" login 10.200.0.1 8443 "$CA" "$1" "$2" 1 "${3:-10.200.0.11}" | awk '{ print $1 }'; }
reload() {
	local n
	n=$(grep -c 'reload' "$srvlog" || true)
	kill -HUP "$(tp_pid server)"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'reload' "$srvlog" || true)" -gt "$n" ] && return 0
		sleep 0.1
	done
	tp_fail "the server did not log a reload within 5 s of SIGHUP"
}

for i in $(seq 21 29); do
	ip -n "$USERS_NS" addr add "10.200.0.$i/24" dev eth0
done

tp_check "locked entries (! and *) are accepted at load and refused at login"
{
	entry alice pw-alice
	printf 'bob:!%s\n' "$(openssl passwd -6 pw-bob)"
	echo 'carol:*'
	entry dave pw-dave
	entry erin pw-erin
	entry frank pw-frank
} >"$users"
tp_server_start server "$TP_CONF/server.conf"
code=$(login bob pw-bob 10.200.0.21)
[ "$code" = 401 ] || tp_fail "locked bob got '$code' with his password, expected 401"
code=$(login carol '*' 10.200.0.22)
[ "$code" = 401 ] || tp_fail "locked carol got '$code' with password '*', expected 401"
code=$(login carol '' 10.200.0.23)
[ "$code" = 401 ] || tp_fail "locked carol got '$code' with an empty password, expected 401"
[ "$(login alice pw-alice)" = 101 ] || tp_fail "alice cannot log in"
tp_ok "bob (!hash) and carol (*) get 401; alice 101"

tp_check "SIGHUP closes the sessions of users removed, locked or with a new password, within 1 s"
for u in alice dave erin frank; do
	hp_bg "$TP_TMP/hold-$u.out" "$USERS_NS" hold 10.200.0.1 8443 "$CA" "$u" "pw-$u" 30
	echo $! >"$TP_TMP/hold-$u.pid"
done
for u in alice dave erin frank; do
	tp_wait_log "$TP_TMP/hold-$u.out" '^up' 10 || tp_fail "$u's session did not come up"
done
{
	entry alice pw-alice-new             # password changed
	printf 'bob:!%s\n' "$(openssl passwd -6 pw-bob)"
	echo 'carol:*'
	printf 'dave:!%s\n' "$(grep '^dave:' "$users" | cut -d: -f2)"  # locked
	grep '^frank:' "$users"              # unchanged
} >"$users.new"                          # erin removed
mv "$users.new" "$users"
t0=$(date +%s%N)
reload
for u in alice dave erin; do
	tp_wait_log "$TP_TMP/hold-$u.out" '^closed' 3 || tp_fail "$u's session was not closed"
done
t1=$(date +%s%N)
# hold prints how long after `up` the close came; the bound that matters
# is from SIGHUP: the script's own clock, polling included.
ms=$(((t1 - t0) / 1000000))
[ "$ms" -le 1500 ] || tp_fail "the sessions were closed $ms ms after SIGHUP"
sleep 0.5
grep -q '^closed' "$TP_TMP/hold-frank.out" && tp_fail "frank (unchanged) lost his session"
for u in alice dave erin; do
	grep -q "closing the session of user $u from 10\.200\.0\.11" "$srvlog" ||
		tp_fail "no log line for $u's session"
done
kill "$(cat "$TP_TMP/hold-frank.pid")" 2>/dev/null || true
for u in alice dave erin frank; do
	wait "$(cat "$TP_TMP/hold-$u.pid")" 2>/dev/null || true
done
tp_ok "alice (new password), dave (locked), erin (removed) closed within $ms ms (polling included), one line each; frank kept his"

tp_check "after SIGHUP: dave (locked) gets 401, alice needs her new password"
[ "$(login dave pw-dave 10.200.0.24)" = 401 ] || tp_fail "locked dave was let in"
[ "$(login alice pw-alice 10.200.0.25)" = 401 ] || tp_fail "alice's old password still works"
[ "$(login alice pw-alice-new)" = 101 ] || tp_fail "alice's new password does not work"
[ "$(login erin pw-erin 10.200.0.26)" = 401 ] || tp_fail "removed erin was let in"
tp_ok "401, 401, 101, 401"

tp_check "a broken users file on SIGHUP keeps the old list and says so at error level"
cp "$users" "$TP_TMP/users.good"
printf 'grace\n' >>"$users"
line=$(wc -l <"$users")
reload
grep -E "error .*reload: users file .*users\.htpasswd:$line: expected user:hash; keeping the previous users" "$srvlog" >/dev/null ||
	{ grep reload "$srvlog"; tp_fail "no error line naming line $line"; }
[ "$(login alice pw-alice-new)" = 101 ] || tp_fail "alice was refused after a failed reload"
[ "$(login dave pw-dave 10.200.0.27)" = 401 ] || tp_fail "dave was let in after a failed reload"
tp_ok "$(grep -E 'reload: users file' "$srvlog" | tail -n 1 | cut -c 25-)"

tp_check "the failed-login limiter survives SIGHUP"
cp "$TP_TMP/users.good" "$users"
hp "$ATTACK" burst 10.200.0.1 8443 "$CA" frank 20 >"$TP_TMP/burst.out" 2>&1 || true
code=$(hp "$ATTACK" login 10.200.0.1 8443 "$CA" frank pw-frank 1 10.200.0.12 | awk '{ print $1 }')
[ "$code" = 429 ] || { cat "$TP_TMP/burst.out"; tp_fail "after 20 guesses frank's login from 10.200.0.12 got '$code', not 429"; }
reload
code=$(hp "$ATTACK" login 10.200.0.1 8443 "$CA" frank pw-frank 1 10.200.0.12 | awk '{ print $1 }')
[ "$code" = 429 ] || tp_fail "after SIGHUP the throttled address got '$code', not 429"
[ "$(login frank pw-frank)" = 101 ] || tp_fail "frank cannot log in from his own address"
tp_ok "429 before and after SIGHUP; frank from 10.200.0.11: 101"

tp_stop server || tp_fail "server exited with status $?"

tp_check "running as root, TUNPIPE_PLUGIN_PATH is ignored with a warning unless allowed"
out=$(env -u TUNPIPE_ALLOW_ROOT_PLUGIN_PATH TUNPIPE_PLUGIN_PATH=/nonexistent/tp-plugins \
	"$TUNPIPE" inspect 2>&1 || true)
printf '%s\n' "$out" | grep -q 'ignoring TUNPIPE_PLUGIN_PATH=/nonexistent/tp-plugins: running as root' ||
	{ printf '%s\n' "$out"; tp_fail "no warning for TUNPIPE_PLUGIN_PATH as root"; }
out=$(TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1 TUNPIPE_PLUGIN_PATH=/nonexistent/tp-plugins "$TUNPIPE" inspect 2>&1 || true)
printf '%s\n' "$out" | grep -q 'ignoring TUNPIPE_PLUGIN_PATH' &&
	tp_fail "TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1 did not allow it"
tp_ok "warned and ignored; allowed with TUNPIPE_ALLOW_ROOT_PLUGIN_PATH=1"
