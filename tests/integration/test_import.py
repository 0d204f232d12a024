#!/usr/bin/env python3
"""commentctl import and export against the real daemon: every format's
fixture imports while commentd serves and the threads show it at once (the
cache follows threads.version), a second import adds nothing, a broken file
changes nothing and exits 1 with its position, progress shows on a terminal
only, and an export imported into a fresh database answers every thread
byte for byte like the original, apart from ids.

With two sites sharing a path (docs/migrate.md, "Several blogs"): --site
puts a file into one site, the same file into the other site stays apart
and each is idempotent on its own, --learn teaches the site's own layer, an
unknown site or none to choose is refused with nothing written, export
--site writes one site, an export of both goes back each comment into its
own site and answers byte for byte, and a WXR of both is refused."""
import gzip
import json
import os
import pty
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.parsers.expat
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, db_connect, done, is_eq, ok, walk  # noqa: E402

DATA = os.path.join(SOURCE_ROOT, "tests", "data", "import")
RONSE = "/2019/03/door-de-regen-naar-ronse/"
KOFFIE = "/2020/11/koffie-op-de-fiets/"
BLOG = "https://blog.example"
NOTES = "https://notes.example"


def ctl(*args, **kw):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True, **kw)


def imp(d, fmt, path, *extra):
    return ctl("import", "--db", d.db, "--key", d.key, "--format", fmt, *extra, path)


def count_rows(d):
    con = db_connect(d.db)
    n = con.execute("SELECT count(*) FROM comments").fetchone()[0]
    con.close()
    return n


def authors(d, thread):
    return [c.get("author") for c in walk(d.thread(thread).json()["comments"])]


def normalised(body):
    """A thread answer without its ids and its render stamp."""
    text = body.decode("utf-8")
    text = re.sub(r'"(id|parent)":\d+', r'"\1":#', text)
    return re.sub(r',"stamp":"[^"]*"', "", text)


def test_wordpress_while_serving(d):
    before = d.thread(RONSE)
    is_eq(before.json()["count"], 0, "before: the thread is empty (and its answer cached)")
    r = imp(d, "wxr", os.path.join(DATA, "wordpress-nl.xml"))
    ok(r.returncode == 0, "wxr: import exits 0", r.stderr)
    ok("imported 11 of 14 comments from wxr:https://www.trappersenkoffie.nl" in r.stdout,
       "wxr: the summary", r.stdout)
    ok("published 8, pending 1, spam 1, deleted 1" in r.stdout, "wxr: per status", r.stdout)
    ok("pingback 2, trackback 1" in r.stdout, "wxr: skipped with reasons", r.stdout)
    ok("comment 203 (parent 199: missing_parent)" in r.stdout, "wxr: the orphan reported")
    is_eq(r.stderr, "", "wxr: no progress when standard error is not a terminal")
    after = d.thread(RONSE).json()
    is_eq(after["count"], 4, "after: the running daemon shows the 4 published comments")
    names = authors(d, RONSE)
    ok(names[:3] == ["Joost Verhoeven", "Marieke", "Anouk"], "threading kept", names)
    tomb = [c for c in after["comments"] if c.get("deleted")]
    ok(len(tomb) == 1 and tomb[0]["replies"][0]["author"] == "Fenna",
       "the trashed comment is a tombstone with its reply", after)
    ok("Goedkope Horloges" not in names and "Bram" not in names,
       "spam and pending are not shown")
    joost = after["comments"][0]
    is_eq(joost["created"], "2019-03-14T10:02:13Z", "the original date")
    ok("<strong>Kruisberg</strong>" in joost["html"], "WordPress HTML rendered from Markdown")
    is_eq(d.thread("/over-ons/").json()["comments"][0]["html"],
          "<p>Welkom! Schrijf je reacties hieronder. (zwaai) Groet, <strong>Tom</strong></p>",
          "no script survives")
    r = imp(d, "wxr", os.path.join(DATA, "wordpress-nl.xml"))
    ok(r.returncode == 0 and "imported 0 of 14" in r.stdout and "already_imported 11" in r.stdout,
       "the same file again adds nothing", r.stdout)
    is_eq(count_rows(d), 11, "still 11 rows")


def test_other_formats(d):
    work = d.dir
    isso = os.path.join(work, "isso.db")
    con = sqlite3.connect(isso)
    with open(os.path.join(DATA, "isso.sql")) as f:
        con.executescript(f.read())
    con.close()
    r42 = os.path.join(work, "backup-trappersenkoffie-20261114.gz")
    with open(os.path.join(DATA, "remark42.jsonl"), "rb") as f, gzip.open(r42, "wb") as g:
        g.write(f.read())
    for fmt, path, n in (("disqus", os.path.join(DATA, "disqus.xml"), 6),
                         ("isso", isso, 6), ("remark42", r42, 5),
                         ("waline", os.path.join(DATA, "waline.json"), 4)):
        r = imp(d, fmt, path, "--learn")
        ok(r.returncode == 0 and ("imported %d of %d" % (n, n)) in r.stdout,
           "%s: imports %d comments" % (fmt, n), r.stdout + r.stderr)
    names = authors(d, RONSE)
    for who in ("Pieter Claes", "Gast", "Hanneke", "Daan", "Ilse", "Wim"):
        ok(who in names, "%s's comment shows" % who, names)
    ok("learned" in r.stdout, "--learn reports what was learned", r.stdout)
    stats = db_connect(d.db).execute("SELECT nspam, nham FROM classifier_state").fetchone()
    ok(stats[0] >= 2 and stats[1] >= 10, "the classifier learned the imported spam and ham", stats)


def test_bad_input(d):
    rows = count_rows(d)
    cut = os.path.join(d.dir, "cut.xml")
    with open(os.path.join(DATA, "disqus.xml"), "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    r = imp(d, "disqus", cut, "--source", "cut")
    is_eq(r.returncode, 1, "a truncated file exits 1")
    ok(re.search(r"line \d+, column \d+: .*truncated", r.stderr), "... saying where", r.stderr)
    bad = os.path.join(d.dir, "bad.json")
    with open(os.path.join(DATA, "waline.json"), "rb") as f:
        data = f.read()
    with open(bad, "wb") as f:
        f.write(data.replace("Ik wacht op de moderator.".encode(), b"Ik wacht \xff"))
    r = imp(d, "waline", bad, "--source", "bad")
    ok(r.returncode == 1 and re.search(r"line \d+: .*(UTF-8|decode)", r.stderr),
       "an encoding error exits 1 with its line", r.stderr)
    r = imp(d, "blogger", bad)
    ok(r.returncode == 2 and "unknown format" in r.stderr, "an unknown format", r.stderr)
    r = imp(d, "wxr", os.path.join(DATA, "waline.json"))
    ok(r.returncode == 1 and "line 1, column 1" in r.stderr, "the wrong format", r.stderr)
    is_eq(count_rows(d), rows, "nothing of them was written")


def test_progress(d):
    """On a terminal: a progress line on standard error."""
    src = os.path.join(d.dir, "fresh.db")
    master, slave = pty.openpty()
    p = subprocess.run([COMMENTCTL, "import", "--db", src, "--key", d.key, "--format", "wxr",
                        os.path.join(DATA, "wordpress-nl.xml")],
                       stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = b""
    try:
        while True:
            chunk = os.read(master, 4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(master)
    ok(p.returncode == 0 and b"writing: 14 of 14 comments" in out and b"left" in out,
       "a progress line with counts, rate and time left", out)


def test_round_trip(d):
    exported = os.path.join(d.dir, "export.jsonl")
    r = ctl("export", "--db", d.db, "--key", d.key, "--format", "jsonl", "--out", exported)
    ok(r.returncode == 0 and os.path.exists(exported), "export jsonl", r.stderr)
    with open(exported) as f:
        lines = f.read().splitlines()
    ok(json.loads(lines[0]).get("commentd_export") == 1 and len(lines) == count_rows(d) + 1,
       "a header and one line per comment")
    addresses = re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", "\n".join(lines))
    is_eq(addresses, [], "no e-mail address in the export")
    fresh = Daemon()
    try:
        shutil.copy(d.key, fresh.key)
        r = imp(fresh, "jsonl", exported)
        ok(r.returncode == 0, "the export imports into a fresh database", r.stdout + r.stderr)
        fresh.start()
        for t in (RONSE, KOFFIE, "/over-ons/", "/2019/03/door-de-regen-naar-ronse/?x"):
            a, b = d.thread(t), fresh.thread(t)
            ok(a.status == b.status == 200 and normalised(a.body) == normalised(b.body),
               "GET %s answers byte for byte the same, apart from ids" % t,
               "%s\n%s" % (normalised(a.body)[:600], normalised(b.body)[:600]))
        r = imp(fresh, "jsonl", exported)
        ok("imported 0 of" in r.stdout, "the export again adds nothing", r.stdout)
    finally:
        fresh.cleanup()
    wxr = os.path.join(d.dir, "export.xml")
    r = ctl("export", "--db", d.db, "--format", "wxr", "--origin",
            "https://www.trappersenkoffie.nl", "--out", wxr)
    ok(r.returncode == 0, "export wxr", r.stderr)
    seen = {}
    p = xml.parsers.expat.ParserCreate(namespace_separator="|")

    def start(name, attrs):
        seen[name] = seen.get(name, 0) + 1
    p.StartElementHandler = start
    with open(wxr, "rb") as f:
        p.ParseFile(f)
    wp = "http://wordpress.org/export/1.2/|"
    ok(seen.get("rss") == 1 and seen.get("channel") == 1 and seen.get("item", 0) >= 3,
       "wxr: expat parses it; rss, channel and an item per thread", seen)
    for el in ("wxr_version", "base_blog_url", "post_id", "post_type", "status", "comment",
               "comment_id", "comment_date_gmt", "comment_content", "comment_approved",
               "comment_parent"):
        ok(seen.get(wp + el, 0) >= 1, "wxr: has wp:%s" % el)
    is_eq(seen.get(wp + "comment"), count_rows(d), "wxr: every comment")


def two_sites():
    """A daemon with the sites blog and notes (and no site default)."""
    d = Daemon()
    lines = ["db = %s" % d.db, "key = %s" % d.key, "rate_limit = 0", "starter_model = off",
             "", "[site blog]", "origins = " + BLOG, "", "[site notes]", "origins = " + NOTES]
    with open(d.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return d


def site_thread(d, origin, path):
    return d.get("/api/v1/comments?" + urlencode({"thread": path}), headers={"Origin": origin})


def site_rows(d):
    con = db_connect(d.db)
    rows = dict(con.execute("SELECT t.site, count(*) FROM comments c JOIN threads t"
                            " ON t.id = c.thread_id GROUP BY t.site").fetchall())
    con.close()
    return rows


def jsonl_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_sites_import(d):
    wxr = os.path.join(DATA, "wordpress-nl.xml")
    r = ctl("import", "--config", d.conf, "--format", "wxr", wxr)
    ok(r.returncode == 1 and "several sites (blog, notes)" in r.stderr and "--site" in r.stderr,
       "sites: no --site and no site default: refused, saying what to give", r.stderr)
    r = ctl("import", "--config", d.conf, "--site", "nope", "--format", "wxr", wxr)
    ok(r.returncode == 1 and "no site nope" in r.stderr, "sites: an unknown site is refused",
       r.stderr)
    r = ctl("import", "--config", d.conf, "--site", "blog", "--site", "notes", "--format", "wxr",
            wxr)
    ok(r.returncode == 2 and "one site" in r.stderr, "sites: one --site only", r.stderr)
    is_eq(count_rows(d), 0, "sites: nothing written by the refused imports")
    before = site_thread(d, BLOG, RONSE)
    is_eq(before.json()["count"], 0, "sites: blog's thread is empty before (and cached)")
    for site in ("blog", "notes"):
        r = ctl("import", "--config", d.conf, "--site", site, "--format", "wxr", wxr)
        ok(r.returncode == 0 and ("imported 11 of 14 comments from "
                                  "wxr:https://www.trappersenkoffie.nl into site %s" % site)
           in r.stdout, "sites: the WordPress file into %s" % site, r.stdout + r.stderr)
    is_eq(site_rows(d), {"blog": 11, "notes": 11}, "sites: one copy in each site")
    for origin in (BLOG, NOTES):
        a = site_thread(d, origin, RONSE)
        ok(a.status == 200 and a.json()["count"] == 4,
           "sites: %s's thread %s shows its 4 published comments" % (origin, RONSE), a.body)
    r = ctl("import", "--config", d.conf, "--site", "notes", "--format", "wxr", wxr)
    ok(r.returncode == 0 and "imported 0 of 14" in r.stdout and "already_imported 11" in r.stdout,
       "sites: the same file into notes again adds nothing", r.stdout)
    r = ctl("import", "--config", d.conf, "--site", "notes", "--format", "disqus",
            os.path.join(DATA, "disqus.xml"), "--learn")
    ok(r.returncode == 0 and "learned 4 ham, 1 spam" in r.stdout,
       "sites: disqus into notes with --learn", r.stdout + r.stderr)
    con = db_connect(d.db)
    own = dict((s, (sp, h)) for s, sp, h in
               con.execute("SELECT site, nspam, nham FROM classifier_site_state"))
    con.close()
    ok(own.get("notes") == (1, 4) and "blog" not in own,
       "sites: the learning went to notes' own layer, not blog's", own)
    is_eq(site_thread(d, NOTES, RONSE).json()["count"], 4 + 3,
          "sites: notes' thread shows Disqus's 3 published comments too")
    is_eq(site_thread(d, BLOG, RONSE).json()["count"], 4, "sites: blog's does not")


def test_sites_export(d):
    notes = os.path.join(d.dir, "notes.jsonl")
    r = ctl("export", "--config", d.conf, "--site", "notes", "--format", "jsonl", "--out", notes)
    ok(r.returncode == 0, "sites: export --site notes", r.stderr)
    lines = jsonl_lines(notes)
    ok(lines[0].get("site") == "notes" and lines[0].get("source") == NOTES,
       "sites: its header names the site and its origin", lines[0])
    ok(len(lines) == 18 and all(x.get("site") == "notes" for x in lines[1:]),
       "sites: notes' 17 comments only", len(lines))
    every = os.path.join(d.dir, "every.jsonl")
    r = ctl("export", "--config", d.conf, "--format", "jsonl", "--out", every)
    lines = jsonl_lines(every)
    ok(r.returncode == 0 and lines[0].get("site") is None and len(lines) == count_rows(d) + 1,
       "sites: without --site every site's comments", r.stderr)
    is_eq(sorted(set(x["site"] for x in lines[1:])), ["blog", "notes"],
          "sites: each line carries its site")
    r = ctl("export", "--config", d.conf, "--format", "wxr")
    ok(r.returncode == 1 and "--site" in r.stderr and r.stdout == "",
       "sites: a WXR of both sites is refused", r.stderr)
    r = ctl("export", "--config", d.conf, "--site", "blog", "--format", "wxr")
    ok(r.returncode == 0 and "<link>%s%s</link>" % (BLOG, RONSE) in r.stdout
       and r.stdout.count("<wp:comment>") == 11,
       "sites: a WXR of blog, linked on blog's origin", r.stderr)
    r = ctl("export", "--config", d.conf, "--site", "nope", "--format", "jsonl")
    ok(r.returncode == 1 and "no site nope" in r.stderr, "sites: export of an unknown site",
       r.stderr)

    fresh = two_sites()
    try:
        shutil.copy(d.key, fresh.key)
        r = ctl("import", "--config", fresh.conf, "--format", "jsonl", every)
        ok(r.returncode == 0 and "into the sites the comments name" in r.stdout
           and "blog 11" in r.stdout and "notes 17" in r.stdout,
           "sites: the export of both goes back each comment into its site",
           r.stdout + r.stderr)
        fresh.start()
        for origin in (BLOG, NOTES):
            for t in (RONSE, KOFFIE, "/over-ons/"):
                a, b = site_thread(d, origin, t), site_thread(fresh, origin, t)
                ok(a.status == b.status == 200 and normalised(a.body) == normalised(b.body),
                   "sites: %s %s answers byte for byte the same, apart from ids" % (origin, t),
                   "%s\n%s" % (normalised(a.body)[:600], normalised(b.body)[:600]))
        ok(normalised(site_thread(fresh, BLOG, RONSE).body)
           != normalised(site_thread(fresh, NOTES, RONSE).body),
           "sites: the shared path is still two threads")
        r = ctl("import", "--config", fresh.conf, "--format", "jsonl", every)
        ok(r.returncode == 0 and "imported 0 of 28" in r.stdout,
           "sites: importing it again adds nothing", r.stdout + r.stderr)
    finally:
        fresh.cleanup()


def main():
    d = Daemon()
    try:
        d.start()
        test_wordpress_while_serving(d)
        test_other_formats(d)
        test_bad_input(d)
        test_progress(d)
        test_round_trip(d)
    finally:
        d.cleanup()
    d = two_sites()
    try:
        d.start()
        test_sites_import(d)
        test_sites_export(d)
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
