#!/bin/bash
# SPDX-License-Identifier: MIT
# Where the daemon's lines go, with the real daemon:
#  - stderr that is "the journal" ($JOURNAL_STREAM = device:inode of the
#    file stderr points to, as systemd sets it): every line starts with its
#    syslog priority "<N>" and carries no timestamp of ours; an error (a
#    users file that vanished, on SIGHUP) is "<3>", and so are the
#    configuration errors of `tunpipe -t` (the unit's ExecStartPre);
#  - log_target = "syslog": the lines reach /dev/log (a socket of ours
#    mounted there in a private mount namespace) as facility daemon with
#    their priorities (<30> info, <27> error), and none go to stderr.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-logtarget lgt
tp_need ss socat unshare stat
tp_topology 1
tp_confdir
S=$(tp_server_ns)

tp_check "stderr is the journal: <N> priority prefixes, no timestamps"
log=$(tp_logfile journal)
: >"$log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$log") tp_start journal "$S" "$TP_CONF/server.conf"
tp_wait_listen "$S" 8443 10 || tp_fail "the server does not listen"
mv "$TP_CONF/demo/users.htpasswd" "$TP_CONF/demo/users.moved"
kill -HUP "$(tp_pid journal)"
tp_wait_log "$log" '^<3>\[vpn/tls-http\] reload: .*keeping the previous users' 5 ||
	tp_fail "no '<3>[vpn/tls-http] reload: …' error line"
mv "$TP_CONF/demo/users.moved" "$TP_CONF/demo/users.htpasswd"
tp_stop journal || tp_fail "the server exited with status $?"
grep -q '^<6>\[vpn/tls-http\] listening on 0.0.0.0:8443$' "$log" ||
	tp_fail "no '<6>[vpn/tls-http] listening on 0.0.0.0:8443' line"
if grep -Ev '^<[3467]>\[[a-z0-9/_-]+\] ' "$log"; then
	tp_fail "lines above lack the <N>[who] form"
fi
if grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:' "$log"; then
	tp_fail "a timestamp of ours reached the journal"
fi
tp_ok "$(wc -l <"$log") lines, e.g. '$(grep -m1 '^<3>' "$log")'"

tp_check "stderr is the journal: configuration errors (tunpipe -t, ExecStartPre) are <3>"
{ printf 'log_target = "journal";\n'; cat "$TP_CONF/server.conf"; } >"$TP_CONF/server-bad.conf"
bad=$(tp_logfile bad)
: >"$bad"
if JOURNAL_STREAM=$(stat -c '%d:%i' "$bad") "$TUNPIPE" -t -c "$TP_CONF/server-bad.conf" 2>>"$bad"; then
	tp_fail "tunpipe -t accepted log_target = \"journal\""
fi
grep -q "^<3>$TP_CONF/server-bad.conf:1: 'log_target' is 'journal'; expected one of: stderr, syslog$" "$bad" ||
	tp_fail "the config error is not a <3> line: $(cat "$bad")"
grep -q "^<3>$TP_CONF/server-bad.conf: 1 error$" "$bad" || tp_fail "the error count is not a <3> line: $(cat "$bad")"
tp_ok "$(head -n 1 "$bad")"

tp_check "log_target = \"syslog\": facility daemon with priorities on /dev/log"
{ printf 'log_target = "syslog";\n'; cat "$TP_CONF/server.conf"; } >"$TP_CONF/server-syslog.conf"
(umask 0 && exec socat -u UNIX-RECV:"$TP_TMP/log.sock" OPEN:"$TP_TMP/syslog.out",creat,append) &
echo $! >"$TP_TMP/socat.pid"
for _ in $(seq 1 50); do [ -S "$TP_TMP/log.sock" ] && break; sleep 0.1; done
[ -S "$TP_TMP/log.sock" ] || tp_fail "socat did not create $TP_TMP/log.sock"
# A private /dev holding only what the daemon opens, and our socket as log.
mkdir -p "$TP_TMP/olddev"
cat >"$TP_TMP/with-log.sh" <<'SH'
set -eu
t=$1; shift
mount --make-rprivate /
mount --rbind /dev "$t/olddev"
mount -t tmpfs -o mode=0755 tpdev /dev
for n in null zero random urandom; do touch "/dev/$n"; mount --bind "$t/olddev/$n" "/dev/$n"; done
mkdir /dev/net && touch /dev/net/tun && mount --bind "$t/olddev/net/tun" /dev/net/tun
touch /dev/log && mount --bind "$t/log.sock" /dev/log
exec "$@"
SH
ip netns exec "$S" unshare -m bash "$TP_TMP/with-log.sh" "$TP_TMP" \
	"$TUNPIPE" -c "$TP_CONF/server-syslog.conf" >>"$TP_TMP/syslog-stderr.log" 2>&1 &
echo $! >"$TP_TMP/syslog.pid"
tp_wait_listen "$S" 8443 10 || tp_fail "the syslog server does not listen"
mv "$TP_CONF/demo/users.htpasswd" "$TP_CONF/demo/users.moved"
kill -HUP "$(tp_pid syslog)"
for _ in $(seq 1 50); do grep -q 'keeping the previous users' "$TP_TMP/syslog.out" && break; sleep 0.1; done
tp_stop syslog || tp_fail "the syslog server exited with status $?"
out=$(tr '\0' '\n' <"$TP_TMP/syslog.out" | sed 's/<[0-9]*>/\n&/g')
printf '%s\n' "$out" | grep -Eq '^<30>.* tunpipe\[[0-9]+\]: \[vpn/tls-http\] listening on 0\.0\.0\.0:8443' ||
	tp_fail "no '<30>… tunpipe[PID]: [vpn/tls-http] listening …' datagram; got: $out"
printf '%s\n' "$out" | grep -Eq '^<27>.* tunpipe\[[0-9]+\]: \[vpn/tls-http\] reload: .*keeping the previous users' ||
	tp_fail "no '<27>… reload: …' error datagram; got: $out"
if grep -q '\[vpn/' "$TP_TMP/syslog-stderr.log"; then
	tp_fail "log lines went to stderr as well: $(head -n 3 "$TP_TMP/syslog-stderr.log")"
fi
tp_ok "syslog got $(printf '%s\n' "$out" | grep -c '^<') lines, e.g. '$(printf '%s\n' "$out" | grep -m1 '^<27>')'"
