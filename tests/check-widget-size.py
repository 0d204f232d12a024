#!/usr/bin/env python3
"""The widget's budget: embed.js + embed.css at most 15 KB gzipped (TAP).

usage: check-widget-size.py FILE...   (the files a page with the widget loads)
"""
import gzip
import sys

LIMIT = 15 * 1024


def main():
    files = sys.argv[1:]
    total = 0
    n = 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        size = len(gzip.compress(data, compresslevel=9, mtime=0))
        total += size
        n += 1
        print("ok %d - %s: %d bytes, %d gzipped" % (n, path.rsplit("/", 1)[-1], len(data), size))
    n += 1
    good = total <= LIMIT
    print("%s %d - the widget is %d bytes gzipped (limit %d)" %
          ("ok" if good else "not ok", n, total, LIMIT))
    print("1..%d" % n)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
