#!/bin/bash
# SPDX-License-Identifier: MIT
# The alternative stacks end to end (framer-len; compress-lz4 + framer-len):
# ping and a 3 s iperf3 each way; then a client whose stack differs from the
# server's must be refused with a clear stack mismatch (409) on both sides.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-stacks stk
tp_need iperf3 ss
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)

for stack in len lz4; do
	tp_check "stack '$stack' (server-$stack.conf + client-$stack.conf): connect and ping"
	tp_server_start "server-$stack" "$TP_CONF/server-$stack.conf"
	tp_client_up "client-$stack" "$C" "$TP_CONF/client-$stack.conf"
	tp_ping "$C" 10.0.0.1 5 || { cat "$TP_TMP/ping.out"; tp_fail "$stack: client -> server ping failed"; }
	tp_ping "$S" "$TP_ADDR" 5 || { cat "$TP_TMP/ping.out"; tp_fail "$stack: server -> client ping failed"; }
	tp_ping "$C" 10.0.0.1 3 -s 1372 || tp_fail "$stack: full-MTU ping failed"
	tp_ok "$stack: pings both ways"
	tp_check "stack '$stack': iperf3 3 s each way"
	up=$(tp_iperf "$S" 10.0.0.1 "$C" 3) || tp_fail "$stack: iperf3 client -> server failed"
	down=$(tp_iperf "$S" 10.0.0.1 "$C" 3 -R) || tp_fail "$stack: iperf3 server -> client failed"
	tp_ok "$stack: client->server $up Gbit/s, server->client $down Gbit/s"
	tp_stop "client-$stack" || tp_fail "client-$stack exited with status $?"
	tp_stop "server-$stack" || tp_fail "server-$stack exited with status $?"
done

tp_check "a framer-len client against a framer-ip server is refused (409) on both sides"
tp_server_start server "$TP_CONF/server.conf"
tp_start mismatch "$C" "$TP_CONF/client-len.conf"
if tp_wait_addr "$C" tun0 5 >/dev/null; then
	tp_fail "the mismatched client got a tunnel address"
fi
# \b: counters such as bytes_out=1409… must not pass for a status code.
tp_wait_log "$(tp_logfile mismatch)" '\b409\b.*stack|stack.*\b409\b|stack.*mismatch' 10 ||
	tp_fail "the client does not report the stack mismatch (409) from the server"
tp_ok "client: $(grep -Ei -m1 'stack' "$(tp_logfile mismatch)")"
server_re='\b409\b.*stack|stack.*(mismatch|differ)'
tp_wait_log "$(tp_logfile server)" "$server_re" 10 ||
	tp_fail "the server does not log the stack mismatch"
tp_ok "server: $(grep -Ei -m1 "$server_re" "$(tp_logfile server)")"
if tp_alive "$(tp_pid mismatch)"; then tp_stop mismatch || true; fi
tp_stop server || tp_fail "server exited with status $?"
