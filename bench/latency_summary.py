#!/usr/bin/env python3
"""Summarises a latency probe's file (bench/latency-probe.patch).

usage: latency_summary.py FILE [--binary COMMENTD]

Prints each stage's count and p50/p90/p99/max in ms: wq (a request's wait
for a writer thread), wrun (its run on one), group (a post's wait for the
group commit holding it), batch (a group commit, with its mean size),
passive and hold (the checkpoint thread's passes and its hold of the
writers to start the WAL over), truncate, sidx/scommit (the admin search's
index batches); then the long holds of the writer lock (over 10 ms) by
holder, resolved with addr2line when --binary names the probe build (built
without PIE, as the patch says).
"""
import argparse
import collections
import subprocess

KINDS = ("wq", "wrun", "group", "batch", "passive", "hold", "holdwait", "truncate", "sidx",
         "scommit", "wlockwait")


def pct(s, q):
    return s[min(len(s) - 1, int(len(s) * q))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--binary")
    a = ap.parse_args()
    dur = collections.defaultdict(list)
    extra = collections.defaultdict(list)
    holders = collections.defaultdict(list)
    with open(a.file) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            _, kind, d, x = parts
            if "," in kind:
                holders[",".join(kind.split(",")[:3])].append(float(d))
            else:
                dur[kind].append(float(d))
                extra[kind].append(float(x))
    for k in KINDS:
        s = sorted(dur[k])
        if s:
            print("%-9s n=%6d p50 %7.2f p90 %7.2f p99 %7.2f max %8.2f" %
                  (k, len(s), pct(s, .5), pct(s, .9), pct(s, .99), s[-1]))
    if extra["batch"]:
        print("batch size mean %.2f" % (sum(extra["batch"]) / len(extra["batch"])))
    print("\nwriter lock held over 10 ms, by holder (count, total ms, max ms):")
    for key, v in sorted(holders.items(), key=lambda kv: -sum(kv[1])):
        names = key
        if a.binary:
            addrs = [x for x in key.split(",") if x]
            r = subprocess.run(["addr2line", "-f", "-e", a.binary] + addrs,
                               capture_output=True, text=True)
            names = " < ".join(r.stdout.split("\n")[0::2][:len(addrs)])
        print("  %5d %9.1f %8.1f  %s" % (len(v), sum(v), max(v), names))


if __name__ == "__main__":
    main()
