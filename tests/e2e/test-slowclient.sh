#!/bin/bash
# SPDX-License-Identifier: MIT
# A stuck client must not stall the others: alice's process is frozen
# (SIGSTOP: her socket stops being read, so the server's queue towards her
# fills) while the server floods her tunnel address; bob, on the same
# server, keeps passing traffic, the server's memory stays bounded by
# queue_limit and the packets it could not queue are counted (queue_drops).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-slowclient slow
tp_alice_and_bob
S=$(tp_server_ns)
C1=$(tp_client_ns 1)
C2=$(tp_client_ns 2)
alice=$TP_ALICE

tp_check "a frozen client does not stall another one"
kill -STOP "$(tp_pid alice)"
rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$(tp_pid server)/status")
# Flood alice's tunnel address from the server host: 40 MB of UDP (fragmented in two by the 1400-byte MTU), far more
# than her socket buffers and the server's queue can hold.
tp_in "$S" bash -c "dd if=/dev/zero bs=1400 count=30000 >/dev/udp/$alice/9" >"$TP_TMP/flood.out" 2>&1 &
flood=$!
sleep 1
tp_ping "$C2" 10.0.0.1 10 || tp_fail "bob's pings failed while alice was stuck"
tp_ok "bob: $(grep -m1 'packets transmitted' "$TP_TMP/ping.out")"
wait "$flood" || true
rss1=$(awk '/VmRSS/ { print $2 }' "/proc/$(tp_pid server)/status")
tp_ok "server RSS ${rss0} kB before the flood, ${rss1} kB after"
# queue_limit is 1 MiB per session: the server must not have grown by more
# than that plus its buffer pool's working set (16 MB in all).
[ $((rss1 - rss0)) -lt 16384 ] || tp_fail "the server grew by $((rss1 - rss0)) kB for one stuck client"
kill -CONT "$(tp_pid alice)"

tp_stop bob || tp_fail "bob exited with status $?"
tp_stop alice || true
tp_stop server || tp_fail "server exited with status $?"
drops=$(tp_counter "$(tp_logfile server)" tls-http queue_drops)
[ "${drops:-0}" -gt 0 ] || tp_fail "the server counted no queue_drops for the stuck client"
tp_ok "the server dropped and counted $drops buffers for alice"
