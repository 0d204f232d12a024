#!/bin/sh
# commentctl learn / score / eval end to end (TAP).  usage: classify-cli.sh COMMENTCTL
set -u
ctl=$1
dir=$(mktemp -d /tmp/test-classify-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0
fail=0
check() { # description, then a command
	n=$((n + 1)); d=$1; shift
	if "$@" >"$dir/out.$n" 2>&1; then echo "ok $n - $d"; else echo "not ok $n - $d"; sed 's/^/# /' "$dir/out.$n"; fail=$((fail + 1)); fi
}

# Synthetic data: spam and ham from two vocabularies (no external corpora).
python3 - "$dir" <<'PY'
import json, random, sys
d = sys.argv[1]
rng = random.Random(7)
spam = "cheap pills casino bonus winner crypto loan offer click subscribe free money".split()
ham = "article thanks agree point interesting author argument reading example question detail idea".split()
def line(words, i, label=None, **kw):
    o = {"text": " ".join(rng.choice(words) for _ in range(7)) + " n%d" % i, "id": "c%d" % i}
    if label: o["label"] = label
    o.update(kw)
    return json.dumps(o)
with open(d + "/spam.jsonl", "w") as f:
    for i in range(60): f.write(line(spam, i, email="x%d@spam-domain.example" % i) + "\n")
with open(d + "/ham.jsonl", "w") as f:
    for i in range(60, 120): f.write(line(ham, i) + "\n")
with open(d + "/labelled.jsonl", "w") as f:
    for i in range(200):
        s = i % 2 == 0
        f.write(line(spam if s else ham, 1000 + i, "spam" if s else "ham") + "\n")
with open(d + "/query.jsonl", "w") as f:
    f.write(json.dumps({"text": "cheap pills casino bonus click free money", "id": "q1"}) + "\n")
    f.write(json.dumps({"text": "interesting article, thanks; I agree with the author", "id": "q2"}) + "\n")
PY

db=$dir/c.db
check "learn spam" "$ctl" learn --db "$db" --spam "$dir/spam.jsonl"
check "learn ham from stdin" sh -c "'$ctl' learn --db '$db' --ham < '$dir/ham.jsonl'"
check "learning again is a no-op" sh -c "'$ctl' learn --db '$db' --spam '$dir/spam.jsonl' 2>&1 | grep -q 'learned 0 message(s); 60 already'"
check "score prints one JSON line per input" sh -c "'$ctl' score --db '$db' '$dir/query.jsonl' > '$dir/scores.jsonl' && test \$(wc -l < '$dir/scores.jsonl') -eq 2"
check "spammy comment is spam with reasons, hammy one is ham" python3 - "$dir/scores.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
a, b = rows
assert a["id"] == "q1" and b["id"] == "q2", rows
assert a["verdict"] in ("spam", "discard") and a["score"] > 0.9, a
assert b["verdict"] == "ham" and b["score"] < 0.15, b
assert not a["cold_start"], a
assert a["tokens"] and all(set(t) >= {"token", "p", "spam", "ham"} for t in a["tokens"]), a
assert a["tokens"][0]["p"] > 0.5 and b["tokens"][0]["p"] < 0.5, rows
# 60 of each learned (> min_learned): the second opinion counts and agrees
assert a["blended"] and b["blended"], rows
assert a["second"] > 0.5 > b["second"] and a["bayes"] > 0.9 > 0.15 > b["bayes"], rows
PY
check "the database holds no e-mail domain in clear" sh -c "! grep -q 'spam-domain' '$db' && ! grep -q 'spam-domain' '$db-wal' 2>/dev/null || false"
check "reversing the spam as ham changes the score" sh -c "'$ctl' learn --db '$db' --ham '$dir/spam.jsonl' && '$ctl' score --db '$db' '$dir/query.jsonl' | head -1 | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s[\"verdict\"] != \"spam\", s'"
check "cold start: a fresh database never says spam" sh -c "head -5 '$dir/spam.jsonl' | '$ctl' learn --db '$dir/cold.db' --spam && head -5 '$dir/ham.jsonl' | '$ctl' learn --db '$dir/cold.db' --ham && '$ctl' score --db '$dir/cold.db' '$dir/query.jsonl' | head -1 | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s[\"cold_start\"] and s[\"verdict\"] == \"unsure\", s'"
check "eval prints accuracy, MCC, AUC and three-way rates" sh -c "'$ctl' eval --folds 5 --seed 3 '$dir/labelled.jsonl' > '$dir/eval.txt' && grep -Eq '^accuracy [01][.][0-9]+  MCC [-0-9.]+ .*AUC [01][.][0-9]+' '$dir/eval.txt' && grep -q 'ham auto-rejected' '$dir/eval.txt' && python3 -c \"import re,sys; t=open('$dir/eval.txt').read(); a=float(re.search(r'AUC ([0-9.]+)',t).group(1)); assert a > 0.95, t\""
check "bad input is refused with nothing learned" sh -c "printf '{\"text\": \"ok\"}\nnot json\n' | '$ctl' learn --db '$dir/bad.db' --spam; test \$? -ne 0"
check "cutoffs: a separable sample learns the widest bands" sh -c "python3 -c 'for i in range(60): print(0.999, \"spam\"); print(0.01, \"ham\")' | '$ctl' cutoffs | grep -qx 'ham_cutoff 0.8 spam_cutoff 0.95 learned yes nspam 60 nham 60'"
check "cutoffs: too few decided keep the configured ones" sh -c "printf '0.999 spam\n0.01 ham\n' | '$ctl' cutoffs --ham-cutoff 0.6 | grep -qx 'ham_cutoff 0.6 spam_cutoff 0.99 learned no nspam 1 nham 1'"
check "cutoffs: a bad line is refused with its position" sh -c "printf '0.5 spam\n0.5 maybe\n' | '$ctl' cutoffs 2>&1 >/dev/null | grep -q -- '-:2: not' && ! printf '2 ham\n' | '$ctl' cutoffs 2>/dev/null"
check "unknown command fails" sh -c "! '$ctl' no-such-command 2>/dev/null"
check "help lists learn, score and eval" sh -c "'$ctl' --help | grep -q learn && '$ctl' --help | grep -q score && '$ctl' --help | grep -q eval"
check "help lists each command once" sh -c "'$ctl' --help | awk '/^  [a-z]/ {print \$1}' | sort | uniq -d | grep -q . && exit 1 || exit 0"
echo "1..$n"
[ "$fail" -eq 0 ]
