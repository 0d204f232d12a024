#!/usr/bin/env python3
"""commentd on PostgreSQL (docs/postgresql-port.md): the
daemon with a postgresql:// db setting against a throwaway postgresql-15
(tests/pgserver.py) posts a comment and a reply and reads them back, keeps
the address only as a hash, never logs the URI's password, answers while
the server is down without crashing, and reconnects once it is back (a
restart: what a client sees of a failover); a privacy erase owes its
tables a compaction, which `commentctl compact` and the maintenance task in
compact_hour pay (the erased text then in no file of the database)."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, Daemon, done, is_eq, ok, pg_server  # noqa: E402

EMAIL = "marieke@example.nl"
PASSWORD = "hunter2-not-logged"


def main():
    with pg_server() as pg:
        pg.new_database("commentd")
        # Trust authentication: the password is never asked for, but it
        # is in the setting, which the daemon logs.
        uri = pg.uri("commentd").replace("commentd@", "commentd:%s@" % PASSWORD, 1)
        with Daemon({"db": uri, "min_submit_seconds": "0"}) as d:
            run(pg, d)
            backup(d, uri)
            compact(pg, d)
            with open(d.key, "rb") as f:
                key = f.read()
        # The maintenance task pays the debts in compact_hour: this hour.
        # (The same key file: a node with another one refuses to start.)
        hour = time.localtime().tm_hour
        node = tempfile.mkdtemp(prefix="commentd-test-")
        with open(os.path.join(node, "secret.key"), "wb") as f:
            f.write(key)
        os.chmod(os.path.join(node, "secret.key"), 0o600)
        with Daemon({"db": uri, "compact_hour": str(hour), "maintenance_interval": "10"},
                    directory=node) as d:
            compact_hour(pg, d)
    return done()


def owed(pg):
    return pg.psql("SELECT coalesce(string_agg(tbl, ',' ORDER BY tbl), '') FROM "
                   "compact_pending", "commentd").strip()


def in_files(pg, needle):
    """The files of the database that hold needle (after a CHECKPOINT)."""
    pg.psql("CHECKPOINT", "commentd")
    base = os.path.join(pg.dir, "data", pg.psql(
        "SELECT 'base/' || oid FROM pg_database WHERE datname = 'commentd'").strip())
    found = []
    for name in os.listdir(base):
        with open(os.path.join(base, name), "rb") as f:
            if needle.encode() in f.read():
                found.append(name)
    return found


def compact(pg, d):
    """A privacy erase owes its tables a compaction; commentctl compact
    (VACUUM FULL) pays it, warning that it locks them, and the erased
    text is in no file of the database after it."""
    secret = "Eerste reactie, opgeslagen"
    ok(in_files(pg, secret), "the text to erase is in the database's files (the check sees it)")
    r = subprocess.run([COMMENTCTL, "privacy", "erase", "--config", d.conf, "--email", EMAIL],
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 0 and '"erased": 1' in r.stdout, "commentctl privacy erase", r.stderr)
    is_eq(owed(pg), "audit,classifier_learned,comments", "the erasure owes its tables a compaction")
    r = subprocess.run([COMMENTCTL, "compact", "--config", d.conf], capture_output=True,
                       text=True, timeout=120)
    is_eq((r.returncode, r.stdout.strip(), "locked" in r.stderr), (0, '{"compacted": 3}', True),
          "commentctl compact rewrites three tables and warns that it locks them")
    is_eq(owed(pg), "", "  and pays the debts")
    is_eq(in_files(pg, secret), [], "the erased text is in no file of the database")
    r = subprocess.run([COMMENTCTL, "compact", "--config", d.conf], capture_output=True,
                       text=True, timeout=60)
    is_eq((r.returncode, r.stdout.strip(), r.stderr), (0, '{"compacted": 0}', ""),
          "again: nothing owed, nothing locked, no warning")


def compact_hour(pg, d):
    """The daemon's maintenance task compacts in compact_hour."""
    r = d.comment("/pg2", "Tekst die het onderhoud wegpoetst.", author="Noor",
                  email="noor@example.nl")
    is_eq(r.status, 201, "a comment")
    r = subprocess.run([COMMENTCTL, "privacy", "erase", "--config", d.conf, "--email",
                        "noor@example.nl"], capture_output=True, text=True, timeout=60)
    ok(r.returncode == 0 and '"erased": 1' in r.stdout, "erased", r.stderr)
    ok(owed(pg) != "", "owed")
    deadline = time.monotonic() + 60
    while owed(pg) and time.monotonic() < deadline:
        time.sleep(0.5)
    is_eq(owed(pg), "", "the maintenance pass in compact_hour paid it")
    ok("compacted 3 table(s)" in d.log(), "  and logged it", d.log()[-600:])
    is_eq(in_files(pg, "wegpoetst"), [], "  the erased text is in no file of the database")


def backup(d, uri):
    """commentctl backup copies SQLite files: on PostgreSQL it refuses,
    says what to use instead, writes nothing and does not show the
    password."""
    with tempfile.TemporaryDirectory() as dest:
        r = subprocess.run([COMMENTCTL, "backup", "--config", d.conf, dest],
                           capture_output=True, text=True, timeout=60)
        ok(r.returncode != 0 and "pg_dump" in r.stderr,
           "commentctl backup on PostgreSQL refuses and names pg_dump", r.stderr[:400])
        is_eq(os.listdir(dest), [], "  and writes nothing")
        ok(PASSWORD not in r.stdout + r.stderr, "  nor shows the password")


def run(pg, d):
    r = d.comment("/pg", "Eerste reactie, opgeslagen in PostgreSQL.", author="Marieke",
                  email=EMAIL)
    is_eq(r.status, 201, "a comment posts")
    first = (r.json() or {}).get("id")
    r = d.comment("/pg", "Een antwoord daarop.", author="Sjef", parent=first)
    is_eq(r.status, 201, "a reply posts")
    t = d.thread("/pg").json() or {}
    is_eq(t.get("count"), 2, "the thread counts both")
    top = (t.get("comments") or [{}])[0]
    ok(top.get("id") == first and "PostgreSQL" in top.get("html", "")
       and len(top.get("replies") or []) == 1, "the thread reads them back, the reply nested",
       repr(t)[:400])
    rows = pg.psql("SELECT count(*), count(email_hash) FROM comments", "commentd").strip()
    is_eq(rows, "2|2", "the rows are in PostgreSQL, each with an e-mail hash")
    clear = pg.psql("SELECT count(*) FROM comments c WHERE c::text LIKE '%%%s%%'" % EMAIL,
                    "commentd").strip()
    is_eq(clear, "0", "no row holds the e-mail address in clear")
    log = d.log()
    ok(PASSWORD not in log and "commentd:***@(1 host)/commentd" in log,
       "the log names the database without its password or address", log[:600])

    pg.stop_server()
    r = d.thread("/pg")
    ok(r.status >= 500, "the server down: a thread read fails (%d), not an empty thread"
       % r.status)
    r = d.comment("/pg", "Terwijl de database weg is.", author="Kees")
    ok(r.status == 503, "the server down: a post is refused with 503 (%d)" % r.status,
       repr(r))
    ok(d.proc.poll() is None, "the daemon keeps running")

    pg.start_server()
    time.sleep(1.2)  # reconnections are tried at most once a second
    t = d.thread("/pg").json() or {}
    is_eq(t.get("count"), 2, "the server back: the thread reads again")
    r = d.comment("/pg", "Weer terug.", author="Kees")
    is_eq(r.status, 201, "the server back: a post is stored again")
    is_eq(pg.psql("SELECT count(*) FROM comments", "commentd").strip(), "3",
          "and is in PostgreSQL")


if __name__ == "__main__":
    sys.exit(main())
