#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""superpeer.py — a Simple-VPN peer that agrees to super-packets and writes
its framer-ip frames by hand, to test what the server accepts from a peer
(test-superspoof.sh).  Addresses are the test's own namespaces only.

  sniff DEV PORT SECONDS
      print "ready", then for SECONDS the source address of every IPv6 UDP
      packet to PORT that enters DEV (a TUN: frames start with the IP
      header), one "src ADDRESS" line each.
  send HOST PORT CA USER PASS DST6 DPORT
      log in offering "Simple-VPN-Offload: tso", then send two IPv6 UDP
      packets to DST6 DPORT from the address the 101 gave us, each behind a
      super-packet header with a partial checksum (type none):
        1. as a kernel makes it (csum_start 40, csum_offset 6): "sent good";
        2. with csum_start 20, csum_offset 2 and two payload bytes chosen so
           that a completed "checksum" turns the source's last 16 bits into
           beef — the red team's anti-spoofing bypass: "sent spoof".
      Then print "closed MS" when the server closes the tunnel, or "open"
      after 3 s.
"""
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import connect, ctx_for, request, status_of, wait_close  # noqa: E402


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def super_hdr(length, cs, co):
    # 0x50, type none, length, flags NEEDS_CSUM, 0, gso_size, hdr_len, start, offset, 0
    return struct.pack("!BBHBBHHHHH", 0x50, 0, length, 1, 0, 0, 0, cs, co, 0)


def udp6(src, dst, dport, payload, partial):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    n = 8 + len(payload)
    # a partial checksum holds the pseudo-header sum, not inverted
    ck = csum16(s + d + struct.pack("!IxxxB", n, 17)) if partial else 0
    udp = struct.pack("!HHHH", 5555, 9999, n, ck) + payload
    return bytearray(struct.pack("!IHBB", 0x60000000, n, 17, 64) + s + d + udp)


def m_send(host, port, ca, user, pw, dst, dport):
    t = ctx_for(ca).wrap_socket(connect(host, port), server_hostname="vpn.test")
    t.sendall(request(user, pw)[:-2] + b"Simple-VPN-Offload: tso\r\n\r\n")
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: nothing of the tunnel
        d = t.recv(1)
        if not d:
            break
        head += d
    if status_of(head) != 101:
        sys.exit(f"no 101: {head[:200]!r}")
    hdrs = dict(l.split(":", 1) for l in head.decode().split("\r\n")[1:] if ":" in l)
    hdrs = {k.strip().lower(): v.strip() for k, v in hdrs.items()}
    if hdrs.get("simple-vpn-offload", "").lower() != "tso":
        sys.exit("the server did not agree to super-packets")
    me = hdrs["simple-vpn-address6"].split("/")[0]
    print(f"up {me}", flush=True)

    good = udp6(me, dst, dport, b"good-packet", True)
    t.sendall(super_hdr(len(good), 40, 6) + bytes(good))
    print("sent good", flush=True)
    time.sleep(0.5)

    bad = udp6(me, dst, dport, b"spoof!" + b"\0\0" + b"\0\0", False)
    want = ~0xbeef & 0xffff  # the folded sum the writer must find
    w = (want - csum16(bytes(bad[20:]))) % 0xffff
    bad[-2:] = struct.pack("!H", w or 0xffff)
    t.sendall(super_hdr(len(bad), 20, 2) + bytes(bad))
    print("sent spoof", flush=True)
    ms = wait_close(t, 3)
    print("open" if ms is None else f"closed {ms:.0f}")


def m_sniff(dev, port, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    s.bind((dev, 0))
    s.settimeout(0.2)
    print("ready", flush=True)
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        try:
            p = s.recv(65535)
        except (socket.timeout, TimeoutError):
            continue
        if len(p) >= 48 and p[0] >> 4 == 6 and p[6] == 17 and \
                struct.unpack("!H", p[42:44])[0] == int(port):
            print("src", socket.inet_ntop(socket.AF_INET6, p[8:24]), flush=True)


MODES = {"send": m_send, "sniff": m_sniff}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    MODES[sys.argv[1]](*sys.argv[2:])
