#!/usr/bin/env python3
"""commentd on PostgreSQL (work in progress, docs/postgresql-port.md): the
daemon with a postgresql:// db setting against a throwaway postgresql-15
(tests/pgserver.py) posts a comment and a reply and reads them back, keeps
the address only as a hash, never logs the URI's password, answers while
the server is down without crashing, and reconnects once it is back (a
restart: what a client sees of a failover)."""
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
    return done()


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
