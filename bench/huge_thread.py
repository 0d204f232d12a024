#!/usr/bin/env python3
"""Huge-thread benchmark of commentd (prints figures; not a test).

usage: bench/huge_thread.py [--commentd PATH] [--comments N] [--readers N]
                            [--seconds S] [--label TEXT]

Starts the daemon the way systemd does (socket activation, through the test
harness) with rate_limit = 0 and connections = 512, seeds one thread of
--comments comments (default 20,000: 2,000 top-level comments with replies
up to five levels deep, one of them with 2,000 replies; about 120 bytes of
HTML each) straight into its database, and measures:

  cpu      the daemon's CPU time (utime + stime from /proc) per anonymous
           GET /api/v1/comments?thread=<it>: warm (the same answer again)
           and cold (the thread's version bumped from outside before each
           GET, so that nothing is cached);
  readers  --readers clients (default 120, each from its own loopback
           address) that send that GET and then read the answer slowly
           (1 KiB every 100 ms), for --seconds; meanwhile a small GET of
           another thread every 20 ms from yet another address, with its
           latencies (p50, p99, max); the daemon's RSS sampled every 100 ms
           (max) and VmHWM.

Works with any commentd binary (no new settings are used), so the same
figures can be taken of an older build.  Only the Python standard library
is needed.
"""
import os
import sys

# bench/http.py sits beside this file: keep the directory off the module
# path so that the standard library's http package (used by the harness)
# is found.
sys.path[:] = [p for p in sys.path
               if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

THREAD = "/2011/01/a-very-long-discussion"
SMALL = "/2011/02/a-quiet-post"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def seed(db, n):
    """n comments in THREAD (and three in SMALL), written into the database."""
    rnd = random.Random(13)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO threads (path, created) VALUES (?, 1300000000)", (THREAD,))
    con.execute("INSERT INTO threads (path, created) VALUES (?, 1300000000)", (SMALL,))
    tid = con.execute("SELECT id FROM threads WHERE path = ?", (THREAD,)).fetchone()[0]
    sid = con.execute("SELECT id FROM threads WHERE path = ?", (SMALL,)).fetchone()[0]
    text = ("Een reactie met wat tekst, een *nadruk* en nog wat woorden erachter "
            "om op een gewone reactie te lijken.")
    html = "<p>" + text.replace("*nadruk*", "<em>nadruk</em>") + "</p>"
    rows, nodes = [], []  # nodes: (id, depth, root)
    next_id = 1
    tops = n // 10
    for i in range(n):
        if i < tops or not nodes:
            parent, depth, root = None, 1, next_id
        elif i < tops + 2000:
            parent, depth, root = 1, 2, 1  # the one with 2,000 replies
        else:
            p = nodes[rnd.randrange(len(nodes))]
            if p[1] >= 5:
                p = nodes[rnd.randrange(tops)]
            parent, depth, root = p[0], p[1] + 1, p[2]
        rows.append((next_id, tid, parent, root, depth, 1300000000 + i, "Lezer %d" % (i % 997),
                     text, html, "%032x" % rnd.getrandbits(128)))
        nodes.append((next_id, depth, root))
        next_id += 1
    con.executemany("INSERT INTO comments (id, thread_id, parent_id, root_id, depth, created,"
                    " status, author, text, html, avatar) VALUES (?, ?, ?, ?, ?, ?,"
                    " 'published', ?, ?, ?, ?)", rows)
    for k in range(3):
        con.execute("INSERT INTO comments (thread_id, root_id, depth, created, status, author,"
                    " text, html, avatar) VALUES (?, 0, 1, 1300000000, 'published', 'Q', 'q',"
                    " '<p>q</p>', 'a')", (sid,))
    con.execute("UPDATE comments SET root_id = id WHERE root_id = 0")
    con.commit()
    con.close()


def get(port, path, source="127.0.0.1", timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        out.append(b)
    s.close()
    return b"".join(out)


def cpu_per_get(d, db, cold, most, seconds):
    """The daemon's CPU seconds per GET over up to `most` GETs or `seconds`
    (the tick is 10 ms: the total over many GETs, divided)."""
    pid = d.proc.pid
    path = "/api/v1/comments?thread=" + THREAD
    size = len(get(d.port, path))
    con = sqlite3.connect(db, timeout=30) if cold else None
    n = 0
    before = cpu_seconds(pid)
    end = time.monotonic() + seconds
    while n < most and time.monotonic() < end:
        if cold:
            con.execute("UPDATE threads SET version = version + 1 WHERE path = ?", (THREAD,))
            con.commit()
        get(d.port, path)
        n += 1
    spent = cpu_seconds(pid) - before
    if con:
        con.close()
    return spent / n * 1000, size, n


def slow_reader(port, i, stop, got):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind(("127.0.2.%d" % (1 + i % 250), 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        s.sendall(("GET /api/v1/comments?thread=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                   % THREAD).encode())
        n = 0
        while not stop.is_set():
            b = s.recv(1024)
            if not b:
                break
            n += len(b)
            time.sleep(0.1)
        got[i] = n
        s.close()
    except OSError as e:
        got[i] = "error: %s" % e


def readers_run(d, readers, seconds):
    pid = d.proc.pid
    stop = threading.Event()
    got = {}
    ths = [threading.Thread(target=slow_reader, args=(d.port, i, stop, got))
           for i in range(readers)]
    for t in ths:
        t.start()
    time.sleep(1.0)
    lat, peak, errors = [], 0, 0
    end = time.monotonic() + seconds
    next_sample = 0.0
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            a = get(d.port, "/api/v1/comments?thread=" + SMALL, source="127.0.3.1", timeout=5)
            if not a.startswith(b"HTTP/1.1 200"):
                errors += 1
        except OSError:
            errors += 1
        lat.append(time.monotonic() - t0)
        if time.monotonic() >= next_sample:
            peak = max(peak, rss_kib(pid)["VmRSS"])
            next_sample = time.monotonic() + 0.1
        time.sleep(0.02)
    hwm = rss_kib(pid)["VmHWM"]
    stop.set()
    for t in ths:
        t.join()
    lat.sort()
    reading = sum(1 for v in got.values() if isinstance(v, int) and v > 0)
    return {"small_get_p50_ms": 1000 * lat[len(lat) // 2],
            "small_get_p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "small_get_max_ms": 1000 * lat[-1], "small_gets": len(lat),
            "small_get_errors": errors, "rss_peak_mib": peak / 1024, "vmhwm_mib": hwm / 1024,
            "readers_receiving": reading,
            "reader_errors": sorted({v for v in got.values() if isinstance(v, str)})[:3]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commentd", default=os.path.join(ROOT, "build-bench", "daemon",
                                                        "commentd"))
    ap.add_argument("--comments", type=int, default=20000)
    ap.add_argument("--readers", type=int, default=120)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    if not os.path.exists(args.commentd):
        raise SystemExit("%s is missing; build it first" % args.commentd)
    os.environ["COMMENTD"] = os.path.abspath(args.commentd)
    import harness  # noqa: E402 (reads COMMENTD)
    harness.COMMENTD = os.environ["COMMENTD"]

    d = harness.Daemon({"rate_limit": "0", "connections": "512", "log_level": "warn"})
    try:
        d.start()
        d.stop()
        seed(d.db, args.comments)
        d.start()
        time.sleep(0.5)
        idle = rss_kib(d.proc.pid)
        load_before = os.getloadavg()[0]
        warm, size, n_warm = cpu_per_get(d, d.db, False, 5000, 8)
        cold, _, n_cold = cpu_per_get(d, d.db, True, 1000, 8)
        readers = readers_run(d, args.readers, args.seconds)
        load_after = os.getloadavg()[0]
        rc = d.stop()
    finally:
        d.cleanup()
    print("commentd huge-thread benchmark %s: %d CPUs, kernel %s" % (
        args.label, os.cpu_count(), platform.release()))
    print("thread of %d comments; anonymous GET answers %d bytes" % (args.comments, size))
    print("1-minute load average before %.2f, after %.2f (other processes share the CPUs)"
          % (load_before, load_after))
    print("CPU per GET: warm %.3f ms (mean of %d), cold %.3f ms (mean of %d; the thread "
          "changed before each)" % (warm, n_warm, cold, n_cold))
    print("%d slow readers for %d s: small GET p50 %.1f ms, p99 %.1f ms, max %.1f ms "
          "(%d GETs, %d errors); RSS idle %.1f MiB, peak %.1f MiB, VmHWM %.1f MiB; "
          "%d readers receiving %s" % (
              args.readers, args.seconds, readers["small_get_p50_ms"],
              readers["small_get_p99_ms"], readers["small_get_max_ms"], readers["small_gets"],
              readers["small_get_errors"], idle["VmRSS"] / 1024, readers["rss_peak_mib"],
              readers["vmhwm_mib"], readers["readers_receiving"], readers["reader_errors"]))
    print("JSON " + json.dumps({"label": args.label, "comments": args.comments,
                                "answer_bytes": size, "cpu_ms_warm": warm, "cpu_ms_cold": cold,
                                "load": [load_before, load_after], "idle_rss_kib": idle["VmRSS"],
                                "exit": rc, **readers}))


if __name__ == "__main__":
    main()
