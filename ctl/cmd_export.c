/* commentctl export: every comment as JSON Lines or WordPress WXR
 * (lib/export.h), of one site (--site) or of all, to standard output or
 * --out FILE (written to a temporary name and renamed, so a failed export
 * leaves no half file). */
#include "ctl.h"

#include "config.h"
#include "export.h"
#include "net.h"
#include "site.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_FORMAT = 0x100,
	OPT_OUT,
	OPT_ORIGIN,
};

static const struct option export_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"out", required_argument, NULL, OPT_OUT},
    {"origin", required_argument, NULL, OPT_ORIGIN},
    {NULL, 0, NULL, 0},
};

static const char export_usage[] =
    "usage: commentctl export (--config FILE | --db DB [--key KEY]) --format jsonl|wxr\n"
    "                         [--site ID] [--out FILE]\n"
    "Writes every comment (site, thread, parent, dates, status, author, website, text).\n"
    "E-mail addresses are not held, so not exported; with --key (or --config) the\n"
    "keyed e-mail hashes are, for a database with the same key.\n"
    "  --format jsonl   commentd's own format: `commentctl import --format jsonl` reads it\n"
    "  --format wxr     WordPress eXtended RSS (Tools > Import > WordPress); one site\n"
    "  --site ID        only that site's comments (default: every site's)\n"
    "  --out FILE       write to FILE instead of standard output\n"
    "  --origin URL     the blog's address for links (default: the site's first origin)\n";

struct export_args {
	enum export_format format;
	bool format_set;
	const char *out, *origin;
	bool key;
};

static int export_option(void *ctx, int opt, const char *arg)
{
	struct export_args *a = ctx;

	switch (opt) {
	case OPT_FORMAT:
		if (export_format_parse(arg, &a->format) != 0) {
			fprintf(stderr, "commentctl: unknown format '%s' (jsonl, wxr)\n", arg);
			return CTL_USAGE;
		}
		a->format_set = true;
		return 0;
	case OPT_OUT:
		a->out = arg;
		return 0;
	case OPT_ORIGIN:
		if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
			fprintf(stderr, "commentctl: --origin is an http:// or https:// address\n");
			return CTL_USAGE;
		}
		a->origin = arg;
		return 0;
	default:
		return CTL_USAGE;
	}
}

/* The key is used when given (--key, or --config naming one that exists). */
static int export_need(void *ctx)
{
	struct export_args *a = ctx;

	if (!a->format_set) {
		fprintf(stderr, "commentctl: say which format: --format jsonl|wxr\n%s",
			export_usage);
		return -1;
	}
	return CTL_NEED_DB | (a->key ? CTL_NEED_KEY : 0);
}

/* The configured sites' first origins (in set, which owns the strings). */
struct origins {
	struct site_set *set;
	struct export_origin *v;
	size_t n;
};

static int open_origins(const struct ctl_env *e, struct origins *o)
{
	char err[CONFIG_ERR_MAX] = "";

	if (site_set_new(&o->set, e->cfg, err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err[0] ? err : "out of memory");
		return CTL_FAIL;
	}
	o->n = site_set_count(o->set);
	o->v = calloc(o->n, sizeof(*o->v));
	if (!o->v)
		return CTL_FAIL;
	for (size_t i = 0; i < o->n; i++) {
		const struct site *s = site_set_at(o->set, i);

		o->v[i] = (struct export_origin){s->id, net_origins_first(s->origins)};
	}
	return CTL_OK;
}

/* --site: at most one, configured or holding comments in the database (a
 * site whose section was removed is still exported). */
static int check_site(const struct ctl_env *e, const struct origins *o, struct store_conn *c)
{
	int r;

	if (e->n_sites > 1) {
		fprintf(stderr,
			"commentctl: export one site (--site ID) or every site (no --site)\n");
		return CTL_USAGE;
	}
	if (!e->n_sites || site_set_find(o->set, e->sites[0]))
		return CTL_OK;
	r = export_site_present(c, e->sites[0]);
	if (r < 0)
		return CTL_FAIL;
	if (r == 0) {
		fprintf(stderr,
			"commentctl: there is no site %s: it is neither configured nor in the "
			"database\n",
			e->sites[0]);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* Writes the export to out.  CTL_OK, CTL_FAIL or CTL_USAGE (printed), or
 * -errno. */
static int write_export(struct ctl_env *e, struct export_args *a, FILE *out, uint64_t *n)
{
	struct origins org = {0};
	struct store_conn *c = store_acquire(e->store);
	int r = open_origins(e, &org);

	if (r == CTL_OK)
		r = check_site(e, &org, c);
	if (r == CTL_OK) {
		struct export_options o = {.format = a->format,
					   .keys = e->keys,
					   .origin = a->origin,
					   .site = e->n_sites ? e->sites[0] : NULL,
					   .origins = org.v,
					   .n_origins = org.n,
					   .now = (int64_t)time(NULL)};
		r = export_write(c, &o, out, n);
		if (r == EXPORT_SEVERAL_SITES) {
			fprintf(stderr,
				"commentctl: the database holds several sites' comments and "
				"a WXR file is one blog's: export each with --site ID\n");
			r = CTL_FAIL;
		}
	}
	store_release(e->store, c);
	free(org.v);
	site_set_free(org.set);
	return r;
}

static int run_export(struct ctl_env *e, struct export_args *a)
{
	char *tmp = NULL;
	uint64_t n = 0;
	FILE *out = stdout;
	int r;

	if (a->out &&
	    (asprintf(&tmp, "%s.tmp-%d", a->out, (int)getpid()) < 0 || !(out = fopen(tmp, "wx")))) {
		fprintf(stderr, "commentctl: cannot write %s: %s\n", a->out, strerror(errno));
		free(tmp);
		return CTL_FAIL;
	}
	r = write_export(e, a, out, &n);
	if (out != stdout && fclose(out) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && tmp && rename(tmp, a->out) != 0)
		r = -errno;
	if (r < 0)
		fprintf(stderr, "commentctl: export failed: %s\n", strerror(-r));
	if (r != 0 && tmp)
		unlink(tmp);
	else if (a->out)
		fprintf(stderr, "commentctl: exported %llu comments to %s\n", (unsigned long long)n,
			a->out);
	free(tmp);
	return r == 0 ? CTL_OK : r > 0 ? r : CTL_FAIL;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = {0};
	struct ctl_spec spec = {
	    .usage = export_usage,
	    .options = export_options,
	    .option = export_option,
	    .ctx = &a,
	    .need_of = export_need,
	    .min_operands = 0,
	    .max_operands = 0,
	    .sites = true,
	};
	struct ctl_env e;
	int r;

	/* --key (or a configuration) decides whether e-mail hashes go out. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--key") == 0 || strncmp(argv[i], "--key=", 6) == 0 ||
		    strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0)
			a.key = true;
	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK)
		r = run_export(&e, &a);
	ctl_env_close(&e);
	return ctl_exit(r);
}
