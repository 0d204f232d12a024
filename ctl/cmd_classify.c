/* commentctl learn / score / eval / eval-split / tokens: the spam classifier
 * from the command line.  Input is JSON Lines, one object a line:
 *   {"text": "...", "author": "...", "email": "...", "url": "...", "ip": "...",
 *    "user_agent": "...", "referrer": "...", "id": "...", "label": "spam"|"ham",
 *    "site": "...", "site_host": "...", "thread": "/path", "page_title": "..."}
 * Only "text" is required ("label" for eval).  "site" (or --site for lines
 * without one) names the site whose own learning a line is learned into or
 * scored with (lib/classify.h, "Sites").
 */
#include "ctl.h"

#include "classify.h"
#include "cutoffs.h"
#include "starter.h"
#include "store.h"
#include "text.h"
#include "tokenize.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LINE  (64 * 1024)
#define MAX_ITEMS 1000000

/* ---- shared ------------------------------------------------------------- */

enum {
	OPT_HAM_CUTOFF = 0x100,
	OPT_SPAM_CUTOFF,
	OPT_DISCARD_CUTOFF,
	OPT_MIN_LEARNED,
	OPT_ROBS,
	OPT_ROBX,
	OPT_MIN_DEV,
	OPT_MAX_TOKENS,
	OPT_PAIR_WEIGHT,
	OPT_GRAM_WEIGHT,
	OPT_STARTER,
	OPT_STARTER_FILE,
	OPT_STARTER_WEIGHT,
	OPT_SECOND_RATE,
	OPT_SECOND_WEIGHT,
	OPT_SECOND_EPOCHS,
	OPT_SHARED_STRENGTH,
	OPT_SPAM,
	OPT_HAM,
	OPT_FORGET,
	OPT_FOLDS,
	OPT_SEED,
	OPT_THRESHOLD,
	OPT_TRAIN,
	OPT_TEST,
	OPT_REPEAT,
	OPT_PARTS,
	OPT_PREQUENTIAL,
};

static const struct option settings_options[] = {
    {"ham-cutoff", required_argument, NULL, OPT_HAM_CUTOFF},
    {"spam-cutoff", required_argument, NULL, OPT_SPAM_CUTOFF},
    {"discard-cutoff", required_argument, NULL, OPT_DISCARD_CUTOFF},
    {"min-learned", required_argument, NULL, OPT_MIN_LEARNED},
    {"robs", required_argument, NULL, OPT_ROBS},
    {"robx", required_argument, NULL, OPT_ROBX},
    {"min-dev", required_argument, NULL, OPT_MIN_DEV},
    {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS},
    {"pair-weight", required_argument, NULL, OPT_PAIR_WEIGHT},
    {"gram-weight", required_argument, NULL, OPT_GRAM_WEIGHT},
    {"starter", required_argument, NULL, OPT_STARTER},
    {"starter-file", required_argument, NULL, OPT_STARTER_FILE},
    {"starter-weight", required_argument, NULL, OPT_STARTER_WEIGHT},
    {"second-rate", required_argument, NULL, OPT_SECOND_RATE},
    {"second-weight", required_argument, NULL, OPT_SECOND_WEIGHT},
    {"second-epochs", required_argument, NULL, OPT_SECOND_EPOCHS},
    {"shared-strength", required_argument, NULL, OPT_SHARED_STRENGTH},
    {NULL, 0, NULL, 0},
};

#define SETTINGS_HELP                                                                              \
	"  --ham-cutoff X --spam-cutoff X --discard-cutoff X   verdict cut-offs\n"                 \
	"  --min-learned N                     cold-start count per class\n"                       \
	"  --robs X --robx X --min-dev X --max-tokens N        scoring parameters\n"               \
	"  --pair-weight X --gram-weight X     weight of word-pair / 4-gram tokens\n"              \
	"  --starter on|off  --starter-weight N   the starter model and its weight\n"              \
	"  --starter-file FILE                 a starter model instead of the built-in one\n"      \
	"  --second-rate X --second-weight X --second-epochs N   the second opinion\n"             \
	"  --shared-strength N                 own occurrences the other sites' f is worth\n"

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (errno || end == s || *end) ? -1 : 0;
}

static int parse_unsigned(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;

	if (text_parse_uint(s, max, &v) != 0)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

/* --starter-file: the model text (kept until exit: the classifier points
 * into it) and its parsed form. */
static char *starter_text;
static struct starter *starter_custom;

/* Reads and parses a starter model file.  0 or -1 (printed). */
static int load_starter_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char err[STARTER_ERR_MAX];
	size_t len = 0, cap = 1 << 20, got;
	int r;

	if (!f) {
		fprintf(stderr, "commentctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	free(starter_text);
	starter_custom = starter_free(starter_custom);
	starter_text = malloc(cap);
	while (starter_text && (got = fread(starter_text + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap && cap < STARTER_MAX_BYTES) {
			char *p = realloc(starter_text, cap * 2);

			if (!p)
				break;
			starter_text = p;
			cap *= 2;
		} else if (len == cap) {
			break;
		}
	}
	fclose(f);
	if (!starter_text)
		return -1;
	r = starter_parse(&starter_custom, starter_text, len, err);
	if (r != 0) {
		fprintf(stderr, "commentctl: %s: %s\n", path, r > 0 ? err : "out of memory");
		return -1;
	}
	return 0;
}

/* Applies a settings option; 0 handled, 1 not a settings option, -1 bad value. */
static int settings_option(int opt, const char *arg, struct classify_settings *s)
{
	unsigned long u;
	double d;

	switch (opt) {
	case OPT_STARTER:
		if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
			return -1;
		s->starter = strcmp(arg, "on") == 0;
		return 0;
	case OPT_STARTER_FILE:
		return load_starter_file(arg) == 0 ? 0 : -1;
	case OPT_MIN_LEARNED:
	case OPT_MAX_TOKENS:
	case OPT_SECOND_EPOCHS:
		if (parse_unsigned(arg, 1000000, &u) < 0)
			return -1;
		if (opt == OPT_MIN_LEARNED)
			s->min_learned = (unsigned)u;
		else if (opt == OPT_SECOND_EPOCHS)
			s->second_epochs = (unsigned)u;
		else
			s->max_tokens = (unsigned)u;
		return 0;
	case OPT_HAM_CUTOFF:
	case OPT_SPAM_CUTOFF:
	case OPT_DISCARD_CUTOFF:
	case OPT_ROBS:
	case OPT_ROBX:
	case OPT_MIN_DEV:
	case OPT_PAIR_WEIGHT:
	case OPT_GRAM_WEIGHT:
	case OPT_STARTER_WEIGHT:
	case OPT_SECOND_RATE:
	case OPT_SECOND_WEIGHT:
	case OPT_SHARED_STRENGTH:
		if (parse_double(arg, &d) < 0)
			return -1;
		if (opt == OPT_SECOND_RATE)
			s->second_rate = d;
		else if (opt == OPT_SECOND_WEIGHT)
			s->second_weight = d;
		else if (opt == OPT_HAM_CUTOFF)
			s->ham_cutoff = d;
		else if (opt == OPT_SPAM_CUTOFF)
			s->spam_cutoff = d;
		else if (opt == OPT_DISCARD_CUTOFF)
			s->discard_cutoff = d;
		else if (opt == OPT_ROBS)
			s->robs = d;
		else if (opt == OPT_ROBX)
			s->robx = d;
		else if (opt == OPT_PAIR_WEIGHT)
			s->pair_weight = d;
		else if (opt == OPT_GRAM_WEIGHT)
			s->gram_weight = d;
		else if (opt == OPT_STARTER_WEIGHT)
			s->starter_weight = d;
		else if (opt == OPT_SHARED_STRENGTH)
			s->shared_strength = d;
		else
			s->min_dev = d;
		return 0;
	default:
		return 1;
	}
}

static int new_classifier(const struct classify_settings *s, struct classifier **out)
{
	int r = classifier_new(out, s);

	if (r == 0 && starter_custom)
		classifier_use_starter(*out, starter_custom);
	if (r > 0)
		fprintf(stderr, "commentctl: invalid classifier settings\n");
	else if (r < 0)
		fprintf(stderr, "commentctl: cannot create the classifier\n");
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static const char *str_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One parsed line; strings point into obj. */
struct item {
	json_t *obj;
	struct classify_input in;
	int label; /* -1 none, else enum classify_label */
	double score;
};

/* Parses line into it.  0, or 1 if the line is not a usable object. */
static int parse_item(const char *line, size_t len, struct item *it)
{
	json_error_t err;
	const char *label;
	json_t *v;

	memset(it, 0, sizeof(*it));
	it->obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(it->obj) || !str_field(it->obj, "text")) {
		json_decref(it->obj);
		it->obj = NULL;
		return 1;
	}
	it->in.text = str_field(it->obj, "text");
	it->in.author = str_field(it->obj, "author");
	it->in.email = str_field(it->obj, "email");
	it->in.url = str_field(it->obj, "url");
	it->in.ip = str_field(it->obj, "ip");
	it->in.user_agent = str_field(it->obj, "user_agent");
	it->in.referrer = str_field(it->obj, "referrer");
	it->in.site_host = str_field(it->obj, "site_host");
	it->in.thread = str_field(it->obj, "thread");
	it->in.page_title = str_field(it->obj, "page_title");
	v = json_object_get(it->obj, "render_seconds");
	it->in.render_seconds = json_is_integer(v) ? (long)json_integer_value(v) : -1;
	it->in.honeypot_filled = json_is_true(json_object_get(it->obj, "honeypot"));
	it->in.site = str_field(it->obj, "site");
	if (it->in.site && (!it->in.site[0] || strlen(it->in.site) > CLASSIFY_SITE_MAX)) {
		json_decref(it->obj);
		it->obj = NULL;
		return 1;
	}
	it->label = -1;
	label = str_field(it->obj, "label");
	if (label && strcmp(label, "spam") == 0)
		it->label = CLASSIFY_LABEL_SPAM;
	else if (label && strcmp(label, "ham") == 0)
		it->label = CLASSIFY_LABEL_HAM;
	return 0;
}

/* The ledger key of an item: its "id", or a hash of its content (text,
 * author, url; never the e-mail address or IP). */
static void item_key(const struct item *it, char *out, size_t outsz)
{
	json_t *id = json_object_get(it->obj, "id");
	unsigned char h[16];
	char hex[33];
	crypto_generichash_state st;

	if (json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) <= 150) {
		snprintf(out, outsz, "id:%s", json_string_value(id));
		return;
	}
	if (json_is_integer(id)) {
		snprintf(out, outsz, "id:%lld", (long long)json_integer_value(id));
		return;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	const char *parts[] = {it->in.text, it->in.author, it->in.url};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *p = parts[i] ? parts[i] : "";

		crypto_generichash_update(&st, (const unsigned char *)p, strlen(p) + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outsz, "sha:%s", hex);
}

struct items {
	struct item *v;
	size_t n, cap;
};

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->v[i].obj);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Reads a whole labelled JSON Lines file.  CTL_OK or CTL_FAIL (printed). */
static int read_items(const char *path, bool need_label, struct items *out)
{
	FILE *f = ctl_open_input(path);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	long len;
	int r = CTL_FAIL;

	if (!f)
		return CTL_FAIL;
	while ((len = ctl_read_line(f, &line, &cap, MAX_LINE)) != -1) {
		lineno++;
		if (len == 0)
			continue;
		if (len < 0) {
			fprintf(stderr, "commentctl: %s:%zu: line too long\n", path, lineno);
			goto out;
		}
		if (out->n == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 1024;
			struct item *p;

			if (ncap > MAX_ITEMS) {
				fprintf(stderr, "commentctl: more than %d lines\n", MAX_ITEMS);
				goto out;
			}
			p = realloc(out->v, ncap * sizeof(*p));
			if (!p)
				goto out;
			out->v = p;
			out->cap = ncap;
		}
		if (parse_item(line, (size_t)len, &out->v[out->n]) != 0 ||
		    (need_label && out->v[out->n].label < 0)) {
			json_decref(out->v[out->n].obj);
			fprintf(stderr, "commentctl: %s:%zu: not a %sJSON object with \"text\"\n",
				path, lineno, need_label ? "labelled " : "");
			goto out;
		}
		out->n++;
	}
	r = CTL_OK;
out:
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: throughput on a loaded machine */
static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- learn ---------------------------------------------------------------- */

static const char learn_usage[] =
    "usage: commentctl learn (--db DB | --config FILE) [--spam|--ham|--forget] [--site ID] "
    "[FILE]\n"
    "Learns every JSON line of FILE (default stdin) in one transaction.\n"
    "Without --spam/--ham each line's \"label\" is used.  A line is\n"
    "identified by its \"id\" or else a hash of its text, author and url:\n"
    "learning it again is a no-op, with the other label it is relearned.\n"
    "--forget unlearns the lines instead.  A line is learned into the shared\n"
    "model and, with \"site\" (or --site), into that site's own learning.\n";

struct learn_args {
	int label; /* -1: each line's own */
	bool forget;
};

static const struct option learn_options[] = {
    {"spam", no_argument, NULL, OPT_SPAM},
    {"ham", no_argument, NULL, OPT_HAM},
    {"forget", no_argument, NULL, OPT_FORGET},
    {NULL, 0, NULL, 0},
};

static int learn_option(void *ctx, int opt, const char *arg)
{
	struct learn_args *a = ctx;

	(void)arg;
	if (opt == OPT_SPAM)
		a->label = CLASSIFY_LABEL_SPAM;
	else if (opt == OPT_HAM)
		a->label = CLASSIFY_LABEL_HAM;
	else if (opt == OPT_FORGET)
		a->forget = true;
	else
		return CTL_USAGE;
	return 0;
}

/* learn and score take at most one --site (for lines without "site"). */
static int one_site(const struct ctl_env *e)
{
	if (e->n_sites <= 1)
		return CTL_OK;
	fprintf(stderr, "commentctl: give one --site (lines may name their own with \"site\")\n");
	return CTL_USAGE;
}

/* Learns (or forgets) every item in one transaction.  CTL_OK or CTL_FAIL. */
static int learn_items(struct store *store, const struct items *items, const struct learn_args *a)
{
	struct store_conn *conn = store_acquire(store);
	struct classifier *cls = NULL;
	size_t learned = 0, already = 0;
	int r, status = CTL_FAIL;

	if (new_classifier(NULL, &cls) != CTL_OK || store_begin(conn) != 0)
		goto out;
	for (size_t i = 0; i < items->n; i++) {
		char key[256];

		item_key(&items->v[i], key, sizeof(key));
		if (a->forget)
			r = classifier_forget(cls, conn, key);
		else
			r = classifier_learn(cls, conn, key, &items->v[i].in,
					     a->label >= 0
						 ? (enum classify_label)a->label
						 : (enum classify_label)items->v[i].label);
		if (r < 0 || r > CLASSIFY_NOT_FOUND) {
			fprintf(stderr, "commentctl: line %zu: learning failed; nothing learned\n",
				i + 1);
			goto out;
		}
		if (r == 0)
			learned++;
		else
			already++;
	}
	if (store_commit(conn) != 0) {
		fprintf(stderr, "commentctl: commit failed; nothing learned\n");
		goto out;
	}
	fprintf(stderr, "%s %zu message(s); %zu %s\n", a->forget ? "forgot" : "learned", learned,
		already, a->forget ? "were not learned" : "already known with that label");
	status = CTL_OK;
out:
	store_release(store, conn);
	classifier_free(cls);
	return status;
}

int cmd_learn(int argc, char **argv)
{
	struct learn_args a = {.label = -1};
	struct ctl_spec spec = {
	    .usage = learn_usage,
	    .need = CTL_NEED_DB,
	    .options = learn_options,
	    .option = learn_option,
	    .ctx = &a,
	    .max_operands = 1,
	    .sites = true,
	};
	struct items items = {0};
	struct ctl_env e;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK)
		r = one_site(&e);
	if (r == CTL_OK)
		r = read_items(e.noperands ? e.operands[0] : "-", a.label < 0 && !a.forget, &items);
	for (size_t i = 0; r == CTL_OK && e.n_sites && i < items.n; i++) {
		if (!items.v[i].in.site)
			items.v[i].in.site = e.sites[0];
	}
	if (r == CTL_OK)
		r = learn_items(e.store, &items, &a);
	items_free(&items);
	ctl_env_close(&e);
	return ctl_exit(r);
}

/* ---- score ---------------------------------------------------------------- */

static const char score_usage[] =
    "usage: commentctl score (--db DB | --config FILE) [--site ID] [OPTIONS] [FILE]\n"
    "Prints for every JSON line of FILE (default stdin) one line\n"
    "{\"score\":S,\"verdict\":V,\"cold_start\":B,\"model\":M,\"bayes\":S,\"second\":P,\n"
    "\"blended\":B,\"tokens\":[...]} (model: none, starter, site or both; bayes: the\n"
    "Bayesian score; second: the second opinion; blended: whether it counted;\n"
    "plus \"id\" when the input has one).\n" SETTINGS_HELP;

static int settings_cb(void *ctx, int opt, const char *arg)
{
	if (settings_option(opt, arg, ctx) != 0) {
		fprintf(stderr, "commentctl: bad value for a classifier option: %s\n", arg);
		return CTL_USAGE;
	}
	return 0;
}

/* --site of score: the site of lines without "site". */
static const char *score_site;

/* One input line scored as a JSON line on stdout.  0 or -1. */
static int score_line(struct classifier *cls, struct store_conn *conn, const struct item *it)
{
	struct classify_input in = it->in;
	struct classify_result res;
	json_t *out, *tokens, *id;
	char *s;

	if (!in.site)
		in.site = score_site;
	if (classifier_score(cls, conn, &in, &res) != 0)
		return -1;
	tokens = json_loads(res.tokens_json, 0, NULL);
	out = json_pack("{s:f,s:s,s:b,s:s,s:f,s:f,s:b,s:o}", "score", res.score, "verdict",
			classify_verdict_name(res.verdict), "cold_start", res.cold_start, "model",
			classify_model_name(res.model), "bayes", res.bayes, "second", res.second,
			"blended", res.blended, "tokens", tokens ? tokens : json_array());
	id = json_object_get(it->obj, "id");
	if (out && id)
		json_object_set(out, "id", id);
	s = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(out);
	classify_result_clear(&res);
	return 0;
}

/* Scores each line of f.  CTL_OK or CTL_FAIL. */
static int score_lines(struct classifier *cls, struct store *store, FILE *f, const char *path)
{
	struct store_conn *conn = store_acquire(store);
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	int status = CTL_FAIL;
	long len;

	while ((len = ctl_read_line(f, &line, &cap, MAX_LINE)) != -1) {
		struct item it;
		int r;

		lineno++;
		if (len == 0)
			continue;
		if (len < 0 || parse_item(line, (size_t)len, &it) != 0) {
			fprintf(stderr, "commentctl: %s:%zu: not a JSON object with \"text\"\n",
				path, lineno);
			goto out;
		}
		r = score_line(cls, conn, &it);
		json_decref(it.obj);
		if (r != 0) {
			fprintf(stderr, "commentctl: scoring failed\n");
			goto out;
		}
	}
	status = fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
out:
	free(line);
	store_release(store, conn);
	return status;
}

int cmd_score(int argc, char **argv)
{
	struct classify_settings set;
	struct ctl_spec spec = {
	    .usage = score_usage,
	    .need = CTL_NEED_DB,
	    .options = settings_options,
	    .option = settings_cb,
	    .ctx = &set,
	    .max_operands = 1,
	    .sites = true,
	};
	struct classifier *cls = NULL;
	const char *path;
	struct ctl_env e;
	FILE *f = NULL;
	int r;

	classify_settings_default(&set);
	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK)
		r = one_site(&e);
	if (r != CTL_OK)
		goto out;
	score_site = e.n_sites ? e.sites[0] : NULL;
	path = e.noperands ? e.operands[0] : "-";
	r = new_classifier(&set, &cls);
	if (r == CTL_OK) {
		f = ctl_open_input(path);
		r = f ? score_lines(cls, e.store, f, path) : CTL_FAIL;
	}
out:
	if (f && f != stdin)
		fclose(f);
	classifier_free(cls);
	ctl_env_close(&e);
	return ctl_exit(r);
}

/* ---- eval ------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int cmp_score_desc(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

struct metrics {
	double acc, mcc, auc, ham_rejected, spam_published, queued;
	size_t nspam, nham;
};

static void compute_metrics(struct item *v, size_t n, double threshold,
			    const struct classify_settings *set, struct metrics *m)
{
	size_t tp = 0, tn = 0, fp = 0, fn = 0, hrej = 0, spub = 0, q = 0;
	struct item **sorted = malloc(n * sizeof(*sorted));
	double rank_sum = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		bool spam = v[i].label == CLASSIFY_LABEL_SPAM, says = v[i].score >= threshold;

		tp += spam && says;
		fn += spam && !says;
		fp += !spam && says;
		tn += !spam && !says;
		if (!spam && v[i].score >= set->spam_cutoff)
			hrej++;
		if (spam && v[i].score < set->ham_cutoff)
			spub++;
		if (v[i].score >= set->ham_cutoff && v[i].score < set->spam_cutoff)
			q++;
	}
	m->nspam = tp + fn;
	m->nham = tn + fp;
	m->acc = n ? (double)(tp + tn) / (double)n : 0;
	double den =
	    sqrt((double)(tp + fp) * (double)(tp + fn) * (double)(tn + fp) * (double)(tn + fn));
	m->mcc = den > 0 ? ((double)tp * (double)tn - (double)fp * (double)fn) / den : 0;
	m->ham_rejected = m->nham ? (double)hrej / (double)m->nham : 0;
	m->spam_published = m->nspam ? (double)spub / (double)m->nspam : 0;
	m->queued = n ? (double)q / (double)n : 0;
	if (!sorted)
		return;
	/* AUC = Mann-Whitney U with average ranks for ties (ascending ranks) */
	for (size_t i = 0; i < n; i++)
		sorted[i] = &v[i];
	qsort(sorted, n, sizeof(*sorted), cmp_score_desc);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && sorted[j]->score == sorted[i]->score)
			j++;
		double rank = (double)n - ((double)i + (double)j - 1) / 2; /* ascending rank */

		for (size_t k = i; k < j; k++)
			if (sorted[k]->label == CLASSIFY_LABEL_SPAM)
				rank_sum += rank;
		i = j;
	}
	if (m->nspam && m->nham)
		m->auc = (rank_sum - (double)m->nspam * ((double)m->nspam + 1) / 2) /
			 ((double)m->nspam * (double)m->nham);
	free(sorted);
}

static const char eval_usage[] =
    "usage: commentctl eval [--folds K] [--seed S] [--threshold T] [OPTIONS] FILE\n"
    "Stratified K-fold cross-validation (default 10) on labelled JSON\n"
    "Lines, in memory.  Prints accuracy and MCC at threshold T (default\n"
    "0.5), AUC, and at the cut-offs the share of ham auto-rejected,\n"
    "spam auto-published and comments queued.\n" SETTINGS_HELP;

struct eval_args {
	struct classify_settings set;
	unsigned long folds, seed, repeat;
	double threshold;
	bool parts;
	const char *train, *test;
	const char *prequential; /* eval-split: each training item's score before it
				    was learned goes here ("SCORE spam|ham") */
};

static const struct option eval_options[] = {
    {"folds", required_argument, NULL, OPT_FOLDS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"train", required_argument, NULL, OPT_TRAIN},
    {"test", required_argument, NULL, OPT_TEST},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"parts", no_argument, NULL, OPT_PARTS},
    {"prequential", required_argument, NULL, OPT_PREQUENTIAL},
    {NULL, 0, NULL, 0},
};

static int eval_option(void *ctx, int opt, const char *arg)
{
	struct eval_args *a = ctx;
	int bad = 0;

	if (opt == OPT_FOLDS)
		bad = parse_unsigned(arg, 100, &a->folds) < 0 || a->folds < 2;
	else if (opt == OPT_SEED)
		bad = parse_unsigned(arg, ~0UL, &a->seed) < 0;
	else if (opt == OPT_THRESHOLD)
		bad = parse_double(arg, &a->threshold) < 0;
	else if (opt == OPT_TRAIN)
		a->train = arg;
	else if (opt == OPT_TEST)
		a->test = arg;
	else if (opt == OPT_REPEAT)
		bad = parse_unsigned(arg, 100000, &a->repeat) < 0 || a->repeat == 0;
	else if (opt == OPT_PARTS)
		a->parts = true;
	else if (opt == OPT_PREQUENTIAL)
		a->prequential = arg;
	else
		return settings_cb(&a->set, opt, arg);
	if (bad) {
		fprintf(stderr, "commentctl: bad value: %s\n", arg);
		return CTL_USAGE;
	}
	return 0;
}

/* Assigns each item a fold: each class shuffled, its members dealt
 * round-robin (stratified).  0 or -1. */
static int assign_folds(const struct items *items, unsigned long folds, unsigned long seed,
			unsigned *fold)
{
	uint64_t rng = seed;
	size_t *idx = malloc(items->n * sizeof(*idx));

	if (!idx)
		return -1;
	for (int cls = 0; cls < 2; cls++) {
		size_t n = 0;

		for (size_t i = 0; i < items->n; i++)
			if (items->v[i].label == cls)
				idx[n++] = i;
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(rng_next(&rng) % i), t = idx[i - 1];

			idx[i - 1] = idx[j];
			idx[j] = t;
		}
		for (size_t i = 0; i < n; i++)
			fold[idx[i]] = (unsigned)((i + (size_t)cls) % folds);
	}
	free(idx);
	return 0;
}

/* Learns every fold but k in memory and scores fold k.  0 or -1. */
static int eval_fold(const struct classify_settings *set, struct items *items, const unsigned *fold,
		     unsigned k)
{
	struct classifier *cls = NULL;
	int r = -1;

	if (new_classifier(set, &cls) != CTL_OK)
		return -1;
	for (size_t i = 0; i < items->n; i++) {
		if (fold[i] != k && classifier_learn(cls, NULL, NULL, &items->v[i].in,
						     (enum classify_label)items->v[i].label) != 0)
			goto out;
	}
	for (size_t i = 0; i < items->n; i++) {
		if (fold[i] == k &&
		    classifier_score_only(cls, NULL, &items->v[i].in, &items->v[i].score) != 0)
			goto out;
	}
	r = 0;
out:
	classifier_free(cls);
	return r;
}

static void print_metrics(const struct eval_args *a, size_t n, const struct metrics *m)
{
	printf("items %zu (%zu spam, %zu ham), %lu folds, seed %lu\n", n, m->nspam, m->nham,
	       a->folds, a->seed);
	printf("accuracy %.4f  MCC %.4f  (threshold %.2f)  AUC %.4f\n", m->acc, m->mcc,
	       a->threshold, m->auc);
	printf("cut-offs ham < %.3f, spam >= %.3f: ham auto-rejected %.2f %%, spam auto-published "
	       "%.2f %%, queued %.2f %%\n",
	       a->set.ham_cutoff, a->set.spam_cutoff, 100 * m->ham_rejected,
	       100 * m->spam_published, 100 * m->queued);
}

int cmd_eval(int argc, char **argv)
{
	struct eval_args a = {.folds = 10, .seed = 1, .repeat = 1, .threshold = 0.5};
	struct ctl_spec spec = {
	    .usage = eval_usage,
	    .options = eval_options,
	    .more_options = settings_options,
	    .option = eval_option,
	    .ctx = &a,
	    .min_operands = 1,
	    .max_operands = 1,
	};
	struct items items = {0};
	unsigned *fold = NULL;
	struct ctl_env e;
	struct metrics m;
	int r;

	classify_settings_default(&a.set);
	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK)
		goto out;
	r = read_items(e.operands[0], true, &items);
	if (r != CTL_OK)
		goto out;
	r = CTL_FAIL;
	if (items.n < a.folds) {
		fprintf(stderr, "commentctl: fewer lines than folds\n");
		goto out;
	}
	fold = malloc(items.n * sizeof(*fold));
	if (!fold || assign_folds(&items, a.folds, a.seed, fold) < 0)
		goto out;
	for (unsigned k = 0; k < a.folds; k++) {
		if (eval_fold(&a.set, &items, fold, k) < 0)
			goto out;
	}
	compute_metrics(items.v, items.n, a.threshold, &a.set, &m);
	print_metrics(&a, items.n, &m);
	r = CTL_OK;
out:
	free(fold);
	items_free(&items);
	ctl_env_close(&e);
	return ctl_exit(r);
}

/* ---- eval-split (hidden; for bench/classifier.py) --------------------------- */

static const char eval_split_usage[] =
    "usage: commentctl eval-split --train FILE --test FILE [--repeat N]\n"
    "                             [--prequential OUT] [OPTIONS]\n"
    "Learns FILE --train in memory, scores --test and prints one score a line\n"
    "(and the learning and scoring rates on stderr).  --prequential: scores\n"
    "each training item before it is learned, in the file's order, as a\n"
    "site's comments are scored when they arrive, and writes \"SCORE spam|ham\"\n"
    "lines to OUT (what `commentctl cutoffs` reads).\n" SETTINGS_HELP;

/* Learns the training items in order; with out, scores each first and
 * writes "SCORE spam|ham" to out.  CTL_OK or CTL_FAIL. */
static int learn_split(struct classifier *cls, const struct items *tr, FILE *out)
{
	for (size_t i = 0; i < tr->n; i++) {
		double score;

		if (out) {
			if (classifier_score_only(cls, NULL, &tr->v[i].in, &score) != 0)
				return CTL_FAIL;
			fprintf(out, "%.17g %s\n", score,
				tr->v[i].label == CLASSIFY_LABEL_SPAM ? "spam" : "ham");
		}
		if (classifier_learn(cls, NULL, NULL, &tr->v[i].in,
				     (enum classify_label)tr->v[i].label) != 0)
			return CTL_FAIL;
	}
	return CTL_OK;
}

/* Scores every test item repeat times; prints the scores and the rates. */
static int split_run(struct classifier *cls, const struct items *tr, struct items *te,
		     const struct eval_args *a)
{
	unsigned long repeat = a->repeat;
	bool parts = a->parts;
	double t0, t1, t2, c1, c2;
	FILE *pre = NULL;
	int r;

	if (a->prequential) {
		pre = fopen(a->prequential, "w");
		if (!pre) {
			fprintf(stderr, "commentctl: %s: cannot write\n", a->prequential);
			return CTL_FAIL;
		}
	}
	t0 = now_seconds();
	r = learn_split(cls, tr, pre);
	if (pre && fclose(pre) != 0)
		r = CTL_FAIL;
	if (r != CTL_OK)
		return r;
	t1 = now_seconds();
	c1 = cpu_seconds();
	for (unsigned long k = 0; k < repeat; k++)
		for (size_t i = 0; i < te->n; i++)
			if (classifier_score_only(cls, NULL, &te->v[i].in, &te->v[i].score) != 0)
				return CTL_FAIL;
	t2 = now_seconds();
	c2 = cpu_seconds();
	for (size_t i = 0; i < te->n; i++) {
		if (!parts) {
			printf("%.17g\n", te->v[i].score);
			continue;
		}
		struct classify_result res;

		if (classifier_score(cls, NULL, &te->v[i].in, &res) != 0)
			return CTL_FAIL;
		printf("%.17g %.17g %.17g\n", res.score, res.bayes, res.second);
		classify_result_clear(&res);
	}
	fprintf(stderr, "learn_per_s %.0f classify_per_s %.0f classify_per_cpu_s %.0f\n",
		t1 > t0 ? (double)tr->n / (t1 - t0) : 0,
		t2 > t1 ? (double)(te->n * repeat) / (t2 - t1) : 0,
		c2 > c1 ? (double)(te->n * repeat) / (c2 - c1) : 0);
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}

int cmd_eval_split(int argc, char **argv)
{
	struct eval_args a = {.folds = 10, .seed = 1, .repeat = 1, .threshold = 0.5};
	struct ctl_spec spec = {
	    .usage = eval_split_usage,
	    .options = eval_options,
	    .more_options = settings_options,
	    .option = eval_option,
	    .ctx = &a,
	};
	struct items tr = {0}, te = {0};
	struct classifier *cls = NULL;
	struct ctl_env e;
	int r;

	classify_settings_default(&a.set);
	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK && (!a.train || !a.test)) {
		fprintf(stderr, "%s", eval_split_usage);
		r = CTL_USAGE;
	}
	if (r == CTL_OK)
		r = read_items(a.train, true, &tr);
	if (r == CTL_OK)
		r = read_items(a.test, false, &te);
	if (r == CTL_OK)
		r = new_classifier(&a.set, &cls);
	if (r == CTL_OK)
		r = split_run(cls, &tr, &te, &a);
	items_free(&tr);
	items_free(&te);
	classifier_free(cls);
	ctl_env_close(&e);
	return ctl_exit(r);
}

/* ---- tokens (hidden; for tools/build-starter.py) ----------------------------- */

static const char tokens_usage[] =
    "usage: commentctl tokens [FILE]\n"
    "Prints for every JSON line of FILE (default stdin) the distinct tokens of\n"
    "its \"text\" (text and text meta tokens, no submission meta tokens) as a\n"
    "JSON array, one line each.\n";

/* The distinct tokens of l as a JSON array. */
static json_t *token_array(const struct token_list *l)
{
	json_t *arr = json_array(), *seen = json_object();

	for (unsigned i = 0; arr && seen && i < l->n; i++) {
		if (json_object_get(seen, l->tok[i]))
			continue;
		json_object_set_new(seen, l->tok[i], json_true());
		json_array_append_new(arr, json_string(l->tok[i]));
	}
	json_decref(seen);
	return arr;
}

static int tokens_lines(FILE *f, const char *path)
{
	struct tokenizer *t = NULL;
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	int status = CTL_FAIL;
	long len;

	if (tokenizer_new(&t) != 0)
		return CTL_FAIL;
	while ((len = ctl_read_line(f, &line, &cap, MAX_LINE)) != -1) {
		struct item it;
		json_t *arr;
		char *s;

		lineno++;
		if (len == 0)
			continue;
		if (len < 0 || parse_item(line, (size_t)len, &it) != 0) {
			fprintf(stderr, "commentctl: %s:%zu: not a JSON object with \"text\"\n",
				path, lineno);
			goto out;
		}
		tokenizer_reset(t);
		tokenizer_text(t, it.in.text, strlen(it.in.text));
		arr = token_array(tokenizer_tokens(t));
		s = arr ? json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		json_decref(arr);
		json_decref(it.obj);
		if (!s)
			goto out;
		printf("%s\n", s);
		free(s);
	}
	status = fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
out:
	free(line);
	tokenizer_free(t);
	return status;
}

int cmd_tokens(int argc, char **argv)
{
	struct ctl_spec spec = {
	    .usage = tokens_usage,
	    .max_operands = 1,
	};
	struct ctl_env e;
	FILE *f = NULL;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK) {
		const char *path = e.noperands ? e.operands[0] : "-";

		f = ctl_open_input(path);
		r = f ? tokens_lines(f, path) : CTL_FAIL;
	}
	if (f && f != stdin)
		fclose(f);
	ctl_env_close(&e);
	return ctl_exit(r);
}

/* ---- cutoffs ------------------------------------------------------------------ */

static const char cutoffs_usage[] =
    "usage: commentctl cutoffs [--ham-cutoff X] [--spam-cutoff Y] [FILE]\n"
    "Reads lines \"SCORE spam|ham\" (out-of-sample scores of decided comments)\n"
    "from FILE (default stdin) and prints the cut-offs a site with those\n"
    "decisions learns (lib/cutoffs.h) between the given bounds:\n"
    "  ham_cutoff H spam_cutoff S learned yes|no nspam N nham M\n";

/* Reads the samples of f into *v.  CTL_OK or CTL_FAIL (message printed). */
static int read_samples(FILE *f, const char *path, struct cutoffs_sample **v, size_t *n)
{
	size_t cap = 0, lineno = 0, vcap = 0;
	char *line = NULL, label[8];
	int status = CTL_FAIL;
	long len;

	while ((len = ctl_read_line(f, &line, &cap, MAX_LINE)) != -1) {
		double score;
		int used = 0;

		lineno++;
		if (len == 0)
			continue;
		if (len < 0 || sscanf(line, "%lf %7s%n", &score, label, &used) != 2 ||
		    line[used] != '\0' || !(score >= 0 && score <= 1) ||
		    (strcmp(label, "spam") != 0 && strcmp(label, "ham") != 0)) {
			fprintf(stderr, "commentctl: %s:%zu: not \"SCORE spam|ham\"\n", path,
				lineno);
			goto out;
		}
		if (*n == vcap) {
			struct cutoffs_sample *g;

			vcap = vcap ? 2 * vcap : 1024;
			g = realloc(*v, vcap * sizeof(*g));
			if (!g)
				goto out;
			*v = g;
		}
		(*v)[(*n)++] = (struct cutoffs_sample){score, label[0] == 's'};
	}
	status = CTL_OK;
out:
	free(line);
	return status;
}

int cmd_cutoffs(int argc, char **argv)
{
	struct classify_settings set;
	struct ctl_spec spec = {
	    .usage = cutoffs_usage,
	    .options = settings_options,
	    .option = settings_cb,
	    .ctx = &set,
	    .max_operands = 1,
	};
	struct cutoffs_sample *v = NULL;
	struct cutoffs_rule rule;
	struct cutoffs out;
	struct ctl_env e;
	FILE *f = NULL;
	size_t n = 0;
	int r;

	classify_settings_default(&set);
	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK) {
		const char *path = e.noperands ? e.operands[0] : "-";

		f = ctl_open_input(path);
		r = f ? read_samples(f, path, &v, &n) : CTL_FAIL;
	}
	if (r == CTL_OK) {
		cutoffs_rule_default(&rule, set.ham_cutoff, set.spam_cutoff);
		r = cutoffs_learn(&rule, v, n, &out) == 0 ? CTL_OK : CTL_FAIL;
	}
	if (r == CTL_OK)
		printf("ham_cutoff %.6g spam_cutoff %.6g learned %s nspam %u nham %u\n",
		       out.ham_cutoff, out.spam_cutoff, out.learned ? "yes" : "no", out.nspam,
		       out.nham);
	if (f && f != stdin)
		fclose(f);
	free(v);
	ctl_env_close(&e);
	return ctl_exit(r);
}
