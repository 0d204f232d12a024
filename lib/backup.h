/* backup: consistent online copies of the database, and daily rotation.
 *
 * SQLite-specific by nature: the copy is made with SQLite's online-backup
 * API on the store's SQLite handle (store_sqlite), so this module and
 * lib/store*.c are the only ones that use SQLite for commentd's database.
 *
 * A copy is made with SQLite's online backup API in one step, that is inside
 * a single read transaction on the source: it holds exactly the transactions
 * committed before it began, and writers carry on meanwhile (WAL).  The copy
 * is written to "DEST.tmp-XXXXXX" beside DEST, checked with
 * PRAGMA integrity_check, switched to journal_mode=DELETE (one self-contained
 * file), fsync'ed and renamed over DEST, so DEST is either the old file or a
 * complete new copy, never half of one.  Copies are created mode 0600.
 *
 * Daily copies are named "commentd-YYYY-MM-DD.db" (UTC date) in a directory;
 * rotation deletes the oldest of those names beyond a count and never
 * touches any other file.
 *
 * Thread safety: the functions keep no state; a source connection passed in
 * must not be used by another thread during the call.
 */
#ifndef COMMENTD_BACKUP_H
#define COMMENTD_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct store_conn;

/* Length of a daily name plus its NUL. */
#define BACKUP_NAME_MAX sizeof("commentd-YYYY-MM-DD.db")

enum {
	BACKUP_NO_SOURCE = 1, /* the source database cannot be opened or read */
	BACKUP_NO_DEST = 2, /* the destination cannot be created (missing directory, permissions) */
	BACKUP_CORRUPT = 3, /* the copy failed its integrity check and was discarded */
	BACKUP_FULL = 4,    /* the disk is full; nothing was left behind */
	BACKUP_NOT_SQLITE =
	    5, /* a PostgreSQL database: pg_dump or the server's base backups copy it */
};

/* Copies the database open on the store connection src to the file dest,
 * replacing dest atomically if it exists.  Returns 0, a positive BACKUP_*
 * error (logged) or negative on an internal failure (logged).  On any
 * failure dest is untouched and no temporary file remains.  A PostgreSQL
 * store is BACKUP_NOT_SQLITE (nothing written): SQLite's online backup
 * copies a file, PostgreSQL's copies are the server's tools'. */
int backup_copy(struct store_conn *src, const char *dest);

/* Same as backup_copy() from the database file at src_path, opened
 * read-only (it is never modified, never created and not migrated).
 * BACKUP_NO_SOURCE when it does not exist or is not a database;
 * BACKUP_NOT_SQLITE when src_path is a PostgreSQL URI. */
int backup_copy_file(const char *src_path, const char *dest);

/* Writes the daily name for the UTC date of now into out (at least
 * BACKUP_NAME_MAX bytes).  0, or -EINVAL when the date does not fit. */
int backup_daily_name(time_t now, char *out, size_t size);

/* Deletes the oldest daily copies in dir so that at most keep (>= 1)
 * remain.  Other files are left alone.  Returns 0 or negative (logged);
 * *removed (may be NULL) gets the number of files deleted. */
int backup_rotate(const char *dir, unsigned keep, unsigned *removed);

/* Takes today's daily copy of src into dir unless it already exists, then
 * rotates to keep copies.  Creates dir (mode 0700, one level) if missing.
 * *taken (may be NULL) says whether a copy was written.  Returns like
 * backup_copy(). */
int backup_daily(struct store_conn *src, const char *dir, unsigned keep, time_t now, bool *taken);

#endif
