#!/usr/bin/env python3
"""Which module SQL does PostgreSQL refuse?  (docs/postgresql-port.md)

Starts a throwaway server (tests/pgserver.py), applies schema/pg/, then asks
PostgreSQL to PREPARE every static SQL text of lib/, daemon/ and ctl/ (but
the SQLite-only lib/store*.c, lib/backup.c, lib/import_isso.c) with ?N made
$N, as lib/store_pg.c does (pairs of texts for the two engines,
struct store_sql, are not read: their PostgreSQL text is checked by the
tests that run it, but lib/import.c's staging tables are created first in
the session of each of its texts); parameterless texts of several statements run
in a transaction that is rolled back.  Prints each refused text with
PostgreSQL's error, then counts.  Texts built from macros are listed as not
checked.  A porting aid, not a test: it reports, it does not fail.

usage: tools/pg-prepare-all.py [SOURCE_ROOT]
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from pgserver import PgServer  # noqa: E402

SKIP = {"lib/backup.c", "lib/import_isso.c"}
STATIC = re.compile(r"static const char (\w+)\[\]\s*=\s*((?:[^;\"]|\"(?:\\.|[^\"\\\n])*\")*);")
LITERAL = re.compile(r'"((?:\\.|[^"\\\n])*)"')
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|REPLACE)\b", re.I)


def unescape(s):
    return s.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def texts():
    files = sorted(glob.glob(os.path.join(ROOT, d, "*.c")) for d in ("lib", "daemon", "ctl"))
    for path in [p for group in files for p in group]:
        rel = os.path.relpath(path, ROOT)
        if rel in SKIP or os.path.basename(rel).startswith("store"):
            continue
        with open(path, encoding="utf-8") as f:
            src = f.read()
        for m in STATIC.finditer(src):
            body = m.group(2)
            text = unescape("".join(LITERAL.findall(body)))
            if not SQL.match(text):
                continue
            line = src.count("\n", 0, m.start()) + 1
            macro = re.sub(r'"(?:\\.|[^"\\\n])*"', "", body).strip()
            yield rel, line, m.group(1), text, bool(macro)


PAIR = re.compile(r"static const struct store_sql (\w+)\s*=\s*\{((?:[^;\"]|\"(?:\\.|[^\"\\\n])*\")*)\};")


def pair_pg(rel, name):
    """The PostgreSQL text of the store_sql pair name in rel."""
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        src = f.read()
    for m in PAIR.finditer(src):
        if m.group(1) == name:
            # the two texts are split by the comma outside the literals
            halves = re.split(r",(?=(?:[^\"]|\"(?:\\.|[^\"\\\n])*\")*$)", m.group(2))
            return unescape("".join(LITERAL.findall(halves[-1])))
    raise KeyError(name)


# Texts that work on a connection's temporary tables: created first in the
# same session (lib/import.c's staging tables).
SESSION_SETUP = {"lib/import.c": ("lib/import.c", "sql_stage_create")}


def translate(sql):
    return re.sub(r"\?(\d+)", r"$\1", sql)


def main():
    refused, passed, unchecked = [], 0, []
    with PgServer() as pg:
        uri = pg.new_database("inventory")
        with open(os.path.join(ROOT, "schema/pg/0001-initial.sql")) as f:
            pg.psql(f.read(), "inventory")
        setup = {rel: pair_pg(*where) for rel, where in SESSION_SETUP.items()}
        for rel, line, name, text, macro in texts():
            if macro:
                unchecked.append(f"{rel}:{line} {name}")
                continue
            sql = translate(text)
            if ";" in sql.rstrip().rstrip(";") and "$" not in sql:
                cmd = "BEGIN;\n" + sql + ";\nROLLBACK;"
            else:
                # As lib/store_pg.c: a parameter the SQL skips is text.
                used = {int(n) for n in re.findall(r"\$(\d+)", sql)}
                types = ["unknown" if i in used else "text"
                         for i in range(1, max(used, default=0) + 1)]
                cmd = "PREPARE s%s AS %s" % ("(%s)" % ", ".join(types) if types else "", sql)
            if rel in setup:
                cmd = setup[rel] + "\n" + cmd
            r = subprocess.run([os.path.join(pg.bin, "psql"), "-X", "-q", "-v",
                                "ON_ERROR_STOP=1", "-d", uri, "-c", cmd],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode == 0:
                passed += 1
            else:
                err = r.stderr.strip().split("\n")[0].replace("ERROR:  ", "")
                refused.append((f"{rel}:{line} {name}", err))
    for where, err in refused:
        print(f"REFUSED {where}: {err}")
    for where in unchecked:
        print(f"NOT CHECKED (macros) {where}")
    print(f"# {passed} prepared, {len(refused)} refused, {len(unchecked)} not checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
