#!/usr/bin/env python3
"""Embed files into a C source as byte arrays.

usage: embed.py OUT.c SYMBOL FILE...

Writes `const struct embedded_file SYMBOL[]` (name, data, len) followed by
`const size_t SYMBOL_count`.  Names are the files' base names; the list keeps
the order given (meson passes schema files sorted by number).
"""
import os
import sys


def main():
    out, symbol, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = ['#include "embed.h"', ""]
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        body = ",".join(str(b) for b in data + b"\0")
        lines.append(f"static const unsigned char {symbol}_{i}[] = {{{body}}};")
    lines.append(f"const struct embedded_file {symbol}[] = {{")
    for i, path in enumerate(files):
        name = os.path.basename(path)
        size = os.path.getsize(path)
        lines.append(f'\t{{"{name}", {symbol}_{i}, {size}}},')
    lines.append("\t{0, 0, 0},")
    lines.append("};")
    lines.append(f"const size_t {symbol}_count = {len(files)};")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
