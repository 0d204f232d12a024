-- pg/0004: the tables owed a compaction (docs/privacy.md, "PostgreSQL").
--
-- PostgreSQL keeps the bytes of deleted and updated rows in a table's
-- files until their space is reused; only VACUUM FULL rewrites the files
-- without them, and it locks the table while it runs.  So an erasure
-- notes each table it removed data from here, in its own transaction,
-- and runs a plain VACUUM (which blocks no one); the maintenance task runs
-- VACUUM FULL of the tables named here in the quiet hour (compact_hour)
-- and removes their rows, as does `commentctl compact`.  No SQLite
-- counterpart: secure_delete zeroes removed rows there at once.
CREATE TABLE compact_pending (
	tbl TEXT PRIMARY KEY CHECK (tbl ~ '^[a-z_]{1,63}$'),
	since BIGINT NOT NULL,   -- Unix seconds of the first debt not yet paid
	debts BIGINT NOT NULL DEFAULT 1   -- erasures since; a compaction clears the row only
	                                  -- when no erasure owed it again while it ran
);
