#!/bin/bash
# SPDX-License-Identifier: MIT
# Reconnection and address release:
#  - the server is stopped and started again: the client reconnects by
#    itself, keeps its tun, and ping works again;
#  - with a pool of one address, a second client is refused while the first
#    holds it; once the first client is killed (-9, no goodbye), the address
#    returns to the pool and the second client gets it.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-reconnect rec
tp_need ss
tp_topology 2
tp_confdir
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)

tp_server_start server "$TP_CONF/server.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 3 || tp_fail "no ping before the restart"
tp_ok "alice is up with $TP_ADDR"

tp_check "the client survives a server restart and reconnects by itself"
tp_stop server || tp_fail "server exited with status $? on SIGTERM"
sleep 1
tp_alive "$(tp_pid alice)" || tp_fail "the client exited when the server went away"
ip -n "$C1" link show tun0 >/dev/null 2>&1 || tp_fail "the client's tun0 vanished while disconnected"
tp_server_start server "$TP_CONF/server.conf"
tp_wait_ping "$C1" 10.0.0.1 45 || tp_fail "no ping through the tunnel 45 s after the server came back"
tp_ok "ping works again after the restart"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"

tp_check "a one-address pool refuses a second client"
sed 's#^\( *address = "10.0.0.1/24";\).*#\1 pool = "10.0.0.10-10.0.0.10";#' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-pool1.conf"
grep -q 'pool = "10.0.0.10-10.0.0.10"' "$TP_CONF/server-pool1.conf" ||
	tp_fail "could not write the one-address pool config"
tp_server_start server "$TP_CONF/server-pool1.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
[ "$TP_ADDR" = 10.0.0.10 ] || tp_fail "alice got $TP_ADDR, the pool only has 10.0.0.10"
bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
tp_start bob "$C2" "$bob_conf"
if tp_wait_addr "$C2" tun0 5 >/dev/null; then
	tp_fail "bob got an address although the pool was exhausted"
fi
tp_wait_log "$(tp_logfile bob)" '\b503\b|exhaust|unavailable' 5 ||
	tp_fail "bob's log does not say the server refused it (503)"
tp_ok "bob refused: $(grep -Ei -m1 '\b503\b|exhaust|unavailable' "$(tp_logfile bob)")"
if tp_alive "$(tp_pid bob)"; then tp_stop bob || true; fi

tp_check "killing a client (SIGKILL) returns its address to the pool"
tp_stop alice KILL || true
tp_client_up bob "$C2" "$bob_conf"
[ "$TP_ADDR" = 10.0.0.10 ] || tp_fail "bob got $TP_ADDR instead of the released 10.0.0.10"
tp_ping "$C2" 10.0.0.1 3 || tp_fail "bob cannot ping through the tunnel"
tp_ok "bob has 10.0.0.10 and pings the server"

tp_stop bob || tp_fail "bob exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
