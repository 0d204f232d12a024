#!/usr/bin/env python3
"""The documented nginx site (docs/nginx.conf) in front of a real commentd.

Debian's nginx runs unprivileged in a temporary folder with docs/nginx.conf
exactly as install.md shows it, with only the listening ports, the
certificate (a throw-away self-signed one made with openssl), the blog's
folder, the cache folder and commentd's address changed.  Through it, over
TLS: the blog, the widget (caching headers, compression, nginx's copy), the
moderation page, the API, the client's address (rate limits and network
blocklists keyed to the real client, a forged X-Forwarded-For ignored), the
body limit matching max_body (413 in JSON), the HTTP redirect.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Daemon, diag, done, is_eq, ok, skip_all  # noqa: E402
from frontproxy import (HOST, Front, body_of_size, check_admin, check_api,  # noqa: E402
                        check_client_addresses, check_exact_max_body, check_install_md,
                        check_widget, free_port, ipv6_loopback, is_json_413, json_of, nginx_temp_paths,
                        start_front,
                        DAEMON_CONFIG)

SITE = os.path.join(SOURCE_ROOT, "docs", "nginx.conf")
INSTALL_MD = os.path.join(SOURCE_ROOT, "docs", "install.md")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
class Site(Front):
    """nginx with docs/nginx.conf in a temporary folder."""

    name = "nginx"
    stop_signal = signal.SIGQUIT
    checker = "nginx -t"

    def __init__(self, tmp, upstream_port):
        self.tmp = tmp
        self.v6 = ipv6_loopback()
        self.pick_ports()
        self.upstream_port = upstream_port
        self.proc = None
        self.make_cert(tmp)
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("<!doctype html><title>blog</title><h1>Het blog</h1>\n")

    def pick_ports(self):
        """Free ports now; another process may take one before nginx does
        (then start_front picks again)."""
        family, addr = (socket.AF_INET6, "::1") if self.v6 else (socket.AF_INET, "127.0.0.1")
        self.https, self.http = free_port(), free_port()
        self.https6, self.http6 = free_port(family, addr), free_port(family, addr)

    def substitutions(self):
        """(what the documented file says, what the test uses instead)."""
        v6 = "[::1]" if self.v6 else "127.0.0.1"
        return [
            ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % self.https),
            ("listen [::]:443 ssl http2;", "listen %s:%d ssl http2;" % (v6, self.https6)),
            ("listen 80;", "listen 127.0.0.1:%d;" % self.http),
            ("listen [::]:80;", "listen %s:%d;" % (v6, self.http6)),
            ("/etc/letsencrypt/live/blog.example.org/fullchain.pem", self.cert),
            ("/etc/letsencrypt/live/blog.example.org/privkey.pem", self.key),
            ("/var/www/blog", os.path.join(self.tmp, "www")),
            ("/var/cache/nginx-commentd", os.path.join(self.tmp, "cache")),
            ("http://127.0.0.1:8080", "http://127.0.0.1:%d" % self.upstream_port),
        ]

    def check_substitutions(self, site_text):
        for old, _ in self.substitutions():
            n = site_text.count(old)
            ok(n >= 1, "docs/nginx.conf has %r (%d times), replaced for the test" % (old, n))

    def write_config(self, site_text):
        text = site_text
        for old, new in self.substitutions():
            text = text.replace(old, new)
        with open(os.path.join(self.tmp, "site.conf"), "w") as f:
            f.write(text)
        open(os.path.join(self.tmp, "error.log"), "w").close()  # a new start's log only
        # The main file: what Debian's /etc/nginx/nginx.conf sets around
        # sites-enabled/*, with every path in the temporary folder.
        t = self.tmp
        main = """daemon off;
master_process on;
worker_processes 1;
pid %(t)s/nginx.pid;
error_log %(t)s/error.log info;
events { worker_connections 64; }
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_prefer_server_ciphers on;
    log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr';
    access_log %(t)s/access.log upstream;
    gzip on;
%(temp)s    include %(t)s/site.conf;
}
""" % {"t": t, "temp": nginx_temp_paths(t)}
        with open(os.path.join(t, "nginx.conf"), "w") as f:
            f.write(main)

    def args(self):
        return [NGINX, "-p", self.tmp + "/", "-c", os.path.join(self.tmp, "nginx.conf"),
                "-e", os.path.join(self.tmp, "error.log")]

    def check_config(self, priv):
        r = subprocess.run(self.args() + ["-t"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, **priv)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def start(self, priv, timeout=15):
        return self.run(self.args(), os.path.join(self.tmp, "nginx.pid"), "nginx.out", priv,
                        timeout)

    def access_log(self):
        with open(os.path.join(self.tmp, "access.log"), "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def error_log(self):
        return self.read("error.log")

    server_log = error_log


def check_blog_and_redirect(site):
    r = site.request("GET", "/")
    ok(r.status == 200 and b"Het blog" in r.body,
       "TLS (certificate checked for %s): the blog's own files" % HOST, r.status)
    r = site.request("GET", "/demo/")
    is_eq(r.status, 404, "the demo article is not exposed (a documented choice)")
    r = site.request("GET", "/2011/01/x?p=1", tls=False)
    ok(r.status == 301 and r.hdrs.get("location") == "https://%s/2011/01/x?p=1" % HOST,
       "plain HTTP redirects to https://%s with the path and query" % HOST,
       "%s %s" % (r.status, r.hdrs.get("location")))
    if site.v6:
        r = site.request("GET", "/api/v1/health", source="::1", addr="::1", port=site.https6)
        ok(r.status == 200, "the [::]:443 listener answers over IPv6 too", r.status)
    else:
        diag("no IPv6 loopback here: the [::] listeners ran on 127.0.0.1")


def check_body_limit(site):
    """client_max_body_size = max_body: one byte more than max_body is
    refused by nginx itself."""
    check_exact_max_body(site)
    big = body_of_size(65537)
    r = site.request("POST", "/api/v1/comments", big, {"Content-Type": "application/json"},
                     source="127.0.0.31")
    ok(is_json_413(r), "65537 bytes: 413 in the API's JSON", "%s %r" % (r.status, r.body[:200]))
    ok("x-content-type-options" not in r.hdrs,
       "that 413 is nginx's own (without the header commentd puts on every answer)")

    # Chunked, no Content-Length: nginx counts as it reads.
    r = site.chunked_post("/api/v1/comments", big, "127.0.0.32")
    is_eq(r.status, 413, "the same body chunked: 413")
    refused = [l for l in site.error_log().splitlines()
               if "client intended to send too large" in l]
    ok(len(refused) == 2 and "client: 127.0.0.31" in refused[0]
       and "client: 127.0.0.32" in refused[1],
       "nginx refused both itself (its error log), commentd never read them", refused)


def check_no_api_log(site):
    """The API's requests (and so the commenters' addresses) are not logged."""
    lines = site.access_log()
    ok(lines and not any('"POST /api/' in l or '"GET /api/' in l for l in lines),
       "nginx's access log has no API request (%d other lines)" % len(lines),
       [l for l in lines if "/api/" in l][:5])


def thread_via(site, path, headers=None):
    """GET a thread's answer through nginx: (status, X-Cache, comment texts, headers)."""
    r = site.request("GET", "/api/v1/comments?thread=" + path, headers=headers)
    texts = [c.get("html", "") for c in json_of(r).get("comments", [])]
    return r.status, r.hdrs.get("x-cache"), texts, r.hdrs


def check_thread_cache(site, daemon):
    """nginx keeps each thread answer for a second, then revalidates it with
    commentd's ETag; copies are kept per Origin (commentd's Vary), errors
    are not kept, and a new comment shows within a few seconds."""
    path = "/2011/01/cache"
    body = {"thread": path, "author": "Sjef", "email": "sjef@example.nl",
            "text": "Eerste reactie onder een druk gelezen artikel."}
    r = site.request("POST", "/api/v1/comments", body, source="127.0.0.41")
    is_eq(r.status, 201, "a post through the cached location reaches commentd")
    # Two reads in a row within nginx's second: the second is nginx's copy.
    # (Retried a few times: a loaded machine may take a second between them.)
    seen = []
    for _ in range(5):
        first, second = thread_via(site, path), thread_via(site, path)
        seen.append((first[1], second[1]))
        if second[1] == "HIT":
            break
    ok(second[0] == 200 and second[1] == "HIT" and second[2] == first[2] and first[2],
       "a second read within a second is nginx's copy (X-Cache HIT), the same comments", seen)
    # A browser on the blog's origin is not handed the copy kept for a
    # request without Origin: it needs its CORS header.
    origin = "https://" + HOST
    st, _, texts, hdrs = thread_via(site, path, {"Origin": origin})
    ok(st == 200 and hdrs.get("access-control-allow-origin") == origin and texts == first[2],
       "a read from the blog's origin gets the answer with its CORS header", hdrs)
    is_eq(hdrs.get("vary"), "Origin", "which names Origin in Vary")
    # Past its second nginx asks commentd with the ETag: 304, nothing rebuilt.
    # nginx counts whole seconds, so a copy lasts up to two: until then the
    # reads are its copy (HIT); the first one after is REVALIDATED.
    start, seen = time.monotonic(), []
    while time.monotonic() - start < 5:
        st, cache, texts, _ = thread_via(site, path)
        seen.append(cache)
        if cache != "HIT":
            break
        time.sleep(0.2)
    ok(st == 200 and cache == "REVALIDATED" and texts == first[2],
       "after its second or two nginx revalidates its copy (commentd answered 304) "
       "after %.1f s" % (time.monotonic() - start), seen)
    # A new comment shows to other readers within a few seconds.
    body["text"] = "Tweede reactie, even later geplaatst."
    r = site.request("POST", "/api/v1/comments", body, source="127.0.0.42")
    is_eq(r.status, 201, "a second post")
    start, shown = time.monotonic(), False
    while time.monotonic() - start < 5 and not shown:
        shown = any("Tweede reactie" in t for t in thread_via(site, path)[2])
        if not shown:
            time.sleep(0.1)
    waited = time.monotonic() - start
    ok(shown, "the new comment shows through nginx (after %.1f s)" % waited)
    # Errors are never kept.
    caches = [site.request("GET", "/api/v1/comments?thread=").hdrs.get("x-cache")
              for _ in range(2)]
    is_eq(caches, ["MISS", "MISS"], "an error answer (400) is not kept")


def check_nginx_copy(site, daemon):
    """With commentd stopped, the widget still comes from nginx's copy."""
    rc = daemon.stop()
    is_eq(rc, 0, "commentd stops cleanly")
    r = site.request("GET", "/embed.js")
    ok(r.status == 200 and len(r.body) > 1000,
       "with commentd stopped nginx still serves /embed.js from its copy", r.status)
    r = site.request("GET", "/api/v1/health")
    is_eq(r.status, 502, "while the API, of course, is gone (502)")


def main():
    if not os.path.exists(NGINX):
        skip_all("nginx is not installed (apt-get install nginx)")
    if not shutil.which("openssl"):
        skip_all("openssl is not installed (apt-get install openssl)")
    with open(SITE) as f:
        site_text = f.read()
    check_install_md(INSTALL_MD, site_text, "nginx")

    tmp = tempfile.mkdtemp(prefix="commentd-nginx-")
    daemon = Daemon(config=DAEMON_CONFIG)
    site = None
    try:
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
        check_thread_cache(site, daemon)
        check_no_api_log(site)
        check_nginx_copy(site, daemon)
    finally:
        if site:
            rc = site.stop()
            if rc is not None:
                is_eq(rc, 0, "nginx stops gracefully (SIGQUIT)")
                ok(not os.path.exists(os.path.join(tmp, "nginx.pid")),
                   "nginx removed its pid file: nothing left running")
                bad = [l for l in site.error_log().splitlines()
                       if re.search(r"\[(emerg|alert|crit)\]", l)]
                ok(not bad, "nginx's error log has no emerg, alert or crit", "\n".join(bad))
        daemon.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
