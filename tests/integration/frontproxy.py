"""What the tests of the documented web server sites share (test_nginx.py,
test_caddy.py): a web server from Debian in front of a real commentd, and
the checks of what a blog's visitors reach through it over TLS.

A front end is an object with
  name     the server's name in test names ("nginx", "Caddy"),
  https    its HTTPS port on 127.0.0.1, ctx the TLS context trusting its
           test certificate, http its plain HTTP port,
  tmp      its temporary folder,
  stop_signal  the signal that stops it gracefully,
  checker  the command that checks a configuration, in test names,
  pick_ports(), write_config(site_text), check_config(priv) -> (status,
  output), start(priv) -> bool, server_log() -> text,
  request, run, stop, read  (below, from Front).
"""
import gzip
import http.client
import json
import os
import pwd
import socket
import re
import ssl
import subprocess
import time
import urllib.parse

from harness import diag, is_eq, ok, secret

HOST = "blog.example.org"
THREAD = "/2011/01/social-media-realities"
MAX_BODY = 65536  # commentd's default max_body, which both sites match

# commentd behind the front end, as check_client_addresses expects it.
DAEMON_CONFIG = {
    "trusted_proxies": "127.0.0.1 ::1",
    "site_origins": "https://" + HOST,
    "rate_limit": "1",
    "rate_burst": "3",
    "blocklist_networks": "127.0.0.66",
}


def nginx_temp_paths(t):
    """nginx's http-block lines that put its temporary files in folder t
    (tests/integration/test_nginx.py, bench/scale.py --front nginx)."""
    return "".join("    %s_temp_path %s/%s;\n" % (kind, t, name) for kind, name in (
        ("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"),
        ("uwsgi", "uwsgi"), ("scgi", "scgi")))


def free_port(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback():
    try:
        free_port(socket.AF_INET6, "::1")
        return True
    except OSError:
        return False


class Client(http.client.HTTPConnection):
    """HTTP(S) to 127.0.0.1 (or ::1) from a chosen loopback address, with
    Host and SNI blog.example.org and the test certificate as the only CA."""

    def __init__(self, port, source="127.0.0.1", tls=None, addr="127.0.0.1"):
        super().__init__(HOST, port, timeout=30)
        self.src, self.tls, self.addr = source, tls, addr

    def connect(self):
        s = socket.create_connection((self.addr, self.port), self.timeout, (self.src, 0))
        self.sock = self.tls.wrap_socket(s, server_hostname=HOST) if self.tls else s


class Front:
    """The parts of a front end that do not depend on the server."""

    def make_cert(self, tmp):
        """A throw-away self-signed certificate for HOST in tmp."""
        self.cert = tmp + "/fullchain.pem"
        self.key = tmp + "/privkey.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=" + HOST,
             "-addext", "subjectAltName=DNS:" + HOST,
             "-keyout", self.key, "-out", self.cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.ctx = ssl.create_default_context(cafile=self.cert)

    def drop_privileges(self):
        """Popen arguments: as root, the server runs as nobody (owning the folder)."""
        if os.geteuid() != 0:
            return {}
        nobody = pwd.getpwnam("nobody")
        for top, dirs, files in os.walk(self.tmp):
            for name in [top] + [os.path.join(top, n) for n in dirs + files]:
                os.chown(name, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self.tmp, 0o700)
        return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}

    def run(self, args, pidfile, out, priv, timeout, env=None):
        """Starts the server (args) with its output in out; True once it has
        written its pid file, which nginx and Caddy do after binding every
        listening socket (a connect could reach some other program that
        holds the port)."""
        self.log = open(os.path.join(self.tmp, out), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env,
                                     cwd=self.tmp, **priv)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with open(pidfile) as f:
                    if f.read().strip() == str(self.proc.pid):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self):
        """Graceful stop (stop_signal); returns the server's exit status."""
        if not self.proc:
            return None
        self.proc.send_signal(self.stop_signal)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc

    def read(self, name):
        """A file of the temporary folder as text ("" if absent)."""
        try:
            with open(os.path.join(self.tmp, name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, source="127.0.0.1", tls=True,
                port=None, addr="127.0.0.1"):
        c = Client(port or (self.https if tls else self.http), source,
                   self.ctx if tls else None, addr)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        c.close()
        r.body = data
        r.hdrs = {k.lower(): v for k, v in r.getheaders()}
        return r

    def tls_socket(self, source):
        """A TLS connection to the HTTPS port from client address source."""
        s = socket.create_connection(("127.0.0.1", self.https), 30, (source, 0))
        return self.ctx.wrap_socket(s, server_hostname=HOST)

    def chunked_post(self, path, body, source):
        """POSTs body in 8 KiB chunks (no Content-Length); the response."""
        def chunks():
            for i in range(0, len(body), 8192):
                yield body[i:i + 8192]
        c = Client(self.https, source, self.ctx)
        c.request("POST", path, body=chunks(), headers={"Content-Type": "application/json"},
                  encode_chunked=True)
        r = c.getresponse()
        r.body = r.read()
        r.hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r


def start_front(site, site_text):
    """Writes the site's configuration, checks it and starts the server
    (as nobody when root); new ports and again when another process took
    one first.  True once it runs."""
    started = False
    for attempt in range(3):
        if attempt:
            diag("a port was taken before %s bound it; new ports" % site.name)
            site.pick_ports()
        site.write_config(site_text)
        priv = site.drop_privileges()
        rc, out = site.check_config(priv)
        ok(rc == 0, "%s accepts the site (as %s)" % (site.checker,
                                                     "nobody" if priv else "this user"), out)
        started = site.start(priv)
        if started or "address already in use" not in site.server_log().lower():
            break
        site.stop()
    return ok(started, "%s starts unprivileged in its temporary folder" % site.name,
              site.server_log())


def check_install_md(path, site_text, fence):
    """install.md (path) shows the site's file in a ```fence block."""
    with open(path) as f:
        md = f.read()
    blocks = re.findall(r"^```%s\n(.*?)^```$" % fence, md, re.S | re.M)
    ok(site_text in blocks, "docs/install.md shows the %s site verbatim" % fence,
       "%s blocks in install.md: %d, none equal to the site's file" % (fence, len(blocks)))


def post(site, source, text, headers=None):
    """A comment through the front end from client address source; the
    address and anything forged join the values no daemon log may hold."""
    body = {"thread": THREAD, "author": "Sjef", "email": "sjef@example.nl", "text": text}
    secret(source)
    for v in (headers or {}).values():
        secret(v)
    return site.request("POST", "/api/v1/comments", body, headers, source=source)


def json_of(r):
    return json.loads(r.body) if r.body.startswith(b"{") else {}


def check_widget(site, daemon):
    """commentd's widget files, its caching headers, and compression."""
    for name, ctype in (("/embed.js", "text/javascript"), ("/embed.css", "text/css")):
        direct = daemon.get(name)
        r = site.request("GET", name)
        ok(r.status == 200 and r.body == direct.body and r.body,
           "%s through %s: 200, the daemon's bytes" % (name, site.name), r.status)
        ok((r.hdrs.get("content-type") or "").startswith(ctype), "%s: %s" % (name, ctype),
           r.hdrs.get("content-type"))
        is_eq(r.hdrs.get("cache-control"), "public, max-age=600",
              "%s: commentd's Cache-Control reaches the browser" % name)
        etag = r.hdrs.get("etag")
        ok(bool(etag), "%s: an ETag" % name)
        r2 = site.request("GET", name, headers={"If-None-Match": etag or "x"})
        is_eq(r2.status, 304, "%s: If-None-Match with that ETag gives 304" % name)
        z = site.request("GET", name, headers={"Accept-Encoding": "gzip"})
        zipped = z.hdrs.get("content-encoding") == "gzip"
        ok(zipped and gzip.decompress(z.body) == direct.body and len(z.body) < len(direct.body),
           "%s: gzip for clients that accept it (%d -> %d bytes)" % (name, len(direct.body),
                                                                      len(z.body)))


def check_admin(site, daemon):
    r = site.request("GET", "/admin/")
    direct = daemon.get("/admin/")
    ok(r.status == 200 and r.body == direct.body,
       "/admin/ through %s: the moderation page" % site.name, r.status)
    ok("default-src 'self'" in (r.hdrs.get("content-security-policy") or ""),
       "/admin/: its Content-Security-Policy passes through")
    for f in ("/admin/admin.js", "/admin/admin.css"):
        r = site.request("GET", f)
        is_eq(r.status, 200, "%s through %s" % (f, site.name))
    r = site.request("GET", "/admin")
    to = urllib.parse.urljoin("https://%s/admin" % HOST, r.hdrs.get("location") or "")
    ok(r.status == 301 and urllib.parse.urlsplit(to).path == "/admin/",
       "/admin redirects to /admin/", "%s %s" % (r.status, r.hdrs.get("location")))
    r = site.request("GET", "/api/v1/admin/comments")
    is_eq(r.status, 401, "the moderation API through %s still wants a token" % site.name)


def check_api(site):
    r = site.request("GET", "/api/v1/health")
    ok(r.status == 200 and (json.loads(r.body) or {}).get("status") == "ok",
       "/api/v1/health through %s" % site.name, r.body[:200])
    r = post(site, "127.0.0.20", "Leuk artikel!")
    j = json.loads(r.body) if r.body else {}
    ok(r.status == 201 and j.get("status") == "published",
       "POST a comment through %s: 201" % site.name, "%s %r" % (r.status, r.body[:300]))
    r = site.request("GET", "/api/v1/comments?thread=" + THREAD)
    texts = [c.get("text", "") + c.get("html", "") for c in json.loads(r.body).get("comments", [])]
    ok(r.status == 200 and any("Leuk artikel!" in t for t in texts),
       "GET the thread through %s: the comment is there" % site.name, r.body[:300])
    r = site.request("POST", "/api/v1/counts", [THREAD])
    ok(r.status == 200 and json.loads(r.body).get(THREAD, 0) >= 1, "POST /api/v1/counts",
       r.body[:200])


def check_client_addresses(site):
    """With commentd's rate_burst 3 per client address and
    blocklist_networks 127.0.0.66."""
    got = [post(site, "127.0.0.11", "Bericht %d van .11" % i).status for i in range(4)]
    is_eq(got, [201, 201, 201, 429], "client 127.0.0.11: its burst of 3, then 429")
    r = post(site, "127.0.0.11", "vervalst", {"X-Forwarded-For": "203.0.113.7"})
    is_eq(r.status, 429, "client 127.0.0.11 forging X-Forwarded-For: still its own bucket (429)")
    r = post(site, "127.0.0.12", "Bericht van .12")
    is_eq(r.status, 201,
          "client 127.0.0.12 has a bucket of its own (%s is not one client)" % site.name)
    r = post(site, "127.0.0.13", "vervalst", {"X-Forwarded-For": "127.0.0.11"})
    is_eq(r.status, 201, "client 127.0.0.13 claiming to be 127.0.0.11 is not charged to it")
    r = post(site, "127.0.0.66", "Bericht van een geblokkeerd netwerk")
    ok(r.status == 201 and json.loads(r.body).get("status") == "pending",
       "client 127.0.0.66 (blocklist_networks): held, as commentd saw its address", r.body[:200])
    r = post(site, "127.0.0.67", "Bericht", {"X-Forwarded-For": "127.0.0.66"})
    ok(r.status == 201 and json.loads(r.body).get("status") == "published",
       "client 127.0.0.67 forging the blocked address: published", r.body[:200])


def body_of_size(size):
    """A valid comment's JSON padded with spaces to exactly size bytes."""
    base = json.dumps({"thread": THREAD, "author": "Sjef", "email": "sjef@example.nl",
                       "text": "Net niet te groot"})
    return (base + " " * (size - len(base))).encode()


def check_exact_max_body(site):
    """A body of exactly max_body passes the front end and commentd (a 201
    is commentd's)."""
    r = site.request("POST", "/api/v1/comments", body_of_size(MAX_BODY),
                     {"Content-Type": "application/json"}, source="127.0.0.30")
    is_eq(r.status, 201, "a body of exactly max_body (%d bytes) passes %s and commentd"
          % (MAX_BODY, site.name))


def is_json_413(r):
    """True for the API's 413: status, error code and content type."""
    return (r.status == 413 and json_of(r).get("error") == "body_too_large"
            and r.hdrs.get("content-type") == "application/json; charset=utf-8")
