-- pg/0005: each thread's number of published comments (SQLite's 0019), kept
-- by the function that already bumps its version, so counts and a thread
-- page's total read one row per thread instead of counting its comments.

ALTER TABLE threads ADD COLUMN published BIGINT NOT NULL DEFAULT 0;

UPDATE threads SET published = (SELECT count(*) FROM comments c
				WHERE c.thread_id = threads.id AND c.status = 'published');

CREATE OR REPLACE FUNCTION comments_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE threads SET version = version + 1,
			published = published + (NEW.status = 'published')::int
		WHERE id = NEW.thread_id;
	ELSIF TG_OP = 'UPDATE' THEN
		UPDATE threads SET version = version + 1,
			published = published
				- (id = OLD.thread_id AND OLD.status = 'published')::int
				+ (id = NEW.thread_id AND NEW.status = 'published')::int
		WHERE id IN (OLD.thread_id, NEW.thread_id);
	ELSE
		UPDATE threads SET version = version + 1,
			published = published - (OLD.status = 'published')::int
		WHERE id = OLD.thread_id;
	END IF;
	RETURN NULL;
END $$;
