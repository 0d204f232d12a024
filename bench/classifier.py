#!/usr/bin/env python3
"""Spam classifier benchmark: commentd's classifier vs bogofilter on identical splits.

usage: bench/classifier.py [--commentctl PATH] [--corpora DIR] [--seeds N] [--jobs J]
                           [--text-only] [--no-bogofilter] [--sweep-cutoffs]
                           [--protocol-starter off|loo] [--learning-curve] [--sites]
                           [--no-protocols] [--no-dayone] [--cutoffs prequential|kfold|fixed]
                           [--dump-scores FILE] [--lovo-inner video|random]
                           [--cls-opt=--robs=0.3 ...]

Reads the corpora in place (default: ../shared/corpora next to the repository;
never copy them into the repository):
  Youtube0*.csv     YouTube Spam Collection v1 (Alberto, Lochter, Almeida, ICMLA 2015)
  SMSSpamCollection SMS Spam Collection v1 (Almeida, Gomez Hidalgo, Yamakami, DocEng 2011)

Protocols (classifier notes section 8):
  YT    each video: 70/30 stratified holdout x seeds, mean over seeds then videos
  LOVO  leave one video out: train on the other videos, test on it, mean over videos
  SMS   70/30 stratified holdout x seeds
For every split, accuracy and MCC use a threshold tuned by 3-fold CV inside the
training part (max MCC); AUC is threshold-free.  LOVO's inner folds leave one
video of its training part out each (--lovo-inner video, the default: three
videos, three folds, each scored by a model of the other two and a starter
without the tested video and the fold's video), so what is tuned on them sees
how a new video scores; --lovo-inner random: stratified random thirds of the
three videos, as before.  The three-way rates use each system's default
cut-offs: ham auto-rejected = ham scored >= spam cut-off, spam
auto-published = spam scored < ham cut-off, queued = share of all in between.

Systems: ours (commentctl eval-split, in-memory model), bogofilter 1.2.5 with
default parameters, and bogofilter tuned (-m 0.1,0.45,0.5), each run in its
own temporary -d directory, fed the same text (author as the From: header
unless --text-only; ours gets it as "author").

--cutoffs prequential (the default, as shipped: learn_cutoffs = on): ours'
three-way rates use the cut-offs that the split's site learns (lib/cutoffs.h,
through `commentctl cutoffs`) from out-of-sample scores of its decided
comments: each training comment's score before it was learned (the training
part in a shuffled order, the newest 2,000), as the daemon's sample is each
decided comment's score when it arrived.  --cutoffs kfold: from the 3-fold CV
scores inside the training part instead (what K-fold at load would give).
--cutoffs fixed: the defaults.  MCC and accuracy do not depend on the
cut-offs (their threshold is tuned); neither do the test scores (learning
does not depend on the order).

--sweep-cutoffs prints our three-way rates over a grid of cut-offs, first on
the 3-fold CV scores inside the training parts (choose defaults there), then on
the test splits.

The protocols measure the site's own learning, so by default they run with
the starter model off (--protocol-starter off).  With --protocol-starter loo
ours layers a starter under the site's learning that tools/build-starter.py
builds from every source except the one tested (the video, or SMS): the
shipped starter would have seen the test comments.

Day one (always printed): the starter model alone, with nothing learned, on
one source left out of its training: each video with a starter from the other
videos and SMS, and SMS with a starter from the videos.  A comment is held
when it scores at or above the ham cut-off (during the cold start the starter
never files spam), so the rates are ham held and spam published.

--learning-curve: on each video, a site that has learned the first N
comments of a shuffled half (N = 0, 25, 50, 100, 200; the other half is the
test), with the starter (left-out, as above) and without: how fast the
site's own learning takes over.

--sites: per-site figures, each YouTube video a site on one daemon (the
starter off, to measure the sites' learning alone).  For each video and seed
the site learned N of its own comments (of a 70 % part; the rest is the test)
while the other videos learned all of theirs as their own sites; compared:
the site alone (a daemon of its own), pooled (every site's learning as one
model, no sites) and layered (its own learning over the other sites', the
shipped rule, with shared_strength S).  Then a disagreement: the site's
moderators call "subscribe to my channel" comments ham (the others keep
calling them spam); how many of those the site then publishes.

Throughput: SMS corpus, one core: ours learns all 5,574 messages in memory and
classifies them 20 times (wall clock, and the process's CPU time); also `commentctl learn` into SQLite (one transaction)
and `commentctl score` from SQLite (with JSON reasons).  bogofilter registers
and classifies the same as mboxes.  Peak memory is each process's max RSS.
Only the Python standard library is used.
"""
import argparse
import concurrent.futures
import csv
import glob
import html
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ---------------------------------------------------------------- corpora

TAG = re.compile(r"<[^>]{0,200}>")


def clean_youtube(s):
    # The CSVs hold the HTML that YouTube served: decode it to the text a
    # commenter typed (line breaks kept, link markup dropped, href kept).
    s = re.sub(r"<br\s*/?>", "\n", s, flags=re.I)
    s = re.sub(r'<a [^>]*href="([^"]*)"[^>]*>', r" \1 ", s, flags=re.I)
    s = TAG.sub(" ", s)
    return html.unescape(s)


# Each collection file holds the comments of one video (its page on YouTube;
# the ids are the public videos', as links in the comments show).
VIDEO_IDS = {"Psy": "9bZkp7q19f0", "KatyPerry": "CevxZvSJLk8", "LMFAO": "KQ6zr6kCPj8",
             "Eminem": "uelHwf8o7_U", "Shakira": "pRpeEdMmmQ0"}
VIDEO_TITLES = {"Psy": "PSY - GANGNAM STYLE (강남스타일) M/V",
                "KatyPerry": "Katy Perry - Roar (Official)",
                "LMFAO": "LMFAO - Party Rock Anthem ft. Lauren Bennett, GoonRock",
                "Eminem": "Eminem - Love The Way You Lie ft. Rihanna",
                "Shakira": "Shakira - Waka Waka (This Time for Africa) (The Official 2010 FIFA World Cup™ Song)"}


def video_page(path):
    """The commented page of a collection file: the site's host and the
    thread's path, as the daemon has them (site_host, the thread)."""
    m = re.match(r"Youtube\d+-(\w+)\.csv$", os.path.basename(path))
    vid = VIDEO_IDS.get(m.group(1)) if m else None
    return (("www.youtube.com", "/watch?v=" + vid, VIDEO_TITLES[m.group(1)]) if vid
            else (None, None, None))


def load_youtube(path):
    items = []
    host, thread, title = video_page(path)
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            items.append({"text": clean_youtube(row["CONTENT"]), "author": row["AUTHOR"],
                          "label": "spam" if row["CLASS"].strip() == "1" else "ham"})
            if host:
                items[-1].update(site_host=host, thread=thread, page_title=title)
    return items


def load_sms(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            items.append({"text": text, "label": label})
    return items


# ---------------------------------------------------------------- metrics


def auc(labels, scores):
    pairs = sorted(zip(scores, labels))
    n = len(pairs)
    rank_sum = 0.0
    i = 0
    while i < n:
        j = i
        while j < n and pairs[j][0] == pairs[i][0]:
            j += 1
        r = (i + j + 1) / 2  # average 1-based rank
        rank_sum += r * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    npos = sum(labels)
    nneg = n - npos
    if not npos or not nneg:
        return float("nan")
    return (rank_sum - npos * (npos + 1) / 2) / (npos * nneg)


def confusion(labels, scores, t):
    tp = fp = tn = fn = 0
    for y, s in zip(labels, scores):
        p = s >= t
        if y and p:
            tp += 1
        elif y:
            fn += 1
        elif p:
            fp += 1
        else:
            tn += 1
    return tp, fp, tn, fn


def mcc_acc(labels, scores, t):
    tp, fp, tn, fn = confusion(labels, scores, t)
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / den if den else 0.0
    return mcc, (tp + tn) / len(labels)


def best_threshold(labels, scores):
    cand = sorted(set(scores))
    ts = [0.5] + [(a + b) / 2 for a, b in zip(cand, cand[1:])]
    best = (-2, 0.5)
    for t in ts:
        m, _ = mcc_acc(labels, scores, t)
        # prefer the threshold closest to 0.5 among equals (stable choice)
        if m > best[0] + 1e-12 or (abs(m - best[0]) <= 1e-12 and abs(t - 0.5) < abs(best[1] - 0.5)):
            best = (m, t)
    return best[1]


def three_way(labels, scores, ham_cut, spam_cut):
    nh = sum(1 for y in labels if not y)
    ns = len(labels) - nh
    rej = sum(1 for y, s in zip(labels, scores) if not y and s >= spam_cut)
    pub = sum(1 for y, s in zip(labels, scores) if y and s < ham_cut)
    q = sum(1 for s in scores if ham_cut <= s < spam_cut)
    return rej / nh if nh else 0.0, pub / ns if ns else 0.0, q / len(scores)


def stratified_split(items, frac, seed):
    rng = random.Random(seed)
    train, test = [], []
    for lab in ("spam", "ham"):
        group = [it for it in items if it["label"] == lab]
        rng.shuffle(group)
        k = int(round(frac * len(group)))
        train += group[:k]
        test += group[k:]
    return train, test


def stratified_folds(items, k, seed):
    rng = random.Random(seed)
    folds = [[] for _ in range(k)]
    for lab in ("spam", "ham"):
        group = [it for it in items if it["label"] == lab]
        rng.shuffle(group)
        for i, it in enumerate(group):
            folds[i % k].append(it)
    return folds


# ---------------------------------------------------------------- systems


def run_rss(cmd, stdin_path=None):
    """Runs cmd with stdin from a file; returns (stdout, stderr, seconds, max RSS KiB)."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    if fin is not subprocess.DEVNULL:
        fin.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not (os.path.basename(cmd[0]) == "bogofilter" and code in (1, 2)):
        sys.exit("failed (%d): %s\n%s" % (code, " ".join(cmd), err.decode()))
    return out, err, dt, ru.ru_maxrss


def write_jsonl(path, items, text_only):
    with open(path, "w", encoding="utf-8") as f:
        for it in items:
            o = {"text": it["text"], "label": it["label"]}
            if not text_only and "author" in it:
                o["author"] = it["author"]
            if it.get("site"):
                o["site"] = it["site"]
            if it.get("thread"):
                o["site_host"], o["thread"] = it["site_host"], it["thread"]
                o["page_title"] = it["page_title"]
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def write_mbox(path, items, text_only):
    with open(path, "w", encoding="utf-8") as f:
        for it in items:
            f.write("From bench Thu Jan  1 00:00:00 1970\n")
            if not text_only and it.get("author"):
                a = it["author"].replace("\n", " ")
                f.write("From: %s\n" % a)
            f.write("Content-Type: text/plain; charset=utf-8\n\n")
            body = it["text"].replace("\r", "")
            body = re.sub(r"^(>*From )", r">\1", body, flags=re.M)
            f.write(body + "\n\n")


def load_build_starter():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "build_starter", os.path.join(REPO, "tools", "build-starter.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Starters:
    """Starter model files that leave one source out, made on demand."""

    def __init__(self, exe, corpora, tmp):
        self.exe, self.corpora, self.tmp = exe, corpora, tmp
        self.files = {}
        self.mod = load_build_starter()
        self.lock = threading.Lock()  # the protocols' threads ask at once

    def without(self, group):
        """group: a source ("1-Psy", "sms") or a tuple of them."""
        key = tuple(sorted(group)) if isinstance(group, tuple) else (group,)
        with self.lock:
            return self._without(key)

    def _without(self, key):
        if key not in self.files:
            src = self.mod.load_sources(self.corpora, exclude=key)
            nspam, nham, rows = self.mod.build(self.exe, src)
            path = os.path.join(self.tmp, "starter-without-%s.txt" % "+".join(key))
            self.mod.write_model(path, nspam, nham, rows, src, self.mod.MIN_COUNT)
            self.files[key] = path
        return self.files[key]


class Ours:
    name = "commentd"

    def __init__(self, exe, opts, starters=None):
        self.exe = exe
        self.opts = opts
        self.starters = starters  # None: the protocols run with the starter off
        self.learned_cutoffs = "prequential"  # as shipped: learn_cutoffs = on
        self.ham_cut, self.spam_cut = self.cutoffs()

    def cutoffs(self):
        # the defaults printed by eval on a tiny file
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.jsonl")
            write_jsonl(p, [{"text": "a b", "label": "spam"}, {"text": "c d", "label": "ham"}] * 2,
                        True)
            out = subprocess.run([self.exe, "eval", "--folds", "2", p] + self.opts,
                                 capture_output=True, text=True, check=True).stdout
        m = re.search(r"ham < ([0-9.]+), spam >= ([0-9.]+)", out)
        return float(m.group(1)), float(m.group(2))

    def learn_cutoffs(self, labels, scores, tmp):
        """The cut-offs a site learns (lib/cutoffs.h, commentctl cutoffs) from
        out-of-sample scores of its decided comments: here the 3-fold CV
        scores of the training part (the daemon uses the score each comment
        got when it was submitted, before it was learned)."""
        p = os.path.join(tmp, "decided.txt")
        with open(p, "w") as f:
            for y, x in zip(labels, scores):
                f.write("%.17g %s\n" % (x, "spam" if y else "ham"))
        out = subprocess.run([self.exe, "cutoffs", p], capture_output=True, text=True,
                             check=True).stdout
        m = re.match(r"ham_cutoff ([0-9.e-]+) spam_cutoff ([0-9.e-]+)", out)
        return float(m.group(1)), float(m.group(2))

    def scores(self, train, test, tmp, text_only, group=None, starter=None, prequential=None):
        """starter: a starter file to use; else the left-out starter of group
        with --protocol-starter loo, else none.  prequential: a file for each
        training comment's score before it was learned, the comments taken
        in a shuffled order (as they would arrive; the splits list them by
        class); learning does not depend on the order."""
        a, b = os.path.join(tmp, "train.jsonl"), os.path.join(tmp, "test.jsonl")
        if prequential:
            train = list(train)
            random.Random(len(train)).shuffle(train)
        write_jsonl(a, train, text_only)
        write_jsonl(b, test, text_only)
        if starter is None and self.starters and group:
            starter = self.starters.without(group)
        st = ["--starter-file", starter] if starter else ["--starter", "off"]
        if prequential:
            st += ["--prequential", prequential]
        out, _, _, _ = run_rss([self.exe, "eval-split", "--train", a, "--test", b] + st +
                               self.opts)
        return [float(x) for x in out.split()]


class Bogofilter:
    def __init__(self, name, params, exe="bogofilter"):
        self.name = name
        self.params = params
        self.exe = shutil.which(exe) or exe
        q = subprocess.run([self.exe, "-Q"] + params, capture_output=True, text=True).stdout
        vals = dict(re.findall(r"^(\w+)\s*=\s*([0-9.e+-]+)", q, flags=re.M))
        self.ham_cut = float(vals.get("ham_cutoff", 0.45))
        self.spam_cut = float(vals.get("spam_cutoff", 0.99))

    def scores(self, train, test, tmp, text_only, group=None):
        db = tempfile.mkdtemp(dir=tmp)
        s, h, t = (os.path.join(tmp, n) for n in ("s.mbox", "h.mbox", "t.mbox"))
        write_mbox(s, [i for i in train if i["label"] == "spam"], text_only)
        write_mbox(h, [i for i in train if i["label"] == "ham"], text_only)
        write_mbox(t, test, text_only)
        run_rss([self.exe, "-d", db, "-s", "-M"], s)
        run_rss([self.exe, "-d", db, "-n", "-M"], h)
        out, _, _, _ = run_rss([self.exe, "-d", db, "-M", "-T"] + self.params, t)
        res = [float(line.split()[1]) for line in out.decode().splitlines() if line.strip()]
        if len(res) != len(test):
            sys.exit("%s: %d scores for %d messages" % (self.name, len(res), len(test)))
        shutil.rmtree(db)
        return res


# ---------------------------------------------------------------- protocol


def inner_folds(train, inner_seed, group, inner):
    """The inner folds of a split's training part: [(items, group for the
    starter)].  inner: None for stratified random thirds (inner_seed), or
    [(video, its items)] for one fold per video of the training part, each
    scored with a starter that also leaves that video out."""
    if inner is None:
        return [(f, group) for f in stratified_folds(train, 3, inner_seed)]
    return [(items, (group, name)) for name, items in inner]


def evaluate(system, train, test, text_only, inner_seed, group, inner=None):
    """One split: returns dict of metrics.  inner: see inner_folds."""
    mode = getattr(system, "learned_cutoffs", None)
    with tempfile.TemporaryDirectory() as tmp:
        labels = [it["label"] == "spam" for it in test]
        pre = os.path.join(tmp, "prequential.txt") if mode == "prequential" else None
        if pre:
            scores = system.scores(train, test, tmp, text_only, group, prequential=pre)
        else:
            scores = system.scores(train, test, tmp, text_only, group)
        # threshold by 3-fold CV inside the training part
        folds = inner_folds(train, inner_seed, group, inner)
        il, isc = [], []
        for k, (fold, fgroup) in enumerate(folds):
            tr = [it for j, f in enumerate(folds) if j != k for it in f[0]]
            il += [it["label"] == "spam" for it in fold]
            isc += system.scores(tr, fold, tmp, text_only, fgroup)
        t = best_threshold(il, isc)
        ham_cut, spam_cut = system.ham_cut, system.spam_cut
        prows = []
        if mode == "kfold":
            ham_cut, spam_cut = system.learn_cutoffs(il, isc, tmp)
        elif mode == "prequential":
            with open(pre) as f:  # the newest CUTOFFS_WINDOW, as the daemon reads
                prows = [line.split() for line in f]
                rows = prows[-CUTOFFS_WINDOW:]
            ham_cut, spam_cut = system.learn_cutoffs([r[1] == "spam" for r in rows],
                                                     [float(r[0]) for r in rows], tmp)
    mcc, acc = mcc_acc(labels, scores, t)
    rej, pub, q = three_way(labels, scores, ham_cut, spam_cut)
    return {"acc": acc, "mcc": mcc, "auc": auc(labels, scores), "rej": rej, "pub": pub,
            "queued": q, "thr": t, "ham_cut": ham_cut, "spam_cut": spam_cut,
            "_labels": labels, "_scores": scores, "_ilabels": il, "_iscores": isc,
            "_prequential": [(r[1] == "spam", float(r[0])) for r in prows]}


def mean(dicts):
    keys = [k for k in dicts[0] if not k.startswith("_")]
    return {k: sum(d[k] for d in dicts) / len(dicts) for k in keys}


def protocols(videos, sms, seeds, lovo_inner="video"):
    """Yields (protocol, group, train, test, inner_seed, inner folds (see
    inner_folds))."""
    for name, items in videos:
        for seed in range(seeds):
            tr, te = stratified_split(items, 0.7, seed)
            yield "YT", name, tr, te, seed, None
    for name, items in videos:
        others = [(n, its) for n, its in videos if n != name]
        tr = [it for _, its in others for it in its]
        yield "LOVO", name, tr, items, 0, others if lovo_inner == "video" else None
    for seed in range(seeds):
        tr, te = stratified_split(sms, 0.7, seed)
        yield "SMS", "sms", tr, te, seed, None


def throughput(ours, bogos, sms, text_only, tmp):
    rows = []
    a = os.path.join(tmp, "sms.jsonl")
    write_jsonl(a, sms, text_only)
    n = len(sms)
    reps = 20
    out, err, _, rss = run_rss([ours.exe, "eval-split", "--train", a, "--test", a,
                                "--repeat", str(reps)] + ours.opts)
    m = re.search(r"learn_per_s (\d+) classify_per_s (\d+)", err.decode())
    rows.append(("commentd, in memory (eval-split)", float(m.group(1)), float(m.group(2)), rss))
    m = re.search(r"classify_per_cpu_s (\d+)", err.decode())
    if m:  # the same run by CPU time: what one core does when the machine is shared
        rows.append(("  the same, classify per CPU-second", float("nan"), float(m.group(1)), rss))
    db = os.path.join(tmp, "bench.db")
    _, _, dt_learn, rss1 = run_rss([ours.exe, "learn", "--db", db, a])
    _, _, dt_score, rss2 = run_rss([ours.exe, "score", "--db", db, a] + ours.opts)
    rows.append(("commentd, SQLite (learn / score CLI, JSON out)", n / dt_learn, n / dt_score,
                 max(rss1, rss2)))
    for b in bogos:
        d = tempfile.mkdtemp(dir=tmp)
        s, h, allm = (os.path.join(tmp, x) for x in ("s.mbox", "h.mbox", "all.mbox"))
        write_mbox(s, [i for i in sms if i["label"] == "spam"], text_only)
        write_mbox(h, [i for i in sms if i["label"] == "ham"], text_only)
        write_mbox(allm, sms, text_only)
        _, _, t1, r1 = run_rss([b.exe, "-d", d, "-s", "-M"], s)
        _, _, t2, r2 = run_rss([b.exe, "-d", d, "-n", "-M"], h)
        _, _, t3, r3 = run_rss([b.exe, "-d", d, "-M", "-T"] + b.params, allm)
        rows.append((b.name + " (BerkeleyDB, process per run)", n / (t1 + t2), n / t3,
                     max(r1, r2, r3)))
    return rows


def dayone(ours, starters, videos, sms, text_only):
    """The starter alone on each left-out source: rows of metrics."""
    rows = []
    groups = [(name, items) for name, items in videos] + [("sms", sms)]
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in groups:
            labels = [it["label"] == "spam" for it in items]
            scores = ours.scores([], items, tmp, text_only, starter=starters.without(name))
            nh = sum(1 for y in labels if not y)
            held_ham = sum(1 for y, s in zip(labels, scores) if not y and s >= ours.ham_cut)
            pub_spam = sum(1 for y, s in zip(labels, scores) if y and s < ours.ham_cut)
            mcc, acc = mcc_acc(labels, scores, ours.ham_cut)
            rows.append((name, acc, mcc, auc(labels, scores), held_ham / nh,
                         pub_spam / (len(items) - nh),
                         sum(1 for s in scores if s >= ours.ham_cut) / len(items),
                         sum(1 for y, s in zip(labels, scores) if not y and s >= ours.spam_cut) /
                         nh))
    return rows


def print_dayone(rows, ours):
    print("\nday one: the starter alone on a source left out of it (held = score >= %.2f):" %
          ours.ham_cut)
    print("  %-12s %7s %6s %6s %10s %10s %7s %14s" % ("left out", "acc%", "MCC", "AUC",
                                                      "ham-held%", "spam-pub%", "held%",
                                                      "ham>=spam-cut%"))
    for r in rows:
        print("  %-12s %7.2f %6.3f %6.3f %10.2f %10.2f %7.2f %14.2f" %
              (r[0], 100 * r[1], r[2], r[3], 100 * r[4], 100 * r[5], 100 * r[6], 100 * r[7]))
    vids = [r for r in rows if r[0] != "sms"]
    m = [sum(r[i] for r in vids) / len(vids) for i in range(1, 8)]
    print("  %-12s %7.2f %6.3f %6.3f %10.2f %10.2f %7.2f %14.2f" %
          ("videos mean", 100 * m[0], m[1], m[2], 100 * m[3], 100 * m[4], 100 * m[5],
           100 * m[6]))


def learning_curve(ours, starters, videos, text_only, seeds):
    """Per N: mean (MCC at the ham cut-off, queued share) with and without the
    starter over videos and seeds; the test half is fixed per seed."""
    sizes = [0, 25, 50, 100, 200]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in videos:
            for seed in range(seeds):
                pool, test = stratified_split(items, 0.5, 1000 + seed)
                random.Random(seed).shuffle(pool)
                labels = [it["label"] == "spam" for it in test]
                for n in sizes:
                    train = pool[:n]
                    for on in (False, True):
                        if n == 0 and not on:
                            continue
                        st = starters.without(name) if on else None
                        sc = ours.scores(train, test, tmp, text_only, starter=st)
                        rej, pub, q = three_way(labels, sc, ours.ham_cut, ours.spam_cut)
                        res.setdefault((n, on), []).append(
                            (auc(labels, sc), mcc_acc(labels, sc, ours.ham_cut)[0], rej, pub, q))
    print("\nlearning curve (videos, %d seeds): the site learned N comments; "
          "AUC / ham-rej%% / spam-pub%% / queued%%" % seeds)
    for n in sizes:
        cells = []
        for on in (False, True):
            v = res.get((n, on))
            if not v:
                cells.append("%34s" % "-")
                continue
            m = [sum(x[i] for x in v) / len(v) for i in range(5)]
            cells.append("%s %.3f / %5.2f / %5.2f / %5.1f" % ("starter" if on else "site   ",
                                                             m[0], 100 * m[2], 100 * m[3],
                                                             100 * m[4]))
        print("  N=%-4d %s   %s" % (n, cells[0], cells[1]))


SUBSCRIBE = re.compile(r"subscri", re.I)
CHOSEN_STRENGTH = 10  # CLASSIFY_DEFAULT_SHARED_STRENGTH
CUTOFFS_WINDOW = 2000  # lib/cutoffs.h: the newest decided comments a site learns from


def site_scores(ours, train, test, text_only, extra):
    """eval-split with the starter off: the scores of test."""
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "train.jsonl"), os.path.join(tmp, "test.jsonl")
        write_jsonl(a, train, text_only)
        write_jsonl(b, test, text_only)
        out, _, _, _ = run_rss([ours.exe, "eval-split", "--train", a, "--test", b,
                                "--starter", "off"] + ours.opts + extra)
    return [float(x) for x in out.split()]


def site_jobs(videos, seeds, sizes, strengths):
    """Yields (video, seed, N, system, strength, train, test) for the sites
    protocol: own N comments of the video, all of the others'."""
    for name, items in videos:
        others = [dict(it, site=n) for n, its in videos if n != name for it in its]
        for seed in range(seeds):
            pool, test = stratified_split(items, 0.7, seed)
            random.Random(seed).shuffle(pool)
            test = [dict(it, site=name) for it in test]
            for n in sizes:
                own = [dict(it, site=name) for it in (pool if n is None else pool[:n])]
                yield name, seed, n, "own", None, own, test
                yield name, seed, n, "pooled", None, \
                    [dict(it, site=None) for it in others + own], \
                    [dict(it, site=None) for it in test]
                for st in strengths:
                    yield name, seed, n, "layered", st, others + own, test


def disagreement_jobs(videos, seeds, strengths):
    """The site calls "subscribe" comments ham; the others, spam."""
    for name, items in videos:
        mine = [dict(it, label="ham") if it["label"] == "spam" and SUBSCRIBE.search(it["text"])
                else it for it in items]
        others = [dict(it, site=n) for n, its in videos if n != name for it in its]
        for seed in range(seeds):
            pool, test = stratified_split(mine, 0.7, seed)
            own = [dict(it, site=name) for it in pool]
            test = [dict(it, site=name) for it in test if SUBSCRIBE.search(it["text"])]
            if not test:
                continue
            yield name, seed, "own", None, own, test
            yield name, seed, "pooled", None, [dict(it, site=None) for it in others + own], \
                [dict(it, site=None) for it in test]
            for st in strengths:
                yield name, seed, "layered", st, others + own, test


def sites_protocol(ours, videos, text_only, seeds, jobs):
    sizes = [0, 25, 50, 100, None]
    strengths = [1, 3, 10, 30, 100]
    work = list(site_jobs(videos, seeds, sizes, strengths))
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(site_scores, ours, w[5], w[6], text_only,
                          ["--shared-strength", str(w[4])] if w[4] is not None else [])
                for w in work]
        res = {}
        for w, f in zip(work, futs):
            labels = [it["label"] == "spam" for it in w[6]]
            sc = f.result()
            rej, pub, q = three_way(labels, sc, ours.ham_cut, ours.spam_cut)
            res.setdefault((w[2], w[3], w[4]), {}).setdefault(w[0], []).append(
                (auc(labels, sc), rej, pub, q))
    print("\nsites (each video a site on one daemon, starter off, %d seeds): the site learned "
          "N of its comments, the other videos all of theirs;\nAUC / ham-rej%% / spam-pub%% / "
          "queued%%, mean over seeds then videos" % seeds)

    def cell(key):
        per_video = res.get(key)
        if not per_video:
            return "%30s" % "-"
        vm = [[sum(x[i] for x in v) / len(v) for i in range(4)] for v in per_video.values()]
        m = [sum(x[i] for x in vm) / len(vm) for i in range(4)]
        if m[0] != m[0]:  # N = 0 alone: no learning, no ranking
            return "%30s" % "(nothing learned)"
        return "%.3f / %5.2f / %5.2f / %5.1f" % (m[0], 100 * m[1], 100 * m[2], 100 * m[3])

    print("  %-6s %-30s %-30s %s" % ("N", "site alone", "pooled (no sites)",
                                     "layered, shared_strength %d" % CHOSEN_STRENGTH))
    for n in sizes:
        print("  %-6s %-30s %-30s %s" % ("all" if n is None else n, cell((n, "own", None)),
                                         cell((n, "pooled", None)),
                                         cell((n, "layered", CHOSEN_STRENGTH))))
    print("  layered by shared_strength:")
    for st in strengths:
        print("    S=%-4d %s" % (st, "   ".join("N=%s %s" % ("all" if n is None else n,
                                                          cell((n, "layered", st)))
                                               for n in (25, None))))
    work = list(disagreement_jobs(videos, seeds, strengths))
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(site_scores, ours, w[4], w[5], text_only,
                          ["--shared-strength", str(w[3])] if w[3] is not None else [])
                for w in work]
        dis = {}
        for w, f in zip(work, futs):
            sc = f.result()
            dis.setdefault((w[2], w[3]), []).append(
                (sum(1 for x in sc if x < ours.ham_cut) / len(sc),
                 sum(1 for x in sc if x >= ours.spam_cut) / len(sc)))
    print("  disagreement: the site calls \"subscribe\" comments ham, the others spam; of "
          "the site's own in its test part, published% / filed as spam%:")
    for key in [("own", None), ("pooled", None)] + [("layered", st) for st in strengths]:
        v = dis.get(key, [])
        if v:
            print("    %-20s %5.1f / %5.1f" % (key[0] + ("" if key[1] is None else " S=%d" % key[1]),
                                              100 * sum(x[0] for x in v) / len(v),
                                              100 * sum(x[1] for x in v) / len(v)))




def sweep(table, name, inner=None):
    """Three-way rates of one system for a grid of cut-offs (mean as in the table).
    inner: on the inner folds' scores inside the training parts (3-fold CV; for
    LOVO, its --lovo-inner folds, named by inner), never the test splits; this
    is where the default cut-offs are chosen."""
    where = "inner folds of the training parts (LOVO: %s)" % inner if inner else "test splits"
    print("\ncut-off sweep (%s, %s): ham-rej%% / spam-pub%% / queued%%" % (name, where))
    hams = [0.4, 0.5, 0.55, 0.6, 0.65, 0.7]
    spams = [0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999]
    lk, sk = ("_ilabels", "_iscores") if inner else ("_labels", "_scores")
    for proto in ("YT", "LOVO", "SMS"):
        groups = table[(name, proto)]
        print("  %s" % proto)
        for h in hams:
            cells = []
            for s in spams:
                per_group = []
                for runs in groups.values():
                    r = [three_way(x[lk], x[sk], h, s) for x in runs]
                    per_group.append([sum(v[i] for v in r) / len(r) for i in range(3)])
                m = [100 * sum(g[i] for g in per_group) / len(per_group) for i in range(3)]
                cells.append("%4.2f/%4.1f/%4.1f" % tuple(m))
            print("    ham<%.2f  " % h + "  ".join("s>=%g: %s" % (s, c) for s, c in zip(spams, cells)))


def per_video(table, ours, videos):
    print("\nper video (YT, %s):" % ours.name)
    for name, _ in videos:
        m = mean(table[(ours.name, "YT")][name])
        l = table[(ours.name, "LOVO")][name][0]
        print("  %-12s YT MCC %.3f AUC %.3f ham-rej %.2f%% queued %.2f%% | LOVO MCC %.3f AUC %.3f"
              % (name, m["mcc"], m["auc"], 100 * m["rej"], 100 * m["queued"], l["mcc"],
                 l["auc"]))


def dump_scores(path, table, ours, lovo_inner):
    """ours' scores per split (protocol, group, test and inner-fold labels and
    scores): cut-off rules can then be compared offline."""
    rows = []
    for (name, proto), groups in table.items():
        if name != ours.name:
            continue
        for group, runs in groups.items():
            for r in runs:
                rows.append({"proto": proto, "group": group, "labels": r["_labels"],
                             "scores": r["_scores"], "ilabels": r["_ilabels"],
                             "iscores": r["_iscores"], "prequential": r["_prequential"]})
    with open(path, "w") as f:
        json.dump({"ham_cut": ours.ham_cut, "spam_cut": ours.spam_cut, "lovo_inner": lovo_inner,
                   "splits": rows}, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commentctl", default=os.path.join(REPO, "build", "ctl", "commentctl"))
    ap.add_argument("--corpora", default=os.path.join(REPO, "..", "shared", "corpora"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--text-only", action="store_true", help="do not use the author field")
    ap.add_argument("--no-bogofilter", action="store_true")
    ap.add_argument("--sweep-cutoffs", action="store_true",
                    help="also print three-way rates of ours over a grid of cut-offs")
    ap.add_argument("--cls-opt", action="append", default=[],
                    help="extra option for commentctl eval-split (repeatable)")
    ap.add_argument("--protocol-starter", choices=("off", "loo"), default="loo",
                    help="starter under the site's learning in the protocols")
    ap.add_argument("--learning-curve", action="store_true")
    ap.add_argument("--sites", action="store_true",
                    help="per-site figures: each video a site on one daemon")
    ap.add_argument("--no-protocols", action="store_true",
                    help="only day one (and --learning-curve, --sites)")
    ap.add_argument("--no-dayone", action="store_true", help="skip day one")
    ap.add_argument("--only", action="append", choices=("YT", "LOVO", "SMS"),
                    help="run only this protocol (repeatable; for exploring)")
    ap.add_argument("--cutoffs", choices=("prequential", "kfold", "fixed"),
                    default="prequential",
                    help="three-way rates at the cut-offs each split's site learns "
                    "(learn_cutoffs = on) from its prequential scores (each training comment "
                    "scored before it was learned, as in the daemon; the default) or from the "
                    "3-fold CV scores of its training part; or at the fixed defaults")
    ap.add_argument("--dump-scores", metavar="FILE",
                    help="write ours' test and inner-fold scores per split as JSON")
    ap.add_argument("--lovo-inner", choices=("video", "random"), default="video",
                    help="LOVO's inner folds: one per video of the training part (the "
                    "default) or stratified random thirds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as stdir:
        run(args, stdir)


def run(args, stdir):

    if not os.path.exists(args.commentctl):
        sys.exit("no %s: build first (meson compile -C build) or pass --commentctl" %
                 args.commentctl)
    vids = sorted(glob.glob(os.path.join(args.corpora, "Youtube*.csv")))
    if not vids:
        sys.exit("no Youtube*.csv in %s (pass --corpora)" % args.corpora)
    videos = [(re.sub(r"Youtube0?(\d+)-(\w+)\.csv", r"\1-\2", os.path.basename(v)),
               load_youtube(v)) for v in vids]
    sms = load_sms(os.path.join(args.corpora, "SMSSpamCollection"))

    starters = Starters(args.commentctl, args.corpora, stdir)
    ours = Ours(args.commentctl, args.cls_opt,
                starters if args.protocol_starter == "loo" else None)
    ours.learned_cutoffs = None if args.cutoffs == "fixed" else args.cutoffs
    systems = [ours]
    if not args.no_bogofilter:
        systems += [Bogofilter("bogofilter default", []),
                    Bogofilter("bogofilter tuned -m 0.1,0.45,0.5", ["-m", "0.1,0.45,0.5"])]

    print("corpora: %s (%s; SMS %d)" % (os.path.normpath(args.corpora),
                                        ", ".join("%s %d" % (n, len(i)) for n, i in videos),
                                        len(sms)))
    print("seeds %d, author field %s, starter in the protocols: %s" %
          (args.seeds, "not used" if args.text_only else "used",
           "left-out starter" if args.protocol_starter == "loo" else "off"))
    t0 = time.monotonic()
    if not args.no_dayone:
        print_dayone(dayone(ours, starters, videos, sms, args.text_only), ours)
    if args.learning_curve:
        learning_curve(ours, starters, videos, args.text_only, min(args.seeds, 5))
    if args.sites:
        sites_protocol(ours, videos, args.text_only, min(args.seeds, 5), args.jobs)
    if args.no_protocols:
        return
    jobs = [(s, p) for p in protocols(videos, sms, args.seeds, args.lovo_inner) for s in systems
            if not args.only or p[0] in args.only]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        futs = [ex.submit(evaluate, s, p[2], p[3], args.text_only, p[4],
                          "sms" if p[0] == "SMS" else p[1], p[5]) for s, p in jobs]
        results = [f.result() for f in futs]
    table = {}
    for (s, p), r in zip(jobs, results):
        table.setdefault((s.name, p[0]), {}).setdefault(p[1], []).append(r)

    if args.dump_scores:
        dump_scores(args.dump_scores, table, ours, args.lovo_inner)
    print("\n%-34s %-5s %7s %6s %6s %9s %9s %7s %6s %13s" %
          ("system", "proto", "acc%", "MCC", "AUC", "ham-rej%", "spam-pub%", "queued%", "thr",
           "cut-offs"))
    for proto in args.only or ("YT", "LOVO", "SMS"):
        for s in systems:
            groups = table[(s.name, proto)]
            m = mean([mean(v) for v in groups.values()])  # seeds, then groups
            print("%-34s %-5s %7.2f %6.3f %6.3f %9.2f %9.2f %7.2f %6.3f %6.3f/%6.4f" %
                  (s.name, proto, 100 * m["acc"], m["mcc"], m["auc"], 100 * m["rej"],
                   100 * m["pub"], 100 * m["queued"], m["thr"], m["ham_cut"], m["spam_cut"]))
    if ours.learned_cutoffs:
        print("(%s: three-way rates at the cut-offs each split's site learned from the %s "
              "scores of its training part; cut-offs column: their mean)" %
              (ours.name, "3-fold CV" if ours.learned_cutoffs == "kfold" else "prequential"))
    if not args.only:
        per_video(table, ours, videos)
    if args.sweep_cutoffs and not args.only:
        sweep(table, ours.name, inner="one fold per training video" if args.lovo_inner == "video"
              else "random thirds")
        sweep(table, ours.name)
    print("cut-offs: %s ham < %.3f, spam >= %.3f" % (ours.name, ours.ham_cut, ours.spam_cut) +
          "".join("; %s ham < %.2f, spam >= %.2f" % (b.name, b.ham_cut, b.spam_cut)
                  for b in systems[1:]))
    if not args.only:
        print_throughput(ours, systems, sms, args.text_only)
    print("\nelapsed %.0f s" % (time.monotonic() - t0))


def print_throughput(ours, systems, sms, text_only):
    with tempfile.TemporaryDirectory() as tmp:
        rows = throughput(ours, systems[1:2], sms, text_only, tmp)
    print("\nthroughput on SMS (%d messages, one core):" % len(sms))
    print("  %-48s %12s %14s %10s" % ("system", "learn/s", "classify/s", "peak RSS"))
    for name, l, c, rss in rows:
        print("  %-48s %12s %14.0f %7.1f MiB" % (name, "-" if l != l else "%.0f" % l, c,
                                                  rss / 1024))


if __name__ == "__main__":
    main()
