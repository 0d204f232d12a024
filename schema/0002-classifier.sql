-- 0002: spam classifier (lib/classify.c).
-- Tokens are stored only as 64-bit keyed SipHash values of their text (the
-- key is random per database), never as text: no author name, e-mail
-- domain or IP prefix is kept in clear here.

-- One row: message totals per class, a generation tag that takes a new
-- random value on every learn/forget (readers reload their cached model when
-- it differs), and the token hash key.
CREATE TABLE classifier_state (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL,
	nspam INTEGER NOT NULL CHECK (nspam >= 0),
	nham INTEGER NOT NULL CHECK (nham >= 0),
	hash_key BLOB NOT NULL CHECK (length(hash_key) = 16)
) STRICT;

INSERT INTO classifier_state (id, generation, nspam, nham, hash_key)
VALUES (1, 0, 0, 0, randomblob(16));

-- Per token: number of spam and ham messages learned that contain it.
CREATE TABLE classifier_tokens (
	hash INTEGER PRIMARY KEY,             -- keyed hash of the token text
	spam INTEGER NOT NULL CHECK (spam >= 0),
	ham INTEGER NOT NULL CHECK (ham >= 0),
	last_seen INTEGER NOT NULL            -- Unix seconds of the last learn
) STRICT;

-- The ledger: a message is learned at most once.  tokens holds the distinct
-- token hashes that were counted (8 bytes each, little-endian) so that a
-- reversal or forget subtracts exactly what was added.
CREATE TABLE classifier_learned (
	msg_key TEXT PRIMARY KEY CHECK (length(msg_key) BETWEEN 1 AND 200),
	label TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
	tokens BLOB NOT NULL,
	learned INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
