-- 0012: the retention pass (lib/moderation.c, hourly and at start) clears
-- client data older than its window.  Its statements found their rows on
-- comments_created, which holds every comment: at a million comments each
-- statement read the whole table (about 10 s, the writer lock held, every
-- hour).  These partial indexes hold only the comments that still carry
-- such data (the last weeks'), so a pass reads what it clears.  Their
-- WHERE clauses are the statements' own terms, as SQLite needs to use them.
CREATE INDEX comments_client_data ON comments(created)
	WHERE (ip IS NOT NULL OR ip_sealed IS NOT NULL OR user_agent IS NOT NULL
	       OR referrer IS NOT NULL);
CREATE INDEX comments_domain_sealed ON comments(created)
	WHERE email_domain_sealed IS NOT NULL;
