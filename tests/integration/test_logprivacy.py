#!/usr/bin/env python3
"""Log privacy at the most talkative level: one daemon at log_level = debug
goes through a broad scenario (JSON and form posts, replies, author edits
and deletes with edit tokens, moderation with an admin token, the
Akismet-compatible endpoint with a site key, privacy export and erase,
errors of every kind, rate limits, raw malformed requests), with client
addresses coming through X-Forwarded-For from a trusted proxy, IPv4 and
IPv6.  Its log must then hold no e-mail address (in any case), no client
address and no token: every value the test sent is searched for literally
(case-insensitively), and generic patterns catch any address.

The scanner itself is checked first on lines that do leak, and the log must
show that debug lines were written (so the level really was debug).
"""
import os
import re
import socket
import subprocess
import sys
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, Daemon, done, is_eq, log_privacy_problems, ok,  # noqa: E402
                     raw_request, secret)

BLOG = "https://blog.example.org/"
EMAILS = ["Reader.One@Example.ORG", "ANNA.de.Vries@Voorbeeld.NL", "piet+blog@mail.example.net",
          "Erase.Me@Example.com"]
IPS = ["203.0.113.77", "198.51.100.23", "2001:db8:4:5::77", "2001:DB8:aa::1",
       "192.0.2.200"]


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True)


def xff(i):
    return {"X-Forwarded-For": IPS[i % len(IPS)]}


def scanner_self_test():
    leaks = ["<7>comment from reader.one@example.org", "<6>client 203.0.113.9 posted",
             "<6>client [2001:db8::5] posted", "<6>peer ::ffff:10.0.0.1",
             "<7>token abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ used"]
    for line in leaks:
        ok(log_privacy_problems(line, extra=["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"]),
           "the scanner flags %r" % line)
    clean = "<6>POST /api/v1/comments 201 1.2ms\n<7>GET /api/v1/comments 200 0.3ms version 0.1.0"
    is_eq(log_privacy_problems(clean), [], "the scanner passes a clean access log")


def posts(d):
    """JSON and form posts, a reply, author edits and deletes."""
    ids, tokens = [], []
    for i, e in enumerate(EMAILS):
        r = d.post("/api/v1/comments", {"thread": "/privacy/post", "author": "Reader %d" % i,
                                        "email": e, "text": "Comment number %d, fine." % i},
                   headers=xff(i))
        ok(r.status == 201, "JSON post %d accepted" % i, r)
        j = r.json() or {}
        ids.append(j.get("id"))
        tokens.append(j.get("edit_token"))
        secret(j.get("edit_token"))
    r = d.post("/api/v1/comments", {"thread": "/privacy/post", "parent": ids[0],
                                    "author": "Replier", "email": EMAILS[1].upper(),
                                    "text": "A reply."}, headers=xff(2))
    is_eq(r.status, 201, "a reply is accepted")
    form = urlencode({"thread": "/privacy/form", "author": "Form", "email": EMAILS[2],
                      "text": "Via a form.", "redirect": BLOG + "p"})
    r = d.post("/api/v1/comments", form, headers=dict(
        xff(3), **{"Content-Type": "application/x-www-form-urlencoded"}))
    ok(r.status in (201, 303), "a form post is accepted", r)
    r = d.request("PATCH", "/api/v1/comments/%d" % ids[1], body={"text": "Edited, fine."},
                  headers=dict(xff(1), **{"X-Edit-Token": tokens[1]}))
    is_eq(r.status, 200, "the author edits with the edit token")
    r = d.request("PATCH", "/api/v1/comments/%d" % ids[1], body={"text": "x"},
                  headers={"X-Edit-Token": "Wrong" + tokens[1][5:]})
    is_eq(r.status, 403, "a wrong edit token is refused")
    r = d.request("DELETE", "/api/v1/comments/%d" % ids[2],
                  headers=dict(xff(4), **{"X-Edit-Token": tokens[2]}))
    is_eq(r.status, 200, "the author deletes with the edit token")
    r = d.thread("/privacy/post")
    is_eq(r.status, 200, "the thread is read")
    return ids


def moderation(d, ids):
    r = ctl("token", "create", "--db", d.db, "--key", d.key, "--name", "privacy")
    tok = r.stdout.strip()
    ok(r.returncode == 0 and len(tok) == 43, "an admin token is created")
    secret(tok)
    auth = {"Authorization": "Bearer " + tok}

    def admin(method, path, body=None, headers=None):
        return d.request(method, "/api/v1/admin" + path, body=body,
                         headers=dict(auth, **(headers or {})))
    is_eq(admin("GET", "/comments?status=published").status, 200, "admin lists comments")
    is_eq(admin("POST", "/comments/%d/spam" % ids[3]).status, 200, "admin marks spam")
    is_eq(admin("POST", "/comments/%d/approve" % ids[3]).status, 200, "admin approves")
    is_eq(admin("PATCH", "/comments/%d" % ids[0], {"text": "Moderated text."}).status, 200,
          "admin edits")
    is_eq(admin("POST", "/comments/bulk", {"action": "approve", "ids": ids[:1]}).status, 200,
          "admin bulk action")
    is_eq(admin("GET", "/stats").status, 200, "admin stats")
    is_eq(admin("GET", "/audit").status, 200, "admin audit log")
    r = admin("POST", "/privacy/export", {"email": EMAILS[0].lower()})
    ok(r.status == 200 and r.json(), "privacy export by e-mail", r)
    r = admin("POST", "/privacy/erase", {"email": EMAILS[3].swapcase()})
    ok(r.status == 200 and (r.json() or {}).get("erased") == 1, "privacy erase by e-mail", r)
    r = d.request("GET", "/api/v1/admin/stats",
                  headers=dict(xff(0), Authorization="Bearer " + "Q" * 43))
    is_eq(r.status, 401, "a wrong admin token is refused")
    secret("Q" * 43)


def akismet(d):
    r = ctl("key", "create", "--blog", BLOG, "--db", d.db, "--key", d.key)
    key = r.stdout.strip()
    ok(r.returncode == 0 and len(key) == 12, "an Akismet site key is created")
    secret(key)
    fields = {"blog": BLOG, "user_ip": IPS[0], "user_agent": "Mozilla/5.0",
              "comment_type": "comment", "comment_author": "Reader",
              "comment_author_email": EMAILS[0], "comment_content": "A remark about it."}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"):
        r = d.post(path, urlencode(dict(fields, api_key=key)), headers=form)
        is_eq(r.status, 200, "Akismet %s with api_key" % path)
    r = d.post("/1.1/comment-check", urlencode(dict(fields, user_ip=IPS[2])),
               headers=dict(form, Host="%s.rest.akismet.com" % key))
    is_eq(r.status, 200, "Akismet comment-check with the key in Host and an IPv6 user_ip")
    r = d.post("/1.1/verify-key", urlencode({"key": key, "blog": BLOG}), headers=form)
    is_eq(r.body, b"valid", "Akismet verify-key")
    r = d.post("/1.1/verify-key", urlencode({"key": "deadbeef0000", "blog": BLOG}),
               headers=form)
    is_eq(r.body, b"invalid", "Akismet verify-key with a wrong key")
    secret("deadbeef0000")
    is_eq(d.get("/1.2/usage-limit?" + urlencode({"api_key": key})).status, 200,
          "Akismet usage-limit")


def errors(d):
    j = {"Content-Type": "application/json"}
    cases = [
        ("bad JSON", "POST", "/api/v1/comments", '{"email": "%s",' % EMAILS[0], j),
        ("invalid e-mail", "POST", "/api/v1/comments",
         {"thread": "/p", "author": "A", "email": "not-an-address@", "text": "x"}, {}),
        ("unknown field holding an e-mail", "POST", "/api/v1/comments",
         {"thread": "/p", "author": "A", "email": EMAILS[1], "text": "x",
          "mail": EMAILS[2]}, {}),
        ("an e-mail in the text", "POST", "/api/v1/comments",
         {"thread": "/p", "author": EMAILS[0], "email": EMAILS[0], "text": EMAILS[3]}, {}),
        ("unknown path", "GET", "/api/v1/nothing", None, {}),
        ("an e-mail in an unknown path", "GET", "/api/v1/comments/" + EMAILS[2], None, {}),
        ("an address in an unknown path", "DELETE", "/" + IPS[1] + "/" + IPS[3], None, {}),
        ("an e-mail in a query", "GET", "/api/v1/comments?thread=/p&email=" + EMAILS[0], None,
         {}),
        ("a wrong method", "PUT", "/api/v1/comments", None, {}),
        ("an e-mail as the method", EMAILS[0].replace("+", ""), "/api/v1/comments", None, {}),
        ("an unknown id", "DELETE", "/api/v1/comments/999999", None,
         {"X-Edit-Token": "T" * 43}),
    ]
    secret("T" * 43)
    for name, method, path, body, headers in cases:
        r = d.request(method, path, body=body, headers=dict(xff(len(name)), **headers))
        ok(r.status < 500, "%s: %d" % (name, r.status), r)
    # Rate limited (the limit is tiny in this daemon's config).
    statuses = [d.comment("/privacy/rate", "Fast %d" % i, email=EMAILS[1]).status
                for i in range(4)]
    ok(429 in statuses, "posting fast is rate limited (%r)" % statuses)
    # Raw malformed requests: MHD's own answers are logged by its logger.
    for raw in (b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\nX-Forwarded-For: 192.0.2.200\r\n\r\n",
                b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                b"GET / HTTP/1.1\r\n\r\n",
                b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"):
        raw_request(d.port, raw)
    # Over IPv6, when the machine has ::1: the peer address itself.
    try:
        s = socket.create_connection(("::1", d.port), timeout=2)
        s.close()
    except OSError:
        pass


def main():
    scanner_self_test()
    d = Daemon({"log_level": "debug", "trusted_proxies": "127.0.0.1 ::1",
                "site_origins": BLOG.rstrip("/"), "rate_limit": "3", "rate_burst": "3"})
    try:
        d.start()
        ids = posts(d)
        moderation(d, ids)
        akismet(d)
        errors(d)
        is_eq(d.stop(), 0, "the daemon stops cleanly")
        log = d.log()
        debug_lines = [line for line in log.splitlines() if line.startswith("<7>")]
        ok(len(debug_lines) >= 5, "the log holds debug lines (%d)" % len(debug_lines),
           log[-2000:])
        ok(re.search(r"POST /api/v1/comments 201", log),
           "the log records the requests (so it had something to leak)", log[-2000:])
        for e in EMAILS:
            ok(e.lower() not in log.lower(), "the log never holds %s (any case)" % e)
        for ip in IPS:
            ok(ip.lower() not in log.lower(), "the log never holds the client address %s" % ip)
        if os.environ.get("LOGPRIVACY_SHOW"):
            sys.stderr.write(log)
        problems = log_privacy_problems(log)
        ok(not problems, "no e-mail address, client address or token anywhere in the log",
           "\n".join(problems[:30]))
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
