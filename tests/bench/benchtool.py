#!/usr/bin/env python3
"""Small helpers for tests/bench/run_bench.sh (standard library only; traffic to 127.0.0.1 only).

  benchtool.py freeport                      print a free TCP port on 127.0.0.1
  benchtool.py wait-port PORT SECONDS        wait until 127.0.0.1:PORT accepts a connection
  benchtool.py requests PORT PATH N          send exactly N GET requests on ONE keep-alive
                                             connection, one at a time, reading each response,
                                             1 ms apart
  benchtool.py idle PORT COUNT PIDS SECONDS  open COUNT idle connections, wait until the workers
                                             PIDS (comma-separated) hold them (fd count), print
                                             the workers' summed RSS before and after (KiB),
                                             close everything; bounded by SECONDS
  benchtool.py rss PIDS                      summed VmRSS of PIDS in KiB
  benchtool.py report DIR                    turn the raw results under DIR into markdown
"""
import math
import os
import re
import socket
import subprocess
import statistics
import sys
import time


def freeport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_port(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return 0
        except OSError:
            time.sleep(0.05)
    print(f"benchtool: nothing listens on 127.0.0.1:{port} after {seconds} s", file=sys.stderr)
    return 1


def read_response(sock, buf):
    """Reads one response (head + Content-Length body) from sock; returns leftover bytes."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("benchtool: connection closed mid-response")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit("benchtool: unexpected response: " + head.split(b"\r\n")[0].decode())
    while len(rest) < length:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("benchtool: connection closed mid-body")
        rest += chunk
    return rest[length:]


def requests(port, path, n):
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        buf = b""
        for _ in range(n):
            s.sendall(req)
            buf = read_response(s, buf)
            # A pause, so each request finds the server idle in epoll_wait, as a request on a
            # keep-alive connection usually does; without it, a server slowed down by strace
            # would find the next request already queued and skip a wait (undercounting).
            time.sleep(0.001)
    return 0


def connections(port, path, n):
    """n new connections one after another, one request each (Connection: close)."""
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(req)
            read_response(s, b"")
        time.sleep(0.001)  # each connection finds the parent idle, as a lone client does
    return 0


def download(port, path, seconds):
    """Downloads `path` again and again, as fast as it can, for `seconds`; prints the MB read."""
    stop = time.monotonic() + seconds
    total = 0
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    view = bytearray(1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        while time.monotonic() < stop:
            s.sendall(req)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, _, rest = buf.partition(b"\r\n\r\n")
            left = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1)) - len(rest)
            while left > 0 and time.monotonic() < stop:
                n = s.recv_into(view, min(len(view), left))
                if n == 0:
                    break
                left -= n
                total += n
            if left > 0:
                break
    print(f"{total / 1e6:.0f}")
    return 0


def fairness(port, big_path, small_path, seconds):
    """While another process downloads `big_path` as fast as it can, asks for `small_path` on one
    keep-alive connection of the same worker every 2 ms: prints the small requests' p99 and max
    latency in ms, how many were made, and the MB downloaded meanwhile."""
    downloader = subprocess.Popen([sys.executable, __file__, "download", str(port), big_path,
                                   str(seconds)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # the download is under way
    latencies = []
    stop = time.monotonic() + seconds - 0.7
    req = f"GET {small_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        buf = b""
        while time.monotonic() < stop:
            start = time.monotonic()
            s.sendall(req)
            buf = read_response(s, buf)
            latencies.append((time.monotonic() - start) * 1000)
            time.sleep(0.002)
    downloaded = downloader.communicate(timeout=seconds + 30)[0].strip()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{p99:.2f} {latencies[-1]:.2f} {len(latencies)} {downloaded}")
    return 0


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def fd_count(pids):
    return sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)


def padded_request(size):
    """A GET of /index.html about `size` bytes long, padded with header lines of at most 7900
    bytes (nginx refuses a single line over 8 KiB)."""
    head = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    lines = []
    left = size - len(head) - 2
    while left > 12:
        n = min(7900, left) - 12
        lines.append("X-Pad: " + "a" * n + "\r\n")
        left -= n + 12
    return (head + "".join(lines) + "\r\n").encode()


def idle(port, count, pids, seconds, request_bytes=0):
    """RSS before and after `count` idle connections; each first sends one request of about
    `request_bytes` bytes and reads the answer (keep-alive) when that is not 0."""
    deadline = time.monotonic() + seconds
    request = padded_request(request_bytes) if request_bytes else None
    base_fds = fd_count(pids)
    before = rss_kib(pids)
    socks = []
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                raise SystemExit("benchtool: idle: out of time while connecting")
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(s)
            if request:
                s.sendall(request)
                read_response(s, b"")
        # Wait until the workers have accepted them all: their fd tables hold the sockets.
        while fd_count(pids) < base_fds + count:
            if time.monotonic() > deadline:
                raise SystemExit(f"benchtool: idle: workers hold {fd_count(pids) - base_fds} "
                                 f"of {count} connections at the deadline")
            time.sleep(0.05)
        time.sleep(0.5)  # let lazily allocated per-connection state settle
        after = rss_kib(pids)
    finally:
        for s in socks:
            s.close()
    print(before, after)
    return 0


# ---------------------------------------------------------------------------------------------
# Report

def parse_latency(text):
    """wrk prints '99%   1.23ms'; returns milliseconds."""
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def parse_wrk(path):
    text = open(path).read()
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    rps = float(m.group(1)) if m else float("nan")
    errors = re.search(r"Socket errors: (.*)$", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    notes = []
    if errors:
        notes.append("socket errors: " + errors.group(1).strip())
    if non2xx:
        notes.append("non-2xx: " + non2xx.group(1))
    return rps, parse_latency(text), "; ".join(notes)


def fmt_ratio(x):
    return f"{x:.2f}x"


# Issue 7's req/s targets (ours/nginx) for 100 connections, by file label (run_bench.sh's case
# labels: a 1 MiB reply is mostly the kernel's sendfile, so it gets a little slack).
RPS_TARGET = {"612B": 1.0, "10KiB": 1.0, "1MiB": 0.9}


def pair_ratio_median(ours, theirs, index):
    """Median over the runs of ours[run][index] / theirs[run][index].

    ours and theirs map run number -> (req/s, p99 ms). Run k of ours ran right before run k of
    nginx, so the two saw the same noise; the ratio of each pair is taken first, then the median
    of those ratios (not median(ours) / median(nginx), which mixes runs minutes apart). Pairs
    with a figure missing (nan) or a zero nginx figure are left out.
    """
    ratios = []
    for run in sorted(set(ours) & set(theirs)):
        o, n = ours[run][index], theirs[run][index]
        if n and not math.isnan(o) and not math.isnan(n):
            ratios.append(o / n)
    return statistics.median(ratios) if ratios else float("nan")


def report(directory):
    # Raw runs: wrk/<case>__<server>__run<k>.txt where case = w<W>_c<C>_<file>[_pinned]
    runs = {}
    notes = {}
    for name in sorted(os.listdir(os.path.join(directory, "wrk"))):
        case, server, run = name[:-4].split("__")
        rps, p99, note = parse_wrk(os.path.join(directory, "wrk", name))
        # Keyed by run number (not file order: "run10" sorts before "run2") for the pairing.
        runs.setdefault((case, server), {})[int(run[len("run"):])] = (rps, p99)
        if note:
            notes.setdefault((case, server), []).append(note)
    order = [line.split()[0] for line in open(os.path.join(directory, "cases.txt"))]
    out = []
    out.append("| case | workers | conns | file | ours req/s | nginx req/s | ratio req/s "
               "| ours p99 ms | nginx p99 ms | runs | target | verdict |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    chart = []
    for case in order:
        _, workers, conns, file_, pinned = case.split(":")
        key = f"w{workers}_c{conns}_{file_}" + ("_pinned" if pinned == "1" else "")
        ours = runs.get((key, "ours"), {})
        theirs = runs.get((key, "nginx"), {})
        if not ours or not theirs:
            continue
        # The req/s and p99 columns are each server's own median; the ratio and the verdict
        # come from the pairs.
        o_rps = statistics.median(r for r, _ in ours.values())
        n_rps = statistics.median(r for r, _ in theirs.values())
        o_p99 = statistics.median(p for _, p in ours.values())
        n_p99 = statistics.median(p for _, p in theirs.values())
        ratio = pair_ratio_median(ours, theirs, 0)
        p99_ratio = pair_ratio_median(ours, theirs, 1)
        target = ""
        verdict = ""
        if conns == "100" and pinned == "0" and file_ in RPS_TARGET:
            need = RPS_TARGET[file_]
            target = f">= {need:.1f}x, p99 <= nginx"
            ok_rps = ratio >= need
            ok_p99 = p99_ratio <= 1.0
            if ok_rps and ok_p99:
                verdict = "met"
            else:
                parts = []
                if not ok_rps:
                    parts.append(f"req/s missed by {(need - ratio) / need * 100:.0f}%")
                if not ok_p99:
                    parts.append(f"p99 {p99_ratio:.2f}x nginx")
                verdict = "MISSED: " + ", ".join(parts)
        label = "pinned (server CPU 0, wrk CPU 1)" if pinned == "1" else "shared"
        # In run order, so the i-th figure of each list is one pair.
        all_o = " ".join(f"{ours[k][0]:.0f}" for k in sorted(ours))
        all_n = " ".join(f"{theirs[k][0]:.0f}" for k in sorted(theirs))
        out.append(f"| {label} | {workers} | {conns} | {file_} | {o_rps:,.0f} | {n_rps:,.0f} | "
                   f"{fmt_ratio(ratio)} | {o_p99:.2f} | {n_p99:.2f} | ours: {all_o}; nginx: {all_n} "
                   f"| {target} | {verdict} |")
        if workers == "2" and conns == "100" and pinned == "0":
            chart.append((file_, o_rps, n_rps))
    with open(os.path.join(directory, "chart.dat"), "w") as f:
        for file_, o, n in chart:
            f.write(f'"{file_}" {o:.0f} {n:.0f}\n')
    for (case, server), items in sorted(notes.items()):
        out.append("")
        out.append(f"- wrk reported for {case} / {server}: " + " | ".join(items))
    print("\n".join(out))
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "freeport":
        return freeport() or 0
    if cmd == "wait-port":
        return wait_port(int(argv[2]), float(argv[3]))
    if cmd == "requests":
        return requests(int(argv[2]), argv[3], int(argv[4]))
    if cmd == "download":
        return download(int(argv[2]), argv[3], float(argv[4]))
    if cmd == "fairness":
        return fairness(int(argv[2]), argv[3], argv[4], float(argv[5]))
    if cmd == "connections":
        return connections(int(argv[2]), argv[3], int(argv[4]))
    if cmd == "idle":
        pids = [int(p) for p in argv[4].split(",")]
        request_bytes = int(argv[6]) if len(argv) > 6 else 0
        return idle(int(argv[2]), int(argv[3]), pids, float(argv[5]), request_bytes)
    if cmd == "rss":
        print(rss_kib([int(p) for p in argv[2].split(",")]))
        return 0
    if cmd == "report":
        return report(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
