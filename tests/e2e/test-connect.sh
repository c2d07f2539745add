#!/bin/bash
# SPDX-License-Identifier: MIT
# `tunpipe connect https://USER@HOST:PORT/PATH`: the default client without
# a config file.  The password on standard input brings the tunnel up; a
# wrong password, a CA that did not sign the server's certificate and a
# name the certificate does not hold each end the process (status 3, 4, 4)
# with a message saying what is wrong, within 5 s; --retry keeps trying;
# an unreachable IPv6 address listed before a working IPv4 one still
# connects (every resolved address is tried in turn).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tp_init test-connect cn
tp_topology 1
tp_confdir
S=$(tp_server_ns)
C=$(tp_client_ns 1)
DEMO=$TP_CONF/demo
# `ip netns exec NS` bind-mounts /etc/netns/NS/hosts over /etc/hosts: the
# client's name for the server, removed with the namespaces (tp_cleanup).
mkdir -p "/etc/netns/$C"
printf '10.200.0.1 vpn.test\n' >"/etc/netns/$C/hosts"

# connect NAME PASSWORD ARGS… — tunpipe connect in the client namespace,
# the password on its standard input (not a terminal).
connect() {
	local name=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | ip netns exec "$C" "$TUNPIPE" connect "$@" >>"$TP_TMP/$name.log" 2>&1 &
	echo $! >"$TP_TMP/$name.pid"
}
URL=https://alice@vpn.test:8443/vpn
PW=$(cat "$DEMO/alice.pass")

tp_server_start server "$TP_CONF/server.conf"

tp_check "connect with the password on stdin brings the tunnel up and pings"
connect good "$PW" "$URL" --ca "$DEMO/ca.crt"
TP_ADDR=$(tp_wait_addr "$C" tun0 15) || tp_fail "no tunnel address within 15 s"
tp_ping "$C" 10.0.0.1 3 || tp_fail "no ping through the tunnel"
for re in 'resolving vpn\.test' 'connecting to 10\.200\.0\.1:8443' 'TLS up with .*TLSv1\.[23], ' \
	'authenticated as alice' "connected to https://vpn\.test:8443/vpn: address $TP_ADDR/24 .*tunnel up"; do
	grep -Eq "$re" "$(tp_logfile good)" || tp_fail "no progress line matching '$re'"
done
grep -q "$PW" "$(tp_logfile good)" && tp_fail "the password shows in the log"
tp_stop good || tp_fail "connect exited with status $? on SIGTERM"
tp_ok "address $TP_ADDR, ping ok; $(grep -c 'info' "$(tp_logfile good)") info lines"

tp_check "--full-tunnel: the half-default routes through tun0, the server pinned outside"
connect full "$PW" "$URL" --ca "$DEMO/ca.crt" --full-tunnel
tp_wait_addr "$C" tun0 15 >/dev/null || tp_fail "no tunnel address within 15 s"
tp_wait_log "$(tp_logfile full)" 'connected to' 5 || tp_fail "no 'connected' line"
routes=$(ip -n "$C" route)
printf '%s\n' "$routes" | grep -q '^0\.0\.0\.0/1 dev tun0' || tp_fail "no 0.0.0.0/1 via tun0: $routes"
printf '%s\n' "$routes" | grep -q '^128\.0\.0\.0/1 dev tun0' || tp_fail "no 128.0.0.0/1 via tun0: $routes"
printf '%s\n' "$routes" | grep -q '^10\.200\.0\.1 dev eth0' || tp_fail "the server is not pinned to eth0: $routes"
ip -n "$C" -6 route | grep -q '^::/1 dev tun0' || tp_fail "no ::/1 via tun0"
tp_ping "$C" 10.0.0.1 2 || tp_fail "no ping through the full tunnel"
tp_stop full || tp_fail "connect exited with status $? on SIGTERM"
ip -n "$C" route | grep -q '/1 dev tun0\|^10\.200\.0\.1 dev' && tp_fail "routes left after stop"
tp_ok "0.0.0.0/1, 128.0.0.0/1, ::/1 via tun0; 10.200.0.1 pinned to eth0; removed at stop"

# prompt MODE PASSWORD — tunpipe connect on a pseudo-terminal (python3's
# pty): the prompt must turn echo off; "login" types the password and waits
# for the login, "interrupt" types Ctrl-C at the prompt; either way the
# terminal must have echo back on afterwards.
prompt() {
	python3 - "$1" "$2" ip netns exec "$C" "$TUNPIPE" connect "$URL" --ca "$DEMO/ca.crt" <<'PY'
import fcntl, os, pty, select, signal, sys, termios, time
mode, pw, cmd = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
master, slave = pty.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for f in (0, 1, 2):
        os.dup2(slave, f)
    os.execvp(cmd[0], cmd)
def echo():
    return bool(termios.tcgetattr(slave)[3] & termios.ECHO)
def read_until(pat, secs):
    buf, end = b"", time.time() + secs
    while pat not in buf and time.time() < end:
        if select.select([master], [], [], 0.2)[0]:
            try:
                buf += os.read(master, 4096)
            except OSError:
                break
    return buf
def fail(msg):
    print(msg)
    os.kill(pid, signal.SIGKILL)
    sys.exit(1)
out = read_until(b"Password for alice at https://vpn.test:8443/vpn: ", 10)
if b"Password for" not in out:
    fail("no prompt: %r" % out)
if echo():
    fail("echo is on at the prompt")
if mode == "login":
    os.write(master, pw + b"\n")
    out = read_until(b"authenticated as alice", 15)
    if b"authenticated as alice" not in out:
        fail("no login: %r" % out)
    if pw in out:
        fail("the password was echoed")
    if not echo():
        fail("echo not restored after the prompt")
    os.kill(pid, signal.SIGTERM)
    st = os.waitpid(pid, 0)[1]
    if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
        fail("status %d after SIGTERM" % st)
    print("prompted, no echo, logged in, echo restored, clean exit")
else:
    os.write(master, b"\x03")
    st = os.waitpid(pid, 0)[1]
    if not os.WIFSIGNALED(st) or os.WTERMSIG(st) != signal.SIGINT:
        fail("not ended by SIGINT: status %d" % st)
    if not echo():
        fail("echo not restored after Ctrl-C at the prompt")
    print("Ctrl-C at the prompt: ended by SIGINT, echo restored")
PY
}

tp_check "on a terminal: a prompt without echo, the terminal restored (also on Ctrl-C)"
tp_need python3
msg=$(prompt login "$PW") || tp_fail "prompt: $msg"
tp_ok "$msg"
msg=$(prompt interrupt "$PW") || tp_fail "prompt: $msg"
tp_ok "$msg"

tp_check "a wrong password exits with status 3 and says so within 5 s"
connect badpw wrong-password "$URL" --ca "$DEMO/ca.crt"
tp_exits_within badpw 5
[ "$EXIT_RC" = 3 ] || tp_fail "exit status $EXIT_RC, not 3"
grep -q 'wrong user name or password for alice' "$(tp_logfile badpw)" || tp_fail "no message for the 401"
tp_ok "status 3 after $EXIT_MS ms: $(grep -m1 'wrong user name' "$(tp_logfile badpw)" | sed 's/.*\] //')"

tp_check "a CA that did not sign the server's certificate exits with status 4 within 5 s"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other-ca \
	-keyout "$TP_TMP/other.key" -out "$TP_TMP/other.crt" >/dev/null 2>&1 || tp_fail "openssl req failed"
connect badca "$PW" "$URL" --ca "$TP_TMP/other.crt"
tp_exits_within badca 5
[ "$EXIT_RC" = 4 ] || tp_fail "exit status $EXIT_RC, not 4"
grep -q "certificate failed verification: unable to get local issuer certificate (wrong or missing 'ca'?)" \
	"$(tp_logfile badca)" || tp_fail "no message for the unknown issuer"
tp_ok "status 4 after $EXIT_MS ms"

tp_check "a name the certificate does not hold: expected name vs the certificate's names"
connect badname "$PW" "$URL" --ca "$DEMO/ca.crt" --server-name wrong.example
tp_exits_within badname 5
[ "$EXIT_RC" = 4 ] || tp_fail "exit status $EXIT_RC, not 4"
grep -q "certificate is not for wrong.example (it names DNS:vpn.test, IP:10.200.0.1, CN:vpn.test)" \
	"$(tp_logfile badname)" || tp_fail "the mismatch message does not name both sides"
tp_ok "$(grep -m1 'is not for' "$(tp_logfile badname)" | sed 's/.*\] //')"

tp_check "--retry keeps retrying after a wrong password"
connect retry wrong-password "$URL" --ca "$DEMO/ca.crt" --retry
tp_wait_log "$(tp_logfile retry)" 'retrying in 60000 ms' 5 || tp_fail "no retry message"
sleep 1
tp_alive "$(tp_pid retry)" || tp_fail "connect --retry exited"
tp_stop retry || tp_fail "connect --retry exited with status $? on SIGTERM"
tp_ok "still running after the 401, stopped by SIGTERM"

tp_check "an unreachable IPv6 address before a working IPv4 one still connects"
# A global IPv6 address (so getaddrinfo returns AAAA) and an on-link route
# to a neighbour that never answers: connect() fails after neighbour
# discovery gives up, and the next address (IPv4) must be tried.
ip -n "$C" addr add 2001:db8:1::11/64 dev eth0 nodad
printf '2001:db8:1::99 vpn.test\n10.200.0.1 vpn.test\n' >"/etc/netns/$C/hosts"
connect happy "$PW" "$URL" --ca "$DEMO/ca.crt"
tp_wait_addr "$C" tun0 20 >/dev/null || tp_fail "no tunnel address within 20 s"
tp_ping "$C" 10.0.0.1 2 || tp_fail "no ping through the tunnel"
log=$(tp_logfile happy)
v6=$(grep -n 'connecting to \[2001:db8:1::99\]:8443' "$log" | head -1 | cut -d: -f1)
v4=$(grep -n 'connecting to 10\.200\.0\.1:8443' "$log" | head -1 | cut -d: -f1)
[ -n "$v6" ] && [ -n "$v4" ] && [ "$v6" -lt "$v4" ] ||
	tp_fail "expected the IPv6 attempt before the IPv4 one (lines '$v6' and '$v4')"
tp_stop happy || tp_fail "connect exited with status $? on SIGTERM"
tp_ok "IPv6 tried first, then IPv4, which connected"
tp_check "Happy Eyeballs: IPv6 addresses whose packets vanish (no answer, no ICMP) do not delay the IPv4 one"
# The client routes 2001:db8:99::/64 through the server's namespace, which
# has a blackhole route for it: every packet dropped without an answer.
# Two such AAAA before the A: attempted one after another that would cost
# two connect timeouts; raced with families interleaved (v6, v4, v6) the
# IPv4 attempt starts 250 ms after the first.
ip -n "$S" addr add 2001:db8:1::1/64 dev vc1 nodad
ip -n "$S" -6 route add blackhole 2001:db8:99::/64
ip -n "$C" -6 route add 2001:db8:99::/64 via 2001:db8:1::1
printf '2001:db8:99::1 vpn.test\n2001:db8:99::2 vpn.test\n10.200.0.1 vpn.test\n' >"/etc/netns/$C/hosts"
t0=$(date +%s%N)
connect silent "$PW" "$URL" --ca "$DEMO/ca.crt"
tp_wait_addr "$C" tun0 10 >/dev/null || tp_fail "no tunnel address within 10 s"
ms=$((($(date +%s%N) - t0) / 1000000))
log=$(tp_logfile silent)
order=$(sed -n 's/.*connecting to \(\[2001:db8:99::[12]\]\|10\.200\.0\.1\):8443$/\1/p' "$log" | tr '\n' ' ')
case $order in
"[2001:db8:99::1] 10.200.0.1 "*) ;;
*) tp_fail "attempts in the order '$order'; want [2001:db8:99::1] then 10.200.0.1 (families interleaved)" ;;
esac
grep -q 'TLS up with .*10\.200\.0\.1:8443' "$log" || grep -q 'TLS up with 10\.200\.0\.1' "$log" ||
	tp_fail "TLS did not come up with the IPv4 address: $(grep 'TLS up' "$log")"
[ "$ms" -lt "$(tp_ms 2500)" ] || tp_fail "the tunnel took $ms ms (two silent IPv6 addresses in front)"
tp_ping "$C" 10.0.0.1 2 || tp_fail "no ping through the tunnel"
tp_stop silent || tp_fail "connect exited with status $? on SIGTERM"
tp_ok "tunnel up after $ms ms over IPv4, attempts in the order $order"
