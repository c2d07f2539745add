#!/bin/bash
# SPDX-License-Identifier: MIT
# Privilege drop and readiness: server and client started as root with
# user = "nobody" run as uid 65534 holding only CAP_NET_ADMIN
# (/proc/PID/status), with no_new_privs; the tunnel works; the server tells
# a notify socket of ours READY=1 only once it listens and has dropped root,
# RELOADING=1/READY=1 around SIGHUP (the users file re-read as nobody) and
# STOPPING=1 on SIGTERM.  The server is then restarted with another address
# pool and a pushed route: the client, still nobody, reconnects and applies
# the new address and route with the capability it kept, and ping works.
# Last, a client started as nobody with only an ambient CAP_NET_ADMIN (as
# User= + AmbientCapabilities= would start it) just runs.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-privdrop prv
tp_need ss socat setpriv
getent passwd nobody >/dev/null || tp_skip "no user 'nobody' on this system"
tp_topology 1
tp_confdir
C1=$(tp_client_ns 1)
S=$(tp_server_ns)
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3) || tp_skip "no group 'nogroup' on this system"

# What nobody reads after start: the users file on SIGHUP.  The keys and
# the password file stay root-only (0600): they are read before the drop.
chmod 0711 "$TP_TMP" "$TP_CONF" "$TP_CONF/demo"
chmod 0644 "$TP_CONF/demo/users.htpasswd"
{ printf 'user = "nobody";\ngroup = "nogroup";\n'; cat "$TP_CONF/server.conf"; } >"$TP_CONF/server-nobody.conf"
{ printf 'user = "nobody";\n'; cat "$TP_CONF/client.conf"; } >"$TP_CONF/client-nobody.conf"
sed 's#^\( *address = "10.0.0.1/24";\).*#\1 pool = "10.0.0.50-10.0.0.60"; push_routes = [ "10.77.0.0/24" ];#' \
	"$TP_CONF/server-nobody.conf" >"$TP_CONF/server-nobody2.conf"
grep -q 'push_routes = \[ "10.77.0.0/24" \]' "$TP_CONF/server-nobody2.conf" ||
	tp_fail "could not write the second server config"
"$TUNPIPE" -t -c "$TP_CONF/server-nobody.conf" >/dev/null || tp_fail "server-nobody.conf does not check"
sed 's/^user = "nobody";/user = "tp-no-such-user";/' "$TP_CONF/server-nobody.conf" >"$TP_CONF/server-nouser.conf"
tp_expect_refused "$TP_TMP/nouser.out" "$TP_CONF/server-nouser.conf" "a user that does not exist" \
	"user 'tp-no-such-user': no such user"
tp_ok "tunpipe -t refuses an unknown user: $(head -n 1 "$TP_TMP/nouser.out")"

# Our own notify socket, writable by nobody as systemd's is.
NOTIFY="$TP_TMP/notify.sock"
(umask 0 && exec socat -u UNIX-RECV:"$NOTIFY" OPEN:"$TP_TMP/notify.out",creat,append) &
echo $! >"$TP_TMP/socat.pid"
for _ in $(seq 1 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
[ -S "$NOTIFY" ] || tp_fail "socat did not create $NOTIFY"

# status_is PID FIELD VALUE — a line of /proc/PID/status, tabs as spaces.
status_is() {
	local got
	got=$(awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status")
	[ "$got" = "$3" ] || tp_fail "$4: /proc/$1/status has '$2: $got', expected '$3'"
}
check_dropped() {
	local name=$1 pid gid=$2
	pid=$(tp_pid "$name")
	tp_alive "$pid" || tp_fail "$name is not running"
	status_is "$pid" Uid "$NOBODY $NOBODY $NOBODY $NOBODY" "$name"
	status_is "$pid" Gid "$gid $gid $gid $gid" "$name"
	status_is "$pid" Groups "" "$name (supplementary groups)"
	# CAP_NET_ADMIN is bit 12: 0x1000, and nothing else anywhere.
	status_is "$pid" CapEff 0000000000001000 "$name"
	status_is "$pid" CapPrm 0000000000001000 "$name"
	status_is "$pid" CapInh 0000000000000000 "$name"
	status_is "$pid" CapAmb 0000000000000000 "$name"
	status_is "$pid" CapBnd 0000000000001000 "$name"
	status_is "$pid" NoNewPrivs 1 "$name"
	tp_ok "$name runs as uid $NOBODY gid $gid with only CAP_NET_ADMIN (CapEff=CapPrm=CapBnd=1000), no_new_privs"
}

tp_check "READY=1 only once the server listens and has dropped root"
NOTIFY_SOCKET=$NOTIFY tp_start server "$S" "$TP_CONF/server-nobody.conf"
pid=$(tp_pid server)
for _ in $(seq 1 200); do
	grep -q 'READY=1' "$TP_TMP/notify.out" 2>/dev/null && break
	tp_alive "$pid" || tp_fail "the server exited before READY=1"
	sleep 0.05
done
grep -q 'READY=1' "$TP_TMP/notify.out" || tp_fail "no READY=1 on the notify socket within 10 s"
tp_in "$S" ss -Hltn "sport = :8443" | grep -q . || tp_fail "READY=1 came before the server listened"
awk '$1 == "Uid:" { exit !($2 == '"$NOBODY"') }' "/proc/$pid/status" ||
	tp_fail "READY=1 came before the server dropped root"
tp_ok "READY=1 after listen and the switch to nobody"
check_dropped server "$NOGROUP"
tp_wait_log "$(tp_logfile server)" "running as user nobody \(uid $NOBODY, gid $NOGROUP\) with CAP_NET_ADMIN only" 2 ||
	tp_fail "the server's log does not say which user it runs as"

tp_client_up alice "$C1" "$TP_CONF/client-nobody.conf"
check_dropped alice "$(id -g nobody)"
tp_ping "$C1" 10.0.0.1 3 || tp_fail "no ping through the tunnel with both ends as nobody"
tp_ok "ping through the tunnel ($TP_ADDR)"

tp_check "SIGHUP: RELOADING=1 then READY=1, the users file re-read as nobody"
kill -HUP "$pid"
tp_wait_log "$(tp_logfile server)" 'reloaded .*users.htpasswd: 3 users' 5 ||
	tp_fail "the server did not re-read the users file as nobody"
for _ in $(seq 1 50); do [ "$(grep -o 'READY=1' "$TP_TMP/notify.out" | wc -l)" -ge 2 ] && break; sleep 0.1; done
tr '\n' ' ' <"$TP_TMP/notify.out" | grep -Eq 'READY=1RELOADING=1 MONOTONIC_USEC=[0-9]+READY=1' ||
	tp_fail "notify datagrams around SIGHUP were: $(tr '\n' ' ' <"$TP_TMP/notify.out")"
tp_ok "notify: $(tr '\n' ' ' <"$TP_TMP/notify.out")"

tp_check "server restarted with another pool and a pushed route: the client (nobody) applies them"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
grep -q 'STOPPING=1$' "$TP_TMP/notify.out" || tp_fail "no STOPPING=1 on SIGTERM"
tp_ok "STOPPING=1 on SIGTERM"
tp_server_start server "$TP_CONF/server-nobody2.conf"
check_dropped server "$NOGROUP"
for _ in $(seq 1 450); do
	ip -n "$C1" -4 -o addr show dev tun0 | grep -q ' 10\.0\.0\.5[0-9]/' && break
	sleep 0.1
done
ip -n "$C1" -4 -o addr show dev tun0 | grep -q ' 10\.0\.0\.5[0-9]/' ||
	tp_fail "the client did not take the new pool's address: $(ip -n "$C1" -4 -o addr show dev tun0)"
ip -n "$C1" route show 10.77.0.0/24 | grep -q 'dev tun0' ||
	tp_fail "the pushed route 10.77.0.0/24 is not on the client's tun0"
tp_wait_ping "$C1" 10.0.0.1 20 || tp_fail "no ping after the reconnect"
tp_ping "$C1" 10.0.0.1 3 || tp_fail "ping after the reconnect is not steady"
if grep -Ei 'not permitted|cannot (set|add|remove)' "$(tp_logfile alice)"; then
	tp_fail "the client hit a permission error applying the new session"
fi
check_dropped alice "$(id -g nobody)"
tp_ok "reconnected as nobody: $(ip -n "$C1" -4 -o addr show dev tun0 | awk '{print $4}'), route 10.77.0.0/24 via tun0, ping works"

tp_stop alice || tp_fail "alice exited with status $?"

tp_check "started unprivileged with CAP_NET_ADMIN granted (ambient), the client just runs"
# What the service manager's User= + AmbientCapabilities= would do; the
# password file must then be readable by that user.
chmod 0644 "$TP_CONF/demo/client.pass"
# /dev/net/tun is 0666 on Debian but may be 0600 in a container: give the
# client a 0666 node of the same device in a mount namespace of its own.
mkdir "$TP_TMP/tundev"
ip netns exec "$C1" unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs -o mode=0755 tptun "$0" &&
	mknod -m 0666 "$0/tun" c 10 200 && mount --bind "$0/tun" /dev/net/tun && exec "$@"' "$TP_TMP/tundev" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
	"$TUNPIPE" -c "$TP_CONF/client-nobody.conf" >>"$TP_TMP/unpriv.log" 2>&1 &
echo $! >"$TP_TMP/unpriv.pid"
tp_wait_ping "$C1" 10.0.0.1 20 ||
	{ tail -n 40 "$TP_TMP/unpriv.log"; tail -n 20 "$(tp_logfile server)"; tp_fail "no ping from the client started as nobody"; }
check_dropped unpriv "$NOGROUP"
tp_wait_log "$(tp_logfile unpriv)" "not started as root: staying uid $NOBODY, capabilities trimmed to CAP_NET_ADMIN" 2 ||
	tp_fail "the unprivileged client does not say it trimmed its capabilities"
tp_stop unpriv || tp_fail "the unprivileged client exited with status $?"
tp_ok "an unprivileged client with ambient CAP_NET_ADMIN brings its tunnel up"

tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
