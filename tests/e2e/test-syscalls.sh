#!/bin/bash
# SPDX-License-Identifier: MIT
# The unit's SystemCallFilter= allows every system call the daemon makes.
# Server and client (user = "nobody", so the privilege drop is traced too)
# run under strace through a whole life: start, handshake, ping, SIGHUP,
# SIGUSR1, server restart and reconnect, SIGTERM.  Every call seen must be
# in the groups the built tunpipe@.service allows, as systemd-analyze
# expands them; a call outside would be EPERM under systemd.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-syscalls sys
tp_need strace systemd-analyze pgrep
unit="$top_builddir/systemd/tunpipe@.service"
[ -f "$unit" ] || tp_fail "$unit not built"
tp_topology 1
tp_confdir
C1=$(tp_client_ns 1)
S=$(tp_server_ns)
chmod 0711 "$TP_TMP" "$TP_CONF" "$TP_CONF/demo"
chmod 0644 "$TP_CONF/demo/users.htpasswd"
{ printf 'user = "nobody";\n'; cat "$TP_CONF/server.conf"; } >"$TP_CONF/s.conf"
{ printf 'user = "nobody";\n'; cat "$TP_CONF/client.conf"; } >"$TP_CONF/c.conf"

# traced NAME NS CONF — tunpipe under strace -f; NAME.pid is strace's.
traced() {
	ip netns exec "$2" strace -f -qq -o "$TP_TMP/$1.trace" "$TUNPIPE" -c "$3" >>"$TP_TMP/$1.log" 2>&1 &
	echo $! >"$TP_TMP/$1.pid"
}
# daemon NAME — the traced tunpipe's own pid.
daemon() {
	local p i
	for i in $(seq 1 50); do
		p=$(pgrep -P "$(tp_pid "$1")" -x tunpipe) && { printf '%s' "$p"; return 0; }
		sleep 0.1
	done
	tp_fail "no tunpipe process under strace for $1"
}
# finish NAME — SIGHUP, SIGUSR1, then SIGTERM, and wait for strace.
finish() {
	local p
	p=$(daemon "$1")
	kill -HUP "$p"
	sleep 0.3
	kill -USR1 "$p"
	sleep 0.3
	kill -TERM "$p"
	tp_stop "$1" TERM >/dev/null 2>&1 || true
}

tp_check "the daemon's system calls through start, traffic, reload, restart and stop"
traced server "$S" "$TP_CONF/s.conf"
tp_wait_listen "$S" 8443 20 || tp_fail "the traced server does not listen"
traced alice "$C1" "$TP_CONF/c.conf"
tp_wait_addr "$C1" tun0 30 >/dev/null || tp_fail "the traced client got no address"
tp_wait_ping "$C1" 10.0.0.1 20 || tp_fail "no ping through the traced tunnel"
finish server
grep -q 'running as user nobody' "$TP_TMP/server.log" || tp_fail "the traced server did not drop root"
mv "$TP_TMP/server.trace" "$TP_TMP/server1.trace"
traced server "$S" "$TP_CONF/s.conf"
tp_wait_ping "$C1" 10.0.0.1 45 || tp_fail "no ping after the traced server restarted"
finish alice
finish server

cat "$TP_TMP"/*.trace | grep -oE '^[0-9]+ +(<\.\.\. )?[a-z_0-9]+' | awk '{ print $NF }' |
	sort -u >"$TP_TMP/used.txt"
n=$(wc -l <"$TP_TMP/used.txt")
for c in setresuid capset epoll_wait ioctl; do
	grep -qx "$c" "$TP_TMP/used.txt" || tp_fail "strace saw no $c: the trace is incomplete"
done

tp_check "every call is allowed by the unit's SystemCallFilter="
filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[ -n "$filter" ] || tp_fail "the unit has no SystemCallFilter="
case $filter in "~"*) tp_fail "expected an allow-list SystemCallFilter=, got '$filter'" ;; esac
expand() {
	local x
	for x in "$@"; do
		case $x in
		@*) expand $(systemd-analyze syscall-filter --no-pager "$x" 2>/dev/null |
			sed -n 's/^    \([@a-z_0-9-]*\)$/\1/p') ;;
		*) printf '%s\n' "$x" ;;
		esac
	done
}
# shellcheck disable=SC2086 # the filter is a list of words
expand $filter | sort -u >"$TP_TMP/allowed.txt"
[ "$(wc -l <"$TP_TMP/allowed.txt")" -gt 100 ] || tp_fail "could not expand '$filter' with systemd-analyze"
missing=$(comm -23 "$TP_TMP/used.txt" "$TP_TMP/allowed.txt" | tr '\n' ' ')
[ -z "$missing" ] || tp_fail "system calls outside SystemCallFilter=$filter: $missing"
tp_ok "$n distinct system calls, all within SystemCallFilter=$filter ($(wc -l <"$TP_TMP/allowed.txt") calls)"
