#!/usr/bin/env python3
"""Many nodes, one truth (issue #21, docs/configuration.md "Several nodes"):
two commentd processes on one PostgreSQL database (a throwaway postgresql-15,
tests/pgserver.py) behave like one.  A comment posted on node A is served by
node B at once (B's thread cache checks the thread version in the
database); both nodes give a thread the same ETag and either answers 304 to
the other's; an admin token and an Akismet site key made with A's
configuration work on both; learning on A changes B's very next score; the
maintenance jobs and the outbox deliveries run on one node at a time (an
advisory lock: the log says which, pg_locks shows one holder, and B takes
over when A stops); rate limits are per node; a node started with another
key file refuses to start."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, COMMENTD, Daemon, done, is_eq, ok,  # noqa: E402
                     pg_server, walk)

BLOG = "https://blog.example.org/"
FORM = "application/x-www-form-urlencoded"
MAINT_RUNS = "nodes: this node runs the maintenance jobs"
MAINT_WAITS = "nodes: another node of the database runs the maintenance jobs"
OUTBOX_RUNS = "nodes: this node runs the outbox deliveries"
OUTBOX_WAITS = "nodes: another node of the database runs the outbox deliveries"
HAM = [
    "Mooi geschreven stuk over de tuin in het voorjaar, dank voor de foto's.",
    "Ik heb de tulpen ook zo geplant, en ze kwamen allemaal op.",
    "Goede tip over de compost, dat ga ik dit weekend proberen.",
    "Wat een prachtige wandeling langs de rivier, ik herken de brug.",
    "Dank voor het recept, de soep was heerlijk met wat extra peterselie.",
]
SPAM = [
    "Cheap pills casino bonus buy now http://promo.example.com best offer",
    "Casino bonus free spins cheap pills click here http://promo.example.com",
    "Buy cheap pills online casino jackpot http://promo.example.com now",
    "Free casino bonus and cheap pills, click http://promo.example.com today",
    "Best cheap pills deal, casino bonus inside http://promo.example.com",
]


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True,
                          timeout=60)


def wait_for(pred, seconds=20.0):
    """Polls pred (a condition another process brings about) until true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def node(uri, key=None, extra=None):
    settings = {"db": uri, "min_submit_seconds": "0", "maintenance_interval": "10"}
    if key:
        settings["key"] = key
    settings.update(extra or {})
    return Daemon(settings)


def admin(d, tok, method, path, body=None):
    return d.request(method, "/api/v1/admin" + path, body,
                     headers={"Authorization": "Bearer " + tok})


def thread_served(a, b):
    """A post on A is in B's answer at once, though B had the thread cached;
    both give it the same ETag, and each answers 304 to the other's."""
    t = "/nodes"
    r = a.comment(t, "Eerste reactie, op node A.", author="Anna")
    is_eq(r.status, 201, "a comment posts on node A")
    first = b.thread(t)
    ok(first.status == 200 and first.json().get("count") == 1,
       "node B serves it at once", first.status)
    etag = first.header("ETag")
    is_eq(a.thread(t).header("ETag"), etag, "both nodes give the thread the same ETag")
    r = b.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    is_eq(r.status, 304, "node B answers 304 to the ETag (B's cache now holds the page)")
    r = a.comment(t, "Tweede reactie, ook op node A.", author="Bert")
    is_eq(r.status, 201, "a second comment posts on node A")
    second = r.json().get("id")
    r = b.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    ok(r.status == 200 and r.json().get("count") == 2
       and second in [c["id"] for c in walk(r.json().get("comments") or [])],
       "node B's cached page is not served: the new comment is there at once", r.status)
    new_etag = r.header("ETag")
    ok(new_etag and new_etag != etag, "with a new ETag")
    is_eq(a.thread(t).header("ETag"), new_etag, "the same new ETag on node A")
    r = a.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": new_etag})
    is_eq((r.status, r.body), (304, b""), "node A answers 304 to node B's ETag")
    r = b.comment(t, "Een antwoord, op node B.", author="Cor", parent=second)
    is_eq(r.status, 201, "a reply posts on node B")
    t_a = a.thread(t).json()
    ok(t_a.get("count") == 3 and r.json().get("id") in [c["id"] for c in walk(t_a["comments"])],
       "node A serves node B's reply at once")


def admin_and_keys(a, b):
    """A token and a site key made with node A's configuration work on
    both nodes (they are keyed hashes in the shared database)."""
    r = ctl("token", "create", "--config", a.conf, "--name", "moderator")
    tok = r.stdout.strip()
    ok(r.returncode == 0 and len(tok) > 20, "commentctl token create with node A's config",
       r.stderr[:300])
    for name, d in (("A", a), ("B", b)):
        r = admin(d, tok, "GET", "/me")
        ok(r.status == 200 and (r.json() or {}).get("name") == "moderator",
           "the admin token works on node %s" % name, r.status)
    is_eq(admin(b, "x" * 43, "GET", "/me").status, 401, "a wrong token is refused on node B")
    r = ctl("key", "create", "--blog", BLOG, "--config", a.conf)
    key = r.stdout.strip()
    ok(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{12}", key) is not None,
       "commentctl key create (an Akismet site key) with node A's config", r.stderr[:300])
    for name, d in (("A", a), ("B", b)):
        r = d.post("/1.1/verify-key", "key=%s&blog=%s" % (key, BLOG),
                   headers={"Content-Type": FORM})
        is_eq((r.status, r.body), (200, b"valid"), "the site key is valid on node %s" % name)
    r = b.post("/1.1/verify-key", "key=000000000000&blog=%s" % BLOG,
               headers={"Content-Type": FORM})
    is_eq(r.body, b"invalid", "an unknown site key is invalid on node B")
    return tok


def probe_score(d, tok, n):
    r = d.comment("/probe", "Cheap pills and casino bonus, buy now http://promo.example.com",
                  author="Probe %d" % n, email="probe%d@spam.example" % n)
    pid = (r.json() or {}).get("id")
    lst = admin(d, tok, "GET", "/comments?thread=/probe&limit=1").json()["comments"]
    ok(lst and lst[0]["id"] == pid, "the probe posted on node B is listed")
    return lst[0]["score"] if lst else None


def learning(a, b, tok):
    """Marking comments on node A changes the score node B gives next."""
    ham, spam = [], []
    for i, text in enumerate(HAM):
        ham.append(a.comment("/learn", text, author="Lezer %d" % i,
                             email="lezer%d@example.nl" % i).json()["id"])
    for i, text in enumerate(SPAM):
        spam.append(a.comment("/learn", text, author="Promo %d" % i,
                              email="promo%d@spam.example" % i).json()["id"])
    before = probe_score(b, tok, 1)
    is_eq(admin(a, tok, "POST", "/comments/bulk", {"action": "spam", "ids": spam}).status, 200,
          "node A learns 5 spam")
    is_eq(admin(a, tok, "POST", "/comments/bulk", {"action": "approve", "ids": ham}).status,
          200, "node A learns 5 ham")
    after = probe_score(b, tok, 2)
    ok(before is not None and after is not None and after > before,
       "node B's very next score has changed (%s -> %s)" % (before, after))


def rate_limits(uri, key):
    """rate_limit counts per node (documented so): over the limit on one
    node, the same client still posts on another.  Two nodes of their own
    (the others post freely: rate_limit 0)."""
    limited = {"rate_limit": "1", "rate_burst": "2"}
    c, d = node(uri, key, limited), node(uri, key, limited)
    try:
        c.start()
        d.start()
        codes = [c.comment("/rate", "Bericht %d op C." % i, author="Snel").status
                 for i in range(3)]
        is_eq(codes, [201, 201, 429], "node C: two posts (the burst), then 429")
        is_eq(d.comment("/rate", "Bericht op D.", author="Snel").status, 201,
              "node D, the same client: accepted (the limit is per node)")
    finally:
        c.cleanup()
        d.cleanup()


def job_holders(pg):
    """The advisory locks of the maintenance (257) and the outbox (258),
    each as the number of sessions holding it."""
    out = pg.psql("SELECT objid, count(*) FROM pg_locks WHERE locktype = 'advisory'"
                  " AND granted AND objid IN (257, 258) GROUP BY objid ORDER BY objid",
                  "commentd").strip()
    return out


def one_node_runs(pg, a, b):
    """The maintenance jobs and the outbox run on one node: A, started
    first, holds both locks; B says it waits; when A stops, B takes over."""
    ok(wait_for(lambda: OUTBOX_WAITS in b.log() and MAINT_WAITS in b.log()),
       "node B logs that another node runs the maintenance jobs and the outbox",
       b.log()[-800:])
    log_a, log_b = a.log(), b.log()
    ok(MAINT_RUNS in log_a and OUTBOX_RUNS in log_a, "node A logs that it runs both",
       log_a[-800:])
    ok(MAINT_RUNS not in log_b and OUTBOX_RUNS not in log_b, "node B never ran them")
    ok("maintenance: job" not in log_b, "no maintenance job ran (or failed) on node B")
    is_eq(job_holders(pg), "257|1\n258|1", "pg_locks: one session holds each job's lock")
    is_eq(a.stop(), 0, "node A stops")
    ok(wait_for(lambda: OUTBOX_RUNS in b.log(), 15),
       "node B takes the outbox deliveries over (within a pass, a second)", b.log()[-600:])
    ok(wait_for(lambda: MAINT_RUNS in b.log(), 30),
       "node B takes the maintenance jobs over (at its next pass, maintenance_interval)",
       b.log()[-600:])
    is_eq(job_holders(pg), "257|1\n258|1", "pg_locks: still one holder each (node B)")


def other_key(uri):
    """A node whose key file is not the database's refuses to start, says
    why, and the database keeps the first key's fingerprint."""
    c = node(uri)  # a key of its own (the harness makes one: --keygen)
    try:
        proc = subprocess.Popen([COMMENTD, "--config", c.conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            err = proc.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            proc.kill()  # it started: serving with a key that is not the database's
            err = proc.communicate()[1]
        ok(proc.returncode not in (0, -9), "a node with another key file does not start (exit %d)"
           % proc.returncode)
        ok("not the one the database was first used with" in err and "same key file" in err,
           "  and says why and what to do", err[-600:])
    finally:
        c.cleanup()


def main():
    with pg_server() as pg:
        uri = pg.new_database("commentd")
        a = node(uri)
        a.start()
        b = node(uri, key=a.key)
        try:
            ok(wait_for(lambda: MAINT_RUNS in a.log() and OUTBOX_RUNS in a.log()),
               "node A, started first, takes both jobs", a.log()[-600:])
            b.start()
            thread_served(a, b)
            tok = admin_and_keys(a, b)
            learning(a, b, tok)
            rate_limits(uri, a.key)
            rows = pg.psql("SELECT name, length(value) FROM node_keys ORDER BY name",
                           "commentd").strip()
            is_eq(rows, "etag|32\nkey_check|32",
                  "node_keys: the shared ETag key and the key's fingerprint, 32 bytes each")
            other_key(uri)
            one_node_runs(pg, a, b)
        finally:
            a.cleanup()
            b.cleanup()
    return done()


if __name__ == "__main__":
    sys.exit(main())
