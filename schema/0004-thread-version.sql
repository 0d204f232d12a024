-- 0004: a version per thread, bumped by every change to its comments (by the
-- daemon, commentctl or anything else), so cached thread answers can be
-- checked with one indexed read.

ALTER TABLE threads ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER comments_insert_version AFTER INSERT ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id = NEW.thread_id;
END;

CREATE TRIGGER comments_update_version AFTER UPDATE ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id IN (OLD.thread_id, NEW.thread_id);
END;

CREATE TRIGGER comments_delete_version AFTER DELETE ON comments BEGIN
	UPDATE threads SET version = version + 1 WHERE id = OLD.thread_id;
END;
