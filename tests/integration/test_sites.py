#!/usr/bin/env python3
"""Several blogs on one daemon (docs/configuration.md, "Sites").

- two sites with the same path stay apart: threads, their pages and
  cursors, counts, the thread cache, discarded posts' decoys, privacy
  exports (with what is kept sealed);
- a request from an unknown origin is refused (4xx JSON, no CORS), a site
  named against the request's origin is refused, CORS answers per site;
- per-site settings apply to their site only (moderation, max_links,
  blocklists), also through the Akismet endpoint (a key decides by its
  site's rules);
- a token for one site cannot read or act on the other through any admin
  route (404, exactly like an id that does not exist);
- SIGHUP adds a site without a restart;
- commentctl: token create --site, key create --blog/--site, privacy and
  maintain --site;
- a database made by the release before sites (schema up to the migration
  before 0009-sites) upgrades with nothing lost.
"""
import base64
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, SOURCE_ROOT, Daemon, db_connect, done, is_eq,  # noqa: E402
                     not_on_engine, ok, walk)

BLOG = "https://blog.example"
NOTES = "https://notes.example"
THIRD = "https://third.example"
EVIL = "https://evil.example"
PATH = "/about/"


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True)


def write_config(d, sites, top=None):
    """The daemon's file: the harness's top-level settings, then one
    [site ID] section per (id, settings) in sites."""
    # As the harness's: no starter model (its doubt may hold test comments).
    lines = ["db = %s" % d.db, "key = %s" % d.key, "rate_limit = 0", "starter_model = off"]
    lines += ["%s = %s" % kv for kv in (top or {}).items()]
    for sid, settings in sites:
        lines.append("")
        lines.append("[site %s]" % sid)
        lines += ["%s = %s" % kv for kv in settings.items()]
    with open(d.conf, "w") as f:
        f.write("\n".join(lines) + "\n")


SITES = [
    ("blog", {"origins": BLOG, "moderation": "all", "blocklist_words": "casino"}),
    ("notes", {"origins": NOTES + ", https://www.notes.example", "max_links": "0"}),
]


def start(sites=SITES, top=None):
    d = Daemon()
    write_config(d, sites, top)
    return d.start()


def post(d, origin, text, thread=PATH, site=None, email="reader@example.org", **extra):
    body = {"thread": thread, "author": "Reader", "email": email, "text": text}
    if site:
        body["site"] = site
    body.update(extra)
    return d.post("/api/v1/comments", body, headers={"Origin": origin} if origin else None)


def thread(d, origin, path=PATH, query=None):
    q = {"thread": path}
    q.update(query or {})
    return d.get("/api/v1/comments?" + urlencode(q), headers={"Origin": origin})


def counts(d, origin, paths):
    return d.post("/api/v1/counts", paths, headers={"Origin": origin})


def token(d, name, *sites, display=None):
    args = ["token", "create", "--config", d.conf, "--name", name]
    if display:
        args += ["--display-name", display]
    for s in sites:
        args += ["--site", s]
    r = ctl(*args)
    ok(r.returncode == 0 and len(r.stdout.strip()) == 43,
       "token create %s %s" % (name, " ".join("--site " + s for s in sites)), r)
    return r.stdout.strip()


def admin(d, tok, method, path, body=None):
    return d.request(method, "/api/v1/admin" + path, body=body,
                     headers={"Authorization": "Bearer " + tok})


def code(r):
    j = r.json() or {}
    return (r.status, j.get("error"))


def status_of(d, cid):
    con = db_connect(d.db)
    try:
        row = con.execute("SELECT status, text FROM comments WHERE id = ?", (cid,)).fetchone()
    finally:
        con.close()
    return row


def apart(d):
    """The same path on two sites: two threads, two counts, two caches."""
    b1 = post(d, BLOG, "First on the blog")
    is_eq(b1.status, 201, "a post from the blog's origin")
    is_eq(b1.json()["status"], "pending", "blog: moderation = all holds it")
    n1 = post(d, NOTES, "First on notes")
    is_eq((n1.status, n1.json()["status"]), (201, "published"),
          "notes (top-level moderation none): published")
    n2 = post(d, "https://www.notes.example", "Second on notes, from the www origin")
    is_eq(n2.json()["status"], "published", "a site's second origin is the same site")

    t_notes = thread(d, NOTES)
    ids = [c["id"] for c in walk(t_notes.json()["comments"])]
    is_eq(sorted(ids), sorted([n1.json()["id"], n2.json()["id"]]),
          "notes' /about/ has notes' two comments")
    is_eq(t_notes.header("Access-Control-Allow-Origin"), NOTES, "CORS for notes' origin")
    t_blog = thread(d, BLOG)
    is_eq((t_blog.status, t_blog.json()["count"]), (200, 0),
          "blog's /about/ shows none (its one is pending)")
    etag_blog = t_blog.header("ETag")

    # The cache: both threads are cached now; a change on one leaves the
    # other's answer and ETag alone, and never mixes them up.
    etag_notes = thread(d, NOTES).header("ETag")
    is_eq(thread(d, NOTES, query={}).header("ETag"), etag_notes, "notes' answer is stable")
    ok(etag_blog != etag_notes, "the two sites' threads have different ETags")
    tok = token(d, "all-sites")
    is_eq(admin(d, tok, "POST", "/comments/%d/approve" % b1.json()["id"]).status, 200,
          "approve the blog's comment")
    t_blog = thread(d, BLOG)
    is_eq([c["id"] for c in t_blog.json()["comments"]], [b1.json()["id"]],
          "blog's thread now shows it (the cache followed the change)")
    is_eq(thread(d, NOTES).header("ETag"), etag_notes, "and notes' cached answer is the same")
    r = d.get("/api/v1/comments?thread=%s" % PATH,
              headers={"Origin": NOTES, "If-None-Match": etag_notes})
    is_eq(r.status, 304, "notes' ETag still validates")
    r = d.get("/api/v1/comments?thread=%s" % PATH,
              headers={"Origin": BLOG, "If-None-Match": etag_notes})
    is_eq(r.status, 200, "notes' ETag does not validate blog's thread")

    c_b = counts(d, BLOG, [PATH, "/nothing/"]).json()
    c_n = counts(d, NOTES, [PATH, "/nothing/"]).json()
    is_eq((c_b, c_n), ({PATH: 1, "/nothing/": 0}, {PATH: 2, "/nothing/": 0}),
          "counts are per site")

    # A reply names a parent in its own site's thread only.
    r = post(d, BLOG, "A reply across sites", parent=n1.json()["id"])
    is_eq(code(r), (422, "invalid_parent"), "a reply to notes' comment from blog is refused")
    # An author edits only on the comment's own site.
    tok_n1 = n1.json()["edit_token"]
    r = d.request("PATCH", "/api/v1/comments/%d" % n1.json()["id"], {"text": "Edited"},
                  headers={"Origin": BLOG, "X-Edit-Token": tok_n1})
    is_eq(code(r), (404, "not_found"), "an author's edit through another site is 404")
    r = d.request("PATCH", "/api/v1/comments/%d" % n1.json()["id"], {"text": "Edited"},
                  headers={"Origin": NOTES, "X-Edit-Token": tok_n1})
    is_eq(r.status, 200, "through its own site it works")
    return {"blog": [b1.json()["id"]], "notes": [n1.json()["id"], n2.json()["id"]]}


def pages_apart(d):
    """One path on two sites, read page by page: each site's cursors walk
    its own thread only, a cursor carried to the other site shows nothing
    of the first, and the cache keeps the two sites' pages apart."""
    path = "/paged/"
    tok = token(d, "pager")
    blog_ids = []
    for i in range(4):
        r = post(d, BLOG, "Blog page comment %d" % i, thread=path)
        blog_ids.append(r.json()["id"])
    r = admin(d, tok, "POST", "/comments/bulk", {"action": "approve", "ids": blog_ids})
    is_eq(r.status, 200, "blog's four comments approved")
    notes_ids = [post(d, NOTES, "Notes page comment %d" % i, thread=path).json()["id"]
                 for i in range(3)]

    def read_all(origin):
        seen, cursors, q = [], [], {"limit": 1}
        for _ in range(20):
            j = thread(d, origin, path, q).json()
            seen += [c["id"] for c in walk(j["comments"])]
            if not j.get("cursor"):
                break
            cursors.append(j["cursor"])
            q = {"limit": 1, "cursor": j["cursor"]}
        return seen, cursors, j["count"]

    seen_b, cur_b, count_b = read_all(BLOG)
    seen_n, cur_n, count_n = read_all(NOTES)
    is_eq((seen_b, count_b), (blog_ids, 4), "blog's pages: its four, one a page, count 4")
    is_eq((seen_n, count_n), (notes_ids, 3), "notes' pages: its three, count 3")
    is_eq(counts(d, BLOG, [path]).json(), {path: 4}, "the count agrees with the pages (blog)")
    is_eq(counts(d, NOTES, [path]).json(), {path: 3}, "and notes")
    for cur in cur_b:
        j = thread(d, NOTES, path, {"limit": 1, "cursor": cur}).json()
        ok(not set(c["id"] for c in walk(j["comments"])) & set(blog_ids),
           "blog's cursor on notes' thread shows none of blog's comments")
    # One cursor text asked of both sites (the same query string): the
    # cache key holds the site, so each answers from its own thread.
    j_b = thread(d, BLOG, path, {"limit": 1, "cursor": cur_b[0]}).json()
    j_n = thread(d, NOTES, path, {"limit": 1, "cursor": cur_b[0]}).json()
    is_eq(([c["id"] for c in walk(j_b["comments"])], [c["id"] for c in walk(j_n["comments"])]),
          (blog_ids[1:2], notes_ids[:1]),
          "one cursor text on both sites: each answers from its own thread")
    # The render stamp is made per answer and changes every second.
    def unstamped(j):
        return {k: v for k, v in j.items() if k != "stamp"}
    is_eq(unstamped(thread(d, BLOG, path, {"limit": 1, "cursor": cur_b[0]}).json()),
          unstamped(j_b), "and the cached answers stay each site's")
    # A cursor is opaque, not secret: one made by hand to stand inside
    # blog's first comment (its rows after 0) shows notes none of them.
    forged = base64.urlsafe_b64encode(b"1:o:0:%d:0" % blog_ids[0]).rstrip(b"=").decode()
    is_eq([c["id"] for c in walk(thread(d, BLOG, path, {"cursor": forged}).json()["comments"])],
          blog_ids, "a cursor into blog's first comment reads blog's thread from there")
    r = thread(d, NOTES, path, {"cursor": forged})
    is_eq((r.status, [c["id"] for c in walk(r.json()["comments"])]), (200, notes_ids),
          "on notes' thread it reads notes' own comments only")

def decoys_apart(d):
    """A discarded post's decoy belongs to its site: its edit token works
    there only, answered as a held comment's; elsewhere 404, as a stored
    comment of another site.  Discards are counted per site."""
    def discarded(site):
        con = db_connect(d.db)
        n = con.execute("SELECT coalesce(sum(count), 0) FROM discarded WHERE site = ?",
                        (site,)).fetchone()[0]
        con.close()
        return n

    before_n, before_b = discarded("notes"), discarded("blog")
    r = post(d, NOTES, "Buy now", thread="/decoy/", website2="http://spam.example/")
    is_eq((r.status, r.json()["status"]), (201, "pending"),
          "a honeypot post on notes is answered as pending")
    did, dtok = r.json()["id"], r.json()["edit_token"]
    is_eq((discarded("notes"), discarded("blog")), (before_n + 1, before_b),
          "it is counted as notes' discard, not blog's")
    con = db_connect(d.db)
    site = con.execute("SELECT site FROM decoys WHERE id = ?", (did,)).fetchone()
    stored = con.execute("SELECT count(*) FROM comments WHERE id = ?", (did,)).fetchone()[0]
    con.close()
    is_eq((site, stored), (("notes",), 0), "its decoy names notes; nothing is stored")

    r = d.request("PATCH", "/api/v1/comments/%d" % did, {"text": "Buy now!"},
                  headers={"Origin": BLOG, "X-Edit-Token": dtok})
    is_eq(code(r), (404, "not_found"), "the decoy's edit through blog is 404")
    r = d.request("DELETE", "/api/v1/comments/%d" % did,
                  headers={"Origin": BLOG, "X-Edit-Token": dtok})
    is_eq(code(r), (404, "not_found"), "and so is its deletion")
    r = d.request("PATCH", "/api/v1/comments/%d" % did, {"text": "Buy now!"},
                  headers={"Origin": NOTES, "X-Edit-Token": dtok})
    is_eq((r.status, (r.json() or {}).get("status")), (200, "pending"),
          "through notes it is edited, still pending")
    r = d.request("DELETE", "/api/v1/comments/%d" % did,
                  headers={"Origin": NOTES, "X-Edit-Token": dtok})
    is_eq(r.status, 200, "and deleted")
    is_eq(thread(d, NOTES, "/decoy/").json()["count"], 0, "nothing ever shows on notes")


def private_apart(d, tok_all):
    """What is sealed on one site opens in that site's privacy export only,
    with the Referer reduced to its host; nothing is in clear."""
    email = "pia@example.org"
    b = d.post("/api/v1/comments", {"thread": "/sealed/", "author": "Pia", "email": email,
                                    "text": "Sealed on blog"},
               headers={"Origin": BLOG, "Referer": BLOG + "/sealed/?utm=secret#c",
                        "User-Agent": "PiaBrowser/1"}).json()["id"]
    n = post(d, NOTES, "Sealed on notes", thread="/sealed/", email=email).json()["id"]
    r = admin(d, tok_all, "POST", "/privacy/export?site=blog", {"email": email})
    got = r.json()["comments"]
    is_eq([c["id"] for c in got], [b], "blog's export: blog's comment only")
    c = got[0]
    is_eq((c["site"], c["ip"], c["user_agent"], c["referrer"], c["email_domain"]),
          ("blog", "127.0.0.1", "PiaBrowser/1", BLOG + "/", "example.org"),
          "with its client address, user agent, reduced Referer and e-mail domain")
    r = admin(d, tok_all, "POST", "/privacy/export?site=notes", {"email": email})
    is_eq([c["id"] for c in r.json()["comments"]], [n], "notes' export: notes' only")
    con = db_connect(d.db)
    clear = con.execute("SELECT count(*) FROM comments WHERE ip IS NOT NULL"
                        " OR referrer LIKE '%utm%'").fetchone()[0]
    sealed = con.execute("SELECT count(*) FROM comments WHERE id IN (?, ?)"
                         " AND ip_sealed IS NOT NULL AND email_domain_sealed IS NOT NULL",
                         (b, n)).fetchone()[0]
    con.close()
    is_eq((clear, sealed), (0, 2), "no address or whole Referer in clear; both sealed")


def origins(d):
    """Unknown origins, naming a site, CORS per site."""
    r = post(d, EVIL, "From nowhere")
    is_eq(code(r), (403, "unknown_origin"), "a post from an unknown origin is 403 unknown_origin")
    ok("json" in (r.header("Content-Type") or "")
       and (r.json() or {}).get("message"), "with a JSON message")
    is_eq(r.header("Access-Control-Allow-Origin"), None, "and no CORS header")
    is_eq(code(thread(d, EVIL)), (403, "unknown_origin"), "a thread read from it too")
    is_eq(code(counts(d, EVIL, [PATH])), (403, "unknown_origin"), "and counts")
    r = d.post("/api/v1/comments", "thread=%2Fabout%2F&author=A&email=a%40b.example&text=hi",
               headers={"Content-Type": "application/x-www-form-urlencoded",
                        "Referer": EVIL + "/about/"})
    is_eq(code(r), (403, "unknown_origin"), "a no-JS form from an unknown page (Referer)")
    r = d.post("/api/v1/comments", "thread=%2Fform%2F&author=A&email=a%40b.example&text=hi",
               headers={"Content-Type": "application/x-www-form-urlencoded",
                        "Referer": NOTES + "/form/"})
    is_eq(r.status, 303, "a no-JS form from notes' page (Referer only) is notes'")
    ok((r.header("Location") or "").startswith(NOTES + "/form/#comment-"),
       "and returns to notes' page", r.header("Location"))
    is_eq(counts(d, NOTES, ["/form/"]).json(), {"/form/": 1}, "it counts on notes")
    is_eq(counts(d, BLOG, ["/form/"]).json(), {"/form/": 0}, "not on blog")

    r = post(d, None, "No origin at all")
    is_eq(code(r), (400, "missing_site"), "no origin and no site: 400 missing_site")
    r = post(d, None, "Named", site="notes", thread="/named/")
    is_eq(r.status, 201, "a named site without an origin (a script) is fine")
    is_eq(counts(d, NOTES, ["/named/"]).json(), {"/named/": 1}, "and lands on that site")
    r = d.post("/api/v1/counts?site=blog", ["/named/"])
    is_eq((r.status, r.json()), (200, {"/named/": 0}), "?site= names a site too")
    r = post(d, BLOG, "Mismatch", site="notes")
    is_eq(code(r), (403, "site_mismatch"), "naming notes from blog's origin: 403 site_mismatch")
    r = post(d, BLOG, "Unknown", site="nosuch")
    is_eq(code(r), (404, "unknown_site"), "naming an unknown site: 404 unknown_site")
    r = d.post("/api/v1/comments?site=blog", {"thread": "/x/", "author": "A",
               "email": "a@b.example", "text": "x", "site": "notes"})
    is_eq(code(r), (400, "invalid_site"), "a body site and ?site= that disagree: 400")

    r = d.request("OPTIONS", "/api/v1/comments", headers={
        "Origin": NOTES, "Access-Control-Request-Method": "POST"})
    is_eq((r.status, r.header("Access-Control-Allow-Origin")), (204, NOTES),
          "a preflight from notes gets notes' origin")
    r = d.request("OPTIONS", "/api/v1/comments", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    is_eq(r.header("Access-Control-Allow-Origin"), None, "a preflight from elsewhere none")


def overrides(d):
    """Per-site settings apply to their site only."""
    link = "See http://a.example/page for more"
    r = post(d, NOTES, link, thread="/links/")
    is_eq(r.json()["status"], "pending", "notes: max_links = 0 holds a comment with a link")
    r = post(d, BLOG, "Casino bonus today", thread="/links/")
    ok(r.status == 201 and status_of(d, r.json()["id"])[0] == "spam",
       "blog: its blocklist word sends the comment to spam")
    r = post(d, NOTES, "Casino bonus today", thread="/links2/")
    is_eq(r.json()["status"], "published", "notes: no blocklist, no moderation: published")
    r = post(d, BLOG, "No link here", thread="/links3/")
    is_eq(r.json()["status"], "pending", "blog: moderation = all holds everything")


def scoped_tokens(d, ids):
    """A token for one site, against the other, on every admin route."""
    t_blog = token(d, "blog-mod", "blog", display="Blog Editor")
    other = ids["notes"][0]
    mine = ids["blog"][0]
    missing = 999999
    before = status_of(d, other)

    def same_404(r, name):
        j = r.json() or {}
        ok(r.status == 404 and j.get("error") == "not_found", name, r)
        return j.get("message", "")

    r = admin(d, t_blog, "GET", "/comments?limit=200")
    listed = r.json()["comments"]
    ok(r.status == 200 and listed and all(c["site"] == "blog" for c in listed),
       "GET comments: only blog's", [c["site"] for c in listed])
    ok(other not in [c["id"] for c in listed], "notes' comment is not listed")
    same_404(admin(d, t_blog, "GET", "/comments?site=notes"), "GET comments?site=notes: 404")
    r = admin(d, t_blog, "GET", "/comments?site=blog")
    is_eq(r.status, 200, "?site= one of its own is fine")
    for action in ("approve", "spam", "delete"):
        m1 = same_404(admin(d, t_blog, "POST", "/comments/%d/%s" % (other, action)),
                      "POST %s of notes' comment: 404" % action)
        m2 = same_404(admin(d, t_blog, "POST", "/comments/%d/%s" % (missing, action)),
                      "(as for an id that does not exist)")
        is_eq(m1.replace(str(other), "N"), m2.replace(str(missing), "N"),
              "the same answer for another site's id and a missing one (%s)" % action)
    same_404(admin(d, t_blog, "PATCH", "/comments/%d" % other, {"text": "Hijacked"}),
             "PATCH notes' comment: 404")
    same_404(admin(d, t_blog, "POST", "/comments/bulk", {"action": "spam", "ids": [mine, other]}),
             "bulk with notes' id: 404")
    same_404(admin(d, t_blog, "POST", "/comments/%d/reply" % other,
                   {"text": "Answering across sites", "approve": True}),
             "POST reply to notes' comment: 404")
    is_eq(admin(d, t_blog, "GET", "/me").json().get("display_name"), "Blog Editor",
          "GET me: the token's own name")
    is_eq(status_of(d, other), before, "notes' comment is untouched")
    ok(status_of(d, mine)[0] != "spam", "and the bulk changed none of blog's either")

    s_blog = admin(d, t_blog, "GET", "/stats").json()
    t_all = token(d, "root")
    s_notes = admin(d, t_all, "GET", "/stats?site=notes").json()
    s_every = admin(d, t_all, "GET", "/stats").json()
    total = lambda s: sum(s["comments"].values())  # noqa: E731
    ok(total(s_blog) > 0 and total(s_notes) > 0
       and total(s_blog) + total(s_notes) == total(s_every),
       "GET stats: blog's figures only (%d + %d = %d)"
       % (total(s_blog), total(s_notes), total(s_every)))
    same_404(admin(d, t_blog, "GET", "/stats?site=notes"), "GET stats?site=notes: 404")
    series_blog = admin(d, t_blog, "GET", "/stats?days=2").json()["series"]
    series_all = admin(d, t_all, "GET", "/stats?days=2").json()["series"]
    decided = lambda ser: sum(x["published"] + x["held"] + x["spam"] for x in ser)  # noqa: E731
    ok(0 < decided(series_blog) < decided(series_all),
       "the daily series counts blog's decisions only (%d of %d)"
       % (decided(series_blog), decided(series_all)))

    admin(d, t_all, "POST", "/comments/%d/spam" % other)
    con = db_connect(d.db)
    learned = con.execute("SELECT site, nspam, nham FROM classifier_site_state "
                          "ORDER BY site").fetchall()
    ledger = con.execute("SELECT site FROM classifier_learned WHERE msg_key = ?",
                         ("comment:%d" % other,)).fetchall()
    con.close()
    ok(("notes", 1, 0) in learned and ledger == [("notes",)],
       "marking notes' comment spam teaches notes' own learning", learned)
    audit = admin(d, t_blog, "GET", "/audit?limit=1000").json()["entries"]
    ok(audit and all(e["site"] == "blog" for e in audit), "GET audit: blog's entries only")
    ok(other not in [e["comment"] for e in audit], "not the action on notes' comment")
    same_404(admin(d, t_blog, "GET", "/audit?site=notes"), "GET audit?site=notes: 404")

    sites = admin(d, t_blog, "GET", "/sites").json()
    is_eq(([s["id"] for s in sites["sites"]], sites["all_sites"]), (["blog"], False),
          "GET sites: blog only")
    sites = admin(d, t_all, "GET", "/sites").json()
    is_eq(([s["id"] for s in sites["sites"]], sites["all_sites"]), (["blog", "notes"], True),
          "an all-sites token sees both")
    is_eq(sites["sites"][1]["origins"], [NOTES, "https://www.notes.example"],
          "with their origins")

    # Privacy: the same address on both sites.
    pb = post(d, BLOG, "Private on blog", thread="/p/", email="sam@example.org").json()["id"]
    pn = post(d, NOTES, "Private on notes", thread="/p/", email="sam@example.org").json()["id"]
    r = admin(d, t_blog, "POST", "/privacy/export", {"email": "sam@example.org"})
    is_eq([c["id"] for c in r.json()["comments"]], [pb], "privacy export: blog's comment only")
    same_404(admin(d, t_blog, "POST", "/privacy/export?site=notes", {"email": "sam@example.org"}),
             "privacy export?site=notes: 404")
    r = admin(d, t_blog, "POST", "/privacy/erase", {"email": "sam@example.org"})
    is_eq((r.status, r.json()), (200, {"erased": 1}), "privacy erase: one (blog's)")
    ok(status_of(d, pn) is not None and status_of(d, pb) is None,
       "notes' comment stays, blog's is gone")
    same_404(admin(d, t_blog, "POST", "/privacy/erase?site=notes", {"email": "sam@example.org"}),
             "privacy erase?site=notes: 404")
    ok(status_of(d, pn) is not None, "and notes' comment is still there")
    r = admin(d, t_all, "POST", "/privacy/export?site=notes", {"email": "sam@example.org"})
    is_eq([c["id"] for c in r.json()["comments"]], [pn], "an all-sites token may narrow to notes")
    r = admin(d, t_blog, "POST", "/comments/%d/reply" % mine, {"text": "Thanks!"})
    ok(r.status == 201 and r.json().get("author_badge") is True,
       "a reply to blog's own comment is published", r)
    is_eq([x["author"] for x in walk(thread(d, BLOG).json()["comments"])
           if x.get("author_badge")], ["Blog Editor"], "on blog's thread")
    ok(not any(x.get("author_badge") for x in walk(thread(d, NOTES).json()["comments"])),
       "and not on notes'")
    return t_blog


def akismet(d):
    """Keys belong to sites and decide by their site's rules."""
    r = ctl("key", "create", "--config", d.conf, "--blog", BLOG + "/")
    ok(r.returncode == 0 and "site blog" in r.stderr, "key create --blog: the blog's site", r)
    k_blog = r.stdout.strip()
    r = ctl("key", "create", "--config", d.conf, "--site", "notes")
    ok(r.returncode == 0 and NOTES + "/" in r.stderr, "key create --site: notes' first origin", r)
    k_notes = r.stdout.strip()
    r = ctl("key", "create", "--config", d.conf, "--blog", EVIL + "/")
    is_eq(r.returncode, 2, "a blog on no site's origin needs --site")
    r = ctl("key", "list", "--config", d.conf)
    ok('"site": "blog"' in r.stdout and '"site": "notes"' in r.stdout, "key list shows sites")

    def check(key):
        body = urlencode({"api_key": key, "blog": BLOG, "user_ip": "192.0.2.9",
                          "comment_author": "A", "comment_content": "Casino bonus free spins"})
        return d.post("/1.1/comment-check", body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).body
    is_eq(check(k_blog), b"true", "blog's key: its blocklist calls it spam")
    is_eq(check(k_notes), b"false", "notes' key: no blocklist, not spam")


def reload(d):
    """SIGHUP; the notify messages until READY=1 (or 10 s)."""
    d.notifications()
    d.proc.send_signal(signal.SIGHUP)
    seen = []
    deadline = time.monotonic() + 10
    while "READY=1" not in "\n".join(seen) and time.monotonic() < deadline:
        seen += d.notifications(timeout=0.5)
    return seen


def reload_adds_site(d):
    """SIGHUP adds a site without a restart."""
    r = post(d, THIRD, "Before the third site exists")
    is_eq(code(r), (403, "unknown_origin"), "the third blog is unknown at first")
    pid = d.proc.pid
    write_config(d, SITES + [("third", {"origins": THIRD, "moderation": "none"})])
    seen = reload(d)
    ok("READY=1" in "\n".join(seen), "the reload finishes (READY=1)", seen)
    r = post(d, THIRD, "Hello from the third blog")
    is_eq((r.status, (r.json() or {}).get("status")), (201, "published"),
          "the new site answers at once")
    is_eq(r.header("Access-Control-Allow-Origin"), THIRD, "with its CORS")
    is_eq(thread(d, THIRD).json()["count"], 1, "its thread reads back")
    is_eq(d.proc.pid, pid, "the same process (no restart)")
    t3 = token(d, "third-mod", "third")
    is_eq([s["id"] for s in admin(d, t3, "GET", "/sites").json()["sites"]], ["third"],
          "a token for the new site")

    # A file with an error is refused and the sites keep working.
    with open(d.conf, "a") as f:
        f.write("[site third]\n")
    seen = reload(d)
    ok(re.search(r"commentd\.conf:\d+: site third is already defined", d.log()),
       "a repeated section is refused, naming file:line", d.log()[-500:])
    is_eq(post(d, THIRD, "Still here").status, 201, "the running sites keep working")


def check_only(d):
    """commentd -n prints the sites as a file it accepts again."""
    from harness import COMMENTD
    r = subprocess.run([COMMENTD, "-n", "--config", d.conf], capture_output=True, text=True)
    ok(r.returncode == 0 and "[site blog]" in r.stdout and "origins = " + BLOG in r.stdout
       and "blocklist_words = casino" in r.stdout, "commentd -n prints each site", r)
    again = os.path.join(d.dir, "printed.conf")
    with open(again, "w") as f:
        f.write(r.stdout.replace("configuration OK\n", ""))
    r2 = subprocess.run([COMMENTD, "-n", "--config", again], capture_output=True, text=True)
    ok(r2.returncode == 0 and r2.stdout == r.stdout, "and what it prints reads back the same", r2)
    bad = os.path.join(d.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("key = %s\n[site a]\norigins = https://a.example\n"
                "[site b]\norigins = https://a.example\n" % d.key)
    r = subprocess.run([COMMENTD, "-n", "--config", bad], capture_output=True, text=True)
    ok(r.returncode != 0 and "belongs to two sites, a and b" in r.stderr,
       "an origin in two sites is refused", r)


def commands(d):
    """commentctl --site on the commands that act on comments."""
    r = ctl("token", "list", "--config", d.conf)
    ok('"blog"' in r.stdout and '"sites": null' in r.stdout, "token list shows the sites", r)
    r = ctl("token", "create", "--config", d.conf, "--name", "bad", "--site", "Not/An/Id")
    is_eq(r.returncode, 2, "a malformed --site is a usage error")
    r = ctl("token", "create", "--config", d.conf, "--name", "typo", "--site", "blgo")
    ok(r.returncode == 0 and "defines no site blgo" in r.stderr,
       "a site the file does not define is pointed out", r)
    r = ctl("token", "list", "--config", d.conf, "--site", "blog")
    is_eq(r.returncode, 2, "token list takes no --site")
    post(d, BLOG, "Mine on blog", thread="/cli/", email="kim@example.org")
    post(d, NOTES, "Mine on notes", thread="/cli/", email="kim@example.org")
    r = ctl("privacy", "export", "--config", d.conf, "--email", "kim@example.org",
            "--site", "notes")
    ok(r.returncode == 0 and "Mine on notes" in r.stdout and "Mine on blog" not in r.stdout,
       "privacy export --site notes: notes' comment only", r)
    r = ctl("privacy", "export", "--config", d.conf, "--email", "kim@example.org")
    ok("Mine on notes" in r.stdout and "Mine on blog" in r.stdout,
       "without --site: every site's", r)
    r = ctl("privacy", "erase", "--config", d.conf, "--email", "kim@example.org",
            "--site", "blog")
    ok(r.returncode == 0 and '"erased": 1' in r.stdout, "privacy erase --site blog: one", r)
    r = ctl("privacy", "export", "--config", d.conf, "--email", "kim@example.org")
    ok("Mine on notes" in r.stdout and "Mine on blog" not in r.stdout,
       "notes' comment stays", r)
    con = db_connect(d.db)
    con.execute("UPDATE comments SET status = 'spam', created = 1000 WHERE text LIKE 'Casino%'")
    n_spam = con.execute("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id "
                         "WHERE c.status = 'spam' AND t.site = 'notes'").fetchone()[0]
    con.commit()
    con.close()
    r = ctl("maintain", "--config", d.conf, "--site", "blog")
    ok(r.returncode == 0 and '"spam_deleted": 1' in r.stdout,
       "maintain --site blog deletes blog's old spam only", r)
    con = db_connect(d.db)
    left = con.execute("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id "
                       "WHERE c.status = 'spam' AND t.site = 'notes'").fetchone()[0]
    con.close()
    is_eq(left, n_spam, "notes' old spam is left alone")


# ---- the migration from the release before sites --------------------------

def old_migrations():
    """The schema files the release before sites applied, in meson.build's
    order: every one listed before 0009-sites.sql."""
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        listed = re.findall(r"'schema/([0-9]{4}-[a-z0-9-]+\.sql)'", f.read())
    ok("0009-sites.sql" in listed, "meson.build lists the sites migration")
    return listed[:listed.index("0009-sites.sql")] if "0009-sites.sql" in listed else listed


def secret_hash(d, kind, *args):
    """A token's or key's keyed hash as commentd stores it, made by
    commentctl in a scratch database (the hash depends on the key only)."""
    scratch = os.path.join(d.dir, "scratch-%s.db" % kind)
    r = ctl(kind, "create", "--db", scratch, "--key", d.key, *args)
    secret = r.stdout.strip()
    con = sqlite3.connect(scratch)
    table = "admin_tokens" if kind == "token" else "akismet_keys"
    h = con.execute("SELECT hash FROM %s ORDER BY id DESC LIMIT 1" % table).fetchone()[0]
    con.close()
    return secret, h


def migration():
    if not_on_engine("a database from before sites (SQLite's 0001..0008) migrates through "
                     "0009-sites.sql", "SQLite's schema history: PostgreSQL's (schema/pg) "
                     "begins at 0001 with SQLite's 0017, no older PostgreSQL database exists"):
        return
    d = Daemon()
    try:
        files = old_migrations()
        ok(len(files) >= 6, "the old schema is %d migrations (%s .. %s)"
           % (len(files), files[0], files[-1]))
        tok, tok_hash = secret_hash(d, "token", "--name", "scratch")
        key, key_hash = secret_hash(d, "key", "--blog", "https://old.example/")
        con = db_connect(d.db)
        for name in files:
            with open(os.path.join(SOURCE_ROOT, "schema", name)) as f:
                con.executescript(f.read())
        con.execute("PRAGMA user_version=%d" % len(files))
        cols = [r[1] for r in con.execute("PRAGMA table_info(threads)")]
        ok("site" not in cols, "the old threads table has no site column", cols)
        con.executescript("""
            INSERT INTO threads (id, path, created) VALUES (1, '/old/', 1300000000),
                                                          (2, '/older/', 1200000000);
            INSERT INTO comments (id, thread_id, root_id, depth, created, status, author, text,
                                  html, avatar, auto_status)
            VALUES (1, 1, 1, 1, 1300000000, 'published', 'Old Timer', 'from 2011',
                    '<p>from 2011</p>', 'a1', 'published'),
                   (2, 1, 1, 2, 1300000100, 'published', 'Replier', 'a reply',
                    '<p>a reply</p>', 'a2', 'published'),
                   (3, 2, 3, 1, 1200000000, 'pending', 'Waiting', 'held',
                    '<p>held</p>', 'a3', 'pending');
            UPDATE comments SET parent_id = 1 WHERE id = 2;
            INSERT INTO audit (at, actor, action, comment_id, detail)
            VALUES (1300000200, 'old-mod', 'approve', 1, 'pending -> published');
            INSERT INTO discarded (day, count) VALUES (15000, 7);
            UPDATE threads SET title = 'An old post', url = 'https://old.example/old/'
            WHERE id = 1;
            INSERT INTO decided_daily (day, status, count) VALUES (15000, 'published', 2);
            INSERT INTO classifier_tokens (hash, spam, ham, last_seen)
            VALUES (11, 3, 0, 1300000000), (22, 1, 4, 1300000000), (33, 0, 2, 1300000000);
            UPDATE classifier_state SET nspam = 3, nham = 4, generation = 7 WHERE id = 1;
            INSERT INTO classifier_learned (msg_key, label, tokens, learned)
            VALUES ('comment:1', 'ham', x'', 1300000000);
        """)
        # 0008's columns and decoys, fresh enough that the daemon's first
        # retention run (at start) keeps them.
        now = int(time.time())
        con.execute("INSERT INTO comments (id, thread_id, root_id, depth, created, status, author,"
                    " text, html, avatar, auto_status, ip_sealed, email_domain_sealed)"
                    " VALUES (4, 2, 4, 1, ?, 'pending', 'Recent', 'sealed', '<p>sealed</p>',"
                    " 'a4', 'pending', x'5eab1ed0', x'd0d0')", (now,))
        con.execute("INSERT INTO decoys (id, edit_hash, created, sealed)"
                    " VALUES (9, zeroblob(32), ?, x'5eab1ed1')", (now,))
        ok("0008-hardening.sql" in files, "(which includes the hardening migration)", files)
        con.execute("INSERT INTO admin_tokens (name, hash, created) VALUES ('old-mod', ?, 1)",
                    (tok_hash,))
        con.execute("INSERT INTO akismet_keys (blog, hash, created) VALUES "
                    "('https://old.example/', ?, 1)", (key_hash,))
        con.commit()
        daily = con.execute("SELECT day, status, count FROM decided_daily ORDER BY day, status"
                            ).fetchall()
        before = {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                  for t in ("threads", "comments", "audit", "admin_tokens", "akismet_keys",
                            "classifier_state", "classifier_tokens", "classifier_learned",
                            "discarded", "decided_daily", "decoys")}
        con.close()

        # The old configuration, unchanged: no sections.
        d.write_config({"site_origins": "https://old.example"})
        d.start()
        ok("applying migration 0009-sites.sql" in d.log(), "the daemon migrates at start")
        con = db_connect(d.db)
        after = {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in before}
        is_eq(after, before, "every table keeps its rows")
        is_eq(con.execute("SELECT DISTINCT site FROM threads").fetchall(), [("default",)],
              "every thread belongs to the default site")
        is_eq(con.execute("SELECT site FROM akismet_keys").fetchall(), [("default",)],
              "the key too")
        is_eq(con.execute("SELECT site FROM audit").fetchall(), [("default",)],
              "and the audit row")
        is_eq(con.execute("SELECT site, day, count FROM discarded").fetchall(),
              [("default", 15000, 7)], "the discard counter keeps its count")
        is_eq(con.execute("SELECT day, status, count FROM decided_daily WHERE site = 'default'"
                          " ORDER BY day, status").fetchall(), daily,
              "the daily tally too, as the default's")
        ok((15000, "published", 2) in daily, "(which held the rows written before)", daily)
        is_eq(con.execute("SELECT title, url FROM threads WHERE id = 1").fetchall(),
              [("An old post", "https://old.example/old/")], "a thread keeps its article")
        is_eq(con.execute("SELECT hash, spam, ham FROM classifier_site_tokens "
                          "WHERE site = 'default' ORDER BY hash").fetchall(),
              con.execute("SELECT hash, spam, ham FROM classifier_tokens ORDER BY hash")
              .fetchall(), "the filter's learning becomes the default site's own")
        is_eq(con.execute("SELECT site, nspam, nham FROM classifier_site_state").fetchall(),
              [("default", 3, 4)], "with its message counts")
        is_eq(con.execute("SELECT site FROM classifier_learned").fetchall(), [("default",)],
              "and the ledger names the site")
        is_eq(con.execute("SELECT id, site, sealed FROM decoys").fetchall(),
              [(9, "default", b"\x5e\xab\x1e\xd1")], "a decoy becomes the default site's")
        is_eq(con.execute("SELECT ip_sealed, email_domain_sealed FROM comments WHERE id = 4")
              .fetchall(), [(b"\x5e\xab\x1e\xd0", b"\xd0\xd0")],
              "a comment keeps what it holds sealed")
        indexes = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'comments'")]
        ok("comments_top" in indexes and "comments_root" in indexes,
           "the paged threads' indexes stay", indexes)
        triggers = sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'comments'"))
        is_eq(triggers, ["comments_delete_status_count", "comments_delete_version",
                         "comments_insert_daily", "comments_insert_status_count",
                         "comments_insert_version", "comments_tombstone_likes",
                         "comments_update_status_count", "comments_update_version",
                         "search_delete", "search_insert", "search_update"],
              "the comments' triggers are all there")
        is_eq(con.execute("PRAGMA foreign_key_check").fetchall(), [],
              "no broken references")
        is_eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity_check")
        con.close()
        r = d.thread("/old/")
        tree = r.json()
        ok(r.status == 200 and tree["count"] == 2
           and tree["comments"][0]["author"] == "Old Timer"
           and tree["comments"][0]["replies"][0]["author"] == "Replier",
           "the old thread is served with its reply", r)
        r = d.comment("/old/", "New after the upgrade")
        is_eq(r.status, 201, "a new comment joins the old thread")
        is_eq(d.thread("/old/").json()["count"], 3, "(3 now: the version triggers work)")
        r = admin(d, tok, "GET", "/comments?status=pending")
        ok(r.status == 200 and [c["id"] for c in r.json()["comments"]] == [4, 3],
           "the old token still works and sees every site", r)
        audit = admin(d, tok, "GET", "/audit").json()["entries"]
        ok(any(e["actor"] == "old-mod" and e["site"] == "default" for e in audit),
           "the old audit row is listed")
        counts = admin(d, tok, "GET", "/stats").json()["comments"]
        con = db_connect(d.db)
        direct = dict(con.execute("SELECT status, count(*) FROM comments GROUP BY status"))
        con.close()
        is_eq({k: v for k, v in counts.items() if v}, direct,
              "the stats count the comments from before the upgrade (schema 0015's fill)")
        body = urlencode({"api_key": key, "blog": "https://old.example/",
                          "user_ip": "192.0.2.9", "comment_content": "hello"})
        r = d.post("/1.1/comment-check", body,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        is_eq(r.body, b"false", "the old Akismet key still checks")
        d.stop()

        # Adding a second blog keeps the first one's comments.
        write_config(d, [("second", {"origins": "https://second.example"})],
                     top={"site_origins": "https://old.example"})
        d.start()
        r = d.get("/api/v1/comments?thread=/old/", headers={"Origin": "https://old.example"})
        is_eq((r.status, r.json()["count"]), (200, 3),
              "with a second site added, the old blog's thread is still there")
        r = d.get("/api/v1/comments?thread=/old/", headers={"Origin": "https://second.example"})
        is_eq((r.status, r.json()["count"]), (200, 0), "and the new blog's /old/ is empty")
    finally:
        d.cleanup()


def main():
    d = start()
    try:
        ids = apart(d)
        pages_apart(d)
        decoys_apart(d)
        private_apart(d, token(d, "privacy-all"))
        origins(d)
        overrides(d)
        scoped_tokens(d, ids)
        akismet(d)
        check_only(d)
        commands(d)
        reload_adds_site(d)
        is_eq(d.stop(), 0, "the daemon stops cleanly")
    finally:
        d.cleanup()
    migration()
    done()


if __name__ == "__main__":
    main()
