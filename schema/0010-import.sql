-- 0010: comments brought in by `commentctl import`, by their id in the
-- source they came from and the site they went to, so that importing the
-- same file again into the same site adds nothing, while the same file
-- imported into two sites makes two copies that stay apart (lib/import.c).
-- source is "<format>:<the file's own name for its site>" (e.g.
-- "wxr:https://blog.example.nl") or what --source says; site is the id of
-- the site (0009) the comment was imported into; run tells one import from
-- another (an import that fails half-way removes what its run wrote).  A
-- comment removed later (retention, moderation) keeps its row here with
-- comment_id NULL: it is not imported again.
CREATE TABLE import_ids (
	source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 300),
	site TEXT NOT NULL CHECK (length(site) BETWEEN 1 AND 64),
	original TEXT NOT NULL CHECK (length(original) BETWEEN 1 AND 300),
	comment_id INTEGER REFERENCES comments(id) ON DELETE SET NULL,
	run INTEGER NOT NULL,
	imported INTEGER NOT NULL,
	PRIMARY KEY (source, site, original)
) STRICT, WITHOUT ROWID;

CREATE INDEX import_ids_comment ON import_ids(comment_id);
CREATE INDEX import_ids_run ON import_ids(run);
