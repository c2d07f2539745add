#!/bin/bash
# SPDX-License-Identifier: MIT
# A peer's super-packet metadata cannot move a checksum onto the source
# address (the red team's anti-spoofing bypass).  The server's tun runs
# with offload = "off", so the server itself completes partial checksums
# (tg_complete) — the path that wrote the "checksum" over the last 16 bits
# of an IPv6 source address after the router had checked it.
#
# superpeer.py logs in agreeing to super-packets and sends, as alice:
#   1. an IPv6 UDP packet with a partial checksum where a kernel puts it
#      (csum_start 40, csum_offset 6): it reaches the server's tun0 from
#      alice's own address;
#   2. the same with csum_start 20, csum_offset 2 and the payload chosen to
#      turn the source into ...:beef: the server's framer refuses the
#      header ("does not fit its packet"), closes the session, and nothing
#      but alice's own address is ever seen on tun0.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-superspoof ssp
tp_need python3
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
PEER="$top_srcdir/tests/e2e/superpeer.py"

conf="$TP_CONF/server-v6.conf"
sed -e 's|address = "10.0.0.1/24";|address = "10.0.0.1/24"; address6 = "fd00:7470::1/64"; offload = "off";|' \
	"$TP_CONF/server.conf" >"$conf"
grep -q 'offload = "off"' "$conf" || tp_fail "could not edit $conf"
tp_server_start server "$conf"
slog=$(tp_logfile server)

tp_check "a packet from alice's own address, its checksum where a kernel puts it, gets through"
tp_in "$S" python3 "$PEER" sniff tun0 9999 12 >"$TP_TMP/sniff.out" 2>&1 &
sniff=$!
tp_wait_log "$TP_TMP/sniff.out" '^ready' 5 || { cat "$TP_TMP/sniff.out"; tp_fail "the sniffer did not start"; }
tp_in "$C" python3 "$PEER" send 10.200.0.1 8443 "$TP_CONF/demo/ca.crt" alice \
	"$(head -n 1 "$TP_CONF/demo/alice.pass")" fd00:7470::1 9999 >"$TP_TMP/send.out" 2>&1 ||
	{ cat "$TP_TMP/send.out"; tp_fail "superpeer.py failed"; }
me=$(sed -n 's/^up //p' "$TP_TMP/send.out")
[ -n "$me" ] || { cat "$TP_TMP/send.out"; tp_fail "alice got no IPv6 tunnel address"; }
grep -q '^sent spoof' "$TP_TMP/send.out" || { cat "$TP_TMP/send.out"; tp_fail "the peer did not get to send"; }
kill "$sniff" 2>/dev/null || true
wait "$sniff" 2>/dev/null || true
grep -qx "src $me" "$TP_TMP/sniff.out" ||
	{ cat "$TP_TMP/sniff.out"; tp_fail "alice's well-formed super-packet from $me did not reach tun0"; }
tp_ok "alice is $me; her packet reached tun0 from $me"

tp_check "the header that would rewrite her source address is refused and her session closed"
others=$(grep '^src ' "$TP_TMP/sniff.out" | grep -vx "src $me" || true)
[ -z "$others" ] || tp_fail "a packet reached tun0 from another source: $others"
grep -q '^closed ' "$TP_TMP/send.out" ||
	{ cat "$TP_TMP/send.out"; tp_fail "the server kept the tunnel open after the forged header"; }
tp_wait_log "$slog" 'does not fit its packet' 5 ||
	{ cat "$slog"; tp_fail "the server did not log why it refused the header"; }
tp_ok "nothing from another source on tun0; closed $(sed -n 's/^closed //p' "$TP_TMP/send.out") ms after it; server: $(grep -m1 -o 'super-packet metadata that does not fit[^;]*' "$slog")"

tp_check "the server stops cleanly"
tp_stop server || tp_fail "the server exited with status $?"
tp_ok "clean exit"
