-- 0018: what the daemons sharing one database must agree on (lib/nodes.h).
-- A row per name: 'key_check', a keyed fingerprint of the secret key the
-- database was first used with (never the key: a node started with another
-- key refuses to start), and on PostgreSQL 'etag', the key of the thread
-- answers' ETags, so that every node computes the same ETag for the same
-- thread version (on SQLite the ETag key stays random per start, in memory).
CREATE TABLE node_keys (
	name TEXT PRIMARY KEY,
	value BLOB NOT NULL,
	created INTEGER NOT NULL
) STRICT;
