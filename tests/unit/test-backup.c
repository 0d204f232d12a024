/* Unit tests for lib/backup (copies, rotation, daily) and for the promise
 * that a failed migration leaves the database as it was (lib/store). */
#include "fixture.h"
#include "tap.h"

#include "backup.h"
#include "embed.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fixture fx;

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", fx.dir, name);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Runs a single-integer query on the database file at path; -1 on error. */
static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static const char *query_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(out, size, "(error)");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK)
		diag("sql failed: %s", err ? err : sqlite3_errstr(rc));
	sqlite3_free(err);
	return rc;
}

/* Adds n published top-level comments to thread 1 (created if needed). */
/* n comments in thread 1; old: the database predates sites (0009). */
static int add_comments_to(sqlite3 *db, int n, bool old)
{
	static const char sql[] =
	    "INSERT INTO comments (thread_id, root_id, depth, created, status, author, text, "
	    "html, avatar) VALUES (1, 0, 1, 1700000000, 'published', 'A', 'hello', "
	    "'<p>hello</p>', 'x')";
	int rc = exec(db, old ? "INSERT OR IGNORE INTO threads (id, path, created) VALUES "
				"(1, '/t', 1700000000)"
			      : "INSERT OR IGNORE INTO threads (id, site, path, created) VALUES "
				"(1, 'default', '/t', 1700000000)");

	for (int i = 0; i < n && rc == SQLITE_OK; i++)
		rc = exec(db, sql);
	return rc == SQLITE_OK ? 0 : -1;
}

static int add_comments(sqlite3 *db, int n)
{
	return add_comments_to(db, n, false);
}

/* Counts the directory's entries whose name starts with prefix. */
static int count_files(const char *d, const char *prefix)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;

	if (!dd)
		return -1;
	while ((e = readdir(dd)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(dd);
	return n;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0)
		close(fd);
}

static void test_copies(void)
{
	char src[256], dest[256], dest2[256], missing[256], notdb[256], text[64];
	struct store *s = NULL;
	struct store_conn *c1, *c2;
	struct stat sb;
	int r;

	path_of(src, sizeof(src), "src.db");
	path_of(dest, sizeof(dest), "copy.db");
	path_of(dest2, sizeof(dest2), "copy2.db");
	r = store_new(&s, src, 2);
	is_int(r, 0, "source database created");
	if (r != 0)
		return;
	c1 = store_acquire(s);
	c2 = store_acquire(s);
	ok(add_comments(store_sqlite(c1), 100) == 0, "100 comments written");

	is_int(backup_copy(c1, dest), 0, "backup_copy from a live connection");
	is_int(query_int(dest, "SELECT count(*) FROM comments"), 100,
	       "the copy holds every comment");
	is_str(query_text(dest, "PRAGMA integrity_check", text, sizeof(text)), "ok",
	       "the copy passes integrity_check");
	is_str(query_text(dest, "PRAGMA journal_mode", text, sizeof(text)), "delete",
	       "the copy is one self-contained file (journal_mode=delete)");
	is_int(query_int(dest, "PRAGMA user_version"), store_schema_version(),
	       "the copy has the schema version");
	ok(stat(dest, &sb) == 0 && (sb.st_mode & 0777) == 0600, "the copy is mode 0600");
	ok(count_files(fx.dir, "copy.db-") == 0 && count_files(fx.dir, "copy.db.tmp-") == 0,
	   "no temporary or -wal file is left");

	/* A transaction in progress elsewhere is not in the copy. */
	ok(store_begin(c2) == 0 && add_comments(store_sqlite(c2), 5) == 0,
	   "5 more comments in an open transaction on another connection");
	is_int(backup_copy(c1, dest), 0, "backup_copy while a writer holds the lock");
	is_int(query_int(dest, "SELECT count(*) FROM comments"), 100,
	       "the copy (replacing the old one) holds only committed comments");
	is_int(store_commit(c2), 0, "the writer commits");
	is_int(backup_copy(c1, dest), 0, "backup_copy again over an existing copy");
	is_int(query_int(dest, "SELECT count(*) FROM comments"), 105,
	       "the new copy holds the committed transaction");
	store_release(s, c2);
	store_release(s, c1);

	is_int(backup_copy_file(src, dest2), 0,
	       "backup_copy_file from the path of an open database");
	is_int(query_int(dest2, "SELECT count(*) FROM comments"), 105, "that copy is complete");
	is_int(query_int(src, "SELECT count(*) FROM comments"), 105, "the source is unchanged");

	path_of(missing, sizeof(missing), "missing.db");
	is_int(backup_copy_file(missing, dest2), BACKUP_NO_SOURCE,
	       "a missing source is BACKUP_NO_SOURCE");
	ok(!exists(missing), "and is not created");
	is_int(query_int(dest2, "SELECT count(*) FROM comments"), 105,
	       "a failed backup leaves the old destination alone");
	path_of(notdb, sizeof(notdb), "notes.txt");
	{
		FILE *f = fopen(notdb, "w");
		if (f) {
			fputs("this is not a database, but it is long enough to have a header\n"
			      "................................................................\n",
			      f);
			fclose(f);
		}
	}
	is_int(backup_copy_file(notdb, dest2), BACKUP_NO_SOURCE, "a text file is BACKUP_NO_SOURCE");
	c1 = store_acquire(s);
	is_int(backup_copy(c1, "/nonexistent-fx.dir/x/copy.db"), BACKUP_NO_DEST,
	       "a missing destination directory is BACKUP_NO_DEST");
	store_release(s, c1);
	ok(count_files(fx.dir, "copy2.db.tmp-") == 0, "failed copies leave no temporary file");
	store_free(s);
}

static void test_rotation(void)
{
	char sub[256], path[512], name[BACKUP_NAME_MAX];
	unsigned removed = 99;

	is_int(backup_daily_name(0, name, sizeof(name)), 0, "backup_daily_name");
	is_str(name, "commentd-1970-01-01.db", "the daily name is the UTC date");
	is_int(backup_daily_name(0, name, 5), -EINVAL, "a short buffer is refused");

	path_of(sub, sizeof(sub), "rot");
	mkdir(sub, 0700);
	for (int d = 1; d <= 10; d++) {
		snprintf(path, sizeof(path), "%s/commentd-2024-01-%02d.db", sub, d);
		touch(path);
	}
	snprintf(path, sizeof(path), "%s/notes.txt", sub);
	touch(path);
	snprintf(path, sizeof(path), "%s/commentd-latest.db", sub);
	touch(path);
	snprintf(path, sizeof(path), "%s/commentd-2024-01-1x.db", sub);
	touch(path);
	is_int(backup_rotate(sub, 3, &removed), 0, "backup_rotate keep 3");
	is_int(removed, 7, "7 old copies deleted");
	is_int(count_files(sub, "commentd-2024-01-0"), 2, "01-08 and 01-09 remain");
	snprintf(path, sizeof(path), "%s/commentd-2024-01-10.db", sub);
	ok(exists(path), "the newest copy remains");
	snprintf(path, sizeof(path), "%s/commentd-2024-01-07.db", sub);
	ok(!exists(path), "01-07 is gone");
	is_int(count_files(sub, "notes.txt") + count_files(sub, "commentd-latest.db") +
		   count_files(sub, "commentd-2024-01-1x.db"),
	       3, "files with other names are never touched");
	is_int(backup_rotate(sub, 0, NULL), -EINVAL, "keep 0 is refused");
	ok(backup_rotate("/nonexistent-fx.dir", 3, NULL) < 0, "a missing directory is an error");
}

static void test_daily(void)
{
	char src[256], daily[256], path[512];
	struct store *s = NULL;
	struct store_conn *c;
	bool taken = false;
	const time_t day = 1706745600; /* 2024-02-01 00:00 UTC */

	path_of(src, sizeof(src), "daily-src.db");
	path_of(daily, sizeof(daily), "daily");
	if (store_new(&s, src, 1) != 0) {
		ok(0, "daily source database");
		return;
	}
	c = store_acquire(s);
	add_comments(store_sqlite(c), 3);

	is_int(backup_daily(c, daily, 2, day + 3600, &taken), 0,
	       "backup_daily into a directory that does not exist yet");
	ok(taken, "a copy was taken");
	snprintf(path, sizeof(path), "%s/commentd-2024-02-01.db", daily);
	is_int(query_int(path, "SELECT count(*) FROM comments"), 3, "today's copy is complete");
	is_int(backup_daily(c, daily, 2, day + 7200, &taken), 0, "again the same day");
	ok(!taken, "nothing is taken twice a day");
	is_int(backup_daily(c, daily, 2, day + 86400, &taken), 0, "the next day");
	ok(taken, "the next day's copy is taken");
	is_int(backup_daily(c, daily, 2, day + 2 * 86400, &taken), 0, "the day after");
	is_int(count_files(daily, "commentd-"), 2, "keep 2: only two copies remain");
	ok(!exists(path), "the oldest copy was rotated out");
	is_int(backup_daily(c, "/nonexistent-fx.dir/daily", 2, day, &taken), BACKUP_NO_DEST,
	       "an impossible directory is BACKUP_NO_DEST");
	store_release(s, c);
	store_free(s);
}

/* The first "CREATE TABLE name" of a migration, or "" if it has none. */
static void first_table(const char *sql, char *out, size_t size)
{
	const char *p = strstr(sql, "CREATE TABLE ");
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen("CREATE TABLE ");
	while (p[n] && p[n] != ' ' && p[n] != '(' && n + 1 < size)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void test_failed_migration(void)
{
	char path[256], table[128], sql[512], text[64];
	size_t last = schema_files_count - 1;
	struct store *s = NULL;
	sqlite3 *db = NULL;
	long long schema_before;
	int r;

	/* A database at schema version 1 with one comment ... */
	path_of(path, sizeof(path), "old.db");
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		ok(0, "old database");
		return;
	}
	ok(exec(db, (const char *)schema_files[0].data) == SQLITE_OK &&
	       exec(db, "PRAGMA user_version=1") == SQLITE_OK && add_comments_to(db, 1, true) == 0,
	   "a version 1 database with one comment");
	/* ... that already has a table a later migration creates (the newest
	 * one that creates a table), so that migration fails after the earlier
	 * ones have run. */
	table[0] = '\0';
	for (; last >= 1; last--) {
		first_table((const char *)schema_files[last].data, table, sizeof(table));
		if (table[0])
			break;
	}
	ok(schema_files_count >= 2 && table[0], "a later migration (%s) creates a table (%s)",
	   schema_files[last].name, table);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (x INTEGER)", table);
	ok(exec(db, sql) == SQLITE_OK, "the clashing table is in place");
	sqlite3_close(db);
	schema_before = query_int(path, "SELECT count(*) FROM sqlite_schema");

	r = store_new(&s, path, 1);
	ok(r < 0, "opening it fails: the migration fails (%d)", r);
	s = store_free(s);
	is_int(query_int(path, "PRAGMA user_version"), 1, "user_version is still 1");
	is_int(query_int(path, "SELECT count(*) FROM sqlite_schema"), schema_before,
	       "the schema is exactly as before (earlier migrations rolled back too)");
	is_int(query_int(path, "SELECT count(*) FROM comments"), 1, "the comment is intact");
	is_str(query_text(path, "SELECT text FROM comments", text, sizeof(text)), "hello",
	       "with its text");
	is_str(query_text(path, "PRAGMA integrity_check", text, sizeof(text)), "ok",
	       "integrity_check ok");

	/* Once the obstacle is gone the same file upgrades. */
	if (sqlite3_open(path, &db) == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "DROP TABLE %s", table);
		exec(db, sql);
		sqlite3_close(db);
	}
	is_int(store_new(&s, path, 1), 0, "without the clash the old database upgrades");
	s = store_free(s);
	is_int(query_int(path, "PRAGMA user_version"), store_schema_version(),
	       "to the newest version");
	is_int(query_int(path, "SELECT count(*) FROM comments"), 1, "keeping the comment");
}

int main(void)
{
	if (fixture_tmpdir(&fx, "backup") != 0)
		return 1;
	test_copies();
	test_rotation();
	test_daily();
	test_failed_migration();
	fixture_close(&fx);
	return done_testing();
}
