/* commentctl import: other systems' comments into commentd (lib/import.h).
 * Progress goes to standard error when it is a terminal; the summary to
 * standard output (--json: the report as JSON). */
#include "ctl.h"

#include "classify.h"
#include "config.h"
#include "import.h"
#include "site.h"
#include "store.h"
#include "text.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_FORMAT = 0x100,
	OPT_MAP,
	OPT_SOURCE,
	OPT_LEARN,
	OPT_PINGBACKS,
	OPT_BATCH,
	OPT_JSON,
};

static const struct option import_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT}, {"map", required_argument, NULL, OPT_MAP},
    {"source", required_argument, NULL, OPT_SOURCE}, {"learn", no_argument, NULL, OPT_LEARN},
    {"pingbacks", no_argument, NULL, OPT_PINGBACKS}, {"batch", required_argument, NULL, OPT_BATCH},
    {"json", no_argument, NULL, OPT_JSON},	     {NULL, 0, NULL, 0},
};

static const char import_usage[] =
    "usage: commentctl import (--config FILE | --db DB --key KEY) --format FORMAT [--site ID]\n"
    "                         [OPTIONS] FILE\n"
    "Imports comments from another system (see docs/migrate.md).  FORMAT:\n"
    "  wxr       WordPress: Tools > Export (.xml, or .xml.gz)\n"
    "  disqus    Disqus: the XML export (.xml or .xml.gz)\n"
    "  isso      Isso: its SQLite database file (read only)\n"
    "  remark42  Remark42: a backup file (JSON Lines, .gz or not)\n"
    "  waline    Waline: the admin's Export (waline.json)\n"
    "  jsonl     commentd: commentctl export --format jsonl\n"
    "Options:\n"
    "  --site ID       the site the comments go to (default: the site 'default', or the\n"
    "                  only one); without it, a commentd export's comments go to the\n"
    "                  sites they name\n"
    "  --map FILE      'OLD NEW' path pairs for moved posts ('/old/* /new/*' for a prefix)\n"
    "  --source NAME   the name ids are remembered under (default: the format and the\n"
    "                  file's own name for its site); importing it again into the\n"
    "                  same site adds nothing\n"
    "  --learn         the classifier learns the published comments as ham, spam as spam\n"
    "  --pingbacks     keep WordPress pingbacks and trackbacks as comments\n"
    "  --batch N       comments per transaction (default 500)\n"
    "  --json          print the report as JSON\n";

struct import_args {
	struct import_options o;
	const char *map_path;
	bool json;
};

static int import_option(void *ctx, int opt, const char *arg)
{
	struct import_args *a = ctx;
	unsigned long long n;

	switch (opt) {
	case OPT_FORMAT:
		if (import_format_parse(arg, &a->o.format) != 0) {
			fprintf(stderr,
				"commentctl: unknown format '%s' (wxr, disqus, isso, "
				"remark42, waline, jsonl)\n",
				arg);
			return CTL_USAGE;
		}
		a->o.path = ""; /* marks the format as given */
		return 0;
	case OPT_MAP:
		a->map_path = arg;
		return 0;
	case OPT_SOURCE:
		if (!*arg || strlen(arg) > IMPORT_SOURCE_MAX) {
			fprintf(stderr, "commentctl: --source is 1 to %d bytes\n",
				IMPORT_SOURCE_MAX);
			return CTL_USAGE;
		}
		a->o.source = arg;
		return 0;
	case OPT_LEARN:
		a->o.learn = true;
		return 0;
	case OPT_PINGBACKS:
		a->o.pingbacks = true;
		return 0;
	case OPT_BATCH:
		if (text_parse_uint(arg, 100000, &n) != 0 || n == 0) {
			fprintf(stderr, "commentctl: --batch must be a number from 1 to 100000\n");
			return CTL_USAGE;
		}
		a->o.batch = (unsigned)n;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	default:
		return CTL_USAGE;
	}
}

/* "1:02" */
static void clock_text(double s, char out[32])
{
	long t = s < 0 ? 0 : s > 359999 ? 359999 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, 32, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, 32, "%ld:%02ld", t / 60, t % 60);
}

/* The progress line on a terminal: counts, rate, time left. */
static void show_progress(void *ctx, const struct import_progress *p)
{
	bool bytes = strcmp(p->phase, "reading") == 0;
	double rate = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
	char left[32] = "?", took[32];

	(void)ctx;
	if (p->total && rate > 0)
		clock_text((double)(p->total - (p->done < p->total ? p->done : p->total)) / rate,
			   left);
	clock_text(p->elapsed, took);
	if (bytes && p->total)
		fprintf(stderr, "\r%s: %.1f of %.1f MB (%.0f%%), %s, %s left   ", p->phase,
			(double)p->done / 1e6, (double)p->total / 1e6,
			100.0 * (double)p->done / (double)p->total, took, left);
	else if (bytes)
		fprintf(stderr, "\r%s: %s   ", p->phase, took);
	else
		fprintf(stderr, "\r%s: %llu of %llu comments, %.0f/s, %s left   ", p->phase,
			(unsigned long long)p->done, (unsigned long long)p->total, rate, left);
	if (p->total && p->done >= p->total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* "name n, name n" of a JSON object of counts. */
static void print_counts(const char *title, json_t *o)
{
	const char *k;
	json_t *v;
	json_int_t total = 0;
	bool first = true;

	json_object_foreach(o, k, v) total += json_integer_value(v);
	if (!total)
		return;
	printf("  %s %lld:", title, (long long)total);
	json_object_foreach(o, k, v)
	{
		printf("%s %s %lld", first ? "" : ",", k, (long long)json_integer_value(v));
		first = false;
	}
	printf("\n");
}

static void print_report(json_t *rep)
{
	json_t *st = json_object_get(rep, "status"), *threads = json_object_get(rep, "threads");
	json_t *learned = json_object_get(rep, "learned"), *v;
	const char *k, *site = json_string_value(json_object_get(rep, "site"));
	size_t i = 0;

	printf("imported %lld of %lld comments from %s into %s%s in %.1f s\n",
	       (long long)json_integer_value(json_object_get(rep, "imported")),
	       (long long)json_integer_value(json_object_get(rep, "records")),
	       json_string_value(json_object_get(rep, "source")), site ? "site " : "",
	       site ? site : "the sites the comments name",
	       json_real_value(json_object_get(rep, "seconds")));
	if (!site)
		print_counts("by site", json_object_get(rep, "sites"));
	print_counts("by status", st);
	printf("  threads %zu\n", json_object_size(threads));
	json_object_foreach(threads, k, v)
	{
		if (i++ == 20) {
			printf("    ... and %zu more\n", json_object_size(threads) - 20);
			break;
		}
		printf("    %6lld  %s\n", (long long)json_integer_value(v), k);
	}
	print_counts("skipped", json_object_get(rep, "skipped"));
	print_counts("top level (parent not imported)", json_object_get(rep, "top_level"));
	json_array_foreach(json_object_get(rep, "orphans"), i, v) printf(
	    "    %s: comment %s (parent %s: %s)\n", json_string_value(json_object_get(v, "at")),
	    json_string_value(json_object_get(v, "id")),
	    json_string_value(json_object_get(v, "parent")),
	    json_string_value(json_object_get(v, "reason")));
	print_counts("dropped fields", json_object_get(rep, "dropped"));
	if (json_integer_value(json_object_get(learned, "ham")) ||
	    json_integer_value(json_object_get(learned, "spam")))
		printf("  learned %lld ham, %lld spam\n",
		       (long long)json_integer_value(json_object_get(learned, "ham")),
		       (long long)json_integer_value(json_object_get(learned, "spam")));
}

/* Every configured site as the pipeline sees it (lib/site.h), sharing one
 * classifier configured as the daemon's. */
struct sites {
	struct site_set *set;
	struct classifier *cl;
	struct cutoffs_cache *cutoffs; /* the learned cut-offs of the sites */
	struct submit_site *v;
	size_t n;
};

static int open_sites(const struct ctl_env *e, struct sites *s)
{
	struct classify_settings cs;
	char err[CONFIG_ERR_MAX] = "";

	if (site_set_new(&s->set, e->cfg, err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err[0] ? err : "out of memory");
		return CTL_FAIL;
	}
	site_classify_settings(e->cfg, &cs);
	if (classifier_new(&s->cl, &cs) != 0) {
		fprintf(stderr,
			"commentctl: the configuration's classifier settings are invalid\n");
		return CTL_FAIL;
	}
	s->n = site_set_count(s->set);
	s->v = calloc(s->n, sizeof(*s->v));
	if (!s->v || cutoffs_cache_new(&s->cutoffs) != 0)
		return CTL_FAIL;
	for (size_t i = 0; i < s->n; i++) {
		const struct site *site = site_set_at(s->set, i);

		s->v[i] = (struct submit_site){
		    .id = site->id,
		    .cfg = site->cfg,
		    .keys = e->keys,
		    .classifier = s->cl,
		    .cutoffs = s->cutoffs,
		    .policy = site->policy,
		    .classify = &site->classify,
		    .host = site->host,
		    .origins = site->origins,
		};
	}
	return CTL_OK;
}

static void close_sites(struct sites *s)
{
	free(s->v);
	classifier_free(s->cl);
	cutoffs_cache_free(s->cutoffs);
	site_set_free(s->set);
}

static int run_import(struct ctl_env *e, struct import_args *a)
{
	struct sites sites = {0};
	struct import_map *map = NULL;
	struct import_error err = {0};
	struct store_conn *c;
	json_t *rep = NULL;
	int r;

	if (e->n_sites > 1) {
		fprintf(stderr, "commentctl: an import goes into one site: give --site once\n");
		return CTL_USAGE;
	}
	if (a->map_path && import_map_load(&map, a->map_path, &err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err.message);
		return CTL_FAIL;
	}
	r = open_sites(e, &sites);
	if (r == CTL_OK) {
		a->o.path = e->operands[0];
		a->o.site = e->n_sites ? e->sites[0] : NULL;
		a->o.map = map;
		a->o.now = (int64_t)time(NULL);
		if (isatty(STDERR_FILENO))
			a->o.progress = show_progress;
		c = store_acquire(e->store);
		r = import_run(c, sites.v, sites.n, &a->o, &rep, &err) == 0 ? CTL_OK : CTL_FAIL;
		store_release(e->store, c);
		if (r != CTL_OK)
			fprintf(stderr, "commentctl: import of %s failed: %s\n", a->o.path,
				err.message[0] ? err.message : "internal error");
	}
	if (r == CTL_OK && a->json)
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	else if (r == CTL_OK)
		print_report(rep);
	json_decref(rep);
	import_map_free(map);
	close_sites(&sites);
	return r;
}

static int import_need(void *ctx)
{
	struct import_args *a = ctx;

	if (!a->o.path) {
		fprintf(stderr, "commentctl: say which format: --format FORMAT\n%s", import_usage);
		return -1;
	}
	return CTL_NEED_DB | CTL_NEED_KEY;
}

int cmd_import(int argc, char **argv)
{
	struct import_args a = {0};
	struct ctl_spec spec = {
	    .usage = import_usage,
	    .options = import_options,
	    .option = import_option,
	    .ctx = &a,
	    .need_of = import_need,
	    .min_operands = 1,
	    .max_operands = 1,
	    .sites = true,
	};
	struct ctl_env e;
	int r = ctl_env_open(&e, &spec, argc, argv);

	if (r == CTL_OK)
		r = run_import(&e, &a);
	ctl_env_close(&e);
	return ctl_exit(r);
}
