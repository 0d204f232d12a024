-- PostgreSQL's counterpart of schema/0018-node-keys.sql: what the nodes
-- sharing this database must agree on (lib/nodes.h): 'key_check', a keyed
-- fingerprint of the secret key (never the key), and 'etag', the thread
-- answers' ETag key, created by the first node and read by the others.
CREATE TABLE node_keys (
	name TEXT PRIMARY KEY,
	value BYTEA NOT NULL,
	created BIGINT NOT NULL
);
