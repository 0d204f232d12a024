#!/usr/bin/env python3
"""Power cuts: what was never synced is lost, and no acknowledged comment is.

The real commentd runs with tests/powercut/powercut.so preloaded: a SQLite
VFS that keeps every write in memory until SQLite syncs the file (see
powercut.c).  A SIGKILL is then a power cut.  Each round restarts the daemon
on the files the last cut left, which recovers them; clients post from
several threads at once; after a random number of acknowledgements (and a
random few milliseconds more, so that the cut lands inside a transaction) the
power goes.  After every cut a copy of the files passes integrity_check and
holds every comment ever answered 201, with its text.  Some rounds let a
random share of unsynced writes reach the disk early (the kernel's
write-back).  A control round with syncs dropped must lose its comments:
proof that the check can see a lost write.  At the end a daemon without the
shim serves every acknowledged comment.

Environment: POWERCUT_SO (the shim, from meson), POWERCUT_SECONDS (time
budget for the rounds, default 30).
"""
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, diag, done, is_eq, ok, skip_all  # noqa: E402

SHIM = os.environ.get("POWERCUT_SO", "")
BUDGET = float(os.environ.get("POWERCUT_SECONDS", "30"))
CLIENTS = 4
MIN_ROUNDS, MAX_ROUNDS = 20, 200


def preload(d, **extra):
    d.env = {"LD_PRELOAD": SHIM, "POWERCUT_WRITEBACK": "0", "POWERCUT_DROP_SYNC": "0"}
    # An ASan build's runtime wants to be the first library; the shim is
    # built with it too, so the order does not matter here.
    asan = os.environ.get("ASAN_OPTIONS")
    if asan is not None:
        d.env["ASAN_OPTIONS"] = asan + ":verify_asan_link_order=0"
    d.env.update({k: str(v) for k, v in extra.items()})


def poster(port, thread, prefix, acked, lock, stop, statuses):
    """Posts until the daemon goes away; records every 201 as text -> id
    (by text: a lost comment's id can be handed out again)."""
    n = 0
    while not stop.is_set():
        text = "%s-%d" % (prefix, n)
        body = json.dumps({"thread": thread, "author": "Cut", "email": "cut@example.org",
                           "text": text})
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/api/v1/comments", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            c.close()
        except (OSError, http.client.HTTPException):
            return  # the power is off
        with lock:
            if r.status == 201:
                acked[text] = json.loads(data)["id"]
            else:
                statuses[r.status] = statuses.get(r.status, 0) + 1
        n += 1


def run_round(d, label, target, jitter):
    """Posts from CLIENTS threads; cuts the power after target
    acknowledgements and jitter seconds.  Returns {text: id} acknowledged."""
    acked, lock, stop, statuses = {}, threading.Lock(), threading.Event(), {}
    threads = [threading.Thread(target=poster, args=(
        d.port, "/pc/%s" % label, "pc-%s-%d" % (label, i), acked, lock, stop, statuses))
        for i in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and d.proc.poll() is None:
        with lock:
            if len(acked) >= target:
                break
        time.sleep(0.001)
    time.sleep(jitter)
    d.kill()
    stop.set()
    for t in threads:
        t.join()
    if statuses:
        diag("%s: answers other than 201: %r" % (label, statuses))
    with lock:
        return dict(acked)


def check_files(d, scratch):
    """Copies the database and its WAL as the cut left them (the WAL index
    is rebuilt) and reads them.  Returns (integrity, {id: text})."""
    if os.path.exists(scratch):
        shutil.rmtree(scratch)
    os.mkdir(scratch)
    copy = os.path.join(scratch, "comments.db")
    for suffix in ("", "-wal"):
        if os.path.exists(d.db + suffix):
            shutil.copyfile(d.db + suffix, copy + suffix)
    con = sqlite3.connect(copy)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        rows = dict(con.execute("SELECT id, text FROM comments"))
    except sqlite3.Error as e:
        return "sqlite3 error: %s" % e, {}
    finally:
        con.close()
    return integrity, rows


def served(d, labels):
    """Every comment the daemon serves in the threads of these rounds."""
    out = {}
    for label in labels:
        for c in d.thread_all("/pc/%s" % label)["comments"]:
            out[c["id"]] = c["html"]
    return out


def main():
    if not SHIM or not os.path.exists(SHIM):
        skip_all("POWERCUT_SO does not name the powercut shim (meson sets it)")
    rnd = random.Random(int(os.environ.get("POWERCUT_SEED", str(int(time.time())))))
    top = tempfile.mkdtemp(prefix="commentd-powercut-")
    scratch = os.path.join(top, "copy")
    data = os.path.join(top, "data")
    os.mkdir(data)
    d = Daemon(directory=data, keep_dir=True)
    acked = {}     # every comment answered 201 so far: text -> id
    fewest = None  # the fewest acknowledgements of a round
    labels = []
    bad = []       # (round, problem)
    started = time.monotonic()
    rounds = 0
    try:
        # The schema is in place before the first cut (so that a lost
        # comment shows as one, not as a lost table).
        is_eq(d.start().stop(), 0, "the database is created without the shim")
        while rounds < MAX_ROUNDS and (rounds < MIN_ROUNDS or
                                       time.monotonic() - started < BUDGET):
            writeback = rnd.choice([0, 0, 5, 20, 50])
            preload(d, POWERCUT_WRITEBACK=writeback)
            d.start()
            if rounds == 0:
                ok("powercut: VFS registered" in d.log(), "the daemon runs on the shim VFS",
                   d.log()[-1000:])
            label = "r%d" % rounds
            labels.append(label)
            got = run_round(d, label, rnd.randint(3, 80), rnd.uniform(0, 0.02))
            acked.update(got)
            fewest = len(got) if fewest is None else min(fewest, len(got))
            integrity, rows = check_files(d, scratch)
            lost = sorted(t for t, i in acked.items() if rows.get(i) != t)
            if integrity != "ok" or lost:
                bad.append((label, "write-back %d%%: integrity %r, %d lost %r" % (
                    writeback, integrity[:200], len(lost), lost[:5])))
            rounds += 1
        diag("%d rounds in %.0f s, %d comments acknowledged, %d rows on disk after the last cut"
             % (rounds, time.monotonic() - started, len(acked), len(rows)))
        ok(not bad, "after each of %d power cuts under %d concurrent clients the files pass "
           "integrity_check and hold all %d acknowledged comments" % (rounds, CLIENTS, len(acked)),
           "\n".join("%s: %s" % b for b in bad[:20]))
        ok(fewest >= 3, "every round acknowledged comments before the cut (at least %d)"
           % fewest)

        # The control: a disk that drops syncs loses what was acknowledged.
        preload(d, POWERCUT_DROP_SYNC=1)
        d.start()
        control = run_round(d, "control", 20, 0)
        labels.append("control")
        integrity, rows = check_files(d, scratch)
        lost = [t for t, i in control.items() if rows.get(i) != t]
        ok(len(control) >= 20 and len(lost) == len(control),
           "control: with syncs dropped the cut loses all %d acknowledged comments (%d lost)"
           % (len(control), len(lost)))
        is_eq(integrity, "ok", "control: the files still pass integrity_check")

        # Recovery by a daemon without the shim, through the API.
        d.env = {}
        d.start()
        have = served(d, labels)
        missing = sorted(t for t, i in acked.items() if "<p>%s</p>" % t not in have.get(i, ""))
        ok(not missing, "a daemon without the shim serves all %d acknowledged comments"
           % len(acked), "%d missing: %r" % (len(missing), missing[:10]))
        r = d.comment("/pc/after", "after the storm")
        is_eq(r.status, 201, "and accepts a new comment")
        is_eq(d.stop(), 0, "and stops cleanly")
        con = sqlite3.connect(d.db)
        is_eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok",
              "integrity_check after the clean stop")
        con.close()
    finally:
        d.cleanup()
        shutil.rmtree(top, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
