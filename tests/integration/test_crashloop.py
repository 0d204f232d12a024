#!/usr/bin/env python3
"""Crash loop: CRASH_LOOP_ROUNDS (default 100) rounds of posting from several
threads for a fraction of a second, then SIGKILL.  After every kill the
database passes integrity_check and holds every acknowledged comment; after
every restart the daemon's counts match the database; at the end the daemon
serves every acknowledged comment."""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, db_connect, diag, done, is_eq, ok  # noqa: E402

ROUNDS = int(os.environ.get("CRASH_LOOP_ROUNDS", "100"))
CLIENTS = int(os.environ.get("CRASH_LOOP_CLIENTS", "6"))
THREADS = ["/crashloop/%d" % i for i in range(4)]


def poster(port, n, rnd_seed, stop, acked, lock):
    rnd = random.Random(rnd_seed)
    conn = None
    i = 0
    while not stop.is_set():
        i += 1
        body = {"thread": rnd.choice(THREADS), "author": "Crash %d" % n,
                "email": "crash%d@example.org" % n, "text": "client %d post %d %s" % (
                    n, i, "x" * rnd.randrange(1, 400))}
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/api/v1/comments", body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            payload = r.read()
        except (OSError, http.client.HTTPException):
            # The daemon was killed under us: this one was never acknowledged.
            if conn:
                conn.close()
            conn = None
            if stop.is_set():
                return
            time.sleep(0.01)
            continue
        if r.status == 201:
            with lock:
                acked[json.loads(payload)["id"]] = body["thread"]
    if conn:
        conn.close()


def db_state(path):
    con = db_connect(path)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        ids = {r[0] for r in con.execute("SELECT id FROM comments")}
        counts = dict(con.execute(
            "SELECT t.path, count(*) FROM comments c JOIN threads t ON t.id = c.thread_id "
            "WHERE c.status = 'published' GROUP BY t.path"))
    finally:
        con.close()
    return integrity, ids, counts


def main():
    d = Daemon({"threads": "2"})
    acked = {}
    lock = threading.Lock()
    rnd = random.Random(7)
    bad_rounds = []
    counts = {}
    start = time.monotonic()
    try:
        for rnd_no in range(ROUNDS):
            d.start()
            if rnd_no:
                # The restarted daemon agrees with the file.
                r = d.post("/api/v1/counts", THREADS)
                served = r.json() or {}
                want = {t: counts.get(t, 0) for t in THREADS}
                if r.status != 200 or served != want:
                    bad_rounds.append((rnd_no, "counts %r != db %r" % (served, want)))
            stop = threading.Event()
            workers = [threading.Thread(target=poster, args=(d.port, n, rnd_no * 100 + n, stop,
                                                             acked, lock))
                       for n in range(CLIENTS)]
            with lock:
                target = len(acked) + rnd.randint(5, 40)
            for w in workers:
                w.start()
            # Kill after a random number of acknowledgements (so that every
            # round has some, however loaded the machine), a moment later.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with lock:
                    if len(acked) >= target:
                        break
                time.sleep(0.002)
            time.sleep(rnd.uniform(0, 0.02))
            d.kill()
            stop.set()
            for w in workers:
                w.join()
            integrity, ids, counts = db_state(d.db)
            with lock:
                missing = set(acked) - ids
            if integrity != "ok" or missing:
                bad_rounds.append((rnd_no, "integrity %r, missing %r" % (integrity,
                                                                         sorted(missing)[:10])))
            if bad_rounds and len(bad_rounds) > 5:
                break
        elapsed = time.monotonic() - start
        diag("%d rounds in %.1f s, %d comments acknowledged" % (ROUNDS, elapsed, len(acked)))
        ok(not bad_rounds, "after each of %d SIGKILLs: integrity_check ok, every acknowledged "
           "comment present, counts match after restart" % ROUNDS,
           "\n".join("round %d: %s" % b for b in bad_rounds[:10]))
        ok(len(acked) >= ROUNDS * 5, "the loop acknowledged enough comments (%d)" % len(acked))
        d.start()
        served = set()
        for t in THREADS:
            j = d.thread_all(t)
            stack = list(j.get("comments", []))
            while stack:
                c = stack.pop()
                served.add(c["id"])
                stack.extend(c.get("replies", []))
        missing = set(acked) - served
        ok(not missing, "the restarted daemon serves all %d acknowledged comments" % len(acked),
           "missing %r" % sorted(missing)[:20])
        is_eq(d.stop(), 0, "a clean stop after %d crashes" % ROUNDS)
        integrity, _, _ = db_state(d.db)
        is_eq(integrity, "ok", "integrity_check ok at the end")
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
