# SPDX-License-Identifier: MIT
# tests/e2e/lib.sh — helpers for the end-to-end tests, the demo and the
# benchmark.  Source it from bash after `set -eu`; then call tp_init NAME.
#
# Topology (tp_topology N):
#
#     ${TP_P}s  (server ns)  10.200.0.1/24  ── veth ──  ${TP_P}c1  10.200.0.11/24
#                            (a bridge br0 when N > 1)  ${TP_P}c2  10.200.0.12/24 …
#
# Every namespace name starts with tp<PID><short>, so parallel tests never
# share anything, and tp_cleanup (trapped on EXIT, INT, TERM) kills what the
# test started and deletes its namespaces even when a check failed.
# Nothing leaves those namespaces: no traffic reaches the host's networks.
#
# Environment (exported by `make check`; defaults work from a build tree):
#   top_srcdir, top_builddir, TUNPIPE, TUNPIPE_PLUGIN_PATH
#   TP_KEEP=1  keep the temporary directory (logs, configs) after the run
# shellcheck shell=bash

TP_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$TP_LIBDIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${TUNPIPE:=$top_builddir/core/tunpipe}"
: "${TUNPIPE_PLUGIN_PATH:=$top_builddir/plugins:$top_builddir/tests/plugins}"
export top_srcdir top_builddir TUNPIPE TUNPIPE_PLUGIN_PATH

TP_NAME=
TP_P=
TP_TMP=
TP_NS_LIST=()
TP_SKIP_STATUS=77  # automake's "skipped"; the demo sets 1

tp_say() { printf '%s\n' "$*"; }
tp_check() { printf '== %s: checking %s\n' "$TP_NAME" "$*"; }
tp_ok() { printf 'ok: %s\n' "$*"; }
# A failed check: report and stop (cleanup runs from the EXIT trap).
# A time limit in ms, scaled by TP_TIME_FACTOR (default 1).  `./run.sh
# sanitize` sets 4: ASan/UBSan builds run our code several times slower,
# and these limits are there to catch a stalled loop (seconds), not to
# benchmark an instrumented build.
tp_ms() {
	echo $(($1 * ${TP_TIME_FACTOR:-1}))
}

tp_fail() {
	printf 'FAIL: %s: %s\n' "$TP_NAME" "$*"
	exit 1
}
tp_skip() {
	printf 'SKIP: %s: %s\n' "$TP_NAME" "$*"
	exit "$TP_SKIP_STATUS"
}

# tp_init NAME SHORT — checks prerequisites, sets TP_P and TP_TMP, traps.
tp_init() {
	TP_NAME=$1
	TP_P="tp$$${2:-x}"
	[ "$(id -u)" -eq 0 ] || tp_skip "needs root (network namespaces, TUN devices)"
	[ -c /dev/net/tun ] || tp_skip "no /dev/net/tun (load the tun module, or give the container the device)"
	local tool
	for tool in ip openssl ping; do
		command -v "$tool" >/dev/null 2>&1 || tp_fail "missing tool '$tool' (see README: run.sh installs it)"
	done
	[ -x "$TUNPIPE" ] || tp_fail "tunpipe binary not found at '$TUNPIPE' (build first, or set TUNPIPE)"
	TP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tunpipe-$TP_NAME.XXXXXX")
	trap tp_cleanup EXIT
	tp_lock
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Tests that load the machine on purpose (TP_EXCLUSIVE=1 before tp_init:
# floods, bcrypt at cost 12) take this build's e2e lock exclusively; every
# other test takes it shared, so under `make -j check` no timing test runs
# while a hostile one does.  Held until the test exits (fd 8; children
# inherit it, so a wait is bounded at 10 min rather than trusting them).
tp_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	exec 8>>"${top_builddir:-${TMPDIR:-/tmp}}/.tunpipe-e2e.lock" || return 0
	if [ "${TP_EXCLUSIVE:-0}" = 1 ]; then
		flock -x -w 600 8 || true
	else
		flock -s -w 600 8 || true
	fi
}

tp_need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || tp_fail "missing tool '$tool' (see README: run.sh installs it)"
	done
}

# Process state from /proc: a zombie is gone for our purposes.
tp_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

tp_cleanup() {
	local rc=$? f pid ns
	trap - EXIT INT TERM
	set +e
	if [ -n "$TP_TMP" ] && [ -d "$TP_TMP" ]; then
		for f in "$TP_TMP"/*.pid; do
			[ -e "$f" ] || continue
			pid=$(cat "$f")
			tp_alive "$pid" && kill -TERM "$pid" 2>/dev/null
		done
		sleep 0.2
	fi
	# Anything still running inside our namespaces (iperf3, ping, a stuck
	# daemon) was started by this test: kill it so the netns can go.
	for ns in "${TP_NS_LIST[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	# /etc/netns/NS (files `ip netns exec` bind-mounts: hosts,
	# resolv.conf) goes with its namespace: the names are this test's.
	for ns in "${TP_NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$TP_TMP" ]; then
		for f in "$TP_TMP"/*.log; do
			[ -e "$f" ] || continue
			printf -- '---- last lines of %s ----\n' "$(basename "$f")"
			tail -n 40 "$f"
		done
	fi
	if [ -n "$TP_TMP" ] && [ "${TP_KEEP:-0}" = 1 ]; then
		tp_say "kept $TP_TMP"
	elif [ -n "$TP_TMP" ]; then
		rm -rf "$TP_TMP"
	fi
	exit "$rc"
}

tp_ns_add() {
	ip netns add "$1" || tp_fail "cannot create network namespace $1"
	TP_NS_LIST+=("$1")
	ip -n "$1" link set lo up
}

tp_server_ns() { printf '%s' "${TP_P}s"; }
tp_client_ns() { printf '%s' "${TP_P}c$1"; }
tp_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# tp_topology N — server namespace plus N client namespaces on 10.200.0.0/24.
tp_topology() {
	local n=$1 i s c
	s=$(tp_server_ns)
	tp_ns_add "$s"
	if [ "$n" -gt 1 ]; then
		ip -n "$s" link add br0 type bridge
		ip -n "$s" addr add 10.200.0.1/24 dev br0
		ip -n "$s" link set br0 up
	fi
	for i in $(seq 1 "$n"); do
		c=$(tp_client_ns "$i")
		tp_ns_add "$c"
		ip link add "vc$i" netns "$s" type veth peer name eth0 netns "$c" ||
			tp_fail "cannot create the veth pair for client $i"
		if [ "$n" -gt 1 ]; then
			ip -n "$s" link set "vc$i" master br0
		else
			ip -n "$s" addr add 10.200.0.1/24 dev "vc$i"
		fi
		ip -n "$s" link set "vc$i" up
		ip -n "$c" addr add "10.200.0.$((10 + i))/24" dev eth0
		ip -n "$c" link set eth0 up
	done
	# The link itself must work before tunpipe is blamed for anything.
	tp_in "$(tp_client_ns 1)" ping -c 1 -W 2 10.200.0.1 >/dev/null ||
		tp_fail "the bare veth between the namespaces does not pass traffic"
}

# tp_confdir — copies conf/*.conf to $TP_TMP/conf and generates the demo
# credentials into $TP_TMP/conf/demo (where the configs' relative paths point).
tp_confdir() {
	TP_CONF="$TP_TMP/conf"
	mkdir -p "$TP_CONF"
	cp "$top_srcdir"/conf/*.conf "$TP_CONF/" || tp_fail "cannot copy $top_srcdir/conf/*.conf"
	sh "$top_srcdir/conf/make-demo-creds.sh" "$TP_CONF/demo" >"$TP_TMP/creds.out" 2>&1 ||
		{ cat "$TP_TMP/creds.out"; tp_fail "make-demo-creds.sh failed"; }
}

# tp_conf_for_user SRC USER — a copy of client config SRC that logs in as
# USER with USER's password file; prints the new file's path.
tp_conf_for_user() {
	local src=$1 user=$2 out
	out="$TP_CONF/$(basename "$src" .conf)-$user.conf"
	sed -e "s/user *= *\"alice\"/user = \"$user\"/" \
		-e "s#demo/client.pass#demo/$user.pass#" "$src" >"$out"
	grep -q "user = \"$user\"" "$out" || tp_fail "could not set user $user in $out"
	printf '%s' "$out"
}

# tp_start NAME NS CONF [ARGS] — runs tunpipe in NS in the background;
# stderr and stdout go to $TP_TMP/NAME.log, the pid to $TP_TMP/NAME.pid.
tp_start() {
	local name=$1 ns=$2 conf=$3
	shift 3
	ip netns exec "$ns" "$TUNPIPE" -c "$conf" "$@" >>"$TP_TMP/$name.log" 2>&1 &
	echo $! >"$TP_TMP/$name.pid"
}

tp_pid() { cat "$TP_TMP/$1.pid"; }
tp_logfile() { printf '%s' "$TP_TMP/$1.log"; }

# tp_stop NAME [SIGNAL] — signal the process, wait up to 10 s, return its
# exit status (KILLs it and fails the test if it does not stop).
tp_stop() {
	local name=$1 sig=${2:-TERM} pid i rc=0
	pid=$(tp_pid "$name")
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		tp_alive "$pid" || break
		sleep 0.1
	done
	if tp_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		tp_fail "$name (pid $pid) did not exit within 10 s of SIG$sig"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	rm -f "$TP_TMP/$name.pid"
	return "$rc"
}

# tp_wait_listen NS PORT [SECONDS] — until something listens on TCP PORT.
tp_wait_listen() {
	local ns=$1 port=$2 t=${3:-10} i
	for i in $(seq 1 $((t * 10))); do
		tp_in "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# tp_wait_addr NS DEV [SECONDS] — prints the first IPv4 address of DEV once
# it has one (the client's tun gets it from the handshake).
tp_wait_addr() {
	local ns=$1 dev=$2 t=${3:-15} i a
	for i in $(seq 1 $((t * 10))); do
		a=$(ip -n "$ns" -4 -o addr show dev "$dev" 2>/dev/null | awk '{print $4; exit}')
		if [ -n "$a" ]; then
			printf '%s' "${a%/*}"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# tp_wait_log FILE ERE [SECONDS] — until a line of FILE matches (grep -Ei).
tp_wait_log() {
	local f=$1 re=$2 t=${3:-10} i
	for i in $(seq 1 $((t * 10))); do
		grep -Eqi -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# tp_ping NS DST [COUNT] [ping args] — quiet ping that must fully succeed.
tp_ping() {
	local ns=$1 dst=$2 n=${3:-3}
	shift 3 || shift $#
	tp_in "$ns" ping -q -c "$n" -i 0.2 -W 2 "$@" "$dst" >"$TP_TMP/ping.out" 2>&1
}

# tp_exits_within NAME SECONDS — waits for NAME (started with tp_start or
# the like: NAME.pid) to exit; sets EXIT_RC to its status and EXIT_MS to
# the elapsed ms; fails if it still runs after SECONDS.
tp_exits_within() {
	local name=$1 t=$2 pid t0 rc=0
	pid=$(tp_pid "$name")
	t0=$(date +%s%N)
	for _ in $(seq 1 $((t * 10))); do
		tp_alive "$pid" || break
		sleep 0.1
	done
	tp_alive "$pid" && tp_fail "$name still runs after ${t} s"
	wait "$pid" 2>/dev/null || rc=$?
	rm -f "$TP_TMP/$name.pid"
	EXIT_RC=$rc
	EXIT_MS=$((($(date +%s%N) - t0) / 1000000))
}

# tp_wait_ping NS DST [SECONDS] — until one ping gets through, for up to
# SECONDS of wall time: a ping with no route yet (the tunnel device is
# still coming up) fails at once, so the attempts are paced, not counted.
tp_wait_ping() {
	local ns=$1 dst=$2 t=${3:-15} end
	end=$(($(date +%s) + t))
	while :; do
		tp_in "$ns" ping -q -c 1 -W 1 "$dst" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# tp_server_start NAME CONF — start a server in the server namespace and wait
# until it listens on 8443.
tp_server_start() {
	local name=$1 conf=$2
	tp_start "$name" "$(tp_server_ns)" "$conf"
	tp_wait_listen "$(tp_server_ns)" 8443 10 ||
		tp_fail "server $name is not listening on 10.200.0.1:8443 after 10 s"
}

# tp_client_up NAME NS CONF — start a client and wait for its tunnel
# address; sets TP_ADDR.  (Not meant for $(…): the daemon must stay a child
# of this shell so tp_stop can collect its exit status.)
tp_client_up() {
	local name=$1 ns=$2 conf=$3
	tp_start "$name" "$ns" "$conf"
	# shellcheck disable=SC2034 # read by the sourcing script
	TP_ADDR=$(tp_wait_addr "$ns" tun0 20) ||
		tp_fail "client $name got no tunnel address on tun0 within 20 s"
}

# tp_iperf SERVER_NS ADDR CLIENT_NS SECONDS [-R] — one TCP stream; prints
# the receiver's rate in Gbit/s.  An iperf3 server runs for this call only.
tp_iperf() {
	local sns=$1 addr=$2 cns=$3 secs=$4 rev=${5:-} spid rate
	tp_in "$sns" iperf3 -s -1 -B "$addr" >"$TP_TMP/iperf3-server.out" 2>&1 &
	spid=$!
	tp_wait_listen "$sns" 5201 5 || { kill "$spid" 2>/dev/null; return 1; }
	# shellcheck disable=SC2086 # $rev is empty or one flag
	if ! timeout $((secs + 20)) ip netns exec "$cns" iperf3 -c "$addr" -t "$secs" -f g \
		--connect-timeout 5000 $rev >"$TP_TMP/iperf3.out" 2>&1; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null || true
		cat "$TP_TMP/iperf3.out" >&2
		return 1
	fi
	wait "$spid" 2>/dev/null || true
	rate=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' \
		"$TP_TMP/iperf3.out" | tail -n 1)
	[ -n "$rate" ] || return 1
	printf '%s' "$rate"
}

# tp_cpu_seconds PID — user+system CPU time of a live process, in seconds.
tp_cpu_seconds() {
	local hz
	hz=$(getconf CLK_TCK)
	# Fields after "(comm) ": state is 1, utime 12, stime 13.
	sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$hz" '{ printf "%.2f", ($12 + $13) / hz }'
}

# tp_counter LOGFILE STAGE NAME — last value of counter NAME printed at exit
# by the stage whose display name ends with STAGE ("router", "tls-http").
tp_counter() {
	grep -E "/$2\] counters:" "$1" | tail -n 1 |
		sed -n "s/.*[[:space:]]$3=\([0-9][0-9]*\).*/\1/p"
}

# tcp passive opens in a namespace (each accepted connection counts once).
tp_passive_opens() {
	tp_in "$1" cat /proc/net/snmp | awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 } else print $c }'
}

# ---- set-ups and checks several tests share -------------------------------

# tp_expect_refused OUT CONF WHAT ERE… — `tunpipe -t -c CONF` must fail and
# its output (kept in OUT) match every extended regex; WHAT names the
# config in a failure ("tunpipe -t accepted WHAT").
tp_expect_refused() {
	local out=$1 conf=$2 what=$3 re
	shift 3
	if "$TUNPIPE" -t -c "$conf" >"$out" 2>&1; then
		cat "$out"
		tp_fail "tunpipe -t accepted $what"
	fi
	for re in "$@"; do
		grep -Eq -- "$re" "$out" || { cat "$out"; tp_fail "tunpipe -t refused $what without /$re/"; }
	done
}

# tp_hostile NS ARGS… — tests/e2e/hostile.py (a scripted client) in NS.
tp_hostile() {
	local ns=$1
	shift
	tp_in "$ns" python3 "$top_srcdir/tests/e2e/hostile.py" "$@"
}

# tp_alice_and_bob — two clients of one server, both pinging it: needs
# tp_init; makes the topology (tp_topology 2) and $TP_CONF, starts
# "server" (server.conf), "alice" in client namespace 1 and "bob" in 2;
# sets TP_ALICE to alice's tunnel address.
tp_alice_and_bob() {
	local bob_conf
	tp_topology 2
	tp_confdir
	tp_server_start server "$TP_CONF/server.conf"
	tp_client_up alice "$(tp_client_ns 1)" "$TP_CONF/client.conf"
	TP_ALICE=$TP_ADDR
	bob_conf=$(tp_conf_for_user "$TP_CONF/client.conf" bob)
	tp_client_up bob "$(tp_client_ns 2)" "$bob_conf"
	tp_ping "$(tp_client_ns 1)" 10.0.0.1 2 || tp_fail "alice cannot ping"
	tp_ping "$(tp_client_ns 2)" 10.0.0.1 2 || tp_fail "bob cannot ping"
}

# tp_proxy_burst ATTACKER_NS CAROL_NS PORT SRVLOG PROXY — the login limiter
# behind a proxy listening on 10.200.0.11:PORT: eight wrong guesses for bob
# from ATTACKER_NS (10.200.0.14) end in 429 (the answers in
# $TP_TMP/burst.out) with a 'throttled' line for 10.200.0.14 in SRVLOG;
# its next login gets 429 while carol from CAROL_NS gets 101 through the
# same PROXY.  Sets TP_ATT and TP_CAROL to those two answers.
tp_proxy_burst() {
	local x=$1 b=$2 port=$3 log=$4 proxy=$5 ca="$TP_CONF/demo/ca.crt" pw
	pw=$(head -n 1 "$TP_CONF/demo/carol.pass")
	tp_hostile "$x" burst 10.200.0.11 "$port" "$ca" bob 8 >"$TP_TMP/burst.out" 2>&1 ||
		{ cat "$TP_TMP/burst.out"; tp_fail "the burst failed"; }
	grep -q '^429 ' "$TP_TMP/burst.out" || { cat "$TP_TMP/burst.out"; tp_fail "the attacker got no 429"; }
	tp_wait_log "$log" '10\.200\.0\.14 throttled' 10 || tp_fail "no 'throttled' line for 10.200.0.14"
	TP_ATT=$(tp_hostile "$x" login 10.200.0.11 "$port" "$ca" carol "$pw" 1 | awk '{ print $1 }')
	[ "$TP_ATT" = 429 ] || tp_fail "the attacker's next login got '$TP_ATT', expected 429"
	TP_CAROL=$(tp_hostile "$b" login 10.200.0.11 "$port" "$ca" carol "$pw" 1 | awk '{ print $1 }')
	[ "$TP_CAROL" = 101 ] || tp_fail "carol through the same $proxy got '$TP_CAROL', expected 101"
}
