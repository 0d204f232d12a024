#!/usr/bin/env python3
"""Operations: systemd start/reload/stop, backups and restore, upgrades.

- started by systemd-socket-activate (the real program) with NOTIFY_SOCKET:
  READY=1, serves, STOPPING=1 and exit 0 on SIGTERM;
- SIGTERM during a slowly uploaded POST: the request finishes (201), exit 0;
- SIGHUP applies a changed setting without dropping a keep-alive connection,
  with RELOADING=1 and READY=1;
- commentctl backup under concurrent writes: the copy opens, passes
  integrity_check, holds every comment acknowledged before it began; the
  restore procedure of docs/install.md brings it back and it is served;
- a schema-version-1 database is migrated at start and its comment served;
- with backup_dir set the daemon writes and rotates its daily backup;
- the example configuration is valid.
"""
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, COMMENTD, SOURCE_ROOT, Daemon, db_connect, db_query, diag,  # noqa: E402
                     done, is_eq, not_on_engine, ok, raw_status, skip, walk)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def recv_notify(nsock, want, timeout=10.0):
    """Collects notify datagrams until every line in want was seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nsock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            msg = nsock.recv(4096).decode()
        except socket.timeout:
            break
        seen.extend(msg.split("\n"))
        if all(w in seen for w in want):
            break
    return seen


def wait_until(cond, seconds):
    """Polls cond until it is true or seconds pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return cond()
        time.sleep(0.02)
    return True


def sqlite_query(path, sql, *args):
    """A SQLite file read only (the backups' copies)."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def today_name():
    return datetime.datetime.now(datetime.timezone.utc).strftime("commentd-%Y-%m-%d.db")


def socket_activate():
    sa = shutil.which("systemd-socket-activate")
    if not sa:
        skip("systemd-socket-activate", "not installed (apt-get install systemd)")
        return
    d = Daemon()
    proc = None
    try:
        notify_path = os.path.join(d.dir, "sa-notify.sock")
        nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        nsock.bind(notify_path)
        port = free_port()
        # systemd-socket-activate passes only the variables named with -E.
        args = [sa, "-l", "127.0.0.1:%d" % port, "-E", "NOTIFY_SOCKET=" + notify_path]
        for k in os.environ:
            if k.endswith("SAN_OPTIONS"):
                args += ["-E", k]
        args += [COMMENTD, "--config", d.conf]
        logf = open(d.log_path, "ab")
        proc = subprocess.Popen(args, stdout=logf, stderr=logf)
        logf.close()
        # The first connection makes systemd-socket-activate exec commentd,
        # which finds the socket (with this connection queued) on fd 3.
        conn = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=20)
                break
            except OSError:
                time.sleep(0.05)
        if not ok(conn is not None, "systemd-socket-activate listens", d.log()):
            return
        conn.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        conn.close()
        seen = recv_notify(nsock, ["READY=1"])
        ok("READY=1" in seen, "commentd sent READY=1 to NOTIFY_SOCKET", seen)
        is_eq(raw_status(answer), 200, "the connection that started it is served")
        d.port = port
        r = d.comment("/sa", "started by systemd-socket-activate")
        is_eq(r.status, 201, "and it serves a POST afterwards")
        ok("the socket from systemd" in d.log(), "it used the passed socket (log says so)",
           d.log())
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        is_eq(rc, 0, "SIGTERM: exit status 0")
        seen = recv_notify(nsock, ["STOPPING=1"], timeout=2)
        ok("STOPPING=1" in seen, "STOPPING=1 was sent", seen)
        nsock.close()
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        d.cleanup()


def sigterm_slow_request():
    d = Daemon()
    try:
        d.start()
        body = json.dumps({"thread": "/slow", "author": "Slow", "email": "slow@example.org",
                           "text": "a comment uploaded slowly " + "x" * 200}).encode()
        s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
        s.sendall(b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        pieces = 10
        step = (len(body) + pieces - 1) // pieces
        t0 = time.monotonic()
        alive = None
        for i in range(pieces):
            if i == pieces - 1:
                alive = d.proc.poll() is None
            s.sendall(body[i * step:(i + 1) * step])
            if i == 3:
                d.proc.send_signal(signal.SIGTERM)
            time.sleep(0.1)
        ok(alive, "SIGTERM after 4 of 10 pieces: still running %.1f s later, waiting for the body"
           % (time.monotonic() - t0 - 0.5))
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        s.close()
        is_eq(raw_status(answer), 201, "the slow POST begun before SIGTERM is answered 201")
        try:
            rc = d.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = "still running"
        is_eq(rc, 0, "then commentd exits 0")
        d.proc = None
        d.notify.close()
        rows = db_query(d.db, "SELECT count(*) FROM comments c JOIN threads t ON "
                        "t.id = c.thread_id WHERE t.path = '/slow'")
        is_eq(rows[0][0], 1, "the comment is in the database")
        ok("stopped" in d.log(), "the log says it stopped cleanly", d.log())
    finally:
        d.cleanup()


def sighup_reload():
    d = Daemon({"moderation": "none"})
    try:
        d.start()
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        hdrs = {"Content-Type": "application/json"}

        def post(text):
            conn.request("POST", "/api/v1/comments", body=json.dumps(
                {"thread": "/hup", "author": "H", "email": "h@example.org", "text": text}),
                headers=hdrs)
            r = conn.getresponse()
            return r.status, json.loads(r.read().decode() or "null")

        st, j = post("before the reload")
        is_eq((st, j and j.get("status")), (201, "published"), "moderation none: published")
        sock_before = conn.sock
        local_before = conn.sock.getsockname() if conn.sock else None
        d.notifications()
        d.write_config(dict(d.extra, moderation="all"))
        d.proc.send_signal(signal.SIGHUP)
        seen = recv_notify(d.notify, ["RELOADING=1", "READY=1"])
        ok("RELOADING=1" in seen and "READY=1" in seen, "SIGHUP: RELOADING=1 then READY=1", seen)
        st, j = post("after the reload")
        is_eq((st, j and j.get("status")), (201, "pending"),
              "moderation all applies at once: pending")
        ok(conn.sock is not None and conn.sock is sock_before
           and conn.sock.getsockname() == local_before,
           "on the same keep-alive connection (not dropped, not reopened)")
        conn.close()

        # A broken file is refused; the daemon keeps the old settings.
        with open(d.conf, "a") as f:
            f.write("no_such_setting = 1\n")
        d.notifications()
        d.proc.send_signal(signal.SIGHUP)
        seen = recv_notify(d.notify, ["READY=1"])
        ok("READY=1" in seen, "an invalid file: still READY=1", seen)
        r = d.comment("/hup", "after a refused reload")
        is_eq((r.status, (r.json() or {}).get("status")), (201, "pending"),
              "the previous settings stay")
        ok("keeping the old one" in d.log(), "the log says why", d.log())
        is_eq(d.stop(), 0, "exit 0")
    finally:
        d.cleanup()


BACKUP_SQLITE = ("commentctl backup and backup_dir copy SQLite files (on PostgreSQL backup "
                 "refuses and names pg_dump, and backup_dir fails the configuration "
                 "check: test_postgresql, test-config)")


def backup_and_restore():
    if not_on_engine("commentctl backup under concurrent writers, and the restore",
                     BACKUP_SQLITE):
        return
    d = Daemon({"threads": "2"})
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n):
        i = 0
        while not stop.is_set():
            try:
                r = d.comment("/backup/%d" % (i % 3), "writer %d comment %d" % (n, i),
                              email="w%d@example.org" % n)
            except OSError:
                return
            if r.status == 201:
                with lock:
                    acked.append(r.json()["id"])
            i += 1

    try:
        d.start()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        # Writers busy before the backup: wait for 20 acknowledgements.
        wait_until(lambda: len(acked) >= 20, 30)
        with lock:
            before = set(acked)
        dest = os.path.join(d.dir, "manual.db")
        t0 = time.monotonic()
        p = subprocess.run([COMMENTCTL, "backup", "--db", d.db, dest],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        took = time.monotonic() - t0
        # And after it began: a few more acknowledgements.
        wait_until(lambda: len(acked) >= len(before) + 5, 30)
        stop.set()
        for t in threads:
            t.join()
        with lock:
            after = set(acked) - before
        is_eq(p.returncode, 0, "commentctl backup under %d concurrent writers (%.2f s)"
              % (len(threads), took))
        ok(p.stdout.decode().strip() == dest, "it prints the path written", p.stdout)
        diag("%d comments acknowledged before the backup, %d after it began"
             % (len(before), len(after)))
        ok(len(before) >= 20 and len(after) >= 1, "writers were busy on both sides")
        is_eq(sqlite_query(dest, "PRAGMA integrity_check")[0][0], "ok",
              "the copy opens and passes integrity_check")
        is_eq(sqlite_query(dest, "PRAGMA journal_mode")[0][0], "delete",
              "the copy is a single file (journal_mode=delete)")
        is_eq(oct(os.stat(dest).st_mode & 0o777), "0o600", "the copy is mode 0600")
        in_copy = {r[0] for r in sqlite_query(dest, "SELECT id FROM comments")}
        missing = before - in_copy
        ok(not missing, "every comment acknowledged before the backup is in it (%d)"
           % len(before), "missing: %r" % sorted(missing)[:20])
        # Into a directory, with rotation.
        bdir = os.path.join(d.dir, "manual-backups")
        os.mkdir(bdir)
        for day in range(1, 6):
            open(os.path.join(bdir, "commentd-2001-01-%02d.db" % day), "w").close()
        p = subprocess.run([COMMENTCTL, "backup", "--db", d.db, "--keep", "2", bdir],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        is_eq((p.returncode, sorted(os.listdir(bdir))),
              (0, ["commentd-2001-01-05.db", today_name()]),
              "backup into a directory: today's name, --keep 2 rotates")
        p = subprocess.run([COMMENTCTL, "backup", "--db", os.path.join(d.dir, "nope.db"),
                            os.path.join(d.dir, "x.db")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(p.returncode == 1 and not os.path.exists(os.path.join(d.dir, "nope.db")),
           "a missing database: exit 1, nothing created", p.stderr)

        # Restore, as docs/install.md says: stop, move the old file and any
        # -wal/-shm away, put the copy in place (mode 0600), start.
        is_eq(d.stop(), 0, "stop commentd for the restore")
        aside = os.path.join(d.dir, "before-restore")
        os.mkdir(aside)
        for name in os.listdir(d.dir):
            if name.startswith("comments.db"):
                shutil.move(os.path.join(d.dir, name), aside)
        shutil.copyfile(dest, d.db)
        os.chmod(d.db, 0o600)
        d.start()
        want = dict(sqlite_query(dest, "SELECT t.path, count(*) FROM comments c JOIN threads t "
                                   "ON t.id = c.thread_id WHERE c.status = 'published' "
                                   "GROUP BY t.path"))
        r = d.post("/api/v1/counts", sorted(want))
        is_eq((r.status, r.json()), (200, want), "the restored database is served (counts)")
        ids = set()
        for path in want:
            ids |= {c["id"] for c in walk(d.thread_all(path)["comments"])}
        ok(before <= ids, "every comment acknowledged before the backup is served again")
        r = d.comment("/backup/0", "after the restore")
        is_eq(r.status, 201, "and it takes new comments")
        is_eq(d.stop(), 0, "exit 0")
    finally:
        stop.set()
        d.cleanup()


def old_database_upgrades():
    if not_on_engine("a schema-1 database is migrated at start",
                     "SQLite's schema history: PostgreSQL's (schema/pg) begins at 0001 "
                     "with SQLite's 0017, no older PostgreSQL database exists"):
        return
    d = Daemon()
    try:
        with open(os.path.join(SOURCE_ROOT, "schema", "0001-comments.sql")) as f:
            v1 = f.read()
        con = db_connect(d.db)
        con.executescript(v1)
        con.execute("PRAGMA user_version=1")
        con.execute("INSERT INTO threads (id, path, created) VALUES (1, '/old', 1300000000)")
        con.execute("INSERT INTO comments (id, thread_id, root_id, depth, created, status, "
                    "author, text, html, avatar) VALUES (1, 1, 1, 1, 1300000000, 'published', "
                    "'Old Timer', 'from 2011', '<p>from 2011</p>', 'a1')")
        con.commit()
        con.close()
        d.start()
        n = len([f for f in os.listdir(os.path.join(SOURCE_ROOT, "schema"))
                 if f.endswith(".sql")])
        r = d.thread("/old")
        cs = r.json().get("comments", []) if r.status == 200 else []
        ok(r.status == 200 and len(cs) == 1 and cs[0].get("author") == "Old Timer"
           and "from 2011" in cs[0].get("html", ""),
           "a schema-1 database is migrated at start and its comment served", r)
        h = d.get("/api/v1/health")
        is_eq((h.status, (h.json() or {}).get("schema")), (200, n), "health: schema %d" % n)
        is_eq(sqlite_query(d.db, "PRAGMA user_version")[0][0], n, "user_version is %d" % n)
        ok("applying migration" in d.log(), "the log names the migrations applied", d.log())
        is_eq(d.stop(), 0, "exit 0")
    finally:
        d.cleanup()


def daily_backup():
    if not_on_engine("backup_dir: the daily backup and its rotation", BACKUP_SQLITE):
        return
    d = Daemon()
    bdir = os.path.join(d.dir, "backups")
    try:
        os.mkdir(bdir, 0o700)
        for day in range(1, 6):
            open(os.path.join(bdir, "commentd-2000-01-%02d.db" % day), "w").close()
        open(os.path.join(bdir, "keep-me.txt"), "w").close()
        d.write_config({"backup_dir": bdir, "backup_keep": "3"})
        d.start()
        path = os.path.join(bdir, today_name())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not os.path.exists(path):
            time.sleep(0.05)
        if not ok(os.path.exists(path), "backup_dir set: today's backup appears after start",
                  d.log()):
            return
        want = ["commentd-2000-01-04.db", "commentd-2000-01-05.db", today_name(), "keep-me.txt"]
        # The rotation follows the copy.
        wait_until(lambda: sorted(os.listdir(bdir)) == want, 15)
        is_eq(sqlite_query(path, "PRAGMA integrity_check")[0][0], "ok", "it passes integrity_check")
        is_eq(sorted(os.listdir(bdir)), want,
              "backup_keep 3: the oldest are deleted, other files stay")
        ok("backup: wrote" in d.log(), "the log says so", d.log())
        mtime = os.stat(path).st_mtime_ns
        is_eq(d.stop(), 0, "exit 0")
        # One more old file: the restarted daemon's maintenance pass rotates
        # it (and the oldest) away, which shows that the pass has run.
        open(os.path.join(bdir, "commentd-2000-01-06.db"), "w").close()
        d.start()
        ok(wait_until(lambda: not os.path.exists(
            os.path.join(bdir, "commentd-2000-01-04.db")), 15),
           "after a restart the maintenance pass runs (rotation)", d.log())
        is_eq(os.stat(path).st_mtime_ns, mtime, "a restart the same day takes no second copy")
        is_eq(d.stop(), 0, "exit 0")
    finally:
        d.cleanup()


def example_config():
    d = Daemon()
    try:
        conf = os.path.join(SOURCE_ROOT, "docs", "commentd.conf.example")
        # The example is a SQLite deployment (its backup_dir copies SQLite
        # files): checked with a SQLite file on both engines' runs.
        db = os.path.join(d.dir, "example.db")
        p = subprocess.run([COMMENTD, "-n", "--config", conf, "--key", d.key, "--db", db],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok(p.returncode == 0 and b"configuration OK" in p.stdout,
           "docs/commentd.conf.example is a valid configuration", p.stdout.decode())
        # As packaged: key = secret.key names the systemd credential, and
        # commentctl run by hand finds it next to the configuration file.
        etc = os.path.join(d.dir, "etc")
        os.mkdir(etc)
        shutil.copy(d.key, os.path.join(etc, "secret.key"))
        with open(conf) as src, open(os.path.join(etc, "commentd.conf"), "w") as dst:
            for line in src:
                dst.write("db = %s\n" % db if line.startswith("db =") else line)
        p = subprocess.run([COMMENTCTL, "token", "create", "--config",
                            os.path.join(etc, "commentd.conf"), "--name", "marieke"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")
        ok(p.returncode == 0 and b"created" in p.stdout,
           "commentctl --config with the packaged key = secret.key finds the key beside it",
           p.stdout.decode())
    finally:
        d.cleanup()


def command_line_settings():
    """At most 64 settings on the command line (--key and --db count): the 65th
    is an error, never dropped."""
    d = Daemon()
    try:
        base = [COMMENTD, "-n", "--key", d.key, "--db", d.db]
        sets = []
        for i in range(62):
            sets += ["--set", "max_links=%d" % (i + 1)]
        p = subprocess.run(base + sets, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok(p.returncode == 0 and b"max_links = 62" in p.stdout,
           "64 settings apply in order (the last wins)", p.stdout.decode()[-400:])
        p = subprocess.run(base + sets + ["--set", "max_links=65"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        ok(p.returncode == 2 and b"at most 64" in p.stdout,
           "a 65th --set is a usage error that says why", p.stdout.decode()[-400:])
        p = subprocess.run(base + ["--set", "nonsense"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        ok(p.returncode == 2 and b"NAME=VALUE" in p.stdout, "--set without '=' is refused",
           p.stdout.decode()[-400:])
    finally:
        d.cleanup()


def main():
    command_line_settings()
    socket_activate()
    sigterm_slow_request()
    sighup_reload()
    backup_and_restore()
    old_database_upgrades()
    daily_backup()
    example_config()
    done()


if __name__ == "__main__":
    main()
