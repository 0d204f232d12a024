#!/usr/bin/env python3
"""Every --cd-* custom property the widget's styles use is documented in
docs/widget.md's table, and every one documented is used (TAP).

usage: check-widget-docs.py EMBED.CSS WIDGET.MD
"""
import re
import sys


def main():
    css_path, doc_path = sys.argv[1], sys.argv[2]
    with open(css_path, encoding="utf-8") as f:
        css = f.read()
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read()
    used = sorted(set(re.findall(r"--cd-[a-z0-9-]+", css)))
    documented = sorted(set(re.findall(r"^\| `(--cd-[a-z0-9-]+)` \|", doc, re.M)))
    n = 0
    bad = 0
    for name in used:
        n += 1
        good = name in documented
        bad += not good
        print("%s %d - %s is documented in widget.md" % ("ok" if good else "not ok", n, name))
    for name in documented:
        n += 1
        good = name in used
        bad += not good
        print("%s %d - %s (documented) is used by embed.css" % ("ok" if good else "not ok", n, name))
    n += 1
    print("%s %d - embed.css uses custom properties (%d)" % ("ok" if used else "not ok", n, len(used)))
    bad += not used
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
