/* Unit tests for lib/store on PostgreSQL (lib/store_pg.c): the store API
 * against a real server, whose URI COMMENTD_TEST_PG names (tests/pgserver.py
 * starts a throwaway one: `tests/pgserver.py run -- build/tests/test-store-pg`).
 * Without it the test is skipped, or fails when CI is set. */
#include "tap.h"

#include "backup.h"
#include "comment.h"
#include "embed.h"
#include "fixture.h"
#include "keys.h"
#include "store.h"
#include "whole.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *uri;

static void test_open(void)
{
	static const char count_sql[] = "SELECT count(*) FROM comments";
	static const char version_sql[] = "SELECT version FROM commentd_schema";
	struct store *s = NULL;
	struct store_conn *c;

	is_int(store_new(&s, uri, 2), 0, "a new PostgreSQL database opens and migrates");
	if (!s)
		return;
	c = store_acquire(s);
	ok(store_sqlite(c) == NULL, "no SQLite handle on PostgreSQL");
	is_int(fixture_one_int(c, version_sql), (int64_t)schema_pg_files_count,
	       "the schema version is schema/pg's newest (%zu, the embedded list's length)",
	       schema_pg_files_count);
	is_int(fixture_one_int(c, count_sql), 0, "the comments table exists and is empty");
	ok(store_stmt(c, count_sql) == store_stmt(c, count_sql), "statements are prepared once");
	is_int(store_begin(c), 0, "begin");
	store_release(s, c); /* rolls back the open transaction */
	c = store_acquire(s);
	ok(!store_in_transaction(c), "release rolled the transaction back");
	is_int(store_checkpoint_truncate(c), STORE_NO_WAL,
	       "no WAL truncation claimed (the server's WAL is not the client's)");
	store_release(s, c);
	ok(store_healthy(s), "healthy");
	store_free(s);
	s = NULL;
	is_int(store_new(&s, uri, 1), 0, "reopening an up-to-date database works");
	store_free(s);
}

/* A schema newer than the binary is refused (run last: the database
 * stays refused). */
static void test_too_new(void)
{
	struct store *s = NULL;
	struct store_conn *c;

	if (store_new(&s, uri, 1) != 0)
		return;
	c = store_acquire(s);
	is_int(store_exec(c, "UPDATE commentd_schema SET version = 999"), 0, "version set to 999");
	store_release(s, c);
	store_free(s);
	s = NULL;
	is_int(store_new(&s, uri, 1), STORE_TOO_NEW, "a newer database is refused");
	ok(s == NULL, "no store on refusal");
}

static void pragmas_of_pool(struct store *s)
{
	enum { POOL = 4 };
	struct store_conn *conns[POOL];
	struct store_pragmas p;
	int distinct = 1;

	for (int i = 0; i < POOL; i++) {
		conns[i] = store_acquire(s);
		for (int j = 0; j < i; j++)
			distinct = distinct && conns[j] != conns[i];
	}
	ok(distinct, "%d borrowed connections are %d different ones", POOL, POOL);
	for (int i = 0; i < POOL; i++) {
		is_int(store_pragmas(conns[i], &p), 0, "connection %d: settings read back", i);
		is_int(p.synchronous, 2, "connection %d: commits wait for the WAL flush", i);
		is_str(p.journal_mode, "wal", "connection %d: write-ahead log", i);
		ok(p.foreign_keys, "connection %d: foreign keys", i);
	}
	for (int i = 0; i < POOL; i++)
		store_release(s, conns[i]);
}

/* Parameters whose type the SQL does not imply are cast (PostgreSQL infers
 * a parameter's type from its context; docs/postgresql-port.md). */
static const char sql_echo[] =
    "SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT),"
    " CAST(?4 AS DOUBLE PRECISION), CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS BYTEA),"
    " CAST(?8 AS BYTEA), CAST(?9 AS TEXT) AS last";

static void check_echo_row(struct store_conn *c, struct store_stmt *st)
{
	static const char blob3[3] = {'a', '\0', 'b'};

	is_int(store_row(c, st), 1, "the echo row is ready");
	is_int(store_col_count(st), 9, "nine columns");
	is_str(store_col_name(st, 8), "last", "a column's name");
	ok(store_col_type(st, 0) == STORE_INT && store_col_int64(st, 0) == INT64_MIN,
	   "int64: the smallest value");
	ok(store_col_int64(st, 1) == INT64_MAX && store_col_int(st, 2) == -7,
	   "int64: the largest, and a small one read as int");
	ok(store_col_type(st, 3) == STORE_REAL && store_col_double(st, 3) == 0.25, "double");
	ok(store_col_type(st, 4) == STORE_TEXT && strcmp(store_col_text(st, 4), "héllo") == 0 &&
	       store_col_bytes(st, 4) == strlen("héllo"),
	   "text, its bytes counted");
	ok(store_col_bytes(st, 5) == 3 && strcmp(store_col_text(st, 5), "abc") == 0,
	   "text with a length stops there (no NUL needed)");
	ok(store_col_type(st, 6) == STORE_BLOB && store_col_bytes(st, 6) == 3 &&
	       memcmp(store_col_blob(st, 6), blob3, 3) == 0,
	   "blob, a NUL byte inside");
	ok(store_col_type(st, 7) == STORE_BLOB && store_col_bytes(st, 7) == 0 &&
	       !store_col_is_null(st, 7),
	   "a blob of zero bytes is a blob, not NULL");
	ok(store_col_type(st, 8) == STORE_NULL && store_col_is_null(st, 8) &&
	       store_col_int64(st, 8) == 0 && store_col_double(st, 8) == 0.0 &&
	       store_col_text(st, 8) == NULL && store_col_blob(st, 8) == NULL &&
	       store_col_bytes(st, 8) == 0,
	   "NULL reads as 0, 0.0, no text, no blob, 0 bytes");
	is_int(store_row(c, st), 0, "then no more rows");
}

static void test_binds(struct store_conn *c)
{
	static const char blob3[3] = {'a', '\0', 'b'};
	struct store_stmt *st = store_stmt(c, sql_echo);
	char text[8] = "before", blob[4] = {1, 2, 3, 4};

	ok(st != NULL, "the echo statement prepares");
	if (!st)
		return;
	is_int(store_bind_count(st), 9, "nine parameters");
	store_bind_int64(st, 1, INT64_MIN);
	store_bind_int64(st, 2, INT64_MAX);
	store_bind_int64(st, 3, -7);
	store_bind_double(st, 4, 0.25);
	store_bind_text(st, 5, "héllo");
	store_bind_text_len(st, 6, "abcdef", 3);
	store_bind_blob(st, 7, blob3, sizeof(blob3));
	store_bind_blob(st, 8, "", 0);
	store_bind_null(st, 9);
	check_echo_row(c, st);
	store_reset(st);
	is_int(store_row(c, st), 1, "reset: it runs again, its bindings kept");
	is_int(store_col_int64(st, 2), -7, "the same values");
	st = store_stmt(c, sql_echo);
	ok(store_row(c, st) == 1 && store_col_is_null(st, 0) && store_col_is_null(st, 4),
	   "store_stmt hands it back unbound: unbound parameters are NULL");
	st = store_stmt(c, "SELECT CAST(?1 AS BIGINT) + CAST(?3 AS BIGINT)");
	store_bind_int64(st, 1, 1);
	store_bind_text(st, 2, "skipped");
	store_bind_int64(st, 3, 3);
	ok(st && store_row(c, st) == 1 && store_col_int64(st, 0) == 4,
	   "a parameter the SQL skips (?2) is bound and ignored, as in SQLite");
	st = store_stmt(c, sql_echo);
	store_bind_text_len(st, 5, "ab\0cd", 5);
	ok(store_row(c, st) < 0,
	   "a text with a NUL byte is refused (PostgreSQL has none), not cut");
	st = store_stmt(c, sql_echo);
	store_bind_text_copy(st, 5, text);
	store_bind_blob_copy(st, 7, blob, sizeof(blob));
	memcpy(text, "after", 6);
	memset(blob, 9, sizeof(blob));
	ok(store_row(c, st) == 1 && strcmp(store_col_text(st, 4), "before") == 0 &&
	       store_col_bytes(st, 6) == 4 && memcmp(store_col_blob(st, 6), "\1\2\3\4", 4) == 0,
	   "the _copy binds keep what was bound, not what the buffer holds later");
	store_reset(st);
}

/* Writes: changes, the last id, a constraint's refusal, and a refused
 * statement inside a transaction undoing itself only (as in SQLite). */
static void test_writes(struct store_conn *c)
{
	static const char sql_insert[] = "INSERT INTO echo_once(x) VALUES (?1)";
	static const char sql_count[] = "SELECT count(*) FROM echo_once";
	struct store_stmt *st, *bad;

	is_int(store_exec(c, "CREATE TABLE echo_once(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
			     " PRIMARY KEY, x TEXT UNIQUE)"),
	       0, "a table");
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
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "one");
	is_int(store_step_write(c, st, "echo insert"), STORE_CONSTRAINT,
	       "in a transaction: STORE_CONSTRAINT");
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "two");
	is_int(store_run(c, st, "echo insert"), 0, "the transaction goes on after a refusal");
	/* PostgreSQL's refused inserts drew ids too (SQLite would say 2). */
	is_int(store_last_id(c), fixture_one_int(c, "SELECT id FROM echo_once WHERE x = 'two'"),
	       "the id of the row inserted in the transaction");
	is_int(store_commit(c), 0, "commit");
	is_int(fixture_one_int(c, sql_count), 2, "both rows are kept");
	st = store_stmt(c, "UPDATE echo_once SET x = x || '!' RETURNING id");
	is_int(store_step_write(c, st, "echo update"), 1, "RETURNING: a row");
	ok(store_col_int64(st, 0) >= 1, "its id");
	is_int(store_step_write(c, st, "echo update"), 1, "a second row");
	is_int(store_step_write(c, st, "echo update"), 0, "then done");
	is_int(store_changes(c), 2, "two rows changed");
	store_reset(st);
	is_int(store_begin(c), 0, "begin");
	is_int(store_exec(c, "DELETE FROM echo_once"), 0, "delete all");
	store_rollback(c);
	is_int(fixture_one_int(c, sql_count), 2, "a rollback keeps them");
	st = store_stmt_new(c, "SELECT count(*) FROM echo_once WHERE x LIKE ?1");
	store_bind_text(st, 1, "t%");
	ok(st && store_row(c, st) == 1 && store_col_int64(st, 0) == 1,
	   "store_stmt_new: SQL that is not static");
	store_stmt_free(st);
	store_stmt_free(NULL);
	bad = store_stmt_new(c, "SELECT FROM nowhere");
	ok(bad == NULL && strlen(store_errmsg(c)) > 0, "bad SQL: NULL, and store_errmsg says why");
}

/* Transaction control statements a module prepares (classify's read
 * transaction: BEGIN ... COMMIT) run as they are, outside the savepoint
 * the store puts around a write in a transaction: in it, a SAVEPOINT would
 * be released with the store's own at once, and a COMMIT would end the
 * transaction under it. */
static void test_control_statements(struct store_conn *c)
{
	static const char sql_insert[] = "INSERT INTO echo_once(x) VALUES (?1)";
	struct store_stmt *st;

	is_int(store_run(c, store_stmt(c, "BEGIN"), "begin"), 0, "a prepared BEGIN");
	ok(store_in_transaction(c), "opens a transaction");
	is_int(store_run(c, store_stmt(c, "SAVEPOINT mine"), "savepoint"), 0,
	       "a prepared SAVEPOINT in it");
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "undone");
	is_int(store_run(c, st, "echo insert"), 0, "a write after it");
	is_int(store_run(c, store_stmt(c, "ROLLBACK TO SAVEPOINT mine"), "rollback to"), 0,
	       "the savepoint is still there to roll back to");
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "kept");
	is_int(store_run(c, st, "echo insert"), 0, "another write");
	is_int(store_run(c, store_stmt(c, "COMMIT"), "commit"), 0, "a prepared COMMIT");
	ok(!store_in_transaction(c), "ends the transaction");
	is_int(fixture_one_int(c, "SELECT count(*) FROM echo_once WHERE x IN ('undone', 'kept')"),
	       1, "the write before the rollback is undone, the other kept");
}

/* ---- group writes from several threads ---- */

enum { THREADS = 4, JOBS = 40 };

struct job {
	int64_t value;
	bool fail; /* insert, then fail: undone alone */
};

static int insert_job(struct store_conn *c, void *arg)
{
	static const char sql[] = "INSERT INTO group_rows(v) VALUES (?1)";
	struct job *j = arg;
	struct store_stmt *st = store_stmt(c, sql);
	int r;

	if (!st)
		return -1;
	store_bind_int64(st, 1, j->value);
	r = store_run(c, st, "group insert");
	return r != 0 ? r : j->fail ? 7 : 0;
}

struct worker {
	struct store *s;
	int id;
	int failures; /* results other than expected */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < JOBS; i++) {
		struct job j = {w->id * 1000 + i, i % 10 == 9};
		struct store_conn *c = store_acquire(w->s);
		int r = store_group_write(c, insert_job, &j);
		store_release(w->s, c);
		if (r != (j.fail ? 7 : 0))
			w->failures++;
	}
	return NULL;
}

static void test_group_write(struct store *s)
{
	pthread_t threads[THREADS];
	struct worker workers[THREADS];
	struct store_conn *c = store_acquire(s);
	int failures = 0;

	is_int(store_exec(c, "CREATE TABLE group_rows(v BIGINT PRIMARY KEY)"), 0, "a table");
	store_release(s, c);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){s, i, 0};
		pthread_create(&threads[i], NULL, worker_main, &workers[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		failures += workers[i].failures;
	}
	is_int(failures, 0, "every group write returned its job's result");
	c = store_acquire(s);
	is_int(fixture_one_int(c, "SELECT count(*) FROM group_rows"), THREADS * (JOBS - JOBS / 10),
	       "the succeeded jobs' rows are committed, the failed ones' undone");
	is_int(store_begin(c), 0, "begin (an import's transaction)");
	struct job j = {-1, false}, k = {-2, true};
	is_int(store_group_write(c, insert_job, &j), 0, "a group write joins it");
	is_int(store_group_write(c, insert_job, &k), 7, "a failing one is undone alone");
	is_int(store_commit(c), 0, "the caller commits");
	is_int(fixture_one_int(c, "SELECT count(*) FROM group_rows WHERE v < 0"), 1,
	       "one of the two kept");
	store_release(s, c);
}

/* The schema's triggers, translated from SQLite's: a thread's version,
 * the status counts, the likes count and its tombstone. */
static void test_schema(struct store_conn *c)
{
	static const char sql_thread[] =
	    "INSERT INTO threads(site, path, created) VALUES ('default', '/a', 1)";
	static const char sql_comment[] =
	    "INSERT INTO comments(thread_id, depth, created, status, author, text, html, avatar,"
	    " auto_status) VALUES (?1, 1, 86400, 'published', 'A', 't', 'h', 'x', 'published')"
	    " RETURNING id";
	struct store_stmt *st;
	int64_t thread, comment = 0;

	is_int(store_run(c, store_stmt(c, sql_thread), "thread"), 0, "a thread");
	thread = store_last_id(c);
	ok(thread >= 1, "its id, from the identity column");
	st = store_stmt(c, sql_comment);
	store_bind_int64(st, 1, thread);
	if (store_step_write(c, st, "comment") == 1)
		comment = store_col_int64(st, 0);
	store_reset(st);
	ok(comment >= 1, "a comment, its id by RETURNING");
	is_int(fixture_one_int(c, "SELECT version FROM threads WHERE path = '/a'"), 1,
	       "the thread's version went up");
	is_int(fixture_one_int(c, "SELECT n FROM status_counts WHERE site = 'default' AND"
				  " status = 'published'"),
	       1, "status_counts counts it");
	is_int(fixture_one_int(c, "SELECT count FROM decided_daily WHERE day = 1"), 1,
	       "decided_daily counts the automatic decision");
	st = store_stmt(c, "INSERT INTO likes(comment_id, voter, created) VALUES (?1, ?2, 1)");
	store_bind_int64(st, 1, comment);
	store_bind_blob(st, 2, "\x01\x02", 2);
	is_int(store_run(c, st, "like"), 0, "a like");
	is_int(fixture_one_int(c, "SELECT likes FROM comments"), 1, "the comment's likes count");
	st = store_stmt(c, "UPDATE comments SET status = 'deleted' WHERE id = ?1");
	store_bind_int64(st, 1, comment);
	is_int(store_run(c, st, "tombstone"), 0, "a tombstone");
	ok(fixture_one_int(c, "SELECT likes FROM comments") == 0 &&
	       fixture_one_int(c, "SELECT count(*) FROM likes") == 0,
	   "a tombstone clears its likes");
	ok(fixture_one_int(c, "SELECT n FROM status_counts WHERE status = 'published'") == 0 &&
	       fixture_one_int(c, "SELECT n FROM status_counts WHERE status = 'deleted'") == 1,
	   "status_counts follows the status");
	is_int(fixture_one_int(c, "SELECT length(hash_key) FROM classifier_state"), 16,
	       "the classifier's key: 16 random bytes");
	st = store_stmt(c, "INSERT INTO outbox_deliveries(event_id, recipient, next_at)"
			   " VALUES (1, 'subscription:x', 0)");
	is_int(store_step_write(c, st, "bad recipient"), STORE_CONSTRAINT,
	       "the recipient's check (GLOB made a regular expression) refuses a bad one");
	store_reset(st);
}

/* SQLite's json_each and json_group_array as schema/pg provides them:
 * the modules' scopes (a JSON list of sites, an object of site -> days). */
static void test_json(struct store_conn *c)
{
	struct store_stmt *st;
	int64_t n = -1;

	st = store_stmt(c, "SELECT count(*) FROM json_each(?1) WHERE value IN ('a', 'b')");
	store_bind_text(st, 1, "[\"a\", \"b\", \"c\"]");
	ok(store_one_int64(c, st, &n) == 1 && n == 2, "json_each over a list of sites");
	st = store_stmt(c, "SELECT 86400 * CAST((SELECT value FROM json_each(?1) WHERE key = ?2)"
			   " AS BIGINT)");
	store_bind_text(st, 1, "{\"nl\": 30, \"en\": 7}");
	store_bind_text(st, 2, "en");
	ok(store_one_int64(c, st, &n) == 1 && n == 7 * 86400,
	   "json_each over an object: a site's days");
	st = store_stmt(c, "SELECT CAST(?1 AS TEXT) IS NULL OR 'a' IN (SELECT value FROM"
			   " json_each(?1))");
	ok(store_one_int64(c, st, &n) == 1 && n == 1, "a NULL scope is every site");
	st = store_stmt(c, "SELECT json_group_array(s) FROM (VALUES ('x'), ('y')) AS v(s)");
	ok(st && store_row(c, st) == 1 && strcmp(store_col_text(st, 0), "[\"x\",\"y\"]") == 0,
	   "json_group_array");
	store_reset(st);
	st = store_stmt(c, "SELECT json_group_array(s) FROM (VALUES ('x')) AS v(s) WHERE s = 'z'");
	ok(st && store_row(c, st) == 1 && strcmp(store_col_text(st, 0), "[]") == 0,
	   "json_group_array of no rows is [] (as SQLite's)");
	store_reset(st);
}

/* A module on PostgreSQL: lib/comment's discards take their decoy ids from
 * the comments' identity sequence (SQLite: sqlite_sequence), so that no
 * later comment gets them. */
static void test_discard_ids(struct store_conn *c)
{
	static const char sql_comment[] =
	    "INSERT INTO comments(thread_id, depth, created, status, author, text, html, avatar)"
	    " SELECT id, 1, 1, 'pending', 'B', 't', 'h', 'x' FROM threads WHERE path = '/a'"
	    " RETURNING id";
	unsigned char hash[KEYS_HASH_BYTES] = {1};
	struct comment_error err;
	int64_t first = 0, second = 0, later = 0;
	struct store_stmt *st;

	ok(comment_discard(c, "default", 86400 * 3, hash, "sealed", 6, &first, &err) == 0 &&
	       comment_discard(c, "default", 86400 * 3, hash, NULL, 0, &second, &err) == 0,
	   "two discards");
	ok(first > 0 && second > first, "each with its own id from the sequence (%lld, %lld)",
	   (long long)first, (long long)second);
	is_int(fixture_one_int(c, "SELECT count FROM discarded WHERE day = 3"), 2, "both counted");
	is_int(fixture_one_int(c, "SELECT count(*) FROM decoys"), 2, "both decoys recorded");
	st = store_stmt(c, sql_comment);
	if (store_step_write(c, st, "comment") == 1)
		later = store_col_int64(st, 0);
	store_reset(st);
	ok(later > second, "a later comment's id comes after them (%lld)", (long long)later);
}

/* lib/backup copies SQLite files: a PostgreSQL store or URI is refused
 * with its own code (commentctl backup says to use pg_dump), nothing
 * written. */
static void test_backup(struct store_conn *c)
{
	char dir[] = "/tmp/test-store-pg-XXXXXX", dest[64];
	struct stat sb;

	if (!mkdtemp(dir)) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(dest, sizeof(dest), "%s/copy.db", dir);
	is_int(backup_copy(c, dest), BACKUP_NOT_SQLITE, "backup_copy refuses a PostgreSQL store");
	is_int(backup_copy_file(uri, dest), BACKUP_NOT_SQLITE,
	       "backup_copy_file refuses a PostgreSQL URI");
	ok(stat(dest, &sb) != 0, "no copy written");
	ok(rmdir(dir) == 0, "nor any temporary file (the directory is empty)");
	ok(store_is_pg_uri(uri) && !store_is_pg_uri("/var/lib/commentd/comments.db"),
	   "store_is_pg_uri tells a URI from a path");
}

/* The rows of an EXPLAIN (or any one-column text result) joined. */
static const char *text_rows(struct store_conn *c, const char *sql)
{
	static char buf[4096];
	struct store_stmt *st = store_stmt_new(c, sql);
	size_t len = 0;

	buf[0] = '\0';
	while (st && store_row(c, st) == 1)
		len +=
		    (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", store_col_text(st, 0));
	store_stmt_free(st);
	return buf;
}

/* The admin search's pg_trgm indexes (schema/pg/0003) serve the search's
 * expression (`COLLATE "C" ILIKE`, lib/moderation.c): an index on another
 * collation could not (the planner would walk the primary key even with
 * sequential scans off). */
static void test_trgm_plan(struct store_conn *c)
{
	const char *plan;

	is_int(fixture_one_int(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), 1,
	       "pg_trgm is installed");
	is_int(store_exec(c, "SET enable_seqscan = off"), 0, "sequential scans off");
	plan = text_rows(c, "EXPLAIN SELECT id FROM comments c WHERE c.text COLLATE \"C\" ILIKE "
			    "'%zqxwv%' OR c.author COLLATE \"C\" ILIKE '%zqxwv%'");
	ok(strstr(plan, "comments_text_trgm") && strstr(plan, "comments_author_trgm"),
	   "the search's ILIKE uses both trigram indexes:\n%s", plan);
	store_exec(c, "RESET enable_seqscan");
}

/* pg_trgm is a trusted extension: a database owner that is no superuser
 * migrates a new database (CREATE EXTENSION in pg/0003) on its own. */
static void test_owner_not_superuser(struct store_conn *admin)
{
	const char *at = strchr(uri, '@'), *slash = strrchr(uri, '/');
	char owned[512];
	struct store *s = NULL;
	struct store_conn *c;

	if (!at || !slash || slash < at) {
		ok(0, "COMMENTD_TEST_PG names a user and a database: %s", uri);
		return;
	}
	is_int(store_exec(admin, "CREATE ROLE trgm_owner LOGIN NOSUPERUSER NOCREATEDB "
				 "NOCREATEROLE"),
	       0, "a role that is no superuser");
	is_int(store_exec(admin, "CREATE DATABASE trgm_owned OWNER trgm_owner"), 0,
	       "  owns a new database");
	snprintf(owned, sizeof(owned), "postgresql://trgm_owner%.*strgm_owned",
		 (int)(slash + 1 - at), at);
	is_int(store_new(&s, owned, 1), 0, "the owner opens and migrates it");
	if (!s)
		return;
	c = store_acquire(s);
	is_int(fixture_one_int(c, "SELECT count(*) FROM pg_roles WHERE rolname = current_user AND "
				  "NOT rolsuper"),
	       1, "  connected as the role, no superuser");
	is_int(fixture_one_int(c, "SELECT version FROM commentd_schema"),
	       (int64_t)schema_pg_files_count, "  every migration applied");
	is_int(fixture_one_int(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), 1,
	       "  pg_trgm created by the owner");
	is_int(fixture_one_int(c, "SELECT count(*) FROM pg_indexes WHERE indexname IN "
				  "('comments_text_trgm', 'comments_author_trgm')"),
	       2, "  with both trigram indexes");
	store_release(s, c);
	store_free(s);
	store_exec(admin, "DROP DATABASE trgm_owned WITH (FORCE)");
	store_exec(admin, "DROP ROLE trgm_owner");
}

static bool terminate(struct store_conn *other, struct store_conn *victim);

/* The process's resident memory in KiB (VmRSS), or -1. */
static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* Reads every row of a streamed count: how many came, -1 if they were not
 * 1, 2, 3 ... in order, or the failure. */
static long stream_count(struct store_conn *c, struct store_stmt *st, long first)
{
	long n = first;
	int r;

	while ((r = store_row(c, st)) == 1) {
		if (store_col_int64(st, 0) != n + 1)
			return -1;
		n++;
	}
	store_reset(st);
	return r < 0 ? r : n;
}

/* store_stream: a read's rows arrive one at a time (libpq's single-row
 * mode), so a big result is never held whole; another statement on the
 * connection meanwhile, a reset, a failure and a broken connection leave
 * every row read and the connection usable. */
static void test_stream(struct store *s)
{
	static const char sql_big[] =
	    "SELECT i, repeat('x', 1000) FROM generate_series(1, 100000) AS g(i)";
	static const char sql_rows[] = "SELECT i FROM generate_series(1, CAST(?1 AS INT)) AS g(i)";
	static const char sql_fail[] =
	    "SELECT i FROM generate_series(1, 5000) AS g(i) WHERE 1 / (3000 - i) >= 0";
	struct store_conn *c = store_acquire(s), *other = store_acquire(s);
	struct store_stmt *st = store_stmt(c, sql_big);
	long before, grew, n = 0;
	int r;

	/* 100 MB of rows: held whole, the first row would cost all of it. */
	store_stream(st);
	before = rss_kib();
	r = store_row(c, st);
	grew = rss_kib() - before;
	ok(r == 1 && store_col_int64(st, 0) == 1 && store_col_bytes(st, 1) == 1000,
	   "a streamed read's first row");
	ok(before > 0 && grew < 16 * 1024,
	   "100 MB of rows: the first one read costs less than 16 MiB (grew %ld KiB)", grew);
	while (r == 1 && store_col_int64(st, 0) == ++n)
		r = store_row(c, st);
	is_int(r, 0, "then every row, and the end");
	is_int(n, 100000, "100,000 rows in order");
	store_reset(st);
	is_int(fixture_one_int(c, "SELECT 7"), 7, "the connection runs the next statement");

	st = store_stmt(c, sql_rows);
	store_stream(st);
	store_bind_int64(st, 1, 1000);
	for (n = 0; n < 10 && store_row(c, st) == 1; n++)
		;
	is_int(fixture_one_int(c, "SELECT 42"), 42,
	       "another statement in the middle of a streamed read runs");
	is_int(stream_count(c, st, 10), 1000, "and the streamed read still gives all 1,000 rows");

	store_bind_int64(st, 1, 50);
	for (n = 0; n < 5 && store_row(c, st) == 1; n++)
		;
	store_reset(st);
	is_int(fixture_one_int(c, "SELECT 8"), 8, "reset in the middle: the connection is free");
	is_int(stream_count(c, st, 0), 50, "run again: from its first row");

	st = store_stmt(c, sql_fail);
	store_stream(st);
	n = 0;
	while ((r = store_row(c, st)) == 1)
		n++;
	store_reset(st);
	ok(r < 0 && n < 3000, "a read failing after %ld rows fails, never \"no more rows\"", n);
	is_int(fixture_one_int(c, "SELECT 9"), 9, "and the connection works after it");

	is_int(store_begin(c), 0, "a transaction");
	is_int(store_exec(c, "CREATE TEMP TABLE stream_t(v BIGINT)"), 0, "a write in it");
	st = store_stmt(c, sql_rows);
	store_stream(st);
	store_bind_int64(st, 1, 300);
	is_int(stream_count(c, st, 0), 300, "a streamed read inside it");
	ok(store_in_transaction(c), "the transaction is still open");
	is_int(store_commit(c), 0, "and commits");

	ok(terminate(other, c), "the server ends the session");
	st = store_stmt(c, sql_rows);
	store_stream(st);
	store_bind_int64(st, 1, 20);
	is_int(stream_count(c, st, 0), 20, "a streamed read then runs on a new connection");
	store_release(s, other);
	store_release(s, c);
}

static void test_statements(void)
{
	struct store *s = NULL;
	struct store_conn *c;

	if (store_new(&s, uri, 4) != 0) {
		ok(0, "a store for the statement tests");
		return;
	}
	pragmas_of_pool(s);
	c = store_acquire(s);
	test_binds(c);
	test_writes(c);
	check_whole(c);
	test_control_statements(c);
	test_schema(c);
	test_json(c);
	test_discard_ids(c);
	test_backup(c);
	test_trgm_plan(c);
	test_owner_not_superuser(c);
	store_release(s, c);
	test_group_write(s);
	store_free(s);
}

/* threads.published (pg/0005): kept by comments_version() through inserts,
 * status changes and moves, and filled in for the threads a database had
 * before the migration (which runs again here on a database set back to
 * version 4, its column dropped). */
static void test_published(void)
{
	static const char mismatch_sql[] =
	    "SELECT count(*) FROM threads t WHERE t.published <>"
	    " (SELECT count(*) FROM comments c WHERE c.thread_id = t.id"
	    " AND c.status = 'published')";
	static const char p1_sql[] =
	    "SELECT published FROM threads WHERE site = 'pub' AND path = '/1'";
	static const char p2_sql[] =
	    "SELECT published FROM threads WHERE site = 'pub' AND path = '/2'";
	char sql[128];
	size_t before = 0;
	struct store *s = NULL;
	struct store_conn *c;

	while (before < schema_pg_files_count &&
	       !strstr(schema_pg_files[before].name, "thread-published"))
		before++;
	if (!ok(before < schema_pg_files_count, "pg/0005 is embedded") ||
	    store_new(&s, uri, 1) != 0)
		return;
	c = store_acquire(s);
	store_exec(c, "INSERT INTO threads (site, path, created) VALUES ('pub', '/1', 0),"
		      " ('pub', '/2', 0)");
	store_exec(c, "INSERT INTO comments (thread_id, depth, created, status, author, text, html,"
		      " avatar) SELECT t.id, 1, 0, s.status, 'A', 't', 'h', '' FROM threads t"
		      " CROSS JOIN (VALUES ('/1', 'published'), ('/1', 'published'),"
		      " ('/1', 'pending'), ('/2', 'published'), ('/2', 'spam')) AS s(path, status)"
		      " WHERE t.site = 'pub' AND t.path = s.path");
	ok(fixture_one_int(c, p1_sql) == 2 && fixture_one_int(c, p2_sql) == 1,
	   "inserts: two published of three, one of two");
	store_exec(c, "UPDATE comments SET status = 'published' WHERE status = 'pending'");
	store_exec(c,
		   "UPDATE comments SET thread_id = (SELECT id FROM threads WHERE site = 'pub'"
		   " AND path = '/2') WHERE id = (SELECT min(c.id) FROM comments c JOIN threads t"
		   " ON t.id = c.thread_id WHERE t.site = 'pub' AND t.path = '/1')");
	ok(fixture_one_int(c, p1_sql) == 2 && fixture_one_int(c, p2_sql) == 2,
	   "an approval and a move: 2 and 2");
	store_exec(c, "DELETE FROM comments WHERE status = 'spam'");
	is_int(fixture_one_int(c, mismatch_sql), 0, "every thread's count matches its comments");

	store_exec(c, "ALTER TABLE threads DROP COLUMN published");
	snprintf(sql, sizeof(sql), "UPDATE commentd_schema SET version = %zu", before);
	store_exec(c, sql);
	store_release(s, c);
	store_free(s);
	s = NULL;
	is_int(store_new(&s, uri, 1), 0, "a database from before pg/0005 upgrades");
	if (!s)
		return;
	c = store_acquire(s);
	ok(fixture_one_int(c, p1_sql) == 2 && fixture_one_int(c, p2_sql) == 2,
	   "  and its threads' counts are filled in: 2 and 2");
	is_int(fixture_one_int(c, mismatch_sql), 0, "  every thread's");
	store_release(s, c);
	store_free(s);
}

/* ---- a session the server ends (a restart, a crash, a failover) ---- */

/* Ends victim's server session from other, as a restart or a crash would,
 * and waits until it is gone; victim's store is not told.  True when
 * done. */
static bool terminate(struct store_conn *other, struct store_conn *victim)
{
	static const char sql[] = "SELECT CASE WHEN pg_terminate_backend(?1, 10000) THEN 1 ELSE 0 "
				  "END";
	int64_t pid = fixture_one_int(victim, "SELECT pg_backend_pid()"), done = -1;
	struct store_stmt *st = store_stmt(other, sql);

	if (pid <= 0 || !st)
		return false;
	store_bind_int64(st, 1, pid);
	return store_one_int64(other, st, &done) == 1 && done == 1;
}

/* A group job whose connection breaks under it (its own session ended),
 * failing as a module might: -EIO. */
static int broken_job(struct store_conn *c, void *arg)
{
	(void)arg;
	fixture_one_int(c, "SELECT 1 FROM pg_terminate_backend(pg_backend_pid())");
	return -EIO;
}

/* Writes after a session ended: outside a transaction the closed
 * connection is found before anything is sent (nothing lost, nothing
 * unknown); inside one the transaction is lost and says so. */
static void reconnect_writes(struct store_conn *a, struct store_conn *b)
{
	static const char sql_insert[] = "INSERT INTO reconnect_rows(v) VALUES (?1)";
	static const char sql_count[] = "SELECT count(*) FROM reconnect_rows";
	struct store_stmt *st, *upd;

	ok(terminate(b, a), "the server ends an idle session again");
	st = store_stmt(a, sql_insert);
	ok(st != NULL, "a statement first prepared then is made (on a new connection)");
	store_bind_int64(st, 1, 1);
	is_int(store_run(a, st, "insert"), 0, "and a write outside a transaction runs");
	ok(terminate(b, a), "again");
	store_bind_int64(st, 1, 2);
	is_int(store_run(a, st, "insert"), 0,
	       "a prepared write on it runs: the closed connection is found before it is sent");
	ok(terminate(b, a), "again");
	is_int(store_begin(a), 0, "store_begin on it begins on a new connection");
	store_bind_int64(st, 1, 3);
	is_int(store_run(a, st, "insert"), 0, "a write in that transaction");
	ok(terminate(b, a), "the server ends the session inside the transaction");
	upd = store_stmt(a, "UPDATE reconnect_rows SET v = v WHERE v = ?1");
	ok(upd != NULL, "a statement first prepared then is made all the same (its PREPARE "
			"found the connection broken: not a failure of its own)");
	store_bind_int64(upd, 1, 3);
	is_int(store_run(a, upd, "update"), STORE_UNAVAILABLE,
	       "  and runs: STORE_UNAVAILABLE (503)");
	store_bind_int64(st, 1, 4);
	is_int(store_run(a, st, "insert"), STORE_UNAVAILABLE,
	       "a write in the lost transaction: STORE_UNAVAILABLE (503)");
	is_int(store_commit(a), STORE_UNAVAILABLE, "its commit too");
	ok(!store_in_transaction(a), "and the transaction is over");
	is_int(fixture_one_int(a, sql_count), 2,
	       "the next read reconnects; the lost transaction's row is "
	       "not there");
	is_int(store_exec(a, "SET default_transaction_read_only = on"), 0,
	       "a session made read-only (as on a standby)");
	store_bind_int64(st, 1, 5);
	is_int(store_run(a, st, "insert"), STORE_UNAVAILABLE,
	       "a write refused there (SQLSTATE 25006): STORE_UNAVAILABLE, no primary");
	store_bind_int64(st, 1, 5);
	is_int(store_run(a, st, "insert"), 0, "the connection is made again: the write runs");
}

static void test_reconnect(void)
{
	static const char sql_count[] = "SELECT count(*) FROM reconnect_rows";
	struct store *s = NULL;
	struct store_conn *a, *b;

	if (store_new(&s, uri, 2) != 0) {
		ok(0, "a store for the reconnection tests");
		return;
	}
	a = store_acquire(s);
	b = store_acquire(s);
	is_int(store_exec(a, "CREATE TABLE reconnect_rows(v BIGINT PRIMARY KEY)"), 0, "a table");
	is_int(fixture_one_int(a, sql_count), 0, "a read");
	ok(terminate(b, a), "the server ends an idle session");
	is_int(fixture_one_int(a, sql_count), 0, "a read on it runs on a new connection");
	reconnect_writes(a, b);
	store_release(s, b);
	is_int(store_group_write(a, broken_job, NULL), STORE_UNAVAILABLE,
	       "a group write whose connection breaks: STORE_UNAVAILABLE (503), not the "
	       "job's -EIO (500)");
	store_release(s, a);
	a = store_acquire(s);
	ok(!store_in_transaction(a), "released: its transaction is over");
	is_int(fixture_one_int(a, sql_count), 3, "the store works on (reconnected)");
	store_release(s, a);
	ok(store_healthy(s), "healthy");
	store_free(s);
}

static void test_stream_store(void)
{
	struct store *s = NULL;

	if (store_new(&s, uri, 2) != 0) {
		ok(0, "a store for the streaming tests");
		return;
	}
	test_stream(s);
	store_free(s);
}

static void test_unreachable(void)
{
	struct store *s = NULL;

	/* Port 1 on loopback: nothing listens there. */
	ok(store_new(&s, "postgresql://commentd@127.0.0.1:1/none?connect_timeout=2", 1) < 0,
	   "no server: store_new fails");
	ok(s == NULL, "and gives no store");
}

int main(void)
{
	uri = getenv("COMMENTD_TEST_PG");
	if (!uri || !*uri) {
		if (getenv("CI")) {
			printf("Bail out! COMMENTD_TEST_PG is not set (run through "
			       "tests/pgserver.py)\n");
			return 1;
		}
		printf("1..0 # SKIP COMMENTD_TEST_PG is not set (tests/pgserver.py run -- ...)\n");
		return 0;
	}
	test_open();
	test_statements();
	test_published();
	test_reconnect();
	test_stream_store();
	test_unreachable();
	test_too_new();
	return done_testing();
}
