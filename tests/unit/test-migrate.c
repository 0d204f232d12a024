/* Unit tests for lib/migrate: a SQLite database with a row in every data
 * table copied to a second database (PostgreSQL when COMMENTD_TEST_PG is
 * set: tests/pgserver.py run --, else SQLite) and back to a new SQLite
 * file that must equal the source; and every refusal leaves the
 * destination without data. */
#include "fixture.h"
#include "tap.h"

#include "migrate.h"
#include "search.h"
#include "store.h"

#include <sys/stat.h>
#include <unistd.h>

static struct fixture fx;

/* A row (or more) in each of the 22 data tables, through the schema's
 * own triggers (likes counted, versions and tallies kept), with NULLs,
 * zero-length and binary blobs, extreme integers, doubles and UTF-8. */
static const char populate_sql[] =
    "INSERT INTO threads (id, site, path, created, title, url) VALUES"
    " (1, 'default', '/a', 1700000000, 'Tí­tulo ☕', 'https://e.example/a'),"
    " (2, 'blog', '/b', 1700000001, NULL, NULL);"
    "INSERT INTO comments (id, thread_id, parent_id, root_id, depth, created, modified, status,"
    " author, url, text, html, email_hash, avatar, ip, user_agent, referrer, score, verdict,"
    " tokens, edit_hash, auto_status, features, reasons, moderator, ip_sealed,"
    " email_domain_sealed) VALUES"
    " (1, 1, NULL, 1, 1, 1700000100, NULL, 'published', 'Zoë', 'https://z.example', 'hello',"
    "  '<p>hello</p>', randomblob(32), 'a1', NULL, 'UA', 'r.example', 0.125, 'ham', '[\"x\"]',"
    "  randomblob(32), 'published', X'', '[]', NULL, randomblob(40), NULL),"
    " (2, 1, 1, 1, 2, 1700000200, 1700000300, 'pending', 'Bob', NULL, 'reply ✓', '<p>r</p>',"
    "  NULL, 'b2', '192.0.2.1', NULL, NULL, -0.5, 'unsure', NULL, NULL, 'pending', X'00ff',"
    "  NULL, NULL, NULL, randomblob(24)),"
    " (3, 2, NULL, 3, 1, 1700000400, NULL, 'spam', 'Spam', NULL, 'buy', '<p>buy</p>', NULL,"
    "  'c3', NULL, NULL, NULL, 0.999999999999, 'spam', NULL, NULL, 'spam', NULL, NULL, NULL,"
    "  NULL, NULL),"
    " (4, 2, NULL, 4, 1, 1700000500, NULL, 'published', 'Mod', NULL, 'ok', '<p>ok</p>', NULL,"
    "  'd4', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'alice', NULL, NULL),"
    " (5, 2, NULL, 5, 1, 1700000600, NULL, 'published', 'Gone', NULL, 'x', '<p>x</p>', NULL,"
    "  'e5', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'published', NULL, NULL, NULL, NULL,"
    "  NULL);"
    "DELETE FROM comments WHERE id = 5;"
    /* More rows than one INSERT of the copy takes, in a wide table and
     * a narrow one. */
    "WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 109)"
    " INSERT INTO comments (id, thread_id, root_id, depth, created, status, author, text,"
    " html, avatar, score) SELECT i, 1 + i % 2, i, 1, 1700001000 + i, 'published',"
    " 'Reader ' || i, 'text ' || i, '<p>text ' || i || '</p>', 'av' || i, i / 128.0 FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)"
    " INSERT INTO classifier_tokens SELECT i * 7919, i % 7, i % 5, 1700000000 + i FROM n;"
    "UPDATE comments SET status = 'deleted' WHERE id = 3;"
    "UPDATE classifier_state SET generation = 7, nspam = 3, nham = 4;"
    "INSERT INTO classifier_tokens VALUES (-9223372036854775807, 2, 1, 1700000000),"
    " (9223372036854775807, 0, 5, 1);"
    "INSERT INTO classifier_learned VALUES ('comment:1', 'ham', X'0102', 1700000000, 'default'),"
    " ('comment:3', 'spam', X'', 1700000001, NULL);"
    "INSERT INTO classifier_site_state VALUES ('blog', 1, 2);"
    "INSERT INTO classifier_site_tokens VALUES ('blog', 42, 1, 0);"
    "INSERT INTO admin_tokens (id, name, hash, created, revoked, last_used, display_name)"
    " VALUES (1, 'alice', randomblob(32), 1700000000, NULL, 1700000009, 'Alice'),"
    " (2, 'old', randomblob(32), 1600000000, 1650000000, NULL, NULL);"
    "INSERT INTO admin_token_sites VALUES (1, 'blog');"
    "INSERT INTO audit (id, at, actor, action, comment_id, detail, reversal, site) VALUES"
    " (1, 1700000700, 'alice', 'approve', 2, '{\"from\":\"pending\"}', 0, 'default'),"
    " (2, 1700000800, 'alice', 'undo', 2, NULL, 1, NULL);"
    "INSERT INTO discarded VALUES ('default', 19700, 3);"
    "INSERT INTO akismet_keys (id, blog, hash, created, site) VALUES"
    " (1, 'https://blog.example', randomblob(32), 1700000000, 'blog');"
    "INSERT INTO decoys VALUES (200, randomblob(32), 1700000900, randomblob(50), 'blog');"
    "INSERT INTO import_ids VALUES ('wxr:x', 'default', '203', 1, 1, 1700000000),"
    " ('wxr:x', 'default', '204', NULL, 1, 1700000000);"
    "INSERT INTO outbox (site, type, comment_id, subscription_id, created, expanded) VALUES"
    " ('default', 'published', 1, NULL, 1700000000, 1),"
    " ('default', 'subscribe', 2, 1, 1700000001, 0);"
    "INSERT INTO outbox_deliveries VALUES (1, 'moderators', 'delivered', 1, 1700000000,"
    " 1700000001, NULL), (1, 'subscription:1', 'failed', 3, 1700000100, NULL, 'smtp 550');"
    "INSERT INTO subscriptions (site, comment_id, email_hash, address, created, confirmed)"
    " VALUES ('default', 1, randomblob(32), randomblob(60), 1700000000, NULL);"
    "INSERT INTO link_uses VALUES (randomblob(32), 1800000000);"
    "INSERT INTO likes VALUES (1, X'01', 1700000000), (1, X'02', 1700000001),"
    " (4, X'03', 1700000002);"
    "INSERT INTO node_keys VALUES ('key_check', randomblob(32), 1700000000);"
    /* Ids handed out and gone: a discarded post's (the decoy), an
     * outbox event's. */
    "UPDATE sqlite_sequence SET seq = 200 WHERE name = 'comments';"
    "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'outbox';";

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* The source: a SQLite file with the rows above and its search index. */
static int make_source(const char *path)
{
	struct store *s = NULL;
	struct store_conn *c;
	unsigned n = 0;
	int r;

	if (store_new(&s, path, 1) != 0)
		return -1;
	c = store_acquire(s);
	r = store_exec(c, "BEGIN") || store_exec(c, populate_sql) || store_exec(c, "COMMIT");
	if (r == 0)
		r = search_index_batch(c, SEARCH_BATCH, &n);
	store_release(s, c);
	store_free(s);
	return r == 0 && n > 0 ? 0 : -1;
}

/* One integer from db (either engine); -1 on failure. */
static int64_t query(const char *db, const char *sql)
{
	struct store *s = NULL;
	struct store_conn *c;
	struct store_stmt *st;
	int64_t v = -1;

	if (store_new(&s, db, 1) != 0)
		return -1;
	c = store_acquire(s);
	st = store_stmt_new(c, sql);
	if (!st || store_one_int64(c, st, &v) != 1)
		v = -1;
	store_stmt_free(st);
	store_release(s, c);
	store_free(s);
	return v;
}

static int exec_on(const char *db, const char *sql)
{
	struct store *s = NULL;
	struct store_conn *c;
	int r;

	if (store_new(&s, db, 1) != 0)
		return -1;
	c = store_acquire(s);
	r = store_exec(c, sql);
	store_release(s, c);
	store_free(s);
	return r;
}

/* Rows of table that differ between two SQLite files (both ways): b
 * attached to a's store. */
static long long differing(const char *a, const char *b, const char *table)
{
	char sql[900];
	struct store *s = NULL;
	struct store_conn *c;
	struct store_stmt *st = NULL;
	int64_t n = -1;

	if (store_new(&s, a, 1) != 0)
		return -1;
	c = store_acquire(s);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS b", b);
	if (store_exec(c, sql) != 0)
		goto out;
	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM b.%s))"
		 " + (SELECT count(*) FROM (SELECT * FROM b.%s EXCEPT SELECT * FROM main.%s))",
		 table, table, table, table);
	st = store_stmt_new(c, sql);
	if (!st || store_one_int64(c, st, &n) != 1)
		n = -1;
	store_stmt_free(st);
	store_exec(c, "DETACH b");
out:
	store_release(s, c);
	store_free(s);
	return n;
}

static void test_list(const char *src)
{
	unsigned data = 0, derived_n = 0;
	int derived;
	const char *name;

	for (unsigned i = 0; (name = migrate_table(i, &derived)); i++)
		derived ? derived_n++ : data++;
	is_int(data, 22, "22 data tables in the list");
	is_int(derived_n, 4, "4 tables not copied (the admin search's 3, compact_pending)");
	/* Every table of a migrated SQLite database is in the list, or a
	 * search block. */
	is_int(query(src, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT "
			  "LIKE 'sqlite%' AND name NOT GLOB 'search_b[0-9]*'"),
	       data + derived_n - 1,
	       "the list names every table of schema/ (all but "
	       "compact_pending, PostgreSQL's own)");
	ok(query(src, "SELECT count(*) FROM sqlite_schema WHERE name GLOB 'search_b[0-9]*'") > 0,
	   "the source has search index blocks");
}

static void test_round_trip(const char *src, const char *mid, const char *back)
{
	static const char *tables[] = {
	    "threads",
	    "comments",
	    "classifier_state",
	    "classifier_tokens",
	    "classifier_learned",
	    "classifier_site_state",
	    "classifier_site_tokens",
	    "admin_tokens",
	    "admin_token_sites",
	    "audit",
	    "discarded",
	    "akismet_keys",
	    "decided_daily",
	    "decoys",
	    "import_ids",
	    "outbox",
	    "outbox_deliveries",
	    "subscriptions",
	    "link_uses",
	    "likes",
	    "status_counts",
	    "node_keys",
	};
	struct migrate_report rep;
	int64_t rows = 0;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[120];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		rows += query(src, sql);
	}
	is_int(migrate_db(src, mid, NULL, &rep), 0, "migrated to %s",
	       store_is_pg_uri(mid) ? "PostgreSQL" : "SQLite");
	is_int(rep.tables, 22, "22 tables verified");
	is_int(rep.rows, rows, "every row copied (%lld)", (long long)rows);
	is_int(query(mid, "SELECT likes FROM comments WHERE id = 1"), 2,
	       "likes counted once: copied, not counted again by the triggers");
	is_int(query(mid, "SELECT version FROM threads WHERE id = 1"),
	       query(src, "SELECT version FROM threads WHERE id = 1"),
	       "the thread's version is the source's");
	is_int(query(mid, "SELECT n FROM status_counts WHERE site = 'blog' AND status = 'deleted'"),
	       1, "status counts are the source's");
	is_int(query(mid, "SELECT count(*) FROM search_blocks"), 0,
	       "the search index is not copied (rebuilt by the destination)");
	is_int(query(mid, "SELECT upto FROM search_state"), 0, "nothing counts as indexed");

	is_int(migrate_db(mid, back, NULL, &rep), 0, "migrated back to a new SQLite file");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		is_int(differing(src, back, tables[i]), 0, "%s: the same rows after the round trip",
		       tables[i]);
	is_int(query(back, "SELECT seq FROM sqlite_sequence WHERE name = 'comments'"), 200,
	       "the comments' sequence survives (a decoy's id is never handed out again)");
	is_int(query(back, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"), 9,
	       "the outbox's sequence survives");
	is_int(query(back, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
	       query(src, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
	       "every trigger is back");
	/* The triggers work again after the copy. */
	ok(exec_on(back, "INSERT INTO likes VALUES (4, X'09', 1)") == 0 &&
	       query(back, "SELECT likes FROM comments WHERE id = 4") == 2,
	   "a new like is counted by the restored trigger");
	is_int(differing(src, back, "likes"), 1, "and the comparison sees that row");
	is_int(query(mid, "SELECT upto FROM search_state"), 0, "the source was not written");
}

/* The destination's next comment id follows the source's sequence. */
static void test_sequence(const char *mid)
{
	if (getenv("COMMENTD_TEST_PG"))
		is_int(query(mid, "SELECT nextval(pg_get_serial_sequence('comments', 'id'))"), 201,
		       "PostgreSQL: the next comment id is 201");
	else
		is_int(query(mid, "SELECT seq FROM sqlite_sequence WHERE name = 'comments'"), 200,
		       "SQLite: the comments' sequence is at 200");
}

/* Each failure: the result, the table named, and nothing in the
 * destination. */
static int hook_change_text(struct store_conn *c, void *arg)
{
	(void)arg;
	return store_exec(c, "UPDATE comments SET text = 'changed' WHERE id = 2");
}

static int hook_drop_like(struct store_conn *c, void *arg)
{
	(void)arg;
	return store_exec(c, "DELETE FROM likes WHERE comment_id = 1 AND created = 1700000001");
}

static void no_data(const char *db, const char *what)
{
	if (getenv("COMMENTD_TEST_PG") && store_is_pg_uri(db))
		is_int(query(db, "SELECT count(*) FROM threads"), 0, "%s: no data written", what);
	else
		ok(!exists(db), "%s: the new file is removed", what);
}

static void test_mismatch(const char *src)
{
	struct migrate_opts opts = {.after_copy = hook_change_text};
	struct migrate_report rep;
	const char *dst = fixture_db(&fx, "mm1");

	is_int(migrate_db(src, dst, &opts, &rep), MIGRATE_MISMATCH, "a changed value is found");
	is_str(rep.table, "comments", "the table is named");
	ok(strstr(rep.detail, "checksums differ") != NULL, "said: %s", rep.detail);
	no_data(dst, "checksum mismatch");

	opts.after_copy = hook_drop_like;
	dst = fixture_db(&fx, "mm2");
	is_int(migrate_db(src, dst, &opts, &rep), MIGRATE_MISMATCH, "a missing row is found");
	is_str(rep.table, "likes", "the table is named");
	ok(strstr(rep.detail, "3 rows in the source, 2 in the destination") != NULL, "said: %s",
	   rep.detail);
	no_data(dst, "count mismatch");
}

static void copy_file(const char *from, const char *to)
{
	char cmd[900];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	if (system(cmd) != 0)
		diag("cp failed");
}

static void test_unknown_tables(const char *src)
{
	struct migrate_report rep;
	char extra[400];
	const char *dst;

	snprintf(extra, sizeof(extra), "%s", fixture_path(&fx, "extra.db"));
	copy_file(src, extra);
	ok(exec_on(extra, "CREATE TABLE newer_feature (x INTEGER)") == 0, "a table added");
	dst = fixture_db(&fx, "unknown1");
	is_int(migrate_db(extra, dst, NULL, &rep), MIGRATE_UNKNOWN_TABLE,
	       "a source table not in the list fails the migration");
	is_str(rep.table, "newer_feature", "the table is named");
	ok(strstr(rep.detail, "left behind") != NULL, "said: %s", rep.detail);
	no_data(dst, "unknown source table");

	dst = fixture_db(&fx, "unknown2");
	ok(exec_on(dst, "CREATE TABLE stray (x INTEGER)") == 0, "a destination with a stray table");
	is_int(migrate_db(src, dst, NULL, &rep), MIGRATE_UNKNOWN_TABLE,
	       "a destination table not in the list fails too");
	is_str(rep.table, "stray", "that table is named");
	is_int(query(dst, "SELECT count(*) FROM comments"), 0, "nothing written");
}

static void test_refusals(const char *src, const char *mid)
{
	struct migrate_report rep;
	char old[400], junk[400], dst[400];
	FILE *f;

	is_int(migrate_db(src, mid, NULL, &rep), MIGRATE_NOT_EMPTY, "a non-empty destination");
	is_str(rep.table, "threads", "its first table with rows is named");
	is_int(query(mid, "SELECT count(*) FROM comments"), 104, "and it is unchanged");

	is_int(migrate_db(src, src, NULL, &rep), MIGRATE_SAME, "source = destination");

	snprintf(dst, sizeof(dst), "%s", fixture_path(&fx, "never.db"));
	is_int(migrate_db(fixture_path(&fx, "missing.db"), dst, NULL, &rep), MIGRATE_NO_SOURCE,
	       "a missing source file");
	ok(!exists(fixture_path(&fx, "missing.db")), "is not created");
	ok(!exists(dst), "nor is the destination");

	snprintf(old, sizeof(old), "%s", fixture_path(&fx, "old.db"));
	copy_file(src, old);
	ok(exec_on(old, "PRAGMA user_version = 16") == 0, "a source at an older version");
	is_int(migrate_db(old, dst, NULL, &rep), MIGRATE_VERSION, "is refused");
	ok(strstr(rep.detail, "version 16") != NULL, "said: %s", rep.detail);
	ok(!exists(dst), "no destination made");
	{
		int v = 0, known = 0;
		is_int(store_peek_version(old, &v, &known), 0, "peek reads it");
		is_int(v, 16, "and it was not migrated");
		is_int(known, store_schema_version(), "this binary's SQLite version");
	}

	snprintf(junk, sizeof(junk), "%s", fixture_path(&fx, "junk.db"));
	f = fopen(junk, "w");
	if (f) {
		fputs("this is not a database, just text long enough to be read as a header....."
		      "...............................................................",
		      f);
		fclose(f);
	}
	is_int(migrate_db(junk, dst, NULL, &rep), MIGRATE_UNREADABLE, "not a database");
	ok(!exists(dst), "no destination made");

	is_int(migrate_db(src, "postgresql://commentd@127.0.0.1:1/nothing?connect_timeout=2", NULL,
			  &rep),
	       MIGRATE_UNREACHABLE, "an unreachable server");
	is_int(migrate_db("postgresql://commentd@127.0.0.1:1/nothing?connect_timeout=2", dst, NULL,
			  &rep),
	       MIGRATE_UNREACHABLE, "an unreachable source server");
	ok(!exists(dst), "no destination made");
	is_int(migrate_db(src, "postgresql://%zz@/", NULL, &rep), MIGRATE_UNREACHABLE,
	       "a malformed URI");
}

int main(void)
{
	char src[400], back[400], mid[400];
	const char *m;

	if (fixture_open(&fx, "migrate") != 0) {
		ok(0, "fixture");
		return done_testing();
	}
	snprintf(src, sizeof(src), "%s", fixture_path(&fx, "source.db"));
	snprintf(back, sizeof(back), "%s", fixture_path(&fx, "back.db"));
	m = fixture_db(&fx, "mid");
	snprintf(mid, sizeof(mid), "%s", m ? m : "");
	if (!ok(make_source(src) == 0, "the source database is made")) {
		fixture_close(&fx);
		return done_testing();
	}
	test_list(src);
	test_round_trip(src, mid, back);
	test_sequence(mid);
	test_mismatch(src);
	test_unknown_tables(src);
	test_refusals(src, mid);
	fixture_close(&fx);
	return done_testing();
}
