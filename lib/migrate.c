/* migrate: a database copied between engines (lib/migrate.h).
 *
 * The statements name tables and columns, which SQL cannot bind: they are
 * made here from the static table list below and from column names read
 * from the database's catalog (checked to be plain lower-case identifiers),
 * and prepared once per table with store_stmt_new.  Everything else is
 * static text with bound parameters.
 */
#include "migrate.h"

#include "log.h"
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	T_DATA,	   /* copied and verified */
	T_SEEDED,  /* data, but its migration inserts a row: replaced */
	T_DERIVED, /* not copied: the admin search's index (which the destination
		    * rebuilds), the compactions a PostgreSQL database owes */
};

/* Every table of schema/ and schema/pg/, in an order that satisfies the
 * foreign keys (a referenced table first).  A new table must be added
 * here: migrate_db refuses a database with a table this list lacks. */
static const struct mtable {
	const char *name;
	int kind;
} mtables[] = {
    {"threads", T_DATA},
    {"comments", T_DATA},
    {"classifier_state", T_SEEDED},
    {"classifier_tokens", T_DATA},
    {"classifier_learned", T_DATA},
    {"classifier_site_state", T_DATA},
    {"classifier_site_tokens", T_DATA},
    {"admin_tokens", T_DATA},
    {"admin_token_sites", T_DATA},
    {"audit", T_DATA},
    {"discarded", T_DATA},
    {"akismet_keys", T_DATA},
    {"decided_daily", T_DATA},
    {"decoys", T_DATA},
    {"import_ids", T_DATA},
    {"outbox", T_DATA},
    {"outbox_deliveries", T_DATA},
    {"subscriptions", T_DATA},
    {"link_uses", T_DATA},
    {"likes", T_DATA},
    {"status_counts", T_DATA},
    /* What the nodes of one database agree on (schema 0018, lib/nodes.h):
     * the key check's fingerprint travels with the data it protects. */
    {"node_keys", T_DATA},
    /* The admin search (schema 0016): SQLite's FTS5 blocks (search_b<N>
     * and their shadow tables, matched by name) and their bookkeeping.
     * A new destination starts with nothing indexed and indexes every
     * comment again (the maintenance task, `commentctl index`). */
    {"search_state", T_DERIVED},
    {"search_blocks", T_DERIVED},
    {"search_pending", T_DERIVED},
    /* PostgreSQL's compactions owed by erasures (schema/pg/0004): a copy
     * is written row by row and holds no removed row's bytes, so it owes
     * nothing; not copied. */
    {"compact_pending", T_DERIVED},
};
#define N_MTABLES (sizeof(mtables) / sizeof(mtables[0]))

#define COLS_MAX     64
#define NAME_MAX_    64
#define SQL_MAX	     4096
#define PG_PAGES     128 /* PostgreSQL: heap pages read per batch */
#define PROGRESS_N   1000
#define BATCH_ROWS   200 /* rows per INSERT at most */
#define BATCH_PARAMS 999 /* parameters per INSERT at most (lib/store_pg.c: ?1..?999) */

struct side {
	const char *db;
	struct store *store;
	struct store_conn *c;
	bool pg;
};

struct cols {
	unsigned n;
	bool has_id;
	char name[COLS_MAX][NAME_MAX_];
	char list[SQL_MAX / 2]; /* "a", "b", ... */
};

/* Per-table checksum: the rows' BLAKE2b-256 added up lane by lane. */
struct sum {
	uint64_t lane[4];
	int64_t rows;
};

struct run {
	struct side src, dst;
	const struct migrate_opts *opts;
	struct migrate_report *rep;
	char *triggers; /* SQLite destination: the dropped triggers' SQL, NUL-separated */
	size_t triggers_len;
};

static const struct store_sql sql_tables = {
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    " AND table_type = 'BASE TABLE' AND table_name <> 'commentd_schema'",
};

static const struct store_sql sql_columns = {
    "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    " AND table_name = CAST(?1 AS TEXT) ORDER BY ordinal_position",
};

/* An id column's high-water mark: the larger of the sequence's last value
 * and ?2, the largest id in the table. */
static const struct store_sql sql_seq_get = {
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), ?2)",
    "SELECT CASE WHEN s IS NULL THEN CAST(?2 AS BIGINT) ELSE greatest(coalesce("
    "pg_sequence_last_value(CAST(s AS regclass)), 0), CAST(?2 AS BIGINT)) END"
    " FROM (SELECT pg_get_serial_sequence(CAST(?1 AS TEXT), 'id') AS s) AS q",
};

/* Sets it on the destination (SQLite: only AUTOINCREMENT tables keep one). */
static const struct store_sql sql_seq_set = {
    "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1 AND seq < ?2",
    "SELECT setval(CAST(s AS regclass), CAST(?2 AS BIGINT)) FROM (SELECT "
    "pg_get_serial_sequence(CAST(?1 AS TEXT), 'id') AS s) AS q WHERE s IS NOT NULL",
};
static const char sql_seq_add[] =
    "INSERT INTO sqlite_sequence (name, seq) SELECT ?1, ?2 WHERE ?2 > 0"
    " AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)"
    " AND EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1"
    " AND sql LIKE '%AUTOINCREMENT%')";

static const char sql_triggers[] = "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'";

static const char sql_pages[] = "SELECT CAST(pg_relation_size(CAST(?1 AS regclass)) / "
				"CAST(current_setting('block_size') AS BIGINT) AS BIGINT)";

const char *migrate_table(unsigned i, int *derived)
{
	if (i >= N_MTABLES)
		return NULL;
	if (derived)
		*derived = mtables[i].kind == T_DERIVED;
	return mtables[i].name;
}

/* Records a failure in the report; returns r. */
static int fail(struct run *run, int r, const char *table, const char *fmt, ...)
{
	va_list ap;

	snprintf(run->rep->table, sizeof(run->rep->table), "%s", table ? table : "");
	va_start(ap, fmt);
	vsnprintf(run->rep->detail, sizeof(run->rep->detail), fmt, ap);
	va_end(ap);
	return r;
}

/* An FTS5 block of the admin search or one of its shadow tables:
 * search_b<digits>, optionally followed by _<anything>. */
static bool search_block(const char *name)
{
	const char *p = name + 8;

	if (strncmp(name, "search_b", 8) != 0 || *p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0' || *p == '_';
}

static const struct mtable *mtable_find(const char *name)
{
	for (size_t i = 0; i < N_MTABLES; i++)
		if (strcmp(mtables[i].name, name) == 0)
			return &mtables[i];
	return NULL;
}

/* Every table of s is in the list (or a search block). */
static int tables_known(struct run *run, struct side *s, const char *which)
{
	struct store_stmt *st = store_stmt_pick(s->c, &sql_tables);
	int r;

	if (!st)
		return -EIO;
	while ((r = store_row(s->c, st)) == 1) {
		const char *name = store_col_text(st, 0);

		if (!mtable_find(name) && !search_block(name)) {
			r = fail(run, MIGRATE_UNKNOWN_TABLE, name,
				 "the %s has a table '%s' that migrate-db does not know (a newer "
				 "schema?): it would be left behind, so nothing is copied",
				 which, name);
			store_reset(st);
			return r;
		}
	}
	store_reset(st);
	return r < 0 ? fail(run, -EIO, NULL, "cannot list the %s's tables: %s", which,
			    store_errmsg(s->c))
		     : 0;
}

static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NAME_MAX_)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* The columns of table on s in their order, with the quoted list. */
static int columns_of(struct run *run, struct side *s, const char *table, struct cols *out)
{
	struct store_stmt *st = store_stmt_pick(s->c, &sql_columns);
	size_t o = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	store_bind_text(st, 1, table);
	while ((r = store_row(s->c, st)) == 1) {
		const char *name = store_col_text(st, 0);

		if (out->n == COLS_MAX || !plain_name(name) ||
		    o + strlen(name) + 4 >= sizeof(out->list)) {
			store_reset(st);
			return fail(run, MIGRATE_SCHEMA, table,
				    "table %s: column '%s' not copyable", table, name);
		}
		snprintf(out->name[out->n], NAME_MAX_, "%s", name);
		out->has_id |= strcmp(name, "id") == 0;
		o += (size_t)snprintf(out->list + o, sizeof(out->list) - o, "%s\"%s\"",
				      out->n ? ", " : "", name);
		out->n++;
	}
	store_reset(st);
	return r < 0 ? fail(run, -EIO, table, "cannot read the columns of %s: %s", table,
			    store_errmsg(s->c))
		     : 0;
}

/* The source's columns, which the destination must have too (and no
 * other). */
static int columns_match(struct run *run, const char *table, struct cols *cols)
{
	struct cols d;
	int r = columns_of(run, &run->src, table, cols);

	if (r == 0)
		r = columns_of(run, &run->dst, table, &d);
	if (r != 0)
		return r;
	if (cols->n == 0 || d.n != cols->n)
		return fail(run, MIGRATE_SCHEMA, table,
			    "table %s has %u columns in the source and %u in the destination",
			    table, cols->n, d.n);
	for (unsigned i = 0; i < cols->n; i++) {
		unsigned j = 0;

		while (j < d.n && strcmp(d.name[j], cols->name[i]) != 0)
			j++;
		if (j == d.n)
			return fail(run, MIGRATE_SCHEMA, table,
				    "column %s.%s is missing in the destination", table,
				    cols->name[i]);
	}
	return 0;
}

/* ---- reading a table: SQLite streams; PostgreSQL in batches of heap
 * pages (its results are read whole), by ctid ranges in one snapshot ---- */

struct reader {
	struct side *s;
	struct store_stmt *st;
	int64_t page, pages;
};

static void reader_bind(struct reader *rd)
{
	char lo[32], hi[32];

	snprintf(lo, sizeof(lo), "(%lld,0)", (long long)rd->page);
	snprintf(hi, sizeof(hi), "(%lld,0)", (long long)(rd->page + PG_PAGES));
	store_bind_text_copy(rd->st, 1, lo);
	store_bind_text_copy(rd->st, 2, hi);
	rd->page += PG_PAGES;
}

static int reader_open(struct reader *rd, struct side *s, const char *table, const char *list)
{
	char sql[SQL_MAX];
	struct store_stmt *st;

	memset(rd, 0, sizeof(*rd));
	rd->s = s;
	if (s->pg) {
		st = store_stmt(s->c, sql_pages);
		if (!st)
			return -EIO;
		store_bind_text(st, 1, table);
		if (store_one_int64(s->c, st, &rd->pages) != 1)
			return -EIO;
		snprintf(sql, sizeof(sql),
			 "SELECT %s FROM \"%s\" WHERE ctid >= CAST(?1 AS tid) AND ctid < CAST(?2 "
			 "AS tid)",
			 list, table);
	} else {
		snprintf(sql, sizeof(sql), "SELECT %s FROM \"%s\"", list, table);
	}
	rd->st = store_stmt_new(s->c, sql);
	if (!rd->st)
		return -EIO;
	if (s->pg)
		reader_bind(rd);
	return 0;
}

/* 1 with a row current in rd->st, 0 at the end, negative on failure. */
static int reader_next(struct reader *rd)
{
	for (;;) {
		int r = store_row(rd->s->c, rd->st);

		if (r != 0 || !rd->s->pg || rd->page >= rd->pages)
			return r;
		store_reset(rd->st);
		reader_bind(rd);
	}
}

static void reader_close(struct reader *rd)
{
	store_stmt_free(rd->st);
	rd->st = NULL;
}

/* ---- checksums ---- */

static void put_be64(unsigned char *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

/* A value's canonical encoding: its type, then the integer (big-endian),
 * the double's bits (0 for either zero) or the length and the bytes. */
static void hash_value(crypto_generichash_state *h, struct store_stmt *st, int col)
{
	unsigned char tag = (unsigned char)store_col_type(st, col), b[8];
	const void *p = NULL;
	uint64_t u;
	double d;
	size_t n;

	crypto_generichash_update(h, &tag, 1);
	switch (tag) {
	case STORE_INT:
		put_be64(b, (uint64_t)store_col_int64(st, col));
		crypto_generichash_update(h, b, 8);
		break;
	case STORE_REAL:
		d = store_col_double(st, col);
		d = d == 0 ? 0.0 : d;
		memcpy(&u, &d, 8);
		put_be64(b, u);
		crypto_generichash_update(h, b, 8);
		break;
	case STORE_TEXT:
	case STORE_BLOB:
		n = store_col_bytes(st, col);
		p = tag == STORE_TEXT ? (const void *)store_col_text(st, col)
				      : store_col_blob(st, col);
		put_be64(b, (uint64_t)n);
		crypto_generichash_update(h, b, 8);
		if (n && p)
			crypto_generichash_update(h, p, n);
		break;
	default:
		break;
	}
}

static void sum_row(struct sum *s, struct store_stmt *st, unsigned ncols)
{
	crypto_generichash_state h;
	unsigned char out[32];

	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	for (unsigned i = 0; i < ncols; i++)
		hash_value(&h, st, (int)i);
	crypto_generichash_final(&h, out, sizeof(out));
	for (int l = 0; l < 4; l++) {
		uint64_t v = 0;

		for (int i = 7; i >= 0; i--)
			v = v << 8 | out[l * 8 + i];
		s->lane[l] += v;
	}
	s->rows++;
}

/* Reads every row of table on s into *out. */
static int table_sum(struct side *s, const char *table, const struct cols *cols, struct sum *out)
{
	struct reader rd;
	int r;

	memset(out, 0, sizeof(*out));
	r = reader_open(&rd, s, table, cols->list);
	while (r == 0 && (r = reader_next(&rd)) == 1) {
		sum_row(out, rd.st, cols->n);
		r = 0;
	}
	reader_close(&rd);
	return r;
}

static int count_rows(struct side *s, const char *table, int64_t *out)
{
	char sql[200];
	struct store_stmt *st;
	int r;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
	st = store_stmt_new(s->c, sql);
	if (!st)
		return -EIO;
	r = store_one_int64(s->c, st, out) == 1 ? 0 : -EIO;
	store_stmt_free(st);
	return r;
}

/* ---- the copy ---- */

/* Binds column col of the current row as parameter i.  The values are
 * copied: a batch holds several rows, each read over the last. */
static void bind_value(struct store_stmt *ins, int i, struct store_stmt *row, int col)
{
	static const char empty[1];
	const void *blob;

	switch (store_col_type(row, col)) {
	case STORE_INT:
		store_bind_int64(ins, i, store_col_int64(row, col));
		break;
	case STORE_REAL:
		store_bind_double(ins, i, store_col_double(row, col));
		break;
	case STORE_TEXT:
		/* Up to a NUL byte, which PostgreSQL's text cannot hold: a text
		 * cut short fails the verification. */
		store_bind_text_copy(ins, i, store_col_text(row, col));
		break;
	case STORE_BLOB:
		blob = store_col_blob(row, col);
		store_bind_blob_copy(ins, i, blob ? blob : empty, store_col_bytes(row, col));
		break;
	default:
		store_bind_null(ins, i);
		break;
	}
}

/* INSERT INTO table (cols) VALUES (?1, ...), ... for rows rows; NULL on
 * failure.  The caller frees it. */
static char *insert_sql(const char *table, const struct cols *cols, unsigned rows)
{
	size_t size = 64 + strlen(table) + strlen(cols->list) + (size_t)rows * cols->n * 12;
	char *sql = malloc(size);
	unsigned p = 0;
	size_t o;

	if (!sql)
		return NULL;
	o = (size_t)snprintf(sql, size, "INSERT INTO \"%s\" (%s) VALUES ", table, cols->list);
	for (unsigned r = 0; r < rows && o < size; r++)
		for (unsigned i = 0; i < cols->n && o < size; i++, p++)
			o += (size_t)snprintf(sql + o, size - o, "%s?%u%s",
					      i	  ? ", "
					      : r ? ", ("
						  : "(",
					      p + 1, i + 1 == cols->n ? ")" : "");
	if (o >= size) {
		free(sql);
		return NULL;
	}
	return sql;
}

static void progress(struct run *run, const char *table, int64_t done, int64_t total)
{
	if (run->opts && run->opts->progress)
		run->opts->progress(run->opts->arg, table, done, total);
}

/* Rows go in batches: one INSERT of many rows (on PostgreSQL one round
 * trip and one savepoint), within both engines' parameter limits.  The
 * last batch of a table is as long as the rows left by the count taken in
 * the same snapshot. */
struct batch {
	struct store_stmt *full, *last;
	unsigned rows, last_rows; /* rows per statement */
	unsigned held;		  /* rows bound into the current one */
};

/* The statement the next row goes into: full, or last once fewer than a
 * full batch of rows is left.  NULL on failure. */
static struct store_stmt *batch_stmt(struct run *run, const char *table, const struct cols *cols,
				     struct batch *b, int64_t left)
{
	char *sql;

	if (left >= b->rows || b->last_rows == b->rows)
		return b->full;
	if (!b->last) {
		b->last_rows = left < 1 ? 1 : (unsigned)left;
		sql = insert_sql(table, cols, b->last_rows);
		b->last = sql ? store_stmt_new(run->dst.c, sql) : NULL;
		free(sql);
	}
	return b->last;
}

static void batch_free(struct batch *b)
{
	store_stmt_free(b->full);
	store_stmt_free(b->last);
}

/* Reads table from the source and writes it into the destination. */
static int copy_loop(struct run *run, const char *table, const struct cols *cols, struct batch *b,
		     struct reader *rd, int64_t total)
{
	struct store_stmt *st = NULL;
	unsigned size = 0;
	int64_t done = 0;
	int r;

	while ((r = reader_next(rd)) == 1) {
		if (b->held == 0) {
			st = batch_stmt(run, table, cols, b, total - done);
			if (!st)
				return fail(run, -EIO, table, "cannot prepare the copy of %s: %s",
					    table, store_errmsg(run->dst.c));
			size = st == b->full ? b->rows : b->last_rows;
		}
		for (unsigned i = 0; i < cols->n; i++)
			bind_value(st, (int)(b->held * cols->n + i + 1), rd->st, (int)i);
		done++;
		if (++b->held < size)
			continue;
		r = store_run(run->dst.c, st, table);
		if (r != 0)
			return fail(run, r < 0 ? r : -EIO, table,
				    "cannot write rows %lld to %lld of %s into the destination: %s",
				    (long long)(done - b->held + 1), (long long)done, table,
				    store_errmsg(run->dst.c));
		b->held = 0;
		if (done % PROGRESS_N < size)
			progress(run, table, done, total);
	}
	if (r < 0)
		return fail(run, r, table, "cannot read %s from the source: %s", table,
			    store_errmsg(run->src.c));
	if (b->held != 0 || done != total)
		return fail(run, MIGRATE_MISMATCH, table,
			    "table %s: %lld rows counted in the source, %lld read", table,
			    (long long)total, (long long)done);
	progress(run, table, done, total);
	run->rep->rows += done;
	return 0;
}

static int copy_rows(struct run *run, const char *table, const struct cols *cols)
{
	struct batch b = {0};
	struct reader rd = {0};
	int64_t total = 0;
	char *sql = NULL;
	int r;

	b.rows = BATCH_PARAMS / cols->n;
	b.rows = b.rows < 1 ? 1 : b.rows > BATCH_ROWS ? BATCH_ROWS : b.rows;
	r = count_rows(&run->src, table, &total);
	if (r == 0 && !(sql = insert_sql(table, cols, b.rows)))
		r = -ENOMEM;
	if (r == 0 && !(b.full = store_stmt_new(run->dst.c, sql)))
		r = -EIO;
	if (r == 0)
		r = reader_open(&rd, &run->src, table, cols->list);
	if (r != 0) {
		r = fail(run, -EIO, table, "cannot prepare the copy of %s: %s", table,
			 store_errmsg(b.full ? run->src.c : run->dst.c));
	} else {
		if (total > 0)
			progress(run, table, 0, total);
		r = copy_loop(run, table, cols, &b, &rd, total);
	}
	free(sql);
	reader_close(&rd);
	batch_free(&b);
	return r;
}

/* The largest id in table on s, or its sequence's last value if larger. */
static int high_water(struct side *s, const char *table, int64_t *out)
{
	char sql[200];
	struct store_stmt *st;
	int64_t max_id = 0;
	int r;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM \"%s\"", table);
	st = store_stmt_new(s->c, sql);
	if (!st)
		return -EIO;
	r = store_one_int64(s->c, st, &max_id) == 1 ? 0 : -EIO;
	store_stmt_free(st);
	st = r == 0 ? store_stmt_pick(s->c, &sql_seq_get) : NULL;
	if (!st)
		return -EIO;
	store_bind_text(st, 1, table);
	store_bind_int64(st, 2, max_id);
	return store_one_int64(s->c, st, out) == 1 ? 0 : -EIO;
}

/* The destination's id sequence moved up to the source's: an id the
 * source handed out (a deleted comment's, a discarded post's) is never
 * handed out again. */
static int set_sequence(struct run *run, const char *table)
{
	struct store_stmt *st;
	int64_t hw = 0, ignored;
	int r = high_water(&run->src, table, &hw);

	if (r == 0 && hw > 0) {
		st = store_stmt_pick(run->dst.c, &sql_seq_set);
		r = st ? 0 : -EIO;
		if (r == 0) {
			store_bind_text(st, 1, table);
			store_bind_int64(st, 2, hw);
			r = run->dst.pg ? (store_one_int64(run->dst.c, st, &ignored) < 0 ? -EIO : 0)
					: store_run(run->dst.c, st, "sequence");
		}
		if (r == 0 && !run->dst.pg) {
			st = store_stmt(run->dst.c, sql_seq_add);
			r = st ? 0 : -EIO;
			if (r == 0) {
				store_bind_text(st, 1, table);
				store_bind_int64(st, 2, hw);
				r = store_run(run->dst.c, st, "sequence");
			}
		}
	}
	return r ? fail(run, r < 0 ? r : -EIO, table, "cannot set the id sequence of %s: %s", table,
			store_errmsg(run->dst.c))
		 : 0;
}

/* ---- triggers off while copying: the copied rows carry what the
 * triggers would compute (thread versions, likes, tallies) ---- */

static int pg_triggers(struct run *run, bool enable)
{
	char sql[200];

	for (size_t i = 0; i < N_MTABLES; i++) {
		if (mtables[i].kind == T_DERIVED)
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\" %s TRIGGER USER", mtables[i].name,
			 enable ? "ENABLE" : "DISABLE");
		if (store_exec(run->dst.c, sql) != 0)
			return fail(run, -EIO, mtables[i].name, "cannot %s the triggers of %s: %s",
				    enable ? "enable" : "disable", mtables[i].name,
				    store_errmsg(run->dst.c));
	}
	return 0;
}

/* SQLite cannot disable a trigger: each is dropped inside the transaction
 * and made again from its own SQL before the commit.  run->triggers keeps
 * name, SQL, name, SQL ... (each NUL-terminated); the names are dropped
 * once the listing is finished (SQLite refuses DROP while it reads the
 * schema). */
static int lite_triggers_drop(struct run *run)
{
	struct store_stmt *st = store_stmt_new(run->dst.c, sql_triggers);
	char drop[200];
	int r;

	if (!st)
		return fail(run, -EIO, NULL, "cannot list the triggers: %s",
			    store_errmsg(run->dst.c));
	while ((r = store_row(run->dst.c, st)) == 1) {
		const char *name = store_col_text(st, 0), *sql = store_col_text(st, 1);
		size_t nn = strlen(name) + 1, ns = strlen(sql) + 1;
		char *grown =
		    plain_name(name) ? realloc(run->triggers, run->triggers_len + nn + ns) : NULL;

		if (!grown) {
			r = -EINVAL;
			break;
		}
		run->triggers = grown;
		memcpy(run->triggers + run->triggers_len, name, nn);
		memcpy(run->triggers + run->triggers_len + nn, sql, ns);
		run->triggers_len += nn + ns;
	}
	store_stmt_free(st);
	for (size_t o = 0; r == 0 && o < run->triggers_len;) {
		snprintf(drop, sizeof(drop), "DROP TRIGGER \"%s\"", run->triggers + o);
		r = store_exec(run->dst.c, drop) ? -EIO : 0;
		o += strlen(run->triggers + o) + 1;
		o += strlen(run->triggers + o) + 1;
	}
	return r < 0 ? fail(run, r, NULL, "cannot set the triggers aside: %s",
			    store_errmsg(run->dst.c))
		     : 0;
}

static int lite_triggers_restore(struct run *run)
{
	for (size_t o = 0; o < run->triggers_len;) {
		o += strlen(run->triggers + o) + 1; /* the name */
		if (store_exec(run->dst.c, run->triggers + o) != 0)
			return fail(run, -EIO, NULL, "cannot make a trigger again: %s",
				    store_errmsg(run->dst.c));
		o += strlen(run->triggers + o) + 1;
	}
	return 0;
}

/* ---- verification ---- */

static int verify_table(struct run *run, const char *table, const struct cols *cols)
{
	struct sum a, b;
	int64_t na = -1, nb = -1;
	int r = count_rows(&run->src, table, &na);

	if (r == 0)
		r = count_rows(&run->dst, table, &nb);
	if (r == 0)
		r = table_sum(&run->src, table, cols, &a);
	if (r == 0)
		r = table_sum(&run->dst, table, cols, &b);
	if (r != 0)
		return fail(run, r, table, "cannot read %s back to verify it", table);
	if (na != nb || a.rows != na || b.rows != nb)
		return fail(run, MIGRATE_MISMATCH, table,
			    "table %s: %lld rows in the source, %lld in the destination", table,
			    (long long)na, (long long)nb);
	if (memcmp(a.lane, b.lane, sizeof(a.lane)) != 0)
		return fail(run, MIGRATE_MISMATCH, table,
			    "table %s: the checksums differ (%lld rows on each side): a value "
			    "changed in the copy",
			    table, (long long)na);
	for (int l = 0; l < 4; l++)
		put_be64(run->rep->sum + 8 * l, a.lane[l]);
	run->rep->tables++;
	return 0;
}

/* ---- the steps ---- */

/* The destination holds no data: only what its migrations seed. */
static int dest_empty(struct run *run)
{
	char sql[200];
	int64_t n = 0;

	for (size_t i = 0; i < N_MTABLES; i++) {
		if (mtables[i].kind != T_DATA)
			continue;
		if (count_rows(&run->dst, mtables[i].name, &n) != 0)
			return fail(run, -EIO, mtables[i].name, "cannot read the destination: %s",
				    store_errmsg(run->dst.c));
		if (n > 0)
			return fail(run, MIGRATE_NOT_EMPTY, mtables[i].name,
				    "the destination is not empty (table %s has %lld rows): "
				    "migrate-db writes only into a new database",
				    mtables[i].name, (long long)n);
	}
	for (size_t i = 0; i < N_MTABLES; i++) {
		if (mtables[i].kind != T_SEEDED)
			continue;
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", mtables[i].name);
		if (store_exec(run->dst.c, sql) != 0)
			return fail(run, -EIO, mtables[i].name, "cannot clear %s: %s",
				    mtables[i].name, store_errmsg(run->dst.c));
	}
	return 0;
}

static int copy_all(struct run *run)
{
	struct cols *cols = malloc(sizeof(*cols));
	int r = cols ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < N_MTABLES; i++) {
		if (mtables[i].kind == T_DERIVED)
			continue;
		r = columns_match(run, mtables[i].name, cols);
		if (r == 0)
			r = copy_rows(run, mtables[i].name, cols);
		if (r == 0 && cols->has_id)
			r = set_sequence(run, mtables[i].name);
	}
	free(cols);
	return r;
}

static int verify_all(struct run *run)
{
	struct cols *cols = malloc(sizeof(*cols));
	int r = cols ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < N_MTABLES; i++)
		if (mtables[i].kind != T_DERIVED) {
			r = columns_of(run, &run->src, mtables[i].name, cols);
			if (r == 0)
				r = verify_table(run, mtables[i].name, cols);
		}
	free(cols);
	return r;
}

/* Inside the destination's transaction: triggers off, copy, triggers on,
 * verify.  The caller commits on 0. */
static int transfer(struct run *run)
{
	int r = run->dst.pg ? pg_triggers(run, false) : lite_triggers_drop(run);

	/* SQLite checks the foreign keys at the commit, PostgreSQL as rows
	 * arrive (the list's order satisfies them). */
	if (r == 0 && !run->dst.pg && store_exec(run->dst.c, "PRAGMA defer_foreign_keys = ON"))
		r = fail(run, -EIO, NULL, "cannot defer foreign keys");
	if (r == 0)
		r = copy_all(run);
	if (r == 0 && run->opts && run->opts->after_copy &&
	    run->opts->after_copy(run->dst.c, run->opts->arg) != 0)
		r = fail(run, -EIO, NULL, "the test hook failed");
	if (r == 0)
		r = run->dst.pg ? pg_triggers(run, true) : lite_triggers_restore(run);
	if (r == 0)
		r = verify_all(run);
	return r;
}

/* Version checks before anything is opened: the source must exist and
 * both must be at this binary's schema (a new destination at 0). */
static int check_versions(struct run *run, bool *dst_new)
{
	int v = 0, known = 0, r;

	r = store_peek_version(run->src.db, &v, &known);
	if (r == STORE_MISSING)
		return fail(run, MIGRATE_NO_SOURCE, NULL, "%s: no such file", run->src.db);
	if (r == STORE_UNAVAILABLE)
		return fail(run, MIGRATE_UNREACHABLE, NULL, "cannot reach the source database");
	if (r != 0)
		return fail(run, MIGRATE_UNREADABLE, NULL,
			    "cannot read the source's schema version (not a commentd database?)");
	if (v != known)
		return fail(run, MIGRATE_VERSION, NULL,
			    "the source is at schema version %d, this commentctl at %d: %s", v,
			    known,
			    v < known ? "start commentd (or any commentctl command) on it first, "
					"then migrate"
				      : "use the commentctl of the newer commentd");
	r = store_peek_version(run->dst.db, &v, &known);
	*dst_new = r == STORE_MISSING;
	if (r == STORE_UNAVAILABLE)
		return fail(run, MIGRATE_UNREACHABLE, NULL,
			    "cannot reach the destination database");
	if (r != 0 && r != STORE_MISSING)
		return fail(run, MIGRATE_UNREADABLE, NULL,
			    "cannot read the destination's schema version (not a database?)");
	if (r == 0 && v != 0 && v != known)
		return fail(run, MIGRATE_VERSION, NULL,
			    "the destination is at schema version %d, this commentctl at %d", v,
			    known);
	return 0;
}

static bool same_database(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return !store_is_pg_uri(a) && !store_is_pg_uri(b) && stat(a, &sa) == 0 &&
	       stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_side(struct run *run, struct side *s, const char *which)
{
	int r = store_new(&s->store, s->db, 1);

	if (r != 0)
		return fail(run, s->pg ? MIGRATE_UNREACHABLE : MIGRATE_UNREADABLE, NULL,
			    "cannot open the %s database", which);
	s->c = store_acquire(s->store);
	return 0;
}

static void remove_new_file(const char *path)
{
	char side[PATH_MAX];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static int run_steps(struct run *run)
{
	int r = open_side(run, &run->src, "source");

	if (r == 0)
		r = open_side(run, &run->dst, "destination");
	if (r == 0 && store_begin_read(run->src.c) != 0)
		r = fail(run, MIGRATE_UNREADABLE, NULL, "cannot read the source: %s",
			 store_errmsg(run->src.c));
	if (r == 0)
		r = tables_known(run, &run->src, "source");
	if (r == 0)
		r = tables_known(run, &run->dst, "destination");
	if (r == 0 && store_begin(run->dst.c) != 0)
		r = fail(run, -EIO, NULL, "cannot begin writing the destination: %s",
			 store_errmsg(run->dst.c));
	if (r == 0)
		r = dest_empty(run);
	if (r == 0)
		r = transfer(run);
	if (r == 0 && store_commit(run->dst.c) != 0)
		r = fail(run, -EIO, NULL, "the destination's commit failed: %s",
			 store_errmsg(run->dst.c));
	return r;
}

int migrate_db(const char *from, const char *to, const struct migrate_opts *opts,
	       struct migrate_report *report)
{
	struct run run = {
	    .src = {.db = from, .pg = store_is_pg_uri(from)},
	    .dst = {.db = to, .pg = store_is_pg_uri(to)},
	    .opts = opts,
	    .rep = report,
	};
	bool dst_new = false;
	int r;

	memset(report, 0, sizeof(*report));
	if (same_database(from, to))
		return fail(&run, MIGRATE_SAME, NULL,
			    "the source and the destination are the same");
	r = check_versions(&run, &dst_new);
	if (r == 0)
		r = run_steps(&run);
	if (r != 0 && run.dst.c)
		store_rollback(run.dst.c);
	if (run.src.c)
		store_release(run.src.store, run.src.c);
	if (run.dst.c)
		store_release(run.dst.store, run.dst.c);
	store_free(run.src.store);
	store_free(run.dst.store);
	if (r != 0 && dst_new && !run.dst.pg)
		remove_new_file(to);
	free(run.triggers);
	if (r != 0) {
		report->tables = 0;
		report->rows = 0;
		if (!report->detail[0])
			snprintf(report->detail, sizeof(report->detail),
				 "failed (%d): the log above says why", r);
	}
	return r;
}
