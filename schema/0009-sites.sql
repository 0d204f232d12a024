-- 0009: sites.  One daemon serves several blogs (docs/configuration.md,
-- "Sites"): a thread is identified by its site and its path, admin tokens
-- may be limited to sites, Akismet keys and audit rows name their site,
-- and discarded comments are counted (and their decoys kept) per site.
-- Everything that existed before belongs to the site "default", the one
-- site of a configuration without [site ID] sections, so an upgrade
-- changes nothing it serves.

-- threads: UNIQUE (site, path) replaces UNIQUE (path), so the table is
-- rebuilt with every column it had (0001, 0004's version, 0007's title and
-- url; the store runs migrations with foreign keys off and checks them
-- before it commits).  The version triggers name the table and would stop
-- the rename; they are dropped and made again exactly as 0004 made them.
DROP TRIGGER comments_insert_version;
DROP TRIGGER comments_update_version;
DROP TRIGGER comments_delete_version;

CREATE TABLE threads_new (
	id INTEGER PRIMARY KEY,
	site TEXT NOT NULL CHECK (length(site) BETWEEN 1 AND 64),
	path TEXT NOT NULL,
	created INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 0,
	title TEXT,
	url TEXT,
	UNIQUE (site, path)
) STRICT;
INSERT INTO threads_new (id, site, path, created, version, title, url)
	SELECT id, 'default', path, created, version, title, url FROM threads;
DROP TABLE threads;
ALTER TABLE threads_new RENAME TO threads;

CREATE TRIGGER comments_insert_version AFTER INSERT ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id = NEW.thread_id;
END;

CREATE TRIGGER comments_update_version AFTER UPDATE ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id IN (OLD.thread_id, NEW.thread_id);
END;

CREATE TRIGGER comments_delete_version AFTER DELETE ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id = OLD.thread_id;
END;

-- Admin tokens: a token with rows here sees only those sites; a token
-- without any sees every site (as every token did before).
CREATE TABLE admin_token_sites (
	token_id INTEGER NOT NULL REFERENCES admin_tokens(id),
	site TEXT NOT NULL CHECK (length(site) BETWEEN 1 AND 64),
	PRIMARY KEY (token_id, site)
) STRICT, WITHOUT ROWID;

-- An Akismet key belongs to one site: its checks decide by that site's
-- rules.
ALTER TABLE akismet_keys ADD COLUMN site TEXT NOT NULL DEFAULT 'default';

-- A discarded post's decoy (0008) belongs to the site it was posted to:
-- its poster's edit token works there only (another site answers 404, as
-- for a stored comment of another site), and its content is kept for that
-- site's edit window.
ALTER TABLE decoys ADD COLUMN site TEXT NOT NULL DEFAULT 'default';

-- The site an audit row concerns; NULL for what concerns no one site (a
-- privacy request run for every site at once).
ALTER TABLE audit ADD COLUMN site TEXT;
UPDATE audit SET site = 'default';
CREATE INDEX audit_site ON audit(site, id);

-- The daily tally of the pipeline's decisions (0007) is kept per site too,
-- by the same trigger, which now finds the comment's site on its thread.
DROP TRIGGER comments_insert_daily;
CREATE TABLE decided_daily_new (
	site TEXT NOT NULL,
	day INTEGER NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('published', 'pending', 'spam')),
	count INTEGER NOT NULL CHECK (count >= 0),
	PRIMARY KEY (site, day, status)
) STRICT, WITHOUT ROWID;
INSERT INTO decided_daily_new (site, day, status, count)
	SELECT 'default', day, status, count FROM decided_daily;
DROP TABLE decided_daily;
ALTER TABLE decided_daily_new RENAME TO decided_daily;

CREATE TRIGGER comments_insert_daily AFTER INSERT ON comments
WHEN NEW.auto_status IN ('published', 'pending', 'spam') AND NEW.moderator IS NULL BEGIN
	INSERT INTO decided_daily (site, day, status, count)
	VALUES ((SELECT site FROM threads WHERE id = NEW.thread_id), NEW.created / 86400,
		NEW.auto_status, 1)
	ON CONFLICT (site, day, status) DO UPDATE SET count = count + 1;
END;

-- Discarded comments are counted per site and day.
CREATE TABLE discarded_new (
	site TEXT NOT NULL,
	day INTEGER NOT NULL, -- Unix day number
	count INTEGER NOT NULL,
	PRIMARY KEY (site, day)
) STRICT, WITHOUT ROWID;
INSERT INTO discarded_new (site, day, count) SELECT 'default', day, count FROM discarded;
DROP TABLE discarded;
ALTER TABLE discarded_new RENAME TO discarded;

-- The spam filter: every site's learning stays in classifier_tokens and
-- classifier_state (the shared model, which every site's moderators teach);
-- each site's own learning is also counted here, so that a site's own
-- decisions are layered over the other sites' (docs/classifier.md, "Sites").
-- The ledger says which site a message was learned for (NULL: none, e.g.
-- commentctl learn without --site), so forgetting it subtracts from there.
CREATE TABLE classifier_site_state (
	site TEXT PRIMARY KEY CHECK (length(site) BETWEEN 1 AND 64),
	nspam INTEGER NOT NULL CHECK (nspam >= 0),
	nham INTEGER NOT NULL CHECK (nham >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE classifier_site_tokens (
	site TEXT NOT NULL,
	hash INTEGER NOT NULL,
	spam INTEGER NOT NULL CHECK (spam >= 0),
	ham INTEGER NOT NULL CHECK (ham >= 0),
	PRIMARY KEY (site, hash)
) STRICT, WITHOUT ROWID;

ALTER TABLE classifier_learned ADD COLUMN site TEXT;

-- Before sites, all learning was the one site's: it becomes default's own,
-- so the default site scores exactly as before.
INSERT INTO classifier_site_tokens (site, hash, spam, ham)
	SELECT 'default', hash, spam, ham FROM classifier_tokens;
INSERT INTO classifier_site_state (site, nspam, nham)
	SELECT 'default', nspam, nham FROM classifier_state WHERE id = 1 AND nspam + nham > 0;
UPDATE classifier_learned SET site = 'default';
