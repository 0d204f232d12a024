#!/usr/bin/env python3
"""Mutation checks: every promise of the README has a test that goes red
when the line holding it breaks.

Each mutation in tests/mutation/mutations.toml names the promise it attacks,
a file, a piece of that file that must occur exactly once (`find`, exact
text, or `regex`, a Python regular expression), its replacement and the
tests ("suite/name", as `meson test --suite SUITE NAME` runs them) that must
fail with it.  The script keeps a scratch copy of the tree with its own
build directory (SCRATCH/src and SCRATCH/build, default build-mutation/;
no debug information), applies one mutation at a time, rebuilds only what
the first named test needs, runs the tests in order until one fails
(building a later one's programs only when it must run), and restores the
file.  It runs a test itself as meson would (meson introspect gives the
command, environment and timeout), in its own process group and TMPDIR,
removed afterwards, and stops it at its first failing TAP line: a kill
needs one red line.

A mutation fails the run when it survives (every named test stayed green),
when its pattern is stale (it matches no longer exactly once: the line was
rewritten, so the mutation must be rewritten too), or when the mutated tree
does not compile (a mutation must change behaviour, not break the build;
compile_error = true marks the rare one the compiler must refuse).  A test
counts as a kill only if it passes on the unmutated copy (checked before
the mutations for the tests that run first, else the first time it kills):
a test that is red anyway would "kill" everything.

The report is TAP, one line per mutation ("ok 22 - escape-lt: killed by
unit/render in 1.2 s: not ok 8 - inline code is escaped (build 0.5 s)"),
and ends with "N mutations killed, N survived, N stale, N did not compile".

usage: run.py [--scratch DIR] [--table FILE] [--only NAME]... [--every] [--check] [--list]
              [--jobs N]
  --table FILE  another list of mutations (default tests/mutation/mutations.toml)
  --only NAME   run only this mutation (repeatable; shell-style patterns)
  --every       run every named test of a mutation, and require each to fail
                (an audit of the lists; CI stops at the first red test)
  --check       only check that every pattern matches exactly once, in the
                source tree itself (no copy, no build): the fast test
                "mutation-patterns" of the default suite
  --list        print the mutations and exit
  --jobs N      tests run at once for the baseline (default: the CPUs);
                mutations always run one at a time
"""
import argparse
import concurrent.futures
import fcntl
import fnmatch
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
TABLE = os.path.join(HERE, "mutations.toml")
FIELDS = {"name", "promise", "file", "find", "regex", "replace", "tests", "compile_error"}
# Never copied into the scratch tree when git cannot list the files.
SKIP_DIRS = {".git", "node_modules", "__pycache__", "dev-state"}


class Stale(Exception):
    pass


def tap_escape(text):
    """One printable line: TAP names must not hold newlines or a bare '#'."""
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: "\\x%02x" % ord(m.group()), str(text))
    return text.replace("#", "\\#")


def load_table(path=TABLE):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    muts, seen, problems = data.get("mutation", []), set(), []
    for i, m in enumerate(muts):
        where = m.get("name") or "#%d" % (i + 1)
        m.setdefault("tests", [])
        unknown = set(m) - FIELDS
        if unknown:
            problems.append("%s: unknown fields %s" % (where, ", ".join(sorted(unknown))))
        for key in ("name", "promise", "file", "replace", "tests"):
            if key == "tests" and m.get("compile_error"):
                continue
            if not m.get(key) and not (key == "replace" and m.get(key) == ""):
                problems.append("%s: no %s" % (where, key))
        if ("find" in m) == ("regex" in m):
            problems.append("%s: give exactly one of find and regex" % where)
        if not isinstance(m.get("tests", []), list) or not all(
                re.fullmatch(r"[\w.-]+/[\w.-]+", t) for t in m.get("tests", [])):
            problems.append("%s: tests must be a list of \"suite/name\"" % where)
        if m.get("name") in seen:
            problems.append("%s: the name is used twice" % where)
        seen.add(m.get("name"))
    if problems:
        sys.exit("mutations.toml: " + "; ".join(problems))
    return muts


def mutate(m, text):
    """The mutated text; Stale unless the pattern occurs exactly once."""
    if "find" in m:
        n = text.count(m["find"])
        if n == 1:
            return text.replace(m["find"], m["replace"], 1)
    else:
        found = list(re.finditer(m["regex"], text, re.M))
        n = len(found)
        if n == 1:
            return text[:found[0].start()] + found[0].expand(m["replace"]) + \
                text[found[0].end():]
    raise Stale("the pattern matches %d times in %s, not once: %s; update this mutation in "
                "tests/mutation/mutations.toml" % (n, m["file"], "the line it attacks was "
                                                   "rewritten or moved" if n == 0 else
                                                   "make it match only the line it attacks"))


def check_patterns(muts, root):
    """[(mutation, problem or None)] for every mutation, against root."""
    out = []
    for m in muts:
        path = os.path.join(root, m["file"])
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            new = mutate(m, text)
            out.append((m, None if new != text else "the replacement changes nothing"))
        except FileNotFoundError:
            out.append((m, "%s does not exist (moved or removed?)" % m["file"]))
        except (Stale, re.error) as e:
            out.append((m, str(e)))
    return out


def source_files(root):
    """The tree's files as git sees them (tracked and new, not ignored)."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
        return [f for f in files if os.path.lexists(os.path.join(root, f))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not (
                rel == "." and x.startswith("build"))]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
        return files


def sync_tree(root, dest):
    """Makes dest a copy of root's sources, writing only files that differ
    (so the persistent build directory rebuilds only what changed)."""
    wanted = set(source_files(root))
    for rel in sorted(wanted):
        src, dst = os.path.join(root, rel), os.path.join(dest, rel)
        if os.path.islink(src):
            if not os.path.islink(dst) or os.readlink(dst) != os.readlink(src):
                if os.path.lexists(dst):
                    os.remove(dst)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.symlink(os.readlink(src), dst)
            continue
        with open(src, "rb") as f:
            data = f.read()
        try:
            with open(dst, "rb") as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                os.remove(dst)
            with open(dst, "wb") as f:
                f.write(data)
            shutil.copymode(src, dst)
    for d, dirs, names in os.walk(dest):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), dest)
            if rel not in wanted:
                os.remove(os.path.join(d, n))


class Scratch:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.src = os.path.join(self.dir, "src")
        self.build = os.path.join(self.dir, "build")
        self.targets = {}  # "suite/name" -> ninja targets (paths in build)
        self.specs = {}  # "suite/name" -> meson's test (cmd, env, workdir, timeout)
        self.lock = threading.Lock()
        self.runs = 0

    def prepare(self):
        os.makedirs(self.src, exist_ok=True)
        sync_tree(ROOT, self.src)
        if not os.path.exists(os.path.join(self.build, "build.ninja")):
            # Warnings are not errors here: the default build checks those;
            # a mutation must change behaviour, and may leave a variable
            # unused.
            # No debug information either: it is a third of the compiler's
            # time and most of the linker's, and no one debugs here.
            r = subprocess.run(["meson", "setup", self.build, self.src, "-Dwerror=false",
                                "-Ddebug=false"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("meson setup of the scratch copy failed:\n" + r.stdout + r.stderr)
        else:
            # Regenerate now if meson.build files changed (the test list).
            self.ninja(["build.ninja"])
        info = json.loads(subprocess.run(
            ["meson", "introspect", "--tests", "--targets", self.build],
            capture_output=True, text=True, check=True).stdout)
        files = {t["id"]: t["filename"] for t in info["targets"]}
        for t in info["tests"]:
            paths = []
            for dep in t["depends"]:
                paths += files.get(dep, [])
            cmd = [os.path.normpath(c) for c in t["cmd"]]
            paths += [c for c in cmd if c.startswith(self.build + os.sep)]
            rel = sorted({os.path.relpath(p, self.build) for p in paths})
            for suite in t["suite"]:
                self.targets[suite.split(":", 1)[-1] + "/" + t["name"]] = rel
                self.specs[suite.split(":", 1)[-1] + "/" + t["name"]] = t

    def ninja(self, targets):
        r = subprocess.run(["ninja", "-C", self.build] + targets, capture_output=True,
                           text=True)
        return r.returncode == 0, r.stdout + r.stderr

    def build_for(self, tests):
        targets = sorted({p for t in tests for p in self.targets[t]})
        return self.ninja(targets) if targets else (True, "")

    def run_test(self, test, stop_at_failure=False):
        """(result, first failing TAP line or None, seconds).  The test runs
        as meson would run it (its command, environment and timeout, from
        meson introspect), in its own process group and with its own
        TMPDIR, both cleared afterwards.  With stop_at_failure it is stopped
        at its first failing TAP line: one red line is all a kill needs,
        and a test whose daemon now waits out a timeout (a mutated limit)
        need not run its remaining cases."""
        spec = self.specs[test]
        with self.lock:
            self.runs += 1
            tmp = os.path.join(self.dir, "tmp", "%d" % self.runs)
        os.makedirs(tmp)
        env = dict(os.environ)
        env.update(spec["env"] or {})
        env["TMPDIR"] = tmp
        started = time.monotonic()
        deadline = started + (spec["timeout"] or 30) if spec["timeout"] != 0 else None
        with open(os.path.join(tmp, ".stderr"), "wb") as err:
            proc = subprocess.Popen(spec["cmd"], cwd=spec["workdir"] or self.build, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, start_new_session=True)
        tap = Tap()
        timed_out = stopped = False
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            pending = b""
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    timed_out = True
                    break
                if not sel.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    tap.line(line.decode("utf-8", "replace"))
                if stop_at_failure and tap.failed():
                    stopped = True
                    break
            if not timed_out and not stopped and pending:
                tap.line(pending.decode("utf-8", "replace"))
        if not (stopped or timed_out):
            # Its output ended; so must it, within its time.
            try:
                proc.wait(timeout=None if deadline is None else
                          max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
        rc = stop_group(proc, gently=stopped or timed_out)
        proc.stdout.close()
        seconds = time.monotonic() - started
        result = tap.result(rc, timed_out, stopped)
        if result == "ERROR" and not tap.first:
            try:
                with open(os.path.join(tmp, ".stderr"), "rb") as f:
                    tail = f.read()[-300:].decode("utf-8", "replace").strip()
                tap.first = "exit status %s%s" % (rc, ": " + tail if tail else "")
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        return result, tap.first, seconds


class Tap:
    """Enough of TAP to decide a test's result as meson does."""

    def __init__(self):
        self.plan = None
        self.skip_all = False
        self.count = 0
        self.failures = 0
        self.bail = False
        self.first = None

    def line(self, line):
        line = line.rstrip("\r")
        m = re.match(r"1\.\.(\d+)(\s*#\s*(\w+))?", line)
        if m:
            self.plan = int(m.group(1))
            self.skip_all = self.plan == 0 and (m.group(3) or "").upper().startswith("SKIP")
            return
        if line.startswith("Bail out!"):
            self.bail = True
            self.first = self.first or line.strip()
            return
        m = re.match(r"(not )?ok\b", line)
        if not m:
            return
        self.count += 1
        todo = re.search(r"#\s*TODO\b", line, re.I)
        if m.group(1) and not todo:
            self.failures += 1
            self.first = self.first or line.strip()

    def failed(self):
        return self.failures > 0 or self.bail

    def result(self, rc, timed_out, stopped):
        if timed_out:
            return "TIMEOUT"
        if stopped or self.failures:
            return "FAIL"
        if self.bail:
            return "ERROR"
        if self.skip_all and rc in (0, 77):
            return "SKIP"
        if rc != 0 or self.plan is None or self.plan != self.count:
            return "ERROR"
        return "OK"


def stop_group(proc, gently):
    """Ends proc's process group (the daemons a test started are in it) and
    returns proc's exit status.  Gently: SIGINT first, so that a Python
    harness stops its daemons and removes what it made; SIGKILL for what
    is left after a few seconds."""
    if gently:
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    try:
        rc = proc.wait(timeout=10 if gently else None)
    except subprocess.TimeoutExpired:
        rc = None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if rc is None:
        rc = proc.wait()
    return rc


def note(text):
    """A TAP comment; on stderr too when a harness reads stdout (meson
    shows a test's stderr in its console, not TAP comments)."""
    print("# " + text, flush=True)
    if not sys.stdout.isatty():
        print(text, file=sys.stderr, flush=True)


def green(result):
    return result in ("OK", "EXPECTEDFAIL")


def red(result):
    return result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS")


def run_mutation(scratch, m, every):
    """(status, text, killers): status killed, survived, stale or broken;
    killers are the tests that went red."""
    path = os.path.join(scratch.src, m["file"])
    with open(path, encoding="utf-8") as f:
        original = f.read()
    try:
        mutated = mutate(m, original)
    except (Stale, re.error) as e:
        return "stale", str(e), []
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(mutated)
        # Builds what the first test needs (a unit test: the mutated file,
        # the library and one program), and more only when a later test
        # must run.  A compile_error mutation without tests builds
        # everything.
        started = time.monotonic()
        built, output = scratch.build_for(m["tests"][:1]) if m["tests"] else scratch.ninja([])
        build_s = time.monotonic() - started
        if not built:
            tail = [l for l in output.splitlines() if "error" in l][:3]
            if m.get("compile_error"):
                return "killed", "killed by the compiler (%s)" % "; ".join(tail), []
            return "broken", "does not compile (%s)" % "; ".join(tail), []
        killers, how, survivors, timing = [], [], [], []
        for i, test in enumerate(m["tests"]):
            if i:
                started = time.monotonic()
                built, output = scratch.build_for([test])
                build_s += time.monotonic() - started
                if not built:
                    tail = [l for l in output.splitlines() if "error" in l][:3]
                    return "broken", "does not compile for %s (%s)" % (test, "; ".join(tail)), []
            result, first, seconds = scratch.run_test(test, stop_at_failure=True)
            timing.append("%s %.1f s" % (test, seconds))
            if red(result):
                killers.append(test)
                how.append("%s in %.1f s%s" % (
                    test, seconds, ": " + first if first else " (%s)" % result))
                if not every:
                    break
            else:
                survivors.append("%s (%s)" % (test, result))
        if killers and (not every or not survivors):
            return "killed", "killed by %s (build %.1f s)" % ("; ".join(how), build_s), killers
        if killers:
            return "survived", "stayed green under %s, killed by %s" % (
                ", ".join(survivors), "; ".join(how)), killers
        if not m["tests"]:
            return "survived", "SURVIVED: it compiles", []
        return "survived", "SURVIVED: %s%s stayed green (%s)" % (
            "it compiles, and " if m.get("compile_error") else "", ", ".join(survivors),
            ", ".join(timing)), []
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)


class Baseline:
    """Which tests pass on the unmutated copy: a test that is red anyway
    would "kill" every mutation.  Checked up front for the tests every
    mutation runs first, later (after the mutated file is restored) for a
    test the first time it kills."""

    def __init__(self, scratch, jobs):
        self.scratch = scratch
        self.jobs = jobs
        self.green = set()

    def check(self, tests):
        """None, or why the unmutated copy fails one of tests.  They run
        jobs at a time (tests of the default suite are parallel-safe),
        integration tests (the slow ones) first."""
        todo = [t for t in tests if t not in self.green]
        if not todo:
            return None
        built, output = self.scratch.build_for(todo)
        if not built:
            return "the unmutated copy does not build:\n# " + \
                "\n# ".join(output.splitlines()[-20:])
        todo.sort(key=lambda t: not t.startswith("integration/"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            results = list(pool.map(self.scratch.run_test, todo))
        problem = None
        for t, (result, first, seconds) in zip(todo, results):
            print("# baseline: %s %s in %.1f s" % (t, result, seconds), flush=True)
            if green(result):
                self.green.add(t)
            elif not problem:
                problem = "%s is %s without any mutation%s" % (
                    t, result, ": " + first if first else "")
        return problem


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", default=os.path.join(ROOT, "build-mutation"))
    ap.add_argument("--table", default=TABLE, help="the mutations (default: %(default)s)")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--every", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    muts = load_table(args.table)
    if args.only:
        muts = [m for m in muts if any(fnmatch.fnmatch(m["name"], p) for p in args.only)]
        if not muts:
            sys.exit("no mutation matches " + " ".join(args.only))
    if args.list:
        for m in muts:
            print("%-28s %-22s %s\n%28s %s" % (m["name"], m["file"], " ".join(m["tests"]),
                                                "", m["promise"]))
        return 0
    if args.check:
        problems = check_patterns(muts, ROOT)
        print("1..%d" % len(problems))
        for i, (m, p) in enumerate(problems, 1):
            print("%s %d - %s: %s" % ("not ok" if p else "ok", i, tap_escape(m["name"]),
                                      tap_escape(p or "matches once in " + m["file"])))
        bad = sum(1 for _, p in problems if p)
        print("# %d mutation patterns match once, %d stale" % (len(problems) - bad, bad))
        return 1 if bad else 0

    # A test harness stopping us (timeout) must still leave the copy restored.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    scratch = Scratch(args.scratch)
    os.makedirs(scratch.dir, exist_ok=True)
    lock = open(os.path.join(scratch.dir, ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("Bail out! another run.py uses %s" % scratch.dir)
        return 1
    started = time.monotonic()
    print("# scratch copy: %s" % scratch.dir, flush=True)
    scratch.prepare()
    unknown = sorted({t for m in muts for t in m["tests"] if t not in scratch.targets})
    if unknown:
        print("Bail out! no such test (suite/name): %s" % ", ".join(unknown))
        return 1

    # Baseline: the tests that run for every mutation (all with --every).
    baseline = Baseline(scratch, args.jobs)
    first = []
    for m in muts:
        first += [t for t in (m["tests"] if args.every else m["tests"][:1]) if t not in first]
    problem = baseline.check(first)
    if problem:
        print("Bail out! " + problem)
        return 1
    note("first build and baseline: %.0f s" % (time.monotonic() - started))

    counts = {"killed": 0, "survived": 0, "stale": 0, "broken": 0, "undecided": 0}
    failed = []
    print("1..%d" % len(muts), flush=True)
    for i, m in enumerate(muts, 1):
        t0 = time.monotonic()
        status, text, killers = run_mutation(scratch, m, args.every)
        problem = baseline.check(killers)
        if problem:
            status, text = "undecided", "UNDECIDED: " + problem
        counts[status] += 1
        if status != "killed":
            failed.append(m["name"])
        print("%s %d - %s: %s (%.1f s)" % ("ok" if status == "killed" else "not ok", i,
                                           tap_escape(m["name"]), tap_escape(text),
                                           time.monotonic() - t0))
        print("# %s: %s" % (m["file"], tap_escape(m["promise"])), flush=True)
    if failed:
        note("failed: %s" % ", ".join(failed))
    undecided = counts["undecided"]
    note("%d mutations killed, %d survived, %d stale, %d did not compile%s (%.0f s)" % (
        counts["killed"], counts["survived"], counts["stale"], counts["broken"],
        ", %d undecided (a test is red without a mutation)" % undecided if undecided else "",
        time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
