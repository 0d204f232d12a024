#!/usr/bin/env python3
"""Builds data/starter-model.txt, the starter spam model shipped with commentd.

usage: tools/build-starter.py [--corpora DIR] [--commentctl PATH] [--out FILE]
                              [--min-count N] [--check]

Reads the public labelled corpora in place (never copies them into the
repository) and counts, for every token commentd's tokenizer makes of a
message's text (`commentctl tokens`), the spam and ham messages containing it.
Tokens seen in fewer than --min-count messages are dropped (they would add
memory, not evidence, and a rare token could carry a fragment of one
message), as are tokens whose starter-only probability is within MIN_DEV of
0.5.  Only text tokens are kept: no author names (the corpora's authors are
people) and no length buckets (SMS are capped at 160 characters, blog
comments are not).  The output is sorted, so the same corpora and the same
tokenizer give the same file byte for byte; --check exits 1 when the
repository's model differs from what the corpora give (a tokenizer change
without a rebuild).

Sources (docs/classifier.md, "Starter model", has the attribution):
  Youtube0*.csv     YouTube Spam Collection v1 (Alberto, Lochter, Almeida,
                    ICMLA 2015), CC BY 4.0
  SMSSpamCollection SMS Spam Collection v1 (Almeida, Gomez Hidalgo, Yamakami,
                    DocEng 2011), "free for all purposes"

The benchmark (bench/classifier.py) imports build() to make starters that
leave its test data out.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bench"))
import classifier as bench  # noqa: E402  (the benchmark's corpus readers)

FORMAT = 1
MIN_COUNT = 3
MIN_DEV = 0.05  # as CLASSIFY_DEFAULT_MIN_DEV: weaker tokens are never used
# Token families left out of the starter (see the docstring).
DROP = re.compile(r"^(m:author:|m:len:)")


def tokenizer_version():
    with open(os.path.join(REPO, "lib", "tokenize.h"), encoding="utf-8") as f:
        m = re.search(r"#define TOKENIZE_VERSION (\d+)", f.read())
    return int(m.group(1))


def load_sources(corpora, exclude=()):
    """[(name, items)] of the corpora; exclude names videos ("1-Psy") or "sms"."""
    out = []
    for path in sorted(glob.glob(os.path.join(corpora, "Youtube*.csv"))):
        name = re.sub(r"Youtube0?(\d+)-(\w+)\.csv", r"\1-\2", os.path.basename(path))
        if name not in exclude:
            out.append((os.path.basename(path), bench.load_youtube(path)))
    sms = os.path.join(corpora, "SMSSpamCollection")
    if "sms" not in exclude and os.path.exists(sms):
        out.append(("SMSSpamCollection", bench.load_sms(sms)))
    return out


def tokens_of(commentctl, items):
    """The distinct tokens of each item's text (commentctl tokens)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8",
                                     delete=False) as f:
        for it in items:
            f.write(json.dumps({"text": it["text"]}, ensure_ascii=False) + "\n")
        path = f.name
    try:
        out = subprocess.run([commentctl, "tokens", path], capture_output=True, check=True)
    finally:
        os.unlink(path)
    lines = out.stdout.decode("utf-8").splitlines()
    if len(lines) != len(items):
        sys.exit("commentctl tokens: %d lines for %d messages" % (len(lines), len(items)))
    return [json.loads(line) for line in lines]


def starter_prob(b, g, nspam, nham, robs=1.0, robx=0.5):
    """Robinson f(w) of the starter alone (as lib/classify.c, starter only)."""
    sr, hr = b / nspam, g / nham
    p = sr / (sr + hr)
    n = b + g
    return (robs * robx + n * p) / (robs + n)


def build(commentctl, sources, min_count=MIN_COUNT):
    """Counts and prunes; returns (nspam, nham, [(spam, ham, token)]) sorted."""
    counts = {}
    nspam = nham = 0
    for _, items in sources:
        for it, toks in zip(items, tokens_of(commentctl, items)):
            spam = it["label"] == "spam"
            nspam += spam
            nham += not spam
            for t in toks:
                if DROP.match(t) or "\n" in t or "\r" in t:
                    continue
                c = counts.setdefault(t, [0, 0])
                c[0 if spam else 1] += 1
    rows = []
    for t, (b, g) in counts.items():
        if b + g < min_count or abs(starter_prob(b, g, nspam, nham) - 0.5) < MIN_DEV:
            continue
        rows.append((min(b, 65535), min(g, 65535), t))
    rows.sort(key=lambda r: r[2].encode("utf-8"))
    return nspam, nham, rows


def write_model(path, nspam, nham, rows, sources, min_count):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(render(nspam, nham, rows, sources, min_count))


def render(nspam, nham, rows, sources, min_count):
    lines = [
        "# commentd starter spam model: made by tools/build-starter.py; do not edit.",
        "# Counts of spam and ham messages containing each token, from:",
    ]
    for name, items in sources:
        ns = sum(1 for i in items if i["label"] == "spam")
        lines.append("#   %s: %d spam, %d ham" % (name, ns, len(items) - ns))
    lines += [
        "# YouTube Spam Collection v1: T. C. Alberto, J. V. Lochter, T. A. Almeida,",
        "#   ICMLA 2015, CC BY 4.0.  SMS Spam Collection v1: T. A. Almeida,",
        "#   J. M. Gomez Hidalgo, A. Yamakami, DocEng 2011.  See docs/classifier.md.",
        "# Tokens in fewer than %d messages are left out." % min_count,
        "commentd-starter %d %d" % (FORMAT, tokenizer_version()),
        "messages %d %d" % (nspam, nham),
    ]
    lines += ["%d %d %s" % r for r in rows]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default=os.path.join(REPO, "..", "shared", "corpora"))
    ap.add_argument("--commentctl", default=os.path.join(REPO, "build", "ctl", "commentctl"))
    ap.add_argument("--out", default=os.path.join(REPO, "data", "starter-model.txt"))
    ap.add_argument("--min-count", type=int, default=MIN_COUNT)
    ap.add_argument("--exclude", action="append", default=[],
                    help='leave a source out: a video ("1-Psy") or "sms"')
    ap.add_argument("--check", action="store_true",
                    help="only compare with --out; exit 1 if it differs")
    args = ap.parse_args()
    if not os.path.exists(args.commentctl):
        sys.exit("no %s: build first (meson compile -C build)" % args.commentctl)
    sources = load_sources(args.corpora, args.exclude)
    if not sources:
        sys.exit("no corpora in %s (pass --corpora)" % args.corpora)
    nspam, nham, rows = build(args.commentctl, sources, args.min_count)
    text = render(nspam, nham, rows, sources, args.min_count)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if args.check:
        with open(args.out, encoding="utf-8") as f:
            same = f.read() == text
        print("%s: %s" % (args.out, "up to date" if same else "differs from the corpora"))
        sys.exit(0 if same else 1)
    write_model(args.out, nspam, nham, rows, sources, args.min_count)
    print("%s: %d tokens from %d spam and %d ham messages, %d bytes, sha256 %s..." %
          (args.out, len(rows), nspam, nham, len(text.encode("utf-8")), digest))


if __name__ == "__main__":
    main()
