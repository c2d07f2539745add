#!/bin/bash
# SPDX-License-Identifier: MIT
# up/down hooks: `up` runs when the session comes up with the session's
# facts in TUNPIPE_* (checked one by one), its output and status logged;
# `down` runs at stop with the same facts; a failing `up` closes the
# session (the client reconnects and runs it again), `up_failure =
# "ignore"` keeps it; a hook that hangs is killed at `hook_timeout` while
# the tunnel keeps passing traffic (the loop never waits for it); an old
# session's slow, failing up hook neither stalls nor closes the next one.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-hooks hk
tp_topology 1
tp_confdir
C=$(tp_client_ns 1)
H=$TP_TMP/hooks
mkdir -p "$H"

sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; address6 = "fd00:7::1/64"; push_routes = [ "10.77.0.0/16" ]; push_dns = [ "10.0.0.53" ]; push_search = [ "corp.test" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-hooks.conf"
cat >"$H/record" <<'SH'
#!/bin/sh
# Writes its environment for the test and says something to the log.
env | sort >"$HOOKDIR/$TUNPIPE_SCRIPT_TYPE.env"
echo "hello from $TUNPIPE_SCRIPT_TYPE on $TUNPIPE_DEVICE"
SH
sed -i "s|\$HOOKDIR|$H|" "$H/record"
printf '#!/bin/sh\necho "refusing: no VPN today" >&2\nexit 3\n' >"$H/fail"
printf '#!/bin/sh\nexec sleep 60\n' >"$H/hang"
# The first run is slow and fails; every later one succeeds at once.
cat >"$H/slowfail" <<SH
#!/bin/sh
if mkdir "$H/slowfail.ran" 2>/dev/null; then sleep 4; exit 1; fi
exit 0
SH
chmod +x "$H/record" "$H/fail" "$H/hang" "$H/slowfail"
# client-NAME.conf with the given tun options.
client_conf() {
	sed -e "s|device = \"tun0\";|device = \"tun0\"; dns = \"off\"; $2|" "$TP_CONF/client.conf" >"$TP_CONF/client-$1.conf"
}
client_conf record "up = \"$H/record\"; down = \"$H/record\";"
client_conf fail "up = \"$H/fail\";"
client_conf ignore "up = \"$H/fail\"; up_failure = \"ignore\";"
client_conf hang "up = \"$H/hang\"; hook_timeout = 2;"
client_conf slowfail "up = \"$H/slowfail\"; hook_timeout = 10;"

tp_server_start server "$TP_CONF/server-hooks.conf"

tp_check "up runs with the session's facts in its environment; its output and status are logged"
tp_client_up client "$C" "$TP_CONF/client-record.conf"
tp_wait_log "$(tp_logfile client)" "up hook .*/record exited with status 0" 10 || tp_fail "up hook not run or not logged"
grep -q "up hook: hello from up on tun0" "$(tp_logfile client)" || tp_fail "the hook's output is not in the log"
e=$H/up.env
expect() {
	grep -qx "$1" "$e" || { cat "$e"; tp_fail "$(basename "$e"): expected '$1'"; }
}
expect "TUNPIPE_SCRIPT_TYPE=up"
expect "TUNPIPE_DEVICE=tun0"
expect "TUNPIPE_MTU=1400"
expect "TUNPIPE_ADDRESS=$TP_ADDR/24"
expect "TUNPIPE_GATEWAY=10.0.0.1"
expect "TUNPIPE_ADDRESS6=fd00:7::2/64"
expect "TUNPIPE_GATEWAY6=fd00:7::1"
expect "TUNPIPE_ROUTES=10.77.0.0/16"
expect "TUNPIPE_DNS=10.0.0.53"
expect "TUNPIPE_DNS_SEARCH=corp.test"
expect "TUNPIPE_USER=alice"
expect "TUNPIPE_SERVER=10.200.0.1:8443"
grep -q "^HOME=\|^TUNPIPE_PLUGIN_PATH=" "$e" && tp_fail "the hook inherited the daemon's environment"
tp_ok "$(grep -c '^TUNPIPE_' "$e") TUNPIPE_ variables as expected, nothing else of ours"

tp_check "down runs at stop with the same facts"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
e=$H/down.env
expect "TUNPIPE_SCRIPT_TYPE=down"
expect "TUNPIPE_ADDRESS=$TP_ADDR/24"
expect "TUNPIPE_SERVER=10.200.0.1:8443"
grep -q "down hook .*/record exited with status 0" "$(tp_logfile client)" || tp_fail "down hook not logged"
tp_ok "down hook ran before exit"

tp_check "a failing up closes the session, with its output and status logged"
tp_start fail "$C" "$TP_CONF/client-fail.conf"
tp_wait_log "$(tp_logfile fail)" "up hook .*/fail failed with status 3: closing the session" 15 ||
	tp_fail "the failing up hook did not close the session"
grep -q "up hook: refusing: no VPN today" "$(tp_logfile fail)" || tp_fail "the hook's stderr is not in the log"
tp_wait_log "$(tp_logfile fail)" "session [0-9]+ closed .*up hook failed" 5 || tp_fail "the session was not closed for the hook"
tp_stop fail || tp_fail "client exited with status $? on SIGTERM"
tp_ok "$(grep -o 'up hook .*fail failed with status 3.*' "$(tp_logfile fail)" | head -n 1)"

tp_check "up_failure = ignore keeps the session"
tp_client_up ignore "$C" "$TP_CONF/client-ignore.conf"
tp_wait_log "$(tp_logfile ignore)" "the session stays up \(up_failure = ignore\)" 10 || tp_fail "not logged"
tp_ping "$C" 10.0.0.1 3 || tp_fail "the session did not stay up"
tp_stop ignore || tp_fail "client exited with status $? on SIGTERM"
tp_ok "pings after the failed hook"

tp_check "a hanging up is killed at hook_timeout; the tunnel passes traffic meanwhile"
tp_client_up hang "$C" "$TP_CONF/client-hang.conf"
tp_ping "$C" 10.0.0.1 3 || tp_fail "the tunnel did not pass traffic while the hook ran"
tp_wait_log "$(tp_logfile hang)" "up hook did not finish in time: killed" 5 || tp_fail "the hook was not killed after 2 s"
tp_wait_log "$(tp_logfile hang)" "up hook .*/hang timed out: closing the session" 5 || tp_fail "the timeout did not close the session"
ps -o comm= -p "$(ip netns pids "$C" | paste -sd, -)" | grep -qx sleep && tp_fail "the hung hook is still running"
tp_stop hang || tp_fail "client exited with status $? on SIGTERM"
tp_ok "killed after 2 s, pings went through meanwhile"

tp_check "an old session's slow, failing up hook neither stalls the next session nor closes it"
tp_client_up slowfail "$C" "$TP_CONF/client-slowfail.conf"
slog=$(tp_logfile slowfail)
# A new session while the first one's hook still sleeps: restart the server.
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
tp_server_start server "$TP_CONF/server-hooks.conf"
tp_wait_log "$slog" 'running up hook .*slowfail' 5 || tp_fail "no hook started"
tp_wait_ping "$C" 10.0.0.1 3 || tp_fail "the new session passed no traffic while the old hook ran"
grep -q 'up hook .*slowfail.* exited\|failed with status' "$slog" &&
	tp_fail "the old hook ended before the new session was up; the check proves nothing"
tp_wait_log "$slog" 'up hook .*slowfail failed with status 1; the session stays up \(it is already gone\)' 8 ||
	{ cat "$slog"; tp_fail "the old hook's failure was not logged as belonging to a gone session"; }
tp_wait_log "$slog" 'up hook .*slowfail exited with status 0' 5 || tp_fail "the new session's hook did not run after the old one"
grep -q 'closing the session' "$slog" && tp_fail "the old hook's failure closed the new session"
tp_ping "$C" 10.0.0.1 3 || tp_fail "the new session did not stay up"
tp_stop slowfail || tp_fail "client exited with status $? on SIGTERM"
tp_ok "the new session pinged during the old hook; its failure closed nothing; the new hook ran after it"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
