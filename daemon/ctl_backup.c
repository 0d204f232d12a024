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

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: commentctl backup --db DB DEST\n"
		     "       commentctl backup --db DB [--keep N] DIRECTORY\n"
		     "\n"
		     "Writes a consistent copy of the database DB (safe while commentd runs)\n"
		     "to the file DEST, replacing it atomically, or to\n"
		     "DIRECTORY/commentd-YYYY-MM-DD.db (UTC date).  With --keep N only the\n"
		     "newest N such daily copies are kept in DIRECTORY.  The copy is checked\n"
		     "with PRAGMA integrity_check and written with mode 0600.\n");
}

static int parse_keep(const char *s, unsigned *out)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n < 1 || n > 100000)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"keep", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *dest;
	char path[PATH_MAX];
	char name[BACKUP_NAME_MAX];
	unsigned keep = 0;
	bool is_dir;
	struct stat sb;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			db = optarg;
			break;
		case 'k':
			if (parse_keep(optarg, &keep) < 0) {
				fprintf(stderr, "commentctl backup: --keep wants a number >= 1\n");
				return CTL_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (!db || optind != argc - 1) {
		usage(stderr);
		return CTL_USAGE;
	}
	dest = argv[optind];
	is_dir = stat(dest, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (keep && !is_dir) {
		fprintf(stderr, "commentctl backup: --keep needs DEST to be a directory\n");
		return CTL_USAGE;
	}
	if (is_dir) {
		if (backup_daily_name(time(NULL), name, sizeof(name)) < 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dest, name) >= (int)sizeof(path)) {
			fprintf(stderr, "commentctl backup: %s: path too long\n", dest);
			return CTL_FAIL;
		}
		dest = path;
	}
	r = backup_copy_file(db, dest);
	if (r != 0) {
		fprintf(stderr, "commentctl backup: %s\n",
			r == BACKUP_NO_SOURCE ? "cannot read the database"
			: r == BACKUP_NO_DEST ? "cannot write the copy"
			: r == BACKUP_FULL    ? "the disk is full"
			: r == BACKUP_CORRUPT ? "the copy failed its integrity check"
					      : "failed");
		return CTL_FAIL;
	}
	printf("%s\n", dest);
	if (keep) {
		unsigned removed = 0;
		if (backup_rotate(argv[optind], keep, &removed) != 0) {
			fprintf(stderr, "commentctl backup: the copy is written, but old copies "
					"could not be deleted\n");
			return CTL_FAIL;
		}
		if (removed)
			fprintf(stderr, "commentctl backup: deleted %u old cop%s\n", removed,
				removed == 1 ? "y" : "ies");
	}
	return CTL_OK;
}

CTL_COMMAND(backup, "copy the database safely while commentd runs", cmd_backup);
