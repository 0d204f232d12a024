#!/usr/bin/env python3
"""Crash test: concurrent posts, SIGKILL, restart.  Every comment that got a
201 is there afterwards and PRAGMA integrity_check says ok."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, db_connect, done, is_eq, ok  # noqa: E402

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "5"))
CLIENTS = 8


def main():
    d = Daemon({"threads": "2"})
    acked = set()
    lock = threading.Lock()
    try:
        for rnd in range(ROUNDS):
            d.start()
            stop = threading.Event()

            def client(n):
                i = 0
                while not stop.is_set():
                    try:
                        r = d.comment("/crash/%d" % (i % 3), "round %d client %d #%d" % (rnd, n, i),
                                      email="c%d@example.nl" % n)
                    except OSError:
                        return
                    if r.status == 201:
                        with lock:
                            acked.add(r.json()["id"])
                    i += 1
            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            with lock:
                target = len(acked) + 10 + 5 * rnd
            for t in threads:
                t.start()
            # Kill after some acknowledgements (every round has some, however
            # loaded the machine), not after a guessed time.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with lock:
                    if len(acked) >= target:
                        break
                time.sleep(0.002)
            d.kill()
            stop.set()
            for t in threads:
                t.join()
            con = db_connect(d.db)
            is_eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok",
                  "round %d: integrity_check ok after SIGKILL" % rnd)
            have = {r[0] for r in con.execute("SELECT id FROM comments")}
            con.close()
            missing = acked - have
            ok(not missing, "round %d: all %d acknowledged comments survived" % (rnd, len(acked)),
               "missing: %r" % sorted(missing)[:20])
        ok(len(acked) > ROUNDS * 10, "the test acknowledged enough comments (%d)" % len(acked))
        d.start()
        served = set()
        for i in range(3):
            stack = list(d.thread_all("/crash/%d" % i)["comments"])
            while stack:
                c = stack.pop()
                served.add(c["id"])
                stack.extend(c["replies"])
        # Comments committed just before a kill may never have been answered,
        # so the daemon may serve more than the clients saw acknowledged.
        ok(acked <= served, "the restarted daemon serves every acknowledged comment",
           "missing: %r" % sorted(acked - served)[:20])
        is_eq(d.stop(), 0, "clean stop after the crashes")
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
