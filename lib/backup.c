#include "backup.h"

#include "log.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX    ".tmp-XXXXXX"
#define BUSY_RETRIES  100
#define BUSY_SLEEP_MS 50

/* Maps an errno from creating or writing the destination. */
static int dest_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case EACCES:
	case EPERM:
	case EROFS:
	case ENAMETOOLONG:
	case EISDIR:
		return BACKUP_NO_DEST;
	case ENOSPC:
	case EDQUOT:
		return BACKUP_FULL;
	default:
		return -e;
	}
}

/* Removes the temporary copy and any side files SQLite may have made. */
static void remove_tmp(const char *tmp)
{
	static const char *const sides[] = {"", "-journal", "-wal", "-shm"};
	char side[PATH_MAX];

	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		if (snprintf(side, sizeof(side), "%s%s", tmp, sides[i]) < (int)sizeof(side))
			unlink(side);
	}
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

/* fsyncs the directory holding path, so a rename in it is durable. */
static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return fsync_path(".", O_RDONLY | O_DIRECTORY);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

/* Maps a SQLite failure while copying. */
static int copy_error(sqlite3 *dst, sqlite3 *src, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		log_err("backup: %s: disk full", what);
		return BACKUP_FULL;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		log_err("backup: %s: the source is not a readable database (%s)", what,
			sqlite3_errstr(rc));
		return BACKUP_NO_SOURCE;
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		log_err("backup: %s: cannot write the copy (%s)", what, sqlite3_errstr(rc));
		return BACKUP_NO_DEST;
	default:
		log_err("backup: %s: %s", what,
			dst ? sqlite3_errmsg(dst)
			    : (src ? sqlite3_errmsg(src) : sqlite3_errstr(rc)));
		return -EIO;
	}
}

/* Runs a one-row PRAGMA on db and compares its single text result. */
static bool pragma_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	bool same = false;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(st, 0);
		same = got && strcmp(got, want) == 0 && sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return same;
}

/* Copies src into the (empty) file tmp and checks the result. */
static int copy_into(sqlite3 *src, const char *tmp)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, r = 0, tries = 0;

	rc = sqlite3_open_v2(
	    tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = copy_error(NULL, NULL, rc, "open the copy");
		goto out;
	}
	sqlite3_busy_timeout(dst, 5000);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		r = copy_error(dst, NULL, sqlite3_extended_errcode(dst), "start");
		goto out;
	}
	/* All pages in one step: one read transaction, one consistent snapshot. */
	for (;;) {
		rc = sqlite3_backup_step(b, -1);
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++tries < BUSY_RETRIES) {
			sqlite3_sleep(BUSY_SLEEP_MS);
			continue;
		}
		break;
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		r = copy_error(NULL, src, rc, "copy");
		goto out;
	}
	if (!pragma_is(dst, "PRAGMA integrity_check", "ok")) {
		log_err("backup: the copy failed PRAGMA integrity_check; discarded");
		r = BACKUP_CORRUPT;
		goto out;
	}
	/* A backup is one file: no -wal or -shm needed to read it. */
	if (!pragma_is(dst, "PRAGMA journal_mode=DELETE", "delete")) {
		r = copy_error(dst, NULL, sqlite3_extended_errcode(dst), "set journal_mode");
		goto out;
	}
out:
	if (dst && sqlite3_close(dst) != SQLITE_OK && r == 0) {
		log_err("backup: cannot close the copy");
		r = -EIO;
	}
	return r;
}

/* backup_copy from a SQLite handle (a pooled connection's or a file's). */
static int copy_db(sqlite3 *src, const char *dest)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, dest) >= (int)sizeof(tmp)) {
		log_err("backup: destination path too long");
		return BACKUP_NO_DEST;
	}
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		r = dest_errno(errno);
		log_err("backup: cannot create a file beside %s: %s", dest, strerror(errno));
		return r;
	}
	close(fd);
	r = copy_into(src, tmp);
	if (r != 0)
		goto out;
	r = fsync_path(tmp, O_RDONLY);
	if (r < 0) {
		log_err("backup: fsync %s: %s", tmp, strerror(-r));
		r = dest_errno(-r);
		goto out;
	}
	if (rename(tmp, dest) < 0) {
		r = dest_errno(errno);
		log_err("backup: cannot rename the copy to %s: %s", dest, strerror(errno));
		goto out;
	}
	r = fsync_parent(dest);
	if (r < 0) {
		/* The copy is complete and in place; only its durability is unsure. */
		log_warn("backup: fsync of the directory of %s: %s", dest, strerror(-r));
	}
	return 0;
out:
	remove_tmp(tmp);
	return r;
}

static int not_sqlite(void)
{
	log_err("backup: the database is PostgreSQL's: back it up with pg_dump or the server's "
		"base backups (docs/postgresql-port.md)");
	return BACKUP_NOT_SQLITE;
}

int backup_copy_file(const char *src_path, const char *dest)
{
	sqlite3 *src = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r;

	if (store_is_pg_uri(src_path))
		return not_sqlite();
	rc = sqlite3_open_v2(src_path, &src,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		log_err("backup: cannot open %s: %s", src_path, sqlite3_errstr(rc));
		r = BACKUP_NO_SOURCE;
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	/* Reading the schema tells a database from any other file. */
	rc = sqlite3_prepare_v2(src, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		log_err("backup: %s is not a readable database: %s", src_path, sqlite3_errmsg(src));
		r = BACKUP_NO_SOURCE;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	r = copy_db(src, dest);
out:
	sqlite3_finalize(st);
	sqlite3_close(src);
	return r;
}

int backup_daily_name(time_t now, char *out, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&now, &tm) || size < BACKUP_NAME_MAX)
		return -EINVAL;
	if (strftime(out, size, "commentd-%Y-%m-%d.db", &tm) != BACKUP_NAME_MAX - 1)
		return -EINVAL;
	return 0;
}

/* True for exactly "commentd-DDDD-DD-DD.db". */
static bool is_daily_name(const char *name)
{
	static const char pattern[] = "commentd-0000-00-00.db";

	if (strlen(name) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == '0' ? (name[i] < '0' || name[i] > '9') : name[i] != pattern[i])
			return false;
	}
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int backup_rotate(const char *dir, unsigned keep, unsigned *removed)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	unsigned gone = 0;
	int r = 0;

	if (keep == 0)
		return -EINVAL;
	d = opendir(dir);
	if (!d) {
		r = -errno;
		log_err("backup: cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d))) {
		if (!is_daily_name(e->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **p = realloc(names, ncap * sizeof(*names));
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			names = p;
			cap = ncap;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* The names sort by date: delete from the oldest. */
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i + keep < n; i++) {
		if (unlinkat(dirfd(d), names[i], 0) < 0) {
			r = -errno;
			log_err("backup: cannot delete %s/%s: %s", dir, names[i], strerror(errno));
			goto out;
		}
		log_info("backup: deleted the old copy %s/%s", dir, names[i]);
		gone++;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	if (removed)
		*removed = gone;
	return r;
}

int backup_copy(struct store_conn *src, const char *dest)
{
	if (store_postgresql(src))
		return not_sqlite();
	return copy_db(store_sqlite(src), dest);
}

int backup_daily(struct store_conn *src, const char *dir, unsigned keep, time_t now, bool *taken)
{
	char name[BACKUP_NAME_MAX];
	char path[PATH_MAX];
	struct stat sb;
	int r;

	if (taken)
		*taken = false;
	r = backup_daily_name(now, name, sizeof(name));
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		log_err("backup: backup directory path too long");
		return BACKUP_NO_DEST;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = dest_errno(errno);
		log_err("backup: cannot create %s: %s", dir, strerror(errno));
		return r;
	}
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT) {
			r = dest_errno(errno);
			log_err("backup: cannot check %s: %s", path, strerror(errno));
			return r;
		}
		r = backup_copy(src, path);
		if (r != 0)
			return r;
		log_info("backup: wrote %s", path);
		if (taken)
			*taken = true;
	}
	return backup_rotate(dir, keep, NULL);
}
