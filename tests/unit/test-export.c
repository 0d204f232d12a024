/* Unit tests for lib/export: JSON Lines (header, one comment a line, e-mail
 * hashes only with the key, and back through the importer to the same
 * threads) and WXR (namespaces, one item per thread, statuses, escaping,
 * read back by the WXR importer); sites: two sites sharing a path export
 * together (each comment with its site) or one at a time, go back each
 * into its own site, and a WXR of several sites is refused; an export is
 * one snapshot while another connection writes. */
#include "tap.h"

#include "export.h"
#include "fixture.h"
#include "import.h"
#include "policy.h"

#define DATA SOURCE_ROOT "/tests/data/import/"

static struct classify_settings cs;

static int import_sites(struct fixture *f, const struct submit_site *sites, size_t n,
			const char *to, const char *path, enum import_format fmt,
			struct import_error *err)
{
	struct import_options o = {.format = fmt, .path = path, .site = to, .now = 1700000000};
	json_t *rep = NULL;
	int r = import_run(f->conn, sites, n, &o, &rep, err);

	json_decref(rep);
	return r;
}

static int import_into(struct fixture *f, struct submit_site *site, const char *path,
		       enum import_format fmt)
{
	struct import_options o = {.format = fmt, .path = path, .now = 1700000000};
	struct import_error err = {{0}};
	json_t *rep = NULL;
	int r = import_run(f->conn, site, 1, &o, &rep, &err);

	if (r)
		diag("import: %s", err.message);
	json_decref(rep);
	return r;
}

static const struct export_origin two_origins[] = {{"blog", "https://blog.example"},
						   {"notes", "https://notes.example"}};

/* One site's export (site NULL: every site's), linked on the sites' own
 * origins; *r is export_write's result. */
static char *export_site(struct fixture *f, enum export_format fmt, const char *site, uint64_t *n,
			 int *r)
{
	struct export_options o = {.format = fmt,
				   .keys = f->keys,
				   .site = site,
				   .origins = two_origins,
				   .n_origins = 2,
				   .now = 1700000000};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	*r = export_write(f->conn, &o, out, n);
	fclose(out);
	if (*r != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static char *export_to_string(struct fixture *f, enum export_format fmt, const struct keys *k,
			      uint64_t *n)
{
	struct export_options o = {.format = fmt,
				   .keys = k,
				   .origin = "https://www.trappersenkoffie.nl",
				   .now = 1700000000};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int r = export_write(f->conn, &o, out, n);

	fclose(out);
	if (r != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Site's thread's answer with ids replaced by "#", as text. */
static char *site_thread_shape(struct fixture *f, const char *site, const char *path)
{
	json_t *t = NULL;
	char *s;
	struct comment_page_query q = {.site = site,
				       .thread = path,
				       .from = {COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE},
				       .roots = 100000,
				       .rows = 100000,
				       .bytes = (size_t)1 << 30};

	if (comment_thread_page(f->conn, &q, &t) != 0)
		return NULL;
	s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(t);
	/* ids differ between databases: every "id":N and "parent":N becomes
	 * "id":# (in place: the text only shrinks). */
	{
		char *w = s;
		for (char *r = s; s && *r;) {
			bool key =
			    strncmp(r, "\"id\":", 5) == 0 || strncmp(r, "\"parent\":", 9) == 0;
			size_t klen = key ? (r[1] == 'i' ? 5 : 9) : 0;
			if (key && r[klen] >= '0' && r[klen] <= '9') {
				memmove(w, r, klen);
				w += klen;
				r += klen;
				while (*r >= '0' && *r <= '9')
					r++;
				*w++ = '#';
			} else {
				*w++ = *r++;
			}
		}
		if (s)
			*w = '\0';
	}
	return s;
}

static char *thread_shape(struct fixture *f, const char *path)
{
	return site_thread_shape(f, CONFIG_DEFAULT_SITE, path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static size_t occurrences(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static int64_t rows(struct fixture *f)
{
	int64_t n = -1;
	struct store_stmt *st;

	st = store_stmt_new(f->conn, "SELECT count(*) FROM comments");
	if (store_row(f->conn, st) == 1)
		n = store_col_int64(st, 0);
	store_stmt_free(st);
	return n;
}

/* Sites blog and notes, like like, on f's configuration and keys. */
static void two_sites(struct submit_site two[2], const struct submit_site *like,
		      const struct fixture *f)
{
	two[0] = two[1] = *like;
	two[0].id = "blog";
	two[1].id = "notes";
	two[0].cfg = two[1].cfg = f->cfg;
	two[0].keys = two[1].keys = f->keys;
}

/* Two sites with the same paths: blog has the WordPress comments, notes
 * those too and the Disqus ones. */
static void test_sites(const struct submit_site *like)
{
	static const char *const paths[] = {"/2019/03/door-de-regen-naar-ronse/",
					    "/2020/11/koffie-op-de-fiets/", "/over-ons/"};
	struct fixture c, d;
	struct submit_site two[2];
	struct import_error err = {{0}};
	char path[400], *all, *notes, *wxr, *s1, *s2;
	uint64_t n = 0, n_notes = 0;
	int r;

	if (fixture_open(&c, "export-c") != 0 || fixture_open(&d, "export-d") != 0)
		return;
	two_sites(two, like, &c);
	is_int(import_sites(&c, two, 2, "blog", DATA "wordpress-nl.xml", IMPORT_WXR, &err), 0,
	       "sites: WordPress into blog");
	is_int(import_sites(&c, two, 2, "notes", DATA "wordpress-nl.xml", IMPORT_WXR, &err), 0,
	       "sites: and into notes");
	is_int(import_sites(&c, two, 2, "notes", DATA "disqus.xml", IMPORT_DISQUS, &err), 0,
	       "sites: Disqus into notes");

	all = export_site(&c, EXPORT_JSONL, NULL, &n, &r);
	is_int(n, 11 + 17, "sites: every site's comments without a site");
	ok(all && strstr(all, "\"source\":null") && strstr(all, "\"site\":null"),
	   "sites: the header names no site and, with two origins, no source");
	is_int(occurrences(all, "\"site\":\"blog\""), 11, "sites: blog's lines name it");
	is_int(occurrences(all, "\"site\":\"notes\""), 17, "sites: notes' lines name it");
	notes = export_site(&c, EXPORT_JSONL, "notes", &n_notes, &r);
	is_int(n_notes, 17, "sites: --site notes exports notes' comments only");
	ok(notes && strstr(notes, "\"source\":\"https://notes.example\"") &&
	       strstr(notes, "\"site\":\"notes\",\"exported\"") && !strstr(notes, "\"blog\""),
	   "sites: its header names the site and its origin");
	wxr = export_site(&c, EXPORT_WXR, NULL, &n, &r);
	is_int(r, EXPORT_SEVERAL_SITES, "sites: a WXR of several sites is refused");
	ok(wxr == NULL, "... writing nothing");
	wxr = export_site(&c, EXPORT_WXR, "blog", &n, &r);
	ok(r == 0 && n == 11 && strstr(wxr, "<link>https://blog.example/over-ons/</link>") != NULL,
	   "sites: a WXR of one site, linked on its origin");
	free(wxr);

	/* Back in without a site: every comment to the site it names. */
	two[0].cfg = two[1].cfg = d.cfg;
	two[0].keys = two[1].keys = d.keys;
	snprintf(path, sizeof(path), "%s", fixture_path(&d, "all.jsonl"));
	write_file(path, all);
	is_int(import_sites(&d, two, 2, NULL, path, IMPORT_JSONL, &err), 0,
	       "sites: the export of both imports without --site (%s)", err.message);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 2; j++) {
			s1 = site_thread_shape(&c, two[j].id, paths[i]);
			s2 = site_thread_shape(&d, two[j].id, paths[i]);
			ok(s1 && s2 && strcmp(s1, s2) == 0,
			   "sites: %s %s answers the same apart from ids", two[j].id, paths[i]);
			free(s1);
			free(s2);
		}
	}
	s1 = site_thread_shape(&d, "blog", paths[0]);
	s2 = site_thread_shape(&d, "notes", paths[0]);
	ok(s1 && s2 && strcmp(s1, s2) != 0, "sites: the shared path stays two threads");
	free(s1);
	free(s2);
	is_int(import_sites(&d, two, 2, NULL, path, IMPORT_JSONL, &err), 0, "sites: again");
	is_int(rows(&d), 28, "sites: ... adds nothing");

	/* A line of a site not configured here; with --site it goes there. */
	two[1].id = "elsewhere";
	is_int(import_sites(&d, two, 2, NULL, path, IMPORT_JSONL, &err), IMPORT_BAD,
	       "sites: a line of a site not configured is refused");
	ok(strstr(err.message, "line ") && strstr(err.message, "site notes") &&
	       strstr(err.message, "--site"),
	   "... with its line and what to do (%s)", err.message);
	is_int(rows(&d), 28, "... and nothing of the file is written");
	snprintf(path, sizeof(path), "%s", fixture_path(&d, "notes.jsonl"));
	write_file(path, notes);
	is_int(import_sites(&d, two, 2, "elsewhere", path, IMPORT_JSONL, &err), 0,
	       "sites: with --site, the lines' site does not matter (%s)", err.message);
	s1 = site_thread_shape(&c, "notes", paths[1]);
	s2 = site_thread_shape(&d, "elsewhere", paths[1]);
	ok(s1 && s2 && strcmp(s1, s2) == 0, "sites: notes' thread answers the same in elsewhere");
	free(s1);
	free(s2);
	write_file(path, "{\"commentd_export\":1}\n{\"id\":1,\"thread\":\"/x/\","
			 "\"created\":\"2020-01-01T00:00:00Z\",\"status\":\"published\","
			 "\"author\":\"A\",\"text\":\"t\"}\n");
	is_int(import_sites(&d, two, 2, NULL, path, IMPORT_JSONL, &err), IMPORT_BAD,
	       "sites: a line without a site and no default site");
	ok(strstr(err.message, "line 2") && strstr(err.message, "--site"), "... says so (%s)",
	   err.message);
	free(all);
	free(notes);
	fixture_close(&c);
	fixture_close(&d);
}

/* test_snapshot's hook: at the first call, two comments of site notes (a
 * root and its reply) imported and committed on another connection. */
struct meanwhile {
	struct fixture *f;
	struct store_conn *other;
	const struct submit_site *sites;
	const char *path;
	int calls;
	int imported;
	int64_t seen_inside; /* comments the export's connection sees after */
};

static int import_meanwhile(void *arg)
{
	struct meanwhile *m = arg;
	struct import_options o = {
	    .format = IMPORT_JSONL, .path = m->path, .site = "notes", .now = 1700000000};
	struct import_error err = {{0}};
	json_t *rep = NULL;

	if (m->calls++)
		return 0;
	m->imported = import_run(m->other, m->sites, 2, &o, &rep, &err);
	if (m->imported)
		diag("meanwhile: %s", err.message);
	json_decref(rep);
	m->seen_inside = rows(m->f);
	return 0;
}

/* The replies of a JSON Lines export whose parent is not in it. */
static int orphans(const char *text)
{
	json_t *ids = json_object();
	int n = 0;
	char key[32];

	for (int pass = 0; pass < 2; pass++) {
		for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			json_t *row = json_loadb(l, strcspn(l, "\n"), 0, NULL);
			json_t *id = json_object_get(row, "id"),
			       *parent = json_object_get(row, "parent");

			if (pass == 0 && json_is_integer(id)) {
				snprintf(key, sizeof(key), "%lld",
					 (long long)json_integer_value(id));
				json_object_set_new(ids, key, json_true());
			} else if (pass == 1 && json_is_integer(parent)) {
				snprintf(key, sizeof(key), "%lld",
					 (long long)json_integer_value(parent));
				n += json_object_get(ids, key) == NULL;
			}
			json_decref(row);
		}
	}
	json_decref(ids);
	return n;
}

/* An export is one snapshot while the daemon writes: comments committed by
 * another connection between the export's first read (the sites) and its
 * rows are not in it, and its header agrees with its lines (on PostgreSQL
 * too, whose READ COMMITTED would take a snapshot per statement). */
static void test_snapshot(const struct submit_site *like)
{
	struct fixture e;
	struct submit_site two[2];
	struct import_error err = {{0}};
	struct store *st2 = NULL;
	struct meanwhile m = {0};
	struct export_options o = {.format = EXPORT_JSONL,
				   .keys = NULL,
				   .origins = two_origins,
				   .n_origins = 2,
				   .now = 1700000000,
				   .test_reading = import_meanwhile,
				   .test_arg = &m};
	char *text = NULL, path[400], *again;
	size_t len = 0;
	uint64_t n = 0;
	FILE *out;
	int r;

	if (fixture_open(&e, "export-e") != 0 || store_new(&st2, e.db, 1) != 0) {
		ok(0, "snapshot: a fixture and a second connection");
		return;
	}
	two_sites(two, like, &e);
	is_int(import_sites(&e, two, 2, "blog", DATA "wordpress-nl.xml", IMPORT_WXR, &err), 0,
	       "snapshot: WordPress into blog");
	snprintf(path, sizeof(path), "%s", fixture_path(&e, "meanwhile.jsonl"));
	write_file(path, "{\"commentd_export\":1}\n"
			 "{\"id\":1,\"thread\":\"/later/\",\"parent\":null,"
			 "\"created\":\"2023-11-14T22:13:20Z\",\"status\":\"published\","
			 "\"author\":\"Meanwhile\",\"text\":\"Written during the export\"}\n"
			 "{\"id\":2,\"thread\":\"/later/\",\"parent\":1,"
			 "\"created\":\"2023-11-14T22:13:21Z\",\"status\":\"published\","
			 "\"author\":\"Meanwhile\",\"text\":\"And its reply\"}\n");
	m = (struct meanwhile){
	    .f = &e, .other = store_acquire(st2), .sites = two, .path = path, .seen_inside = -1};

	out = open_memstream(&text, &len);
	r = export_write(e.conn, &o, out, &n);
	fclose(out);
	is_int(r, 0, "snapshot: the export runs while another connection imports");
	is_int(m.calls, 1, "  the hook ran inside it");
	is_int(m.imported, 0, "  two comments of notes committed meanwhile");
	is_int(m.seen_inside, 11, "  the export's own reads still see 11 comments (one snapshot)");
	is_int(n, 11, "  the export holds blog's 11 comments, not those committed meanwhile");
	ok(text && !strstr(text, "Meanwhile") && occurrences(text, "\"site\":\"notes\"") == 0,
	   "  no line of the comments committed meanwhile");
	ok(text && strstr(text, "\"source\":\"https://blog.example\"") &&
	       occurrences(text, "\"site\":\"blog\"") == 11 &&
	       occurrences(text, "\"site\":\"") == 11,
	   "  its header names blog's origin, the only site its lines name");
	is_int(orphans(text), 0, "  every reply's parent is in it");
	free(text);

	o.test_reading = NULL;
	again = export_site(&e, EXPORT_JSONL, NULL, &n, &r);
	is_int(n, 13, "snapshot: the next export holds them");
	ok(again && strstr(again, "\"source\":null") &&
	       occurrences(again, "\"site\":\"notes\"") == 2,
	   "  and names no source, two sites holding comments");
	is_int(orphans(again), 0, "  every reply's parent is in it");
	free(again);
	store_release(st2, m.other);
	store_free(st2);
	fixture_close(&e);
}

/* commentd's export imported under another key: its e-mail hashes would
 * match nobody (or, by chance, the wrong person), so they are dropped and
 * counted; the comments come in without them. */
static void test_other_key(const struct submit_site *like, const char *jsonl, uint64_t n)
{
	struct import_options o = {.format = IMPORT_JSONL, .now = 1700000000};
	struct import_error err = {{0}};
	struct submit_site site = *like;
	struct fixture c;
	json_t *rep = NULL;
	char path[400];
	int64_t hashes = -1;
	struct store_stmt *st;

	if (fixture_open(&c, "export-c") != 0) {
		ok(0, "another key: a fixture");
		return;
	}
	c.keys = keys_free(c.keys);
	if (fixture_keys(&c.keys, 0x33) != 0) {
		ok(0, "another key: keys");
		fixture_close(&c);
		return;
	}
	snprintf(path, sizeof(path), "%s", fixture_path(&c, "export.jsonl"));
	write_file(path, jsonl);
	site.cfg = c.cfg;
	site.keys = c.keys;
	o.path = path;
	is_int(import_run(c.conn, &site, 1, &o, &rep, &err), 0,
	       "another key: the export imports (%s)", err.message);
	is_int(rows(&c), (int64_t)n, "another key: every comment");
	st = store_stmt_new(c.conn, "SELECT count(*) FROM comments WHERE email_hash IS NOT NULL");
	if (store_row(c.conn, st) == 1)
		hashes = store_col_int64(st, 0);
	store_stmt_free(st);
	is_int(hashes, 0, "another key: no e-mail hash kept");
	is_int(json_integer_value(
		   json_object_get(json_object_get(rep, "dropped"), "email_hash_other_key")),
	       14, "another key: the 14 hashes are reported dropped");
	json_decref(rep);
	fixture_close(&c);
}

int main(void)
{
	struct fixture a, b;
	struct policy *pol = NULL;
	struct classifier *cl = NULL;
	struct submit_site site;
	char path[400], *jsonl, *wxr, *s1, *s2;
	uint64_t n = 0;

	if (fixture_open(&a, "export-a") != 0 || fixture_open(&b, "export-b") != 0)
		return 1;
	classify_settings_default(&cs);
	if (classifier_new(&cl, &cs) != 0 || policy_new(&pol, a.cfg) != 0)
		return 1;
	site = (struct submit_site){.id = CONFIG_DEFAULT_SITE,
				    .cfg = a.cfg,
				    .keys = a.keys,
				    .classifier = cl,
				    .policy = pol,
				    .classify = &cs};
	is_int(import_into(&a, &site, DATA "wordpress-nl.xml", IMPORT_WXR), 0, "a WordPress blog");
	is_int(import_into(&a, &site, DATA "disqus.xml", IMPORT_DISQUS), 0, "and its Disqus years");

	jsonl = export_to_string(&a, EXPORT_JSONL, a.keys, &n);
	ok(jsonl != NULL, "jsonl export");
	is_int(n, 17, "17 comments");
	ok(strncmp(jsonl, "{\"commentd_export\":1,", 21) == 0, "a header first");
	ok(strstr(jsonl, "\"source\":\"https://www.trappersenkoffie.nl\"") != NULL, "its source");
	ok(strstr(jsonl, "\"email_hash\":\"") != NULL, "with the key: e-mail hashes");
	ok(strstr(jsonl, "@example") == NULL, "no e-mail address");
	ok(strstr(jsonl, "\"status\":\"deleted\",\"author\":\"\"") != NULL, "tombstones are empty");
	{
		char *nokey = export_to_string(&a, EXPORT_JSONL, NULL, &n);
		ok(nokey && !strstr(nokey, "email_hash") && strstr(nokey, "\"key\":null"),
		   "without the key: no hashes");
		free(nokey);
	}

	/* Back in: a fresh database with the same key. */
	snprintf(path, sizeof(path), "%s", fixture_path(&b, "export.jsonl"));
	write_file(path, jsonl);
	site.cfg = b.cfg;
	site.keys = b.keys;
	is_int(import_into(&b, &site, path, IMPORT_JSONL), 0, "the export imports");
	for (int i = 0; i < 3; i++) {
		const char *t[] = {"/2019/03/door-de-regen-naar-ronse/",
				   "/2020/11/koffie-op-de-fiets/", "/over-ons/"};
		s1 = thread_shape(&a, t[i]);
		s2 = thread_shape(&b, t[i]);
		ok(s1 && s2 && strcmp(s1, s2) == 0, "thread %s answers the same apart from ids",
		   t[i]);
		if (s1 && s2 && strcmp(s1, s2) != 0)
			diag("%s\n# %s", s1, s2);
		free(s1);
		free(s2);
	}
	{
		struct store_stmt *st;
		st = store_stmt_new(b.conn,
				    "SELECT count(*) FROM comments WHERE email_hash IS NOT NULL");
		store_row(b.conn, st);
		is_int(store_col_int(st, 0), 14, "the e-mail hashes came along (same key)");
		store_stmt_free(st);
	}
	test_other_key(&site, jsonl, n);

	wxr = export_to_string(&a, EXPORT_WXR, NULL, &n);
	ok(wxr && strstr(wxr, "xmlns:wp=\"http://wordpress.org/export/1.2/\"") &&
	       strstr(wxr, "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"") &&
	       strstr(wxr, "<wp:wxr_version>1.2</wp:wxr_version>"),
	   "wxr: WordPress's namespaces and version");
	ok(strstr(wxr, "<link>https://www.trappersenkoffie.nl/over-ons/</link>") != NULL,
	   "wxr: an item per thread, linked on the origin");
	ok(strstr(wxr, "<wp:comment_approved>trash</wp:comment_approved>") &&
	       strstr(wxr, "<wp:comment_approved>spam</wp:comment_approved>") &&
	       strstr(wxr, "<wp:comment_approved>0</wp:comment_approved>"),
	   "wxr: statuses as WordPress names them");
	ok(strstr(wxr, "Koffie &amp; taart") == NULL && strstr(wxr, "<![CDATA[<p>") != NULL,
	   "wxr: HTML in CDATA");
	snprintf(path, sizeof(path), "%s", fixture_path(&b, "export.xml"));
	write_file(path, wxr);
	is_int(import_into(&b, &site, path, IMPORT_WXR), 0, "wxr: our importer reads it back");
	test_sites(&site);
	test_snapshot(&site);
	free(jsonl);
	free(wxr);
	classifier_free(cl);
	policy_free(pol);
	fixture_close(&a);
	fixture_close(&b);
	return done_testing();
}
