#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGHUP re-reads the users file without dropping anyone:
#  - dave is not in the users file: refused (401);
#  - dave is added and the server gets SIGHUP: dave connects, while alice's
#    session, up since before the reload, still passes traffic;
#  - a users file broken by a bad edit is refused on SIGHUP and the old one
#    stays in force (alice can still reconnect).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-reload rld
tp_topology 2
tp_confdir
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
users="$TP_CONF/demo/users.htpasswd"

tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice cannot ping before the reload"

tp_check "a user missing from the users file is refused"
printf 'dave-secret\n' >"$TP_CONF/demo/dave.pass"
chmod 600 "$TP_CONF/demo/dave.pass"
dave_conf=$(tp_conf_for_user "$TP_CONF/client.conf" dave)
tp_start dave "$C2" "$dave_conf"
tp_wait_log "$(tp_logfile dave)" 'authentication failed' 10 ||
	tp_fail "dave was not refused before being added"
tp_stop dave || true
tp_ok "dave refused"

tp_check "SIGHUP loads the new users file; existing sessions keep running"
printf 'dave:%s\n' "$(openssl passwd -6 dave-secret)" >>"$users"
kill -HUP "$(tp_pid server)"
tp_wait_log "$(tp_logfile server)" 'reloaded .*users' 5 || tp_fail "the server did not log the reload"
tp_client_up dave "$C2" "$dave_conf"
tp_ping "$C2" 10.0.0.1 2 || tp_fail "dave cannot ping after the reload"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice's session broke on the reload"
tp_ok "dave is up with $TP_ADDR; alice still passes traffic"
tp_stop dave || tp_fail "dave exited with status $?"

tp_check "a broken users file is refused on SIGHUP and the old one stays"
cp "$users" "$users.good"
printf 'this line has no colon\n' >>"$users"
kill -HUP "$(tp_pid server)"
tp_wait_log "$(tp_logfile server)" 'keep|kept|still|old' 5 ||
	tp_fail "the server did not say it kept the old users file"
tp_stop alice || true
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice cannot log in again after a bad reload"
tp_ok "bad users file refused; alice logs in with the old one"
tp_alive "$(tp_pid server)" || tp_fail "the server died"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
