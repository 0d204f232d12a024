#!/usr/bin/env python3
"""docs/scale.md's step by step, on loopback: one node on SQLite with
comments, replies, a moderated queue and learning; `commentctl migrate-db`
to a throwaway PostgreSQL (tests/pgserver.py); two nodes with the same key
on that database; Debian's nginx with docs/nginx.conf changed as
docs/scale.md says (its upstream block, read from the page).  Through
nginx every thread reads as it did on SQLite and posts reach both nodes;
between the nodes a post on one is in the other's next answer, a thread
has the same ETag on both and one node's ETag gets a 304 from the other,
an admin token works on both; with one node killed the site still answers
GETs and POSTs."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, done, is_eq, ok, skip_all  # noqa: E402
from frontproxy import HOST, json_of, start_front  # noqa: E402
from pgserver import PgServer  # noqa: E402
from test_nginx import NGINX, SITE, Site  # noqa: E402

SCALE_MD = os.path.join(SOURCE_ROOT, "docs", "scale.md")
THREADS = ["/2011/01/schaal", "/2011/02/knooppunten", "/2011/03/over"]
CONFIG = {"trusted_proxies": "127.0.0.1 ::1", "site_origins": "https://" + HOST,
          "min_submit_seconds": "0", "moderation": "none"}


def doc_upstream():
    """docs/scale.md's upstream block (its ```nginx fence) and the node
    addresses it names."""
    with open(SCALE_MD) as f:
        text = f.read()
    m = re.search(r"```nginx\n(upstream commentd \{.*?\n\})\n```", text, re.S)
    ok(m is not None, "docs/scale.md has the upstream block")
    block = m.group(1) if m else ""
    check_keepalive_timeout(block)
    return block, re.findall(r"server (\S+:\d+)", block)


def check_keepalive_timeout(block):
    """nginx must drop a kept-alive connection to a node before commentd
    closes it (header_timeout): a POST sent as commentd closes it would
    fail with a 502."""
    with open(os.path.join(SOURCE_ROOT, "docs", "configuration.md")) as f:
        m = re.search(r"^\| `header_timeout` \| `(\d+)` \|", f.read(), re.M)
    ok(m is not None, "docs/configuration.md gives header_timeout's default")
    t = re.search(r"^\s*keepalive_timeout (\d+)s;$", block, re.M)
    ok(t is not None, "the upstream block sets keepalive_timeout in seconds")
    if m and t:
        ok(int(t.group(1)) < int(m.group(1)),
           "  %ss, below commentd's header_timeout of %ss" % (t.group(1), m.group(1)))


class Balancer(Site):
    """docs/nginx.conf with docs/scale.md's change: the nodes named once in
    an upstream block, every proxy_pass to it, HTTP/1.1 with keepalive.
    For the test only, the API's access log is on (docs/nginx.conf keeps
    none), to see which node answered each request."""

    def __init__(self, tmp, ports):
        super().__init__(tmp, ports[0])
        self.ports = ports

    def substitutions(self):
        return [s for s in super().substitutions() if s[0] != "http://127.0.0.1:8080"]

    def write_config(self, site_text):
        block, addrs = doc_upstream()
        is_eq(len(addrs), 2, "  naming two nodes")
        for addr, port in zip(addrs, self.ports):
            block = block.replace("server %s " % addr, "server 127.0.0.1:%d " % port)
        passes = site_text.count("proxy_pass http://127.0.0.1:8080;")
        ok(passes >= 3, "docs/nginx.conf passes to commentd in %d places" % passes)
        text = site_text.replace("proxy_pass http://127.0.0.1:8080;", "proxy_pass http://commentd;")
        anchor = "    proxy_set_header Host $host;\n"
        ok(anchor in text, "docs/nginx.conf sets the proxy headers in the server block")
        text = text.replace(anchor, anchor + "    proxy_http_version 1.1;\n"
                            "    proxy_set_header Connection \"\";\n", 1)
        text = text.replace("access_log off;", "")
        super().write_config(block + "\n" + text)


def ctl(*args):
    r = subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def texts(answer):
    out = []

    def walk(cs):
        for c in cs:
            out.append((c.get("id"), c.get("author"), c.get("html")))
            walk(c.get("replies") or [])
    walk(answer.get("comments") or [])
    return out


def fill_sqlite(d):
    """Comments, replies, a held comment and a learned decision on the
    SQLite node; returns {thread: answer texts} and the held comment's id."""
    for t in THREADS:
        first = d.comment(t, "Een eerste reactie onder %s, met wat tekst." % t,
                          author="Marieke", email="marieke@example.nl")
        is_eq(first.status, 201, "SQLite node: a comment on %s" % t)
        pid = (first.json() or {}).get("id")
        for i in range(3):
            r = d.comment(t, "Antwoord %d op de eerste reactie." % i, author="Sjef %d" % i,
                          parent=pid)
            is_eq(r.status, 201, "  reply %d" % i)
    before = {t: texts(d.thread(t).json() or {}) for t in THREADS}
    return before


def token_for(db, key):
    rc, out, err = ctl("token", "create", "--db", db, "--key", key, "--name", "schaal",
                       "--display-name", "Beheer")
    ok(rc == 0, "commentctl token create on PostgreSQL", err)
    return out.strip().splitlines()[-1] if rc == 0 else ""


def node_dir(key):
    """A daemon directory holding a copy of the shared key."""
    path = tempfile.mkdtemp(prefix="commentd-node-")
    shutil.copy(key, os.path.join(path, "secret.key"))
    os.chmod(os.path.join(path, "secret.key"), 0o600)
    return path


def upstreams(site, since):
    """The upstream ports of the access log's lines after line since."""
    ports = []
    for line in site.access_log()[since:]:
        m = re.search(r"upstream=127\.0\.0\.1:(\d+)", line)
        if m:
            ports.append(int(m.group(1)))
    return ports


def check_through_nginx(site, nodes, before):
    for t in THREADS:
        r = site.request("GET", "/api/v1/comments?thread=" + t)
        is_eq(texts(json_of(r)), before[t], "through nginx %s reads as it did on SQLite" % t)
    mark = len(site.access_log())
    for i in range(12):
        r = site.request("POST", "/api/v1/comments",
                         {"thread": THREADS[0], "author": "Lezer %d" % i,
                          "email": "lezer%d@example.nl" % i,
                          "text": "Reactie nummer %d via de load balancer." % i},
                         source="127.0.0.%d" % (50 + i))
        is_eq(r.status, 201, "post %d through nginx" % i)
    used = upstreams(site, mark)
    counts = {n.port: used.count(n.port) for n in nodes}
    ok(all(c > 0 for c in counts.values()), "posts reached both nodes", counts)
    # nginx keeps a thread answer for a second (docs/nginx.conf), then
    # revalidates it with either node.
    want, start = len(before[THREADS[0]]) + 12, time.monotonic()
    while True:
        got = texts(json_of(site.request("GET", "/api/v1/comments?thread=" + THREADS[0])))
        if len(got) == want or time.monotonic() - start > 5:
            break
        time.sleep(0.2)
    is_eq(len(got), want, "  and all twelve are in the thread through nginx (after %.1f s)"
          % (time.monotonic() - start))


def check_between_nodes(a, b, token):
    r = a.comment(THREADS[1], "Geplaatst op knooppunt A.", author="A")
    is_eq(r.status, 201, "a comment posted on node A")
    new = (r.json() or {}).get("id")
    ids = [c[0] for c in texts(b.thread(THREADS[1]).json() or {})]
    ok(new in ids, "is in node B's next answer")
    ra, rb = a.thread(THREADS[1]), b.thread(THREADS[1])
    ea, eb = ra.header("ETag"), rb.header("ETag")
    ok(ea and ea == eb, "both nodes give the thread the same ETag", (ea, eb))
    r = b.get("/api/v1/comments?thread=" + THREADS[1], headers={"If-None-Match": ea or "x"})
    is_eq(r.status, 304, "node A's ETag gets a 304 from node B")
    for name, n in (("A", a), ("B", b)):
        r = n.get("/api/v1/admin/stats", headers={"Authorization": "Bearer " + token})
        is_eq(r.status, 200, "the admin token works on node %s" % name)


def check_one_node_down(site, a, b):
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    mark = len(site.access_log())
    statuses = []
    for i in range(6):
        r = site.request("GET", "/api/v1/comments?thread=%s&n=%d" % (THREADS[2], i))
        statuses.append(r.status)
    is_eq(statuses, [200] * 6, "node A killed: GETs through nginx still answer 200")
    r = site.request("POST", "/api/v1/comments",
                     {"thread": THREADS[2], "author": "Na", "email": "na@example.nl",
                      "text": "Geplaatst terwijl knooppunt A weg is."}, source="127.0.0.90")
    is_eq(r.status, 201, "  and a POST 201")
    used = set(upstreams(site, mark))
    ok(b.port in used, "  answered by node B", used)


def migrate(d, pg):
    uri = pg.new_database("commentd")
    t0 = time.monotonic()
    rc, out, err = ctl("migrate-db", "--from", d.db, "--to", uri)
    ok(rc == 0, "commentctl migrate-db SQLite → PostgreSQL (%.1f s)" % (time.monotonic() - t0),
       err[-2000:])
    return uri


def run(pg, tmp):
    sqlite = Daemon(dict(CONFIG))
    nodes, site = [], None
    try:
        sqlite.start()
        before = fill_sqlite(sqlite)
        is_eq(sqlite.stop(), 0, "the SQLite node stops (step 2: nothing written during the copy)")
        uri = migrate(sqlite, pg)
        token = token_for(uri, sqlite.key)
        for _ in range(2):
            n = Daemon(dict(CONFIG, db=uri), directory=node_dir(sqlite.key))
            nodes.append(n)
            n.start()
            is_eq(n.get("/api/v1/health").status, 200,
                  "node %d starts on PostgreSQL with the shared key" % len(nodes))
        a, b = nodes
        site = Balancer(tmp, [a.port, b.port])
        with open(SITE) as f:
            if not start_front(site, f.read()):
                return
        check_through_nginx(site, nodes, before)
        check_between_nodes(a, b, token)
        check_one_node_down(site, a, b)
    finally:
        if site:
            site.stop()
        for n in nodes:
            n.cleanup()
        sqlite.cleanup()


def main():
    if not os.path.exists(NGINX):
        skip_all("nginx is not installed (apt-get install nginx)")
    try:
        server = PgServer()
    except FileNotFoundError as e:
        skip_all(str(e))
    tmp = tempfile.mkdtemp(prefix="commentd-scale-")
    try:
        with server as pg:
            run(pg, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
