#!/usr/bin/env python3
"""The inner-fold rule for the blend map's points (docs/classifier.md, "How the
second opinion was chosen"), offline from `bench/classifier.py --dump-scores`.

usage: bench/blend_points.py DUMP.json [--map HAM SPAM] [--grid STEP]
                             [--ham-rej-max PCT] [--at HAM SPAM]

The dumped scores went through the blend map of the build that made them
(lib/classify.h: CLASSIFY_BLEND_HAM / _SPAM / _DISCARD onto the default
cut-offs 0.65 / 0.99 / 0.9999); --map gives that build's HAM and SPAM points
(default: lib/classify.h's) so the scores are turned back into the blend's
own scale.  Then, on the inner folds only (never the test splits):
  spam point: the lowest grid value with ham auto-rejected (score >= it)
              <= --ham-rej-max on every protocol's inner folds;
  ham point:  the highest grid value below it with spam auto-published
              (score < it) <= 2.5 % (the target) on every protocol's inner
              folds,
each rate the mean over a protocol's splits (seeds), then its groups, as the
benchmark's tables.  --ham-rej-max: 0.5 % (the target) when the dump's LOVO
inner folds leave one video out each (bench/classifier.py --lovo-inner video,
the default): they show how a new video's ham scores; 0.17 % (a third of the
target) when they are random thirds of the training videos, which do not
show it (the margin issue 14 set for them).  Prints the points, the inner rates around them and the
test splits' rates at them with the fixed default cut-offs; --at prints the
same for given points instead of choosing them.
"""
import argparse
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
HAM_REJ_MAX = {"video": 0.5, "random": 0.17}  # % of inner ham, by LOVO's inner folds
SPAM_PUB_MAX = 2.5  # % of inner spam: the target
TO = [0, 0.65, 0.99, 0.9999, 1]  # the default ham, spam, discard cut-offs


def header_points():
    with open(os.path.join(HERE, "..", "lib", "classify.h"), encoding="utf-8") as f:
        text = f.read()
    return [float(re.search(r"#define CLASSIFY_BLEND_%s\s+([0-9.]+)" % k, text).group(1))
            for k in ("HAM", "SPAM", "DISCARD")]


def unmap(frm):
    """The inverse of the blend map from the points frm onto TO."""
    def inv(y):
        for i in range(4):
            if y <= TO[i + 1]:
                t = (y - TO[i]) / (TO[i + 1] - TO[i])
                return frm[i] + t * (frm[i + 1] - frm[i])
        return 1.0
    return inv


def rates(splits, key, h, s):
    """{protocol: [ham-rej %, spam-pub %, queued %]} at the points h / s."""
    out = {}
    for proto in ("YT", "LOVO", "SMS"):
        groups = {}
        for r in splits:
            if r["proto"] != proto:
                continue
            lab, sc = r[key]
            ham = [x for y, x in zip(lab, sc) if not y]
            spam = [x for y, x in zip(lab, sc) if y]
            groups.setdefault(r["group"], []).append((
                sum(x >= s for x in ham) / len(ham), sum(x < h for x in spam) / len(spam),
                sum(h <= x < s for x in sc) / len(sc)))
        if groups:
            per = [[sum(v[i] for v in g) / len(g) for i in range(3)] for g in groups.values()]
            out[proto] = [100 * sum(g[i] for g in per) / len(per) for i in range(3)]
    return out


def choose(splits, grid, ham_rej_max):
    spam = next((s for s in grid
                 if all(v[0] <= ham_rej_max for v in rates(splits, "inner", 0, s).values())),
                None)
    ham = None
    for h in grid:
        if spam is None or h >= spam:
            break
        if all(v[1] <= SPAM_PUB_MAX for v in rates(splits, "inner", h, 2).values()):
            ham = h
    return ham, spam


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("--map", nargs=2, type=float, metavar=("HAM", "SPAM"))
    ap.add_argument("--grid", type=float, default=0.005)
    ap.add_argument("--ham-rej-max", type=float, metavar="PCT")
    ap.add_argument("--at", nargs=2, type=float, metavar=("HAM", "SPAM"))
    args = ap.parse_args()
    ham0, spam0, discard = header_points()
    if args.map:
        ham0, spam0 = args.map
    inv = unmap([0, ham0, spam0, discard, 1])
    with open(args.dump) as f:
        dump = json.load(f)
    splits = [{"proto": r["proto"], "group": r["group"],
               "inner": (r["ilabels"], [inv(x) for x in r["iscores"]]),
               "test": (r["labels"], [inv(x) for x in r["scores"]])} for r in dump["splits"]]
    grid = [round(args.grid * i, 6) for i in range(1, int(round(1 / args.grid)))]
    folds = dump.get("lovo_inner", "random")  # dumps before --lovo-inner: random thirds
    ham_rej_max = args.ham_rej_max if args.ham_rej_max is not None else HAM_REJ_MAX[folds]
    print("LOVO inner folds: %s; spam point: inner ham-rej <= %g %%" % (folds, ham_rej_max))
    if args.at:
        ham, spam = args.at
    else:
        ham, spam = choose(splits, grid, ham_rej_max)
        if ham is None or spam is None:
            raise SystemExit("no points meet the rule (ham %s, spam %s)" % (ham, spam))
    print("%s points: ham %g spam %g" % ("given" if args.at else "rule's", ham, spam))
    print("  proto  inner ham-rej / spam-pub / queued %   test (fixed cut-offs)")
    ri, rt = rates(splits, "inner", ham, spam), rates(splits, "test", ham, spam)
    for p in ri:
        print("  %-5s  %5.2f / %5.2f / %5.2f               %5.2f / %5.2f / %5.2f" %
              ((p,) + tuple(ri[p]) + tuple(rt[p])))
    step = args.grid
    for s in (spam - 2 * step, spam - step, spam, spam + step):
        r = rates(splits, "inner", 0, s)
        print("  spam %.3f: inner ham-rej %s" % (s, ", ".join("%s %.3f" % (p, v[0])
                                                            for p, v in r.items())))
    for h in (ham - step, ham, ham + step, ham + 2 * step):
        r = rates(splits, "inner", h, 2)
        print("  ham %.3f: inner spam-pub %s" % (h, ", ".join("%s %.2f" % (p, v[1])
                                                           for p, v in r.items())))


if __name__ == "__main__":
    main()
