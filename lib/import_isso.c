/* import_isso: an Isso database, read through SQLite itself.
 *
 * Isso keeps threads (uri) and comments (mode 1 accepted, 2 waiting for
 * moderation, 4 deleted with replies kept) in one SQLite file.  The file
 * is opened read-only with the schema untrusted, and read row by row.
 */
#include "importfmt.h"

#include "text.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char sql_tables[] =
    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('comments', 'threads')";
static const char sql_rows[] =
    "SELECT c.id, c.parent, c.created, c.mode, c.remote_addr, c.text, c.author, c.email,"
    " c.website, t.uri FROM comments c JOIN threads t ON t.id = c.tid ORDER BY c.id";

static enum comment_status isso_status(int mode)
{
	if (mode == 1)
		return COMMENT_PUBLISHED;
	if (mode == 4)
		return COMMENT_DELETED;
	return COMMENT_PENDING;
}

/* Column col as valid UTF-8 text ("" for NULL).  0, or 1 if it is not. */
static int column(sqlite3_stmt *st, int col, const char **out)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	*out = s ? (const char *)s : "";
	return s && !text_utf8_valid((const char *)s, (size_t)n, NULL) ? 1 : 0;
}

static int row(sqlite3_stmt *st, const struct import_sink *sink, struct import_error *err)
{
	struct import_record rec = {0};
	static const char *const names[] = {"remote_addr", "text",    "author",
					    "email",	   "website", "thread uri"};
	const char **fields[] = {&rec.ip,    &rec.text,	   &rec.author,
				 &rec.email, &rec.website, &rec.thread_url};
	long long id = sqlite3_column_int64(st, 0);
	char idtext[24], parent[24] = "";
	double created = sqlite3_column_double(st, 2);

	snprintf(rec.at, sizeof(rec.at), "record %lld", id);
	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (sqlite3_column_type(st, 1) == SQLITE_INTEGER)
		snprintf(parent, sizeof(parent), "%lld", (long long)sqlite3_column_int64(st, 1));
	for (int i = 0; i < 6; i++)
		if (column(st, 4 + i, fields[i]) != 0)
			return import_fail(err, "%s: %s is not valid UTF-8", rec.at, names[i]);
	if (!(created >= 0 && created < 253402300800.0))
		return import_fail(err, "%s: the date is not valid", rec.at);
	rec.id = idtext;
	rec.parent = parent;
	rec.created = (int64_t)created;
	rec.status = isso_status(sqlite3_column_int(st, 3));
	rec.markup = IMPORT_MARKUP_MARKDOWN;
	rec.text_cut = strlen(rec.text) > IMPORT_TEXT_MAX;
	return sink->comment(sink->ctx, &rec);
}

static int db_fail(sqlite3 *db, struct import_error *err)
{
	return import_fail(err, "this is not an Isso database (%s)", sqlite3_errmsg(db));
}

int import_read_isso_db(sqlite3 *db, const struct import_sink *sink, struct import_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, sql_tables, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = db_fail(db, err);
		sqlite3_finalize(st);
		return r;
	}
	rc = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != 2)
		return import_fail(err, "this is not an Isso database (no comments and threads "
					"tables)");
	if (sqlite3_prepare_v2(db, sql_rows, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = row(st, sink, err);
	if (r == 0 && rc != SQLITE_DONE)
		r = import_fail(err, "the Isso database cannot be read: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

int import_read_isso(const char *path, const struct import_sink *sink, struct import_error *err)
{
	sqlite3 *db = NULL;
	int r;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = import_fail(err, "cannot open %s: %s", path,
				db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	r = import_read_isso_db(db, sink, err);
	sqlite3_close(db);
	return r;
}
