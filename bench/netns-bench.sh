#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/netns-bench.sh — what tunpipe costs, measured against the bare veth
# in the same run:
#
#   1. single-stream iperf3 TCP throughput per stack and direction, with the
#      CPU seconds the two tunpipe processes used (utime+stime from
#      /proc/PID/stat, read just before they are stopped) and per GB moved;
#      the default stack twice: with TUN offloads (the default) and with
#      `offload = "off"` on both tun stages (stack "no-offl"), with
#      offloads on but super-packets not agreed (stack "no-sup": the client's
#      tls-http `offload = false`, so both ends segment in userspace), and the
#      default server against the plain Simple-VPN client of the article's
#      design (tests/e2e/article-peer, stack "plain": no agreement, plain
#      packets); each with its average ping round trip;
#   2. small-packet rate: a UDP flood of 64-byte payloads (iperf3 -u -b 0
#      -l 64) through the default stack and the bare veth, reported as the
#      packets per second the receiver actually got (lost ones excluded) and
#      the loss % — the per-packet cost that bulk TCP hides;
#   3. memory per session: the default server's RSS (VmRSS, plus Rss,
#      Anonymous and Pss from smaps_rollup) before and after BENCH_SESSIONS
#      clients (default 8, each in its own namespace on a bridge, each its
#      own user) are connected and have each pinged it, divided by the number
#      of sessions; plus a connected client's own footprint;
#   4. the crowd (bench/crowd-bench.sh, run last in its own namespaces):
#      CROWD_N (1000) users at once — time until all are in, 503 count,
#      bytes per idle session at CROWD_N sessions — and CROWD_CYCLES (1000)
#      sequential connect/upgrade/ping/close cycles: ms each, the server's
#      fds and RSS before and after (BENCH_CROWD=0 skips it).
#
#   make bench              (from the build directory; needs root)
#   BENCH_SECONDS=10 BENCH_SESSIONS=32 bench/netns-bench.sh
#
# Both ends share this machine's cores with iperf3, so compare numbers from
# one run only.
set -eu
# shellcheck source=SCRIPTDIR/../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
TP_SKIP_STATUS=1
tp_init bench bch
tp_need iperf3 ss
secs=${BENCH_SECONDS:-5}
sessions=${BENCH_SESSIONS:-8}
# Client namespaces sit at 10.200.0.(10+i) and the default pool hands out
# 10.0.0.2-254, so 200 leaves room on both sides.
case $sessions in
'' | *[!0-9]*) tp_fail "BENCH_SESSIONS must be a number of clients (1..200), not '$sessions'" ;;
esac
if [ "$sessions" -lt 1 ] || [ "$sessions" -gt 200 ]; then
	tp_fail "BENCH_SESSIONS=$sessions is out of range: 1..200 (client namespaces use 10.200.0.11-210)"
fi
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)

results=()
udp_results=()
rtt_results=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# bench_udp SERVER_NS ADDR CLIENT_NS SECONDS [-R] — a UDP flood of 64-byte
# payloads; prints "PACKETS_PER_S LOSS_PERCENT" from the receiver's summary
# line ("… 0.00-3.00 sec … LOST/TOTAL (P%) receiver").  Packets/s counts
# what arrived: (total - lost) / the receiver's interval.
bench_udp() {
	local sns=$1 addr=$2 cns=$3 secs=$4 rev=${5:-} spid res
	tp_in "$sns" iperf3 -s -1 -B "$addr" >"$TP_TMP/iperf3-server.out" 2>&1 &
	spid=$!
	tp_wait_listen "$sns" 5201 5 || { kill "$spid" 2>/dev/null; return 1; }
	# shellcheck disable=SC2086 # $rev is empty or one flag
	if ! timeout $((secs + 20)) ip netns exec "$cns" iperf3 -c "$addr" -u -b 0 -l 64 \
		-t "$secs" --connect-timeout 5000 $rev >"$TP_TMP/iperf3-udp.out" 2>&1; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null || true
		cat "$TP_TMP/iperf3-udp.out" >&2
		return 1
	fi
	wait "$spid" 2>/dev/null || true
	res=$(awk '/receiver$/ {
		split("", iv); split("", lt)
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^[0-9.]+-[0-9.]+$/) split($i, iv, "-")
			if ($i ~ /^-?[0-9]+\/[0-9]+$/) split($i, lt, "/")
		}
		if (iv[2] - iv[1] > 0 && lt[2] > 0)
			r = sprintf("%.0f %.2f", (lt[2] - lt[1]) / (iv[2] - iv[1]), 100 * lt[1] / lt[2])
	} END { if (r != "") print r }' "$TP_TMP/iperf3-udp.out")
	[ -n "$res" ] || { cat "$TP_TMP/iperf3-udp.out" >&2; return 1; }
	printf '%s' "$res"
}

# bench_rtt NS ADDR — the average round-trip time in ms of 50 pings 10 ms
# apart (56-byte payload), or nothing when they fail.
bench_rtt() {
	tp_in "$1" ping -q -c 50 -i 0.01 -W 2 "$2" 2>/dev/null |
		awk -F/ '/^rtt|^round-trip/ { printf "%.3f", $5 }'
}

# bench_plain SECONDS — the default tunpipe server against the plain
# Simple-VPN client of the article's design (tests/e2e/article-peer: no
# stack header, no offload agreement, packets at most the MTU): one TCP
# stream each way, RTT; appends to results/rtt_results as stack "plain".
bench_plain() {
	local secs=$1 peer up down scpu cpu rtt
	peer=${ARTICLE_PEER:-$top_builddir/tests/e2e/article-peer}
	if [ ! -x "$peer" ]; then
		tp_say "plain peer: $peer not built (make tests/e2e/article-peer): skipped"
		return 0
	fi
	tp_say "stack plain (conf/server.conf + the article's client), $secs s each way ..."
	tp_server_start server "$TP_CONF/server.conf"
	ip netns exec "$C" "$peer" client https://10.200.0.1:8443/vpn alice \
		"$(head -n 1 "$TP_CONF/demo/alice.pass")" "$TP_CONF/demo/ca.crt" vpn.test \
		>>"$TP_TMP/article-client.log" 2>&1 &
	echo $! >"$TP_TMP/article-client.pid"
	tp_wait_addr "$C" svpn0 20 >/dev/null || tp_fail "plain: the article client got no address"
	tp_wait_ping "$C" 10.0.0.1 10 || tp_fail "plain: no ping through the article client's tunnel"
	rtt=$(bench_rtt "$C" 10.0.0.1)
	up=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs") || tp_fail "plain: iperf3 failed"
	down=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs" -R) || tp_fail "plain: iperf3 -R failed"
	scpu=$(tp_cpu_seconds "$(tp_pid server)")
	cpu=$(awk -v a="$scpu" -v u="$up" -v d="$down" -v t="$secs" 'BEGIN {
		gb = (u + d) * t / 8; printf "%.2f (server %.2f s/GB; the peer is not tunpipe)", a, gb > 0 ? a / gb : 0 }')
	tp_stop article-client || true
	tp_stop server || tp_fail "plain: server exited with status $?"
	results+=("plain|$up|$down|$cpu")
	rtt_results+=("plain|${rtt:--}")
}

# bench_mem PID — "VMRSS RSS ANON PSS" in KiB for a live tunpipe.  VmRSS
# (/proc/PID/status) comes from the kernel's per-CPU counters and may lag by
# tens of pages; Rss, Anonymous and Pss from /proc/PID/smaps_rollup walk the
# page tables and are exact ("-" each when the kernel lacks the file).
# Anonymous is the process's own heap, buffers and TLS state, untouched by
# what other processes map.  Refuses any process but tunpipe, so a stale pid
# file cannot silently measure the wrong thing.
bench_mem() {
	local pid=$1 comm vmrss rest="- - -"
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	case $comm in *tunpipe*) ;; *) return 1 ;; esac
	vmrss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	[ -n "$vmrss" ] || return 1
	if [ -r "/proc/$pid/smaps_rollup" ]; then
		rest=$(awk '$1 == "Rss:" { r = $2 } $1 == "Anonymous:" { a = $2 } $1 == "Pss:" { p = $2 }
			END { printf "%s %s %s", r == "" ? "-" : r, a == "" ? "-" : a, p == "" ? "-" : p }' \
			"/proc/$pid/smaps_rollup")
	fi
	printf '%s %s' "$vmrss" "$rest"
}

# bytes per session from two KiB readings; "-" when either is unknown.
per_session() {
	awk -v a="$1" -v b="$2" -v k="$3" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f", (b - a) * 1024 / k }'
}

# bench_more_clients K — grows tp_topology 1 to K clients: the server's veth
# moves onto a bridge that carries 10.200.0.1, and clients 2..K get their
# own namespace and veth on it (same names and addresses as tp_topology K,
# registered with tp_ns_add so the EXIT trap removes them).
bench_more_clients() {
	local k=$1 i c
	[ "$k" -gt 1 ] || return 0
	ip -n "$S" link add br0 type bridge || tp_fail "cannot create the bridge in $S"
	ip -n "$S" link set br0 up
	ip -n "$S" addr del 10.200.0.1/24 dev vc1
	ip -n "$S" addr add 10.200.0.1/24 dev br0
	ip -n "$S" link set vc1 master br0
	for i in $(seq 2 "$k"); do
		c=$(tp_client_ns "$i")
		tp_ns_add "$c"
		ip link add "vc$i" netns "$S" type veth peer name eth0 netns "$c" ||
			tp_fail "cannot create the veth pair for client $i"
		ip -n "$S" link set "vc$i" master br0
		ip -n "$S" link set "vc$i" up
		ip -n "$c" addr add "10.200.0.$((10 + i))/24" dev eth0
		ip -n "$c" link set eth0 up
	done
	for i in 1 "$k"; do
		tp_in "$(tp_client_ns "$i")" ping -c 1 -W 2 10.200.0.1 >/dev/null ||
			tp_fail "client namespace $i cannot reach 10.200.0.1 over the bridge"
	done
}

# bench_users K — users bench1..benchK in the server's htpasswd, each with
# its own password file, so every session is a distinct login (as in real
# use: per-user state such as sticky addresses is part of the cost).
bench_users() {
	local k=$1 i pw hash
	for i in $(seq 1 "$k"); do
		pw=$(openssl rand -hex 12)
		printf '%s\n' "$pw" >"$TP_CONF/demo/bench$i.pass"
		hash=$(printf '%s\n' "$pw" | openssl passwd -6 -stdin) || tp_fail "openssl passwd -6 failed"
		printf 'bench%s:%s\n' "$i" "$hash" >>"$TP_CONF/demo/users.htpasswd"
	done
}

# bench_connect FIRST LAST — starts clients FIRST..LAST (client i logs in as
# bench<i> from namespace i), then waits until each has its address and has
# pinged the server once through its tunnel.
bench_connect() {
	local i
	for i in $(seq "$1" "$2"); do
		tp_start "sess$i" "$(tp_client_ns "$i")" "$(tp_conf_for_user "$TP_CONF/client.conf" "bench$i")"
	done
	for i in $(seq "$1" "$2"); do
		tp_wait_addr "$(tp_client_ns "$i")" tun0 30 >/dev/null ||
			tp_fail "client $i (bench$i) got no tunnel address within 30 s"
	done
	for i in $(seq "$1" "$2"); do
		tp_wait_ping "$(tp_client_ns "$i")" 10.0.0.1 10 ||
			tp_fail "client $i (bench$i) cannot ping 10.0.0.1 through its tunnel"
	done
}

tp_say "bare veth, $secs s each way (TCP, then UDP 64-byte flood) ..."
veth_up=$(tp_iperf "$S" 10.200.0.1 "$C" "$secs") || tp_fail "iperf3 over the bare veth failed"
veth_down=$(tp_iperf "$S" 10.200.0.1 "$C" "$secs" -R) || tp_fail "iperf3 -R over the bare veth failed"
results+=("veth|$veth_up|$veth_down|-")
rtt_results+=("veth|$(bench_rtt "$C" 10.200.0.1)")
vudp_up=$(bench_udp "$S" 10.200.0.1 "$C" "$secs") || tp_fail "iperf3 -u over the bare veth failed"
vudp_down=$(bench_udp "$S" 10.200.0.1 "$C" "$secs" -R) || tp_fail "iperf3 -u -R over the bare veth failed"
udp_results+=("veth|$vudp_up|$vudp_down")

# The default pair with offloads off on both tun stages.
for f in server client; do
	sed 's|^\( *\)plugin *= *"tun";|&\n\1offload = "off";|' "$TP_CONF/$f.conf" >"$TP_CONF/$f-no-offl.conf"
	grep -q 'offload = "off";' "$TP_CONF/$f-no-offl.conf" || tp_fail "cannot turn offloads off in $f.conf"
done

# The default pair with offloads on but not agreed (tls-http offload =
# false on the client): super-packets split in userspace, as against a
# plain Simple-VPN peer (stack "no-sup").
cp "$TP_CONF/server.conf" "$TP_CONF/server-no-sup.conf"
sed 's|^\( *\)role *= *"client";|&\n\1offload = false;|' "$TP_CONF/client.conf" >"$TP_CONF/client-no-sup.conf"
grep -q 'offload = false;' "$TP_CONF/client-no-sup.conf" || tp_fail "cannot set offload = false in client.conf"

for stack in default no-sup no-offl len lz4; do
	if [ "$stack" = default ]; then sfx=; else sfx=-$stack; fi
	tp_say "stack $stack (conf/server$sfx.conf + conf/client$sfx.conf), $secs s each way ..."
	tp_server_start server "$TP_CONF/server$sfx.conf"
	tp_client_up client "$C" "$TP_CONF/client$sfx.conf"
	tp_wait_ping "$C" 10.0.0.1 10 || tp_fail "$stack: no ping through the tunnel"
	rtt_results+=("$stack|$(bench_rtt "$C" 10.0.0.1)")
	up=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs") || tp_fail "$stack: iperf3 failed"
	down=$(tp_iperf "$S" 10.0.0.1 "$C" "$secs" -R) || tp_fail "$stack: iperf3 -R failed"
	# Read before the UDP runs, so the column stays "the two TCP runs".
	scpu=$(tp_cpu_seconds "$(tp_pid server)")
	ccpu=$(tp_cpu_seconds "$(tp_pid client)")
	# CPU seconds per GB carried (both TCP runs: rate in Gbit/s x seconds / 8).
	cpu=$(awk -v a="$scpu" -v b="$ccpu" -v u="$up" -v d="$down" -v t="$secs" 'BEGIN {
		gb = (u + d) * t / 8; sa = 0; sb = 0
		if (gb > 0) { sa = a / gb; sb = b / gb }
		printf "%.2f (server %.2f s/GB, client %.2f s/GB)", a + b, sa, sb }')
	if [ "$stack" = default ]; then
		tp_say "stack $stack: UDP 64-byte flood, $secs s each way ..."
		uup=$(bench_udp "$S" 10.0.0.1 "$C" "$secs") || tp_fail "$stack: iperf3 -u failed"
		udown=$(bench_udp "$S" 10.0.0.1 "$C" "$secs" -R) || tp_fail "$stack: iperf3 -u -R failed"
		udp_results+=("$stack|$uup|$udown")
	fi
	tp_stop client || tp_fail "$stack: client exited with status $?"
	tp_stop server || tp_fail "$stack: server exited with status $?"
	results+=("$stack|$up|$down|$cpu")
done
bench_plain "$secs"

tp_say "memory: default server before and after $sessions sessions ..."
bench_more_clients "$sessions"
bench_users "$sessions"
tp_server_start server "$TP_CONF/server.conf"
# Let start-up finish (lazy initialisation, the first log lines) before the
# baseline is taken, so it is not counted as session memory.
sleep 0.5
mem0=$(bench_mem "$(tp_pid server)") || tp_fail "cannot read the server's memory from /proc"
bench_connect 1 1
# The first session also pays one-off costs (code and library pages first
# touched by a handshake, pool and table growth); the marginal cost of the
# others is the better guide to scaling.
mem_one=$(bench_mem "$(tp_pid server)") || tp_fail "cannot read the server's memory from /proc"
[ "$sessions" -eq 1 ] || bench_connect 2 "$sessions"
mem1=$(bench_mem "$(tp_pid server)") || tp_fail "cannot read the server's memory from /proc"
# A client's own footprint: the mean over all K, since they are alike.
: >"$TP_TMP/client-mem"
for i in $(seq 1 "$sessions"); do
	bench_mem "$(tp_pid "sess$i")" >>"$TP_TMP/client-mem" || tp_fail "cannot read client $i's memory from /proc"
	echo >>"$TP_TMP/client-mem"
done
cmem=$(awk '{ for (i = 1; i <= 4; i++) { if ($i == "-") bad[i] = 1; s[i] += $i } }
	END { for (i = 1; i <= 4; i++) printf "%s ", bad[i] ? "-" : sprintf("%.0f", s[i] / NR) }' "$TP_TMP/client-mem")
for i in $(seq 1 "$sessions"); do
	tp_stop "sess$i" || tp_fail "client $i exited with status $?"
done
tp_stop server || tp_fail "memory run: server exited with status $?"

printf '\nTCP, one stream, %s s each way\n' "$secs"
printf '%-8s  %-15s  %8s  %8s  %s\n' stack direction Gbit/s "x veth" "tunpipe CPU s (both runs; per GB each process)"
for r in "${results[@]}"; do
	IFS='|' read -r name up down cpu <<<"$r"
	printf '%-8s  %-15s  %8s  %8s  %s\n' "$name" "client->server" "$up" "$(ratio "$up" "$veth_up")" "$cpu"
	printf '%-8s  %-15s  %8s  %8s\n' "" "server->client" "$down" "$(ratio "$down" "$veth_down")"
done

printf '\nPing, 50 x 56-byte payload 10 ms apart, average round trip\n'
for r in "${rtt_results[@]}"; do
	IFS='|' read -r name rtt <<<"$r"
	printf '%-8s  %8s ms\n' "$name" "${rtt:--}"
done

printf '\nUDP flood, 64-byte payload (92-byte IP packets), iperf3 -b 0, %s s each way\n' "$secs"
printf '%-8s  %-15s  %12s  %8s  %8s\n' path direction "received/s" "loss %" "x veth"
read -r vpu _ <<<"$vudp_up"
read -r vpd _ <<<"$vudp_down"
for r in "${udp_results[@]}"; do
	IFS='|' read -r name u d <<<"$r"
	read -r pu lu <<<"$u"
	read -r pd ld <<<"$d"
	printf '%-8s  %-15s  %8s pkt  %8s  %8s\n' "$name" "client->server" "$pu" "$lu" "$(ratio "$pu" "$vpu")"
	printf '%-8s  %-15s  %8s pkt  %8s  %8s\n' "" "server->client" "$pd" "$ld" "$(ratio "$pd" "$vpd")"
done

printf '\nMemory, default stack, %s session(s), each connected and pinged once\n' "$sessions"
printf '  %-22s  %10s  %10s  %14s\n' "" before after "per session"
labels=("server VmRSS" "server Rss (smaps)" "server Anonymous" "server Pss")
read -r -a m0 <<<"$mem0"
read -r -a m1 <<<"$mem1"
for i in 0 1 2 3; do
	printf '  %-22s  %6s KiB  %6s KiB  %8s bytes\n' "${labels[$i]}" "${m0[$i]}" "${m1[$i]}" \
		"$(per_session "${m0[$i]}" "${m1[$i]}" "$sessions")"
done
if [ "$sessions" -gt 1 ]; then
	read -r -a m_one <<<"$mem_one"
	printf '  marginal, sessions 2..%s: VmRSS %s bytes, Rss %s bytes, Anonymous %s bytes per session\n' \
		"$sessions" "$(per_session "${m_one[0]}" "${m1[0]}" $((sessions - 1)))" \
		"$(per_session "${m_one[1]}" "${m1[1]}" $((sessions - 1)))" \
		"$(per_session "${m_one[2]}" "${m1[2]}" $((sessions - 1)))"
fi
tp_say "  (Pss counts shared pages divided among the processes mapping them: the client"
tp_say "   processes share the server's binary and libraries, so its Pss can fall.)"
read -r -a cm <<<"$cmem"
printf '  client, connected: VmRSS %s KiB, Rss %s KiB, Anonymous %s KiB, Pss %s KiB (mean of %s)\n' \
	"${cm[0]}" "${cm[1]}" "${cm[2]}" "${cm[3]}" "$sessions"

# 4. The crowd: its own namespaces and server, after everything above is
# torn down by its own script (bench/crowd-bench.sh prints its section).
if [ "${BENCH_CROWD:-1}" != 0 ]; then
	tp_say ""
	bash "$(dirname "$0")/crowd-bench.sh" || tp_fail "the crowd section failed"
fi
