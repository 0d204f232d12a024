-- 0016: the admin search's index, split by id range (lib/search.h).
--
-- Comment ids are cut into blocks of 2^SEARCH_BLOCK_BITS (lib/search.h);
-- each block that holds an indexed comment has its own FTS5 table,
-- search_b<block> (a trigram index, detail=none, external content read
-- from comments: the text is never copied), created by lib/search.c when
-- the block's first comment is indexed; its name is made from the integer
-- block number alone.  Splitting is what makes forgetting cheap: FTS5 on
-- SQLite 3.40 has no secure-delete, a removed text's trigrams stay in its
-- table's segments until a full merge ('optimize'), and a merge rewrites
-- one block, not the whole index.
--
-- The index follows the comments behind them: search_state.upto is the
-- highest id indexed; the newer comments (a few seconds' worth) are found
-- by LIKE, and the maintenance thread indexes them in short batches of
-- their own (no index write in a POST's transaction).
--
-- The daemon runs with trusted_schema=off, under which a trigger may not
-- write to FTS5.  So the triggers below only note a change to an indexed
-- comment in search_pending (the old text and author: what FTS5's 'delete'
-- needs), and store_commit applies them before COMMIT, in the same
-- transaction (search_flush): the pending rows never reach the disk.
CREATE TABLE search_state (
	upto INTEGER NOT NULL   -- comments with id <= upto are in the index
) STRICT;
INSERT INTO search_state(upto) VALUES (0);

-- The blocks that have a table; dirty = 1: a text left the block since
-- its last full merge, so its trigrams may still be in the segments.  The
-- durable list of merges still owed: an erasure merges before it reports
-- success, the maintenance task (and so every start) merges what is left.
CREATE TABLE search_blocks (
	block INTEGER PRIMARY KEY,
	dirty INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE search_pending (
	seq INTEGER PRIMARY KEY,
	comment_id INTEGER NOT NULL,
	indexed INTEGER NOT NULL,   -- 1: text and author below are in the index
	text TEXT,
	author TEXT
) STRICT;

-- A new comment is indexed by the next batch (its id is above upto); one
-- with an id at or below upto (an import with its own ids) is noted here.
CREATE TRIGGER search_insert AFTER INSERT ON comments
WHEN NEW.id <= (SELECT upto FROM search_state) BEGIN
	INSERT INTO search_pending(comment_id, indexed) VALUES (NEW.id, 0);
END;

CREATE TRIGGER search_update AFTER UPDATE OF text, author ON comments
WHEN (OLD.text IS NOT NEW.text OR OLD.author IS NOT NEW.author)
 AND OLD.id <= (SELECT upto FROM search_state) BEGIN
	INSERT INTO search_pending(comment_id, indexed, text, author)
	VALUES (OLD.id, 1, OLD.text, OLD.author);
END;

CREATE TRIGGER search_delete AFTER DELETE ON comments
WHEN OLD.id <= (SELECT upto FROM search_state) BEGIN
	INSERT INTO search_pending(comment_id, indexed, text, author)
	VALUES (OLD.id, 1, OLD.text, OLD.author);
END;
