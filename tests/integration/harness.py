"""Test harness: starts the real commentd on an ephemeral loopback port.

The daemon is started the way systemd starts it: the test binds a listening
socket on 127.0.0.1 port 0, hands it over as fd 3 with LISTEN_FDS/LISTEN_PID,
and waits for READY=1 on its own NOTIFY_SOCKET.  No sleeps, no port races.
Output is TAP.  Only the Python standard library is used.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

COMMENTD = os.environ.get("COMMENTD", "commentd")
COMMENTCTL = os.environ.get("COMMENTCTL", "commentctl")
SOURCE_ROOT = os.environ.get(
    "SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)

_count = 0
_failed = 0

# Under CI a missing test dependency is a failure, not a skip.
IN_CI = bool(os.environ.get("CI"))

# COMMENTD_TEST_LOG_LEVEL=debug runs every daemon of a test with that
# log_level (meson test --setup debug-log); the log privacy check at
# cleanup then sees everything the daemon can log.
LOG_LEVEL = os.environ.get("COMMENTD_TEST_LOG_LEVEL", "")


def tap_escape(text):
    """A TAP-safe one-line rendering: control characters (and the Unicode
    line breaks Python splits on) as \\xNN / \\uNNNN, so a name can neither
    start a new line nor smuggle terminal escapes."""
    out = []
    for ch in str(text):
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
            out.append("\\x%02x" % o)
        elif o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out)


def ok(cond, name, detail=None):
    """Prints one TAP line; returns cond.  '#' in a name is escaped, so a
    name can never turn into a SKIP or TODO directive."""
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    name = tap_escape(name).replace("#", "\\#")
    print(("ok" if cond else "not ok") + " %d - %s" % (_count, name))
    if not cond and detail is not None:
        for line in str(detail).splitlines()[:40]:
            print("#   " + tap_escape(line))
    sys.stdout.flush()
    return cond


def is_eq(got, want, name):
    return ok(got == want, name, "got %r, want %r" % (got, want))


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + tap_escape(line))
    sys.stdout.flush()


def skip(name, reason):
    """One check that cannot run here: a TAP SKIP, or under CI a failure
    (CI installs every dependency; a skip there hides a missing one)."""
    global _count, _failed
    _count += 1
    if IN_CI:
        _failed += 1
        print("not ok %d - %s (cannot run under CI: %s)" % (
            _count, tap_escape(name).replace("#", "\\#"), tap_escape(reason)))
    else:
        print("ok %d - %s # SKIP %s" % (_count, tap_escape(name).replace("#", "\\#"),
                                        tap_escape(reason)))
    sys.stdout.flush()


def skip_all(reason):
    """The whole program cannot run here: skipped, or failed under CI."""
    if IN_CI:
        print("1..1")
        print("not ok 1 - a test dependency is missing under CI: " + tap_escape(reason))
        sys.exit(1)
    print("1..0 # SKIP " + tap_escape(reason))
    sys.exit(0)


def pg_server():
    """A throwaway postgresql-15 (tests/pgserver.py, not yet started: use it
    in a with statement), or the whole program skipped (failed under CI)
    when PostgreSQL is missing.  SIGTERM then stops it at once
    (pgserver.stop_on_sigterm)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from pgserver import PgServer, stop_on_sigterm
    try:
        server = PgServer()
        stop_on_sigterm()
        return server
    except FileNotFoundError as e:
        skip_all(str(e))


def done():
    print("1..%d" % _count)
    if _count == 0:
        print("# no tests ran")
        sys.exit(1)
    sys.exit(1 if _failed else 0)


# ---------------------------------------------------------------- engines

# COMMENTD_TEST_ENGINE=postgresql (meson's integration-pg suite, run through
# tests/pgserver.py run, which sets COMMENTD_TEST_PG to a database URI on a
# throwaway server): every Daemon gets a fresh PostgreSQL database of its
# own on that server instead of a SQLite file, and the db_* helpers below
# read it.  Tests that look into the database use only these helpers.
ENGINE = os.environ.get("COMMENTD_TEST_ENGINE") or "sqlite"
ON_PG = ENGINE == "postgresql"
PG_SERVER_URI = os.environ.get("COMMENTD_TEST_PG", "")
_pg_seq = 0


def _psql_bin():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from pgserver import find_bin
    d = find_bin()
    if not d:
        raise RuntimeError("COMMENTD_TEST_ENGINE=postgresql but no PostgreSQL installed")
    return os.path.join(d, "psql")


def _pg_uri(dbname):
    base, _, _ = PG_SERVER_URI.rpartition("/")
    return "%s/%s" % (base, dbname)


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    return "'%s'" % str(v).replace("'", "''")


def _pg_bind(sql, params):
    """sql with each ? (outside quotes) replaced by params' literals: the
    test's own SQL, run through psql, which has no bound parameters."""
    out, i, quote = [], 0, None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(_pg_literal(params[i]))
            i += 1
            continue
        out.append(ch)
    if i != len(params):
        raise ValueError("%d parameters for %d placeholders" % (len(params), i))
    return "".join(out)


def _psql(uri, sql, timeout=120):
    r = subprocess.run([_psql_bin(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", uri, "-c", sql], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("psql: %s\n%s" % (sql[:300], r.stderr.strip()))
    return r.stdout


_BYTEA = re.compile(r"\\x(?:[0-9a-f]{2})*")


def _pg_value(v):
    # Comparisons are boolean on PostgreSQL, 0/1 on SQLite; a bytea comes
    # as its hex text ("\x5eab"), made bytes as sqlite3 gives a BLOB (a
    # text of that exact form is taken for one: no test stores such text).
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str) and v.startswith("\\x") and _BYTEA.fullmatch(v):
        return bytes.fromhex(v[2:])
    return v


def _pg_rows(uri, sql, params=()):
    """Rows of one statement as tuples (as sqlite3 gives them: numbers,
    strings, None, bytes for a bytea, 0/1 for a boolean).  A statement
    without rows (INSERT, UPDATE ...) gives []."""
    sql = _pg_bind(sql.strip().rstrip(";"), tuple(params))
    head = sql.lstrip().split(None, 1)[0].upper()
    if head not in ("SELECT", "WITH", "VALUES"):
        _psql(uri, sql)
        return []
    out = _psql(uri, "SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM (%s) q" % sql)
    rows = json.loads(out or "[]", object_pairs_hook=lambda pairs: tuple(
        _pg_value(v) for _, v in pairs))
    return [tuple(r) for r in rows]


class _PgCursor:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)


class PgConnection:
    """What the tests use of a sqlite3 connection (execute, fetchone,
    fetchall, commit, close), over psql: each statement on its own
    (autocommit), so commit does nothing.  "PRAGMA integrity_check" is
    integrity_check's answer (amcheck)."""

    def __init__(self, uri):
        self.uri = uri

    def execute(self, sql, params=()):
        if sql.strip().lower() == "pragma integrity_check":
            return _PgCursor([(integrity_check(self.uri),)])  # amcheck
        return _PgCursor(_pg_rows(self.uri, sql, params))

    def commit(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _db_of(db):
    return db.db if isinstance(db, Daemon) else db


def is_pg(db):
    return str(_db_of(db)).startswith(("postgresql://", "postgres://"))


def db_connect(db):
    """A connection to a Daemon's database (or a db setting): sqlite3 on
    a file, a PgConnection on a postgresql:// URI."""
    db = _db_of(db)
    if is_pg(db):
        return PgConnection(db)
    import sqlite3
    return sqlite3.connect(db)


def db_query(db, sql, params=()):
    """All rows of one statement on either engine (write SQL both accept)."""
    con = db_connect(db)
    try:
        rows = con.execute(sql, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def table_names(db):
    """The database's tables (SQLite's own and FTS5's shadow tables too)."""
    if is_pg(db):
        return sorted(r[0] for r in db_query(
            db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return sorted(r[0] for r in db_query(db, "SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'"))


def table_columns(db, table):
    """The column names of a table, in order."""
    if is_pg(db):
        return [r[0] for r in db_query(
            db, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = ? ORDER BY ordinal_position", (table,))]
    return [r[1] for r in db_query(db, 'PRAGMA table_info("%s")' % table)]


# The writers' lock of lib/store_pg.c (PG_LOCK_WRITER): store_begin takes
# it as SQLite's BEGIN IMMEDIATE takes the database's write lock.
PG_LOCK_WRITER = 0x636d7464 << 32


class WriteLock:
    """The database's write lock, held by another process's connection
    (as commentctl would) until release(): SQLite's BEGIN IMMEDIATE, or on
    PostgreSQL a psql session in a transaction holding the writers'
    advisory lock."""

    def __init__(self, db):
        db = _db_of(db)
        self.proc = self.con = None
        if is_pg(db):
            self.proc = subprocess.Popen(
                [_psql_bin(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.proc.stdin.write("BEGIN;\nSELECT pg_advisory_xact_lock(%d);\n"
                                  "\\echo locked\n" % PG_LOCK_WRITER)
            self.proc.stdin.flush()
            while True:  # the lock is held once psql echoes
                line = self.proc.stdout.readline()
                if not line or line.strip() == "locked":
                    break
        else:
            import sqlite3
            self.con = sqlite3.connect(db, isolation_level=None, timeout=10,
                                       check_same_thread=False)
            self.con.execute("BEGIN IMMEDIATE")

    def release(self):
        if self.proc:
            self.proc.communicate("ROLLBACK;\n", timeout=30)
        else:
            self.con.execute("ROLLBACK")
            self.con.close()


def set_schema_version(db, version):
    """Sets the schema version the store reads (SQLite's user_version,
    PostgreSQL's commentd_schema table): a "newer database" for a test."""
    if is_pg(db):
        db_query(db, "UPDATE commentd_schema SET version = %d" % int(version))
    else:
        db_query(db, "PRAGMA user_version=%d" % int(version))


def integrity_check(db):
    """'ok' or what is wrong.  SQLite: PRAGMA integrity_check.  PostgreSQL:
    amcheck (contrib, in postgresql-15): verify_heapam on every table and
    bt_index_check (with heapallindexed: every row is in the index) on
    every B-tree index of the public schema; plus the rows' foreign keys
    hold (PostgreSQL enforces them, so that is the server's word)."""
    if not is_pg(db):
        return db_query(db, "PRAGMA integrity_check")[0][0]
    uri = _db_of(db)
    try:
        _psql(uri, "CREATE EXTENSION IF NOT EXISTS amcheck")
        # The catalogue filtered first (MATERIALIZED), amcheck's functions
        # then called on what is left only.
        bad = db_query(uri, "WITH t AS MATERIALIZED (SELECT c.oid, c.relname FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
                            "'public' AND c.relkind = 'r') SELECT t.relname || ': ' || v.msg "
                            "FROM t CROSS JOIN LATERAL verify_heapam(t.oid) v")
        n = db_query(uri, "WITH i AS MATERIALIZED (SELECT c.oid FROM pg_index x JOIN pg_class c "
                          "ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = 'public' AND "
                          "a.amname = 'btree') SELECT count(*) FROM i CROSS JOIN LATERAL "
                          "(SELECT bt_index_check(i.oid, true)) c")[0][0]
    except RuntimeError as e:  # amcheck raises an error on a corrupt index
        return "amcheck: %s" % e
    if n == 0:
        return "amcheck: no index checked"
    return "ok" if not bad else "; ".join(str(r[0]) for r in bad)[:2000]


def db_scan(db):
    """Every byte a test may look for in the database.  SQLite: its files
    (db_files).  PostgreSQL: every value of every table, read through SQL
    (the server's files are not the test's to read), bytea decoded."""
    if not is_pg(db):
        return db_files(_db_of(db))
    out = []
    for t in table_names(db):
        for row in db_query(db, 'SELECT * FROM "%s"' % t):
            for v in row:
                if v is not None:
                    out.append(v if isinstance(v, bytes) else str(v).encode("utf-8"))
    return b"\n".join(out)


def not_on_engine(name, reason):
    """A check that only means something on SQLite (its files, WAL,
    secure_delete, backups).  On PostgreSQL prints the TAP line
    'ok N - name # SKIP on postgresql: reason' and returns True (the caller
    leaves the check out); on SQLite returns False.  tools/testsummary.py
    counts these apart, and CI does not fail on them (every other skip
    fails there): keep them to what truly has no PostgreSQL meaning."""
    global _count
    if not ON_PG:
        return False
    _count += 1
    print("ok %d - %s # SKIP on postgresql: %s" % (
        _count, tap_escape(name).replace("#", "\\#"), tap_escape(reason)))
    sys.stdout.flush()
    return True


def _pg_new_database():
    global _pg_seq
    _pg_seq += 1
    name = "d_%d_%d" % (os.getpid(), _pg_seq)
    _psql(PG_SERVER_URI, 'CREATE DATABASE "%s"' % name)
    return _pg_uri(name)


def _pg_drop_database(uri):
    name = uri.rpartition("/")[2]
    try:
        _psql(PG_SERVER_URI, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    except (RuntimeError, subprocess.TimeoutExpired):
        pass


def db_files(path):
    """The bytes of a SQLite database and of its -wal, -shm and -journal:
    a row may still sit in the WAL, not yet checkpointed into the file."""
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            with open(path + suffix, "rb") as f:
                data += f.read()
        except FileNotFoundError:
            pass
    return data


def db_holds(path, needle):
    """True when needle (str or bytes) is anywhere in the database (its
    files on SQLite, its values on PostgreSQL: db_scan), compared
    case-insensitively.  path: a Daemon or its db setting."""
    if isinstance(needle, str):
        needle = needle.encode("utf-8")
    return needle.lower() in db_scan(path).lower()


# ---------------------------------------------------------------- privacy

# Values a test sent that must never reach a log: e-mail addresses, client
# addresses, tokens.  Daemon.request records them from bodies and headers;
# tests add others with secret().
_secrets = set()
SECRET_FIELDS = ("email", "comment_author_email", "user_ip", "api_key", "key", "token",
                 "edit_token")
SECRET_HEADERS = ("x-forwarded-for", "authorization", "x-edit-token")


def secret(value):
    """Records a value (a token, an address) that no log may hold."""
    if value and len(str(value)) >= 4:
        _secrets.add(str(value))
        if str(value).lower().startswith("bearer "):
            _secrets.add(str(value)[7:])


def _record_secrets(body, headers):
    if isinstance(body, dict):
        for k in SECRET_FIELDS:
            if isinstance(body.get(k), str):
                secret(body[k])
    elif isinstance(body, (bytes, str)):
        from urllib.parse import parse_qsl
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        for k, v in parse_qsl(text, keep_blank_values=True):
            if k in SECRET_FIELDS:
                secret(v)
    for k, v in (headers or {}).items():
        if k.lower() in SECRET_HEADERS:
            for part in str(v).split(","):
                secret(part.strip())


EMAIL_RE = re.compile(rb"[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", re.I)
IPV4_RE = re.compile(rb"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])")
IPV6_RE = re.compile(rb"(?<![0-9a-z:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![0-9a-z:])", re.I)


def log_privacy_problems(log, extra=()):
    """What in a daemon log looks like an e-mail address, a client address
    (IPv4, IPv6) or one of the recorded secrets.  The version number and
    timestamps do not match these patterns."""
    raw = log.encode("utf-8", "replace") if isinstance(log, str) else log
    low = raw.lower()
    problems = []
    for m in EMAIL_RE.finditer(raw):
        problems.append("an e-mail address: %r" % m.group(0))
    for m in IPV4_RE.finditer(raw):
        problems.append("an IPv4 address: %r" % m.group(0))
    for m in IPV6_RE.finditer(raw):
        v = m.group(0)
        # An address has "::" or eight groups; "12:30:45" is a time.
        if b"::" in v or v.count(b":") == 7:
            problems.append("an IPv6 address: %r" % v)
    for s in sorted(set(extra) | _secrets):
        if s.encode("utf-8").lower() in low:
            problems.append("a secret the test sent: %r" % s)
    return problems


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Daemon:
    """A commentd process with its own directory, key, database and config."""

    def __init__(self, config=None, directory=None, keep_dir=False):
        self.dir = directory or tempfile.mkdtemp(prefix="commentd-test-")
        self.keep_dir = keep_dir
        self.db = os.path.join(self.dir, "comments.db")
        self.pg_owned = False
        if ON_PG:
            # One fresh database per daemon; a Daemon made again on a kept
            # directory finds its database's URI there.
            marker = os.path.join(self.dir, "pg.uri")
            if os.path.exists(marker):
                with open(marker) as f:
                    self.db = f.read().strip()
            else:
                self.db = _pg_new_database()
                self.pg_owned = not keep_dir
                with open(marker, "w") as f:
                    f.write(self.db)
        self.key = os.path.join(self.dir, "secret.key")
        self.conf = os.path.join(self.dir, "commentd.conf")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.proc = None
        self.port = None
        self.extra = dict(config or {})
        self.args = ""
        self.env = {}  # extra environment for the daemon (LD_PRELOAD ...)
        self.log_checked = False
        if not os.path.exists(self.key):
            subprocess.run([COMMENTD, "--keygen", self.key], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.write_config(self.extra)

    def write_config(self, settings):
        # Tests of mechanics post made-up texts ("round 0 client 1 #5") that
        # the shipped starter spam model may hold on a fresh database: it is
        # off unless a test turns it on (test_dayone.py, test_corpus.py).
        base = {"db": self.db, "key": self.key, "rate_limit": "0", "starter_model": "off"}
        if LOG_LEVEL:
            base["log_level"] = LOG_LEVEL
        base.update(settings)
        with open(self.conf, "w") as f:
            for k, v in base.items():
                f.write("%s = %s\n" % (k, v))

    def start(self, timeout=30.0):
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", self.port or 0))
        lsock.listen(512)
        self.port = lsock.getsockname()[1]
        notify_path = os.path.join(self.dir, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        nsock.bind(notify_path)
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = notify_path
        env["LISTEN_FDS"] = "1"
        env.pop("LISTEN_PID", None)
        env.update(self.env)
        fd = lsock.fileno()
        logf = open(self.log_path, "ab")
        # A shell moves the socket to fd 3 and sets LISTEN_PID to its own pid,
        # which the daemon keeps across exec.
        script = 'LISTEN_PID=$$ exec "$0" --config "$1" %s 3<&%d' % (self.args, fd)
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", script, COMMENTD, self.conf],
            env=env, stdout=logf, stderr=logf, pass_fds=(fd,))
        logf.close()
        lsock.close()
        self.notify = nsock
        deadline = time.monotonic() + timeout
        ready = False
        while time.monotonic() < deadline:
            nsock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                msg = nsock.recv(4096).decode()
            except socket.timeout:
                break
            if "READY=1" in msg.split("\n"):
                ready = True
                break
        if not ready:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("commentd did not become ready:\n" + self.log())
        return self

    def notifications(self, timeout=0.0):
        """Returns the notify messages received since the last call."""
        out = []
        self.notify.settimeout(timeout if timeout > 0 else 0.001)
        try:
            while True:
                out.append(self.notify.recv(4096).decode())
                self.notify.settimeout(0.001)
        except (socket.timeout, BlockingIOError):
            pass
        return out

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the daemon and returns its exit status."""
        if not self.proc:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.notify.close()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def check_log(self):
        """One TAP line: the daemon's log holds no e-mail address, client
        address or recorded secret.  Only in programs that print the
        harness's TAP (not in the node runners that pass theirs through)."""
        if self.log_checked or _count == 0:
            return
        self.log_checked = True
        # commentd's own lines carry a priority prefix ("<6>"); other
        # programs sharing the file (systemd-socket-activate naming the
        # address it listens on) are not the daemon's log.
        own = "\n".join(line for line in self.log().splitlines()
                        if re.match(r"^<[0-7]>", line))
        problems = log_privacy_problems(own)
        ok(not problems, "the daemon log (%s) holds no e-mail address, client address or token"
           % ("log_level " + (self.extra.get("log_level") or LOG_LEVEL or "info")),
           "\n".join(problems[:20]))

    def cleanup(self):
        if self.proc:
            self.kill()
        self.check_log()
        if self.pg_owned:
            _pg_drop_database(self.db)
            self.pg_owned = False
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
        _record_secrets(body, hdrs)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        conn.close()
        return resp

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, body, headers=None):
        return self.request("POST", path, body=body, headers=headers)

    def thread(self, thread, **params):
        from urllib.parse import urlencode
        q = {"thread": thread}
        q.update(params)
        return self.get("/api/v1/comments?" + urlencode(q))

    def thread_all(self, thread):
        """The whole thread: its pages' answers joined by following the
        cursors ("comments" holds every page's top-level list in order; a
        reply continued from an earlier page comes with its parent set)."""
        out = {"thread": thread, "count": 0, "comments": []}
        params = {}
        for _ in range(10000):
            r = self.thread(thread, **params)
            j = r.json() if r.status == 200 else None
            if not j:
                break
            out["count"] = j.get("count", 0)
            out["comments"].extend(j.get("comments", []))
            if not j.get("cursor"):
                break
            params = {"cursor": j["cursor"]}
        return out

    def comment(self, thread, text, author="Tester", email="tester@example.org", **extra):
        body = {"thread": thread, "author": author, "email": email, "text": text}
        body.update(extra)
        return self.post("/api/v1/comments", body)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def free_port():
    """A loopback TCP port free at the moment of asking (for servers a test
    starts: SMTP, nginx, PHP, a webhook receiver)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raw_request(port, data, timeout=10, read=True, source=None):
    """Sends raw bytes and returns the raw answer (for malformed requests);
    source: the loopback address to send from (another client)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    s.close()
    return out


TOKEN_RE = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
STATUS_RE = re.compile(rb"^HTTP/1\.[01] ([1-5][0-9][0-9]) [^\r\n]*$")


class StrictAnswer:
    """One HTTP/1.1 answer read strictly from the raw bytes of a connection
    the server closed: exactly one status line, well-formed header lines,
    one Content-Length (or a valid chunked body) that the body matches
    exactly, and nothing after the answer (a second status line, junk).
    problems lists every way the answer breaks this; empty raw bytes mean
    the connection was closed without an answer (status None)."""

    def __init__(self, raw, head=False):
        self.raw = raw
        self.status = None
        self.headers = []  # (lower-case name, value str), in order
        self.body = b""
        self.problems = []
        if raw:
            self._parse(raw, head)

    def _parse(self, raw, head):
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            self.problems.append("no end of the header block")
            return
        lines = raw[:end].split(b"\r\n")
        m = STATUS_RE.match(lines[0])
        if not m:
            self.problems.append("bad status line %r" % lines[0][:100])
            return
        self.status = int(m.group(1))
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not TOKEN_RE.match(name) or b"\n" in line:
                self.problems.append("bad header line %r" % line[:100])
                continue
            self.headers.append((name.decode("latin-1").lower(),
                                 value.strip(b" \t").decode("latin-1")))
        for once in ("content-length", "content-type", "transfer-encoding"):
            if len(self.all(once)) > 1:
                self.problems.append("%d %s headers" % (len(self.all(once)), once))
        rest = raw[end + 4:]
        if rest.startswith(raw[:end + 4]):
            # libmicrohttpd 0.9.75 sends its own 400/413 for a malformed
            # Content-Length with the status line and headers twice.
            self.problems.append("the status line and headers sent twice")
            rest = rest[end + 4:]
        no_body = head or self.status < 200 or self.status in (204, 304)
        te = (self.header("transfer-encoding") or "").lower()
        cl = self.header("content-length")
        if te == "chunked" and not no_body:
            rest = self._dechunk(rest)
        elif cl is None:
            if not no_body:
                self.problems.append("no Content-Length")
            self.body, rest = b"", rest
        elif not cl.isdigit():
            self.problems.append("bad Content-Length %r" % cl)
        else:
            n = 0 if head else int(cl)
            if len(rest) < n:
                self.problems.append("body of %d bytes, Content-Length %d" % (len(rest), n))
            self.body, rest = rest[:n], rest[n:]
        if rest:
            self.problems.append("%d bytes after the answer: %r" % (len(rest), rest[:120]))

    def _dechunk(self, data):
        body = b""
        while True:
            line, sep, data = data.partition(b"\r\n")
            size = line.split(b";")[0]
            if not sep or not size or not re.match(rb"^[0-9a-fA-F]+$", size):
                self.problems.append("bad chunk size line %r" % line[:40])
                return data
            n = int(size, 16)
            if n == 0:
                trailer_end = data.find(b"\r\n") if data.startswith(b"\r\n") else \
                    data.find(b"\r\n\r\n")
                self.body = body
                return data[2:] if data.startswith(b"\r\n") else data[trailer_end + 4:]
            if len(data) < n + 2 or data[n:n + 2] != b"\r\n":
                self.problems.append("chunk shorter than its size")
                return b""
            body += data[:n]
            data = data[n + 2:]

    def header(self, name):
        values = self.all(name)
        return values[0] if values else None

    def all(self, name):
        return [v for k, v in self.headers if k == name]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def json_error_problem(self, code=None):
        """None if this is our JSON error (with that code), else why not."""
        ct = (self.header("content-type") or "").lower()
        if not ct.startswith("application/json"):
            return "Content-Type %r, not JSON" % self.header("content-type")
        j = self.json()
        if not isinstance(j, dict) or not isinstance(j.get("error"), str) or \
                not isinstance(j.get("message"), str):
            return "not a JSON error: %r" % self.body[:200]
        if code and j["error"] != code:
            return "error %r, want %r" % (j["error"], code)
        return None

    def __repr__(self):
        return "<%r %r>" % (self.status, self.raw[:300])


def exchange(port, data, timeout=10, head=False):
    """Sends data (from a thread, tolerating an early close by the server)
    while reading until the server closes; returns a StrictAnswer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def sender():
        try:
            s.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=sender)
    t.start()
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    t.join()
    s.close()
    return StrictAnswer(out, head=head)


def raw_status(answer):
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def walk(comments):
    """Yields every comment of a tree, depth first."""
    for c in comments:
        yield c
        yield from walk(c.get("replies", []))
