/* store: the SQLite file behind commentd.
 *
 * A store owns a fixed pool of connections, each opened in multi-thread mode
 * with WAL, synchronous=FULL, secure_delete, foreign keys, defensive mode and
 * a busy timeout.  The database file, its WAL and shared-memory index are
 * created (or narrowed to) mode 0600 whatever the umask.
 * Opening applies the numbered migrations in schema/ (embedded at build time)
 * through PRAGMA user_version, all pending ones in a single BEGIN IMMEDIATE
 * transaction: if any fails, the file stays exactly as it was before the
 * upgrade (schema, data and user_version).  A database newer than the binary
 * is refused.
 *
 * Modules keep their SQL as static text next to their code and obtain
 * prepared statements with store_stmt(), which prepares each text once per
 * connection (SQLITE_PREPARE_PERSISTENT) and hands it back reset and unbound.
 * A statement is an opaque struct store_stmt: modules bind with
 * store_bind_*, step with store_row / store_run / store_one_int64 and read
 * with store_col_*, so that no module but this one (lib/store*.c) and the
 * SQLite-only lib/backup.c sees SQLite (tests/check-store-boundary.py keeps
 * it so).  Unbound parameters are NULL.  Bound text and blobs are not
 * copied (except by the _copy binds): they must stay valid until the
 * statement's last step.
 *
 * Thread safety: store_acquire/store_release may be called from any thread;
 * a struct store_conn and its statements are used by one thread at a time.
 */
#ifndef COMMENTD_STORE_H
#define COMMENTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_conn;
struct store_stmt;
struct sqlite3;

/* A column's type on the current row (store_col_type). */
enum store_type {
	STORE_NULL,
	STORE_INT,
	STORE_REAL,
	STORE_TEXT,
	STORE_BLOB,
};

enum {
	STORE_TOO_NEW = 1,     /* database schema is newer than this binary */
	STORE_READONLY = 2,    /* the file or its directory cannot be written */
	STORE_FULL = 3,	       /* disk full */
	STORE_BUSY = 4,	       /* store_checkpoint_truncate: readers kept the WAL */
	STORE_CONSTRAINT = 5,  /* store_step_write: a constraint refused the write */
	STORE_UNAVAILABLE = 6, /* PostgreSQL: no server (primary) answers */
	STORE_NO_WAL = 7,      /* store_checkpoint_truncate on PostgreSQL */
	STORE_MISSING = 8,     /* store_peek_version: no such SQLite file */
};

/* Opens (creating if needed) the database at path with pool_size connections
 * (at least 1) and migrates it.  On success *out owns the store.
 * A path starting with postgresql:// or postgres:// is a libpq connection
 * URI instead (several hosts and target_session_attrs=read-write allowed):
 * the store is then PostgreSQL's (lib/store_pg.c, migrations schema/pg/;
 * docs/postgresql-port.md).
 * Returns 0, STORE_TOO_NEW, or negative on failure (logged). */
int store_new(struct store **out, const char *path, unsigned pool_size);

/* The db setting as it may be logged: a path as is; a PostgreSQL URI
 * without its password (user:*** instead), its servers' addresses (their
 * count instead) or its parameters ("?..."): never a secret, nothing that
 * looks like a client's address.  Always NUL-terminates out (size > 0);
 * returns out. */
char *store_db_display(const char *db, char *out, size_t size);

/* Moves checkpoints off the commits (the daemon; call before the pool is
 * used): the pooled connections stop copying the WAL back into the
 * database inside the COMMIT that passes 1000 pages, and a thread of the
 * store does it on its own connection, PASSIVE, so that no writer waits
 * for the copy and its fsync.  Stopped by store_free.  0 or negative. */
int store_checkpoints_start(struct store *s);

/* Closes every connection (PRAGMA optimize first).  NULL-safe; returns NULL. */
struct store *store_free(struct store *s);

/* Number of migrations this binary knows (the newest user_version). */
int store_schema_version(void);

/* Reads the schema version of the database db (a SQLite path or a
 * PostgreSQL URI, as store_new) without creating, migrating or writing
 * anything: *version is 0 for a database commentd never opened, and
 * *known the version this binary migrates db's engine to (SQLite's and
 * PostgreSQL's migrations are numbered apart: docs/postgresql-port.md).
 * Returns 0, STORE_MISSING (no such file), STORE_UNAVAILABLE (the server
 * cannot be reached, or the URI is refused: logged) or negative (logged;
 * e.g. not a SQLite file). */
int store_peek_version(const char *db, int *version, int *known);

/* Borrows a connection, waiting until one is free.  Never fails. */
struct store_conn *store_acquire(struct store *s);

/* Returns a connection; any open transaction is rolled back first. */
void store_release(struct store *s, struct store_conn *c);

/* The SQLite handle of a connection (NULL on PostgreSQL), for the SQLite-only lib/backup (the
 * online-backup API) and for tests that inspect the file.  Modules use the
 * statement functions below instead. */
struct sqlite3 *store_sqlite(struct store_conn *c);

/* True when the db setting names a PostgreSQL database (a libpq URI
 * starting postgresql:// or postgres://; store_new's rule). */
bool store_is_pg_uri(const char *db);

/* True when c is a PostgreSQL connection: for what one engine lacks (the
 * search index is SQLite's FTS5; docs/postgresql-port.md). */
bool store_postgresql(const struct store_conn *c);

/* Returns the prepared statement for the static SQL text sql (compared by
 * pointer, so pass a static string), reset with bindings cleared.  The
 * statement stays owned by the connection.  NULL on error (logged). */
struct store_stmt *store_stmt(struct store_conn *c, const char *sql);

/* SQL that the two engines write differently (docs/postgresql-port.md):
 * a static text for each. */
struct store_sql {
	const char *sqlite;
	const char *pg;
};

/* store_stmt of the text for c's engine. */
struct store_stmt *store_stmt_pick(struct store_conn *c, const struct store_sql *sql);

/* A statement for SQL that is not static (lib/search's per-block texts),
 * prepared for one use and not cached: the caller frees it with
 * store_stmt_free (NULL-safe).  NULL on error, not logged: store_errmsg
 * says why (out of memory when it names no error). */
struct store_stmt *store_stmt_new(struct store_conn *c, const char *sql);
void store_stmt_free(struct store_stmt *st);

/* Binds parameter i (1-based, ?i in the SQL).  text and blob are not
 * copied (see above); a NULL text or blob binds NULL.  store_bind_text_len
 * binds len bytes of text (no NUL needed).  The _copy binds copy the bytes,
 * for a source that goes away before the statement is stepped. */
void store_bind_int64(struct store_stmt *st, int i, int64_t v);
void store_bind_double(struct store_stmt *st, int i, double v);
void store_bind_text(struct store_stmt *st, int i, const char *text);
void store_bind_text_len(struct store_stmt *st, int i, const char *text, size_t len);
void store_bind_text_copy(struct store_stmt *st, int i, const char *text);
void store_bind_blob(struct store_stmt *st, int i, const void *blob, size_t len);
void store_bind_blob_copy(struct store_stmt *st, int i, const void *blob, size_t len);
void store_bind_null(struct store_stmt *st, int i);

/* The number of parameters the statement's SQL has (the largest ?N). */
int store_bind_count(struct store_stmt *st);

/* Column col (0-based) of the current row.  A NULL reads as 0, 0.0, a
 * NULL text or blob and 0 bytes (a zero-length blob may read as NULL too:
 * use store_col_bytes or store_col_type).  Pointers stay valid until the
 * next row or reset. */
int64_t store_col_int64(struct store_stmt *st, int col);
int store_col_int(struct store_stmt *st, int col);
double store_col_double(struct store_stmt *st, int col);
const char *store_col_text(struct store_stmt *st, int col);
const void *store_col_blob(struct store_stmt *st, int col);
size_t store_col_bytes(struct store_stmt *st, int col);
bool store_col_is_null(struct store_stmt *st, int col);
enum store_type store_col_type(struct store_stmt *st, int col);

/* The number of columns of the statement's rows, and a column's name. */
int store_col_count(struct store_stmt *st);
const char *store_col_name(struct store_stmt *st, int col);

/* Resets a statement to run again (its bindings stay). */
void store_reset(struct store_stmt *st);

/* Marks a read whose rows may be many (every comment of an export, every
 * learned token): on PostgreSQL they then arrive one at a time, where
 * libpq would hold the whole result in memory.  Call before its first
 * step.  Until its last row is read or it is reset, the connection is
 * busy: a statement run on c meanwhile makes the rest arrive at once
 * (held as without the mark), so rows are never lost, only the saving.
 * SQLite steps through rows anyway: there it changes nothing. */
void store_stream(struct store_stmt *st);

/* Writers of one store take turns: store_begin waits until no other
 * connection of this store is inside a write transaction (an in-process
 * lock, released by store_commit, store_rollback or store_release), so
 * concurrent posts queue without SQLite's busy-handler sleeps. */
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  0 or a negative SQLite failure
 * (logged); store_commit returns STORE_FULL or STORE_READONLY where the
 * disk refuses the write. */
int store_begin(struct store_conn *c);
int store_commit(struct store_conn *c);
void store_rollback(struct store_conn *c);

/* store_begin for a transaction that is all-or-nothing: its caller rolls
 * it back on any failure (an erasure, a bulk moderation).  The first
 * statement of it that fails (a read's negative result, a write's failure
 * or STORE_CONSTRAINT) dooms it: store_commit then rolls it back and
 * returns -EIO, on either engine.  What this buys is on PostgreSQL: its
 * writes run without the per-write savepoint that keeps a refused write
 * from aborting an ordinary transaction (one round trip a write instead of
 * three; docs/postgresql-port.md).  0 or as store_begin. */
int store_begin_whole(struct store_conn *c);

/* A read snapshot: every read on c until store_end_read sees the database
 * as one moment, whatever other connections commit meanwhile (a reader
 * that promises one consistent view: an export, a model load, migrate-db's
 * source).  SQLite: a deferred BEGIN, whose WAL snapshot is taken at the
 * first read; PostgreSQL: BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY
 * (its default, READ COMMITTED, takes a snapshot per statement), its
 * snapshot also taken at the first statement after it.  Call outside a
 * transaction.  0, or negative (logged): -ENOTCONN when a PostgreSQL
 * database cannot be reached (the daemon answers 503), else -EIO. */
int store_begin_read(struct store_conn *c);

/* Ends store_begin_read's transaction (COMMIT; whatever is left of it is
 * rolled back).  Nothing is written either way. */
void store_end_read(struct store_conn *c);

/* Group commit: runs fn(c2, arg) inside a write transaction that it may
 * share with other threads' calls arriving while a commit is in progress,
 * so that one COMMIT (and one fsync) makes a whole batch durable.  c2 is
 * the connection of whichever caller leads the batch: fn must use only c2,
 * must not begin or commit, and must leave its results in arg.  Each call
 * runs in its own SAVEPOINT; a non-zero result from fn undoes that call
 * only and is returned.  Returns 0 once the batch is committed; if the
 * COMMIT fails, every call of the batch returns that failure (STORE_FULL,
 * STORE_READONLY or negative) and none of it is kept.  When c already
 * holds a write transaction (store_begin), fn runs at once inside it, in
 * its own savepoint, and the caller commits (imports write in batches). */
int store_group_write(struct store_conn *c, int (*fn)(struct store_conn *c2, void *arg), void *arg);

/* Steps a read statement: 1 when a row is ready, 0 when there are no (more)
 * rows, negative on failure (logged): -ENOTCONN when a PostgreSQL database
 * cannot be reached (the daemon answers 503).  A failed read is never "no
 * row". */
int store_row(struct store_conn *c, struct store_stmt *st);

/* Runs a one-value read: steps st once, sets *out to column 0 and resets
 * st.  1 found, 0 no row (*out untouched), negative on failure (logged). */
int store_one_int64(struct store_conn *c, struct store_stmt *st, int64_t *out);

/* Looks a secret up by its keyed hash: steps st (whose parameters the
 * caller bound, the hash among them) once and compares column col with want
 * (len bytes) in constant time.  1 on a match (the row stays current for
 * further columns; the caller resets st), 0 when there is no such row or it
 * does not match (st reset), negative on failure. */
int store_match_blob(struct store_conn *c, struct store_stmt *st, int col, const void *want,
		     size_t len);

/* Runs a write statement to completion and resets it.  0, STORE_FULL,
 * STORE_READONLY or negative (logged with what). */
int store_run(struct store_conn *c, struct store_stmt *st, const char *what);

/* Executes static SQL text without parameters.  Like store_run. */
int store_exec(struct store_conn *c, const char *sql);

/* store_exec of the text for c's engine (struct store_sql). */
int store_exec_pick(struct store_conn *c, const struct store_sql *sql);

/* Rows the last write on c changed, and the id of the last inserted row. */
unsigned store_changes(struct store_conn *c);
int64_t store_last_id(struct store_conn *c);

/* SQLite: the rows written on c since it was opened, counting those a
 * virtual table writes for a statement (FTS5's merge step tells whether it
 * did any work only this way: lib/search.c).  0 on PostgreSQL. */
int64_t store_total_changes(struct store_conn *c);

/* Steps a write statement once without resetting it (a RETURNING row stays
 * current): 1 when a row is ready, 0 done, STORE_CONSTRAINT when a UNIQUE
 * or other constraint refused it (not logged), else like store_run. */
int store_step_write(struct store_conn *c, struct store_stmt *st, const char *what);

/* The database's last error message on c, for logs. */
const char *store_errmsg(struct store_conn *c);

/* True inside a transaction (store_begin, or BEGIN through store_exec). */
bool store_in_transaction(struct store_conn *c);

/* Copies the whole WAL into the database file and truncates the WAL to
 * zero bytes, so that page images written before an erasure (the erased
 * rows themselves) do not linger in it; secure_delete has zeroed them in
 * the database.  Call outside a transaction.  This process's writers wait
 * for the last part of the copy (not for the bulk of it), never for
 * readers: while readers keep the WAL, writers go on between tries, for
 * up to 5 s.  0, STORE_BUSY
 * when readers kept it from finishing, STORE_FULL/STORE_READONLY, or
 * negative; STORE_NO_WAL on PostgreSQL, whose WAL is the server's (nothing
 * truncated: docs/postgresql-port.md, "Erasure"). */
int store_checkpoint_truncate(struct store_conn *c);

/* Tests only: fn(arg) runs each time store_checkpoint_truncate found
 * readers in the way and let the writers go on before its next try. */
void store_test_truncate_busy(struct store *s, void (*fn)(void *arg), void *arg);

/* Tests only: how many times a checkpoint synced the database file between
 * its passes, holding no one (the background thread's and a truncation's
 * copies before their holds). */
unsigned store_test_database_syncs(struct store *s);

/* Work that one node of several sharing a PostgreSQL database does at a
 * time (docs/configuration.md, "Several nodes"). */
enum store_job {
	STORE_JOB_MAINTENANCE = 1, /* the maintenance task (daemon/maintenance.c) */
	STORE_JOB_OUTBOX = 2,	   /* sending notifications (daemon/notify.c) */
};
#define STORE_JOB_COUNT 3

/* Whether this process may run job now.  On PostgreSQL the first process
 * to ask takes a session advisory lock on a connection of the pool that it
 * keeps (give the pool one more connection per job) until store_job_done,
 * store_free or the connection breaks; while it holds it, the others are
 * refused.  Asking again while holding it checks that the lock is still
 * held (a reconnection loses it; then it is taken again if free).  On
 * SQLite (one process per file) always granted, nothing held.  1 granted,
 * 0 another process holds it, negative on failure (logged). */
int store_job_try(struct store *s, enum store_job job);

/* Gives job's lock back (another node may take it) and its connection to
 * the pool.  Does nothing when this process does not hold it. */
void store_job_done(struct store *s, enum store_job job);

/* Compaction: where the bytes of removed rows leave the database's files
 * (docs/privacy.md).  SQLite zeroes them at once (secure_delete) and a
 * truncating checkpoint empties its WAL: there these do nothing.
 * PostgreSQL keeps them in the table's files until the space is reused;
 * only VACUUM FULL rewrites a table (and its indexes and TOAST) without
 * them, and it holds an ACCESS EXCLUSIVE lock on the table while it runs
 * (a minute and more at a million comments): so an erasure owes its
 * tables a compaction, durably (table compact_pending, schema/pg/0004),
 * and the quiet hour pays it (compact_hour; `commentctl compact`). */

/* Inside the caller's write transaction: table (a static name: lower-case
 * letters and '_') had rows removed or rewritten whose bytes must leave
 * its files.  Noted with the transaction.  0 (SQLite: nothing to note) or
 * negative (logged). */
int store_compact_owe(struct store_conn *c, const char *table);

/* Outside a transaction: a VACUUM of every table owed a compaction.
 * full: VACUUM FULL, the bytes of removed rows gone from the table's files
 * (the table locked while it is rewritten), each table's debt cleared
 * once it is paid (unless an erasure owed it again meanwhile); else a
 * plain VACUUM, which blocks no reader or writer and lets the space be
 * reused, debts kept.  *n (may be NULL) gets the number of tables
 * vacuumed.  0, STORE_* or negative (logged; what is not done stays
 * owed).  SQLite: 0 and *n 0. */
int store_compact(struct store_conn *c, bool full, unsigned *n);

/* The number of tables owed a compaction (0 on SQLite), or negative. */
int store_compact_owed(struct store_conn *c);

/* The settings a connection really runs with, read back from SQLite. */
struct store_pragmas {
	int synchronous;       /* 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
	char journal_mode[16]; /* "wal", "delete", ... */
	bool foreign_keys;
};

/* Reads c's synchronous, journal_mode and foreign_keys back from SQLite (so
 * a test can check every pooled connection).  Returns 0 or negative on
 * failure (logged). */
int store_pragmas(struct store_conn *c, struct store_pragmas *out);

/* True when a pooled connection reads the schema version this binary expects. */
bool store_healthy(struct store *s);

#endif
