#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the real tunpipe daemon on tests/conf/loopback.conf (tp-gen → tp-count
# → tp-loop) and check, from its stderr, that every packet went down and
# came back up through the per-session transform, and that the core printed
# the transform's counters when it shut down.
set -u

: "${TUNPIPE:?TUNPIPE must name the tunpipe binary (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"
conf="$top_srcdir/tests/conf/loopback.conf"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tp-pipeline.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	echo "---- tunpipe stderr ----" >&2
	cat "$tmp/err" >&2 2>/dev/null
	exit 1
}

# The config must pass the checker first.
if ! "$TUNPIPE" -t -c "$conf" >"$tmp/err" 2>&1; then
	fail "tunpipe -t rejected $conf"
fi

timeout 20 "$TUNPIPE" -c "$conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 124 ] && fail "tunpipe did not finish within 20 s"
[ $rc -eq 0 ] || fail "tunpipe exited with status $rc"

grep -q "all 1000 packets came back" "$tmp/err" ||
	fail "tp-gen did not report all 1000 packets back"

# "[loop/tp-count] counters: a=1 b=2": take tp-count's line, then check each
# counter as a whole word so 10000 does not pass for 1000.
line=$(grep -E '\[loop/[^]]*tp-count[^]]*\] counters:' "$tmp/err" | tail -n 1)
[ -n "$line" ] || fail "no counters line for stage loop/tp-count"
for want in down_packets=1000 up_packets=1000 session_up=1; do
	echo "$line" | grep -Eq "(^|[[:space:]])$want([[:space:]]|\$)" ||
		fail "tp-count counters lack $want: $line"
done

gen=$(grep -E '\[loop/[^]]*tp-gen[^]]*\] counters:' "$tmp/err" | tail -n 1)
echo "$gen" | grep -Eq "(^|[[:space:]])up_packets=1000([[:space:]]|\$)" ||
	fail "tp-gen counters lack up_packets=1000: $gen"
# A core may leave zero counters out; a non-zero one is a failure.
if echo "$gen" | grep -Eq "(^|[[:space:]])up_bad=[1-9]"; then
	fail "tp-gen saw damaged or reordered packets: $gen"
fi

echo "PASS: 1000 packets down and back; $line"

# The same loop in the daemon with stages that record re-entry
# (tests/plugins/tp-reenter.c): no callback of a stage may start while
# another of its own (or a host call made from one) is running.
cat >"$tmp/reenter.conf" <<'CONF'
pipelines = ( { name = "re"; stages = (
  { plugin = "tp-gen"; count = 1000; size = 200; batch = 16; },
  { plugin = "tp-reenter"; hello = 3; },
  { plugin = "tp-reenter-sink"; hello = 3; again_ms = 5; } ); } );
CONF
timeout 20 "$TUNPIPE" -c "$tmp/reenter.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "tunpipe exited with status $rc on the re-entry pipeline"
grep -q "all 1000 packets came back" "$tmp/err" || fail "re-entry pipeline: not all packets came back"
for stage in tp-reenter tp-reenter-sink; do
	l=$(grep -E "\[re/$stage\] counters:" "$tmp/err" | tail -n 1)
	[ -n "$l" ] || fail "no counters line for re/$stage"
	echo "$l" | grep -Eq "(^|[[:space:]])reentered=[1-9]" && fail "re/$stage was re-entered: $l"
	echo "$l" | grep -Eq "_bad=[1-9]|data_before_hello=[1-9]" && fail "re/$stage saw deliveries out of order: $l"
done
sink=$(grep -E "\[re/tp-reenter-sink\] counters:" "$tmp/err" | tail -n 1)
echo "$sink" | grep -Eq "(^|[[:space:]])hello_seen=6([[:space:]]|\$)" ||
	fail "the sink did not get the 6 hellos sent from SESSION_UP: $sink"
echo "PASS: no stage re-entered, deliveries in order"
exit 0
