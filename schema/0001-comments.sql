-- 0001: threads and comments.
-- Times are Unix seconds (UTC).  E-mail addresses are never stored: only a
-- keyed BLAKE2b hash (email_hash) and a separately keyed avatar seed.

CREATE TABLE threads (
	id INTEGER PRIMARY KEY,
	path TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: ids are never reused, so "comment:<id>" keys in the
-- classifier's ledger and the audit log always mean one comment.
CREATE TABLE comments (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	thread_id INTEGER NOT NULL REFERENCES threads(id),
	parent_id INTEGER REFERENCES comments(id),
	root_id INTEGER NOT NULL DEFAULT 0,   -- top-level ancestor (itself at depth 1)
	depth INTEGER NOT NULL CHECK (depth >= 1),
	created INTEGER NOT NULL,
	modified INTEGER,
	status TEXT NOT NULL CHECK (status IN ('published', 'pending', 'spam', 'deleted')),
	author TEXT NOT NULL,
	url TEXT,
	text TEXT NOT NULL,
	html TEXT NOT NULL,
	email_hash BLOB,
	avatar TEXT NOT NULL,
	ip TEXT,                              -- for rate limits and spam features only
	user_agent TEXT,
	referrer TEXT,
	score REAL,
	verdict TEXT,
	tokens TEXT,                          -- JSON array: the tokens that decided
	edit_hash BLOB
) STRICT;

CREATE INDEX comments_thread ON comments(thread_id, status, root_id, id);
CREATE INDEX comments_parent ON comments(parent_id);
CREATE INDEX comments_status ON comments(status, id);
CREATE INDEX comments_email ON comments(email_hash);
