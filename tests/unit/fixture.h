/* fixture.h: what the unit tests share beyond TAP: a temporary directory
 * that is removed at the end, and for store-backed modules a store with
 * one borrowed connection, keys from a fixed master and the default
 * settings.  The store is SQLite (<name>.db in the directory), or, when
 * COMMENTD_TEST_PG names a PostgreSQL database (tests/pgserver.py run --
 * ...), a database of its own created on that server for each
 * fixture_open and dropped by fixture_close: the same test program runs on
 * both engines.
 *
 *     static struct fixture fx;
 *     if (fixture_open(&fx, "comment") != 0) return 1;
 *     ... fx.conn, fx.keys, fx.cfg, fixture_path(&fx, "other.db") ...
 *     fixture_close(&fx);
 */
#ifndef COMMENTD_FIXTURE_H
#define COMMENTD_FIXTURE_H

#include "config.h"
#include "keys.h"
#include "pqload.h"
#include "store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE_PG_MAX	8
#define FIXTURE_PG_NAME 64

struct fixture {
	char dir[96];
	char path[400]; /* fixture_path's last answer */
	char db[400];	/* the store's file, or its PostgreSQL URI */
	/* PostgreSQL: the databases fixture_db created (dropped at close) */
	char pgnames[FIXTURE_PG_MAX][FIXTURE_PG_NAME];
	struct store *store;
	struct store_conn *conn;
	struct keys *keys;
	struct config *cfg;
};

/* Creates $TMPDIR/test-<name>-XXXXXX (/tmp without TMPDIR, or when that
 * would not fit): the mutation checks stop a test at its first failure and
 * remove the TMPDIR they gave it.  0 or -1. */
static inline int fixture_tmpdir(struct fixture *f, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	memset(f, 0, sizeof(*f));
	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(f->dir, sizeof(f->dir), "%s/test-%s-XXXXXX", tmp, name);
	if (n < 0 || (size_t)n >= sizeof(f->dir))
		snprintf(f->dir, sizeof(f->dir), "/tmp/test-%s-XXXXXX", name);
	return mkdtemp(f->dir) ? 0 : -1;
}

/* dir/name (valid until the next call). */
static inline const char *fixture_path(struct fixture *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

/* Keys derived from a fixed master made of seed (tests are repeatable). */
static inline int fixture_keys(struct keys **out, unsigned char seed)
{
	unsigned char master[KEYS_MASTER_BYTES];

	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(seed ^ (i * 7));
	return keys_new_from_bytes(out, master);
}

/* Runs one statement on COMMENTD_TEST_PG's database (outside any
 * transaction: CREATE and DROP DATABASE).  0 or -1 (said on stderr). */
static inline int fixture_pg_admin(const char *sql)
{
	const struct pq_api *pq = pqload();
	const char *keys[] = {"dbname", NULL};
	const char *values[] = {getenv("COMMENTD_TEST_PG"), NULL};
	PGconn *conn;
	PGresult *res;
	int rc = -1;

	if (!pq || !values[0])
		return -1;
	conn = pq->PQconnectdbParams(keys, values, 1);
	if (pq->PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "fixture: %s", pq->PQerrorMessage(conn));
		pq->PQfinish(conn);
		return -1;
	}
	res = pq->PQexec(conn, sql);
	if (pq->PQresultStatus(res) == PGRES_COMMAND_OK)
		rc = 0;
	else
		fprintf(stderr, "fixture: %s: %s", sql, pq->PQresultErrorMessage(res));
	pq->PQclear(res);
	pq->PQfinish(conn);
	return rc;
}

/* On PostgreSQL: the URI of database t_<pid>_<name> into out (created,
 * empty, at its first use by this fixture; COMMENTD_TEST_PG's URI with the
 * database name replaced).  0 or -1. */
static inline int fixture_pg_database(struct fixture *f, const char *name, char *out,
				      size_t out_len)
{
	const char *base = getenv("COMMENTD_TEST_PG");
	const char *query = strchr(base, '?');
	size_t end = query ? (size_t)(query - base) : strlen(base);
	size_t slash = end, l;
	char db[FIXTURE_PG_NAME], sql[160];
	int n, i;

	while (slash > 0 && base[slash - 1] != '/')
		slash--;
	if (slash == 0)
		return -1;
	snprintf(db, sizeof(db), "t_%ld_", (long)getpid());
	for (const char *c = name; *c && (l = strlen(db)) < sizeof(db) - 1; c++) {
		db[l] = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c : '_';
		db[l + 1] = '\0';
	}
	n = snprintf(out, out_len, "%.*s%s%s", (int)slash, base, db, query ? query : "");
	if (n < 0 || (size_t)n >= out_len)
		return -1;
	for (i = 0; i < FIXTURE_PG_MAX && f->pgnames[i][0]; i++)
		if (strcmp(f->pgnames[i], db) == 0)
			return 0;
	if (i == FIXTURE_PG_MAX)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", db);
	if (fixture_pg_admin(sql) != 0)
		return -1;
	snprintf(f->pgnames[i], sizeof(f->pgnames[i]), "%s", db);
	return 0;
}

/* Where a test keeps a store named name: dir/<name>.db, or on PostgreSQL
 * (COMMENTD_TEST_PG set) the URI of a database of this fixture's own (the
 * same name, the same database: a reopen finds what was written).  For
 * store_new; valid until the next call; NULL when it cannot be made. */
static inline const char *fixture_db(struct fixture *f, const char *name)
{
	char file[120];

	if (getenv("COMMENTD_TEST_PG"))
		return fixture_pg_database(f, name, f->path, sizeof(f->path)) == 0 ? f->path : NULL;
	snprintf(file, sizeof(file), "%s.db", name);
	return fixture_path(f, file);
}

/* A temporary directory with the store opened (migrated): <name>.db in it,
 * or a new PostgreSQL database when COMMENTD_TEST_PG is set; one
 * connection borrowed, keys and the default config.  0 or -1. */
static inline int fixture_open(struct fixture *f, const char *name)
{
	const char *db;

	if (fixture_tmpdir(f, name) != 0 || !(db = fixture_db(f, name)))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s", db);
	if (fixture_keys(&f->keys, 0x5a) != 0 || config_new(&f->cfg) != 0 ||
	    store_new(&f->store, f->db, 1) != 0)
		return -1;
	f->conn = store_acquire(f->store);
	return 0;
}

static inline int fixture_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Counts the values in every table of conn's database that contain needle
 * (len bytes): what a copy of the database would show, on either engine
 * (PostgreSQL's files are the server's; a test cannot read them).  The
 * last place found as "table.column" in where; -1 on failure. */
static inline int64_t fixture_scan_tables(struct store_conn *conn, const void *needle, size_t len,
					  char *where, size_t where_len)
{
	struct store_stmt *tables = NULL;
	int64_t found = 0;

	if (where_len)
		where[0] = '\0';
	tables = store_stmt_new(conn, !store_postgresql(conn)
					  ? "SELECT name FROM sqlite_master WHERE type = 'table' "
					    "AND name NOT LIKE 'sqlite_%'"
					  : "SELECT tablename FROM pg_tables WHERE schemaname = "
					    "'public'");
	if (!tables) {
		fprintf(stderr, "fixture: no table list: %s\n", store_errmsg(conn));
		return -1;
	}
	while (store_row(conn, tables) == 1) {
		char sql[200];
		struct store_stmt *q = NULL;
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", store_col_text(tables, 0));
		if (!(q = store_stmt_new(conn, sql))) {
			found = -1; /* a table unread is not a table without it */
			break;
		}
		while (store_row(conn, q) == 1) {
			for (int i = 0; i < store_col_count(q); i++) {
				const void *v = store_col_blob(q, i);
				int n = store_col_bytes(q, i);
				if (v && n > 0 && memmem(v, (size_t)n, needle, len)) {
					found++;
					if (where_len)
						snprintf(where, where_len, "%s.%s",
							 store_col_text(tables, 0),
							 store_col_name(q, i));
				}
			}
		}
		store_stmt_free(q);
	}
	store_stmt_free(tables);
	return found;
}

/* Column 0 of the first row of the static SQL text sql as an integer, or
 * -1 (no row, or a failure). */
static inline int64_t fixture_one_int(struct store_conn *c, const char *sql)
{
	struct store_stmt *st = store_stmt(c, sql);
	int64_t v = -1;

	if (!st || store_one_int64(c, st, &v) != 1)
		return -1;
	return v;
}

/* Releases everything and removes the directory with what is in it. */
static inline void fixture_close(struct fixture *f)
{
	if (f->conn)
		store_release(f->store, f->conn);
	f->conn = NULL;
	f->store = store_free(f->store);
	f->keys = keys_free(f->keys);
	f->cfg = config_free(f->cfg);
	for (int i = 0; i < FIXTURE_PG_MAX && f->pgnames[i][0]; i++) {
		char sql[160];

		snprintf(sql, sizeof(sql), "DROP DATABASE \"%s\" WITH (FORCE)", f->pgnames[i]);
		fixture_pg_admin(sql);
		f->pgnames[i][0] = '\0';
	}
	if (f->dir[0] && nftw(f->dir, fixture_remove, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "fixture: could not remove %s\n", f->dir);
	f->dir[0] = '\0';
}

#endif
