#!/bin/bash
# SPDX-License-Identifier: MIT
# A local-only transform (TP_PLUGIN_LOCAL_ONLY: it leaves the wire bytes
# alone) may run on one end only: with tp-count-local on the server alone,
# a plain client connects and pings, and the counter saw the packets.  The
# control: the same counter without the flag (tp-count) on the server alone
# is part of the agreed stack, so the client is refused (409).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-localonly loc
tp_topology 1
tp_confdir
C=$(tp_client_ns 1)

# server.conf with one more stage between tun and framer-ip
with_stage() {
	sed "s/plugin = \"framer-ip\";/plugin = \"$1\"; }, { plugin = \"framer-ip\";/" \
		"$TP_CONF/server.conf" >"$TP_CONF/server-$1.conf"
	grep -q "\"$1\"" "$TP_CONF/server-$1.conf" || tp_fail "could not add $1 to server.conf"
	printf '%s' "$TP_CONF/server-$1.conf"
}

tp_check "a local-only counter on the server alone: the client connects and pings"
conf=$(with_stage tp-count-local)
tp_server_start server "$conf"
tp_wait_log "$(tp_logfile server)" "pipeline 'vpn' running: framer-ip\$" 5 ||
	tp_fail "the server's stack string is not just framer-ip: $(grep -m1 running "$(tp_logfile server)")"
tp_client_up client "$C" "$TP_CONF/client.conf"
tp_ping "$C" 10.0.0.1 5 || { cat "$TP_TMP/ping.out"; tp_fail "ping through the server's local-only stage failed"; }
tp_stop client || tp_fail "client exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
down=$(tp_counter "$(tp_logfile server)" tp-count-local down_packets)
up=$(tp_counter "$(tp_logfile server)" tp-count-local up_packets)
[ "${down:-0}" -ge 5 ] && [ "${up:-0}" -ge 5 ] ||
	tp_fail "the local-only stage did not see the pings (down=$down up=$up)"
tp_ok "ping through; tp-count-local counted down=$down up=$up"

tp_check "control: the same counter without the flag on the server alone is refused (409)"
conf=$(with_stage tp-count)
tp_server_start server2 "$conf"
tp_start client2 "$C" "$TP_CONF/client.conf"
tp_wait_log "$(tp_logfile client2)" '\b409\b.*stack|stack.*\b409\b|stack.*mismatch' 10 ||
	tp_fail "a client without the server's tp-count was not refused"
if tp_alive "$(tp_pid client2)"; then tp_stop client2 || true; fi
tp_stop server2 || tp_fail "server2 exited with status $?"
tp_ok "refused: $(grep -Ei -m1 'stack' "$(tp_logfile client2)")"
