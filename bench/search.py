#!/usr/bin/env python3
"""The admin search and what an erasure costs the writers, at a million
comments (prints figures; not a test).

usage: bench/search.py [--comments N] [--runs N] [--posts N] [--keep]
                       [--commentd PATH] [--commentctl PATH]

Uses bench/scale.py's data set (generated into its cache when missing) and
release build (build-bench).  On a fresh copy of the database it starts
commentd and measures:
  search    the admin search for a rare word, a common word and an
            author's name, --runs times each (every run printed)
  post      --posts POSTs one at a time: latency and the daemon's CPU per
            post (user + system, from /proc)
  erase     the privacy erasure of the data set's commenter with the most
            comments (lib/search.h merges every block that held one, a
            step of a block a transaction) while a second client POSTs one comment
            after another: the erasure's time, and each POST's latency
            during it (the longest is what the erasure held a writer)
The daemon's log line "search: merged N block(s) in T ms, the longest step L ms"
gives the merges' own time.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402


def load_scale():
    spec = importlib.util.spec_from_file_location("scale", os.path.join(_HERE, "scale.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def poster(scale, d, m, stop, lat, seed):
    """POSTs one comment after another until stop is set; latencies in ms."""
    rnd = random.Random(seed)
    words = scale.scale_data.Words(random.Random(5), 3000)
    i = 0
    while not stop.is_set():
        t = m["threads"][m["popular"][rnd.randrange(200)]]
        c = scale.Client(d.port, scale.ORIGINS[t[0]])
        try:
            st, _, _, dt = c.request("POST", "/api/v1/comments",
                                     scale.comment_body(rnd, words, t[1], t[0], seq=i))
        except ConnectionError as e:
            print("post: %s" % e)
            st = 0
        c.close()
        if st == 201:
            lat.append(1000 * dt)
        i += 1


def measure(scale, d, m, args):
    auth = {"Authorization": "Bearer " + m["token"]}
    c = scale.Client(d.port)
    q = m["search"]
    for name in ("rare", "common", "author"):
        runs = []
        for _ in range(args.runs):
            st, _, b, t = c.request("GET", "/api/v1/admin/comments?limit=50&q=" +
                                    urllib.parse.quote(q[name]), headers=auth)
            if st != 200:
                raise SystemExit("search answered %d: %r" % (st, b[:200]))
            runs.append(1000 * t)
        print("search %-6s %-12r ms: %s" % (name, q[name], " ".join("%.1f" % x for x in runs)))
    lat = []
    pid = d.proc.pid
    cpu0, _ = scale.proc_stat(pid)
    stop = threading.Event()
    poster_until = time.monotonic() + 3600
    th = threading.Thread(target=poster, args=(scale, d, m, stop, lat, 11))
    th.start()
    while len(lat) < args.posts and time.monotonic() < poster_until:
        time.sleep(0.05)
    stop.set()
    th.join()
    cpu = scale.proc_stat(pid)[0] - cpu0
    print("post   %d one at a time: p50 %.2f ms, p99 %.2f ms; daemon CPU %.3f ms a post" % (
        len(lat), scale.pct(lat, 50), scale.pct(lat, 99), 1000 * cpu / len(lat)))
    time.sleep(2 * 5)  # the indexer takes the posts in (every 5 s)
    lat = []
    stop.clear()
    th = threading.Thread(target=poster, args=(scale, d, m, stop, lat, 12))
    th.start()
    time.sleep(1)
    before = len(lat)
    c.close()
    c = scale.Client(d.port)
    t0 = time.monotonic()
    st, _, b, _ = c.request("POST", "/api/v1/admin/privacy/erase",
                            body={"email": m["erase_email"]}, headers=auth)
    t_erase = time.monotonic() - t0
    during = lat[before:]
    stop.set()
    th.join()
    print("erase  %s in %.0f ms; %d POSTs during it: p50 %.1f ms, p99 %.1f ms, the longest %s" % (
        b[:40].decode("utf-8", "replace"), 1000 * t_erase, len(during),
        scale.pct(during, 50) if during else 0, scale.pct(during, 99) if during else 0,
        " ".join("%.0f" % x for x in sorted(during)[-5:])))
    c.close()


def setup(rest, prefix):
    """bench/scale.py's options (rest) read, its data set made sure of (in
    its cache) and a run directory beside it: (scale, harness, scale's
    args, the SQLite engine, cache, manifest, run directory)."""
    scale = load_scale()
    sys.argv = [sys.argv[0]] + rest
    sargs = scale.parse_args()
    engine = scale.ENGINES["sqlite"](sargs)
    os.environ["COMMENTD"] = os.path.abspath(sargs.commentd)
    import harness  # noqa: E402 (reads COMMENTD)
    harness.COMMENTD = os.environ["COMMENTD"]
    cache, m = scale.ensure_dataset(sargs, engine)
    run_dir = tempfile.mkdtemp(prefix=prefix, dir=os.path.dirname(cache))
    return scale, harness, sargs, engine, cache, m, run_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--posts", type=int, default=500)
    ap.add_argument("--keep", action="store_true")
    args, rest = ap.parse_known_args()
    scale, harness, sargs, engine, cache, m, run_dir = setup(rest, "commentd-search-")
    d = None
    try:
        shutil.copy(os.path.join(cache, "secret.key"), os.path.join(run_dir, "secret.key"))
        db = engine.prepare(cache, run_dir)
        d = scale.make_daemon(harness, run_dir, db, {})
        d.start(timeout=120)
        measure(scale, d, m, args)
        d.stop()
        for line in d.log().splitlines():
            if "search:" in line or line.startswith(("<3>", "<4>")):
                print("log    " + line.strip())
    finally:
        if d is not None:
            d.cleanup()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    print("load average %.2f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
