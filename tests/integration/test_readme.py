#!/usr/bin/env python3
"""The README's quick start, followed as written.

Every fenced `sh` block of README.md, in order: `tools/dev.sh run` in the
background (on a free port instead of 8080, with a temporary STATE, and the
build folder of this test run), then the curl lines (with that port), then
the sign-in line `tools/dev.sh ctl token create ...`, whose token must open
the moderation API.  `tools/dev.sh test` is the command running this test,
so it is checked, not run.  A block this test does not know fails it: a
README change comes with a change here.  Also: the development defaults take
a few dozen comments typed by hand, `tools/dev.sh run --set` reaches the
daemon, and `tools/dev.sh ctl` works from any folder.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SOURCE_ROOT, diag, done, free_port, is_eq,  # noqa: E402
                     log_privacy_problems, ok)

README = os.path.join(SOURCE_ROOT, "README.md")
DEV_SH = os.path.join(SOURCE_ROOT, "tools", "dev.sh")
BUILD_ROOT = os.environ.get("BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))


def sh_blocks(text):
    return [b.strip("\n") for b in re.findall(r"^```sh\n(.*?)^```$", text, re.S | re.M)]


def kind(block):
    first = block.split()[0:2]
    if first == ["tools/dev.sh", "run"]:
        return "run"
    if first == ["tools/dev.sh", "ctl"]:
        return "ctl"
    if first == ["tools/dev.sh", "test"]:
        return "test"
    if first and first[0] == "curl":
        return "curl"
    return "unknown"


def http(port, path, body=None, headers=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def json_values(text):
    """The JSON documents printed one after another (curl -s adds no newline)."""
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = dec.raw_decode(text, i)
        out.append(value)


class DevRun:
    """A `tools/dev.sh run ...` line, in its own process group.  It is one
    simple command, run without a shell, so the process is dev.sh and then,
    after its exec, commentd: its exit status is the daemon's."""

    def __init__(self, command, env, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(shlex.split(command), cwd=SOURCE_ROOT, env=env,
                                     stdout=self.log, stderr=self.log, start_new_session=True)

    def wait_ready(self, port, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                status, _ = http(port, "/api/v1/health")
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def daemon_log(self, port):
        """commentd's own lines ("<N>..."), without the address it was told
        to listen on (its own, not a client's)."""
        own = [l for l in self.output().splitlines() if re.match(r"^<[0-7]>", l)]
        return "\n".join(own).replace("listening on 127.0.0.1:%d" % port, "listening on -")

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait()
        self.log.close()
        return rc


def start_dev(command, env, log_path):
    """DevRun on a free port; (run, port, ready).  Picks another port when
    some other program took the first before commentd could listen."""
    for attempt in range(3):
        port = free_port()
        run = DevRun(command, dict(env, LISTEN="127.0.0.1:%d" % port), log_path)
        ready = run.wait_ready(port)
        if ready or "cannot listen on" not in run.output():
            return run, port, ready
        diag("port %d was taken before commentd listened; another" % port)
        run.stop()
    return run, port, ready


def run_sh(block, env, cwd=SOURCE_ROOT):
    r = subprocess.run(["sh", "-ec", block], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def with_port(block, port):
    return block.replace("localhost:8080", "localhost:%d" % port).replace(
        "127.0.0.1:8080", "127.0.0.1:%d" % port)


def check_curl(block, port, env):
    ok("8080" in block, "the curl block talks to the run command's port 8080")
    rc, out, err = run_sh(with_port(block, port), env)
    values = []
    try:
        values = json_values(out)
    except ValueError as e:
        diag("not JSON: %s" % e)
    ok(rc == 0 and len(values) == 2, "README curl block: exit 0, two JSON answers",
       "exit %d\n%s\n%s" % (rc, out[:500], err[:500]))
    posted = values[0] if values else {}
    ok(posted.get("status") == "published" and posted.get("id"),
       "the first curl posted a comment (published)", posted)
    thread = values[1] if len(values) > 1 else {}
    ids = [c.get("id") for c in thread.get("comments", [])]
    ok(posted.get("id") in ids and thread.get("count", 0) >= 1,
       "the second curl reads the thread with that comment", thread)


tokens = []


def check_ctl(block, port, env):
    rc, out, err = run_sh(block, env)
    token = out.strip().splitlines()[-1] if out.strip() else ""
    tokens.append(token)
    ok(rc == 0 and re.fullmatch(r"[A-Za-z0-9_-]{20,}", token),
       "README sign-in line prints a token", "exit %d\n%s\n%s" % (rc, out, err))
    status, body = http(port, "/api/v1/admin/comments",
                        headers={"Authorization": "Bearer " + token})
    is_eq(status, 200, "that token opens the moderation API of the running daemon")
    status, _ = http(port, "/api/v1/admin/comments",
                     headers={"Authorization": "Bearer x" + token})
    is_eq(status, 401, "(and a wrong token does not)")
    # From another folder, too: dev.sh finds the state, file names stay the
    # caller's (here: a backup written into the current folder).
    with tempfile.TemporaryDirectory() as elsewhere:
        r = subprocess.run([DEV_SH, "ctl", "backup", "copy.db"], cwd=elsewhere, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok(r.returncode == 0 and os.path.getsize(os.path.join(elsewhere, "copy.db")) > 0,
           "tools/dev.sh ctl from another folder: backup copy.db lands there",
           r.stdout.decode("utf-8", "replace") if os.path.exists(elsewhere) else "")


def check_dev_defaults(port):
    """A newcomer posting by hand: a few dozen comments, no 429."""
    got = []
    for i in range(30):
        body = json.dumps({"thread": "/hand", "author": "Nieuw", "email": "n@example.nl",
                           "text": "Probeersel nummer %d" % i}).encode()
        got.append(http(port, "/api/v1/comments", body,
                        {"Content-Type": "application/json"})[0])
    is_eq(got, [201] * 30, "the development defaults take 30 comments in a row (no 429)")


def check_set(env, tmp):
    """tools/dev.sh run --set NAME=VALUE reaches the daemon; later wins."""
    env = dict(env, STATE=os.path.join(tmp, "state-set"))
    run, port, ready = start_dev("tools/dev.sh run --set moderation=all --set rate_burst=2",
                                 env, os.path.join(tmp, "run-set.log"))
    try:
        if not ok(ready, "tools/dev.sh run --set ... starts", run.output()):
            return
        statuses = []
        for i in range(3):
            body = json.dumps({"thread": "/set", "author": "A", "email": "a@example.nl",
                               "text": "Tekst %d" % i}).encode()
            code, data = http(port, "/api/v1/comments", body, {"Content-Type": "application/json"})
            statuses.append((code, json.loads(data).get("status") if code == 201 else None))
        is_eq(statuses, [(201, "pending"), (201, "pending"), (429, None)],
              "--set moderation=all holds comments; --set rate_burst=2 beats the dev default")
    finally:
        run.stop()
    bad = DevRun("tools/dev.sh run --set no_such_setting=1",
                 dict(env, LISTEN="127.0.0.1:%d" % free_port()), os.path.join(tmp, "bad.log"))
    rc = bad.proc.wait(timeout=120)
    bad.stop()
    ok(rc != 0 and "no_such_setting" in bad.output(),
       "tools/dev.sh run --set with an unknown name: refused with its name", bad.output()[-500:])


def check_test_block(block):
    with open(DEV_SH) as f:
        dev = f.read()
    case = re.search(r"^test\)\n(.*?)^\t;;", dev, re.S | re.M)
    ok(block == "tools/dev.sh test" and case and 'meson test -C "$BUILD"' in case.group(1),
       "README test block: `tools/dev.sh test` runs meson test, which is running this test")


def main():
    with open(README) as f:
        blocks = sh_blocks(f.read())
    kinds = [kind(b) for b in blocks]
    diag("README sh blocks: %s" % ", ".join(kinds))
    ok("unknown" not in kinds, "every sh block of the README is one this test runs or checks",
       [b for b in blocks if kind(b) == "unknown"])
    order = [k for k in kinds if k in ("run", "curl", "ctl")]
    is_eq(order, ["run", "curl", "ctl"], "the run command, then the curl lines, then sign-in")

    tmp = tempfile.mkdtemp(prefix="commentd-readme-")
    env = dict(os.environ, BUILD=BUILD_ROOT, STATE=os.path.join(tmp, "dev-state"))
    env.pop("MESON_ARGS", None)
    run, port = None, None
    try:
        for block, k in zip(blocks, kinds):
            if k == "run":
                ok("\n" not in block and not re.search(r"[;&|<>$`]", block),
                   "README run block is one simple command")
                run, port, ready = start_dev(block, env, os.path.join(tmp, "run.log"))
                if not ok(ready, "README run block: `%s` serves" % block,
                          run.output()[-2000:]):
                    break
                key = os.path.join(tmp, "dev-state", "secret.key")
                ok(os.path.exists(key) and os.stat(key).st_mode & 0o777 == 0o600,
                   "it made the development key (mode 0600) in STATE")
                for page in ("/demo/", "/admin/"):
                    status, body = http(port, page)
                    ok(status == 200 and b"<html" in body.lower(),
                       "the README's %s opens" % page, status)
            elif k == "curl":
                check_curl(block, port, env)
            elif k == "ctl":
                check_ctl(block, port, env)
            elif k == "test":
                check_test_block(block)
        if run and run.proc.poll() is None:
            check_dev_defaults(port)
    finally:
        if run:
            rc = run.stop()
            is_eq(rc, 0, "the development daemon stops cleanly on SIGTERM")
            problems = log_privacy_problems(run.daemon_log(port), extra=tokens)
            ok(not problems, "its log holds no e-mail address, client address or token",
               "\n".join(problems[:20]))
    check_set(env, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
