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
    when PostgreSQL is missing."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from pgserver import PgServer
    try:
        return PgServer()
    except FileNotFoundError as e:
        skip_all(str(e))


def done():
    print("1..%d" % _count)
    if _count == 0:
        print("# no tests ran")
        sys.exit(1)
    sys.exit(1 if _failed else 0)


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
    """True when needle (str or bytes) is anywhere in the database's files,
    compared case-insensitively."""
    if isinstance(needle, str):
        needle = needle.encode("utf-8")
    return needle.lower() in db_files(path).lower()


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
