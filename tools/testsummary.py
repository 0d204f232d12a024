#!/usr/bin/env python3
"""Prints 'N passed, N failed[, N skipped]' from meson test logs.

Counts TAP subtests where meson recorded them (each test's stdout), so the
line reflects individual checks, not just programs.  Several logs may be
given; their counts add up.
usage: testsummary.py testlog.json [testlog.json ...]
"""
import json
import re
import sys

TAP = re.compile(r"^(not )?ok \d+")


def count(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            res = t.get("result")
            out = t.get("stdout") or ""
            p = f_ = 0
            for l in out.splitlines():
                m = TAP.match(l)
                if m:
                    if m.group(1):
                        f_ += 1
                    else:
                        p += 1
            if res == "SKIP":
                skipped += 1
            elif p or f_:
                passed += p
                failed += f_
                # A program that failed without a failing subtest (crash,
                # sanitizer report, bad exit) still counts as a failure.
                if res not in ("OK", "EXPECTEDFAIL") and f_ == 0:
                    failed += 1
            elif res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            else:
                failed += 1
    return passed, failed, skipped


def main():
    total = [0, 0, 0]
    for path in sys.argv[1:]:
        for i, n in enumerate(count(path)):
            total[i] += n
    line = "%d passed, %d failed" % (total[0], total[1])
    if total[2]:
        line += ", %d skipped" % total[2]
    print(line)


if __name__ == "__main__":
    main()
