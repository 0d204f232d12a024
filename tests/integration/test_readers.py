#!/usr/bin/env python3
"""What readers get beyond posting (issue 19): the preview, likes, sorting
and paging, the Atom feeds, the thread as HTML for readers without
JavaScript, and the privacy page.  Real daemons over real HTTP."""
import os
import signal
import sys
import time
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, db_holds, diag, done, is_eq, ok  # noqa: E402

T = "/2011/01/social-media-realities"


def test_preview(d):
    r = d.post("/api/v1/preview", {"text": "Zie https://example.org/a_(b) en:\n\n- een\n- *twee*\n\n> citaat"})
    is_eq(r.status, 200, "POST /api/v1/preview is 200")
    html = (r.json() or {}).get("html", "")
    ok('<a href="https://example.org/a_(b)" rel="nofollow ugc">' in html, "a bare URL is a link", html)
    ok("<ul>\n<li>een</li>\n<li><em>twee</em></li>\n</ul>" in html, "a list", html)
    ok("<blockquote>\n<p>citaat</p>\n</blockquote>" in html, "a block quote", html)
    is_eq(sorted((r.json() or {}).keys()), ["html"], "the answer holds only html")
    # The same renderer stores comments.
    c = d.comment(T, "Zie https://example.org/a_(b) en:\n\n- een\n- *twee*\n\n> citaat").json()
    is_eq(c.get("html"), html, "a posted comment is rendered as its preview was")
    for body, status, code, why in [
            ({"text": "  "}, 422, "missing_text", "blank text"),
            ({}, 422, "missing_text", "no text"),
            ({"text": "x" * 10001}, 422, "text_too_long", "over max_text"),
            ({"text": "x", "author": "y"}, 400, "unknown_field", "another field"),
            ({"text": 3}, 400, "invalid_type", "a number"),
            ({"text": "<script>alert(1)</script>"}, 200, None, "raw HTML")]:
        r = d.post("/api/v1/preview", body)
        is_eq(r.status, status, "preview of %s: %d" % (why, status))
        if code:
            is_eq((r.json() or {}).get("error"), code, "  error %s" % code)
    ok("<script" not in r.json()["html"], "raw HTML is shown as text", r.json())
    r = d.request("POST", "/api/v1/preview", body=b"text=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    is_eq(r.status, 415, "a form body is 415")
    r = d.get("/api/v1/preview")
    is_eq(r.status, 405, "GET is 405")


def like(d, cid, ip=None, body=None, headers=None):
    h = dict(headers or {})
    if ip:
        h["X-Forwarded-For"] = ip
    return d.request("POST", "/api/v1/comments/%d/like" % cid, body=body, headers=h)


def test_likes(d):
    a = d.comment("/likes", "Eerste reactie.").json()["id"]
    b = d.comment("/likes", "Tweede reactie.", parent=a).json()["id"]
    is_eq(d.comment("/likes", "Derde.").json().get("likes"), 0,
          "the answer to a new comment has likes 0")
    r = like(d, a, "198.51.100.1")
    is_eq((r.status, r.json()), (200, {"id": a, "likes": 1, "liked": True}), "a like")
    r = like(d, a, "198.51.100.2")
    is_eq(r.json(), {"id": a, "likes": 2, "liked": True}, "another client's like")
    r = like(d, a, "198.51.100.1")
    is_eq(r.json(), {"id": a, "likes": 1, "liked": False}, "the first client again takes it back")
    r = like(d, a, "2001:db8:5:6::1")
    r = like(d, a, "2001:db8:5:6:7::2")
    is_eq(r.json(), {"id": a, "likes": 1, "liked": False},
          "another address of the same IPv6 /64 is the same client")
    like(d, b, "198.51.100.1", body={}, headers={"Content-Type": "application/json"})
    t = d.thread("/likes").json()
    top = t["comments"][0]
    is_eq((top["likes"], top["replies"][0]["likes"]), (1, 1),
          "the thread's answer holds each comment's count")
    is_eq(t.get("likes_enabled"), True, "and says that the site takes likes")
    keys = {frozenset(c.keys()) - {"replies"} for c in [top, top["replies"][0]] + t["comments"][1:]}
    is_eq(len(keys), 1, "every comment has the same keys")
    # ETag: a like makes the old one stale.
    etag = d.thread("/likes").header("etag")
    like(d, a, "198.51.100.9")
    r = d.get("/api/v1/comments?thread=/likes", headers={"If-None-Match": etag})
    is_eq(r.status, 200, "after a like the old ETag no longer matches")
    # An edit's answer keeps the count.
    c = d.comment("/likes", "Met edit.").json()
    like(d, c["id"], "198.51.100.1")
    r = d.request("PATCH", "/api/v1/comments/%d" % c["id"], body={"text": "Bewerkt."},
                  headers={"X-Edit-Token": c["edit_token"]})
    is_eq((r.status, (r.json() or {}).get("likes")), (200, 1), "an author's edit answers its count")
    # Refusals.
    is_eq(like(d, 999999).status, 404, "an unknown comment is 404")
    held = d.comment("/likes", "buy cheap followers", **{"website2": "x"}).json()["id"]
    r = like(d, held)
    is_eq((r.status, (r.json() or {}).get("error")), (404, "not_found"),
          "a comment that is not published is 404 (a discarded one too)")
    r = like(d, a, body="x=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    is_eq(r.status, 415, "a form body is 415")
    r = d.get("/api/v1/comments/%d/like" % a)
    is_eq(r.status, 405, "GET is 405")
    r = d.request("OPTIONS", "/api/v1/comments/%d/like" % a,
                  headers={"Origin": "https://blog.example.nl",
                           "Access-Control-Request-Method": "POST"})
    ok(r.status == 204 and "POST" in (r.header("access-control-allow-methods") or ""),
       "a CORS preflight from the blog is answered", r.headers)
    # Nothing of the client address is stored.
    ok(not db_holds(d.db, "198.51.100.1") and not db_holds(d.db, "2001:db8:5:6"),
       "no liker's address in the database")


def test_likes_limits():
    d = Daemon(config={"like_rate_limit": "2", "trusted_proxies": "127.0.0.1"}).start()
    try:
        cid = d.comment("/x", "Hallo.").json()["id"]
        statuses = [like(d, cid, "203.0.113.5").status for _ in range(14)]
        is_eq(statuses[:10], [200] * 10, "a burst of 10 likes passes")
        r = like(d, cid, "203.0.113.5")
        ok(r.status == 429 and int(r.header("retry-after") or 0) >= 1 and
           (r.json() or {}).get("error") == "rate_limited", "then 429 with Retry-After", r)
        is_eq(like(d, cid, "203.0.113.6").status, 200, "another client is not limited")
        d.extra["likes"] = "off"
        d.write_config(d.extra)
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and \
                d.thread("/x").json().get("likes_enabled") is not False:
            time.sleep(0.05)
        t = d.thread("/x").json()
        is_eq(t.get("likes_enabled"), False, "likes = off (after a reload): the thread says so")
        is_eq(t["comments"][0].get("likes"), 1,
              "and still has the count (ten toggles of one client, one like of another)")
        r = like(d, cid, "203.0.113.7")
        is_eq((r.status, (r.json() or {}).get("error")), (403, "likes_disabled"), "a like is 403")
    finally:
        d.cleanup()


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_problems(root):
    """What RFC 4287 requires and this feed lacks: feed id, title, updated
    and a link (self or alternate); each entry's id, title, updated, link
    or content, and an author (the entry's or the feed's) with a name; times
    in RFC 3339; ids absolute IRIs."""
    import re
    rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
    out = []
    if root.tag != ATOM + "feed":
        return ["the root is %s, not atom:feed" % root.tag]

    def one(el, name, where):
        found = el.findall(ATOM + name)
        if len(found) != 1:
            out.append("%s has %d atom:%s" % (where, len(found), name))
            return None
        return found[0]

    def absolute(iri):
        return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", iri or ""))

    for name in ("id", "title", "updated"):
        one(root, name, "the feed")
    if not absolute(root.findtext(ATOM + "id")):
        out.append("the feed's id is not an absolute IRI")
    if not rfc3339.match(root.findtext(ATOM + "updated") or ""):
        out.append("the feed's updated is not RFC 3339")
    if not root.findall(ATOM + "link"):
        out.append("the feed has no link")
    feed_author = root.find(ATOM + "author")
    for i, e in enumerate(root.findall(ATOM + "entry")):
        where = "entry %d" % i
        for name in ("id", "title", "updated"):
            one(e, name, where)
        if not absolute(e.findtext(ATOM + "id")):
            out.append(where + ": id is not an absolute IRI")
        for name in ("updated", "published"):
            v = e.findtext(ATOM + name)
            if v is not None and not rfc3339.match(v):
                out.append("%s: %s is not RFC 3339" % (where, name))
        if e.find(ATOM + "content") is None and e.find(ATOM + "summary") is None:
            out.append(where + ": no content or summary")
        if e.find(ATOM + "content") is None and not [
                l for l in e.findall(ATOM + "link") if l.get("rel", "alternate") == "alternate"]:
            out.append(where + ": no content and no alternate link")
        a = e.find(ATOM + "author") or feed_author
        if a is None or not (a.findtext(ATOM + "name") or "").strip():
            out.append(where + ": no author name")
        for l in e.findall(ATOM + "link"):
            if not l.get("href"):
                out.append(where + ": a link without href")
    return out


def test_feeds(d):
    t = "/2011/01/feeds"
    ids = []
    for i, (author, url) in enumerate([("Danny Verhoeven", "https://danny.example.nl"),
                                       ("Sjef & <Co>", None), ("Martin", None)]):
        r = d.comment(t, "Reactie %d met *nadruk* & <b>tags</b>" % i, author=author,
                      **({"url": url} if url else {}))
        ids.append(r.json()["id"])
    d.comment("/2011/02/elders", "Op een andere pagina.")
    gone = d.comment(t, "Wordt verwijderd.").json()
    d.request("DELETE", "/api/v1/comments/%d" % gone["id"],
              headers={"X-Edit-Token": gone["edit_token"]})
    d.comment(t, "Vangnet", **{"website2": "bot"})  # discarded: never in a feed

    r = d.get("/api/v1/feed?thread=" + quote(t, safe="/") + "&lang=nl")
    is_eq(r.status, 200, "GET /api/v1/feed?thread= is 200")
    is_eq(r.header("content-type"), "application/atom+xml; charset=utf-8", "Atom's media type")
    try:
        root = ET.fromstring(r.body)
    except ET.ParseError as e:
        root = None
        ok(False, "the thread's feed is well-formed XML", e)
    if root is not None:
        problems = atom_problems(root)
        ok(not problems, "the thread's feed has every element RFC 4287 requires", problems)
        entries = root.findall(ATOM + "entry")
        is_eq(len(entries), 3, "three entries: published comments of this thread only")
        is_eq([e.findtext(ATOM + "id") for e in entries],
              ["https://blog.example.nl%s#comment-%d" % (t, i) for i in reversed(ids)],
              "newest first, each id the comment's address on the blog")
        is_eq([l.get("href") for l in entries[2].findall(ATOM + "link")],
              ["https://blog.example.nl%s#comment-%d" % (t, ids[0])],
              "an entry links to the comment on the blog's page")
        is_eq(entries[2].findtext(ATOM + "author/" + ATOM + "name"), "Danny Verhoeven",
              "the author's name")
        is_eq(entries[2].findtext(ATOM + "author/" + ATOM + "uri"), "https://danny.example.nl",
              "and website")
        is_eq(entries[1].findtext(ATOM + "author/" + ATOM + "name"), "Sjef & <Co>",
              "names are escaped")
        content = entries[2].find(ATOM + "content")
        is_eq((content.get("type"), content.text),
              ("html", "<p>Reactie 0 met <em>nadruk</em> &amp; &lt;b&gt;tags&lt;/b&gt;</p>"),
              "the content is the rendered HTML")
        is_eq(entries[2].findtext(ATOM + "title"), "Reactie van Danny Verhoeven", "a Dutch title")
        is_eq(root.findtext(ATOM + "title"), "Reacties op blog.example.nl" + t,
              "the feed's title")
        links = {l.get("rel"): l.get("href") for l in root.findall(ATOM + "link")}
        is_eq(links, {"self": "https://comments.example.nl/api/v1/feed?thread=" + t,
                      "alternate": "https://blog.example.nl" + t},
              "self (public_url) and alternate (the blog's page) links")
        is_eq(root.findtext(ATOM + "id"), links["self"], "the feed's id is its address")
        is_eq(root.get("{http://www.w3.org/XML/1998/namespace}lang"), "nl", "xml:lang")
        body = r.body.decode()
        ok("Vangnet" not in body and "Wordt verwijderd" not in body,
           "no discarded or deleted comment")
    etag = r.header("etag")
    ok(etag, "the feed has an ETag")
    r2 = d.get("/api/v1/feed?thread=" + quote(t, safe="/") + "&lang=nl",
               headers={"If-None-Match": etag})
    is_eq((r2.status, r2.body), (304, b""), "If-None-Match: 304 while nothing changed")
    d.comment(t, "Nog een.")
    r2 = d.get("/api/v1/feed?thread=" + quote(t, safe="/") + "&lang=nl",
               headers={"If-None-Match": etag})
    is_eq(r2.status, 200, "a new comment: 200 again")

    r = d.get("/api/v1/feed", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    is_eq(r.status, 200, "GET /api/v1/feed (the site) is 200")
    root = ET.fromstring(r.body)
    ok(not atom_problems(root), "the site's feed has every required element", atom_problems(root))
    entries = root.findall(ATOM + "entry")
    paths = {e.findtext(ATOM + "id").split("#")[0] for e in entries}
    ok({"https://blog.example.nl" + t, "https://blog.example.nl/2011/02/elders"} <= paths,
       "it holds the comments of every thread", paths)
    is_eq(root.findtext(ATOM + "title"), "Kommentare auf blog.example.nl",
          "in German by Accept-Language")
    ok(entries[0].findtext(ATOM + "title").startswith("Kommentar von Tester zu /"),
       "entries name their thread", entries[0].findtext(ATOM + "title"))

    r = d.get("/api/v1/feed?thread=/nog-niets")
    root = ET.fromstring(r.body)
    ok(r.status == 200 and not root.findall(ATOM + "entry") and not atom_problems(root),
       "an unknown thread has a valid feed without entries")
    is_eq(root.findtext(ATOM + "title"), "Comments on blog.example.nl/nog-niets", "English by default")
    for q, why in [("thread=//evil", "a bad path"), ("thread=", "an empty path")]:
        r = d.get("/api/v1/feed?" + q)
        is_eq((r.status, (r.json() or {}).get("error")),
              (422, "missing_thread" if q == "thread=" else "invalid_thread"), "%s: 422" % why)
    # Fifty entries at most.
    for i in range(55):
        d.comment("/veel", "Reactie %d." % i)
    root = ET.fromstring(d.get("/api/v1/feed?thread=/veel").body)
    is_eq(len(root.findall(ATOM + "entry")), 50, "at most 50 entries")


def test_feed_without_urls():
    d = Daemon().start()
    try:
        d.comment("/x", "Hallo.")
        root = ET.fromstring(d.get("/api/v1/feed?thread=/x").body)
        problems = atom_problems(root)
        # Without a site origin and public_url there is nothing to link to:
        # the ids are URNs and the entries carry their content.
        problems = [p for p in problems if p != "the feed has no link"]
        ok(not problems, "without site_origins and public_url the feed is still valid", problems)
        ok(root.findtext(ATOM + "id").startswith("urn:commentd:feed:"), "a URN id")
    finally:
        d.cleanup()


def test_privacy_page():
    d = Daemon(config={"site_origins": "https://blog.example.nl", "ip_retention_days": "12",
                       "spam_retention_days": "4", "privacy_contact": "privacy@example.nl",
                       "edit_window": "600"}).start()
    try:
        r = d.get("/privacy", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"})
        is_eq(r.status, 200, "GET /privacy is 200")
        is_eq(r.header("content-type"), "text/html; charset=utf-8", "an HTML page")
        csp = r.header("content-security-policy") or ""
        ok("default-src 'none'" in csp and "style-src 'self'" in csp and "script" not in csp,
           "a strict CSP (no script at all)", csp)
        body = r.body.decode()
        ok('<html lang="nl">' in body and "Hoe je reactie-gegevens worden verwerkt" in body,
           "Dutch by Accept-Language")
        ok("<td>12 dagen</td>" in body, "ip_retention_days as configured (12)")
        ok("na 4 dagen verwijderd" in body, "spam_retention_days as configured (4)")
        ok("10 minuten" in body, "the edit window as configured (10 minutes)")
        ok('href="mailto:privacy@example.nl"' in body, "privacy_contact")
        ok("Nergens heen" in body, "that nothing leaves the server")
        ok('href="page.css"' in body, "styled by page.css")
        css = d.get("/page.css")
        is_eq((css.status, css.header("content-type")), (200, "text/css; charset=utf-8"),
              "/page.css is served")
        r = d.get("/privacy?lang=de", headers={"Accept-Language": "nl"})
        ok('<html lang="de">' in r.body.decode() and "12 Tage" in r.body.decode(),
           "?lang=de wins over Accept-Language")
        r = d.get("/privacy")
        ok('<html lang="en">' in r.body.decode() and "12 days" in r.body.decode(),
           "English without a preference")
        etag = r.header("etag")
        r2 = d.get("/privacy", headers={"If-None-Match": etag})
        is_eq(r2.status, 304, "ETag/304")
        is_eq(d.thread("/x").json().get("privacy_url"), None,
              "without privacy_url the thread's answer has privacy_url null")
        d.extra["privacy_url"] = "https://blog.example.nl/privacy"
        d.extra["ip_retention_days"] = "5"
        d.write_config(d.extra)
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "5 days" not in d.get("/privacy").body.decode():
            time.sleep(0.05)
        ok("<td>5 days</td>" in d.get("/privacy").body.decode(),
           "after a reload the page says the new value")
        is_eq(d.thread("/x").json().get("privacy_url"), "https://blog.example.nl/privacy",
              "privacy_url is in the thread's answer for the widget")
    finally:
        d.cleanup()


def test_sort(d):
    t = "/2011/01/sort"
    ids = [d.comment(t, "Reactie %d." % i).json()["id"] for i in range(6)]
    d.comment(t, "Een antwoord.", parent=ids[0])
    # Likes: ids[3] three, ids[1] and ids[4] one each (ties by id).
    for k, ip in [(3, "192.0.2.1"), (3, "192.0.2.2"), (3, "192.0.2.3"), (1, "192.0.2.1"),
                  (4, "192.0.2.1")]:
        like(d, ids[k], ip)

    def tops(**params):
        order, cursor = [], None
        while True:
            p = dict(params)
            if cursor:
                p["cursor"] = cursor
            j = d.thread(t, **p).json()
            order += [c["id"] for c in j["comments"] if c["parent"] is None]
            cursor = j.get("cursor")
            if not cursor:
                return order, j

    is_eq(tops()[0], ids, "oldest first by default")
    is_eq(tops(sort="oldest")[0], ids, "sort=oldest")
    is_eq(tops(sort="newest")[0], list(reversed(ids)), "sort=newest")
    want_top = [ids[3], ids[1], ids[4], ids[0], ids[2], ids[5]]
    is_eq(tops(sort="top")[0], want_top, "sort=top: most liked first, ties oldest first")
    is_eq(tops(sort="top", limit=2)[0], want_top, "  the same two at a time, by cursor")
    is_eq(tops(sort="newest", limit=4)[0], list(reversed(ids)), "sort=newest four at a time")
    order, j = tops(sort="newest")
    first = next(c for c in j["comments"] if c["id"] == ids[0])
    is_eq(len(first["replies"]), 1, "replies stay under their comment")
    is_eq(j["count"], 7, "count is the thread's")
    r = d.thread(t, sort="top", limit=2)
    cursor = r.json()["cursor"]
    r2 = d.thread(t, sort="newest", cursor=cursor)
    is_eq((r2.status, (r2.json() or {}).get("error")), (400, "invalid_cursor"),
          "a cursor of sort=top does not serve sort=newest")
    r2 = d.thread(t, cursor=cursor)
    ok(r2.status == 200 and [c["id"] for c in r2.json()["comments"]][:1] == [want_top[2]],
       "without sort the cursor's order goes on", r2.json())
    r = d.thread(t, sort="best")
    is_eq((r.status, (r.json() or {}).get("error")), (400, "invalid_sort"), "sort=best is 400")
    r = d.thread(t, sort="newest", after=ids[2])
    is_eq(r.status, 400, "after pages only the oldest-first order")
    e1 = d.thread(t, sort="top").header("etag")
    e2 = d.thread(t, sort="newest").header("etag")
    ok(e1 and e2 and e1 != e2, "each order has its own ETag")
    page = d.get("/api/v1/comments?thread=%s&format=html&sort=newest" % t).body.decode()
    ok(page.index("Reactie 5.") < page.index("Reactie 0."), "the HTML page takes sort too")


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def location_of(r):
    return r.header("location") or ""


def test_html_page(d):
    t = "/2011/01/zonder-js"
    a = d.comment(t, "Eerste, met https://example.org en\n\n- een lijst", author="Danny").json()
    b = d.comment(t, "Antwoord.", author="Sjef", parent=a["id"]).json()
    r = d.get("/api/v1/comments?thread=%s&format=html&lang=nl" % t)
    is_eq(r.status, 200, "format=html is 200")
    is_eq(r.header("content-type"), "text/html; charset=utf-8", "an HTML page")
    csp = r.header("content-security-policy") or ""
    ok("default-src 'none'" in csp and "style-src 'self'" in csp and "form-action 'self'" in csp
       and "frame-ancestors 'self' https://blog.example.nl" in csp and "script" not in csp,
       "a CSP without script that lets the blog frame it", csp)
    is_eq(r.header("x-frame-options"), None, "no X-Frame-Options (the blog may frame it)")
    is_eq(r.header("cache-control"), "no-store", "not cached (it holds the form's stamp)")
    page = r.body.decode()
    ok('<html lang="nl">' in page and "2 reacties" in page, "Dutch, with the count")
    ok('id="comment-%d"' % a["id"] in page and 'id="comment-%d"' % b["id"] in page,
       "both comments, with their anchors")
    ok('<a href="https://example.org" rel="nofollow ugc">' in page and "<li>een lijst</li>" in page,
       "autolinks and lists rendered")
    ok("<script" not in page, "no script")
    ok('action="comments"' in page and 'name="format" value="html"' in page, "a reply form")
    m = re.search(r'name="stamp" value="([^"]+)"', page)
    ok(m and re.fullmatch(r"\d+\.[A-Za-z0-9_-]+", m.group(1)), "the form carries a stamp")

    # A post from the page lands on the new comment in its conversation.
    # (Without the stamp: posted at once, the too_fast rule would hold it.)
    body = urlencode({"thread": t, "parent": a["id"], "format": "html", "lang": "nl",
                      "author": "Lezer",
                      "email": "lezer@example.nl", "text": "Zonder JavaScript geplaatst."})
    r = d.post("/api/v1/comments", body, headers=FORM)
    loc = location_of(r)
    mm = re.fullmatch(r"comments\?thread=%s&format=html&lang=nl&site=default&comment=(\d+)"
                      r"#comment-(\d+)" % re.escape(t), loc)
    ok(r.status == 303 and mm and mm.group(1) == mm.group(2), "303 to the comment's conversation", loc)
    if mm:
        r = d.get("/api/v1/" + loc.split("#")[0])
        page = r.body.decode()
        ok('id="comment-%s"' % mm.group(1) in page and "Zonder JavaScript geplaatst." in page,
           "the page it lands on shows the new comment")
        ok(">Alle reacties</a>" in page, "with a link to all comments")
    # Held (here: discarded by the honeypot, which a poster cannot tell from held).
    body = urlencode({"thread": t, "format": "html", "lang": "nl", "frame": "1", "author": "Bot",
                      "email": "bot@example.nl", "text": "x", "website2": "spam"})
    r = d.post("/api/v1/comments", body, headers=FORM)
    loc = location_of(r)
    is_eq(loc, "comments?thread=%s&format=html&lang=nl&frame=1&site=default&held=1#cd-notice" % t,
          "a held post lands on the notice (framed stays framed)")
    page = d.get("/api/v1/" + loc.split("#")[0]).body.decode()
    ok('id="cd-notice" role="status">Je reactie wacht op goedkeuring.' in page,
       "the page shows the awaiting-moderation notice")
    ok('class="cd-page cd-framed"' in page, "framed")
    # A blog's own form: published at its page, held to the notice with a way back.
    body = urlencode({"thread": t, "redirect": "https://blog.example.nl" + t, "author": "Bot",
                      "email": "bot@example.nl", "text": "x", "website2": "spam"})
    r = d.post("/api/v1/comments", body, headers=dict(FORM, **{"Accept-Language": "de"}))
    loc = location_of(r)
    ok(loc.startswith("comments?thread=%s&format=html&lang=de&site=default&back=https%%3A//"
                      "blog.example.nl" % t) and loc.endswith("&held=1#cd-notice"),
       "a blog form's held post goes to the notice, with the way back", loc)
    page = d.get("/api/v1/" + loc.split("#")[0]).body.decode()
    ok('<a href="https://blog.example.nl%s">Zurück zum Artikel</a>' % t in page,
       "which links back to the article")
    page = d.get("/api/v1/comments?thread=%s&format=html&back=https://evil.example/" % t).body
    ok(b"evil.example" not in page, "a way back off the site's origins is not shown")

    # Replying: the page with reply=ID sets the form up.
    page = d.get("/api/v1/comments?thread=%s&format=html&lang=en&reply=%d" % (t, b["id"])).body
    ok(b'name="parent" value="%d"' % b["id"] in page and b">Replying to Sjef</h2>" in page,
       "reply=ID answers that comment")
    # A fragment for a server-side include.
    r = d.get("/api/v1/comments?thread=%s&format=fragment&lang=en" % t)
    frag = r.body.decode()
    ok(frag.startswith('<section class="cd-root cd-wrap"') and "<html" not in frag,
       "format=fragment is the section only")
    ok('action="https://comments.example.nl/api/v1/comments"' in frag,
       "its form posts to public_url")
    # Paging: more than a page of top-level comments.
    for i in range(55):
        d.comment("/2011/01/lang", "Reactie %d." % i)
    page = d.get("/api/v1/comments?thread=/2011/01/lang&format=html&lang=nl").body.decode()
    is_eq(page.count('<li class="cd-item">'), 50, "a page of 50 top-level comments")
    mm = re.search(r'<a class="cd-more" href="\?([^"]+)">Meer reacties</a>', page)
    ok(mm, "and a link to the next page")
    if mm:
        page2 = d.get("/api/v1/comments?" + mm.group(1).replace("&amp;", "&")).body.decode()
        is_eq(page2.count('<li class="cd-item">'), 5, "which holds the rest")
    for q, code in [("format=xml", "invalid_format"), ("format=html&reply=x", "invalid_id"),
                    ("format=html&comment=0", "invalid_id")]:
        r = d.get("/api/v1/comments?thread=/x&" + q)
        is_eq((r.status, (r.json() or {}).get("error")), (400, code), "%s: 400 %s" % (q, code))


def test_two_sites():
    """Two blogs on one daemon: each has its own feed, likes setting,
    privacy page and thread as HTML; a comment of one cannot be liked
    through the other."""
    blog, notes = "https://blog.example.nl", "https://notes.example.nl"
    d = Daemon()
    with open(d.conf, "w") as f:
        f.write("db = %s\nkey = %s\nrate_limit = 0\nstarter_model = off\n"
                "public_url = https://c.example.nl\n\n"
                "[site blog]\norigins = %s\nprivacy_contact = privacy@blog.example.nl\n\n"
                "[site notes]\norigins = %s\nlikes = off\n"
                "public_url = https://comments.notes.example.nl\n"
                "privacy_url = https://notes.example.nl/privacy\n" % (d.db, d.key, blog, notes))
    d.start()
    try:
        def post(origin, text):
            return d.post("/api/v1/comments", {"thread": "/p", "author": "A", "email": "a@example.nl",
                                               "text": text}, headers={"Origin": origin}).json()
        b = post(blog, "Op blog.")
        n = post(notes, "Op notes.")
        feed = d.get("/api/v1/feed?thread=/p", headers={"Origin": notes}).body.decode()
        ok("Op notes." in feed and "Op blog." not in feed and "https://notes.example.nl/p#comment-"
           in feed, "notes' feed: its own comments, linked on notes")
        ok('href="https://comments.notes.example.nl/api/v1/feed?thread=/p"' in feed,
           "its self link on notes' own public_url")
        feed = d.get("/api/v1/feed?site=blog").body.decode()
        ok("Op blog." in feed and "Op notes." not in feed, "?site=blog: blog's site feed")
        ok('href="https://c.example.nl/api/v1/feed"' in feed,
           "blog's on the top level's public_url")
        tb = d.get("/api/v1/comments?thread=/p", headers={"Origin": blog}).json()
        tn = d.get("/api/v1/comments?thread=/p", headers={"Origin": notes}).json()
        is_eq((tb.get("likes_enabled"), tb.get("privacy_url")), (True, None),
              "blog takes likes and uses commentd's privacy page")
        is_eq((tn.get("likes_enabled"), tn.get("privacy_url")),
              (False, "https://notes.example.nl/privacy"), "notes: likes off, its own page")
        r = d.request("POST", "/api/v1/comments/%d/like" % n["id"], headers={"Origin": notes})
        is_eq((r.status, (r.json() or {}).get("error")), (403, "likes_disabled"),
              "a like on notes is 403")
        r = d.request("POST", "/api/v1/comments/%d/like" % n["id"], headers={"Origin": blog})
        is_eq(r.status, 404, "notes' comment through blog is 404")
        r = d.request("POST", "/api/v1/comments/%d/like" % b["id"], headers={"Origin": blog})
        is_eq((r.status, (r.json() or {}).get("likes")), (200, 1), "blog's comment through blog")
        page = d.get("/privacy?lang=en", headers={"Referer": blog + "/p"}).body.decode()
        ok("blog.example.nl" in page and "mailto:privacy@blog.example.nl" in page and
           "A like" in page, "the privacy page of blog (by the Referer)")
        page = d.get("/privacy?lang=en&site=notes").body.decode()
        ok("notes.example.nl" in page and "A like" not in page, "and of notes (?site=)")
        page = d.get("/api/v1/comments?thread=/p&format=html&site=notes").body.decode()
        ok("Op notes." in page and "Op blog." not in page and
           '<input type="hidden" name="site" value="notes">' in page,
           "the thread as HTML is notes' and its form names notes")
        r = d.get("/api/v1/comments?thread=/p&format=html&site=notes")
        ok("frame-ancestors 'self' " + notes in (r.header("content-security-policy") or "") and
           blog not in (r.header("content-security-policy") or ""),
           "only notes may frame it", r.header("content-security-policy"))
    finally:
        d.cleanup()


def test_with_notifications():
    """With mail (notifications, #17) the widget and the HTML page offer the
    reply-notification checkbox, and the privacy page says which mails go
    out and where the webhook sends events instead of "nowhere".  No comment
    is posted: nothing is mailed or sent."""
    d = Daemon(config={"site_origins": "https://blog.example.nl",
                       "public_url": "https://comments.example.nl",
                       "smtp_url": "smtp://127.0.0.1:9", "smtp_from": "Blog <c@example.nl>",
                       "notify_moderators": "sjef@example.nl", "notify_retention_days": "60",
                       "webhook_url": "https://hooks.example.org/T0K3N",
                       "webhook_secret": "0123456789abcdef0123"}).start()
    try:
        t = d.thread("/x").json()
        is_eq((t.get("notify"), t.get("likes_enabled")), (True, True),
              "the thread's answer says the server sends mail")
        page = d.get("/api/v1/comments?thread=/x&format=html&lang=en").body.decode()
        ok('<input id="cd-notify" name="notify" type="checkbox" value="1">' in page and
           "E-mail me replies to this" in page, "the HTML page's form has the checkbox")
        page = d.get("/privacy?lang=en").body.decode()
        ok("only if you ask to be told of replies" in page and "at most 60 days" in page,
           "the privacy page: the subscription's row with notify_retention_days")
        ok("Nowhere:" not in page and "through the site's mail server" in page and
           "Moderators are mailed" in page and "hooks.example.org" in page and
           "T0K3N" not in page and "sjef@example.nl" not in page,
           "  which mails go out, the webhook's host (not its path), no addresses")
    finally:
        d.cleanup()
    d = Daemon(config={"site_origins": "https://blog.example.nl", "language": "nl"}).start()
    try:
        ok("notify" not in d.thread("/x").json(), "without mail the answer has no notify")
        for path in ["/privacy", "/api/v1/comments?thread=/x&format=html"]:
            body = d.get(path, headers={"Accept-Language": "fr"}).body.decode()
            ok('<html lang="nl">' in body, "language = nl: %s in Dutch when the reader asks for "
               "none of ours" % path.split("?")[0])
        body = d.get("/privacy", headers={"Accept-Language": "de"}).body.decode()
        ok('<html lang="de">' in body, "  the reader's choice still wins")
        page = d.get("/api/v1/comments?thread=/x&format=html&lang=en").body.decode()
        ok('name="notify"' not in page, "and the HTML page no checkbox")
    finally:
        d.cleanup()


def main():
    d = Daemon(config={"site_origins": "https://blog.example.nl",
                       "public_url": "https://comments.example.nl",
                       "trusted_proxies": "127.0.0.1"}).start()
    try:
        test_preview(d)
        test_likes(d)
        test_feeds(d)
        test_html_page(d)
        test_sort(d)
    finally:
        d.cleanup()
    test_likes_limits()
    test_feed_without_urls()
    test_privacy_page()
    test_two_sites()
    test_with_notifications()
    done()


if __name__ == "__main__":
    main()
