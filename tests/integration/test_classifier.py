#!/usr/bin/env python3
"""The spam filter inside the daemon: after learning a few dozen spam and ham
comments, spam is held or filed and ham is published; a filled honeypot is
discarded; the poster sees "pending" in every case."""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, Daemon, db_connect, done, is_eq, ok, walk  # noqa: E402

T = "/2011/01/social-media-realities"
HAM_WORDS = ("artikel blog volharding twitter linkedin community content relevante "
             "communitymanagement bedrijf marketing strategie lezers nieuwsbrief tijd "
             "moeite punten mooi goed herkenbaar inderdaad dank sjef reactie weblog").split()
SPAM_WORDS = ("cheap viagra pills casino bonus free money fast click buy now best price "
              "discount offer winner bitcoin crypto investment guaranteed profit loans "
              "followers subscribers").split()


def sentences(words, rnd, n, url=None):
    out = []
    for _ in range(n):
        s = " ".join(rnd.choice(words) for _ in range(rnd.randint(8, 14)))
        if url:
            s += " " + url % rnd.randint(1, 50)
        out.append(s)
    return out


def learn(d, label, lines):
    data = "\n".join(json.dumps(x) for x in lines) + "\n"
    r = subprocess.run([COMMENTCTL, "learn", "--db", d.db, "--" + label], input=data,
                       capture_output=True, text=True)
    is_eq(r.returncode, 0, "commentctl learn --%s" % label)


def stored_status(d, cid):
    con = db_connect(d.db)
    row = con.execute("SELECT status, verdict, score, tokens FROM comments WHERE id = ?",
                      (cid,)).fetchone()
    con.close()
    return row


def main():
    rnd = random.Random(7)
    # Score-based discarding off at first, to see spam filed with its reasons.
    with Daemon({"min_learned": "30", "honeypot_field": "website2",
                 "discard_cutoff": "1.01"}) as d:
        # Before learning: a new blog's comments are published (cold start).
        r = d.comment(T, "Mooi artikel, dank je wel!", author="Eerste", email="e@example.nl")
        is_eq(r.json()["status"], "published", "cold start: an untrained filter holds nothing")
        ham = [{"text": t, "author": "Lezer", "email": "lezer@example.nl"}
               for t in sentences(HAM_WORDS, rnd, 40)]
        spam = [{"text": t, "author": "Promo", "email": "promo@spam.example",
                 "url": "http://shop.example.com"}
                for t in sentences(SPAM_WORDS, rnd, 40, "http://promo%d.example.com")]
        learn(d, "ham", ham)
        learn(d, "spam", spam)

        spam_text = ("Cheap viagra pills and casino bonus, buy now at the best price "
                     "http://promo7.example.com")
        r = d.comment(T, spam_text, author="Promo", email="x@spam.example",
                      url="http://shop.example.com")
        is_eq((r.status, r.json()["status"]), (201, "pending"), "spam: the poster sees pending")
        st = stored_status(d, r.json()["id"])
        ok(st and st[0] in ("pending", "spam"), "spam is held or filed as spam", st)
        ok(st and st[2] is not None and st[2] > 0.9, "and scored as spam", st)
        toks = json.loads(st[3]) if st and st[3] else []
        ok(len(toks) > 0 and all("token" in t and "p" in t for t in toks),
           "the deciding tokens are kept", toks)
        spam_id = r.json()["id"]
        ok(not any(c["id"] == spam_id for c in walk(d.thread(T).json()["comments"])),
           "spam is not on the page")

        r = d.comment(T, "Herkenbaar artikel over communitymanagement en relevante content "
                      "voor ons bedrijf, dank Sjef", author="Lezer", email="l2@example.nl")
        is_eq(r.json()["status"], "published", "ham is published")
        st = stored_status(d, r.json()["id"])
        ok(st and st[1] == "ham" and st[2] < 0.3, "and scored as ham", st)

        # An author who edits a published comment into spam is held again.
        r = d.comment(T, "Mooi artikel over relevante content en communitymanagement, dank",
                      author="Lezer", email="l3@example.nl").json()
        is_eq(r["status"], "published", "a ham comment is published")
        e = d.request("PATCH", "/api/v1/comments/%d" % r["id"],
                      body={"text": spam_text}, headers={"X-Edit-Token": r["edit_token"]})
        is_eq((e.status, (e.json() or {}).get("status")), (200, "pending"),
              "editing it into spam holds it for moderation")
        ok(not any(c["id"] == r["id"] for c in walk(d.thread(T).json()["comments"])),
           "and takes it off the page")

        # Blatant spam past the discard cut-off is counted, not stored
        # (the cut-off changes with a configuration reload).
        d.write_config({"min_learned": "30", "honeypot_field": "website2"})
        d.proc.send_signal(1)  # SIGHUP
        ok(any("READY=1" in m for m in d.notifications(timeout=5)), "reloaded")
        con = db_connect(d.db)
        n0 = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        con.close()
        r = d.comment(T, spam_text, author="Promo", email="x@spam.example",
                      url="http://shop.example.com")
        is_eq((r.status, r.json()["status"]), (201, "pending"), "discard: the poster sees pending")
        con = db_connect(d.db)
        n1 = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        disc = con.execute("SELECT coalesce(sum(count), 0) FROM discarded").fetchone()[0]
        con.close()
        is_eq((n1 - n0, disc), (0, 1), "blatant spam is discarded: counted, not stored")

        # The honeypot: a hidden field only bots fill.
        con = db_connect(d.db)
        before = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        con.close()
        r = d.post("/api/v1/comments", {"thread": T, "author": "Bot", "email": "b@example.nl",
                                        "text": "Mooi artikel", "website2": "http://x.example"})
        is_eq((r.status, r.json()["status"]), (201, "pending"),
              "a filled honeypot: the poster sees pending")
        for key in ("id", "thread", "author", "created", "html", "avatar", "status"):
            ok(key in r.json(), "the discard answer looks like a held one (%s)" % key)
        con = db_connect(d.db)
        after = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        discarded = con.execute("SELECT sum(count) FROM discarded").fetchone()[0]
        con.close()
        is_eq(after, before, "a filled honeypot is not stored")
        is_eq(discarded, 2, "but counted")
        r = d.post("/api/v1/comments", {"thread": T, "author": "Mens", "email": "m@example.nl",
                                        "text": "Mooi artikel, dank", "website2": ""})
        is_eq(r.json()["status"], "published", "an empty honeypot is fine")
        r = d.post("/api/v1/comments",
                   "thread=%2Fx&author=Bot&email=b%40example.nl&text=hoi&website2=spam",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        is_eq(r.status, 303, "a form with a filled honeypot is answered like any form")

        # The signed render time.
        stamp = d.thread(T).json().get("stamp", "")
        ok("." in stamp, "GET hands out a signed render stamp")
        r = d.comment(T, "Met stempel, mooi artikel", author="Stempel", email="s@example.nl",
                      stamp=stamp)
        is_eq(r.status, 201, "a POST with the stamp is accepted")
        r = d.comment(T, "Vals stempel, mooi artikel", author="Vals", email="v@example.nl",
                      stamp="1.AAAA")
        is_eq(r.status, 201, "a forged stamp is ignored, not an error")
        is_eq(d.stop(), 0, "clean stop")
    done()


if __name__ == "__main__":
    main()
