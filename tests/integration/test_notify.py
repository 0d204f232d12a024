#!/usr/bin/env python3
"""Notifications end to end, against a real SMTP server (Debian's
python3-aiosmtpd, tests/smtp-sink.py, started here on loopback) and a
webhook receiver (http.server in this process) that checks every signature.

  held comment -> moderator mail (parsed with the email package: headers,
    RFC 2047 subject, quoted-printable body) and a signed webhook; the mail's
    approve link: GET shows a page and changes nothing, POST approves, a
    second POST is refused (single use)
  notify: true -> confirmation mail (double opt-in, List-Unsubscribe) ->
    confirm -> a published reply and an approved held reply each notify ->
    one-click unsubscribe (RFC 8058) -> no more mail
  the database, its -wal and -shm never hold the address in clear; the log
    holds no address
  SMTP server down -> retried with backoff, delivered once after it returns
  daemon killed (SIGKILL) with undelivered events -> delivered once after
    the restart; commentctl outbox shows what is pending
  AUTH with the password from smtp_credential
  two sites on one daemon ([site ID] sections): each site's held comment
    mails that site's moderators only, from its sender, in its language,
    with links on its public_url that act only on that site (a link signed
    for one site cannot act on the other's comment); each site's webhook
    gets only its events, signed with its secret; a subscriber's mails use
    the right site's public_url and language
"""
import base64
import email
import email.policy
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, LOG_LEVEL, SOURCE_ROOT, Daemon, db_holds, diag, done,  # noqa: E402
                     free_port, is_eq, not_on_engine, ok, skip_all)

SINK = os.path.join(SOURCE_ROOT, "tests", "smtp-sink.py")
SECRET = "webhook-secret-0123456789"
MOD = "mod@example.org"


def aiosmtpd_python():
    """An interpreter that has aiosmtpd (Debian's, when this one has not)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import aiosmtpd"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode == 0:
            return py
    return None


class Smtp:
    """The SMTP server process; stop() and start() keep its port."""

    def __init__(self, python, directory, auth=None):
        self.python, self.dir, self.auth = python, directory, auth
        self.port = free_port()
        self.proc = None

    def start(self):
        args = [self.python, SINK, str(self.port), self.dir] + ([self.auth] if self.auth else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if "READY" not in line:
            raise RuntimeError("the SMTP server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.eml")), key=os.path.getmtime):
            with open(path, "rb") as f:
                raw = f.read()
            m = email.message_from_bytes(raw, policy=email.policy.default)
            m.raw = raw.split(b"\r\n", 2)[2]  # without the X-Envelope lines
            out.append(m)
        return out

    def wait(self, pred, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages() if pred(m)]
            if found:
                return found
            time.sleep(0.1)
        return []


class Hooks:
    """The webhook receiver: checks signatures, fails the first `fail` POSTs."""

    def __init__(self, secret=SECRET):
        self.events, self.bad, self.fail = [], [], 0
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ts = self.headers.get("X-Commentd-Timestamp", "")
                sig = self.headers.get("X-Commentd-Signature", "")
                want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                with hooks.lock:
                    if not hmac.compare_digest(sig, want) or abs(time.time() - int(ts)) > 300:
                        hooks.bad.append(body)
                        status = 401
                    elif hooks.fail > 0:
                        hooks.fail -= 1
                        status = 500
                    else:
                        hooks.events.append((self.headers.get("X-Commentd-Delivery"),
                                             self.headers.get("X-Commentd-Event"),
                                             json.loads(body)))
                        status = 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [e for e in self.events if pred(e)]
            if found:
                return found
            time.sleep(0.1)
        return []


def body_of(msg):
    return msg.get_body(preferencelist=("plain",)).get_content()


def links(msg, what):
    return re.findall(r"(http://\S+/api/v1/notify/%s\?t=\S+)" % what, body_of(msg))


def to_of(msg):
    return msg["X-Envelope-To"]


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def form_post(d, url, fields):
    return d.post(path_of(url).split("?")[0], urllib.parse.urlencode(fields),
                  {"Content-Type": "application/x-www-form-urlencoded"})


def check_headers(msg, name):
    raw = msg.raw
    ok(msg["Date"] is not None and msg["Date"].datetime is not None, name + ": a valid Date")
    ok(re.fullmatch(r"<commentd\.[0-9a-z.]+@127\.0\.0\.1>", msg["Message-ID"] or ""),
       name + ": a Message-ID", msg["Message-ID"])
    is_eq(msg.get_content_type(), "text/plain", name + ": text/plain")
    is_eq(msg.get_content_charset(), "utf-8", name + ": UTF-8")
    is_eq(msg["Auto-Submitted"], "auto-generated", name + ": Auto-Submitted")
    ok(all(len(line) <= 998 for line in raw.split(b"\r\n")), name + ": lines within 998 bytes")
    ok(b"\r\n\r\n" in raw and all(b < 128 for b in raw.split(b"\r\n\r\n", 1)[0]),
       name + ": headers are ASCII (RFC 2047 for the rest)")


def scenario_moderator(d, smtp, hooks):
    r = d.comment("/post", "Eerste reactie, met ümlauts en een vraag?", author="Zoë",
                  email="zoe@example.org")
    is_eq(r.status, 201, "a first comment is held (moderation = first)")
    cid = r.json()["id"]
    mails = smtp.wait(lambda m: to_of(m) == MOD)
    if not ok(len(mails) == 1, "held comment -> one moderator mail", d.log()):
        return None
    m = mails[0]
    check_headers(m, "moderator mail")
    ok("=?UTF-8?" in m.as_string().split("\n\n")[0] or "=?utf-8?" in m.as_string(),
       "the non-ASCII subject is RFC 2047 encoded")
    ok("Zoë" in str(m["Subject"]), "the decoded subject names the author", str(m["Subject"]))
    is_eq(m["From"], "Blog <comments@example.org>", "From is smtp_from")
    body = body_of(m)
    ok("Eerste reactie, met ümlauts" in body, "the body quotes the comment")
    ok("https://blog.example.org/post" in body, "the body links the page")
    approve = links(m, "moderate")
    is_eq(len(approve), 3, "approve, spam and delete links")
    held = hooks.wait(lambda e: e[1] == "held")
    ok(held and held[0][2]["comment"]["id"] == cid and
       held[0][2]["comment"]["status"] == "pending" and
       "ümlauts" in held[0][2]["comment"]["excerpt"], "the webhook got the held event, signed")
    g = d.get(path_of(approve[0]))
    ok(g.status == 200 and b"<form method=\"post\"" in g.body and "Zoë".encode() in g.body,
       "the approve link's GET shows a confirmation page", g)
    is_eq(d.thread("/post").json()["count"], 0, "a GET does not approve")
    p = form_post(d, approve[0], {"t": approve[0].split("t=")[1]})
    is_eq(p.status, 200, "its POST approves")
    is_eq(d.thread("/post").json()["count"], 1, "the comment is published")
    p = form_post(d, approve[0], {"t": approve[0].split("t=")[1]})
    ok(p.status == 200 and b"used" in p.body.lower() or b"already" in p.body.lower(),
       "a second POST of the link does nothing (single use)", p)
    ok(hooks.wait(lambda e: e[1] == "approved" and e[2]["comment"]["id"] == cid),
       "the webhook got the approval")
    spam = links(m, "moderate")[1]
    p = form_post(d, spam, {"t": spam.split("t=")[1]})
    ok(b"used" in p.body.lower() or b"already" in p.body.lower(),
       "the other links of a comment dealt with do nothing")
    is_eq(d.thread("/post").json()["count"], 1, "the comment stays published")
    return cid


def approve_via_mail(d, smtp, cid):
    mails = smtp.wait(lambda m: to_of(m) == MOD and "#comment-%d" % cid not in body_of(m) and
                      "/post" in body_of(m) and any(True for _ in links(m, "moderate")) and
                      m["Message-ID"] not in approve_via_mail.seen)
    for m in mails:
        approve_via_mail.seen.add(m["Message-ID"])
        for link in links(m, "moderate")[:1]:
            form_post(d, link, {"t": link.split("t=")[1]})


approve_via_mail.seen = set()


def scenario_subscription(d, smtp, hooks):
    bob = "bob.reader@example.org"
    r = d.comment("/post", "Does this work on Debian 12?", author="Bob", email=bob,
                  notify=True)
    is_eq(r.status, 201, "a comment with notify: true is accepted")
    bob_id = r.json()["id"]
    conf = smtp.wait(lambda m: to_of(m) == bob)
    if not ok(len(conf) == 1, "one confirmation mail to the reader (double opt-in)", d.log()):
        return
    c = conf[0]
    check_headers(c, "confirmation mail")
    unsub = c["List-Unsubscribe"]
    ok(unsub and re.fullmatch(r"<http://\S+/api/v1/notify/unsubscribe\?t=\S+>", unsub),
       "List-Unsubscribe holds the one-click link", unsub)
    is_eq(c["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click", "List-Unsubscribe-Post")
    confirm = links(c, "confirm")
    is_eq(len(confirm), 1, "the mail has a confirm link")
    # The moderator approves Bob's held comment (it is his first).
    mod = smtp.wait(lambda m: to_of(m) == MOD and "Debian 12" in body_of(m))
    link = links(mod[0], "moderate")[0]
    form_post(d, link, {"t": link.split("t=")[1]})
    # Before confirming, a reply sends nothing to Bob.
    r = d.comment("/post", "Unconfirmed: no mail for Bob yet.", author="Zoë",
                  email="zoe@example.org", parent=bob_id)
    is_eq(r.status, 201, "a reply before the confirmation")
    time.sleep(1.1)  # confirmations count from the next second
    g = d.get(path_of(confirm[0]))
    ok(g.status == 200 and b"<form" in g.body, "the confirm link's GET shows a page")
    p = form_post(d, confirm[0], {"t": confirm[0].split("t=")[1]})
    is_eq(p.status, 200, "its POST confirms")
    time.sleep(2.5)
    is_eq(len([m for m in smtp.messages() if to_of(m) == bob]), 1,
          "no notification for a reply made before the confirmation")
    # A published reply (Zoë was approved before).
    r = d.comment("/post", "Yes, it works on Debian 12. See the README.", author="Zoë",
                  email="zoe@example.org", parent=bob_id)
    reply_id = r.json()["id"]
    is_eq(r.json()["status"], "published", "a reply by a known commenter is published")
    notes = smtp.wait(lambda m: to_of(m) == bob and "README" in body_of(m))
    if ok(len(notes) == 1, "the reader is told of the published reply", d.log()):
        n = notes[0]
        check_headers(n, "reply notification")
        ok("#comment-%d" % reply_id in body_of(n), "the notification links the reply")
        ok(n["List-Unsubscribe"] and n["List-Unsubscribe-Post"], "it has List-Unsubscribe")
    ok(hooks.wait(lambda e: e[1] == "reply" and e[2]["comment"]["id"] == reply_id),
       "the webhook got the reply")
    # A held reply (Carol's first comment), approved by mail link.
    r = d.comment("/post", "Held at first, then approved.", author="Carol",
                  email="carol@example.org", parent=bob_id)
    is_eq(r.json()["status"], "pending", "Carol's first reply is held")
    mod = smtp.wait(lambda m: to_of(m) == MOD and "then approved" in body_of(m))
    time.sleep(1.5)
    ok(not [m for m in smtp.messages() if to_of(m) == bob and "then approved" in body_of(m)],
       "a held reply notifies nobody")
    link = links(mod[0], "moderate")[0]
    form_post(d, link, {"t": link.split("t=")[1]})
    ok(smtp.wait(lambda m: to_of(m) == bob and "then approved" in body_of(m)),
       "once approved, the reader is told")
    # One click (RFC 8058).
    url = notes[0]["List-Unsubscribe"].strip("<>") if notes else unsub.strip("<>")
    p = d.post(path_of(url), "List-Unsubscribe=One-Click",
               {"Content-Type": "application/x-www-form-urlencoded"})
    is_eq(p.status, 200, "the one-click unsubscribe POST succeeds")
    p = d.post(path_of(url), "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\""
               "\r\n\r\nOne-Click\r\n--b--\r\n",
               {"Content-Type": "multipart/form-data; boundary=b"})
    is_eq(p.status, 200, "a multipart one-click POST (RFC 8058's example) is accepted too")
    d.comment("/post", "After the unsubscribe.", author="Zoë", email="zoe@example.org",
              parent=bob_id)
    ok(hooks.wait(lambda e: e[2]["comment"].get("excerpt") == "After the unsubscribe."),
       "the later reply was processed")
    time.sleep(2)
    ok(not [m for m in smtp.messages() if to_of(m) == bob and "After the" in body_of(m)],
       "no mail after the unsubscribe")
    g = d.get(path_of(url))
    ok(b"<form" not in g.body, "the unsubscribe link now says there is nothing to do")
    n = subprocess.run([COMMENTCTL, "outbox", "--all", "--db", d.db], capture_output=True)
    ok(n.returncode == 0 and b"subscription #" in n.stdout and bob.encode() not in n.stdout,
       "commentctl outbox names subscriptions, never addresses", n.stdout.decode()[-800:])
    # The address is nowhere in the database files (on PostgreSQL: in no
    # value of any table).
    found = [n for n in (bob, "bob.reader") if db_holds(d, n)]
    ok(not found, "no address in clear in the database, -wal or -shm", found)
    ok(bob not in d.log() and "zoe@example.org" not in d.log(), "no address in the log")


def count_id(smtp, pred):
    return len([m for m in smtp.messages() if pred(m)])


def scenario_smtp_down(d, smtp, hooks):
    smtp.stop()
    hooks.fail = 2
    r = d.comment("/down", "Posted while the mail server is down.", author="Dave",
                  email="dave@example.org")
    is_eq(r.status, 201, "posting works while the mail server is down")
    time.sleep(2.5)
    out = subprocess.run([COMMENTCTL, "outbox", "--json", "--db", d.db], capture_output=True)
    rows = json.loads(out.stdout or b"[]")
    pend = [x for x in rows if x["recipient"] == "moderators" and x["comment"] == r.json()["id"]]
    ok(pend and pend[0]["state"] == "pending" and pend[0]["attempts"] >= 1 and pend[0]["error"],
       "commentctl outbox shows the pending mail, its attempts and the error", rows)
    smtp.start()
    got = smtp.wait(lambda m: "mail server is down" in body_of(m), timeout=30)
    ok(got, "delivered after the server returns")
    time.sleep(3)
    is_eq(count_id(smtp, lambda m: "mail server is down" in body_of(m)), 1, "exactly once")
    hooks.wait(lambda e: e[2]["comment"]["id"] == r.json()["id"])
    is_eq(len([e for e in hooks.events if e[2]["comment"]["id"] == r.json()["id"]]), 1,
          "the webhook, refused twice with 500, got the event once")


def scenario_kill(d, smtp, hooks):
    smtp.stop()
    r = d.comment("/kill", "Posted just before the crash.", author="Erin",
                  email="erin@example.org")
    is_eq(r.status, 201, "a held comment before the crash")
    time.sleep(1.5)
    d.kill()
    smtp.start()
    d.start()
    ok(smtp.wait(lambda m: "just before the crash" in body_of(m), timeout=30),
       "after SIGKILL and restart the undelivered mail goes out")
    time.sleep(3)
    is_eq(count_id(smtp, lambda m: "just before the crash" in body_of(m)), 1, "exactly once")
    ids = [e[0] for e in hooks.events]
    is_eq(len(ids), len(set(ids)), "no webhook event was delivered twice")


def scenario_import(d, smtp, hooks):
    """An import brings a blog's history, not news: none of its comments,
    held or replies, may mail a moderator, a subscriber or a webhook."""
    time.sleep(2)
    mails, events = len(smtp.messages()), len(hooks.events)
    out = subprocess.run([COMMENTCTL, "outbox", "--json", "--db", d.db], capture_output=True)
    rows = len(json.loads(out.stdout or b"[]"))
    wxr = os.path.join(SOURCE_ROOT, "tests", "data", "import", "wordpress-nl.xml")
    # With the daemon's own configuration, as an operator runs it: its
    # moderators, mail server and webhook are all set.
    r = subprocess.run([COMMENTCTL, "import", "--config", d.conf, "--format", "wxr", wxr],
                       capture_output=True, text=True)
    ok(r.returncode == 0, "a WordPress export imports while notifications are on", r.stderr)
    time.sleep(3)
    is_eq(len(smtp.messages()), mails, "an import mails nobody (its held comment, its replies)")
    is_eq(len(hooks.events), events, "and posts no webhook event")
    out = subprocess.run([COMMENTCTL, "outbox", "--json", "--db", d.db], capture_output=True)
    is_eq(len(json.loads(out.stdout or b"[]")), rows, "and puts nothing in the outbox")


def scenario_nojs(d, smtp):
    """A reader without JavaScript ticks "e-mail me replies": the page the
    form's post lands on says to check the e-mail, as the widget does.  It
    follows what the post asked, not what came of it: a post discarded by
    the honeypot lands where a held one does."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    fields = {"thread": "/nojs", "format": "html", "lang": "en", "author": "Noor",
              "email": "noor@example.org", "text": "Without JavaScript, and notify me."}

    def landing(extra):
        r = d.post("/api/v1/comments", urllib.parse.urlencode(dict(fields, **extra)), form)
        loc = r.header("location") or ""
        page = d.get("/api/v1/" + loc.split("#")[0]).body.decode() if loc else ""
        return r.status, loc, page

    status, loc, page = landing({"notify": "1"})
    is_eq((status, loc), (303, "comments?thread=/nojs&format=html&lang=en&site=default&mail=1"
                               "&held=1#cd-notice"),
          "a no-JS post that asks for notifications lands on the notices")
    ok('role="status">Your comment is awaiting moderation' in page and
       "Check your e-mail to confirm the notifications.</p>" in page,
       "its page says it is held and to check the e-mail", page[:2000])
    ok(smtp.wait(lambda m: to_of(m) == "noor@example.org" and links(m, "confirm")),
       "and the confirmation mail was sent")
    status, loc, page = landing({})
    ok(status == 303 and "mail=1" not in loc and "Check your e-mail" not in page,
       "without the box ticked: no mail notice", loc)
    status, loc, _ = landing({"notify": "1", "website2": "spam"})
    is_eq(loc, "comments?thread=/nojs&format=html&lang=en&site=default&mail=1&held=1#cd-notice",
          "a discarded post that asked lands on the same notices")
    # A published post (Noor approved) that asks lands on the comment.
    mod = smtp.wait(lambda m: to_of(m) == MOD and "Without JavaScript" in body_of(m))
    approve = links(mod[0], "moderate")[0] if mod else ""
    form_post(d, approve, {"t": approve.split("t=")[-1]})
    status, loc, page = landing({"notify": "1", "text": "Published now, still notify me."})
    m = re.fullmatch(r"comments\?thread=/nojs&format=html&lang=en&site=default&mail=1"
                     r"&comment=(\d+)#comment-(\d+)", loc)
    ok(status == 303 and m and m.group(1) == m.group(2) and
       'id="comment-%s"' % m.group(1) in page and
       'id="cd-notice" role="status">Check your e-mail' in page,
       "a published one lands on the comment with the mail notice", loc)


def scenario_auth(python, tmp):
    smtp = Smtp(python, os.path.join(tmp, "auth-mail"), auth="blog:pa55word")
    os.mkdir(smtp.dir)
    smtp.start()
    cred = os.path.join(tmp, "smtp-password")
    with open(cred, "w") as f:
        f.write("pa55word\n")
    d = Daemon({"smtp_url": "smtp://blog@127.0.0.1:%d" % smtp.port,
                "smtp_from": "comments@example.org", "smtp_credential": cred,
                "public_url": "http://127.0.0.1:1", "notify_moderators": MOD,
                "moderation": "all", "notify_retry_seconds": "1"})
    try:
        d.start()
        d.comment("/auth", "Needs AUTH.", author="Fay", email="fay@example.org")
        ok(smtp.wait(lambda m: "Needs AUTH" in body_of(m)),
           "AUTH with the password from smtp_credential", d.log())
    finally:
        d.cleanup()
        smtp.stop()


# ---- two sites on one daemon ----

BLOG, NOTES = "https://blog.example.org", "https://notes.example.org"
BLOG_MOD, NOTES_MOD = "blog-mod@example.org", "notes-mod@example.org"
NOTES_SECRET = "notes-secret-0123456789abcdef"
LINK_KINDS = {"confirm": 1, "unsubscribe": 2, "moderate": 3}


def write_sites_config(d, smtp, blog_hooks, notes_hooks):
    """Mail and the sender at the top level; each [site ID] its own
    public_url (the same daemon under two names), language, moderators and
    webhook; notes also its own sender."""
    lines = ["db = %s" % d.db, "key = %s" % d.key, "rate_limit = 0", "starter_model = off",
             "smtp_url = smtp://127.0.0.1:%d" % smtp.port,
             "smtp_from = Comments <comments@example.org>",
             "notify_retry_seconds = 1", "moderation = all", "min_submit_seconds = 0",
             "", "[site blog]", "origins = " + BLOG,
             "public_url = http://127.0.0.1:%d" % d.port, "language = en",
             "notify_moderators = " + BLOG_MOD,
             "webhook_url = http://127.0.0.1:%d/blog" % blog_hooks.port,
             "webhook_secret = " + SECRET,
             "", "[site notes]", "origins = " + NOTES,
             "public_url = http://localhost:%d" % d.port, "language = nl",
             "smtp_from = Notes <notes@example.org>",
             "notify_moderators = " + NOTES_MOD,
             "webhook_url = http://127.0.0.1:%d/notes" % notes_hooks.port,
             "webhook_secret = " + NOTES_SECRET]
    if LOG_LEVEL:
        lines.insert(0, "log_level = " + LOG_LEVEL)
    with open(d.conf, "w") as f:
        f.write("\n".join(lines) + "\n")


def site_post(d, origin, text, author, email, **extra):
    body = {"thread": "/same/", "author": author, "email": email, "text": text}
    body.update(extra)
    return d.post("/api/v1/comments", body, headers={"Origin": origin})


def count_on(d, origin):
    r = d.get("/api/v1/comments?thread=/same/", headers={"Origin": origin})
    return r.json()["count"] if r.status == 200 else None


def forged_link(d, what, cid, action, site):
    """A link token made with the daemon's key file (lib/link.c's format:
    kind, action, id, expires, the site id, then HMAC-SHA512-256 with the
    KEYS_LINK subkey): what a mail could never hold, a link signed for one
    site naming a comment of another."""
    with open(d.key, "rb") as f:
        raw = f.read()
    master = raw if len(raw) == 32 else bytes.fromhex(raw.strip().decode())
    sub = hashlib.blake2b(b"", digest_size=32, key=master,
                          salt=struct.pack("<Q", 8) + b"\0" * 8,
                          person=b"commentd" + b"\0" * 8).digest()
    payload = (bytes([LINK_KINDS[what], action]) + struct.pack(">qq", cid, int(time.time()) + 600)
               + bytes([len(site)]) + site.encode())
    mac = hmac.new(sub, payload, hashlib.sha512).digest()[:32]
    token = base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")
    return "http://127.0.0.1:%d/api/v1/notify/%s?t=%s" % (d.port, what, token)


def sites_held(d, smtp, ids):
    """Each site's held comment mails that site's moderators only."""
    blog = smtp.wait(lambda m: to_of(m) == BLOG_MOD)
    notes = smtp.wait(lambda m: to_of(m) == NOTES_MOD)
    if not ok(len(blog) == 1 and len(notes) == 1,
              "each site's held comment: one mail to that site's moderators", d.log()):
        return None, None
    b, n = blog[0], notes[0]
    ok("tulips" in body_of(b) and "fietsen" not in body_of(b),
       "the blog's moderators read of the blog's comment only")
    ok("fietsen" in body_of(n) and "tulips" not in body_of(n),
       "the notes' moderators read of the notes' comment only")
    is_eq(b["From"], "Comments <comments@example.org>", "the blog's mail: the top-level sender")
    is_eq(n["From"], "Notes <notes@example.org>", "the notes' mail: its own sender")
    ok("wrote a comment on" in body_of(b), "the blog's mail is in English")
    ok("schreef een reactie op" in body_of(n), "the notes' mail is in Dutch (language = nl)")
    ok("https://notes.example.org/same/" in body_of(n), "it links the page on the notes site")
    bl, nl = links(b, "moderate"), links(n, "moderate")
    ok(len(bl) == 3 and all(u.startswith("http://127.0.0.1:%d/" % d.port) for u in bl),
       "the blog's links are on the blog's public_url", bl)
    ok(len(nl) == 3 and all(u.startswith("http://localhost:%d/" % d.port) for u in nl),
       "the notes' links are on the notes' public_url", nl)
    return bl, nl


def sites_links(d, ids, bl, nl):
    """Links act only within their own site."""
    g = d.get(path_of(nl[0]))
    ok(g.status == 200 and "Deze reactie goedkeuren?".encode() in g.body and
       b"fietsen" in g.body, "the notes' approve link shows its comment, in Dutch", g)
    g = d.get(path_of(bl[0]))
    ok(g.status == 200 and b"Approve this comment?" in g.body and b"tulips" in g.body,
       "the blog's approve link shows its comment, in English", g)
    own = forged_link(d, "moderate", ids["notes"], 0, "notes")
    g = d.get(path_of(own))
    ok(g.status == 200 and b"<form" in g.body,
       "a link made with the key file for the notes' own comment is valid (GET)", g)
    cross = forged_link(d, "moderate", ids["blog"], 0, "notes")
    g = d.get(path_of(cross))
    ok(b"<form" not in g.body and "Al gedaan".encode() in g.body,
       "a link signed for notes naming the blog's comment offers nothing", g)
    p = form_post(d, cross, {"t": cross.split("t=")[1]})
    ok(p.status == 200 and b"<form" not in p.body, "and its POST does nothing", p)
    is_eq(count_on(d, BLOG), 0, "the blog's comment is still held")
    p = form_post(d, nl[0], {"t": nl[0].split("t=")[1]})
    ok(p.status == 200 and "Gedaan".encode() in p.body, "the notes' own link approves", p)
    is_eq((count_on(d, NOTES), count_on(d, BLOG)), (1, 0),
          "the notes' comment is published, the blog's still held")
    p = form_post(d, bl[0], {"t": bl[0].split("t=")[1]})
    is_eq((p.status, count_on(d, BLOG)), (200, 1), "the blog's own link approves its comment")


def sites_hooks(blog_hooks, notes_hooks, ids):
    """Each site's webhook gets only its events, signed with its secret."""
    ok(blog_hooks.wait(lambda e: e[1] == "approved" and e[2]["comment"]["id"] == ids["blog"]),
       "the blog's webhook got the blog's approval")
    ok(notes_hooks.wait(lambda e: e[1] == "approved" and e[2]["comment"]["id"] == ids["notes"]),
       "the notes' webhook got the notes' approval")
    time.sleep(1.5)
    with blog_hooks.lock, notes_hooks.lock:
        b = [(e[2]["site"], e[2]["comment"]["id"]) for e in blog_hooks.events]
        n = [(e[2]["site"], e[2]["comment"]["id"]) for e in notes_hooks.events]
    ok(b and all(x == ("blog", ids["blog"]) for x in b),
       "the blog's webhook got the blog's events only", b)
    ok(n and all(x[0] == "notes" and x[1] != ids["blog"] for x in n),
       "the notes' webhook got the notes' events only", n)
    is_eq((blog_hooks.bad, notes_hooks.bad), ([], []),
          "every signature checks with its site's secret")


def sites_subscriber(d, smtp, ids):
    """Bob subscribed on notes: his mails use the notes' public_url and
    language; Ann's (on the blog) the blog's."""
    ann = smtp.wait(lambda m: to_of(m) == "ann@example.org")
    bob = smtp.wait(lambda m: to_of(m) == "bob@example.org")
    if not ok(len(ann) == 1 and len(bob) == 1, "one confirmation mail each", d.log()):
        return
    a, b = ann[0], bob[0]
    ok("Someone, hopefully you" in body_of(a) and
       a["List-Unsubscribe"].startswith("<http://127.0.0.1:%d/" % d.port),
       "the blog's confirmation: English, its public_url", a["List-Unsubscribe"])
    ok("Iemand, hopelijk jij" in body_of(b) and
       b["List-Unsubscribe"].startswith("<http://localhost:%d/" % d.port) and
       b["From"] == "Notes <notes@example.org>",
       "the notes' confirmation: Dutch, its public_url, its sender", b["List-Unsubscribe"])
    confirm = links(b, "confirm")
    g = d.get(path_of(confirm[0]))
    ok(g.status == 200 and "Bericht bij reacties bevestigen".encode() in g.body,
       "its confirm page is in Dutch", g)
    form_post(d, confirm[0], {"t": confirm[0].split("t=")[1]})
    time.sleep(1.1)  # confirmations count from the next second
    r = site_post(d, NOTES, "Antwoord voor Bob: ja, met zijwieltjes.", "Zoë", "zoe@example.org",
                  parent=ids["notes"])
    is_eq(r.status, 201, "a reply on the notes site (held)")
    mod = smtp.wait(lambda m: to_of(m) == NOTES_MOD and "zijwieltjes" in body_of(m))
    if not ok(mod, "the reply is held for the notes' moderators"):
        return
    link = links(mod[0], "moderate")[0]
    form_post(d, link, {"t": link.split("t=")[1]})
    notes = smtp.wait(lambda m: to_of(m) == "bob@example.org" and "zijwieltjes" in body_of(m))
    if not ok(len(notes) == 1, "Bob is told of the approved reply", d.log()):
        return
    n = notes[0]
    ok("reageerde op je reactie" in body_of(n) and
       "https://notes.example.org/same/#comment-%d" % r.json()["id"] in body_of(n),
       "in Dutch, linking the reply on the notes site")
    ok(n["From"] == "Notes <notes@example.org>" and
       n["List-Unsubscribe"].startswith("<http://localhost:%d/" % d.port),
       "from the notes' sender, unsubscribing on its public_url")
    ok(not [m for m in smtp.messages() if to_of(m) == BLOG_MOD and "zijwieltjes" in body_of(m)],
       "the blog's moderators heard nothing of it")
    out = subprocess.run([COMMENTCTL, "outbox", "--all", "--json", "--site", "notes",
                          "--db", d.db], capture_output=True)
    rows = json.loads(out.stdout or b"[]")
    ok(rows and all(x["site"] == "notes" for x in rows),
       "commentctl outbox --site notes lists the notes' deliveries only", rows[:3])


def scenario_sites(python, tmp):
    smtp = Smtp(python, os.path.join(tmp, "sites-mail"))
    os.mkdir(smtp.dir)
    blog_hooks, notes_hooks = Hooks(SECRET), Hooks(NOTES_SECRET)
    d = Daemon()
    d.port = free_port()
    write_sites_config(d, smtp, blog_hooks, notes_hooks)
    try:
        smtp.start()
        d.start()
        rb = site_post(d, BLOG, "A blog comment about tulips.", "Ann", "ann@example.org",
                       notify=True)
        rn = site_post(d, NOTES, "Notities: een reactie over fietsen?", "Bob",
                       "bob@example.org", notify=True)
        is_eq((rb.status, rn.status), (201, 201), "a held comment on each site")
        ids = {"blog": rb.json()["id"], "notes": rn.json()["id"]}
        bl, nl = sites_held(d, smtp, ids)
        if bl:
            sites_links(d, ids, bl, nl)
            sites_hooks(blog_hooks, notes_hooks, ids)
            sites_subscriber(d, smtp, ids)
        is_eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
        smtp.stop()
        blog_hooks.server.shutdown()
        notes_hooks.server.shutdown()


def main():
    python = aiosmtpd_python()
    if not python:
        if os.environ.get("CI"):
            ok(False, "python3-aiosmtpd is installed (tools/dev.sh deps)")
            done()
        skip_all("python3-aiosmtpd is not installed")
    tmp = tempfile.mkdtemp(prefix="commentd-notify-")
    smtp = Smtp(python, os.path.join(tmp, "mail"))
    os.mkdir(smtp.dir)
    hooks = Hooks()
    d = None
    try:
        smtp.start()
        port = free_port()
        d = Daemon({"smtp_url": "smtp://127.0.0.1:%d" % smtp.port,
                    "smtp_from": "Blog <comments@example.org>",
                    "public_url": "http://127.0.0.1:%d" % port,
                    "site_origins": "https://blog.example.org",
                    "notify_moderators": MOD, "moderation": "first", "language": "en",
                    "notify_retry_seconds": "1",
                    "webhook_url": "http://127.0.0.1:%d/hook" % hooks.port,
                    "webhook_secret": SECRET})
        d.port = port
        d.start()
        scenario_moderator(d, smtp, hooks)
        scenario_subscription(d, smtp, hooks)
        scenario_smtp_down(d, smtp, hooks)
        scenario_kill(d, smtp, hooks)
        scenario_import(d, smtp, hooks)
        scenario_nojs(d, smtp)
        is_eq(hooks.bad, [], "every webhook signature verified")
        # The 16 MiB promise: mail and webhooks went out through children
        # (lib/sender.h); libcurl and its TLS library never enter the daemon.
        with open("/proc/%d/maps" % d.proc.pid) as f:
            maps = f.read().splitlines()
        mapped = sorted({line.split()[-1] for line in maps if "libcurl" in line})
        is_eq(mapped, [], "after all this sending the daemon has not loaded libcurl")
        if not not_on_engine("nor its TLS library (libssl)",
                             "libpq, which the PostgreSQL engine loads, maps libssl itself"):
            mapped = sorted({line.split()[-1] for line in maps if "libssl" in line})
            is_eq(mapped, [], "nor its TLS library (libssl)")
        is_eq(d.stop(), 0, "clean stop")
        scenario_auth(python, tmp)
        scenario_sites(python, tmp)
    finally:
        if d:
            d.cleanup()
        smtp.stop()
        hooks.server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
