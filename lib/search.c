/* search: the admin search's trigram index, split by id range. */
#include "search.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the MATCH expression ------------------------------------------------ */

/* Bytes of the UTF-8 character that starts with lead (q is valid UTF-8). */
static size_t char_bytes(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if (lead < 0xe0)
		return 2;
	return lead < 0xf0 ? 3 : 4;
}

/* Appends the quoted string of n bytes at s to out (FTS5: a string in
 * double quotes, a quote doubled).  Returns the new length, or 0 when it
 * would not fit. */
static size_t append_quoted(char *out, size_t o, size_t size, const char *s, size_t n)
{
	if (o + 2 * n + 8 >= size)
		return 0;
	if (o)
		o += (size_t)snprintf(out + o, size - o, " AND ");
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			out[o++] = '"';
		out[o++] = s[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

int search_expression(const char *q, char *out, size_t out_size)
{
	size_t len = strlen(q), chars = 0, o = 0, starts[SEARCH_TERMS_MAX + 2], n = 0;

	if (!text_utf8_valid(q, len, &chars) || chars < 3)
		return 1;
	/* Every trigram (overlapping): the more of them a candidate must
	 * hold, the fewer rows the LIKE reads (a rare word of common trigrams:
	 * 8,089 candidates from every third trigram, 247 from all, at a
	 * million comments).  A long string: SEARCH_TERMS_MAX of them, spread
	 * from the first to the last. */
	for (size_t c = 0, at = 0; c + 2 < chars; c++) {
		size_t pick =
		    chars - 2 <= SEARCH_TERMS_MAX ? c : n * (chars - 3) / (SEARCH_TERMS_MAX - 1);
		if (c == pick && n < SEARCH_TERMS_MAX)
			starts[n++] = at;
		at += char_bytes((unsigned char)q[at]);
	}
	for (size_t i = 0; i < n; i++) {
		size_t end = starts[i];
		for (int k = 0; k < 3; k++)
			end += char_bytes((unsigned char)q[end]);
		o = append_quoted(out, o, out_size, q + starts[i], end - starts[i]);
		if (!o)
			return 1;
	}
	return 0;
}

/* ---- statements on a block's table -------------------------------------- */

int search_block_sql(char *out, size_t size, const char *template, int64_t block)
{
	char name[32];
	size_t o = 0, n;

	n = (size_t)snprintf(name, sizeof(name), "search_b%lld", (long long)block);
	for (const char *p = template; *p; p++) {
		const char *s = *p == '@' ? name : p;
		size_t len = *p == '@' ? n : 1;
		if (o + len >= size)
			return 1;
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

/* Prepares template ('@': block's table) into *st (the caller finalizes
 * it).  0 or negative (logged with what). */
static int block_prepare(struct store_conn *c, const char *template, int64_t block,
			 const char *what, struct store_stmt **st)
{
	char sql[SEARCH_SQL_MAX];

	*st = NULL;
	if (search_block_sql(sql, sizeof(sql), template, block) != 0)
		return -EINVAL;
	*st = store_stmt_new(c, sql);
	if (!*st) {
		log_err("search: %s: %s", what, store_errmsg(c));
		return -EIO;
	}
	return 0;
}

/* Runs template (a write; '@': block's table) to its end with ?1.. bound
 * to args.  0, STORE_* or negative (logged with what). */
static int block_run(struct store_conn *c, const char *template, int64_t block, const int64_t *args,
		     int nargs, const char *what)
{
	struct store_stmt *st;
	int r = block_prepare(c, template, block, what, &st);

	if (r != 0)
		return r;
	for (int i = 0; i < nargs && i < store_bind_count(st); i++)
		store_bind_int64(st, i + 1, args[i]);
	r = store_run(c, st, what);
	store_stmt_free(st);
	return r;
}

/* A one-value read of a cached statement with ?1.. bound to args: 1 with
 * a non-NULL value in *out, 0 for no row or NULL, negative on failure. */
static int read_int64(struct store_conn *c, const char *sql, const int64_t *args, int nargs,
		      int64_t *out)
{
	struct store_stmt *st = store_stmt(c, sql);
	int r;

	if (!st)
		return -EIO;
	for (int i = 0; i < nargs; i++)
		store_bind_int64(st, i + 1, args[i]);
	r = store_row(c, st);
	if (r == 1 && store_col_type(st, 0) == STORE_NULL)
		r = 0;
	else if (r == 1)
		*out = store_col_int64(st, 0);
	store_reset(st);
	return r;
}

/* Runs a cached write statement with ?1.. bound to args. */
static int write_int64(struct store_conn *c, const char *sql, const int64_t *args, int nargs)
{
	struct store_stmt *st = store_stmt(c, sql);

	if (!st)
		return -EIO;
	for (int i = 0; i < nargs; i++)
		store_bind_int64(st, i + 1, args[i]);
	return store_run(c, st, "search index");
}

static const char sql_upto[] = "SELECT upto FROM search_state";

int search_indexed_upto(struct store_conn *c, int64_t *upto)
{
	int r = read_int64(c, sql_upto, NULL, 0, upto);

	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

static const char sql_block_below[] = "SELECT max(block) FROM search_blocks WHERE block <= ?1";

int search_block_at_or_below(struct store_conn *c, int64_t block, int64_t *out)
{
	return read_int64(c, sql_block_below, &block, 1, out);
}

/* A block's candidates, newest first (?1 the expression, ?2 upto, ?3
 * before). */
static const char sql_candidates[] = "SELECT rowid FROM @(?1) WHERE rowid <= ?2"
				     " AND (?3 = 0 OR rowid < ?3) ORDER BY rowid DESC";

/* The candidates of one block (search_each). */
static int block_each(struct store_conn *c, int64_t block, const char *match, int64_t upto,
		      int64_t before, int (*fn)(int64_t id, void *arg), void *arg)
{
	struct store_stmt *st;
	int r = block_prepare(c, sql_candidates, block, "search", &st);

	if (r != 0)
		return r;
	store_bind_text(st, 1, match);
	store_bind_int64(st, 2, upto);
	store_bind_int64(st, 3, before);
	while ((r = store_row(c, st)) == 1) {
		r = fn(store_col_int64(st, 0), arg);
		if (r != 0)
			break;
	}
	store_stmt_free(st);
	return r;
}

/* ---- common trigrams (search.h) ----------------------------------------- */

/* How many comments of a block hold ?1, counted up to ?2. */
static const char sql_term_docs[] = "SELECT count(*) FROM (SELECT 1 FROM @(?1) LIMIT ?2)";
/* The newest full block (the one below the newest), else the newest. */
static const char sql_sample[] = "SELECT coalesce((SELECT max(block) FROM search_blocks"
				 " WHERE block < (SELECT max(block) FROM search_blocks)),"
				 " (SELECT max(block) FROM search_blocks))";

/* The bytes of the quoted term at s (search_expression's: a quote, the
 * characters with every quote doubled, a quote); 0 when s holds none. */
static size_t quoted_bytes(const char *s)
{
	size_t n = 1;

	if (s[0] != '"')
		return 0;
	while (s[n] && !(s[n] == '"' && s[n + 1] != '"'))
		n += s[n] == '"' ? 2 : 1;
	return s[n] ? n + 1 : 0;
}

/* How many comments of block sample hold term, counted up to
 * SEARCH_COMMON_DOCS + 1: the count or negative. */
static int64_t term_docs(struct store_conn *c, struct store_stmt *st, const char *term)
{
	int64_t docs = 0;
	int r;

	store_bind_text(st, 1, term);
	store_bind_int64(st, 2, SEARCH_COMMON_DOCS + 1);
	r = store_row(c, st);
	if (r == 1)
		docs = store_col_int64(st, 0);
	store_reset(st);
	return r < 0 ? r : docs;
}

/* The terms of match held by at most SEARCH_COMMON_DOCS comments of block
 * sample, in out; nothing when match is not search_expression's.  0 or
 * negative. */
static int keep_rare(struct store_conn *c, int64_t sample, const char *match, char *out,
		     size_t size)
{
	static const char and[] = " AND ";
	struct store_stmt *st;
	char term[SEARCH_EXPR_MAX];
	size_t o = 0, n;
	int r = block_prepare(c, sql_term_docs, sample, "search", &st);

	for (const char *p = match; r == 0 && (n = quoted_bytes(p)) > 0 && n < sizeof(term);) {
		int64_t docs;

		memcpy(term, p, n);
		term[n] = '\0';
		docs = term_docs(c, st, term);
		if (docs < 0)
			r = (int)docs;
		else if (docs <= SEARCH_COMMON_DOCS && o + n + sizeof(and) < size)
			o += (size_t)snprintf(out + o, size - o, "%s%s", o ? and : "", term);
		p += n;
		if (strncmp(p, and, strlen(and)) != 0)
			break;
		p += strlen(and);
	}
	store_stmt_free(st);
	out[o] = '\0';
	return r;
}

int search_narrow(struct store_conn *c, const char *match, char *out, size_t size)
{
	int64_t sample = 0;
	int r;

	if (size == 0)
		return 1;
	out[0] = '\0';
	r = store_postgresql(c) ? 0 : read_int64(c, sql_sample, NULL, 0, &sample);
	if (r == 1)
		r = keep_rare(c, sample, match, out, size);
	if (r < 0)
		return r;
	if (out[0]) /* a term that narrows */
		return 0;
	if (strlen(match) >= size)
		return 1;
	memcpy(out, match, strlen(match) + 1); /* every term is common */
	return 0;
}

int search_each(struct store_conn *c, const char *match, int64_t upto, int64_t before,
		int (*fn)(int64_t id, void *arg), void *arg)
{
	int64_t top = before && before - 1 < upto ? before - 1 : upto;
	int64_t block = top >> SEARCH_BLOCK_BITS, found;
	char narrow[SEARCH_EXPR_MAX];
	int r = 0;

	/* PostgreSQL: no index (FTS5 is SQLite's); upto stays 0 and the
	 * whole table is the tail, which the caller reads by ILIKE. */
	if (store_postgresql(c) || top <= 0)
		return 0;
	r = search_narrow(c, match, narrow, sizeof(narrow));
	if (r != 0)
		return r < 0 ? r : -EINVAL;
	while (r == 0 && block >= 0) {
		r = search_block_at_or_below(c, block, &found);
		if (r <= 0)
			break;
		r = block_each(c, found, narrow, upto, before, fn, arg);
		block = found - 1;
	}
	return r;
}

/* The tables of a block: a trigram FTS5 index of the text and author of
 * the comments (external content: only the index is stored; detail=none:
 * which trigrams a comment holds, no positions; columnsize=0: no sizes,
 * nothing ranks). */
static const char sql_block_create[] =
    "CREATE VIRTUAL TABLE @ USING fts5(text, author, content='comments', content_rowid='id',"
    " tokenize='trigram', detail='none', columnsize=0)";
static const char sql_block_known[] = "SELECT 1 FROM search_blocks WHERE block = ?1";
static const char sql_block_add[] = "INSERT INTO search_blocks(block) VALUES (?1)";

/* The table of block, created when it has none yet (in the caller's
 * transaction). */
static int block_ensure(struct store_conn *c, int64_t block)
{
	int64_t known = 0;
	int r = read_int64(c, sql_block_known, &block, 1, &known);

	if (r != 0)
		return r < 0 ? r : 0;
	r = block_run(c, sql_block_create, block, NULL, 0, "search block");
	if (r == 0)
		r = write_int64(c, sql_block_add, &block, 1);
	return r;
}

/* ---- keeping the index in step ------------------------------------------- */

static const char sql_pending[] = "SELECT EXISTS (SELECT 1 FROM search_pending)";
/* The blocks with pending changes, one after the other (?2: after this). */
static const char sql_pending_next[] =
    "SELECT min(comment_id >> ?1) FROM search_pending WHERE comment_id >> ?1 > ?2";
/* A text leaves the block: its trigrams stay in the segments until the
 * block is merged. */
static const char sql_mark_dirty[] =
    "UPDATE search_blocks SET dirty = 1 WHERE block = ?1 AND dirty <> 1"
    " AND EXISTS (SELECT 1 FROM search_pending WHERE indexed <> 0 AND comment_id >> ?2 = ?1)";
/* What the index holds of a row is what it held at the last flush: the
 * first pending row of each comment (a later one of the same transaction
 * holds an intermediate value the index never saw). */
static const char sql_unindex[] =
    "INSERT INTO @(@, rowid, text, author)"
    " SELECT 'delete', comment_id, text, author FROM search_pending"
    " WHERE seq IN (SELECT min(seq) FROM search_pending GROUP BY comment_id)"
    " AND indexed AND comment_id >> ?2 = ?1";
static const char sql_reindex[] =
    "INSERT INTO @(rowid, text, author) SELECT id, text, author FROM comments"
    " WHERE id IN (SELECT comment_id FROM search_pending WHERE comment_id >> ?2 = ?1)";
static const char sql_pending_clear[] = "DELETE FROM search_pending";

/* Applies the pending changes of one block. */
static int flush_block(struct store_conn *c, int64_t block)
{
	const int64_t args[] = {block, SEARCH_BLOCK_BITS};
	int r = block_ensure(c, block);

	if (r == 0)
		r = write_int64(c, sql_mark_dirty, args, 2);
	if (r == 0)
		r = block_run(c, sql_unindex, block, args, 2, "search unindex");
	if (r == 0)
		r = block_run(c, sql_reindex, block, args, 2, "search reindex");
	return r;
}

int search_flush(struct store_conn *c)
{
	int64_t pending = 0, block = -1;
	int r;

	if (store_postgresql(c)) /* no index: nothing is pending (upto 0) */
		return 0;
	r = read_int64(c, sql_pending, NULL, 0, &pending);
	if (r <= 0 || !pending)
		return r < 0 ? r : 0;
	while ((r = read_int64(c, sql_pending_next, (const int64_t[]){SEARCH_BLOCK_BITS, block}, 2,
			       &block)) == 1) {
		r = flush_block(c, block);
		if (r != 0)
			return r;
	}
	if (r == 0)
		r = store_exec(c, sql_pending_clear);
	return r;
}

/* ---- indexing the tail --------------------------------------------------- */

static const char sql_tail_first[] = "SELECT min(id) FROM comments WHERE id > ?1";
/* The last id of a batch: at most ?3 comments, all in one block
 * (?2: the first id of the next block). */
static const char sql_batch_last[] =
    "SELECT max(id) FROM (SELECT id FROM comments WHERE id > ?1 AND id < ?2 ORDER BY id"
    " LIMIT ?3) AS batch";
static const char sql_batch_index[] =
    "INSERT INTO @(rowid, text, author) SELECT id, text, author FROM comments"
    " WHERE id > ?1 AND id <= ?2";
static const char sql_upto_set[] = "UPDATE search_state SET upto = ?1";
/* The block the tail has left is full: one merge makes its segments one
 * (see search.h, "Full blocks"); no text left it, so dirty = 2. */
static const char sql_mark_full[] =
    "UPDATE search_blocks SET dirty = 2 WHERE dirty = 0 AND block = ?1";

/* One batch inside the caller's transaction: the comments after upto.
 * 1 indexed (*indexed: how many), 0 none left, negative or STORE_*. */
static int index_batch(struct store_conn *c, unsigned max, unsigned *indexed)
{
	int64_t upto = 0, first = 0, last = 0, block;
	int r = search_indexed_upto(c, &upto);

	if (r == 0)
		r = read_int64(c, sql_tail_first, &upto, 1, &first);
	if (r <= 0)
		return r;
	block = first >> SEARCH_BLOCK_BITS;
	r = read_int64(c, sql_batch_last,
		       (const int64_t[]){upto, (block + 1) << SEARCH_BLOCK_BITS, max}, 3, &last);
	if (r == 1)
		r = upto > 0 && upto >> SEARCH_BLOCK_BITS < block
			? write_int64(c, sql_mark_full,
				      (const int64_t[]){upto >> SEARCH_BLOCK_BITS}, 1)
			: 0;
	if (r == 0)
		r = block_ensure(c, block);
	if (r == 0)
		r = block_run(c, sql_batch_index, block, (const int64_t[]){upto, last}, 2,
			      "search index");
	if (r == 0) {
		*indexed = store_changes(c);
		r = write_int64(c, sql_upto_set, &last, 1);
	}
	return r == 0 ? 1 : r;
}

static const char sql_worth[] = "SELECT (SELECT upto FROM search_state) > 0"
				" OR coalesce((SELECT max(id) FROM comments), 0) >= ?1";

int search_worth_indexing(struct store_conn *c, int64_t from)
{
	int64_t yes = 0;
	int r;

	if (store_postgresql(c)) /* no index on PostgreSQL (search_each) */
		return 0;
	r = read_int64(c, sql_worth, &from, 1, &yes);
	return r < 0 ? r : r == 1 && yes;
}

static const char sql_tail_any[] =
    "SELECT EXISTS (SELECT 1 FROM comments WHERE id > (SELECT upto FROM search_state))";

int search_index_batch(struct store_conn *c, unsigned max, unsigned *indexed)
{
	int64_t any = 0;
	unsigned n = 0;
	int r;

	/* Nothing new (the daemon asks every few seconds): no write lock. */
	*indexed = 0;
	if (store_postgresql(c)) /* no index on PostgreSQL (search_each) */
		return 0;
	r = read_int64(c, sql_tail_any, NULL, 0, &any);
	if (r <= 0 || !any)
		return r < 0 ? r : 0;
	r = store_begin(c);

	if (r == 0)
		r = index_batch(c, max, &n);
	if (r == 1)
		r = store_commit(c);
	store_rollback(c);
	*indexed = r == 0 ? n : 0;
	return r;
}

#define INDEX_PAUSE_FACTOR 2
#define INDEX_PAUSE_MIN_NS 1000000L
#define INDEX_PAUSE_MAX_NS 1000000000L

long search_index_pause_ns(double batch_seconds)
{
	double ns = batch_seconds * 1e9 * INDEX_PAUSE_FACTOR;

	if (!(ns >= INDEX_PAUSE_MIN_NS)) /* also NaN and a clock gone back */
		return INDEX_PAUSE_MIN_NS;
	return ns > INDEX_PAUSE_MAX_NS ? INDEX_PAUSE_MAX_NS : (long)ns;
}

/* ---- forgetting ---------------------------------------------------------- */

static const char sql_dirty_first[] =
    "SELECT block FROM search_blocks WHERE dirty <> 0 ORDER BY block LIMIT 1";
static const char sql_dirty_of[] = "SELECT dirty FROM search_blocks WHERE block = ?1";
/* One step of a block's merge into one segment: FTS5's 'merge' with a
 * negative page count takes every segment of the block and writes about
 * that many pages of the merged one, continuing where the last step
 * stopped; a step with nothing left to merge writes no page. */
static const char sql_merge_step[] = "INSERT INTO @(@, rank) VALUES ('merge', ?1)";
static const char sql_clean[] = "UPDATE search_blocks SET dirty = 0 WHERE block = ?1";

/* Pages of merged segment a step writes: a block's index is about 375 (1.5
 * MiB at a million comments), merged in one transaction in 120-170 ms that
 * every post waited for; a step of 64 holds them for about a sixth.  A
 * full block's merge forgets nothing, and it is the maintenance thread's
 * (an erasure waits for one only when it meets one owed): it goes in steps
 * of a quarter of that, each followed by a pause twice as long as the step
 * (as the indexer's batches, search_index_pause_ns), since at a million
 * comments its six steps of 64 held the posts 30-100 ms each, a block's
 * every 8,192 posts (docs/performance.md). */
#define SEARCH_MERGE_PAGES	64
#define SEARCH_MERGE_PAGES_FULL 16

/* One step of the merge of the first block owed one, in a transaction of
 * its own; the step that finds nothing left marks the block clean.  1 a
 * step done, 2 a block finished, 0 none owed, STORE_* or negative;
 * *text_left: the block was owed its merge because a text left it (read
 * in the step's transaction, so a removal during the merge counts). */
static int purge_step(struct store_conn *c, bool *text_left)
{
	int64_t block = 0, dirty = 0, before, pages;
	bool finished = false;
	int r = store_begin(c);

	if (r == 0)
		r = read_int64(c, sql_dirty_first, NULL, 0, &block);
	if (r == 1)
		r = read_int64(c, sql_dirty_of, &block, 1, &dirty);
	*text_left = dirty == 1;
	if (r == 1) {
		/* FTS5 tells whether a step wrote anything by the rows it
		 * wrote (its own statements'): 2 or more means it did. */
		before = store_total_changes(c);
		pages = *text_left ? -SEARCH_MERGE_PAGES : -SEARCH_MERGE_PAGES_FULL;
		r = block_run(c, sql_merge_step, block, &pages, 1, "search purge");
		finished = r == 0 && store_total_changes(c) - before < 2;
		if (r == 0 && finished)
			r = write_int64(c, sql_clean, &block, 1);
		if (r == 0)
			r = store_commit(c);
		if (r == 0)
			r = finished ? 2 : 1;
	}
	store_rollback(c);
	return r;
}

/* Between two steps of a merge that forgets a text, so that waiting
 * writers get the lock (an erasure answers once its merges are done: a
 * pause as long as a full block's would make it seconds slower). */
#define PURGE_PAUSE_NS (5 * 1000 * 1000)

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

int search_purge(struct store_conn *c, unsigned *merged, unsigned *forgotten)
{
	struct timespec start, t0;
	double longest = 0, step_ms;
	long pause_ns;
	bool text_left = false;
	unsigned forgot = 0;
	int r;

	*merged = 0;
	if (forgotten)
		*forgotten = 0;
	if (store_postgresql(c)) /* no index, no segments to merge */
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = purge_step(c, &text_left);
		if (r != 1 && r != 2)
			break;
		*merged += r == 2;
		forgot += r == 2 && text_left;
		step_ms = ms_since(&t0);
		if (step_ms > longest)
			longest = step_ms;
		/* The writers that waited for this step go before the next
		 * (the writer lock is not fair: without a pause this loop
		 * would take it again at once). */
		pause_ns = text_left ? PURGE_PAUSE_NS : search_index_pause_ns(step_ms / 1e3);
		nanosleep(&(const struct timespec){pause_ns / 1000000000L, pause_ns % 1000000000L},
			  NULL);
	}
	if (forgotten)
		*forgotten = forgot;
	/* What an erasure cost the writers: each step held them once. */
	if (*merged)
		log_info("search: merged %u block(s) in %.0f ms, the longest step %.0f ms", *merged,
			 ms_since(&start), longest);
	return r;
}
