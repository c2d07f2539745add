#!/bin/bash
# SPDX-License-Identifier: MIT
# The lines the server logs about a session name its user, its tunnel
# address and the peer's real address; the close line gives the duration
# and the bytes and packets each way, which must add up with the TUN's
# own counters (one session, so every packet the TUN wrote came from it).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-sessionlog slg
tp_topology 1
tp_confdir
C=$(tp_client_ns 1)
log=$(tp_logfile server)

tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C" "$TP_CONF/client.conf"
tp_ping "$C" 10.0.0.1 5 || tp_fail "alice cannot ping"
tp_in "$C" ping -q -c 3 -i 0.2 -s 1000 10.0.0.1 >/dev/null 2>&1 || tp_fail "alice's large pings failed"

tp_check "the session-up line names user, tunnel address and real peer"
up=$(grep -E "\[vpn/router\] session [0-9]+ up:" "$log" | head -n 1)
printf '%s\n' "$up" | grep -Eq "user alice, address $TP_ADDR/24 gateway 10\.0\.0\.1 from 10\.200\.0\.11:[0-9]+\$" ||
	tp_fail "session-up line: $up"
tp_ok "${up#*] }"

tp_check "the session-close line gives user, addresses, duration and bytes each way"
sleep 1
tp_stop alice || tp_fail "alice exited with status $?"
re="session [0-9]+ closed after ([0-9]+) ms: [^;]*; user alice, address $TP_ADDR, peer 10\.200\.0\.11:[0-9]+, "
re="${re}received ([0-9]+) bytes \(([0-9]+) packets\), sent ([0-9]+) bytes \(([0-9]+) packets\)\$"
tp_wait_log "$log" "$re" 5 || tp_fail "no full close line: $(grep -E 'closed after' "$log")"
line=$(grep -E "$re" "$log" | head -n 1)
read -r ms rxb rxp txb txp < <(printf '%s\n' "$line" | sed -E "s/.*$re/\1 \2 \3 \4 \5/")
[ "$ms" -ge 1000 ] || tp_fail "duration $ms ms, but the session lasted over a second"
# 5 + 3 echo requests up and as many replies down: 84-byte and 1028-byte IPv4 packets
[ "$rxp" -ge 8 ] && [ "$txp" -ge 8 ] || tp_fail "packets: received $rxp, sent $txp (want >= 8 each)"
[ "$rxb" -ge $((5 * 84 + 3 * 1028)) ] && [ "$txb" -ge $((5 * 84 + 3 * 1028)) ] ||
	tp_fail "bytes: received $rxb, sent $txb"
tp_stop server || tp_fail "server exited with status $?"
tun_up=$(tp_counter "$log" tun up_packets)
tun_upb=$(tp_counter "$log" tun up_bytes)
tun_down=$(tp_counter "$log" tun down_packets)
no_route=$(tp_counter "$log" router no_route)
no_session=$(tp_counter "$log" router no_session)
[ "$rxp" -eq "$tun_up" ] && [ "$rxb" -eq "$tun_upb" ] ||
	tp_fail "received $rxp packets/$rxb bytes, but the TUN wrote $tun_up/$tun_upb"
[ $((txp + no_route + no_session)) -eq "$tun_down" ] ||
	tp_fail "sent $txp + no_route $no_route + no_session $no_session != the TUN's $tun_down read"
tp_ok "${line#*] } (TUN: wrote $tun_up, read $tun_down)"
