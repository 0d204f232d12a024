#!/usr/bin/env python3
"""Prints 'N passed, N failed, N skipped' from meson test logs (and ', N
SQLite-only checks not run on postgresql' when there are such).

Counts TAP subtests where meson recorded them (each test's stdout), so the
line reflects individual checks, not just programs.  A subtest with a SKIP
directive ("ok 3 - name # SKIP reason") counts as skipped, not passed; so
does a "not ok ... # TODO" and a whole program that skipped ("1..0 # SKIP",
meson's SKIP).  Several logs may be given; their counts add up.  Each skip is
listed above the summary line, with its reason, and so is each failure
(log, test, subtest), last, so that the tail of a CI log names it.

With CI set in the environment a skip is a failure: CI installs every test
dependency, so a skip there hides a missing one.  The exit status is then 1
when anything was skipped; otherwise (and always without CI) it is 1 only
when something failed.

One kind of skip is not a missing dependency: a check of the integration
suite that only means something on SQLite (its files, WAL, secure_delete,
backup files), which the PostgreSQL run of the suite prints as
"ok N - name # SKIP on postgresql: reason" (tests/integration/harness.py,
not_on_engine).  Those, in a test named <name>-pg, are counted and listed
apart ("not on postgresql") and do not fail CI; every other skip still
does, and so does a program that skipped as a whole.

usage: testsummary.py testlog.json [testlog.json ...]
"""
import json
import os
import re
import sys

# "ok 12 - name # SKIP reason": the directive follows an unescaped '#'.
TAP = re.compile(r"^(not )?ok\b(?:\s+\d+)?(?:\s*-)?\s*(.*)$")
DIRECTIVE = re.compile(r"(?<!\\)#\s*(SKIP|TODO)\b\s*(.*)$", re.I)
# The reason that marks a SQLite-only check in the PostgreSQL run; exact
# case, so that only the harness's own line matches.
ENGINE_SKIP = "on postgresql:"


def count(path, skips, engine_skips, failures):
    passed = failed = skipped = not_engine = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            res = t.get("result")
            name = t.get("name", "?")
            out = t.get("stdout") or ""
            p = f_ = s = e = 0
            for l in out.splitlines():
                m = TAP.match(l)
                if not m:
                    continue
                d = DIRECTIVE.search(m.group(2))
                directive = d.group(1).upper() if d else None
                if directive == "SKIP" and not m.group(1) and name.endswith("-pg") and \
                        d.group(2).startswith(ENGINE_SKIP):
                    e += 1
                    engine_skips.append("%s: %s" % (name, m.group(2)))
                elif directive == "SKIP" or (directive == "TODO" and m.group(1)):
                    s += 1
                    skips.append("%s: %s" % (name, m.group(2)))
                elif m.group(1):
                    f_ += 1
                    failures.append("%s: %s: %s" % (path, name, m.group(2)))
                else:
                    p += 1
            if res == "SKIP":
                skipped += 1
                reason = re.search(r"^1\.\.0\s*#\s*SKIP\s*(.*)$", out, re.M | re.I)
                skips.append("%s: the whole program (%s)" % (
                    name, reason.group(1) if reason else "no reason given"))
            elif p or f_ or s:
                passed += p
                failed += f_
                skipped += s
                # A program that failed without a failing subtest (crash,
                # sanitizer report, bad exit) still counts as a failure.
                if res not in ("OK", "EXPECTEDFAIL") and f_ == 0:
                    failed += 1
                    failures.append("%s: %s: the program (%s)" % (path, name, res))
            elif res in ("OK", "EXPECTEDFAIL") and e:
                pass  # only engine skips in this program: counted below
            elif res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            else:
                failed += 1
                failures.append("%s: %s: the program (%s)" % (path, name, res))
            not_engine += e
    return passed, failed, skipped, not_engine


def main():
    total = [0, 0, 0, 0]
    skips = []
    engine_skips = []
    failures = []
    for path in sys.argv[1:]:
        for i, n in enumerate(count(path, skips, engine_skips, failures)):
            total[i] += n
    for s in engine_skips:
        print("not on postgresql: " + s)
    for s in skips:
        print("skipped: " + s)
    ci = bool(os.environ.get("CI"))
    if ci and skips:
        print("with CI set a skip is a failure: install the missing dependencies "
              "(tools/dev.sh deps)")
    # Last before the count, so that the tail of a CI log names what failed.
    for f in failures:
        print("failed: " + f)
    line = "%d passed, %d failed, %d skipped" % tuple(total[:3])
    if total[3]:
        line += ", %d SQLite-only checks not run on postgresql" % total[3]
    print(line)
    return 1 if total[1] or (ci and total[2]) else 0


if __name__ == "__main__":
    sys.exit(main())
