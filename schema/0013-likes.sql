-- 0013: likes.  One like per client and comment: voter is a keyed hash
-- (BLAKE2b, lib/likes.h) of the client's address and the comment's id, so
-- it holds no address and cannot be joined across comments.  The count is
-- kept in comments.likes by triggers (a thread read does not count rows,
-- and sorting by likes can use an index); the update bumps the thread's
-- version, so cached thread answers are rebuilt.

CREATE TABLE likes (
	comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
	voter BLOB NOT NULL,
	created INTEGER NOT NULL,
	PRIMARY KEY (comment_id, voter)
) STRICT, WITHOUT ROWID;

ALTER TABLE comments ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER likes_insert_count AFTER INSERT ON likes BEGIN
	UPDATE comments SET likes = likes + 1 WHERE id = NEW.comment_id;
END;

CREATE TRIGGER likes_delete_count AFTER DELETE ON likes BEGIN
	UPDATE comments SET likes = likes - 1 WHERE id = OLD.comment_id AND likes > 0;
END;

-- A tombstone keeps nothing of the comment, its likes included.
CREATE TRIGGER comments_tombstone_likes AFTER UPDATE OF status ON comments
WHEN NEW.status = 'deleted' BEGIN
	DELETE FROM likes WHERE comment_id = NEW.id;
	UPDATE comments SET likes = 0 WHERE id = NEW.id;
END;

-- sort=top: top-level comments by likes, most first, then by id (lib/comment.c
-- comment_thread_page).
CREATE INDEX comments_top_likes ON comments(thread_id, likes DESC, id) WHERE parent_id IS NULL;
