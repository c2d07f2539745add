#!/bin/bash
# SPDX-License-Identifier: MIT
# Pushed DNS servers and search domains on the client.  `dns = "file"` with the namespace's own
# resolv.conf (`ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over
# /etc/resolv.conf): rewritten while the session is up, the original back
# byte for byte at stop, and after a SIGKILL at the next start.  `dns =
# "off"`: logged, untouched.  `dns = "resolvconf"` with Debian's real
# resolvconf, its /run/resolvconf a private copy inside the client's mount
# namespace: the record tun0.tunpipe appears with the servers and goes away
# at stop; after a SIGKILL the next start removes it, though its server
# pushes no DNS.  `dns = "file"` with search domains alone keeps the
# original nameserver and options (servers alone: the original search
# line); a second client (tun1) finds the first one's file and leaves it
# alone, so two clean stops give the original back.  `dns = "resolved"`
# (a stand-in resolvectl that records its arguments): `--` before the
# search domains.
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
# server-search.conf pushes search domains only, server-ns.conf servers only;
# server-b.conf is a second server (tun1, 10.1.0.0/24, port 8444).
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; push_search = [ "corp.test" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-search.conf"
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; push_dns = [ "10.0.0.53" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-ns.conf"
sed -e 's|device  = "tun0";|device = "tun1";|' -e 's|0.0.0.0:8443|0.0.0.0:8444|' \
	-e 's|address = "10.0.0.1/24";|address = "10.1.0.1/24"; push_dns = [ "10.1.0.53" ];|' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-b.conf"
grep -q 'device = "tun1"' "$TP_CONF/server-b.conf" || tp_fail "could not write server-b.conf"
# client-MODE.conf: the demo client with `dns = MODE` and our state_dir.
for mode in file off resolvconf resolved; do
	sed -e "s|device = \"tun0\";|device = \"tun0\"; dns = \"$mode\"; state_dir = \"$STATE\";|" \
		"$TP_CONF/client.conf" >"$TP_CONF/client-$mode.conf"
	grep -q "dns = \"$mode\"" "$TP_CONF/client-$mode.conf" || tp_fail "could not write client-$mode.conf"
done
sed -e 's|device = "tun0";|device = "tun1";|' -e 's|:8443/|:8444/|' "$TP_CONF/client-file.conf" >"$TP_CONF/client-b.conf"
grep -q ':8444/' "$TP_CONF/client-b.conf" || tp_fail "could not write client-b.conf"
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

tp_check "dns = resolved: the search domains follow -- on resolvectl's command line"
mkdir -p "$TP_TMP/bin"
printf '#!/bin/sh\necho "$*" >>%s/resolvectl.argv\n' "$TP_TMP" >"$TP_TMP/bin/resolvectl"
chmod +x "$TP_TMP/bin/resolvectl"
PATH=$TP_TMP/bin:$PATH tp_client_up resolved "$C" "$TP_CONF/client-resolved.conf"
tp_wait_log "$(tp_logfile resolved)" "DNS .* applied through systemd-resolved on tun0" 10 ||
	tp_fail "the stand-in resolvectl was not run"
grep -qx "domain tun0 -- corp.test lab.corp.test" "$TP_TMP/resolvectl.argv" ||
	{ cat "$TP_TMP/resolvectl.argv"; tp_fail "resolvectl domain without -- before the domains"; }
tp_stop resolved || tp_fail "client exited with status $? on SIGTERM"
tp_ok "$(grep domain "$TP_TMP/resolvectl.argv")"

tp_check "dns = resolvconf: Debian's resolvconf gets the record tun0.tunpipe, removed at stop"
[ -d /run/resolvconf ] || tp_fail "/run/resolvconf is missing: is the resolvconf package set up? (run.sh installs it)"
# A private copy of resolvconf's run directory, mounted over the real one
# inside the client's mount namespace only: the host's DNS is never touched.
RC=$TP_TMP/resolvconf-run
cp -a /run/resolvconf "$RC"
rm -f "$RC"/interface/*.tunpipe
rc_start() { # NAME: client-resolvconf.conf with that private copy, in the background
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$C" sh -c 'mount --bind "$1" /run/resolvconf && exec "$2" -c "$3"' sh \
		"$RC" "$TUNPIPE" "$TP_CONF/client-resolvconf.conf" >>"$TP_TMP/$1.log" 2>&1 &
	echo $! >"$TP_TMP/$1.pid"
}
rc_start rc
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

tp_check "dns = resolvconf: the record a SIGKILL left is removed at the next start"
rc_start rckill
tp_wait_log "$TP_TMP/rckill.log" "applied through resolvconf on tun0" 15 || tp_fail "resolvconf did not apply the servers"
tp_stop rckill KILL || true
[ -e "$RC/interface/tun0.tunpipe" ] || tp_fail "no record tun0.tunpipe after the crash (premise)"
tp_stop server2 || tp_fail "server exited with status $? on SIGTERM"
# The next run's server pushes no DNS: only the recovery can remove it.
tp_server_start server3 "$TP_CONF/server.conf"
rc_start rcnext
tp_wait_log "$TP_TMP/rcnext.log" "removed the resolvconf record tun0.tunpipe, left by a run that did not stop cleanly" 15 ||
	tp_fail "the next start did not remove the record tun0.tunpipe"
[ ! -e "$RC/interface/tun0.tunpipe" ] || tp_fail "the record tun0.tunpipe is still there"
grep -q "10.0.0.53" "$RC/resolv.conf" && tp_fail "resolvconf's resolv.conf still has 10.0.0.53"
tp_wait_addr "$C" tun0 20 >/dev/null || tp_fail "no tunnel after the recovery"
tp_stop rcnext || tp_fail "client exited with status $? on SIGTERM"
[ ! -e "$STATE/resolvconf.tun0" ] || tp_fail "the state file naming the record is left"
tp_ok "record removed, logged at warn"
tp_stop server3 || tp_fail "server exited with status $? on SIGTERM"

# file_only NAME SERVER_CONF: a dns = file client against that server, up
# until the DNS is applied.
file_only() {
	tp_server_start "srv-$1" "$2"
	tp_client_up "$1" "$C" "$TP_CONF/client-file.conf"
	tp_wait_log "$(tp_logfile "$1")" "applied by rewriting" 10 || tp_fail "DNS not applied"
}
file_stop() { # NAME: stop both; the original must be back
	tp_stop "$1" || tp_fail "client exited with status $? on SIGTERM"
	tp_stop "srv-$1" || tp_fail "server exited with status $? on SIGTERM"
	cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "resolv.conf not restored"
}

tp_check "dns = file, search domains alone: the original nameserver and options stay"
file_only search "$TP_CONF/server-search.conf"
in_resolv | grep -qx "nameserver 192.0.2.1" || { in_resolv; tp_fail "the original nameserver is gone"; }
in_resolv | grep -qx "options ndots:2" || { in_resolv; tp_fail "the original options line is gone"; }
in_resolv | grep -qx "search corp.test" || { in_resolv; tp_fail "the pushed search domain is not there"; }
in_resolv | grep -q "original.test" && { in_resolv; tp_fail "the original search line is still there"; }
file_stop search
tp_ok "nameserver 192.0.2.1 kept, search replaced, restored at stop"

tp_check "dns = file, servers alone: the original search line stays"
file_only ns "$TP_CONF/server-ns.conf"
in_resolv | grep -qx "nameserver 10.0.0.53" || { in_resolv; tp_fail "10.0.0.53 not in resolv.conf"; }
in_resolv | grep -q "192.0.2.1" && { in_resolv; tp_fail "the original nameserver is still there"; }
in_resolv | grep -qx "search original.test" || { in_resolv; tp_fail "the original search line is gone"; }
file_stop ns
tp_ok "nameserver replaced, search original.test kept"

tp_check "dns = file, two clients: the second leaves the first one's file alone"
tp_server_start srv-a "$TP_CONF/server-dns.conf"
tp_start srv-b "$(tp_server_ns)" "$TP_CONF/server-b.conf"
tp_wait_listen "$(tp_server_ns)" 8444 10 || tp_fail "server-b is not listening on 8444"
tp_client_up a "$C" "$TP_CONF/client-file.conf"
tp_wait_log "$(tp_logfile a)" "applied by rewriting" 10 || tp_fail "A did not apply its DNS"
tp_start b "$C" "$TP_CONF/client-b.conf"
tp_wait_addr "$C" tun1 20 >/dev/null || tp_fail "B got no tunnel address on tun1"
tp_wait_log "$(tp_logfile b)" "is managed by another tunpipe .*: pushed DNS not applied" 10 ||
	{ in_resolv; tp_fail "B did not refuse A's file as its original"; }
in_resolv | grep -qx "nameserver 10.0.0.53" || { in_resolv; tp_fail "A's servers are gone while A is up"; }
[ ! -e "$STATE/resolv.conf.tun1" ] || tp_fail "B saved A's file as its original"
tp_stop a || tp_fail "client A exited with status $? on SIGTERM"
cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "stopping A did not restore the original"
tp_stop b || tp_fail "client B exited with status $? on SIGTERM"
cmp "$NSDIR/resolv.conf" "$TP_TMP/resolv.orig" || tp_fail "stopping B changed resolv.conf"
tp_stop srv-b || tp_fail "server B exited with status $? on SIGTERM"
tp_stop srv-a || tp_fail "server A exited with status $? on SIGTERM"
tp_ok "B refused and said so; the original back after both stops"
