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
        ("/page.css", "page.css", "text/css", False),
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
        ok(("max-age=600" in cache) if url.startswith(("/embed", "/page.css")) else cache == "no-cache",
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
    is_eq(r.body, source("demo/index.html"), "the demo is web/demo/index.html byte for byte")
    ok('src="../embed.js"' in body and 'data-thread="%s"' % T in body,
       "the demo embeds the widget for the article")
    ok("<style" not in body and " style=" not in body and
       re.search(r"<script(?![^>]*\bsrc=)", body) is None,
       "the demo has no inline script or style")
    ok("Loesje" in body, "the demo carries the seed article's text")
    ok("frame-ancestors 'none'" in (r.header("content-security-policy") or ""),
       "the demo has the page CSP")

    # Readers without JavaScript: the thread in a frame, inside <noscript>.
    m = re.search(r'<noscript><iframe class="cd-frame" title="Reacties" src="([^"]+)"></iframe>'
                  r'</noscript>', body)
    ok(m, "the placeholder holds the thread in a frame for readers without JavaScript")
    src = m.group(1).replace("&amp;", "&") if m else ""
    ok(src.startswith("../api/v1/comments?thread=%s&format=html" % T) and "frame=1" in src,
       "the frame shows the thread as HTML", src)
    r = d.get("/" + src[3:], headers={"Origin": origin})
    ok(r.status == 200 and "frame-ancestors 'self' " + origin in
       (r.header("content-security-policy") or ""),
       "the framed page may be framed by the site", r.header("content-security-policy"))
    page = r.body.decode()
    stamp = re.search(r'name="stamp" value="([^"]+)"', page)
    ok(stamp, "the frame's form carries the render stamp")
    # (Posted at once, with the stamp the too_fast rule would hold it.)
    form = urlencode({"thread": T, "format": "html", "lang": "nl", "frame": "1",
                      "author": "Geen JS",
                      "email": "geenjs@example.nl", "url": "", "website2": "",
                      "text": "Reactie zonder JavaScript."})
    r = d.post("/api/v1/comments", form,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    loc = r.header("location") or ""
    ok(r.status == 303 and re.fullmatch(r"comments\?thread=%s&format=html&lang=nl&frame=1&"
                                        r"site=default&comment=(\d+)#comment-\1" % re.escape(T),
                                        loc),
       "a post from the frame returns 303 to the new comment", (r.status, loc))


def main():
    port = free_port()
    origin = "http://127.0.0.1:%d" % port
    d = Daemon(config={"site_origins": origin + " http://localhost:%d" % port})
    d.port = port
    with d:
        assets(d)
        demo(d, origin)
        is_eq(d.stop(), 0, "the daemon stops cleanly")
        log = d.log()
        ok("Sanitizer" not in log and "runtime error" not in log,
           "no sanitizer reports", log[-3000:])
    done()


if __name__ == "__main__":
    main()
