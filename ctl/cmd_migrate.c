/* commentctl migrate-db: a whole database copied to another engine
 * (lib/migrate.h does the work and the checks).
 *
 *   commentctl migrate-db --from SRC --to DST
 *
 * SRC and DST are each a SQLite path or a postgresql:// URI.
 */
#include "ctl.h"

#include "migrate.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char migrate_usage[] =
    "usage: commentctl migrate-db --from SRC --to DST\n"
    "\n"
    "Copies every table of the commentd database SRC into DST, where each is a\n"
    "SQLite file or a postgresql:// URI (SQLite to PostgreSQL, back, or within\n"
    "one engine).  Stop commentd first.  SRC is read in one snapshot and not\n"
    "changed; it must be at this commentctl's schema version.  DST must be new\n"
    "or empty; it is written in one transaction and verified before the commit:\n"
    "the row count and a checksum of every table, read back from both sides.\n"
    "On any failure DST is left without data (a new SQLite file is removed).\n"
    "The admin search's index is not copied: DST indexes the comments again.\n";

enum { OPT_FROM = 0x100, OPT_TO };

static const struct option migrate_options[] = {
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {NULL, 0, NULL, 0},
};

struct migrate_args {
	const char *from, *to;
};

static int migrate_option(void *ctx, int opt, const char *arg)
{
	struct migrate_args *a = ctx;

	if (opt == OPT_FROM)
		a->from = arg;
	else
		a->to = arg;
	return 0;
}

/* On a terminal: "table: done/total" rewritten in place. */
static void show_progress(void *arg, const char *table, int64_t done, int64_t total)
{
	(void)arg;
	fprintf(stderr, "\r%-24s %lld/%lld rows", table, (long long)done, (long long)total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

int cmd_migrate(int argc, char **argv)
{
	struct migrate_args a = {0};
	struct ctl_spec spec = {
	    .usage = migrate_usage,
	    .options = migrate_options,
	    .option = migrate_option,
	    .ctx = &a,
	};
	struct migrate_opts opts = {0};
	struct migrate_report rep;
	char from[256], to[256];
	struct ctl_env e;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK)
		goto out;
	if (!a.from || !a.to || !*a.from || !*a.to) {
		fprintf(stderr, "commentctl migrate-db: --from and --to are both needed\n%s",
			migrate_usage);
		r = CTL_USAGE;
		goto out;
	}
	if (isatty(STDERR_FILENO))
		opts.progress = show_progress;
	store_db_display(a.from, from, sizeof(from));
	store_db_display(a.to, to, sizeof(to));
	r = migrate_db(a.from, a.to, &opts, &rep);
	if (r != 0) {
		fprintf(stderr, "commentctl migrate-db: %s\n", rep.detail);
		fprintf(stderr, "commentctl migrate-db: nothing was written to %s\n", to);
		r = CTL_FAIL;
		goto out;
	}
	printf("migrated %s to %s: %u tables, %lld rows; counts and checksums verified\n", from, to,
	       rep.tables, (long long)rep.rows);
	r = CTL_OK;
out:
	ctl_env_close(&e);
	return ctl_exit(r);
}
