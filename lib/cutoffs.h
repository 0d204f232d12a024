/* cutoffs: a site's cut-offs learned from its own moderators' decisions.
 *
 * One set of cut-offs for every site is a compromise: a site whose spam and
 * ham the filter tells apart well (short YouTube-like comments, where most
 * of the queue is spam scored just under spam_cutoff) could publish and
 * file more on its own, while a site whose spam looks like its ham
 * (SMS-like chat) cannot.  So each site's configured ham_cutoff and
 * spam_cutoff are its bounds, and the band between them narrows where the
 * site's own decided comments show it is safe:
 *
 *   - the sample: the site's newest CUTOFFS_WINDOW learned comments (the
 *     ledger, label as the moderators decided), each with the score it got
 *     when it was submitted, before it was learned: an out-of-sample score,
 *     what the filter really did on that site;
 *   - the ham point: the highest point of a 0.005 grid in [ham_cutoff,
 *     ham_ceiling] below which at most max_spam_published of the sample's
 *     spam scored (default 1.25 %, half the 2.5 % the project allows);
 *   - the spam point: the lowest point of the grid in [spam_floor,
 *     spam_cutoff] at or above which at most max_ham_rejected of the
 *     sample's ham scored (default 0.17 %, a third of the 0.5 % allowed);
 *   - fewer than min_each decided comments of a class: the configured
 *     cut-offs (nothing learned).
 * The learned cut-offs never leave the bounds, so a site's queue can only
 * shrink towards what its own data supports (docs/classifier.md, "Cut-offs
 * learned per site"). */
#ifndef COMMENTD_CUTOFFS_H
#define COMMENTD_CUTOFFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_conn;

#define CUTOFFS_WINDOW		   2000
#define CUTOFFS_MIN_EACH	   50
#define CUTOFFS_HAM_CEILING	   0.80
#define CUTOFFS_SPAM_FLOOR	   0.95
#define CUTOFFS_MAX_SPAM_PUBLISHED 0.0125
#define CUTOFFS_MAX_HAM_REJECTED   0.0017
#define CUTOFFS_STEP		   0.005
#define CUTOFFS_SITE_MAX	   64 /* a site id (CONFIG_SITE_ID_MAX) */

struct cutoffs_rule {
	double ham_cutoff, ham_ceiling; /* the ham point's bounds */
	double spam_floor, spam_cutoff; /* the spam point's bounds */
	double max_spam_published;	/* of the sample's spam, under the ham point */
	double max_ham_rejected;	/* of the sample's ham, at or over the spam point */
	unsigned min_each;		/* decided comments of each class first */
};

/* One decided comment: its score before it was learned, and the label. */
struct cutoffs_sample {
	double score;
	bool spam;
};

struct cutoffs {
	double ham_cutoff, spam_cutoff; /* the effective cut-offs */
	bool learned;			/* from the sample; false: the configured ones */
	unsigned nspam, nham;		/* the sample */
};

/* The default rule around the configured cut-offs: ceiling and floor as
 * above, widened to the configured points where those lie outside them. */
void cutoffs_rule_default(struct cutoffs_rule *r, double ham_cutoff, double spam_cutoff);

/* Applies rule to the n samples v (pure; v is not changed).  Always fills
 * *out; 0, or -ENOMEM (then *out holds the configured cut-offs). */
int cutoffs_learn(const struct cutoffs_rule *rule, const struct cutoffs_sample *v, size_t n,
		  struct cutoffs *out);

/* The learned cut-offs of site from the database: the sample is its newest
 * CUTOFFS_WINDOW learned comments with the score each got when submitted.
 * Fills *out; 0 or negative (then *out holds the configured cut-offs). */
int cutoffs_for_site(struct store_conn *c, const char *site, const struct cutoffs_rule *rule,
		     struct cutoffs *out);

/* The learned cut-offs per site, kept until the classifier learns or forgets
 * (classifier_state.generation changes) or the bounds change: a comment is
 * then scored without reading 2,000 rows.  The caller passes the generation
 * its score was made at (classify_learned.generation), so the cache reads
 * nothing itself.  Thread-safe. */
struct cutoffs_cache;

/* 0 or -ENOMEM. */
int cutoffs_cache_new(struct cutoffs_cache **out);

/* NULL-safe; returns NULL. */
struct cutoffs_cache *cutoffs_cache_free(struct cutoffs_cache *cache);

/* cutoffs_for_site through cache (NULL: read every time), valid while the
 * classifier is at generation.  0 or negative (then *out holds the
 * configured cut-offs). */
int cutoffs_cached(struct cutoffs_cache *cache, struct store_conn *c, const char *site,
		   int64_t generation, const struct cutoffs_rule *rule, struct cutoffs *out);

#endif
