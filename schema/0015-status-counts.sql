-- 0015: how many comments each site has in each status, kept by triggers so
-- that the moderation page's figures (GET /api/v1/admin/stats, fetched after
-- every moderator action) read a few rows instead of counting every comment:
-- at a million comments that count took 0.9-4 s (docs/performance.md).
-- A thread's site never changes and threads are never deleted, so a
-- comment's site is its thread's.

CREATE TABLE status_counts (
	site TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('published', 'pending', 'spam', 'deleted')),
	n INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (site, status)
) STRICT, WITHOUT ROWID;

INSERT INTO status_counts (site, status, n)
	SELECT t.site, c.status, count(*) FROM threads t CROSS JOIN comments c ON c.thread_id = t.id
	GROUP BY t.site, c.status;

CREATE TRIGGER comments_insert_status_count AFTER INSERT ON comments BEGIN
	INSERT INTO status_counts (site, status, n)
	VALUES ((SELECT site FROM threads WHERE id = NEW.thread_id), NEW.status, 1)
	ON CONFLICT (site, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER comments_delete_status_count AFTER DELETE ON comments BEGIN
	UPDATE status_counts SET n = n - 1
	WHERE site = (SELECT site FROM threads WHERE id = OLD.thread_id) AND status = OLD.status;
END;

CREATE TRIGGER comments_update_status_count AFTER UPDATE OF status, thread_id ON comments
WHEN OLD.status IS NOT NEW.status OR OLD.thread_id IS NOT NEW.thread_id BEGIN
	UPDATE status_counts SET n = n - 1
	WHERE site = (SELECT site FROM threads WHERE id = OLD.thread_id) AND status = OLD.status;
	INSERT INTO status_counts (site, status, n)
	VALUES ((SELECT site FROM threads WHERE id = NEW.thread_id), NEW.status, 1)
	ON CONFLICT (site, status) DO UPDATE SET n = n + 1;
END;
