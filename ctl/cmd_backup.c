/* commentctl backup: a consistent copy of the database while commentd runs.
 *
 *   commentctl backup --db DB DEST            copy to the file DEST
 *   commentctl backup --db DB [--keep N] DIR  copy to DIR/commentd-YYYY-MM-DD.db,
 *                                             then keep the newest N such files
 *
 * The database is opened read-only and never migrated; see lib/backup.h.
 */
#include "ctl.h"

#include "backup.h"
#include "config.h"
#include "text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char backup_usage[] =
    "usage: commentctl backup (--db DB | --config FILE) DEST\n"
    "       commentctl backup (--db DB | --config FILE) [--keep N] DIRECTORY\n"
    "\n"
    "Writes a consistent copy of the database DB (safe while commentd runs)\n"
    "to the file DEST, replacing it atomically, or to\n"
    "DIRECTORY/commentd-YYYY-MM-DD.db (UTC date).  With --keep N only the\n"
    "newest N such daily copies are kept in DIRECTORY.  The copy is checked\n"
    "with PRAGMA integrity_check and written with mode 0600.\n";

enum { OPT_KEEP = 0x100 };

static const struct option backup_options[] = {
    {"keep", required_argument, NULL, OPT_KEEP},
    {NULL, 0, NULL, 0},
};

static int backup_option(void *ctx, int opt, const char *arg)
{
	unsigned long long n;

	if (opt != OPT_KEEP || text_parse_uint(arg, 100000, &n) != 0 || n < 1) {
		fprintf(stderr, "commentctl backup: --keep wants a number >= 1\n");
		return CTL_USAGE;
	}
	*(unsigned *)ctx = (unsigned)n;
	return 0;
}

static const char *backup_error(int r)
{
	switch (r) {
	case BACKUP_NO_SOURCE:
		return "cannot read the database";
	case BACKUP_NO_DEST:
		return "cannot write the copy";
	case BACKUP_FULL:
		return "the disk is full";
	case BACKUP_CORRUPT:
		return "the copy failed its integrity check";
	case BACKUP_NOT_SQLITE:
		return "the database is on PostgreSQL: back it up with pg_dump or the server's "
		       "base backups";
	default:
		return "failed";
	}
}

/* Deletes daily copies beyond the newest keep in dir. */
static int rotate(const char *dir, unsigned keep)
{
	unsigned removed = 0;

	if (backup_rotate(dir, keep, &removed) != 0) {
		fprintf(stderr, "commentctl backup: the copy is written, but old copies could not "
				"be deleted\n");
		return CTL_FAIL;
	}
	if (removed)
		fprintf(stderr, "commentctl backup: deleted %u old cop%s\n", removed,
			removed == 1 ? "y" : "ies");
	return CTL_OK;
}

/* The database is opened read-only and never migrated (lib/backup.h), so
 * the environment gives only its path. */
int cmd_backup(int argc, char **argv)
{
	unsigned keep = 0;
	struct ctl_spec spec = {
	    .usage = backup_usage,
	    .need = CTL_WANT_DB,
	    .options = backup_options,
	    .option = backup_option,
	    .ctx = &keep,
	    .min_operands = 1,
	    .max_operands = 1,
	};
	char path[PATH_MAX], name[BACKUP_NAME_MAX];
	const char *dir, *dest;
	struct ctl_env e;
	struct stat sb;
	bool is_dir;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK)
		goto out;
	dir = dest = e.operands[0];
	is_dir = stat(dest, &sb) == 0 && S_ISDIR(sb.st_mode);
	r = CTL_USAGE;
	if (keep && !is_dir) {
		fprintf(stderr, "commentctl backup: --keep needs DEST to be a directory\n");
		goto out;
	}
	r = CTL_FAIL;
	if (is_dir) {
		if (backup_daily_name(time(NULL), name, sizeof(name)) < 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dest, name) >= (int)sizeof(path)) {
			fprintf(stderr, "commentctl backup: %s: path too long\n", dest);
			goto out;
		}
		dest = path;
	}
	r = backup_copy_file(e.cfg->db, dest);
	if (r != 0) {
		fprintf(stderr, "commentctl backup: %s\n", backup_error(r));
		r = CTL_FAIL;
		goto out;
	}
	printf("%s\n", dest);
	r = keep ? rotate(dir, keep) : CTL_OK;
out:
	ctl_env_close(&e);
	return ctl_exit(r);
}
