#!/bin/bash
# SPDX-License-Identifier: MIT
# Pushed DNS servers and search domains on the client.  `dns = "file"` with the namespace's own
# resolv.conf (`ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over
# /etc/resolv.conf): rewritten while the session is up, the original back
# byte for byte at stop, and after a SIGKILL at the next start.  `dns =
# "off"`: logged, untouched.  `dns = "resolvconf"` with Debian's real
# resolvconf, its /run/resolvconf a private copy inside the client's mount
# namespace: the record tun0.tunpipe appears with the servers and goes away
# at stop.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-dns dns
tp_need resolvconf cmp
tp_topology 1
tp_confdir
C=$(tp_client_ns 1)
NSDIR=/etc/netns/$C
# tp_cleanup removes $NSDIR with the namespace.
mkdir -p "$NSDIR"
printf 'nameserver 192.0.2.1\nsearch original.test\noptions ndots:2\n' >"$NSDIR/resolv.conf"
cp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig"
STATE=$TP_TMP/state

sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; push_dns = [ "10.0.0.53", "fd00::53" ]; push_search = [ "corp.test", "lab.corp.test" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-dns.conf"
# client-MODE.conf: the demo client with `dns = MODE` and our state_dir.
for mode in file off resolvconf; do
	sed -e "s|device = \"tun0\";|device = \"tun0\"; dns = \"$mode\"; state_dir = \"$STATE\";|" \
		"$TP_CONF/client.conf" >"$TP_CONF/client-$mode.conf"
	grep -q "dns = \"$mode\"" "$TP_CONF/client-$mode.conf" || tp_fail "could not write client-$mode.conf"
done
in_resolv() { tp_in "$C" cat /etc/resolv.conf; }

tp_check "the namespace sees its own resolv.conf (the premise)"
in_resolv | grep -q "nameserver 192.0.2.1" || tp_fail "ip netns exec does not show $NSDIR/resolv.conf"
tp_ok "nameserver 192.0.2.1 inside $C"

tp_server_start server "$TP_CONF/server-dns.conf"

tp_check "dns = file: resolv.conf rewritten with the pushed servers, original saved"
tp_client_up client "$C" "$TP_CONF/client-file.conf"
tp_wait_log "$(tp_logfile client)" "DNS 10.0.0.53 fd00::53, search corp.test lab.corp.test applied by rewriting /etc/resolv.conf" 10 ||
	tp_fail "the client did not log the DNS it applied"
in_resolv | grep -qx "nameserver 10.0.0.53" || { in_resolv; tp_fail "10.0.0.53 not in resolv.conf"; }
in_resolv | grep -qx "nameserver fd00::53" || { in_resolv; tp_fail "fd00::53 not in resolv.conf"; }
in_resolv | grep -qx "search corp.test lab.corp.test" || { in_resolv; tp_fail "the pushed search domains are not in resolv.conf"; }
in_resolv | grep -q "192.0.2.1" && tp_fail "the original nameserver is still there"
cmp -s "$STATE/resolv.conf.tun0" "$TP_TMP/resolv.orig" || tp_fail "the state file does not hold the original"
tp_ok "$(in_resolv | grep -c nameserver) nameserver lines, the original in $STATE"

tp_check "stopping the client restores resolv.conf byte for byte"
tp_stop client || tp_fail "client exited with status $? on SIGTERM"
cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "resolv.conf not restored"
[ ! -e "$STATE/resolv.conf.tun0" ] || tp_fail "the state file is left after a clean stop"
grep -q "DNS of tun0 removed" "$(tp_logfile client)" || tp_fail "the restore was not logged"
tp_ok "restored, state file gone"

tp_check "after a SIGKILL, the next start restores resolv.conf"
tp_client_up crashed "$C" "$TP_CONF/client-file.conf"
tp_wait_log "$(tp_logfile crashed)" "applied by rewriting" 10 || tp_fail "DNS not applied before the crash"
tp_stop crashed KILL || true
in_resolv | grep -qx "nameserver 10.0.0.53" || tp_fail "resolv.conf was not left rewritten by the crash (premise)"
[ -e "$STATE/resolv.conf.tun0" ] || tp_fail "no state file after the crash"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
tp_start after "$C" "$TP_CONF/client-file.conf"
tp_wait_log "$(tp_logfile after)" "restored /etc/resolv.conf from .*did not stop cleanly" 10 ||
	tp_fail "the next start did not restore resolv.conf"
cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "resolv.conf differs from the original after recovery"
[ ! -e "$STATE/resolv.conf.tun0" ] || tp_fail "the state file is left after recovery"
tp_stop after || tp_fail "client exited with status $? on SIGTERM"
tp_ok "$(grep -o 'restored /etc/resolv.conf.*' "$(tp_logfile after)")"

tp_check "dns = off: logged, resolv.conf untouched"
tp_server_start server2 "$TP_CONF/server-dns.conf"
tp_client_up off "$C" "$TP_CONF/client-off.conf"
tp_wait_log "$(tp_logfile off)" "2 pushed DNS server\(s\) not applied \(dns = off\)" 10 ||
	tp_fail "dns = off did not say it ignored the servers"
cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "dns = off changed resolv.conf"
tp_stop off || tp_fail "client exited with status $? on SIGTERM"
tp_ok "ignored and said so"

tp_check "dns = resolvconf: Debian's resolvconf gets the record tun0.tunpipe, removed at stop"
[ -d /run/resolvconf ] || tp_fail "/run/resolvconf is missing: is the resolvconf package set up? (run.sh installs it)"
# A private copy of resolvconf's run directory, mounted over the real one
# inside the client's mount namespace only: the host's DNS is never touched.
RC=$TP_TMP/resolvconf-run
cp -a /run/resolvconf "$RC"
rm -f "$RC"/interface/*.tunpipe
# shellcheck disable=SC2016 # expanded by the inner shell
ip netns exec "$C" sh -c 'mount --bind "$1" /run/resolvconf && exec "$2" -c "$3"' sh \
	"$RC" "$TUNPIPE" "$TP_CONF/client-resolvconf.conf" >>"$TP_TMP/rc.log" 2>&1 &
echo $! >"$TP_TMP/rc.pid"
tp_wait_log "$TP_TMP/rc.log" "DNS 10.0.0.53 fd00::53, search corp.test lab.corp.test applied through resolvconf on tun0" 15 ||
	tp_fail "resolvconf did not apply the servers"
grep -qx "nameserver 10.0.0.53" "$RC/interface/tun0.tunpipe" ||
	{ ls -l "$RC/interface"; tp_fail "no record tun0.tunpipe with the servers"; }
grep -qx "nameserver 10.0.0.53" "$RC/resolv.conf" || { cat "$RC/resolv.conf"; tp_fail "resolvconf's resolv.conf lacks 10.0.0.53"; }
grep -q "^search .*corp.test" "$RC/resolv.conf" || { cat "$RC/resolv.conf"; tp_fail "resolvconf's resolv.conf lacks the search domains"; }
[ ! -e /run/resolvconf/interface/tun0.tunpipe ] || tp_fail "the host's resolvconf got the record"
tp_ok "record and generated resolv.conf have 10.0.0.53; the host's untouched"
tp_stop rc || tp_fail "client exited with status $? on SIGTERM"
[ ! -e "$RC/interface/tun0.tunpipe" ] || tp_fail "the record tun0.tunpipe is left after stop"
grep -q "10.0.0.53" "$RC/resolv.conf" && tp_fail "resolvconf's resolv.conf still has 10.0.0.53 after stop"
tp_ok "record removed at stop"
tp_stop server2 || tp_fail "server exited with status $? on SIGTERM"
