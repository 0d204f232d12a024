#!/usr/bin/env python3
"""commentctl migrate-db end to end (lib/migrate.h): a real daemon on
SQLite gathers comments, replies, likes, a reader's subscription,
notifications, moderation with classifier learning, a moderator's reply,
tokens and an Akismet key; the database is moved to a throwaway
postgresql-15 (tests/pgserver.py) and back to a new SQLite file that
holds exactly the same rows; the daemon started on PostgreSQL serves the
same threads, counts and admin data, and goes on from the same ids.
Refusals (a non-empty destination, a missing file, an unreachable server,
an unknown table, an older schema, a corrupted file, usage) fail with a
clear message and leave no data behind."""
import os
import pty
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, done, free_port, is_eq, ok, skip_all  # noqa: E402
from pgserver import PgServer  # noqa: E402

PASSWORD = "not-shown-9f2"
# The import's spam is from 2019: kept, so that the maintenance task of a
# daemon started later does not delete what the comparisons look at.
KEEP = {"spam_retention_days": "3650"}
DATA_TABLES = [
    "threads", "comments", "classifier_state", "classifier_tokens", "classifier_learned",
    "classifier_site_state", "classifier_site_tokens", "admin_tokens", "admin_token_sites",
    "audit", "discarded", "akismet_keys", "decided_daily", "decoys", "import_ids", "outbox",
    "outbox_deliveries", "subscriptions", "link_uses", "likes", "status_counts",
    "node_keys",
]


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True,
                          timeout=300)


def admin(d, tok, method, path, body=None):
    return d.request(method, "/api/v1/admin" + path, body=body,
                     headers={"Authorization": "Bearer " + tok})


def like(d, cid, ip):
    return d.request("POST", "/api/v1/comments/%d/like" % cid,
                     headers={"X-Forwarded-For": ip})


def gather(d):
    """Writes through the daemon what the tables hold; returns the admin
    token."""
    r = ctl("token", "create", "--db", d.db, "--key", d.key, "--name", "mod",
            "--display-name", "De Redactie")
    tok = r.stdout.strip()
    ok(r.returncode == 0 and len(tok) == 43, "a moderator token", r.stderr)
    r = ctl("key", "create", "--blog", "https://blog.example.org", "--db", d.db, "--key", d.key)
    ok(r.returncode == 0, "an Akismet key", r.stderr)
    ids = []
    for i, (path, text) in enumerate([
            ("/a", "Eerste reactie over **koffie**."),
            ("/a", "Nog een reactie, met een link https://example.org/x."),
            ("/b", "Een vraag over fietsen in de regen?"),
            ("/b", "Buy cheap pills now cheap pills casino viagra"),
            ("/c", "Zoë schrijft: ☕ en ünïcödé.")]):
        r = d.comment(path, text, author="Lezer %d" % i, email="lezer%d@example.org" % i,
                      notify=(i == 0))
        ok(r.status == 201, "comment %d posts" % i, repr(r))
        ids.append((r.json() or {}).get("id"))
    r = d.comment("/a", "Een antwoord.", author="Sjef", email="sjef@example.org",
                  parent=ids[0])
    ok(r.status == 201, "a reply posts")
    ids.append((r.json() or {}).get("id"))
    for ip in ("198.51.100.1", "198.51.100.2", "203.0.113.9"):
        ok(like(d, ids[0], ip).status == 200, "a like from " + ip)
    ok(like(d, ids[2], "198.51.100.1").status == 200, "a like on /b")
    is_eq(admin(d, tok, "POST", "/comments/%d/spam" % ids[3]).status, 200, "spam: learned")
    is_eq(admin(d, tok, "POST", "/comments/%d/approve" % ids[1]).status, 200,
          "approve: learned")
    is_eq(admin(d, tok, "POST", "/comments/%d/delete" % ids[4]).status, 200, "a deletion")
    r = admin(d, tok, "POST", "/comments/%d/reply" % ids[2], {"text": "Ja, met een cape."})
    is_eq(r.status, 201, "a moderator's reply")
    r = d.comment("/a", "A bot.", author="Bot", email="bot@example.org", website2="x")
    is_eq(r.status, 201, "a bot's post is discarded (answered like a held one)")
    r = ctl("token", "create", "--db", d.db, "--key", d.key, "--name", "sitemod", "--site",
            "default")
    ok(r.returncode == 0, "a token limited to a site", r.stderr)
    r = ctl("import", "--db", d.db, "--key", d.key, "--format", "wxr",
            os.path.join(SOURCE_ROOT, "tests", "data", "import", "wordpress-nl.xml"))
    ok(r.returncode == 0, "an import (import_ids)", r.stderr)
    # The outbox worker expands the events into deliveries (the SMTP
    # server refuses: they wait for a retry).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        con = sqlite3.connect(d.db)
        n = con.execute("SELECT count(*) FROM outbox_deliveries").fetchone()[0]
        con.close()
        if n:
            break
        time.sleep(0.5)
    ok(n > 0, "notification deliveries are queued (%d)" % n)
    return tok


def served(d, tok):
    """What readers and moderators are served: threads, counts, the admin
    list, stats and audit (without what changes by itself: stamps, the
    time of the request)."""
    out = {}
    for path in ("/a", "/b", "/c"):
        t = d.thread_all(path)
        out["thread " + path] = t
    out["counts"] = d.post("/api/v1/counts", {"threads": ["/a", "/b", "/c", "/none"]}).json()
    lst = admin(d, tok, "GET", "/comments?limit=50").json() or {}
    out["admin list"] = lst.get("comments")
    stats = admin(d, tok, "GET", "/stats").json() or {}
    out["stats"] = {k: stats.get(k) for k in ("counts", "classifier", "decisions")}
    out["audit"] = (admin(d, tok, "GET", "/audit?limit=50").json() or {}).get("entries")
    out["me"] = admin(d, tok, "GET", "/me").json()
    return out


def differing_rows(a, b):
    """Per data table: rows in one SQLite file and not the other."""
    con = sqlite3.connect(a)
    con.execute("ATTACH ? AS b", (b,))
    out = {}
    for t in DATA_TABLES:
        n = con.execute("SELECT (SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT "
                        "SELECT * FROM b.%s)) + (SELECT count(*) FROM (SELECT * FROM b.%s "
                        "EXCEPT SELECT * FROM main.%s))" % (t, t, t, t)).fetchone()[0]
        total = con.execute("SELECT count(*) FROM main.%s" % t).fetchone()[0]
        out[t] = (n, total)
    con.close()
    return out


def pg_rows(pg, db):
    return int(pg.psql("SELECT (SELECT count(*) FROM threads) + (SELECT count(*) FROM "
                       "comments)", db).strip())


def round_trip(pg, d, tok, work):
    before = served(d, tok)
    d.stop()
    uri = pg.new_database("moved").replace("commentd@", "commentd:%s@" % PASSWORD, 1)
    r = ctl("migrate-db", "--from", d.db, "--to", uri)
    ok(r.returncode == 0 and "22 tables" in r.stdout and "verified" in r.stdout,
       "migrate-db SQLite -> PostgreSQL", r.stdout + r.stderr)
    ok(PASSWORD not in r.stdout + r.stderr and "commentd:***@" in r.stdout,
       "the URI's password is not shown", r.stdout)
    ok("\r" not in r.stderr, "no progress lines when stderr is not a terminal", r.stderr)

    back = os.path.join(work, "back.db")
    r = ctl("migrate-db", "--from", uri, "--to", back)
    ok(r.returncode == 0, "migrate-db PostgreSQL -> a new SQLite file", r.stdout + r.stderr)
    diff = differing_rows(d.db, back)
    ok(all(n == 0 for n, _ in diff.values()),
       "the round trip keeps every row of the 22 tables", repr(diff))
    empty = [t for t in DATA_TABLES if diff[t][1] == 0]
    # link_uses is written when a mail's link is followed (test-migrate
    # copies a row of it).
    is_eq(empty, ["link_uses"], "the source had rows in every other data table")
    con = sqlite3.connect(back)
    is_eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "the copy is sound")
    is_eq(con.execute("PRAGMA foreign_key_check").fetchall(), [], "its references hold")
    con.close()

    # The daemon on PostgreSQL serves what it served on SQLite.
    pgd = Daemon(dict(KEEP, db=uri, trusted_proxies="127.0.0.1", min_submit_seconds="0"),
                 directory=d.dir, keep_dir=True)
    try:
        pgd.start()
        after = served(pgd, tok)
        for k in before:
            is_eq(after.get(k), before[k], "on PostgreSQL: the same " + k)
        r = pgd.comment("/a", "Na de verhuizing.", author="Nieuw", email="nieuw@example.org")
        newid = (r.json() or {}).get("id")
        old_max = max(c["id"] for c in before["admin list"])
        ok(r.status == 201 and newid and newid > old_max,
           "a new comment on PostgreSQL takes a new id (%s > %d)" % (newid, old_max))
        ok(like(pgd, newid or 0, "198.51.100.7").status == 200, "likes work there")
    finally:
        pgd.stop()
    # And the file that came back serves the same too.
    bd = Daemon(dict(KEEP, db=back, trusted_proxies="127.0.0.1"), directory=d.dir,
                keep_dir=True)
    try:
        bd.start()
        again = served(bd, tok)
        for k in ("thread /a", "thread /b", "counts", "audit"):
            is_eq(again.get(k), before[k], "back on SQLite: the same " + k)
    finally:
        bd.stop()
    return uri


def refusals(pg, d, uri, work):
    rows = pg_rows(pg, "moved")
    r = ctl("migrate-db", "--from", d.db, "--to", uri)
    ok(r.returncode == 1 and "not empty" in r.stderr and "threads" in r.stderr,
       "a non-empty destination is refused, naming a table", r.stderr)
    is_eq(pg_rows(pg, "moved"), rows, "  and left as it was")

    dest = os.path.join(work, "never.db")
    r = ctl("migrate-db", "--from", os.path.join(work, "missing.db"), "--to", dest)
    ok(r.returncode == 1 and "no such file" in r.stderr, "a missing source file", r.stderr)
    ok(not os.path.exists(dest) and not os.path.exists(os.path.join(work, "missing.db")),
       "  creates nothing")

    r = ctl("migrate-db", "--from", d.db, "--to",
            "postgresql://commentd@127.0.0.1:%d/x?connect_timeout=3" % free_port())
    ok(r.returncode == 1 and "cannot reach" in r.stderr, "an unreachable server", r.stderr)
    r = ctl("migrate-db", "--from", d.db, "--to", "postgresql://commentd@%zz/x")
    ok(r.returncode == 1 and "cannot reach" in r.stderr, "a malformed URI", r.stderr)

    extra = os.path.join(work, "extra.db")
    shutil.copy(d.db, extra)
    con = sqlite3.connect(extra)
    con.execute("CREATE TABLE guestbook (id INTEGER PRIMARY KEY, text TEXT)")
    con.execute("INSERT INTO guestbook (text) VALUES ('hallo')")
    con.commit()
    con.close()
    fresh = pg.new_database("fresh")
    r = ctl("migrate-db", "--from", extra, "--to", fresh)
    ok(r.returncode == 1 and "'guestbook'" in r.stderr and "left behind" in r.stderr,
       "a table migrate-db does not know fails it, named", r.stderr)
    is_eq(pg_rows(pg, "fresh"), 0, "  the destination holds no data")

    old = os.path.join(work, "old.db")
    shutil.copy(d.db, old)
    con = sqlite3.connect(old)
    con.execute("PRAGMA user_version = 16")
    con.close()
    r = ctl("migrate-db", "--from", old, "--to", dest)
    ok(r.returncode == 1 and "schema version 16" in r.stderr, "an older schema is refused",
       r.stderr)
    con = sqlite3.connect(old)
    is_eq(con.execute("PRAGMA user_version").fetchone()[0], 16, "  and not migrated")
    con.close()
    ok(not os.path.exists(dest), "  no destination made")

    broken = os.path.join(work, "broken.db")
    shutil.copy(d.db, broken)
    size = os.path.getsize(broken)
    with open(broken, "r+b") as f:
        f.seek(4096)
        f.write(os.urandom(size - 4096))
    r = ctl("migrate-db", "--from", broken, "--to", dest)
    ok(r.returncode == 1 and "commentctl migrate-db:" in r.stderr,
       "a corrupted source fails cleanly (%d)" % r.returncode, r.stderr[-600:])
    ok(not os.path.exists(dest), "  no destination made")

    tty_progress(d, work)

    r = ctl("migrate-db", "--from", d.db)
    ok(r.returncode == 2 and "--to" in r.stderr, "usage: --to missing", r.stderr)
    r = ctl("migrate-db", "--from", d.db, "--to", d.db)
    ok(r.returncode == 1 and "the same" in r.stderr, "source = destination", r.stderr)


def tty_progress(d, work):
    """On a terminal: each table's rows copied of its total."""
    master, slave = pty.openpty()
    p = subprocess.Popen([COMMENTCTL, "migrate-db", "--from", d.db, "--to",
                          os.path.join(work, "tty.db")], stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = p.wait(timeout=120)
    text = out.decode("utf-8", "replace")
    ncomments = sqlite3.connect(d.db).execute("SELECT count(*) FROM comments").fetchone()[0]
    ok(rc == 0 and "\r" in text and re.search(r"comments +%d/%d rows" % (ncomments, ncomments),
                                               text),
       "on a terminal: progress per table (rows copied / total)", text[-800:])


def main():
    try:
        server = PgServer()
    except FileNotFoundError as e:
        skip_all(str(e))
    work = tempfile.mkdtemp(prefix="commentd-migrate-")
    os.chmod(work, 0o755)
    d = Daemon(dict(KEEP, **{"trusted_proxies": "127.0.0.1", "min_submit_seconds": "0",
                "smtp_url": "smtp://127.0.0.1:%d" % free_port(),
                "smtp_from": "comments@example.org", "public_url": "http://127.0.0.1:1",
                "notify_moderators": "mod@example.org", "notify_retry_seconds": "1"}))
    try:
        with server as pg:
            d.start()
            tok = gather(d)
            uri = round_trip(pg, d, tok, work)
            refusals(pg, d, uri, work)
    finally:
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
