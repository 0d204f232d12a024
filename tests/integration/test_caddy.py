#!/usr/bin/env python3
"""The documented Caddy site (docs/Caddyfile) in front of a real commentd.

Debian's caddy runs unprivileged in a temporary folder with docs/Caddyfile
exactly as install.md shows it, with only these changes: a global options
block first that moves the ports (http_port, https_port) to free ones on
127.0.0.1 (default_bind), turns the admin endpoint off and keeps Caddy's
storage in the folder; the certificate (a throw-away self-signed one made
with openssl, by a tls line, instead of Let's Encrypt); the blog's folder;
commentd's address.  HOME and the XDG folders point into the temporary
folder too, so Caddy writes nothing outside it.  Through it, over TLS: the
blog, the widget (caching headers, compression), the moderation page, the
API, the client's address (rate limits and network blocklists keyed to the
real client, a forged X-Forwarded-For ignored), the body limit matching
max_body (413 in JSON), a slow client's body handed to commentd whole, the
HTTP redirect, and no client address in Caddy's log.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Daemon, diag, done, is_eq, ok, skip_all  # noqa: E402
from frontproxy import (HOST, Front, body_of_size, check_admin, check_api,  # noqa: E402
                        check_client_addresses, check_exact_max_body, check_install_md,
                        check_widget, free_port, is_json_413, start_front, DAEMON_CONFIG)

SITE = os.path.join(SOURCE_ROOT, "docs", "Caddyfile")
INSTALL_MD = os.path.join(SOURCE_ROOT, "docs", "install.md")
CADDY = shutil.which("caddy") or "/usr/bin/caddy"

# The client addresses the checks below use; none may appear in Caddy's log.
CLIENTS = ["127.0.0.%d" % n for n in (11, 12, 13, 20, 30, 31, 32, 33, 34, 66, 67)]


def caddy_env(tmp):
    """The environment for caddy: its home, configuration, data and cache
    folders all in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=tmp, XDG_CONFIG_HOME=tmp + "/config", XDG_DATA_HOME=tmp + "/data",
               XDG_CACHE_HOME=tmp + "/cache")
    return env


class Site(Front):
    """caddy run with docs/Caddyfile in a temporary folder."""

    name = "Caddy"
    stop_signal = signal.SIGTERM
    checker = "caddy validate"

    def __init__(self, tmp, upstream_port):
        self.tmp = tmp
        self.upstream_port = upstream_port
        self.proc = None
        self.pick_ports()
        self.make_cert(tmp)
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("<!doctype html><title>blog</title><h1>Het blog</h1>\n")

    def pick_ports(self):
        """Free ports now; another process may take one before Caddy does
        (then start_front picks again)."""
        self.https, self.http = free_port(), free_port()

    def substitutions(self):
        """(what the documented file says, what the test uses instead)."""
        return [
            ("%s {" % HOST, "%s {\n\ttls %s %s" % (HOST, self.cert, self.key)),
            ("/var/www/blog", os.path.join(self.tmp, "www")),
            ("127.0.0.1:8080", "127.0.0.1:%d" % self.upstream_port),
        ]

    def check_substitutions(self, site_text):
        for old, _ in self.substitutions():
            n = site_text.count(old)
            ok(n >= 1, "docs/Caddyfile has %r (%d times), replaced for the test" % (old, n))
        ok(not site_text.lstrip().startswith("{"),
           "docs/Caddyfile has no global options block (the test puts its own first)")

    def write_config(self, site_text):
        # Only one address for the test's listeners: Caddy 2.6.2 gives its
        # HTTP->HTTPS redirect only the last of several bind addresses.
        t = self.tmp
        text = """{
\tadmin off
\tdefault_bind 127.0.0.1
\thttp_port %d
\thttps_port %d
\tstorage file_system %s/data
}

""" % (self.http, self.https, t)
        text += site_text
        for old, new in self.substitutions():
            text = text.replace(old, new)
        self.config = os.path.join(t, "Caddyfile")
        with open(self.config, "w") as f:
            f.write(text)

    def env(self):
        return caddy_env(self.tmp)

    def check_config(self, priv):
        r = subprocess.run([CADDY, "validate", "--config", self.config, "--adapter", "caddyfile"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env(),
                           cwd=self.tmp, **priv)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def start(self, priv, timeout=30):
        pidfile = os.path.join(self.tmp, "caddy.pid")
        return self.run([CADDY, "run", "--config", self.config, "--adapter", "caddyfile",
                         "--pidfile", pidfile], pidfile, "caddy.log", priv, timeout, self.env())

    def server_log(self):
        return self.read("caddy.log")


def check_adapts(site_text, tmp):
    """The documented file as it is (not the test's copy) is a valid
    Caddyfile, formatted as caddy fmt would."""
    path = os.path.join(tmp, "documented.Caddyfile")
    with open(path, "w") as f:
        f.write(site_text)
    r = subprocess.run([CADDY, "adapt", "--config", path, "--adapter", "caddyfile"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=caddy_env(tmp))
    err = r.stderr.decode("utf-8", "replace")
    ok(r.returncode == 0 and r.stdout.startswith(b"{") and '"level":"warn"' not in err,
       "caddy adapt takes docs/Caddyfile as it is, without a warning", err)
    r = subprocess.run([CADDY, "fmt", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=caddy_env(tmp))
    ok(r.returncode == 0 and r.stdout.decode() == site_text,
       "docs/Caddyfile is formatted as caddy fmt formats it", r.stderr)
    os.unlink(path)


def check_blog_and_redirect(site):
    r = site.request("GET", "/")
    ok(r.status == 200 and b"Het blog" in r.body,
       "TLS (certificate checked for %s): the blog's own files" % HOST, r.status)
    r = site.request("GET", "/demo/")
    is_eq(r.status, 404, "the demo article is not exposed (a documented choice)")
    r = site.request("GET", "/2011/01/x?p=1", tls=False)
    ok(r.status == 308 and r.hdrs.get("location") == "https://%s/2011/01/x?p=1" % HOST,
       "plain HTTP redirects to https://%s with the path and query (308)" % HOST,
       "%s %s" % (r.status, r.hdrs.get("location")))
    diag("the test binds 127.0.0.1 only; the documented site listens on every address")


def check_body_limit(site):
    """Caddy answers a Content-Length over max_body itself, in the API's
    JSON; a chunked body goes to commentd, which counts as it reads."""
    check_exact_max_body(site)
    # 300000 bytes: streamed on to commentd, which answers 413 at once and
    # closes, Caddy 2.6 often met a broken pipe and answered 502.
    for size, source in ((65537, "127.0.0.31"), (300000, "127.0.0.33")):
        r = site.request("POST", "/api/v1/comments", body_of_size(size),
                         {"Content-Type": "application/json"}, source=source)
        ok(is_json_413(r), "%d bytes: 413 in the API's JSON" % size,
           "%s %r" % (r.status, r.body[:200]))
        ok("x-content-type-options" not in r.hdrs,
           "that 413 is Caddy's own (without the header commentd puts on every answer)")
    r = site.chunked_post("/api/v1/comments", body_of_size(65537), "127.0.0.32")
    ok(is_json_413(r) and r.hdrs.get("x-content-type-options") == "nosniff",
       "the 65537 bytes chunked: commentd's own 413 in JSON",
       "%s %r" % (r.status, r.body[:200]))


def check_slow_client(site):
    """commentd cuts off a body not sent within request_timeout (2 s here);
    Caddy reads a slow client's whole body first and hands it on at once."""
    body = body_of_size(2000)
    sock = site.tls_socket("127.0.0.34")
    try:
        sock.sendall(b"POST /api/v1/comments HTTP/1.1\r\nHost: %s\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % (HOST.encode(), len(body)))
        sock.sendall(body[:1000])
        time.sleep(3)
        sock.sendall(body[1000:])
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    status = answer.split(b"\r\n", 1)[0]
    ok(status.startswith(b"HTTP/1.1 201"),
       "a client taking 3 s over its body: 201 (commentd got it whole)", answer[:300])


def check_log(site):
    """Caddy keeps no access log here, and logged no client's address."""
    text = site.server_log()
    found = [a for a in CLIENTS if re.search(re.escape(a) + r"(?![0-9])", text)]
    ok(text and not found and "/api/" not in text,
       "Caddy's log (%d lines) holds no client address and no API request"
       % len(text.splitlines()), found or [l for l in text.splitlines() if "/api/" in l][:5])
    bad = [l for l in text.splitlines() if '"level":"error"' in l or '"level":"fatal"' in l]
    ok(not bad, "Caddy's log has no error", "\n".join(bad[:5]))


def main():
    if not os.path.exists(CADDY):
        skip_all("caddy is not installed (apt-get install caddy)")
    if not shutil.which("openssl"):
        skip_all("openssl is not installed (apt-get install openssl)")
    with open(SITE) as f:
        site_text = f.read()
    check_install_md(INSTALL_MD, site_text, "caddy")

    tmp = tempfile.mkdtemp(prefix="commentd-caddy-")
    daemon = Daemon(config=dict(DAEMON_CONFIG, request_timeout="2"))
    site = None
    try:
        check_adapts(site_text, tmp)
        daemon.start()
        site = Site(tmp, daemon.port)
        site.check_substitutions(site_text)
        if not start_front(site, site_text):
            return
        check_blog_and_redirect(site)
        check_widget(site, daemon)
        check_admin(site, daemon)
        check_api(site)
        check_client_addresses(site)
        check_body_limit(site)
        check_slow_client(site)
    finally:
        if site:
            rc = site.stop()
            if rc is not None:
                is_eq(rc, 0, "Caddy stops gracefully (SIGTERM)")
                ok(os.path.exists(os.path.join(tmp, "config", "caddy", "autosave.json")),
                   "Caddy kept its autosaved configuration in the temporary folder")
                check_log(site)
        daemon.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
