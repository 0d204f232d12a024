#!/usr/bin/env python3
"""Runs clients.test.mjs (real Akismet client libraries from npm) against a
real commentd: starts the daemon with tests/integration/harness.py, creates
a site key with commentctl, runs node with COMMENTD_PORT, AKISMET_KEY and
AKISMET_BLOG in its environment and passes node's TAP through, flattened:
node nests each describe()'s tests as indented TAP subtests, which meson's
TAP reader refuses, so every leaf test becomes one top-level line
("ok N - suite / test") and everything else a "#" comment.

Installs the pinned npm packages (npm ci, from package-lock.json) when
node_modules is missing.  Without node the test is skipped; a failing
npm ci fails it.  Environment as for the integration tests (COMMENTD,
COMMENTCTL, SOURCE_ROOT); NODE and NPM name other binaries.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import COMMENTCTL, Daemon  # noqa: E402

BLOG = "http://blog.example.org/"


def bail(msg):
    print("Bail out! " + msg)
    sys.stdout.flush()
    sys.exit(1)


POINT = re.compile(r"^( *)(not ok|ok)\b(?: \d+)?(?: - )?(.*)$")
SUBTEST = re.compile(r"^( *)# Subtest: (.*)$")


def flatten(lines, returncode):
    """Prints node's nested TAP as flat TAP; returns the exit status."""
    points, suites = [], {}
    for line in lines:
        line = line.rstrip("\n")
        m = SUBTEST.match(line)
        if m:
            suites[len(m.group(1))] = m.group(2)
            continue
        m = POINT.match(line)
        if not m:
            if line.strip() and not line.lstrip().startswith(("TAP version", "1..")):
                print("# " + line)
            continue
        indent, status, rest = len(m.group(1)), m.group(2), m.group(3)
        # Children are printed before their parent: a point is a leaf
        # unless the point just before it was deeper (one of its children).
        leaf = not points or points[-1][0] <= indent
        path = [suites[i] for i in sorted(suites) if i < indent]
        points.append((indent, status, " / ".join(path + [rest]), leaf))
        for i in [i for i in suites if i >= indent]:
            del suites[i]
    n = failed = 0
    for indent, status, name, leaf in points:
        if not leaf:
            continue
        n += 1
        failed += status == "not ok"
        print("%s %d - %s" % (status, n, name))
    if returncode != 0 and not failed:
        n += 1
        failed += 1
        print("not ok %d - node exited with status %d" % (n, returncode))
    if n == 0:
        print("not ok 1 - node ran no tests")
        n = failed = 1
    print("1..%d" % n)
    return 1 if failed else 0


def main():
    node = os.environ.get("NODE") or shutil.which("node")
    npm = os.environ.get("NPM") or shutil.which("npm")
    if not node:
        print("1..0 # SKIP node is not installed (tools/dev.sh deps installs nodejs and npm)")
        return 0
    if not os.path.isdir(os.path.join(HERE, "node_modules")):
        if not npm:
            bail("node_modules is missing and npm is not installed")
        # Output goes to stderr: stdout is TAP.
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=HERE, stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:
            bail("npm ci failed in tests/akismet (exit %d)" % r.returncode)
    with Daemon() as d:
        r = subprocess.run([COMMENTCTL, "key", "create", "--blog", BLOG, "--db", d.db,
                            "--key", d.key], capture_output=True, text=True)
        key = r.stdout.strip()
        if r.returncode != 0 or len(key) != 12:
            bail("commentctl key create failed: %s" % (r.stderr or r.stdout))
        env = dict(os.environ, COMMENTD_PORT=str(d.port), AKISMET_KEY=key, AKISMET_BLOG=BLOG,
                   NODE_NO_WARNINGS="1")
        r = subprocess.run([node, "--test", "--test-reporter=tap", "clients.test.mjs"],
                           cwd=HERE, env=env, stdout=subprocess.PIPE, text=True)
        status = flatten(r.stdout.splitlines(), r.returncode)
        if status != 0:
            sys.stderr.write("--- daemon log ---\n" + d.log())
        return status


if __name__ == "__main__":
    sys.exit(main())
