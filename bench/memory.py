#!/usr/bin/env python3
"""Memory benchmark of commentd (prints figures; not a test).

usage: bench/memory.py [--commentd PATH] [--commentctl PATH] [--learn N]
                       [--notify] [--label TEXT]

The README promises a resident size of at most 16 MiB.  This starts the
daemon on a fresh database (through the test harness, as systemd would),
and prints its VmRSS (with the anonymous / file-backed split) and VmHWM
from /proc after each step of a blog's first weeks:

  start     the daemon idle on the empty database
  posted    50 comments posted (the starter model scores them)
  learned   --learn moderator decisions (default 600, half spam) taught
            with `commentctl learn`, then 50 more comments posted (the
            daemon loads the learned model)
  read      100 thread GETs of 20 threads
  notified  with --notify: every post held, each mailing a moderator
            through a real SMTP server (python3-aiosmtpd) started here

Comments come from the YouTube spam collection in ../shared/corpora when it
is there (evaluation data, read in place), else from generated text.
"""
import os
import sys

sys.path[:] = [p for p in sys.path
               if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0]) / 1024.0
    return out


def corpus(n_needed):
    """(text, label) pairs: the YouTube collection, or generated."""
    items = []
    if os.path.isdir(CORPORA):
        for name in sorted(os.listdir(CORPORA)):
            if name.startswith("Youtube") and name.endswith(".csv"):
                with open(os.path.join(CORPORA, name), newline="", encoding="utf-8") as f:
                    for row in csv.DictReader(f):
                        items.append((row["CONTENT"], "spam" if row["CLASS"] == "1" else "ham"))
    rnd = random.Random(7)
    if len(items) < n_needed:
        words = ("fiets regen heuvel koffie kasseien route wind berg dorp kerk "
                 "cheap pills casino bonus free click visit money offer").split()
        for i in range(n_needed - len(items)):
            spam = i % 2 == 0
            pool = words[10:] if spam else words[:10]
            items.append((" ".join(rnd.choice(pool) for _ in range(12)),
                          "spam" if spam else "ham"))
    rnd.shuffle(items)
    return items


def start_smtp(tmp, port):
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    proc = subprocess.Popen([py, "-m", "aiosmtpd", "-n", "-l",
                             "127.0.0.1:%d" % port, "-c", "aiosmtpd.handlers.Sink"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("aiosmtpd did not start (apt install python3-aiosmtpd)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commentd")
    ap.add_argument("--commentctl")
    ap.add_argument("--learn", type=int, default=600)
    ap.add_argument("--notify", action="store_true")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    os.environ["COMMENTD"] = os.path.abspath(a.commentd or
                                             os.path.join(ROOT, "build", "daemon", "commentd"))
    os.environ["COMMENTCTL"] = os.path.abspath(a.commentctl or
                                               os.path.join(ROOT, "build", "ctl", "commentctl"))
    import harness  # noqa: E402  (reads COMMENTD / COMMENTCTL)

    items = corpus(a.learn + 200)
    settings = {"rate_limit": "0", "min_submit_seconds": "0"}
    smtp = None
    tmp = tempfile.mkdtemp(prefix="commentd-memory-")
    if a.notify:
        smtp, port = start_smtp(tmp, harness.free_port())
        settings.update({"smtp_url": "smtp://127.0.0.1:%d" % port,
                         "smtp_from": "blog@example.org", "notify_moderators": "mod@example.org",
                         "public_url": "http://127.0.0.1:1", "moderation": "all",
                         "notify_retry_seconds": "1"})
    d = harness.Daemon(settings).start()
    pid = d.proc.pid
    rows = []

    def step(name):
        time.sleep(1.5)  # the worker's pass, the cache's settling
        rows.append((name, status(pid)))

    def post(n, off):
        for i in range(n):
            text, _ = items[(off + i) % len(items)]
            d.comment("/post/%d" % (i % 20), text[:2000] or "x", author="Reader %d" % i,
                      email="r%d@example.org" % i)

    try:
        step("start")
        post(50, 0)
        step("posted")
        learn = items[100:100 + a.learn]
        for label in ("spam", "ham"):
            path = os.path.join(tmp, label + ".jsonl")
            with open(path, "w") as f:
                for i, (text, lab) in enumerate(learn):
                    if lab == label:
                        f.write(json.dumps({"id": "m%d" % i, "text": text}) + "\n")
            subprocess.run([harness.COMMENTCTL, "learn", "--db", d.db, "--" + label, path],
                           check=True, capture_output=True)
        post(50, 50)
        step("learned")
        for i in range(100):
            d.thread("/post/%d" % (i % 20))
        step("read")
        if a.notify:
            time.sleep(3)
            step("notified")
    finally:
        d.cleanup()
        if smtp:
            smtp.kill()
            smtp.wait()
    print("commentd memory %s (MiB; learned %d decisions%s)" % (
        a.label, a.learn, ", notifications on" if a.notify else ""))
    print("%-9s %7s %7s %7s %7s" % ("step", "VmRSS", "anon", "file", "VmHWM"))
    for name, s in rows:
        print("%-9s %7.1f %7.1f %7.1f %7.1f" % (name, s["VmRSS"], s["RssAnon"], s["RssFile"],
                                               s["VmHWM"]))


if __name__ == "__main__":
    main()
