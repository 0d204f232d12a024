-- 0010: hardening (issue #13): private at rest, decoys for discarded posts,
-- indexes for paged threads.

-- The client address is kept only sealed (XSalsa20-Poly1305 under a key
-- outside the database, lib/keys.h keys_seal) and cleared after
-- ip_retention_days; the clear-text column is no longer written.  Addresses
-- stored in clear by earlier versions are dropped here rather than kept.
ALTER TABLE comments ADD COLUMN ip_sealed BLOB;
UPDATE comments SET ip = NULL WHERE ip IS NOT NULL;

-- The e-mail domain, sealed, for the edit window only: an author's edit is
-- decided again exactly as a new comment (blocklisted domains, the
-- classifier's e-mail token), and the address itself is never kept.
ALTER TABLE comments ADD COLUMN email_domain_sealed BLOB;

-- A Referer is reduced to its scheme and host (lib/host.h); whole ones
-- stored by earlier versions go.
UPDATE comments SET referrer = NULL WHERE referrer IS NOT NULL;

-- The deciding tokens shown to moderators name no e-mail domain or network
-- prefix: new ones carry keyed pseudonyms, old ones lose the value.
UPDATE comments SET tokens = (
	SELECT json_group_array(
		CASE
		WHEN json_extract(j.value, '$.token') LIKE 'm:ip:%'
		THEN json_set(j.value, '$.token', 'm:ip:(removed)')
		WHEN json_extract(j.value, '$.token') LIKE 'm:email:%'
		     AND json_extract(j.value, '$.token') NOT IN ('m:email:none', 'm:email:invalid')
		THEN json_set(j.value, '$.token', 'm:email:(removed)')
		ELSE json(j.value) END)
	FROM json_each(comments.tokens) j)
WHERE tokens IS NOT NULL AND json_valid(tokens)
	AND (tokens LIKE '%"m:ip:%' OR tokens LIKE '%"m:email:%');

-- A discarded post is answered like a held one, with a real id and an edit
-- token; its decoy record lets the token's PATCH and DELETE be answered
-- like a held comment's.  The content (sealed) is kept for the edit window
-- only; the record (id, token hash, time) as long as spam is kept.
CREATE TABLE decoys (
	id INTEGER PRIMARY KEY,               -- taken from the comments' sequence
	edit_hash BLOB NOT NULL,
	created INTEGER NOT NULL,
	sealed BLOB                           -- {thread, parent, author, url, text, avatar}
) STRICT;

-- Paged threads (lib/comment.c comment_thread_page): top-level comments in
-- order, then each one's rows.
CREATE INDEX comments_top ON comments(thread_id, id) WHERE parent_id IS NULL;
CREATE INDEX comments_root ON comments(root_id, id);
