#!/usr/bin/env python3
"""Integration tests: every v1 endpoint and every error, over real HTTP."""
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTD, Daemon, db_holds, db_scan, diag, done, integrity_check, is_eq, ok,  # noqa: E402
                     set_schema_version, StrictAnswer, table_columns, raw_request, raw_status,
                     walk, not_on_engine)

T = "/2011/01/social-media-realities"
ORIGIN = "https://blog.example.nl"
EMAILS = set()


def post(d, text, thread=T, author="Sjef", email="sjef@example.nl", **extra):
    if email.strip():
        EMAILS.add(email.strip().lower())
    return d.comment(thread, text, author=author, email=email, **extra)


def common_headers(d):
    r = d.get("/api/v1/health")
    is_eq(r.status, 200, "health answers 200")
    j = r.json() or {}
    is_eq(j.get("database"), "ok", "health reports the database ok")
    ok(bool(j.get("version")), "health reports the version")
    is_eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff on success")
    r = d.get("/nope")
    is_eq(r.status, 404, "unknown path is 404")
    is_eq((r.json() or {}).get("error"), "not_found", "404 has a JSON error code")
    ok(bool((r.json() or {}).get("message")), "404 has a message")
    is_eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff on errors")


def create_and_read(d):
    r = post(d, "Leuk artikel *Sjef*!", url="https://example.nl")
    is_eq(r.status, 201, "POST JSON answers 201")
    c = r.json() or {}
    is_eq(c.get("status"), "published", "the comment is published")
    for key in ("id", "thread", "parent", "author", "url", "created", "html", "avatar"):
        ok(key in c, "201 body has %s" % key)
    ok("email" not in c and "sjef@example.nl" not in r.body.decode(), "no e-mail in the answer")
    ok(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c.get("created", "")) is not None,
       "created is RFC 3339 UTC")
    ok(re.fullmatch(r"[0-9a-f]{32}", c.get("avatar", "")) is not None, "avatar is a hex seed")
    is_eq(c.get("html"), "<p>Leuk artikel <em>Sjef</em>!</p>", "text rendered to HTML")
    is_eq(c.get("url"), "https://example.nl", "url kept")
    top = c["id"]

    r = post(d, "Een antwoord", author="Danny", email="Danny@Example.NL ", parent=top)
    is_eq(r.status, 201, "a reply is accepted")
    reply = r.json()["id"]
    is_eq(r.json()["parent"], top, "the reply's parent is the comment")
    r2 = post(d, "Tweede", author="Martin", email="martin@example.nl")
    second = r2.json()["id"]

    r = d.thread(T)
    is_eq(r.status, 200, "GET thread answers 200")
    j = r.json()
    is_eq(j["thread"], T, "thread echoed")
    is_eq(j["count"], 3, "count counts published comments")
    is_eq([c["id"] for c in j["comments"]], [top, second], "top level oldest first")
    is_eq([x["id"] for x in j["comments"][0]["replies"]], [reply], "reply nested under its parent")
    is_eq(j["comments"][0]["replies"][0]["replies"], [], "leaf has empty replies")
    ok(b"@example" not in r.body.lower(), "no e-mail address in the thread")
    a1 = j["comments"][0]["avatar"]
    r = post(d, "Nog eentje", email="sjef@example.nl")
    is_eq(r.json()["avatar"], a1, "same e-mail gives the same avatar")
    r = post(d, "Andere", email="other@example.nl")
    ok(r.json()["avatar"] != a1, "another e-mail gives another avatar")

    # Unknown threads are empty, not missing.
    r = d.thread("/never/commented")
    is_eq((r.status, r.json()["count"], r.json()["comments"]), (200, 0, []),
          "an unknown thread is empty")
    return top


def pagination_and_etag(d):
    t = "/paging"
    ids = [post(d, "top %d" % i, thread=t).json()["id"] for i in range(5)]
    post(d, "reply to 2", thread=t, parent=ids[1])
    r = d.thread(t, limit=2)
    j = r.json()
    is_eq([c["id"] for c in j["comments"]], ids[:2], "limit returns the first page")
    is_eq(len(j["comments"][1]["replies"]), 1, "replies come with their page")
    is_eq(j["count"], 6, "count covers the whole thread")
    r = d.thread(t, limit=2, after=ids[1])
    is_eq([c["id"] for c in r.json()["comments"]], ids[2:4], "after continues")
    r = d.thread(t, limit=2, after=ids[4])
    is_eq(r.json()["comments"], [], "after the last page is empty")
    is_eq(d.thread(t, limit="x").status, 400, "bad limit is 400")
    is_eq(d.thread(t, limit=100000).status, 400, "limit over page_max is 400")
    is_eq(d.thread(t, after="-1").status, 400, "bad after is 400")
    is_eq(d.get("/api/v1/comments").status, 400, "missing thread is 400")

    r = d.thread(t)
    etag = r.header("ETag")
    ok(bool(etag), "GET has an ETag")
    r2 = d.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    is_eq(r2.status, 304, "If-None-Match answers 304")
    is_eq(r2.body, b"", "304 has no body")
    post(d, "new", thread=t)
    r3 = d.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    is_eq(r3.status, 200, "a new comment changes the ETag")
    ok(r3.header("ETag") != etag, "new ETag differs")
    etag = r3.header("ETag")
    is_eq(d.thread(t).header("ETag"), etag, "an unchanged thread keeps its ETag")
    ok(d.thread(t, limit=2).header("ETag") not in (etag, None), "another page has its own ETag")
    # The 304 comes from the thread's version, not from a kept copy of the
    # answer: still 304 once 300 other threads have pushed it out of the
    # daemon's answer cache (256 answers).
    for i in range(300):
        d.get("/api/v1/comments?thread=/other-%d" % i)
    r4 = d.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    is_eq((r4.status, r4.body, r4.header("ETag")), (304, b"", etag),
          "304 with the same ETag after the answer left the daemon's cache")
    r5 = d.request("GET", "/api/v1/comments?thread=%s" % t,
                   headers={"If-None-Match": '"0123", %s' % etag})
    is_eq(r5.status, 304, "also when If-None-Match lists several ETags")
    r6 = d.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": '"x"'})
    ok(r6.status == 200 and r6.json()["count"] == 7 and r6.header("ETag") == etag,
       "another ETag gets the whole answer (7 comments) with the current ETag")
    return t, etag


def etag_after_restart(d, t, etag):
    """The thread answers' ETags are new after a restart (an upgrade, a
    restored database or a new key may change an answer whose thread kept
    its version).  On PostgreSQL the ETag key is kept in the database,
    shared by every node (lib/nodes.c; per release): it survives a restart
    by design, and the old ETag still gets a 304."""
    r = d.request("GET", "/api/v1/comments?thread=%s" % t, headers={"If-None-Match": etag})
    if not_on_engine("after a restart the old ETag no longer matches",
                     "the ETag key is shared in the database (every node's, per release) "
                     "and survives a restart by design"):
        ok(r.status == 304 and r.header("ETag") == etag,
           "on PostgreSQL the old ETag still matches after a restart (a 304)", r.status)
        return
    ok(r.status == 200 and r.header("ETag") != etag and r.json()["count"] == 7,
       "after a restart the old ETag no longer matches: the whole answer", r.status)


def depth_limit(d):
    t = "/deep"
    parent = None
    chain = []
    for i in range(8):
        extra = {"parent": parent} if parent else {}
        r = post(d, "level %d" % (i + 1), thread=t, **extra)
        is_eq(r.status, 201, "chain comment %d accepted" % (i + 1))
        chain.append(r.json())
        parent = r.json()["id"]
    # Default max_depth 5: levels 6, 7, 8 attach to level 4 (so they sit at level 5).
    is_eq(chain[5]["parent"], chain[3]["id"], "a reply below the depth limit attaches to the "
          "deepest allowed ancestor")
    is_eq(chain[7]["parent"], chain[3]["id"], "and so do replies to it")
    j = d.thread(t).json()

    def depth(nodes, lvl=1):
        return max([lvl] + [depth(n["replies"], lvl + 1) for n in nodes if n["replies"]])
    is_eq(depth(j["comments"]), 5, "the tree is never deeper than 5")
    is_eq(sum(1 for _ in walk(j["comments"])), 8, "all 8 comments are in the tree")


def reply_rules(d, top):
    r = post(d, "x", thread="/other", parent=top)
    is_eq((r.status, (r.json() or {}).get("error")), (422, "invalid_parent"),
          "parent from another thread is 422")
    r = post(d, "x", parent=999999)
    is_eq(r.status, 422, "unknown parent is 422")
    r = post(d, "x", parent="7")
    is_eq(r.status, 400, "parent of the wrong type is 400")


def counts(d):
    r = d.post("/api/v1/counts", [T, "/paging", "/unknown"])
    is_eq(r.status, 200, "counts answers 200")
    j = r.json()
    is_eq(j.get("/unknown"), 0, "unknown thread counts 0")
    is_eq(j.get("/paging"), 7, "counts match the thread")
    ok(j.get(T, 0) >= 3, "counts for the article")
    is_eq(d.post("/api/v1/counts", {"a": 1}).status, 400, "counts wants an array")
    is_eq(d.post("/api/v1/counts", [1, 2]).status, 400, "counts wants strings")
    is_eq(d.post("/api/v1/counts", ["/x"] * 201).status, 422, "too many threads is 422")
    is_eq(d.post("/api/v1/counts", ["no-slash"]).status, 422, "bad path is 422")
    r = d.request("GET", "/api/v1/counts")
    is_eq(r.status, 405, "GET on counts is 405")
    ok("POST" in (r.header("Allow") or ""), "405 carries Allow")


def errors(d):
    def code(r):
        return (r.status, (r.json() or {}).get("error"))

    hdr = {"Content-Type": "application/json"}
    r = d.post("/api/v1/comments", b"{not json", headers=hdr)
    is_eq(code(r)[0], 400, "malformed JSON is 400")
    ok("line" in (r.json() or {}).get("message", ""), "the message says where")
    r = d.post("/api/v1/comments", b'{"thread":"/a","author":"\xff","email":"a@b.nl","text":"x"}',
               headers=hdr)
    is_eq(r.status, 400, "invalid UTF-8 is 400")
    r = d.post("/api/v1/comments",
               b'{"thread":"/a","thread":"/b","author":"a","email":"a@b.nl","text":"x"}',
               headers=hdr)
    is_eq(r.status, 400, "duplicate keys are 400")
    r = d.post("/api/v1/comments", {"thread": "/a", "author": "a", "email": "a@b.nl",
                                    "text": "x", "admin": True})
    is_eq(code(r), (400, "unknown_field"), "unknown keys are 400")
    r = d.post("/api/v1/comments", b'{"thread":"/a","author":"a","email":"a@b.nl","text":"x\\u0000y"}',
               headers=hdr)
    is_eq(r.status, 400, "NUL in a string is 400")
    r = d.post("/api/v1/comments", b"[" * 5000 + b"]" * 5000, headers=hdr)
    is_eq(r.status, 400, "deep nesting is 400")
    r = d.post("/api/v1/comments", b"[]", headers=hdr)
    is_eq(r.status, 400, "a non-object body is 400")
    is_eq(code(post(d, "x", author="")), (422, "missing_author"), "missing author is 422")
    r = d.post("/api/v1/comments", {"thread": T, "email": "a@b.nl", "text": "x"})
    is_eq(code(r), (422, "missing_author"), "absent author is 422")
    is_eq(code(post(d, "x", email="")), (422, "missing_email"), "missing e-mail is 422")
    is_eq(code(post(d, "x", email="not-an-address")), (422, "invalid_email"), "bad e-mail is 422")
    is_eq(code(post(d, "x", email="a@b")), (422, "invalid_email"), "e-mail without a dot is 422")
    is_eq(code(post(d, "   ")), (422, "missing_text"), "blank text is 422")
    is_eq(code(post(d, "x", url="javascript:alert(1)")), (422, "invalid_url"),
          "non-http URL is 422")
    is_eq(code(post(d, "x", url="ftp://example.nl")), (422, "invalid_url"), "ftp URL is 422")
    is_eq(code(post(d, "x" * 10001)), (422, "text_too_long"), "text too long is 422")
    is_eq(post(d, "\u00e9" * 10000).status, 201, "10000 characters (20000 bytes) is fine")
    is_eq(code(post(d, "x", author="n" * 101)), (422, "author_too_long"), "name too long is 422")
    is_eq(code(post(d, "x", author="a\nb")), (422, "invalid_author"), "newline in name is 422")
    for bad in ("//evil.example", "/a/../b", "no-slash", "/a b", "/a\\b", "/x\x01"):
        r = post(d, "x", thread=bad)
        ok(r.status in (400, 422), "bad thread %r refused" % bad, r)
    r = d.post("/api/v1/comments", "thread=/a", headers={"Content-Type": "text/plain"})
    is_eq(code(r), (415, "unsupported_media_type"), "text/plain is 415")
    r = d.post("/api/v1/comments", b"{}", headers={})
    is_eq(r.status, 415, "no content type is 415")
    r = d.request("DELETE", "/api/v1/comments")
    is_eq(r.status, 405, "DELETE is 405")
    ok("GET" in (r.header("Allow") or "") and "POST" in (r.header("Allow") or ""),
       "405 Allow lists the methods")
    big = b'{"text":"' + b"a" * 70000 + b'"}'
    r = d.post("/api/v1/comments", big, headers=hdr)
    is_eq(code(r), (413, "body_too_large"), "a body over 64 KiB is 413")
    # Chunked, no Content-Length.
    chunks = b""
    for _ in range(80):
        chunks += b"400\r\n" + b"a" * 1024 + b"\r\n"
    raw = (b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    ans = raw_request(d.port, raw)
    is_eq(raw_status(ans), 413, "a chunked body over the cap is 413")
    r = d.get("/api/v1/health")
    is_eq(r.status, 200, "the daemon still serves after bad input")


def forms(d):
    hdr = {"Content-Type": "application/x-www-form-urlencoded"}
    body = ("thread=%2Fform&author=Jerry&email=jerry%40example.nl&text=Verfrissend+Sjef%21"
            "&redirect=https%3A%2F%2Fblog.example.nl%2Fform%3Fx%3D1")
    EMAILS.add("jerry@example.nl")
    r = d.post("/api/v1/comments", body, headers=hdr)
    is_eq(r.status, 303, "a form post answers 303")
    loc = r.header("Location") or ""
    ok(re.fullmatch(r"https://blog\.example\.nl/form\?x=1#comment-\d+", loc) is not None,
       "303 goes to the redirect with #comment-<id>", loc)
    j = d.thread("/form").json()
    is_eq(j["comments"][0]["html"], "<p>Verfrissend Sjef!</p>", "the form comment is stored")
    r = d.post("/api/v1/comments", body.replace("blog.example.nl", "evil.example"), headers=hdr)
    ok((r.header("Location") or "").startswith(ORIGIN + "/form#comment-"),
       "an off-site redirect falls back to the thread page", r.header("Location"))
    r = d.post("/api/v1/comments", body.replace("%2Fform%3Fx%3D1", "%0D%0ASet-Cookie:x"),
               headers=hdr)
    ok("\r" not in (r.header("Location") or "") and
       (r.header("Location") or "").startswith(ORIGIN + "/form#"), "CRLF in redirect refused")
    r = d.post("/api/v1/comments", body + "&author=Two", headers=hdr)
    is_eq(r.status, 400, "a repeated form field is 400")
    r = d.post("/api/v1/comments", "thread=%2Fform&author=J&email=bad&text=x", headers=hdr)
    is_eq(r.status, 422, "form validation errors are 422")
    r = d.post("/api/v1/comments", "thread=%2Fform&author=J&email=bad&text=%3Cb%3Ex",
               headers=dict(hdr, Accept="text/html,application/xhtml+xml"))
    ok(r.status == 422 and (r.header("Content-Type") or "").startswith("text/html") and
       b"e-mail address" in r.body and b"<b>" not in r.body,
       "a browser's form post gets a readable error page", r)
    is_eq(r.header("Content-Security-Policy"), "default-src 'none'", "the error page runs nothing")
    r = d.post("/api/v1/comments", "thread=%zz", headers=hdr)
    is_eq(r.status, 400, "malformed form encoding is 400")
    r = d.post("/api/v1/comments", "thread=%2Fform&author=J%FF&email=j%40x.nl&text=x",
               headers=hdr)
    is_eq(r.status, 400, "invalid UTF-8 in a form is 400")


def cors(d):
    r = d.get("/api/v1/health", headers={"Origin": ORIGIN})
    is_eq(r.header("Access-Control-Allow-Origin"), ORIGIN, "CORS for a configured origin")
    r = d.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    is_eq(r.header("Access-Control-Allow-Origin"), None, "no CORS for other origins")
    # A cache in front (nginx, a CDN) keeps one answer per URL and the
    # request headers its Vary names: every answer must name Origin, also
    # one to a request without it, or a browser on the blog would be handed
    # a kept copy without its CORS header.
    d.comment("/vary", "Een reactie voor de caches.")
    for path, want in (("/api/v1/comments?thread=/vary", "Origin"),
                       ("/api/v1/comments?thread=/vary&format=html", "Accept-Language, Origin"),
                       ("/api/v1/health", "Origin"),
                       ("/api/v1/comments?thread=", "Origin")):
        for origin in (None, ORIGIN, "https://evil.example"):
            ans = StrictAnswer(raw_request(d.port, (
                "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n" % (
                    path, "Origin: %s\r\n" % origin if origin else "")).encode()))
            is_eq((ans.status // 100 if ans.status else None, ans.all("vary")), (
                4 if path.endswith("=") else 2, [want]),
                "GET %s%s: one Vary, naming %s" % (path, " from " + origin if origin else "", want))
    r = d.request("OPTIONS", "/api/v1/comments", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    is_eq(r.status, 204, "preflight answers 204")
    ok("POST" in (r.header("Access-Control-Allow-Methods") or ""), "preflight allows POST")


def privacy(d):
    log = d.log()
    for e in EMAILS:
        ok(e not in log, "the log never holds %s" % e)
    ok("203.0.113" not in log, "the log never holds a client address")
    ok(len(db_scan(d)) > 0, "database read (its files, or every table's values)")
    for e in EMAILS:
        ok(not db_holds(d.db, e), "the database (with its WAL) never holds %s, in any case" % e)
    cols = table_columns(d, "comments")
    ok(cols and "email" not in cols, "no e-mail column", cols)
    is_eq(integrity_check(d), "ok", "integrity_check ok (amcheck on PostgreSQL)")


def moderation_all():
    with Daemon({"moderation": "all"}) as d:
        r = post(d, "held")
        is_eq((r.status, r.json()["status"]), (201, "pending"), "moderation=all holds comments")
        j = d.thread(T).json()
        is_eq((j["count"], j["comments"]), (0, []), "held comments are not shown or counted")
        r = post(d, "reply to held", parent=r.json()["id"])
        is_eq(r.status, 422, "a reply to a held comment is 422")


def rate_limits():
    with Daemon({"rate_limit": "2", "rate_burst": "2", "trusted_proxies": "127.0.0.1"}) as d:
        a = {"X-Forwarded-For": "203.0.113.7"}
        b = {"X-Forwarded-For": "203.0.113.8"}
        body = {"thread": "/rl", "author": "a", "email": "a@b.nl", "text": "x"}
        s = [d.post("/api/v1/comments", body, headers=a).status for _ in range(3)]
        is_eq(s, [201, 201, 429], "the third POST in a burst is 429")
        r = d.post("/api/v1/comments", body, headers=a)
        ok(int(r.header("Retry-After") or 0) >= 1, "429 carries Retry-After")
        is_eq((r.json() or {}).get("error"), "rate_limited", "429 has a JSON error")
        is_eq(d.post("/api/v1/comments", body, headers=b).status, 201,
              "another client behind the trusted proxy has its own limit")
        is_eq(d.get("/api/v1/health").status, 200, "reads are not limited")
        ok("203.0.113" not in d.log(), "client addresses are not logged")
    with Daemon({"rate_limit": "1", "rate_burst": "1"}) as d:
        body = {"thread": "/rl", "author": "a", "email": "a@b.nl", "text": "x"}
        is_eq(d.post("/api/v1/comments", body, headers={"X-Forwarded-For": "203.0.113.9"}).status,
              201, "first POST passes")
        is_eq(d.post("/api/v1/comments", body, headers={"X-Forwarded-For": "203.0.113.10"}).status,
              429, "X-Forwarded-For from an untrusted peer is ignored")


def cli():
    with Daemon() as d:
        d.stop()
        r = subprocess.run([COMMENTD, "-n", "--config", d.conf], capture_output=True, text=True)
        is_eq(r.returncode, 0, "-n accepts a good configuration")
        ok("configuration OK" in r.stdout, "-n says configuration OK")
        with open(d.conf, "a") as f:
            f.write("max_depth = 0\n")
        r = subprocess.run([COMMENTD, "-n", "--config", d.conf], capture_output=True, text=True)
        ok(r.returncode != 0 and "max_depth" in r.stderr, "-n rejects a bad setting by name",
           r.stderr)
        with open(d.conf, "a") as f:
            f.write("bogus = 1\n")
        key2 = os.path.join(d.dir, "k2.key")
        r = subprocess.run([COMMENTD, "--keygen", key2], capture_output=True)
        is_eq(r.returncode, 0, "--keygen writes a key")
        st = os.stat(key2)
        is_eq((stat.S_IMODE(st.st_mode), st.st_size), (0o600, 32), "the key is 32 bytes, 0600")
        r = subprocess.run([COMMENTD, "--keygen", key2], capture_output=True)
        ok(r.returncode != 0, "--keygen refuses to overwrite")
        r = subprocess.run([COMMENTD, "--db", d.db, "--key", os.path.join(d.dir, "missing"),
                            "-n"], capture_output=True, text=True)
        ok(r.returncode != 0 and "key" in r.stderr, "no key, no start", r.stderr)
        with open(os.path.join(d.dir, "short.key"), "wb") as f:
            f.write(b"short")
        r = subprocess.run([COMMENTD, "--db", d.db, "--key", os.path.join(d.dir, "short.key"),
                            "-n"], capture_output=True, text=True)
        ok(r.returncode != 0, "a short key is refused")
        set_schema_version(d, 999)
        r = subprocess.run([COMMENTD, "--db", d.db, "--key", d.key, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        ok(r.returncode != 0 and "newer" in r.stderr, "a newer database is refused", r.stderr)
        d.cleanup()


def main():
    with Daemon({"site_origins": ORIGIN}) as d:
        common_headers(d)
        top = create_and_read(d)
        paged, paged_etag = pagination_and_etag(d)
        depth_limit(d)
        reply_rules(d, top)
        counts(d)
        errors(d)
        forms(d)
        cors(d)
        is_eq(d.stop(), 0, "SIGTERM exits 0 (before a restart)")
        d.start()
        etag_after_restart(d, paged, paged_etag)
        rc = d.stop()
        is_eq(rc, 0, "SIGTERM exits 0")
        privacy(d)
    moderation_all()
    rate_limits()
    cli()
    done()


if __name__ == "__main__":
    main()
