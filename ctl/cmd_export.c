/* commentctl export: every comment as JSON Lines or WordPress WXR
 * (lib/export.h), to standard output or --out FILE (written to a temporary
 * name and renamed, so a failed export leaves no half file). */
#include "ctl.h"

#include "config.h"
#include "export.h"
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
    "usage: commentctl export --db DB [--key KEY] --format jsonl|wxr [--out FILE]\n"
    "Writes every comment (thread, parent, dates, status, author, website, text).\n"
    "E-mail addresses are not held, so not exported; with --key (or --config) the\n"
    "keyed e-mail hashes are, for a database with the same key.\n"
    "  --format jsonl   commentd's own format: `commentctl import --format jsonl` reads it\n"
    "  --format wxr     WordPress eXtended RSS (Tools > Import > WordPress)\n"
    "  --out FILE       write to FILE instead of standard output\n"
    "  --origin URL     the blog's address for links (default: the first site_origins)\n";

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

/* The first of the configured origins ("https://a https://b"). */
static char *first_origin(const struct config *cfg)
{
	const char *s = cfg->site_origins;
	size_t n;

	s += strspn(s, " ,\t");
	n = strcspn(s, " ,\t");
	return n ? strndup(s, n) : NULL;
}

static int run_export(struct ctl_env *e, struct export_args *a)
{
	struct export_options o = {a->format, e->keys, a->origin, NULL, (int64_t)time(NULL)};
	char *origin = a->origin ? NULL : first_origin(e->cfg), *tmp = NULL;
	struct store_conn *c;
	uint64_t n = 0;
	FILE *out = stdout;
	int r;

	if (!a->origin)
		o.origin = origin;
	if (a->out &&
	    (asprintf(&tmp, "%s.tmp-%d", a->out, (int)getpid()) < 0 || !(out = fopen(tmp, "wx")))) {
		fprintf(stderr, "commentctl: cannot write %s: %s\n", a->out, strerror(errno));
		free(tmp);
		free(origin);
		return CTL_FAIL;
	}
	c = store_acquire(e->store);
	r = export_write(c, &o, out, &n);
	store_release(e->store, c);
	if (out != stdout && fclose(out) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && tmp && rename(tmp, a->out) != 0)
		r = -errno;
	if (r != 0) {
		fprintf(stderr, "commentctl: export failed: %s\n", strerror(-r));
		if (tmp)
			unlink(tmp);
	} else if (a->out) {
		fprintf(stderr, "commentctl: exported %llu comments to %s\n", (unsigned long long)n,
			a->out);
	}
	free(tmp);
	free(origin);
	return r == 0 ? CTL_OK : CTL_FAIL;
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
