/* classify: the Bayesian spam classifier (Robinson f(w) + Fisher combining).
 *
 * A submission is tokenized (lib/tokenize.h) into text tokens plus meta
 * tokens from its other fields; every distinct token is reduced to a 64-bit
 * keyed hash (SipHash-2-4, libsodium crypto_shorthash, key random per
 * database), so the database holds no token text: no author name, e-mail
 * domain or IP prefix is stored in clear by the classifier.
 *
 * Per token with b spam and g ham messages, N_s/N_h messages learned:
 *   p = (b/N_s) / (b/N_s + g/N_h),  f = (s*x + n*p) / (s + n),  n = b + g
 * Tokens with |f - 0.5| >= min_dev are kept, at most max_tokens strongest;
 * score = (1 + H - S) / 2 with H = C(-2 sum w ln f, 2 sum w),
 * S = C(-2 sum w ln(1-f), 2 sum w) and C the chi-square upper tail (for
 * non-integer degrees of freedom the regularised incomplete gamma Q), where
 * w = 1 for plain tokens, pair_weight for word pairs and gram_weight for
 * character 4-grams: those overlap the words they come from, and counting
 * them fully makes the score over-confident.  No kept token gives 0.5.
 *
 * The second opinion: a logistic regression over the same token hashes,
 * p = sigmoid(sum of the tokens' weights / sqrt(n)), trained whenever the
 * model is loaded on the learned messages (the ledger, newest first, up to
 * 2^18 token references) in an order keyed by their contents, so it depends
 * on the set of learned messages only: forget and reversal are exact and
 * nothing new is stored.  Once it was trained on min_learned messages of
 * each class the score is classify_blend_scale((1 - b) * bayes + b * p),
 * b = second_weight; before that, the Fisher score alone.
 *
 * Verdicts: score < ham_cutoff -> ham; >= discard_cutoff -> discard;
 * >= spam_cutoff -> spam; otherwise unsure.  A filled honeypot is always
 * discard.  Cold start: until min_learned spam AND min_learned ham messages
 * have been learned, spam and discard from the score alone become unsure.
 *
 * Sites: one classifier serves every site of a daemon.  The shared model
 * holds every site's learning; each site's own learning is also kept apart,
 * and a score for a site (classify_input.site) layers the site's own
 * learning over the other sites': for a token the other sites know,
 *   f = (S * x + n * p) / (S + n)
 * where x is the token's f from the other sites' counts (with the starter
 * under them), n and p the site's own occurrences and rate ratio, and
 * S = shared_strength: the others' opinion is worth S of the site's own
 * occurrences (Robinson's prior, with the other sites' f as the assumed
 * probability).  A token they do not know is scored from the site's own
 * counts over the starter, as above; so without a site, or for a site alone
 * on the daemon, nothing changes.  The cold start counts every site's
 * learning (a new site on a daemon whose filter has learned is not cold).
 *
 * Two modes:
 *   - with a store connection (conn != NULL): counts live in SQLite
 *     (schema/0002-classifier.sql).  The in-memory model is a cache of the
 *     committed tables, reloaded whenever classifier_state.generation (a new
 *     random value on every learn/forget) differs from the cached one, so
 *     learning from another process and rolled-back transactions stay
 *     consistent.  Learning writes only SQLite, inside the caller's
 *     transaction, with a ledger keyed by message so a message is counted at
 *     most once (the ledger stores the token hashes, so unlearning is exact).
 *   - in memory (conn == NULL, for evaluation and benchmarks): learning
 *     updates the model directly; there is no ledger.
 * Do not mix the modes on one classifier.
 *
 * Thread safety: classifier_score may run concurrently from many threads
 * (each with its own connection); learning with a connection may run
 * concurrently with scoring; in-memory learning takes the model's write lock.
 */
#ifndef COMMENTD_CLASSIFY_H
#define COMMENTD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_conn;
struct classifier;
struct starter;

enum {
	CLASSIFY_ALREADY = 1,	/* learn: the message is already learned with this label */
	CLASSIFY_NOT_FOUND = 2, /* forget: the message was never learned */
};

enum classify_verdict {
	CLASSIFY_HAM,	  /* publish */
	CLASSIFY_UNSURE,  /* hold for moderation */
	CLASSIFY_SPAM,	  /* keep in the spam folder */
	CLASSIFY_DISCARD, /* blatant: count, do not store */
};

enum classify_label {
	CLASSIFY_LABEL_HAM,
	CLASSIFY_LABEL_SPAM,
};

/* One submission.  Every field may be NULL = unknown (no token); an empty
 * string means "known to be absent" (e.g. referrer "" -> "m:ref:none"). */
struct classify_input {
	const char *text;
	const char *author;
	const char *email; /* raw; only its domain becomes a token; never stored */
	const char *url;   /* author's web site */
	const char *ip;
	const char *user_agent;
	const char *referrer;
	const char *site_host;	/* our host: on-site referrers; with thread, the page */
	const char *thread;	/* thread key (the page's path): "same text posted elsewhere";
				   links to the page itself (m:plink:page) */
	const char *page_title; /* the page's title as the widget sent it (m:title:); NULL or
				   empty: unknown */
	long render_seconds;	/* page render to submit; -1 unknown */
	bool honeypot_filled;
	const char *site; /* whose own learning layers over the shared model; NULL:
			     the shared model alone (at most CLASSIFY_SITE_MAX bytes) */
};

#define CLASSIFY_SITE_MAX	64
#define CLASSIFY_TITLE_MAX	1024 /* bytes of page_title read */
#define CLASSIFY_TITLE_WORD_MIN 4    /* code points of a title word that counts */

/* Whose counts the tokens that decided a score came from. */
enum classify_model {
	CLASSIFY_MODEL_NONE,	/* no token had evidence: the score is 0.5 */
	CLASSIFY_MODEL_STARTER, /* only the shipped starter model's */
	CLASSIFY_MODEL_SITE,	/* only the site's own learning */
	CLASSIFY_MODEL_BOTH,	/* both */
};

struct classify_result {
	double score;
	double bayes;  /* the Bayesian score alone */
	double second; /* the second opinion's probability of spam */
	bool blended;  /* score = classify_blend_scale((1 - second_weight) bayes +
			  second_weight second); else score = bayes (the second
			  opinion is off or trained on too little) */
	enum classify_verdict verdict;
	bool cold_start;	   /* the site itself has learned fewer than min_learned
				      messages of a class (the starter does not count) */
	enum classify_model model; /* whose evidence decided the score */
	unsigned char *features;   /* the submission's distinct token hashes (8 bytes
				      each, little-endian): what classifier_learn_features
				      takes to learn exactly what was scored; caller frees
				      (classify_result_clear) */
	size_t features_len;
	char *tokens_json; /* JSON array of deciding tokens, strongest first:
			      [{"token":"url:bit.ly","p":0.98,"spam":12,"ham":0},...]
			      caller frees (classify_result_clear) */
};

struct classify_settings {
	double ham_cutoff;	/* default CLASSIFY_DEFAULT_HAM_CUTOFF */
	double spam_cutoff;	/* default CLASSIFY_DEFAULT_SPAM_CUTOFF */
	double discard_cutoff;	/* default CLASSIFY_DEFAULT_DISCARD_CUTOFF; > 1 disables */
	unsigned min_learned;	/* cold-start count per class; default 50 */
	double robs, robx;	/* Robinson s and x */
	double min_dev;		/* tokens nearer 0.5 are ignored */
	unsigned max_tokens;	/* strongest tokens combined; default 150 */
	unsigned why_tokens;	/* tokens reported in tokens_json; default 8 */
	double pair_weight;	/* Fisher weight of a word-pair token, (0, 1] */
	double gram_weight;	/* Fisher weight of a character 4-gram token, (0, 1] */
	bool starter;		/* layer the starter model under the site's counts */
	double starter_weight;	/* the starter counts as at most this many messages of
				   each class (docs/classifier.md); >= 0 */
	double shared_strength; /* the other sites' f for a token is worth this many of a
				   site's own occurrences of it; >= 0 */
	double second_rate;	/* learning rate of the second opinion, (0, 100] */
	double second_weight;	/* its share of the score once it is trained on
				   min_learned of each class, [0, 1); 0 = off */
	unsigned second_epochs; /* its training passes, [1, 100] */
	bool learn_cutoffs;	/* not the classifier's: its callers (submit, stats)
				   narrow the cut-offs to what the site's own decided
				   comments support (lib/cutoffs.h); default on */
};

#define CLASSIFY_DEFAULT_HAM_CUTOFF	0.65
#define CLASSIFY_DEFAULT_SPAM_CUTOFF	0.99
#define CLASSIFY_DEFAULT_DISCARD_CUTOFF 0.9999
#define CLASSIFY_DEFAULT_MIN_LEARNED	50
/* Chosen on the benchmark corpora (docs/classifier.md); SpamBayes uses
 * 0.45 / 0.5 / 0.1. */
#define CLASSIFY_DEFAULT_ROBS	 1.0
#define CLASSIFY_DEFAULT_ROBX	 0.5
#define CLASSIFY_DEFAULT_MIN_DEV 0.05
/* Word pairs and character 4-grams overlap the words they come from; in the
 * combining they count as this fraction of a token (docs/classifier.md). */
#define CLASSIFY_DEFAULT_PAIR_WEIGHT 0.5
#define CLASSIFY_DEFAULT_GRAM_WEIGHT 0.25
/* The starter model is worth this many learned messages of each class: a
 * site that has learned as many outweighs it (docs/classifier.md). */
#define CLASSIFY_DEFAULT_STARTER_WEIGHT 200
/* The other sites' opinion of a token is worth this many of a site's own
 * occurrences of it: a site whose moderators have judged a token more often
 * decides it for itself (docs/classifier.md, "Sites"). */
#define CLASSIFY_DEFAULT_SHARED_STRENGTH 10

/* The second opinion (docs/classifier.md): logistic regression over the same
 * token hashes, trained on the learned messages (the ledger) whenever the
 * model is loaded; its probability counts for this share of the score once
 * it is trained on min_learned messages of each class. */
#define CLASSIFY_DEFAULT_SECOND_RATE   10.0
#define CLASSIFY_DEFAULT_SECOND_WEIGHT 0.5
#define CLASSIFY_DEFAULT_SECOND_EPOCHS 5
/* Where the blended score's own operating points lie (chosen on the
 * benchmark's inner folds, docs/classifier.md): classify_blend_scale maps
 * them onto the default ham, spam and discard cut-offs, so one set of
 * cut-offs serves the Bayesian score alone (cold start, day one) and the
 * blend. */
#define CLASSIFY_BLEND_HAM     0.37
#define CLASSIFY_BLEND_SPAM    0.925
#define CLASSIFY_BLEND_DISCARD 0.99

/* Fills s with the defaults above. */
void classify_settings_default(struct classify_settings *s);

/* Creates a classifier; settings NULL means defaults (copied).
 * 0, 1 if a setting is out of range, or negative on failure (logged). */
int classifier_new(struct classifier **out, const struct classify_settings *settings);

/* NULL-safe; returns NULL. */
struct classifier *classifier_free(struct classifier *c);

/* Replaces the settings (a configuration reload): cut-offs, min_learned, the
 * starter switch.  Scores already running keep the old ones.  0, or 1 if a
 * setting is out of range (nothing changed). */
int classifier_configure(struct classifier *c, const struct classify_settings *settings);

/* Uses s instead of the compiled-in starter model (commentctl --starter-file,
 * the benchmark, tests).  s must outlive c; NULL returns to the built-in one.
 * Call before the first score. */
void classifier_use_starter(struct classifier *c, const struct starter *s);

/* The starter model as the classifier uses it: whether it is on, its token
 * count and message totals (0 when off or unusable). */
struct classify_starter_info {
	bool on;
	size_t tokens;
	uint32_t nspam, nham;
};
void classifier_starter_info(struct classifier *c, struct classify_starter_info *out);

/* For tests: fn(conn, arg) runs inside each load of the shared model from
 * the database, in its read transaction, after the state row is read (a
 * test commits a learning on another connection there: the load must not
 * see it).  A non-zero result fails the load.  fn NULL: none. */
void classifier_test_loading(struct classifier *c, int (*fn)(struct store_conn *conn, void *arg),
			     void *arg);

/* Scores in and fills *out (caller clears it with classify_result_clear).
 * With conn, first refreshes the cached model if the database changed.
 * 0 or negative on failure (logged; *out is then zeroed). */
int classifier_score(struct classifier *c, struct store_conn *conn, const struct classify_input *in,
		     struct classify_result *out);

/* Like classifier_score but only the score (no verdict, no JSON, no dup
 * ring update): the fast path for evaluation.  0 or negative. */
int classifier_score_only(struct classifier *c, struct store_conn *conn,
			  const struct classify_input *in, double *score);

/* Frees out->tokens_json and zeroes *out.  NULL-safe. */
void classify_result_clear(struct classify_result *out);

/* Learns in as label, into the shared model and, with in->site, into that
 * site's own learning.  With conn it must be called inside the caller's
 * transaction (store_begin); message_key ("comment:17", a content hash; at
 * most 200 bytes) identifies the message: the same key and label again is a
 * no-op returning CLASSIFY_ALREADY; the other label unlearns the old counts
 * (from the site they were learned for) first.  Without conn, message_key
 * is ignored and counts go to memory.
 * 0, CLASSIFY_ALREADY, 1.. domain errors, or negative (logged; the caller
 * rolls back). */
int classifier_learn(struct classifier *c, struct store_conn *conn, const char *message_key,
		     const struct classify_input *in, enum classify_label label);

/* Like classifier_learn, from the features a score returned (so a comment is
 * learned as it was scored, with meta tokens such as the e-mail domain that
 * are not stored), for site (NULL: none).  Needs conn.  Same results as
 * classifier_learn; 1 if the blob is malformed. */
int classifier_learn_features(struct classifier *c, struct store_conn *conn,
			      const char *message_key, const char *site, const void *features,
			      size_t len, enum classify_label label);

/* Deletes tokens seen in at most one message and not learned since before
 * (Unix seconds), inside the caller's transaction; *pruned counts them.
 * 0 or negative. */
int classifier_prune(struct classifier *c, struct store_conn *conn, int64_t before,
		     unsigned *pruned);

/* Unlearns message_key (inside the caller's transaction).
 * 0, CLASSIFY_NOT_FOUND, or negative (logged). */
int classifier_forget(struct classifier *c, struct store_conn *conn, const char *message_key);

/* Messages learned per class as the model currently sees them (with conn:
 * refreshed from the database first): the shared model's, every site's
 * learning.  0 or negative. */
int classifier_counts(struct classifier *c, struct store_conn *conn, uint64_t *nspam,
		      uint64_t *nham);

/* What site has learned, per class: its own messages (own_*), and what
 * the cold start counts (learned_*: every site's, the shared model's).
 * site NULL: the shared model's counts for both.  0 or negative. */
struct classify_learned {
	uint64_t own_spam, own_ham;
	uint64_t learned_spam, learned_ham;
	int64_t generation; /* the shared model's (classifier_state.generation) */
};
int classifier_learned(struct classifier *c, struct store_conn *conn, const char *site,
		       struct classify_learned *out);

/* The verdict for a score under settings s (pure; for tests and callers that
 * re-derive verdicts after changing cut-offs). */
enum classify_verdict classify_verdict_for(const struct classify_settings *s, double score,
					   bool cold_start, bool honeypot);

/* "ham", "unsure", "spam" or "discard". */
const char *classify_verdict_name(enum classify_verdict v);

/* "none", "starter", "site" or "both". */
const char *classify_model_name(enum classify_model m);

/* ---- the maths, exposed for tests ---- */

/* Robinson f(w) for b spam / g ham occurrences out of nspam / nham. */
double classify_token_prob(const struct classify_settings *s, uint64_t b, uint64_t g,
			   uint64_t nspam, uint64_t nham);

/* One token's counts: the site's own (b, g of nspam, nham learned), the
 * starter's (sb, sg of snspam, snham) and the other sites' (ob, og of
 * onspam, onham). */
struct classify_counts {
	uint64_t b, g, nspam, nham;
	uint64_t sb, sg, snspam, snham;
	uint64_t ob, og, onspam, onham;
};

/* f(w) with the starter and the other sites as priors (docs/classifier.md).
 * Learning over the starter: where the starter knows the token, each
 * class's rate is (b + V*sb/snspam) / (nspam + V) with V =
 * min(starter_weight, snspam) (ham likewise), and the evidence n counts the
 * starter's V-weighted share; else as classify_token_prob.  Where the other
 * sites know the token (ob + og > 0), x is that f of their counts (ob, og
 * of onspam, onham) over the starter, and the result is
 * (shared_strength * x + n * p) / (shared_strength + n) with n = b + g and
 * p the site's own rate ratio (x when n is 0). */
double classify_token_prob_layered(const struct classify_settings *s,
				   const struct classify_counts *k);

/* The blended score x in [0, 1] on the scale of the Bayesian score: the
 * monotone piecewise-linear map through (0, 0), (CLASSIFY_BLEND_HAM, default
 * ham cut-off), (CLASSIFY_BLEND_SPAM, default spam cut-off),
 * (CLASSIFY_BLEND_DISCARD, default discard cut-off) and (1, 1). */
double classify_blend_scale(double x);

/* Upper tail of the chi-square distribution with 2*half_dof degrees of
 * freedom at x2. */
double classify_chi2q(double x2, unsigned half_dof);

/* Fisher/Robinson combined score of n token probabilities (each in (0,1));
 * 0.5 for n == 0. */
double classify_combine(const double *f, size_t n);

/* Like classify_combine with weight w[i] > 0 on token i: the chi-square sums
 * and degrees of freedom count token i w[i] times. */
double classify_combine_weighted(const double *f, const double *w, size_t n);

#endif
