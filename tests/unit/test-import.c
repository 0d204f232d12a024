/* Unit tests for lib/import: the WordPress fixture through the whole import
 * (statuses, threads, replies, tombstones, skipped pingbacks, orphans),
 * e-mail addresses only as keyed hashes, idempotency, the address
 * retention, the depth cap, the path map, learning, a malformed file that
 * leaves nothing, a write failure half-way that is undone, and sites: the
 * same file into two sites with one path, idempotent per site, learning
 * into the site's own layer, an unknown site refused. */
#include "tap.h"

#include "fixture.h"
#include "import.h"
#include "policy.h"

#include <sodium.h>

#define DATA SOURCE_ROOT "/tests/data/import/"

static struct fixture fx;
static struct submit_site site;
static struct classify_settings cs;

static int64_t query_int(const char *sql)
{
	struct store_stmt *st;
	int64_t v = -1;

	if (!(st = store_stmt_new(fx.conn, sql)))
		return -2;
	if (store_row(fx.conn, st) == 1)
		v = store_col_int64(st, 0);
	store_stmt_free(st);
	return v;
}

static const char *query_text(const char *sql, char *out, size_t outsz)
{
	struct store_stmt *st;

	out[0] = '\0';
	if ((st = store_stmt_new(fx.conn, sql)) && store_row(fx.conn, st) == 1 &&
	    store_col_text(st, 0))
		snprintf(out, outsz, "%s", store_col_text(st, 0));
	store_stmt_free(st);
	return out;
}

static int import(const char *path, enum import_format f, const char *source, bool learn,
		  json_t **rep, struct import_error *err)
{
	struct import_options o = {
	    .format = f,
	    .path = path,
	    .source = source,
	    .learn = learn,
	    .batch = 3,
	    .now = 1700000000,
	};

	*rep = NULL;
	return import_run(fx.conn, &site, 1, &o, rep, err);
}

static json_int_t at(json_t *rep, const char *obj, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(rep, obj), key));
}

static void test_wordpress(void)
{
	struct import_error err = {{0}};
	unsigned char hash[KEYS_HASH_BYTES], stored[KEYS_HASH_BYTES];
	char text[256];
	json_t *rep;

	is_int(import(DATA "wordpress-nl.xml", IMPORT_WXR, NULL, false, &rep, &err), 0,
	       "wxr: imported (%s)", err.message);
	is_str(json_string_value(json_object_get(rep, "source")),
	       "wxr:https://www.trappersenkoffie.nl", "the source is the blog");
	is_int(json_integer_value(json_object_get(rep, "imported")), 11, "11 of 14 imported");
	is_int(at(rep, "status", "published"), 8, "8 published");
	is_int(at(rep, "status", "pending"), 1, "1 pending");
	is_int(at(rep, "status", "spam"), 1, "1 spam");
	is_int(at(rep, "status", "deleted"), 1, "1 deleted (a tombstone for its reply)");
	is_int(at(rep, "skipped", "pingback"), 2, "pingbacks skipped");
	is_int(at(rep, "skipped", "trackback"), 1, "the trackback skipped");
	is_int(at(rep, "top_level", "missing_parent"), 1,
	       "a reply to a missing comment: top level");
	is_int(at(rep, "top_level", "parent_skipped"), 1, "a reply to a pingback: top level");
	is_int(at(rep, "threads", "/2019/03/door-de-regen-naar-ronse/"), 6, "6 in the first post");
	is_int(json_array_size(json_object_get(rep, "orphans")), 2, "both listed");
	json_decref(rep);

	is_int(query_int("SELECT count(*) FROM comments"), 11, "11 rows");
	is_int(query_int("SELECT created FROM comments WHERE author = 'Joost Verhoeven'"),
	       1552557733, "the original date is kept");
	is_int(query_int("SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id"
			 " WHERE c.author = 'Anouk' AND p.author = 'Marieke' AND c.depth = 3"),
	       1, "a reply of a reply keeps its place");
	is_int(query_int("SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id"
			 " WHERE c.author = 'Fenna' AND p.status = 'deleted' AND p.author = ''"
			 " AND p.text = '' AND p.email_hash IS NULL"),
	       1, "the trashed comment is a bare tombstone below which the reply hangs");
	is_str(query_text("SELECT text FROM comments WHERE author = 'Tom'", text, sizeof(text)),
	       "Welkom! Schrijf je reacties hieronder. (zwaai) Groet, **Tom**",
	       "HTML became Markdown, the script is gone");
	is_int(query_int(
		   "SELECT count(*) FROM comments WHERE ip IS NOT NULL OR ip_sealed IS NOT NULL"),
	       0, "addresses older than ip_retention_days are not kept");
	is_int(
	    query_int("SELECT count(*) FROM comments WHERE url IS NOT NULL AND author = 'Sanne'"),
	    0, "a website that is not a URL is dropped");
	ok(comment_email_hash(fx.keys, "fenna.bakker@example.org", hash) == 0, "hash");
	{
		struct store_stmt *st;
		st = store_stmt_new(fx.conn,
				    "SELECT email_hash FROM comments WHERE author = 'Fenna'");
		ok(store_row(fx.conn, st) == 1 && store_col_bytes(st, 0) == KEYS_HASH_BYTES,
		   "the e-mail is kept as its keyed hash");
		memcpy(stored, store_col_blob(st, 0), KEYS_HASH_BYTES);
		store_stmt_free(st);
		ok(memcmp(hash, stored, sizeof(hash)) == 0, "... of the normalised address");
	}
	is_int(query_int("SELECT count(*) FROM comments WHERE text LIKE '%@example%'"
			 " OR author LIKE '%@%' OR url LIKE '%@%'"),
	       0, "no address in clear");
	is_int(query_int("SELECT count(*) FROM import_ids WHERE source ="
			 " 'wxr:https://www.trappersenkoffie.nl'"),
	       11, "the source ids are remembered");
	is_int(
	    query_int(!store_postgresql(fx.conn)
			  ? "SELECT count(*) FROM temp.sqlite_schema WHERE name LIKE 'import%'"
			  : "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
			    " AND relname LIKE 'import%'"),
	    0, "the staging tables are gone");

	is_int(import(DATA "wordpress-nl.xml", IMPORT_WXR, NULL, false, &rep, &err), 0,
	       "the same file again");
	is_int(json_integer_value(json_object_get(rep, "imported")), 0, "adds nothing");
	is_int(at(rep, "skipped", "already_imported"), 11, "11 already imported");
	json_decref(rep);
	is_int(query_int("SELECT count(*) FROM comments"), 11, "still 11 rows");
}

static void test_malformed(void)
{
	struct import_error err = {{0}};
	const char *bad = fixture_path(&fx, "cut.xml");
	FILE *in = fopen(DATA "wordpress-nl.xml", "rb"), *out = fopen(bad, "wb");
	char buf[9000];
	size_t n = fread(buf, 1, sizeof(buf), in);
	json_t *rep;
	int64_t before = query_int("SELECT count(*) FROM comments");

	fwrite(buf, 1, n, out);
	fclose(out);
	fclose(in);
	is_int(import(bad, IMPORT_WXR, "cut", false, &rep, &err), IMPORT_BAD,
	       "a truncated file is refused");
	ok(strstr(err.message, "line ") && strstr(err.message, "truncated"),
	   "... with its position (%s)", err.message);
	is_int(query_int("SELECT count(*) FROM comments"), before, "nothing of it is written");
	is_int(query_int("SELECT count(*) FROM import_ids WHERE source = 'cut'"), 0,
	       "nothing remembered");
	is_int(import(DATA "nope.xml", IMPORT_WXR, NULL, false, &rep, &err), IMPORT_BAD,
	       "a missing file (%s)", err.message);
	is_int(import(DATA "disqus.xml", IMPORT_WXR, NULL, false, &rep, &err), IMPORT_BAD,
	       "the wrong format (%s)", err.message);
}

/* A one-comment WXR of date `date` with a reply chain of depth 3. */
static const char *small_wxr(const char *name, const char *date)
{
	static const char fmt[] =
	    "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><item><link>"
	    "https://b.example/p/</link>"
	    "%s%s%s</item></channel></rss>\n";
	static const char c[] =
	    "<wp:comment><wp:comment_id>%d</wp:comment_id><wp:comment_author>A%d"
	    "</wp:comment_author><wp:comment_author_email>a%d@example.org"
	    "</wp:comment_author_email><wp:comment_author_IP>192.0.2.%d</wp:comment_author_IP>"
	    "<wp:comment_date_gmt>%s</wp:comment_date_gmt><wp:comment_content>Tekst %d"
	    "</wp:comment_content><wp:comment_approved>1</wp:comment_approved>"
	    "<wp:comment_parent>%d</wp:comment_parent></wp:comment>";
	char one[1024], two[1024], three[1024];
	const char *path = fixture_path(&fx, name);
	FILE *f = fopen(path, "w");

	snprintf(one, sizeof(one), c, 1, 1, 1, 1, date, 1, 0);
	snprintf(two, sizeof(two), c, 2, 2, 2, 2, date, 2, 1);
	snprintf(three, sizeof(three), c, 3, 3, 3, 3, date, 3, 2);
	fprintf(f, fmt, one, two, three);
	fclose(f);
	return path;
}

static void test_retention_depth_map(void)
{
	struct import_options o = {.format = IMPORT_WXR, .now = 1700000000};
	struct import_error err = {{0}};
	struct import_map *map = NULL;
	char mapfile[400], wxr[400];
	json_t *rep = NULL;
	FILE *f;

	/* 2023-11-14: a day before now: the address is young enough. */
	snprintf(wxr, sizeof(wxr), "%s", small_wxr("recent.xml", "2023-11-13 10:00:00"));
	o.path = wxr;
	o.source = "recent";
	fx.cfg->max_depth = 2;
	snprintf(mapfile, sizeof(mapfile), "%s", fixture_path(&fx, "map.txt"));
	f = fopen(mapfile, "w");
	fprintf(f, "# old new\nhttps://b.example/p/ /nieuw/p/\n/oud/* /nieuw/*\n");
	fclose(f);
	ok(import_map_load(&map, mapfile, &err) == 0, "a map (%s)", err.message);
	o.map = map;
	is_int(import_run(fx.conn, &site, 1, &o, &rep, &err), 0, "recent comments (%s)",
	       err.message);
	json_decref(rep);
	is_int(
	    query_int("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
		      " WHERE t.path = '/nieuw/p/' AND c.ip_sealed IS NOT NULL AND c.ip IS NULL"),
	    3, "addresses within ip_retention_days are kept (sealed); the map moved the thread");
	{
		struct comment_row row;
		int64_t id = query_int("SELECT id FROM comments WHERE author = 'A1'");
		ok(comment_load(fx.conn, fx.keys, id, &row) == 1 && row.ip &&
		       strcmp(row.ip, "192.0.2.1") == 0,
		   "... and unseal to the source's address");
		comment_row_clear(&row);
	}
	is_int(query_int("SELECT max(depth) FROM comments c JOIN threads t ON t.id = c.thread_id"
			 " WHERE t.path = '/nieuw/p/'"),
	       2, "the depth is capped at max_depth");
	{
		char out[64];
		ok(import_map_apply(map, "/oud/2019/x/", out, sizeof(out)) == 0 &&
		       strcmp(out, "/nieuw/2019/x/") == 0,
		   "a prefix entry maps the rest along");
		ok(import_map_apply(map, "/anders/", out, sizeof(out)) == 0 &&
		       strcmp(out, "/anders/") == 0,
		   "an unmapped path stays");
	}
	import_map_free(map);
	fx.cfg->max_depth = 5;
	f = fopen(mapfile, "w");
	fprintf(f, "/a/ /b/ /c/\n");
	fclose(f);
	is_int(import_map_load(&map, mapfile, &err), IMPORT_BAD, "a bad map line");
	ok(strstr(err.message, "map.txt:1:") != NULL, "... names its line (%s)", err.message);
}

static void test_learn(void)
{
	struct import_error err = {{0}};
	uint64_t nspam = 0, nham = 0;
	json_t *rep;

	is_int(import(DATA "disqus.xml", IMPORT_DISQUS, NULL, true, &rep, &err), 0,
	       "disqus with --learn (%s)", err.message);
	is_int(at(rep, "learned", "ham"), 4, "the published comments are learned as ham");
	is_int(at(rep, "learned", "spam"), 1, "the spam as spam");
	is_int(at(rep, "status", "deleted"), 1, "the deleted parent is a tombstone");
	json_decref(rep);
	ok(classifier_counts(site.classifier, fx.conn, &nspam, &nham) == 0 && nspam == 1 &&
	       nham == 4,
	   "the classifier counts them");
	is_int(import(DATA "disqus.xml", IMPORT_DISQUS, NULL, true, &rep, &err), 0, "again");
	is_int(at(rep, "learned", "ham") + at(rep, "learned", "spam"), 0, "nothing learned twice");
	json_decref(rep);
}

static void test_undo(void)
{
	struct import_error err = {{0}};
	json_t *rep;
	int64_t before = query_int("SELECT count(*) FROM comments");

	ok(store_exec(
	       fx.conn,
	       !store_postgresql(fx.conn)
		   ? "CREATE TRIGGER fail_late AFTER INSERT ON comments"
		     " WHEN NEW.author = 'Ilse' BEGIN SELECT RAISE(FAIL, 'disk on fire'); END"
		   : "CREATE FUNCTION fail_late() RETURNS trigger LANGUAGE plpgsql AS $$"
		     " BEGIN IF NEW.author = 'Ilse' THEN RAISE EXCEPTION 'disk on fire';"
		     " END IF; RETURN NEW; END $$;"
		     " CREATE TRIGGER fail_late AFTER INSERT ON comments FOR EACH ROW"
		     " EXECUTE FUNCTION fail_late()") == 0,
	   "a trigger that fails the fourth comment (after a committed batch of 3)");
	is_int(import(DATA "remark42.jsonl", IMPORT_REMARK42, NULL, false, &rep, &err),
	       IMPORT_WRITE_FAILED, "the import fails while writing");
	ok(strstr(err.message, "nothing of this import was kept") != NULL, "it says so (%s)",
	   err.message);
	is_int(query_int("SELECT count(*) FROM comments"), before, "the earlier batch is removed");
	is_int(
	    query_int("SELECT count(*) FROM import_ids WHERE source = 'remark42:trappersenkoffie'"),
	    0, "and forgotten");
	ok(store_exec(fx.conn, !store_postgresql(fx.conn) ? "DROP TRIGGER fail_late"
							  : "DROP TRIGGER fail_late ON comments;"
							    " DROP FUNCTION fail_late()") == 0,
	   "the trigger dropped");
	is_int(import(DATA "remark42.jsonl", IMPORT_REMARK42, NULL, false, &rep, &err), 0,
	       "the same import then succeeds (%s)", err.message);
	is_int(json_integer_value(json_object_get(rep, "imported")), 5, "all 5");
	json_decref(rep);
}

/* Parents that form loops (a Remark42 file written by hand, a broken
 * export): every comment still comes in, the loops cut at top level. */
static void test_loops(void)
{
	static const char text[] =
	    "{\"version\":1,\"users\":[],\"posts\":[]}\n"
	    "{\"id\":\"x\",\"pid\":\"y\",\"text\":\"x\",\"user\":{\"name\":\"X\"},"
	    "\"locator\":{\"site\":\"loops\",\"url\":\"/loop/"
	    "\"},\"time\":\"2020-01-01T00:00:00Z\"}\n"
	    "{\"id\":\"y\",\"pid\":\"x\",\"text\":\"y\",\"user\":{\"name\":\"Y\"},"
	    "\"locator\":{\"site\":\"loops\",\"url\":\"/loop/"
	    "\"},\"time\":\"2020-01-01T00:00:01Z\"}\n"
	    "{\"id\":\"z\",\"pid\":\"z\",\"text\":\"z\",\"user\":{\"name\":\"Z\"},"
	    "\"locator\":{\"site\":\"loops\",\"url\":\"/loop/"
	    "\"},\"time\":\"2020-01-01T00:00:02Z\"}\n";
	struct import_error err = {{0}};
	char path[400];
	json_t *rep;
	FILE *f;

	snprintf(path, sizeof(path), "%s", fixture_path(&fx, "loops.jsonl"));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	is_int(import(path, IMPORT_REMARK42, NULL, false, &rep, &err), 0, "loops (%s)",
	       err.message);
	is_int(json_integer_value(json_object_get(rep, "imported")), 3, "every comment of a loop");
	is_int(at(rep, "top_level", "parent_loop"), 2, "two loops cut at top level");
	json_decref(rep);
	is_int(query_int("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
			 " WHERE t.path = '/loop/' AND c.parent_id IS NOT NULL"),
	       1, "y stays a reply of x");
}

static int import_into(const struct submit_site *sites, size_t n, const char *to, const char *path,
		       enum import_format f, bool learn, json_t **rep, struct import_error *err)
{
	struct import_options o = {
	    .format = f, .path = path, .site = to, .learn = learn, .batch = 4, .now = 1700000000};

	*rep = NULL;
	return import_run(fx.conn, sites, n, &o, rep, err);
}

static int64_t site_comments(const char *id, const char *path)
{
	char sql[300];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
		 " WHERE t.site = '%s' AND t.path = '%s'",
		 id, path);
	return query_int(sql);
}

/* Two sites (no "default" among them) sharing one path. */
static void test_sites(void)
{
	static const char ronse[] = "/2019/03/door-de-regen-naar-ronse/";
	struct submit_site two[2] = {site, site};
	struct classify_learned blog = {0}, notes = {0};
	struct import_error err = {{0}};
	json_t *rep;

	two[0].id = "blog";
	two[1].id = "notes";
	is_int(import_into(two, 2, "blog", DATA "wordpress-nl.xml", IMPORT_WXR, false, &rep, &err),
	       0, "wxr into site blog (%s)", err.message);
	is_int(json_integer_value(json_object_get(rep, "imported")), 11,
	       "11 imported: the default site's copy does not count");
	is_str(json_string_value(json_object_get(rep, "site")), "blog",
	       "the report names the site");
	is_int(at(rep, "sites", "blog"), 11, "... and counts it");
	is_int(at(rep, "threads", ronse), 6, "threads keyed by path within the site");
	json_decref(rep);
	is_int(import_into(two, 2, "notes", DATA "wordpress-nl.xml", IMPORT_WXR, false, &rep, &err),
	       0, "the same file into site notes (%s)", err.message);
	is_int(json_integer_value(json_object_get(rep, "imported")), 11,
	       "11 again: ids are remembered per site");
	json_decref(rep);
	is_int(site_comments("blog", ronse), 6, "blog's thread has 6");
	is_int(site_comments("notes", ronse), 6, "notes' thread with the same path has its own 6");
	is_int(query_int("SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id"
			 " JOIN threads tc ON tc.id = c.thread_id JOIN threads tp"
			 " ON tp.id = p.thread_id WHERE tc.site <> tp.site"),
	       0, "no reply hangs below another site's comment");
	is_int(query_int("SELECT count(*) FROM import_ids WHERE source ="
			 " 'wxr:https://www.trappersenkoffie.nl' AND site = 'notes'"),
	       11, "import_ids keyed by source and site");

	is_int(import_into(two, 2, "notes", DATA "wordpress-nl.xml", IMPORT_WXR, false, &rep, &err),
	       0, "notes again");
	is_int(json_integer_value(json_object_get(rep, "imported")), 0, "adds nothing there");
	is_int(at(rep, "skipped", "already_imported"), 11, "all already imported");
	json_decref(rep);

	is_int(import_into(two, 2, "nope", DATA "wordpress-nl.xml", IMPORT_WXR, false, &rep, &err),
	       IMPORT_BAD, "an unknown site is refused");
	ok(strstr(err.message, "no site nope") && strstr(err.message, "blog, notes"),
	   "... naming the sites there are (%s)", err.message);
	is_int(import_into(two, 2, NULL, DATA "wordpress-nl.xml", IMPORT_WXR, false, &rep, &err),
	       IMPORT_BAD, "several sites, none called default, and no site given: refused");
	ok(strstr(err.message, "--site") != NULL, "... saying what to give (%s)", err.message);
	is_int(site_comments("blog", ronse) + site_comments("notes", ronse), 12,
	       "nothing written by the refused imports");

	is_int(import_into(two, 2, "notes", DATA "disqus.xml", IMPORT_DISQUS, true, &rep, &err), 0,
	       "disqus into notes with learning (%s)", err.message);
	json_decref(rep);
	ok(classifier_learned(site.classifier, fx.conn, "notes", &notes) == 0 &&
	       classifier_learned(site.classifier, fx.conn, "blog", &blog) == 0,
	   "each site's learning");
	ok(notes.own_ham == 4 && notes.own_spam == 1, "notes learned its own 4 ham and 1 spam");
	ok(blog.own_ham == 0 && blog.own_spam == 0, "blog learned nothing of it");

	two[0].id = "solo";
	is_int(import_into(two, 1, NULL, DATA "remark42.jsonl", IMPORT_REMARK42, false, &rep, &err),
	       0, "one site, not called default, and no site given (%s)", err.message);
	is_str(json_string_value(json_object_get(rep, "site")), "solo", "the only site is chosen");
	json_decref(rep);
	is_int(query_int("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
			 " WHERE t.site = 'solo'"),
	       5, "its 5 comments are there");
}

int main(void)
{
	struct policy *pol = NULL;

	if (fixture_open(&fx, "import") != 0)
		return 1;
	classify_settings_default(&cs);
	if (classifier_new(&site.classifier, &cs) != 0 || policy_new(&pol, fx.cfg) != 0)
		return 1;
	site = (struct submit_site){.id = CONFIG_DEFAULT_SITE,
				    .cfg = fx.cfg,
				    .keys = fx.keys,
				    .classifier = site.classifier,
				    .policy = pol,
				    .classify = &cs};
	test_wordpress();
	test_malformed();
	test_retention_depth_map();
	test_learn();
	test_loops();
	test_undo();
	test_sites();
	classifier_free(site.classifier);
	policy_free(pol);
	fixture_close(&fx);
	return done_testing();
}
