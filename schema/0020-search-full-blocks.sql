-- 0020: the admin search's full blocks are merged into one segment each.
-- Indexing in batches leaves a block in several segments, and a search
-- reads every segment of every block: at a million comments (123 blocks,
-- seven segments each) a rare word's search took 78-80 ms of reads, 33-36
-- ms with each block merged (docs/performance.md).  Since this version the
-- indexer marks the block it leaves (lib/search.h, "Full blocks"); here the
-- blocks filled before it are marked, all but the newest, which is still
-- filling.  dirty = 1 now means "owed a merge": a text left the block, or
-- the block is full.  The maintenance thread merges them after start-up,
-- in steps of a transaction each (lib/search.h).
UPDATE search_blocks SET dirty = 1
WHERE block < (SELECT max(block) FROM search_blocks);
