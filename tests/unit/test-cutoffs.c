/* Unit tests for lib/cutoffs: the rule on made-up samples (a separable site
 * gets the widest published and filed bands its bounds allow, a noisy site
 * keeps the configured cut-offs, too few decisions learn nothing, the
 * margins are applied to the comment), and the sample from the database
 * (the site's own decided comments with their scores at submission). */
#include "tap.h"

#include "cutoffs.h"
#include "fixture.h"
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NEAR(got, want, ...) ok(fabs((got) - (want)) < 1e-9, __VA_ARGS__)

static struct cutoffs_sample v[4000];

static uint64_t rng = 7;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng % 1000000) / 1000000.0;
}

/* n spam then m ham, each score lo + (hi - lo) * uniform. */
static size_t fill(size_t n, double slo, double shi, size_t m, double hlo, double hhi)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		v[k++] = (struct cutoffs_sample){slo + (shi - slo) * uniform(), true};
	for (size_t i = 0; i < m; i++)
		v[k++] = (struct cutoffs_sample){hlo + (hhi - hlo) * uniform(), false};
	return k;
}

static void test_rule(void)
{
	struct cutoffs_rule rule;
	struct cutoffs co;
	size_t n;

	cutoffs_rule_default(&rule, 0.65, 0.99);
	NEAR(rule.ham_ceiling, CUTOFFS_HAM_CEILING, "the ham point's ceiling");
	NEAR(rule.spam_floor, CUTOFFS_SPAM_FLOOR, "the spam point's floor");

	/* Separable: spam scores 0.995-1, ham 0-0.3: both bands as wide as
	 * the bounds allow. */
	n = fill(200, 0.995, 1.0, 300, 0.0, 0.3);
	is_int(cutoffs_learn(&rule, v, n, &co), 0, "separable: learned");
	ok(co.learned, "separable: from the sample");
	NEAR(co.ham_cutoff, 0.80, "separable: ham point at the ceiling");
	NEAR(co.spam_cutoff, 0.95, "separable: spam point at the floor");
	is_int(co.nspam, 200, "200 spam in the sample");
	is_int(co.nham, 300, "300 ham in the sample");

	/* Noisy: spam and ham all over the scale: the configured cut-offs. */
	n = fill(500, 0.0, 1.0, 500, 0.0, 1.0);
	cutoffs_learn(&rule, v, n, &co);
	ok(co.learned, "noisy: learned from the sample");
	NEAR(co.ham_cutoff, 0.65, "noisy: ham cut-off stays 0.65");
	NEAR(co.spam_cutoff, 0.99, "noisy: spam cut-off stays 0.99");

	/* Too few of a class: nothing learned, however separable. */
	n = fill(CUTOFFS_MIN_EACH - 1, 0.995, 1.0, 300, 0.0, 0.3);
	cutoffs_learn(&rule, v, n, &co);
	ok(!co.learned, "49 spam: not learned");
	NEAR(co.ham_cutoff, 0.65, "49 spam: configured ham cut-off");
	NEAR(co.spam_cutoff, 0.99, "49 spam: configured spam cut-off");
	n = fill(300, 0.995, 1.0, CUTOFFS_MIN_EACH - 1, 0.0, 0.3);
	cutoffs_learn(&rule, v, n, &co);
	ok(!co.learned && co.spam_cutoff == 0.99, "49 ham: not learned");
	cutoffs_learn(&rule, v, 0, &co);
	ok(!co.learned && co.ham_cutoff == 0.65, "nothing decided: not learned");
}

/* The margins, to the comment: 1.25 % of spam under the ham point, 0.17 %
 * of ham at or over the spam point. */
static void test_margins(void)
{
	struct cutoffs_rule rule;
	struct cutoffs co;
	size_t n;

	cutoffs_rule_default(&rule, 0.65, 0.99);
	/* 100 spam: one may be published (1 % <= 1.25 %), not two. */
	n = fill(100, 0.999, 1.0, 1000, 0.0, 0.1);
	v[0].score = 0.70;
	v[1].score = 0.72;
	cutoffs_learn(&rule, v, n, &co);
	NEAR(co.ham_cutoff, 0.72, "ham point: the spam at 0.70 under it, the one at 0.72 not");
	/* 1000 ham: one may be filed (0.1 % <= 0.17 %), not two. */
	v[100].score = 0.97;
	v[101].score = 0.96;
	cutoffs_learn(&rule, v, n, &co);
	NEAR(co.spam_cutoff, 0.965, "spam point: the ham at 0.97 over it, the one at 0.96 not");
	/* a spam published at the configured point already: no wider band */
	v[2].score = 0.5;
	cutoffs_learn(&rule, v, n, &co);
	NEAR(co.ham_cutoff, 0.70, "one spam under 0.65 already: only up to the next");

	/* The configured points are bounds, also outside the defaults'. */
	cutoffs_rule_default(&rule, 0.85, 0.9);
	NEAR(rule.ham_ceiling, 0.85, "a configured ham point over the ceiling is the ceiling");
	NEAR(rule.spam_floor, 0.9, "a configured spam point under the floor is the floor");
	n = fill(200, 0.995, 1.0, 300, 0.0, 0.3);
	cutoffs_learn(&rule, v, n, &co);
	NEAR(co.ham_cutoff, 0.85, "never under the configured ham point");
	NEAR(co.spam_cutoff, 0.9, "never over the configured spam point");
	/* overlapping bounds: ham <= spam */
	rule.ham_ceiling = 0.97;
	rule.spam_floor = 0.9;
	cutoffs_learn(&rule, v, n, &co);
	ok(co.ham_cutoff <= co.spam_cutoff, "the ham point never passes the spam point");
}

static struct fixture fx;

static int64_t add_comment(const char *site, double score)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO comments (thread_id, depth, created, status, author, text, html, "
		 "avatar, score) SELECT id, 1, 0, 'pending', 'a', 't', 't', 'x', %.17g "
		 "FROM threads WHERE site = '%s'",
		 score, site);
	int64_t id = -1;

	if (store_exec(fx.conn, sql) != 0)
		return -1;
	/* the newest comment (store_last_id counts prepared INSERTs only) */
	store_one_int64(fx.conn, store_stmt(fx.conn, "SELECT max(id) FROM comments"), &id);
	return id;
}

/* A learned message with an empty token list, bound (an empty blob
 * literal is x'' in SQLite, '\x' in PostgreSQL). */
static int learned(int64_t id, const char *site, bool spam, int64_t when)
{
	struct store_stmt *st =
	    store_stmt(fx.conn, "INSERT INTO classifier_learned (msg_key, label, tokens, learned, "
				"site) VALUES (?1, ?2, ?3, ?4, ?5)");
	char key[64];

	if (!st)
		return -1;
	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, spam ? "spam" : "ham");
	store_bind_blob(st, 3, "", 0);
	store_bind_int64(st, 4, when);
	store_bind_text(st, 5, site);
	return store_run(fx.conn, st, "learned");
}

static void test_database(void)
{
	struct cutoffs_rule rule;
	struct cutoffs co;
	int bad = 0;

	if (fixture_open(&fx, "cutoffs") != 0) {
		ok(0, "fixture");
		return;
	}
	bad |= store_exec(fx.conn, "INSERT INTO threads (site, path, created) VALUES "
				   "('yt', '/a', 0), ('sms', '/b', 0)");
	/* yt: well separated; sms: spam all over the scale */
	for (int i = 0; i < 120 && !bad; i++) {
		bad |= learned(add_comment("yt", 0.995 + 0.004 * uniform()), "yt", true, i) != 0;
		bad |= learned(add_comment("yt", 0.2 * uniform()), "yt", false, i) != 0;
		bad |= learned(add_comment("sms", uniform()), "sms", true, i) != 0;
		bad |= learned(add_comment("sms", 0.2 * uniform()), "sms", false, i) != 0;
	}
	/* a comment decided without a score, and an Akismet message: no sample */
	bad |= store_exec(fx.conn, "UPDATE comments SET score = NULL WHERE id = 1");
	{
		struct store_stmt *st = store_stmt(
		    fx.conn,
		    "INSERT INTO classifier_learned (msg_key, label, tokens, learned, site) "
		    "VALUES ('akismet:x', 'spam', ?1, 5, 'yt')");
		if (st)
			store_bind_blob(st, 1, "", 0);
		bad |= !st || store_run(fx.conn, st, "akismet") != 0;
	}
	ok(!bad, "decided comments stored");
	cutoffs_rule_default(&rule, 0.65, 0.99);
	is_int(cutoffs_for_site(fx.conn, "yt", &rule, &co), 0, "yt: read");
	ok(co.learned, "yt: learned");
	is_int(co.nspam, 119, "yt: 119 spam with a score (one without, Akismet's not counted)");
	is_int(co.nham, 120, "yt: 120 ham");
	NEAR(co.ham_cutoff, 0.80, "yt: a wider published band");
	NEAR(co.spam_cutoff, 0.95, "yt: a wider filed band");
	is_int(cutoffs_for_site(fx.conn, "sms", &rule, &co), 0, "sms: read");
	ok(co.learned && co.nspam == 120, "sms: learned from its own 120 spam");
	NEAR(co.ham_cutoff, 0.65, "sms: spam that looks like ham keeps the ham cut-off");
	is_int(cutoffs_for_site(fx.conn, "new", &rule, &co), 0, "a new site: read");
	ok(!co.learned && co.ham_cutoff == 0.65 && co.spam_cutoff == 0.99,
	   "a new site: the configured cut-offs");
	/* The cache keeps a site's cut-offs until the classifier's generation
	 * (a new value on every learn or forget) or the bounds change. */
	struct cutoffs_cache *cache = NULL;
	struct cutoffs_rule narrow;
	int64_t generation = 1;

	is_int(cutoffs_cache_new(&cache), 0, "a cache");
	is_int(cutoffs_cached(cache, fx.conn, "yt", generation, &rule, &co), 0,
	       "yt through the cache");
	ok(co.learned && co.ham_cutoff == 0.80, "yt through the cache: learned");

	/* only the newest CUTOFFS_WINDOW count: a site that decided 2,000
	 * noisy comments after its separable ones keeps the defaults */
	store_exec(fx.conn, "BEGIN");
	for (int i = 0; i < CUTOFFS_WINDOW / 2; i++) {
		learned(add_comment("yt", uniform()), "yt", true, 1000 + i);
		learned(add_comment("yt", uniform()), "yt", false, 1000 + i);
	}
	store_exec(fx.conn, "COMMIT");
	cutoffs_for_site(fx.conn, "yt", &rule, &co);
	is_int(co.nspam + co.nham, CUTOFFS_WINDOW, "the sample is the newest 2,000");
	NEAR(co.ham_cutoff, 0.65, "yt after 2,000 noisy decisions: ham cut-off back to 0.65");
	NEAR(co.spam_cutoff, 0.99, "and the spam cut-off back to 0.99");

	/* rows written behind the classifier's back: the generation did not
	 * change, the cache answers as before */
	cutoffs_cached(cache, fx.conn, "yt", generation, &rule, &co);
	NEAR(co.ham_cutoff, 0.80, "cached until the generation changes");
	cutoffs_rule_default(&narrow, 0.7, 0.98);
	cutoffs_cached(cache, fx.conn, "yt", generation, &narrow, &co);
	ok(co.ham_cutoff == 0.7 && co.spam_cutoff == 0.98, "other bounds: read again");
	generation++; /* what learning or forgetting does */
	cutoffs_cached(cache, fx.conn, "yt", generation, &rule, &co);
	ok(co.ham_cutoff == 0.65 && co.spam_cutoff == 0.99, "a new generation: read again");
	cutoffs_cached(cache, fx.conn, "sms", generation, &rule, &co);
	ok(co.learned && co.nspam == 120, "another site has its own entry");
	cutoffs_cache_free(cache);
	fixture_close(&fx);
}

int main(void)
{
	test_rule();
	test_margins();
	test_database();
	return done_testing();
}
