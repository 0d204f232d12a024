#!/usr/bin/env python3
"""tools/testsummary.py on made-up meson logs: a check of the PostgreSQL
run that is SQLite-only ("# SKIP on postgresql: ..." in a <name>-pg test)
is counted apart and does not fail CI; any other skip still does (a
skipped subtest, a whole program skipped, an "on postgresql" skip in a
test that is not a -pg one, a "not ok ... # SKIP on postgresql"), and a
failure always does.  TAP output."""
import json
import os
import subprocess
import sys
import tempfile

SUMMARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                       "testsummary.py")
n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond:
        for line in str(detail).splitlines():
            print("#   " + line)


def run(tests, ci):
    """tests: [(name, result, stdout)]; returns (exit status, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        for name, result, out in tests:
            f.write(json.dumps({"name": name, "result": result, "stdout": out}) + "\n")
    env = dict(os.environ)
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    try:
        p = subprocess.run([sys.executable, SUMMARY, f.name], env=env, capture_output=True,
                           text=True)
    finally:
        os.unlink(f.name)
    return p.returncode, p.stdout


PASS = ("commentd:integration / api", "OK", "ok 1 - a\nok 2 - b\n1..2\n")
ENGINE = ("commentd:integration-pg / api-pg", "OK",
          "ok 1 - a\nok 2 - the WAL was truncated # SKIP on postgresql: the server's WAL\n1..2\n")


def main():
    rc, out = run([PASS, ENGINE], ci=True)
    ok(rc == 0, "CI: an engine skip in a -pg test does not fail", out)
    ok("3 passed, 0 failed, 0 skipped, 1 SQLite-only checks not run on postgresql" in out,
       "it is counted apart from passes and skips", out)
    ok("not on postgresql: commentd:integration-pg / api-pg: the WAL was truncated" in out,
       "and listed with its reason", out)
    only = ("commentd:integration-pg / x-pg", "OK",
            "ok 1 - x # SKIP on postgresql: SQLite's files\n1..1\n")
    rc, out = run([only], ci=True)
    ok(rc == 0 and "0 passed, 0 failed, 0 skipped, 1 SQLite-only" in out,
       "a program of engine skips only is not counted as a pass", out)

    plain = ("commentd:integration-pg / api-pg", "OK",
             "ok 1 - a\nok 2 - b # SKIP nginx is not installed\n1..2\n")
    rc, out = run([plain], ci=True)
    ok(rc == 1 and "1 passed, 0 failed, 1 skipped" in out,
       "CI: an ordinary skip in a -pg test still fails", out)
    rc, out = run([plain], ci=False)
    ok(rc == 0, "without CI it does not", out)
    rc, out = run([("commentd:integration / api", "OK",
                    "ok 1 - x # SKIP on postgresql: a claim\n1..1\n")], ci=True)
    ok(rc == 1 and "0 failed, 1 skipped" in out,
       "CI: an 'on postgresql' skip in a test that is not a -pg one fails", out)
    rc, out = run([("commentd:integration-pg / api-pg", "OK",
                    "ok 1 - x # skip On PostgreSQL: other case\n1..1\n")], ci=True)
    ok(rc == 1, "CI: only the harness's exact 'on postgresql:' marks an engine skip", out)
    rc, out = run([("commentd:integration-pg / api-pg", "SKIP", "1..0 # SKIP no server\n")],
                  ci=True)
    ok(rc == 1 and "the whole program" in out, "CI: a whole -pg program skipped fails", out)
    rc, out = run([("commentd:integration-pg / api-pg", "FAIL",
                    "not ok 1 - x # SKIP on postgresql: y\n1..1\n")], ci=True)
    ok(rc == 1 and "1 failed" in out, "a 'not ok' line is a failure, whatever it says", out)
    rc, out = run([PASS, ("commentd:integration-pg / api-pg", "FAIL",
                          "ok 1 - a # SKIP on postgresql: y\n1..1\n")], ci=False)
    ok(rc == 1, "a program that failed with only engine skips is a failure", out)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
