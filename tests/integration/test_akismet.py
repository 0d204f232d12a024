#!/usr/bin/env python3
"""The Akismet-compatible endpoint over raw HTTP: byte-exact answers and
headers, key forms and precedence, test values, is_test, the honeypot,
learning (idempotent, relabelled, changing later verdicts), blog_charset
decoding, the WordPress plugin's extra calls, usage reports, commentctl key
create/list/revoke, bad-key lockout, privacy."""
import json
import os
import re
import subprocess
import sys
from urllib.parse import quote, urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import COMMENTCTL, Daemon, db_connect, db_holds, done, is_eq, ok, raw_request  # noqa: E402

BLOG = "https://blog.example.org/"
FORM = "application/x-www-form-urlencoded"
THANKS = b"Thanks for making the web a better place."
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EMAIL = "reader.one@mail.example.net"
IP = "203.0.113.77"


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True)


def create_key(d, blog=BLOG):
    r = ctl("key", "create", "--blog", blog, "--db", d.db, "--key", d.key)
    key = r.stdout.strip()
    ok(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{12}", key) is not None,
       "commentctl key create prints a 12-hex-digit key", r)
    return key


def post(d, path, fields, content_type=FORM, host=None, extra=None):
    body = fields if isinstance(fields, (bytes, str)) else urlencode(fields, doseq=True)
    headers = {"Content-Type": content_type} if content_type else {}
    if host:
        headers["Host"] = host
    headers.update(extra or {})
    return d.post(path, body, headers=headers)


def comment(n, **extra):
    f = {
        "blog": BLOG, "user_ip": IP, "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "referrer": BLOG + "2024/post-%d" % n, "permalink": BLOG + "2024/post-%d" % n,
        "comment_type": "comment", "comment_author": "Reader %d" % n,
        "comment_author_email": EMAIL, "comment_author_url": "https://reader.example/",
        "comment_content": "A thoughtful remark number %d about the article." % n,
    }
    f.update(extra)
    return f


def exact(r, body, name):
    """Status 200, text/plain, the exact body, a guid."""
    ok(r.status == 200 and r.body == body, name + ": 200 and exactly %r" % body, r)
    is_eq(r.header("Content-Type"), "text/plain; charset=utf-8", name + ": text/plain")
    is_eq(r.header("Content-Length"), str(len(body)), name + ": Content-Length")
    ok(GUID.match(r.header("X-akismet-guid") or ""), name + ": an X-akismet-guid",
       r.headers)


def learned(d):
    con = db_connect(d)
    rows = con.execute("SELECT label FROM classifier_learned WHERE msg_key LIKE 'akismet:%'")
    labels = sorted(row[0] for row in rows)
    counts = con.execute("SELECT nspam, nham FROM classifier_state").fetchone()
    con.close()
    return labels, counts


def verify_key(d, key):
    r = post(d, "/1.1/verify-key", {"key": key, "blog": BLOG})
    exact(r, b"valid", "verify-key")
    ok(r.header("X-akismet-debug-help") is None, "no debug help on success")
    r = post(d, "/1.1/verify-key", {"key": key, "blog": BLOG}, FORM + "; charset=UTF-8")
    is_eq(r.body, b"valid", "a charset parameter in the content type is fine")
    r = post(d, "/1.1/verify-key", {"key": key.upper(), "blog": BLOG})
    is_eq(r.body, b"valid", "keys are case-insensitive")
    r = post(d, "/1.1/verify-key", {"api_key": key, "blog": BLOG})
    is_eq(r.body, b"valid", "api_key works for verify-key (@cedx/akismet sends only that)")
    r = post(d, "/1.1/verify-key", {"key": key, "api_key": "ffffffffffff", "blog": BLOG})
    is_eq(r.body, b"valid", "verify-key: key wins over api_key (the WordPress plugin sends both)")
    r = post(d, "/1.1/verify-key", {"blog": BLOG}, host="%s.rest.example.org" % key)
    is_eq(r.body, b"valid", "the key as the Host's first label")
    r = post(d, "/1.1/verify-key", {"key": "000000000000", "blog": BLOG})
    exact(r, b"invalid", "verify-key with an unknown key")
    ok("Invalid key" in (r.header("X-akismet-debug-help") or ""), "with X-akismet-debug-help",
       r.headers)
    r = post(d, "/1.1/verify-key", {"blog": BLOG})
    ok(r.body == b"invalid" and "Empty" in (r.header("X-akismet-debug-help") or ""),
       "no key at all: invalid, Empty key", r)
    r = post(d, "/1.1/verify-key", b"", content_type=None)
    ok(r.body == b"invalid" and r.header("X-akismet-debug-help"),
       "an empty POST without a Content-Type: invalid, with help", r)
    raw = raw_request(d.port, b"POST /1.1/verify-key HTTP/1.0\r\nHost: rest.akismet.com\r\n"
                      b"Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
                      b"User-Agent: WordPress/6.1 | Akismet/5.0.2\r\nContent-Length: %d\r\n\r\n"
                      % (len("key=%s&blog=x" % key)) + ("key=%s&blog=x" % key).encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    ok(head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0] and body == b"valid",
       "an HTTP/1.0 request like the WordPress plugin's", raw[:300])


def comment_check(d, key):
    r = post(d, "/1.1/comment-check", dict(comment(1), api_key=key))
    exact(r, b"false", "an ordinary comment")
    ok(r.header("X-akismet-pro-tip") is None and r.header("X-akismet-debug-help") is None,
       "ham has no pro-tip and no debug help", r.headers)
    g1 = r.header("X-akismet-guid")
    r = post(d, "/1.1/comment-check", dict(comment(1), api_key=key))
    ok(r.header("X-akismet-guid") != g1, "every answer has its own guid")

    r = post(d, "/1.1/comment-check", dict(comment(2, comment_author="akismet-guaranteed-spam"),
                                           api_key=key))
    exact(r, b"true", "the documented test author akismet-guaranteed-spam")
    is_eq(r.header("X-akismet-pro-tip"), None, "test spam is not blatant")
    r = post(d, "/1.1/comment-check", dict(comment(2, comment_author="viagra-test-123"),
                                           api_key=key))
    exact(r, b"true", "the older test author viagra-test-123")
    r = post(d, "/1.1/comment-check",
             dict(comment(3, comment_author_email="akismet-guaranteed-spam@example.com"),
                  api_key=key))
    is_eq(r.body, b"true", "the guaranteed-spam address")
    r = post(d, "/1.1/comment-check",
             dict(comment(4, comment_author="akismet-guaranteed-spam", user_role="administrator"),
                  api_key=key))
    is_eq(r.body, b"false", "user_role administrator is ham, over the test author")
    r = post(d, "/1.1/comment-check",
             dict(comment(4, comment_author_email="akismet-guaranteed-spam@example.com",
                          user_role="editor,administrator"), api_key=key))
    is_eq(r.body, b"false", "and over the test address (a WordPress role list)")
    r = post(d, "/1.1/comment-check",
             dict(comment(5, honeypot_field_name="hidden_website", hidden_website="x"),
                  api_key=key))
    exact(r, b"true", "a filled honeypot")
    is_eq(r.header("X-akismet-pro-tip"), "discard", "is blatant: X-akismet-pro-tip: discard")
    r = post(d, "/1.1/comment-check",
             dict(comment(6, honeypot_field_name="hidden_website", hidden_website=""),
                  api_key=key))
    is_eq(r.body, b"false", "an empty honeypot is fine")

    # Everything Akismet documents, what WordPress adds, and nonsense.
    wp = dict(comment(7), api_key=key, comment_date_gmt="2024-05-01 10:00:00",
              comment_post_modified_gmt="2024-04-30 09:00:00", blog_lang="en_US",
              blog_charset="UTF-8", user_role="", is_test="", recheck_reason="edit",
              comment_parent="0", akismet_comment_nonce="passed", POST_comment="hi",
              HTTP_ACCEPT="text/html", REMOTE_ADDR=IP, REQUEST_URI="/wp-comments-post.php",
              some_unknown_field="whatever")
    wp["comment_context[0]"] = "backups"
    wp["comment_context[1]"] = "howto"
    exact(post(d, "/1.1/comment-check", wp), b"false",
          "every documented field, WordPress's extras, comment_context[] and unknown fields")

    r = post(d, "/1.1/comment-check", {"api_key": key, "blog": BLOG, "comment_content": "x"})
    exact(r, b"Missing required field: user_ip.", "no user_ip")
    is_eq(r.header("X-akismet-debug-help"), "Missing required field: user_ip.",
          "says so in X-akismet-debug-help")

    r = post(d, "/1.1/comment-check", dict(comment(8)), host="%s.localhost:%d" % (key, d.port))
    exact(r, b"false", "the key as a subdomain (akismet-api's form)")
    r = post(d, "/1.1/comment-check", dict(comment(8), api_key="123456789abc"))
    exact(r, b"invalid", "comment-check with a bad key")
    ok(r.header("X-akismet-debug-help"), "with X-akismet-debug-help")
    r = post(d, "/1.1/comment-check", dict(comment(8)), host="123456789abc.localhost")
    is_eq(r.body, b"invalid", "a bad key as a subdomain")
    r = post(d, "/1.1/comment-check", b"api_key=%s&user_ip=%%zz" % key.encode())
    ok(r.body == b"invalid" and "malformed" in (r.header("X-akismet-debug-help") or ""),
       "a malformed body: invalid, with help", r)
    is_eq(d.get("/1.1/comment-check").status, 405, "GET comment-check is 405")
    is_eq(post(d, "/1.1/comment-check", json.dumps(comment(9)), "application/json").status, 415,
          "a JSON body is 415")


def learning(d, key):
    c = dict(comment(20, comment_content="Great post, I wrote about this too on my blog."),
             api_key=key)
    is_eq(post(d, "/1.1/comment-check", c).body, b"false", "before any report: ham")
    exact(post(d, "/1.1/submit-spam", c), THANKS, "submit-spam")
    is_eq(learned(d), (["spam"], (1, 0)), "learned once, as spam")
    r = post(d, "/1.1/comment-check", c)
    ok(r.body == b"true" and r.header("X-akismet-pro-tip") == "discard",
       "the reported comment is now blatant spam", r)
    # The same comment again, with fields that do not identify it changed.
    again = dict(c, comment_date_gmt="2030-01-01 00:00:00", user_agent="Other/1.0",
                 referrer="https://elsewhere.example/", COMMENT_EMAIL_CASE="x",
                 comment_author_email=EMAIL.upper())
    exact(post(d, "/1.1/submit-spam", again), THANKS, "submit-spam again")
    is_eq(learned(d), (["spam"], (1, 0)), "the same comment is learned once")
    exact(post(d, "/1.1/submit-ham", c), THANKS, "submit-ham after submit-spam")
    is_eq(learned(d), (["ham"], (0, 1)), "relearned as ham (the spam counts undone)")
    r = post(d, "/1.1/comment-check", c)
    ok(r.body == b"false" and r.header("X-akismet-pro-tip") is None, "now ham", r)

    t = dict(comment(21), api_key=key, is_test="true")
    exact(post(d, "/1.1/submit-spam", t), THANKS, "an is_test submit-spam is thanked")
    exact(post(d, "/1.1/submit-ham", dict(t, is_test="1")), THANKS, "an is_test submit-ham too")
    is_eq(learned(d), (["ham"], (0, 1)), "is_test never trains")
    r = post(d, "/1.1/submit-spam", dict(comment(22), api_key="123456789abc"))
    exact(r, b"invalid", "submit-spam with a bad key")
    is_eq(learned(d), (["ham"], (0, 1)), "a bad key teaches nothing")


def form(fields, charset):
    """A form body with every value encoded in charset (as a Latin-1 blog's
    WordPress sends it)."""
    return "&".join("%s=%s" % (quote(k), quote(v.encode(charset)))
                    for k, v in fields.items()).encode()


def charsets(d, key):
    """blog_charset: a Latin-1 blog's comment and the same comment in UTF-8
    are one comment (same answer, same learning key); bad bytes and unknown
    charsets are answered, with a note."""
    text = "\u201cGoed geschreven\u201d, één idee over café-cultuur \u20ac5"
    c = dict(comment(40, comment_author="Renée", comment_content=text), api_key=key)
    utf8 = dict(c, blog_charset="UTF-8")
    latin = dict(c, blog_charset="ISO-8859-1")
    r = post(d, "/1.1/comment-check", form(latin, "cp1252"))
    exact(r, b"false", "a Windows-1252 comment from a blog that says ISO-8859-1")
    is_eq(r.header("X-akismet-debug-help"), None, "it decodes cleanly: no note")
    before = learned(d)
    exact(post(d, "/1.1/submit-spam", form(latin, "cp1252")), THANKS, "submit-spam in Latin-1")
    r = post(d, "/1.1/comment-check", form(utf8, "utf-8"))
    ok(r.body == b"true" and r.header("X-akismet-pro-tip") == "discard",
       "the same comment in UTF-8 is the one reported", r)
    exact(post(d, "/1.1/submit-spam", form(dict(c, blog_charset="windows-1252"), "cp1252")),
          THANKS, "submit-spam again, in windows-1252")
    exact(post(d, "/1.1/submit-spam", form(utf8, "utf-8")), THANKS, "and in UTF-8")
    after = learned(d)
    is_eq((len(after[0]) - len(before[0]), after[1][0] - before[1][0]), (1, 1),
          "three charsets, one comment, learned once")
    exact(post(d, "/1.1/submit-ham", form(utf8, "utf-8")), THANKS, "submit-ham in UTF-8")
    r = post(d, "/1.1/comment-check", form(latin, "cp1252"))
    ok(r.body == b"false" and r.header("X-akismet-pro-tip") is None,
       "relearned as ham: the Latin-1 form is ham too", r)

    sj = dict(comment(41, comment_content="\u3053\u3093\u306b\u3061\u306f"), api_key=key,
              blog_charset="Shift_JIS")
    exact(post(d, "/1.1/comment-check", form(sj, "shift_jis")), b"false", "Shift_JIS")
    body = form(dict(comment(42), api_key=key, blog_charset="UTF-8"), "utf-8") + \
        b"&comment_author=Ren%E9e"
    r = post(d, "/1.1/comment-check", body)
    exact(r, b"false", "Latin-1 bytes in a UTF-8 request are answered")
    ok("comment_author has bytes that are not valid UTF-8" in
       (r.header("X-akismet-debug-help") or ""), "with a note that says which field", r.headers)
    r = post(d, "/1.1/comment-check", dict(comment(43), api_key=key, blog_charset="x-klingon"))
    exact(r, b"false", "an unknown charset is answered")
    ok("Unknown blog_charset \"x-klingon\"; the fields were read as UTF-8" in
       (r.header("X-akismet-debug-help") or ""), "read as UTF-8, and says so", r.headers)
    r = post(d, "/1.1/submit-ham", dict(comment(43), api_key=key, blog_charset="UTF-8\r\nX: y"))
    exact(r, THANKS, "a charset name that could break a header")
    ok("blog_charset is not a charset name" in (r.header("X-akismet-debug-help") or "") and
       r.header("X") is None, "is not repeated", r.headers)


def plugin_calls(d, key):
    """What the WordPress plugin calls besides the API, with its fields."""
    wp = {"blog": BLOG, "api_key": key}
    r = post(d, "/1.1/get-subscription", dict(wp, key=key))
    ok(r.status == 200 and r.header("Content-Type") == "application/json; charset=utf-8",
       "get-subscription is JSON", r)
    j = r.json() or {}
    ok(j.get("status") == "active" and j.get("account_type") == "commentd" and
       j.get("next_billing_date") is False and j.get("limit_reached") is False and
       isinstance(j.get("account_id"), int), "an active subscription", r.body)
    r = post(d, "/1.1/get-subscription", {"blog": BLOG, "key": "000000000000", "api_key": key})
    exact(r, b"invalid", "get-subscription of an unknown key (the key being saved wins)")
    for period in ("6-months", "all"):
        r = post(d, "/1.1/get-stats", dict(wp, key=key, **{"from": period}))
        ok(r.status == 200 and r.body == b"" and GUID.match(r.header("X-akismet-guid") or ""),
           "get-stats from=%s: no statistics (the plugin shows none)" % period, r)
        ok("key-sites" in (r.header("X-akismet-debug-help") or ""),
           "and says where they are", r.headers)
    exact(d.get("/1.1/test"), b"connected", "the connection test (GET, no key)")
    exact(post(d, "/1.1/test", b"", content_type=None), b"connected", "and POST")
    exact(post(d, "/1.1/deactivate", dict(wp, key=key)), b"deactivated", "deactivate")
    exact(post(d, "/1.1/verify-key", dict(wp, key=key)), b"valid", "the key still works")
    r = post(d, "/1.1/verify-wpcom-key", {"user_id": "1", "api_key": "", "token": "1-ab"})
    ok(r.body == b"invalid" and "Manual configuration" in (r.header("X-akismet-debug-help") or ""),
       "verify-wpcom-key: no WordPress.com accounts here", r)
    r = d.get("/1.2/compatible-plugins")
    ok(r.status == 200 and r.body == b"[]" and
       r.header("Content-Type") == "application/json; charset=utf-8",
       "compatible-plugins: none", r)


def generalises(d, key):
    """After enough reports, the classifier judges comments it never saw."""
    spam_words = ["cheap", "pills", "casino", "bonus", "winner", "crypto", "loan",
                  "discount", "pharmacy", "jackpot"]
    ham_words = ["article", "thanks", "argument", "reading", "example", "question",
                 "detail", "chapter", "author", "explained"]

    def text(words, i):
        return " ".join(words[(i + k) % len(words)] for k in range(6)) + " n%d" % i

    for i in range(60):
        post(d, "/1.1/submit-spam", {"api_key": key, "blog": BLOG, "user_ip": "198.51.100.%d" % i,
                                     "comment_author": "Spammer %d" % i,
                                     "comment_author_url": "http://pills%d.example/" % i,
                                     "comment_content": text(spam_words, i) + " buy now"})
        post(d, "/1.1/submit-ham", {"api_key": key, "blog": BLOG, "user_ip": "192.0.2.%d" % i,
                                    "comment_author": "Reader %d" % i,
                                    "comment_content": text(ham_words, i)})
    labels, counts = learned(d)
    ok(counts[0] >= 60 and counts[1] >= 60, "120 reports learned", counts)
    r = post(d, "/1.1/comment-check", {"api_key": key, "blog": BLOG, "user_ip": "198.51.100.250",
                                       "comment_author": "Spammer new",
                                       "comment_author_url": "http://pills-new.example/",
                                       "comment_content": "casino bonus cheap pills jackpot "
                                                          "discount buy now"})
    is_eq(r.body, b"true", "a new spam-like comment is spam")
    r = post(d, "/1.1/comment-check", {"api_key": key, "blog": BLOG, "user_ip": "192.0.2.250",
                                       "comment_author": "Reader new",
                                       "comment_content": "thanks, the author explained this "
                                                          "chapter with a good example"})
    is_eq(r.body, b"false", "a new ham-like comment is ham")


def reports(d, key):
    r = d.get("/1.2/usage-limit?api_key=" + key)
    ok(r.status == 200 and r.header("Content-Type") == "application/json; charset=utf-8",
       "usage-limit is JSON", r)
    j = r.json() or {}
    ok(list(j) == ["limit", "usage", "percentage", "throttled"] and j["limit"] == "none" and
       isinstance(j["usage"], int) and j["usage"] > 0 and j["percentage"] == "0.00" and
       j["throttled"] is False, "usage-limit: no limit, this month's calls", r.body)
    ok(re.fullmatch(rb'\{"limit":"none","usage":\d+,"percentage":"0\.00","throttled":false\}',
                    r.body), "usage-limit bytes", r.body)
    ok(GUID.match(r.header("X-akismet-guid") or ""), "usage-limit has a guid")
    j = d.get("/1.2/usage-limit?extended=true&api_key=" + key).json() or {}
    ok(j.get("notice_level") == "NOTICE_NONE" and j.get("upgrade") is False,
       "extended=true adds notice_level and upgrade", j)
    r = d.get("/1.2/usage-limit", headers={"Host": "%s.localhost" % key})
    is_eq(r.status, 200, "usage-limit with the key as a subdomain")
    r = d.get("/1.2/usage-limit?api_key=123456789abc")
    exact(r, b"invalid", "usage-limit with a bad key")
    r = d.get("/1.2/key-sites?api_key=" + key)
    j = r.json() or {}
    months = [k for k in j if re.fullmatch(r"\d{4}-\d\d", k)]
    site = (j.get(months[0]) or [{}])[0] if months else {}
    ok(len(months) == 1 and site.get("site") == "blog.example.org" and
       site.get("api_calls", 0) > 0 and site.get("missed_spam", 0) >= 1 and
       site.get("false_positives", 0) >= 1 and site.get("is_revoked") is False and
       j.get("total") == 1, "key-sites: this month's counts for the key's blog", j)
    r = d.get("/1.2/key-sites?month=2001-01&api_key=" + key)
    is_eq((r.json() or {}).get("2001-01"), [], "key-sites: an older month lists no site")
    r = d.get("/1.2/key-sites?month=junk&api_key=" + key)
    is_eq(r.body, b"invalid", "key-sites: a bad month is invalid")


def keys_cli(d, key):
    r = ctl("key", "list", "--db", d.db)
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    ok(len(rows) == 1 and rows[0]["blog"] == BLOG and rows[0]["revoked"] is None and
       rows[0]["calls"] > 0 and rows[0]["last_used"], "key list", r)
    ok(key not in r.stdout, "key list never shows a key")
    key2 = create_key(d, "http://second.example/")
    is_eq(post(d, "/1.1/verify-key", {"key": key2}).body, b"valid", "a second key works")
    r = ctl("key", "revoke", "--site-key", key2, "--db", d.db, "--key", d.key)
    is_eq(r.returncode, 0, "key revoke --site-key")
    is_eq(post(d, "/1.1/verify-key", {"key": key2}).body, b"invalid", "a revoked key is invalid")
    r = ctl("key", "revoke", "--site-key", key2, "--db", d.db, "--key", d.key)
    is_eq(r.returncode, 1, "revoking it again fails")
    is_eq(ctl("key", "create", "--blog", "ftp://x", "--db", d.db, "--key", d.key).returncode, 2,
          "key create refuses a non-http blog")
    is_eq(ctl("key", "create", "--db", d.db, "--key", d.key).returncode, 2,
          "key create needs --blog")
    is_eq(ctl("key", "revoke", "--db", d.db).returncode, 2, "key revoke needs --id or --site-key")
    is_eq(ctl("key", "frobnicate").returncode, 2, "an unknown verb is a usage error")
    r = ctl("key", "--help")
    ok(r.returncode == 0 and "key create --blog URL" in r.stdout, "key --help", r)
    rows = json.loads(ctl("key", "list", "--db", d.db).stdout)
    is_eq([row["revoked"] is not None for row in rows], [False, True], "list shows the revoked key")
    r = ctl("key", "revoke", "--id", str(rows[0]["id"]), "--db", d.db)
    is_eq(r.returncode, 0, "key revoke --id")
    is_eq(post(d, "/1.1/comment-check", dict(comment(30), api_key=key)).body, b"invalid",
          "the first key is now refused too")


def privacy(d):
    ok(not any(db_holds(d.db, s) for s in (EMAIL, "reader.one", "akismet-guaranteed-spam")),
       "no e-mail address is stored (database, WAL and -shm, any case)")
    log = d.log()
    ok(IP not in log and EMAIL not in log and "198.51.100." not in log,
       "the log names no IP or e-mail")


def plugin_calls_bad_keys():
    """The plugin's key calls refuse a bad key (a daemon of their own: bad
    keys count towards the lockout)."""
    with Daemon() as d:
        for path in ("/1.1/get-subscription", "/1.1/get-stats", "/1.1/deactivate"):
            r = post(d, path, {"blog": BLOG, "key": "000000000000"})
            ok(r.body == b"invalid" and "Invalid key" in (r.header("X-akismet-debug-help") or ""),
               path + " with an unknown key: invalid, with help", r)


def lockout():
    with Daemon() as d:
        key = create_key(d)
        answers = [post(d, "/1.1/comment-check", dict(comment(1), api_key="123456789abc")).body
                   for _ in range(11)]
        is_eq(answers, [b"invalid"] * 11, "bad keys are invalid")
        r = post(d, "/1.1/verify-key", {"key": key})
        ok(r.body == b"invalid" and "Too many" in (r.header("X-akismet-debug-help") or ""),
           "after ten bad keys the address is locked out for a while", r)


def main():
    with Daemon() as d:
        key = create_key(d)
        verify_key(d, key)
        comment_check(d, key)
        learning(d, key)
        charsets(d, key)
        plugin_calls(d, key)
        generalises(d, key)
        reports(d, key)
        keys_cli(d, key)
        privacy(d)
    plugin_calls_bad_keys()
    lockout()
    done()


if __name__ == "__main__":
    main()
