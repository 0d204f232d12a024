"""The data set of bench/scale.py: a realistic blog host's comments, as rows.

Engine-neutral: this module decides what the database holds (sites,
threads, commenters, comments with their replies, statuses, times, texts,
the spam filter's facts, the moderators' audit trail) and yields rows; an
engine (bench/scale.py, class SQLiteEngine) writes them.  Everything is
drawn from one seeded random generator, so the same parameters give the
same database.

Shape (defaults): 1,000,000 comments over 20,000 threads on three sites,
one thread of 50,000 comments (5,000 top-level, one of them with 2,000
replies), the rest spread like real blogs (a few threads with thousands,
most with a few dozen: Pareto weights); about 40 % of comments are replies,
up to five levels deep.  Five years of history: comments older than two
years were imported (no spam-filter facts), newer ones came through the
API (score, verdict, deciding tokens, reasons, features of the size a real
post stores); the last 30 days still hold their sealed client address,
user agent and referrer (ip_retention_days), the last 15 days their spam
(spam_retention_days).  Commenters follow Zipf's law (a few write
thousands of comments); their e-mail hashes and avatar seeds are the
daemon's own keyed hashes (BLAKE2b under the KDF subkeys of the key file,
as lib/keys.c derives them), so the privacy erase finds them.
"""
import bisect
import hashlib
import itertools
import json
import math
import random
import struct

GENERATOR_VERSION = 2

SITES = (  # id, origin host, share of threads
    ("default", "blog.example.nl", 0.7),
    ("nieuws", "nieuws.example.nl", 0.2),
    ("notes", "notes.example.org", 0.1),
)

DAY = 86400

# ---------------------------------------------------------------- words

_COMMON = (
    "de het een en van ik je dat is in niet op te met voor zijn maar ook als er aan om"
    " wat bij dan nog wel die dit was of heb naar zo me al kan uit over mijn goed even"
    " the a and of to is it that in for you this with on but not are be have was my"
    " artikel blog post punt mee eens helemaal mooi interessant dank bedankt lezen"
    " geschreven vraag antwoord reactie denk vind zeker precies inderdaad gewoon").split()
_SYLLABLES = ("ba be bi bo da de di do ka ke ko la le li lo ma me mi mo na ne ni no pa pe"
              " po ra re ri ro sa se si so ta te ti to va ve vo wa we zo ver ge be ont"
              " aar eer oor uur ijn ang ing ond erk acht echt icht olg ald").split()
_SPAM = ("cheap buy casino viagra pills loans crypto bitcoin bonus free win winner"
         " offer discount click visit best online replica watches seo backlinks rank"
         " followers promo deal limited hurry earn money fast income").split()
_SPAM_HOSTS = ("cheap-pills.example", "casino-bonus.example", "bit.ly", "best-seo.example",
               "crypto-win.example", "replica-shop.example")
_FIRST = ("Jan Piet Kees Anna Sanne Eva Lotte Daan Bram Sem Noah Emma Julia Tess Lisa"
          " Mark Peter Tom Sophie Laura Thomas Ruben Fleur Anouk Joost Maarten Bas Ilse"
          " Hanna Jeroen Wim Henk Ingrid Marieke Koen Lars Niels Iris Femke Sjoerd").split()
_LAST = ("de Vries Jansen Bakker Visser Smit Meijer de Boer Mulder de Groot Bos Vos"
         " Peters Hendriks van Dijk Dekker Brouwer de Wit Dijkstra Smits de Graaf"
         " van der Meer Kok Jacobs de Haan Vermeulen van den Berg").split(" ")
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
)


class Words:
    """A Zipf-distributed vocabulary: common words, then made-up ones from
    Dutch-like syllables, so that the spam filter sees as many distinct
    words, word pairs and 4-grams as real text gives it."""

    def __init__(self, rnd, size=30000):
        seen = set(_COMMON)
        words = list(_COMMON)
        while len(words) < size:
            w = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.choice((1, 2, 2, 3, 3, 4))))
            if w not in seen:
                seen.add(w)
                words.append(w)
        self.words = words
        weights = [1.0 / (r + 2.7) ** 1.07 for r in range(len(words))]
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rnd, k):
        return rnd.choices(self.words, cum_weights=self.cum, k=k)


def _sentence(rnd, words, spam=False):
    n = rnd.randint(5, 18)
    ws = words.pick(rnd, n)
    if spam:
        for i in range(rnd.randint(2, 5)):
            ws[rnd.randrange(n)] = rnd.choice(_SPAM)
    if rnd.random() < 0.05:
        i = rnd.randrange(n)
        ws[i] = "*%s*" % ws[i]
    s = " ".join(ws)
    return s[0].upper() + s[1:] + rnd.choice(".....!?")


def comment_text(rnd, words, spam=False):
    """Markdown text of one comment (median about 200 characters)."""
    paras = []
    for _ in range(1 if rnd.random() < 0.8 else rnd.randint(2, 4)):
        paras.append(" ".join(_sentence(rnd, words, spam)
                              for _ in range(rnd.choice((1, 1, 2, 2, 3, 4)))))
    if spam:
        host = rnd.choice(_SPAM_HOSTS)
        paras.append("[%s](https://%s/%d)" % (rnd.choice(_SPAM), host, rnd.randrange(10**6)))
    elif rnd.random() < 0.04:
        paras[-1] += " Zie ook [dit stuk](https://www.example.com/%d)." % rnd.randrange(10**5)
    return "\n\n".join(paras)


def _escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_html(text):
    """About what lib/render.c makes of comment_text's Markdown."""
    out = []
    for para in text.split("\n\n"):
        p = _escape(para)
        while "*" in p:
            a = p.find("*")
            b = p.find("*", a + 1)
            if b < 0:
                break
            p = p[:a] + "<em>" + p[a + 1:b] + "</em>" + p[b + 1:]
        while "](" in p:
            a = p.rfind("[", 0, p.find("]("))
            m = p.find("](")
            e = p.find(")", m)
            if a < 0 or e < 0:
                break
            p = (p[:a] + '<a href="%s" rel="nofollow ugc">%s</a>' % (p[m + 2:e], p[a + 1:m])
                 + p[e + 1:])
        out.append("<p>" + p + "</p>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- keys

class Keys:
    """The daemon's keyed hashes (lib/keys.c): crypto_kdf subkeys of the
    master key (BLAKE2b with the purpose as salt and "commentd" as
    personalisation), then keyed BLAKE2b."""

    def __init__(self, master):
        def sub(i):
            return hashlib.blake2b(b"", digest_size=32, key=master,
                                   salt=struct.pack("<Q", i) + bytes(8),
                                   person=b"commentd" + bytes(8)).digest()
        self.email_key = sub(1)
        self.avatar_key = sub(2)

    def email_hash(self, email):
        return hashlib.blake2b(email.encode(), digest_size=32, key=self.email_key).digest()

    def avatar(self, email):
        return hashlib.blake2b(email.encode(), digest_size=16, key=self.avatar_key).hexdigest()


# ---------------------------------------------------------------- the plan

class Plan:
    """Threads and the skeleton of every comment (thread, time, parent,
    depth, status), ids in time order as AUTOINCREMENT hands them out."""

    def __init__(self, comments, threads, big, now, seed):
        self.rnd = random.Random(seed)
        self.now = now
        self.n_comments = comments
        self.big = big
        rnd = self.rnd
        start = now - 5 * 365 * DAY
        self.threads = []  # (site, path, created, title)
        counts = self._thread_sizes(comments, threads, big)
        skeleton = []  # (created, thread, k)
        self.per_thread = []  # per thread: list of [created, parent_k, depth]
        for t in range(threads):
            if t == 0:
                site, t0, spread = "default", now - 2 * 365 * DAY, 2 * 365 * DAY
            else:
                r = rnd.random()
                site = "default" if r < SITES[0][2] else (
                    "nieuws" if r < SITES[0][2] + SITES[1][2] else "notes")
                t0 = start + int((now - start - DAY) * math.sqrt(rnd.random()))
                spread = None
            tm = time_of(t0)
            path = "/%04d/%02d/%s-%d" % (tm[0], tm[1], "de-grote-discussie" if t == 0
                                         else "bericht", t)
            self.threads.append((site, path, t0, "Bericht %d" % t if t else
                                 "De grote discussie"))
            times = []
            for _ in range(counts[t]):
                if spread:
                    dt = int(rnd.random() * spread)
                else:
                    dt = int(rnd.expovariate(1.0 / (2 * DAY)))
                    if rnd.random() < 0.05:
                        dt += int(rnd.random() * 200 * DAY)
                times.append(min(t0 + 60 + dt, now - 60))
            times.sort()
            self.per_thread.append(self._shape(t, times))
            for k, tm_ in enumerate(times):
                skeleton.append((tm_, t, k))
        skeleton.sort()
        self.order = skeleton  # index + 1 = comment id
        self.ids = [None] * threads
        for t in range(threads):
            self.ids[t] = [0] * counts[t]
        for i, (_, t, k) in enumerate(skeleton):
            self.ids[t][k] = i + 1

    def _thread_sizes(self, comments, threads, big):
        rnd = self.rnd
        rest = comments - big
        w = [min(rnd.paretovariate(1.16), 400.0) for _ in range(threads - 1)]
        total = sum(w)
        counts = [max(1, int(rest * x / total)) for x in w]
        diff = rest - sum(counts)
        i = 0
        while diff != 0:  # hand the rounding out (or take it back) one by one
            j = i % len(counts)
            if diff > 0:
                counts[j] += 1
                diff -= 1
            elif counts[j] > 1:
                counts[j] -= 1
                diff += 1
            i += 1
        return [big] + counts

    def _shape(self, t, times):
        """[created, parent k or -1, depth, root k] per comment of thread t."""
        rnd = self.rnd
        rows = []
        tops = len(times) // 10 if t == 0 else 0
        for k, tm in enumerate(times):
            parent = -1
            if t == 0:
                if k >= tops and k < tops + 2000:
                    parent = 0
                elif k >= tops + 2000 or (k > 0 and rnd.random() < 0.3 and k > tops):
                    parent = k - 1 - min(k - 1, int(rnd.expovariate(1 / 200.0)))
            elif k > 0 and rnd.random() < 0.4:
                parent = k - 1 - min(k - 1, int(rnd.expovariate(1 / 5.0)))
            if t == 0 and k < tops:
                parent = -1
            if parent >= 0:
                while rows[parent][2] >= 5:
                    parent = rows[parent][1]
                rows.append([tm, parent, rows[parent][2] + 1, rows[parent][3]])
            else:
                rows.append([tm, -1, 1, k])
        return rows


def time_of(t):
    import time as _t
    tm = _t.gmtime(t)
    return tm.tm_year, tm.tm_mon


class Commenters:
    def __init__(self, rnd, keys, n=80000):
        self.people = []
        for i in range(n):
            first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
            email = "%s.%s%d@example.nl" % (first.lower(), last.lower().replace(" ", ""), i)
            url = "https://%s%d.example.net/" % (first.lower(), i) if rnd.random() < 0.15 \
                else None
            self.people.append(("%s %s" % (first, last), email, url,
                                keys.email_hash(email), keys.avatar(email)))
        weights = [1.0 / (r + 1) ** 1.05 for r in range(n)]
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rnd):
        return bisect.bisect_left(self.cum, rnd.random() * self.total)


def _tokens_json(rnd, text, spam):
    """The deciding tokens the pipeline stores (lib/classify.h tokens_json)."""
    ws = text.split()
    start = int(rnd.random() * max(1, len(ws) - 8))
    lo, span = (0.85, 0.149) if spam else (0.01, 0.29)
    r = rnd.random
    return "[" + ",".join(
        '{"token":"%s","p":%.4f,"spam":%d,"ham":%d,"model":"site"}' % (
            w.strip(".,!?*[]()").lower() or "m:caps:0", lo + span * r(), int(40 * r()),
            int(400 * r())) for w in ws[start:start + 8]) + "]"


def _reasons(status, score):
    if status == "spam":
        return json.dumps([{"code": "classifier", "score": round(score, 4), "verdict": "spam"}],
                          separators=(",", ":"))
    if status == "pending":
        return json.dumps([{"code": "first_comment"}], separators=(",", ":"))
    return "[]"


class TextPool:
    """Comment texts drawn once and reused: writing a million distinct
    texts (and their HTML and deciding tokens) costs most of the
    generation time, while what the benchmark measures depends on their
    sizes and words, not on each being unique.  Each pool text is used by
    about 30 comments; `rare` is a word of exactly one pool text (so in a
    few dozen comments), for the admin search."""

    def __init__(self, rnd, words, ham=32000, spam=4000):
        self.ham = [self._entry(rnd, words, False) for _ in range(ham)]
        self.spam = [self._entry(rnd, words, True) for _ in range(spam)]
        seen = {}
        for text, _, _ in self.ham:
            for w in set(text.lower().replace("*", " ").split()):
                w = w.strip(".,!?")
                seen[w] = seen.get(w, 0) + 1
        once = sorted(w for w, n in seen.items() if n == 1 and len(w) >= 6 and w.isalpha())
        self.rare = once[len(once) // 2] if once else words.words[-1]

    @staticmethod
    def _entry(rnd, words, spam):
        text = comment_text(rnd, words, spam)
        return text, render_html(text), _tokens_json(rnd, text, spam)

    def pick(self, rnd, spam):
        pool = self.spam if spam else self.ham
        return pool[int(rnd.random() * len(pool))]


class Dataset:
    """Rows for the engine: sites' threads, comments, audit, learning."""

    def __init__(self, master_key, comments=1000000, threads=20000, big=50000, now=None,
                 seed=2011, learn=8000):
        import time as _t
        self.now = int(now or _t.time())
        self.rnd = random.Random(seed + 1)
        self.plan = Plan(comments, threads, big, self.now, seed)
        self.keys = Keys(master_key)
        self.words = Words(self.rnd)
        self.people = Commenters(self.rnd, self.keys)
        self.texts = TextPool(self.rnd, self.words)
        self.learn = learn
        self.learn_ham, self.learn_spam = [], []  # JSON lines for commentctl learn
        self.comment_status = {}
        self.erase_email = None
        self.search_words = []

    def thread_rows(self):
        """(id, site, path, created, title, url)"""
        hosts = {s[0]: s[1] for s in SITES}
        for i, (site, path, t0, title) in enumerate(self.plan.threads):
            yield (i + 1, site, path, t0, title, "https://%s%s" % (hosts[site], path))

    def _status(self, rnd, created, has_replies):
        age = self.now - created
        r = rnd.random()
        if has_replies:
            return "deleted" if r < 0.004 else "published"
        if age < 15 * DAY and r < 0.12:
            return "spam"
        if (age < 30 * DAY and r < 0.06) or r < 0.0004:
            return "pending"
        return "published"

    def comment_rows(self):
        """Comment rows in id order, as tuples of COMMENT_COLUMNS."""
        plan, rnd, now = self.plan, self.rnd, self.now
        has_replies = set()
        for t, rows in enumerate(plan.per_thread):
            for r in rows:
                if r[1] >= 0:
                    has_replies.add((t, r[1]))
        api_since = now - 2 * 365 * DAY
        ham_every = max(1, int(0.93 * len(plan.order) * 0.4 / max(1, self.learn // 2)))
        seen_ham = 0
        per_person = {}
        for i, (created, t, k) in enumerate(plan.order):
            cid = i + 1
            shape = plan.per_thread[t][k]
            parent = plan.ids[t][shape[1]] if shape[1] >= 0 else None
            root = plan.ids[t][shape[3]]
            status = self._status(rnd, created, (t, k) in has_replies)
            if parent is not None and self.comment_status.get(parent) not in (
                    "published", "deleted"):
                status = "published" if status != "deleted" else status
            self.comment_status[cid] = status
            spam = status == "spam"
            p = self.people.pick(rnd)
            author, email, url, ehash, avatar = self.people.people[p]
            per_person[p] = per_person.get(p, 0) + 1
            text, html, tokens_json = self.texts.pick(rnd, spam)
            moderator = None
            if not spam and rnd.random() < 0.005:
                moderator, author = "sjef", "Sjef"
            api = created >= api_since
            recent = now - created < 30 * DAY
            score = verdict = tokens = features = reasons = auto = None
            if api and moderator is None:
                score = rnd.uniform(0.995, 1.0) if spam else (
                    rnd.uniform(0.65, 0.9) if status == "pending" else rnd.uniform(0.0, 0.5))
                verdict = "spam" if spam else ("unsure" if status == "pending" else "ham")
                tokens = tokens_json
                features = rnd.randbytes(8 * min(2000, 30 + int(0.62 * len(text))))
                reasons = _reasons(status, score)
                auto = status if status in ("published", "pending", "spam") else "published"
            ip_sealed = user_agent = referrer = None
            if recent and moderator is None:
                ip_sealed = rnd.randbytes(40 + rnd.choice((11, 12, 13, 14, 19)))
                user_agent = rnd.choice(_AGENTS)
                referrer = "https://" + SITES[0][1]
            if status == "deleted":
                author, url, text, html, avatar, ehash = "", None, "", "", "", None
                tokens = features = reasons = score = verdict = None
                ip_sealed = user_agent = referrer = None
            edit_hash = rnd.randbytes(32) if status != "deleted" else None
            yield (cid, t + 1, parent, root, shape[2], created, status, author, url, text, html,
                   ehash, avatar, user_agent, referrer, score, verdict, tokens, edit_hash, auto,
                   features, reasons, moderator, ip_sealed)
            self._collect_learning(cid, t, status, api, text, author, url, email, seen_ham,
                                   ham_every)
            if status == "published" and api and moderator is None:
                seen_ham += 1
        self._pick_erase(per_person)

    def _collect_learning(self, cid, t, status, api, text, author, url, email, seen_ham,
                          ham_every):
        site = self.plan.threads[t][0]
        line = {"id": "comment:%d" % cid, "text": text, "author": author,
                "email": email, "site": site}
        if url:
            line["url"] = url
        if status == "spam" and len(self.learn_spam) < self.learn // 2:
            self.learn_spam.append(line)
        elif (status == "published" and api and seen_ham % ham_every == 0
              and len(self.learn_ham) < self.learn // 2):
            self.learn_ham.append(line)

    def extra_spam(self):
        """Spam learned from posts that were later deleted by retention
        (their ledger keys name no comment any more)."""
        rnd = random.Random(7)
        while len(self.learn_spam) < self.learn // 2:
            self.learn_spam.append({"text": comment_text(rnd, self.words, True),
                                    "author": rnd.choice(_SPAM).title(),
                                    "email": "x%d@spam.example" % rnd.randrange(10**6),
                                    "site": "default"})
        return self.learn_spam

    def _pick_erase(self, per_person):
        """A commenter with a few hundred comments, for the privacy erase."""
        best = None
        for p, n in per_person.items():
            if 200 <= n <= 400 and (best is None or abs(n - 300) < abs(best[1] - 300)):
                best = (p, n)
        if best is None:
            best = max(per_person.items(), key=lambda x: x[1])
        self.erase_email = self.people.people[best[0]][1]
        self.erase_count = best[1]

    def audit_rows(self):
        """The moderators' decisions that taught the filter."""
        at = self.now - 30 * DAY
        for n, line in enumerate(self.learn_ham + self.learn_spam):
            if "id" not in line:
                continue
            cid = int(line["id"].split(":")[1])
            yield (at + n * 60, "sjef", "approve" if n < len(self.learn_ham) else "spam", cid,
                   None, 0, line["site"])


COMMENT_COLUMNS = ("id", "thread_id", "parent_id", "root_id", "depth", "created", "status",
                   "author", "url", "text", "html", "email_hash", "avatar", "user_agent",
                   "referrer", "score", "verdict", "tokens", "edit_hash", "auto_status",
                   "features", "reasons", "moderator", "ip_sealed")
