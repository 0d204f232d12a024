#!/usr/bin/env python3
"""The admin search and the erasure on PostgreSQL at a million comments
(prints figures; not a test).

usage: bench/pg_search.py [--runs N] [--posts N] [--keep-server]
                          [bench/scale.py's options: --cache DIR, --comments N, ...]

Uses bench/scale.py's data set (generated into its cache when missing;
--cache as for scale.py) and release build (build-bench).  A throwaway
PostgreSQL server (tests/pgserver.py, shared_buffers raised to 256 MB) gets
the schema from commentctl (schema/pg/) and the data set's threads,
comments, admin tokens, status counts, daily decisions and the classifier's
ledger and tokens by COPY from the cached SQLite file (the
comments' triggers and the pg_trgm indexes off during the copy, the
indexes built after it; `commentctl migrate-db` is the general tool once
it exists).  Then commentd runs on it and this measures:
  search    the admin search (GET /api/v1/admin/comments?q=) for a rare
            word, the rare word in upper case, a common word, an author's
            name, a string no comment holds and a two-letter string (no
            trigram: no index), --runs times each (every run printed),
            and the plan PostgreSQL chose for each (auto_explain)
  erase     the privacy erasure of the data set's commenter with the most
            comments (with the plain VACUUM of the tables it owes a
            compaction) while a client POSTs one comment after another:
            its time, and the POSTs' latency during it
  compact   `commentctl compact` (VACUUM FULL of the owed tables) while
            the client POSTs: its time and the longest POST (what the lock
            held a writer)
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402

ROOT = os.path.dirname(_HERE)
TABLES = ("threads", "comments", "admin_tokens", "admin_token_sites", "status_counts",
          "decided_daily", "classifier_learned", "classifier_tokens")


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def csv_field(v):
    """A SQLite value as a field of COPY's CSV with NULL '\\N': NULL
    unquoted, text and bytea (hex) quoted, so an empty string is no NULL."""
    if v is None:
        return "\\N"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, bytes):
        v = "\\x" + v.hex()
    return '"' + v.replace('"', '""') + '"'


def copy_table(pg, dbname, lite, table):
    """COPY one table from the SQLite file into PostgreSQL (same columns)."""
    pg_cols = pg.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                      "information_schema.columns WHERE table_name = '%s'" % table,
                      dbname).strip().split(",")
    lite_cols = {r[1] for r in lite.execute("PRAGMA table_info(%s)" % table)}
    cols = [c for c in pg_cols if c in lite_cols]
    p = subprocess.Popen([os.path.join(pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                          "-d", pg.uri(dbname), "-c",
                          "COPY %s (%s) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                          % (table, ",".join(cols))], stdin=subprocess.PIPE)
    n = 0
    with io.TextIOWrapper(p.stdin, encoding="utf-8") as out:
        for row in lite.execute("SELECT %s FROM %s ORDER BY 1" % (",".join(cols), table)):
            out.write(",".join(csv_field(v) for v in row) + "\n")
            n += 1
    if p.wait() != 0:
        raise SystemExit("COPY %s failed" % table)
    return n


def load(pg, dbname, sqlite_path):
    """The data set's tables into dbname; prints what it took."""
    lite = sqlite3.connect("file:%s?mode=ro" % sqlite_path, uri=True)
    trgm = pg.psql("SELECT string_agg(indexdef, ';') FROM pg_indexes WHERE indexname LIKE "
                   "'%_trgm'", dbname).strip()
    names = re.findall(r"INDEX (\w+) ON", trgm)
    pg.psql("DROP INDEX %s" % ", ".join(names), dbname)
    for t in TABLES:
        pg.psql("ALTER TABLE %s DISABLE TRIGGER ALL" % t, dbname)
    t0 = time.monotonic()
    for t in TABLES:
        n = copy_table(pg, dbname, lite, t)
        print("load   %-18s %8d rows (%.0f s so far)" % (t, n, time.monotonic() - t0))
    for t in TABLES:
        pg.psql("ALTER TABLE %s ENABLE TRIGGER ALL" % t, dbname)
    pg.psql("SELECT setval(pg_get_serial_sequence('comments', 'id'), max(id)) FROM comments;"
            "SELECT setval(pg_get_serial_sequence('threads', 'id'), max(id)) FROM threads",
            dbname)
    t1 = time.monotonic()
    pg.psql("SET maintenance_work_mem = '512MB'; " + trgm, dbname)
    t2 = time.monotonic()
    pg.psql("ANALYZE", dbname)
    sizes = pg.psql("SELECT string_agg(relname || ' ' || pg_size_pretty(pg_relation_size(oid)),"
                    " ', ') FROM pg_class WHERE relname IN ('comments', %s)"
                    % ", ".join("'%s'" % n for n in names), dbname).strip()
    print("load   copied in %.0f s; the pg_trgm indexes built in %.0f s; sizes: %s" % (
        t1 - t0, t2 - t1, sizes))
    lite.close()


def searches(scale, d, m, runs):
    auth = {"Authorization": "Bearer " + m["token"]}
    q = m["search"]
    cases = [("rare", q["rare"]), ("RARE", q["rare"].upper()), ("common", q["common"]),
             ("author", q["author"]), ("none", "zqxjvw"), ("short", q["common"][:2])]
    c = scale.Client(d.port)
    for name, text in cases:
        times, count = [], 0
        for _ in range(runs):
            st, _, b, t = c.request("GET", "/api/v1/admin/comments?limit=50&q=" +
                                    urllib.parse.quote(text), headers=auth)
            if st != 200:
                raise SystemExit("search answered %d: %r" % (st, b[:200]))
            count = b.count(b'"thread":')
            times.append(1000 * t)
        print("search %-6s %-14r %2d found; ms: %s (median %.1f)" % (
            name, text, count, " ".join("%.1f" % x for x in times), scale.pct(times, 50)))
    c.close()


def plans(log_text):
    """The search statements' plans auto_explain logged: the query's
    pattern, the sort and every scan (which index)."""
    seen = set()
    for block in log_text.split("LOG:  duration:")[1:]:
        if "~~*" not in block or "Limit" not in block:
            continue
        pattern = re.search(r"~~\* '([^']*)'", block)
        nodes = [re.sub(r"\s*\(cost=.*", "", ln.strip().lstrip("->").strip())
                 for ln in block.splitlines()
                 if re.search(r"Scan|Sort  |Sort$|Sort \(", ln) and "Key" not in ln]
        key = "%s: %s" % (pattern.group(1) if pattern else "?", " / ".join(nodes))
        if key not in seen:
            seen.add(key)
            print("plan   " + key)


def with_poster(search_mod, scale, d, m, what, fn):
    """Runs fn() while a client POSTs; prints fn's time and the POSTs'."""
    lat, stop = [], threading.Event()
    th = threading.Thread(target=search_mod.poster, args=(scale, d, m, stop, lat, 12))
    th.start()
    time.sleep(1)
    before = len(lat)
    t0 = time.monotonic()
    result = fn()
    took = time.monotonic() - t0
    during = lat[before:]
    stop.set()
    th.join()
    print("%-6s %s in %.0f ms; %d POSTs during it: p50 %.1f ms, the longest %s" % (
        what, result, 1000 * took, len(during), scale.pct(during, 50) if during else 0,
        " ".join("%.0f" % x for x in sorted(during)[-3:])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--keep-server", action="store_true",
                    help="leave the PostgreSQL directory (and server) for inspection")
    args, rest = ap.parse_known_args()
    search_mod = load_module("search_bench", os.path.join(_HERE, "search.py"))
    pgserver = load_module("pgserver", os.path.join(ROOT, "tests", "pgserver.py"))
    scale, harness, sargs, _, cache, m, run_dir = search_mod.setup(rest, "commentd-pgsearch-")
    pg = pgserver.PgServer()
    d = None
    try:
        pg.start()
        pg.psql("ALTER SYSTEM SET shared_buffers = '256MB'")
        pg.stop_server()
        pg.start_server()
        uri = pg.new_database("bench")
        scale.run_ctl(sargs.commentctl, "index", "--db", uri)  # migrates
        load(pg, "bench", os.path.join(cache, "comments.db"))
        pg.psql("ALTER DATABASE bench SET session_preload_libraries = 'auto_explain'; "
                "ALTER DATABASE bench SET auto_explain.log_min_duration = 0")
        shutil.copy(os.path.join(cache, "secret.key"), os.path.join(run_dir, "secret.key"))
        d = scale.make_daemon(harness, run_dir, uri, {})
        d.start(timeout=120)
        print("load average %.2f before the searches" % os.getloadavg()[0])
        searches(scale, d, m, args.runs)
        plans(pg.log())
        # auto_explain off again (a plan logged for every statement would
        # slow the erasure down): new sessions, so a new daemon.
        d.stop()
        d.cleanup()
        pg.psql("ALTER DATABASE bench RESET ALL")
        d = scale.make_daemon(harness, run_dir, uri, {})
        d.start(timeout=120)

        def erase():
            c = scale.Client(d.port)
            st, _, b, _ = c.request("POST", "/api/v1/admin/privacy/erase",
                                    body={"email": m["erase_email"]},
                                    headers={"Authorization": "Bearer " + m["token"]})
            c.close()
            return "%d %s" % (st, b[:40].decode("utf-8", "replace"))

        with_poster(search_mod, scale, d, m, "erase", erase)
        print("owed   %s" % pg.psql("SELECT string_agg(tbl, ',') FROM compact_pending",
                                    "bench").strip())
        t0 = time.monotonic()
        pg.psql("VACUUM comments, audit, classifier_learned", "bench")
        print("vacuum a plain VACUUM of the three again (what the erasure ran after its "
              "commit): %.0f ms" % (1000 * (time.monotonic() - t0)))

        def compact():
            r = subprocess.run([sargs.commentctl, "compact", "--db", uri], capture_output=True,
                               text=True)
            return (r.stdout + r.stderr).strip().replace("\n", " | ")

        with_poster(search_mod, scale, d, m, "compact", compact)
        d.stop()
        for line in d.log().splitlines():
            if line.startswith(("<3>", "<4>")) or "compact" in line:
                print("log    " + line.strip())
    finally:
        if d is not None:
            d.cleanup()
        shutil.rmtree(run_dir, ignore_errors=True)
        if not args.keep_server:
            pg.stop()
        else:
            print("server kept: %s (port %d)" % (pg.dir, pg.port))
    print("load average %.2f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
