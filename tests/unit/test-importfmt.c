/* Unit tests for lib/importfmt: every reader on the fixtures in
 * tests/data/import/ (what each record says), on malformed, truncated and
 * mis-encoded copies (an error with a position, nothing more), dates, URL
 * paths, gzip input and the HTML to Markdown conversion. */
#include "tap.h"

#include "fixture.h"
#include "importfmt.h"

#include <sqlite3.h>
#include <zlib.h>

#define DATA SOURCE_ROOT "/tests/data/import/"

/* What a reader handed over: a line per record. */
struct seen {
	char lines[64][400];
	int n;
	char source[128];
	char threads[8][200];
	int n_threads;
	int stop_after; /* 0: never */
};

static int on_comment(void *ctx, const struct import_record *r)
{
	struct seen *s = ctx;

	if (s->n < 64)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s|%s|%s|%s|%s|%s|%lld|%s|%s|%s|%s",
			 r->id, r->parent ? r->parent : "", r->thread_url ? r->thread_url : "",
			 r->thread_ref ? r->thread_ref : "", r->author ? r->author : "",
			 r->email ? r->email : "", (long long)r->created,
			 comment_status_name(r->status), r->kind ? r->kind : "",
			 r->markup == IMPORT_MARKUP_HTML ? "html" : "md", r->at);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

static int on_thread(void *ctx, const char *ref, const char *url)
{
	struct seen *s = ctx;

	if (s->n_threads < 8)
		snprintf(s->threads[s->n_threads++], sizeof(s->threads[0]), "%s=%s", ref, url);
	return 0;
}

static int on_source(void *ctx, const char *name)
{
	struct seen *s = ctx;

	snprintf(s->source, sizeof(s->source), "%s", name);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	if (data)
		data[n] = '\0';
	*len = (size_t)n;
	return data;
}

typedef int (*reader_fn)(struct import_input *, const struct import_sink *, struct import_error *);

/* Runs reader on len bytes of data; fills s and err. */
static int run(reader_fn reader, const char *data, size_t len, struct seen *s,
	       struct import_error *err)
{
	struct import_sink sink = {on_comment, on_thread, on_source, NULL, s};
	struct import_input in;

	memset(s->lines, 0, sizeof(s->lines));
	s->n = s->n_threads = 0;
	s->source[0] = '\0';
	err->message[0] = '\0';
	import_input_memory(&in, data, len);
	return reader(&in, &sink, err);
}

/* Every proper prefix of a file is refused (truncation), with a message. */
static void truncations(const char *name, reader_fn reader, const char *data, size_t len)
{
	struct import_error err = {{0}};
	struct seen s = {0};
	int refused = 0, tried = 0;

	for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
		/* JSON Lines cut right after a newline are whole lines: only
		 * a compressed file's end can tell (see docs/migrate.md). */
		if (cut && data[cut - 1] == '\n' && reader != import_read_waline)
			continue;
		tried++;
		if (run(reader, data, cut, &s, &err) == IMPORT_BAD && err.message[0])
			refused++;
	}
	is_int(refused, tried, "%s: every truncated copy is refused with a message", name);
}

static void test_wxr(void)
{
	struct import_error err = {{0}};
	struct seen s = {0};
	size_t len;
	char *data = slurp(DATA "wordpress-nl.xml", &len), *bad;

	ok(data != NULL, "wxr fixture read");
	is_int(run(import_read_wxr, data, len, &s, &err), 0, "wxr: read (%s)", err.message);
	is_int(s.n, 14, "wxr: 14 comments, pingbacks and trackbacks included");
	is_str(s.source, "https://www.trappersenkoffie.nl", "wxr: the blog's URL names the source");
	is_str(s.lines[0],
	       "101||https://www.trappersenkoffie.nl/2019/03/door-de-regen-naar-ronse/||Joost "
	       "Verhoeven|joost.verhoeven@example.nl|1552557733|published||html|line 59, column 3",
	       "wxr: a comment with its date from comment_date_gmt and its position");
	ok(strncmp(s.lines[1], "102|101|", 8) == 0, "wxr: a reply names its parent");
	ok(strstr(s.lines[3], "|pingback|") != NULL, "wxr: a pingback is marked");
	ok(strstr(s.lines[4], "|trackback|") != NULL, "wxr: a trackback is marked");
	ok(strstr(s.lines[5], "|spam|") != NULL, "wxr: spam");
	ok(strstr(s.lines[6], "|deleted|") != NULL, "wxr: trash is deleted");
	ok(strstr(s.lines[8], "|1604836800|") != NULL,
	   "wxr: 0000-00-00 GMT date falls back to comment_date");
	ok(strstr(s.lines[9], "|pending|") != NULL, "wxr: comment_approved 0 is pending");
	truncations("wxr", import_read_wxr, data, len);

	bad = strdup(data);
	memcpy(strstr(bad, "Mooi verslag"), "Mooi\xff", 5);
	is_int(run(import_read_wxr, bad, len, &s, &err), IMPORT_BAD, "wxr: invalid UTF-8 refused");
	ok(strstr(err.message, "line 67, column") != NULL, "wxr: ... at its line (%s)",
	   err.message);
	free(bad);
	is_int(run(import_read_wxr, "<?xml version=\"1.0\"?><feed/>", 29, &s, &err), IMPORT_BAD,
	       "wxr: another XML document is refused (%s)", err.message);
	bad = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaa\">]><rss>&a;</rss>";
	is_int(run(import_read_wxr, bad, strlen(bad), &s, &err), IMPORT_BAD,
	       "wxr: entity declarations are refused (%s)", err.message);
	bad = "<rss><channel><item><link>/a/</link><wp:comment xmlns:wp=\"http://wordpress.org/"
	      "export/1.2/\"><wp:comment_id>1</wp:comment_id></wp:comment></item></channel></rss>";
	is_int(run(import_read_wxr, bad, strlen(bad), &s, &err), IMPORT_BAD,
	       "wxr: a comment without a date is refused");
	ok(strstr(err.message, "line 1, column") != NULL, "wxr: ... with its position (%s)",
	   err.message);
	s.stop_after = 2;
	is_int(run(import_read_wxr, data, len, &s, &err), 42, "wxr: a sink's stop is returned");
	s.stop_after = 0;
	free(data);
}

static void test_disqus(void)
{
	struct import_error err = {{0}};
	struct seen s = {0};
	size_t len;
	char *data = slurp(DATA "disqus.xml", &len), *bad;

	is_int(run(import_read_disqus, data, len, &s, &err), 0, "disqus: read (%s)", err.message);
	is_int(s.n, 6, "disqus: 6 posts");
	is_int(s.n_threads, 2, "disqus: 2 threads");
	is_str(s.threads[0],
	       "7650001001=https://www.trappersenkoffie.nl/2019/03/door-de-regen-naar-ronse/",
	       "disqus: a thread's dsq:id and link");
	is_str(s.source, "trappersenkoffie", "disqus: the forum names the source");
	ok(strstr(s.lines[1], "|deleted|") != NULL, "disqus: isDeleted");
	ok(strncmp(s.lines[2], "4400000003|4400000002|", 22) == 0,
	   "disqus: a reply to the deleted post");
	ok(strstr(s.lines[2], "|Gast||") != NULL, "disqus: an anonymous author without e-mail");
	ok(strstr(s.lines[3], "|spam|") != NULL, "disqus: isSpam");
	ok(strstr(s.lines[0], "|7650001001|Pieter Claes|pieter@example.be|1552564800|") != NULL,
	   "disqus: thread reference, author, e-mail, createdAt");
	truncations("disqus", import_read_disqus, data, len);
	bad = strdup(data);
	memcpy(strstr(bad, "</isSpam>"), "</isSpma>", 9);
	is_int(run(import_read_disqus, bad, len, &s, &err), IMPORT_BAD,
	       "disqus: mismatched tag refused");
	ok(strstr(err.message, "line 46, column") && strstr(err.message, "mismatched tag"),
	   "disqus: ... with line and column (%s)", err.message);
	free(bad);
	free(data);
}

static void test_isso(struct fixture *fx)
{
	struct import_sink sink;
	struct import_error err = {{0}};
	struct seen s = {0};
	sqlite3 *db = NULL;
	size_t len;
	char *sql = slurp(DATA "isso.sql", &len);
	const char *path = fixture_path(fx, "isso.db");

	sink = (struct import_sink){on_comment, on_thread, on_source, NULL, &s};
	ok(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == 0,
	   "isso: a database made with Isso's own CREATE TABLE statements");
	sqlite3_close(db);
	is_int(import_read_isso(path, &sink, &err), 0, "isso: read (%s)", err.message);
	is_int(s.n, 6, "isso: 6 comments");
	is_str(s.lines[0],
	       "1||/2019/03/door-de-regen-naar-ronse/||Hanneke|hanneke@example.nl|1552564800|"
	       "published||md|record 1",
	       "isso: a comment (Markdown, seconds of a float date)");
	ok(strstr(s.lines[2], "|deleted|") != NULL, "isso: mode 4 is deleted");
	ok(strstr(s.lines[4], "|pending|") != NULL, "isso: mode 2 is pending");
	ok(strncmp(s.lines[5], "6|99|", 5) == 0, "isso: a parent that is not there is passed on");
	/* A file that is not an Isso database. */
	path = fixture_path(fx, "not-isso.db");
	{
		FILE *f = fopen(path, "w");
		fputs("this is not a database, just text\n", f);
		fclose(f);
	}
	is_int(import_read_isso(path, &sink, &err), IMPORT_BAD, "isso: a text file is refused (%s)",
	       err.message);
	ok(sqlite3_open(fixture_path(fx, "other.db"), &db) == SQLITE_OK &&
	       sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == 0,
	   "another SQLite database");
	sqlite3_close(db);
	is_int(import_read_isso(fixture_path(fx, "other.db"), &sink, &err), IMPORT_BAD,
	       "isso: a database without Isso's tables is refused (%s)", err.message);
	ok(sqlite3_open(fixture_path(fx, "isso.db"), &db) == SQLITE_OK &&
	       sqlite3_exec(db, "UPDATE comments SET text = CAST(x'4869ff' AS TEXT) WHERE id = 2",
			    NULL, NULL, NULL) == 0,
	   "isso: a comment with invalid UTF-8");
	sqlite3_close(db);
	is_int(import_read_isso(fixture_path(fx, "isso.db"), &sink, &err), IMPORT_BAD,
	       "isso: refused");
	is_str(err.message, "record 2: text is not valid UTF-8", "isso: ... naming the record");
	free(sql);
}

static void test_remark42(struct fixture *fx)
{
	struct import_error err = {{0}};
	struct import_input in;
	struct seen s = {0};
	struct import_sink sink = {on_comment, on_thread, on_source, NULL, &s};
	size_t len;
	char *data = slurp(DATA "remark42.jsonl", &len), *bad;
	const char *gz = fixture_path(fx, "remark42.gz");
	gzFile g;

	is_int(run(import_read_remark42, data, len, &s, &err), 0, "remark42: read (%s)",
	       err.message);
	is_int(s.n, 5, "remark42: 5 comments");
	is_str(s.source, "trappersenkoffie", "remark42: the site id names the source");
	ok(strstr(s.lines[0], "|Daan||1552573211|published||md|line 2") != NULL,
	   "remark42: orig is Markdown; the time's zone is applied (%s)", s.lines[0]);
	ok(strstr(s.lines[2], "|deleted|") != NULL, "remark42: delete");
	ok(strstr(s.lines[3], "|html|") != NULL, "remark42: without orig, the text is HTML");
	truncations("remark42", import_read_remark42, data, len - 40);
	bad = strdup(data);
	memcpy(strstr(bad, "\"pid\":\"6d1a"), "\"pid\":6d1a", 10);
	is_int(run(import_read_remark42, bad, len, &s, &err), IMPORT_BAD,
	       "remark42: broken JSON refused");
	ok(strncmp(err.message, "line 3, column", 14) == 0, "remark42: ... at its line (%s)",
	   err.message);
	free(bad);
	is_int(run(import_read_remark42, "{\"a\":1}\n", 8, &s, &err), IMPORT_BAD,
	       "remark42: not a backup (%s)", err.message);
	/* The same backup gzip-compressed, as Remark42 writes them. */
	g = gzopen(gz, "wb");
	gzwrite(g, data, (unsigned)len);
	gzclose(g);
	ok(import_input_file(&in, gz, &err) == 0, "remark42: open the .gz");
	s.n = 0;
	is_int(import_read_remark42(&in, &sink, &err), 0, "remark42: read through zlib");
	import_input_close(&in);
	is_int(s.n, 5, "remark42: the same 5 comments");
	/* A truncated .gz */
	{
		size_t glen;
		char *gdata = slurp(gz, &glen);
		FILE *f = fopen(gz, "wb");
		fwrite(gdata, 1, glen / 2, f);
		fclose(f);
		free(gdata);
	}
	ok(import_input_file(&in, gz, &err) == 0, "remark42: open a truncated .gz");
	is_int(import_read_remark42(&in, &sink, &err), IMPORT_BAD,
	       "remark42: a truncated .gz is refused (%s)", err.message);
	import_input_close(&in);
	free(data);
}

static void test_waline(void)
{
	struct import_error err = {{0}};
	struct seen s = {0};
	size_t len;
	char *data = slurp(DATA "waline.json", &len), *bad;
	const char *wrapped = "{\"errno\":0,\"errmsg\":\"\",\"data\":{\"type\":\"waline\","
			      "\"tables\":[\"Comment\"],\"data\":{\"Comment\":[{\"objectId\":\"a\","
			      "\"url\":\"/x/\",\"insertedAt\":\"2020-01-01T00:00:00.000Z\","
			      "\"comment\":\"hoi\",\"status\":\"approved\"}]}}}";

	is_int(run(import_read_waline, data, len, &s, &err), 0, "waline: read (%s)", err.message);
	is_int(s.n, 4, "waline: 4 comments (counters and users skipped)");
	ok(strncmp(s.lines[1], "12|11|/2019/03/door-de-regen-naar-ronse/||Marieke|", 50) == 0,
	   "waline: numeric ids and pid");
	ok(strstr(s.lines[1], "|1552591800|") != NULL, "waline: a MySQL-style date");
	ok(strstr(s.lines[2], "|spam|") != NULL && strstr(s.lines[3], "|pending|") != NULL,
	   "waline: spam and waiting");
	ok(strstr(s.lines[3], "record 4 (line") != NULL, "waline: records are numbered");
	truncations("waline", import_read_waline, data, len);
	is_int(run(import_read_waline, wrapped, strlen(wrapped), &s, &err), 0,
	       "waline: an API answer around the export reads too (%s)", err.message);
	is_int(s.n, 1, "waline: its comment");
	bad = strdup(data);
	memcpy(strstr(bad, "\"status\": \"spam\""), "\"status\": spam  ", 16);
	is_int(run(import_read_waline, bad, len, &s, &err), IMPORT_BAD,
	       "waline: broken JSON refused (%s)", err.message);
	free(bad);
	is_int(run(import_read_waline, "{\"type\":\"other\",\"data\":{}}", 26, &s, &err),
	       IMPORT_BAD, "waline: not a Waline export (%s)", err.message);
	is_int(run(import_read_waline, "{\"data\":{\"Comment\":[]}} x", 25, &s, &err), IMPORT_BAD,
	       "waline: text after the document (%s)", err.message);
	free(data);
}

static void test_jsonl(void)
{
	struct import_error err = {{0}};
	struct seen s = {0};
	const char *good =
	    "{\"commentd_export\":1,\"source\":\"https://a.example\",\"key\":null}\n"
	    "{\"id\":1,\"thread\":\"/a/\",\"parent\":null,\"created\":\"2020-01-01T00:00:00Z\","
	    "\"status\":\"published\",\"author\":\"A\",\"url\":null,\"text\":\"*x*\",\"avatar\":"
	    "\"\"}\n"
	    "\n"
	    "{\"id\":2,\"thread\":\"/a/\",\"parent\":1,\"created\":\"2020-01-02T00:00:00Z\","
	    "\"status\":\"deleted\",\"author\":\"\",\"url\":null,\"text\":\"\",\"avatar\":\"\"}\n";
	const char *bad = "{\"commentd_export\":1}\n{\"id\":1,\"thread\":\"/a/\",\"created\":"
			  "\"2020-01-01T00:00:00Z\",\"status\":\"weird\"}\n";

	is_int(run(import_read_jsonl, good, strlen(good), &s, &err), 0, "jsonl: read (%s)",
	       err.message);
	is_int(s.n, 2, "jsonl: 2 comments");
	is_str(s.source, "https://a.example", "jsonl: the export's source");
	ok(strncmp(s.lines[1], "2|1|/a/||", 9) == 0 && strstr(s.lines[1], "|deleted|"),
	   "jsonl: a tombstone with its parent");
	is_int(run(import_read_jsonl, bad, strlen(bad), &s, &err), IMPORT_BAD,
	       "jsonl: an unknown status is refused");
	is_str(err.message, "line 2: unknown status \"weird\"", "jsonl: ... with its line");
	is_int(run(import_read_jsonl, "{\"id\":1}\n", 9, &s, &err), IMPORT_BAD,
	       "jsonl: no header (%s)", err.message);
}

static void test_time_and_paths(void)
{
	int64_t t = 0;
	char p[64];

	ok(import_parse_time("2019-03-14 10:02:13", &t) == 0 && t == 1552557733, "time: WordPress");
	ok(import_parse_time("2019-03-14T11:02:13+01:00", &t) == 0 && t == 1552557733,
	   "time: RFC 3339 with an offset");
	ok(import_parse_time("2019-03-14T10:02:13.123456789Z", &t) == 0 && t == 1552557733,
	   "time: fractions");
	ok(import_parse_time("2019-02-30x10:00:00", &t) == 1, "time: junk refused");
	ok(import_parse_time("1969-12-31 23:59:59", &t) == 1, "time: before 1970 refused");
	ok(import_parse_time("2019-03-14 10:02:13 +0100x", &t) == 1, "time: junk after refused");
	ok(import_url_path("https://blog.example:8443/a/b/?utm=x#c", p, sizeof(p)) == 0 &&
	       strcmp(p, "/a/b/") == 0,
	   "path: origin, tracking query and fragment go");
	ok(import_url_path("https://blog.example/?p=41", p, sizeof(p)) == 0 &&
	       strcmp(p, "/?p=41") == 0,
	   "path: a query on the root names the page");
	ok(import_url_path("http://blog.example/index.php?p=41", p, sizeof(p)) == 0 &&
	       strcmp(p, "/index.php?p=41") == 0,
	   "path: ... and on a script");
	ok(import_url_path("https://blog.example", p, sizeof(p)) == 0 && strcmp(p, "/") == 0,
	   "path: the bare origin is /");
	ok(import_url_path("/already/a/path/", p, sizeof(p)) == 0 &&
	       strcmp(p, "/already/a/path/") == 0,
	   "path: a path stays");
	ok(import_url_path("no-slash", p, sizeof(p)) == 1, "path: a word is not a path");
}

static void html(const char *in, const char *want, const char *name)
{
	char *out = NULL;

	ok(import_html_to_markdown(in, strlen(in), &out) == 0, "html: %s converts", name);
	is_str(out, want, "html: %s", name);
	free(out);
}

static void test_html(void)
{
	html("Mooi <strong>verslag</strong>!\n\nVolgend <em>jaar</em>?",
	     "Mooi **verslag**!\n\nVolgend *jaar*?", "WordPress emphasis and paragraphs");
	html("regel een\nregel twee", "regel een\nregel twee", "a newline stays a line break");
	html("<p>een</p><p>twee<br>\ndrie</p>", "een\n\ntwee\ndrie", "Disqus paragraphs, <br>");
	html("zie <a href=\"https://x.example/a b\">hier</a>",
	     "zie [hier](<https://x.example/a%20b>)", "a link");
	html("<a href=\"javascript:alert(1)\">klik</a>", "klik", "a javascript: link is text");
	html("<script>alert(1)</script>hoi<style>p{}</style>", "hoi", "scripts and styles go");
	html("5 * 3 < 15 en a_b_c [x] &amp;copy; &lt;b&gt;",
	     "5 \\* 3 \\< 15 en a\\_b\\_c \\[x\\] \\&copy; \\<b>",
	     "Markdown characters are escaped");
	html("# geen kop\n- geen lijst\n1. geen nummer",
	     "\\# geen kop\n\\- geen lijst\n1\\. geen nummer", "line starts are escaped");
	html("<b> vet </b>woord", "**vet** woord", "spaces move outside the markers");
	html("<code>a `b` c</code> en <pre>x\n  y</pre>", "``a `b` c`` en\n\n```\nx\n  y\n```",
	     "code and preformatted text");
	html("<blockquote>citaat<br>twee</blockquote>na", "> citaat\n> twee\n\nna", "a quote");
	html("<ul><li>een</li><li>twee</li></ul>", "- een\n\n- twee", "a list");
	html("&euro;&nbsp;7 &#8230; caf&eacute;",
	     "\xe2\x82\xac\xc2\xa0"
	     "7 \xe2\x80\xa6 caf\xc3\xa9",
	     "entities decode");
	html("", "", "nothing");
	html("<img src=x alt=\"(zwaai)\"><b></b>", "(zwaai)", "an image is its alt text");
}

int main(void)
{
	struct fixture fx;

	if (fixture_tmpdir(&fx, "importfmt") != 0)
		return 1;
	test_wxr();
	test_disqus();
	test_isso(&fx);
	test_remark42(&fx);
	test_waline();
	test_jsonl();
	test_time_and_paths();
	test_html();
	fixture_close(&fx);
	return done_testing();
}
