#!/usr/bin/env python3
"""The storage boundary (TAP): no C file outside lib/store*.c includes
sqlite3.h, names a sqlite3_/SQLITE_ identifier in code or borrows the raw
handle (store_sqlite), except the few below that are SQLite by nature.
Modules use lib/store.h's statement API, so that a second engine fits
behind it.  Each allowed file must still need SQLite (a stale entry fails:
the list only shrinks).

usage: check-store-boundary.py SOURCE_ROOT
"""
import os
import re
import sys

# path -> why it may use SQLite itself
ALLOWED = {
    "lib/backup.c": "SQLite's online-backup API on the store's handle",
    "lib/import_isso.c": "an Isso database is a SQLite file (not commentd's store)",
    "tests/fuzz/fuzz-import-isso.c": "feeds Isso database images to lib/import_isso",
    "tests/powercut/powercut.c": "a SQLite VFS that loses unsynced writes (power cuts)",
    "tests/unit/test-backup.c": "opens the backup copies as files of their own",
    "tests/unit/test-importfmt.c": "writes Isso database files to import",
    "tests/unit/test-store.c": "makes database files too new or half-migrated by hand",
    "tests/unit/test-store-pg.c": "checks that a PostgreSQL store lends no SQLite handle",
}
DIRS = ("lib", "daemon", "ctl", "tests")
USE = re.compile(
    r"#\s*include\s*[<\"]sqlite3\.h[>\"]|\bsqlite3_\w+|\bSQLITE_[A-Z_]+|\bstore_sqlite\s*\("
)
COMMENT_OR_STRING = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)


def engine_file(path):
    return re.fullmatch(r"lib/store[a-z_]*\.[ch]", path) is not None


def code_of(text):
    """text with comments and string literals blanked (newlines kept), but
    preprocessor lines as written (#include "sqlite3.h" is no literal)."""
    code = COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return "\n".join(
        t if t.lstrip().startswith("#") else c for t, c in zip(text.split("\n"), code.split("\n"))
    )


def uses(path):
    with open(path, encoding="utf-8") as f:
        code = code_of(f.read())
    found = []
    for n, line in enumerate(code.split("\n"), 1):
        m = USE.search(line)
        if m:
            found.append("%d: %s" % (n, m.group(0)))
    return found


def main():
    root = sys.argv[1]
    files = []
    for d in DIRS:
        for base, dirs, names in os.walk(os.path.join(root, d)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "data")]
            for name in names:
                if name.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(base, name), root))
    files.sort()
    n = bad = 0
    for path in files:
        if engine_file(path):
            continue
        n += 1
        found = uses(os.path.join(root, path))
        if path in ALLOWED:
            good = bool(found)
            print("%s %d - %s may use SQLite (%s)%s" % (
                "ok" if good else "not ok", n, path, ALLOWED[path],
                "" if good else ": it no longer does; drop it from ALLOWED"))
        else:
            good = not found
            print("%s %d - %s stays behind lib/store.h%s" % (
                "ok" if good else "not ok", n, path,
                "" if good else ": " + ", ".join(found[:5])))
        bad += not good
    for path in sorted(ALLOWED):
        if path not in files:
            n += 1
            bad += 1
            print("not ok %d - %s is in ALLOWED but does not exist" % (n, path))
    n += 1
    print("%s %d - files checked (%d)" % ("ok" if files else "not ok", n, len(files)))
    bad += not files
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
