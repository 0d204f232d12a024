/* search: the admin search's trigram index, split by id range (schema 0016).
 *
 * The admin listing (lib/moderation.c) asks the index for candidate rows
 * newest first and keeps only those whose text or author holds the search
 * string (the LIKE it had before), so a search means what it meant before
 * the index: a case-insensitive (ASCII) substring of the text or the
 * author.  A search string of fewer than three characters has no trigram
 * and is answered by LIKE alone.
 *
 * Blocks: comment ids are cut into blocks of 2^SEARCH_BLOCK_BITS; each
 * block has its own FTS5 table (trigram tokenizer, detail=none, external
 * content), search_b<block>, created when its first comment is indexed.
 * A search walks the blocks newest first and stops at its limit.
 *
 * Following the comments: comments with an id up to search_state.upto are
 * indexed; the newer ones (the tail) are searched by LIKE, and
 * search_index_batch indexes them in short transactions of their own (the
 * daemon's maintenance thread every SEARCH_INDEX_EVERY seconds), so a
 * POST's transaction writes nothing to the index.  A change to an indexed
 * comment (an edit, a deletion, an erasure, retention) is noted by triggers
 * and applied by search_flush in the writer's own transaction.
 *
 * Forgetting: FTS5 on SQLite 3.40 cannot overwrite an entry in place; a
 * removed text leaves the answers at once, but its trigrams stay in its
 * block's segments until a full merge of that block (search_purge), after
 * which secure_delete has zeroed the old pages and a truncating checkpoint
 * empties the WAL.  The blocks owed a merge are a durable list
 * (search_blocks.dirty = 1, set in the transaction that removed the text); an
 * erasure merges them before it reports success, retention after its
 * commit, the daemon's maintenance thread after each indexing round (every
 * SEARCH_INDEX_EVERY seconds) and on every pass (and so at start-up).  A
 * block is merged in steps of about SEARCH_MERGE_PAGES pages, a step a
 * transaction, and is marked clean by the step that finds nothing left:
 * writers wait for one step at a time (the longest 29-65 ms at a million
 * comments, against 120-170 ms for a block in one transaction), never for
 * a whole block or index.
 *
 * Full blocks: indexing in batches leaves a block in several segments
 * (seven at a million comments), and a search reads each term's list in
 * every segment of every block.  So the block the tail has just left is
 * owed a merge too (dirty = 2, set by the batch that indexes the next
 * block's first comment; a text that leaves it later makes it 1) and
 * merged into one segment by the same pass: a rare word's search at a
 * million comments read 123 blocks in 78-80 ms, 33-36 ms merged
 * (docs/performance.md).  So a block's merge (several steps at
 * a million comments) comes once per 2^SEARCH_BLOCK_BITS comments.
 */
#ifndef COMMENTD_SEARCH_H
#define COMMENTD_SEARCH_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A block holds the comments whose ids share id >> SEARCH_BLOCK_BITS:
 * the most one merge rewrites (docs/performance.md: the stall it costs). */
#define SEARCH_BLOCK_BITS 13

/* At most this many comments are indexed in one transaction by the
 * daemon, whose transaction holds the posts: at 1,000 a batch held them
 * up for 50-290 ms at a time on a million comments under a POST load; at
 * 100 for 15 ms (p50; p90 32 ms) at 200 posts a second on a busy machine,
 * which was the posts' p99 (docs/performance.md, "The search index's
 * batches paced"). */
#define SEARCH_BATCH 25

/* The same for `commentctl index`, which indexes everything at once and
 * is faster in fewer, larger transactions. */
#define SEARCH_BATCH_BULK 1000

/* The daemon indexes the tail this often (seconds). */
#define SEARCH_INDEX_EVERY 5

/* At most this many trigrams in a MATCH expression. */
#define SEARCH_TERMS_MAX 32

/* Bytes of a MATCH expression built by search_expression (with its NUL):
 * SEARCH_TERMS_MAX quoted trigrams of at most 4-byte characters, every
 * quote doubled, joined by " AND ". */
#define SEARCH_EXPR_MAX (SEARCH_TERMS_MAX * (2 * 12 + 2 + 5) + 1)

/* Bytes of an SQL statement built by search_block_sql. */
#define SEARCH_SQL_MAX 2048

/* The FTS5 expression that finds candidates for the substring q: its
 * trigrams ("abc" AND "bcd" AND ...), each a quoted string.  0 with the
 * expression in out (out_size >= SEARCH_EXPR_MAX); 1 when q has fewer than
 * three characters or is not UTF-8 (search with LIKE alone). */
int search_expression(const char *q, char *out, size_t out_size);

/* Writes template into out with every '@' replaced by the name of block's
 * table (made of the number alone, never of input).  0, or 1 when it does
 * not fit. */
int search_block_sql(char *out, size_t size, const char *template, int64_t block);

/* The highest comment id in the index (the tail is above it).  0 or
 * negative (logged). */
int search_indexed_upto(struct store_conn *c, int64_t *upto);

/* The newest block with a table at or below block: 1 with it in *out, 0
 * when there is none, negative on failure. */
int search_block_at_or_below(struct store_conn *c, int64_t block, int64_t *out);

/* A trigram held by more of a block's comments than this narrows a search
 * by less than its list of comments costs to read (search_narrow). */
#define SEARCH_COMMON_DOCS ((1 << SEARCH_BLOCK_BITS) / 4)

/* The terms of match (search_expression) worth asking the index for, in
 * out (size >= SEARCH_EXPR_MAX): those held by at most SEARCH_COMMON_DOCS
 * comments of the newest full block, or every term when all of them are
 * common (a common string: the newest blocks give enough candidates).  The
 * candidates stay a superset of the comments that hold the string; a
 * trigram in most comments (Dutch "aar", in 60 % of a million) only made
 * a rare word's search read its long lists in every block
 * (docs/performance.md).  0, 1 when match does not fit, or negative. */
int search_narrow(struct store_conn *c, const char *match, char *out, size_t size);

/* Calls fn(id, arg) for every indexed comment whose text or author holds
 * every trigram of match (search_expression) that search_narrow keeps,
 * newest first: ids up to upto (search_indexed_upto) and below before (0:
 * no bound), block after block, until fn returns non-zero.  The candidates
 * are a superset of the comments that hold the string: fn checks each.  0
 * when the candidates ran out, fn's positive value when it stopped the
 * walk, negative on failure (fn's or the index's). */
int search_each(struct store_conn *c, const char *match, int64_t upto, int64_t before,
		int (*fn)(int64_t id, void *arg), void *arg);

/* Applies what search_pending noted to the index and empties it.  Runs
 * inside the caller's write transaction (store_commit calls it before
 * COMMIT).  0 or negative (logged). */
int search_flush(struct store_conn *c);

/* Whether to index at all: 1 when something is indexed already or the
 * comments' ids reach from, 0 while the whole table is the tail (a LIKE
 * over a small blog's comments takes milliseconds, and an index not kept
 * costs a small daemon no memory), negative on failure. */
int search_worth_indexing(struct store_conn *c, int64_t from);

/* Indexes up to max comments of the tail (never across a block's
 * end) in a write transaction of its own (call outside one); *indexed gets
 * how many (0: the index was up to date).  0, or STORE_* or negative on
 * failure. */
int search_index_batch(struct store_conn *c, unsigned max, unsigned *indexed);

/* How long the daemon pauses between two batches of the tail, in
 * nanoseconds, after a batch that took batch_seconds: twice as long, at
 * least 1 ms and at most 1 s.  A batch holds every post; the posts that
 * queued behind it are still to be scored on a writer thread before they
 * reach the writer lock, and with a pause of a millisecond the next batch
 * took the lock first: the tail's batches ran nearly back to back, and the
 * posts arriving meanwhile waited through several (docs/performance.md,
 * "The search index's batches paced").  So the indexer has at most a third
 * of the time: about 2,000 comments a second with batches of 4 ms, 700 with
 * batches of 12 ms; a longer burst of posts leaves a longer tail (searched
 * by LIKE) until it catches up.  The daemon also starts each batch when no
 * write is queued or running, or after 100 ms (daemon/maintenance.c): under
 * posts that never let up, about 200 comments a second. */
long search_index_pause_ns(double batch_seconds);

/* Merges every block owed a merge, one block per write transaction (call
 * outside one), so that no removed text
 * stays in the segments.  *merged gets the number of blocks merged (0:
 * none was owed); *forgotten (may be NULL) those of them a text had left.
 * When it is not 0 the caller truncates the WAL
 * (store_checkpoint_truncate), which still holds the pages as they were; a
 * full block's merge removes no text and needs no truncation (holding the
 * writers for it cost every post 24-37 ms).  0, or STORE_* or negative on
 * failure (the blocks not merged stay owed). */
int search_purge(struct store_conn *c, unsigned *merged, unsigned *forgotten);

#endif
