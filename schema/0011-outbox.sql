-- 0011: notifications (lib/outbox.c, lib/subscribe.c, lib/link.c).
--
-- Events and subscriptions belong to a site (0009): the site whose settings
-- deliver them (its moderators, its webhook, its public_url and language).
-- An event is written in the same transaction as the comment or the
-- moderator's action that causes it; the daemon's worker later turns it into
-- deliveries (one per recipient, never two: the primary key) and sends them
-- with retries.  No e-mail address is kept in clear here: a delivery names a
-- recipient kind ('moderators', whose addresses are in the configuration,
-- 'webhook', or a subscription by id), and a subscription keeps its address
-- only encrypted (secretbox with a key derived from the master key).

CREATE TABLE outbox (
	id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the event id, never reused
	site TEXT NOT NULL CHECK (length(site) BETWEEN 1 AND 64),  -- the comment's site
	type TEXT NOT NULL
		CHECK (type IN ('held', 'published', 'reply', 'approved', 'subscribe')),
	comment_id INTEGER NOT NULL,           -- no foreign key: the comment may go
	subscription_id INTEGER,               -- 'subscribe': whom to ask
	created INTEGER NOT NULL,
	expanded INTEGER NOT NULL DEFAULT 0 CHECK (expanded IN (0, 1))
) STRICT;
CREATE INDEX outbox_new ON outbox(expanded) WHERE expanded = 0;

CREATE TABLE outbox_deliveries (
	event_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
	recipient TEXT NOT NULL CHECK (recipient IN ('moderators', 'webhook')
		OR recipient GLOB 'subscription:[1-9]*'),
	state TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at INTEGER NOT NULL,              -- Unix seconds of the next try
	done_at INTEGER,
	last_error TEXT,                       -- the server's answer, never an address
	PRIMARY KEY (event_id, recipient)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox_deliveries(state, next_at);

-- A reader's request to hear of replies to their comment.  confirmed stays
-- NULL until the link in the confirmation mail was used (double opt-in).
CREATE TABLE subscriptions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	site TEXT NOT NULL CHECK (length(site) BETWEEN 1 AND 64),  -- the comment's site
	comment_id INTEGER NOT NULL,
	email_hash BLOB NOT NULL CHECK (length(email_hash) = 32),  -- as comments.email_hash
	address BLOB NOT NULL,                 -- nonce || secretbox(address)
	created INTEGER NOT NULL,
	confirmed INTEGER
) STRICT;
CREATE INDEX subscriptions_comment ON subscriptions(comment_id);
CREATE INDEX subscriptions_email ON subscriptions(email_hash, site);

-- Moderators' mail links that were used (they work once), until they expire.
CREATE TABLE link_uses (
	hash BLOB PRIMARY KEY CHECK (length(hash) = 32),
	expires INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
