#!/usr/bin/env python3
"""A million comments on one machine: commentd against a realistic database
(prints figures; not a test).

usage: bench/scale.py [--engine sqlite|postgresql] [--db URI] [--cache DIR]
                      [--comments N] [--threads N] [--big N] [--learn N]
                      [--commentd PATH] [--commentctl PATH] [--openloop PATH]
                      [--post-runs N] [--post-seconds S] [--mixed-seconds S]
                      [--rate GET,POST,COUNTS] [--only STEP ...] [--quick] [--json FILE]

Build a release binary first (the open-loop client is built with it):
  meson setup build-bench -Dbuildtype=release && ninja -C build-bench

The database (bench/scale_data.py: 1,000,000 comments over 20,000 threads
on three sites, one thread of 50,000, replies, five years of history, a
classifier learned from 8,000 moderated comments through `commentctl
learn`) is generated once into the cache directory (default
$XDG_CACHE_HOME/commentd-bench, else ~/.cache/commentd-bench) and reused
while the generator, its parameters and schema/ are unchanged; each run
works on a fresh copy.  Steps (--only picks some):

  generate  only make sure the data set is in the cache
  startup   commentd started on the copy: time to READY=1, to the first
            GET answered, to the first POST answered (the classifier's
            model loaded), CPU and RSS at each point
  reads     first page of the 50,000-comment thread and of 200 other
            threads, each cold (first read) and warm; counts of 100 threads
  post      POST with classification, one at a time (latency)
  admin     the moderation queue, the newest comments, searches (a rare
            word, a common word, an author's name), a privacy erase
  posts     wrk at saturation: POST alone (--post-runs runs), GET alone,
            counts alone
  mixed     GET, POST and counts at once for --mixed-seconds (three wrk
            clients at saturation)
  openloop  the same mix at a constant offered rate below saturation
            (--rate, default 5000,200,1000 per second) for --mixed-seconds,
            from bench/openloop (sends on schedule whether or not answers
            came back; latency from the scheduled time); with --front
            nginx through Debian's nginx running docs/nginx.conf (plain
            HTTP on loopback), which keeps thread answers for a second
  explain   EXPLAIN QUERY PLAN of the hot statements (read from lib/*.c)

and at the end the database size (per table and index), RSS (now and
peak), the daemon's log volume, the load average and the daemon's CPU time.

Engines: --engine sqlite (default; --db is ignored, the copy is in a
temporary directory next to the cache) and --engine postgresql --db URI
(see class PostgresEngine: everything engine-specific lives in the engine
classes).
"""
import os
import sys

# bench/http.py sits beside this file: keep the directory off the module
# path so that the standard library's http package (used by the harness)
# is found; scale_data is loaded by path below.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402

ROOT = os.path.dirname(_HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
_spec = importlib.util.spec_from_file_location("scale_data", os.path.join(_HERE, "scale_data.py"))
scale_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scale_data)

TICK = os.sysconf("SC_CLK_TCK")
STEPS = ("generate", "startup", "reads", "post", "admin", "posts", "mixed", "openloop", "explain")
ORIGINS = {s[0]: "https://" + s[1] for s in scale_data.SITES}


def log(msg):
    sys.stderr.write("[scale %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ================================================================ engines

class SQLiteEngine:
    """The embedded default: one file.  The cache holds the generated
    database; every run copies it."""

    name = "sqlite"

    def __init__(self, args):
        self.args = args

    def cache_files(self, cache):
        return [os.path.join(cache, "comments.db")]

    def generate(self, cache, ds, ctl, key):
        """Writes the data set straight into a database that commentctl
        created (so the schema is the binary's own migrations)."""
        db = os.path.join(cache, "comments.db")
        token = run_ctl(ctl, "token", "create", "--db", db, "--key", key, "--name", "bench",
                        "--display-name", "Sjef").strip().splitlines()[-1]
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1048576")
        # --indexes grown (the default): the comments' indexes take the
        # rows one by one, as a live database's do, so a B-tree whose keys
        # arrive at random places (the e-mail hash, the thread) has its
        # pages split and about two thirds full.  --indexes packed builds
        # them once at the end (faster; every page full, a state commentd
        # never leaves a database in, and in which nearly every post
        # split a page of each such index: docs/performance.md).  The
        # triggers stay, so the threads' versions and the daily tally of
        # decisions are the daemon's own.
        indexes = []
        if self.args.indexes == "packed":
            indexes = con.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'index'"
                                  " AND tbl_name = 'comments' AND sql IS NOT NULL").fetchall()
        con.execute("BEGIN")
        for name, _ in indexes:
            con.execute('DROP INDEX "%s"' % name)
        con.executemany("INSERT INTO threads (id, site, path, created, title, url)"
                        " VALUES (?, ?, ?, ?, ?, ?)", ds.thread_rows())
        cols = scale_data.COMMENT_COLUMNS
        sql = "INSERT INTO comments (%s) VALUES (%s)" % (", ".join(cols),
                                                         ", ".join("?" * len(cols)))
        n = 0
        t0 = time.monotonic()
        batch = []
        for row in ds.comment_rows():
            batch.append(row)
            if len(batch) == 20000:
                con.executemany(sql, batch)
                n += len(batch)
                batch = []
                if n % 100000 == 0:
                    log("  %d comments (%.0f s)" % (n, time.monotonic() - t0))
        con.executemany(sql, batch)
        con.executemany("INSERT INTO audit (at, actor, action, comment_id, detail, reversal,"
                        " site) VALUES (?, ?, ?, ?, ?, ?, ?)", ds.audit_rows())
        if indexes:
            log("  indexing")
        for _, sql in indexes:
            con.execute(sql)
        con.execute("COMMIT")
        # What PRAGMA optimize would have gathered over the years.
        con.execute("ANALYZE")
        con.execute("PRAGMA journal_mode=WAL")
        con.close()
        return token

    def prepare(self, cache, run_dir):
        """A fresh copy of the cached database; returns the db setting."""
        db = os.path.join(run_dir, "comments.db")
        subprocess.run(["cp", "--reflink=auto", os.path.join(cache, "comments.db"), db],
                       check=True)
        os.chmod(db, 0o600)
        # A live database is not a file of a few GB written a moment ago:
        # unflushed, the copy would be written back while the daemon runs
        # (the kernel's writeback starts 30 s after the copy, during the
        # POST runs) and every fsync of the measured commits would queue
        # behind it, and the first checkpoint's fsync would flush it all.
        fd = os.open(db, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fd = os.open(run_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return db

    def size(self, db):
        out = {}
        for suffix in ("", "-wal", "-shm"):
            try:
                out["file" + suffix] = os.path.getsize(db + suffix)
            except OSError:
                out["file" + suffix] = 0
        return out

    def composition(self, db):
        """Bytes per table and index (the dbstat virtual table)."""
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            rows = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
                               " ORDER BY 2 DESC").fetchall()
        except sqlite3.Error as e:
            rows = [("(dbstat unavailable: %s)" % e, 0)]
        con.close()
        return rows

    def explain(self, db, statements):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        out = []
        for name, sql in statements:
            if sql.startswith("(not found"):
                out.append((name, sql, [sql]))
                continue
            params = re.findall(r"\?(\d*)", sql)
            n = max([int(x) for x in params if x] + [len([x for x in params if not x])])
            try:
                plan = [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, (None,) * n)]
            except sqlite3.Error as e:
                plan = ["(cannot explain: %s)" % e]
            out.append((name, sql, plan))
        con.close()
        return out

    def bump_thread(self, db, site, path):
        """One thread's version changes (its cached page is stale)."""
        con = sqlite3.connect(db, timeout=30)
        con.execute("UPDATE threads SET version = version + 1 WHERE site = ? AND path = ?",
                    (site, path))
        con.commit()
        con.close()

    def published_parents(self, db, paths, per_thread=5):
        """Some published comments of the given threads (site, path), as
        parents for replies."""
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        out = []
        for site, path in paths:
            ids = [r[0] for r in con.execute(
                "SELECT id FROM comments WHERE thread_id = (SELECT id FROM threads"
                " WHERE site = ? AND path = ?) AND status = 'published' AND depth < 5 LIMIT ?",
                (site, path, per_thread))]
            out.append(ids)
        con.close()
        return out


class PostgresEngine:
    """PostgreSQL (issue #21).  The data set is the SQLite cache copied once
    with `commentctl migrate-db` into a template database (the name of
    --db's database plus "_tpl", marked with the cache's name), so both
    engines serve the same rows; each run recreates --db's database from
    that template (CREATE DATABASE ... TEMPLATE: a file copy, seconds).
    Everything is read and changed through psql (Debian's
    postgresql-client), as an operator would."""

    name = "postgresql"

    def __init__(self, args):
        if not args.db or not args.db.startswith(("postgresql://", "postgres://")):
            raise SystemExit("--engine postgresql needs --db postgresql://...")
        if not shutil.which("psql"):
            raise SystemExit("--engine postgresql needs psql (postgresql-client)")
        self.args = args
        self.sqlite = SQLiteEngine(args)
        u = urllib.parse.urlsplit(args.db)
        self.dbname = u.path.lstrip("/")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", self.dbname or ""):
            raise SystemExit("--db: name the database in the URI's path ([a-z0-9_], e.g. /bench)")
        self.template = self.dbname + "_tpl"
        self.admin = urllib.parse.urlunsplit(u._replace(path="/postgres"))

    def psql(self, db, sql, rows=False):
        """Runs sql on db; with rows, the result as lists of fields."""
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                            "-d", db, "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        if rows:
            return [line.split("\t") for line in r.stdout.splitlines() if line]
        return r.stdout.strip()

    def cache_files(self, cache):
        return self.sqlite.cache_files(cache)

    def generate(self, cache, ds, ctl, key):
        return self.sqlite.generate(cache, ds, ctl, key)

    def prepare(self, cache, run_dir):
        """--db's database, fresh from the template (made when missing or
        made from another data set)."""
        mark = "commentd-bench " + os.path.basename(cache)
        got = self.psql(self.admin, "SELECT shobj_description(oid, 'pg_database') FROM"
                        " pg_database WHERE datname = %s" % pg_literal(self.template))
        if got != mark:
            log("copying the data set into PostgreSQL (%s, once per data set)" % self.template)
            self.psql(self.admin, "DROP DATABASE IF EXISTS %s" % self.template)
            self.psql(self.admin, "CREATE DATABASE %s" % self.template)
            tpl = urllib.parse.urlunsplit(
                urllib.parse.urlsplit(self.args.db)._replace(path="/" + self.template))
            t0 = time.monotonic()
            r = subprocess.run([self.args.commentctl, "migrate-db", "--from",
                                os.path.join(cache, "comments.db"), "--to", tpl])
            if r.returncode != 0:
                raise SystemExit("commentctl migrate-db failed")
            log("  migrated in %.0f s" % (time.monotonic() - t0))
            self.psql(tpl, "VACUUM ANALYZE")
            self.psql(self.admin, "COMMENT ON DATABASE %s IS %s" % (self.template,
                                                                   pg_literal(mark)))
        self.psql(self.admin, "DROP DATABASE IF EXISTS %s" % self.dbname)
        self.psql(self.admin, "CREATE DATABASE %s TEMPLATE %s" % (self.dbname, self.template))
        return self.args.db

    def size(self, db):
        return {"database": int(self.psql(db, "SELECT pg_database_size(current_database())"))}

    def composition(self, db):
        """Bytes per table (TOAST included) and index of the public schema."""
        rows = self.psql(db, "SELECT c.relname, pg_table_size(c.oid) FROM pg_class c"
                         " JOIN pg_namespace n ON n.oid = c.relnamespace"
                         " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
                         " ORDER BY 2 DESC", rows=True)
        return [(name, int(size)) for name, size in rows]

    def explain(self, db, statements):
        """The generic plan of each statement (the daemon prepares each once
        and runs it with many parameters): PREPARE, then EXPLAIN EXECUTE
        with plan_cache_mode = force_generic_plan and NULL parameters."""
        out = []
        for name, sql in statements:
            if sql.startswith("(not found"):
                out.append((name, sql, [sql]))
                continue
            text = re.sub(r"\?(\d+)", r"$\1", sql)
            n = max([int(x) for x in re.findall(r"\$(\d+)", text)] + [0])
            params = "(%s)" % ", ".join(["NULL"] * n) if n else ""
            try:
                plan = self.psql(db, "SET plan_cache_mode = force_generic_plan; PREPARE s AS %s;"
                                 " EXPLAIN EXECUTE s%s" % (text, params)).splitlines()
            except RuntimeError as e:
                plan = ["(cannot explain here: %s)" % str(e).splitlines()[0]]
            out.append((name, sql, plan))
        return out

    def bump_thread(self, db, site, path):
        self.psql(db, "UPDATE threads SET version = version + 1 WHERE site = %s AND path = %s"
                  % (pg_literal(site), pg_literal(path)))

    def published_parents(self, db, paths, per_thread=5):
        out = []
        for site, path in paths:
            rows = self.psql(db, "SELECT id FROM comments WHERE thread_id = (SELECT id FROM"
                             " threads WHERE site = %s AND path = %s) AND status = 'published'"
                             " AND depth < 5 LIMIT %d"
                             % (pg_literal(site), pg_literal(path), per_thread), rows=True)
            out.append([int(r[0]) for r in rows])
        return out


def pg_literal(s):
    """A PostgreSQL string literal (standard_conforming_strings is on)."""
    return "'" + s.replace("'", "''") + "'"


ENGINES = {"sqlite": SQLiteEngine, "postgresql": PostgresEngine}


# ================================================================ helpers

def run_ctl(ctl, *args):
    r = subprocess.run([ctl] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("commentctl %s failed:\n%s%s" % (" ".join(args[:2]), r.stdout, r.stderr))
    return r.stdout


def proc_stat(pid):
    """(cpu seconds, VmRSS KiB, VmHWM KiB) of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                mem[k] = int(v.split()[0])
    return cpu, mem


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPUs (%s), kernel %s" % (os.cpu_count(), model, platform.release())


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100.0))]


def summary(values):
    """p50 / p99 / max in milliseconds of a list of seconds."""
    return {"n": len(values), "p50_ms": 1000 * pct(values, 50), "p99_ms": 1000 * pct(values, 99),
            "max_ms": 1000 * max(values) if values else float("nan")}


class Client:
    """One keep-alive HTTP/1.1 connection; request() times one exchange."""

    def __init__(self, port, origin=None):
        self.port = port
        self.origin = origin
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, method, path, body=None, headers=None):
        if self.sock is None:
            self._connect()
        h = {"Host": "127.0.0.1:%d" % self.port}
        if self.origin:
            h["Origin"] = self.origin
        h.update(headers or {})
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
            h["Content-Length"] = str(len(data))
        req = ("%s %s HTTP/1.1\r\n" % (method, path) +
               "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n").encode() + data
        t0 = time.monotonic()
        self.sock.sendall(req)
        status, rh, rb = self._read()
        return status, rh, rb, time.monotonic() - t0

    def _read(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        rh = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            rh[k.strip().lower()] = v.strip()
        n = int(rh.get("content-length", "0"))
        while len(rest) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("connection closed")
            rest += chunk
        self.buf = rest[n:]
        if rh.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, rh, rest[:n]

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def cache_root(args):
    if args.cache:
        return args.cache
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "commentd-bench")


def dataset_key(args):
    """What the cached database depends on: the generator, its parameters
    and the migrations (the binary creates the schema from schema/)."""
    h = hashlib.sha256()
    params = [scale_data.GENERATOR_VERSION, args.comments, args.threads, args.big, args.learn,
              args.seed]
    if args.indexes != "packed":  # the packed data set keeps its earlier key
        params.append(args.indexes)
    h.update(json.dumps(params).encode())
    with open(os.path.join(_HERE, "scale_data.py"), "rb") as f:
        h.update(f.read())
    sdir = os.path.join(ROOT, "schema")
    # SQLite's migrations: the cache is a SQLite file (schema/pg/ is a
    # directory of PostgreSQL's, which a PostgreSQL run applies itself).
    for name in sorted(n for n in os.listdir(sdir) if n.endswith(".sql")):
        with open(os.path.join(sdir, name), "rb") as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()[:16]


def ensure_dataset(args, engine):
    """The cached data set's directory: manifest.json, secret.key and the
    engine's files; generated when missing."""
    cache = os.path.join(cache_root(args), "scale-%s" % dataset_key(args))
    manifest = os.path.join(cache, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            m = json.load(f)
        log("using the cached data set %s (generated %s)" % (
            cache, time.strftime("%Y-%m-%d %H:%M", time.localtime(m["generated"]))))
        return cache, m
    if os.path.exists(cache):
        shutil.rmtree(cache)
    os.makedirs(cache + ".tmp", exist_ok=True)
    tmp = cache + ".tmp"
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    key = os.path.join(tmp, "secret.key")
    subprocess.run([args.commentd, "--keygen", key], check=True, capture_output=True)
    with open(key, "rb") as f:
        master = f.read()
    t0 = time.monotonic()
    log("generating %d comments over %d threads (one of %d) into %s" % (
        args.comments, args.threads, args.big, tmp))
    ds = scale_data.Dataset(master, comments=args.comments, threads=args.threads,
                            big=args.big, seed=args.seed, learn=args.learn)
    log("  planned in %.0f s" % (time.monotonic() - t0))
    token = engine.generate(tmp, ds, args.commentctl, key)
    t_rows = time.monotonic() - t0
    spam = ds.extra_spam()
    t1 = time.monotonic()
    learned = {}
    for label, lines in (("spam", spam), ("ham", ds.learn_ham)):
        path = os.path.join(tmp, "learn-%s.jsonl" % label)
        with open(path, "w") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")
        log("  commentctl learn --%s (%d messages)" % (label, len(lines)))
        run_ctl(args.commentctl, "learn", "--db", os.path.join(tmp, "comments.db"),
                "--" + label, path)
        learned[label] = len(lines)
        os.unlink(path)
    t_learn = time.monotonic() - t1
    # The admin search's index (schema 0016): the daemon fills it behind
    # the comments; a data set starts with it whole, as a database does
    # that has been running.
    t2 = time.monotonic()
    log("  commentctl index")
    run_ctl(args.commentctl, "index", "--db", os.path.join(tmp, "comments.db"))
    log("  indexed in %.0f s" % (time.monotonic() - t2))
    threads = list(ds.thread_rows())
    sizes = {}
    for t, rows in enumerate(ds.plan.per_thread):
        sizes[t] = len(rows)
    popular = sorted(range(len(threads)), key=lambda t: -sizes[t])
    m = {
        "generated": int(time.time()),
        "now": ds.now,
        "params": {"comments": args.comments, "threads": args.threads, "big": args.big,
                   "learn": args.learn, "seed": args.seed},
        "seconds": {"rows": round(t_rows, 1), "learn": round(t_learn, 1)},
        "learned": learned,
        "token": token,
        "big_thread": [threads[0][1], threads[0][2]],
        "threads": [[r[1], r[2], sizes[i]] for i, r in enumerate(threads)],
        "popular": [t for t in popular[:2000]],
        "erase_email": ds.erase_email,
        "erase_count": ds.erase_count,
        "search": search_terms(ds),
        "statuses": count_statuses(ds),
    }
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(m, f)
    os.rename(tmp, cache)
    log("generated in %.0f s (rows %.0f s, learning %.0f s)" % (
        time.monotonic() - t0, t_rows, t_learn))
    return cache, m


def count_statuses(ds):
    out = {}
    for s in ds.comment_status.values():
        out[s] = out.get(s, 0) + 1
    return out


def search_terms(ds):
    """Words for the admin search: a rare one (in a few comments), a
    common one, and a commenter's name."""
    words = ds.words.words
    return {"rare": ds.texts.rare, "common": words[60], "author": ds.people.people[500][0]}


# ================================================================ daemon

def config_sections():
    lines = []
    for sid, host, _ in scale_data.SITES[1:]:
        lines += ["", "[site %s]" % sid, "origins = https://%s" % host]
    return "\n".join(lines) + "\n"


def make_daemon(harness, run_dir, db, extra):
    settings = {"db": db, "rate_limit": "0", "connections": "2048",
                "connections_per_client": "2048", "starter_model": "on",
                "min_submit_seconds": "0", "site_origins": ORIGINS["default"]}
    settings.update(extra)

    class ScaleDaemon(harness.Daemon):
        def write_config(self, s):
            super().write_config(s)
            with open(self.conf, "a") as f:
                f.write(config_sections())

    return ScaleDaemon(settings, directory=run_dir, keep_dir=True)


# ================================================================ measurements

def comment_body(rnd, words, thread, site, parent=None, seq=0):
    text = "%s #%d-%d" % (scale_data.comment_text(rnd, words), seq, rnd.randrange(10**9))
    body = {"thread": thread, "site": site, "author": "Lezer %d" % rnd.randrange(5000),
            "email": "lezer%d@example.nl" % rnd.randrange(5000), "text": text}
    if parent:
        body["parent"] = parent
    return body


def step_startup(d, m, out):
    """Start-up: READY, first GET, first POST."""
    t0 = time.monotonic()
    d.start(timeout=120)
    t_ready = time.monotonic() - t0
    pid = d.proc.pid
    cpu_ready, mem_ready = proc_stat(pid)
    site, path = m["threads"][m["popular"][5]][:2]
    c = Client(d.port, ORIGINS[site])
    st, _, _, t_get = c.request("GET", "/api/v1/comments?thread=%s&site=%s" % (path, site))
    t_first_get = time.monotonic() - t0
    rnd = random.Random(1)
    words = scale_data.Words(random.Random(5), 3000)
    st2, _, body, t_post = c.request("POST", "/api/v1/comments",
                                     comment_body(rnd, words, path, site))
    t_first_post = time.monotonic() - t0
    cpu_post, mem_post = proc_stat(pid)
    c.close()
    # The maintenance pass runs at start in the background: wait for it
    # to go quiet (CPU flat for 2 s) and count what it cost.
    last = cpu_post
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 2.0 and time.monotonic() - t0 < 120:
        time.sleep(0.25)
        cpu, _ = proc_stat(pid)
        if cpu - last > 0.02:
            quiet_since = time.monotonic()
        last = cpu
    cpu_idle, mem_idle = proc_stat(pid)
    out["startup"] = {
        "ready_s": t_ready, "first_get_s": t_first_get, "first_get_ms": 1000 * t_get,
        "first_post_s": t_first_post, "first_post_ms": 1000 * t_post,
        "get_status": st, "post_status": st2,
        "cpu_at_ready_s": cpu_ready, "cpu_after_first_post_s": cpu_post,
        "cpu_settled_s": cpu_idle, "rss_ready_kib": mem_ready["VmRSS"],
        "rss_after_post_kib": mem_post["VmRSS"], "rss_settled_kib": mem_idle["VmRSS"],
        "hwm_settled_kib": mem_idle["VmHWM"],
    }
    if st2 != 201:
        log("first POST answered %d: %r" % (st2, body[:300]))


def step_reads(d, m, engine, db, out):
    pid = d.proc.pid
    big_site, big_path = m["big_thread"]
    c = Client(d.port, ORIGINS[big_site])
    url = "/api/v1/comments?thread=%s&site=%s" % (big_path, big_site)
    # Cold for the big thread: its version bumped from outside before each
    # GET, so that nothing is cached.
    cold, cpu_cold = [], 0.0
    for _ in range(30):
        engine.bump_thread(db, big_site, big_path)
        cpu0, _ = proc_stat(pid)
        st, _, body, t = c.request("GET", url)
        cpu_cold += proc_stat(pid)[0] - cpu0
        cold.append(t)
    big_bytes = len(body)
    big_count = json.loads(body).get("count")
    warm = []
    for _ in range(300):
        st, _, body, t = c.request("GET", url)
        warm.append(t)
    c.close()
    # 200 other threads, popular and not, each read cold then warm.
    rnd = random.Random(3)
    picks = rnd.sample(range(1, len(m["threads"])), 200)
    tcold, twarm = [], []
    for t in picks:
        site, path, _ = m["threads"][t]
        c = Client(d.port, ORIGINS[site])
        u = "/api/v1/comments?thread=%s&site=%s" % (path, site)
        tcold.append(c.request("GET", u)[3])
        twarm.append(c.request("GET", u)[3])
        c.close()
    # Counts of 100 threads of the default site.
    default = [t for t in m["threads"] if t[0] == "default"]
    c = Client(d.port, ORIGINS["default"])
    counts = []
    for i in range(200):
        paths = [p for _, p, _ in rnd.sample(default, 100)]
        st, _, body, t = c.request("POST", "/api/v1/counts", paths)
        counts.append(t)
    c.close()
    out["reads"] = {
        "big_thread": {"comments": big_count, "answer_bytes": big_bytes,
                       "cold": summary(cold), "cold_cpu_ms": 1000 * cpu_cold / len(cold),
                       "warm": summary(warm)},
        "threads_cold": summary(tcold), "threads_warm": summary(twarm),
        "counts_100": summary(counts),
    }


def step_post(d, m, out, n=200):
    rnd = random.Random(11)
    words = scale_data.Words(random.Random(5), 3000)
    lat, codes = [], {}
    pid = d.proc.pid
    cpu0, _ = proc_stat(pid)
    for i in range(n):
        t = m["threads"][m["popular"][rnd.randrange(200)]]
        c = Client(d.port, ORIGINS[t[0]])
        st, _, _, dt = c.request("POST", "/api/v1/comments", comment_body(rnd, words, t[1], t[0],
                                                                         seq=i))
        c.close()
        lat.append(dt)
        codes[st] = codes.get(st, 0) + 1
    cpu = proc_stat(pid)[0] - cpu0
    out["post"] = dict(summary(lat), statuses=codes, cpu_ms=1000 * cpu / n)


def step_admin(d, m, out):
    auth = {"Authorization": "Bearer " + m["token"]}
    c = Client(d.port)
    res = {}

    def timed(name, path, n=10, method="GET", body=None):
        lat = []
        rows = None
        for _ in range(n):
            st, _, b, t = c.request(method, path, body=body, headers=auth)
            if st != 200:
                raise SystemExit("%s answered %d: %r" % (path, st, b[:300]))
            lat.append(t)
            j = json.loads(b)
            rows = len(j.get("comments", [])) if isinstance(j, dict) else None
        res[name] = dict(summary(lat), rows=rows)

    q = m["search"]
    timed("queue", "/api/v1/admin/comments?status=pending&limit=50")
    timed("newest", "/api/v1/admin/comments?limit=50")
    timed("spam_folder", "/api/v1/admin/comments?status=spam&limit=50")
    timed("search_rare", "/api/v1/admin/comments?limit=50&q=" + q["rare"], n=3)
    timed("search_common", "/api/v1/admin/comments?limit=50&q=" + q["common"], n=3)
    timed("search_author", "/api/v1/admin/comments?limit=50&q=" +
          q["author"].replace(" ", "%20"), n=3)
    timed("stats", "/api/v1/admin/stats", n=5)
    st, _, b, t = c.request("POST", "/api/v1/admin/privacy/erase",
                            body={"email": m["erase_email"]}, headers=auth)
    res["erase"] = {"ms": 1000 * t, "status": st, "answer": b[:200].decode("utf-8", "replace"),
                    "expected": m["erase_count"]}
    c.close()
    out["admin"] = res


# ---------------------------------------------------------------- wrk

# wrk prints one JSON line at the end of a run (shared with bench/http.py)
DONE_LUA = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk-done.lua")).read()


def lua_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def traffic(m, engine, db, seed=17):
    """What readers and posters ask for: threads by popularity (a post or
    a read of a thread is as likely as its share of comments), parents for
    replies, counts bodies of 20 threads (a blog's index page)."""
    rnd = random.Random(seed)
    threads = m["threads"]
    weights = [t[2] for t in threads]
    picks = rnd.choices(range(len(threads)), weights=weights, k=1000)
    gets = ["/api/v1/comments?thread=%s&site=%s" % (threads[i][1], threads[i][0])
            for i in picks]
    origins = [ORIGINS[threads[i][0]] for i in picks]
    post_threads = picks[:300]
    parents = engine.published_parents(db, [(threads[i][0], threads[i][1])
                                            for i in post_threads])
    default = [t[1] for t in threads if t[0] == "default"]
    counts = [json.dumps(rnd.sample(default, 20)) for _ in range(200)]
    return {"gets": gets, "get_origins": origins,
            "posts": [(threads[i][1], threads[i][0], parents[k])
                      for k, i in enumerate(post_threads)],
            "counts": counts}


def lua_get(tr):
    paths = ",\n".join("{%s, %s}" % (lua_string(p), lua_string(o))
                       for p, o in zip(tr["gets"], tr["get_origins"]))
    return r"""
local paths = {%s}
local i = 0
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  local p = paths[math.random(#paths)]
  return wrk.format("GET", p[1], {["Origin"] = p[2]})
end
""" % paths


def lua_counts(tr):
    bodies = ",\n".join(lua_string(b) for b in tr["counts"])
    return r"""
local bodies = {%s}
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  return wrk.format("POST", "/api/v1/counts", {["Content-Type"] = "application/json",
                    ["Origin"] = %s}, bodies[math.random(#bodies)])
end
""" % (bodies, lua_string(ORIGINS["default"]))


def lua_post(tr):
    words = scale_data.Words(random.Random(5), 3000).words[:400]
    targets = ",\n".join("{%s, %s, %s, {%s}}" % (lua_string(t), lua_string(s),
                                                 lua_string(ORIGINS[s]),
                                                 ",".join(str(p) for p in ps))
                         for t, s, ps in tr["posts"])
    return r"""
local targets = {%s}
local words = {%s}
local counter = 0
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  counter = counter + 1
  local t = targets[math.random(#targets)]
  local w = {}
  for i = 1, math.random(8, 40) do w[i] = words[math.random(#words)] end
  local parent = ""
  if #t[4] > 0 and math.random() < 0.4 then
    parent = string.format(',"parent":%%d', t[4][math.random(#t[4])])
  end
  local body = string.format(
    '{"thread":"%%s","site":"%%s","author":"Lezer %%d","email":"lezer%%d@example.nl",' ..
    '"text":"%%s #%%d-%%d"%%s}', t[1], t[2], math.random(5000), math.random(5000),
    table.concat(w, " "), counter, math.random(1, 1000000000), parent)
  return wrk.format("POST", "/api/v1/comments",
                    {["Content-Type"] = "application/json", ["Origin"] = t[3]}, body)
end
""" % (targets, ",".join(lua_string(w) for w in words))


def start_wrk(port, script, connections, seconds, threads=1):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(script + DONE_LUA)
    f.close()
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s",
           "-s", f.name, "http://127.0.0.1:%d/" % port]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.script_path = f.name
    return p


def finish_wrk(p):
    stdout, stderr = p.communicate()
    os.unlink(p.script_path)
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise SystemExit("wrk failed:\n%s\n%s" % (stdout, stderr))


class Sampler:
    """The daemon's RSS every 0.5 s while a load runs."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, proc_stat(self.pid)[1]["VmRSS"])
            except OSError:
                return
            self.stop.wait(0.5)

    def done(self):
        self.stop.set()
        self.t.join()
        return self.peak


def log_size(d):
    try:
        with open(d.log_path, "rb") as f:
            data = f.read()
        return len(data), data.count(b"\n")
    except OSError:
        return 0, 0


def log_problems(d):
    """The daemon's warnings and errors (journal priority <4> and more
    urgent): a maintenance job that fails at this size shows here."""
    try:
        with open(d.log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return [x for x in lines if len(x) > 2 and x[0] == "<" and x[1] in "01234"]


def log_merges(d):
    """The search index's block merges the daemon logged (lib/search.c:
    "search: merged N block(s) in T ms, the longest step L ms"): each step
    held the writers once."""
    try:
        with open(d.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return {"passes": 0, "blocks": 0, "longest_ms": 0}
    found = re.findall(r"search: merged (\d+) block\(s\) in \d+ ms, the longest(?: step)? (\d+) ms",
                       text)
    return {"passes": len(found), "blocks": sum(int(n) for n, _ in found),
            "longest_ms": max([int(x) for _, x in found] or [0])}


def step_posts(d, m, tr, args, out):
    port = d.port
    res = {"post_runs": []}
    for i in range(args.post_runs):
        cpu0 = proc_stat(d.proc.pid)[0]
        r = finish_wrk(start_wrk(port, lua_post(tr), args.post_connections, args.post_seconds, 2))
        # The daemon's CPU per post: a figure the machine's other load
        # changes much less than the rate.
        r["cpu_ms_per_post"] = (proc_stat(d.proc.pid)[0] - cpu0) * 1000 / max(r["requests"], 1)
        log("  POST run %d: %.0f/s p99 %.1f ms max %.1f ms, daemon CPU %.3f ms a post" % (
            i + 1, r["rps"], r["p99_ms"], r["max_ms"], r["cpu_ms_per_post"]))
        res["post_runs"].append(r)
    res["get"] = finish_wrk(start_wrk(port, lua_get(tr), 16, args.post_seconds, 2))
    res["counts"] = finish_wrk(start_wrk(port, lua_counts(tr), 8, args.post_seconds, 2))
    out["posts"] = res


def step_mixed(d, m, tr, args, out):
    pid = d.proc.pid
    sampler = Sampler(pid)
    lb0 = log_size(d)
    cpu0, _ = proc_stat(pid)
    s = args.mixed_seconds
    ps = [start_wrk(d.port, lua_get(tr), 16, s), start_wrk(d.port, lua_post(tr), 8, s),
          start_wrk(d.port, lua_counts(tr), 4, s)]
    res = dict(zip(("get", "post", "counts"), (finish_wrk(p) for p in ps)))
    lb1 = log_size(d)
    res["rss_peak_kib"] = sampler.done()
    res["cpu_s"] = proc_stat(pid)[0] - cpu0
    res["log_bytes_per_s"] = (lb1[0] - lb0[0]) / s
    res["log_lines_per_s"] = (lb1[1] - lb0[1]) / s
    out["mixed"] = res


def openloop_files(tr, run_dir):
    """Request files for bench/openloop: raw requests separated by NUL;
    {{SEQ}} is replaced by a 10-digit sequence number."""
    files = {}
    host = "Host: 127.0.0.1\r\n"
    with open(os.path.join(run_dir, "get.req"), "wb") as f:
        f.write(b"\0".join(("GET %s HTTP/1.1\r\n%sOrigin: %s\r\n\r\n" % (p, host, o)).encode()
                           for p, o in zip(tr["gets"], tr["get_origins"])))
    files["get"] = f.name
    with open(os.path.join(run_dir, "counts.req"), "wb") as f:
        f.write(b"\0".join(("POST /api/v1/counts HTTP/1.1\r\n%sOrigin: %s\r\nContent-Type: "
                            "application/json\r\nContent-Length: %d\r\n\r\n%s" % (
                                host, ORIGINS["default"], len(b.encode()), b)).encode()
                           for b in tr["counts"]))
    files["counts"] = f.name
    rnd = random.Random(23)
    words = scale_data.Words(random.Random(5), 3000)
    reqs = []
    for k in range(1000):
        t, s, ps = tr["posts"][rnd.randrange(len(tr["posts"]))]
        body = comment_body(rnd, words, t, s, rnd.choice(ps) if ps and rnd.random() < 0.4
                            else None)
        body["text"] += " {{SEQ}}"
        b = json.dumps(body)
        reqs.append(("POST /api/v1/comments HTTP/1.1\r\n%sOrigin: %s\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\n\r\n%s" % (
                         host, ORIGINS[s], len(b.encode()) - len("{{SEQ}}") + 10, b)).encode())
    with open(os.path.join(run_dir, "post.req"), "wb") as f:
        f.write(b"\0".join(reqs))
    files["post"] = f.name
    return files


class NginxFront:
    """Debian's nginx with the documented site (docs/nginx.conf) in front of
    the daemon, for the open-loop step (--front nginx): the same file with
    plain HTTP on a loopback port instead of TLS (the load generator speaks
    no TLS), and every path in a temporary folder of its own."""

    def __init__(self, upstream_port, front_tools):
        # Not in the run directory: its parents may be closed to nginx's
        # workers (user nobody when the benchmark runs as root).
        self.dir = tempfile.mkdtemp(prefix="commentd-scale-nginx-")
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "www"))
        self.port, redirect = front_tools.free_port(), front_tools.free_port()
        with open(os.path.join(_HERE, "..", "docs", "nginx.conf")) as f:
            site = f.read()
        for old, new in (("listen 443 ssl http2;", "listen 127.0.0.1:%d;" % self.port),
                         ("listen 80;", "listen 127.0.0.1:%d;" % redirect),
                         ("/var/www/blog", os.path.join(self.dir, "www")),
                         ("/var/cache/nginx-commentd", os.path.join(self.dir, "cache")),
                         ("http://127.0.0.1:8080", "http://127.0.0.1:%d" % upstream_port)):
            if old not in site:
                raise SystemExit("docs/nginx.conf no longer has %r" % old)
            site = site.replace(old, new)
        site = "\n".join(l for l in site.splitlines()
                         if not re.match(r"\s*(ssl_|listen \[::\])", l))
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        t = self.dir
        with open(os.path.join(t, "nginx.conf"), "w") as f:
            f.write("""daemon off;
worker_processes auto;
worker_rlimit_nofile 16384;
pid %(t)s/nginx.pid;
error_log %(t)s/error.log warn;
events { worker_connections 8192; }
http {
    sendfile on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
%(temp)s    include %(t)s/site.conf;
}
""" % {"t": t, "temp": front_tools.nginx_temp_paths(t)})
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", t + "/", "-c", os.path.join(t, "nginx.conf"),
                                      "-e", os.path.join(t, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("nginx did not start: see %s/error.log" % t)

    def cpu(self):
        """CPU seconds of nginx's master and workers so far."""
        total = 0.0
        for pid in [self.proc.pid] + children(self.proc.pid):
            try:
                total += proc_stat(pid)[0]
            except OSError:
                pass
        return total

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def children(pid):
    """The child processes of pid (nginx's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def step_openloop(d, m, tr, args, run_dir, out, front_tools):
    if not os.path.exists(args.openloop):
        raise SystemExit("%s is missing (ninja -C build-bench builds bench/openloop)"
                         % args.openloop)
    files = openloop_files(tr, run_dir)
    rates = dict(zip(("get", "post", "counts"), args.rate))
    pid = d.proc.pid
    front = NginxFront(d.port, front_tools) if args.front == "nginx" else None
    cmd = [args.openloop, "--port", str(front.port if front else d.port)]
    for k in ("get", "post", "counts"):
        cmd += ["--kind", "%s:%d:%s" % (k, rates[k], files[k])]
    try:
        if args.warmup:
            # The same load first, not measured: the first read of each
            # thread builds its page from a cold database (and, through
            # nginx, fills its copies); the figures are then the steady state.
            r = subprocess.run(cmd + ["--seconds", str(args.warmup)], capture_output=True,
                               text=True)
            if r.returncode != 0:
                raise SystemExit("openloop failed:\n%s%s" % (r.stdout, r.stderr))
        sampler = Sampler(pid)
        lb0 = log_size(d)
        cpu0, _ = proc_stat(pid)
        front_cpu0 = front.cpu() if front else 0.0
        r = subprocess.run(cmd + ["--seconds", str(args.mixed_seconds)], capture_output=True,
                           text=True)
        front_cpu = front.cpu() - front_cpu0 if front else 0.0
    finally:
        if front:
            front.stop()
    if r.returncode != 0:
        raise SystemExit("openloop failed:\n%s%s" % (r.stdout, r.stderr))
    res = {}
    for line in r.stdout.splitlines():
        if line.startswith("OPENLOOP "):
            j = json.loads(line[9:])
            res[j["kind"]] = j
    lb1 = log_size(d)
    res["rss_peak_kib"] = sampler.done()
    res["cpu_s"] = proc_stat(pid)[0] - cpu0
    res["log_bytes_per_s"] = (lb1[0] - lb0[0]) / args.mixed_seconds
    res["log_lines_per_s"] = (lb1[1] - lb0[1]) / args.mixed_seconds
    res["rates"] = rates
    res["front"] = args.front
    res["warmup_s"] = args.warmup
    if front:
        res["front_cpu_s"] = front_cpu
    out["openloop"] = res


# ---------------------------------------------------------------- explain

HOT = (  # (name, variable in lib/*.c)
    ("thread version (every GET)", "comment.c", "sql_thread_version"),
    ("thread id", "comment.c", "sql_thread_id"),
    ("a page's thread: id and count", "comment.c", "sql_thread_head"),
    ("next top-level comment", "comment.c", "sql_next_root"),
    ("a top-level comment's rows", "comment.c", "sql_root_rows"),
    ("counts (every path in one statement)", "comment.c", "sql_count_paths"),
    ("reply's parent", "comment.c", "sql_parent"),
    ("admin list (every status) and search", "moderation.c", "sql_list"),
    ("admin list of one status (the queue)", "moderation.c", "sql_list_status"),
    ("admin search: the tail (newer than the index)", "moderation.c", "sql_search_tail"),
    ("admin search: one block's candidates", "search.c", "sql_candidates"),
    ("admin search: a candidate", "moderation.c", "sql_search_row"),
    ("privacy: comments of an address", "moderation.c", "sql_ids_by_email"),
    ("moderation = first", "comment.c", "sql_previously_approved"),
    ("retention: old addresses", "moderation.c", "sql_old_ips"),
    ("retention: old e-mail domains", "moderation.c", "sql_old_domains"),
    ("retention: bare tombstones", "moderation.c", "sql_bare_tombstones"),
    ("classifier prune", "classify.c", "sql_prune"),
)


def c_strings(path):
    """The static SQL strings of a C file: {name: text}, with the string
    macros (#define NAME "..." ...) it uses expanded."""
    with open(path) as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    macros = {}
    for mm in re.finditer(r"#define\s+(\w+)\s+((?:[^\n]*\\\n)*[^\n]*)", src):
        body = mm.group(2).replace("\\\n", " ")
        if '"' in body:
            macros[mm.group(1)] = body

    def expand(expr, depth=0):
        parts = []
        for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]*)', expr):
            if tok.group(1) is not None:
                parts.append(bytes(tok.group(1), "utf-8").decode("unicode_escape"))
            elif tok.group(2) in macros and depth < 5:
                parts.append(expand(macros[tok.group(2)], depth + 1))
        return "".join(parts)

    out = {}
    for mm in re.finditer(r"static const char (\w+)\[\]\s*=\s*(.*?);", src, flags=re.S):
        out[mm.group(1)] = expand(mm.group(2))
    # A struct store_sql: SQLite's text, then PostgreSQL's (lib/store.h).
    for mm in re.finditer(r"static const struct store_sql (\w+)\s*=\s*\{(.*?)\};", src,
                          flags=re.S):
        halves = re.split(r'"\s*,\s*(?="|[A-Z_])', mm.group(2), maxsplit=1)
        if len(halves) == 2:
            out[mm.group(1)] = {"sqlite": expand(halves[0] + '"'),
                                "postgresql": expand(halves[1])}
    return out


def hot_statements(engine):
    files = {}
    out = []
    for name, f, var in HOT:
        if f not in files:
            files[f] = c_strings(os.path.join(ROOT, "lib", f))
        if var in files[f]:
            text = files[f][var]
            if isinstance(text, dict):
                text = text[engine]
            # '@': a block's table (lib/search.h); the first block's.
            out.append((name, text.replace("@", "search_b0")))
        else:
            out.append((name, "(not found: %s in lib/%s)" % (var, f)))
    return out


# ================================================================ report

def ms(x):
    return "%.1f" % x if x == x else "-"


def report(out, args):
    p = print
    p("commentd at scale (bench/scale.py): %s, engine %s" % (machine(), out["engine"]))
    ds = out["dataset"]
    p("data set: %s comments, %s threads (largest %s), statuses %s; generated in %s s "
      "(rows %s s, learning %s s); classifier learned %s" % (
          ds["params"]["comments"], ds["params"]["threads"], ds["params"]["big"],
          ds["statuses"], ds["seconds"]["rows"] + ds["seconds"]["learn"], ds["seconds"]["rows"],
          ds["seconds"]["learn"], ds["learned"]))
    p("load average (1 min) at start %.2f, at end %.2f; this run took %.0f s" % (
        out["load"][0], out["load"][1], out["wall_s"]))
    if "startup" in out:
        s = out["startup"]
        p("\nstart-up: READY after %.3f s; first GET answered %.3f s after start (%.1f ms); "
          "first POST %.3f s after start (%.1f ms: the classifier's model loaded)" % (
              s["ready_s"], s["first_get_s"], s["first_get_ms"], s["first_post_s"],
              s["first_post_ms"]))
        p("  daemon CPU: %.2f s at READY, %.2f s after the first POST, %.2f s once the start-up "
          "maintenance pass was done; RSS %.1f / %.1f / %.1f MiB" % (
              s["cpu_at_ready_s"], s["cpu_after_first_post_s"], s["cpu_settled_s"],
              s["rss_ready_kib"] / 1024, s["rss_after_post_kib"] / 1024,
              s["rss_settled_kib"] / 1024))
    if "reads" in out:
        r = out["reads"]
        b = r["big_thread"]
        p("\nreads (one client, keep-alive; ms p50 / p99 / max):")
        p("  first page of the %s-comment thread (%d bytes): cold %s / %s / %s (CPU %.2f ms), "
          "warm %s / %s / %s" % (b["comments"], b["answer_bytes"], ms(b["cold"]["p50_ms"]),
                                 ms(b["cold"]["p99_ms"]), ms(b["cold"]["max_ms"]),
                                 b["cold_cpu_ms"], ms(b["warm"]["p50_ms"]),
                                 ms(b["warm"]["p99_ms"]), ms(b["warm"]["max_ms"])))
        for k, label in (("threads_cold", "200 other threads, cold"),
                         ("threads_warm", "the same, warm"),
                         ("counts_100", "counts of 100 threads")):
            p("  %s: %s / %s / %s" % (label, ms(r[k]["p50_ms"]), ms(r[k]["p99_ms"]),
                                      ms(r[k]["max_ms"])))
    if "post" in out:
        r = out["post"]
        p("\nPOST with classification, one at a time: p50 %s ms, p99 %s ms, max %s ms; "
          "daemon CPU %.2f ms per POST; answers %s" % (ms(r["p50_ms"]), ms(r["p99_ms"]),
                                                       ms(r["max_ms"]), r["cpu_ms"],
                                                       r["statuses"]))
    if "admin" in out:
        p("\nadmin (ms p50 / max, rows):")
        for k, v in out["admin"].items():
            if k == "erase":
                p("  privacy erase of a commenter with %d comments: %.0f ms, %d %s" % (
                    v["expected"], v["ms"], v["status"], v["answer"]))
            else:
                p("  %-14s %8s / %8s  %s" % (k, ms(v["p50_ms"]), ms(v["max_ms"]), v["rows"]))
    if "posts" in out:
        r = out["posts"]
        p("\nwrk at saturation (%d s each):" % args.post_seconds)
        ok = 0
        for i, x in enumerate(r["post_runs"]):
            good = x["rps"] >= 2000 and x["p99_ms"] < 20
            ok += good
            p("  POST run %2d: %7.0f req/s  p50 %6.2f  p99 %7.2f  max %8.1f ms  errors %d %s" % (
                i + 1, x["rps"], x["p50_ms"], x["p99_ms"], x["max_ms"],
                x["non2xx"] + x["socket_errors"], "" if good else "(misses the target)"))
        p("  POST runs meeting >= 2,000/s with p99 < 20 ms: %d of %d" % (ok, len(r["post_runs"])))
        for k in ("get", "counts"):
            x = r[k]
            p("  %-6s      %7.0f req/s  p50 %6.2f  p99 %7.2f  max %8.1f ms  errors %d" % (
                k.upper(), x["rps"], x["p50_ms"], x["p99_ms"], x["max_ms"],
                x["non2xx"] + x["socket_errors"]))
    if "mixed" in out:
        r = out["mixed"]
        p("\nmixed at saturation for %d s (wrk GET -c16, POST -c8, counts -c4 at once):"
          % args.mixed_seconds)
        for k in ("get", "post", "counts"):
            x = r[k]
            p("  %-6s %7.0f req/s  p50 %6.2f  p99 %7.2f  max %8.1f ms  errors %d" % (
                k, x["rps"], x["p50_ms"], x["p99_ms"], x["max_ms"],
                x["non2xx"] + x["socket_errors"]))
        p("  daemon CPU %.0f s; RSS peak %.1f MiB; log %.0f lines/s (%.0f bytes/s)" % (
            r["cpu_s"], r["rss_peak_kib"] / 1024, r["log_lines_per_s"], r["log_bytes_per_s"]))
    if "openloop" in out:
        r = out["openloop"]
        p("\nconstant offered rate for %d s (open loop, latency from the scheduled send)%s:"
          % (args.mixed_seconds, (", through nginx (docs/nginx.conf)" if r.get("front") == "nginx"
                                   else "") + (", after %d s of the same load" % r["warmup_s"]
                                               if r.get("warmup_s") else "")))
        for k in ("get", "post", "counts"):
            x = r[k]
            p("  %-6s offered %5d/s sent %8d done %8d  p50 %6.2f  p99 %7.2f  p99.9 %7.2f  "
              "max %8.1f ms  non-2xx %d errors %d late %d" % (
                  k, r["rates"][k], x["sent"], x["done"], x["p50_ms"], x["p99_ms"],
                  x["p999_ms"], x["max_ms"], x["non2xx"], x["errors"], x["late"]))
        p("  daemon CPU %.0f s; RSS peak %.1f MiB; log %.0f lines/s (%.0f bytes/s)" % (
            r["cpu_s"], r["rss_peak_kib"] / 1024, r["log_lines_per_s"], r["log_bytes_per_s"]))
        if "front_cpu_s" in r:
            p("  nginx CPU %.0f s" % r["front_cpu_s"])
    if "explain" in out:
        p("\nEXPLAIN QUERY PLAN of the hot statements:")
        for name, sql, plan in out["explain"]:
            p("  %s:" % name)
            for line in plan:
                p("      " + line)
    if "end" in out:
        e = out["end"]
        p("\nat the end: RSS %.1f MiB, peak (VmHWM) %.1f MiB; daemon CPU %.0f s; database %s" % (
            e["rss_kib"] / 1024, e["hwm_kib"] / 1024, e["cpu_s"],
            ", ".join("%s %.1f MiB" % (k, v / 2**20) for k, v in e["size"].items())))
        p("  largest tables and indexes: " + ", ".join(
            "%s %.0f MiB" % (n, (b or 0) / 2**20) for n, b in e["composition"][:12]))
        p("  log: %d lines, %d bytes in all" % (e["log_lines"], e["log_bytes"]))
        problems = e.get("log_problems", [])
        p("  warnings and errors in the log: %s" % (len(problems) or "none"))
        mg = e.get("search_merges")
        if mg and mg["passes"]:
            p("  search index merges logged: %d blocks in %d passes, the longest step %d ms"
              % (mg["blocks"], mg["passes"], mg["longest_ms"]))
        for line in problems[:20]:
            p("    " + line)


# ================================================================ main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    build = os.path.join(ROOT, "build-bench")
    ap.add_argument("--engine", choices=sorted(ENGINES), default="sqlite")
    ap.add_argument("--db", help="the database (postgresql://... for --engine postgresql)")
    ap.add_argument("--cache", help="where the generated data set is kept")
    ap.add_argument("--commentd", default=os.path.join(build, "daemon", "commentd"))
    ap.add_argument("--commentctl", default=os.path.join(build, "ctl", "commentctl"))
    ap.add_argument("--openloop", default=os.path.join(build, "bench", "openloop"))
    ap.add_argument("--comments", type=int, default=1000000)
    ap.add_argument("--threads", type=int, default=20000)
    ap.add_argument("--big", type=int, default=50000)
    ap.add_argument("--learn", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=2011)
    ap.add_argument("--indexes", choices=("grown", "packed"), default="grown",
                    help="the comments' indexes take the rows one by one as in a live "
                         "database (grown), or are built at the end with every page "
                         "full (packed, faster to generate)")
    ap.add_argument("--post-runs", type=int, default=10)
    ap.add_argument("--post-seconds", type=int, default=10)
    ap.add_argument("--post-connections", type=int, default=16)
    ap.add_argument("--mixed-seconds", type=int, default=180)
    ap.add_argument("--rate", default="5000,200,1000",
                    help="GET,POST,COUNTS per second for the open-loop step")
    ap.add_argument("--warmup", type=int, default=0, metavar="S",
                    help="run the open-loop load S seconds before measuring it")
    ap.add_argument("--front", choices=("none", "nginx"), default="none",
                    help="the open-loop step through nginx with docs/nginx.conf "
                         "(the daemon then trusts 127.0.0.1 as its proxy)")
    ap.add_argument("--only", nargs="*", choices=STEPS)
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 3 POST runs of 3 s, 20 s of mixed load")
    ap.add_argument("--daemon-set", action="append", default=[], metavar="NAME=VALUE",
                    help="a daemon setting for this run (repeatable)")
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    args = ap.parse_args()
    args.rate = [int(x) for x in args.rate.split(",")]
    if args.quick:
        args.post_runs, args.post_seconds, args.mixed_seconds = 3, 3, 20
    for a in ("commentd", "commentctl"):
        if not os.path.exists(getattr(args, a)):
            raise SystemExit("%s is missing; build it first:\n  meson setup build-bench "
                             "-Dbuildtype=release && ninja -C build-bench" % getattr(args, a))
    return args


def main():
    args = parse_args()
    engine = ENGINES[args.engine](args)
    os.environ["COMMENTD"] = os.path.abspath(args.commentd)
    import harness  # noqa: E402 (reads COMMENTD)
    import frontproxy  # noqa: E402 (bench's nginx shares its helpers)
    harness.COMMENTD = os.environ["COMMENTD"]
    t_start = time.monotonic()
    steps = args.only or list(STEPS)
    cache, m = ensure_dataset(args, engine)
    if steps == ["generate"]:
        return
    out = {"engine": engine.name, "dataset": m, "args": vars(args)}
    out["load"] = [os.getloadavg()[0], None]
    run_dir = tempfile.mkdtemp(prefix="commentd-scale-", dir=os.path.dirname(cache))
    d = None
    try:
        shutil.copy(os.path.join(cache, "secret.key"), os.path.join(run_dir, "secret.key"))
        log("copying the database for this run")
        db = engine.prepare(cache, run_dir)
        extra = dict(kv.split("=", 1) for kv in args.daemon_set)
        if args.front == "nginx":
            extra.setdefault("trusted_proxies", "127.0.0.1")
        d = make_daemon(harness, run_dir, db, extra)
        log("starting commentd")
        step_startup(d, m, out)
        tr = traffic(m, engine, db)
        if "reads" in steps:
            log("reads")
            step_reads(d, m, engine, db, out)
        if "post" in steps:
            log("POST one at a time")
            step_post(d, m, out)
        if "admin" in steps:
            log("admin")
            step_admin(d, m, out)
        if "posts" in steps:
            log("wrk at saturation")
            step_posts(d, m, tr, args, out)
        if "mixed" in steps:
            log("mixed load at saturation for %d s" % args.mixed_seconds)
            step_mixed(d, m, tr, args, out)
        if "openloop" in steps:
            log("mixed load at a constant rate for %d s" % args.mixed_seconds)
            step_openloop(d, m, tr, args, run_dir, out, frontproxy)
        cpu, mem = proc_stat(d.proc.pid)
        lb = log_size(d)
        problems = log_problems(d)
        t_stop = time.monotonic()
        rc = d.stop()
        t_stop = time.monotonic() - t_stop
        log("stopped in %.2f s (exit status %s)" % (t_stop, rc))
        out["end"] = {"rss_kib": mem["VmRSS"], "hwm_kib": mem["VmHWM"], "cpu_s": cpu,
                      "stop_s": round(t_stop, 3), "stop_status": rc,
                      "size": engine.size(db), "composition": engine.composition(db),
                      "log_bytes": lb[0], "log_lines": lb[1], "log_problems": problems,
                      "search_merges": log_merges(d)}
        if "explain" in steps:
            out["explain"] = engine.explain(db, hot_statements(engine.name))
    finally:
        if d is not None:
            d.cleanup()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    out["load"][1] = os.getloadavg()[0]
    out["wall_s"] = time.monotonic() - t_start
    report(out, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    print("JSON " + json.dumps({k: v for k, v in out.items() if k not in ("dataset", "args")},
                               default=str))


if __name__ == "__main__":
    main()
