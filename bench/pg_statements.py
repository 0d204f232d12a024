#!/usr/bin/env python3
"""How many SQL statements (each a round trip to the server) commentd runs
on PostgreSQL for one admin request: the moderation queue, the newest
comments, the spam folder, a search and the stats (prints figures; not a
test).

usage: bench/pg_statements.py [--comments N] [--runs N] [--timed N] [--show NAME]
                              [--sqlite] [--writes]

A throwaway PostgreSQL server (tests/pgserver.py) gets a database that a
commentd of this build (BUILD_ROOT, default build/) fills with N comments
over HTTP (moderation = all: every one pending), and a moderator's token.
The database is then set to log every statement with its duration on the
server (log_min_duration_statement = 0) and
the daemon restarted, so that its connections log; each request is made
--runs times and the statements the server logged while it ran are
counted (the smallest count of the runs: the daemon's own background
work, which may log in a window, only adds).  --show NAME prints the
statements of one run of that request with their server time.  Before the logging is turned on,
each request's median time over --timed runs, and the median round trip
of one trivial statement (pgbench, SELECT 1 over TCP on loopback): what a
statement fewer saves at the least.  --sqlite: the same requests' times on
SQLite (the same data, made the same way), to compare.

--writes: then the all-or-nothing writes (store_begin_whole), for three of
the seven writers in turn (each timed, with the daemon's CPU time in it):
a bulk approval of all the writer's comments
(each learned by the classifier: its tokens' counts written) and the
privacy erasure of the writer (each comment's learning forgotten, the
comment removed, its audit rows unlinked), each timed and, on
PostgreSQL, counted the same way (savepoints and their releases among
them).
"""
import os
import sys

# bench/http.py would shadow the standard library's http (the harness's).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(_HERE)
BUILD = os.environ.get("BUILD_ROOT", os.path.join(ROOT, "build"))
os.environ.setdefault("COMMENTD", os.path.join(BUILD, "daemon", "commentd"))
os.environ.setdefault("COMMENTCTL", os.path.join(BUILD, "ctl", "commentctl"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pgserver  # noqa: E402
from harness import COMMENTCTL, Daemon  # noqa: E402

REQUESTS = [
    ("queue", "/api/v1/admin/comments?status=pending&limit=50"),
    ("newest", "/api/v1/admin/comments?limit=50"),
    ("spam_folder", "/api/v1/admin/comments?status=spam&limit=50"),
    ("search", "/api/v1/admin/comments?limit=50&q=comment"),
    ("stats", "/api/v1/admin/stats"),
]
# log_min_duration_statement = 0: "duration: 0.123 ms  execute <name>: SQL"
# ("statement: SQL" for the simple protocol), after the statement's
# "duration: ... bind <name>: SQL" line (the bind is where a prepared
# statement with parameters is planned) and, the first time on a
# connection, its "parse" line.
STATEMENT = re.compile(r"LOG:  duration: ([0-9.]+) ms  (statement|execute|bind|parse)[^:]*:\s*(.*)")


def statements(log):
    """(server ms of its parse, bind and execution, SQL) of each statement logged."""
    out, pending = [], 0.0
    for m in STATEMENT.finditer(log):
        if m.group(2) in ("bind", "parse"):
            pending += float(m.group(1))
        else:
            out.append((pending + float(m.group(1)), m.group(3)))
            pending = 0.0
    return out


def timed(d, hdr, runs):
    print("median time of a request (ms, %d runs, after one unmeasured):" % runs)
    for name, path in REQUESTS:
        d.request("GET", path, headers=hdr)
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            d.request("GET", path, headers=hdr)
            t.append((time.perf_counter() - t0) * 1000)
        t.sort()
        print("  %-12s %7.2f" % (name, t[len(t) // 2]))


def round_trip(pg):
    script = os.path.join(pg.dir, "select1.sql")
    with open(script, "w") as f:
        f.write("SELECT 1;\n")
    os.chmod(script, 0o644)
    out = subprocess.run([os.path.join(pg.bin, "pgbench"), "-n", "-t", "2000", "-f", script,
                          pg.uri("bench")], capture_output=True, text=True)
    m = re.search(r"latency average = ([0-9.]+) ms", out.stdout)
    print("one statement's round trip (pgbench SELECT 1, mean of 2000): %s ms"
          % (m.group(1) if m else "? " + out.stderr[-200:]))


def fill(d, db, n):
    """Starts d, posts n comments and makes a moderator's token: its header."""
    d.start()
    for i in range(n):
        r = d.comment("/post/%d/" % (i % 10), "A comment to moderate, number %d" % i,
                      email="writer%d@example.org" % (i % 7))
        if r.status != 202 and r.status != 201:
            sys.exit("post %d: %d %s" % (i, r.status, r.body[:200]))
    tok = subprocess.run([COMMENTCTL, "token", "create", "--db", db, "--key", d.key, "--name",
                          "bench"], capture_output=True, text=True, check=True).stdout.strip()
    return {"Authorization": "Bearer " + tok}


def writer_ids(pg, db, k):
    """The ids of writer k's comments (fill's number i % 7 == k), from the
    PostgreSQL server pg or the SQLite file db."""
    if pg is None:
        import sqlite3
        with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as lite:
            rows = lite.execute("SELECT id, text FROM comments ORDER BY id").fetchall()
        return [i for i, t in rows if int(re.search(r"number ([0-9]+)", t).group(1)) % 7 == k]
    out = pg.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM comments WHERE"
                  " (substring(text from 'number ([0-9]+)'))::int %% 7 = %d" % k, "bench")
    return [int(x) for x in out.strip().split(",") if x]


def cpu_ms(pid):
    """The CPU time (user + system) process pid has used, in ms (/proc:
    10 ms steps)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def counted(pg, d, what, path, body, hdr):
    """Runs one POST, prints its time, the daemon's CPU time in it and
    (PostgreSQL) its statements and the savepoints among them."""
    before = len(pg.log()) if pg else 0
    c0 = cpu_ms(d.proc.pid)
    t0 = time.perf_counter()
    r = d.request("POST", path, body=body, headers=hdr)
    ms = (time.perf_counter() - t0) * 1000
    cpu = cpu_ms(d.proc.pid) - c0
    if r.status != 200:
        sys.exit("%s: %d %s" % (what, r.status, r.body[:200]))
    if pg is None:
        print("  %-22s %.0f ms; daemon CPU %.0f ms" % (what, ms, cpu))
        return
    time.sleep(0.5)
    got = statements(pg.log()[before:])
    sp = sum(1 for _, sql in got if re.match(r"(SAVEPOINT|RELEASE|ROLLBACK TO)\b", sql))
    print("  %-22s %5d statements, %5d of them SAVEPOINT/RELEASE; server time %.1f ms;"
          " %.0f ms in all; daemon CPU %.0f ms" % (what, len(got), sp, sum(m for m, _ in got),
                                                 ms, cpu))


def writes(pg, d, hdr):
    print("all-or-nothing writes on %s:" % ("PostgreSQL (statements logged by the server)"
                                            if pg else "SQLite"))
    for k in range(3):
        ids = writer_ids(pg, d.db, k)
        counted(pg, d, "approve %d (bulk)" % len(ids), "/api/v1/admin/comments/bulk",
                {"action": "approve", "ids": ids}, hdr)
        counted(pg, d, "erase %d" % len(ids), "/api/v1/admin/privacy/erase",
                {"email": "writer%d@example.org" % k}, hdr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--comments", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timed", type=int, default=50)
    ap.add_argument("--show", default=None)
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--writes", action="store_true")
    args = ap.parse_args()
    if args.sqlite:
        d = Daemon(config={"moderation": "all"})
        try:
            hdr = fill(d, d.db, args.comments)
            timed(d, hdr, args.timed)
            if args.writes:
                writes(None, d, hdr)
        finally:
            d.cleanup()
        return
    pgserver.stop_on_sigterm()
    with pgserver.PgServer() as pg:
        uri = pg.new_database("bench")
        d = Daemon(config={"db": uri, "moderation": "all"})
        try:
            hdr = fill(d, uri, args.comments)
            timed(d, hdr, args.timed)
            round_trip(pg)
            d.stop()
            pg.psql("ALTER DATABASE bench SET log_min_duration_statement = 0")
            d.start()
            print("statements a request runs on PostgreSQL (%d comments, min of %d runs):"
                  % (args.comments, args.runs))
            for name, path in REQUESTS:
                counts = []
                shown = None
                for _ in range(args.runs):
                    before = len(pg.log())
                    r = d.request("GET", path, headers=hdr)
                    if r.status != 200:
                        sys.exit("%s: %d %s" % (name, r.status, r.body[:200]))
                    time.sleep(0.2)
                    got = statements(pg.log()[before:])
                    counts.append(len(got))
                    if shown is None or len(got) < len(shown):
                        shown = got
                print("  %-12s %3d  (runs: %s; server time of the fewest: %.2f ms)"
                      % (name, min(counts), " ".join(map(str, counts)),
                         sum(ms for ms, _ in shown)))
                if args.show == name:
                    for ms, sql in shown:
                        print("      %7.3f ms  %s" % (ms, sql[:140]))
            if args.writes:
                writes(pg, d, hdr)
        finally:
            d.cleanup()


if __name__ == "__main__":
    main()
