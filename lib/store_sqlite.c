/* store_sqlite: the statement layer of lib/store (store.h): binds and
 * columns, each a plain call of its sqlite3_ counterpart, or of
 * lib/store_pg.c's for a PostgreSQL store. */
#include "store_int.h"

#include <limits.h>
#include <string.h>

/* SQLite takes lengths as int; a length beyond INT_MAX (more than the store
 * ever accepts: SQLITE_LIMIT_LENGTH is 4 MiB) is bound as INT_MAX, which
 * SQLite then refuses as too big when the statement runs. */
static int length(size_t len)
{
	return len > INT_MAX ? INT_MAX : (int)len;
}

void store_bind_int64(struct store_stmt *st, int i, int64_t v)
{
	if (st->pg)
		pg_bind_int64(st->pg, i, v);
	else
		sqlite3_bind_int64(st->lite, i, v);
}

void store_bind_double(struct store_stmt *st, int i, double v)
{
	if (st->pg)
		pg_bind_double(st->pg, i, v);
	else
		sqlite3_bind_double(st->lite, i, v);
}

void store_bind_text(struct store_stmt *st, int i, const char *text)
{
	if (st->pg)
		pg_bind_text(st->pg, i, text, 0, false);
	else
		sqlite3_bind_text(st->lite, i, text, -1, SQLITE_STATIC);
}

void store_bind_text_len(struct store_stmt *st, int i, const char *text, size_t len)
{
	if (st->pg)
		pg_bind_text(st->pg, i, text, len, true);
	else
		sqlite3_bind_text(st->lite, i, text, length(len), SQLITE_STATIC);
}

void store_bind_text_copy(struct store_stmt *st, int i, const char *text)
{
	if (st->pg)
		pg_bind_text(st->pg, i, text, text ? strlen(text) : 0, text != NULL);
	else
		sqlite3_bind_text(st->lite, i, text, -1, SQLITE_TRANSIENT);
}

void store_bind_blob(struct store_stmt *st, int i, const void *blob, size_t len)
{
	if (st->pg)
		pg_bind_blob(st->pg, i, blob, len, false);
	else
		sqlite3_bind_blob(st->lite, i, blob, length(len), SQLITE_STATIC);
}

void store_bind_blob_copy(struct store_stmt *st, int i, const void *blob, size_t len)
{
	if (st->pg)
		pg_bind_blob(st->pg, i, blob, len, true);
	else
		sqlite3_bind_blob(st->lite, i, blob, length(len), SQLITE_TRANSIENT);
}

void store_bind_null(struct store_stmt *st, int i)
{
	if (st->pg)
		pg_bind_null(st->pg, i);
	else
		sqlite3_bind_null(st->lite, i);
}

int store_bind_count(struct store_stmt *st)
{
	return st->pg ? pg_bind_count(st->pg) : sqlite3_bind_parameter_count(st->lite);
}

int64_t store_col_int64(struct store_stmt *st, int col)
{
	return st->pg ? pg_col_int64(st->pg, col) : sqlite3_column_int64(st->lite, col);
}

int store_col_int(struct store_stmt *st, int col)
{
	return st->pg ? (int)pg_col_int64(st->pg, col) : sqlite3_column_int(st->lite, col);
}

double store_col_double(struct store_stmt *st, int col)
{
	return st->pg ? pg_col_double(st->pg, col) : sqlite3_column_double(st->lite, col);
}

const char *store_col_text(struct store_stmt *st, int col)
{
	if (st->pg)
		return pg_col_text(st->pg, col);
	return (const char *)sqlite3_column_text(st->lite, col);
}

const void *store_col_blob(struct store_stmt *st, int col)
{
	return st->pg ? pg_col_blob(st->pg, col) : sqlite3_column_blob(st->lite, col);
}

size_t store_col_bytes(struct store_stmt *st, int col)
{
	if (st->pg)
		return pg_col_bytes(st->pg, col);
	return (size_t)sqlite3_column_bytes(st->lite, col);
}

bool store_col_is_null(struct store_stmt *st, int col)
{
	if (st->pg)
		return pg_col_is_null(st->pg, col);
	return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
}

enum store_type store_col_type(struct store_stmt *st, int col)
{
	if (st->pg)
		return pg_col_type(st->pg, col);
	switch (sqlite3_column_type(st->lite, col)) {
	case SQLITE_INTEGER:
		return STORE_INT;
	case SQLITE_FLOAT:
		return STORE_REAL;
	case SQLITE_TEXT:
		return STORE_TEXT;
	case SQLITE_BLOB:
		return STORE_BLOB;
	default:
		return STORE_NULL;
	}
}

int store_col_count(struct store_stmt *st)
{
	return st->pg ? pg_col_count(st->pg) : sqlite3_column_count(st->lite);
}

const char *store_col_name(struct store_stmt *st, int col)
{
	return st->pg ? pg_col_name(st->pg, col) : sqlite3_column_name(st->lite, col);
}

void store_stream(struct store_stmt *st)
{
	if (st->pg)
		pg_stream(st->pg);
}

void store_reset(struct store_stmt *st)
{
	if (st->pg)
		pg_reset(st->pg);
	else
		sqlite3_reset(st->lite);
}
