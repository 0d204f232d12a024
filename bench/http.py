#!/usr/bin/env python3
"""HTTP benchmark of commentd on loopback with wrk (prints figures; not a test).

usage: bench/http.py [--commentd PATH] [--seconds S] [--connections C] [--wrk-threads T]
                     [--threads N] [--only NAME ...]

Build a release binary first:
  meson setup build-bench -Dbuildtype=release && ninja -C build-bench

Starts the daemon the way systemd does (socket activation, via the test
harness) with its default settings except rate_limit = 0, seeds a 50-comment
thread and 20 small threads, then runs wrk for each scenario:
  get-thread   GET /api/v1/comments?thread=<50-comment thread>
  get-inm      the same with If-None-Match: <its ETag> (answers 304)
  counts       POST /api/v1/counts for 20 threads
  post         POST /api/v1/comments, a distinct comment each time, spread over
               100 threads: classification, INSERT, durable COMMIT (synchronous=FULL)
and prints req/s, p50 and p99 latency, non-2xx/3xx answers, and the daemon's
resident memory: idle (after seeding), and peak (VmHWM) at the end.

--paced RATE also posts RATE comments a second for --seconds from one
keep-alive connection (a blog's real load, far from saturation) and prints
the latency percentiles of those posts.

--set NAME=VALUE passes a setting to the daemon (repeatable); --hold reloads
it with moderation = all once the threads are seeded.  --notify turns
notifications on: a real SMTP server (tests/smtp-sink.py, python3-aiosmtpd)
and a webhook receiver on loopback, moderators and the webhook told of every
event; with --hold every post is held, so every post makes a moderator mail
and a webhook POST, sent by the outbox worker meanwhile.
Only the Python standard library and wrk (Debian package `wrk`) are needed.
"""
import os
import sys

# This file is named http.py: keep its directory off the module path so that
# the standard library's http package (used by the harness) is found.
sys.path[:] = [p for p in sys.path
               if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

THREAD = "/2011/01/social-media-realities"

# wrk prints one JSON line at the end of a run (shared with bench/scale.py)
DONE_LUA = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk-done.lua")).read()

SCENARIOS = {
    "get-thread": r"""
wrk.method = "GET"
wrk.path = "/api/v1/comments?thread=%(thread)s"
""",
    "get-inm": r"""
wrk.method = "GET"
wrk.path = "/api/v1/comments?thread=%(thread)s"
wrk.headers["If-None-Match"] = '%(etag)s'
""",
    "counts": r"""
wrk.method = "POST"
wrk.path = "/api/v1/counts"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(counts_body)s'
""",
    "post": r"""
local counter = 0
tid = 0
setup = function(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
init = function(args)
  math.randomseed(os.time() + (tid or 0))
end
local words = {"leuk", "artikel", "volharding", "credo", "social", "media", "realities",
               "thanks", "great", "post", "interesting", "point", "agree", "nice", "read"}
request = function()
  counter = counter + 1
  local t = {}
  for i = 1, 12 do t[i] = words[math.random(#words)] end
  local body = string.format(
    '{"thread":"/bench/post/%%d","author":"Bench %%d","email":"bench%%d@example.org",' ..
    '"text":"%%s #%%d-%%d"}',
    counter %% 100, counter %% 37, counter %% 53, table.concat(t, " "),
    math.random(1, 1000000000), counter)
  return wrk.format("POST", "/api/v1/comments",
                    {["Content-Type"] = "application/json"}, body)
end
""",
}


def rss(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])  # KiB
    return out


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPUs (%s), kernel %s" % (os.cpu_count(), model, platform.release())


def seed(d):
    ids = []
    for i in range(50):
        body = {"text": "Comment number %d with *some* text and a [link](https://example.org/%d)."
                        % (i, i) + " More words follow here." * 3}
        if i % 3 == 2 and ids:
            body["parent"] = ids[-1]
        r = d.comment(THREAD, body["text"], author="Reader %d" % i,
                      email="reader%d@example.org" % i,
                      **({"parent": body["parent"]} if "parent" in body else {}))
        if r.status != 201:
            raise SystemExit("seeding failed: %r" % r)
        ids.append(r.json()["id"])
    threads = ["/2011/%02d/post-%d" % (1 + i % 12, i) for i in range(20)]
    for i, t in enumerate(threads):
        for k in range(i % 4):
            d.comment(t, "count me %d" % k)
    r = d.thread(THREAD)
    j = r.json()
    if j["count"] != 50:
        raise SystemExit("the bench thread has %d comments" % j["count"])
    return r.header("ETag"), threads, len(r.body)


def run_wrk(port, name, script, args):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + DONE_LUA)
        path = f.name
    try:
        cmd = ["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections,
               "-d%ds" % args.seconds, "--timeout", "5s", "-s", path,
               "http://127.0.0.1:%d/" % port]
        r = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(path)
    for line in r.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise SystemExit("wrk failed for %s:\n%s\n%s" % (name, r.stdout, r.stderr))


def paced(port, rate, seconds):
    """Posts rate comments a second for seconds, one at a time on one
    keep-alive connection; the latency percentiles (ms)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, errors = [], 0
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"thread": "/paced/%d" % (i % 10), "author": "Paced",
                           "email": "paced%d@example.org" % i, "text": "Paced post %d" % i})
        t0 = time.monotonic()
        conn.request("POST", "/api/v1/comments", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        times.append((time.monotonic() - t0) * 1000)
        errors += r.status != 201
    conn.close()
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(p / 100 * len(times)))]
    return {"requests": len(times), "seconds": time.monotonic() - start,
            "rps": len(times) / (time.monotonic() - start), "p50_ms": pct(50),
            "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": times[-1], "non2xx": errors,
            "socket_errors": 0}


def start_notify(settings):
    """A real SMTP server and a webhook receiver on loopback; the settings
    that send every event to them."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from harness import free_port

    directory = tempfile.mkdtemp(prefix="commentd-bench-mail-")
    port = free_port()
    smtp = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "smtp-sink.py"),
                             str(port), directory], stdout=subprocess.PIPE)
    if b"READY" not in smtp.stdout.readline():
        raise SystemExit("the SMTP server (python3-aiosmtpd) did not start")
    posts = [0]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts[0] += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass
    hooks = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    daemon_port = free_port()
    settings.update({"smtp_url": "smtp://127.0.0.1:%d" % port,
                     "smtp_from": "Bench <bench@example.org>",
                     "public_url": "http://127.0.0.1:%d" % daemon_port,
                     "notify_moderators": "mod@example.org",
                     "webhook_url": "http://127.0.0.1:%d/hook" % hooks.server_address[1],
                     "webhook_secret": "bench-secret-0123456789"})
    return {"smtp": smtp, "hooks": hooks, "dir": directory, "posts": posts,
            "daemon_port": daemon_port, "pending": 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commentd", default=os.path.join(ROOT, "build-bench", "daemon",
                                                        "commentd"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None,
                    help="the daemon's worker threads (default: the daemon's default)")
    ap.add_argument("--log-level", default="info", help="the daemon's log_level")
    ap.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each scenario N times and report the run with the median req/s")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a daemon setting (repeatable)")
    ap.add_argument("--paced", type=float, default=0, metavar="RATE",
                    help="also post RATE comments a second, one at a time, and time them")
    ap.add_argument("--hold", action="store_true",
                    help="after seeding, reload with moderation = all: every post is held")
    ap.add_argument("--notify", action="store_true",
                    help="notifications on: a local SMTP server and webhook receiver")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not os.path.exists(args.commentd):
        raise SystemExit("%s is missing; build it first:\n  meson setup build-bench "
                         "-Dbuildtype=release && ninja -C build-bench" % args.commentd)
    os.environ["COMMENTD"] = os.path.abspath(args.commentd)
    import harness  # noqa: E402 (reads COMMENTD)
    harness.COMMENTD = os.environ["COMMENTD"]

    settings = {"threads": str(args.threads)} if args.threads else {}
    # wrk's connections all come from 127.0.0.1: one client to the
    # per-client connection cap, lifted here with the total.
    settings.update(kv.split("=", 1) for kv in args.set)
    sink = start_notify(settings) if args.notify else None
    d = harness.Daemon(dict(settings, rate_limit="0", log_level=args.log_level,
                            connections="1024", connections_per_client="1024"))
    results = {}
    try:
        if sink:
            d.port = sink["daemon_port"]
        d.start()
        pid = d.proc.pid
        etag, threads, thread_bytes = seed(d)
        if args.hold:
            import signal
            d.write_config(dict(d.extra, moderation="all"))
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            if "configuration reloaded" not in d.log():
                raise SystemExit("the reload with moderation = all failed:\n" + d.log())
        time.sleep(0.5)
        idle = rss(pid)
        params = {"thread": THREAD, "etag": etag,
                  "counts_body": json.dumps(threads).replace("'", "\\'")}
        load_before = os.getloadavg()[0]
        for name in args.only or ["get-thread", "get-inm", "counts", "post"]:
            runs = sorted((run_wrk(d.port, name, SCENARIOS[name] % params, args)
                           for _ in range(args.repeat)), key=lambda r: r["rps"])
            results[name] = runs[len(runs) // 2]
        if args.paced:
            results["post-paced"] = paced(d.port, args.paced, args.seconds)
        load_after = os.getloadavg()[0]
        end = rss(pid)
        log_bytes = os.path.getsize(d.log_path)
        if sink:
            time.sleep(3)  # let the worker catch up before counting
            sink["pending"] = subprocess.run(
                [os.path.join(os.path.dirname(args.commentd), "..", "ctl", "commentctl"),
                 "outbox", "--json", "--db", d.db], capture_output=True).stdout.count(b'"event"')
        rc = d.stop()
    finally:
        d.cleanup()
        if sink:
            sink["smtp"].terminate()
            sink["smtp"].wait()
            sink["hooks"].shutdown()

    print("commentd HTTP benchmark: %s" % machine())
    print("wrk -t%d -c%d -d%ds on loopback; daemon threads=%d, log_level=%s; "
          "50-comment thread answer %d bytes" % (args.wrk_threads, args.connections, args.seconds,
                                                 args.threads or 8, args.log_level, thread_bytes))
    print("1-minute load average before %.2f, after %.2f (other processes share the CPUs)"
          % (load_before, load_after))
    if args.repeat > 1:
        print("median of %d runs per scenario (by req/s)" % args.repeat)
    print("%-11s %10s %9s %9s %9s %7s" % ("scenario", "req/s", "p50 ms", "p99 ms", "max ms",
                                          "errors"))
    for name, r in results.items():
        print("%-11s %10.0f %9.2f %9.2f %9.1f %7d" % (name, r["rps"], r["p50_ms"], r["p99_ms"],
                                                    r["max_ms"],
                                                    r["non2xx"] + r["socket_errors"]))
    print("RSS idle %.1f MiB, at the end %.1f MiB, peak (VmHWM) %.1f MiB" % (
        idle["VmRSS"] / 1024, end["VmRSS"] / 1024, end["VmHWM"] / 1024))
    print("access log written: %.1f MiB; daemon exit status %s" % (log_bytes / 2**20, rc))
    if sink:
        mails = len([n for n in os.listdir(sink["dir"]) if n.endswith(".eml")])
        print("notifications on: %d mails and %d webhook POSTs received during the run; "
              "%d deliveries still pending 3 s after it" % (mails, sink["posts"][0],
                                                            sink["pending"]))
        shutil.rmtree(sink["dir"], ignore_errors=True)
    print("JSON " + json.dumps({"machine": machine(), "results": results,
                                "rss_kib": {"idle": idle["VmRSS"], "end": end["VmRSS"],
                                            "peak": end["VmHWM"]}}))


if __name__ == "__main__":
    main()
