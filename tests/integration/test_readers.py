#!/usr/bin/env python3
"""What readers get beyond posting (issue 19): the preview, likes, sorting
and paging, the Atom feeds, the thread as HTML for readers without
JavaScript, and the privacy page.  Real daemons over real HTTP."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, diag, done, is_eq, ok  # noqa: E402

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


def main():
    d = Daemon(config={"site_origins": "https://blog.example.nl"}).start()
    try:
        test_preview(d)
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
