#!/usr/bin/env python3
"""A multilingual thread the test writes itself round-trips exactly."""
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, db_query, done, is_eq, ok, walk  # noqa: E402

T = "/2011/01/social-media-realities"

# (author, text, index of the comment it answers or None)
THREAD = [
    ("Danny Verhoeven", "Leuk artikel Sjef! Social Media is hard werken.", None),
    ("Jürgen Groß", "Sehr gute Punkte. Die Social-Media-Marketingstrategie ist "
     "Straßenbahnhaltestellenüberdachung-komplex.", 0),
    ("Γιώργος Παπαδόπουλος", "Πολύ καλό άρθρο! Συμφωνώ απόλυτα.", 1),
    ("山田太郎", "ソーシャルメディアは難しいですね。日本語のコメントです。", None),
    ("Emoji 🎉", "Geweldig 👍🏽🔥 — \"quotes\", 'apostrophes', „Dutch“ «guillemets»", 3),
    ("Sjef Kerkhofs", "@Jasper @Danny: bedankt! Zie <b>niet vet</b> & co.", 0),
]


def main():
    with Daemon() as d:
        ids = []
        for author, text, parent in THREAD:
            extra = {"parent": ids[parent]} if parent is not None else {}
            r = d.comment(T, text, author=author, email="x@example.nl", **extra)
            is_eq(r.status, 201, "posted as %s" % author)
            is_eq(r.json().get("author"), author, "author echoed exactly: %s" % author)
            ids.append(r.json()["id"])
        # A reply chain deeper than the depth limit (5).
        chain = [ids[2]]  # depth 3
        for i in range(6):
            r = d.comment(T, "Verdieping %d — ελληνικά — 日本 — 🎈" % i, author="Diep",
                          email="deep@example.nl", parent=chain[-1])
            is_eq(r.status, 201, "deep reply %d accepted" % i)
            chain.append(r.json()["id"])
        j = d.thread(T).json()
        by_id = {c["id"]: c for c in walk(j["comments"])}
        is_eq(j["count"], len(THREAD) + 6, "every comment counted")
        for i, (author, text, parent) in enumerate(THREAD):
            c = by_id.get(ids[i])
            ok(c is not None, "comment %d in the tree" % i)
            if not c:
                continue
            is_eq(c["author"], author, "author round-trips: %s" % author)
            want = "<p>" + html.escape(text, quote=True).replace("&#x27;", "&#39;") + "</p>"
            is_eq(c["html"], want, "text round-trips exactly (escaped): %s" % author)
            is_eq(c["parent"], ids[parent] if parent is not None else None, "parent kept")

        def max_depth(nodes, lvl=1):
            return max([lvl] + [max_depth(n["replies"], lvl + 1) for n in nodes if n["replies"]])
        is_eq(max_depth(j["comments"]), 5, "the deep chain stops at depth 5")
        # The stored text is exactly what was written.
        stored = {r[0]: (r[1], r[2]) for r in db_query(d, "SELECT id, author, text FROM comments")}
        for i, (author, text, _) in enumerate(THREAD):
            is_eq(stored[ids[i]], (author, text), "stored as written: %s" % author)
        is_eq(d.stop(), 0, "clean stop")
    done()


if __name__ == "__main__":
    main()
