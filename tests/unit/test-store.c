/* Unit tests for lib/store: migrations, pool, statement cache, refusals. */
#include "fixture.h"
#include "tap.h"

#include "embed.h"
#include "store.h"
#include "whole.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fixture fx;

static int count_rows(struct store_conn *c, const char *sql)
{
	struct store_stmt *st = store_stmt(c, sql);
	int n = -1;

	if (st && store_row(c, st) == 1)
		n = store_col_int(st, 0);
	store_reset(st);
	return n;
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static size_t file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	static char buf[1 << 22];
	size_t n, found = 0, k = strlen(needle);

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 0; i + k <= n; i++)
		found += memcmp(buf + i, needle, k) == 0;
	return found;
}

/* The files are the owner's only, whatever the umask; what is deleted is
 * zeroed and leaves the WAL after a truncating checkpoint. */
static void test_private_files(void)
{
	static const char *const sides[] = {"", "-wal", "-shm"};
	char path[512], side[560];
	struct store *s = NULL;
	struct store_conn *c;
	mode_t old = umask(0);
	bool all = true;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "private.db"));
	is_int(store_new(&s, path, 2), 0, "a store opened under umask 0");
	c = store_acquire(s);
	store_exec(c, "CREATE TABLE t(x TEXT)");
	for (size_t i = 0; i < 3; i++) {
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		if (mode_of(side) != 0600) {
			all = false;
			diag("%s has mode %o", side, mode_of(side));
		}
	}
	ok(all, "database, WAL and shared memory are 0600 under umask 0");
	is_int(count_rows(c, "PRAGMA secure_delete"), 1, "secure_delete is on");
	store_exec(c, "INSERT INTO t VALUES ('needle-in-a-haystack-1234567')");
	store_exec(c, "DELETE FROM t");
	is_int(store_checkpoint_truncate(c), 0, "a truncating checkpoint");
	is_int((int)store_test_database_syncs(s), 1,
	       "  syncs the database file after its first copy, before it holds the writers");
	snprintf(side, sizeof(side), "%s-wal", path);
	{
		struct stat st;
		ok(stat(side, &st) == 0 && st.st_size == 0, "leaves an empty WAL");
	}
	is_int(
	    (int)(file_has(path, "needle-in-a-haystack") + file_has(side, "needle-in-a-haystack")),
	    0, "and the deleted row is nowhere in the files");
	store_release(s, c);
	store_free(s);
	umask(old);

	/* A database left wider by an earlier version is narrowed. */
	chmod(path, 0644);
	snprintf(side, sizeof(side), "%s-wal", path);
	chmod(side, 0666);
	is_int(store_new(&s, path, 1), 0, "reopened");
	ok(mode_of(path) == 0600 && (mode_of(side) == 0600 || mode_of(side) == -1),
	   "a 0644 database and a 0666 WAL are narrowed to 0600 (%o, %o)", mode_of(path),
	   mode_of(side));
	store_free(s);
}

static long long size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Commits of `rows` rows of 3,000 random bytes each (a page apiece). */
static int write_pages(struct store *s, int commits, int rows)
{
	static const char insert_sql[] = "INSERT INTO bulk(x) VALUES (randomblob(3000))";
	struct store_conn *c = store_acquire(s);
	int r = 0;

	for (int i = 0; i < commits && r == 0; i++) {
		r = store_begin(c);
		for (int k = 0; k < rows && r == 0; k++)
			r = store_run(c, store_stmt(c, insert_sql), "insert");
		r = r == 0 ? store_commit(c) : r;
	}
	store_release(s, c);
	return r;
}

/* store_checkpoints_start: the commits no longer copy the WAL back, the
 * store's thread does (the database file grows while nobody commits), the
 * WAL starts over instead of growing without bound under steady writes,
 * a truncating checkpoint still works beside the thread, nothing is lost,
 * and store_free stops the thread. */
static void test_background_checkpoints(void)
{
	char path[512], wal[560];
	struct store *s = NULL;
	struct store_conn *c;
	long long before, wal_max = 0;
	int waited = 0;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "ckpt.db"));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	is_int(store_new(&s, path, 3), 0, "a store for background checkpoints");
	is_int(store_checkpoints_start(s), 0, "the checkpoint thread starts");
	is_int(store_checkpoints_start(s), 0, "starting it twice is harmless");
	c = store_acquire(s);
	is_int(store_exec(c, "CREATE TABLE bulk(x BLOB)"), 0, "a table");
	store_release(s, c);
	before = size_of(path);
	/* 1,300 frames or so: past the 250 that wake the thread, five times. */
	is_int(write_pages(s, 130, 10), 0, "130 commits of 10 pages");
	while (size_of(path) < before + (2LL << 20) && waited++ < 1000)
		usleep(10000);
	ok(size_of(path) >= before + (2LL << 20),
	   "the thread copied the WAL into the database file (%lld -> %lld bytes)", before,
	   size_of(path));
	/* SQLite fsyncs the file only in a checkpoint that copies the WAL's
	 * last frame; the thread does after each pass that copied frames, so
	 * that its hold of the writers later has only its own pages to write
	 * (lib/store.c, database_sync). */
	waited = 0;
	while (store_test_database_syncs(s) == 0 && waited++ < 1000)
		usleep(10000);
	ok(store_test_database_syncs(s) > 0, "and synced the file after its pass (%u syncs)",
	   store_test_database_syncs(s));
	/* 12,000 frames more, which would make a 48 MiB WAL without a restart
	 * (the thread starts it over past 4,000 frames plus what arrives
	 * meanwhile: about 20 MiB, and 24 MiB is the most a WAL keeps).  The
	 * bound leaves room for a checkpoint thread slowed by a loaded machine
	 * (26.5 MB seen in CI under load); one that never copies reaches
	 * about 64 MiB. */
	for (int i = 0; i < 40; i++) {
		if (write_pages(s, 30, 10) != 0)
			break;
		if (size_of(wal) > wal_max)
			wal_max = size_of(wal);
	}
	ok(wal_max > 0 && wal_max <= (40LL << 20),
	   "under steady writes the WAL starts over (at most %lld bytes)", wal_max);
	ok(store_test_database_syncs(s) >= 3,
	   "  the file synced after each copying pass (%u syncs)", store_test_database_syncs(s));
	c = store_acquire(s);
	is_int(count_rows(c, "SELECT count(*) FROM bulk"), 13300, "every committed row is there");
	is_int(store_checkpoint_truncate(c), 0, "a truncating checkpoint beside the thread");
	ok(size_of(wal) == 0, "empties the WAL");
	store_release(s, c);
	s = store_free(s);
	ok(s == NULL, "store_free stops the thread");
	is_int(store_new(&s, path, 1), 0, "reopened");
	c = store_acquire(s);
	is_int(count_rows(c, "SELECT count(*) FROM bulk"), 13300, "and the rows are all there");
	struct store_stmt *st = store_stmt(c, "PRAGMA quick_check");
	ok(st && store_row(c, st) == 1 && strcmp(store_col_text(st, 0), "ok") == 0,
	   "the database passes quick_check");
	store_reset(st);
	store_release(s, c);
	store_free(s);
}

/* A reader in the way of a truncating checkpoint (an export, a search)
 * holds up the truncation, not the writers: while it reads, a post
 * commits between the checkpoint's tries; once it leaves, the WAL is
 * emptied with the post's rows in the database. */
struct truncate_wait {
	struct store *s;
	sqlite3 *reader;
	atomic_bool written;
	int tries;
	bool wrote_meanwhile;
};

static void *write_one(void *arg)
{
	struct truncate_wait *w = arg;

	if (write_pages(w->s, 1, 1) == 0)
		atomic_store(&w->written, true);
	return NULL;
}

static void truncate_busy(void *arg)
{
	struct truncate_wait *w = arg;
	pthread_t t;

	if (w->tries++ > 0)
		return;
	/* The truncation is waiting for the reader: a writer must get in
	 * now (5 s is a guard against a hang, not a speed test). */
	if (pthread_create(&t, NULL, write_one, w) != 0)
		return;
	for (int i = 0; i < 500 && !atomic_load(&w->written); i++)
		usleep(10000);
	w->wrote_meanwhile = atomic_load(&w->written);
	sqlite3_exec(w->reader, "COMMIT", NULL, NULL, NULL);
	pthread_join(t, NULL);
}

static void test_truncate_lets_writers_in(void)
{
	char path[512], wal[560];
	struct truncate_wait w = {0};
	struct store_conn *c;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "reader.db"));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	is_int(store_new(&w.s, path, 3), 0, "a store for a truncation behind a reader");
	c = store_acquire(w.s);
	store_exec(c, "CREATE TABLE bulk(x BLOB)");
	store_release(w.s, c);
	is_int(write_pages(w.s, 5, 10), 0, "50 rows committed");
	is_int(sqlite3_open_v2(path, &w.reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK,
	       "a reader opens");
	is_int(sqlite3_exec(w.reader, "BEGIN; SELECT count(*) FROM bulk", NULL, NULL, NULL),
	       SQLITE_OK, "and holds a snapshot");
	store_test_truncate_busy(w.s, truncate_busy, &w);
	c = store_acquire(w.s);
	is_int(store_checkpoint_truncate(c), 0, "the truncation finishes once the reader leaves");
	ok(w.tries > 0, "it found the reader in the way (%d tries)", w.tries);
	ok(w.wrote_meanwhile, "a post committed while the truncation waited for the reader");
	ok(size_of(wal) == 0, "the WAL is empty");
	is_int(count_rows(c, "SELECT count(*) FROM bulk"), 51,
	       "with the post's row in the database");
	store_release(w.s, c);
	sqlite3_close(w.reader);
	store_free(w.s);
}

/* Under a steady load (readers that come and go, posts committing) a
 * truncation still succeeds: within one try with the writers held, the
 * readers reading then finish and the new ones read the database file. */
struct steady_load {
	struct store *s;
	const char *path;
	atomic_bool stop;
	atomic_int reads, writes;
};

static void *steady_reader(void *arg)
{
	struct steady_load *l = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(l->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		while (!atomic_load(&l->stop))
			if (sqlite3_exec(db, "SELECT count(*) FROM bulk", NULL, NULL, NULL) ==
			    SQLITE_OK)
				atomic_fetch_add(&l->reads, 1);
	sqlite3_close(db);
	return NULL;
}

static void *steady_writer(void *arg)
{
	struct steady_load *l = arg;

	while (!atomic_load(&l->stop) && write_pages(l->s, 1, 1) == 0) {
		atomic_fetch_add(&l->writes, 1);
		usleep(500);
	}
	return NULL;
}

static void test_truncate_under_load(void)
{
	char path[512];
	struct steady_load l = {0};
	pthread_t rd[2], wr;
	struct store_conn *c;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "steady.db"));
	l.path = path;
	is_int(store_new(&l.s, path, 4), 0, "a store under a steady load");
	c = store_acquire(l.s);
	store_exec(c, "CREATE TABLE bulk(x BLOB)");
	store_release(l.s, c);
	write_pages(l.s, 5, 10);
	pthread_create(&rd[0], NULL, steady_reader, &l);
	pthread_create(&rd[1], NULL, steady_reader, &l);
	pthread_create(&wr, NULL, steady_writer, &l);
	while (atomic_load(&l.writes) < 20 || atomic_load(&l.reads) < 20)
		usleep(1000);
	c = store_acquire(l.s);
	is_int(store_checkpoint_truncate(c), 0,
	       "a truncation succeeds while readers come and go and posts commit");
	store_release(l.s, c);
	atomic_store(&l.stop, true);
	pthread_join(rd[0], NULL);
	pthread_join(rd[1], NULL);
	pthread_join(wr, NULL);
	ok(atomic_load(&l.reads) > 0 && atomic_load(&l.writes) > 0, "(%d reads, %d writes)",
	   atomic_load(&l.reads), atomic_load(&l.writes));
	store_free(l.s);
}

/* How many of this process's descriptors are open on path. */
static int fds_on(const char *path)
{
	char link[64], target[600];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t len = readlink(link, target, sizeof(target) - 1);

		if (len <= 0)
			continue;
		target[len] = 0;
		n += strcmp(target, path) == 0;
	}
	return n;
}

/* The pool opens a connection when it is first needed (each holds its own
 * copy of the schema): one at first, an open one is lent before a new one
 * is opened, and as many as are borrowed at once. */
static void test_lazy_pool(void)
{
	char path[512];
	struct store *s = NULL;
	struct store_conn *a, *b, *c;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "lazy.db"));
	is_int(store_new(&s, path, 4), 0, "a pool of 4");
	is_int(fds_on(path), 1, "one connection open at first");
	a = store_acquire(s);
	store_release(s, a);
	b = store_acquire(s);
	ok(a == b, "one at a time, the same connection is lent");
	c = store_acquire(s);
	ok(c != b && count_rows(c, "SELECT count(*) FROM comments") == 0,
	   "a second borrower gets another, opened and migrated");
	is_int(fds_on(path), 2, "two open");
	store_release(s, b);
	store_release(s, c);
	a = store_acquire(s);
	ok(a == b || a == c, "an open connection is lent before a new one is opened");
	store_release(s, a);
	is_int(fds_on(path), 2, "still two open");
	store_free(s);
}

struct borrower {
	struct store *s;
	struct store_conn *got;
	int rows;
	atomic_bool done;
};

static void *borrow_main(void *arg)
{
	struct borrower *b = arg;

	b->got = store_acquire(b->s);
	b->rows = count_rows(b->got, "SELECT count(*) FROM comments");
	store_release(b->s, b->got);
	atomic_store(&b->done, true);
	return NULL;
}

/* A connection that cannot be opened (here: no file descriptor left) is
 * never lent: the borrower waits for an open one to come back instead of
 * running its statements on nothing. */
static void test_lazy_open_fails(void)
{
	char path[512];
	struct store *s = NULL;
	struct store_conn *a;
	struct borrower b = {0};
	struct rlimit old, none;
	pthread_t t;
	int lowest;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "lazyfail.db"));
	is_int(store_new(&s, path, 2), 0, "a pool of 2");
	a = store_acquire(s);
	lowest = dup(0);
	close(lowest);
	getrlimit(RLIMIT_NOFILE, &old);
	none = old;
	none.rlim_cur = (rlim_t)lowest; /* the next open fails with EMFILE */
	setrlimit(RLIMIT_NOFILE, &none);
	b.s = s;
	pthread_create(&t, NULL, borrow_main, &b);
	usleep(300 * 1000);
	ok(!atomic_load(&b.done), "the borrower waits while the second cannot be opened");
	store_release(s, a);
	pthread_join(t, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(b.got == a && b.rows == 0, "and gets the open one when it comes back");
	is_int(fds_on(path), 1, "the failed one stayed closed");
	a = store_acquire(s);
	b.got = store_acquire(s);
	ok(b.got != a && count_rows(b.got, "SELECT count(*) FROM comments") == 0,
	   "with descriptors again, the second opens");
	store_release(s, b.got);
	store_release(s, a);
	store_free(s);
}

/* Every connection of a pool (the daemon's is threads + 2) runs with
 * synchronous=FULL, WAL and foreign keys: each is borrowed at once, so each
 * is a different one. */
static void check_pool_pragmas(const char *path)
{
	enum { POOL = 6 };
	struct store *s = NULL;
	struct store_conn *conns[POOL];
	struct store_pragmas p;
	int distinct = 1;

	if (store_new(&s, path, POOL) != 0) {
		ok(0, "a pool of %d connections opens", POOL);
		return;
	}
	for (int i = 0; i < POOL; i++) {
		conns[i] = store_acquire(s);
		for (int j = 0; j < i; j++)
			distinct = distinct && conns[j] != conns[i];
	}
	ok(distinct, "%d borrowed connections are %d different ones", POOL, POOL);
	for (int i = 0; i < POOL; i++) {
		is_int(store_pragmas(conns[i], &p), 0, "connection %d: pragmas read back", i);
		is_int(p.synchronous, 2, "connection %d: synchronous=FULL", i);
		is_str(p.journal_mode, "wal", "connection %d: journal_mode=WAL", i);
		ok(p.foreign_keys, "connection %d: foreign_keys=ON", i);
	}
	for (int i = 0; i < POOL; i++)
		store_release(s, conns[i]);
	store_free(s);
}

/* Binds one value of every kind as ?1..?10 and reads them back as columns
 * (SELECT hands a parameter back with its type). */
static const char sql_echo[] = "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 AS last";

static void check_echo_row(struct store_conn *c, struct store_stmt *st)
{
	static const char blob3[3] = {'a', '\0', 'b'};

	is_int(store_row(c, st), 1, "the echo row is ready");
	is_int(store_col_count(st), 10, "ten columns");
	is_str(store_col_name(st, 9), "last", "a column's name");
	ok(store_col_type(st, 0) == STORE_INT && store_col_int64(st, 0) == INT64_MIN,
	   "int64: the smallest value");
	ok(store_col_int64(st, 1) == INT64_MAX && store_col_int(st, 2) == -7,
	   "int64: the largest, and a small one read as int");
	ok(store_col_type(st, 3) == STORE_REAL && store_col_double(st, 3) == 0.25, "double");
	ok(store_col_type(st, 4) == STORE_TEXT && strcmp(store_col_text(st, 4), "héllo") == 0 &&
	       store_col_bytes(st, 4) == strlen("héllo"),
	   "text, its bytes counted");
	ok(store_col_bytes(st, 5) == 7 && memcmp(store_col_text(st, 5), "ab\0cd\0e", 7) == 0,
	   "text with a length keeps its embedded NULs");
	ok(store_col_bytes(st, 6) == 3 && strcmp(store_col_text(st, 6), "abc") == 0,
	   "text with a length stops there (no NUL needed)");
	ok(store_col_type(st, 7) == STORE_BLOB && store_col_bytes(st, 7) == 3 &&
	       memcmp(store_col_blob(st, 7), blob3, 3) == 0,
	   "blob");
	ok(store_col_type(st, 8) == STORE_BLOB && store_col_bytes(st, 8) == 0 &&
	       !store_col_is_null(st, 8),
	   "a blob of zero bytes is a blob, not NULL");
	ok(store_col_type(st, 9) == STORE_NULL && store_col_is_null(st, 9) &&
	       store_col_int64(st, 9) == 0 && store_col_double(st, 9) == 0.0 &&
	       store_col_text(st, 9) == NULL && store_col_blob(st, 9) == NULL &&
	       store_col_bytes(st, 9) == 0,
	   "NULL reads as 0, 0.0, no text, no blob, 0 bytes");
	is_int(store_row(c, st), 0, "then no more rows");
}

static void test_binds(struct store_conn *c)
{
	static const char blob3[3] = {'a', '\0', 'b'};
	struct store_stmt *st = store_stmt(c, sql_echo);

	ok(st != NULL, "the echo statement prepares");
	if (!st)
		return;
	is_int(store_bind_count(st), 10, "ten parameters");
	store_bind_int64(st, 1, INT64_MIN);
	store_bind_int64(st, 2, INT64_MAX);
	store_bind_int64(st, 3, -7);
	store_bind_double(st, 4, 0.25);
	store_bind_text(st, 5, "héllo");
	store_bind_text_len(st, 6, "ab\0cd\0e", 7);
	store_bind_text_len(st, 7, "abcdef", 3);
	store_bind_blob(st, 8, blob3, sizeof(blob3));
	store_bind_blob(st, 9, "", 0);
	store_bind_null(st, 10);
	check_echo_row(c, st);
	store_reset(st);
	is_int(store_row(c, st), 1, "reset: it runs again, its bindings kept");
	is_int(store_col_int64(st, 2), -7, "the same values");
	st = store_stmt(c, sql_echo);
	ok(store_row(c, st) == 1 && store_col_is_null(st, 0) && store_col_is_null(st, 4),
	   "store_stmt hands it back unbound: unbound parameters are NULL");
	st = store_stmt(c, sql_echo);
	store_bind_text(st, 1, NULL);
	store_bind_blob(st, 2, NULL, 0);
	ok(store_row(c, st) == 1 && store_col_is_null(st, 0) && store_col_is_null(st, 1),
	   "a NULL text or blob binds NULL");
	store_reset(st);
}

static void test_copies(struct store_conn *c)
{
	struct store_stmt *st = store_stmt(c, sql_echo);
	char text[8] = "before", blob[4] = {1, 2, 3, 4};

	if (!st)
		return;
	store_bind_text_copy(st, 1, text);
	store_bind_blob_copy(st, 2, blob, sizeof(blob));
	memcpy(text, "after", 6);
	memset(blob, 9, sizeof(blob));
	ok(store_row(c, st) == 1 && strcmp(store_col_text(st, 0), "before") == 0 &&
	       store_col_bytes(st, 1) == 4 && memcmp(store_col_blob(st, 1), "\1\2\3\4", 4) == 0,
	   "the _copy binds keep what was bound, not what the buffer holds later");
	store_reset(st);
}

static void test_writes(struct store_conn *c)
{
	static const char sql_insert[] = "INSERT INTO echo_once(x) VALUES (?1)";
	struct store_stmt *st, *bad;

	is_int(store_exec(c, "CREATE TEMP TABLE echo_once(id INTEGER PRIMARY KEY, x UNIQUE)"), 0,
	       "a temporary table");
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "one");
	is_int(store_step_write(c, st, "echo insert"), 0, "store_step_write: done");
	store_reset(st);
	is_int(store_changes(c), 1, "one row changed");
	is_int(store_last_id(c), 1, "its id");
	is_int(store_step_write(c, st, "echo insert"), STORE_CONSTRAINT,
	       "the same again: STORE_CONSTRAINT");
	store_reset(st);
	ok(!store_in_transaction(c), "no transaction is open");
	is_int(store_begin(c), 0, "begin");
	ok(store_in_transaction(c), "now one is");
	store_rollback(c);
	st = store_stmt_new(c, "SELECT count(*) FROM echo_once");
	ok(st && store_row(c, st) == 1 && store_col_int64(st, 0) == 1,
	   "store_stmt_new: SQL that is not static");
	store_stmt_free(st);
	store_stmt_free(NULL);
	bad = store_stmt_new(c, "SELECT FROM nowhere");
	ok(bad == NULL && strlen(store_errmsg(c)) > 0, "bad SQL: NULL, and store_errmsg says why");
	is_int(store_exec(c, "DROP TABLE echo_once"), 0, "dropped");
}

/* The statement API: every bind and column function. */
static void test_statements(void)
{
	struct store *s = NULL;
	struct store_conn *c;

	if (store_new(&s, fixture_path(&fx, "stmt.db"), 1) != 0) {
		ok(0, "a store for the statement tests");
		return;
	}
	c = store_acquire(s);
	test_binds(c);
	test_copies(c);
	test_writes(c);
	check_whole(c);
	store_release(s, c);
	store_free(s);
}

/* What may be logged of the db setting: never a password. */
static void test_db_display(void)
{
	static const struct {
		const char *db, *shown;
	} cases[] = {
	    {"/var/lib/commentd/comments.db", "/var/lib/commentd/comments.db"},
	    {"postgresql://commentd@db1,db2/c?target_session_attrs=read-write",
	     "postgresql://commentd@(2 hosts)/c?..."},
	    {"postgresql://commentd:s3cret@192.0.2.7:5432/c",
	     "postgresql://commentd:***@(1 host)/c"},
	    {"postgres://u:p%40ss@h/c?sslmode=require&password=x",
	     "postgres://u:***@(1 host)/c?..."},
	    {"postgresql://h/c?password=only", "postgresql://(1 host)/c?..."},
	    {"postgresql:///c?host=/run/postgresql", "postgresql://(1 host)/c?..."},
	    {"postgresql://[2001:db8::1]:5433", "postgresql://(1 host)"},
	};
	char out[128], tiny[12];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(store_db_display(cases[i].db, out, sizeof(out)), cases[i].shown,
		       "db display %zu", i);
	store_db_display("postgresql://u:secret@host/db", tiny, sizeof(tiny));
	ok(strlen(tiny) == sizeof(tiny) - 1 && !strstr(tiny, "secret"),
	   "a small buffer: cut short, NUL-terminated");
}

/* A statement that changes megabytes of pages inside a transaction (a
 * migration's UPDATE of every thread, a retention pass, a big savepoint)
 * keeps a statement journal that spills to a temporary file past
 * STORE_STMT_JOURNAL_MEMORY; the spill must work (with SQLite 3.40.1 a
 * threshold above 128 KiB made such statements fail with SQLITE_FULL),
 * and a rollback to a savepoint must restore what the journal kept. */
static void test_large_statement_journal(void)
{
	static const char fill_sql[] =
	    "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)"
	    " INSERT INTO big SELECT i, 0, randomblob(1000) FROM n;";
	char path[256];
	struct store *s = NULL;
	struct store_conn *c;

	snprintf(path, sizeof(path), "%s/journal.db", fx.dir);
	if (!ok(store_new(&s, path, 1) == 0, "a store for the large journal"))
		return;
	c = store_acquire(s);
	is_int(store_exec(c, fill_sql), 0, "6,000 rows of 1 KB (about 7 MB of pages)");
	is_int(store_begin(c), 0, "a transaction");
	is_int(store_exec(c, "UPDATE big SET v = 1"), 0,
	       "  an UPDATE of every row in it (a journal of megabytes) runs");
	is_int(store_exec(c, "SAVEPOINT job"), 0, "  a savepoint");
	is_int(store_exec(c, "UPDATE big SET v = 2, pad = randomblob(1000)"), 0,
	       "  every row changed again inside it");
	is_int(store_exec(c, "ROLLBACK TO job; RELEASE job"), 0, "  rolled back to the savepoint");
	is_int(store_commit(c), 0, "committed");
	is_int(count_rows(c, "SELECT count(*) FROM big WHERE v = 1"), 6000,
	       "every row has the transaction's value, none the rolled-back one");
	is_int(count_rows(
		   c, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
	       1, "integrity_check: ok");
	store_release(s, c);
	store_free(s);
}

/* Opens (so upgrades) a database made by the schema files before the one
 * whose name holds migration, with rows_sql run on it: true when *out is
 * open. */
static bool database_before(const char *migration, const char *rows_sql, const char *what,
			    struct store **out)
{
	char path[256], pragma[64];
	size_t before = 0;
	sqlite3 *raw;
	int r = 0;

	*out = NULL;
	while (before < schema_files_count && !strstr(schema_files[before].name, migration))
		before++;
	if (!ok(before < schema_files_count, "schema %s is embedded", migration))
		return false;
	snprintf(path, sizeof(path), "%s/before-%s.db", fx.dir, migration);
	sqlite3_open(path, &raw);
	for (size_t i = 0; i < before && r == SQLITE_OK; i++)
		r = sqlite3_exec(raw, (const char *)schema_files[i].data, NULL, NULL, NULL);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%zu", before);
	if (r == SQLITE_OK)
		r = sqlite3_exec(raw, pragma, NULL, NULL, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_exec(raw, rows_sql, NULL, NULL, NULL);
	is_int(r, SQLITE_OK, "%s (schema %zu)", what, before);
	sqlite3_close(raw);
	is_int(store_new(out, path, 1), 0, "  it upgrades");
	return *out != NULL;
}

/* A database from before schema 0020 had its search blocks indexed in
 * several segments: every block but the newest (still filling) is owed a
 * merge after the upgrade (lib/search.h, "Full blocks"). */
static void test_full_blocks_upgrade(void)
{
	static const char rows_sql[] =
	    "INSERT INTO search_blocks (block, dirty) VALUES (0, 0), (1, 1), (4, 0), (9, 0);";
	struct store *s = NULL;
	struct store_conn *c;

	if (!database_before("search-full-blocks", rows_sql,
			     "a database before 0020 with four search blocks", &s))
		return;
	c = store_acquire(s);
	is_int(count_rows(c, "SELECT count(*) FROM search_blocks WHERE dirty = 1 AND block < 9"), 3,
	       "the three full blocks are owed a merge");
	is_int(count_rows(c, "SELECT dirty FROM search_blocks WHERE block = 9"), 0,
	       "the newest is not");
	store_release(s, c);
	store_free(s);
}

/* A database from before schema 0019 (threads.published) gets each
 * thread's count of published comments when it upgrades, and the
 * replaced version triggers keep it: an insert of each status, a change of
 * status both ways, a move to another thread, a delete, an edit. */
static void test_published_upgrade(void)
{
	static const char mismatch_sql[] =
	    "SELECT count(*) FROM threads t WHERE t.published <>"
	    " (SELECT count(*) FROM comments c WHERE c.thread_id = t.id"
	    " AND c.status = 'published')";
	static const char rows_sql[] =
	    "INSERT INTO threads (id, site, path, created) VALUES"
	    " (1, 'default', '/a', 0), (2, 'default', '/b', 0), (3, 'other', '/a', 0);"
	    "INSERT INTO comments (thread_id, root_id, depth, created, status, author, text,"
	    " html, avatar) VALUES (1, 0, 1, 0, 'published', 'A', 't', 'h', ''),"
	    " (1, 0, 1, 0, 'published', 'A', 't', 'h', ''),"
	    " (1, 0, 1, 0, 'pending', 'A', 't', 'h', ''),"
	    " (2, 0, 1, 0, 'spam', 'A', 't', 'h', ''),"
	    " (3, 0, 1, 0, 'published', 'A', 't', 'h', ''),"
	    " (3, 0, 1, 0, 'deleted', 'A', 't', 'h', '');";
	struct store *s = NULL;
	struct store_conn *c;

	if (!database_before("thread-published", rows_sql,
			     "a database before 0019 with six comments on three threads", &s))
		return;
	c = store_acquire(s);
	is_int(count_rows(c, "SELECT published FROM threads WHERE id = 1"), 2,
	       "two published of three: 2");
	is_int(count_rows(c, "SELECT published FROM threads WHERE id = 2"), 0, "only spam: 0");
	is_int(count_rows(c, "SELECT published FROM threads WHERE id = 3"), 1,
	       "a deleted one not counted: 1");
	is_int(count_rows(c, mismatch_sql), 0, "every thread's count is right after the upgrade");
	store_exec(c, "INSERT INTO comments (thread_id, root_id, depth, created, status, author,"
		      " text, html, avatar) VALUES (2, 0, 1, 0, 'published', 'B', 't', 'h', ''),"
		      " (2, 0, 1, 0, 'pending', 'B', 't', 'h', '')");
	is_int(count_rows(c, "SELECT published FROM threads WHERE id = 2"), 1,
	       "a published insert counts, a pending one does not");
	store_exec(c, "UPDATE comments SET status = 'published' WHERE status = 'pending'");
	store_exec(c, "UPDATE comments SET status = 'spam' WHERE id = 1");
	is_int(count_rows(c, mismatch_sql), 0, "approved and rejected");
	store_exec(c, "UPDATE comments SET thread_id = 3 WHERE id = 2");
	store_exec(c, "UPDATE comments SET thread_id = 2, status = 'deleted' WHERE id = 5");
	is_int(count_rows(c, mismatch_sql), 0, "moved between threads, with and without a status");
	store_exec(c, "UPDATE comments SET text = 'edited' WHERE thread_id = 3");
	store_exec(c, "DELETE FROM comments WHERE thread_id = 1");
	is_int(count_rows(c, mismatch_sql), 0, "edited, and deleted outright");
	is_int(count_rows(c, "SELECT sum(published) FROM threads"), 3,
	       "(three published comments are left)");
	store_release(s, c);
	store_free(s);
}

int main(void)
{
	static const char count_sql[] = "SELECT count(*) FROM comments";
	static const char version_sql[] = "PRAGMA user_version";
	static const char journal_sql[] = "PRAGMA journal_mode";
	char path[256];
	struct store *s = NULL;
	struct store_conn *c;
	sqlite3 *raw;
	int r;

	if (fixture_tmpdir(&fx, "store") != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", fx.dir);

	r = store_new(&s, path, 2);
	is_int(r, 0, "a new database opens and migrates");
	c = store_acquire(s);
	is_int(count_rows(c, version_sql), store_schema_version(), "user_version is the newest");
	is_int(count_rows(c, count_sql), 0, "comments table exists and is empty");
	ok(store_stmt(c, count_sql) == store_stmt(c, count_sql), "statements are prepared once");
	struct store_stmt *st = store_stmt(c, journal_sql);
	ok(st && store_row(c, st) == 1 && strcmp(store_col_text(st, 0), "wal") == 0,
	   "journal mode is WAL");
	store_reset(st);
	is_int(store_begin(c), 0, "BEGIN IMMEDIATE");
	store_release(s, c); /* rolls back the open transaction */
	c = store_acquire(s);
	ok(!store_in_transaction(c), "release rolled the transaction back");
	store_release(s, c);
	ok(store_healthy(s), "healthy");
	s = store_free(s);
	ok(s == NULL, "store_free returns NULL");
	ok(store_free(NULL) == NULL, "store_free(NULL) is a no-op");

	r = store_new(&s, path, 1);
	is_int(r, 0, "reopening an up-to-date database works (migrations idempotent)");
	s = store_free(s);

	check_pool_pragmas(path);
	test_truncate_lets_writers_in();
	test_truncate_under_load();

	/* A database from the future is refused and left untouched. */
	sqlite3_open(path, &raw);
	sqlite3_exec(raw, "PRAGMA user_version=999", NULL, NULL, NULL);
	sqlite3_close(raw);
	r = store_new(&s, path, 1);
	is_int(r, STORE_TOO_NEW, "a newer database is refused");
	ok(s == NULL, "no store on refusal");

	/* A half-migrated (older) database upgrades. */
	snprintf(path, sizeof(path), "%s/old.db", fx.dir);
	sqlite3_open(path, &raw);
	sqlite3_exec(raw, "CREATE TABLE leftover(x INTEGER); PRAGMA user_version=0", NULL, NULL,
		     NULL);
	sqlite3_close(raw);
	r = store_new(&s, path, 1);
	is_int(r, 0, "an old database upgrades");
	c = store_acquire(s);
	is_int(count_rows(c, version_sql), store_schema_version(),
	       "and ends at the newest version");
	store_release(s, c);
	store_free(s);

	test_private_files();
	test_background_checkpoints();
	test_lazy_pool();
	test_lazy_open_fails();
	test_statements();
	test_db_display();
	test_published_upgrade();
	test_full_blocks_upgrade();
	test_large_statement_journal();
	fixture_close(&fx);
	return done_testing();
}
