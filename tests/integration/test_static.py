#!/usr/bin/env python3
"""The widget, the moderation page and the demo served by the daemon: content
types, CSP, ETag/304, Cache-Control, the demo's form redirect."""
import os
import re
import sys
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Daemon, done, free_port, is_eq, ok  # noqa: E402

T = "/2011/01/social-media-realities"


def source(path):
    with open(os.path.join(SOURCE_ROOT, "web", path), "rb") as f:
        return f.read()


def assets(d):
    files = [
        ("/embed.js", "embed.js", "text/javascript", False),
        ("/embed.css", "embed.css", "text/css", False),
        ("/admin/", "admin/index.html", "text/html", True),
        ("/admin/admin.js", "admin/admin.js", "text/javascript", False),
        ("/admin/admin.css", "admin/admin.css", "text/css", False),
        ("/demo/demo.css", "demo/demo.css", "text/css", False),
    ]
    for url, path, ctype, page in files:
        r = d.get(url)
        is_eq(r.status, 200, "GET %s is 200" % url)
        ok((r.header("content-type") or "").startswith(ctype + "; charset=utf-8"),
           "%s is %s" % (url, ctype), r.header("content-type"))
        is_eq(r.body, source(path), "%s is web/%s byte for byte" % (url, path))
        is_eq(r.header("x-content-type-options"), "nosniff", "%s has nosniff" % url)
        etag = r.header("etag")
        ok(etag and re.fullmatch(r'"[0-9a-f]{32}"', etag), "%s has an ETag" % url, etag)
        cache = r.header("cache-control") or ""
        ok(("max-age=600" in cache) if url.startswith("/embed") else cache == "no-cache",
           "%s has its Cache-Control (%s)" % (url, cache))
        csp = r.header("content-security-policy")
        if page:
            ok(csp and "default-src 'self'" in csp and "script-src 'self'" in csp and
               "style-src 'self'" in csp and "unsafe-inline" not in csp,
               "%s has a strict CSP" % url, csp)
            is_eq(r.header("x-frame-options"), "DENY", "%s may not be framed" % url)
        else:
            is_eq(csp, None, "%s has no CSP of its own" % url)
        r2 = d.get(url, headers={"If-None-Match": etag})
        is_eq((r2.status, r2.body), (304, b""), "%s with If-None-Match is 304, no body" % url)
    r = d.request("HEAD", "/embed.js")
    is_eq((r.status, r.body), (200, b""), "HEAD /embed.js is 200 without a body")
    r = d.post("/embed.js", {"x": 1})
    is_eq((r.status, r.header("allow")), (405, "GET, HEAD, OPTIONS"), "POST /embed.js is 405")
    for short in ("/admin", "/demo"):
        r = d.get(short)
        is_eq((r.status, r.header("location")), (301, short[1:] + "/"),
              "%s redirects to the folder" % short)
    is_eq(d.get("/admin/nothing.js").status, 404, "an unknown file is 404")


def demo(d, origin):
    r = d.get("/demo/")
    is_eq(r.status, 200, "GET /demo/ is 200")
    body = r.body.decode()
    ok(b"@ORIGIN@" not in r.body, "the demo has no unfilled marker")
    ok('name="redirect" value="%s/demo/"' % origin in body,
       "the no-JS form returns to this origin's demo page", body[:0])
    ok('src="../embed.js"' in body and 'data-thread="%s"' % T in body,
       "the demo embeds the widget for the article")
    ok("<style" not in body and " style=" not in body and
       re.search(r"<script(?![^>]*\bsrc=)", body) is None,
       "the demo has no inline script or style")
    ok("Loesje" in body, "the demo carries the seed article's text")
    ok("frame-ancestors 'none'" in (r.header("content-security-policy") or ""),
       "the demo has the page CSP")

    r = d.get("/demo/", headers={"Host": "evil.example"})
    ok("evil.example" not in r.body.decode() and
       'value="%s/demo/"' % origin in r.body.decode(),
       "a foreign Host header is not reflected; the first site origin is used")
    r = d.get("/demo/", headers={"Host": 'x"><script>'})
    ok("<script>" not in r.body.decode().split("</head>")[1].split("embed.js")[0],
       "a hostile Host header is not reflected")

    # The no-JavaScript path: the demo's own form fields, posted as a form.
    m = re.search(r'value="([^"]*)/demo/"', body)
    form = urlencode({"thread": T, "redirect": m.group(1) + "/demo/", "author": "Geen JS",
                      "email": "geenjs@example.nl", "url": "", "website2": "",
                      "text": "Reactie zonder JavaScript."})
    r = d.post("/api/v1/comments", form,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    loc = r.header("location") or ""
    ok(r.status == 303 and re.fullmatch(re.escape(origin) + r"/demo/#comment-\d+", loc),
       "the no-JS form post returns 303 to the demo page", (r.status, loc))


def main():
    port = free_port()
    origin = "http://127.0.0.1:%d" % port
    d = Daemon(config={"site_origins": origin + " http://localhost:%d" % port})
    d.port = port
    with d:
        assets(d)
        demo(d, origin)
        r = d.get("/demo/", headers={"Host": "localhost:%d" % port})
        ok('value="http://localhost:%d/demo/"' % port in r.body.decode(),
           "the demo asked for on the second origin returns there")
        is_eq(d.stop(), 0, "the daemon stops cleanly")
        log = d.log()
        ok("Sanitizer" not in log and "runtime error" not in log,
           "no sanitizer reports", log[-3000:])
    done()


if __name__ == "__main__":
    main()
