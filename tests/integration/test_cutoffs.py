#!/usr/bin/env python3
"""Cut-offs learned per site, in the daemon: once moderators have decided
enough comments that the filter told apart well, the admin stats report the
site's learned cut-offs (a wider published and filed band); with
learn_cutoffs = off, after a reload, the configured ones."""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, Daemon, db_connect, done, is_eq, ok  # noqa: E402
from test_classifier import HAM_WORDS, SPAM_WORDS, learn, sentences  # noqa: E402

T = "/2011/01/social-media-realities"


def admin(d, tok, method, path, body=None):
    # A bulk decision of 60 comments learns each one: under ASan on a loaded
    # machine, on PostgreSQL (a savepoint around every write of the
    # transaction), it outlasted the harness's 30 s (a client timeout, not
    # a measure: bench/ measures).
    return d.request(method, "/api/v1/admin" + path, body=body,
                     headers={"Authorization": "Bearer " + tok}, timeout=180)


def cutoffs(d, tok):
    r = admin(d, tok, "GET", "/stats")
    ok(r.status == 200, "admin stats answer", r)
    return (r.json() or {}).get("classifier", {}) if r.status == 200 else {}


def main():
    rnd = random.Random(11)
    with Daemon({"min_learned": "30", "discard_cutoff": "1.01"}) as d:
        tok = subprocess.run([COMMENTCTL, "token", "create", "--db", d.db, "--key", d.key,
                              "--name", "cutoffs"], capture_output=True, text=True).stdout.strip()
        cl = cutoffs(d, tok)
        is_eq((cl.get("cutoffs"), cl.get("ham_cutoff"), cl.get("spam_cutoff")),
              ("configured", 0.65, 0.99), "nothing decided: the configured cut-offs")
        # A filter that learned elsewhere (commentctl learn: not the site's
        # decided comments), then 60 spam and 60 ham comments arrive and
        # the moderators decide each one.
        learn(d, "ham", [{"text": t, "author": "Lezer", "email": "l@example.nl"}
                         for t in sentences(HAM_WORDS, rnd, 40)])
        learn(d, "spam", [{"text": t, "author": "Promo", "email": "p@spam.example"}
                          for t in sentences(SPAM_WORDS, rnd, 40, "http://promo%d.example.com")])
        ids = {"spam": [], "approve": []}
        for text in sentences(SPAM_WORDS, rnd, 60, "http://promo%d.example.com"):
            ids["spam"].append(d.comment(T, text, author="Promo",
                                         email="x@spam.example").json()["id"])
        for text in sentences(HAM_WORDS, rnd, 60):
            ids["approve"].append(d.comment(T, text, author="Lezer",
                                            email="y@example.nl").json()["id"])
        for action, batch in ids.items():
            r = admin(d, tok, "POST", "/comments/bulk", {"action": action, "ids": batch})
            is_eq(r.status, 200, "the moderators decide: %s" % action)
        cl = cutoffs(d, tok)
        is_eq(cl.get("cutoffs"), "learned", "120 decided comments: the cut-offs are learned")
        is_eq(cl.get("cutoffs_decided"), {"spam": 60, "ham": 60}, "from the 120 decided")
        is_eq((cl.get("ham_cutoff"), cl.get("spam_cutoff")), (0.8, 0.95),
              "well told apart: the widest bands the bounds allow")
        is_eq((cl.get("configured_ham_cutoff"), cl.get("configured_spam_cutoff")),
              (0.65, 0.99), "the configured cut-offs beside them")
        r = d.comment(T, "Cheap viagra casino bonus http://promo3.example.com", author="Promo",
                      email="z@spam.example")
        is_eq(r.json().get("status"), "pending", "spam: the poster sees pending")
        con = db_connect(d.db)
        row = con.execute("SELECT reasons FROM comments WHERE id = ?",
                          (r.json()["id"],)).fetchone()
        con.close()
        cls = [x for x in json.loads(row[0] if row and row[0] else "[]")
               if x.get("code") == "classifier"]
        ok(cls and cls[0].get("cutoffs") == "learned" and cls[0].get("spam_cutoff") == 0.95,
           "the classifier reason carries the learned cut-offs", cls)

        d.write_config({"min_learned": "30", "discard_cutoff": "1.01", "learn_cutoffs": "off"})
        d.proc.send_signal(1)  # SIGHUP
        ok(any("READY=1" in m for m in d.notifications(timeout=5)), "reloaded")
        cl = cutoffs(d, tok)
        is_eq((cl.get("cutoffs"), cl.get("ham_cutoff"), cl.get("spam_cutoff")),
              ("off", 0.65, 0.99), "learn_cutoffs = off: the configured cut-offs")
    done()


if __name__ == "__main__":
    main()
