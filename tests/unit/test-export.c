/* Unit tests for lib/export: JSON Lines (header, one comment a line, e-mail
 * hashes only with the key, and back through the importer to the same
 * threads) and WXR (namespaces, one item per thread, statuses, escaping,
 * read back by the WXR importer). */
#include "tap.h"

#include "export.h"
#include "fixture.h"
#include "import.h"
#include "policy.h"

#define DATA SOURCE_ROOT "/tests/data/import/"

static struct classify_settings cs;

static int import_into(struct fixture *f, struct submit_site *site, const char *path,
		       enum import_format fmt)
{
	struct import_options o = {.format = fmt, .path = path, .now = 1700000000};
	struct import_error err = {{0}};
	json_t *rep = NULL;
	int r = import_run(f->conn, site, &o, &rep, &err);

	if (r)
		diag("import: %s", err.message);
	json_decref(rep);
	return r;
}

static char *export_to_string(struct fixture *f, enum export_format fmt, const struct keys *k,
			      uint64_t *n)
{
	struct export_options o = {fmt, k, "https://www.trappersenkoffie.nl", NULL, 1700000000};
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

/* The thread's answer with ids replaced by their rank, as text. */
static char *thread_shape(struct fixture *f, const char *path)
{
	json_t *t = NULL;
	char *s;
	struct comment_page_query q = {.site = CONFIG_DEFAULT_SITE,
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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
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
		sqlite3_stmt *st;
		sqlite3_prepare_v2(store_db(b.conn),
				   "SELECT count(*) FROM comments WHERE email_hash IS NOT NULL", -1,
				   &st, NULL);
		sqlite3_step(st);
		is_int(sqlite3_column_int(st, 0), 14, "the e-mail hashes came along (same key)");
		sqlite3_finalize(st);
	}

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
	free(jsonl);
	free(wxr);
	classifier_free(cl);
	policy_free(pol);
	fixture_close(&a);
	fixture_close(&b);
	return done_testing();
}
