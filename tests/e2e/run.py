#!/usr/bin/env python3
"""End-to-end tests of the widget, the moderation page and the demo in
headless Chromium (Debian's /usr/bin/chromium driven by playwright-core).

Starts three daemons with tests/integration/harness.py (one publishing at
once; one holding every comment: moderation = all, and with
min_submit_seconds so high that every widget post is also "too fast", so
that its reasons do not depend on how quickly the browser types; and one
serving two sites, alpha on http://127.0.0.1:PORT and beta on
http://localhost:PORT), creates admin tokens (one with a display name, "Sjef
Kerkhofs", for replies as the site's author) with commentctl, installs the
pinned npm packages with `npm ci` when
tests/e2e/node_modules is missing, and runs widget.test.mjs with node:test,
passing its TAP through.

Environment: COMMENTD, COMMENTCTL (as for the integration tests), CHROMIUM
(default /usr/bin/chromium), E2E_OUT (where screenshots go; default
./e2e-out), UPDATE_SCREENSHOTS=1 (also write docs/screenshots/*.png).
"""
import os
import re
import shutil
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import COMMENTCTL, SOURCE_ROOT, Daemon, skip_all  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
YAML_START = re.compile(r"^(\s+)---\s*$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def daemon(extra_origin="", **settings):
    port = free_port()
    settings["site_origins"] = ("http://127.0.0.1:%d http://localhost:%d %s" % (
        port, port, extra_origin)).strip()
    d = Daemon(config=settings)
    d.port = port
    return d.start()


def sites_daemon():
    """Two sites on one daemon: alpha and beta, the same port under two
    host names (docs/configuration.md, "Sites"); posts are never "too fast"
    (min_submit_seconds 0), as a person's would not be."""
    port = free_port()
    d = Daemon()
    d.port = port
    with open(d.conf, "w") as f:
        f.write("db = %s\nkey = %s\nrate_limit = 0\nstarter_model = off\nmin_submit_seconds = 0\n\n[site alpha]\norigins = "
                "http://127.0.0.1:%d\n\n[site beta]\norigins = http://localhost:%d\n"
                % (d.db, d.key, port, port))
    return d.start()


def token(d, name, *sites):
    args = [COMMENTCTL, "token", "create", "--db", d.db, "--key", d.key, "--name", name]
    for s in sites:
        args += ["--site", s]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print("Bail out! commentctl token create failed: " + r.stderr.strip())
        sys.exit(1)
    return r.stdout.strip()


def main():
    if not os.access(CHROMIUM, os.X_OK):
        skip_all("no %s (apt-get install chromium)" % CHROMIUM)
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip_all("no node or npm (apt-get install nodejs npm)")
    modules = os.path.join(HERE, "node_modules")
    if not all(os.path.isdir(os.path.join(modules, m)) for m in ("playwright-core", "axe-core")):
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                           stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:
            print("Bail out! npm ci failed in tests/e2e")
            sys.exit(1)
    out = os.path.abspath(os.environ.get("E2E_OUT", "e2e-out"))
    os.makedirs(out, exist_ok=True)
    daemons = []
    rc = 1
    try:
        # A stand-in blog on another origin (widget.test.mjs serves it).
        blog = "http://127.0.0.1:%d" % free_port()
        open_d = daemon(extra_origin=blog, min_submit_seconds="0")
        daemons.append(open_d)
        held_d = daemon(moderation="all", min_submit_seconds="3600")
        daemons.append(held_d)
        sites_d = sites_daemon()
        daemons.append(sites_d)
        r = subprocess.run([COMMENTCTL, "token", "create", "--db", held_d.db, "--key", held_d.key,
                            "--name", "e2e", "--display-name", "Sjef Kerkhofs"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("Bail out! commentctl token create failed: " + r.stderr.strip())
            sys.exit(1)
        env = dict(os.environ)
        env.update({
            "BASE_OPEN": "http://127.0.0.1:%d" % open_d.port,
            "BASE_HELD": "http://127.0.0.1:%d" % held_d.port,
            "ADMIN_TOKEN": r.stdout.strip(),
            "SITES_PORT": str(sites_d.port),
            "SITES_TOKEN": token(sites_d, "e2e-all"),
            "SITES_ALPHA_TOKEN": token(sites_d, "e2e-alpha", "alpha"),
            "BLOG_ORIGIN": blog,
            "CHROMIUM": CHROMIUM,
            "E2E_OUT": out,
            "SCREENSHOTS": os.path.join(SOURCE_ROOT, "docs", "screenshots")
            if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "",
            "NO_COLOR": "1",
        })
        sys.stdout.flush()
        # TAP passes through line by line, without terminal colour codes
        # (Playwright's error messages carry some).
        # E2E_ONLY=REGEX runs only the tests whose names match (to chase one).
        only = ["--test-name-pattern=" + os.environ["E2E_ONLY"]] if os.environ.get("E2E_ONLY") else []
        proc = subprocess.Popen([node, "--test", "--test-reporter=tap"] + only + ["widget.test.mjs"],
                                cwd=HERE, env=env, stdout=subprocess.PIPE, text=True)
        yaml = None  # the indentation of the YAML block we are in
        for line in proc.stdout:
            line = ANSI.sub("", line)
            if yaml is None:
                m = YAML_START.match(line)
                yaml = m.group(1) if m else None
            elif line.strip() == "...":
                yaml = None
            elif not line.strip():
                continue  # a blank line would end the block for meson's TAP parser
            sys.stdout.write(line)
            sys.stdout.flush()
        rc = proc.wait()
    finally:
        for d in daemons:
            # A clean stop, so that sanitizer builds report what they found.
            if d.proc and d.stop() != 0:
                rc = rc or 1
            if "Sanitizer" in d.log() or "runtime error" in d.log():
                rc = rc or 1
            if rc != 0:
                sys.stderr.write("--- daemon log (%s) ---\n%s\n" % (d.dir, d.log()[-4000:]))
            d.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
