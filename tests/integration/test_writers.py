#!/usr/bin/env python3
"""Writes wait off the HTTP threads (daemon/writers.h).

With one HTTP thread and the database's write lock held by another
process, a post waits for its commit: the thread's other connections must
still be served (a thread page, counts, health) while it waits, and the
post must complete once the lock is gone.  Then the two ways a suspended
request can end badly: its client leaves, and the daemon is stopped with
the write in flight.  And the admin search's indexer, which waits for
idle writers, still indexes under posts that never let up."""
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Daemon, WriteLock, db_connect, done, is_eq,  # noqa: E402
                     not_on_engine, ok)

SETTINGS = {"threads": "1", "rate_limit": "0", "min_submit_seconds": "0"}


class Background:
    """A request on a thread of its own; .result once it returned."""

    def __init__(self, fn):
        self.result = None
        self.thread = threading.Thread(target=self.run, args=(fn,))
        self.thread.start()

    def run(self, fn):
        try:
            self.result = fn()
        except OSError as e:
            self.result = e

    def pending(self):
        return self.thread.is_alive()


def waiting_post(d, text):
    """Starts a post that will wait for the lock; gives it time to get
    there (if it has not, the checks below that it is still pending fail
    rather than pass by luck)."""
    bg = Background(lambda: d.comment("/writers", text, author="Wachter",
                                      email="w@example.nl"))
    time.sleep(0.5)
    return bg


def test_reads_while_a_write_waits(d):
    r = d.comment("/writers", "Eerste reactie, voor het slot.")
    is_eq(r.status, 201, "a first post (the classifier loaded)")
    lock = WriteLock(d.db)
    post = waiting_post(d, "Deze reactie wacht op het slot van de database.")
    try:
        ok(post.pending(), "the post waits for the write lock")
        r = d.thread("/writers")
        ok(r.status == 200 and r.json()["count"] == 1 and post.pending(),
           "the only HTTP thread still serves a thread page, the post waiting", r)
        r = d.post("/api/v1/counts", ["/writers"])
        ok(r.status == 200 and r.json() == {"/writers": 1},
           "and counts (a POST that only reads)", r)
        r = d.get("/api/v1/health")
        is_eq(r.status, 200, "and health")
        ok(post.pending(), "all while the post still waits")
    finally:
        lock.release()
    post.thread.join(30)
    r = post.result
    ok(getattr(r, "status", None) == 201, "the post is stored once the lock is gone", r)
    is_eq(d.thread("/writers").json()["count"], 2, "and served")


def test_client_gone(d):
    lock = WriteLock(d.db)
    try:
        body = ('{"thread": "/writers", "author": "Weg", "email": "weg@example.nl",'
                ' "text": "Ik wacht niet op het antwoord."}').encode()
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"POST /api/v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body)
        time.sleep(0.5)
        s.close()
        time.sleep(0.2)
    finally:
        lock.release()
    r = d.get("/api/v1/health")
    ok(r.status == 200 and d.proc.poll() is None,
       "a client that left while its post waited: the daemon carries on", r)
    r = d.comment("/writers", "Na de vertrokken bezoeker.")
    is_eq(r.status, 201, "and takes the next post")


def test_stop_with_a_write_in_flight(d):
    lock = WriteLock(d.db)
    post = waiting_post(d, "Verstuurd vlak voor het stoppen.")
    ok(post.pending(), "a post waits for the lock")
    releaser = threading.Timer(1.0, lock.release)
    releaser.start()
    rc = d.stop(sig=signal.SIGTERM, timeout=30)
    releaser.join()
    post.thread.join(30)
    is_eq(rc, 0, "SIGTERM with the write in flight: a clean exit")
    r = post.result
    ok(getattr(r, "status", None) == 201, "after answering the post", r)
    con = db_connect(d.db)
    n = con.execute("SELECT count(*) FROM comments WHERE text = ?",
                    ("Verstuurd vlak voor het stoppen.",)).fetchone()[0]
    con.close()
    is_eq(n, 1, "which is stored")


def indexed_upto(db):
    con = db_connect(db)
    try:
        return con.execute("SELECT upto FROM search_state").fetchone()[0]
    finally:
        con.close()


def test_indexer_under_steady_posts():
    """The admin search's indexer starts each batch when no write is queued
    or running, or after 100 ms (daemon/maintenance.c): under posts that
    never let up it must still index, not wait for a pause that never
    comes."""
    if not_on_engine("the admin search's indexer goes on under steady posts",
                     "the indexer fills SQLite's FTS5 blocks (on PostgreSQL the search's"
                     " pg_trgm GIN indexes follow each insert)"):
        return
    with Daemon(dict(SETTINGS, search_index_from="0")) as d:
        stop = threading.Event()
        sent = [0] * 4
        failed = []

        def poster(i):
            while not stop.is_set():
                r = d.comment("/steady", "Reactie %d van schrijver %d, zonder pauze." % (sent[i], i),
                              author="Schrijver %d" % i, email="s%d@example.nl" % i)
                if r.status != 201:
                    failed.append(r.status)
                sent[i] += 1

        posters = [threading.Thread(target=poster, args=(i,)) for i in range(4)]
        for t in posters:
            t.start()
        time.sleep(1.0)
        first = indexed_upto(d.db)
        # The indexer runs every 5 s; give it three rounds.
        deadline = time.monotonic() + 16
        while time.monotonic() < deadline and indexed_upto(d.db) <= first:
            time.sleep(0.25)
        last = indexed_upto(d.db)
        still_posting = all(t.is_alive() for t in posters) and not failed
        stop.set()
        for t in posters:
            t.join(30)
        ok(still_posting, "four clients posted without a pause (%d posts, failures %r)"
           % (sum(sent), failed[:3]))
        ok(last > first, "the indexer went on meanwhile (search_state.upto %d -> %d)"
           % (first, last))


def main():
    with Daemon(SETTINGS) as d:
        test_reads_while_a_write_waits(d)
        test_client_gone(d)
        test_stop_with_a_write_in_flight(d)
    test_indexer_under_steady_posts()
    done()


if __name__ == "__main__":
    main()
