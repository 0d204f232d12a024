#!/usr/bin/env python3
"""The seed article's nine visible comments, posted with their replies.

Reads ../shared/seed/article-social-media-realities.txt next to the
repository; skipped (with a message) when ../shared is absent.  Replies are
inferred the way a reader does: "@Name" answers Name's latest comment, and a
comment answers the previous one when that one addressed its author.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Daemon, db_holds, done, is_eq, ok, skip_all, walk  # noqa: E402

SEED = os.path.join(os.environ.get("SHARED_DIR", os.path.join(SOURCE_ROOT, "..", "shared")),
                    "seed", "article-social-media-realities.txt")
T = "/2011/01/social-media-realities"


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    section = text.split("reacties", 1)[1].split("Laat een antwoord achter", 1)[0]
    comments = []
    for m in re.finditer(r"^\s*(\d+)\.\s+(.+?)\n(.*?)Beantwoorden", section, re.S | re.M):
        body = "\n\n".join(p.strip() for p in m.group(3).strip().split("\n\n") if p.strip())
        comments.append({"n": int(m.group(1)), "author": m.group(2).strip(), "text": body})
    return comments


def first_name(author):
    return author.split()[0].lower()


def email_for(author):
    return re.sub(r"[^a-z]", ".", author.lower()).strip(".") + "@example.nl"


def main():
    if not os.path.exists(SEED):
        skip_all("../shared/seed is absent; the corpus suite needs the seed article")
    comments = parse(SEED)
    is_eq(len(comments), 9, "nine visible comments parsed from the seed")
    # On a fresh database with the shipped starter model (the default): the
    # real comments are published from the first one.
    with Daemon({"starter_model": "on"}) as d:
        posted = []
        for c in comments:
            parent = None
            m = re.match(r"@(\w+)", c["text"])
            if m:
                for p in reversed(posted):
                    if first_name(p["author"]) == m.group(1).lower():
                        parent = p["id"]
                        break
            elif posted and re.match(r"@" + re.escape(c["author"].split()[0]),
                                     posted[-1]["text"], re.I):
                parent = posted[-1]["id"]
            body = {"thread": T, "author": c["author"], "email": email_for(c["author"]),
                    "text": c["text"]}
            if parent:
                body["parent"] = parent
            r = d.post("/api/v1/comments", body)
            is_eq(r.status, 201, "comment %d by %s posted" % (c["n"], c["author"]))
            ok("@example.nl" not in r.body.decode(), "no e-mail in the answer to %d" % c["n"])
            posted.append(dict(c, id=r.json()["id"], parent=parent))
        r = d.thread(T)
        j = r.json()
        is_eq(j["count"], 9, "the thread counts 9")
        ok(b"@example.nl" not in r.body, "no e-mail address in the thread")
        tree = {c["id"]: c for c in walk(j["comments"])}
        for p in posted:
            c = tree.get(p["id"])
            ok(c is not None and c["author"] == p["author"], "comment %d read back" % p["n"])
            if c:
                is_eq(c["parent"], p["parent"], "comment %d has its parent" % p["n"])
        ok(sum(1 for p in posted if p["parent"]) >= 2, "the conversation has replies")
        r = d.post("/api/v1/counts", [T])
        is_eq(r.json().get(T), 9, "counts says 9")
        is_eq(d.stop(), 0, "clean stop")
        for c in comments:
            e = email_for(c["author"])
            ok(not db_holds(d.db, e), "%s not in the database files" % e)
    done()


if __name__ == "__main__":
    main()
