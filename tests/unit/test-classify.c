/* Unit tests for lib/classify: maths against hand-computed values, cut-offs,
 * cold start, in-memory learning, the SQLite ledger (idempotence, reversal,
 * forget; every token row after random learnings and forgettings),
 * persistence, cross-connection reload, rollback, privacy. */
#include "tap.h"

#include "classify.h"
#include "fixture.h"
#include "starter.h"
#include "store.h"
#include "submit.h"
#include "tokenize.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The temporary directory, and the stores (SQLite or PostgreSQL). */
static struct fixture fx;

#define NEAR(got, want, ...) ok(fabs((got) - (want)) < 1e-9, __VA_ARGS__)

static const char *spam_words[] = {"cheap",  "pills", "casino", "bonus", "winner",    "crypto",
				   "viagra", "loan",  "offer",	"click", "subscribe", "free"};
static const char *ham_words[] = {"article",	 "thanks",   "agree",	 "point",
				  "interesting", "author",   "argument", "reading",
				  "example",	 "question", "detail",	 "idea"};

static uint64_t rng = 42;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A synthetic message: 6 words mostly from one class's vocabulary, plus a
 * serial number so every message is distinct. */
static void make_text(char *out, size_t sz, bool spam, unsigned serial)
{
	const char **v = spam ? spam_words : ham_words;
	const char **o = spam ? ham_words : spam_words;
	size_t len = 0;

	for (int i = 0; i < 6; i++) {
		const char *w = rnd(10) < 9 ? v[rnd(12)] : o[rnd(12)];

		len += (size_t)snprintf(out + len, sz - len, "%s ", w);
	}
	snprintf(out + len, sz - len, "n%u", serial);
}

static struct classify_input input(const char *text)
{
	return (struct classify_input){.text = text, .render_seconds = -1};
}

static int learn_many(struct classifier *c, struct store_conn *conn, bool spam, unsigned n,
		      unsigned serial0)
{
	char text[256], key[64];

	for (unsigned i = 0; i < n; i++) {
		struct classify_input in;
		int r;

		make_text(text, sizeof(text), spam, serial0 + i);
		in = input(text);
		snprintf(key, sizeof(key), "m:%s:%u", spam ? "s" : "h", serial0 + i);
		r = classifier_learn(c, conn, key, &in,
				     spam ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM);
		if (r != 0)
			return r;
	}
	return 0;
}

static double score_of(struct classifier *c, struct store_conn *conn, const char *text)
{
	struct classify_input in = input(text);
	double s = -1;

	if (classifier_score_only(c, conn, &in, &s) != 0)
		return -1;
	return s;
}

/* The rows of sql as "a:b:c,..." appended to f (no group_concat: the
 * same on both engines). */
static void rows_to(struct store_conn *conn, FILE *f, const char *sql)
{
	struct store_stmt *st = store_stmt(conn, sql);

	if (!st) {
		fputs("(bad SQL)", f);
		return;
	}
	for (int row = 0; store_row(conn, st) == 1; row++) {
		fputs(row ? "," : "", f);
		for (int i = 0; i < store_col_count(st); i++)
			fprintf(f, "%s%s", i ? ":" : "", store_col_text(st, i));
	}
	store_reset(st);
}

/* All rows of the token table and the state counts as one string. */
static char *snapshot(struct store_conn *conn)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return strdup("(no memory)");
	rows_to(conn, f, "SELECT hash, spam, ham FROM classifier_tokens ORDER BY hash");
	fputc('|', f);
	rows_to(conn, f, "SELECT nspam, nham FROM classifier_state");
	fputc('|', f);
	rows_to(conn, f, "SELECT count(*) FROM classifier_learned");
	fclose(f);
	return s;
}

static long long count_tokens(struct store_conn *conn)
{
	static const char sql[] = "SELECT count(*) FROM classifier_tokens";
	struct store_stmt *st = store_stmt(conn, sql);
	long long n = -1;

	if (st && store_row(conn, st) == 1)
		n = store_col_int64(st, 0);
	store_reset(st);
	return n;
}

static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(needle), cap = 1 << 20, len;
	char *buf;
	bool found = false;

	if (!f)
		return false;
	buf = malloc(cap);
	while (buf && (len = fread(buf, 1, cap, f)) > 0 && !found) {
		for (size_t i = 0; i + n <= len; i++)
			if (memcmp(buf + i, needle, n) == 0) {
				found = true;
				break;
			}
	}
	free(buf);
	fclose(f);
	return found;
}

struct worker {
	struct classifier *c;
	int failures;
};

static void *score_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 300; i++) {
		struct classify_input in = input("cheap pills casino bonus click now");
		struct classify_result res;

		if (classifier_score(w->c, NULL, &in, &res) != 0 || res.score < 0.5)
			w->failures++;
		classify_result_clear(&res);
	}
	return NULL;
}

static void test_maths(void)
{
	struct classify_settings s;

	classify_settings_default(&s);
	s.robs = 0.45; /* the hand computations below use SpamBayes' s and x */
	s.robx = 0.5;
	/* f(w) = (s*x + n*p) / (s + n); b=3 of 10 spam, g=1 of 10 ham:
	 * p = 0.3 / (0.3 + 0.1) = 0.75, n = 4 -> (0.225 + 3) / 4.45 */
	NEAR(classify_token_prob(&s, 3, 1, 10, 10), 3.225 / 4.45, "f(w) hand-computed");
	/* unbalanced totals: b=2 of 20 spam, g=2 of 5 ham: p = 0.1/(0.1+0.4) = 0.2 */
	NEAR(classify_token_prob(&s, 2, 2, 20, 5), (0.225 + 4 * 0.2) / 4.45,
	     "f(w) normalises by class totals");
	NEAR(classify_token_prob(&s, 0, 0, 10, 10), 0.5, "unseen token is x");
	s.robs = 1;
	s.robx = 0.4;
	NEAR(classify_token_prob(&s, 1, 0, 10, 10), (0.4 + 1) / 2, "f(w) with s=1, x=0.4");
	/* chi-square upper tail, 2k dof: e^-m * sum_{i<k} m^i/i!, m = x2/2 */
	NEAR(classify_chi2q(4, 1), exp(-2), "C(4, 2 dof) = e^-2");
	NEAR(classify_chi2q(4, 2), exp(-2) * 3, "C(4, 4 dof) = e^-2 (1 + 2)");
	NEAR(classify_chi2q(6, 3), exp(-3) * (1 + 3 + 4.5), "C(6, 6 dof)");
	NEAR(classify_chi2q(0, 5), 1, "C(0) = 1");
	/* two tokens at 0.9: H = C(-2 ln .81, 4) = .81 (1 - ln .81),
	 * S = C(-2 ln .01, 4) = .01 (1 - ln .01), score = (1 + H - S) / 2 */
	{
		double f[] = {0.9, 0.9};
		double H = 0.81 * (1 - log(0.81)), S = 0.01 * (1 - log(0.01));

		NEAR(classify_combine(f, 2), (1 + H - S) / 2,
		     "Fisher combining, two spammy tokens");
	}
	{
		double f[] = {0.1, 0.1};
		double H = 0.01 * (1 - log(0.01)), S = 0.81 * (1 - log(0.81));

		NEAR(classify_combine(f, 2), (1 + H - S) / 2, "Fisher combining, two hammy tokens");
	}
	{
		double f[] = {0.2, 0.8}, g[] = {0.7};

		NEAR(classify_combine(f, 2), 0.5, "opposite evidence cancels");
		NEAR(classify_combine(NULL, 0), 0.5, "no evidence = 0.5");
		NEAR(classify_combine(g, 1), (1 + exp(log(0.7)) - exp(log(0.3))) / 2,
		     "one token: (1 + f - (1 - f)) / 2 = f");
	}
	{
		static double many[4000];

		for (int i = 0; i < 4000; i++)
			many[i] = 0.99;
		double v = classify_combine(many, 4000);

		ok(isfinite(v) && v > 0.999, "4000 tokens do not underflow (%g)", v);
		for (int i = 0; i < 4000; i++)
			many[i] = 0.01;
		v = classify_combine(many, 4000);
		ok(isfinite(v) && v < 0.001, "4000 hammy tokens do not underflow (%g)", v);
	}
	/* weighted combining: token i counts w[i] times; Q(1/2, x) = erfc(sqrt x) */
	{
		double f[] = {0.9, 0.2, 0.75, 0.6}, one[] = {1, 1, 1, 1}, half[] = {0.5, 0.5};
		double g[] = {0.9}, w[] = {0.5}, gg[] = {0.8, 0.8};
		double H = erfc(sqrt(-0.5 * log(0.9))), S = erfc(sqrt(-0.5 * log(0.1)));

		NEAR(classify_combine_weighted(f, one, 4), classify_combine(f, 4),
		     "unit weights = plain Fisher combining");
		NEAR(classify_combine_weighted(g, w, 1), (1 + H - S) / 2,
		     "one token at weight 1/2: H = erfc(sqrt(-ln f / 2))");
		NEAR(classify_combine_weighted(gg, half, 2), 0.8,
		     "two half-weight copies = one token = f");
		NEAR(classify_combine_weighted(NULL, NULL, 0), 0.5, "no evidence = 0.5 (weighted)");
	}
	{
		static double many[4000], wq[4000];

		for (int i = 0; i < 4000; i++) {
			many[i] = 0.99;
			wq[i] = 0.25;
		}
		double v = classify_combine_weighted(many, wq, 4000);

		ok(isfinite(v) && v > 0.999, "4000 quarter-weight tokens do not underflow (%g)", v);
	}
}

static void test_cutoffs(void)
{
	struct classify_settings s;

	classify_settings_default(&s);
	s.ham_cutoff = 0.2;
	s.spam_cutoff = 0.9;
	s.discard_cutoff = 0.99;
	is_int(classify_verdict_for(&s, 0.1, false, false), CLASSIFY_HAM, "below ham cut-off: ham");
	is_int(classify_verdict_for(&s, 0.2, false, false), CLASSIFY_UNSURE,
	       "at the ham cut-off: unsure");
	is_int(classify_verdict_for(&s, 0.5, false, false), CLASSIFY_UNSURE, "middle: unsure");
	is_int(classify_verdict_for(&s, 0.9, false, false), CLASSIFY_SPAM, "at spam cut-off: spam");
	is_int(classify_verdict_for(&s, 0.98, false, false), CLASSIFY_SPAM, "below discard: spam");
	is_int(classify_verdict_for(&s, 0.99, false, false), CLASSIFY_DISCARD, "discard");
	is_int(classify_verdict_for(&s, 0.99, true, false), CLASSIFY_UNSURE,
	       "cold start: discard score held as unsure");
	is_int(classify_verdict_for(&s, 0.95, true, false), CLASSIFY_UNSURE,
	       "cold start: spam score held as unsure");
	is_int(classify_verdict_for(&s, 0.05, true, false), CLASSIFY_HAM, "cold start: ham stays");
	is_int(classify_verdict_for(&s, 0.0, true, true), CLASSIFY_DISCARD,
	       "honeypot discards even in cold start");
	s.discard_cutoff = 1.5;
	is_int(classify_verdict_for(&s, 1.0, false, false), CLASSIFY_SPAM,
	       "discard cut-off above 1 disables discard");
	is_str(classify_verdict_name(CLASSIFY_DISCARD), "discard", "verdict names");
	{
		struct classifier *c = NULL;

		s.ham_cutoff = 0.95;
		is_int(classifier_new(&c, &s), 1, "ham cut-off above spam cut-off is refused");
		ok(c == NULL, "no classifier on refusal");
	}
}

static void test_memory(void)
{
	struct classifier *c = NULL;
	struct classify_settings s;
	struct classify_result res;
	struct classify_input in;
	uint64_t ns, nh;

	classify_settings_default(&s);
	s.ham_cutoff = 0.2; /* this part tests the mechanism, not the default cut-offs */
	s.spam_cutoff = 0.9;
	s.discard_cutoff = 0.9999;
	s.starter = false; /* the site's own learning alone; test_starter layers it */
	is_int(classifier_new(&c, &s), 0, "memory classifier");
	in = input("cheap pills casino bonus click now");
	is_int(classifier_score(c, NULL, &in, &res), 0, "score with an empty model");
	NEAR(res.score, 0.5, "empty model scores 0.5");
	is_int(res.verdict, CLASSIFY_UNSURE, "and is unsure");
	ok(res.cold_start, "cold start flagged");
	is_str(res.tokens_json, "[]", "no deciding tokens");
	classify_result_clear(&res);

	is_int(learn_many(c, NULL, true, 20, 0), 0, "learn 20 spam in memory");
	is_int(learn_many(c, NULL, false, 20, 100), 0, "learn 20 ham in memory");
	classifier_counts(c, NULL, &ns, &nh);
	ok(ns == 20 && nh == 20, "counts 20/20");
	is_int(classifier_score(c, NULL, &in, &res), 0, "score spammy text");
	ok(res.score >= s.spam_cutoff, "spammy text scores high (%g)", res.score);
	is_int(res.verdict, CLASSIFY_UNSURE, "but cold start (20 < 50) holds it as unsure");
	{
		json_t *j = json_loads(res.tokens_json, 0, NULL);
		json_t *first = json_array_get(j, 0);

		ok(json_is_array(j) && json_array_size(j) > 0 && json_array_size(j) <= s.why_tokens,
		   "tokens_json is a non-empty array of at most why_tokens");
		ok(json_is_string(json_object_get(first, "token")) &&
		       json_real_value(json_object_get(first, "p")) > 0.5,
		   "first deciding token has a text and a spammy p");
		json_decref(j);
	}
	classify_result_clear(&res);

	is_int(learn_many(c, NULL, true, 40, 200), 0, "learn 40 more spam");
	is_int(learn_many(c, NULL, false, 40, 300), 0, "learn 40 more ham");
	is_int(classifier_score(c, NULL, &in, &res), 0, "score spammy text again");
	ok(!res.cold_start, "past cold start");
	ok(res.verdict == CLASSIFY_SPAM || res.verdict == CLASSIFY_DISCARD,
	   "spammy text is spam or discard (%s, %g)", classify_verdict_name(res.verdict),
	   res.score);
	classify_result_clear(&res);
	in = input("interesting article thanks, I agree with the author's point");
	is_int(classifier_score(c, NULL, &in, &res), 0, "score hammy text");
	is_int(res.verdict, CLASSIFY_HAM, "hammy text is ham");
	ok(res.score < s.ham_cutoff, "hammy score below the ham cut-off (%g)", res.score);
	classify_result_clear(&res);
	in.honeypot_filled = true;
	is_int(classifier_score(c, NULL, &in, &res), 0, "score with honeypot");
	is_int(res.verdict, CLASSIFY_DISCARD, "filled honeypot discards a hammy text");
	classify_result_clear(&res);

	{
		pthread_t th[4];
		struct worker w = {c, 0};

		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, score_worker, &w);
		learn_many(c, NULL, true, 20, 400); /* writer while readers score */
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		is_int(w.failures, 0, "concurrent scoring while learning");
	}
	c = classifier_free(c);
	ok(c == NULL && classifier_free(NULL) == NULL, "classifier_free NULL-safe");
}

static void test_database(void)
{
	char path[400];
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL, *other = NULL;
	struct classify_input in;
	struct classify_result res;
	char *before, *after;
	double s1, s2;
	uint64_t ns, nh;

	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "c"));
	is_int(store_new(&st, path, 2), 0, "store with the classifier migration");
	conn = store_acquire(st);
	is_int(classifier_new(&c, NULL), 0, "classifier with defaults");

	/* ledger: learn once, twice, reverse, reverse back, forget */
	in = input("Win a FREE cruise, click http://promo.example.com now!!!");
	in.email = "secret.person@hidden-domain.example";
	in.author = "Promo Bot";
	in.ip = "203.0.113.9";
	before = snapshot(conn);
	store_begin(conn);
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM), 0, "learn spam");
	store_commit(conn);
	char *once = snapshot(conn);

	ok(count_tokens(conn) > 5, "tokens stored (%lld)", count_tokens(conn));
	store_begin(conn);
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM), CLASSIFY_ALREADY,
	       "learning the same message again is a no-op");
	store_commit(conn);
	after = snapshot(conn);
	is_str(after, once, "learn twice = learn once");
	free(after);
	store_begin(conn);
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_HAM), 0,
	       "reversed decision relearns as ham");
	store_commit(conn);
	classifier_counts(c, conn, &ns, &nh);
	ok(ns == 0 && nh == 1, "counts moved from spam to ham (%llu/%llu)", (unsigned long long)ns,
	   (unsigned long long)nh);
	store_begin(conn);
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM), 0,
	       "reversed back to spam");
	store_commit(conn);
	after = snapshot(conn);
	is_str(after, once, "reverse twice = original counts");
	free(after);
	store_begin(conn);
	is_int(classifier_forget(c, conn, "comment:1"), 0, "forget");
	is_int(classifier_forget(c, conn, "comment:1"), CLASSIFY_NOT_FOUND, "forget twice");
	store_commit(conn);
	after = snapshot(conn);
	is_str(after, before, "forget restores the empty model");
	is_int(count_tokens(conn), 0, "no zero-count token rows left");
	free(after);
	free(before);
	free(once);

	/* privacy: the address and its domain never reach the file in clear */
	store_begin(conn);
	classifier_learn(c, conn, "comment:2", &in, CLASSIFY_LABEL_SPAM);
	store_commit(conn);
	if (!store_postgresql(conn)) {
		char wal[420];

		snprintf(wal, sizeof(wal), "%s-wal", path);
		ok(!file_contains(path, "secret.person") && !file_contains(wal, "secret.person"),
		   "e-mail address not stored");
		ok(!file_contains(path, "hidden-domain") && !file_contains(wal, "hidden-domain"),
		   "e-mail domain not stored in clear");
		ok(!file_contains(wal, "Promo Bot") && !file_contains(wal, "promo bot"),
		   "author token not stored in clear");
	} else {
		/* PostgreSQL's files are the server's: every table's values. */
		char where[128];

		is_int(fixture_scan_tables(conn, "secret.person", 13, where, sizeof(where)), 0,
		       "e-mail address not stored (any table)");
		is_int(fixture_scan_tables(conn, "hidden-domain", 13, where, sizeof(where)), 0,
		       "e-mail domain not stored in clear (any table)");
		is_int(fixture_scan_tables(conn, "Promo Bot", 9, where, sizeof(where)) +
			   fixture_scan_tables(conn, "promo bot", 9, where, sizeof(where)),
		       0, "author token not stored in clear (any table)");
	}
	store_begin(conn);
	classifier_forget(c, conn, "comment:2");
	store_commit(conn);

	/* bulk learning in one transaction, cold start ends at 50/50 */
	store_begin(conn);
	is_int(learn_many(c, conn, true, 30, 0), 0, "bulk: 30 spam in one transaction");
	is_int(learn_many(c, conn, false, 30, 1000), 0, "bulk: 30 ham in the same transaction");
	is_int(store_commit(conn), 0, "commit");
	in = input("cheap pills casino bonus click free");
	is_int(classifier_score(c, conn, &in, &res), 0, "score after 30/30");
	ok(res.cold_start && res.verdict == CLASSIFY_UNSURE && res.score >= 0.9,
	   "cold start: high score (%g) held as unsure", res.score);
	classify_result_clear(&res);
	store_begin(conn);
	learn_many(c, conn, true, 20, 30);
	learn_many(c, conn, false, 20, 1030);
	store_commit(conn);
	is_int(classifier_score(c, conn, &in, &res), 0, "score after 50/50");
	ok(!res.cold_start && res.verdict >= CLASSIFY_SPAM, "now spam (%s, %g)",
	   classify_verdict_name(res.verdict), res.score);
	classify_result_clear(&res);

	/* a rolled-back learn leaves the model as it was */
	s1 = score_of(c, conn, "interesting article thanks");
	store_begin(conn);
	for (unsigned i = 0; i < 30; i++) {
		char key[32];
		struct classify_input bad = input("interesting article thanks");

		snprintf(key, sizeof(key), "rb:%u", i);
		classifier_learn(c, conn, key, &bad, CLASSIFY_LABEL_SPAM);
	}
	s2 = score_of(c, conn, "interesting article thanks");
	ok(s2 > s1, "inside the transaction the poisoning is visible (%g > %g)", s2, s1);
	store_rollback(conn);
	NEAR(score_of(c, conn, "interesting article thanks"), s1, "rollback: score as before");

	/* another process (here: another classifier) learns; we reload */
	{
		struct store_conn *conn2 = store_acquire(st);

		is_int(classifier_new(&other, NULL), 0, "second classifier on the same file");
		s1 = score_of(c, conn, "interesting article thanks");
		store_begin(conn2);
		for (unsigned i = 0; i < 30; i++) {
			char key[32];
			struct classify_input bad = input("interesting article thanks");

			snprintf(key, sizeof(key), "other:%u", i);
			classifier_learn(other, conn2, key, &bad, CLASSIFY_LABEL_SPAM);
		}
		store_commit(conn2);
		store_release(st, conn2);
		s2 = score_of(c, conn, "interesting article thanks");
		ok(s2 > s1, "a learn from another connection is seen (%g > %g)", s2, s1);
		other = classifier_free(other);
	}

	/* persistence across reopen */
	s1 = score_of(c, conn, "cheap pills casino bonus click free");
	classifier_counts(c, conn, &ns, &nh);
	store_release(st, conn);
	c = classifier_free(c);
	st = store_free(st);
	is_int(store_new(&st, path, 1), 0, "reopen");
	conn = store_acquire(st);
	is_int(classifier_new(&c, NULL), 0, "fresh classifier");
	s2 = score_of(c, conn, "cheap pills casino bonus click free");
	NEAR(s2, s1, "same score after reopening (%g)", s2);
	{
		uint64_t ns2, nh2;

		classifier_counts(c, conn, &ns2, &nh2);
		ok(ns2 == ns && nh2 == nh, "same counts after reopening (%llu/%llu)",
		   (unsigned long long)ns2, (unsigned long long)nh2);
	}
	store_begin(conn);
	is_int(classifier_learn(c, conn, "", &in, CLASSIFY_LABEL_SPAM), -EINVAL,
	       "empty message key refused");
	store_rollback(conn);
	store_release(st, conn);
	classifier_free(c);
	store_free(st);
}

/* The ledger blob of key equals bytes[0..len). */
static bool ledger_is(struct store_conn *conn, const char *key, const void *bytes, size_t len)
{
	struct store_stmt *q = NULL;
	bool same = false;

	if (!(q = store_stmt_new(conn, "SELECT tokens FROM classifier_learned WHERE msg_key = ?1")))
		return false;
	store_bind_text(q, 1, key);
	if (store_row(conn, q) == 1)
		same = store_col_bytes(q, 0) == len &&
		       (len == 0 || memcmp(store_col_blob(q, 0), bytes, len) == 0);
	store_stmt_free(q);
	return same;
}

static long long sql_int(struct store_conn *conn, const char *sql, long long arg)
{
	struct store_stmt *q = NULL;
	long long n = -1;

	if (!(q = store_stmt_new(conn, sql)))
		return -2;
	if (store_bind_count(q) >= 1)
		store_bind_int64(q, 1, arg);
	if (store_row(conn, q) == 1)
		n = store_col_int64(q, 0);
	store_stmt_free(q);
	return n;
}

/* classifier_learn_features: learning the features of a score is learning
 * the input; malformed blobs; relabelling.  classifier_prune. */
/* What the load of a model sees: the generation read through its own
 * connection before and after another connection commits a learning. */
struct meanwhile {
	struct classifier *writer;
	struct store_conn *other;
	int calls;
	int64_t before, inside, committed;
};

static int64_t generation_on(struct store_conn *conn)
{
	static const char sql[] = "SELECT generation FROM classifier_state WHERE id = 1";
	struct store_stmt *st = store_stmt(conn, sql);
	int64_t g = -1;

	return st && store_one_int64(conn, st, &g) == 1 ? g : -1;
}

/* classifier_test_loading's hook: at the first load, a learning of a spam
 * message committed on another connection. */
static int learn_meanwhile(struct store_conn *conn, void *arg)
{
	struct meanwhile *m = arg;
	struct classify_input in = input("Cheap replica watches and bags, visit the shop now");
	int r;

	if (m->calls++)
		return 0;
	m->before = generation_on(conn);
	r = store_begin(m->other);
	if (r == 0)
		r = classifier_learn(m->writer, m->other, "comment:meanwhile", &in,
				     CLASSIFY_LABEL_SPAM);
	if (r == 0)
		r = store_commit(m->other);
	else
		store_rollback(m->other);
	m->committed = generation_on(m->other);
	m->inside = generation_on(conn);
	return r;
}

/* The model is read in one snapshot (SQLite's read transaction; on
 * PostgreSQL REPEATABLE READ, not READ COMMITTED's snapshot per
 * statement): a learning committed while the model loads is not half in
 * it (state row before, tokens after), and the next refresh loads it. */
static void test_load_snapshot(void)
{
	struct store *st = NULL;
	struct store_conn *conn, *other;
	struct classifier *c = NULL, *writer = NULL;
	struct classify_input in = input("Thanks for the write-up, the second part helped a lot");
	struct meanwhile m = {0};
	uint64_t ns = 9, nh = 9;

	is_int(store_new(&st, fixture_db(&fx, "snapshot"), 2), 0, "a store of two connections");
	conn = store_acquire(st);
	other = store_acquire(st);
	classifier_new(&c, NULL);
	classifier_new(&writer, NULL);
	store_begin(other);
	is_int(classifier_learn(writer, other, "comment:first", &in, CLASSIFY_LABEL_HAM), 0,
	       "one ham message learned");
	store_commit(other);
	m.writer = writer;
	m.other = other;
	classifier_test_loading(c, learn_meanwhile, &m);
	is_int(classifier_counts(c, conn, &ns, &nh), 0, "the model loads while a spam is learned");
	is_int(m.calls, 1, "  the hook ran inside the load");
	ok(m.committed != m.before, "  the learning committed a new generation");
	ok(m.inside == m.before,
	   "  the load's own reads still see the generation it started with (one snapshot)");
	ok(ns == 0 && nh == 1, "  the model is the state before the learning (%llu/%llu)",
	   (unsigned long long)ns, (unsigned long long)nh);
	is_int(classifier_counts(c, conn, &ns, &nh), 0, "counts again");
	ok(ns == 1 && nh == 1, "  the next refresh loads the learning (%llu/%llu)",
	   (unsigned long long)ns, (unsigned long long)nh);
	is_int(m.calls, 2, "  in a second load");
	classifier_test_loading(c, NULL, NULL);
	classifier_free(c);
	classifier_free(writer);
	store_release(st, other);
	store_release(st, conn);
	store_free(st);
}

static void test_features_prune(void)
{
	char path[400];
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL;
	struct classify_input in;
	struct classify_result res;
	char *empty, *from_features, *from_input, *s;
	unsigned char *copy;
	uint64_t ns, nh;
	unsigned pruned = 12345;

	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "features"));
	is_int(store_new(&st, path, 1), 0, "features: a fresh store");
	conn = store_acquire(st);
	is_int(classifier_new(&c, NULL), 0, "features: a classifier");
	in = input("Great deals on replica watches at http://watches.example.com today");
	in.email = "someone@mail.example.net";
	in.author = "Deal Finder";
	in.url = "https://deals.example.org/";
	in.ip = "203.0.113.40";
	in.user_agent = "curl/8.0";
	in.referrer = "";
	in.thread = "/post/1";
	is_int(classifier_score(c, conn, &in, &res), 0, "score a submission");
	ok(res.features && res.features_len >= 8 * 10 && res.features_len % 8 == 0,
	   "its features: %zu bytes of 8-byte hashes", res.features_len);
	empty = snapshot(conn);

	store_begin(conn);
	is_int(classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
					 CLASSIFY_LABEL_SPAM),
	       0, "learn_features");
	from_features = snapshot(conn);
	ok(ledger_is(conn, "comment:1", res.features, res.features_len),
	   "the ledger holds exactly the features");
	store_rollback(conn);
	store_begin(conn);
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM), 0,
	       "learn the input instead");
	from_input = snapshot(conn);
	ok(ledger_is(conn, "comment:1", res.features, res.features_len),
	   "whose ledger entry is the same");
	store_rollback(conn);
	ok(strcmp(from_features, empty) != 0, "learning changed the model");
	is_str(from_features, from_input, "learning the features = learning the input");
	free(from_input);

	/* Idempotence and malformed blobs. */
	store_begin(conn);
	classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
				  CLASSIFY_LABEL_SPAM);
	is_int(classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
					 CLASSIFY_LABEL_SPAM),
	       CLASSIFY_ALREADY, "the same key and label again: CLASSIFY_ALREADY");
	is_int(classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM), CLASSIFY_ALREADY,
	       "and so is learning the input under that key");
	copy = calloc(1, res.features_len + 16);
	memcpy(copy, res.features, res.features_len);
	is_int(classifier_learn_features(c, conn, "comment:2", NULL, copy, 7, CLASSIFY_LABEL_SPAM),
	       1, "a 7-byte blob: 1");
	is_int(classifier_learn_features(c, conn, "comment:2", NULL, copy, res.features_len - 1,
					 CLASSIFY_LABEL_SPAM),
	       1, "one byte short: 1");
	is_int(classifier_learn_features(c, conn, "comment:2", NULL, copy, res.features_len + 1,
					 CLASSIFY_LABEL_HAM),
	       1, "one byte long: 1");
	is_int(classifier_learn_features(c, conn, "comment:1", NULL, copy, res.features_len + 3,
					 CLASSIFY_LABEL_HAM),
	       1, "a malformed relabel: 1");
	s = snapshot(conn);
	is_str(s, from_features, "malformed blobs change nothing");
	free(s);
	is_int(classifier_learn_features(c, NULL, "comment:2", NULL, copy, res.features_len,
					 CLASSIFY_LABEL_SPAM),
	       1, "without a connection: 1");
	free(copy);

	/* Relabelling unlearns first. */
	is_int(classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
					 CLASSIFY_LABEL_HAM),
	       0, "relabel as ham");
	classifier_counts(c, conn, &ns, &nh);
	ok(ns == 0 && nh == 1, "counts moved from spam to ham (%llu/%llu)", (unsigned long long)ns,
	   (unsigned long long)nh);
	from_input = snapshot(conn);
	store_rollback(conn);
	store_begin(conn);
	classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
				  CLASSIFY_LABEL_HAM);
	s = snapshot(conn);
	is_str(from_input, s, "spam then ham = ham alone");
	free(s);
	free(from_input);
	store_rollback(conn);
	store_begin(conn);
	classifier_learn(c, conn, "comment:1", &in, CLASSIFY_LABEL_SPAM);
	is_int(classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
					 CLASSIFY_LABEL_HAM),
	       0, "relabel an input-learned message from features");
	classifier_learn_features(c, conn, "comment:1", NULL, res.features, res.features_len,
				  CLASSIFY_LABEL_SPAM);
	s = snapshot(conn);
	is_str(s, from_features, "input spam, features ham, features spam = spam once");
	free(s);
	is_int(classifier_forget(c, conn, "comment:1"), 0, "forget a features-learned message");
	s = snapshot(conn);
	is_str(s, empty, "back to the empty model");
	free(s);
	store_rollback(conn);
	free(from_features);
	classify_result_clear(&res);

	/* Prune. */
	{
		static const char *const texts[] = {"alpha bravo charlie", "alpha bravo delta",
						    "alpha echo foxtrot"};
		long long now = (long long)time(NULL), total, want, gen0, gen1, recent;

		store_begin(conn);
		for (int i = 0; i < 3; i++) {
			char key[16];
			struct classify_input p = input(texts[i]);
			snprintf(key, sizeof(key), "p:%d", i);
			classifier_learn(c, conn, key, &p,
					 i == 2 ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM);
		}
		store_commit(conn);
		sql_int(conn, "UPDATE classifier_tokens SET last_seen = ?1", now - 1000);
		store_begin(conn);
		in = input("golf hotel india");
		classifier_learn(c, conn, "p:recent", &in, CLASSIFY_LABEL_HAM);
		store_commit(conn);
		total = count_tokens(conn);
		want = sql_int(conn,
			       "SELECT count(*) FROM classifier_tokens WHERE spam + ham <= 1 AND"
			       " last_seen < ?1",
			       now - 10);
		recent = sql_int(
		    conn, "SELECT count(*) FROM classifier_tokens WHERE last_seen >= ?1", now - 10);
		ok(want > 0 && recent > 0 && total > want + recent,
		   "prune: %lld tokens, %lld old and seen once, %lld recent", total, want, recent);
		gen0 = sql_int(conn, "SELECT generation FROM classifier_state", 0);

		store_begin(conn);
		is_int(classifier_prune(c, conn, now - 2000, &pruned), 0,
		       "prune before 2000 s ago");
		is_int(pruned, 0, "prunes nothing (no token is that old)");
		store_commit(conn);
		is_int(sql_int(conn, "SELECT generation FROM classifier_state", 0), gen0,
		       "and leaves the generation");

		store_begin(conn);
		classifier_prune(c, conn, now - 10, &pruned);
		store_rollback(conn);
		is_int(count_tokens(conn), total, "a rolled-back prune keeps every token");

		double before_score = score_of(c, conn, "alpha charlie");
		store_begin(conn);
		pruned = 12345;
		is_int(classifier_prune(c, conn, now - 10, &pruned), 0, "prune before 10 s ago");
		store_commit(conn);
		is_int(pruned, want, "counts the old tokens seen once");
		is_int(count_tokens(conn), total - want, "and deletes exactly those");
		is_int(sql_int(conn,
			       "SELECT count(*) FROM classifier_tokens WHERE spam + ham <= 1 AND"
			       " last_seen < ?1",
			       now - 10),
		       0, "no old single-message token left");
		is_int(sql_int(conn, "SELECT count(*) FROM classifier_tokens WHERE last_seen >= ?1",
			       now - 10),
		       recent, "recent tokens stay, even if seen once");
		gen1 = sql_int(conn, "SELECT generation FROM classifier_state", 0);
		ok(gen1 != gen0, "the generation changes so readers reload");
		ok(score_of(c, conn, "alpha charlie") != before_score,
		   "the cached model follows (score %g -> %g)", before_score,
		   score_of(c, conn, "alpha charlie"));
		classifier_counts(c, conn, &ns, &nh);
		ok(ns == 1 && nh == 3, "message counts are not changed by pruning");
		store_begin(conn);
		is_int(classifier_forget(c, conn, "p:2"), 0,
		       "forgetting a message whose tokens were pruned works");
		store_commit(conn);
		is_int(sql_int(conn,
			       "SELECT count(*) FROM classifier_tokens WHERE spam < 0 OR ham < 0",
			       0),
		       0, "and leaves no negative count");
		is_int(sql_int(conn,
			       "SELECT count(*) FROM classifier_tokens WHERE spam = 0 AND ham = 0",
			       0),
		       0, "nor empty rows");
	}

	free(empty);
	store_release(st, conn);
	classifier_free(c);
	store_free(st);
}

/* A small starter model: 100 spam and 100 ham messages. */
/* ---- learning and forgetting, row by row ---------------------------------
 * Messages with overlapping tokens (learned from features, so the hashes
 * are this test's: 64-bit extremes among them) are learned, relabelled,
 * moved between sites and forgotten in random orders; after every step
 * every row of the token and state tables is compared with counts kept
 * here, token by token as the ledger promises: a learning adds 1 to each
 * listed token (twice when listed twice) and stamps last_seen, an
 * unlearning subtracts (never below 0) and deletes the rows left at 0/0,
 * shared and per site. */

#define SET_U	   1100 /* hashes; the small messages draw from the first SET_POOL */
#define SET_POOL   40
#define SET_SMALL  12 /* messages 0..11; 12: 1024 tokens (a message's most); 13: the ledger's */
#define SET_MSGS   14
#define SET_LAYERS 3 /* the shared tables, site "alpha", site "beta" */

static const char *const set_site[SET_LAYERS] = {NULL, "alpha", "beta"};

struct xrow {
	bool live;
	int64_t spam, ham, stamp;
};

struct xcontent {
	unsigned n;
	unsigned idx[SET_U + 1];
};

struct xmsg {
	bool learned, spam;
	int layer;
	const struct xcontent *c;
};

struct xmodel {
	uint64_t u[SET_U];
	unsigned ord[SET_U]; /* indexes of u in the order of their int64 values */
	struct xcontent content[SET_MSGS];
	struct xrow row[SET_LAYERS][SET_U];
	int64_t nspam[SET_LAYERS], nham[SET_LAYERS];
	bool state[SET_LAYERS]; /* a site's state row exists */
	struct xmsg msg[SET_MSGS];
	int64_t event;			   /* the current step's stamp (negative) */
	unsigned clamped, zeroed, revived; /* what the steps went through */
	unsigned bad;			   /* mismatches seen */
};

static struct xmodel X;

static int cmp_ord(const void *a, const void *b)
{
	int64_t x = (int64_t)X.u[*(const unsigned *)a], y = (int64_t)X.u[*(const unsigned *)b];

	return x < y ? -1 : x > y;
}

/* The index of hash v in u, or -1. */
static int set_find(int64_t v)
{
	size_t lo = 0, hi = SET_U;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int64_t m = (int64_t)X.u[X.ord[mid]];

		if (m == v)
			return (int)X.ord[mid];
		if (m < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool set_init(void)
{
	static const uint64_t special[] = {0,
					   1,
					   2,
					   1ull << 53,
					   (1ull << 53) + 1,
					   (uint64_t)INT64_MAX,
					   1ull << 63,
					   (1ull << 63) + 1,
					   UINT64_MAX,
					   UINT64_MAX - 1,
					   12345678901234567891ull,
					   0xdeadbeefcafebabeull};
	const size_t ns = sizeof(special) / sizeof(*special);

	memset(&X, 0, sizeof(X));
	for (unsigned i = 0; i < SET_U; i++) {
		X.u[i] = i < ns ? special[i] : (rnd(2), rng); /* xorshift's whole state */
		X.ord[i] = i;
	}
	qsort(X.ord, SET_U, sizeof(*X.ord), cmp_ord);
	for (unsigned i = 1; i < SET_U; i++)
		if (X.u[X.ord[i]] == X.u[X.ord[i - 1]])
			return false;
	for (unsigned m = 0; m < SET_SMALL; m++) {
		struct xcontent *c = &X.content[m];
		bool used[SET_POOL] = {false};
		unsigned want = 1 + rnd(20);

		while (c->n < want) {
			unsigned k = rnd(SET_POOL);

			if (!used[k]) {
				used[k] = true;
				c->idx[c->n++] = k;
			}
		}
		if (m % 4 == 3) /* a features blob may list a hash twice */
			c->idx[c->n++] = c->idx[0];
	}
	for (unsigned i = 0; i < 1024; i++)
		X.content[SET_SMALL].idx[i] = 1023 - i;
	X.content[SET_SMALL].n = 1024;
	for (unsigned i = 0; i < SET_U; i++)
		X.content[SET_SMALL + 1].idx[i] = i;
	X.content[SET_SMALL + 1].idx[SET_U] = 5;
	X.content[SET_SMALL + 1].n = SET_U + 1;
	return true;
}

/* The model's side of learning (sign +1) or unlearning (-1) content c. */
static void set_apply(const struct xcontent *c, bool spam, int layer, int sign)
{
	int64_t ds = spam, dh = !spam;

	for (int l = 0; l < SET_LAYERS; l++) {
		if (l != 0 && l != layer)
			continue;
		for (unsigned i = 0; i < c->n; i++) {
			struct xrow *r = &X.row[l][c->idx[i]];

			if (sign > 0) {
				if (r->live && r->spam == 0 && r->ham == 0)
					X.revived++;
				if (!r->live)
					*r = (struct xrow){true, 0, 0, 0};
				r->spam += ds;
				r->ham += dh;
				r->stamp = X.event;
				continue;
			}
			if (!r->live)
				continue;
			X.clamped += r->spam < ds || r->ham < dh;
			r->spam = r->spam > ds ? r->spam - ds : 0;
			r->ham = r->ham > dh ? r->ham - dh : 0;
			if (r->spam == 0 && r->ham == 0) {
				r->live = false;
				X.zeroed++;
			}
		}
		if (l != 0 && !X.state[l]) {
			X.state[l] = true;
			X.nspam[l] = X.nham[l] = 0;
		}
		X.nspam[l] = X.nspam[l] + sign * ds > 0 ? X.nspam[l] + sign * ds : 0;
		X.nham[l] = X.nham[l] + sign * dh > 0 ? X.nham[l] + sign * dh : 0;
	}
}

static void set_mismatch(const char *what, long long a, long long b, long long c)
{
	if (X.bad++ < 8)
		diag("  step %lld: %s (%lld, %lld, %lld)", (long long)-X.event, what, a, b, c);
}

/* Every row of the four tables against the model. */
static void set_compare(struct store_conn *conn)
{
	struct store_stmt *q;
	unsigned rows[SET_LAYERS] = {0}, want[SET_LAYERS] = {0};

	q = store_stmt_new(conn, "SELECT hash, spam, ham, last_seen FROM classifier_tokens");
	while (q && store_row(conn, q) == 1) {
		int i = set_find(store_col_int64(q, 0));
		const struct xrow *r = i < 0 ? NULL : &X.row[0][i];

		rows[0]++;
		if (!r || !r->live || r->spam != store_col_int64(q, 1) ||
		    r->ham != store_col_int64(q, 2) || r->stamp != store_col_int64(q, 3))
			set_mismatch("shared row", store_col_int64(q, 0), store_col_int64(q, 1),
				     store_col_int64(q, 2));
	}
	store_stmt_free(q);
	q = store_stmt_new(conn, "SELECT site, hash, spam, ham FROM classifier_site_tokens");
	while (q && store_row(conn, q) == 1) {
		int l = strcmp(store_col_text(q, 0), "alpha") == 0  ? 1
			: strcmp(store_col_text(q, 0), "beta") == 0 ? 2
								    : 0;
		int i = set_find(store_col_int64(q, 1));
		const struct xrow *r = i < 0 || !l ? NULL : &X.row[l][i];

		rows[l]++;
		if (!r || !r->live || r->spam != store_col_int64(q, 2) ||
		    r->ham != store_col_int64(q, 3))
			set_mismatch("site row", l, store_col_int64(q, 1), store_col_int64(q, 2));
	}
	store_stmt_free(q);
	for (int l = 0; l < SET_LAYERS; l++)
		for (unsigned i = 0; i < SET_U; i++)
			want[l] += X.row[l][i].live;
	for (int l = 0; l < SET_LAYERS; l++)
		if (rows[l] != want[l])
			set_mismatch("row count", l, rows[l], want[l]);
	if (sql_int(conn, "SELECT nspam FROM classifier_state", 0) != X.nspam[0] ||
	    sql_int(conn, "SELECT nham FROM classifier_state", 0) != X.nham[0])
		set_mismatch("shared state", X.nspam[0], X.nham[0], 0);
	for (int l = 1; l < SET_LAYERS; l++) {
		struct store_stmt *s = store_stmt_new(
		    conn, "SELECT nspam, nham FROM classifier_site_state WHERE site = ?1");
		int found = s ? (store_bind_text(s, 1, set_site[l]), store_row(conn, s)) : -1;

		if (found != X.state[l] || (found == 1 && (store_col_int64(s, 0) != X.nspam[l] ||
							   store_col_int64(s, 1) != X.nham[l])))
			set_mismatch("site state", l, X.nspam[l], X.nham[l]);
		store_stmt_free(s);
	}
	if (sql_int(conn, "SELECT count(*) FROM classifier_site_state", 0) !=
	    X.state[1] + X.state[2])
		set_mismatch("site state rows", X.state[1], X.state[2], 0);
}

static unsigned char *set_blob(const struct xcontent *c)
{
	unsigned char *b = malloc(8 * c->n);

	for (unsigned i = 0; b && i < c->n; i++)
		for (int k = 0; k < 8; k++)
			b[8 * i + (unsigned)k] = (unsigned char)(X.u[c->idx[i]] >> (8 * k));
	return b;
}

/* One step, in a transaction of its own (all-or-nothing when whole);
 * returns what the classifier answered (the model expects want). */
static int set_learn(struct classifier *c, struct store_conn *conn, unsigned m,
		     const struct xcontent *content, bool spam, int layer, bool whole)
{
	char key[16];
	unsigned char *blob = set_blob(content);
	int r, want = 0;

	snprintf(key, sizeof(key), "set:%u", m);
	if (X.msg[m].learned && X.msg[m].spam == spam && X.msg[m].layer == layer) {
		want = CLASSIFY_ALREADY;
	} else {
		if (X.msg[m].learned)
			set_apply(X.msg[m].c, X.msg[m].spam, X.msg[m].layer, -1);
		set_apply(content, spam, layer, +1);
		X.msg[m].learned = true;
		X.msg[m].spam = spam;
		X.msg[m].layer = layer;
		X.msg[m].c = content;
	}
	(whole ? store_begin_whole : store_begin)(conn);
	r = classifier_learn_features(c, conn, key, set_site[layer], blob, 8 * content->n,
				      spam ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM);
	if (r == 0 || r == CLASSIFY_ALREADY)
		r = store_commit(conn) == 0 ? r : -EIO;
	else
		store_rollback(conn);
	free(blob);
	if (r != want)
		set_mismatch("learn answered", m, r, want);
	return r;
}

static int set_forget(struct classifier *c, struct store_conn *conn, unsigned m, bool whole)
{
	char key[16];
	int r, want = X.msg[m].learned ? 0 : CLASSIFY_NOT_FOUND;

	snprintf(key, sizeof(key), "set:%u", m);
	if (X.msg[m].learned)
		set_apply(X.msg[m].c, X.msg[m].spam, X.msg[m].layer, -1);
	X.msg[m].learned = false;
	(whole ? store_begin_whole : store_begin)(conn);
	r = classifier_forget(c, conn, key);
	if (r == 0 || r == CLASSIFY_NOT_FOUND)
		r = store_commit(conn) == 0 ? r : -EIO;
	else
		store_rollback(conn);
	if (r != want)
		set_mismatch("forget answered", m, r, want);
	return r;
}

/* The ledger row of a message of 1101 hashes (more than a learning can
 * list: written here), as if learned without counts. */
static void set_ledger(struct store_conn *conn, int layer)
{
	const struct xcontent *content = &X.content[SET_SMALL + 1];
	unsigned char *blob = set_blob(content);
	struct store_stmt *q =
	    store_stmt_new(conn, "INSERT INTO classifier_learned(msg_key, label, tokens, learned,"
				 " site) VALUES ('set:13', 'spam', ?1, 0, ?2)");

	if (!q || !blob)
		set_mismatch("ledger row", 0, 0, 0);
	store_bind_blob(q, 1, blob, 8 * content->n);
	store_bind_text(q, 2, set_site[layer]);
	if (q && store_run(conn, q, "test ledger") != 0)
		set_mismatch("ledger row written", 0, 0, 0);
	store_stmt_free(q);
	free(blob);
	X.msg[SET_SMALL + 1] = (struct xmsg){true, true, layer, content};
}

/* A count (what: 0 ham, 1 spam, 2 both) set to 0 behind the ledger's
 * back (as an older version or a hand could leave it): its next
 * subtraction would go below zero; a row at 0/0 stays until a
 * subtraction's clean-up sees it, or a learning counts it again. */
static void set_damage(struct store_conn *conn, int layer, unsigned i, unsigned what)
{
	static const char *const sql[2][3] = {
	    {"UPDATE classifier_tokens SET ham = 0 WHERE hash = ?1",
	     "UPDATE classifier_tokens SET spam = 0 WHERE hash = ?1",
	     "UPDATE classifier_tokens SET spam = 0, ham = 0 WHERE hash = ?1"},
	    {"UPDATE classifier_site_tokens SET ham = 0 WHERE hash = ?1 AND site = ?2",
	     "UPDATE classifier_site_tokens SET spam = 0 WHERE hash = ?1 AND site = ?2",
	     "UPDATE classifier_site_tokens SET spam = 0, ham = 0 WHERE hash = ?1 AND site = ?2"}};
	struct store_stmt *q;

	if (!X.row[layer][i].live)
		return;
	if (what != 0)
		X.row[layer][i].spam = 0;
	if (what != 1)
		X.row[layer][i].ham = 0;
	q = store_stmt_new(conn, sql[layer != 0][what]);
	if (q) {
		store_bind_int64(q, 1, (int64_t)X.u[i]);
		if (layer)
			store_bind_text(q, 2, set_site[layer]);
	}
	if (!q || store_run(conn, q, "test damage") != 0)
		set_mismatch("damage", layer, i, 0);
	store_stmt_free(q);
}

/* One random step of round. */
static void set_step(struct classifier *c, struct store_conn *conn, bool whole)
{
	unsigned p = rnd(100), m = rnd(SET_SMALL);
	int64_t g0 = generation_on(conn), t0 = (int64_t)time(NULL);
	bool moved = true;
	int r = 0;

	if (p < 4 && !X.msg[SET_SMALL + 1].learned) {
		set_ledger(conn, (int)rnd(SET_LAYERS));
		moved = false;
	} else if (p < 8) {
		r = set_learn(c, conn, p < 6 ? SET_SMALL : SET_SMALL + 1, &X.content[SET_SMALL],
			      rnd(2), (int)rnd(SET_LAYERS), whole);
	} else if (p < 55) {
		r = set_learn(c, conn, m, &X.content[m], rnd(2), (int)rnd(SET_LAYERS), whole);
	} else if (p < 85) {
		r = set_forget(c, conn, rnd(SET_MSGS), whole);
	} else {
		set_damage(conn, (int)rnd(SET_LAYERS), rnd(SET_POOL), rnd(3));
		moved = false;
	}
	moved = moved && r == 0;
	if ((generation_on(conn) != g0) != moved)
		set_mismatch("generation changed", moved, g0, generation_on(conn));
	/* last_seen: the rows this step learned get its stamp */
	{
		struct store_stmt *q = store_stmt_new(
		    conn, "UPDATE classifier_tokens SET last_seen = ?1 WHERE last_seen >= ?2");

		if (q) {
			store_bind_int64(q, 1, X.event);
			store_bind_int64(q, 2, t0);
		}
		if (!q || store_run(conn, q, "test stamp") != 0)
			set_mismatch("stamp", 0, 0, 0);
		store_stmt_free(q);
	}
	set_compare(conn);
	X.event--;
}

static void test_set_learning(void)
{
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL, *fresh = NULL;
	struct classify_learned lr;
	uint64_t ns = 0, nh = 0;
	unsigned char *blob;

	rng = 2026;
	if (!ok(set_init(), "set: %d distinct hashes", SET_U))
		return;
	is_int(store_new(&st, fixture_db(&fx, "setlearn"), 1), 0, "set: a fresh store");
	conn = store_acquire(st);
	classifier_new(&c, NULL);
	X.event = -1;
	blob = set_blob(&X.content[SET_SMALL + 1]);
	is_int(classifier_learn_features(c, conn, "set:13", NULL, blob,
					 8 * X.content[SET_SMALL + 1].n, CLASSIFY_LABEL_SPAM),
	       1, "set: a learning of more than %d hashes is refused", TOKENIZE_MAX_TOKENS);
	free(blob);
	for (int round = 0; round < 4; round++) {
		unsigned bad = X.bad;

		rng = 100 + (uint64_t)round;
		for (int i = 0; i < 60; i++)
			set_step(c, conn, round % 2);
		/* then everything forgotten, in an order of this round's */
		for (unsigned k = 0, first = rnd(SET_MSGS); k < SET_MSGS; k++) {
			int64_t g0 = generation_on(conn);
			unsigned m = (first + k * (round % 2 ? 1 : SET_MSGS - 1)) % SET_MSGS;
			bool was = X.msg[m].learned;

			set_forget(c, conn, m, round % 2 == 0);
			if ((generation_on(conn) != g0) != was)
				set_mismatch("generation at the end", m, was, 0);
			set_compare(conn);
			X.event--;
		}
		is_int(
		    X.bad - bad, 0,
		    "set: round %d, 60 random steps and all forgotten: every row as counted here",
		    round);
		classifier_new(&fresh, NULL);
		is_int(classifier_counts(fresh, conn, &ns, &nh), 0, "  a new classifier loads");
		ok((int64_t)ns == X.nspam[0] && (int64_t)nh == X.nham[0],
		   "  and counts %llu/%llu messages", (unsigned long long)ns,
		   (unsigned long long)nh);
		classifier_free(fresh);
		fresh = NULL;
		is_int(classifier_learned(c, conn, "alpha", &lr), 0, "  the learner refreshes");
		ok((int64_t)lr.own_spam == X.nspam[1] && (int64_t)lr.own_ham == X.nham[1] &&
		       (int64_t)lr.learned_spam == X.nspam[0] &&
		       (int64_t)lr.learned_ham == X.nham[0],
		   "  and sees alpha's own counts and the shared ones");
	}
	ok(X.clamped > 0, "set: subtractions that would go below zero: %u", X.clamped);
	ok(X.zeroed > 0, "set: rows deleted at 0/0: %u", X.zeroed);
	ok(X.revived > 0, "set: rows at 0/0 learned again: %u", X.revived);
	classifier_free(c);
	store_release(st, conn);
	store_free(st);
}

static const char small_model[] = "# test model\n"
				  "commentd-starter 1 %u\n"
				  "messages 100 100\n"
				  "80 2 casino\n"
				  "60 1 bonus\n"
				  "2 70 article\n"
				  "1 50 interesting\n";

static void test_starter_parse(void)
{
	char text[512], err[STARTER_ERR_MAX];
	struct starter *st = NULL;
	const struct starter *b;
	const char *tok;
	size_t len;
	uint32_t ns, nh, sp, hm;
	static const struct {
		unsigned format;
		const char *body;
	} bad[] = {
	    {1, "messages 10 10\n11 0 x\n"},	/* count above its total */
	    {1, "messages 10 10\n1 1\n"},	/* no token */
	    {1, "messages 10 0\n1 0 x\n"},	/* no ham */
	    {2, "messages 10 10\n1 0 x\n"},	/* another format */
	    {1, "1 0 x\n"},			/* no totals */
	    {1, "messages 10 10\n0 0 x\n"},	/* an empty record */
	    {1, "messages 10 10\n70000 0 x\n"}, /* over 16 bits */
	};

	snprintf(text, sizeof(text), small_model, TOKENIZE_VERSION);
	is_int(starter_parse(&st, text, strlen(text), err), 0, "a starter model parses");
	is_int((int)starter_size(st), 4, "four tokens");
	starter_totals(st, &ns, &nh);
	ok(ns == 100 && nh == 100, "totals 100 / 100");
	starter_token(st, 2, &tok, &len, &sp, &hm);
	ok(len == 7 && memcmp(tok, "article", 7) == 0 && sp == 2 && hm == 70, "third token");
	st = starter_free(st);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "commentd-starter %u %u\n%s", bad[i].format,
			 TOKENIZE_VERSION, bad[i].body);
		is_int(starter_parse(&st, text, strlen(text), err), 1,
		       "malformed model %zu refused", i);
		ok(strncmp(err, "line ", 5) == 0 || strstr(err, "messages"), "with a reason: %s",
		   err);
	}
	snprintf(text, sizeof(text), "commentd-starter 1 %u\nmessages 1 1\n1 0 x\n",
		 TOKENIZE_VERSION + 1);
	is_int(starter_parse(&st, text, strlen(text), err), 1,
	       "a model made for another tokenizer is refused");
	ok(strstr(err, "tools/build-starter.py") != NULL, "and the error says how to rebuild it");
	b = starter_builtin();
	ok(b && starter_size(b) > 1000, "the compiled-in model parses (%zu tokens)",
	   b ? starter_size(b) : 0);
	if (b) {
		starter_totals(b, &ns, &nh);
		ok(ns > 500 && nh > 500, "and was built from both classes (%u / %u)", ns, nh);
	}
}

static void test_starter_maths(void)
{
	struct classify_settings s;
	struct classify_counts k = {.sb = 30, .sg = 2, .snspam = 100, .snham = 100};
	double p, f;

	classify_settings_default(&s);
	s.starter_weight = 1000;
	NEAR(classify_token_prob_layered(&s, &k), classify_token_prob(&s, 30, 2, 100, 100),
	     "starter alone at full weight: f of its own counts");
	/* V = 50 of 100 messages: the rates stay, the evidence halves (16) */
	s.starter_weight = 50;
	p = 0.3 / (0.3 + 0.02);
	f = (s.robs * s.robx + 16 * p) / (s.robs + 16);
	NEAR(classify_token_prob_layered(&s, &k), f, "weight 50: evidence 16, same p");
	/* the site learned 500 / 500 and saw the token in 0 spam, 400 ham:
	 * spam rate (0 + 15) / 550, ham rate (400 + 1) / 550 */
	k.b = 0;
	k.g = 400;
	k.nspam = 500;
	k.nham = 500;
	p = (15.0 / 550) / (15.0 / 550 + 401.0 / 550);
	f = (s.robs * s.robx + 416 * p) / (s.robs + 416);
	NEAR(classify_token_prob_layered(&s, &k), f, "site counts update the starter's rates");
	ok(classify_token_prob_layered(&s, &k) < 0.1, "and outweigh it once the site learned more");
	k.sb = k.sg = 0;
	NEAR(classify_token_prob_layered(&s, &k), classify_token_prob(&s, 0, 400, 500, 500),
	     "a token the starter does not know: the site's counts alone");
}

static void test_starter_layering(void)
{
	char text[512], err[STARTER_ERR_MAX];
	struct starter *st = NULL;
	struct classifier *c = NULL;
	struct classify_settings s;
	struct classify_result res;
	struct classify_input in;
	struct classify_starter_info info;

	snprintf(text, sizeof(text), small_model, TOKENIZE_VERSION);
	if (starter_parse(&st, text, strlen(text), err) != 0) {
		ok(0, "small model: %s", err);
		return;
	}
	classify_settings_default(&s);
	is_int(classifier_new(&c, &s), 0, "classifier with the starter on");
	classifier_use_starter(c, st);
	classifier_starter_info(c, &info);
	ok(info.on && info.tokens == 4 && info.nspam == 100, "starter info");
	in = input("casino bonus tonight");
	is_int(classifier_score(c, NULL, &in, &res), 0, "score on day one");
	ok(res.score >= s.spam_cutoff, "the starter alone calls it spam (%g)", res.score);
	is_int(res.model, CLASSIFY_MODEL_STARTER, "the starter decided");
	ok(res.cold_start, "while the site has learned nothing (cold start)");
	is_int(res.verdict, CLASSIFY_UNSURE, "so spam is held, not filed");
	ok(strstr(res.tokens_json, "\"model\":\"starter\"") != NULL,
	   "the reasons name the starter");
	classify_result_clear(&res);
	in = input("interesting article");
	classifier_score(c, NULL, &in, &res);
	ok(res.verdict == CLASSIFY_HAM && res.model == CLASSIFY_MODEL_STARTER,
	   "a hammy text is ham on day one (%g)", res.score);
	classify_result_clear(&res);

	/* a casino-review blog: its readers write about casinos */
	for (unsigned i = 0; i < 300; i++) {
		char t[96];
		struct classify_input li;

		snprintf(t, sizeof(t), "casino review number %u, fair odds", i);
		li = input(t);
		classifier_learn(c, NULL, NULL, &li, CLASSIFY_LABEL_HAM);
		snprintf(t, sizeof(t), "cheap pills offer %u click", i);
		li = input(t);
		classifier_learn(c, NULL, NULL, &li, CLASSIFY_LABEL_SPAM);
	}
	in = input("casino");
	classifier_score(c, NULL, &in, &res);
	ok(res.score < s.ham_cutoff, "the site's learning outweighs the starter (%g)", res.score);
	is_int(res.model, CLASSIFY_MODEL_BOTH, "both models spoke");
	ok(!res.cold_start, "past the cold start");
	classify_result_clear(&res);

	s.starter = false;
	is_int(classifier_configure(c, &s), 0, "starter_model = off at a reload");
	in = input("bonus");
	classifier_score(c, NULL, &in, &res);
	ok(res.bayes == 0.5 && res.model == CLASSIFY_MODEL_NONE,
	   "without the starter a token only it knew has no evidence");
	classify_result_clear(&res);
	classifier_starter_info(c, &info);
	ok(!info.on && info.tokens == 0, "starter info says off");
	s.ham_cutoff = 0.99;
	s.spam_cutoff = 0.5;
	is_int(classifier_configure(c, &s), 1, "an invalid reload is refused");
	classifier_free(c);
	starter_free(st);
}

/* The cold-start rule as the publish decision (lib/submit) applies it. */
static enum comment_status decide(bool cold, bool starter, enum classify_verdict v)
{
	struct submit_decision d;

	memset(&d, 0, sizeof(d));
	d.facts = (struct submit_facts){.origin = SUBMIT_JSON,
					.moderation = MODERATION_NONE,
					.classified = true,
					.verdict = v,
					.cold_start = cold,
					.starter = starter,
					.max_links = 2};
	submit_rule(&d);
	return d.status;
}

static void test_cold_start_rule(void)
{
	is_int(decide(true, true, CLASSIFY_HAM), COMMENT_PUBLISHED,
	       "cold start, starter says ham: published");
	is_int(decide(true, true, CLASSIFY_UNSURE), COMMENT_PENDING,
	       "cold start, starter unsure: held");
	is_int(decide(true, true, CLASSIFY_SPAM), COMMENT_PENDING,
	       "cold start, starter says spam: held, not filed");
	is_int(decide(true, true, CLASSIFY_DISCARD), COMMENT_PENDING,
	       "cold start, starter says discard: held, not discarded");
	is_int(decide(true, false, CLASSIFY_UNSURE), COMMENT_PUBLISHED,
	       "cold start without the starter: doubt holds nothing");
	is_int(decide(true, false, CLASSIFY_SPAM), COMMENT_PENDING,
	       "but a score past spam_cutoff holds");
	is_int(decide(false, true, CLASSIFY_SPAM), COMMENT_SPAM,
	       "after the cold start spam is filed");
	is_int(decide(false, true, CLASSIFY_UNSURE), COMMENT_PENDING, "and doubt is held");
}

/* The other sites as a prior under a site's own counts (the maths). */
static void test_sites_maths(void)
{
	struct classify_settings s;
	struct classify_counts k = {.ob = 30, .og = 2, .onspam = 100, .onham = 100};
	double x, p, f;

	classify_settings_default(&s);
	x = classify_token_prob(&s, 30, 2, 100, 100);
	NEAR(classify_token_prob_layered(&s, &k), x, "a token only the other sites know: their f");
	/* the site's own 500 / 500 learned, the token in 0 spam and 40 ham */
	k.b = 0;
	k.g = 40;
	k.nspam = 500;
	k.nham = 500;
	f = (s.shared_strength * x + 40 * 0.0) / (s.shared_strength + 40);
	NEAR(classify_token_prob_layered(&s, &k), f,
	     "the site's own occurrences update the others' f, worth shared_strength of them");
	ok(x > 0.9 && f < 0.5, "so the site's moderators decide (%g -> %g)", x, f);
	k.g = 2;
	f = (s.shared_strength * x + 2 * 0.0) / (s.shared_strength + 2);
	NEAR(classify_token_prob_layered(&s, &k), f, "a few own occurrences");
	ok(f > 0.5, "do not yet outweigh the others (%g)", f);
	/* unequal class totals: p is the ratio of the site's own rates */
	k.b = 3;
	k.g = 1;
	k.nspam = 30;
	k.nham = 10;
	p = (3.0 / 30) / (3.0 / 30 + 1.0 / 10);
	f = (s.shared_strength * x + 4 * p) / (s.shared_strength + 4);
	NEAR(classify_token_prob_layered(&s, &k), f, "p from the site's own rates");
	s.shared_strength = 0;
	NEAR(classify_token_prob_layered(&s, &k), p, "shared_strength 0: the site's own p alone");
	/* the starter under the other sites: x is their f over it */
	classify_settings_default(&s);
	k = (struct classify_counts){.sb = 10,
				     .sg = 0,
				     .snspam = 100,
				     .snham = 100,
				     .ob = 0,
				     .og = 5,
				     .onspam = 50,
				     .onham = 50};
	{
		struct classify_counts o = {.b = 0,
					    .g = 5,
					    .nspam = 50,
					    .nham = 50,
					    .sb = 10,
					    .sg = 0,
					    .snspam = 100,
					    .snham = 100};
		NEAR(classify_token_prob_layered(&s, &k), classify_token_prob_layered(&s, &o),
		     "the others' f includes the starter beneath them");
	}
	k.ob = k.og = 0;
	k.b = 2;
	k.nspam = k.nham = 10;
	{
		struct classify_counts o = k;
		o.ob = o.og = o.onspam = o.onham = 0;
		NEAR(classify_token_prob_layered(&s, &k), classify_token_prob_layered(&s, &o),
		     "a token the others do not know: the site over the starter, as before sites");
	}
}

static double site_score(struct classifier *c, struct store_conn *conn, const char *site,
			 const char *text)
{
	struct classify_input in = input(text);
	double s = -1;

	in.site = site;
	if (classifier_score_only(c, conn, &in, &s) != 0)
		return -1;
	return s;
}

/* n messages "<words> <i>" of label, learned for site with keys
 * "<prefix>:<i>". */
static int learn_site(struct classifier *c, struct store_conn *conn, const char *site,
		      const char *prefix, const char *words, bool spam, unsigned n)
{
	char text[128], key[64];
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		struct classify_input in;

		snprintf(text, sizeof(text), "%s %u", words, i);
		in = input(text);
		in.site = site;
		snprintf(key, sizeof(key), "%s:%u", prefix, i);
		r = classifier_learn(c, conn, key, &in,
				     spam ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM);
	}
	return r;
}

/* One shared model, each site's own learning on top: a small site gains
 * from a big one's decisions, and its own moderators decide for it. */
static void test_sites_layering(void)
{
	char path[400];
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL;
	struct classify_learned l;
	struct classify_settings set;
	double big, small, small2, plain;
	struct classify_result res;
	struct classify_input in;

	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "sites"));
	if (store_new(&st, path, 1) != 0) {
		ok(0, "a store");
		return;
	}
	conn = store_acquire(st);
	classify_settings_default(&set);
	set.starter = false;
	classifier_new(&c, &set);

	/* The big blog: "recipe" comments are spam there. */
	store_begin(conn);
	is_int(learn_site(c, conn, "big", "b-s", "recipe cheap offer", true, 60), 0,
	       "big learns spam");
	is_int(learn_site(c, conn, "big", "b-h", "article nice post", false, 60), 0,
	       "big learns ham");
	store_commit(conn);
	is_int(sql_int(conn, "SELECT nspam FROM classifier_site_state WHERE site = 'big'", 0), 60,
	       "big's own counts are kept");
	is_int(sql_int(conn, "SELECT count(*) FROM classifier_learned WHERE site = 'big'", 0), 120,
	       "the ledger names the site");
	big = site_score(c, conn, "big", "recipe cheap offer");
	plain = site_score(c, conn, NULL, "recipe cheap offer");
	ok(big > 0.9, "big calls recipes spam (%g)", big);
	NEAR(big, plain, "a site that learned everything scores as the shared model alone");
	small = site_score(c, conn, "small", "recipe cheap offer");
	ok(small > 0.9, "a small blog that learned nothing gains from big's decisions (%g)", small);
	is_int(classifier_learned(c, conn, "small", &l), 0, "classifier_learned");
	ok(l.own_spam == 0 && l.own_ham == 0 && l.learned_spam == 60 && l.learned_ham == 60,
	   "small: nothing of its own; its cold start counts every site's learning");
	in = input("recipe cheap offer");
	in.site = "small";
	classifier_score(c, conn, &in, &res);
	ok(strstr(res.tokens_json, "\"shared_spam\"") != NULL,
	   "the reasons show the other sites' counts");
	ok(!res.cold_start, "the shared learning ends a new site's cold start");
	classify_result_clear(&res);

	/* small's moderators: recipes are welcome on a cooking blog. */
	store_begin(conn);
	is_int(learn_site(c, conn, "small", "s-h", "recipe nice post", false, 80), 0,
	       "small learns ham");
	is_int(learn_site(c, conn, "small", "s-s", "casino jackpot", true, 80), 0,
	       "and its own spam");
	store_commit(conn);
	small = site_score(c, conn, "small", "recipe");
	small2 = site_score(c, conn, "big", "recipe");
	ok(small < 0.5 && small2 > 0.9,
	   "small's own decisions outweigh big's: recipe %g on small, %g on big", small, small2);
	ok(site_score(c, conn, "big", "recipe cheap offer") > 0.9,
	   "while big still calls it spam (%g)", site_score(c, conn, "big", "recipe cheap offer"));

	/* Forgetting and relabelling go to the site that learned. */
	store_begin(conn);
	is_int(classifier_forget(c, conn, "s-h:0"), 0, "forget one of small's");
	store_commit(conn);
	is_int(sql_int(conn, "SELECT nham FROM classifier_site_state WHERE site = 'small'", 0), 79,
	       "small's own count went down");
	is_int(sql_int(conn, "SELECT nham FROM classifier_state", 0), 139,
	       "and the shared one with it");
	store_begin(conn);
	learn_site(c, conn, "small", "s-h", "recipe nice post", true, 1); /* s-h:0 as spam */
	in = input("recipe nice post 1");
	in.site = "small";
	is_int(classifier_learn(c, conn, "s-h:1", &in, CLASSIFY_LABEL_SPAM), 0, "relabel one");
	store_commit(conn);
	ok(sql_int(conn, "SELECT nspam FROM classifier_site_state WHERE site = 'small'", 0) == 82 &&
	       sql_int(conn, "SELECT nham FROM classifier_site_state WHERE site = 'small'", 0) ==
		   78,
	   "a relabel moves one message between small's classes");
	is_int(
	    sql_int(conn,
		    "SELECT count(*) FROM classifier_site_tokens s LEFT JOIN classifier_tokens t"
		    " ON t.hash = s.hash WHERE t.hash IS NULL OR s.spam > t.spam OR s.ham > t.ham",
		    0),
	    0, "a site's own counts never exceed the shared ones");

	/* In memory the same layering holds (the benchmark's). */
	{
		struct classifier *m = NULL;
		classifier_new(&m, &set);
		learn_site(m, NULL, "big", "x", "recipe cheap offer", true, 60);
		learn_site(m, NULL, "big", "y", "article nice post", false, 60);
		learn_site(m, NULL, "small", "z", "recipe nice post", false, 80);
		learn_site(m, NULL, "small", "w", "casino jackpot", true, 80);
		ok(site_score(m, NULL, "small", "recipe") < 0.5 &&
		       site_score(m, NULL, "big", "recipe") > 0.9,
		   "in memory: small's own decisions, big's own");
		ok(site_score(m, NULL, "new", "recipe cheap offer") > 0.5,
		   "a new site leans on the others (%g)",
		   site_score(m, NULL, "new", "recipe cheap offer"));
		classifier_free(m);
	}
	classifier_free(c);
	store_release(st, conn);
	store_free(st);
}

/* The score of text with its parts. */
static struct classify_result result_of(struct classifier *c, struct store_conn *conn,
					const char *text)
{
	struct classify_input in = input(text);
	struct classify_result res, copy;

	if (classifier_score(c, conn, &in, &res) != 0)
		memset(&res, 0, sizeof(res));
	copy = res;
	copy.features = NULL;
	copy.tokens_json = NULL;
	classify_result_clear(&res);
	return copy;
}

static void test_blend_scale(void)
{
	double prev = -1;
	bool monotone = true;

	NEAR(classify_blend_scale(0), 0, "blend scale: 0 stays 0");
	NEAR(classify_blend_scale(1), 1, "blend scale: 1 stays 1");
	NEAR(classify_blend_scale(CLASSIFY_BLEND_HAM), CLASSIFY_DEFAULT_HAM_CUTOFF,
	     "the blend's ham point lands on the ham cut-off");
	NEAR(classify_blend_scale(CLASSIFY_BLEND_SPAM), CLASSIFY_DEFAULT_SPAM_CUTOFF,
	     "the blend's spam point lands on the spam cut-off");
	NEAR(classify_blend_scale(CLASSIFY_BLEND_DISCARD), CLASSIFY_DEFAULT_DISCARD_CUTOFF,
	     "the blend's discard point lands on the discard cut-off");
	NEAR(classify_blend_scale(CLASSIFY_BLEND_HAM / 2), CLASSIFY_DEFAULT_HAM_CUTOFF / 2,
	     "linear between the points");
	for (int i = 0; i <= 1000; i++) {
		double v = classify_blend_scale(i / 1000.0);

		monotone = monotone && v > prev;
		prev = v;
	}
	ok(monotone, "blend scale is strictly increasing");
	NEAR(classify_blend_scale(-1), 0, "below 0 clamps");
	NEAR(classify_blend_scale(2), 1, "above 1 clamps");
}

/* Learns n spam and n ham synthetic messages into c (memory mode), in
 * blocks (all spam first) or interleaved. */
static void learn_set(struct classifier *c, unsigned n, bool blocks)
{
	char text[256];

	for (unsigned i = 0; i < 2 * n; i++) {
		bool spam = blocks ? i < n : i % 2 == 0;
		unsigned serial = blocks ? i % n : i / 2;
		struct classify_input in;

		rng = 1000 + 2 * serial + spam; /* the same text whatever the order */
		make_text(text, sizeof(text), spam, serial);
		in = input(text);
		classifier_learn(c, NULL, NULL, &in,
				 spam ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM);
	}
}

static void test_second_memory(void)
{
	struct classifier *a = NULL, *b = NULL, *off = NULL;
	struct classify_settings s;
	struct classify_result ra, rb, ro;
	const char *probe[] = {"cheap pills casino bonus click", "interesting article thanks",
			       "free crypto offer, reading the argument",
			       "question about the example n17"};
	bool same = true;

	classify_settings_default(&s);
	is_int(classifier_new(&a, &s), 0, "second opinion: a classifier");
	is_int(classifier_new(&b, &s), 0, "and another");
	learn_set(a, 20, true);
	ra = result_of(a, NULL, probe[0]);
	ok(!ra.blended && ra.score == ra.bayes,
	   "trained on 20 of each (< min_learned): the Bayesian score alone (%g)", ra.score);
	learn_set(a, 80, true);
	learn_set(b, 80, false);
	learn_set(b, 20, false);
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		ra = result_of(a, NULL, probe[i]);
		rb = result_of(b, NULL, probe[i]);
		same = same && ra.score == rb.score && ra.second == rb.second;
		if (ra.score != rb.score)
			diag("%s: %.17g vs %.17g", probe[i], ra.score, rb.score);
	}
	ok(same, "the same messages learned in blocks or interleaved give the same scores");
	ra = result_of(a, NULL, probe[0]);
	ok(ra.blended, "past min_learned of each class the second opinion counts");
	ok(ra.second > 0.9, "it calls spammy text spam (%g)", ra.second);
	NEAR(ra.score, classify_blend_scale(0.5 * ra.bayes + 0.5 * ra.second),
	     "score = the blend of both, on the Bayesian scale");
	ok(ra.verdict == CLASSIFY_SPAM || ra.verdict == CLASSIFY_DISCARD, "spam (%g)", ra.score);
	ra = result_of(a, NULL, probe[1]);
	ok(ra.second < 0.1 && ra.verdict == CLASSIFY_HAM, "hammy text: ham (%g, second %g)",
	   ra.score, ra.second);

	s.second_weight = 0;
	is_int(classifier_new(&off, &s), 0, "second_weight 0 turns it off");
	learn_set(off, 100, true);
	ro = result_of(off, NULL, probe[0]);
	ok(!ro.blended && ro.score == ro.bayes, "off: the Bayesian score alone");
	s.second_weight = 1;
	is_int(classifier_configure(off, &s), 1, "a weight of 1 is refused");
	s.second_weight = 0.5;
	s.second_epochs = 0;
	is_int(classifier_configure(off, &s), 1, "0 epochs are refused");
	classifier_free(a);
	classifier_free(b);
	classifier_free(off);
}

/* Learns the synthetic message serial (its text fixed by serial and label). */
static int learn_one(struct classifier *c, struct store_conn *conn, unsigned serial, bool spam,
		     enum classify_label label)
{
	char text[256], key[64];
	struct classify_input in;

	rng = 5000 + 2 * serial + spam;
	make_text(text, sizeof(text), spam, serial);
	in = input(text);
	snprintf(key, sizeof(key), "msg:%u:%d", serial, spam);
	return classifier_learn(c, conn, key, &in, label);
}

static void test_second_database(void)
{
	char path[400];
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL;
	struct classify_result r0, r1;
	const char *probe = "cheap casino offer, interesting point";
	int r = 0;

	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "second"));
	is_int(store_new(&st, path, 1), 0, "second opinion: a fresh store");
	conn = store_acquire(st);
	is_int(classifier_new(&c, NULL), 0, "a classifier");
	store_begin(conn);
	for (unsigned i = 0; i < 60 && r == 0; i++) {
		r = learn_one(c, conn, i, true, CLASSIFY_LABEL_SPAM);
		if (r == 0)
			r = learn_one(c, conn, i, false, CLASSIFY_LABEL_HAM);
	}
	is_int(r, 0, "learn 60 of each");
	store_commit(conn);
	r0 = result_of(c, conn, probe);
	ok(r0.blended, "trained from the ledger on load: the second opinion counts (%g/%g)",
	   r0.bayes, r0.second);

	/* a message learned and forgotten leaves no trace */
	store_begin(conn);
	is_int(learn_one(c, conn, 100, false, CLASSIFY_LABEL_SPAM), 0, "learn one more as spam");
	store_commit(conn);
	r1 = result_of(c, conn, probe);
	ok(r1.second != r0.second, "it changes the second opinion (%.17g)", r1.second);
	store_begin(conn);
	is_int(classifier_forget(c, conn, "msg:100:0"), 0, "forget it");
	store_commit(conn);
	r1 = result_of(c, conn, probe);
	ok(r1.second == r0.second && r1.score == r0.score,
	   "forget is exact: the same second opinion and score (%.17g)", r1.second);

	/* a reversal equals learning the other label in the first place */
	store_begin(conn);
	learn_one(c, conn, 101, true, CLASSIFY_LABEL_SPAM);
	is_int(learn_one(c, conn, 101, true, CLASSIFY_LABEL_HAM), 0, "reverse spam -> ham");
	store_commit(conn);
	r0 = result_of(c, conn, probe);
	store_begin(conn);
	classifier_forget(c, conn, "msg:101:1");
	learn_one(c, conn, 101, true, CLASSIFY_LABEL_HAM);
	store_commit(conn);
	r1 = result_of(c, conn, probe);
	ok(r1.second == r0.second && r1.score == r0.score,
	   "reversed = learned as ham directly (%.17g)", r1.second);
	store_release(st, conn);
	store_free(st);
	classifier_free(c);
}

/* Learns n messages of one distinct word each (spam for even i), so that
 * the model's table grows past several sizes in memory. */
static int learn_words(struct classifier *c, struct store_conn *conn, unsigned n)
{
	char text[32], key[32];
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		struct classify_input in;

		snprintf(text, sizeof(text), "zq%u", i);
		snprintf(key, sizeof(key), "word:%u", i);
		in = input(text);
		r = classifier_learn(c, conn, conn ? key : NULL, &in,
				     i % 2 ? CLASSIFY_LABEL_HAM : CLASSIFY_LABEL_SPAM);
	}
	return r;
}

/* How many of the n words are scored with the counts they were learned
 * with (one spam or one ham occurrence). */
static unsigned words_found(struct classifier *c, struct store_conn *conn, unsigned n)
{
	unsigned found = 0;

	for (unsigned i = 0; i < n; i++) {
		char text[32], want[64];
		struct classify_input in;
		struct classify_result res;

		snprintf(text, sizeof(text), "zq%u", i);
		snprintf(want, sizeof(want), "\"token\":\"zq%u\"", i);
		in = input(text);
		if (classifier_score(c, conn, &in, &res) != 0)
			continue;
		const char *t = res.tokens_json ? strstr(res.tokens_json, want) : NULL;

		if (t && strstr(t, i % 2 ? "\"spam\":0,\"ham\":1" : "\"spam\":1,\"ham\":0"))
			found++;
		else if (found + 3 > i)
			diag("zq%u: %s", i, res.tokens_json ? res.tokens_json : "(none)");
		classify_result_clear(&res);
	}
	return found;
}

/* The model's table is made just large enough (any size, not a power of
 * two) when loaded and doubles while learning in memory: every token stays
 * found across the growth and the wrap-around of its probe run. */
static void test_table_sizes(void)
{
	const unsigned n = 5000;
	char path[400];
	struct store *st = NULL;
	struct store_conn *conn;
	struct classifier *c = NULL, *fresh = NULL;

	is_int(classifier_new(&c, NULL), 0, "table sizes: a classifier in memory");
	is_int(learn_words(c, NULL, n), 0, "learn 5000 one-word messages");
	is_int((int)words_found(c, NULL, n), (int)n,
	       "every word keeps its counts as the table grows");
	classifier_free(c);

	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "sizes"));
	is_int(store_new(&st, path, 1), 0, "a fresh store");
	conn = store_acquire(st);
	is_int(classifier_new(&c, NULL), 0, "a classifier on it");
	store_begin(conn);
	is_int(learn_words(c, conn, n), 0, "learn them into the database");
	store_commit(conn);
	is_int(classifier_new(&fresh, NULL), 0, "another classifier loads them");
	is_int((int)words_found(fresh, conn, n), (int)n,
	       "every word is found in the table made for 5000 tokens");
	store_release(st, conn);
	store_free(st);
	classifier_free(c);
	classifier_free(fresh);
}

/* An e-mail address becomes a token only by its domain: the deciding tokens
 * are stored with each comment in readable form (and token hashes with
 * every learned one), so the rest of the address must never be a token. */
/* A memory classifier without the starter whose tokens_json reports every
 * token with evidence (the most it reports). */
static int why_classifier(struct classifier **c)
{
	struct classify_settings s;

	classify_settings_default(&s);
	s.starter = false;
	s.why_tokens = 64;
	return classifier_new(c, &s);
}

static void test_email_token(void)
{
	static const char email[] = "Private.Person@Example.org";
	struct classifier *c = NULL;
	struct classify_result res;
	struct classify_input in = input("Thanks for the article, well written");
	char key[32];

	if (!ok(why_classifier(&c) == 0, "email: a memory classifier"))
		return;
	in.email = email;
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "e:%d", i);
		classifier_learn(c, NULL, key, &in, CLASSIFY_LABEL_SPAM);
	}
	is_int(classifier_score(c, NULL, &in, &res), 0, "email: score a post from the address");
	if (!ok(res.tokens_json && strstr(res.tokens_json, "\"m:email:example.org\""),
		"the domain is a deciding token"))
		diag("tokens: %s", res.tokens_json ? res.tokens_json : "(none)");
	ok(res.tokens_json && !strcasestr(res.tokens_json, "private.person"),
	   "the rest of the address is none");
	classify_result_clear(&res);
	classifier_free(c);
}

/* A link to the commented page is one m:plink:page token, not the link's
 * own tokens; m:title: counts the page title's words in the text. */
static void test_page_tokens(void)
{
	struct classifier *c = NULL;
	struct classify_result res;
	struct classify_input in = input("Katy Perry - Roar: http://youtu.be/CevxZvSJLk8 love it");
	char key[32];

	if (!ok(why_classifier(&c) == 0, "page: a memory classifier"))
		return;
	in.site_host = "www.youtube.com";
	in.thread = "/watch?v=CevxZvSJLk8";
	in.page_title = "Katy Perry - Roar (Official)";
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "p:%d", i);
		classifier_learn(c, NULL, key, &in, CLASSIFY_LABEL_HAM);
	}
	in.text = "http://youtu.be/Different12 Katy Perry - Roar love it";
	is_int(classifier_score(c, NULL, &in, &res), 0, "page: score a link elsewhere");
	ok(res.tokens_json && strstr(res.tokens_json, "\"m:title:3+\"") &&
	       !strstr(res.tokens_json, "m:plink:"),
	   "title words counted (katy, perry, roar), no page link");
	ok(res.tokens_json && !strstr(res.tokens_json, "url:youtu.be"),
	   "the page's own link taught no link tokens");
	classify_result_clear(&res);
	in.text = "so good https://www.youtube.com/watch?v=CevxZvSJLk8&t=1m2s";
	in.page_title = NULL;
	is_int(classifier_score(c, NULL, &in, &res), 0, "page: score a link to the page");
	ok(res.tokens_json && strstr(res.tokens_json, "\"m:plink:page\"") &&
	       !strstr(res.tokens_json, "m:title:"),
	   "the page link is a deciding token; no title, no title token");
	if (!ok(res.score < 0.5, "a link to the page learned as ham scores as ham (%g)", res.score))
		diag("tokens: %s", res.tokens_json ? res.tokens_json : "(none)");
	classify_result_clear(&res);
	in.text = "Katy Perry - Roar love it";
	in.page_title = "Katy Perry - Roar (Official)";
	is_int(classifier_score(c, NULL, &in, &res), 0, "page: the title again");
	ok(res.tokens_json && strstr(res.tokens_json, "\"m:title:3+\""), "its words counted");
	classify_result_clear(&res);
	in.page_title = "Another Song, Entirely Fresh"; /* as long as the last title */
	is_int(classifier_score(c, NULL, &in, &res), 0, "page: another page's title");
	ok(res.tokens_json && !strstr(res.tokens_json, "m:title:3+"),
	   "the other title's words are counted, not the last one's");
	classify_result_clear(&res);
	classifier_free(c);
}

int main(void)
{
	if (fixture_tmpdir(&fx, "classify") != 0)
		return 1;
	test_maths();
	test_cutoffs();
	test_starter_parse();
	test_starter_maths();
	test_starter_layering();
	test_cold_start_rule();
	test_memory();
	test_email_token();
	test_page_tokens();
	test_database();
	test_load_snapshot();
	test_features_prune();
	test_set_learning();
	test_sites_maths();
	test_sites_layering();
	test_blend_scale();
	test_second_memory();
	test_second_database();
	test_table_sizes();
	fixture_close(&fx);
	return done_testing();
}
