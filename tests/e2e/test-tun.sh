#!/bin/bash
# SPDX-License-Identifier: MIT
# test-tun.sh — the tun plugin inside the real daemon, in a namespace of its
# own (tpt-PID-tun), with no network behind it:
#
#     tun ── tp-count ── tp-loop      (tp-loop: one local session that
#                                      announces 10.99.0.2/24, MTU 1400,
#                                      and echoes every packet back up)
#
# Client style (no address): the device must get the session's address and
# MTU, be up, carry the configured routes, pass packets down (counted), and
# vanish on SIGTERM.  Server style (address + address6): both configured
# addresses must appear, and the session's must not replace them.
# Needs root and /dev/net/tun (exit 77 otherwise).
set -eu
. "$(dirname "$0")/lib.sh"
tp_init tun t
NS="tpt-$$-tun"
tp_ns_add "$NS"

# tp_wait_for SECONDS CMD… — until CMD succeeds.
tp_wait_for() {
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
has() { ip -n "$NS" "${@:1:$#-1}" 2>/dev/null | grep -qF -- "${!#}"; }

write_conf() { # FILE DEVICE EXTRA-TUN-OPTIONS
	cat >"$1" <<CONF
pipelines = ( { name = "t"; stages = (
  { plugin = "tun"; device = "$2"; $3 },
  { plugin = "tp-count"; },
  { plugin = "tp-loop"; }
); } );
CONF
}

# ---- client style ----
DEV=tpt0
write_conf "$TP_TMP/client.conf" "$DEV" 'mtu = 1300; routes = [ "10.77.0.0/16", "fd00:77::/48" ];'
tp_start client "$NS" "$TP_TMP/client.conf"
tp_check "the device gets the session's address 10.99.0.2/24"
tp_wait_for 10 has -4 -o addr show dev "$DEV" "inet 10.99.0.2/24" ||
	tp_fail "$DEV has no 10.99.0.2/24: $(ip -n "$NS" addr 2>&1)"
tp_alive "$(tp_pid client)" || tp_fail "tunpipe exited early"
tp_ok "address applied"
tp_check "MTU from the session (1400) replaced the configured 1300, link up"
has link show dev "$DEV" "mtu 1400" || tp_fail "mtu: $(ip -n "$NS" link show dev "$DEV")"
has link show dev "$DEV" ",UP" || tp_fail "not up: $(ip -n "$NS" link show dev "$DEV")"
tp_ok "mtu and link state"
tp_check "configured routes through $DEV"
has -4 route show dev "$DEV" "10.77.0.0/16" || tp_fail "no route 10.77.0.0/16: $(ip -n "$NS" route)"
has -6 route show dev "$DEV" "fd00:77::/48" || tp_fail "no route fd00:77::/48: $(ip -n "$NS" -6 route)"
tp_ok "routes"
tp_check "packets sent into the device are read and passed down"
# Addressed to the far side of the tunnel: tp-loop echoes it up, the kernel
# drops the echo (not for us, no forwarding) — only the counters matter.
ip netns exec "$NS" ping -q -c 3 -i 0.2 -W 1 10.77.1.1 >/dev/null 2>&1 || true
tp_stop client TERM || tp_fail "tunpipe exited with status $? on SIGTERM"
tp_check "the device is gone after SIGTERM"
if ip -n "$NS" link show dev "$DEV" >/dev/null 2>&1; then tp_fail "$DEV still exists"; fi
tp_ok "device removed"
n=$(tp_counter "$(tp_logfile client)" tun down_packets)
[ -n "$n" ] && [ "$n" -ge 3 ] ||
	tp_fail "tun down_packets is '${n}', expected >= 3 (the pings)"
up=$(tp_counter "$(tp_logfile client)" tun up_packets)
[ -n "$up" ] && [ "$up" -ge 3 ] || tp_fail "tun up_packets is '${up}', expected >= 3 (the echoes)"
tp_ok "counters: down_packets=$n up_packets=$up"

# ---- server style ----
DEV=tpt1
write_conf "$TP_TMP/server.conf" "$DEV" \
	'address = "10.98.0.1/24"; address6 = "fd00:98::1/64"; pool = "10.98.0.10-10.98.0.20";'
tp_start server "$NS" "$TP_TMP/server.conf"
tp_check "server addresses 10.98.0.1/24 and fd00:98::1/64"
tp_wait_for 10 has -6 -o addr show dev "$DEV" "inet6 fd00:98::1/64" ||
	tp_fail "$DEV has no fd00:98::1/64: $(ip -n "$NS" addr 2>&1)"
has -4 -o addr show dev "$DEV" "inet 10.98.0.1/24" || tp_fail "no 10.98.0.1/24: $(ip -n "$NS" addr)"
# tp-loop's local session arrives after start: give it time to (wrongly) apply.
tp_wait_log "$(tp_logfile server)" "keeping the configured address" 5 ||
	tp_fail "tun never saw tp-loop's session"
if has -4 -o addr show dev "$DEV" "10.99.0.2"; then tp_fail "the session's address replaced the configured one"; fi
has link show dev "$DEV" "mtu 1400" || tp_fail "mtu: $(ip -n "$NS" link show dev "$DEV")"
tp_ok "both addresses, configured one kept"
tp_stop server TERM || tp_fail "tunpipe exited with status $? on SIGTERM"
if ip -n "$NS" link show dev "$DEV" >/dev/null 2>&1; then tp_fail "$DEV still exists"; fi
tp_ok "server device removed"
