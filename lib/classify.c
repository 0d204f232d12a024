#include "classify.h"

#include "log.h"
#include "starter.h"
#include "store.h"
#include "tokenize.h"
#include "tokentab.h"

#include <errno.h>
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_MAX      16   /* idle tokenizers kept */
#define RING_SIZE     1024 /* recent (text, thread) pairs for the duplicate token */
#define DUP_MIN_BYTES 24   /* shorter texts ("thanks!") are legitimately repeated */
#define MAX_KEY_BYTES 200
#define MAX_HASHES    (TOKENIZE_MAX_TOKENS)
/* The second opinion trains on the newest learned messages up to this many
 * token references (4 bytes each while training). */
#define SECOND_MAX_REFS (1u << 18)

/* ---- in-memory model: a table of token hashes (lib/tokentab.h) -------- */

/* At most 3 of 4 slots used (tokentab.h): the hashes are keyed SipHash,
 * uniform, so a probe run stays short (2.5 slots for a hit, 8.5 for a miss
 * on average at the fullest), and a table of a million-comment site's
 * 377,000 tokens takes 5.8 MiB at 12 bytes a slot (RSS budget,
 * docs/performance.md).  A loaded table is made just large enough (any
 * size: a token's first slot is its hash modulo the size). */

/* A token's value: the spam and ham counts (20 bits each, saturating) and
 * the second opinion's weight (24-bit fixed point, 1/2^16 steps, +-128). */
#define COUNT_MAX    ((1u << 20) - 1)
#define WEIGHT_SCALE 65536.0
#define WEIGHT_MAX   ((1 << 23) - 1)

static uint32_t entry_spam(uint64_t v)
{
	return (uint32_t)(v & COUNT_MAX);
}

static uint32_t entry_ham(uint64_t v)
{
	return (uint32_t)((v >> 20) & COUNT_MAX);
}

static double entry_weight(uint64_t v)
{
	int32_t q = (int32_t)(uint32_t)(v >> 40);

	if (q & (1 << 23)) /* sign-extend 24 bits */
		q -= 1 << 24;
	return q / WEIGHT_SCALE;
}

static uint64_t entry_value(uint32_t spam, uint32_t ham, double w)
{
	double q = w * WEIGHT_SCALE;
	int32_t qi = q > WEIGHT_MAX    ? WEIGHT_MAX
		     : q < -WEIGHT_MAX ? -WEIGHT_MAX
				       : (int32_t)lrint(q);

	return (uint64_t)(spam > COUNT_MAX ? COUNT_MAX : spam) |
	       (uint64_t)(ham > COUNT_MAX ? COUNT_MAX : ham) << 20 |
	       (uint64_t)((uint32_t)qi & 0xFFFFFFu) << 40;
}

struct model {
	struct tokentab *t;
	uint64_t nspam, nham;
	uint64_t second_nspam; /* messages the second opinion was trained on */
	uint64_t second_nham;
	int64_t generation;
};

/* A model for want tokens; growable (memory mode) when it learns as it goes,
 * else made for its final size. */
static struct model *model_new(size_t want, bool growable)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (tokentab_new(&m->t, want, growable) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

static struct model *model_free(struct model *m)
{
	if (m) {
		tokentab_free(m->t);
		free(m);
	}
	return NULL;
}

/* h's value in *v: true, or false (and *v = 0) when m does not hold h. */
static bool model_get(const struct model *m, uint64_t h, uint64_t *v)
{
	size_t i = tokentab_find(m->t, h);

	*v = i == TOKENTAB_NONE ? 0 : tokentab_value(m->t, i);
	return i != TOKENTAB_NONE;
}

/* Adds (or for negative deltas subtracts, saturating at 0) counts for h.
 * Entries that reach 0/0 stay as zero counts (harmless, as in a fresh load
 * they would be absent).  0, or negative (a full table made for its final
 * size: -ENOSPC). */
static int model_add(struct model *m, uint64_t h, int64_t ds, int64_t dh)
{
	size_t i;
	int r;

	if (ds <= 0 && dh <= 0 && tokentab_find(m->t, h) == TOKENTAB_NONE)
		return 0;
	r = tokentab_add(m->t, h, &i);
	if (r < 0)
		return r;
	uint64_t v = tokentab_value(m->t, i);
	int64_t s = (int64_t)entry_spam(v) + ds, g = (int64_t)entry_ham(v) + dh;

	tokentab_set(m->t, i,
		     entry_value(s < 0		 ? 0
				 : s > COUNT_MAX ? COUNT_MAX
						 : (uint32_t)s,
				 g < 0		 ? 0
				 : g > COUNT_MAX ? COUNT_MAX
						 : (uint32_t)g,
				 entry_weight(v)));
	return 0;
}

/* ---- the second opinion: logistic regression over the token hashes ----- */

/* The learned messages the second opinion is trained on: each message a
 * run of slot indexes into the model's table. */
struct tmsg {
	uint64_t key;	  /* order key: a hash of the message's tokens */
	uint32_t off, n;  /* its run in ref */
	uint32_t ntokens; /* its distinct tokens (features are 1/sqrt of it) */
	bool spam;
};

struct trainset {
	uint32_t *ref; /* slot indexes */
	size_t nref, capref;
	struct tmsg *msg;
	size_t nmsg, capmsg;
};

static void trainset_clear(struct trainset *ts)
{
	free(ts->ref);
	free(ts->msg);
	memset(ts, 0, sizeof(*ts));
}

static int grow(void **p, size_t *cap, size_t want, size_t size, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *q;

	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Appends a message of n distinct token hashes h, each resolved to its slot
 * in m (tokens m does not hold, pruned ones, are left out).  0, 1 if the
 * set already holds SECOND_MAX_REFS references, or -ENOMEM. */
static int trainset_add(struct trainset *ts, const struct model *m, const uint64_t *h, size_t n,
			bool spam)
{
	uint64_t key = 0x9E3779B97F4A7C15ULL;
	uint32_t got = 0;

	if (ts->nref + n > SECOND_MAX_REFS)
		return 1;
	if (grow((void **)&ts->ref, &ts->capref, ts->nref + n, sizeof(*ts->ref), 4096) < 0 ||
	    grow((void **)&ts->msg, &ts->capmsg, ts->nmsg + 1, sizeof(*ts->msg), 256) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t slot = tokentab_find(m->t, h[i]);

		key = (key ^ h[i]) * 0x100000001B3ULL;
		if (slot != TOKENTAB_NONE)
			ts->ref[ts->nref + got++] = (uint32_t)slot;
	}
	ts->msg[ts->nmsg++] = (struct tmsg){key, (uint32_t)ts->nref, got, (uint32_t)n, spam};
	ts->nref += got;
	return 0;
}

/* Memory mode: every learned message's token hashes, in learning order. */
struct hashlog {
	uint64_t *h;
	size_t nh, caph;
	struct hmsg {
		size_t off;
		uint32_t n;
		bool spam;
	} * msg;
	size_t nmsg, capmsg;
};

static void hashlog_clear(struct hashlog *l)
{
	free(l->h);
	free(l->msg);
	memset(l, 0, sizeof(*l));
}

static int hashlog_add(struct hashlog *l, const uint64_t *h, size_t n, bool spam)
{
	if (grow((void **)&l->h, &l->caph, l->nh + n, sizeof(*l->h), 4096) < 0 ||
	    grow((void **)&l->msg, &l->capmsg, l->nmsg + 1, sizeof(*l->msg), 256) < 0)
		return -ENOMEM;
	memcpy(l->h + l->nh, h, n * sizeof(*h));
	l->msg[l->nmsg++] = (struct hmsg){l->nh, (uint32_t)n, spam};
	l->nh += n;
	return 0;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

struct order {
	uint64_t key;
	uint32_t msg;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->msg < y->msg ? -1 : x->msg > y->msg;
}

/* Trains the model's weights on ts, whose refs are slot indexes of m:
 * logistic regression without a bias, each of a message's n tokens a
 * feature of value 1/sqrt(n), the two classes weighted to count equally,
 * epochs passes of stochastic gradient descent with rate/(1 + epoch).  The order of every pass is a
 * shuffle keyed by the messages' contents, so the weights depend on the set of learned messages,
 * not on the order they were learned in.  0 or -ENOMEM. */
static int second_train(struct model *m, const struct trainset *ts, double rate, unsigned epochs)
{
	struct order *ord = malloc((ts->nmsg ? ts->nmsg : 1) * sizeof(*ord));
	size_t cap = tokentab_cap(m->t);
	float *w = calloc(cap, sizeof(*w)); /* the weights while training */

	if (!ord || !w) {
		free(ord);
		free(w);
		return -ENOMEM;
	}
	m->second_nspam = m->second_nham = 0;
	for (size_t i = 0; i < ts->nmsg; i++) {
		m->second_nspam += ts->msg[i].spam;
		m->second_nham += !ts->msg[i].spam;
	}
	/* each class weighs half, however unbalanced the learned messages */
	double nall = (double)(m->second_nspam + m->second_nham);
	double wspam = m->second_nspam ? nall / (2.0 * (double)m->second_nspam) : 1;
	double wham = m->second_nham ? nall / (2.0 * (double)m->second_nham) : 1;

	for (unsigned ep = 0; ep < epochs; ep++) {
		double eta = rate / (1 + ep);

		for (size_t i = 0; i < ts->nmsg; i++)
			ord[i] = (struct order){mix64(ts->msg[i].key + ep), (uint32_t)i};
		qsort(ord, ts->nmsg, sizeof(*ord), cmp_order);
		for (size_t j = 0; j < ts->nmsg; j++) {
			const struct tmsg *msg = &ts->msg[ord[j].msg];
			const uint32_t *ref = ts->ref + msg->off;
			double x = msg->ntokens ? 1 / sqrt((double)msg->ntokens) : 0, z = 0, g;

			for (uint32_t k = 0; k < msg->n; k++)
				z += w[ref[k]];
			g = eta * (msg->spam ? wspam : wham) *
			    ((msg->spam ? 1.0 : 0.0) - 1 / (1 + exp(-z * x))) * x;
			for (uint32_t k = 0; k < msg->n; k++)
				w[ref[k]] = (float)(w[ref[k]] + g);
		}
	}
	for (size_t i = 0; i < cap; i++) {
		if (!tokentab_used(m->t, i))
			continue;
		uint64_t v = tokentab_value(m->t, i);

		tokentab_set(m->t, i, entry_value(entry_spam(v), entry_ham(v), w[i]));
	}
	free(ord);
	free(w);
	return 0;
}

/* ---- starter table: the starter model in the database's hash space ----- */

/* 8 bytes a token: the high 32 bits of the token's hash (its low bits are
 * the slot) and 16-bit counts.  A false match needs equal slots and equal
 * high bits: about one lookup in 2^32 finds a wrong starter token. */
struct sentry {
	uint32_t fp; /* 0 = empty slot */
	uint16_t spam, ham;
};

struct stable {
	struct sentry *e;
	size_t mask, n;
	uint32_t nspam, nham;
};

static uint32_t stable_fp(uint64_t h)
{
	uint32_t fp = (uint32_t)(h >> 32);

	return fp ? fp : 1;
}

static struct stable *stable_free(struct stable *t)
{
	if (t) {
		free(t->e);
		free(t);
	}
	return NULL;
}

static const struct sentry *stable_get(const struct stable *t, uint64_t h)
{
	uint32_t fp = stable_fp(h);

	for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
		if (t->e[i].fp == fp)
			return &t->e[i];
		if (t->e[i].fp == 0)
			return NULL;
	}
}

/* ---- classifier -------------------------------------------------------- */

struct dup_entry {
	uint64_t text, thread;
};

/* One site's own learning: a model of its counts (with conn: mirroring
 * classifier_site_tokens at the shared model's generation). */
struct site_model {
	char site[CLASSIFY_SITE_MAX + 1];
	struct model *m; /* NULL when shared: every message learned is this site's */
	bool shared;	 /* then the shared model is the site's own */
	int64_t generation;
};

struct classifier {
	struct classify_settings set;
	pthread_rwlock_t lock; /* model pointer and, in memory mode, its contents */
	struct model *model;
	bool loaded;		     /* with conn: model mirrors a database generation */
	bool have_key;		     /* key read from the database */
	pthread_mutex_t reload_lock; /* one reload at a time */
	unsigned char key[crypto_shorthash_KEYBYTES];
	pthread_mutex_t pool_lock;
	unsigned n_pool;
	struct tokenizer *pool[POOL_MAX];
	pthread_mutex_t ring_lock;
	unsigned ring_pos;
	struct dup_entry ring[RING_SIZE];
	struct hashlog mem_learned;	      /* memory mode: what was learned */
	bool mem_dirty;			      /* memory mode: weights not trained yet */
	const struct starter *custom_starter; /* instead of the built-in model */
	struct stable *stable;		      /* under lock; NULL until needed */
	bool stable_db_key;		      /* stable was hashed with the db's key */
	struct site_model *sites;	      /* under lock: the sites' own models */
	size_t n_sites;
	int (*loading)(struct store_conn *conn, void *arg); /* classifier_test_loading */
	void *loading_arg;
};

/* a token hash and the index of its text in the tokenizer list */
struct thash {
	uint64_t h;
	unsigned idx;
};

void classify_settings_default(struct classify_settings *s)
{
	*s = (struct classify_settings){
	    .ham_cutoff = CLASSIFY_DEFAULT_HAM_CUTOFF,
	    .spam_cutoff = CLASSIFY_DEFAULT_SPAM_CUTOFF,
	    .discard_cutoff = CLASSIFY_DEFAULT_DISCARD_CUTOFF,
	    .min_learned = CLASSIFY_DEFAULT_MIN_LEARNED,
	    .robs = CLASSIFY_DEFAULT_ROBS,
	    .robx = CLASSIFY_DEFAULT_ROBX,
	    .min_dev = CLASSIFY_DEFAULT_MIN_DEV,
	    .max_tokens = 150,
	    .why_tokens = 8,
	    .pair_weight = CLASSIFY_DEFAULT_PAIR_WEIGHT,
	    .gram_weight = CLASSIFY_DEFAULT_GRAM_WEIGHT,
	    .starter = true,
	    .starter_weight = CLASSIFY_DEFAULT_STARTER_WEIGHT,
	    .shared_strength = CLASSIFY_DEFAULT_SHARED_STRENGTH,
	    .second_rate = CLASSIFY_DEFAULT_SECOND_RATE,
	    .second_weight = CLASSIFY_DEFAULT_SECOND_WEIGHT,
	    .second_epochs = CLASSIFY_DEFAULT_SECOND_EPOCHS,
	    .learn_cutoffs = true,
	};
}

static bool settings_valid(const struct classify_settings *s)
{
	return s->ham_cutoff >= 0 && s->ham_cutoff <= s->spam_cutoff && s->spam_cutoff <= 1 &&
	       s->discard_cutoff >= s->spam_cutoff && s->robs > 0 && s->robx > 0 && s->robx < 1 &&
	       s->min_dev >= 0 && s->min_dev < 0.5 && s->max_tokens >= 1 &&
	       s->max_tokens <= MAX_HASHES && s->why_tokens <= 64 && s->pair_weight > 0 &&
	       s->pair_weight <= 1 && s->gram_weight > 0 && s->gram_weight <= 1 &&
	       s->starter_weight >= 0 && s->starter_weight <= 1e9 && s->shared_strength >= 0 &&
	       s->shared_strength <= 1e9 && s->second_rate > 0 && s->second_rate <= 100 &&
	       s->second_weight >= 0 && s->second_weight < 1 && s->second_epochs >= 1 &&
	       s->second_epochs <= 100;
}

int classifier_new(struct classifier **out, const struct classify_settings *settings)
{
	struct classifier *c;

	if (sodium_init() < 0) {
		log_err("classify: libsodium failed to initialise");
		return -EIO;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (settings)
		c->set = *settings;
	else
		classify_settings_default(&c->set);
	if (!settings_valid(&c->set)) {
		free(c);
		return 1;
	}
	c->model = model_new(0, true);
	if (!c->model) {
		free(c);
		return -ENOMEM;
	}
	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->reload_lock, NULL);
	pthread_mutex_init(&c->pool_lock, NULL);
	pthread_mutex_init(&c->ring_lock, NULL);
	/* memory mode hashes with an all-zero key (deterministic); a database
	 * brings its own random key on first use */
	*out = c;
	return 0;
}

struct classifier *classifier_free(struct classifier *c)
{
	if (!c)
		return NULL;
	for (unsigned i = 0; i < c->n_pool; i++)
		tokenizer_free(c->pool[i]);
	model_free(c->model);
	hashlog_clear(&c->mem_learned);
	for (size_t i = 0; i < c->n_sites; i++)
		model_free(c->sites[i].m);
	free(c->sites);
	stable_free(c->stable);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->reload_lock);
	pthread_mutex_destroy(&c->pool_lock);
	pthread_mutex_destroy(&c->ring_lock);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
	return NULL;
}

static int pool_get(struct classifier *c, struct tokenizer **out)
{
	struct tokenizer *t = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool)
		t = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->pool_lock);
	if (!t) {
		int r = tokenizer_new(&t);

		if (r < 0)
			return r;
	}
	tokenizer_reset(t);
	*out = t;
	return 0;
}

static void pool_put(struct classifier *c, struct tokenizer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool < POOL_MAX) {
		c->pool[c->n_pool++] = t;
		t = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	tokenizer_free(t);
}

static uint64_t hash_bytes(const struct classifier *c, const void *p, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h = 0;

	crypto_shorthash(out, p, len, c->key);
	for (int i = 7; i >= 0; i--)
		h = (h << 8) | out[i];
	return h ? h : 1; /* 0 marks an empty slot */
}

/* ---- the starter model ------------------------------------------------- */

int classifier_configure(struct classifier *c, const struct classify_settings *settings)
{
	if (!settings_valid(settings))
		return 1;
	pthread_rwlock_wrlock(&c->lock);
	c->set = *settings;
	pthread_rwlock_unlock(&c->lock);
	return 0;
}

void classifier_use_starter(struct classifier *c, const struct starter *s)
{
	pthread_rwlock_wrlock(&c->lock);
	c->custom_starter = s;
	c->stable = stable_free(c->stable);
	pthread_rwlock_unlock(&c->lock);
}

void classifier_test_loading(struct classifier *c, int (*fn)(struct store_conn *conn, void *arg),
			     void *arg)
{
	pthread_mutex_lock(&c->reload_lock);
	c->loading = fn;
	c->loading_arg = arg;
	pthread_mutex_unlock(&c->reload_lock);
}

static const struct starter *starter_of(const struct classifier *c)
{
	return c->custom_starter ? c->custom_starter : starter_builtin();
}

/* Hashes the starter's tokens with the classifier's key into a table at
 * most 70 % full.  NULL on OOM. */
static struct stable *stable_build(const struct classifier *c, const struct starter *st)
{
	struct stable *t = calloc(1, sizeof(*t));
	size_t n = starter_size(st), cap = 64;

	if (!t)
		return NULL;
	while (cap * 7 < n * 10)
		cap *= 2;
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->e)
		return stable_free(t);
	t->mask = cap - 1;
	starter_totals(st, &t->nspam, &t->nham);
	for (size_t i = 0; i < n; i++) {
		const char *tok;
		size_t len, j;
		uint32_t spam, ham;

		starter_token(st, i, &tok, &len, &spam, &ham);
		uint64_t h = hash_bytes(c, tok, len);
		uint32_t fp = stable_fp(h);

		for (j = (size_t)h & t->mask; t->e[j].fp && t->e[j].fp != fp; j = (j + 1) & t->mask)
			;
		if (!t->e[j].fp)
			t->n++;
		t->e[j] = (struct sentry){fp, (uint16_t)spam, (uint16_t)ham};
	}
	return t;
}

/* Makes sure the starter table exists in the current key space (the
 * database's key once it is known, the all-zero key in memory mode). */
static int ensure_starter(struct classifier *c)
{
	const struct starter *st;
	struct stable *fresh, *old;
	bool current;
	int r = 0;

	pthread_rwlock_rdlock(&c->lock);
	current = c->stable && c->stable_db_key == c->have_key;
	pthread_rwlock_unlock(&c->lock);
	if (current)
		return 0;
	pthread_mutex_lock(&c->reload_lock);
	st = starter_of(c);
	pthread_rwlock_rdlock(&c->lock);
	current = c->stable && c->stable_db_key == c->have_key;
	pthread_rwlock_unlock(&c->lock);
	if (!current && st) {
		fresh = stable_build(c, st);
		if (!fresh) {
			r = -ENOMEM;
		} else {
			pthread_rwlock_wrlock(&c->lock);
			old = c->stable;
			c->stable = fresh;
			c->stable_db_key = c->have_key;
			pthread_rwlock_unlock(&c->lock);
			stable_free(old);
			log_debug("classify: starter model loaded (%zu tokens)", fresh->n);
		}
	}
	pthread_mutex_unlock(&c->reload_lock);
	return r;
}

void classifier_starter_info(struct classifier *c, struct classify_starter_info *out)
{
	const struct starter *st;

	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&c->lock);
	out->on = c->set.starter;
	pthread_rwlock_unlock(&c->lock);
	st = out->on ? starter_of(c) : NULL;
	if (!st) {
		out->on = false;
		return;
	}
	out->tokens = starter_size(st);
	starter_totals(st, &out->nspam, &out->nham);
}

/* ---- tokens of a submission -------------------------------------------- */

static unsigned dup_count(struct classifier *c, const struct classify_input *in, bool record)
{
	size_t len;
	uint64_t text, thread;
	unsigned n = 0;

	if (!in->thread || !in->text)
		return 0;
	len = strnlen(in->text, TOKENIZE_MAX_INPUT);
	if (len < DUP_MIN_BYTES)
		return 0;
	text = hash_bytes(c, in->text, len);
	thread = hash_bytes(c, in->thread, strnlen(in->thread, 1024));
	pthread_mutex_lock(&c->ring_lock);
	for (unsigned i = 0; i < RING_SIZE; i++)
		if (c->ring[i].text == text && c->ring[i].thread != thread)
			n++;
	if (record) {
		c->ring[c->ring_pos] = (struct dup_entry){text, thread};
		c->ring_pos = (c->ring_pos + 1) % RING_SIZE;
	}
	pthread_mutex_unlock(&c->ring_lock);
	return n;
}

static void host_tokens(struct tokenizer *t, const char *prefix_host, const char *prefix_dom,
			const char *url)
{
	char host[256], reg[256];

	if (!url[0]) {
		tokenizer_add(t, prefix_host, "none");
		return;
	}
	if (tokenize_url_host(url, strnlen(url, 2048), host, sizeof(host)) != 0) {
		tokenizer_add(t, prefix_host, "invalid");
		return;
	}
	tokenizer_add(t, prefix_host, host);
	if (tokenize_registrable_domain(host, reg, sizeof(reg)) == 0)
		tokenizer_add(t, prefix_dom, reg);
}

static void referrer_token(struct tokenizer *t, const struct classify_input *in)
{
	char host[256];

	if (!in->referrer[0])
		tokenizer_add(t, "m:ref:", "none");
	else if (!in->site_host)
		tokenizer_add(t, "m:ref:", "present");
	else if (tokenize_url_host(in->referrer, strnlen(in->referrer, 2048), host, sizeof(host)) ==
		     0 &&
		 strcasecmp(host, in->site_host) == 0)
		tokenizer_add(t, "m:ref:", "onsite");
	else
		tokenizer_add(t, "m:ref:", "offsite");
}

static const char *render_bucket(long s)
{
	return s < 3	   ? "<3"
	       : s < 10	   ? "<10"
	       : s < 30	   ? "<30"
	       : s < 120   ? "<120"
	       : s < 900   ? "<900"
	       : s < 86400 ? "<1d"
			   : "old";
}

/* A word of a page's title that counts for m:title: a letter word (no
 * prefix: not a number, link or meta token) of CLASSIFY_TITLE_WORD_MIN code
 * points or more, so "the", "ft" and "m/v" do not. */
static bool title_word(const char *w)
{
	size_t cp = 0;

	if (strchr(w, ':') || ((unsigned char)w[0] < 0x80 && !(w[0] >= 'a' && w[0] <= 'z')))
		return false;
	for (const unsigned char *p = (const unsigned char *)w; *p; p++)
		cp += (*p & 0xC0) != 0x80;
	return cp >= CLASSIFY_TITLE_WORD_MIN;
}

/* Whether the first n tokens of l hold the plain token w. */
static bool has_plain(const struct token_list *l, unsigned n, const char *w)
{
	for (unsigned i = 0; i < n; i++)
		if (l->kind[i] == TOKEN_PLAIN && strcmp(l->tok[i], w) == 0)
			return true;
	return false;
}

#define TITLE_WORDS_MAX 64

/* The counted words of the last page title this thread scored with,
 * distinct, at most TITLE_WORDS_MAX: a thread's posts mostly go to one page
 * at a time, and tokenizing the title at every score cost about a fifth of
 * a short comment's classification (docs/classifier.md). */
static _Thread_local struct {
	char title[CLASSIFY_TITLE_MAX + 1];
	unsigned n;
	char word[TITLE_WORDS_MAX][TOKENIZE_MAX_TOKEN_BYTES + 1];
} title_cache;

/* Fills title_cache with title's counted words unless it holds them.  0 or
 * negative (the cache is then empty). */
static int title_words(struct classifier *c, const char *title)
{
	size_t len = strnlen(title, CLASSIFY_TITLE_MAX);
	const struct token_list *tl;
	struct tokenizer *tt;
	int r;

	if (title_cache.title[0] && strlen(title_cache.title) == len &&
	    memcmp(title_cache.title, title, len) == 0)
		return 0;
	title_cache.title[0] = '\0';
	title_cache.n = 0;
	r = pool_get(c, &tt);
	if (r < 0)
		return r;
	r = tokenizer_text(tt, title, len);
	tl = tokenizer_tokens(tt);
	for (unsigned j = 0; r == 0 && j < tl->n && title_cache.n < TITLE_WORDS_MAX; j++)
		if (tl->kind[j] == TOKEN_PLAIN && title_word(tl->tok[j]) &&
		    !has_plain(tl, j, tl->tok[j]))
			snprintf(title_cache.word[title_cache.n++], sizeof(title_cache.word[0]),
				 "%s", tl->tok[j]);
	pool_put(c, tt);
	if (r == 0) {
		memcpy(title_cache.title, title, len);
		title_cache.title[len] = '\0';
	} else {
		title_cache.n = 0;
	}
	return r;
}

/* m:title:0|1|2|3+: how many distinct words of the page's title (folded as
 * the text is) the text's tokens (all of t's so far) hold.  A new page's
 * names (artist, song, product) are unknown words; this token is what
 * comments naming their page have in common across pages. */
static int title_token(struct classifier *c, struct tokenizer *t, const char *title)
{
	const struct token_list *l = tokenizer_tokens(t);
	unsigned n = 0;
	int r = title_words(c, title);

	if (r < 0)
		return r;
	for (unsigned j = 0; j < title_cache.n; j++)
		n += has_plain(l, l->n, title_cache.word[j]);
	return tokenizer_add(t, "m:title:", n == 0 ? "0" : n == 1 ? "1" : n == 2 ? "2" : "3+");
}

/* The text's tokens.  With the page (site_host and thread), links that
 * point at the page itself (tokenize_page_links) are left out of the text
 * and counted as one m:plink:page token: their host, path words and
 * 4-grams tell nothing about promotion elsewhere, which is what links in
 * comments mostly are (and what the learned link tokens say). */
static int text_tokens(struct tokenizer *t, const struct classify_input *in)
{
	size_t n = strnlen(in->text, TOKENIZE_MAX_INPUT);
	char *copy;
	int k, r;

	/* Most comments link nowhere, or elsewhere: no copy for them. */
	if (!in->site_host || !in->thread ||
	    tokenize_page_links(in->text, n, in->site_host, in->thread, NULL) !=
		TOKENIZE_LINKS_PAGE)
		return tokenizer_text(t, in->text, n);
	copy = malloc(n + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, in->text, n);
	copy[n] = '\0';
	k = tokenize_page_links(in->text, n, in->site_host, in->thread, copy);
	r = tokenizer_text(t, copy, n);
	free(copy);
	if (r == 0 && k == TOKENIZE_LINKS_PAGE)
		r = tokenizer_add(t, "m:plink:", "page");
	return r;
}

/* Tokenizes in into t (text + meta tokens). */
static int submission_tokens(struct classifier *c, struct tokenizer *t,
			     const struct classify_input *in, bool record_dup)
{
	char v[256];
	int r;

	if (in->text) {
		r = text_tokens(t, in);
		if (r == 0 && in->page_title && in->page_title[0])
			r = title_token(c, t, in->page_title);
		if (r < 0)
			return r;
	}
	if (in->author)
		tokenizer_add_folded(t, "m:author:", in->author);
	if (in->email) {
		if (!in->email[0])
			tokenizer_add(t, "m:email:", "none");
		else if (tokenize_email_domain(in->email, v, sizeof(v)) == 0)
			tokenizer_add(t, "m:email:", v);
		else
			tokenizer_add(t, "m:email:", "invalid");
	}
	if (in->url)
		host_tokens(t, "m:aurl:", "m:aurld:", in->url);
	if (in->ip && tokenize_ip_prefix(in->ip, v, sizeof(v)) == 0)
		tokenizer_add(t, "m:ip:", v);
	if (in->user_agent)
		tokenizer_add(t, "m:ua:", tokenize_ua_class(in->user_agent));
	if (in->referrer)
		referrer_token(t, in);
	if (in->render_seconds >= 0)
		tokenizer_add(t, "m:rt:", render_bucket(in->render_seconds));
	unsigned d = dup_count(c, in, record_dup);

	if (d)
		tokenizer_add(t, "m:dup:", d == 1 ? "1" : "2+");
	return 0;
}

/* Distinct token hashes of t's list, in order of first occurrence; returns
 * their number.  A small open-addressing set of indexes into out. */
static unsigned distinct_hashes(const struct classifier *c, const struct tokenizer *t,
				struct thash *out)
{
	const struct token_list *l = tokenizer_tokens(t);
	uint16_t slot[2 * MAX_HASHES];
	const size_t mask = 2 * MAX_HASHES - 1;
	unsigned n = 0;

	memset(slot, 0, sizeof(slot));
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t h = hash_bytes(c, l->tok[i], strlen(l->tok[i]));
		size_t j = (size_t)(h ^ (h >> 29)) & mask;

		while (slot[j] && out[slot[j] - 1].h != h)
			j = (j + 1) & mask;
		if (!slot[j]) {
			out[n] = (struct thash){h, i};
			slot[j] = (uint16_t)++n;
		}
	}
	return n;
}

/* ---- maths ------------------------------------------------------------- */

/* A prior's share of one class: adds its expected count (weight * rate) to
 * *num and its weight to *den.  weight is capped by the messages it saw. */
static void prior_share(double weight, uint64_t count, uint64_t total, double *num, double *den,
			double *expected)
{
	double v = weight < (double)total ? weight : (double)total;
	double e = v * (double)count / (double)total;

	*num += e;
	*den += v;
	*expected += e;
}

/* f from one layer of learning (b, g of nspam, nham) with the starter as
 * its prior: V virtual messages per class whose rates the counts update. */
static double learned_over_starter(const struct classify_settings *s, uint64_t b, uint64_t g,
				   uint64_t nspam, uint64_t nham, const struct classify_counts *k)
{
	double ns = (double)b, ds = (double)nspam, nh = (double)g, dh = (double)nham;
	double n = (double)(b + g), sr, hr, p;

	if (k->sb + k->sg > 0 && k->snspam && k->snham) {
		prior_share(s->starter_weight, k->sb, k->snspam, &ns, &ds, &n);
		prior_share(s->starter_weight, k->sg, k->snham, &nh, &dh, &n);
	}
	sr = ds > 0 ? ns / ds : 0;
	hr = dh > 0 ? nh / dh : 0;
	if (sr + hr <= 0)
		return s->robx;
	p = sr / (sr + hr);
	return (s->robs * s->robx + n * p) / (s->robs + n);
}

double classify_token_prob_layered(const struct classify_settings *s,
				   const struct classify_counts *k)
{
	double x, sr, hr, n = (double)(k->b + k->g);

	if (k->ob + k->og == 0)
		return learned_over_starter(s, k->b, k->g, k->nspam, k->nham, k);
	/* The other sites' opinion (over the starter) is the prior the site's
	 * own occurrences of the token update, worth shared_strength of them. */
	x = learned_over_starter(s, k->ob, k->og, k->onspam, k->onham, k);
	sr = k->nspam ? (double)k->b / (double)k->nspam : 0;
	hr = k->nham ? (double)k->g / (double)k->nham : 0;
	if (n <= 0 || sr + hr <= 0)
		return x;
	return (s->shared_strength * x + n * (sr / (sr + hr))) / (s->shared_strength + n);
}

double classify_token_prob(const struct classify_settings *s, uint64_t b, uint64_t g,
			   uint64_t nspam, uint64_t nham)
{
	struct classify_counts k = {.b = b, .g = g, .nspam = nspam, .nham = nham};

	return classify_token_prob_layered(s, &k);
}

double classify_chi2q(double x2, unsigned half_dof)
{
	double m = x2 / 2, term, sum;

	if (half_dof == 0)
		return 1;
	term = exp(-m);
	sum = term;
	for (unsigned i = 1; i < half_dof; i++) {
		term *= m / i;
		sum += term;
	}
	return sum < 1 ? sum : 1;
}

/* Regularised upper incomplete gamma Q(a, x), a > 0, x >= 0. */
static double gamma_q(double a, double x)
{
	const double eps = 1e-15, tiny = 1e-300;
	double lead;

	if (x <= 0)
		return 1;
	lead = exp(-x + a * log(x) - lgamma(a));
	if (x < a + 1) { /* series for P */
		double ap = a, del = 1 / a, sum = del;

		for (int i = 0; i < 1000; i++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * eps)
				break;
		}
		double q = 1 - sum * lead;
		return q < 0 ? 0 : q;
	}
	/* continued fraction for Q (modified Lentz) */
	double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

	for (int i = 1; i < 1000; i++) {
		double an = -i * (i - a), del;

		b += 2;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	double q = lead * h;
	return q > 1 ? 1 : q;
}

/* (1 + H - S) / 2 from lh = sum w ln f, ls = sum w ln(1 - f), a = sum w:
 * H = C(-2 lh, 2a) = Q(a, -lh), S likewise. */
static double fisher_from_logs(double lh, double ls, double a)
{
	if (a <= 0)
		return 0.5;
	return (1 + gamma_q(a, -lh) - gamma_q(a, -ls)) / 2;
}

double classify_combine_weighted(const double *f, const double *w, size_t n)
{
	double lh = 0, ls = 0, a = 0;

	for (size_t i = 0; i < n; i++) {
		lh += w[i] * log(f[i]);
		ls += w[i] * log1p(-f[i]);
		a += w[i];
	}
	return fisher_from_logs(lh, ls, a);
}

double classify_combine(const double *f, size_t n)
{
	double h = 1, s = 1, lh, ls;
	int he = 0, se = 0, e;

	if (n == 0)
		return 0.5;
	for (size_t i = 0; i < n; i++) {
		h *= f[i];
		s *= 1 - f[i];
		if (h < 1e-200) {
			h = frexp(h, &e);
			he += e;
		}
		if (s < 1e-200) {
			s = frexp(s, &e);
			se += e;
		}
	}
	lh = log(h) + he * M_LN2;
	ls = log(s) + se * M_LN2;
	/* H small = hammy evidence, S small = spammy evidence */
	double H = classify_chi2q(-2 * lh, (unsigned)n), S = classify_chi2q(-2 * ls, (unsigned)n);

	return (1 + H - S) / 2;
}

enum classify_verdict classify_verdict_for(const struct classify_settings *s, double score,
					   bool cold_start, bool honeypot)
{
	enum classify_verdict v;

	if (honeypot)
		return CLASSIFY_DISCARD;
	if (score < s->ham_cutoff)
		v = CLASSIFY_HAM;
	else if (score >= s->discard_cutoff)
		v = CLASSIFY_DISCARD;
	else if (score >= s->spam_cutoff)
		v = CLASSIFY_SPAM;
	else
		v = CLASSIFY_UNSURE;
	if (cold_start && (v == CLASSIFY_SPAM || v == CLASSIFY_DISCARD))
		v = CLASSIFY_UNSURE;
	return v;
}

const char *classify_verdict_name(enum classify_verdict v)
{
	switch (v) {
	case CLASSIFY_HAM:
		return "ham";
	case CLASSIFY_UNSURE:
		return "unsure";
	case CLASSIFY_SPAM:
		return "spam";
	case CLASSIFY_DISCARD:
		return "discard";
	}
	return "unsure";
}

const char *classify_model_name(enum classify_model m)
{
	switch (m) {
	case CLASSIFY_MODEL_NONE:
		return "none";
	case CLASSIFY_MODEL_STARTER:
		return "starter";
	case CLASSIFY_MODEL_SITE:
		return "site";
	case CLASSIFY_MODEL_BOTH:
		return "both";
	}
	return "none";
}

/* ---- database mirror --------------------------------------------------- */

static const char sql_state[] =
    "SELECT generation, nspam, nham, hash_key FROM classifier_state WHERE id = 1";
static const char sql_all_tokens[] = "SELECT hash, spam, ham FROM classifier_tokens";
static const char sql_count_tokens[] = "SELECT count(*) FROM classifier_tokens";
/* A model is read in one read snapshot (store_begin_read), so that its
 * state row, tokens and ledger agree (a learning that commits meanwhile is
 * seen by the next refresh, whole). */

/* The rows a table load will add (sql counts them, binding site if given),
 * so that the table is made at its final size: growing it by doubling
 * leaves the smaller tables' pages behind in the heap (docs/performance.md,
 * "Memory").  0 when unknown: the table then grows as rows come. */
static size_t count_rows(struct store_conn *conn, const char *sql, const char *site)
{
	struct store_stmt *q = store_stmt(conn, sql);
	int64_t n = 0;

	if (!q)
		return 0;
	if (site)
		store_bind_text(q, 1, site);
	if (store_one_int64(conn, q, &n) != 1 || n < 0)
		n = 0;
	return (size_t)n;
}

/* Gives the pages of freed tables and training buffers back to the system
 * after a load (RSS budget, docs/performance.md). */
static void trim_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

struct state_row {
	int64_t generation;
	uint64_t nspam, nham;
};

static int read_state(struct classifier *c, struct store_conn *conn, struct state_row *st,
		      bool take_key)
{
	struct store_stmt *q = store_stmt(conn, sql_state);
	int rc, r = -EIO;

	if (!q)
		return -EIO;
	rc = store_row(conn, q);
	if (rc != 1) {
		log_err("classify: cannot read classifier_state: %s", store_errmsg(conn));
		r = rc < 0 ? rc : -EIO; /* -ENOTCONN stays: a 503, not a 500 */
		goto out;
	}
	st->generation = store_col_int64(q, 0);
	st->nspam = (uint64_t)store_col_int64(q, 1);
	st->nham = (uint64_t)store_col_int64(q, 2);
	if (take_key) {
		if (store_col_bytes(q, 3) != sizeof(c->key)) {
			log_err("classify: classifier_state.hash_key has the wrong size");
			goto out;
		}
		memcpy(c->key, store_col_blob(q, 3), sizeof(c->key));
	}
	r = 0;
out:
	store_reset(q);
	return r;
}

static const char sql_ledger_newest[] =
    "SELECT label, tokens FROM classifier_learned ORDER BY learned DESC, msg_key";

/* Trains the second opinion of m (just loaded) on the ledger: the newest
 * learned messages, at most SECOND_MAX_REFS token references in all, so
 * training time and memory stay bounded however much a site has learned.
 * 0 or negative. */
static int ledger_train(struct classifier *c, struct store_conn *conn, struct model *m)
{
	struct store_stmt *q = store_stmt(conn, sql_ledger_newest);
	struct trainset ts = {0};
	uint64_t h[MAX_HASHES];
	double rate;
	unsigned epochs, weight;
	int rc, r = 0;

	pthread_rwlock_rdlock(&c->lock);
	rate = c->set.second_rate;
	epochs = c->set.second_epochs;
	weight = c->set.second_weight > 0;
	pthread_rwlock_unlock(&c->lock);
	if (!weight)
		return 0;
	if (!q)
		return -EIO;
	store_stream(q); /* every learned message, newest first */
	while ((rc = store_row(conn, q)) == 1) {
		const unsigned char *blob = store_col_blob(q, 1);
		size_t n = store_col_bytes(q, 1) / 8;

		if (n > MAX_HASHES)
			n = MAX_HASHES;
		for (size_t i = 0; i < n; i++) {
			uint64_t v = 0;

			for (int b = 7; b >= 0; b--)
				v = (v << 8) | blob[i * 8 + (size_t)b];
			h[i] = v;
		}
		r = trainset_add(&ts, m, h, n, strcmp(store_col_text(q, 0), "spam") == 0);
		if (r != 0)
			break;
	}
	if (r > 0) /* the newest SECOND_MAX_REFS references are enough */
		r = 0;
	store_reset(q);
	if (r == 0 && rc < 0) {
		log_err("classify: cannot read the ledger: %s", store_errmsg(conn));
		r = rc;
	}
	if (r == 0)
		r = second_train(m, &ts, rate, epochs);
	trainset_clear(&ts);
	return r;
}

static int load_model(struct classifier *c, struct store_conn *conn, struct model **out)
{
	struct state_row st;
	struct model *m = NULL;
	struct store_stmt *q;
	bool own_txn = !store_in_transaction(conn);
	int rc, r;

	if (own_txn) {
		r = store_begin_read(conn);
		if (r != 0)
			return r;
	}
	r = read_state(c, conn, &st, !c->have_key);
	if (r == 0 && c->loading && c->loading(conn, c->loading_arg) != 0)
		r = -EIO;
	if (r < 0)
		goto out;
	c->have_key = true;
	m = model_new(count_rows(conn, sql_count_tokens, NULL), false);
	r = -ENOMEM;
	if (!m)
		goto out;
	m->generation = st.generation;
	m->nspam = st.nspam;
	m->nham = st.nham;
	q = store_stmt(conn, sql_all_tokens);
	r = -EIO;
	if (!q)
		goto out;
	store_stream(q); /* hundreds of thousands of rows */
	while ((rc = store_row(conn, q)) == 1) {
		rc = model_add(m, (uint64_t)store_col_int64(q, 0), store_col_int64(q, 1),
			       store_col_int64(q, 2));
		if (rc < 0) {
			r = rc;
			store_reset(q);
			goto out;
		}
	}
	store_reset(q);
	if (rc != 0) {
		log_err("classify: cannot load tokens: %s", store_errmsg(conn));
		r = rc < 0 ? rc : -EIO;
		goto out;
	}
	r = ledger_train(c, conn, m);
	if (r < 0)
		goto out;
	*out = m;
	m = NULL;
	r = 0;
out:
	if (own_txn)
		store_end_read(conn);
	model_free(m);
	return r;
}

/* Makes the cached model match the database's committed (or, inside the
 * caller's transaction, visible) generation. */
static int refresh(struct classifier *c, struct store_conn *conn)
{
	struct state_row st;
	struct model *fresh = NULL, *old;
	bool current;
	int r;

	r = read_state(c, conn, &st, false);
	if (r < 0)
		return r;
	pthread_rwlock_rdlock(&c->lock);
	current = c->loaded && c->model->generation == st.generation;
	pthread_rwlock_unlock(&c->lock);
	if (current)
		return 0;
	pthread_mutex_lock(&c->reload_lock);
	pthread_rwlock_rdlock(&c->lock);
	current = c->loaded && c->model->generation == st.generation;
	pthread_rwlock_unlock(&c->lock);
	if (!current) {
		r = load_model(c, conn, &fresh);
		if (r == 0) {
			pthread_rwlock_wrlock(&c->lock);
			old = c->model;
			c->model = fresh;
			c->loaded = true;
			pthread_rwlock_unlock(&c->lock);
			model_free(old);
			trim_heap(); /* the old table and the training set */
			log_debug("classify: model reloaded (%zu tokens)",
				  tokentab_count(fresh->t));
		}
	}
	pthread_mutex_unlock(&c->reload_lock);
	return r;
}

/* ---- the sites' own learning ------------------------------------------- */

static const char sql_site_state[] =
    "SELECT nspam, nham FROM classifier_site_state WHERE site = ?1";
static const char sql_site_tokens[] =
    "SELECT hash, spam, ham FROM classifier_site_tokens WHERE site = ?1";
static const char sql_count_site_tokens[] =
    "SELECT count(*) FROM classifier_site_tokens WHERE site = ?1";

/* The entry of site (under c->lock), or NULL. */
static struct site_model *site_find(const struct classifier *c, const char *site)
{
	for (size_t i = 0; i < c->n_sites; i++) {
		if (strcmp(c->sites[i].site, site) == 0)
			return &c->sites[i];
	}
	return NULL;
}

/* The entry of site, added empty if missing (under the write lock).  NULL
 * on OOM. */
static struct site_model *site_entry(struct classifier *c, const char *site)
{
	struct site_model *sm = site_find(c, site), *grown;

	if (sm)
		return sm;
	grown = realloc(c->sites, (c->n_sites + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	c->sites = grown;
	sm = &c->sites[c->n_sites++];
	memset(sm, 0, sizeof(*sm));
	snprintf(sm->site, sizeof(sm->site), "%s", site);
	sm->generation = -1;
	return sm;
}

/* The site's own model from the database, at the generation of the same
 * read; *shared when the site learned every message (then no model: the
 * shared one is the same).  0 or negative. */
static int load_site(struct classifier *c, struct store_conn *conn, const char *site,
		     struct model **out, bool *shared, int64_t *generation)
{
	bool own_txn = !store_in_transaction(conn);
	struct state_row st;
	struct model *m = NULL;
	struct store_stmt *q;
	int rc, r;

	*out = NULL;
	if (own_txn && (r = store_begin_read(conn)) != 0)
		return r;
	r = read_state(c, conn, &st, false);
	if (r < 0)
		goto out;
	*generation = st.generation;
	m = model_new(count_rows(conn, sql_count_site_tokens, site), false);
	r = -ENOMEM;
	q = store_stmt(conn, sql_site_state);
	if (!m || !q)
		goto out;
	store_bind_text(q, 1, site);
	r = store_row(conn, q);
	if (r == 1) {
		m->nspam = (uint64_t)store_col_int64(q, 0);
		m->nham = (uint64_t)store_col_int64(q, 1);
	}
	store_reset(q);
	if (r < 0)
		goto out;
	*shared = m->nspam == st.nspam && m->nham == st.nham && st.nspam + st.nham > 0;
	r = 0;
	if (*shared)
		goto out;
	q = store_stmt(conn, sql_site_tokens);
	r = -EIO;
	if (!q)
		goto out;
	store_stream(q);
	store_bind_text(q, 1, site);
	while ((rc = store_row(conn, q)) == 1) {
		rc = model_add(m, (uint64_t)store_col_int64(q, 0), store_col_int64(q, 1),
			       store_col_int64(q, 2));
		if (rc < 0)
			break;
	}
	store_reset(q);
	r = rc;
	if (r == 0) {
		*out = m;
		m = NULL;
	}
out:
	if (own_txn)
		store_end_read(conn);
	model_free(m);
	return r;
}

/* Makes site's own model match the shared model's generation (with conn;
 * in memory the sites' models are what learning made). */
static int ensure_site(struct classifier *c, struct store_conn *conn, const char *site)
{
	struct site_model *sm;
	struct model *fresh = NULL, *old = NULL;
	int64_t generation = 0;
	bool current, shared = false;
	int r = 0;

	if (!conn || !site)
		return 0;
	pthread_rwlock_rdlock(&c->lock);
	sm = site_find(c, site);
	current = sm && sm->generation == c->model->generation;
	pthread_rwlock_unlock(&c->lock);
	if (current)
		return 0;
	pthread_mutex_lock(&c->reload_lock);
	pthread_rwlock_rdlock(&c->lock);
	sm = site_find(c, site);
	current = sm && sm->generation == c->model->generation;
	pthread_rwlock_unlock(&c->lock);
	if (!current)
		r = load_site(c, conn, site, &fresh, &shared, &generation);
	if (!current && r == 0) {
		pthread_rwlock_wrlock(&c->lock);
		sm = site_entry(c, site);
		if (sm) {
			old = sm->m;
			*sm = (struct site_model){
			    .m = fresh, .shared = shared, .generation = generation};
			snprintf(sm->site, sizeof(sm->site), "%s", site);
			fresh = NULL;
		} else {
			r = -ENOMEM;
		}
		pthread_rwlock_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->reload_lock);
	model_free(old);
	model_free(fresh);
	if (!current)
		trim_heap(); /* the site's old table */
	return r;
}

/* a - b, or 0 when b is larger (a race between the two layers' loads). */
static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* A site's layers under c->lock: its own model (NULL: nothing learned yet)
 * and the shared one; without a site the shared model is the "own" and
 * there are no other sites. */
struct layers {
	const struct model *shared, *own;
	bool others; /* the shared model holds other sites' learning too */
};

static void layers_of(const struct classifier *c, const char *site, struct layers *l)
{
	const struct site_model *sm = site ? site_find(c, site) : NULL;

	l->shared = c->model;
	l->own = !site || (sm && sm->shared) ? c->model : sm ? sm->m : NULL;
	l->others = l->own != c->model;
}

/* What the cold start counts for layers l: the site's own messages and
 * every site's (the shared model's). */
static void layers_learned(const struct layers *l, struct classify_learned *out)
{
	out->own_spam = l->own ? l->own->nspam : 0;
	out->own_ham = l->own ? l->own->nham : 0;
	out->learned_spam = l->shared->nspam;
	out->learned_ham = l->shared->nham;
	out->generation = l->shared->generation;
}

/* ---- scoring ------------------------------------------------------------ */

struct clue {
	double f, dev;
	unsigned idx;
	uint32_t spam, ham;   /* the site's own counts */
	uint32_t ospam, oham; /* the other sites' */
	uint16_t sspam, sham; /* the starter's */
};

/* classify_combine_weighted for clues whose weight depends only on their
 * token kind: products per kind, renormalised, so no log per token. */
static double combine_kinds(const struct clue *cl, const unsigned char *kinds, unsigned n,
			    const double *w)
{
	double h[3] = {1, 1, 1}, s[3] = {1, 1, 1}, lh = 0, ls = 0, a = 0;
	int he[3] = {0}, se[3] = {0}, e;
	unsigned cnt[3] = {0};

	for (unsigned i = 0; i < n; i++) {
		unsigned k = kinds[cl[i].idx];

		cnt[k]++;
		h[k] *= cl[i].f;
		s[k] *= 1 - cl[i].f;
		if (h[k] < 1e-200) {
			h[k] = frexp(h[k], &e);
			he[k] += e;
		}
		if (s[k] < 1e-200) {
			s[k] = frexp(s[k], &e);
			se[k] += e;
		}
	}
	for (unsigned k = 0; k < 3; k++) {
		if (!cnt[k])
			continue;
		lh += w[k] * (log(h[k]) + he[k] * M_LN2);
		ls += w[k] * (log(s[k]) + se[k] * M_LN2);
		a += w[k] * cnt[k];
	}
	return fisher_from_logs(lh, ls, a);
}

static int cmp_clue(const void *a, const void *b)
{
	const struct clue *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct scratch {
	struct thash h[MAX_HASHES];
	struct clue clues[MAX_HASHES];
};

static char *why_json(const struct tokenizer *t, const struct clue *clues, unsigned n)
{
	const struct token_list *l = tokenizer_tokens(t);
	json_t *arr = json_array();
	char *s = NULL;

	if (!arr)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		json_t *tok = json_string(l->tok[clues[i].idx]);

		if (!tok)
			tok = json_string("(invalid)");
		const struct clue *cl = &clues[i];
		bool learned = cl->spam + cl->ham + cl->ospam + cl->oham > 0;
		bool starter = cl->sspam + cl->sham > 0;
		json_t *item = json_pack("{s:o,s:f,s:I,s:I,s:s}", "token", tok, "p", cl->f, "spam",
					 (json_int_t)cl->spam, "ham", (json_int_t)cl->ham, "model",
					 learned && starter ? "both"
					 : starter	    ? "starter"
							    : "site");

		/* the other sites' counts, when they spoke */
		if (item && cl->ospam + cl->oham > 0) {
			json_object_set_new(item, "shared_spam", json_integer(cl->ospam));
			json_object_set_new(item, "shared_ham", json_integer(cl->oham));
		}
		json_array_append_new(arr, item);
	}
	s = json_dumps(arr, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(arr);
	return s;
}

/* Which models the kept clues drew on (a site's own learning and the other
 * sites' both count as learned: "site"). */
static enum classify_model clues_model(const struct clue *cl, unsigned k)
{
	bool site = false, starter = false;

	for (unsigned i = 0; i < k; i++) {
		site = site || cl[i].spam + cl[i].ham + cl[i].ospam + cl[i].oham > 0;
		starter = starter || cl[i].sspam + cl[i].sham > 0;
	}
	return site && starter ? CLASSIFY_MODEL_BOTH
	       : starter       ? CLASSIFY_MODEL_STARTER
	       : site	       ? CLASSIFY_MODEL_SITE
			       : CLASSIFY_MODEL_NONE;
}

/* The clues among the n token hashes of w: tokens with evidence in the
 * site's own learning, the other sites' or the starter, at least min_dev
 * from 0.5.  Returns their number; *cold tells whether the site has learned
 * too little, *margin is the second opinion's w.x (from the shared model)
 * and *ready whether it was trained on enough messages to count.  Takes the
 * read lock. */
static unsigned find_clues(struct classifier *c, struct scratch *w, unsigned n, const char *site,
			   struct classify_settings *set, bool *cold, double *margin, bool *ready)
{
	struct classify_learned learned;
	struct layers l;
	unsigned k = 0;
	double z = 0;

	pthread_rwlock_rdlock(&c->lock);
	layers_of(c, site, &l);
	const struct model *m = l.shared;
	const struct stable *st = c->set.starter ? c->stable : NULL;
	struct classify_counts cnt = {0};

	*set = c->set;
	layers_learned(&l, &learned);
	cnt.nspam = learned.own_spam;
	cnt.nham = learned.own_ham;
	if (l.others) {
		cnt.onspam = minus(m->nspam, cnt.nspam);
		cnt.onham = minus(m->nham, cnt.nham);
	}
	if (st) {
		cnt.snspam = st->nspam;
		cnt.snham = st->nham;
	}
	/* the table is larger than the caches: fetch every slot first */
	for (unsigned i = 0; i < n; i++)
		tokentab_prefetch(m->t, w->h[i].h);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e, eo; /* the values, 0 for an absent token */
		bool found = model_get(m, w->h[i].h, &e);
		const struct sentry *se = st ? stable_get(st, w->h[i].h) : NULL;
		double f, dev;

		if (!l.others)
			eo = e;
		else if (!l.own)
			eo = 0;
		else
			model_get(l.own, w->h[i].h, &eo);
		if (found)
			z += entry_weight(e);
		cnt.b = entry_spam(eo);
		cnt.g = entry_ham(eo);
		cnt.ob = l.others ? minus(entry_spam(e), cnt.b) : 0;
		cnt.og = l.others ? minus(entry_ham(e), cnt.g) : 0;
		cnt.sb = se ? se->spam : 0;
		cnt.sg = se ? se->ham : 0;
		if (cnt.b + cnt.g + cnt.ob + cnt.og + cnt.sb + cnt.sg == 0)
			continue;
		f = classify_token_prob_layered(set, &cnt);
		dev = fabs(f - 0.5);
		if (dev < set->min_dev)
			continue;
		w->clues[k++] = (struct clue){f,
					      dev,
					      w->h[i].idx,
					      (uint32_t)cnt.b,
					      (uint32_t)cnt.g,
					      (uint32_t)cnt.ob,
					      (uint32_t)cnt.og,
					      (uint16_t)cnt.sb,
					      (uint16_t)cnt.sg};
	}
	*cold = learned.learned_spam < set->min_learned || learned.learned_ham < set->min_learned;
	*margin = n ? z / sqrt((double)n) : 0;
	/* trained on every site's learning, the second opinion would override
	 * a site's own decisions where sites disagree: it counts only where the
	 * site's own learning is the shared model (one site, or no site) */
	*ready =
	    !l.others && m->second_nspam >= set->min_learned && m->second_nham >= set->min_learned;
	pthread_rwlock_unlock(&c->lock);
	return k;
}

/* Fills out's verdict, features and reasons after a full score. */
static int score_details(const struct classify_settings *set, const struct tokenizer *t,
			 const struct scratch *w, unsigned n, unsigned k, bool honeypot,
			 struct classify_result *out)
{
	out->features = malloc(n ? (size_t)n * 8 : 1);
	if (!out->features)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			out->features[(size_t)i * 8 + (unsigned)b] =
			    (unsigned char)(w->h[i].h >> (8 * b));
	out->features_len = (size_t)n * 8;
	out->verdict = classify_verdict_for(set, out->score, out->cold_start, honeypot);
	out->tokens_json = why_json(t, w->clues, k < set->why_tokens ? k : set->why_tokens);
	return out->tokens_json ? 0 : -ENOMEM;
}

double classify_blend_scale(double x)
{
	static const double from[] = {0, CLASSIFY_BLEND_HAM, CLASSIFY_BLEND_SPAM,
				      CLASSIFY_BLEND_DISCARD, 1};
	static const double to[] = {0, CLASSIFY_DEFAULT_HAM_CUTOFF, CLASSIFY_DEFAULT_SPAM_CUTOFF,
				    CLASSIFY_DEFAULT_DISCARD_CUTOFF, 1};

	if (x <= 0)
		return 0;
	for (unsigned i = 1; i < 5; i++)
		if (x <= from[i])
			return to[i - 1] +
			       (x - from[i - 1]) * (to[i] - to[i - 1]) / (from[i] - from[i - 1]);
	return 1;
}

/* Memory mode: trains the second opinion on everything learned so far if
 * something was learned since the last training. */
static int mem_train(struct classifier *c)
{
	struct trainset ts = {0};
	int r = 0;

	pthread_rwlock_rdlock(&c->lock);
	bool dirty = c->mem_dirty;
	pthread_rwlock_unlock(&c->lock);
	if (!dirty)
		return 0;
	pthread_rwlock_wrlock(&c->lock);
	if (c->mem_dirty) {
		const struct hashlog *l = &c->mem_learned;

		/* the newest messages first, as from the ledger */
		for (size_t i = l->nmsg; i-- > 0 && r == 0;)
			r = trainset_add(&ts, c->model, l->h + l->msg[i].off, l->msg[i].n,
					 l->msg[i].spam);
		if (r > 0)
			r = 0;
		if (r == 0)
			r = second_train(c->model, &ts, c->set.second_rate, c->set.second_epochs);
		if (r == 0)
			c->mem_dirty = false;
	}
	pthread_rwlock_unlock(&c->lock);
	trainset_clear(&ts);
	return r;
}

static int score_impl(struct classifier *c, struct store_conn *conn,
		      const struct classify_input *in, struct classify_result *out, bool full)
{
	struct classify_settings set;
	struct tokenizer *t = NULL;
	struct scratch *w = NULL;
	unsigned n, k;
	bool cold, use_starter, ready;
	double margin;
	int r;

	memset(out, 0, sizeof(*out));
	if (in->site && strlen(in->site) > CLASSIFY_SITE_MAX)
		return -EINVAL;
	if (conn) {
		r = refresh(c, conn);
		if (r == 0)
			r = ensure_site(c, conn, in->site);
		if (r < 0)
			return r;
	} else {
		r = mem_train(c);
		if (r < 0)
			return r;
	}
	pthread_rwlock_rdlock(&c->lock);
	use_starter = c->set.starter;
	pthread_rwlock_unlock(&c->lock);
	if (use_starter) {
		r = ensure_starter(c);
		if (r < 0)
			return r;
	}
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	r = pool_get(c, &t);
	if (r < 0)
		goto out;
	r = submission_tokens(c, t, in, full);
	if (r < 0)
		goto out;
	n = distinct_hashes(c, t, w->h);
	k = find_clues(c, w, n, in->site, &set, &cold, &margin, &ready);
	if (k > set.max_tokens || full) {
		qsort(w->clues, k, sizeof(*w->clues), cmp_clue);
		if (k > set.max_tokens)
			k = set.max_tokens;
	}
	{
		const double weights[3] = {[TOKEN_PLAIN] = 1,
					   [TOKEN_PAIR] = set.pair_weight,
					   [TOKEN_GRAM] = set.gram_weight};

		out->bayes = combine_kinds(w->clues, tokenizer_tokens(t)->kind, k, weights);
	}
	out->second = 1 / (1 + exp(-margin));
	out->blended = set.second_weight > 0 && ready;
	out->score = out->blended ? classify_blend_scale((1 - set.second_weight) * out->bayes +
							 set.second_weight * out->second)
				  : out->bayes;
	out->cold_start = cold;
	out->model = clues_model(w->clues, k);
	r = full ? score_details(&set, t, w, n, k, in->honeypot_filled, out) : 0;
out:
	pool_put(c, t);
	free(w);
	if (r < 0)
		classify_result_clear(out);
	return r;
}

int classifier_score(struct classifier *c, struct store_conn *conn, const struct classify_input *in,
		     struct classify_result *out)
{
	return score_impl(c, conn, in, out, true);
}

int classifier_score_only(struct classifier *c, struct store_conn *conn,
			  const struct classify_input *in, double *score)
{
	struct classify_result res;
	int r = score_impl(c, conn, in, &res, false);

	*score = res.score;
	return r;
}

void classify_result_clear(struct classify_result *out)
{
	if (!out)
		return;
	free(out->features);
	free(out->tokens_json);
	memset(out, 0, sizeof(*out));
}

int classifier_learned(struct classifier *c, struct store_conn *conn, const char *site,
		       struct classify_learned *out)
{
	struct layers l;
	int r = 0;

	if (site && strlen(site) > CLASSIFY_SITE_MAX)
		return -EINVAL;
	if (conn) {
		r = refresh(c, conn);
		if (r == 0)
			r = ensure_site(c, conn, site);
		if (r < 0)
			return r;
	}
	pthread_rwlock_rdlock(&c->lock);
	layers_of(c, site, &l);
	layers_learned(&l, out);
	pthread_rwlock_unlock(&c->lock);
	return 0;
}

int classifier_counts(struct classifier *c, struct store_conn *conn, uint64_t *nspam,
		      uint64_t *nham)
{
	if (conn) {
		int r = refresh(c, conn);

		if (r < 0)
			return r;
	}
	pthread_rwlock_rdlock(&c->lock);
	*nspam = c->model->nspam;
	*nham = c->model->nham;
	pthread_rwlock_unlock(&c->lock);
	return 0;
}

/* ---- learning ----------------------------------------------------------- */

static const char sql_ledger_get[] =
    "SELECT label, tokens, site FROM classifier_learned WHERE msg_key = ?1";
/* The SQL below is written for both engines (docs/postgresql-port.md): ON
 * CONFLICT instead of INSERT OR REPLACE, the target's columns qualified in
 * DO UPDATE, CASE instead of two-argument max, generations drawn in C. */
static const char sql_ledger_put[] =
    "INSERT INTO classifier_learned(msg_key, label, tokens, learned, site)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(msg_key) DO UPDATE SET label = excluded.label,"
    " tokens = excluded.tokens, learned = excluded.learned, site = excluded.site";
static const char sql_ledger_del[] = "DELETE FROM classifier_learned WHERE msg_key = ?1";
/* A message's token hashes go to the statements below as one text
 * parameter (?1), a JSON array of their values as signed 64-bit integers
 * ("[-5,17]"), so that a message's counts change in a constant number of
 * statements (one round trip each on PostgreSQL), not one or two a token.
 * Exact on both engines: SQLite's json_each reads a 64-bit integer as one,
 * and schema/pg's json_each(text) gives an element's own text (json, not
 * jsonb: no double on the way), cast to BIGINT.  No list names a hash
 * twice (db_tokens).  Lists are sorted, so an upsert writes its rows in
 * the index's order; an update's or a delete's order is its plan's (on
 * PostgreSQL a hash of the list), as arbitrary as the text order of the
 * statement per token before.  Concurrent learners cannot deadlock on
 * them: writers take turns (SQLite's BEGIN IMMEDIATE, PostgreSQL's
 * advisory lock in store_begin). */
#define TOKEN_LIST "(SELECT CAST(value AS BIGINT) FROM json_each(?1))"
/* A list holds at most TOKEN_CHUNK hashes (a message has at most
 * MAX_HASHES, TOKENIZE_MAX_TOKENS; a longer ledger row goes in several
 * lists: the same counts).  At most 21 bytes a value, so about 21 KiB a
 * parameter, far below SQLite's SQLITE_LIMIT_LENGTH (4 MiB, lib/store.c). */
#define TOKEN_CHUNK    MAX_HASHES
#define TOKEN_LIST_MAX (TOKEN_CHUNK * 21 + 3)
/* Statements in pairs (store_stmt_pick) where the engines differ.  On
 * SQLite, a write of many rows that may fail midway keeps a statement
 * journal; a message's rows spread over many pages of a large table, and
 * the journal spilled to a temporary file past STORE_STMT_JOURNAL_MEMORY
 * (commentctl learn of 5,574 SMS made five times the write calls of the
 * per-token statements, which changed a row each and needed none).  So
 * SQLite's statements are OR FAIL or OR IGNORE (no journal), and its
 * upsert is two statements, the update of the rows there (DO UPDATE would
 * always keep a journal) and OR IGNORE's insert of the others; PostgreSQL,
 * where each is a round trip, has one upsert.  No constraint can fail in
 * them (the counts never go below 0); a failure of another kind (a full
 * disk) rolls SQLite's transaction back, as it did for the statements
 * per token. */
static const struct store_sql sql_token_add = {
    "UPDATE OR FAIL classifier_tokens SET spam = spam + ?2, ham = ham + ?3, last_seen = ?4"
    " WHERE hash IN " TOKEN_LIST,
    "INSERT INTO classifier_tokens(hash, spam, ham, last_seen)"
    " SELECT CAST(value AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT), CAST(?4 AS BIGINT)"
    " FROM json_each(?1) ON CONFLICT(hash) DO UPDATE"
    " SET spam = classifier_tokens.spam + excluded.spam,"
    " ham = classifier_tokens.ham + excluded.ham, last_seen = excluded.last_seen"};
/* SQLite only: the rows sql_token_add's update did not find. */
static const struct store_sql sql_token_new = {
    "INSERT OR IGNORE INTO classifier_tokens(hash, spam, ham, last_seen)"
    " SELECT CAST(value AS BIGINT), ?2, ?3, ?4 FROM json_each(?1)",
    NULL};
#define SQL_TOKEN_SUB                                                                              \
	" classifier_tokens SET spam = CASE WHEN spam > ?2 THEN spam - ?2 ELSE 0 END,"             \
	" ham = CASE WHEN ham > ?3 THEN ham - ?3 ELSE 0 END WHERE hash IN " TOKEN_LIST
#define SQL_TOKEN_GC                                                                               \
	"DELETE FROM classifier_tokens WHERE hash IN " TOKEN_LIST " AND spam = 0 AND ham = 0"
static const struct store_sql sql_token_sub = {"UPDATE OR FAIL" SQL_TOKEN_SUB,
					       "UPDATE" SQL_TOKEN_SUB};
static const struct store_sql sql_token_gc = {SQL_TOKEN_GC, SQL_TOKEN_GC};
static const char sql_state_add[] =
    "UPDATE classifier_state SET nspam = CASE WHEN nspam + ?1 > 0 THEN nspam + ?1 ELSE 0 END,"
    " nham = CASE WHEN nham + ?2 > 0 THEN nham + ?2 ELSE 0 END, generation = ?3 WHERE id = 1";
/* A site's own counts (?4: the site), beside the shared ones. */
static const struct store_sql sql_site_token_add = {
    "UPDATE OR FAIL classifier_site_tokens SET spam = spam + ?2, ham = ham + ?3"
    " WHERE site = ?4 AND hash IN " TOKEN_LIST,
    "INSERT INTO classifier_site_tokens(site, hash, spam, ham)"
    " SELECT CAST(?4 AS TEXT), CAST(value AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT)"
    " FROM json_each(?1) ON CONFLICT(site, hash) DO UPDATE"
    " SET spam = classifier_site_tokens.spam + excluded.spam,"
    " ham = classifier_site_tokens.ham + excluded.ham"};
static const struct store_sql sql_site_token_new = {
    "INSERT OR IGNORE INTO classifier_site_tokens(site, hash, spam, ham)"
    " SELECT ?4, CAST(value AS BIGINT), ?2, ?3 FROM json_each(?1)",
    NULL};
#define SQL_SITE_TOKEN_SUB                                                                         \
	" classifier_site_tokens SET spam = CASE WHEN spam > ?2 THEN spam - ?2 ELSE 0 END,"        \
	" ham = CASE WHEN ham > ?3 THEN ham - ?3 ELSE 0 END"                                       \
	" WHERE site = ?4 AND hash IN " TOKEN_LIST
#define SQL_SITE_TOKEN_GC                                                                          \
	"DELETE FROM classifier_site_tokens WHERE site = ?4"                                       \
	" AND hash IN " TOKEN_LIST " AND spam = 0 AND ham = 0"
static const struct store_sql sql_site_token_sub = {"UPDATE OR FAIL" SQL_SITE_TOKEN_SUB,
						    "UPDATE" SQL_SITE_TOKEN_SUB};
static const struct store_sql sql_site_token_gc = {SQL_SITE_TOKEN_GC, SQL_SITE_TOKEN_GC};
static const char sql_site_state_add[] =
    "INSERT INTO classifier_site_state(site, nspam, nham) VALUES (?3,"
    " CASE WHEN CAST(?1 AS BIGINT) > 0 THEN ?1 ELSE 0 END,"
    " CASE WHEN CAST(?2 AS BIGINT) > 0 THEN ?2 ELSE 0 END) ON CONFLICT(site) DO UPDATE SET"
    " nspam = CASE WHEN classifier_site_state.nspam + ?1 > 0"
    " THEN classifier_site_state.nspam + ?1 ELSE 0 END,"
    " nham = CASE WHEN classifier_site_state.nham + ?2 > 0"
    " THEN classifier_site_state.nham + ?2 ELSE 0 END";

/* A new generation of the learned counts (caches compare it): random, as
 * SQLite's random() gave it, drawn here for both engines. */
static int64_t new_generation(void)
{
	int64_t g;

	randombytes_buf(&g, sizeof(g));
	return g;
}

static int step_done(struct store_conn *conn, struct store_stmt *q, const char *what)
{
	if (!q)
		return -EIO;
	return store_run(conn, q, what);
}

/* The JSON array of h[0..n) (n <= TOKEN_CHUNK) in out (TOKEN_LIST_MAX
 * bytes); returns its length. */
static size_t token_list(char *out, const uint64_t *h, size_t n)
{
	size_t len = 0;

	out[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, TOKEN_LIST_MAX - len, "%s%lld", i ? "," : "",
					(long long)(int64_t)h[i]);
	out[len++] = ']';
	out[len] = '\0';
	return len;
}

/* Runs one of the statements above over the list (?1): ?2 and ?3 the
 * counts of a message, ?4 the site or the time of a learning (d[2]), as
 * far as the statement has parameters. */
static int run_tokens(struct store_conn *conn, const struct store_sql *sql, const char *list,
		      size_t len, const char *site, const int64_t d[3], const char *what)
{
	struct store_stmt *q = store_stmt_pick(conn, sql);
	int np;

	if (!q)
		return -EIO;
	np = store_bind_count(q);
	store_bind_text_len(q, 1, list, len);
	if (np >= 3) {
		store_bind_int64(q, 2, d[0]);
		store_bind_int64(q, 3, d[1]);
	}
	if (np >= 4 && site)
		store_bind_text(q, 4, site);
	else if (np >= 4)
		store_bind_int64(q, 4, d[2]);
	return step_done(conn, q, what);
}

static int cmp_hash(const void *a, const void *b)
{
	const uint64_t *ua = a, *ub = b;
	int64_t x = (int64_t)ua[0], y = (int64_t)ub[0];

	return x < y ? -1 : x > y;
}

/* The hashes of sorted s[0..n) listed more than pass times, once each,
 * into out; returns their number. */
static size_t token_pass(const uint64_t *s, size_t n, size_t pass, uint64_t *out)
{
	size_t m = 0;

	for (size_t i = 0, run = 0; i < n; i++) {
		run = i > 0 && s[i] == s[i - 1] ? run + 1 : 0;
		if (run == pass)
			out[m++] = s[i];
	}
	return m;
}

/* Adds (sign +1) or subtracts (-1) one message's token counts in the
 * shared tables, or with site in that site's own (its rows at 0/0 go):
 * an upsert (on SQLite an update and an insert of the rows it did not
 * find), or an update and a delete, per list of at most TOKEN_CHUNK
 * hashes.  A hash listed k times (a features blob is the caller's) counts
 * k times, as when each listed hash had statements of its own: the sorted
 * hashes go in passes, the p-th holding those listed more than p times
 * (one pass but for such a blob), so that no list names a row twice (an
 * upsert may not touch a row twice on PostgreSQL, and IN would count it
 * once), and a subtraction clamps and cleans up after each pass. */
static int db_tokens(struct store_conn *conn, const char *site, const uint64_t *h, size_t n,
		     int64_t ds, int64_t dh, int sign)
{
	const struct store_sql *sql = site ? (sign > 0 ? &sql_site_token_add : &sql_site_token_sub)
					   : (sign > 0 ? &sql_token_add : &sql_token_sub);
	const struct store_sql *gc = site ? &sql_site_token_gc : &sql_token_gc;
	const int64_t d[3] = {ds, dh, (int64_t)time(NULL)};
	uint64_t *s = malloc(n ? 2 * n * sizeof(*s) : 1), *p = NULL;
	char *list = malloc(TOKEN_LIST_MAX);
	size_t m = 1;
	int r = s && list ? 0 : -ENOMEM;

	if (r == 0)
		p = s + n;
	if (r == 0 && n) {
		memcpy(s, h, n * sizeof(*s));
		qsort(s, n, sizeof(*s), cmp_hash);
	}
	for (size_t pass = 0; r == 0 && m > 0; pass++) {
		m = token_pass(s, n, pass, p);
		for (size_t i = 0; i < m && r == 0; i += TOKEN_CHUNK) {
			size_t len =
			    token_list(list, p + i, m - i < TOKEN_CHUNK ? m - i : TOKEN_CHUNK);

			r = run_tokens(conn, sql, list, len, site, d, "classifier token update");
			if (r == 0 && sign > 0 && !store_postgresql(conn))
				r = run_tokens(conn, site ? &sql_site_token_new : &sql_token_new,
					       list, len, site, d, "classifier token insert");
			if (r == 0 && sign < 0)
				r = run_tokens(conn, gc, list, len, site, d,
					       "classifier token cleanup");
		}
	}
	free(list);
	free(s);
	return r;
}

/* One message's counts in and out of the shared model and, with site, the
 * site's own learning. */
static int db_apply(struct store_conn *conn, const char *site, const uint64_t *h, size_t n,
		    enum classify_label label, int sign)
{
	int64_t ds = label == CLASSIFY_LABEL_SPAM, dh = label == CLASSIFY_LABEL_HAM;
	struct store_stmt *q;
	int r;

	r = db_tokens(conn, NULL, h, n, ds, dh, sign);
	if (r == 0 && site)
		r = db_tokens(conn, site, h, n, ds, dh, sign);
	if (r != 0)
		return r;
	if (site) {
		q = store_stmt(conn, sql_site_state_add);
		if (!q)
			return -EIO;
		store_bind_int64(q, 1, sign * ds);
		store_bind_int64(q, 2, sign * dh);
		store_bind_text(q, 3, site);
		r = step_done(conn, q, "classifier site state update");
		if (r != 0)
			return r;
	}
	q = store_stmt(conn, sql_state_add);
	if (!q)
		return -EIO;
	store_bind_int64(q, 1, sign * ds);
	store_bind_int64(q, 2, sign * dh);
	store_bind_int64(q, 3, new_generation());
	return step_done(conn, q, "classifier state update");
}

static const char *label_name(enum classify_label l)
{
	return l == CLASSIFY_LABEL_SPAM ? "spam" : "ham";
}

/* Reads the ledger row of key: 0 found (*label, *hashes malloc'ed, *n, the
 * site it was learned for in site, "" for none), CLASSIFY_NOT_FOUND, or
 * negative. */
static int ledger_get(struct store_conn *conn, const char *key, enum classify_label *label,
		      uint64_t **hashes, size_t *n, char site[CLASSIFY_SITE_MAX + 1])
{
	struct store_stmt *q = store_stmt(conn, sql_ledger_get);
	const unsigned char *blob;
	int rc, r, bytes;

	if (!q)
		return -EIO;
	store_bind_text(q, 1, key);
	rc = store_step_write(conn, q, "classifier ledger read");
	if (rc == 0) {
		r = CLASSIFY_NOT_FOUND;
		goto out;
	}
	if (rc != 1) {
		r = rc == STORE_CONSTRAINT ? -EIO : rc;
		goto out;
	}
	*label =
	    strcmp(store_col_text(q, 0), "spam") == 0 ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM;
	snprintf(site, CLASSIFY_SITE_MAX + 1, "%s",
		 store_col_type(q, 2) == STORE_NULL ? "" : store_col_text(q, 2));
	blob = store_col_blob(q, 1);
	bytes = store_col_bytes(q, 1);
	*n = (size_t)bytes / 8;
	*hashes = malloc(*n ? *n * 8 : 1);
	if (!*hashes) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < *n; i++) {
		uint64_t v = 0;

		for (int b = 7; b >= 0; b--)
			v = (v << 8) | blob[i * 8 + (size_t)b];
		(*hashes)[i] = v;
	}
	r = 0;
out:
	store_reset(q);
	return r;
}

/* Learning needs the database's hash key but not a fresh model (reloading
 * after every learned message would make bulk learning quadratic). */
static int ensure_key(struct classifier *c, struct store_conn *conn)
{
	struct state_row st;
	int r = 0;

	pthread_mutex_lock(&c->reload_lock);
	if (!c->have_key) {
		r = read_state(c, conn, &st, true);
		if (r == 0)
			c->have_key = true;
	}
	pthread_mutex_unlock(&c->reload_lock);
	return r;
}

/* Learns the distinct token hashes h[0..n) as message_key (ledger, counts),
 * inside the caller's transaction; a relabelled message is unlearned first. */
static int learn_hashes(struct classifier *c, struct store_conn *conn, const char *message_key,
			const char *site, const uint64_t *hashes, size_t n,
			enum classify_label label)
{
	char old_site[CLASSIFY_SITE_MAX + 1];
	uint64_t *old = NULL;
	unsigned char *blob = NULL;
	enum classify_label old_label;
	size_t n_old = 0;
	int r;

	if (!message_key || !message_key[0] || strlen(message_key) > MAX_KEY_BYTES ||
	    (site && (!site[0] || strlen(site) > CLASSIFY_SITE_MAX)))
		return -EINVAL;
	r = ensure_key(c, conn);
	if (r < 0)
		return r;
	r = ledger_get(conn, message_key, &old_label, &old, &n_old, old_site);
	if (r < 0)
		goto out;
	if (r == 0 && old_label == label && strcmp(old_site, site ? site : "") == 0) {
		r = CLASSIFY_ALREADY;
		goto out;
	}
	if (r == 0) {
		r = db_apply(conn, old_site[0] ? old_site : NULL, old, n_old, old_label, -1);
		if (r != 0)
			goto out;
	}
	r = db_apply(conn, site, hashes, n, label, +1);
	if (r != 0)
		goto out;
	blob = malloc(n ? 8 * n : 1);
	r = -ENOMEM;
	if (!blob)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			blob[i * 8 + (unsigned)b] = (unsigned char)(hashes[i] >> (8 * b));
	struct store_stmt *q = store_stmt(conn, sql_ledger_put);

	r = -EIO;
	if (!q)
		goto out;
	store_bind_text(q, 1, message_key);
	store_bind_text(q, 2, label_name(label));
	store_bind_blob(q, 3, blob, n * 8);
	store_bind_int64(q, 4, (int64_t)time(NULL));
	if (site)
		store_bind_text(q, 5, site);
	r = step_done(conn, q, "classifier ledger write");
out:
	free(blob);
	free(old);
	return r;
}

/* In memory: the shared model and, with site, the site's own. */
static int memory_learn(struct classifier *c, const char *site, const uint64_t *hashes, unsigned n,
			enum classify_label label)
{
	int64_t ds = label == CLASSIFY_LABEL_SPAM, dh = !ds;
	struct model *models[2] = {NULL, NULL};
	struct site_model *sm;
	int r = 0;

	pthread_rwlock_wrlock(&c->lock);
	models[0] = c->model;
	if (site) {
		sm = site_entry(c, site);
		if (sm && !sm->m)
			sm->m = model_new(0, true);
		models[1] = sm ? sm->m : NULL;
		if (!models[1])
			r = -ENOMEM;
	}
	for (int k = 0; k < 2 && r == 0; k++) {
		if (!models[k])
			continue;
		for (unsigned i = 0; i < n && r == 0; i++)
			r = model_add(models[k], hashes[i], ds, dh);
		models[k]->nspam += (uint64_t)ds;
		models[k]->nham += (uint64_t)dh;
	}
	/* the second opinion is trained (on the shared model) before the next
	 * score, on everything learned */
	if (r == 0)
		r = hashlog_add(&c->mem_learned, hashes, n, label == CLASSIFY_LABEL_SPAM);
	c->mem_dirty = true;
	pthread_rwlock_unlock(&c->lock);
	return r;
}

int classifier_learn(struct classifier *c, struct store_conn *conn, const char *message_key,
		     const struct classify_input *in, enum classify_label label)
{
	struct tokenizer *t = NULL;
	struct thash *th = NULL;
	uint64_t *hashes = NULL;
	unsigned n;
	int r;

	if (conn && (!message_key || !message_key[0] || strlen(message_key) > MAX_KEY_BYTES))
		return -EINVAL;
	if (conn) {
		/* Token hashes are keyed with the database's key. */
		r = ensure_key(c, conn);
		if (r < 0)
			return r;
	}
	th = malloc(sizeof(*th) * MAX_HASHES);
	hashes = calloc(MAX_HASHES, sizeof(*hashes));
	r = -ENOMEM;
	if (!th || !hashes)
		goto out;
	r = pool_get(c, &t);
	if (r < 0)
		goto out;
	r = submission_tokens(c, t, in, false);
	if (r < 0)
		goto out;
	n = distinct_hashes(c, t, th);
	for (unsigned i = 0; i < n; i++)
		hashes[i] = th[i].h;
	if (!conn) {
		r = memory_learn(c, in->site, hashes, n, label);
		goto out;
	}
	r = learn_hashes(c, conn, message_key, in->site, hashes, n, label);
out:
	pool_put(c, t);
	free(th);
	free(hashes);
	return r;
}

int classifier_learn_features(struct classifier *c, struct store_conn *conn,
			      const char *message_key, const char *site, const void *features,
			      size_t len, enum classify_label label)
{
	const unsigned char *p = features;
	uint64_t *hashes;
	size_t n = len / 8;
	int r;

	if (!conn || len % 8 != 0 || n > MAX_HASHES)
		return 1;
	hashes = malloc(n ? n * sizeof(*hashes) : 1);
	if (!hashes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (int b = 7; b >= 0; b--)
			v = (v << 8) | p[i * 8 + (size_t)b];
		hashes[i] = v;
	}
	r = learn_hashes(c, conn, message_key, site, hashes, n, label);
	free(hashes);
	return r;
}

static const char sql_prune[] =
    "DELETE FROM classifier_tokens WHERE spam + ham <= 1 AND last_seen < ?1";
/* A pruned token goes from the sites' own learning too. */
static const char sql_prune_sites[] =
    "DELETE FROM classifier_site_tokens WHERE spam + ham <= 1 AND NOT EXISTS"
    " (SELECT 1 FROM classifier_tokens t WHERE t.hash = classifier_site_tokens.hash)";
static const char sql_touch_generation[] =
    "UPDATE classifier_state SET generation = ?1 WHERE id = 1";

int classifier_prune(struct classifier *c, struct store_conn *conn, int64_t before,
		     unsigned *pruned)
{
	struct store_stmt *q = store_stmt(conn, sql_prune);
	int r;

	(void)c;
	*pruned = 0;
	if (!q)
		return -EIO;
	store_bind_int64(q, 1, before);
	r = step_done(conn, q, "classifier prune");
	if (r != 0)
		return r;
	*pruned = (unsigned)store_changes(conn);
	if (*pruned == 0)
		return 0;
	r = step_done(conn, store_stmt(conn, sql_prune_sites), "classifier prune of sites");
	if (r != 0)
		return r;
	/* Unlearning a pruned token later finds no row and changes nothing. */
	q = store_stmt(conn, sql_touch_generation);
	if (!q)
		return -EIO;
	store_bind_int64(q, 1, new_generation());
	return step_done(conn, q, "classifier generation");
}

int classifier_forget(struct classifier *c, struct store_conn *conn, const char *message_key)
{
	char site[CLASSIFY_SITE_MAX + 1];
	enum classify_label label;
	uint64_t *old = NULL;
	size_t n = 0;
	int r;

	if (!conn || !message_key)
		return -EINVAL;
	r = ensure_key(c, conn);
	if (r < 0)
		return r;
	r = ledger_get(conn, message_key, &label, &old, &n, site);
	if (r != 0)
		goto out;
	r = db_apply(conn, site[0] ? site : NULL, old, n, label, -1);
	if (r != 0)
		goto out;
	struct store_stmt *q = store_stmt(conn, sql_ledger_del);

	r = -EIO;
	if (!q)
		goto out;
	store_bind_text(q, 1, message_key);
	r = step_done(conn, q, "classifier ledger delete");
out:
	free(old);
	return r;
}
