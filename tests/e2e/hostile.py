#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hostile.py — the attacker's and the victim's side of the hostile tests.

Each mode talks to the server given as HOST PORT (an address of the test's
own namespaces, never anything else) and prints figures on stdout:

  idle HOST PORT N SECONDS [SRC]
      hold N idle TCP connections (no ClientHello), reopening each one the
      server drops, for SECONDS; prints "connects=C held_max=H".
  login HOST PORT CA USER PASS [COUNT [SRC [HOLD]]]
      COUNT sequential upgrade requests; prints one "STATUS MS" line per
      request.  HOLD > 0 keeps each 101 session open that many seconds
      (read until EOF or HOLD), and prints "closed_after MS" when the
      server closed it.
  hold HOST PORT CA USER PASS SECONDS [SRC]
      one login; on 101 keep the session and print "up", then "closed MS"
      (ms after up) when the server closes it, or "open" after SECONDS.
  burst HOST PORT CA USER N [SRC]
      N wrong-password requests sent at once (threads); prints
      "STATUS COUNT" lines.
  flood HOST PORT CA USER PASS SECONDS THREADS [SRC]
      THREADS threads logging in back to back for SECONDS; prints totals.
  timing HOST PORT CA N USER1 USER2 SRC...
      N wrong-password requests for each user, one at a time and
      alternating (both see the same load), each from the next SRC
      address in turn (so no address reaches the failure limit); prints
      "USER min_ms=.. q1_ms=.. median_ms=.. statuses=..." per user.
  raw HOST PORT CA SECONDS REQUEST_HEX [SRC]
      send REQUEST (hex) after TLS, print the first line of the answer
      and the ms it took, reading at most SECONDS.
"""
import base64
import select
import socket
import ssl
import sys
import threading
import time


def ctx_for(ca):
    c = ssl.create_default_context(cafile=ca)
    c.check_hostname = True
    return c


def connect(host, port, src=None, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, int(port)))
    return s


def request(user, pw, http="1.1"):
    cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return (f"GET /vpn HTTP/{http}\r\nHost: vpn.test\r\nAuthorization: Basic {cred}\r\n"
            "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n\r\n").encode()


def read_head(t):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = t.recv(4096)
        if not d:
            break
        buf += d
    return buf


def status_of(head):
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def one_login(host, port, ca, user, pw, src=None, hold=0.0, timeout=10.0):
    """(status, ms, tls socket or None)."""
    t0 = time.monotonic()
    try:
        s = connect(host, port, src, timeout)
        t = ctx_for(ca).wrap_socket(s, server_hostname="vpn.test")
        t.sendall(request(user, pw))
        st = status_of(read_head(t))
    except (OSError, ssl.SSLError):
        return 0, (time.monotonic() - t0) * 1000, None
    ms = (time.monotonic() - t0) * 1000
    if st == 101 and hold > 0:
        return st, ms, t
    try:
        t.close()
    except OSError:
        pass
    return st, ms, None


def wait_close(t, secs):
    """ms until the server closes t, or None after secs."""
    t0 = time.monotonic()
    t.settimeout(0.05)
    while time.monotonic() - t0 < secs:
        try:
            if not t.recv(65536):
                return (time.monotonic() - t0) * 1000
        except (socket.timeout, TimeoutError):
            continue
        except (OSError, ssl.SSLError):
            return (time.monotonic() - t0) * 1000
    return None


def m_idle(host, port, n, secs, src=None):
    n, secs = int(n), float(secs)
    socks, connects, held_max = [], 0, 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        while len(socks) < n and time.monotonic() < end:
            try:
                socks.append(connect(host, port, src, 2.0))
                connects += 1
            except OSError:
                time.sleep(0.01)
                break
        held_max = max(held_max, len(socks))
        r, _, _ = select.select(socks, [], [], 0.05)
        for s in r:  # readable on an idle socket: the server hung up
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    raise OSError
            except BlockingIOError:
                continue
            except OSError:
                pass
            s.close()
            socks.remove(s)
        time.sleep(0.005)
    for s in socks:
        s.close()
    print(f"connects={connects} held_max={held_max}")


def m_login(host, port, ca, user, pw, count="1", src=None, hold="0"):
    for _ in range(int(count)):
        st, ms, t = one_login(host, port, ca, user, pw, src, float(hold))
        print(f"{st} {ms:.0f}", flush=True)
        if t:
            c = wait_close(t, float(hold))
            if c is not None:
                print(f"closed_after {c:.0f}", flush=True)
            t.close()


def m_hold(host, port, ca, user, pw, secs, src=None):
    st, ms, t = one_login(host, port, ca, user, pw, src, float(secs))
    if not t:
        print(f"refused {st}", flush=True)
        return
    print("up", flush=True)
    c = wait_close(t, float(secs))
    print(f"closed {c:.0f}" if c is not None else "open", flush=True)
    t.close()


def m_burst(host, port, ca, user, n, src=None):
    res, lock, ths = {}, threading.Lock(), []
    gate = threading.Event()

    def go(i):
        gate.wait()
        st, _, _ = one_login(host, port, ca, user, f"wrong-{i}", src)
        with lock:
            res[st] = res.get(st, 0) + 1
    for i in range(int(n)):
        th = threading.Thread(target=go, args=(i,))
        th.start()
        ths.append(th)
    gate.set()
    for th in ths:
        th.join()
    for st in sorted(res):
        print(f"{st} {res[st]}")


def m_flood(host, port, ca, user, pw, secs, threads, src=None):
    end = time.monotonic() + float(secs)
    res, lock = {}, threading.Lock()

    def go():
        while time.monotonic() < end:
            st, _, _ = one_login(host, port, ca, user, pw, src, timeout=5.0)
            with lock:
                res[st] = res.get(st, 0) + 1
    ths = [threading.Thread(target=go) for _ in range(int(threads))]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print(" ".join(f"{k}:{v}" for k, v in sorted(res.items())))


def m_timing(host, port, ca, n, u1, u2, *srcs):
    times, sts, k = {u1: [], u2: []}, {u1: {}, u2: {}}, 0
    for i in range(int(n)):
        for u in (u1, u2):
            st, ms, _ = one_login(host, port, ca, u, f"wrong-{i}", srcs[k % len(srcs)])
            k += 1
            times[u].append(ms)
            sts[u][st] = sts[u].get(st, 0) + 1
    for u in (u1, u2):
        t = sorted(times[u])
        print(f"{u} min_ms={t[0]:.1f} q1_ms={t[len(t) // 4]:.1f} median_ms={t[len(t) // 2]:.1f} statuses=" +
              ",".join(f"{a}x{b}" for a, b in sorted(sts[u].items())))


def m_raw(host, port, ca, secs, req_hex, src=None):
    t0 = time.monotonic()
    s = connect(host, port, src, float(secs))
    t = ctx_for(ca).wrap_socket(s, server_hostname="vpn.test")
    if req_hex:
        t.sendall(bytes.fromhex(req_hex))
    try:
        head = read_head(t)
    except (OSError, ssl.SSLError):
        head = b""
    line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"{line or 'EOF'}|{(time.monotonic() - t0) * 1000:.0f}")


MODES = {"idle": m_idle, "login": m_login, "hold": m_hold, "burst": m_burst,
         "flood": m_flood, "timing": m_timing, "raw": m_raw}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    MODES[sys.argv[1]](*sys.argv[2:])
