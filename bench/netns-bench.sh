#!/bin/bash
# bench/netns-bench.sh — single-stream iperf3 throughput through tunpipe,
# per stack and direction, against the bare veth measured in the same run.
#
#   make bench              (from the build directory; needs root)
#   BENCH_SECONDS=10 bench/netns-bench.sh
#
# Prints Gbit/s, the ratio to the bare veth, and the CPU seconds the two
# tunpipe processes used for both runs of a stack (utime+stime from
# /proc/PID/stat, read just before they are stopped).  Both ends share this
# machine's cores with iperf3, so compare numbers from one run only.
set -eu
# shellcheck source=SCRIPTDIR/../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
TP_SKIP_STATUS=1
tp_init bench bch
tp_need iperf3 ss
secs=${BENCH_SECONDS:-5}
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)

results=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

tp_say "bare veth, $secs s each way ..."
veth_up=$(tp_iperf "$S" 10.200.0.1 "$C" "$secs") || tp_fail "iperf3 over the bare veth failed"
veth_down=$(tp_iperf "$S" 10.200.0.1 "$C" "$secs" -R) || tp_fail "iperf3 -R over the bare veth failed"
results+=("veth|$veth_up|$veth_down|-")

for stack in default len lz4; do
	if [ "$stack" = default ]; then sfx=; else sfx=-$stack; fi
	tp_say "stack $stack (conf/server$sfx.conf + conf/client$sfx.conf), $secs s each way ..."
	tp_server_start server "$TP_CONF/server$sfx.conf"
	tp_client_up client "$C" "$TP_CONF/client$sfx.conf"
	tp_wait_ping "$C" 10.0.0.1 10 || tp_fail "$stack: no ping through the tunnel"
	up=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs") || tp_fail "$stack: iperf3 failed"
	down=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs" -R) || tp_fail "$stack: iperf3 -R failed"
	cpu=$(awk -v a="$(tp_cpu_seconds "$(tp_pid server)")" -v b="$(tp_cpu_seconds "$(tp_pid client)")" \
		'BEGIN { printf "%.2f", a + b }')
	tp_stop client || tp_fail "$stack: client exited with status $?"
	tp_stop server || tp_fail "$stack: server exited with status $?"
	results+=("$stack|$up|$down|$cpu")
done

printf '\n%-8s  %-15s  %8s  %8s  %s\n' stack direction Gbit/s "x veth" "tunpipe CPU s (both runs)"
for r in "${results[@]}"; do
	IFS='|' read -r name up down cpu <<<"$r"
	printf '%-8s  %-15s  %8s  %8s  %s\n' "$name" "client->server" "$up" "$(ratio "$up" "$veth_up")" "$cpu"
	printf '%-8s  %-15s  %8s  %8s\n' "" "server->client" "$down" "$(ratio "$down" "$veth_down")"
done
