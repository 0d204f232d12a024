#!/usr/bin/env python3
"""Moderation that explains itself, over HTTP: every reason code the
pipeline gives (as the admin list returns it), the readable deciding
tokens, the article's title and address on a thread, a reply's parent,
replying as the site's author (the reply endpoint, the author badge in
every public answer), the impersonation hold, and the daily series of
the stats."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, db_connect, db_holds, done, is_eq, ok, walk  # noqa: E402
from test_moderation import HAM  # noqa: E402

T = "/2011/01/social-media-realities"
BLOG = "https://blog.example.nl"
PAGE = BLOG + T
SPAM = [
    "CHEAP VIAGRA pills online buy now http://pills.example.com best price",
    "Cheap pills online, buy viagra now http://pills.example.com cheap",
    "Buy cheap pills now, best viagra price online http://pills.example.com",
    "Viagra pills cheap online buy best price http://pills.example.com now",
    "Online pills, cheap viagra, buy now http://pills.example.com price",
]


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True)


def token(d, name="moderator", display=None):
    args = ["token", "create", "--db", d.db, "--key", d.key, "--name", name]
    if display:
        args += ["--display-name", display]
    r = ctl(*args)
    ok(r.returncode == 0 and len(r.stdout.strip()) == 43, "token create %s" % name, r.stderr)
    return r.stdout.strip()


def admin(d, tok, method, path, body=None):
    return d.request(method, "/api/v1/admin" + path, body=body,
                     headers={"Authorization": "Bearer " + tok})


def item(d, tok, cid):
    """The admin list's item for comment cid."""
    r = admin(d, tok, "GET", "/comments?limit=200")
    for c in (r.json() or {}).get("comments", []):
        if c["id"] == cid:
            return c
    return None


def reasons(d, tok, cid):
    c = item(d, tok, cid)
    return c["reasons"] if c else None


def codes(d, tok, cid):
    return [r["code"] for r in reasons(d, tok, cid) or []]


def post(d, text, author="Lezer", email="lezer@example.nl", **extra):
    r = d.comment(T, text, author=author, email=email, **extra)
    ok(r.status == 201, "POST %r answers 201" % text[:30], r)
    return r.json() or {}


def site_rules():
    """links, blocklist_word/domain/network, allowlist, too_fast, honeypot,
    edited, moderation_all, first_comment."""
    with Daemon({"max_links": "2", "blocklist_words": "viagra",
                 "blocklist_domains": "spam.example", "blocklist_networks": "203.0.113.0/24",
                 "trusted_proxies": "127.0.0.1"}) as d:
        tok = token(d)
        c = post(d, "zie http://a.nl http://b.nl en http://c.nl")
        is_eq(reasons(d, tok, c["id"]), [{"code": "links", "count": 3, "limit": 2}],
              "links: the count and the limit")
        c = post(d, "Koop VIAGRA hier")
        is_eq(codes(d, tok, c["id"]), ["blocklist_word"], "blocklist_word")
        c = post(d, "zie http://www.spam.example/x")
        is_eq(codes(d, tok, c["id"]), ["blocklist_domain"], "blocklist_domain")
        r = d.request("POST", "/api/v1/comments",
                      {"thread": T, "author": "Net", "email": "net@example.nl", "text": "hoi"},
                      headers={"X-Forwarded-For": "203.0.113.9"})
        is_eq(codes(d, tok, r.json()["id"]), ["blocklist_network"], "blocklist_network")

        # too_fast: the stamp from GET, sent back at once (min_submit_seconds 3).
        stamp = d.thread(T).json()["stamp"]
        c = post(d, "Snel getypt.", stamp=stamp)
        is_eq(c.get("status"), "pending", "a post sent at once after the render is held")
        rs = reasons(d, tok, c["id"])
        ok(rs and rs[0]["code"] == "too_fast" and rs[0]["limit"] == 3 and
           0 <= rs[0]["seconds"] < 3, "too_fast with the seconds and the limit", rs)
        c = post(d, "Zonder stempel.")
        is_eq(c.get("status"), "published", "without a stamp the rule does not judge")
        c = post(d, "Met een vals stempel.", stamp="1.AAAA")
        is_eq(c.get("status"), "published", "nor with a forged one")

        # The honeypot: discarded, so no row carries the reason; counted.
        before = admin(d, tok, "GET", "/stats").json()["discarded"]
        c = post(d, "Ik ben een robot.", website2="http://bot.example")
        is_eq(c.get("status"), "pending", "a filled honeypot is answered like a held comment")
        is_eq(item(d, tok, c["id"]), None, "and not stored")
        is_eq(admin(d, tok, "GET", "/stats").json()["discarded"], before + 1,
              "but counted as discarded")

        # edited: an author's edit is decided again.
        c = post(d, "Gewoon.")
        r = d.request("PATCH", "/api/v1/comments/%d" % c["id"],
                      {"text": "nu met http://a.nl http://b.nl http://c.nl"},
                      headers={"X-Edit-Token": c["edit_token"]})
        is_eq(r.status, 200, "the author's edit")
        is_eq(codes(d, tok, c["id"]), ["links", "edited"], "an edit names its holds and edited")

    with Daemon({"moderation": "all"}) as d:
        tok = token(d)
        c = post(d, "Wacht maar.")
        is_eq(codes(d, tok, c["id"]), ["moderation_all"], "moderation_all")

    with Daemon({"moderation": "first"}) as d:
        tok = token(d)
        hash_anna = ctl("email-hash", "--key", d.key, "--email", "anna@example.nl").stdout.strip()
        c = post(d, "Mijn eerste.", author="Bob", email="bob@example.nl")
        is_eq(codes(d, tok, c["id"]), ["first_comment"], "first_comment")
        is_eq(admin(d, tok, "POST", "/comments/%d/approve" % c["id"]).status, 200, "approve it")
        c = post(d, "Mijn tweede.", author="Bob", email="bob@example.nl")
        is_eq((c.get("status"), codes(d, tok, c["id"])), ("published", []),
              "the second is published, without reasons")
        d.stop()
        d.write_config({"moderation": "first", "allowlist_emails": hash_anna})
        d.start()
        c = post(d, "Ik sla de rij over.", author="Anna", email="anna@example.nl")
        is_eq(codes(d, tok, c["id"]), ["allowlist"], "allowlist")


def train(d, tok, n_spam, n_ham, offset):
    ids_spam, ids_ham = [], []
    for i in range(n_spam):
        ids_spam.append(post(d, SPAM[(i + offset) % len(SPAM)] + " %d" % (i + offset),
                             author="Promo %d" % (i + offset),
                             email="promo%d@spam.example.com" % (i + offset))["id"])
    for i in range(n_ham):
        ids_ham.append(post(d, HAM[(i + offset) % len(HAM)], author="Lezer %d" % (i + offset),
                            email="lezer%d@example.nl" % (i + offset))["id"])
    is_eq(admin(d, tok, "POST", "/comments/bulk", {"action": "spam", "ids": ids_spam}).status,
          200, "teach %d spam" % n_spam)
    is_eq(admin(d, tok, "POST", "/comments/bulk", {"action": "approve", "ids": ids_ham}).status,
          200, "teach %d ham" % n_ham)


def classifier():
    """classifier (score, verdict, readable tokens), cold_start."""
    with Daemon({"min_learned": "5", "spam_cutoff": "0.9", "ham_cutoff": "0.4",
                 "discard_cutoff": "1.01", "max_links": "5"}) as d:
        tok = token(d)
        train(d, tok, 4, 4, 0)
        probe = "Cheap viagra pills, buy now online best price http://pills.example.com"
        c = post(d, probe, author="Promo X", email="x@spam.example.com")
        rs = reasons(d, tok, c["id"])
        is_eq([r["code"] for r in rs or []], ["classifier", "cold_start"],
              "cold start: a spam score holds, with reasons classifier and cold_start")
        train(d, tok, 1, 1, 4)
        c = post(d, probe + " again", author="Promo Y", email="y@spam.example.com")
        rs = reasons(d, tok, c["id"]) or [{}]
        cl = rs[0]
        is_eq((cl.get("code"), cl.get("verdict")), ("classifier", "spam"),
              "trained: the classifier files spam, with its verdict")
        ok(isinstance(cl.get("score"), float) and cl["score"] >= 0.9, "and its score", cl)
        toks = cl.get("tokens") or []
        ok(len(toks) > 0 and all(set(t) == {"kind", "text", "p", "spam", "model"} and
                                 t["model"] in ("site", "starter", "both") for t in toks),
           "the deciding tokens are readable: kind, text, p, spam, model", toks[:3])
        kinds = {t["kind"] for t in toks}
        ok(kinds <= {"word", "word_pair", "fragment", "word_start", "word_end", "long_word",
                     "number_shape", "punctuation", "link", "link_domain", "link_count",
                     "length", "capitals", "obfuscation", "name", "website", "website_domain",
                     "browser", "referrer", "render_time", "duplicate", "email_domain",
                     "network", "signal"}, "every kind is a known code", kinds)
        ok(any(t["kind"] == "link" and t["text"] == "pills.example.com" for t in toks) or
           any(t["kind"] == "word" for t in toks), "words and links read as what they are", toks)
        for t in toks:
            if t["kind"] in ("email_domain", "network", "signal"):
                ok(t["text"] is None, "a %s token is shown without its value" % t["kind"])
        listed = item(d, tok, c["id"])
        text = str(listed)
        ok("spam.example.com" not in text.replace("pills.example.com", ""),
           "the e-mail domain is nowhere in the admin item")
        ok("127.0.0" not in str(listed["tokens"]) and "127.0.0" not in str(listed["reasons"]),
           "nor the client's network in its tokens or reasons")


def context():
    """page_title and page_url on the thread; a reply's parent excerpt."""
    with Daemon({"site_origins": BLOG}) as d:
        tok = token(d)
        c = post(d, "Leuk artikel!", author="Danny", email="danny@example.nl",
                 page_title="Social media realities\n", page_url=PAGE + "?x=1")
        listed = item(d, tok, c["id"])
        is_eq((listed["page_title"], listed["page_url"]),
              ("Social media realities", PAGE + "?x=1"),
              "the admin item carries the article's title and address")
        is_eq(listed["url"], None, "url stays the commenter's website (none)")
        r = post(d, "Eens, Danny.", author="Eva", email="eva@example.nl", parent=c["id"],
                 page_title="Social media realities (2)", page_url="https://evil.example/x")
        listed = item(d, tok, r["id"])
        is_eq(listed["page_title"], "Social media realities (2)",
              "a published post refreshes the title")
        is_eq(listed["page_url"], PAGE + "?x=1", "a page URL off the site's origins is ignored")
        is_eq(listed["parent_excerpt"], {"id": c["id"], "author": "Danny",
                                         "text": "Leuk artikel!", "deleted": False},
              "a reply shows its parent's excerpt")
        is_eq(item(d, tok, c["id"])["parent_excerpt"], None, "a top-level comment has none")
        r = d.post("/api/v1/comments", "thread=%2Fnojs&author=Fem&email=fem%40example.nl"
                   "&text=Zonder+JS&page_title=Nieuwsbrief+of+RSS%3F"
                   "&page_url=https%3A%2F%2Fblog.example.nl%2Fnojs",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        is_eq(r.status, 303, "the no-JS form posts with its context")
        lst = admin(d, tok, "GET", "/comments?thread=/nojs").json()["comments"]
        is_eq((lst[0]["page_title"], lst[0]["page_url"]),
              ("Nieuwsbrief of RSS?", BLOG + "/nojs"), "  and the thread has it")
        r = d.comment(T, "x", page_title=["no"])
        is_eq((r.status, r.json()["error"]), (400, "invalid_type"), "a title that is no string")
        r = post(d, "Met mijn adres in de link.", page_url=PAGE + "?email=danny%40example.nl",
                 author="G", email="g@example.nl")
        thread = d.thread(T).json()
        ok(not db_holds(d.db, "danny%40example.nl"),
           "a page URL with an e-mail address in its query is not stored")
        ok("page_title" not in str(thread) and "Social media realities" not in str(thread),
           "the public thread does not carry the context")


def impersonation_and_replies():
    with Daemon({"site_origins": BLOG}) as d:
        plain = token(d, "plain")
        r = admin(d, plain, "GET", "/me")
        is_eq(r.json(), {"name": "plain", "display_name": None}, "/me without a display name")
        c = post(d, "Een vraag aan Sjef.", author="Danny", email="danny@example.nl")
        r = admin(d, plain, "POST", "/comments/%d/reply" % c["id"], {"text": "Antwoord"})
        is_eq((r.status, r.json()["error"]), (422, "no_display_name"),
              "a token without a display name cannot reply")
        r = ctl("token", "set", "--db", d.db, "--name", "plain", "--display-name", " ")
        ok(r.returncode != 0, "token set refuses a blank display name")
        r = ctl("token", "set", "--db", d.db, "--name", "nobody", "--display-name", "X")
        ok(r.returncode != 0, "token set needs an existing token")
        tok = token(d, "sjef", display="Sjef Kerkhofs")
        is_eq(admin(d, tok, "GET", "/me").json(),
              {"name": "sjef", "display_name": "Sjef Kerkhofs"}, "/me with the display name")
        r = ctl("token", "list", "--db", d.db)
        ok('"display_name": "Sjef Kerkhofs"' in r.stdout, "token list shows it")

        # The impersonation hold.
        for name in ("Sjef Kerkhofs", "sjef  KERKHOFS", "Sjef Kerkhofs.",
                     "\u0405j\u0435f Kerkhofs", "Sjef\u200b Kerkhofs"):
            i = post(d, "Ik ben Sjef.", author=name, email="nep@example.nl")
            is_eq(i.get("status"), "pending", "a post as %r is held" % name)
            is_eq(reasons(d, tok, i["id"]), [{"code": "impersonation", "name": "Sjef Kerkhofs"}],
                  "  reason impersonation naming the display name")
        i = post(d, "Ik heet ook Sjef.", author="Sjef", email="sjef2@example.nl")
        is_eq(i.get("status"), "published", "another name is not held")
        r = ctl("token", "set", "--db", d.db, "--name", "plain", "--display-name", "Redactie")
        is_eq(r.returncode, 0, "token set gives the other token a display name")
        i = post(d, "Namens de redactie.", author="REDACTIE", email="r@example.nl")
        is_eq(i.get("status"), "pending", "a name set a moment ago is protected at once")

        # Replying as the site's author.
        r = admin(d, tok, "POST", "/comments/%d/reply" % c["id"], {"text": "Dank je, *Danny*!"})
        is_eq(r.status, 201, "the reply endpoint answers 201")
        rep = r.json()
        is_eq((rep["author"], rep["author_badge"], rep["status"], rep["parent"]),
              ("Sjef Kerkhofs", True, "published", c["id"]),
              "published under the display name, with the badge, below the comment")
        ok("edit_token" not in rep, "no edit token for a moderator's reply")
        is_eq(reasons(d, tok, rep["id"]), [{"code": "moderator"}], "reason moderator")
        listed = item(d, tok, rep["id"])
        is_eq((listed["moderator"], listed["author_badge"]), ("sjef", True),
              "the admin item names the moderator")
        thread = d.thread(T).json()
        nodes = list(walk(thread["comments"]))
        keysets = {tuple(sorted(n)) for n in nodes}
        is_eq(len(keysets), 1, "every public comment has one key set")
        ok(all(("author_badge" in n) for n in nodes), "author_badge in every comment")
        ok([n["id"] for n in nodes if n["author_badge"]] == [rep["id"]],
           "true only for the moderator's reply")
        audit = admin(d, tok, "GET", "/audit").json()["entries"]
        ok(any(e["action"] == "reply" and e["comment"] == rep["id"] and e["actor"] == "sjef"
               for e in audit), "the reply is in the audit log")

        # Approve and reply in one request.
        held = post(d, "Ik wacht.", author="Martin", email="martin@example.nl",
                    stamp=d.thread(T).json()["stamp"])
        is_eq(held.get("status"), "pending", "(a held comment)")
        r = admin(d, tok, "POST", "/comments/%d/reply" % held["id"], {"text": "Ja"})
        is_eq((r.status, r.json()["error"]), (409, "parent_not_published"),
              "a reply to a held comment needs approve")
        r = admin(d, tok, "POST", "/comments/%d/reply" % held["id"],
                  {"text": " ", "approve": True})
        is_eq(r.status, 422, "an empty reply is refused")
        is_eq(item(d, tok, held["id"])["status"], "pending", "  and approves nothing")
        r = admin(d, tok, "POST", "/comments/%d/reply" % held["id"],
                  {"text": "Welkom, Martin.", "approve": True})
        is_eq(r.status, 201, "approve and reply")
        is_eq(item(d, tok, held["id"])["status"], "published", "  the comment is published")
        ok(any(n["id"] == r.json()["id"] for n in walk(d.thread(T).json()["comments"])),
           "  and the reply is in the thread")

        # Bad requests.
        is_eq(admin(d, tok, "POST", "/comments/999999/reply", {"text": "x"}).status, 404,
              "an unknown comment is 404")
        is_eq(admin(d, tok, "POST", "/comments/%d/reply" % c["id"], {"text": "x",
              "author": "Someone"}).status, 400, "the author cannot be chosen")
        r = d.request("POST", "/api/v1/admin/comments/%d/reply" % c["id"], "{",
                      headers={"Authorization": "Bearer " + tok,
                               "Content-Type": "application/json"})
        is_eq((r.status, r.json()["error"]), (400, "invalid_json"), "malformed JSON is 400")
        is_eq(d.request("POST", "/api/v1/admin/comments/%d/reply" % c["id"], {"text": "x"})
              .status, 401, "no token is 401")
        r = ctl("token", "revoke", "--db", d.db, "--name", "sjef")
        i = post(d, "Nu mag het.", author="Sjef Kerkhofs", email="nep2@example.nl")
        is_eq(i.get("status"), "published", "a revoked token's name is no longer held")


def stats():
    with Daemon({"moderation": "all"}) as d:
        tok = token(d)
        r = admin(d, tok, "GET", "/stats?days=7")
        j = r.json()
        is_eq((r.status, j["days"], len(j["series"])), (200, 7, 7), "stats?days=7: seven days")
        is_eq(admin(d, tok, "GET", "/stats").json()["days"], 30, "thirty by default")
        for bad in ("0", "366", "x", "-1"):
            r = admin(d, tok, "GET", "/stats?days=" + bad)
            is_eq((r.status, (r.json() or {}).get("error")), (400, "invalid_days"),
                  "days=%s is 400" % bad)
        a = post(d, "Een.")
        b = post(d, "Twee.")
        admin(d, tok, "POST", "/comments/%d/approve" % a["id"])
        admin(d, tok, "POST", "/comments/%d/spam" % b["id"])
        post(d, "Robot.", website2="x")
        today = admin(d, tok, "GET", "/stats?days=1").json()["series"][0]
        is_eq((today["held"], today["published"], today["spam"], today["discarded"],
               today["decisions"], today["reversals"], today["agreement"]),
              (2, 0, 0, 1, 2, 0, 1.0), "today: held, discarded, decisions, full agreement")
        ok(set(today) == {"date", "published", "held", "spam", "discarded", "decisions",
                          "reversals", "agreement"}, "a day's keys", today)
        con = db_connect(d.db)
        con.execute("DELETE FROM comments")
        con.commit()
        con.close()
        again = admin(d, tok, "GET", "/stats?days=1").json()["series"][0]
        is_eq(again["held"], 2, "the series survives the deletion of the comments")


def imported():
    """imported: a comment brought in by commentctl import keeps its source's
    status, and the queue says where it came from (not a rule's decision)."""
    wxr = os.path.join(SOURCE_ROOT, "tests", "data", "import", "wordpress-nl.xml")
    with Daemon({"moderation": "none"}) as d:
        tok = token(d)
        r = ctl("import", "--config", d.conf, "--format", "wxr", wxr)
        ok(r.returncode == 0, "imported: a WordPress export imports", r.stderr)
        got = {}
        for status in ("pending", "spam", "published"):
            a = admin(d, tok, "GET", "/comments?status=%s&limit=200" % status)
            for c in (a.json() or {}).get("comments", []):
                got.setdefault(status, []).append(c)
        held = [c for c in got.get("pending", []) if c["author"] == "Bram"]
        ok(len(held) == 1 and [x["code"] for x in held[0]["reasons"]] == ["imported"],
           "imported: the held one (approved 0 in WordPress) is pending, reason imported",
           held)
        everyone = [c for cs in got.values() for c in cs]
        ok(everyone and all([x["code"] for x in c["reasons"]] == ["imported"] for c in everyone),
           "imported: every imported comment, spam and published too, says imported",
           [(c["author"], c["status"], c["reasons"]) for c in everyone])
        ok(got.get("spam") and got.get("published"), "imported: spam and published ones listed",
           {k: len(v) for k, v in got.items()})


def main():
    site_rules()
    classifier()
    context()
    impersonation_and_replies()
    stats()
    imported()
    done()


if __name__ == "__main__":
    main()
