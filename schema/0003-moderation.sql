-- 0003: moderation: admin tokens, the audit log, what the filter decided,
-- the features a comment was scored on, and the discard counter.

-- The status the publish decision gave the comment (to count reversals) and
-- the classifier features (keyed token hashes, no text) it was scored on, so
-- a moderator's decision teaches exactly what was seen.
ALTER TABLE comments ADD COLUMN auto_status TEXT;
ALTER TABLE comments ADD COLUMN features BLOB;

-- Admin tokens: only a keyed hash of each token is stored.
CREATE TABLE admin_tokens (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	hash BLOB NOT NULL UNIQUE,
	created INTEGER NOT NULL,
	revoked INTEGER,
	last_used INTEGER
) STRICT;

-- Every moderator action: who, what, which comment, when.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	comment_id INTEGER,
	detail TEXT,
	reversal INTEGER NOT NULL DEFAULT 0 CHECK (reversal IN (0, 1))
) STRICT;
CREATE INDEX audit_at ON audit(at);

-- Blatant spam is counted, not stored.
CREATE TABLE discarded (
	day INTEGER PRIMARY KEY, -- Unix day number
	count INTEGER NOT NULL
) STRICT;

CREATE INDEX comments_created ON comments(status, created);
