#include "store_int.h"

#include "embed.h"
#include "log.h"
#include "search.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Statements a connection keeps prepared (store_stmt): every statement a
 * pooled connection may run, the admin search's (lib/search.c) included. */
#define STORE_MAX_STMTS 128

struct stmt_slot {
	const char *sql;
	struct store_stmt stmt;
};

struct store_conn {
	sqlite3 *db;
	struct pg_conn *pg; /* a PostgreSQL store's, else NULL */
	struct store *owner;
	bool writing; /* holds owner->writer: inside BEGIN IMMEDIATE ... COMMIT */
	bool busy;
	bool refused; /* a write was refused as read-only */
	bool whole;   /* the transaction is all-or-nothing (store_begin_whole) */
	bool doomed;  /* a statement of that transaction failed: no commit */
	unsigned n_stmts;
	struct stmt_slot stmts[STORE_MAX_STMTS];
};

struct group_job {
	int (*fn)(struct store_conn *c, void *arg);
	void *arg;
	int result;
	bool done;
	struct group_job *next;
};

struct store {
	bool pg; /* the engine: PostgreSQL, or SQLite */
	pthread_mutex_t lock;
	/* One writer at a time inside this process: writers queue here instead
	 * of in SQLite's busy handler, whose sleeps (1, 2, 5 ... 100 ms) made
	 * concurrent posts slow.  Other processes (commentctl) still meet the
	 * busy timeout. */
	pthread_mutex_t writer;
	/* Group commit (store_group_write): calls queue here; one of them
	 * leads, running the queued batch in one transaction. */
	pthread_mutex_t group_lock;
	pthread_cond_t group_done;
	struct group_job *queue;
	struct group_job **queue_tail;
	bool group_leader;
	pthread_cond_t freed;
	/* conns[0 .. n_pooled) are lent by store_acquire.  A SQLite store has
	 * one more, conns[n_pooled], that only the group commit's leader uses
	 * (group_conn_take): SQLite drops a connection's page cache whenever
	 * another connection has written since its last transaction, so a
	 * batch run on the leader's own pooled connection started cold and
	 * read every index page it touched back from the file; on one
	 * connection that writes batch after batch the cache stays warm. */
	unsigned n_conns, n_pooled;
	struct store_conn *conns;
	char *path;
	/* Background checkpoints (store_checkpoints_start): the thread, its
	 * own connection, and a request from the commits' WAL hook. */
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_wake;
	/* The checkpoint thread waits for the writer lock: new writers let it
	 * go first, since glibc's mutex is not fair and a writer that commits
	 * and begins again at once can keep it out (a test under load once saw
	 * the WAL reach 49 MB, every frame written, without a restart).  Under
	 * ckpt_lock; ckpt_turn is signalled when its turn ends. */
	bool ckpt_needs_writer;
	pthread_cond_t ckpt_turn;
	pthread_mutex_t ckpt_run;	  /* one checkpoint at a time in this process */
	void (*truncate_busy)(void *arg); /* store_test_truncate_busy */
	void *truncate_busy_arg;
	pthread_t ckpt_thread;
	sqlite3 *ckpt_db;
	bool ckpt_running, ckpt_stop, ckpt_wanted;
	atomic_int ckpt_last; /* the WAL's size (frames) after the last pass */
	atomic_uint db_syncs; /* database_sync's (store_test_database_syncs) */
	bool refused;	      /* a connection had a write refused as read-only */
	bool reopening;	      /* waiting for every connection to come back */
	time_t next_reopen;   /* no reopen before this */
	/* store_job_try: the connections holding a job's advisory lock
	 * (PostgreSQL), borrowed from the pool while held. */
	pthread_mutex_t job_lock;
	struct store_conn *job_conn[STORE_JOB_COUNT];
};

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_err("store: %s (%s)", err ? err : sqlite3_errstr(rc), sqlite3_errstr(rc));
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

/* How long a connection waits for another process's lock (commentctl). */
#define STORE_BUSY_TIMEOUT_MS 5000

/* A pooled connection's handle in *out (NULL on failure).  0 or -EIO. */
static int db_open(const char *path, sqlite3 **out)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE;
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_err("store: cannot open database: %s", sqlite3_errstr(rc));
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 4 << 20);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
	*out = db;
	/* secure_delete: what is deleted or overwritten (an erased comment,
	 * a cleared address) is zeroed in the page, not left in free space. */
	return exec_sql(db, "PRAGMA foreign_keys=ON;"
			    "PRAGMA secure_delete=ON;"
			    "PRAGMA synchronous=FULL;"
			    /* The WAL file keeps up to 24 MiB when it starts
			     * over instead of shrinking and growing again (a
			     * commit that grows the file makes its fsync write
			     * the file's metadata too); the checkpoint thread
			     * starts it over past STORE_WAL_FRAMES_MAX (16 MiB)
			     * and what arrives during that pass. */
			    "PRAGMA journal_size_limit=25165824;"
			    /* 512 KiB of page cache per connection: blog-sized
			     * databases fit, and the pool stays small. */
			    "PRAGMA cache_size=-512;");
}

static void conn_close(struct store_conn *c)
{
	for (unsigned i = 0; i < c->n_stmts; i++) {
		sqlite3_finalize(c->stmts[i].stmt.lite);
		pg_stmt_free(c->stmts[i].stmt.pg);
	}
	c->n_stmts = 0;
	pg_close(c->pg);
	c->pg = NULL;
	if (c->db) {
		/* optimize runs ANALYZE on the tables this connection's
		 * queries found stale; unbounded, that reads every row of a
		 * million-comment table and a stop took seconds per
		 * connection.  400 rows an index is SQLite's advice. */
		sqlite3_exec(c->db, "PRAGMA analysis_limit=400; PRAGMA optimize;", NULL, NULL,
			     NULL);
		sqlite3_close(c->db);
		c->db = NULL;
	}
}

int store_schema_version(void)
{
	return (int)schema_files_count;
}

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	log_err("store: cannot read user_version: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -EIO;
}

int store_peek_version(const char *db, int *version, int *known)
{
	sqlite3 *lite = NULL;
	struct stat sb;
	int r;

	if (store_is_pg_uri(db)) {
		*known = pg_schema_count();
		return pg_peek_version(db, version);
	}
	*known = store_schema_version();
	if (stat(db, &sb) != 0 && errno == ENOENT)
		return STORE_MISSING;
	if (sqlite3_open_v2(db, &lite, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		log_err("store: cannot open %s: %s", db, lite ? sqlite3_errmsg(lite) : "no memory");
		sqlite3_close(lite);
		return -EIO;
	}
	r = user_version(lite, version);
	sqlite3_close(lite);
	return r;
}

/* Counts the rows of PRAGMA foreign_key_check. */
static int count_row(void *u, int n, char **values, char **names)
{
	(void)n;
	(void)values;
	(void)names;
	(*(int *)u)++;
	return 0;
}

/* Applies every pending migration and sets user_version, inside the
 * caller's transaction; a migration that rebuilds a table (foreign keys are
 * off meanwhile) must leave every reference whole.  0 or negative. */
static int apply_migrations(sqlite3 *db, int version)
{
	char pragma[64];
	int broken = 0, r;

	/* Nothing to apply, nothing to check: foreign_key_check reads every
	 * row (seconds at a million comments, at every start). */
	if (version >= store_schema_version())
		return 0;
	for (int i = version; i < store_schema_version(); i++) {
		log_info("store: applying migration %s", schema_files[i].name);
		r = exec_sql(db, (const char *)schema_files[i].data);
		if (r < 0)
			return r;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;", i + 1);
		r = exec_sql(db, pragma);
		if (r < 0)
			return r;
	}
	if (sqlite3_exec(db, "PRAGMA foreign_key_check;", count_row, &broken, NULL) != SQLITE_OK ||
	    broken) {
		log_err("store: the migrated database has %d broken references", broken);
		return -EIO;
	}
	return 0;
}

/* Applies every migration newer than the file's user_version in one BEGIN
 * IMMEDIATE transaction, so a failing step leaves the file as it was before
 * the upgrade, not half-way between two versions (which an older binary
 * would refuse as too new).  Foreign keys are off meanwhile, as SQLite's
 * procedure for rebuilding a table asks (the pragma is a no-op inside a
 * transaction), and checked before the commit. */
static int migrate(sqlite3 *db)
{
	int version = 0, r;

	r = exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=OFF;");
	if (r < 0)
		return r;
	r = exec_sql(db, "BEGIN IMMEDIATE;");
	if (r < 0)
		goto out;
	r = user_version(db, &version);
	if (r < 0)
		goto fail;
	if (version > store_schema_version()) {
		log_err("store: the database is newer than this commentd (schema version %d, this "
			"binary knows up to %d); upgrade commentd or restore a matching backup",
			version, store_schema_version());
		exec_sql(db, "ROLLBACK;");
		r = STORE_TOO_NEW;
		goto out;
	}
	r = apply_migrations(db, version);
	if (r == 0)
		r = exec_sql(db, "COMMIT;");
	if (r == 0)
		goto out;
fail:
	exec_sql(db, "ROLLBACK;");
	log_err("store: migration failed; the database was left as it was (schema version %d)",
		version);
	r = r < 0 ? r : -EIO;
out:
	if (exec_sql(db, "PRAGMA foreign_keys=ON;") < 0 && r == 0)
		r = -EIO;
	return r;
}

/* Restricts an existing file to its owner (0600); a missing one is fine. */
static int owner_only(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077) &&
	    fchmod(fd, st.st_mode & 0600) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

/* The database, its WAL and shared-memory index hold comments and client
 * facts: they are created 0600 whatever the umask (SQLite gives the -wal and
 * -shm files the database file's mode), and files left wider by an earlier
 * version are narrowed. */
static int files_private(const char *path)
{
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	char side[4096];
	int fd, r;

	if (strcmp(path, ":memory:") == 0 || path[0] == '\0')
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		r = fchmod(fd, 0600) < 0 ? -errno : 0;
		close(fd);
	} else {
		r = errno == EEXIST ? owner_only(path) : -errno;
	}
	for (size_t i = 0; r == 0 && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (snprintf(side, sizeof(side), "%s%s", path, suffixes[i]) >= (int)sizeof(side))
			return -ENAMETOOLONG;
		r = owner_only(side);
	}
	if (r < 0)
		log_err("store: cannot make the database files private: %s", strerror(-r));
	return r;
}

static void checkpoints_stop(struct store *s);
static void conn_hook(struct store *s, sqlite3 *db);
static sqlite3 *checkpoint_db_open(struct store *s);

bool store_is_pg_uri(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* Appends n bytes of src to out (at *o, capacity size, one byte kept for
 * the NUL). */
static void put(char *out, size_t size, size_t *o, const char *src, size_t n)
{
	while (n-- > 0 && *o + 1 < size)
		out[(*o)++] = *src++;
}

char *store_db_display(const char *db, char *out, size_t size)
{
	const char *p, *auth_end = NULL, *colon, *hosts_end, *path_end;
	unsigned hosts = 1;
	size_t o = 0;
	char count[32];

	if (!store_is_pg_uri(db)) {
		snprintf(out, size, "%s", db);
		return out;
	}
	p = strstr(db, "://") + 3;
	put(out, size, &o, db, (size_t)(p - db));
	hosts_end = p + strcspn(p, "/?");
	/* user:password@hosts: the userinfo ends at the last '@' before
	 * the path or the parameters. */
	for (const char *q = p; q < hosts_end; q++)
		if (*q == '@')
			auth_end = q;
	if (auth_end) {
		colon = memchr(p, ':', (size_t)(auth_end - p));
		put(out, size, &o, p, (size_t)((colon ? colon : auth_end) - p));
		if (colon)
			put(out, size, &o, ":***", 4);
		put(out, size, &o, "@", 1);
		p = auth_end + 1;
	}
	/* Servers' addresses are not shown (the log stays free of anything
	 * that looks like a client's), nor the parameters (host=, hostaddr=,
	 * password=): how many hosts, and the database's name. */
	for (const char *q = p; q < hosts_end; q++)
		hosts += *q == ',';
	snprintf(count, sizeof(count), "(%u host%s)", hosts, hosts == 1 ? "" : "s");
	put(out, size, &o, count, strlen(count));
	path_end = hosts_end + strcspn(hosts_end, "?");
	put(out, size, &o, hosts_end, (size_t)(path_end - hosts_end));
	if (*path_end)
		put(out, size, &o, "?...", 4);
	out[o] = '\0';
	return out;
}

/* A PostgreSQL store's connections; the first one migrates. */
static int pg_pool_open(struct store *s)
{
	int r = 0;

	for (unsigned i = 0; r == 0 && i < s->n_conns; i++) {
		r = pg_open(&s->conns[i].pg, s->path);
		if (r == 0 && i == 0)
			r = pg_migrate(s->conns[0].pg);
	}
	return r;
}

/* A group commit runs each post in a savepoint, and SQLite keeps the pages
 * a savepoint changes in a statement journal that goes to a temporary file
 * past 64 KiB: a post at a million comments changes more than that, so
 * every batch opened, wrote, closed and unlinked a file (about 9 % of a
 * post's CPU, docs/performance.md).  Up to STORE_STMT_JOURNAL_MEMORY it
 * now stays in memory; the journal is emptied at each RELEASE, so this
 * bounds the memory one write holds, not a sum.  Process-wide, and only
 * before SQLite's first use (sqlite3_config refuses later: then the
 * default stays, which is only slower).
 *
 * No more than 128 KiB: with Debian 12's SQLite (3.40.1) a threshold of
 * 136 KiB or more makes every statement whose journal passes it fail with
 * SQLITE_FULL when the journal spills (1 MiB failed schema 0019's UPDATE
 * of 20,000 threads, and any retention or migration statement that
 * changes more than 1 MiB of pages inside a transaction); 64 and 128 KiB
 * spill correctly (test-store's large-journal test). */
#define STORE_STMT_JOURNAL_MEMORY (128 << 10)

static void sqlite_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_STMT_JOURNAL_MEMORY);
}

int store_new(struct store **out, const char *path, unsigned pool_size)
{
	static pthread_once_t configured = PTHREAD_ONCE_INIT;
	struct store *s;
	int r;

	pthread_once(&configured, sqlite_configure);
	if (pool_size == 0)
		pool_size = 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->writer, NULL);
	pthread_mutex_init(&s->group_lock, NULL);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_mutex_init(&s->ckpt_run, NULL);
	pthread_mutex_init(&s->job_lock, NULL);
	pthread_cond_init(&s->ckpt_wake, NULL);
	pthread_cond_init(&s->ckpt_turn, NULL);
	pthread_cond_init(&s->group_done, NULL);
	s->queue_tail = &s->queue;
	pthread_cond_init(&s->freed, NULL);
	s->pg = store_is_pg_uri(path);
	s->n_pooled = pool_size;
	s->n_conns = s->pg ? pool_size : pool_size + 1;
	s->conns = calloc(s->n_conns, sizeof(*s->conns));
	if (!s->conns) {
		r = -ENOMEM;
		goto out;
	}
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto out;
	}
	r = s->pg ? pg_pool_open(s) : files_private(path);
	if (s->pg)
		goto opened;
	if (r == -EROFS || r == -EACCES || r == -EPERM)
		r = 0; /* a read-only place: opening says what is wrong */
	if (r < 0)
		goto out;
	/* The first connection now, the others when first needed
	 * (store_acquire): each holds its own copy of the schema (a quarter
	 * of a MiB with the search index's blocks), and a daemon that is
	 * not busy never uses most of them (RSS budget,
	 * docs/performance.md). */
	r = db_open(path, &s->conns[0].db);
	if (r < 0)
		goto out;
	r = migrate(s->conns[0].db);
	if (r != 0)
		goto out;
	/* A migration may have cleared what was kept in clear (schema 0010):
	 * fold the WAL back and empty it, so the old pages stay nowhere.
	 * Readers elsewhere may delay it (then the maintenance task does
	 * it). */
	sqlite3_wal_checkpoint_v2(s->conns[0].db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
opened:
	if (r != 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	store_free(s);
	return r;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	checkpoints_stop(s);
	/* Closing the sessions gives the jobs' locks back. */
	for (unsigned i = 0; i < s->n_conns; i++)
		conn_close(&s->conns[i]);
	free(s->conns);
	free(s->path);
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->writer);
	pthread_mutex_destroy(&s->group_lock);
	pthread_cond_destroy(&s->group_done);
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_mutex_destroy(&s->ckpt_run);
	pthread_mutex_destroy(&s->job_lock);
	pthread_cond_destroy(&s->ckpt_wake);
	pthread_cond_destroy(&s->ckpt_turn);
	free(s);
	return NULL;
}

/* SQLite opens a file it may not write read-only and keeps it so, and all
 * connections of a process share one WAL index, read-only if the first one
 * opened it so.  Once a write was refused as read-only, at most once a
 * second: wait until every connection is back, close them all (each
 * opens again when next borrowed).  Called with s->lock held. */
static void pool_reopen(struct store *s)
{
	bool busy;

	s->reopening = true;
	do {
		busy = false;
		for (unsigned i = 0; i < s->n_conns; i++)
			busy = busy || s->conns[i].busy;
		if (busy)
			pthread_cond_wait(&s->freed, &s->lock);
	} while (busy);
	/* The checkpoint thread's connection too: while it stays open, the
	 * shared WAL index it opened read-only stays read-only for all. */
	if (s->ckpt_running) {
		pthread_mutex_lock(&s->ckpt_run);
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
	}
	for (unsigned i = 0; i < s->n_conns; i++)
		conn_close(&s->conns[i]);
	if (s->ckpt_running) {
		s->ckpt_db = checkpoint_db_open(s);
		pthread_mutex_unlock(&s->ckpt_run);
	}
	log_info("store: reopened the database after a refused write");
	s->refused = false;
	s->next_reopen = time(NULL) + 1;
	s->reopening = false;
	pthread_cond_broadcast(&s->freed);
}

/* Opens c, borrowed and never opened (or closed by pool_reopen), outside
 * the pool's lock: opening reads the schema.  Returns with s->lock held;
 * on failure (logged) c->db stays NULL. */
static void conn_open_lazily(struct store *s, struct store_conn *c)
{
	sqlite3 *db;

	pthread_mutex_unlock(&s->lock);
	if (db_open(s->path, &db) < 0) {
		sqlite3_close(db);
		db = NULL;
	}
	pthread_mutex_lock(&s->lock);
	c->db = db;
	if (db && s->ckpt_running)
		conn_hook(s, db);
}

/* The first free connection that is open, else the first free one, else
 * NULL.  Called with s->lock held. */
static struct store_conn *pool_pick(struct store *s)
{
	struct store_conn *closed = NULL;

	for (unsigned i = 0; i < s->n_pooled; i++) {
		if (s->conns[i].busy)
			continue;
		if (s->conns[i].db || s->conns[i].pg)
			return &s->conns[i];
		if (!closed)
			closed = &s->conns[i];
	}
	return closed;
}

/* Waits until a connection comes back or a second has passed.  Called
 * with s->lock held. */
static void pool_wait_retry(struct store *s)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_cond_timedwait(&s->freed, &s->lock, &until);
}

/* A connection is only lent open: when a closed one cannot be opened (out
 * of file descriptors, memory), the borrower gives it back and waits for
 * an open one to come back, trying again each second, rather than running
 * its statements on nothing. */
struct store_conn *store_acquire(struct store *s)
{
	struct store_conn *c = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->refused && !s->reopening && time(NULL) >= s->next_reopen)
		pool_reopen(s);
	for (;;) {
		c = s->reopening ? NULL : pool_pick(s);
		if (!c) {
			pthread_cond_wait(&s->freed, &s->lock);
			continue;
		}
		c->busy = true;
		/* PostgreSQL's connections are all made by store_new (a
		 * broken one is made again at its next use, lib/store_pg.c). */
		if (!c->db && !c->pg)
			conn_open_lazily(s, c);
		if (c->db || c->pg)
			break;
		c->busy = false;
		pthread_cond_broadcast(&s->freed); /* a pool_reopen waiting for it */
		pool_wait_retry(s);
	}
	pthread_mutex_unlock(&s->lock);
	c->owner = s;
	return c;
}

void store_release(struct store *s, struct store_conn *c)
{
	if (!c)
		return;
	store_rollback(c); /* an open transaction, and the writer lock */
	pthread_mutex_lock(&s->lock);
	if (c->refused) {
		c->refused = false;
		s->refused = true;
	}
	c->busy = false;
	pthread_cond_broadcast(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

struct sqlite3 *store_sqlite(struct store_conn *c)
{
	return c->db;
}

struct store_stmt *store_stmt(struct store_conn *c, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	for (unsigned i = 0; i < c->n_stmts; i++) {
		if (c->stmts[i].sql == sql && c->pg) {
			pg_clear(c->stmts[i].stmt.pg);
			return &c->stmts[i].stmt;
		}
		if (c->stmts[i].sql == sql) {
			st = c->stmts[i].stmt.lite;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return &c->stmts[i].stmt;
		}
	}
	if (c->n_stmts == STORE_MAX_STMTS) {
		log_err("store: statement cache full; raise STORE_MAX_STMTS");
		return NULL;
	}
	if (c->pg) {
		c->stmts[c->n_stmts].stmt.pg = pg_prepare(c->pg, sql, true);
		if (!c->stmts[c->n_stmts].stmt.pg)
			return NULL;
		c->stmts[c->n_stmts].sql = sql;
		return &c->stmts[c->n_stmts++].stmt;
	}
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		log_err("store: cannot prepare statement: %s", sqlite3_errmsg(c->db));
		return NULL;
	}
	c->stmts[c->n_stmts].sql = sql;
	c->stmts[c->n_stmts].stmt.lite = st;
	return &c->stmts[c->n_stmts++].stmt;
}

struct store_stmt *store_stmt_pick(struct store_conn *c, const struct store_sql *sql)
{
	return store_stmt(c, c->pg ? sql->pg : sql->sqlite);
}

struct store_stmt *store_stmt_new(struct store_conn *c, const char *sql)
{
	struct store_stmt *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (c->pg) {
		st->pg = pg_prepare(c->pg, sql, false);
		if (!st->pg) {
			free(st);
			return NULL;
		}
		return st;
	}
	if (sqlite3_prepare_v2(c->db, sql, -1, &st->lite, NULL) != SQLITE_OK) {
		store_stmt_free(st);
		return NULL;
	}
	return st;
}

void store_stmt_free(struct store_stmt *st)
{
	if (st) {
		sqlite3_finalize(st->lite);
		pg_stmt_free(st->pg);
		free(st);
	}
}

/* Maps a SQLite result code from a write to 0, STORE_FULL, STORE_READONLY or
 * a negative value, logging unexpected ones with what. */
static int write_error(struct store_conn *c, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		log_err("store: %s: disk full", what);
		return STORE_FULL;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		c->refused = true;
		log_err("store: %s: database is read-only (%s)", what, sqlite3_errmsg(c->db));
		return STORE_READONLY;
	case SQLITE_IOERR:
		c->refused = rc != SQLITE_IOERR_WRITE && rc != SQLITE_IOERR_FSYNC;
		log_err("store: %s: I/O error (%s)", what, sqlite3_errmsg(c->db));
		return (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC) ? STORE_FULL
									      : STORE_READONLY;
	default:
		log_err("store: %s: %s", what, sqlite3_errmsg(c->db));
		return -EIO;
	}
}

/* r, a statement's result; a failure (negative, or a STORE_* other than
 * a row) inside an all-or-nothing transaction dooms it: store_commit then
 * rolls it back, on either engine alike. */
static int doom(struct store_conn *c, int r, bool row_ok)
{
	if (c->whole && r != 0 && !(row_ok && r == 1))
		c->doomed = true;
	return r;
}

static int step_write(struct store_conn *c, struct store_stmt *st, const char *what)
{
	if (st->pg)
		return pg_step(st->pg, what);
	int rc = sqlite3_step(st->lite);

	if (rc == SQLITE_ROW)
		return 1;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_CONSTRAINT;
	return write_error(c, rc, what);
}

int store_step_write(struct store_conn *c, struct store_stmt *st, const char *what)
{
	return doom(c, step_write(c, st, what), true);
}

const char *store_errmsg(struct store_conn *c)
{
	if (c->pg)
		return pg_errmsg(c->pg);
	return sqlite3_errmsg(c->db);
}

bool store_in_transaction(struct store_conn *c)
{
	if (c->pg)
		return pg_in_transaction(c->pg);
	return !sqlite3_get_autocommit(c->db);
}

static int row(struct store_conn *c, struct store_stmt *st)
{
	if (st->pg) {
		/* A failed read is never "no row": every failure is negative. */
		int r = pg_step(st->pg, "read");
		if (r == STORE_CONSTRAINT)
			log_err("store: read failed: %s", pg_errmsg(c->pg));
		if (r == STORE_UNAVAILABLE)
			return -ENOTCONN;
		return r > 1 ? -EIO : r;
	}
	int rc = sqlite3_step(st->lite);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_err("store: read failed: %s", sqlite3_errmsg(c->db));
	return -EIO;
}

int store_row(struct store_conn *c, struct store_stmt *st)
{
	int r = row(c, st);

	return r < 0 ? doom(c, r, true) : r;
}

int store_one_int64(struct store_conn *c, struct store_stmt *st, int64_t *out)
{
	int r = store_row(c, st);

	if (r == 1)
		*out = store_col_int64(st, 0);
	store_reset(st);
	return r;
}

int store_match_blob(struct store_conn *c, struct store_stmt *st, int col, const void *want,
		     size_t len)
{
	const void *stored;
	int r = store_row(c, st);

	if (r == 1) {
		stored = store_col_blob(st, col);
		if (stored && store_col_bytes(st, col) == len &&
		    sodium_memcmp(stored, want, len) == 0)
			return 1;
		r = 0;
	}
	store_reset(st);
	return r;
}

/* A PostgreSQL write to completion: STORE_CONSTRAINT is a failure here. */
static int pg_run(struct store_conn *c, struct store_stmt *st, const char *what)
{
	int r;

	while ((r = pg_step(st->pg, what)) == 1)
		;
	if (r == STORE_CONSTRAINT) {
		log_err("store: %s: %s", what, pg_errmsg(c->pg));
		r = -EIO;
	}
	pg_reset(st->pg);
	return r;
}

int store_run(struct store_conn *c, struct store_stmt *st, const char *what)
{
	if (st->pg)
		return doom(c, pg_run(c, st, what), false);
	int r = write_error(c, sqlite3_step(st->lite), what);

	sqlite3_reset(st->lite);
	return doom(c, r, false);
}

int store_exec(struct store_conn *c, const char *sql)
{
	if (c->pg)
		return doom(c, pg_exec(c->pg, sql, sql), false);
	return doom(c, write_error(c, sqlite3_exec(c->db, sql, NULL, NULL, NULL), sql), false);
}

bool store_postgresql(const struct store_conn *c)
{
	return c->pg != NULL;
}

int store_exec_pick(struct store_conn *c, const struct store_sql *sql)
{
	return store_exec(c, c->pg ? sql->pg : sql->sqlite);
}

int64_t store_total_changes(struct store_conn *c)
{
	return c->pg ? 0 : (int64_t)sqlite3_total_changes64(c->db);
}

unsigned store_changes(struct store_conn *c)
{
	if (c->pg)
		return pg_changes(c->pg);
	return (unsigned)sqlite3_changes(c->db);
}

int64_t store_last_id(struct store_conn *c)
{
	if (c->pg)
		return pg_last_id(c->pg);
	return sqlite3_last_insert_rowid(c->db);
}

static void writer_release(struct store_conn *c)
{
	if (c->writing) {
		c->writing = false;
		pthread_mutex_unlock(&c->owner->writer);
	}
}

/* A read snapshot's BEGIN (store_begin_read says why PostgreSQL's differs). */
static const struct store_sql sql_begin_read = {
    "BEGIN",
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
};
static const struct store_sql sql_end_read = {"COMMIT", "COMMIT"};

/* Steps a statement without rows (BEGIN, COMMIT) as a read, so that a
 * PostgreSQL database out of reach is -ENOTCONN as for any read; any other
 * failure is -EIO. */
static int step_control(struct store_conn *c, const struct store_sql *sql)
{
	struct store_stmt *q = store_stmt_pick(c, sql);
	int rc = q ? store_row(c, q) : -EIO;

	if (q)
		store_reset(q);
	return rc == 0 ? 0 : rc < 0 ? rc : -EIO;
}

int store_begin_read(struct store_conn *c)
{
	return step_control(c, &sql_begin_read);
}

void store_end_read(struct store_conn *c)
{
	step_control(c, &sql_end_read);
	if (store_in_transaction(c))
		store_rollback(c);
}

/* Waits while the checkpoint thread is owed the writer lock. */
static void wait_checkpoint_turn(struct store *s)
{
	pthread_mutex_lock(&s->ckpt_lock);
	while (s->ckpt_needs_writer)
		pthread_cond_wait(&s->ckpt_turn, &s->ckpt_lock);
	pthread_mutex_unlock(&s->ckpt_lock);
}

int store_begin(struct store_conn *c)
{
	int rc, r;

	if (!c->writing) {
		wait_checkpoint_turn(c->owner);
		pthread_mutex_lock(&c->owner->writer);
		c->writing = true;
	}
	if (c->pg) {
		r = pg_begin(c->pg);
	} else {
		rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		r = write_error(c, rc, "begin");
	}
	if (r != 0)
		writer_release(c);
	return r;
}

int store_begin_whole(struct store_conn *c)
{
	int r = store_begin(c);

	if (r == 0) {
		c->whole = true;
		c->doomed = false;
		if (c->pg)
			pg_set_whole(c->pg, true);
	}
	return r;
}

int store_commit(struct store_conn *c)
{
	/* Changes to indexed comments reach the admin search's index in the
	 * same transaction (lib/search.h): every writer commits here. */
	int r = -EIO;

	if (c->whole && c->doomed)
		log_err("store: commit refused: a statement of this all-or-nothing transaction "
			"failed; it is rolled back");
	else
		r = search_flush(c);
	if (r == 0 && c->pg)
		r = pg_commit(c->pg);
	else if (r == 0)
		r = write_error(c, sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL), "commit");
	if (r != 0)
		store_rollback(c);
	c->whole = c->doomed = false;
	writer_release(c);
	return r;
}

void store_rollback(struct store_conn *c)
{
	if (c->pg)
		pg_rollback(c->pg);
	else if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->whole = c->doomed = false;
	writer_release(c);
}

/* A group job's savepoint, on either engine: opened, then ended (undone
 * first when the job failed).  job_lost: the engine rolled the whole
 * transaction back (SQLite: a full disk, an I/O error; PostgreSQL: the
 * connection broke). */
static int job_savepoint(struct store_conn *c)
{
	if (c->pg)
		return pg_exec(c->pg, "SAVEPOINT job", "savepoint");
	return write_error(c, sqlite3_exec(c->db, "SAVEPOINT job", NULL, NULL, NULL), "savepoint");
}

static bool job_lost(struct store_conn *c)
{
	return c->pg ? pg_transaction_lost(c->pg) : sqlite3_get_autocommit(c->db);
}

/* The result of every job of a transaction job_lost found rolled back,
 * given the failed job's r: on PostgreSQL the connection broke (nothing of
 * the batch is kept, the server is out of reach: STORE_UNAVAILABLE, 503,
 * whatever a module made of the failure); on SQLite r, else -EIO. */
static int lost_result(struct store_conn *c, int r)
{
	if (c->pg && pg_connection_broken(c->pg))
		return STORE_UNAVAILABLE;
	return r ? r : -EIO;
}

static void job_end(struct store_conn *c, bool failed)
{
	if (c->pg) {
		if (failed)
			pg_exec(c->pg, "ROLLBACK TO job", "rollback to savepoint");
		pg_exec(c->pg, "RELEASE job", "release savepoint");
		return;
	}
	if (failed)
		sqlite3_exec(c->db, "ROLLBACK TO job", NULL, NULL, NULL);
	sqlite3_exec(c->db, "RELEASE job", NULL, NULL, NULL);
}

/* Runs a batch of jobs in one transaction, each in its own savepoint. */
static void run_batch(struct store_conn *c, struct group_job *batch)
{
	struct group_job *j;
	int r;

	r = store_begin(c);
	if (r != 0) {
		for (j = batch; j; j = j->next)
			j->result = r;
		return;
	}
	for (j = batch; j; j = j->next) {
		r = job_savepoint(c);
		j->result = r != 0 ? r : j->fn(c, j->arg);
		if (job_lost(c)) {
			/* The engine rolled the whole transaction back (SQLite: a
			 * full disk, an I/O error; PostgreSQL: the connection
			 * broke): nothing of the batch is kept. */
			r = lost_result(c, j->result);
			for (struct group_job *k = batch; k; k = k->next)
				k->result = r;
			writer_release(c);
			return;
		}
		job_end(c, j->result != 0);
	}
	r = store_commit(c);
	if (r != 0) {
		for (j = batch; j; j = j->next)
			if (j->result == 0)
				j->result = r;
	}
}

/* fn inside the transaction c already holds (store_begin), in its own
 * savepoint: an import writes many comments in one transaction. */
static int join_transaction(struct store_conn *c, int (*fn)(struct store_conn *c, void *arg),
			    void *arg)
{
	int r = job_savepoint(c);

	if (r != 0)
		return r;
	r = fn(c, arg);
	if (job_lost(c))
		return lost_result(c, r); /* the engine rolled the transaction back */
	job_end(c, r != 0);
	return r;
}

/* The connection a leader runs its batch on: the store's batch connection
 * (struct store), opened when first needed.  c instead on PostgreSQL,
 * while a reopen is under way (it waits for c, so waiting for it here
 * would never end), or when the batch connection cannot be opened.  Only
 * the leader takes it, one at a time. */
static struct store_conn *group_conn_take(struct store *s, struct store_conn *c)
{
	struct store_conn *g;

	if (s->pg)
		return c;
	g = &s->conns[s->n_pooled];
	pthread_mutex_lock(&s->lock);
	if (s->reopening || g->busy) {
		pthread_mutex_unlock(&s->lock);
		return c;
	}
	g->busy = true;
	g->owner = s;
	if (!g->db)
		conn_open_lazily(s, g);
	if (!g->db) {
		g->busy = false;
		pthread_cond_broadcast(&s->freed);
		pthread_mutex_unlock(&s->lock);
		return c;
	}
	pthread_mutex_unlock(&s->lock);
	return g;
}

static void group_conn_give(struct store *s, struct store_conn *g, struct store_conn *c)
{
	if (g != c)
		store_release(s, g);
}

int store_group_write(struct store_conn *c, int (*fn)(struct store_conn *c, void *arg), void *arg)
{
	struct store *s = c->owner;
	struct group_job job = {fn, arg, 0, false, NULL};

	if (c->writing)
		return join_transaction(c, fn, arg);
	pthread_mutex_lock(&s->group_lock);
	*s->queue_tail = &job;
	s->queue_tail = &job.next;
	while (!job.done) {
		if (s->group_leader) {
			pthread_cond_wait(&s->group_done, &s->group_lock);
			continue;
		}
		/* Lead: take everything queued so far (our job included). */
		struct group_job *batch = s->queue;
		s->queue = NULL;
		s->queue_tail = &s->queue;
		s->group_leader = true;
		pthread_mutex_unlock(&s->group_lock);
		struct store_conn *g = group_conn_take(s, c);
		run_batch(g, batch);
		group_conn_give(s, g, c);
		pthread_mutex_lock(&s->group_lock);
		/* Jobs live on their callers' stacks: read next before marking
		 * a job done (its caller may return at once). */
		while (batch) {
			struct group_job *next = batch->next;
			batch->done = true;
			batch = next;
		}
		s->group_leader = false;
		pthread_cond_broadcast(&s->group_done);
	}
	pthread_mutex_unlock(&s->group_lock);
	return job.result;
}

/* ---- compaction (store.h) ------------------------------------------------ */

/* At most this many tables owed a compaction are read at once (the
 * erasure owes four; a compaction run takes the rest next time). */
#define COMPACT_MAX 16

/* A table name store_vacuum may put into SQL: lower-case letters and '_'. */
static bool table_name_ok(const char *table)
{
	size_t n = strspn(table, "abcdefghijklmnopqrstuvwxyz_");

	return n > 0 && n < 64 && table[n] == '\0';
}

int store_vacuum(struct store_conn *c, const char *table, bool full)
{
	char sql[96];

	if (!table_name_ok(table))
		return -EINVAL;
	if (!c->pg)
		return 0;
	if (pg_in_transaction(c->pg))
		return -EBUSY; /* VACUUM cannot run inside a transaction block */
	snprintf(sql, sizeof(sql), "VACUUM %s\"%s\"", full ? "(FULL) " : "", table);
	return pg_exec(c->pg, sql, sql);
}

/* compact_pending (schema/pg/0004): debts counts the erasures since the
 * row was made, so that a compaction clears only the debt it paid. */
static const char sql_compact_owe[] =
    "INSERT INTO compact_pending (tbl, since) VALUES (?1, ?2)"
    " ON CONFLICT (tbl) DO UPDATE SET debts = compact_pending.debts + 1";
static const char sql_compact_list[] = "SELECT tbl, debts FROM compact_pending ORDER BY tbl";
static const char sql_compact_paid[] = "DELETE FROM compact_pending WHERE tbl = ?1 AND debts = ?2";
static const char sql_compact_count[] = "SELECT count(*) FROM compact_pending";

int store_compact_owe(struct store_conn *c, const char *table)
{
	struct store_stmt *st;

	if (!table_name_ok(table))
		return -EINVAL;
	if (!c->pg)
		return 0;
	st = store_stmt(c, sql_compact_owe);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, table);
	store_bind_int64(st, 2, (int64_t)time(NULL));
	return store_run(c, st, "compaction owed");
}

int store_compact_owed(struct store_conn *c)
{
	struct store_stmt *st;
	int64_t n = 0;
	int r;

	if (!c->pg)
		return 0;
	st = store_stmt(c, sql_compact_count);
	r = st ? store_one_int64(c, st, &n) : -EIO;
	return r < 0 ? r : (int)n;
}

/* The owed tables and their debts, at most COMPACT_MAX.  0 or negative. */
static int compact_list(struct store_conn *c, char (*tables)[64], int64_t *debts, unsigned *n)
{
	struct store_stmt *st = store_stmt(c, sql_compact_list);
	int r = 0;

	*n = 0;
	if (!st)
		return -EIO;
	while (*n < COMPACT_MAX && (r = store_row(c, st)) == 1) {
		snprintf(tables[*n], 64, "%s", store_col_text(st, 0));
		debts[(*n)++] = store_col_int64(st, 1);
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

int store_compact(struct store_conn *c, bool full, unsigned *n)
{
	char tables[COMPACT_MAX][64];
	int64_t debts[COMPACT_MAX];
	unsigned count = 0, done = 0;
	int r;

	if (n)
		*n = 0;
	if (!c->pg)
		return 0;
	r = compact_list(c, tables, debts, &count);
	for (unsigned i = 0; r == 0 && i < count; i++) {
		struct store_stmt *st;

		r = store_vacuum(c, tables[i], full);
		if (r != 0 || !full) {
			done += r == 0;
			continue;
		}
		/* Paid: the debt goes, unless an erasure owed the table
		 * again after the rewrite (debts moved on). */
		st = store_stmt(c, sql_compact_paid);
		if (!st)
			return -EIO;
		store_bind_text(st, 1, tables[i]);
		store_bind_int64(st, 2, debts[i]);
		r = store_run(c, st, "compaction paid");
		done += r == 0;
	}
	if (n)
		*n = done;
	return r;
}

/* How long store_checkpoint_truncate tries while readers keep it from
 * finishing, and its pause between tries (the writers' turn). */
#define STORE_TRUNCATE_WAIT_MS	5000
#define STORE_TRUNCATE_PAUSE_US 2000

/* A checkpoint that holds this process's writers waits for readers 100 us
 * at a time (SQLite's own handler sleeps 1, 2, 5, 10 ... 100 ms between
 * tries), this many times at most, then gives up and tries later: a page
 * read leaves the WAL within a millisecond or two, an export or a search
 * may read for seconds, and every post waits meanwhile.  The checkpoint
 * thread's try: 2 ms; a truncation's: 20 ms (it must succeed under a
 * steady load: between its tries the posts add frames, and the readers
 * that start after them read from the WAL again). */
#define STORE_CKPT_SPINS     20
#define STORE_TRUNCATE_SPINS 200

static int busy_spin(void *limit, int count)
{
	if (count >= (int)(intptr_t)limit)
		return 0;
	usleep(100);
	return 1;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes back to the disk the pages a PASSIVE checkpoint copied into the
 * database file.  SQLite fsyncs the file only in the checkpoint that copies
 * the WAL's last frame, which under a steady load is the one that holds the
 * writers (checkpoint_pass, truncate_try): the kernel had kept every page
 * the passes before it wrote, and that fsync wrote them all, megabytes,
 * while every post waited (10-47 ms at 2,000 posts a second,
 * docs/performance.md, "The checkpoint's hold").  Synced here, holding
 * nothing, the hold's fsync writes only the pages it copied itself.  Through
 * SQLite's own handle of the file, so that a reopened database is the one
 * synced.  A failure is left to the checkpoint's own fsync, which reports
 * it. */
static void database_sync(struct store *s, sqlite3 *db)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK && f &&
	    f->pMethods &&
	    f->pMethods->xSync(f, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY) == SQLITE_OK)
		atomic_fetch_add(&s->db_syncs, 1);
}

/* One PASSIVE checkpoint on db, then the database file synced when it
 * copied frames (database_sync): *log and *done as SQLite gives them. */
static int passive_pass(struct store *s, sqlite3 *db, int *log, int *done)
{
	int before = *done;
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, log, done);

	if (rc == SQLITE_OK && *done != before)
		database_sync(s, db);
	return rc;
}

/* One TRUNCATE try with this process's writers held on the writer lock,
 * waiting for readers there 20 ms at most (busy_spin), not SQLite's 5 s:
 * every post would wait as long as a reader (an export, a search) reads. */
static int truncate_try(struct store_conn *c)
{
	struct store *s = c->owner;
	int rc;

	pthread_mutex_lock(&s->writer);
	sqlite3_busy_handler(c->db, busy_spin, (void *)(intptr_t)STORE_TRUNCATE_SPINS);
	rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	pthread_mutex_unlock(&s->writer);
	return rc;
}

int store_checkpoint_truncate(struct store_conn *c)
{
	struct store *s = c->owner;
	int64_t deadline = monotonic_ms() + STORE_TRUNCATE_WAIT_MS;
	int rc, log = 0, done = 0;

	/* PostgreSQL: the server's checkpointer recycles its WAL; nothing a
	 * client can do (docs/postgresql-port.md, "Erasure"), and callers
	 * must not report a truncation that did not happen. */
	if (c->pg)
		return STORE_NO_WAL;

	/* The bulk of the copy first, without holding up anyone; then the
	 * rest and the truncation with the writers held (in SQLite's busy
	 * handler they would sleep up to 100 ms a try).  While readers are
	 * in the way the writers go on between tries, whose frames the next
	 * pass copies. */
	pthread_mutex_lock(&s->ckpt_run);
	for (;;) {
		passive_pass(s, c->db, &log, &done);
		rc = truncate_try(c);
		if (rc != SQLITE_BUSY || monotonic_ms() >= deadline)
			break;
		if (s->truncate_busy)
			s->truncate_busy(s->truncate_busy_arg);
		usleep(STORE_TRUNCATE_PAUSE_US);
	}
	pthread_mutex_unlock(&s->ckpt_run);
	if (rc == SQLITE_OK)
		return 0;
	if (rc == SQLITE_BUSY) {
		log_warn("store: the WAL could not be truncated (readers busy); retried later");
		return STORE_BUSY;
	}
	return write_error(c, rc, "checkpoint");
}

void store_test_truncate_busy(struct store *s, void (*fn)(void *arg), void *arg)
{
	s->truncate_busy = fn;
	s->truncate_busy_arg = arg;
}

unsigned store_test_database_syncs(struct store *s)
{
	return atomic_load(&s->db_syncs);
}

/* ---- background checkpoints ------------------------------------------ *
 *
 * SQLite copies the WAL back into the database file (a checkpoint) inside
 * the COMMIT that takes the WAL past wal_autocheckpoint (1000 pages): the
 * committing thread writes every page changed since the last one and
 * fsyncs the database file before COMMIT returns.  Under group commit that
 * thread leads a batch, so every post of the batch, and every post queued
 * behind it, waited for the copy: at 2,000 posts a second a checkpoint ran
 * several times a second and took 5-40 ms each (docs/performance.md,
 * "The POST stall").  Here the pooled connections do not checkpoint; their
 * commits' WAL hook wakes a thread that checkpoints on a connection of its
 * own, PASSIVE (it waits for no reader and no writer, and none wait for
 * it).  SQLite starts the WAL over at the first write transaction that
 * finds it wholly copied and no reader in it; when writers keep adding
 * frames faster than the copy catches up, the WAL passes
 * STORE_WAL_FRAMES_MAX and the thread copies the last frames holding the
 * writer lock, which in-process writers queue on (one short copy and an
 * fsync), so the WAL cannot grow without bound.  Each pass that copied
 * frames is followed by an fsync of the database file (database_sync), so
 * that the fsync inside the hold writes only the hold's own pages. */

/* Copy (and sync) every this many new frames: SQLite's default is 1000,
 * but each pass's sync writes its pages in one burst that the posts'
 * commits queue behind on the same disk; passes of 250 frames made the
 * bursts a quarter as long, and the POST p99 at saturation fell from
 * 17-21 ms to 12-15 ms (docs/performance.md, "The checkpoint's hold"). */
#define STORE_WAL_FRAMES     250
#define STORE_WAL_FRAMES_MAX 4000 /* then start the WAL over, writers held */
/* Before holding the writers, copy again while a pass found more than this
 * many new frames (at most STORE_WAL_CATCH_UP passes): what is copied with
 * the writers held, and the database file's fsync that ends it, is then a
 * few hundred pages instead of every frame the commits added during the
 * first pass, which grows with the post rate (each post waits through the
 * hold: it is in the POST tail). */
#define STORE_WAL_TAIL	   256
#define STORE_WAL_CATCH_UP 8

/* The WAL hook of the pooled connections, run after each commit with the
 * WAL's size in frames: wakes the checkpoint thread once the WAL has grown
 * by STORE_WAL_FRAMES since the thread's last pass, or started over and
 * grown by as much (no I/O here). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;
	int last = atomic_load_explicit(&s->ckpt_last, memory_order_relaxed);

	(void)db;
	(void)name;
	if (frames >= last + STORE_WAL_FRAMES || (frames < last && frames >= STORE_WAL_FRAMES)) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_wanted = true;
		pthread_cond_signal(&s->ckpt_wake);
		pthread_mutex_unlock(&s->ckpt_lock);
	}
	return SQLITE_OK;
}

/* Replaces SQLite's automatic checkpoint of a connection by the hook
 * (sqlite3_wal_hook replaces wal_autocheckpoint's). */
static void conn_hook(struct store *s, sqlite3 *db)
{
	sqlite3_wal_hook(db, wal_hook, s);
}

/* Copies the WAL back without holding up anyone (PASSIVE).  Under steady
 * writes the WAL never starts over by itself: a writer restarts it only
 * when it begins on a wholly copied WAL with no reader left in it, and
 * the next batch begins as soon as the last one committed.  So past
 * STORE_WAL_FRAMES_MAX the rest is copied with this process's writers
 * held on the writer lock, RESTART (which also waits, briefly, for
 * readers to leave the WAL), and the next writer starts the WAL over.
 * 0 or the SQLite error. */
static int checkpoint_pass(struct store *s)
{
	int log = 0, done = 0, rc;

	if (!s->ckpt_db) /* could not be opened again after a refused write */
		s->ckpt_db = checkpoint_db_open(s);
	if (!s->ckpt_db)
		return SQLITE_CANTOPEN;
	rc = passive_pass(s, s->ckpt_db, &log, &done);
	for (int i = 0; rc == SQLITE_OK && log >= STORE_WAL_FRAMES_MAX && i < STORE_WAL_CATCH_UP;
	     i++) {
		int before = log;

		rc = passive_pass(s, s->ckpt_db, &log, &done);
		if (log - before <= STORE_WAL_TAIL)
			break;
	}
	if (rc == SQLITE_OK && log >= STORE_WAL_FRAMES_MAX) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_needs_writer = true;
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_mutex_lock(&s->writer);
		rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_RESTART, &log,
					       &done);
		pthread_mutex_unlock(&s->writer);
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_needs_writer = false;
		pthread_cond_broadcast(&s->ckpt_turn);
		pthread_mutex_unlock(&s->ckpt_lock);
		if (rc == SQLITE_OK)
			log = 0; /* the next writer starts the WAL over */
	}
	atomic_store(&s->ckpt_last, log > 0 ? log : 0);
	return rc == SQLITE_BUSY ? SQLITE_OK : rc; /* readers in the way: next time */
}

static void *checkpoint_main(void *arg)
{
	struct store *s = arg;
	time_t warned = 0;

	pthread_mutex_lock(&s->ckpt_lock);
	while (!s->ckpt_stop) {
		if (!s->ckpt_wanted) {
			pthread_cond_wait(&s->ckpt_wake, &s->ckpt_lock);
			continue;
		}
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_mutex_lock(&s->ckpt_run);
		int rc = checkpoint_pass(s);
		pthread_mutex_unlock(&s->ckpt_run);
		if (rc != SQLITE_OK && time(NULL) >= warned + 60) {
			warned = time(NULL);
			log_warn("store: checkpoint failed: %s (retried after the next commits)",
				 sqlite3_errstr(rc));
		}
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	return NULL;
}

/* The checkpoint thread's own connection, or NULL (logged). */
static sqlite3 *checkpoint_db_open(struct store *s)
{
	sqlite3 *db;

	if (db_open(s->path, &db) < 0) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_handler(db, busy_spin, (void *)(intptr_t)STORE_CKPT_SPINS);
	return db;
}

int store_checkpoints_start(struct store *s)
{
	sigset_t all, old;
	int r;

	if (s->ckpt_running || s->pg) /* PostgreSQL checkpoints by itself */
		return 0;
	s->ckpt_db = checkpoint_db_open(s);
	if (!s->ckpt_db)
		return -EIO;
	s->ckpt_stop = false;
	atomic_store(&s->ckpt_last, 0);
	/* Signals go to the daemon's main thread, not to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_err("store: cannot start the checkpoint thread: %s", strerror(r));
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return -r;
	}
	pthread_mutex_lock(&s->lock);
	s->ckpt_running = true;
	for (unsigned i = 0; i < s->n_conns; i++)
		if (s->conns[i].db)
			conn_hook(s, s->conns[i].db);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void checkpoints_stop(struct store *s)
{
	if (!s->ckpt_running)
		return;
	pthread_mutex_lock(&s->ckpt_lock);
	s->ckpt_stop = true;
	pthread_cond_signal(&s->ckpt_wake);
	pthread_mutex_unlock(&s->ckpt_lock);
	pthread_join(s->ckpt_thread, NULL);
	sqlite3_close(s->ckpt_db);
	s->ckpt_db = NULL;
	s->ckpt_running = false;
}

/* Runs a one-row PRAGMA query; copies its text into out. */
static int pragma_text(struct store_conn *c, const char *sql, char *out, size_t size)
{
	struct store_stmt *st = store_stmt(c, sql);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st->lite);
	if (rc != SQLITE_ROW) {
		log_err("store: %s: %s", sql, sqlite3_errmsg(c->db));
		sqlite3_reset(st->lite);
		return -EIO;
	}
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(st->lite, 0));
	sqlite3_reset(st->lite);
	return 0;
}

int store_pragmas(struct store_conn *c, struct store_pragmas *out)
{
	static const char sql_sync[] = "PRAGMA synchronous";
	static const char sql_journal[] = "PRAGMA journal_mode";
	static const char sql_fk[] = "PRAGMA foreign_keys";
	char num[16];
	int r;

	if (c->pg)
		return pg_pragmas(c->pg, out);
	memset(out, 0, sizeof(*out));
	r = pragma_text(c, sql_sync, num, sizeof(num));
	if (r == 0) {
		out->synchronous = num[0] - '0';
		r = pragma_text(c, sql_journal, out->journal_mode, sizeof(out->journal_mode));
	}
	if (r == 0) {
		r = pragma_text(c, sql_fk, num, sizeof(num));
		out->foreign_keys = num[0] == '1';
	}
	return r;
}

bool store_healthy(struct store *s)
{
	struct store_conn *c = store_acquire(s);
	int version = -1;
	bool ok = c->pg ? pg_schema_version(c->pg, &version) == 0 && version == pg_schema_count()
			: user_version(c->db, &version) == 0 && version == store_schema_version();

	store_release(s, c);
	return ok;
}

/* ---- one node at a time (store_job_try) --------------------------------- */

/* A job's advisory lock key: "cmtd" in the high half as the writers' and
 * the migration's (lib/store_pg.c), 0x100 + the job in the low half. */
static int64_t job_key(enum store_job job)
{
	return ((int64_t)0x636d7464 << 32) | (0x100 + (int64_t)job);
}

/* True when this session holds the key (a session lock, in pg_locks: a
 * bigint key is classid (high half), objid (low half), objsubid 1), else
 * the lock taken if free.  CASE evaluates the second only if needed, so
 * the lock's count stays 1 however often it is asked. */
static const char sql_job_take[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint) = ?1)"
    " THEN true ELSE pg_try_advisory_lock(?1) END";
static const char sql_job_give[] = "SELECT pg_advisory_unlock(?1)";

int store_job_try(struct store *s, enum store_job job)
{
	struct store_conn *c;
	struct store_stmt *st;
	int64_t held = 0;
	int r;

	if (job <= 0 || job >= STORE_JOB_COUNT)
		return -EINVAL;
	if (!s->pg)
		return 1;
	pthread_mutex_lock(&s->job_lock);
	c = s->job_conn[job];
	if (!c)
		c = store_acquire(s);
	st = store_stmt(c, sql_job_take);
	r = -EIO;
	if (st) {
		store_bind_int64(st, 1, job_key(job));
		r = store_one_int64(c, st, &held);
	}
	if (r == 1 && held) {
		s->job_conn[job] = c;
	} else {
		/* Refused or failed: nothing held on c (a failed connection
		 * lost its session, and with it any lock). */
		s->job_conn[job] = NULL;
		store_release(s, c);
	}
	pthread_mutex_unlock(&s->job_lock);
	if (r < 0)
		return r;
	return r == 1 && held ? 1 : 0;
}

void store_job_done(struct store *s, enum store_job job)
{
	struct store_conn *c;
	struct store_stmt *st;
	int64_t given;

	if (!s || !s->pg || job <= 0 || job >= STORE_JOB_COUNT)
		return;
	pthread_mutex_lock(&s->job_lock);
	c = s->job_conn[job];
	s->job_conn[job] = NULL;
	if (c) {
		st = store_stmt(c, sql_job_give);
		if (st) {
			store_bind_int64(st, 1, job_key(job));
			store_one_int64(c, st, &given);
		}
		store_release(s, c);
	}
	pthread_mutex_unlock(&s->job_lock);
}
