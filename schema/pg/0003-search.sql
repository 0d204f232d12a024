-- pg/0003: the admin search's index on PostgreSQL (SQLite's is FTS5,
-- schema/0016; docs/postgresql-port.md, "The admin search").
--
-- pg_trgm is a trusted extension (PostgreSQL 13 and later): the
-- database's owner creates it without being a superuser (test-store-pg).
-- The GIN indexes hold the trigrams of the text and the author and serve
-- lib/moderation.c's `COLLATE "C" ILIKE` (SQLite's LIKE: ASCII case
-- ignored, every other character as it is).  They are built on the same
-- collation as that expression, or the planner could not use them for it.
-- Their answers are candidates (pg_trgm's index is lossy): every row is
-- checked again by the ILIKE itself, so they change the speed of a search,
-- never its answers.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX comments_text_trgm ON comments USING gin (text COLLATE "C" gin_trgm_ops);
CREATE INDEX comments_author_trgm ON comments USING gin (author COLLATE "C" gin_trgm_ops);
