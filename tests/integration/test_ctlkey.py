#!/usr/bin/env python3
"""commentctl and the nodes' key check (lib/nodes.h, docs/postgresql-port.md,
"The key check"): a command that reads or writes keyed data (import, token
create, key create, privacy export and erase, export --key) with another key
file than the database was first used with refuses with one line on
standard error and exit status 1, the database unchanged, whether the key
comes from --key or from --config; with the right key each works; on a
database that no daemon opened yet, the first keyed command keys it and
another key is then refused, by commentctl and by the daemon."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMMENTCTL, COMMENTD, Daemon, db_query, done, is_eq, ok,  # noqa: E402
                     table_names)

REFUSAL = "is not the one the database was first used with"
EMAIL = "keyed@example.org"


def ctl(*args):
    return subprocess.run([COMMENTCTL] + list(args), capture_output=True, text=True)


def keygen(path):
    subprocess.run([COMMENTD, "--keygen", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def state(d):
    """Every row of every table, as text (to compare before and after)."""
    return {t: sorted(repr(r) for r in db_query(d, 'SELECT * FROM "%s"' % t))
            for t in table_names(d)}


def jsonl_file(d, name, text):
    path = os.path.join(d.dir, name)
    with open(path, "w") as f:
        f.write('{"commentd_export":1}\n')
        f.write('{"id":1,"thread":"/imported/","created":"2024-01-02T03:04:05Z",'
                '"status":"published","author":"Importer","text":"%s"}\n' % text)
    return path


def keyed_commands(d, key, path):
    """(name, argv) of every command that reads or writes keyed data."""
    db = ["--db", d.db, "--key", key]
    return [
        ("import", ["import"] + db + ["--format", "jsonl", path]),
        ("token create", ["token", "create", "--name", "moderator"] + db),
        ("key create", ["key", "create", "--blog", "https://blog.example"] + db),
        ("privacy export", ["privacy", "export", "--email", EMAIL] + db),
        ("privacy erase", ["privacy", "erase", "--email", EMAIL] + db),
        ("export --key", ["export", "--format", "jsonl"] + db),
    ]


def refused(d, name, argv, before):
    r = ctl(*argv)
    lines = r.stderr.strip().splitlines()
    ok(r.returncode == 1, "wrong key: %s exits 1" % name, r.returncode)
    ok(len(lines) == 1 and REFUSAL in lines[0] and "nothing done" in lines[0],
       "  with one line saying why", r.stderr)
    is_eq(r.stdout, "", "  printing nothing else")
    ok(state(d) == before, "  and the database is unchanged")


def test_wrong_key(d, wrong):
    path = jsonl_file(d, "wrong.jsonl", "Written with the wrong key")
    before = state(d)
    for name, argv in keyed_commands(d, wrong, path):
        refused(d, name, argv, before)
    conf = os.path.join(d.dir, "wrong.conf")
    with open(conf, "w") as f:
        f.write("db = %s\nkey = %s\n" % (d.db, wrong))
    refused(d, "token create --config", ["token", "create", "--name", "m2", "--config", conf],
            before)
    r = ctl("key", "list", "--db", d.db)
    ok(r.returncode == 0, "a command without the key still runs (key list)", r.stderr)


def test_right_key(d):
    path = jsonl_file(d, "right.jsonl", "Written with the right key")
    for name, argv in keyed_commands(d, d.key, path):
        if name == "privacy erase":
            continue
        r = ctl(*argv)
        ok(r.returncode == 0 and REFUSAL not in r.stderr, "right key: %s works" % name,
           r.stdout + r.stderr)
    is_eq(db_query(d, "SELECT count(*) FROM comments WHERE text = ?",
                   ("Written with the right key",))[0][0], 1, "right key: the import wrote")
    r = ctl("privacy", "export", "--email", EMAIL, "--db", d.db, "--key", d.key)
    ok(r.returncode == 0 and "Keyed comment" in r.stdout,
       "right key: privacy export finds the comment by its keyed hash", r.stdout + r.stderr)
    d.start()
    ok(d.thread("/post/").status == 200, "the daemon starts again with the right key")
    d.stop()


def test_fresh_database(wrong):
    """No daemon opened it: the first keyed command keys it."""
    d = Daemon()
    try:
        path = jsonl_file(d, "first.jsonl", "The first write")
        r = ctl("import", "--db", d.db, "--key", d.key, "--format", "jsonl", path)
        ok(r.returncode == 0, "fresh: the first keyed command runs", r.stderr)
        before = state(d)
        refused(d, "token create after it", ["token", "create", "--name", "m", "--db", d.db,
                                              "--key", wrong], before)
        d.write_config({"key": wrong})
        try:
            d.start(timeout=15)
            started = True
        except RuntimeError:
            started = False
        ok(not started and REFUSAL in d.log(),
           "fresh: the daemon with the other key refuses to start too")
        d.write_config({})
    finally:
        d.cleanup()


def main():
    d = Daemon()
    try:
        d.start()
        r = d.comment("/post/", "Keyed comment", email=EMAIL)
        ok(r.status == 201, "a comment with an e-mail address (keyed hash)", r)
        d.stop()
        wrong = os.path.join(d.dir, "other.key")
        keygen(wrong)
        test_wrong_key(d, wrong)
        test_right_key(d)
        test_fresh_database(wrong)
    finally:
        d.cleanup()
    done()


if __name__ == "__main__":
    main()
