/* store_int: what the parts of lib/store share (store.c: the pool, writers,
 * group commit and statement cache; store_sqlite.c: the statement layer on
 * SQLite; store_pg.c: the PostgreSQL engine on libpq).  Not for other
 * modules. */
#ifndef COMMENTD_STORE_INT_H
#define COMMENTD_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

struct pg_conn;
struct pg_stmt;

/* A prepared statement.  Cached ones live in their connection's slots
 * (store_stmt); store_stmt_new allocates one.  Exactly one of lite and pg
 * is set, by the store's engine. */
struct store_stmt {
	sqlite3_stmt *lite;
	struct pg_stmt *pg;
};

/* VACUUM of table (FULL when full; a name of lower-case letters and '_'
 * only), outside a transaction.  SQLite: nothing (secure_delete has
 * zeroed what was removed).  0, STORE_* or negative (logged). */
int store_vacuum(struct store_conn *c, const char *table, bool full);

/* ---- PostgreSQL (store_pg.c) ----
 * Results follow store.h: 0, a positive STORE_* or negative (logged). */
int pg_open(struct pg_conn **out, const char *uri);
void pg_close(struct pg_conn *pc);
int pg_migrate(struct pg_conn *pc);
int pg_schema_version(struct pg_conn *pc, int *out);
int pg_schema_count(void);
int pg_peek_version(const char *uri, int *out);
struct pg_stmt *pg_prepare(struct pg_conn *pc, const char *sql, bool cached);
void pg_stmt_free(struct pg_stmt *p);
void pg_clear(struct pg_stmt *p);
void pg_reset(struct pg_stmt *p);
/* The statement's rows arrive one at a time (store_stream). */
void pg_stream(struct pg_stmt *p);
void pg_bind_int64(struct pg_stmt *p, int i, int64_t v);
void pg_bind_double(struct pg_stmt *p, int i, double v);
void pg_bind_text(struct pg_stmt *p, int i, const char *text, size_t len, bool has_len);
void pg_bind_blob(struct pg_stmt *p, int i, const void *blob, size_t len, bool copy);
void pg_bind_null(struct pg_stmt *p, int i);
int pg_bind_count(struct pg_stmt *p);
int pg_step(struct pg_stmt *p, const char *what);
int64_t pg_col_int64(struct pg_stmt *p, int col);
double pg_col_double(struct pg_stmt *p, int col);
const char *pg_col_text(struct pg_stmt *p, int col);
const void *pg_col_blob(struct pg_stmt *p, int col);
size_t pg_col_bytes(struct pg_stmt *p, int col);
bool pg_col_is_null(struct pg_stmt *p, int col);
enum store_type pg_col_type(struct pg_stmt *p, int col);
int pg_col_count(struct pg_stmt *p);
const char *pg_col_name(struct pg_stmt *p, int col);
int pg_exec(struct pg_conn *pc, const char *sql, const char *what);
int pg_begin(struct pg_conn *pc);
int pg_commit(struct pg_conn *pc);
void pg_rollback(struct pg_conn *pc);
/* Inside pg_begin's transaction: whole, its writes run without the
 * per-write savepoint (store_begin_whole); cleared at its end. */
void pg_set_whole(struct pg_conn *pc, bool whole);
bool pg_in_transaction(struct pg_conn *pc);
bool pg_transaction_lost(struct pg_conn *pc);
/* True when pc's connection broke (its transaction, if any, is lost). */
bool pg_connection_broken(struct pg_conn *pc);
unsigned pg_changes(struct pg_conn *pc);
int64_t pg_last_id(struct pg_conn *pc);
const char *pg_errmsg(struct pg_conn *pc);
int pg_pragmas(struct pg_conn *pc, struct store_pragmas *out);

#endif
