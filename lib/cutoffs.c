#include "cutoffs.h"

#include "log.h"
#include "store.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cutoffs_rule_default(struct cutoffs_rule *r, double ham_cutoff, double spam_cutoff)
{
	*r = (struct cutoffs_rule){
	    .ham_cutoff = ham_cutoff,
	    .ham_ceiling = fmax(CUTOFFS_HAM_CEILING, ham_cutoff),
	    .spam_floor = fmin(CUTOFFS_SPAM_FLOOR, spam_cutoff),
	    .spam_cutoff = spam_cutoff,
	    .max_spam_published = CUTOFFS_MAX_SPAM_PUBLISHED,
	    .max_ham_rejected = CUTOFFS_MAX_HAM_REJECTED,
	    .min_each = CUTOFFS_MIN_EACH,
	};
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* How many of the n ascending values v are below x. */
static size_t count_below(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The grid point i steps from start (rounded: the grid's points print as
 * they are meant, 0.685 not 0.68500000000000005). */
static double grid(double start, int i)
{
	return round((start + i * CUTOFFS_STEP) * 1e6) / 1e6;
}

/* The highest grid point in [r->ham_cutoff, r->ham_ceiling] with at most
 * max_spam_published of the ascending spam scores under it. */
static double ham_point(const struct cutoffs_rule *r, const double *spam, size_t nspam)
{
	double best = r->ham_cutoff;

	for (int i = 1;; i++) {
		double x = grid(r->ham_cutoff, i);

		if (x > r->ham_ceiling + 1e-9 ||
		    (double)count_below(spam, nspam, x) > r->max_spam_published * (double)nspam)
			return best;
		best = x;
	}
}

/* The lowest grid point in [r->spam_floor, r->spam_cutoff] with at most
 * max_ham_rejected of the ascending ham scores at or over it. */
static double spam_point(const struct cutoffs_rule *r, const double *ham, size_t nham)
{
	double best = r->spam_cutoff;

	for (int i = 1;; i++) {
		double x = grid(r->spam_cutoff, -i);

		if (x < r->spam_floor - 1e-9 ||
		    (double)(nham - count_below(ham, nham, x)) > r->max_ham_rejected * (double)nham)
			return best;
		best = x;
	}
}

int cutoffs_learn(const struct cutoffs_rule *rule, const struct cutoffs_sample *v, size_t n,
		  struct cutoffs *out)
{
	double *spam, *ham;
	size_t ns = 0, nh = 0;

	*out = (struct cutoffs){rule->ham_cutoff, rule->spam_cutoff, false, 0, 0};
	for (size_t i = 0; i < n; i++) {
		ns += v[i].spam;
		nh += !v[i].spam;
	}
	out->nspam = (unsigned)ns;
	out->nham = (unsigned)nh;
	if (ns < rule->min_each || nh < rule->min_each || ns == 0 || nh == 0)
		return 0;
	spam = malloc(ns * sizeof(*spam));
	ham = malloc(nh * sizeof(*ham));
	if (!spam || !ham) {
		free(spam);
		free(ham);
		return -ENOMEM;
	}
	ns = nh = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].spam)
			spam[ns++] = v[i].score;
		else
			ham[nh++] = v[i].score;
	}
	qsort(spam, ns, sizeof(*spam), cmp_double);
	qsort(ham, nh, sizeof(*ham), cmp_double);
	out->ham_cutoff = ham_point(rule, spam, ns);
	out->spam_cutoff = spam_point(rule, ham, nh);
	if (out->ham_cutoff > out->spam_cutoff) /* bounds that overlap */
		out->ham_cutoff = out->spam_cutoff;
	out->learned = true;
	free(spam);
	free(ham);
	return 0;
}

/* The site's newest learned comments with the score each got when it was
 * submitted (scored before it was learned).  ?1 site, ?2 how many.  The
 * index classifier_learned_site answers it in its own order (ties of
 * learned by label and key), without a sort: about 1 ms for 2,000. */
/* Written for both engines (docs/postgresql-port.md): no GLOB, and the id
 * cast only from a "comment:" key (PostgreSQL's CAST refuses other text). */
static const char sql_sample[] =
    "SELECT c.score, l.label = 'spam' FROM classifier_learned AS l"
    " JOIN comments AS c ON c.id = CAST(CASE WHEN substr(l.msg_key, 1, 8) = 'comment:'"
    " THEN substr(l.msg_key, 9) END AS BIGINT)"
    " WHERE l.site = ?1 AND substr(l.msg_key, 1, 8) = 'comment:'"
    " AND substr(l.msg_key, 9, 1) BETWEEN '0' AND '9' AND c.score IS NOT NULL"
    " ORDER BY l.learned DESC LIMIT ?2";

int cutoffs_for_site(struct store_conn *c, const char *site, const struct cutoffs_rule *rule,
		     struct cutoffs *out)
{
	struct store_stmt *st = store_stmt(c, sql_sample);
	struct cutoffs_sample *v = malloc(CUTOFFS_WINDOW * sizeof(*v));
	size_t n = 0;
	int r = -ENOMEM;

	*out = (struct cutoffs){rule->ham_cutoff, rule->spam_cutoff, false, 0, 0};
	if (!v || !st) {
		free(v);
		return v ? -EIO : -ENOMEM;
	}
	store_bind_text(st, 1, site);
	store_bind_int64(st, 2, CUTOFFS_WINDOW);
	while (n < CUTOFFS_WINDOW && (r = store_row(c, st)) == 1) {
		v[n].score = store_col_double(st, 0);
		v[n++].spam = store_col_int(st, 1) != 0;
	}
	store_reset(st);
	if (r >= 0)
		r = cutoffs_learn(rule, v, n, out);
	else
		log_err("cutoffs: cannot read the decided comments of site %s", site);
	free(v);
	return r;
}

/* ---- the cache ---------------------------------------------------------- */

struct cached {
	char site[CUTOFFS_SITE_MAX + 1];
	int64_t generation;
	double ham_cutoff, spam_cutoff; /* the bounds it was learned within */
	struct cutoffs co;
};

struct cutoffs_cache {
	pthread_mutex_t lock;
	struct cached *v;
	size_t n;
};

int cutoffs_cache_new(struct cutoffs_cache **out)
{
	struct cutoffs_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return -ENOMEM;
	pthread_mutex_init(&cache->lock, NULL);
	*out = cache;
	return 0;
}

struct cutoffs_cache *cutoffs_cache_free(struct cutoffs_cache *cache)
{
	if (!cache)
		return NULL;
	pthread_mutex_destroy(&cache->lock);
	free(cache->v);
	free(cache);
	return NULL;
}

/* The entry of site under cache->lock, added if missing; NULL on OOM. */
static struct cached *cache_entry(struct cutoffs_cache *cache, const char *site)
{
	struct cached *grown;

	for (size_t i = 0; i < cache->n; i++)
		if (strcmp(cache->v[i].site, site) == 0)
			return &cache->v[i];
	grown = realloc(cache->v, (cache->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	cache->v = grown;
	memset(&grown[cache->n], 0, sizeof(*grown));
	snprintf(grown[cache->n].site, sizeof(grown->site), "%s", site);
	grown[cache->n].generation = INT64_MIN;
	return &grown[cache->n++];
}

int cutoffs_cached(struct cutoffs_cache *cache, struct store_conn *c, const char *site,
		   int64_t generation, const struct cutoffs_rule *rule, struct cutoffs *out)
{
	struct cached *e;
	bool hit = false;
	int r;

	if (!cache || !site || strlen(site) > CUTOFFS_SITE_MAX)
		return cutoffs_for_site(c, site, rule, out);
	pthread_mutex_lock(&cache->lock);
	e = cache_entry(cache, site);
	if (e && e->generation == generation && e->ham_cutoff == rule->ham_cutoff &&
	    e->spam_cutoff == rule->spam_cutoff) {
		*out = e->co;
		hit = true;
	}
	pthread_mutex_unlock(&cache->lock);
	if (hit)
		return 0;
	r = cutoffs_for_site(c, site, rule, out);
	if (r < 0)
		return r;
	pthread_mutex_lock(&cache->lock);
	e = cache_entry(cache, site);
	if (e)
		*e = (struct cached){.generation = generation,
				     .ham_cutoff = rule->ham_cutoff,
				     .spam_cutoff = rule->spam_cutoff,
				     .co = *out};
	if (e)
		snprintf(e->site, sizeof(e->site), "%s", site);
	pthread_mutex_unlock(&cache->lock);
	return 0;
}
