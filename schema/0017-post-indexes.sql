-- 0017: every POST inserts into each index of comments, and at a million
-- comments those inserts are the largest part of a POST's CPU
-- (docs/performance.md, "Why POST stops near 1,400 a second").  Two
-- indexes held every comment for statements that only need a few:
--
-- comments_created (status, created) served only the retention pass's
-- expired-spam statements (status = 'spam' AND created < ?); the other
-- retention statements have their own partial indexes (0012).  It now
-- holds only spam, so a published or pending comment does not pay for it.
--
-- comments_parent (parent_id) held every top-level comment too (parent_id
-- NULL, 60 % of them); every user asks parent_id = ?, which implies NOT
-- NULL, so the index now holds replies only.  That also keeps ANALYZE from
-- offering it for parent_id IS NULL (see sql_next_root in lib/comment.c).
DROP INDEX comments_created;
CREATE INDEX comments_spam_created ON comments(created) WHERE status = 'spam';
DROP INDEX comments_parent;
CREATE INDEX comments_parent ON comments(parent_id) WHERE parent_id IS NOT NULL;
