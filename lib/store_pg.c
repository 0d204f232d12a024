/* store_pg: the PostgreSQL engine of lib/store (store_int.h), on libpq.
 *
 * Each pooled connection is one libpq connection with its own named
 * prepared statements.  SQL is written with ?N parameters and made $N here;
 * parameters go as text (numbers, strings) or binary (bytea), results come
 * as text (bytea in hex, decoded on demand).
 *
 * SQLite undoes a failed statement only; PostgreSQL aborts the whole
 * transaction.  So a write inside a transaction runs in a savepoint of its
 * own (a refused INSERT, STORE_CONSTRAINT, leaves the transaction usable,
 * as modules expect from SQLite), but in an all-or-nothing transaction
 * (store_begin_whole), which any failure dooms.
 *
 * A connection that breaks (the server went away, a failover) is made
 * again at its next use outside a transaction, at most once a second; its
 * statements are prepared again.  Before a statement outside a transaction
 * the socket is polled, so that a connection the server closed (a restart,
 * a crash, a failover) is made again before anything is sent on it.  A
 * read, or a statement never sent (its PREPARE failed), that finds its
 * connection broken outside a transaction runs once more on the new one.
 * Meanwhile writes fail with STORE_UNAVAILABLE and reads with a negative
 * result; an outage is logged once, and the reconnection.
 */
#include "store_int.h"

#include "embed.h"
#include "log.h"
#include "pqload.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Advisory lock keys ("cmtd" in the high half): one writer at a time
 * across processes (SQLite's BEGIN IMMEDIATE), one migrating node. */
#define PG_LOCK_WRITER	((int64_t)0x636d7464 << 32)
#define PG_LOCK_MIGRATE (PG_LOCK_WRITER | 0xff)

/* Type OIDs (server/catalog/pg_type_d.h). */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_TEXT = 25,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
};

struct pg_conn {
	PGconn *conn;
	char *uri;
	unsigned gen;		   /* connections made so far: statements prepared in an
				      older one are prepared again */
	time_t next_attempt;	   /* no new connection before this */
	unsigned epoch;		   /* outage_epoch when this connection was made */
	unsigned changes;	   /* rows the last INSERT, UPDATE or DELETE changed */
	unsigned names;		   /* prepared statement names handed out */
	char last_table[64];	   /* the table of the last INSERT (store_last_id) */
	bool in_txn;		   /* inside BEGIN ... COMMIT/ROLLBACK */
	bool whole;		   /* that transaction is all-or-nothing: no per-write
				      savepoint (pg_set_whole) */
	bool lost;		   /* the connection broke inside that transaction */
	bool remake;		   /* drop and make again at the next use */
	struct pg_stmt *streaming; /* a read whose rows are still arriving
				      (pg_stream): the connection is busy */
	char err[256];		   /* the last error, for store_errmsg */
};

struct pg_stmt {
	struct pg_conn *pc;
	char *sql; /* ?N made $N */
	char name[24];
	unsigned gen;	/* the connection's gen it was prepared in; 0 never */
	bool cached;	/* store_stmt's (kept) or store_stmt_new's (freed) */
	bool read;	/* a SELECT: safe to run again after a reconnect */
	bool control;	/* BEGIN, COMMIT ...: never in a savepoint (is_control) */
	bool bad;	/* a text with a NUL byte was bound (PostgreSQL refuses) */
	char table[64]; /* an INSERT's table, else "" */
	int nparams;
	Oid *types; /* 0 (inferred) for the parameters the SQL uses, text for the others */
	const char **values;
	int *lengths;
	int *formats;
	char (*num)[32]; /* numbers as text */
	char **owned;	 /* copies (texts bound with a length, _copy binds) */
	PGresult *res;
	bool done; /* executed: res holds its result */
	int row, nrows;
	/* pg_stream: the rows arrive one result each (libpq's single-row
	 * mode); live while the server is still sending them, or kept in
	 * spill when another statement needed the connection first. */
	bool stream, streamed, live;
	PGresult **spill;
	size_t nspill, spill_at;
	int spill_err; /* the error that ended the spilled rows, or 0 */
	/* bytea columns of the current row, decoded on demand */
	unsigned char **blob;
	size_t *blob_len;
	int *blob_row;
};

/* libpq's functions (lib/pqload.h), set by pg_open (atomic: stores may be
 * opened on several threads). */
static const struct pq_api *_Atomic pq;

int pg_schema_count(void)
{
	return (int)schema_pg_files_count;
}

/* ---- connections ------------------------------------------------------- */

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* libpq's error text without the servers' addresses: the reason after the
 * last "failed: ", first line only. */
static void reason_of(const char *msg, char *out, size_t size)
{
	const char *p = msg, *q;
	size_t n;

	while ((q = strstr(p, "failed: ")) != NULL)
		p = q + 8;
	n = strcspn(p, "\n");
	snprintf(out, size, "%.*s", (int)n, p);
}

static void notice_quiet(void *arg, const char *message)
{
	(void)arg;
	log_debug("store: postgresql: %s", message);
}

/* An outage is logged once, not once per request and pooled connection:
 * it begins with the first failure of a connection made since the last
 * outage, or with a failed connection attempt; a connection made before
 * it that fails later (idle meanwhile) fails as part of it.  It ends at
 * the first connection made again. */
static pthread_mutex_t outage_lock = PTHREAD_MUTEX_INITIALIZER;
static bool outage_on;
static unsigned outage_epoch;

static void outage_begin(struct pg_conn *pc, const char *what, const char *why, bool connecting)
{
	bool first;

	pthread_mutex_lock(&outage_lock);
	first = !outage_on && (connecting || pc->epoch == outage_epoch);
	if (first) {
		outage_on = true;
		outage_epoch++;
	}
	pthread_mutex_unlock(&outage_lock);
	if (first)
		log_err("store: %s: the PostgreSQL database is unavailable (%s); answering 503 "
			"until a primary answers again",
			what, why);
	else
		log_debug("store: %s: still no PostgreSQL primary (%s)", what, why);
}

static void outage_end(struct pg_conn *pc)
{
	bool was;

	pthread_mutex_lock(&outage_lock);
	was = outage_on;
	outage_on = false;
	pc->epoch = outage_epoch;
	pthread_mutex_unlock(&outage_lock);
	if (was)
		log_info("store: reconnected to the PostgreSQL database (a primary answers again)");
}

/* Per session: bytea as hex, and synchronous_commit at least on (a
 * server's remote_apply, stronger, is kept), so that an acknowledged
 * commit is flushed (and, with a synchronous standby, flushed there). */
static const char session_sql[] =
    "SET bytea_output = 'hex'; SET client_min_messages = 'warning';"
    " SELECT CASE WHEN current_setting('synchronous_commit') IN ('on', 'remote_apply')"
    " THEN current_setting('synchronous_commit')"
    " ELSE set_config('synchronous_commit', 'on', false) END";

/* Makes pc's connection (again).  0 or STORE_UNAVAILABLE. */
static int connect_now(struct pg_conn *pc)
{
	/* The URI's own settings win over the first two; UTF-8 always. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
			      NULL};
	const char *values[] = {"5", "commentd", pc->uri, "UTF8", NULL};
	PGresult *res;
	char why[200];

	pq->PQfinish(pc->conn);
	pc->remake = false;
	pc->conn = pq->PQconnectdbParams(keys, values, 1);
	if (pc->conn && pq->PQstatus(pc->conn) == CONNECTION_OK) {
		pq->PQsetNoticeProcessor(pc->conn, notice_quiet, NULL);
		res = pq->PQexec(pc->conn, session_sql);
		if (pq->PQresultStatus(res) == PGRES_TUPLES_OK) {
			pq->PQclear(res);
			pc->gen++;
			outage_end(pc);
			return 0;
		}
		pq->PQclear(res);
	}
	reason_of(pc->conn ? pq->PQerrorMessage(pc->conn) : "out of memory", why, sizeof(why));
	snprintf(pc->err, sizeof(pc->err), "%s", why);
	outage_begin(pc, "connect", why, true);
	pq->PQfinish(pc->conn);
	pc->conn = NULL;
	pc->next_attempt = now_mono() + 1;
	return STORE_UNAVAILABLE;
}

/* True when the server closed pc's idle connection, or is closing it:
 * its socket reads end-of-file, or holds a message (an idle session is
 * sent nothing but the FATAL error before a close).  libpq would learn it
 * only from a command that failed, after sending it: a write's outcome
 * would then be unknown, where nothing need have been sent. */
static bool idle_conn_gone(struct pg_conn *pc)
{
	struct pollfd pfd = {.fd = pq->PQsocket(pc->conn), .events = POLLIN | POLLRDHUP};

	return pfd.fd < 0 || poll(&pfd, 1, 0) > 0;
}

/* Makes sure pc has a working connection.  Inside a transaction whose
 * connection broke nothing runs until the rollback.  0 or
 * STORE_UNAVAILABLE. */
static void stream_spill(struct pg_conn *pc);
static void blobs_free(struct pg_stmt *p);

static int ready(struct pg_conn *pc)
{
	stream_spill(pc);
	if (pc->lost)
		return STORE_UNAVAILABLE;
	if (pc->conn && !pc->remake && pq->PQstatus(pc->conn) == CONNECTION_OK) {
		if (pc->in_txn || !idle_conn_gone(pc))
			return 0;
		log_debug("store: the PostgreSQL server closed an idle connection; connecting "
			  "again");
		pc->remake = true;
		pc->next_attempt = 0;
	}
	if (pc->in_txn) {
		pc->lost = true;
		return STORE_UNAVAILABLE;
	}
	if (now_mono() < pc->next_attempt)
		return STORE_UNAVAILABLE;
	return connect_now(pc);
}

int pg_open(struct pg_conn **out, const char *uri)
{
	struct pg_conn *pc;
	int r;

	pq = pqload();
	if (!pq)
		return -ENOENT;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->uri = strdup(uri);
	if (!pc->uri) {
		free(pc);
		return -ENOMEM;
	}
	r = connect_now(pc);
	if (r != 0) {
		pg_close(pc);
		return -EIO;
	}
	*out = pc;
	return 0;
}

void pg_close(struct pg_conn *pc)
{
	if (!pc)
		return;
	pq->PQfinish(pc->conn);
	free(pc->uri);
	free(pc);
}

/* Keeps what the transaction state is after a command. */
static void track_transaction(struct pg_conn *pc)
{
	switch (pq->PQtransactionStatus(pc->conn)) {
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		pc->in_txn = true;
		break;
	case PQTRANS_IDLE:
		pc->in_txn = false;
		pc->whole = false;
		break;
	default: /* the connection broke: a transaction is lost */
		pc->lost = pc->in_txn;
		break;
	}
}

/* Maps a failed result (or none) to a store result, logging it (but for a
 * constraint: STORE_CONSTRAINT, not logged).  A broken connection or a
 * server shutting down make the connection again at its next use; so does
 * a standby (read-only: the primary moved). */
static int result_error(struct pg_conn *pc, PGresult *res, const char *what)
{
	const char *state = res ? pq->PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? pq->PQresultErrorMessage(res) : "";
	char why[200];

	if (!*msg && pc->conn)
		msg = pq->PQerrorMessage(pc->conn);
	reason_of(msg, why, sizeof(why));
	snprintf(pc->err, sizeof(pc->err), "%s", why);
	if (pc->conn)
		track_transaction(pc);
	/* A standby (25006, read_only_sql_transaction: the primary moved, or
	 * the URI lacks target_session_attrs=read-write) is no primary: the
	 * connection is made again, to find the one that is. */
	if (!pc->conn || pq->PQstatus(pc->conn) != CONNECTION_OK || !state ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strcmp(state, "25006") == 0) {
		pc->remake = true;
		outage_begin(pc, what, why, false);
		return STORE_UNAVAILABLE;
	}
	if (strncmp(state, "23", 2) == 0)
		return STORE_CONSTRAINT;
	if (strcmp(state, "53100") == 0) { /* disk_full */
		log_err("store: %s: disk full (%s)", what, why);
		return STORE_FULL;
	}
	log_err("store: %s: %s (SQLSTATE %s)", what, why, state);
	return -EIO;
}

/* ---- streamed reads (pg_stream) ----------------------------------------
 * libpq keeps a statement's whole result in memory: a read of every
 * comment (an export) or of every learned token (the classifier's model)
 * held hundreds of MiB where SQLite steps through the rows.  A statement
 * marked with pg_stream is sent with PQsendQueryPrepared in single-row
 * mode instead: each row arrives as a result of its own, and only the row
 * being read is held.  Until its last row has arrived the connection can
 * run nothing else; a statement that needs it first (the caller
 * interleaves, or commits) makes the rest arrive at once into spill, so
 * the reader still gets every row (with today's memory), in order. */

/* Reads results until libpq has none left (NULL: the connection is free
 * again), keeping the rows in p->spill when keep, and the first error
 * (failed: one already received) in p->spill_err. */
static void stream_drain(struct pg_stmt *p, bool keep, PGresult *failed, const char *what)
{
	struct pg_conn *pc = p->pc;
	PGresult *res;

	while ((res = pq->PQgetResult(pc->conn)) != NULL) {
		ExecStatusType st = pq->PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && keep && !p->spill_err && !failed) {
			PGresult **grown = realloc(p->spill, (p->nspill + 1) * sizeof(*grown));

			if (grown) {
				p->spill = grown;
				p->spill[p->nspill++] = res;
				continue;
			}
			p->spill_err = -ENOMEM;
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !failed) {
			failed = res;
			continue;
		}
		pq->PQclear(res);
	}
	p->live = false;
	pc->streaming = NULL;
	/* Only now is the transaction's state known again (it is "active"
	 * while rows arrive): result_error and track_transaction after. */
	if (failed) {
		int r = result_error(pc, failed, what);

		if (!p->spill_err)
			p->spill_err = r == STORE_CONSTRAINT || r == 0 ? -EIO : r;
		pq->PQclear(failed);
	}
	if (pc->conn)
		track_transaction(pc);
}

/* Another statement needs pc: the streamed read's remaining rows arrive
 * into its spill now. */
static void stream_spill(struct pg_conn *pc)
{
	if (pc->streaming)
		stream_drain(pc->streaming, true, NULL, "read");
}

/* Sends p in single-row mode: 0 (its rows come with stream_next), or a
 * store result. */
static int send_streamed(struct pg_stmt *p, const char *what)
{
	struct pg_conn *pc = p->pc;

	if (!pq->PQsendQueryPrepared(pc->conn, p->name, p->nparams, p->values, p->lengths,
				     p->formats, 0))
		return result_error(pc, NULL, what);
	p->done = true;
	p->streamed = true;
	p->live = true;
	p->row = -1;
	p->nrows = 0;
	pc->streaming = p;
	/* Cannot fail right after a send (libpq's documentation); if it
	 * did, the rows would come in one result, which stream_next reads
	 * as well. */
	pq->PQsetSingleRowMode(pc->conn);
	return 0;
}

/* The next row of a streamed read in p->res (row p->row): 1, 0 at the
 * end, or a store result (the read failed after the rows before it). */
static int stream_next(struct pg_stmt *p, const char *what)
{
	PGresult *res;
	ExecStatusType st;

	blobs_free(p);
	if (p->res && ++p->row < p->nrows) /* a result of many rows */
		return 1;
	pq->PQclear(p->res);
	p->res = NULL;
	p->row = 0;
	p->nrows = 0;
	if (!p->live) {
		if (p->spill_at < p->nspill) {
			p->res = p->spill[p->spill_at];
			p->spill[p->spill_at++] = NULL;
			p->nrows = 1;
			return 1;
		}
		return p->spill_err;
	}
	res = pq->PQgetResult(p->pc->conn);
	st = res ? pq->PQresultStatus(res) : PGRES_TUPLES_OK;
	if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
		if (res && pq->PQntuples(res) > 0) {
			p->res = res;
			p->nrows = pq->PQntuples(res);
			if (st == PGRES_TUPLES_OK) /* the last result: NULL follows */
				stream_drain(p, false, NULL, what);
			return 1;
		}
		pq->PQclear(res); /* the end */
		res = NULL;
	}
	/* What is left is read (libpq needs it; after its NULL, PQgetResult
	 * gives NULL again) before a failure (res) is mapped, so that the
	 * transaction's state is known. */
	stream_drain(p, false, res, what);
	return p->spill_err;
}

void pg_stream(struct pg_stmt *p)
{
	p->stream = p->read;
}

int pg_exec(struct pg_conn *pc, const char *sql, const char *what)
{
	PGresult *res;
	ExecStatusType st;
	int r = ready(pc);

	if (r)
		return r;
	res = pq->PQexec(pc->conn, sql);
	st = pq->PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		pq->PQclear(res);
		track_transaction(pc);
		return 0;
	}
	r = result_error(pc, res, what);
	pq->PQclear(res);
	if (r == STORE_CONSTRAINT) {
		log_err("store: %s: %s", what, pc->err);
		r = -EIO;
	}
	return r;
}

/* ---- migrations -------------------------------------------------------- */

/* The schema version (0 for a new database), creating its table: SQLite's
 * user_version. */
static int version_read(struct pg_conn *pc, int *out)
{
	PGresult *res;
	int r = pg_exec(pc,
			"CREATE TABLE IF NOT EXISTS commentd_schema (version BIGINT NOT NULL);"
			" INSERT INTO commentd_schema (version) SELECT 0"
			" WHERE NOT EXISTS (SELECT 1 FROM commentd_schema)",
			"schema version");

	if (r)
		return r;
	res = pq->PQexec(pc->conn, "SELECT version FROM commentd_schema");
	if (pq->PQresultStatus(res) != PGRES_TUPLES_OK || pq->PQntuples(res) != 1) {
		r = result_error(pc, res, "schema version");
		pq->PQclear(res);
		return r < 0 ? r : -EIO;
	}
	*out = (int)strtol(pq->PQgetvalue(res, 0, 0), NULL, 10);
	pq->PQclear(res);
	return 0;
}

/* Applies every pending migration of schema/pg/ in one transaction, under
 * an advisory lock so that nodes starting together take turns: a failing
 * one leaves the database as it was. */
int pg_migrate(struct pg_conn *pc)
{
	char sql[96];
	int version = 0, r;

	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
		 (long long)PG_LOCK_MIGRATE);
	r = pg_exec(pc, sql, "migration lock");
	if (r == 0)
		r = version_read(pc, &version);
	if (r == 0 && version > pg_schema_count()) {
		log_err("store: the database is newer than this commentd (schema version %d, this "
			"binary knows up to %d); upgrade commentd or restore a matching backup",
			version, pg_schema_count());
		pg_rollback(pc);
		return STORE_TOO_NEW;
	}
	for (int i = version; r == 0 && i < pg_schema_count(); i++) {
		log_info("store: applying migration pg/%s", schema_pg_files[i].name);
		r = pg_exec(pc, (const char *)schema_pg_files[i].data, schema_pg_files[i].name);
		snprintf(sql, sizeof(sql), "UPDATE commentd_schema SET version = %d", i + 1);
		if (r == 0)
			r = pg_exec(pc, sql, "schema version");
	}
	if (r == 0)
		r = pg_commit(pc);
	if (r != 0) {
		pg_rollback(pc);
		log_err("store: migration failed; the database was left as it was (schema version "
			"%d)",
			version);
		r = r < 0 ? r : -EIO;
	}
	return r;
}

int pg_schema_version(struct pg_conn *pc, int *out)
{
	PGresult *res;
	int r = ready(pc);

	if (r)
		return -EIO;
	res = pq->PQexec(pc->conn, "SELECT version FROM commentd_schema");
	if (pq->PQresultStatus(res) == PGRES_TUPLES_OK && pq->PQntuples(res) == 1) {
		*out = (int)strtol(pq->PQgetvalue(res, 0, 0), NULL, 10);
		pq->PQclear(res);
		track_transaction(pc);
		return 0;
	}
	r = result_error(pc, res, "schema version");
	pq->PQclear(res);
	return -EIO;
}

/* A connection of its own, nothing created: 0 when the database has no
 * commentd_schema table yet. */
int pg_peek_version(const char *uri, int *out)
{
	struct pg_conn *pc = NULL;
	PGresult *res;
	int r;

	if (pg_open(&pc, uri) != 0)
		return pq ? STORE_UNAVAILABLE : -ENOENT;
	res = pq->PQexec(pc->conn, "SELECT to_regclass('commentd_schema') IS NOT NULL");
	r = pq->PQresultStatus(res) == PGRES_TUPLES_OK && pq->PQntuples(res) == 1 ? 0 : -EIO;
	if (r == 0 && pq->PQgetvalue(res, 0, 0)[0] != 't')
		*out = 0;
	else if (r == 0)
		r = pg_schema_version(pc, out);
	pq->PQclear(res);
	pg_close(pc);
	return r;
}

/* ---- statements -------------------------------------------------------- */

/* Copies sql with ?N made $N (outside quotes and comments); sets the
 * number of parameters and marks in used[] (1000 entries) those the SQL
 * names.  NULL on a bare "?" or out of memory. */
static char *translate(const char *sql, int *nparams, bool *used)
{
	size_t n = strlen(sql);
	char *out = malloc(n + 1), *o = out;
	const char *p = sql;
	int max = 0;

	if (!out)
		return NULL;
	while (*p) {
		size_t len = 0;

		if (*p == '\'' || *p == '"') {
			const char *end = strchr(p + 1, *p);
			len = end ? (size_t)(end - p) + 1 : strlen(p);
		} else if (p[0] == '-' && p[1] == '-') {
			len = strcspn(p, "\n");
		}
		if (len) {
			memcpy(o, p, len);
			o += len;
			p += len;
		} else if (*p == '?') {
			char *end;
			long v = strtol(p + 1, &end, 10);
			if (end == p + 1 || v < 1 || v > 999) {
				free(out);
				return NULL;
			}
			max = v > max ? (int)v : max;
			used[v] = true;
			*o++ = '$';
			p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	*nparams = max;
	return out;
}

/* The table of an INSERT statement without RETURNING (whose new row's id
 * store_last_id reads back), else "". */
static void insert_table(const char *sql, char *out, size_t size)
{
	size_t n;

	out[0] = '\0';
	if (strncasecmp(sql, "INSERT", 6) != 0 || strcasestr(sql, "RETURNING"))
		return;
	sql = strcasestr(sql, " INTO ");
	if (!sql)
		return;
	sql += 6;
	while (isspace((unsigned char)*sql))
		sql++;
	n = strspn(sql, "abcdefghijklmnopqrstuvwxyz_0123456789");
	if (n > 0 && n < size)
		snprintf(out, size, "%.*s", (int)n, sql);
}

static int prepare_now(struct pg_stmt *p)
{
	struct pg_conn *pc = p->pc;
	PGresult *res;
	int r;

	snprintf(p->name, sizeof(p->name), "s%u", ++pc->names);
	res = pq->PQprepare(pc->conn, p->name, p->sql, p->nparams, p->types);
	if (pq->PQresultStatus(res) == PGRES_COMMAND_OK) {
		pq->PQclear(res);
		p->gen = pc->gen;
		return 0;
	}
	r = result_error(pc, res, "prepare");
	pq->PQclear(res);
	if (r == STORE_UNAVAILABLE) /* not prepared: again at its first run */
		return r;
	log_err("store: cannot prepare statement: %.200s", p->sql);
	return r < 0 ? r : -EIO;
}

/* A transaction control statement (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT,
 * RELEASE), as a module may prepare one (classify's sql_begin_read): it
 * runs as it is, never in the per-write savepoint, which a COMMIT would end
 * with the transaction (and "RELEASE store_stmt" then fail outside one). */
static bool is_control(const char *sql)
{
	static const char *const words[] = {"BEGIN",	 "COMMIT",  "END",  "ROLLBACK",
					    "SAVEPOINT", "RELEASE", "START"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);
		if (strncasecmp(sql, words[i], n) == 0 && !isalnum((unsigned char)sql[n]) &&
		    sql[n] != '_')
			return true;
	}
	return false;
}

struct pg_stmt *pg_prepare(struct pg_conn *pc, const char *sql, bool cached)
{
	struct pg_stmt *p = calloc(1, sizeof(*p));
	bool used[1000] = {false};
	size_t n;
	int r;

	if (!p)
		return NULL;
	p->pc = pc;
	p->cached = cached;
	p->row = -1;
	p->sql = translate(sql, &p->nparams, used);
	if (!p->sql) {
		log_err("store: a statement with a bare '?': %.200s", sql);
		goto fail;
	}
	while (isspace((unsigned char)*sql))
		sql++;
	p->read = strncasecmp(sql, "SELECT", 6) == 0 || strncasecmp(sql, "WITH", 4) == 0;
	p->control = is_control(sql);
	insert_table(sql, p->table, sizeof(p->table));
	n = p->nparams ? (size_t)p->nparams : 1;
	p->values = calloc(n, sizeof(*p->values));
	p->lengths = calloc(n, sizeof(*p->lengths));
	p->formats = calloc(n, sizeof(*p->formats));
	p->num = calloc(n, sizeof(*p->num));
	p->owned = calloc(n, sizeof(*p->owned));
	p->types = calloc(n, sizeof(*p->types));
	if (!p->values || !p->lengths || !p->formats || !p->num || !p->owned || !p->types)
		goto fail;
	/* A parameter the SQL skips (?1 and ?3 but no ?2) has no context
	 * to infer its type from: PostgreSQL would refuse the statement.
	 * It is bound and ignored, as in SQLite: declare it text. */
	for (int i = 0; i < p->nparams; i++)
		p->types[i] = used[i + 1] ? 0 : OID_TEXT;
	/* Prepared now when the server answers (a mistake shows at once),
	 * else (no server, or the connection found broken by the PREPARE) at
	 * its first run. */
	r = ready(pc);
	if (r == 0)
		r = prepare_now(p);
	if (r == 0 || r == STORE_UNAVAILABLE)
		return p;
fail:
	pg_stmt_free(p);
	return NULL;
}

static void blobs_free(struct pg_stmt *p)
{
	int cols = p->res ? pq->PQnfields(p->res) : 0;

	for (int i = 0; p->blob && i < cols; i++)
		free(p->blob[i]);
	free(p->blob);
	free(p->blob_len);
	free(p->blob_row);
	p->blob = NULL;
	p->blob_len = NULL;
	p->blob_row = NULL;
}

void pg_reset(struct pg_stmt *p)
{
	if (!p)
		return;
	if (p->live) /* the rows not read are read and dropped */
		stream_drain(p, false, NULL, "read");
	for (size_t i = p->spill_at; i < p->nspill; i++)
		pq->PQclear(p->spill[i]);
	free(p->spill);
	p->spill = NULL;
	p->nspill = p->spill_at = 0;
	p->spill_err = 0;
	p->streamed = false;
	blobs_free(p);
	pq->PQclear(p->res);
	p->res = NULL;
	p->done = false;
	p->row = -1;
	p->nrows = 0;
}

/* Parameter i's slot (0-based), its old value dropped; -1 out of range. */
static int slot(struct pg_stmt *p, int i)
{
	if (i < 1 || i > p->nparams)
		return -1;
	i--;
	free(p->owned[i]);
	p->owned[i] = NULL;
	p->values[i] = NULL;
	p->lengths[i] = 0;
	p->formats[i] = 0;
	return i;
}

void pg_clear(struct pg_stmt *p)
{
	pg_reset(p);
	for (int i = 1; i <= p->nparams; i++)
		slot(p, i);
	p->bad = false;
}

void pg_stmt_free(struct pg_stmt *p)
{
	char sql[48];

	if (!p)
		return;
	if (p->values)
		pg_clear(p);
	else
		pg_reset(p);
	if (!p->cached && p->gen && p->gen == p->pc->gen && !p->pc->lost && p->pc->conn) {
		stream_spill(p->pc);
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", p->name);
		pq->PQclear(pq->PQexec(p->pc->conn, sql));
	}
	free(p->sql);
	free(p->values);
	free(p->lengths);
	free(p->formats);
	free(p->num);
	free(p->owned);
	free(p->types);
	free(p);
}

void pg_bind_int64(struct pg_stmt *p, int i, int64_t v)
{
	if ((i = slot(p, i)) < 0)
		return;
	snprintf(p->num[i], sizeof(p->num[i]), "%lld", (long long)v);
	p->values[i] = p->num[i];
}

void pg_bind_double(struct pg_stmt *p, int i, double v)
{
	if ((i = slot(p, i)) < 0)
		return;
	if (v != v)
		snprintf(p->num[i], sizeof(p->num[i]), "NaN");
	else if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
		snprintf(p->num[i], sizeof(p->num[i]), "%sInfinity", v < 0 ? "-" : "");
	else
		snprintf(p->num[i], sizeof(p->num[i]), "%.17g", v);
	p->values[i] = p->num[i];
}

/* Texts go in text format, NUL-terminated: one with a NUL byte inside its
 * length cannot be stored (PostgreSQL's text has none) and makes the
 * statement fail rather than be cut short. */
void pg_bind_text(struct pg_stmt *p, int i, const char *text, size_t len, bool has_len)
{
	if ((i = slot(p, i)) < 0 || !text)
		return;
	if (has_len) {
		if (memchr(text, '\0', len))
			p->bad = true;
		p->owned[i] = strndup(text, len);
		if (!p->owned[i])
			p->bad = true;
		text = p->owned[i];
	}
	p->values[i] = text;
}

void pg_bind_blob(struct pg_stmt *p, int i, const void *blob, size_t len, bool copy)
{
	if ((i = slot(p, i)) < 0 || !blob)
		return;
	if (len > 0x7fffffff) {
		p->bad = true;
		return;
	}
	if (copy) {
		p->owned[i] = malloc(len ? len : 1);
		if (!p->owned[i]) {
			p->bad = true;
			return;
		}
		memcpy(p->owned[i], blob, len);
		blob = p->owned[i];
	}
	p->values[i] = blob;
	p->lengths[i] = (int)len;
	p->formats[i] = 1;
}

void pg_bind_null(struct pg_stmt *p, int i)
{
	slot(p, i);
}

int pg_bind_count(struct pg_stmt *p)
{
	return p->nparams;
}

/* Sends p once and keeps its result.  0, or a store result. */
static int send_prepared(struct pg_stmt *p, const char *what)
{
	struct pg_conn *pc = p->pc;
	PGresult *res;
	ExecStatusType status;
	const char *cmd;

	res =
	    pq->PQexecPrepared(pc->conn, p->name, p->nparams, p->values, p->lengths, p->formats, 0);
	status = pq->PQresultStatus(res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		int r = result_error(pc, res, what);
		pq->PQclear(res);
		return r;
	}
	p->res = res;
	p->done = true;
	p->row = -1;
	p->nrows = pq->PQntuples(res);
	cmd = pq->PQcmdStatus(res);
	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0)
		pc->changes = (unsigned)strtoul(pq->PQcmdTuples(res), NULL, 10);
	if (p->table[0])
		snprintf(pc->last_table, sizeof(pc->last_table), "%s", p->table);
	track_transaction(pc);
	return 0;
}

/* A write inside a transaction, in a savepoint of its own, so that its
 * failure undoes it alone (as in SQLite): SAVEPOINT, the write, RELEASE,
 * three round trips.  Not in an all-or-nothing transaction
 * (store_begin_whole), whose first failure dooms it anyway: there a write
 * is one round trip. */
static int send_in_savepoint(struct pg_stmt *p, const char *what)
{
	int r = pg_exec(p->pc, "SAVEPOINT store_stmt", "savepoint");

	if (r != 0)
		return r;
	r = send_prepared(p, what);
	if (r != 0 && p->pc->conn && pq->PQstatus(p->pc->conn) == CONNECTION_OK)
		pq->PQclear(pq->PQexec(p->pc->conn, "ROLLBACK TO store_stmt"));
	if (p->pc->conn && pq->PQstatus(p->pc->conn) == CONNECTION_OK)
		pq->PQclear(pq->PQexec(p->pc->conn, "RELEASE store_stmt"));
	if (p->pc->conn)
		track_transaction(p->pc);
	return r;
}

/* Executes p: 0 with p->res kept, or a store result. */
static int execute(struct pg_stmt *p, const char *what)
{
	struct pg_conn *pc = p->pc;
	int r;

	if (p->bad) {
		snprintf(pc->err, sizeof(pc->err), "a bound text holds a NUL byte, or is too big");
		log_err("store: %s: %s", what, pc->err);
		return -EINVAL;
	}
	for (int attempt = 0;; attempt++) {
		bool in_txn = pc->in_txn, sent = false;

		r = ready(pc);
		if (r != 0) /* no connection could be made: not tried again */
			return r;
		if (p->gen != pc->gen)
			r = prepare_now(p);
		if (r == 0) {
			sent = true;
			if (p->stream)
				r = send_streamed(p, what);
			else if (in_txn && !p->read && !p->control && !pc->whole)
				r = send_in_savepoint(p, what);
			else
				r = send_prepared(p, what);
		}
		/* A connection found broken outside a transaction (after a
		 * failover): a read, or a write that was never sent (its
		 * PREPARE failed), runs once more on a new one.  A write sent
		 * has an unknown outcome: it fails. */
		if (r == STORE_UNAVAILABLE && !in_txn && attempt == 0 && (p->read || !sent)) {
			pc->next_attempt = 0;
			continue;
		}
		return r;
	}
}

/* The first row of a streamed read.  A connection found broken only now
 * (the send went out on it) is made again and the read sent once more,
 * outside a transaction, as execute does for the others. */
static int stream_first(struct pg_stmt *p, const char *what)
{
	bool in_txn = p->pc->in_txn;
	int r = execute(p, what);

	if (r == 0)
		r = stream_next(p, what);
	if (r == STORE_UNAVAILABLE && !in_txn && !p->pc->lost) {
		pg_reset(p);
		p->pc->next_attempt = 0;
		r = execute(p, what);
		if (r == 0)
			r = stream_next(p, what);
	}
	return r;
}

int pg_step(struct pg_stmt *p, const char *what)
{
	int r;

	if (p->stream && !p->done)
		return stream_first(p, what);
	if (p->streamed)
		return stream_next(p, what);
	if (!p->done) {
		r = execute(p, what);
		if (r != 0)
			return r;
	}
	if (p->row < p->nrows)
		p->row++;
	return p->row < p->nrows ? 1 : 0;
}

/* ---- columns ----------------------------------------------------------- */

static bool col_valid(struct pg_stmt *p, int col)
{
	return p->res && p->row >= 0 && p->row < p->nrows && col >= 0 &&
	       col < pq->PQnfields(p->res);
}

bool pg_col_is_null(struct pg_stmt *p, int col)
{
	return !col_valid(p, col) || pq->PQgetisnull(p->res, p->row, col);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : 0;
}

static bool blobs_alloc(struct pg_stmt *p)
{
	int cols = pq->PQnfields(p->res);

	if (p->blob)
		return true;
	p->blob = calloc((size_t)cols, sizeof(*p->blob));
	p->blob_len = calloc((size_t)cols, sizeof(*p->blob_len));
	p->blob_row = calloc((size_t)cols, sizeof(*p->blob_row));
	if (!p->blob || !p->blob_len || !p->blob_row) {
		blobs_free(p);
		return false;
	}
	for (int i = 0; i < cols; i++)
		p->blob_row[i] = -1;
	return true;
}

/* Column col (a bytea) of the current row decoded from hex, NUL-terminated
 * (as SQLite's column_text of a blob); NULL when NULL or out of memory. */
static const unsigned char *blob_decoded(struct pg_stmt *p, int col)
{
	const char *hex;
	size_t n;

	if (!blobs_alloc(p))
		return NULL;
	if (p->blob_row[col] == p->row)
		return p->blob[col];
	hex = pq->PQgetvalue(p->res, p->row, col);
	if (hex[0] != '\\' || hex[1] != 'x')
		return NULL;
	hex += 2;
	n = strlen(hex) / 2;
	free(p->blob[col]);
	p->blob[col] = malloc(n + 1);
	if (!p->blob[col])
		return NULL;
	for (size_t i = 0; i < n; i++)
		p->blob[col][i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	p->blob[col][n] = '\0';
	p->blob_len[col] = n;
	p->blob_row[col] = p->row;
	return p->blob[col];
}

static bool is_bytea(struct pg_stmt *p, int col)
{
	return pq->PQftype(p->res, col) == OID_BYTEA;
}

const char *pg_col_text(struct pg_stmt *p, int col)
{
	if (pg_col_is_null(p, col))
		return NULL;
	if (is_bytea(p, col))
		return (const char *)blob_decoded(p, col);
	return pq->PQgetvalue(p->res, p->row, col);
}

/* A zero-length value reads as NULL, as SQLite's column_blob does. */
const void *pg_col_blob(struct pg_stmt *p, int col)
{
	return pg_col_bytes(p, col) ? pg_col_text(p, col) : NULL;
}

size_t pg_col_bytes(struct pg_stmt *p, int col)
{
	if (pg_col_is_null(p, col))
		return 0;
	if (is_bytea(p, col))
		return blob_decoded(p, col) ? p->blob_len[col] : 0;
	return (size_t)pq->PQgetlength(p->res, p->row, col);
}

int64_t pg_col_int64(struct pg_stmt *p, int col)
{
	const char *v;
	Oid type;

	if (pg_col_is_null(p, col))
		return 0;
	v = pq->PQgetvalue(p->res, p->row, col);
	type = pq->PQftype(p->res, col);
	if (type == OID_BOOL)
		return v[0] == 't';
	if (type == OID_FLOAT8 || type == OID_FLOAT4 || type == OID_NUMERIC)
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

double pg_col_double(struct pg_stmt *p, int col)
{
	if (pg_col_is_null(p, col))
		return 0.0;
	if (pq->PQftype(p->res, col) == OID_BOOL)
		return pq->PQgetvalue(p->res, p->row, col)[0] == 't';
	return strtod(pq->PQgetvalue(p->res, p->row, col), NULL);
}

enum store_type pg_col_type(struct pg_stmt *p, int col)
{
	if (pg_col_is_null(p, col))
		return STORE_NULL;
	switch (pq->PQftype(p->res, col)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return STORE_INT;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return STORE_REAL;
	case OID_BYTEA:
		return STORE_BLOB;
	default:
		return STORE_TEXT;
	}
}

int pg_col_count(struct pg_stmt *p)
{
	PGresult *res;
	int n;

	if (p->res)
		return pq->PQnfields(p->res);
	/* Not run yet: ask the server what the statement returns. */
	if (ready(p->pc) != 0 || (p->gen != p->pc->gen && prepare_now(p) != 0))
		return 0;
	res = pq->PQdescribePrepared(p->pc->conn, p->name);
	n = pq->PQresultStatus(res) == PGRES_COMMAND_OK ? pq->PQnfields(res) : 0;
	pq->PQclear(res);
	return n;
}

const char *pg_col_name(struct pg_stmt *p, int col)
{
	return p->res && col >= 0 && col < pq->PQnfields(p->res) ? pq->PQfname(p->res, col) : NULL;
}

/* ---- transactions and the rest ---------------------------------------- */

/* BEGIN, then the writers' advisory lock (SQLite's BEGIN IMMEDIATE):
 * writers of every process take turns. */
int pg_begin(struct pg_conn *pc)
{
	bool had = pc->conn && !pc->remake && pq->PQstatus(pc->conn) == CONNECTION_OK;
	char sql[96];
	int r;

	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
		 (long long)PG_LOCK_WRITER);
	r = pg_exec(pc, sql, "begin");
	/* A connection that looked alive finds out only now that its server
	 * went away (a restart, a failover): nothing ran, so begin once more
	 * on a new connection (to the new primary).  A failed attempt to
	 * connect is not repeated at once. */
	if (r == STORE_UNAVAILABLE && had && !pc->in_txn && !pc->lost) {
		pc->next_attempt = 0;
		r = pg_exec(pc, sql, "begin");
	}
	return r;
}

int pg_commit(struct pg_conn *pc)
{
	PGresult *res;
	int r = ready(pc);

	if (r)
		return r;
	res = pq->PQexec(pc->conn, "COMMIT");
	if (pq->PQresultStatus(res) == PGRES_COMMAND_OK) {
		/* An aborted transaction "commits" as ROLLBACK. */
		r = strcmp(pq->PQcmdStatus(res), "COMMIT") == 0 ? 0 : -EIO;
		if (r)
			log_err("store: commit: the transaction had failed and was rolled back");
	} else {
		/* A connection lost during COMMIT leaves its outcome unknown;
		 * reported as a failure (the caller's client retries). */
		r = result_error(pc, res, "commit");
		r = r == STORE_CONSTRAINT ? -EIO : r;
	}
	pq->PQclear(res);
	if (pc->conn)
		track_transaction(pc);
	return r;
}

void pg_rollback(struct pg_conn *pc)
{
	stream_spill(pc);
	if (pc->in_txn && !pc->lost && pc->conn && pq->PQstatus(pc->conn) == CONNECTION_OK) {
		pq->PQclear(pq->PQexec(pc->conn, "ROLLBACK"));
		track_transaction(pc);
	}
	pc->in_txn = false;
	pc->whole = false;
	pc->lost = false;
}

void pg_set_whole(struct pg_conn *pc, bool whole)
{
	pc->whole = whole && pc->in_txn;
}

bool pg_in_transaction(struct pg_conn *pc)
{
	return pc->in_txn;
}

bool pg_transaction_lost(struct pg_conn *pc)
{
	return !pc->in_txn || pc->lost || !pc->conn || pq->PQstatus(pc->conn) != CONNECTION_OK;
}

bool pg_connection_broken(struct pg_conn *pc)
{
	return pc->lost || !pc->conn || pq->PQstatus(pc->conn) != CONNECTION_OK;
}

unsigned pg_changes(struct pg_conn *pc)
{
	return pc->changes;
}

/* The id the last INSERT (without RETURNING) on pc gave its table's
 * identity column: currval of that column's sequence in this session
 * (triggers' inserts elsewhere do not count, as in SQLite).  An INSERT
 * that set id itself did not draw from the sequence: then this is the
 * last drawn one, or 0.  Modules move to INSERT ... RETURNING id
 * (docs/postgresql-port.md). */
int64_t pg_last_id(struct pg_conn *pc)
{
	const char *values[1] = {pc->last_table};
	PGresult *res;
	int64_t id = 0;

	if (!pc->last_table[0] || ready(pc) != 0)
		return 0;
	if (pc->in_txn && pg_exec(pc, "SAVEPOINT store_last_id", "last id") != 0)
		return 0;
	res = pq->PQexecParams(pc->conn, "SELECT currval(pg_get_serial_sequence($1, 'id'))", 1,
			       NULL, values, NULL, NULL, 0);
	if (pq->PQresultStatus(res) == PGRES_TUPLES_OK && pq->PQntuples(res) == 1)
		id = strtoll(pq->PQgetvalue(res, 0, 0), NULL, 10);
	pq->PQclear(res);
	if (pc->in_txn) {
		if (id == 0)
			pq->PQclear(pq->PQexec(pc->conn, "ROLLBACK TO store_last_id"));
		pq->PQclear(pq->PQexec(pc->conn, "RELEASE store_last_id"));
	}
	track_transaction(pc);
	return id;
}

const char *pg_errmsg(struct pg_conn *pc)
{
	return pc->err;
}

/* What SQLite's pragmas say, read from the server: synchronous 2 (FULL)
 * when a commit waits for its WAL flush (synchronous_commit on or
 * stronger), the journal "wal" (PostgreSQL always writes ahead), and
 * foreign keys always enforced. */
int pg_pragmas(struct pg_conn *pc, struct store_pragmas *out)
{
	PGresult *res;
	const char *v;
	int r = ready(pc);

	memset(out, 0, sizeof(*out));
	if (r)
		return -EIO;
	res = pq->PQexec(pc->conn, "SELECT current_setting('synchronous_commit'),"
				   " current_setting('fsync')");
	if (pq->PQresultStatus(res) != PGRES_TUPLES_OK || pq->PQntuples(res) != 1) {
		result_error(pc, res, "settings");
		pq->PQclear(res);
		return -EIO;
	}
	v = pq->PQgetvalue(res, 0, 0);
	out->synchronous = (strcmp(v, "on") == 0 || strcmp(v, "remote_apply") == 0 ||
			    strcmp(v, "remote_write") == 0) &&
				   strcmp(pq->PQgetvalue(res, 0, 1), "on") == 0
			       ? 2
			       : 0;
	snprintf(out->journal_mode, sizeof(out->journal_mode), "wal");
	out->foreign_keys = true;
	pq->PQclear(res);
	track_transaction(pc);
	return 0;
}
