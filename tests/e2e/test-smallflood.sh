#!/bin/bash
# SPDX-License-Identifier: MIT
# A stuck client must not drain the shared buffer pool with small packets.
# tls-http's queue_limit bounds what one session may hold, but what a
# queued packet really pins is a whole pool buffer (2 KiB class), not its
# payload: 1 MiB of 64-byte packets would be ~16k buffers, four times the
# pipeline's pool (4096).  alice is frozen (SIGSTOP) while the server host
# floods her tunnel address with tiny UDP datagrams; bob must keep passing
# traffic, the server's tun must never run out of buffers (rx_nobuf = 0),
# and the packets refused for alice must be counted (queue_drops).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-smallflood sfl
tp_alice_and_bob
S=$(tp_server_ns)
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
alice=$TP_ALICE

tp_check "64-byte packets queued for a frozen client do not starve the pool"
kill -STOP "$(tp_pid alice)"
# One datagram per write(): dd with bs=64 writes each block on its own.
# 200000 of them is 12.8 MB of payload, far beyond queue_limit (1 MiB).
tp_in "$S" bash -c "dd if=/dev/zero bs=64 count=200000 >/dev/udp/$alice/9" \
	>"$TP_TMP/flood.out" 2>&1 &
flood=$!
sleep 1
tp_ping "$C2" 10.0.0.1 10 || tp_fail "bob's pings failed while alice was flooded"
tp_ok "bob: $(grep -m1 'packets transmitted' "$TP_TMP/ping.out")"
wait "$flood" || true
kill -CONT "$(tp_pid alice)"

tp_stop bob || tp_fail "bob exited with status $?"
tp_stop alice || true
tp_stop server || tp_fail "server exited with status $?"
log=$(tp_logfile server)
nobuf=$(tp_counter "$log" tun rx_nobuf)
drops=$(tp_counter "$log" tls-http queue_drops)
[ -n "$nobuf" ] || tp_fail "no tun rx_nobuf counter in the server's log"
[ "$nobuf" -eq 0 ] || tp_fail "the server's tun ran out of buffers $nobuf times: one stuck client drained the pool"
tp_ok "tun rx_nobuf = 0"
[ "${drops:-0}" -gt 0 ] || tp_fail "the server counted no queue_drops for the stuck client"
tp_ok "the server dropped and counted $drops packets for alice"
