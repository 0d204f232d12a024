#!/usr/bin/env python3
"""Import benchmark: a generated WordPress export of N comments through
`commentctl import`, wall time and peak memory (max RSS of the process).

usage: bench/import.py [--comments N] [--commentctl PATH] [--commentd PATH]
                       [--learn] [--keep DIR] [--batch N]

The generated WXR (bench-only, made up here: never real data) is a Dutch
blog with N comments over N/50 posts: threads of top-level comments and
replies up to four deep, 4 % spam, 2 % trash (most with replies), 3 %
pending, 2 % pingbacks, HTML in the text (strong, em, links, paragraphs).
It is written to a temporary directory (or --keep DIR) and imported into a
fresh database; then the same file is imported again (idempotency: nothing
added) and the database is exported as JSON Lines.  Each step prints its
wall time, rate and the max RSS of the commentctl process (os.wait4).
Only the Python standard library is used.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORDS = ("fiets regen koffie helling kasseien ploeg wind zadel band ketting "
         "Ronse Kwaremont Paterberg Oudenaarde route tocht bidon trui jas "
         "mooi zwaar lekker koud nat snel traag bergop bergaf samen alleen "
         "zaterdag zondag ochtend avond kilometer uur vandaag gisteren volgend "
         "jaar echt heel wel niet ook nog maar want omdat toen dus").split()
SPAM = ("cheap replica watches buy now best price casino bonus free spins "
        "followers instagram click here discount pills online").split()
NAMES = ("Joost Marieke Anouk Fenna Kees Sanne Bram Lotte Tom Pieter Sofie Ruben "
         "Hanneke Daan Ilse Wim Femke Jeroen Noor Sem Lieke Thijs Eva Luuk").split()


def sentence(rnd, words, n):
    return " ".join(rnd.choice(words) for _ in range(n)).capitalize() + "."


def text_of(rnd, spam):
    if spam:
        return ("%s <a href=\"http://spam%d.example.com/\">%s</a> %s" %
                (sentence(rnd, SPAM, 8), rnd.randrange(500), rnd.choice(SPAM),
                 sentence(rnd, SPAM, 6)))
    parts = [sentence(rnd, WORDS, rnd.randrange(6, 20)) for _ in range(rnd.randrange(1, 4))]
    if rnd.random() < 0.3:
        parts[0] = parts[0].replace(" ", " <strong>", 1).replace(".", "</strong>.", 1)
    if rnd.random() < 0.1:
        parts.append('Zie <a href="https://blog%d.example.nl/">mijn verslag</a>.' % rnd.randrange(99))
    return "\n\n".join(parts)


def comment(out, cid, parent, day, rnd, kind):
    name = rnd.choice(NAMES)
    status = {"spam": "spam", "trash": "trash", "pending": "0"}.get(kind, "1")
    ctype = "pingback" if kind == "pingback" else "comment"
    out.write(
        "\t\t<wp:comment>\n"
        "\t\t\t<wp:comment_id>%d</wp:comment_id>\n"
        "\t\t\t<wp:comment_author><![CDATA[%s]]></wp:comment_author>\n"
        "\t\t\t<wp:comment_author_email><![CDATA[%s%d@example.nl]]></wp:comment_author_email>\n"
        "\t\t\t<wp:comment_author_url></wp:comment_author_url>\n"
        "\t\t\t<wp:comment_author_IP><![CDATA[192.0.2.%d]]></wp:comment_author_IP>\n"
        "\t\t\t<wp:comment_date><![CDATA[%s]]></wp:comment_date>\n"
        "\t\t\t<wp:comment_date_gmt><![CDATA[%s]]></wp:comment_date_gmt>\n"
        "\t\t\t<wp:comment_content><![CDATA[%s]]></wp:comment_content>\n"
        "\t\t\t<wp:comment_approved><![CDATA[%s]]></wp:comment_approved>\n"
        "\t\t\t<wp:comment_type><![CDATA[%s]]></wp:comment_type>\n"
        "\t\t\t<wp:comment_parent>%d</wp:comment_parent>\n"
        "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
        "\t\t</wp:comment>\n" %
        (cid, name, name.lower(), rnd.randrange(1000), rnd.randrange(1, 255), day, day,
         text_of(rnd, kind == "spam"), status, ctype, parent))


def generate(path, n, seed=42):
    """Writes a WXR of n comments; returns the number of posts."""
    rnd = random.Random(seed)
    posts = max(1, n // 50)
    cid = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"\n'
                  '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
                  '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
                  '\txmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
                  '\t<title>Bench</title>\n\t<link>https://bench.example.nl</link>\n'
                  '\t<wp:wxr_version>1.2</wp:wxr_version>\n'
                  '\t<wp:base_blog_url>https://bench.example.nl</wp:base_blog_url>\n')
        for p in range(posts):
            year = 2012 + p * 12 // posts
            out.write("\t<item>\n\t\t<title>Post %d</title>\n"
                      "\t\t<link>https://bench.example.nl/%d/%02d/post-%d/</link>\n"
                      "\t\t<wp:post_id>%d</wp:post_id>\n\t\t<wp:post_type>post</wp:post_type>\n"
                      % (p, year, p % 12 + 1, p, p + 1))
            ids = []  # (id, depth)
            count = n // posts + (1 if p < n % posts else 0)
            for i in range(count):
                cid += 1
                r = rnd.random()
                kind = ("spam" if r < 0.04 else "trash" if r < 0.06 else
                        "pending" if r < 0.09 else "pingback" if r < 0.11 else "comment")
                parent = 0
                if ids and kind not in ("spam", "pingback") and rnd.random() < 0.45:
                    pid, depth = rnd.choice(ids[-12:])
                    if depth < 4:
                        parent = pid
                        ids.append((cid, depth + 1))
                    else:
                        ids.append((cid, 1))
                else:
                    ids.append((cid, 1))
                day = "%d-%02d-%02d %02d:%02d:%02d" % (year, p % 12 + 1, 1 + i % 28, i % 24,
                                                       i % 60, cid % 60)
                comment(out, cid, parent, day, rnd, kind)
            out.write("\t</item>\n")
        out.write("</channel>\n</rss>\n")
    return posts


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (exit status, seconds, max RSS in MiB, stdout, CPU seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if stdout is None else stdout,
                         stderr=subprocess.PIPE)
    out = p.stdout.read() if stdout is None else b""
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
    return (p.returncode, time.monotonic() - t0, usage.ru_maxrss / 1024.0, out,
            usage.ru_utime + usage.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=100000)
    ap.add_argument("--commentctl", default=os.path.join(ROOT, "build", "ctl", "commentctl"))
    ap.add_argument("--commentd", default=os.path.join(ROOT, "build", "daemon", "commentd"))
    ap.add_argument("--learn", action="store_true", help="also time an import with --learn")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--keep", help="work in this directory and keep it")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="bench-import-")
    os.makedirs(work, exist_ok=True)
    try:
        wxr = os.path.join(work, "export.xml")
        key = os.path.join(work, "secret.key")
        t0 = time.monotonic()
        posts = generate(wxr, a.comments)
        print("generated %d comments over %d posts: %.1f MB in %.1f s" %
              (a.comments, posts, os.path.getsize(wxr) / 1e6, time.monotonic() - t0))
        if not os.path.exists(key):
            subprocess.run([a.commentd, "--keygen", key], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        batch = ["--batch", str(a.batch)] if a.batch else []
        runs = [("import", [], "fresh.db"), ("import again", [], "fresh.db")]
        if a.learn:
            runs.append(("import --learn", ["--learn"], "learn.db"))
        for name, extra, db in runs:
            cmd = [a.commentctl, "import", "--db", os.path.join(work, db), "--key", key,
                   "--format", "wxr", "--json"] + batch + extra + [wxr]
            rc, secs, rss, out, cpu = run(cmd, stdout=None)
            if rc != 0:
                print("%s failed (exit %d)" % (name, rc))
                return 1
            rep = json.loads(out)
            print("%-15s %7d imported of %d in %6.1f s (%6.0f records/s, CPU %5.1f s), "
                  "max RSS %5.1f MiB%s"
                  % (name, rep["imported"], rep["records"], secs, rep["records"] / secs, cpu, rss,
                     ", learned %d ham + %d spam" % (rep["learned"]["ham"],
                                                     rep["learned"]["spam"])
                     if a.learn and extra else ""))
        rc, secs, rss, _, cpu = run([a.commentctl, "export", "--db", os.path.join(work, "fresh.db"),
                                "--format", "jsonl", "--out", os.path.join(work, "out.jsonl")])
        print("%-15s %7s in %6.1f s (CPU %5.1f s), max RSS %5.1f MiB"
              % ("export jsonl", "", secs, cpu, rss))
        print("database: %.1f MB" % (os.path.getsize(os.path.join(work, "fresh.db")) / 1e6))
        return rc
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
