"""Test harness: starts the real commentd on an ephemeral loopback port.

The daemon is started the way systemd starts it: the test binds a listening
socket on 127.0.0.1 port 0, hands it over as fd 3 with LISTEN_FDS/LISTEN_PID,
and waits for READY=1 on its own NOTIFY_SOCKET.  No sleeps, no port races.
Output is TAP.  Only the Python standard library is used.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

COMMENTD = os.environ.get("COMMENTD", "commentd")
COMMENTCTL = os.environ.get("COMMENTCTL", "commentctl")
SOURCE_ROOT = os.environ.get(
    "SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)

_count = 0
_failed = 0


def ok(cond, name, detail=None):
    """Prints one TAP line; returns cond."""
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_count, name))
    if not cond and detail is not None:
        for line in str(detail).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()
    return cond


def is_eq(got, want, name):
    return ok(got == want, name, "got %r, want %r" % (got, want))


def diag(msg):
    print("# " + msg)


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def done():
    print("1..%d" % _count)
    if _count == 0:
        print("# no tests ran")
        sys.exit(1)
    sys.exit(1 if _failed else 0)


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
        if not os.path.exists(self.key):
            subprocess.run([COMMENTD, "--keygen", self.key], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.write_config(self.extra)

    def write_config(self, settings):
        base = {"db": self.db, "key": self.key, "rate_limit": "0"}
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

    def cleanup(self):
        if self.proc:
            self.kill()
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
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


def raw_request(port, data, timeout=10, read=True):
    """Sends raw bytes and returns the raw answer (for malformed requests)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
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
