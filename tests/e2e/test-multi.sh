#!/bin/bash
# SPDX-License-Identifier: MIT
# Three clients at once (alice, bob, carol) on one server: each gets its own
# address, reaches the server's tunnel address, and reaches the other two
# through the server (the gateway forwards between sessions).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-multi mul
tp_need ss
tp_topology 3
tp_confdir
S=$(tp_server_ns)
users=(alice bob carol)

# Client-to-client traffic goes up one session, through the server kernel,
# and down another: the server must forward.
tp_in "$S" sysctl -q -w net.ipv4.ip_forward=1

tp_check "the server starts"
tp_server_start server "$TP_CONF/server.conf"
tp_ok "listening"

addrs=()
for i in 1 2 3; do
	u=${users[$((i - 1))]}
	tp_check "$u connects from $(tp_client_ns "$i")"
	tp_client_up "$u" "$(tp_client_ns "$i")" "$(tp_conf_for_user "$TP_CONF/client.conf" "$u")"
	addrs+=("$TP_ADDR")
	tp_ok "$u has $TP_ADDR"
done

tp_check "the three addresses are distinct"
[ "$(printf '%s\n' "${addrs[@]}" | sort -u | wc -l)" -eq 3 ] ||
	tp_fail "addresses are not distinct: ${addrs[*]}"
tp_ok "${addrs[*]}"

for i in 1 2 3; do
	u=${users[$((i - 1))]}
	ns=$(tp_client_ns "$i")
	tp_check "$u pings the server's tunnel address 10.0.0.1"
	tp_ping "$ns" 10.0.0.1 3 || { cat "$TP_TMP/ping.out"; tp_fail "$u cannot reach 10.0.0.1"; }
	tp_ok "$u -> 10.0.0.1"
	for j in 1 2 3; do
		[ "$i" -ne "$j" ] || continue
		dst=${addrs[$((j - 1))]}
		tp_check "$u pings ${users[$((j - 1))]} ($dst) through the gateway"
		tp_ping "$ns" "$dst" 3 || { cat "$TP_TMP/ping.out"; tp_fail "$u cannot reach $dst"; }
		tp_ok "$u -> $dst"
	done
done

tp_check "every client and the server stop cleanly"
for u in "${users[@]}"; do
	tp_stop "$u" || tp_fail "$u exited with status $?"
done
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
