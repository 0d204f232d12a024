#!/usr/bin/env python3
"""Which B-trees a post writes: WAL frames a post, per table and index.

Starts commentd on a copy of a bench/scale.py data set, posts N comments
one at a time (one commit each) while a reader holds the WAL open (so no
frame is overwritten and the WAL never starts over), stops the daemon with
SIGKILL (no checkpoint at close) and reads the frames' page numbers from the
WAL file; `dbstat` (the sqlite3 command) names each page's B-tree.

  bench/wal_pages.py --data ~/.cache/commentd-bench/scale-<key> --posts 200

Prints frames a post in all and for each B-tree (docs/performance.md, "POST:
a warm batch connection").  Needs the sqlite3 command (Debian: sqlite3).
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import collections  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def wal_frames(path):
    """(page number, commit size) of each valid frame of a WAL file."""
    with open(path, "rb") as f:
        data = f.read()
    page_size = struct.unpack(">I", data[8:12])[0]
    salt = data[16:24]
    out = []
    off = 32
    while off + 24 + page_size <= len(data):
        page, commit = struct.unpack(">II", data[off:off + 8])
        if data[off + 8:off + 16] != salt:
            break
        out.append((page, commit))
        off += 24 + page_size
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="a data set directory of bench/scale.py")
    ap.add_argument("--commentd", default=os.path.join(os.path.dirname(_HERE), "build-bench",
                                                       "daemon", "commentd"))
    ap.add_argument("--posts", type=int, default=200)
    args = ap.parse_args()
    os.environ["COMMENTD"] = os.path.abspath(args.commentd)
    spec = importlib.util.spec_from_file_location("scale", os.path.join(_HERE, "scale.py"))
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    import harness  # noqa: E402 (scale.py put tests/integration on the path)
    harness.COMMENTD = os.environ["COMMENTD"]

    with open(os.path.join(args.data, "manifest.json")) as f:
        m = json.load(f)
    run = tempfile.mkdtemp(prefix="commentd-walpages-")
    d = None
    try:
        shutil.copy(os.path.join(args.data, "secret.key"), run)
        db = os.path.join(run, "comments.db")
        shutil.copy(os.path.join(args.data, "comments.db"), db)
        d = scale.make_daemon(harness, run, db, {})
        d.start(timeout=120)
        rnd = random.Random(1)
        words = scale.scale_data.Words(random.Random(5), 3000)
        clients = {}

        def post(site, path):
            c = clients.setdefault(site, scale.Client(d.port, scale.ORIGINS[site]))
            st, _, body, _ = c.request("POST", "/api/v1/comments",
                                       scale.comment_body(rnd, words, path, site))
            if st != 201:
                raise SystemExit("POST answered %d: %r" % (st, body[:200]))

        site, path = m["threads"][m["popular"][5]][:2]
        post(site, path)  # the model loaded; then the start-up maintenance pass
        time.sleep(8)
        hold = sqlite3.connect(db, isolation_level=None)
        hold.execute("BEGIN")
        hold.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        wal = db + "-wal"
        first = len(wal_frames(wal))
        threads = m["threads"][:2000]
        for _ in range(args.posts):
            site, path = threads[rnd.randrange(len(threads))][:2]
            post(site, path)
        time.sleep(0.5)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        frames = wal_frames(wal)[first:]
        hold.close()
        commits = sum(1 for _, size in frames if size)
        print("%d frames for %d posts (%d commits): %.1f frames a post" % (
            len(frames), args.posts, commits, len(frames) / args.posts))
        pages = collections.Counter(page for page, _ in frames)
        sql = "SELECT pageno, name FROM dbstat WHERE pageno IN (%s)" % ",".join(map(str, pages))
        out = subprocess.run(["sqlite3", db, sql], capture_output=True, text=True,
                             check=True).stdout
        owner = dict((int(line.split("|")[0]), line.split("|")[1]) for line in out.split())
        per = collections.Counter()
        for page, k in pages.items():
            per[owner.get(page, "(free or new)")] += k
        for name, k in per.most_common(30):
            print("  %6.2f  %s" % (k / args.posts, name))
    finally:
        if d:
            d.cleanup()
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
