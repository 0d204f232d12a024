#!/usr/bin/env python3
"""Storage faults: the database (file and directory) becomes read-only, and
the disk fills.  POST answers 503 with a JSON error, reads keep working,
nothing acknowledged is lost, and posting works again once the fault clears.

Root ignores file modes, so as root the daemon runs as nobody (setpriv) for
the read-only case; the full disk is a small tmpfs, which needs root to
mount.  A part that cannot run says so with a TAP SKIP line (a failure under CI).
"""
import errno
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, diag, done, is_eq, ok, skip  # noqa: E402

NOBODY = 65534
STORAGE_ERRORS = ("storage_readonly", "storage_full", "unavailable")


class Setup:
    """How to run the daemon so that file modes apply to it."""

    def __init__(self, top):
        self.uid = os.geteuid()
        self.wrapper = None
        if self.uid == 0:
            setpriv = shutil.which("setpriv")
            if not setpriv:
                return
            self.wrapper = os.path.join(top, "as-nobody.sh")
            with open(self.wrapper, "w") as f:
                f.write('#!/bin/sh\nexec %s --reuid=%d --regid=%d --clear-groups -- "%s" "$@"\n'
                        % (setpriv, NOBODY, NOBODY, harness.COMMENTD))
            os.chmod(self.wrapper, 0o755)
            self.uid = NOBODY

    @property
    def usable(self):
        return self.uid != 0

    def daemon(self, directory, config=None):
        """A Daemon in directory (which the daemon's user owns)."""
        if os.geteuid() == 0:
            os.chown(directory, self.uid, self.uid)
        real = harness.COMMENTD
        if self.wrapper:
            harness.COMMENTD = self.wrapper
        try:
            d = Daemon(config, directory=directory, keep_dir=True)
        finally:
            harness.COMMENTD = real
        d.wrapper = self.wrapper
        return d

    def start(self, d):
        # The daemon's user must be able to send READY=1 to the test's
        # notify socket and to exec the wrapper.
        real = harness.COMMENTD
        if self.wrapper:
            harness.COMMENTD = self.wrapper
        old = os.umask(0)
        try:
            d.start()
        finally:
            os.umask(old)
            harness.COMMENTD = real


def post(d, thread, text):
    r = d.comment(thread, text, author="Fault", email="fault@example.org")
    return r


def storage_error(r):
    j = r.json() or {}
    return r.status == 503 and j.get("error") in STORAGE_ERRORS and bool(j.get("message"))


def served_ids(d, thread):
    j = d.thread_all(thread)
    out = set()
    stack = list(j.get("comments", []))
    while stack:
        c = stack.pop()
        out.add(c["id"])
        stack.extend(c.get("replies", []))
    return out


def db_check(path, acked, label):
    con = sqlite3.connect(path)
    is_eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok",
          "%s: integrity_check ok" % label)
    have = {r[0] for r in con.execute("SELECT id FROM comments")}
    texts = [r[0] for r in con.execute("SELECT text FROM comments")]
    con.close()
    missing = set(acked) - have
    ok(not missing, "%s: all %d acknowledged comments are in the database" % (label, len(acked)),
       "missing %r" % sorted(missing)[:20])
    return texts


def wait_for_201(d, thread, text, seconds=5.0):
    deadline = time.monotonic() + seconds
    while True:
        r = post(d, thread, text)
        if r.status == 201 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def readonly(setup, top):
    if not setup.usable:
        skip("read-only database", "running as root without setpriv: file modes do not apply")
        return
    # The database lives in a directory of its own, so that the harness's
    # files (notify socket, log, key) stay writable.
    home = os.path.join(top, "ro-home")
    data = os.path.join(top, "ro")
    os.mkdir(home)
    os.mkdir(data)
    if os.geteuid() == 0:
        os.chown(data, setup.uid, setup.uid)
    d = setup.daemon(home)
    d.db = os.path.join(data, "comments.db")
    d.write_config(d.extra)
    t = "/faults/readonly"
    acked = {}
    try:
        setup.start(d)
        for i in range(5):
            r = post(d, t, "before the fault %d" % i)
            if r.status == 201:
                acked[r.json()["id"]] = r.json()["html"]
        is_eq(len(acked), 5, "read-only: 5 comments acknowledged first")

        # The file and its directory become read-only.  A running daemon
        # keeps its open descriptors; whatever it acknowledges must stay.
        files = [d.db, d.db + "-wal", d.db + "-shm"]
        for f in files:
            if os.path.exists(f):
                os.chmod(f, 0o444)
        os.chmod(data, 0o555)
        for i in range(3):
            r = post(d, t, "while turning read-only %d" % i)
            ok(r.status == 201 or storage_error(r),
               "read-only (live): POST answers 201 or a 503 storage error", r)
            if r.status == 201:
                acked[r.json()["id"]] = r.json()["html"]
        is_eq(d.stop(), 0, "read-only: the daemon stops cleanly")

        # Restarted on the read-only database: writes are refused.
        setup.start(d)
        refused_texts = []
        for i in range(3):
            text = "refused while read-only %d" % i
            r = post(d, t, text)
            refused_texts.append(text)
            ok(storage_error(r), "read-only: POST %d answers 503 with a JSON storage error" % i, r)
        r = post(d, t, "x")
        is_eq((r.json() or {}).get("error"), "storage_readonly", "read-only: the code says so")
        r = d.request("POST", "/api/v1/comments",
                      body="thread=%2Ffaults%2Freadonly&author=F&email=f%40example.org&text=form",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        ok(storage_error(r), "read-only: a form POST answers 503 too", r)
        refused_texts.append("form")
        r = d.thread(t)
        is_eq(r.status, 200, "read-only: GET thread answers 200")
        ok(set(acked) <= served_ids(d, t), "read-only: GET serves every acknowledged comment")
        r = d.post("/api/v1/counts", [t])
        is_eq((r.status, (r.json() or {}).get(t)), (200, len(served_ids(d, t))),
              "read-only: counts work")
        is_eq(d.get("/api/v1/health").status, 200, "read-only: health answers 200 (reads work)")
        ok(d.proc.poll() is None, "read-only: the daemon is running")

        # The fault clears: posting works again without a restart.
        os.chmod(data, 0o755)
        for f in files:
            if os.path.exists(f):
                os.chmod(f, 0o644)
        r = wait_for_201(d, t, "after the fault")
        ok(r.status == 201, "read-only: POST answers 201 again once the modes are fixed",
           "%r\n%s" % (r, d.log()[-1500:]))
        if r.status == 201:
            acked[r.json()["id"]] = r.json()["html"]
        ok(set(acked) <= served_ids(d, t), "read-only: every acknowledged comment is served")
        is_eq(d.stop(), 0, "read-only: SIGTERM exits 0")
        texts = db_check(d.db, acked, "read-only")
        ok(not set(refused_texts) & set(texts), "read-only: refused comments were not stored")
        log = d.log()
        ok("fault@example.org" not in log, "read-only: the log holds no e-mail address")
    finally:
        os.chmod(data, 0o755)
        d.cleanup()
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def fill(path):
    """Writes zeros into path until the file system is full; bytes written."""
    n = 0
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # Fill the last partial block too.
        for size in (4096, 512, 1):
            while True:
                try:
                    n += f.write(b"\0" * size)
                except OSError:
                    break
    return n


def disk_full(setup, top):
    mnt = os.path.join(top, "full")
    os.mkdir(mnt)
    if os.geteuid() != 0:
        skip("disk full", "mounting a small tmpfs needs root")
        return
    r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=8m,mode=0700,uid=%d,gid=%d" % (setup.uid, setup.uid),
                        "commentd-full", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        skip("disk full", "cannot mount a tmpfs here: %s" % r.stderr.strip())
        return
    diag("disk full: 8 MiB tmpfs at %s" % mnt)
    data = os.path.join(mnt, "data")
    os.mkdir(data)
    d = setup.daemon(data)
    t = "/faults/full"
    acked = {}
    filler = os.path.join(mnt, "filler")
    try:
        setup.start(d)
        for i in range(5):
            r = post(d, t, "before the disk fills %d" % i)
            if r.status == 201:
                acked[r.json()["id"]] = r.json()["html"]
        is_eq(len(acked), 5, "disk full: 5 comments acknowledged first")
        n = fill(filler)
        st = os.statvfs(mnt)
        diag("disk full: filler %d bytes, %d bytes left" % (n, st.f_bavail * st.f_frsize))
        # SQLite reuses space already in the WAL, so a few posts may still
        # fit; each one acknowledged must survive.  Then 503.
        first_503 = None
        statuses = []
        for i in range(400):
            r = post(d, t, "while the disk is full %d with some words to make it longer" % i)
            statuses.append(r.status)
            if r.status == 201:
                acked[r.json()["id"]] = r.json()["html"]
            elif storage_error(r):
                first_503 = r
                break
            else:
                break
        diag("disk full: %d POSTs until the first refusal" % len(statuses))
        ok(first_503 is not None, "disk full: POST answers 503 with a JSON storage error",
           "statuses %r, last %r" % (statuses[-10:], r))
        is_eq((first_503.json() or {}).get("error") if first_503 else None, "storage_full",
              "disk full: the code says storage_full")
        refused = 0
        for i in range(5):
            r = post(d, t, "refused on a full disk %d" % i)
            refused += storage_error(r)
        is_eq(refused, 5, "disk full: further POSTs answer 503 too")
        is_eq(d.thread(t).status, 200, "disk full: GET thread answers 200")
        ok(set(acked) <= served_ids(d, t), "disk full: GET serves every acknowledged comment")
        is_eq(d.post("/api/v1/counts", [t]).status, 200, "disk full: counts work")
        is_eq(d.get("/api/v1/health").status, 200, "disk full: health answers 200")
        ok(d.proc.poll() is None, "disk full: the daemon is running")

        os.unlink(filler)
        r = wait_for_201(d, t, "after the disk was cleared")
        is_eq(r.status, 201, "disk full: POST answers 201 again once space is freed")
        if r.status == 201:
            acked[r.json()["id"]] = r.json()["html"]
        ok(set(acked) <= served_ids(d, t), "disk full: every acknowledged comment is served")
        is_eq(d.stop(), 0, "disk full: SIGTERM exits 0")
        texts = db_check(d.db, acked, "disk full")
        ok(not any(x.startswith("refused on a full disk") for x in texts),
           "disk full: refused comments were not stored")
        setup.start(d)
        ok(set(acked) <= served_ids(d, t), "disk full: after a restart every acknowledged "
           "comment is served")
        is_eq(d.stop(), 0, "disk full: the restarted daemon exits 0")
    finally:
        d.cleanup()
        subprocess.run(["umount", mnt], capture_output=True)
        shutil.rmtree(mnt, ignore_errors=True)


def main():
    top = tempfile.mkdtemp(prefix="commentd-faults-")
    os.chmod(top, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        setup = Setup(top)
        readonly(setup, top)
        disk_full(setup, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
