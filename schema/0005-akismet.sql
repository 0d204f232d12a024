-- 0005: site keys for the Akismet-compatible endpoint (lib/akismet.c).
-- Only a keyed hash of each key is stored; the key is shown once.  The
-- counters are for one month (month = YYYYMM, UTC) and restart with the
-- first call of the next: /1.2/usage-limit and /1.2/key-sites read them.
CREATE TABLE akismet_keys (
	id INTEGER PRIMARY KEY,
	blog TEXT NOT NULL CHECK (length(blog) BETWEEN 1 AND 2048),
	hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
	created INTEGER NOT NULL,
	revoked INTEGER,
	last_used INTEGER,
	month INTEGER NOT NULL DEFAULT 0,
	calls INTEGER NOT NULL DEFAULT 0,           -- comment-check, submit-spam, submit-ham
	spam INTEGER NOT NULL DEFAULT 0,            -- comment-check answered true
	ham INTEGER NOT NULL DEFAULT 0,             -- comment-check answered false
	missed_spam INTEGER NOT NULL DEFAULT 0,     -- submit-spam
	false_positives INTEGER NOT NULL DEFAULT 0  -- submit-ham
) STRICT;
