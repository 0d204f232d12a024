#!/usr/bin/env python3
"""commentctl import and export against the real daemon: every format's
fixture imports while commentd serves and the threads show it at once (the
cache follows threads.version), a second import adds nothing, a broken file
changes nothing and exits 1 with its position, progress shows on a terminal
only, and an export imported into a fresh database answers every thread
byte for byte like the original, apart from ids."""
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, done, is_eq, ok, walk  # noqa: E402

DATA = os.path.join(SOURCE_ROOT, "tests", "data", "import")
RONSE = "/2019/03/door-de-regen-naar-ronse/"
KOFFIE = "/2020/11/koffie-op-de-fiets/"


def ctl(*args, **kw):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True, **kw)


def imp(d, fmt, path, *extra):
    return ctl("import", "--db", d.db, "--key", d.key, "--format", fmt, *extra, path)


def count_rows(d):
    con = sqlite3.connect(d.db)
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
    stats = sqlite3.connect(d.db).execute("SELECT nspam, nham FROM classifier_state").fetchone()
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
    done()


if __name__ == "__main__":
    main()
