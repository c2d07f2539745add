#!/bin/bash
# SPDX-License-Identifier: MIT
# Dead-peer detection: a client that vanishes without closing its connection
# (its link goes down: no FIN, no RST) must not hold its session and its
# address forever.  With keepalive = 2 on the server, TCP keepalive probes
# go unanswered and the server drops the session within seconds; with a
# one-address pool, a second client then gets that address.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-deadpeer dead
tp_topology 2
tp_confdir
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)

sed -e 's#^\( *address = "10.0.0.1/24";\).*#\1 pool = "10.0.0.10-10.0.0.10";#' \
	-e 's#^\( *role *= *"server";\)#\1 keepalive = 2;#' \
	"$TP_CONF/server.conf" >"$TP_CONF/server-dead.conf"
grep -q 'keepalive = 2;' "$TP_CONF/server-dead.conf" || tp_fail "could not set keepalive in the server config"
tp_server_start server "$TP_CONF/server-dead.conf"
tp_client_up alice "$C1" "$TP_CONF/client.conf"
tp_ping "$C1" 10.0.0.1 2 || tp_fail "alice cannot ping"

tp_check "a client whose link vanished is dropped by keepalive and its address freed"
ip -n "$C1" link set eth0 down
start=$(date +%s)
tp_wait_log "$(tp_logfile server)" 'session 1 closed' 20 ||
	tp_fail "the server still holds alice's session 20 s after her link went down"
tp_ok "session dropped after $(($(date +%s) - start)) s: $(grep -m1 'session 1 closed' "$(tp_logfile server)")"
bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
tp_client_up bob "$C2" "$bob_conf"
[ "$TP_ADDR" = 10.0.0.10 ] || tp_fail "bob got $TP_ADDR instead of the freed 10.0.0.10"
tp_ping "$C2" 10.0.0.1 2 || tp_fail "bob cannot ping"
tp_ok "bob has the freed address 10.0.0.10"
tp_stop bob || tp_fail "bob exited with status $?"
tp_stop alice || tp_fail "alice exited with status $?"
tp_stop server || tp_fail "server exited with status $?"
tp_ok "clean exit"
