#!/usr/bin/env python3
"""What readers get beyond posting (issue 19): the preview, likes, sorting
and paging, the Atom feeds, the thread as HTML for readers without
JavaScript, and the privacy page.  Real daemons over real HTTP."""
import os
import signal
import sys
import time

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


def main():
    d = Daemon(config={"site_origins": "https://blog.example.nl",
                       "trusted_proxies": "127.0.0.1"}).start()
    try:
        test_preview(d)
        test_likes(d)
    finally:
        d.cleanup()
    test_likes_limits()
    done()


if __name__ == "__main__":
    main()
