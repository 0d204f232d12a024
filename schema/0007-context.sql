-- 0011: what moderators need to understand a comment (docs/moderation.md):
-- the article each thread belongs to, the moderators who answer as the
-- site's author, and a daily tally of the submission pipeline's decisions
-- for the charts on the moderation page.

-- The article's title and address, as the widget sends them with a post
-- (page_title, page_url; the address only when it is on one of the site's
-- origins).  NULL until a post brings them.
ALTER TABLE threads ADD COLUMN title TEXT;
ALTER TABLE threads ADD COLUMN url TEXT;

-- The name a moderator's replies are published under ("Sjef"), set per
-- token (commentctl token create --display-name); NULL: the token cannot
-- reply.  Public posts under a moderator's display name are held.
ALTER TABLE admin_tokens ADD COLUMN display_name TEXT;

-- The token name of the moderator who wrote a comment (a reply from the
-- moderation page); NULL for everyone else.  Readers see it as the author
-- badge.
ALTER TABLE comments ADD COLUMN moderator TEXT;

-- What the pipeline decided for the comments that arrived each day (UTC
-- day number, the status it gave, how many), kept by a trigger so that it
-- survives spam retention and deletions.  Moderators' replies are not the
-- filter's decisions and are not counted; discarded posts have their own
-- counter (discarded), reversals are in the audit log.
CREATE TABLE decided_daily (
	day INTEGER NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('published', 'pending', 'spam')),
	count INTEGER NOT NULL CHECK (count >= 0),
	PRIMARY KEY (day, status)
) STRICT, WITHOUT ROWID;

INSERT INTO decided_daily (day, status, count)
	SELECT created / 86400, auto_status, count(*) FROM comments
	WHERE auto_status IN ('published', 'pending', 'spam') AND moderator IS NULL
	GROUP BY created / 86400, auto_status;

CREATE TRIGGER comments_insert_daily AFTER INSERT ON comments
WHEN NEW.auto_status IN ('published', 'pending', 'spam') AND NEW.moderator IS NULL BEGIN
	INSERT INTO decided_daily (day, status, count) VALUES (NEW.created / 86400, NEW.auto_status, 1)
	ON CONFLICT (day, status) DO UPDATE SET count = count + 1;
END;
