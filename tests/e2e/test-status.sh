#!/bin/bash
# SPDX-License-Identifier: MIT
# Live status and control with three clients (alice, bob, carol): `tunpipe
# status --json` shows each user with the right tunnel and peer addresses
# and byte counts that grow with traffic; `tunpipe disconnect bob` drops
# bob's session only (alice and carol keep pinging without a loss); the
# Prometheus endpoint passes `promtool check metrics` and its per-user
# bytes match `status`; the control socket has the configured mode and
# survives bad and slow clients.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-status sta
tp_need ss curl python3 promtool
tp_topology 3
tp_confdir
S=$(tp_server_ns)
users=(alice bob carol)
sock="$TP_CONF/server.sock"
murl=http://127.0.0.1:9810/metrics

tp_check "bad control and metrics settings are refused with their line"
printf 'control_mode = "0999";\nmetrics = "localhost:80";\n' >"$TP_CONF/bad.conf"
cat "$TP_CONF/server.conf" >>"$TP_CONF/bad.conf"
tp_expect_refused "$TP_TMP/bad.out" "$TP_CONF/bad.conf" 'control_mode = "0999"' \
	'bad.conf:1: .*control_mode' 'bad.conf:2: .*metrics.*numeric IP'
tp_ok "$(head -n 1 "$TP_TMP/bad.out")"

# The server's config with a control socket (relative: next to the
# config) and a metrics endpoint on the server namespace's loopback.
{
	printf 'control = "server.sock";\ncontrol_mode = "0660";\nmetrics = "127.0.0.1:9810";\n'
	cat "$TP_CONF/server.conf"
} >"$TP_CONF/server-status.conf"
SC="$TP_CONF/server-status.conf"

tp_check "without a control socket, status says how to get one"
if "$TUNPIPE" status -c "$TP_CONF/server.conf" >"$TP_TMP/nosock.out" 2>&1; then
	tp_fail "status succeeded against a config without 'control'"
fi
grep -q "no 'control' setting" "$TP_TMP/nosock.out" || { cat "$TP_TMP/nosock.out"; tp_fail "unclear message"; }
tp_ok "$(cat "$TP_TMP/nosock.out")"

tp_in "$S" sysctl -q -w net.ipv4.ip_forward=1
tp_check "the server starts with a control socket of mode 0660"
tp_server_start server "$SC"
[ -S "$sock" ] || tp_fail "no socket at $sock"
[ "$(stat -c %a "$sock")" = 660 ] || tp_fail "socket mode is $(stat -c %a "$sock"), expected 660"
tp_ok "$sock mode 660"

declare -A addr
for i in 1 2 3; do
	u=${users[$((i - 1))]}
	cf=$(tp_conf_for_user "$TP_CONF/client.conf" "$u")
	# alice's client has a control socket too: status works on clients.
	[ "$u" != alice ] || sed -i '1i control = "alice.sock";' "$cf"
	tp_client_up "$u" "$(tp_client_ns "$i")" "$cf"
	addr[$u]=$TP_ADDR
done
tp_ok "alice ${addr[alice]}, bob ${addr[bob]}, carol ${addr[carol]}"

# status_json FILE — the server's status as JSON, checked to be valid.
status_json() {
	"$TUNPIPE" status -c "$SC" --json >"$1" 2>"$TP_TMP/status.err" ||
		{ cat "$TP_TMP/status.err"; tp_fail "tunpipe status --json failed"; }
	python3 -m json.tool "$1" >/dev/null || { cat "$1"; tp_fail "tunpipe status --json is not valid JSON"; }
}
# field FILE USER KEY — a field of USER's (one) session.
field() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for p in d["pipelines"] for s in p["sessions"] if s["user"] == sys.argv[2]]
print(s[0][sys.argv[3]] if len(s) == 1 else "sessions=%d" % len(s))
EOF
}

tp_check "status --json: each user with the right addresses"
status_json "$TP_TMP/s1.json"
for i in 1 2 3; do
	u=${users[$((i - 1))]}
	a=$(field "$TP_TMP/s1.json" "$u" address)
	[ "$a" = "${addr[$u]}/24" ] || tp_fail "$u: status says address $a, the client has ${addr[$u]}"
	p=$(field "$TP_TMP/s1.json" "$u" peer)
	case $p in 10.200.0.$((10 + i)):*) ;; *) tp_fail "$u: peer $p, expected 10.200.0.$((10 + i)):PORT" ;; esac
	[ "$(field "$TP_TMP/s1.json" "$u" stack)" = framer-ip ] || tp_fail "$u: stack is not framer-ip"
	since=$(field "$TP_TMP/s1.json" "$u" since_epoch)
	[ $(($(date +%s) - since)) -lt 120 ] || tp_fail "$u: connected since $since, too long ago"
	tp_ok "$u: $a from $p"
done

tp_check "byte and packet counts grow with traffic (10 pings of 1000 bytes each way)"
for u in alice bob carol; do
	eval "rx0_$u=$(field "$TP_TMP/s1.json" "$u" rx_bytes) tx0_$u=$(field "$TP_TMP/s1.json" "$u" tx_bytes)"
done
for i in 1 2 3; do
	tp_ping "$(tp_client_ns "$i")" 10.0.0.1 10 -s 1000 || { cat "$TP_TMP/ping.out"; tp_fail "ping failed"; }
done
status_json "$TP_TMP/s2.json"
for u in alice bob carol; do
	rx=$(field "$TP_TMP/s2.json" "$u" rx_bytes) tx=$(field "$TP_TMP/s2.json" "$u" tx_bytes)
	eval "rx0=\$rx0_$u tx0=\$tx0_$u"
	# 10 echo requests up and 10 replies down of 1028 bytes each.
	[ $((rx - rx0)) -ge 10280 ] || tp_fail "$u: rx_bytes grew by $((rx - rx0)), expected >= 10280"
	[ $((tx - tx0)) -ge 10280 ] || tp_fail "$u: tx_bytes grew by $((tx - tx0)), expected >= 10280"
	[ "$(field "$TP_TMP/s2.json" "$u" rx_packets)" -ge 10 ] || tp_fail "$u: rx_packets below 10"
	tp_ok "$u: rx $rx0 -> $rx, tx $tx0 -> $tx bytes"
done
python3 - "$TP_TMP/s2.json" <<'EOF' || tp_fail "per-session framer counters missing or wrong"
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["pipelines"][0]["sessions"]:
    st = s["stages"][0]
    assert st["plugin"] == "framer-ip", st
    assert st["counters"]["up_packets"] >= 10, st
EOF
tp_ok "each session lists its framer-ip instance with live counters"

tp_check "status on a client: its one session, to the server"
"$TUNPIPE" status -s "$TP_CONF/alice.sock" --json >"$TP_TMP/alice.json" || tp_fail "status of alice's client failed"
python3 - "$TP_TMP/alice.json" "${addr[alice]}" <<'EOF' || { cat "$TP_TMP/alice.json"; tp_fail "alice's client status is wrong"; }
import json, sys
s = json.load(open(sys.argv[1]))["pipelines"][0]["sessions"]
assert len(s) == 1, s
s = s[0]
assert s["local"] is True and s["user"] == "alice", s
assert s["address"] == sys.argv[2] + "/24" and s["peer"] == "10.200.0.1:8443", s
assert s["tx_bytes"] >= 10280 and s["rx_bytes"] >= 10280, s
EOF
tp_ok "alice's client: ${addr[alice]}/24 to 10.200.0.1:8443"

tp_check "human status output"
"$TUNPIPE" status -c "$SC" >"$TP_TMP/status.txt" || tp_fail "tunpipe status failed"
for u in alice bob carol; do
	grep -q "user $u, address ${addr[$u]}/24, peer 10.200.0." "$TP_TMP/status.txt" ||
		{ cat "$TP_TMP/status.txt"; tp_fail "no line for $u"; }
done
grep -q '^pipeline vpn (stack framer-ip): 3 sessions up' "$TP_TMP/status.txt" || { cat "$TP_TMP/status.txt"; tp_fail "no pipeline line"; }
sed -n 1,4p "$TP_TMP/status.txt"

tp_check "/metrics passes promtool and its per-user bytes match status"
# Quiet now, but retry in case a stray packet (IPv6 solicitation) moved a
# count between the two reads: status, metrics, status must agree.
ok=0
for try in 1 2 3 4 5; do
	status_json "$TP_TMP/m1.json"
	tp_in "$S" curl -sS -f -o "$TP_TMP/metrics.txt" "$murl" || tp_fail "curl $murl failed"
	status_json "$TP_TMP/m2.json"
	cmp -s <(field "$TP_TMP/m1.json" bob rx_bytes) <(field "$TP_TMP/m2.json" bob rx_bytes) || continue
	python3 - "$TP_TMP/m2.json" "$TP_TMP/metrics.txt" <<'EOF' && { ok=1; break; }
import json, re, sys
d = json.load(open(sys.argv[1]))
m = {}
for line in open(sys.argv[2]):
    r = re.match(r'(\w+)\{(.*)\} (\d+)$', line)
    if r:
        m[(r[1], r[2])] = int(r[3])
p = d["pipelines"][0]
for s in p["sessions"]:
    for dr in ("rx", "tx"):
        for what in ("bytes", "packets"):
            key = ('tunpipe_user_%s_total' % what, 'pipeline="vpn",user="%s",direction="%s"' % (s["user"], dr))
            if m.get(key) != s["%s_%s" % (dr, what)]:
                print("mismatch", key, m.get(key), s["%s_%s" % (dr, what)]); sys.exit(1)
assert m[('tunpipe_sessions', 'pipeline="vpn"')] == 3
t = m[('tunpipe_tunnel_bytes_total', 'pipeline="vpn",direction="rx"')]
assert t == p["rx_bytes"], (t, p["rx_bytes"])
c = m[('tunpipe_stage_total', 'pipeline="vpn",stage="framer-ip",counter="up_packets"')]
assert c == [s for s in p["stages"] if s["plugin"] == "framer-ip"][0]["counters"]["up_packets"]
EOF
done
[ $ok = 1 ] || tp_fail "metrics and status disagree"
promtool check metrics <"$TP_TMP/metrics.txt" >"$TP_TMP/promtool.out" 2>&1 ||
	{ cat "$TP_TMP/promtool.out"; tp_fail "promtool check metrics failed"; }
grep -E '^tunpipe_user_bytes_total\{pipeline="vpn",user="bob",direction="rx"\}' "$TP_TMP/metrics.txt"
tp_ok "promtool check metrics: clean; user bytes and packets equal status"
code=$(tp_in "$S" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9810/other)
[ "$code" = 404 ] || tp_fail "GET /other gave $code, expected 404"
code=$(tp_in "$S" curl -s -o /dev/null -w '%{http_code}' -X POST "$murl")
[ "$code" = 405 ] || tp_fail "POST /metrics gave $code, expected 405"
tp_ok "404 for another path, 405 for POST"

tp_check "a silent client and bad requests do not stall the control socket"
python3 - "$sock" >"$TP_TMP/bad-requests.out" 2>&1 <<'EOF' || { cat "$TP_TMP/bad-requests.out"; tp_fail "bad requests"; }
import socket, sys, subprocess, os, time
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); return s
silent = [conn() for _ in range(5)]           # connect, say nothing
def ask(data):
    s = conn(); s.sendall(data); out = b""
    while True:
        b = s.recv(65536)
        if not b: return out
        out += b
assert ask(b"hello\n").startswith(b"ERR unknown request"), "unknown request"
assert ask(b"x" * 300).startswith(b"ERR request longer"), "long request"
t = time.time(); r = ask(b"status json\n"); dt = time.time() - t
assert r.startswith(b"OK\n") and dt < 1, (r[:40], dt)
print("answered in %.3f s with 5 silent clients connected" % dt)
EOF
cat "$TP_TMP/bad-requests.out"
tp_ok "unknown and oversized requests get ERR"

tp_check "disconnect bob: only bob's session ends, alice and carol keep pinging"
id_a=$(field "$TP_TMP/m2.json" alice id) id_b=$(field "$TP_TMP/m2.json" bob id) id_c=$(field "$TP_TMP/m2.json" carol id)
tp_in "$(tp_client_ns 1)" ping -q -c 20 -i 0.2 -W 2 10.0.0.1 >"$TP_TMP/ping-alice.out" 2>&1 &
pa=$!
tp_in "$(tp_client_ns 3)" ping -q -c 20 -i 0.2 -W 2 10.0.0.1 >"$TP_TMP/ping-carol.out" 2>&1 &
pc=$!
sleep 1
"$TUNPIPE" disconnect -c "$SC" bob >"$TP_TMP/disc.out" 2>&1 || { cat "$TP_TMP/disc.out"; tp_fail "disconnect bob failed"; }
grep -q 'disconnected 1 session$' "$TP_TMP/disc.out" || { cat "$TP_TMP/disc.out"; tp_fail "unexpected answer"; }
tp_wait_log "$(tp_logfile server)" "disconnecting session $id_b .*user bob.* on request of uid 0 pid [0-9]+" 2 ||
	tp_fail "the server did not log the disconnect (with the requester)"
grep -E "disconnecting session $id_b" "$(tp_logfile server)"
sleep 0.3
status_json "$TP_TMP/s3.json"
python3 - "$TP_TMP/s3.json" "$id_b" <<'EOF' || tp_fail "bob's session $id_b is still listed"
import json, sys
d = json.load(open(sys.argv[1]))
assert all(s["id"] != int(sys.argv[2]) for s in d["pipelines"][0]["sessions"])
EOF
[ "$(field "$TP_TMP/s3.json" alice id)" = "$id_a" ] || tp_fail "alice's session changed"
[ "$(field "$TP_TMP/s3.json" carol id)" = "$id_c" ] || tp_fail "carol's session changed"
wait $pa || { cat "$TP_TMP/ping-alice.out"; tp_fail "alice lost pings while bob was disconnected"; }
wait $pc || { cat "$TP_TMP/ping-carol.out"; tp_fail "carol lost pings while bob was disconnected"; }
grep -q ' 0% packet loss' "$TP_TMP/ping-alice.out" || tp_fail "alice lost packets"
grep -q ' 0% packet loss' "$TP_TMP/ping-carol.out" || tp_fail "carol lost packets"
tp_ok "bob's session $id_b closed; alice ($id_a) and carol ($id_c) untouched, 20/20 pings each"
tp_wait_log "$(tp_logfile bob)" "connection to .* lost: peer closed the connection" 5 ||
	tp_fail "bob's client did not notice"
# A client reconnects by itself: bob comes back as a new session.
tp_wait_log "$(tp_logfile bob)" "session 2 up: user bob" 10 || tp_fail "bob's client did not reconnect"
tp_ok "bob's client saw the connection closed and came back as a new session"

tp_check "disconnect by tunnel address, and of nobody"
status_json "$TP_TMP/s4.json"
a=$(field "$TP_TMP/s4.json" carol address)
"$TUNPIPE" disconnect -s "$sock" "${a%/*}" >"$TP_TMP/disc2.out" 2>&1 || { cat "$TP_TMP/disc2.out"; tp_fail "disconnect ${a%/*}"; }
tp_wait_log "$(tp_logfile server)" "disconnecting session $id_c .*user carol" 2 || tp_fail "carol not disconnected by address"
if "$TUNPIPE" disconnect -s "$sock" mallory >"$TP_TMP/disc3.out" 2>&1; then
	tp_fail "disconnect mallory succeeded"
fi
grep -q "no session of a user or with an address 'mallory'" "$TP_TMP/disc3.out" || { cat "$TP_TMP/disc3.out"; tp_fail "unclear"; }
tp_ok "by address ${a%/*}: carol's session; mallory: $(cat "$TP_TMP/disc3.out")"

tp_check "everything stops cleanly and the socket is removed"
for u in "${users[@]}"; do
	tp_stop "$u" || tp_fail "$u exited with status $?"
done
tp_stop server || tp_fail "server exited with status $?"
[ ! -e "$sock" ] || tp_fail "$sock is still there"
tp_ok "clean exit"
