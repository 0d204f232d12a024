-- 0019: each thread's number of published comments, kept by the triggers
-- that already bump its version, so that the counts a blog's index page asks
-- for (POST /api/v1/counts) and a thread page's total read one row per
-- thread instead of counting the thread's comments: at a million comments a
-- popular thread has thousands, and counting them was a fifth of the
-- daemon's CPU under a mixed load (docs/performance.md).  The version's
-- triggers are replaced, not joined by new ones, so a write still updates
-- the thread's row once.

ALTER TABLE threads ADD COLUMN published INTEGER NOT NULL DEFAULT 0;

UPDATE threads SET published = (SELECT count(*) FROM comments c
				WHERE c.thread_id = threads.id AND c.status = 'published');

DROP TRIGGER comments_insert_version;
DROP TRIGGER comments_update_version;
DROP TRIGGER comments_delete_version;

CREATE TRIGGER comments_insert_version AFTER INSERT ON comments BEGIN
	UPDATE threads SET version = version + 1,
		published = published + (NEW.status = 'published')
	WHERE id = NEW.thread_id;
END;

-- Every update bumps the version (an edit, a like); the count moves only
-- when the status or the thread changes, and one statement covers both
-- threads (the same one, usually).
CREATE TRIGGER comments_update_version AFTER UPDATE ON comments BEGIN
	UPDATE threads SET version = version + 1,
		published = published
			- (id = OLD.thread_id AND OLD.status = 'published')
			+ (id = NEW.thread_id AND NEW.status = 'published')
	WHERE id IN (OLD.thread_id, NEW.thread_id);
END;

CREATE TRIGGER comments_delete_version AFTER DELETE ON comments BEGIN
	UPDATE threads SET version = version + 1,
		published = published - (OLD.status = 'published')
	WHERE id = OLD.thread_id;
END;
