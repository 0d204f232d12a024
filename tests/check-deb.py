#!/usr/bin/env python3
"""The Debian package: built, checked by lintian, installed into a scratch root.

tools/build-deb.sh builds it (dpkg-buildpackage -us -uc -b) from a copy of
this checkout; lintian errors fail the build.  Then:
- its contents: the programs in /usr/sbin and /usr/bin, the units as the
  build fills them in, the man pages, the nginx site, the configuration as
  its only conffile, no key;
- its maintainer scripts, for real: dpkg --root installs it into a scratch
  root (dpkg runs the scripts with DPKG_ROOT, as for a chroot-less
  bootstrap), with this machine's libraries standing in for its
  dependencies; the key appears (32 bytes, 0600, root's) and works with the
  installed commentd and configuration; nothing is enabled or started;
  reinstalling keeps the key and an edited configuration; remove keeps the
  configuration, the key and the database; purge deletes them.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
from harness import SOURCE_ROOT, diag, done, is_eq, ok, skip_all  # noqa: E402

BUILD_DEB = os.path.join(SOURCE_ROOT, "tools", "build-deb.sh")



def run(args, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def build(out):
    rc, log = run([BUILD_DEB, out])
    debs = [f for f in os.listdir(out) if re.fullmatch(r"commentd_[^_]+_[^_]+\.deb", f)]
    if not ok(rc == 0 and len(debs) == 1, "tools/build-deb.sh builds commentd_*.deb",
              log[-3000:]):
        done()
    with open(os.path.join(out, "lintian.txt")) as f:
        lintian = f.read()
    tags = [l for l in lintian.splitlines() if re.match(r"^[EWIXPO]: ", l)]
    for t in tags:
        diag("lintian: " + t)
    errors = [t for t in tags if t.startswith("E: ")]
    ok(not errors, "lintian: no errors (%d other tags, above)" % (len(tags) - len(errors)),
       "\n".join(errors))
    return os.path.join(out, debs[0])


def check_docs_name(deb):
    """README and install.md name the file the build makes."""
    name = os.path.basename(deb)
    for doc in ("README.md", "docs/install.md"):
        with open(os.path.join(SOURCE_ROOT, doc)) as f:
            text = f.read()
        named = set(re.findall(r"commentd_[0-9][^_ ]*_[a-z0-9]+\.deb", text))
        ok(name in named, "%s names %s" % (doc, name), sorted(named))


def check_contents(deb, tmp):
    rc, listing = run(["dpkg-deb", "-c", deb])
    files = {l.split()[-1].lstrip(".") for l in listing.splitlines()}
    want = ["/usr/sbin/commentd", "/usr/bin/commentctl",
            "/lib/systemd/system/commentd.service", "/lib/systemd/system/commentd.socket",
            "/etc/commentd/commentd.conf",
            "/usr/share/man/man8/commentd.8.gz", "/usr/share/man/man1/commentctl.1.gz",
            "/usr/share/man/man5/commentd.conf.5.gz",
            "/usr/share/doc/commentd/copyright", "/usr/share/doc/commentd/examples/nginx.conf",
            "/usr/share/doc/commentd/examples/Caddyfile"]
    absent = [w for w in want if w not in files]
    ok(not absent, "the package holds the programs, units, man pages, configuration, "
       "nginx and Caddy sites", absent)
    ok(not any("secret.key" in f or f.startswith("/usr/local") for f in files),
       "and no key, nothing under /usr/local")

    ctrl = os.path.join(tmp, "control")
    run(["dpkg-deb", "-e", deb, ctrl])
    with open(os.path.join(ctrl, "conffiles")) as f:
        is_eq(f.read().split(), ["/etc/commentd/commentd.conf"],
              "the configuration is the one conffile")
    for script in ("postinst", "prerm", "postrm"):
        rc, out = run(["sh", "-n", os.path.join(ctrl, script)])
        is_eq(rc, 0, "%s: valid sh" % script)
    with open(os.path.join(ctrl, "postinst")) as f:
        postinst = f.read()
    ok(not re.search(r"deb-systemd-invoke (start|restart)\b", postinst)
       and "systemctl start" not in postinst and "systemctl enable" not in postinst,
       "postinst starts nothing and enables nothing of its own accord")
    lines = postinst.splitlines()
    enables = [i for i, l in enumerate(lines) if "deb-systemd-helper enable" in l]
    ok(all(any("was-enabled" in l for l in lines[max(0, i - 3):i]) for i in enables),
       "postinst re-enables a unit only where the admin had enabled it (was-enabled)")
    ok("try-restart 'commentd.service' 'commentd.socket'" in postinst,
       "an upgrade restarts running units (try-restart)")
    with open(os.path.join(ctrl, "prerm")) as f:
        ok(re.search(r"remove.*\n\s*deb-systemd-invoke stop commentd.service commentd.socket",
                     f.read()), "prerm stops the service and socket on removal")

    unpacked = os.path.join(tmp, "unpacked")
    run(["dpkg-deb", "-x", deb, unpacked])
    with open(os.path.join(unpacked, "lib/systemd/system/commentd.service")) as f:
        unit = f.read()
    with open(os.path.join(unpacked, "etc/commentd/commentd.conf")) as f:
        conf = f.read()
    ok("\nExecStart=/usr/sbin/commentd --config /etc/commentd/commentd.conf\n" in unit
       and "\nLoadCredential=secret.key:/etc/commentd/secret.key\n" in unit
       and "\nStateDirectory=commentd\n" in unit and "\nDynamicUser=yes\n" in unit,
       "the unit runs /usr/sbin/commentd with the packaged configuration and key")
    ok(re.search(r"^db = /var/lib/commentd/comments\.db$", conf, re.M)
       and re.search(r"^key = secret\.key$", conf, re.M)
       and re.search(r"^trusted_proxies = 127\.0\.0\.1 ::1$", conf, re.M),
       "the configuration matches the unit (state directory, credential) and the nginx site")


class Root:
    """A scratch dpkg root; this machine's libraries stand in for the
    package's dependencies (their status entries are copied)."""

    def __init__(self, path, deb):
        self.path = path
        admin = os.path.join(path, "var/lib/dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        open(os.path.join(admin, "available"), "w").close()
        rc, depends = run(["dpkg-deb", "-f", deb, "Depends"])
        names = [alt.split()[0] for dep in depends.split(",") for alt in [dep.split("|")[0]]
                 if dep.strip()]
        stanzas = []
        for name in names:
            rc, st = run(["dpkg-query", "-s", name])
            if rc == 0:
                stanzas.append(st.strip() + "\n")
                rc, full = run(["dpkg-query", "-W", "-f=${binary:Package}", name])
                open(os.path.join(admin, "info", full.strip() + ".list"), "w").close()
        with open(os.path.join(admin, "status"), "w") as f:
            f.write("\n".join(stanzas))
        self.deps = names
        self.found = len(stanzas)

    def dpkg(self, *args):
        return run(["dpkg", "--root=" + self.path, "--force-script-chrootless"] + list(args),
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))

    def p(self, rel):
        return os.path.join(self.path, rel.lstrip("/"))


def check_scripts(deb, tmp):
    root = Root(os.path.join(tmp, "root"), deb)
    is_eq(root.found, len(root.deps),
          "this Debian has every dependency (%s)" % ", ".join(root.deps))
    rc, out = root.dpkg("-i", deb)
    ok(rc == 0, "dpkg -i into a scratch root: installed, with its dependencies met", out)
    key = root.p("/etc/commentd/secret.key")
    st = os.stat(key) if os.path.exists(key) else None
    ok(st and st.st_size == 32 and st.st_mode & 0o777 == 0o600 and st.st_uid == 0,
       "postinst generated /etc/commentd/secret.key: 32 bytes, mode 0600, root's",
       st and (st.st_size, oct(st.st_mode), st.st_uid))
    ok(not os.path.exists(root.p("/etc/systemd/system")),
       "nothing enabled: no unit links in /etc/systemd/system")
    ok("generated a new secret key" in out, "postinst says it made a key", out)

    commentd = root.p("/usr/sbin/commentd")
    conf = root.p("/etc/commentd/commentd.conf")
    rc, out = run([commentd, "-n", "--config", conf, "--key", key])
    ok(rc == 0 and "configuration OK" in out,
       "the installed commentd accepts the installed configuration and key", out[-1500:])
    # install.md step 3: the key printed as hex is the same key.
    rc, hexkey = run(["sh", "-c", "od -An -v -tx1 \"$0\" | tr -d ' \\n'; echo", key])
    hexfile = os.path.join(tmp, "key.hex")
    with open(hexfile, "w") as f:
        f.write(hexkey)
    ctl = root.p("/usr/bin/commentctl")
    a = run([ctl, "email-hash", "--email", "a@example.org", "--key", key])
    b = run([ctl, "email-hash", "--email", "a@example.org", "--key", hexfile])
    ok(re.fullmatch(r"[0-9a-f]{64}\n", hexkey) and a[0] == 0 and a == b,
       "install.md's `od` line prints the key as 64 hex digits that work as the key",
       (hexkey, a, b))

    with open(key, "rb") as f:
        key_bytes = f.read()
    with open(conf, "a") as f:
        f.write("# edited by the admin\n")
    rc, out = root.dpkg("-i", deb)
    ok(rc == 0, "installing it again (postinst configure with the old version)", out)
    with open(key, "rb") as f:
        is_eq(f.read(), key_bytes, "the key is kept")
    with open(conf) as f:
        ok(f.read().endswith("# edited by the admin\n"), "the edited configuration is kept")

    # What the service would have made: StateDirectory= with DynamicUser=.
    state = root.p("/var/lib/private/commentd")
    os.makedirs(os.path.join(state, "backups"))
    open(os.path.join(state, "comments.db"), "w").close()
    os.symlink("private/commentd", root.p("/var/lib/commentd"))

    rc, out = root.dpkg("-r", "commentd")
    ok(rc == 0 and not os.path.exists(commentd) and not os.path.exists(ctl),
       "dpkg -r: the programs are gone", out)
    ok(os.path.exists(conf) and os.path.exists(key) and
       os.path.exists(os.path.join(state, "comments.db")),
       "remove keeps the configuration, the key and the database")
    rc, out = root.dpkg("-P", "commentd")
    ok(rc == 0, "dpkg -P (purge)", out)
    gone = [p for p in ("/etc/commentd", "/var/lib/private/commentd", "/var/lib/commentd")
            if os.path.lexists(root.p(p))]
    ok(not gone, "purge deletes the configuration, the key and the database", gone)
    leftovers = []
    for top, dirs, files in os.walk(root.path):
        rel = os.path.relpath(top, root.path)
        if not rel.startswith("var/lib/dpkg"):
            leftovers += [os.path.join(rel, f) for f in files]
    ok(not leftovers, "nothing of the package is left in the root", leftovers)


def main():
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if not shutil.which(tool):
            skip_all("%s is missing (apt-get install dpkg-dev debhelper lintian)" % tool)
    if os.geteuid() != 0:
        skip_all("installing into a scratch root with dpkg --root needs root")
    tmp = tempfile.mkdtemp(prefix="commentd-deb-")
    try:
        deb = build(os.path.join(tmp, "out"))
        check_docs_name(deb)
        check_contents(deb, tmp)
        check_scripts(deb, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
