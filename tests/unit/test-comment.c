/* Unit tests for lib/comment: validation and normalisation, the publish
 * decision, thread paths, and comment_create / comment_thread_page /
 * comment_counts against a real temporary SQLite file. */
#include "fixture.h"
#include "tap.h"

#include <stdarg.h>

#include "comment.h"
#include "config.h"
#include "keys.h"
#include "store.h"
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct fixture fx;

/* A writable submission; fields NULL when absent. */
/* The site new submissions are for (test_sites switches it). */
static const char *create_site = "default";

struct sub {
	char *thread, *author, *email, *url, *text;
	struct comment_input in;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void sub_init(struct sub *s, const char *thread, const char *author, const char *email,
		     const char *url, const char *text)
{
	s->thread = dup_or_null(thread);
	s->author = dup_or_null(author);
	s->email = dup_or_null(email);
	s->url = dup_or_null(url);
	s->text = dup_or_null(text);
	s->in = (struct comment_input){.site = create_site,
				       .thread = s->thread,
				       .author = s->author,
				       .email = s->email,
				       .url = s->url,
				       .text = s->text};
}

static void sub_free(struct sub *s)
{
	free(s->thread);
	free(s->author);
	free(s->email);
	free(s->url);
	free(s->text);
}

/* bytes with non-printables as \xNN, for test names. */
static const char *vis(const char *s)
{
	static char out[4][160];
	static int i;
	size_t n = 0;

	if (!s)
		return "(null)";
	i = (i + 1) % 4;
	for (; *s && n < sizeof(out[0]) - 8; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch >= 0x7f)
			n += (size_t)snprintf(out[i] + n, 5, "\\x%02x", ch);
		else
			out[i][n++] = (char)ch;
	}
	if (*s)
		n += (size_t)snprintf(out[i] + n, 4, "...");
	out[i][n] = '\0';
	return out[i];
}

static const struct config *cfg;

/* Validates a submission with one field replaced; returns the error. */
static struct comment_error validate_with(const char *field, const char *value, int *r)
{
	struct comment_error err = {0};
	struct sub s;

	sub_init(&s, "/blog/post", "Ann", "ann@example.org", NULL, "Hello!");
	if (strcmp(field, "thread") == 0) {
		free(s.thread);
		s.in.thread = s.thread = dup_or_null(value);
	} else if (strcmp(field, "author") == 0) {
		free(s.author);
		s.in.author = s.author = dup_or_null(value);
	} else if (strcmp(field, "email") == 0) {
		free(s.email);
		s.in.email = s.email = dup_or_null(value);
	} else if (strcmp(field, "url") == 0) {
		free(s.url);
		s.in.url = s.url = dup_or_null(value);
	} else if (strcmp(field, "text") == 0) {
		free(s.text);
		s.in.text = s.text = dup_or_null(value);
	}
	*r = comment_validate(cfg, &s.in, &err);
	sub_free(&s);
	return err;
}

static void expect_error(const char *field, const char *value, int status, const char *code)
{
	int r;
	struct comment_error err = validate_with(field, value, &r);

	if (!ok(r == COMMENT_INVALID && err.status == status && err.code &&
		    strcmp(err.code, code) == 0 && err.message[0],
		"%s \"%s\": %d %s", field, vis(value), status, code))
		diag("  got r=%d status=%d code=%s message=%s", r, err.status,
		     err.code ? err.code : "(null)", err.message);
}

static void expect_ok(const char *field, const char *value)
{
	int r;
	struct comment_error err = validate_with(field, value, &r);

	if (!ok(r == 0, "%s \"%s\" is accepted", field, vis(value)))
		diag("  got r=%d status=%d code=%s message=%s", r, err.status,
		     err.code ? err.code : "(null)", err.message);
}

static void test_thread_check(void)
{
	struct comment_error err;
	char longp[COMMENT_THREAD_MAX + 2];

	static const char *const good[] = {"/",
					   "/a",
					   "/2024/01/my-post/",
					   "/post?id=3",
					   "/post#comments",
					   "/caf\xc3\xa9/\xe4\xb8\xad\xe6\x96\x87",
					   "/.well-known",
					   "/a/..b/c.",
					   "/a/...",
					   "/a//b",
					   "/%2e%2e/x"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		is_int(comment_thread_check(good[i], &err), 0, "thread %s is fine", vis(good[i]));

	static const struct {
		const char *t;
		int status;
		const char *code;
	} bad[] = {
	    {"", 422, "missing_thread"},
	    {"a", 422, "invalid_thread"},
	    {"post/1", 422, "invalid_thread"},
	    {"//evil.example/x", 422, "invalid_thread"},
	    {"//", 422, "invalid_thread"},
	    {"https://blog.example/x", 422, "invalid_thread"},
	    {"/a/../b", 422, "invalid_thread"},
	    {"/a/./b", 422, "invalid_thread"},
	    {"/..", 422, "invalid_thread"},
	    {"/.", 422, "invalid_thread"},
	    {"/a/..", 422, "invalid_thread"},
	    {"/a/.", 422, "invalid_thread"},
	    {"/a/..?x", 422, "invalid_thread"},
	    {"/a/.#x", 422, "invalid_thread"},
	    {"/a b", 422, "invalid_thread"},
	    {"/a\tb", 422, "invalid_thread"},
	    {"/a\nb", 422, "invalid_thread"},
	    {"/a\rb", 422, "invalid_thread"},
	    {"/a\\b", 422, "invalid_thread"},
	    {"\\a", 422, "invalid_thread"},
	    {"/a\x7f", 422, "invalid_thread"},
	    {"/a\x01", 422, "invalid_thread"},
	    {"/a\xc2\x85", 422, "invalid_thread"}, /* U+0085 NEL */
	    {"/a\xc2\x9b", 422, "invalid_thread"}, /* U+009B CSI */
	    {"/\xff", 400, "invalid_utf8"},
	    {"/\xc0\xaf", 400, "invalid_utf8"},
	    {"/\xed\xa0\x80", 400, "invalid_utf8"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&err, 0, sizeof(err));
		int r = comment_thread_check(bad[i].t, &err);
		ok(r == COMMENT_INVALID && err.status == bad[i].status && err.code &&
		       strcmp(err.code, bad[i].code) == 0,
		   "thread \"%s\": %d %s (got %d %s)", vis(bad[i].t), bad[i].status, bad[i].code,
		   err.status, err.code ? err.code : "(null)");
	}
	memset(&err, 0, sizeof(err));
	is_int(comment_thread_check(NULL, &err), COMMENT_INVALID, "a NULL thread is refused");
	is_str(err.code, "missing_thread", "as missing_thread");

	longp[0] = '/';
	memset(longp + 1, 'a', COMMENT_THREAD_MAX - 1);
	longp[COMMENT_THREAD_MAX] = '\0';
	is_int(comment_thread_check(longp, &err), 0, "a %d-byte thread is fine",
	       COMMENT_THREAD_MAX);
	longp[COMMENT_THREAD_MAX] = 'a';
	longp[COMMENT_THREAD_MAX + 1] = '\0';
	memset(&err, 0, sizeof(err));
	is_int(comment_thread_check(longp, &err), COMMENT_INVALID, "a %d-byte thread is refused",
	       COMMENT_THREAD_MAX + 1);
	is_str(err.code, "invalid_thread", "as invalid_thread");
}

static void test_validate(void)
{
	struct config *c = NULL;
	char err_s[CONFIG_ERR_MAX];

	config_new(&c);
	config_set(c, "max_author", "5", err_s);
	config_set(c, "max_text", "10", err_s);
	config_set(c, "max_url", "40", err_s);
	cfg = c;

	expect_ok("thread", "/blog/post");
	expect_error("thread", NULL, 422, "missing_thread");
	expect_error("thread", "//evil", 422, "invalid_thread");
	expect_error("thread", "/a/../b", 422, "invalid_thread");
	expect_error("thread", "/a b", 422, "invalid_thread");
	expect_error("thread", "/a\\b", 422, "invalid_thread");
	{
		struct comment_error err = {0};
		struct sub s;
		sub_init(&s, "/p", "Ann", "ann@example.org", NULL, "hi");
		s.in.parent = -1;
		is_int(comment_validate(cfg, &s.in, &err), COMMENT_INVALID, "a negative parent");
		ok(err.status == 422 && strcmp(err.code, "invalid_parent") == 0,
		   "is 422 invalid_parent");
		sub_free(&s);
	}

	/* Author. */
	expect_error("author", NULL, 422, "missing_author");
	expect_error("author", "", 422, "missing_author");
	expect_error("author", "  \t ", 422, "missing_author");
	expect_error("author", "\xc2\xa0\xe3\x80\x80", 422, "missing_author");
	expect_error("author", "\xe2\x80\x8b\xe2\x80\xae", 422, "missing_author");
	expect_error("author", "\xff", 400, "invalid_utf8");
	expect_error("author", "An\xc0\xafn", 400, "invalid_utf8");
	expect_error("author", "Ann\nAdmin", 422, "invalid_author");
	expect_error("author", "Ann\tB", 422, "invalid_author");
	expect_error("author", "A\x1b[31m", 422, "invalid_author");
	expect_error("author", "A\x7f", 422, "invalid_author");
	expect_error("author", "A\xc2\x85", 422, "invalid_author");
	expect_error("author", "Annabel", 422, "author_too_long");
	expect_ok("author", "Annab");
	expect_ok("author", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"); /* 5 chars, 10 bytes */
	expect_error("author", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 422,
		     "author_too_long");
	expect_ok("author", "  Ann  "); /* trimmed before the length check */
	expect_ok("author", "Ann\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b"); /* stripped */

	/* E-mail. */
	expect_error("email", NULL, 422, "missing_email");
	expect_error("email", "", 422, "missing_email");
	expect_error("email", "   ", 422, "missing_email");
	expect_error("email", "ann@exam\xffple.org", 400, "invalid_utf8");
	static const char *const bad_emails[] = {"plain",
						 "@example.org",
						 "ann@",
						 "ann@example",
						 "ann@@example.org",
						 "a@b@example.org",
						 "ann smith@ex.org",
						 "ann@-ex.org",
						 "ann@ex-.org",
						 "ann@ex..org",
						 "ann@.ex.org",
						 "ann@ex.org.",
						 "a(b)@ex.org",
						 "<ann@ex.org>",
						 "ann@ex_ample.org",
						 "ann@ex.org>",
						 "a\"b@ex.org",
						 "ann@e x.org",
						 "ann@ex.org\x01",
						 "a\x7f@ex.org",
						 "a,b@ex.org",
						 "a;b@ex.org",
						 "a:b@ex.org",
						 "a\\b@ex.org",
						 "[a]@ex.org",
						 "ann@[192.0.2.1]",
						 "a@b."};
	for (size_t i = 0; i < sizeof(bad_emails) / sizeof(*bad_emails); i++)
		expect_error("email", bad_emails[i], 422, "invalid_email");
	{
		char local[80], e[300];
		memset(local, 'a', 65);
		local[65] = '\0';
		snprintf(e, sizeof(e), "%s@example.org", local);
		expect_error("email", e, 422, "invalid_email"); /* 65-char local part */
		local[64] = '\0';
		snprintf(e, sizeof(e), "%s@example.org", local);
		expect_ok("email", e); /* 64 */
		memset(e, 'b', sizeof(e));
		memcpy(e, "a@", 2);
		for (int i = 2 + 60; i < 250; i += 61)
			e[i] = '.';
		e[250] = '\0'; /* a 248-byte domain of 60-char labels */
		expect_ok("email", e);
		memset(e + 250, 'b', 10);
		e[255] = '\0';
		expect_error("email", e, 422, "invalid_email"); /* 255 bytes */
		snprintf(e, sizeof(e), "a@%.64s.org",
			 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
		expect_error("email", e, 422, "invalid_email"); /* 64-char label */
	}
	static const char *const good_emails[] = {"ann@example.org",
						  "Ann.B+tag@Sub.Example.CO.uk",
						  "  ann@example.org\t",
						  "a@b.c",
						  "x_y-z@ex-ample.org",
						  "ann@b\xc3\xbc"
						  "cher.de",
						  "o'brien@example.ie"};
	for (size_t i = 0; i < sizeof(good_emails) / sizeof(*good_emails); i++)
		expect_ok("email", good_emails[i]);

	/* URL. */
	expect_ok("url", NULL);
	expect_ok("url", "");
	expect_ok("url", "   ");
	expect_ok("url", "https://ann.example/");
	expect_ok("url", "HTTP://ANN.EXAMPLE/Path?q=1#f");
	expect_ok("url", "  https://ann.example  ");
	static const char *const bad_urls[] = {"ann.example",
					       "ftp://ann.example/",
					       "javascript:alert(1)",
					       "JaVaScRiPt:alert(1)",
					       "data:text/html,x",
					       "//ann.example/",
					       "http://",
					       "https:///path",
					       "https://?q",
					       "https://#f",
					       "https://ann.example/a b",
					       "https://ann.example/\"onmouseover=x",
					       "https://ann.example/<script>",
					       "https://ann.example/>",
					       "https://ann.example\\@evil",
					       "https://ann.example/\x7f",
					       "https://ann.example/\nx",
					       "https://ann.example/aaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(*bad_urls); i++)
		expect_error("url", bad_urls[i], 422, "invalid_url");
	expect_ok("url", "https://ann.example/aaaaaaaaaaaaaaaaaaaa"); /* exactly 40 */
	expect_error("url", "https://ann.example/\xff", 400, "invalid_utf8");

	/* Text. */
	expect_error("text", NULL, 422, "missing_text");
	expect_error("text", "", 422, "missing_text");
	expect_error("text", " \n\t\r\n ", 422, "missing_text");
	expect_error("text", "\xc2\xa0\xe3\x80\x80", 422, "missing_text");
	expect_error("text", "\xe2\x80\x8b\xef\xbb\xbf\xe2\x80\xae", 422, "missing_text");
	expect_error("text", "hi\x01", 422, "invalid_text");
	expect_error("text", "hi\x1b[2J", 422, "invalid_text");
	expect_error("text", "hi\x7f", 422, "invalid_text");
	expect_error("text", "hi\xc2\x9b", 422, "invalid_text");
	expect_error("text", "hi\xff", 400, "invalid_utf8");
	expect_error("text", "hi\xed\xa0\x80", 400, "invalid_utf8");
	expect_ok("text", "a\nb\r\nc\td");
	expect_ok("text", "0123456789");
	expect_error("text", "0123456789a", 422, "text_too_long");
	expect_ok("text", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
			  "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"); /* 10 */
	expect_error("text",
		     "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		     "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac!",
		     422, "text_too_long");

	/* Field order: the first problem is reported. */
	{
		struct comment_error err = {0};
		struct sub s;
		sub_init(&s, "/p", NULL, NULL, "ftp://x", NULL);
		comment_validate(cfg, &s.in, &err);
		is_str(err.code, "missing_author", "with several problems the author comes first");
		sub_free(&s);
	}

	config_free(c);
}

static void test_normalise(void)
{
	struct config *c = NULL;
	struct comment_error err = {0};
	struct sub s;

	config_new(&c);
	cfg = c;
	sub_init(&s, "/p",
		 " \xe2\x80\xae\xc2\xa0"
		 "Ann\xe2\x80\x8b Ex\xe2\x81\xa0"
		 "ample\t ",
		 "  Ann.Example@EXAMPLE.Org \n", "  https://Ann.Example/X  ",
		 "  *Hello*\xe2\x80\x8b  \n");
	is_int(comment_validate(cfg, &s.in, &err), 0, "a messy but valid submission");
	is_str(s.in.author, "Ann Example", "author: invisible characters removed, trimmed");
	is_str(s.in.email, "ann.example@example.org", "email: trimmed and lowercased");
	is_str(s.in.url, "https://Ann.Example/X", "url: trimmed, case kept");
	is_str(s.in.text, "  *Hello*\xe2\x80\x8b  \n", "text: stored as written");
	sub_free(&s);

	sub_init(&s, "/p", "Ann", "ann@example.org", "   ", "hi");
	is_int(comment_validate(cfg, &s.in, &err), 0, "a blank url");
	ok(s.in.url == NULL || s.in.url[0] == '\0', "is absent afterwards");
	sub_free(&s);
	config_free(c);
}

static void test_names(void)
{
	enum comment_status parsed;

	is_str(comment_status_name(COMMENT_PUBLISHED), "published", "status name published");
	is_str(comment_status_name(COMMENT_PENDING), "pending", "status name pending");
	is_str(comment_status_name(COMMENT_SPAM), "spam", "status name spam");
	is_str(comment_status_name(COMMENT_DELETED), "deleted", "status name deleted");
	for (int i = COMMENT_PUBLISHED; i <= COMMENT_DISCARDED; i++) {
		is_int(comment_status_parse(comment_status_name((enum comment_status)i), &parsed),
		       0, "status %s parses", comment_status_name((enum comment_status)i));
		is_int(parsed, i, "status %s round-trips",
		       comment_status_name((enum comment_status)i));
	}
	ok(comment_status_parse("Published", &parsed) != 0, "status names are exact");
	ok(comment_status_parse(NULL, &parsed) != 0, "no status name");
}

/* ---- the store ---- */

static struct store *st;
static struct store_conn *conn;
static struct keys *keys;

/* Creates a comment; returns its id (> 0) or -(comment_create's result or
 * 1000) and fills err. */
static int64_t create(const struct config *c, const char *thread, int64_t parent, const char *email,
		      const char *text, enum comment_status status, struct comment_error *err,
		      json_t **out)
{
	struct sub s;
	struct comment_record rec = {.status = status,
				     .score = -1,
				     .ip = "192.0.2.1",
				     .user_agent = "test-agent",
				     .created = time(NULL)};
	struct comment_stored stored;
	struct comment_view v;
	json_t *j = NULL;
	int64_t id;
	int r;

	memset(err, 0, sizeof(*err));
	sub_init(&s, thread, "Ann", email, NULL, text);
	s.in.parent = parent;
	r = comment_validate(c, &s.in, err);
	if (r) {
		sub_free(&s);
		return -1000;
	}
	r = comment_create(conn, c, keys, &s.in, &rec, &stored, err);
	if (r) {
		sub_free(&s);
		return -(int64_t)(r > 0 ? r : 999);
	}
	/* The poster's answer, as lib/submit builds it. */
	v = (struct comment_view){stored.id,   s.in.thread,   stored.parent,
				  s.in.author, s.in.url,      rec.created,
				  stored.html, stored.avatar, status == COMMENT_PUBLISHED,
				  false,       false,	      0};
	j = view_poster(&v, stored.edit_token, rec.created + c->edit_window);
	id = stored.id;
	comment_stored_clear(&stored);
	sub_free(&s);
	if (out)
		*out = j;
	else
		json_decref(j);
	return id;
}

static int64_t count_sql(const char *sql, const char *arg)
{
	struct store_stmt *q = NULL;
	int64_t n = -1;

	if (!(q = store_stmt_new(conn, sql)))
		return -2;
	if (arg)
		store_bind_text(q, 1, arg);
	if (store_row(conn, q) == 1)
		n = store_col_int64(q, 0);
	store_stmt_free(q);
	return n;
}

/* The same with a second argument (?2). */
static int64_t count_sql2(const char *sql, const char *arg, const char *arg2)
{
	struct store_stmt *q = NULL;
	int64_t n = -1;

	if (!(q = store_stmt_new(conn, sql)))
		return -2;
	store_bind_text(q, 1, arg);
	store_bind_text(q, 2, arg2);
	if (store_row(conn, q) == 1)
		n = store_col_int64(q, 0);
	store_stmt_free(q);
	return n;
}

/* Every page read here is also written as text (comment_thread_page_text,
 * the daemon's answer), which must be byte for byte the JSON's dump. */
static unsigned text_pages, text_differ;

/* comment_thread_page, with its text variant compared with the dump. */
static int thread_page(struct store_conn *c, const struct comment_page_query *q, json_t **out)
{
	int r = comment_thread_page(c, q, out), rt;
	char *want = r == 0 ? json_dumps(*out, JSON_COMPACT) : NULL;
	struct buf text;

	buf_init(&text, COMMENT_PAGE_TEXT_MAX);
	rt = comment_thread_page_text(c, q, &text);
	text_pages++;
	if (r == 0 ? rt != 0 || !want || strcmp(text.data, want) != 0 : rt == 0) {
		if (text_differ++ < 3)
			diag("%s: the text (%d) is not the dump (%d):\n%.600s\n%.600s", q->thread,
			     rt, r, rt == 0 ? text.data : "", want ? want : "");
	}
	free(want);
	buf_free(&text);
	return r;
}

/* A page of site's thread from cursor `from`, with no row or byte budget
 * to speak of. */
static int page_from(const char *site, const char *thread, unsigned roots,
		     struct comment_cursor from, json_t **out)
{
	struct comment_page_query q = {site, thread, from, roots, 100000, (size_t)1 << 30};

	return thread_page(conn, &q, out);
}

/* A page of thread (create_site's): roots top-level comments after
 * top-level id `after`. */
static int page(const char *thread, unsigned roots, int64_t after, json_t **out)
{
	return page_from(create_site, thread, roots,
			 (struct comment_cursor){COMMENT_SORT_OLDEST, 0, after, COMMENT_ROW_DONE},
			 out);
}

static void tree_shape(json_t *arr, char *out, size_t cap, const int64_t *ids, size_t nids)
{
	size_t i;
	json_t *n;

	json_array_foreach(arr, i, n)
	{
		size_t len = strlen(out);
		int64_t id = json_integer_value(json_object_get(n, "id"));
		json_t *replies = json_object_get(n, "replies");
		char name[24];
		snprintf(name, sizeof(name), "#%lld", (long long)id);
		for (size_t k = 0; k < nids; k++) {
			if (ids[k] == id) {
				snprintf(name, sizeof(name), "%c", (char)('A' + k));
				break;
			}
		}
		snprintf(out + len, cap - len, "%s%s", i ? " " : "", name);
		if (json_array_size(replies)) {
			len = strlen(out);
			snprintf(out + len, cap - len, "(");
			tree_shape(replies, out, cap, ids, nids);
			len = strlen(out);
			snprintf(out + len, cap - len, ")");
		}
	}
}

/* ---- pages: every shape of thread, every budget ---- */

struct walk {
	int64_t seen[4096]; /* published comments met, in order */
	size_t n_seen;
	int64_t nodes[8192]; /* every node met (tombstones too) */
	size_t n_nodes;
	int problems;
	size_t page_rows;
	char sort;		      /* the order the top-level comments must come in */
	int64_t last_top, last_likes; /* the last top-level comment met, its likes */
};

static void problem(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct walk *w, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->problems++;
	diag("%s", msg);
}

static bool met(const struct walk *w, int64_t id)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i] == id)
			return true;
	return false;
}

/* Checks a page's nodes: replies sit under their parent; a top-level
 * reply's parent was met before; nothing is met twice. */
static void walk_nodes(struct walk *w, json_t *list, int64_t enclosing)
{
	size_t i;
	json_t *n;

	json_array_foreach(list, i, n)
	{
		int64_t id = json_integer_value(json_object_get(n, "id"));
		json_t *parent = json_object_get(n, "parent");
		bool deleted = json_is_true(json_object_get(n, "deleted"));

		if (enclosing && json_integer_value(parent) != enclosing)
			problem(w, "%lld nested under %lld but says parent %lld", (long long)id,
				(long long)enclosing, (long long)json_integer_value(parent));
		if (!enclosing && !json_is_null(parent) && !met(w, json_integer_value(parent)))
			problem(w, "%lld at the top of a page, parent %lld not met before",
				(long long)id, (long long)json_integer_value(parent));
		if (met(w, id))
			problem(w, "%lld met twice", (long long)id);
		if (deleted && (json_object_get(n, "html") || json_object_get(n, "author")))
			problem(w, "tombstone %lld shows content", (long long)id);
		if (w->n_nodes < 8192)
			w->nodes[w->n_nodes++] = id;
		if (!deleted && w->n_seen < 4096)
			w->seen[w->n_seen++] = id;
		w->page_rows++;
		walk_nodes(w, json_object_get(n, "replies"), id);
	}
}

static int64_t likes_of(int64_t id)
{
	char arg[24];

	snprintf(arg, sizeof(arg), "%lld", (long long)id);
	return count_sql("SELECT likes FROM comments WHERE id = CAST(?1 AS INTEGER)", arg);
}

/* The page's top-level comments (those that start a conversation, not the
 * replies carried over from an earlier page) come in the walk's order. */
static void check_order(struct walk *w, json_t *list)
{
	size_t i;
	json_t *n;

	json_array_foreach(list, i, n)
	{
		int64_t id = json_integer_value(json_object_get(n, "id")), likes;
		bool in_order;

		if (!json_is_null(json_object_get(n, "parent")))
			continue;
		likes = likes_of(id);
		if (w->last_top == 0) {
			in_order = true;
		} else if (w->sort == COMMENT_SORT_NEWEST) {
			in_order = id < w->last_top;
		} else if (w->sort == COMMENT_SORT_TOP) {
			in_order =
			    likes < w->last_likes || (likes == w->last_likes && id > w->last_top);
		} else {
			in_order = id > w->last_top;
		}
		if (!in_order)
			problem(w, "%lld (%lld likes) after %lld (%lld) in order %c", (long long)id,
				(long long)likes, (long long)w->last_top, (long long)w->last_likes,
				w->sort);
		w->last_top = id;
		w->last_likes = likes;
	}
}

/* Reads thread (create_site's) page by page in order sort with the budgets; checks every
 * page, the order of its top-level comments, and that the published
 * comments met are exactly those of the thread, each once, and that count
 * says so.  Returns the pages read (0 on a problem). */
static size_t read_pages_in(const char *thread, char sort, unsigned roots, unsigned rows,
			    size_t bytes)
{
	struct comment_page_query q = {create_site, thread, {sort, 0, 0, COMMENT_ROW_DONE},
				       roots,	    rows,   bytes};
	struct walk *w = calloc(1, sizeof(*w));
	size_t pages = 0;
	int64_t want =
	    count_sql2("SELECT count(*) FROM comments WHERE status = 'published' AND "
		       "thread_id = (SELECT id FROM threads WHERE path = ?1 AND site = ?2)",
		       thread, create_site);
	int64_t all =
	    count_sql2("SELECT count(*) FROM comments WHERE "
		       "thread_id = (SELECT id FROM threads WHERE path = ?1 AND site = ?2)",
		       thread, create_site);
	bool more = true;

	while (more && pages <= (size_t)all + 2 && !w->problems) {
		json_t *out = NULL;
		const char *cursor;

		if (thread_page(conn, &q, &out) != 0) {
			w->problems++;
			break;
		}
		pages++;
		w->page_rows = 0;
		w->sort = sort;
		walk_nodes(w, json_object_get(out, "comments"), 0);
		check_order(w, json_object_get(out, "comments"));
		if (json_integer_value(json_object_get(out, "count")) != want)
			problem(w, "count %lld, want %lld",
				(long long)json_integer_value(json_object_get(out, "count")),
				(long long)want);
		if (w->page_rows > (rows ? rows : 1) && bytes >= 100000)
			problem(w, "page %zu has %zu rows (budget %u)", pages, w->page_rows, rows);
		cursor = json_string_value(json_object_get(out, "cursor"));
		more = cursor != NULL;
		if (more && comment_cursor_parse(cursor, &q.from) != 0)
			problem(w, "cursor %s does not parse", cursor);
		json_decref(out);
	}
	if (more)
		problem(w, "no end after %zu pages", pages);
	if ((int64_t)w->n_seen != want)
		problem(w, "met %zu published comments, want %lld", w->n_seen, (long long)want);
	{
		size_t problems = (size_t)w->problems;
		free(w);
		return problems ? 0 : pages;
	}
}

static size_t read_pages(const char *thread, unsigned roots, unsigned rows, size_t bytes)
{
	return read_pages_in(thread, COMMENT_SORT_OLDEST, roots, rows, bytes);
}

/* Sets a comment's status by hand (a moderator's later decision). */
static void set_status(int64_t id, const char *status)
{
	char sql[120];

	snprintf(sql, sizeof(sql), "UPDATE comments SET status = '%s' WHERE id = %lld", status,
		 (long long)id);
	store_exec(conn, sql);
}

static void tombstone(int64_t id)
{
	store_begin(conn);
	comment_remove(conn, id, time(NULL));
	store_commit(conn);
}

static void test_pages(void)
{
	static const unsigned roots[] = {1, 3, 50};
	static const unsigned rows[] = {1, 2, 5, 17, 300};
	static const size_t bytes[] = {1, 3000, (size_t)1 << 30};
	struct config *c = NULL;
	struct comment_error err;
	char e[CONFIG_ERR_MAX], name[32];
	int64_t ids[400];
	uint32_t rnd = 12345;
	size_t checked = 0, failed = 0;

	config_new(&c);
	config_set(c, "max_depth", "50", e);
	/* One wide: a comment with 120 replies. */
	ids[0] = create(c, "/wide", 0, "w@example.org", "the root", COMMENT_PUBLISHED, &err, NULL);
	for (int i = 1; i <= 120; i++)
		create(c, "/wide", ids[0], "r@example.org", "a reply", COMMENT_PUBLISHED, &err,
		       NULL);
	create(c, "/wide", 0, "w@example.org", "after the wide one", COMMENT_PUBLISHED, &err, NULL);
	/* One deep: a chain of 60 replies (the depth cap turns the end flat). */
	ids[0] = create(c, "/deep", 0, "d@example.org", "link", COMMENT_PUBLISHED, &err, NULL);
	for (int i = 1; i < 60; i++)
		ids[i] = create(c, "/deep", ids[i - 1], "d@example.org", "link", COMMENT_PUBLISHED,
				&err, NULL);
	/* Many top-level comments with a few replies each. */
	for (int i = 0; i < 90; i++) {
		int64_t top =
		    create(c, "/many", 0, "m@example.org", "top", COMMENT_PUBLISHED, &err, NULL);
		for (int k = 0; k < i % 4; k++)
			create(c, "/many", top, "n@example.org", "reply", COMMENT_PUBLISHED, &err,
			       NULL);
	}
	/* Random trees where moderators later hid, filed as spam or deleted
	 * comments with replies below them. */
	for (int t = 0; t < 6; t++) {
		snprintf(name, sizeof(name), "/mixed-%d", t);
		for (int i = 0; i < 80; i++) {
			int64_t parent = 0;
			rnd = rnd * 1103515245u + 12345u;
			if (i > 0 && (rnd >> 16) % 3)
				parent = ids[(rnd >> 8) % (unsigned)i];
			ids[i] = create(c, name, parent, "x@example.org", "mixed",
					COMMENT_PUBLISHED, &err, NULL);
			if (ids[i] < 0)
				ids[i] = ids[0];
		}
		for (int i = 0; i < 80; i++) {
			rnd = rnd * 1103515245u + 12345u;
			switch ((rnd >> 16) % 7) {
			case 0:
				set_status(ids[i], "spam");
				break;
			case 1:
				set_status(ids[i], "pending");
				break;
			case 2:
				tombstone(ids[i]);
				break;
			default:
				break;
			}
		}
	}
	config_free(c);

	const char *threads[] = {"/wide",    "/deep",	 "/many",    "/mixed-0",
				 "/mixed-1", "/mixed-2", "/mixed-3", "/mixed-4",
				 "/mixed-5", "/page",	 "/post",    "/hide"};
	/* Likes with ties, for the most-liked-first order. */
	store_exec(conn, "UPDATE comments SET likes = (id * 7) % 4");
	for (size_t t = 0; t < sizeof(threads) / sizeof(*threads); t++)
		for (size_t a = 0; a < 3; a++)
			for (size_t b = 0; b < 5; b++)
				for (size_t k = 0; k < 3; k++)
					for (size_t o = 0; o < 3; o++) {
						checked++;
						if (read_pages_in(threads[t], "ont"[o], roots[a],
								  rows[b], bytes[k]) == 0) {
							failed++;
							diag("%s order %c roots %u rows %u bytes "
							     "%zu",
							     threads[t], "ont"[o], roots[a],
							     rows[b], bytes[k]);
						}
					}
	is_int(failed, 0,
	       "%zu ways to page 12 threads in 3 orders: every published comment exactly once, "
	       "under its parent or after it, counted as seen, every page within its budget, "
	       "top-level comments oldest, newest or most liked first",
	       checked);
	store_exec(conn, "UPDATE comments SET likes = 0");
	is_int(read_pages("/wide", 50, 10, (size_t)1 << 30), 13,
	       "a comment with 120 replies takes 13 pages of 10 rows");
	is_int(read_pages("/many", 50, 10000, (size_t)1 << 30), 2,
	       "90 top-level comments take two pages of 50");
	is_int(read_pages("/wide", 50, 1, 1), 122, "a budget of one row: one comment a page");
	{
		/* The byte budget: a page stops after the row that fills it. */
		struct comment_page_query q = {
		    .site = "default",
		    .thread = "/many",
		    .from = {COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE},
		    .roots = 50,
		    .rows = 10000,
		    .bytes = 2000};
		json_t *out = NULL;
		thread_page(conn, &q, &out);
		char *dump = json_dumps(out, JSON_COMPACT);
		ok(dump && strlen(dump) < 2000 + 600, "a 2000-byte budget gives a small page (%zu)",
		   dump ? strlen(dump) : 0);
		ok(json_is_string(json_object_get(out, "cursor")), "with a cursor for the rest");
		free(dump);
		json_decref(out);
	}
}

/* The top-level comments whose rows the first page of thread shows (sort
 * oldest, everything on one page): their ids into ids (at most max), and
 * which of them are tombstones into deleted.  Returns how many. */
static size_t page_tops(const char *thread, int64_t *ids, bool *deleted, size_t max)
{
	struct comment_page_query q = {
	    create_site, thread, {COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE},
	    1000,	 10000,	 (size_t)1 << 30};
	json_t *out = NULL, *n;
	size_t i, got = 0;

	if (thread_page(conn, &q, &out) != 0)
		return 0;
	json_array_foreach(json_object_get(out, "comments"), i, n)
	{
		if (got < max && json_is_null(json_object_get(n, "parent"))) {
			ids[got] = json_integer_value(json_object_get(n, "id"));
			deleted[got++] = json_is_true(json_object_get(n, "deleted"));
		}
	}
	json_decref(out);
	return got;
}

/* A page's top-level comments have their rows read in batches (one
 * statement for many of them; lib/comment.c's PAGE_BATCH is 64): pages
 * across a batch's edges, top-level comments without replies, pages that
 * end exactly at their limits, hidden and deleted top-level comments among
 * the others; and counts of several paths in one statement. */
static void test_batches(void)
{
	static const unsigned roots[] = {64, 65, 200};
	static const unsigned rows[] = {7, 300};
	static const size_t bytes[] = {3000, (size_t)1 << 30};
	const size_t big = (size_t)1 << 30;
	struct config *c = NULL;
	struct comment_error err;
	int64_t want[140], got[200], removed[40];
	bool want_deleted[140], got_deleted[200];
	size_t nwant = 0, nremoved = 0, ngot, checked = 0, failed = 0;
	bool same;

	config_new(&c);
	/* In one transaction (a commit each would take longer than the test). */
	store_begin(conn);
	for (int i = 0; i < 150; i++)
		create(c, "/flat150", 0, "f@example.org", "top", COMMENT_PUBLISHED, &err, NULL);
	for (int i = 0; i < 64; i++) {
		int64_t top =
		    create(c, "/exact", 0, "x@example.org", "top", COMMENT_PUBLISHED, &err, NULL);
		for (int k = 0; k < 2; k++)
			create(c, "/exact", top, "y@example.org", "reply", COMMENT_PUBLISHED, &err,
			       NULL);
	}
	/* 140 top-level comments: held without replies (hidden), held with a
	 * published reply (a tombstone), deleted with a reply (a tombstone),
	 * deleted without one (gone), and published ones with published and
	 * held replies. */
	for (int i = 0; i < 140; i++) {
		int64_t top =
		    create(c, "/hidden", 0, "h@example.org", "top", COMMENT_PUBLISHED, &err, NULL);
		bool tomb = false, shown = true;

		if (i % 5 == 0) {
			set_status(top, "pending");
			shown = false;
		} else if (i % 7 == 0) {
			create(c, "/hidden", top, "r@example.org", "reply", COMMENT_PUBLISHED, &err,
			       NULL);
			set_status(top, "pending");
			tomb = true;
		} else if (i % 11 == 0) {
			create(c, "/hidden", top, "r@example.org", "reply", COMMENT_PUBLISHED, &err,
			       NULL);
			removed[nremoved++] = top;
			tomb = true;
		} else if (i % 13 == 0) {
			removed[nremoved++] = top;
			shown = false;
		} else {
			for (int k = 0; k < i % 3; k++)
				create(c, "/hidden", top, "r@example.org", "reply",
				       COMMENT_PUBLISHED, &err, NULL);
			if (i % 4 == 1)
				set_status(create(c, "/hidden", top, "p@example.org", "held",
						  COMMENT_PUBLISHED, &err, NULL),
					   "pending");
		}
		if (shown) {
			want[nwant] = top;
			want_deleted[nwant++] = tomb;
		}
	}
	create(c, "/only-held", 0, "o@example.org", "held", COMMENT_PENDING, &err, NULL);
	create(c, "/q\"uote/\xc3\xa9t\xc3\xa9", 0, "u@example.org", "odd path", COMMENT_PUBLISHED,
	       &err, NULL);
	store_commit(conn);
	for (size_t i = 0; i < nremoved; i++)
		tombstone(removed[i]); /* a tombstone with replies, else gone */
	config_free(c);

	is_int(read_pages("/flat150", 64, 300, big), 3,
	       "150 top-level comments without replies, 64 a page: 3 pages");
	is_int(read_pages("/flat150", 65, 300, big), 3, "65 a page: 3 pages");
	is_int(read_pages("/flat150", 150, 300, big), 1, "150 a page: one page, no cursor");
	is_int(read_pages("/flat150", 149, 300, big), 2, "149 a page: the last on a second page");
	is_int(read_pages("/flat150", 200, 150, big), 1, "a budget of exactly 150 rows: one page");
	is_int(read_pages("/flat150", 200, 149, big), 2, "of 149 rows: two pages");
	is_int(read_pages("/exact", 64, 192, big), 1,
	       "64 top-level comments and 128 replies, exactly the page's limits: one page");
	is_int(read_pages("/exact", 64, 191, big), 2,
	       "one row less: the last reply on a second page");
	is_int(read_pages("/exact", 63, 1000, big), 2, "one top-level comment less: two pages");
	is_int(read_pages("/exact", 200, 190, big), 2, "190 rows: two pages");

	ngot = page_tops("/hidden", got, got_deleted, 200);
	same = ngot == nwant;
	for (size_t i = 0; same && i < nwant; i++)
		same = got[i] == want[i] && got_deleted[i] == want_deleted[i];
	ok(same,
	   "one page of 140 top-level comments: held or deleted ones without replies hidden, "
	   "with published replies tombstones (%zu shown, want %zu)",
	   ngot, nwant);
	for (size_t o = 0; o < 3; o++)
		for (size_t a = 0; a < sizeof(roots) / sizeof(*roots); a++)
			for (size_t b = 0; b < sizeof(rows) / sizeof(*rows); b++)
				for (size_t k = 0; k < 2; k++) {
					checked++;
					if (read_pages_in("/hidden", "ont"[o], roots[a], rows[b],
							  bytes[k]) == 0) {
						failed++;
						diag("/hidden order %c roots %u rows %u bytes %zu",
						     "ont"[o], roots[a], rows[b], bytes[k]);
					}
				}
	is_int(failed, 0,
	       "%zu ways to page a thread with hidden and deleted top-level comments: every "
	       "published comment exactly once, in order, within the budgets",
	       checked);

	{
		json_t *paths = json_pack("[s, s, s, s, s, s]", "/flat150", "/only-held", "/exact",
					  "/flat150", "/nowhere", "/q\"uote/\xc3\xa9t\xc3\xa9");
		json_t *counts = NULL;

		is_int(comment_counts(conn, "default", paths, &counts), 0,
		       "counts of six paths, one twice");
		is_int(json_object_size(counts), 5, "  one entry per distinct path");
		is_int(json_integer_value(json_object_get(counts, "/flat150")), 150,
		       "  /flat150: 150");
		is_int(json_integer_value(json_object_get(counts, "/exact")), 192, "  /exact: 192");
		ok(json_is_integer(json_object_get(counts, "/only-held")) &&
		       json_integer_value(json_object_get(counts, "/only-held")) == 0,
		   "  a thread with only a held comment: 0");
		ok(json_is_integer(json_object_get(counts, "/nowhere")) &&
		       json_integer_value(json_object_get(counts, "/nowhere")) == 0,
		   "  no such thread: 0");
		is_int(json_integer_value(json_object_get(counts, "/q\"uote/\xc3\xa9t\xc3\xa9")), 1,
		       "  a path with a quote and non-ASCII letters: 1");
		json_decref(counts);
		counts = NULL;
		is_int(comment_counts(conn, "elsewhere", paths, &counts), 0, "on another site");
		is_int(json_integer_value(json_object_get(counts, "/flat150")), 0,
		       "  the same paths count 0 there");
		json_decref(counts);
		json_decref(paths);
	}
}

static void test_cursor(void)
{
	struct comment_cursor cur = {COMMENT_SORT_OLDEST, 0, 42, COMMENT_ROW_DONE}, back;
	char text[COMMENT_CURSOR_MAX];
	static const char *const bad[] = {
	    "",
	    "x",
	    "MTpvOjA6NDI",
	    "@@@@",
	    "MTpvOjA6NDI6",
	    "MTp4OjA6NDI6MQ",			      /* sort x */
	    "MjpvOjA6NDI6MQ",			      /* version 2 */
	    "MTpvOi0xOjQyOjE",			      /* key -1 */
	    "MTpvOjA6NDI6MTo",			      /* trailing : */
	    "MTpvOjA6OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ", /* 20 digits */
	    "MTpvOjA6NDI6MQ==",			      /* padding */
	    "MTpvOjA6NDI6MQ\n",
	};

	is_int(comment_cursor_format(&cur, text), 0, "a cursor formats");
	ok(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	       strlen(text),
	   "as base64url text (%s)", text);
	is_int(comment_cursor_parse(text, &back), 0, "and parses back");
	ok(back.sort == cur.sort && back.key == 0 && back.root == 42 && back.row == INT64_MAX,
	   "to the same position");
	cur.row = 7;
	cur.key = 3;
	comment_cursor_format(&cur, text);
	comment_cursor_parse(text, &back);
	ok(back.row == 7 && back.key == 3, "a position inside a comment's replies, a sort key");
	for (const char *o = "nt"; *o; o++) {
		cur.sort = *o;
		comment_cursor_format(&cur, text);
		ok(comment_cursor_parse(text, &back) == 0 && back.sort == *o,
		   "a cursor of order %c parses back to it", *o);
	}
	{
		char sort = 0;
		ok(comment_sort_parse("oldest", &sort) == 0 && sort == COMMENT_SORT_OLDEST &&
		       comment_sort_parse("newest", &sort) == 0 && sort == COMMENT_SORT_NEWEST &&
		       comment_sort_parse("top", &sort) == 0 && sort == COMMENT_SORT_TOP,
		   "the orders' names");
		ok(comment_sort_parse("best", &sort) == 1 && comment_sort_parse(NULL, &sort) == 1 &&
		       comment_sort_parse("Top", &sort) == 1,
		   "other names are refused");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		is_int(comment_cursor_parse(bad[i], &back), 1, "not a cursor: \"%s\"", vis(bad[i]));
	ok(comment_cursor_parse(NULL, &back) == 1, "NULL is not a cursor");
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0, k;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
		}
		k = fread(data + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*len = n;
	return data;
}

static bool mem_has(const char *hay, size_t len, const char *needle)
{
	return hay && memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* Sets column col ("author" or "url") of comment id to value, bytes as
 * they are (what validation would have refused too). */
static void set_column(int64_t id, const char *col, const char *value)
{
	char sql[120];
	struct store_stmt *q;

	snprintf(sql, sizeof(sql), "UPDATE comments SET %s = ?1 WHERE id = %lld", col,
		 (long long)id);
	q = store_stmt_new(conn, sql);
	store_bind_text(q, 1, value);
	store_row(conn, q);
	store_stmt_free(q);
}

/* The page as text (comment_thread_page_text) into out's buffer with cap
 * max.  Its result. */
static int page_text(const char *thread, size_t max, char **out)
{
	struct comment_page_query q = {
	    create_site,
	    thread,
	    (struct comment_cursor){COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE},
	    100,
	    100000,
	    (size_t)1 << 30};
	struct buf b;
	int r;

	buf_init(&b, max);
	r = comment_thread_page_text(conn, &q, &b);
	*out = buf_steal(&b);
	return r;
}

/* comment_thread_page_text on strings that need escaping, a thread that
 * does not exist, a cap, and a stored string that is not UTF-8. */
static void test_page_text(bool pg)
{
	static const char thread[] = "/caf\xc3\xa9/\"q\"/\xf0\x9f\x98\x80";
	static const char *const texts[] = {
	    "quotes \"q\" and 'a', back\\slash, <b> & /slash/",
	    "lines\nand\ttabs\r\n\n```\ncode\twith\ttabs\n```",
	    "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xe2\x80\xa9 end"};
	struct config *c = NULL;
	struct comment_error err;
	char e[CONFIG_ERR_MAX], *text = NULL;
	int64_t ids[6];
	json_t *j = NULL;
	unsigned before = text_pages, differ = text_differ;

	config_new(&c);
	config_set(c, "max_depth", "5", e);
	for (int i = 0; i < 3; i++)
		ids[i] = create(c, thread, i ? ids[i - 1] : 0, "t@example.org", texts[i],
				COMMENT_PUBLISHED, &err, NULL);
	ids[3] = create(c, thread, ids[0], "t@example.org", "tomb", COMMENT_PUBLISHED, &err, NULL);
	ids[4] = create(c, thread, ids[3], "t@example.org", "below", COMMENT_PUBLISHED, &err, NULL);
	ids[5] = create(c, thread, 0, "t@example.org", "held", COMMENT_PUBLISHED, &err, NULL);
	ok(ids[0] > 0 && ids[4] > 0 && ids[5] > 0, "a thread with quotes and UTF-8 in its path");
	tombstone(ids[3]);
	set_status(ids[5], "spam");
	set_column(ids[1], "author", "Ann \"A\" \\ \x01\x1f\x7f \xc3\xa9");
	set_column(ids[2], "url", "https://ann.example/a\"b\\c/</script>");
	is_int(page(thread, 100, 0, &j), 0, "its page");
	json_decref(j);
	for (unsigned rows = 1; rows <= 4; rows++) {
		struct comment_page_query q = {
		    create_site,
		    thread,
		    (struct comment_cursor){COMMENT_SORT_NEWEST, 0, 0, COMMENT_ROW_DONE},
		    1,
		    rows,
		    (size_t)1 << 30};
		for (int n = 0; n < 8; n++) {
			const char *cursor;
			if (thread_page(conn, &q, &j) != 0)
				break;
			cursor = json_string_value(json_object_get(j, "cursor"));
			if (!cursor || comment_cursor_parse(cursor, &q.from) != 0)
				n = 8;
			json_decref(j);
		}
	}
	ok(text_pages - before >= 8 && text_differ == differ,
	   "its pages as text, page by page: the dump of their JSON");
	is_int(page_text("/no/such/thread", 1000, &text), 0, "a thread that does not exist");
	is_str(text, "{\"thread\":\"/no/such/thread\",\"count\":0,\"comments\":[],\"cursor\":null}",
	       "  is an empty page");
	free(text);
	is_int(page_text(thread, 200, &text), -E2BIG, "a page past the buffer's cap: -E2BIG");
	free(text);
	if (!pg) {
		/* PostgreSQL keeps no text that is not UTF-8 in the first place. */
		set_column(ids[2], "author", "An\xffn");
		is_int(page(thread, 100, 0, &j) < 0, 1,
		       "a stored author that is not UTF-8: the JSON page fails");
		is_int(page_text(thread, COMMENT_PAGE_TEXT_MAX, &text), -EILSEQ,
		       "  and the text says -EILSEQ");
		free(text);
		set_column(ids[2], "author", "Ann");
	}
	config_free(c);
}

static void test_store(void)
{
	struct config *c = NULL;
	struct comment_error err;
	char path[400], e[CONFIG_ERR_MAX], shape[512];
	unsigned char master[KEYS_MASTER_BYTES];
	json_t *j = NULL, *t = NULL;
	int64_t A, B, C, D, E, P, S, X, ids[8];
	time_t before = time(NULL);

	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(0xa5 ^ i);
	keys_new_from_bytes(&keys, master);
	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "c"));
	is_int(store_new(&st, path, 1), 0, "store_new on a temporary file");
	if (!st)
		exit(1);
	conn = store_acquire(st);
	const bool pg = store_postgresql(conn);
	config_new(&c);
	config_set(c, "max_depth", "3", e);

	/* A top-level comment and its public form. */
	A = create(c, "/post", 0, "Secret.Person@Example.ORG", "Hello *world*", COMMENT_PUBLISHED,
		   &err, &j);
	ok(A > 0, "create a top-level comment (id %lld)", (long long)A);
	is_str(json_string_value(json_object_get(j, "thread")), "/post", "out: thread");
	ok(json_is_null(json_object_get(j, "parent")), "out: parent null");
	is_str(json_string_value(json_object_get(j, "author")), "Ann", "out: author");
	ok(json_is_null(json_object_get(j, "url")), "out: url null");
	is_str(json_string_value(json_object_get(j, "html")), "<p>Hello <em>world</em></p>",
	       "out: html rendered");
	is_str(json_string_value(json_object_get(j, "status")), "published", "out: status");
	{
		char want[KEYS_AVATAR_HEX];
		keys_avatar(keys, "secret.person@example.org", want);
		is_str(json_string_value(json_object_get(j, "avatar")), want,
		       "out: avatar of the normalised address");
		struct tm tm = {0};
		const char *cr = json_string_value(json_object_get(j, "created"));
		ok(cr && strptime(cr, "%Y-%m-%dT%H:%M:%SZ", &tm) && timegm(&tm) >= before &&
		       timegm(&tm) <= time(NULL) + 1,
		   "out: created is now (%s)", cr ? cr : "(null)");
		char *dump = json_dumps(j, 0);
		ok(dump && !strstr(dump, "secret") && !strstr(dump, "Secret") && !strstr(dump, "@"),
		   "out: no e-mail address");
		ok(!json_object_get(j, "email") && !json_object_get(j, "email_hash") &&
		       !json_object_get(j, "ip"),
		   "out: no email, email_hash or ip members");
		free(dump);
	}
	json_decref(j);
	{
		/* The stored hash is the keyed hash of the normalised address. */
		unsigned char want[KEYS_HASH_BYTES];
		struct store_stmt *q = NULL;
		bool same = false;
		keys_hash(keys, KEYS_EMAIL, "secret.person@example.org", 25, want);
		q = store_stmt_new(
		    conn,
		    "SELECT email_hash, depth, root_id, text, ip, ip_sealed, email_domain_sealed"
		    " FROM comments WHERE id=?1");
		store_bind_int64(q, 1, A);
		if (store_row(conn, q) == 1) {
			same = store_col_bytes(q, 0) == KEYS_HASH_BYTES &&
			       memcmp(store_col_blob(q, 0), want, KEYS_HASH_BYTES) == 0;
			is_int(store_col_int(q, 1), 1, "a top-level comment has depth 1");
			is_int(store_col_int64(q, 2), A, "and is its own root");
			is_str(store_col_text(q, 3), "Hello *world*",
			       "the text is stored as written");
			ok(store_col_type(q, 4) == STORE_NULL, "the ip is not kept in clear");
			ok(store_col_bytes(q, 5) == strlen("192.0.2.1") + KEYS_SEAL_OVERHEAD,
			   "but sealed (%zu bytes)", store_col_bytes(q, 5));
			ok(store_col_bytes(q, 6) > KEYS_SEAL_OVERHEAD, "so is the e-mail domain");
		}
		store_stmt_free(q);
		{
			struct comment_row row;
			is_int(comment_load(conn, keys, A, &row), 1, "comment_load with the key");
			is_str(row.ip, "192.0.2.1", "opens the address");
			comment_row_clear(&row);
			is_int(comment_load(conn, NULL, A, &row), 1, "comment_load without it");
			ok(row.ip == NULL && row.email_domain == NULL, "opens nothing");
			comment_row_clear(&row);
		}
		ok(same, "email_hash is keys_hash(KEYS_EMAIL, normalised address)");
	}

	/* Replies and the depth cap (max_depth 3). */
	B = create(c, "/post", A, "b@example.org", "reply B", COMMENT_PUBLISHED, &err, &j);
	ok(B > 0, "B replies to A");
	is_int(json_integer_value(json_object_get(j, "parent")), A, "out: B's parent is A");
	json_decref(j);
	C = create(c, "/post", B, "c@example.org", "reply C", COMMENT_PUBLISHED, &err, NULL);
	ok(C > 0, "C replies to B (depth 3 = max_depth)");
	D = create(c, "/post", C, "d@example.org", "reply D", COMMENT_PUBLISHED, &err, &j);
	ok(D > 0, "D replies to C (would be depth 4)");
	is_int(json_integer_value(json_object_get(j, "parent")), B,
	       "D attaches to B, the deepest ancestor that may have replies");
	json_decref(j);
	is_int(
	    count_sql("SELECT depth FROM comments WHERE id = (SELECT max(id) FROM comments)", NULL),
	    3, "D is stored at depth 3");
	E = create(c, "/post", D, "e@example.org", "reply E", COMMENT_PUBLISHED, &err, &j);
	is_int(json_integer_value(json_object_get(j, "parent")), B,
	       "E (reply to D) also goes to B");
	json_decref(j);
	X = create(c, "/post", 0, "x@example.org", "second top", COMMENT_PUBLISHED, &err, NULL);
	ok(X > 0, "a second top-level comment X");
	ids[0] = A;
	ids[1] = B;
	ids[2] = C;
	ids[3] = D;
	ids[4] = E;
	ids[5] = X;

	is_int(page("/post", 1000, 0, &t), 0, "comment_thread_page");
	is_str(json_string_value(json_object_get(t, "thread")), "/post", "thread member");
	is_int(json_integer_value(json_object_get(t, "count")), 6, "count of published comments");
	shape[0] = '\0';
	tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), ids, 6);
	is_str(shape, "A(B(C D E)) F", "reply tree");
	{
		char *dump = json_dumps(t, 0);
		ok(dump && !strstr(dump, "@example.org") && !strstr(dump, "192.0.2.1") &&
		       !strstr(dump, "test-agent"),
		   "the public thread holds no e-mail, ip or user agent");
		ok(json_is_null(json_object_get(t, "cursor")), "the whole thread: no cursor");
		free(dump);
	}
	json_decref(t);

	/* max_depth 1: replies become top-level. */
	{
		struct config *flat = NULL;
		config_new(&flat);
		config_set(flat, "max_depth", "1", e);
		P = create(flat, "/flat", 0, "p@example.org", "top", COMMENT_PUBLISHED, &err, NULL);
		int64_t R =
		    create(flat, "/flat", P, "r@example.org", "reply", COMMENT_PUBLISHED, &err, &j);
		ok(R > 0, "max_depth 1: a reply is accepted");
		ok(json_is_null(json_object_get(j, "parent")), "and becomes top-level");
		json_decref(j);
		is_int(count_sql("SELECT count(*) FROM comments WHERE root_id = id AND thread_id = "
				 "(SELECT id FROM threads WHERE path = ?1)",
				 "/flat"),
		       2, "both are their own roots");
		config_free(flat);
	}

	/* Invalid parents. */
	{
		int64_t before_rows = count_sql("SELECT count(*) FROM comments", NULL);
		int64_t r;

		S = create(c, "/post", 0, "s@example.org", "pending one", COMMENT_PENDING, &err,
			   &j);
		ok(S > 0, "a pending comment");
		is_str(json_string_value(json_object_get(j, "status")), "pending",
		       "out: status pending");
		json_decref(j);
		r = create(c, "/post", S, "t@example.org", "reply to pending", COMMENT_PUBLISHED,
			   &err, NULL);
		ok(r == -COMMENT_INVALID && err.status == 422 &&
		       strcmp(err.code, "invalid_parent") == 0,
		   "a reply to a pending comment is 422 invalid_parent");
		int64_t sp =
		    create(c, "/post", 0, "sp@example.org", "spam one", COMMENT_SPAM, &err, &j);
		ok(sp > 0, "a spam comment is stored");
		ok(strcmp(json_string_value(json_object_get(j, "status")), "spam") != 0,
		   "its public status does not reveal spam (%s)",
		   json_string_value(json_object_get(j, "status")));
		json_decref(j);
		r = create(c, "/post", sp, "t@example.org", "reply to spam", COMMENT_PUBLISHED,
			   &err, NULL);
		ok(r == -COMMENT_INVALID && strcmp(err.code, "invalid_parent") == 0,
		   "a reply to spam is invalid_parent");
		r = create(c, "/post", 999999, "t@example.org", "reply to nothing",
			   COMMENT_PUBLISHED, &err, NULL);
		ok(r == -COMMENT_INVALID && err.status == 422 &&
		       strcmp(err.code, "invalid_parent") == 0,
		   "a reply to a missing comment is 422 invalid_parent");
		r = create(c, "/other", A, "t@example.org", "cross-thread", COMMENT_PUBLISHED, &err,
			   NULL);
		ok(r == -COMMENT_INVALID && err.status == 422 &&
		       strcmp(err.code, "invalid_parent") == 0,
		   "a reply to a comment of another thread is 422 invalid_parent");
		is_int(count_sql("SELECT count(*) FROM comments", NULL), before_rows + 2,
		       "refused replies stored nothing");
		is_int(count_sql("SELECT count(*) FROM threads WHERE path = ?1", "/other"), 0,
		       "and a refused reply's new thread was rolled back");
		ok(!store_in_transaction(conn), "no transaction is left open");
	}

	/* Hidden comments stay out of the thread. */
	is_int(page("/post", 1000, 0, &t), 0, "comment_thread_page again");
	is_int(json_integer_value(json_object_get(t, "count")), 6,
	       "pending and spam comments are not counted");
	shape[0] = '\0';
	tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), ids, 6);
	is_str(shape, "A(B(C D E)) F", "nor shown");
	json_decref(t);
	{
		/* A published reply under a comment that is later hidden. */
		int64_t H = create(c, "/hide", 0, "h@example.org", "to be hidden",
				   COMMENT_PUBLISHED, &err, NULL);
		int64_t HR =
		    create(c, "/hide", H, "hr@example.org", "reply", COMMENT_PUBLISHED, &err, NULL);
		ok(H > 0 && HR > 0, "a comment and a reply in /hide");
		char sql[100];
		snprintf(sql, sizeof(sql), "UPDATE comments SET status='spam' WHERE id=%lld",
			 (long long)H);
		store_exec(conn, sql);
		page("/hide", 1000, 0, &t);
		{
			json_t *top = json_array_get(json_object_get(t, "comments"), 0);
			json_t *reply = json_array_get(json_object_get(top, "replies"), 0);
			ok(json_array_size(json_object_get(t, "comments")) == 1 &&
			       json_integer_value(json_object_get(top, "id")) == H &&
			       json_is_true(json_object_get(top, "deleted")) &&
			       !json_object_get(top, "html") && !json_object_get(top, "author"),
			   "a comment moved to spam shows as a tombstone, without its content");
			ok(json_integer_value(json_object_get(reply, "id")) == HR &&
			       json_object_get(reply, "html"),
			   "with its published reply beneath it");
			is_int(json_integer_value(json_object_get(t, "count")), 1,
			       "which is counted: count is what readers see");
		}
		json_decref(t);
	}

	/* Unknown thread. */
	is_int(page("/nothing-here", 50, 0, &t), 0, "an unknown thread");
	is_int(json_integer_value(json_object_get(t, "count")), 0, "has count 0");
	ok(json_is_array(json_object_get(t, "comments")) &&
	       json_array_size(json_object_get(t, "comments")) == 0,
	   "and no comments");
	json_decref(t);

	/* Pagination over top-level comments; replies travel with them. */
	{
		int64_t top[5], rep[5];
		char want[64];
		for (int i = 0; i < 5; i++) {
			top[i] = create(c, "/page", 0, "p@example.org", "top", COMMENT_PUBLISHED,
					&err, NULL);
			rep[i] = create(c, "/page", top[i], "q@example.org", "reply",
					COMMENT_PUBLISHED, &err, NULL);
		}
		ok(top[4] > 0 && rep[4] > 0, "five top-level comments with a reply each");
		/* Reply order: interleave a late reply to the first. */
		int64_t late = create(c, "/page", top[0], "l@example.org", "late",
				      COMMENT_PUBLISHED, &err, NULL);
		int64_t pids[12] = {top[0], top[1], top[2], top[3], top[4], rep[0],
				    rep[1], rep[2], rep[3], rep[4], late};
		(void)want;

		page("/page", 2, 0, &t);
		shape[0] = '\0';
		tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
		is_str(shape, "A(F K) B(G)",
		       "limit 2: the first two with their replies, oldest first");
		is_int(json_integer_value(json_object_get(t, "count")), 11,
		       "count is the whole thread's");
		json_decref(t);
		page("/page", 2, top[1], &t);
		shape[0] = '\0';
		tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
		is_str(shape, "C(H) D(I)", "after the second: the next two");
		json_decref(t);
		page("/page", 2, top[3], &t);
		shape[0] = '\0';
		tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
		is_str(shape, "E(J)", "then the last");
		json_decref(t);
		page("/page", 2, top[4], &t);
		is_int(json_array_size(json_object_get(t, "comments")), 0, "then nothing");
		json_decref(t);
		page("/page", 1000, top[2], &t);
		shape[0] = '\0';
		tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
		is_str(shape, "D(I) E(J)", "a large limit after the third: all the rest");
		json_decref(t);
		page("/page", 2, rep[0], &t);
		shape[0] = '\0';
		tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
		is_str(shape, "B(G) C(H)", "after a reply id: top-level ids after it");
		json_decref(t);
		/* One conversation: a page of one top-level comment from where
		 * comment_conversation_start puts it. */
		{
			struct comment_page_query q = {"default", "/page", {0},
						       1,	  100000,  (size_t)1 << 30};
			is_int(comment_conversation_start(conn, "default", "/page", late,
							  COMMENT_SORT_OLDEST, &q.from),
			       1, "the conversation of a reply");
			ok(q.from.root == top[0] && q.from.row == 0 &&
			       q.from.sort == COMMENT_SORT_OLDEST,
			   "  starts at its top-level comment");
			thread_page(conn, &q, &t);
			shape[0] = '\0';
			tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
			is_str(shape, "A(F K)", "  which comes with all its replies");
			is_int(json_integer_value(json_object_get(t, "count")), 11,
			       "  count is still the whole thread's");
			json_decref(t);
			is_int(comment_conversation_start(conn, "default", "/page", top[2],
							  COMMENT_SORT_OLDEST, &q.from),
			       1, "the conversation of a top-level comment");
			thread_page(conn, &q, &t);
			shape[0] = '\0';
			tree_shape(json_object_get(t, "comments"), shape, sizeof(shape), pids, 11);
			is_str(shape, "C(H)", "  is that comment with its reply");
			json_decref(t);
			is_int(comment_conversation_start(conn, "default", "/post", top[2],
							  COMMENT_SORT_OLDEST, &q.from),
			       0, "a comment of another thread: none");
			is_int(comment_conversation_start(conn, "default", "/page", 999999,
							  COMMENT_SORT_OLDEST, &q.from),
			       0, "an unknown id: none");
			is_int(comment_conversation_start(conn, "elsewhere", "/page", late,
							  COMMENT_SORT_OLDEST, &q.from),
			       0, "the same path on another site: none");
		}
	}

	/* Counts. */
	{
		json_t *paths = json_pack("[s, s, s, s]", "/post", "/page", "/nothing", "/flat");
		json_t *counts = NULL;
		is_int(comment_counts(conn, "default", paths, &counts), 0, "comment_counts");
		is_int(json_integer_value(json_object_get(counts, "/post")), 6, "/post: 6");
		is_int(json_integer_value(json_object_get(counts, "/page")), 11, "/page: 11");
		ok(json_is_integer(json_object_get(counts, "/nothing")) &&
		       json_integer_value(json_object_get(counts, "/nothing")) == 0,
		   "/nothing: 0");
		is_int(json_integer_value(json_object_get(counts, "/flat")), 2, "/flat: 2");
		is_int(json_object_size(counts), 4, "one entry per path");
		json_decref(counts);
		json_decref(paths);
		paths = json_array();
		comment_counts(conn, "default", paths, &counts);
		ok(json_is_object(counts) && json_object_size(counts) == 0, "no paths: {}");
		json_decref(counts);
		json_decref(paths);
	}

	/* The same address always hashes the same (for "previously approved"). */
	is_int(count_sql("SELECT count(DISTINCT email_hash) FROM comments WHERE thread_id = "
			 "(SELECT id FROM threads WHERE path = ?1)",
			 "/page"),
	       3, "/page: three addresses, three distinct hashes");

	test_pages();
	test_batches();
	test_cursor();
	test_page_text(pg);
	is_int(text_differ, 0, "all %u pages read as text were byte for byte their JSON's dump",
	       text_pages);
	store_release(st, conn);
	conn = NULL;

	/* The raw address never reaches the file (database, WAL, shared memory). */
	static const char *const needles[] = {"secret.person@example.org",
					      "Secret.Person@Example.ORG",
					      "secret.person",
					      "Secret.Person",
					      "b@example.org",
					      "p@example.org",
					      "example.org",
					      "192.0.2.1",
					      "192.0.2.0"};
	if (pg) {
		struct store_conn *c2 = store_acquire(st);
		int64_t found = 0;
		char where[128];

		/* PostgreSQL's files are the server's: every value of every
		 * table instead (what a dump or the data directory holds). */
		for (size_t i = 0; i < sizeof(needles) / sizeof(*needles) && found >= 0; i++) {
			int64_t n = fixture_scan_tables(c2, needles[i], strlen(needles[i]), where,
							sizeof(where));
			if (n > 0)
				diag("found \"%s\" in %s", needles[i], where);
			found = n < 0 ? -1 : found + n;
		}
		is_int(found, 0,
		       "PostgreSQL: no e-mail address (or part) or client address in any table");
		ok(fixture_scan_tables(c2, "second top", 10, where, sizeof(where)) > 0,
		   "(while comment text is found there)");
		store_release(st, c2);
	} else {
		static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
		size_t total = 0;
		int found = 0;
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
			char p[420];
			size_t len;
			char *data;
			snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
			data = read_all(p, &len);
			total += len;
			for (size_t k = 0; data && k < sizeof(needles) / sizeof(*needles); k++) {
				if (mem_has(data, len, needles[k])) {
					diag("found \"%s\" in %s", needles[k], p);
					found++;
				}
			}
			free(data);
		}
		ok(total > 0, "read %zu bytes of database files while open", total);
		is_int(found, 0,
		       "no e-mail address (or part) or client address in the database files");
		/* The check can fail: the text of a comment is there. */
		char *data;
		size_t len, len2;
		char p[420];
		data = read_all(path, &len);
		snprintf(p, sizeof(p), "%s-wal", path);
		char *wal = read_all(p, &len2);
		ok(mem_has(data, len, "second top") || mem_has(wal, len2, "second top"),
		   "(while comment text is found there)");
		free(data);
		free(wal);
	}
	store_free(st);
	if (!pg) {
		/* After close (checkpointed into the main file). */
		size_t len;
		char *data = read_all(path, &len);
		ok(data && len > 0 && !mem_has(data, len, "secret.person") &&
		       !mem_has(data, len, "example.org"),
		   "nor after close (%zu bytes)", len);
		ok(mem_has(data, len, "Hello *world*"), "(where the text is)");
		free(data);
	}
	keys_free(keys);
	config_free(c);
}

/* comment_preview: the rules for texts, then the renderer that stores
 * comments. */
static void test_preview(void)
{
	struct config *c = NULL;
	struct comment_error err = {0};
	char errs[CONFIG_ERR_MAX], *html = NULL;

	config_new(&c);
	config_set(c, "max_text", "40", errs);
	is_int(comment_preview(c, "- een\n- https://example.org", &html, &err), 0, "a preview");
	is_str(html,
	       "<ul>\n<li>een</li>\n<li><a href=\"https://example.org\" rel=\"nofollow ugc\">"
	       "https://example.org</a></li>\n</ul>",
	       "rendered as a stored comment would be");
	free(html);
	html = NULL;
	is_int(comment_preview(c, " \n\t", &html, &err), COMMENT_INVALID, "blank text refused");
	is_str(err.code, "missing_text", "  missing_text");
	ok(html == NULL, "  no html");
	is_int(comment_preview(c, NULL, &html, &err), COMMENT_INVALID, "no text refused");
	is_int(comment_preview(c, "0123456789012345678901234567890123456789x", &html, &err),
	       COMMENT_INVALID, "longer than max_text refused");
	is_str(err.code, "text_too_long", "  text_too_long");
	is_int(comment_preview(c, "a\x01b", &html, &err), COMMENT_INVALID, "control characters");
	is_str(err.code, "invalid_text", "  invalid_text");
	is_int(comment_preview(c, "\xff", &html, &err), COMMENT_INVALID, "invalid UTF-8");
	is_int(err.status, 400, "  400");
	config_free(c);
}

/* The ids met in a page's tree (tombstones included) into ids[]; how many. */
static size_t page_ids(json_t *list, int64_t *ids, size_t n, size_t cap)
{
	size_t i;
	json_t *node;

	json_array_foreach(list, i, node)
	{
		if (n < cap)
			ids[n++] = json_integer_value(json_object_get(node, "id"));
		n = page_ids(json_object_get(node, "replies"), ids, n, cap);
	}
	return n;
}

/* Whether id is among n ids. */
static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

/* Paging two threads with one path (blog's /about/ holds a1): each reads
 * page by page as its own, and a cursor made for one never shows the
 * other's comments. */
static void test_sites_pages(const struct config *c, int64_t a1)
{
	struct comment_error err;
	int64_t blog_reply, ids[64];
	json_t *t = NULL;
	size_t n;

	create_site = "blog";
	blog_reply = create(c, "/about/", a1, "fay@example.org", "A reply on blog",
			    COMMENT_PUBLISHED, &err, NULL);
	for (int i = 0; i < 4; i++)
		create(c, "/about/", 0, "gus@example.org", "More on blog", COMMENT_PUBLISHED, &err,
		       NULL);
	create_site = "notes";
	for (int i = 0; i < 3; i++)
		create(c, "/about/", 0, "hal@example.org", "More on notes", COMMENT_PUBLISHED, &err,
		       NULL);
	create_site = "blog";
	is_int(read_pages("/about/", 1, 1, (size_t)1 << 30), 7,
	       "blog's /about/ reads one comment a page, its own 7");
	create_site = "notes";
	is_int(read_pages("/about/", 1, 1, (size_t)1 << 30), 4,
	       "notes' /about/ reads its own 4, one a page");
	{
		json_t *paths = json_pack("[s]", "/about/"), *counts = NULL;
		comment_counts(conn, "blog", paths, &counts);
		is_int(json_integer_value(json_object_get(counts, "/about/")), 7,
		       "and the counts follow: blog 7");
		json_decref(counts);
		comment_counts(conn, "notes", paths, &counts);
		is_int(json_integer_value(json_object_get(counts, "/about/")), 4, "notes 4");
		json_decref(counts);
		json_decref(paths);
	}

	/* A cursor inside blog's first comment's replies, handed to notes. */
	page_from("notes", "/about/", 50, (struct comment_cursor){COMMENT_SORT_OLDEST, 0, a1, 0},
		  &t);
	n = page_ids(json_object_get(t, "comments"), ids, 0, 64);
	ok(n > 0 && !has_id(ids, n, a1) && !has_id(ids, n, blog_reply),
	   "a cursor into blog's comment shows notes none of blog's rows (%zu rows)", n);
	is_int(count_sql2("SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
			  " WHERE t.site = ?1 AND t.path = ?2",
			  "notes", "/about/"),
	       (int64_t)n, "only notes' own, all of them after a1");
	json_decref(t);
	/* And the same in blog's thread reads blog's rows after a1's start. */
	page_from("blog", "/about/", 1, (struct comment_cursor){COMMENT_SORT_OLDEST, 0, a1, 0}, &t);
	n = page_ids(json_object_get(t, "comments"), ids, 0, 64);
	ok(n == 2 && has_id(ids, n, a1) && has_id(ids, n, blog_reply),
	   "in blog the cursor reads a1 and its reply");
	json_decref(t);
}

/* Two sites with the same path stay apart: threads, pages and cursors,
 * counts, versions, replies, sealed data, decoys and the commenter's
 * history. */
static void test_sites(void)
{
	struct config *c = NULL;
	struct comment_error err;
	char path[400];
	unsigned char master[KEYS_MASTER_BYTES], hash[KEYS_HASH_BYTES];
	json_t *t = NULL, *paths, *counts = NULL;
	int64_t a1, a2, b1, v_a = 0, v_b = 0, parent;

	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(0x3c ^ i);
	keys_new_from_bytes(&keys, master);
	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "sites"));
	is_int(store_new(&st, path, 1), 0, "a store for two sites");
	if (!st)
		exit(1);
	conn = store_acquire(st);
	config_new(&c);
	create_site = "blog";
	a1 = create(c, "/about/", 0, "ann@example.org", "On blog", COMMENT_PUBLISHED, &err, NULL);
	a2 = create(c, "/about/", 0, "bob@example.org", "Also on blog", COMMENT_PUBLISHED, &err,
		    NULL);
	create_site = "notes";
	b1 = create(c, "/about/", 0, "cat@example.org", "On notes", COMMENT_PUBLISHED, &err, NULL);
	ok(a1 > 0 && a2 > 0 && b1 > 0, "comments on /about/ of two sites");
	is_int(count_sql("SELECT count(*) FROM threads WHERE path = ?1", "/about/"), 2,
	       "two threads with one path");

	create_site = "blog";
	page("/about/", 50, 0, &t);
	is_int(json_integer_value(json_object_get(t, "count")), 2, "blog's thread has its two");
	json_decref(t);
	create_site = "notes";
	page("/about/", 50, 0, &t);
	is_int(json_integer_value(json_object_get(t, "count")), 1, "notes' thread has its one");
	is_int(json_integer_value(
		   json_object_get(json_array_get(json_object_get(t, "comments"), 0), "id")),
	       b1, "and it is notes' comment");
	json_decref(t);
	create_site = "default";
	page("/about/", 50, 0, &t);
	is_int(json_integer_value(json_object_get(t, "count")), 0, "the default site has none");
	json_decref(t);

	paths = json_pack("[s]", "/about/");
	comment_counts(conn, "blog", paths, &counts);
	is_int(json_integer_value(json_object_get(counts, "/about/")), 2, "blog counts 2");
	json_decref(counts);
	comment_counts(conn, "notes", paths, &counts);
	is_int(json_integer_value(json_object_get(counts, "/about/")), 1, "notes counts 1");
	json_decref(counts);
	json_decref(paths);
	test_sites_pages(c, a1);

	comment_thread_version(conn, "blog", "/about/", &v_a);
	comment_thread_version(conn, "notes", "/about/", &v_b);
	create_site = "notes";
	create(c, "/about/", 0, "dan@example.org", "Again", COMMENT_PUBLISHED, &err, NULL);
	{
		int64_t v_a2 = 0, v_b2 = 0;
		comment_thread_version(conn, "blog", "/about/", &v_a2);
		comment_thread_version(conn, "notes", "/about/", &v_b2);
		ok(v_a2 == v_a && v_b2 > v_b, "a post bumps only its site's thread version");
	}

	/* A reply names a parent in its own site's thread only. */
	create_site = "notes";
	ok(create(c, "/about/", a1, "eve@example.org", "Cross", COMMENT_PUBLISHED, &err, NULL) <
		   0 &&
	       strcmp(err.code ? err.code : "", "invalid_parent") == 0,
	   "a reply to another site's comment is refused (%s)", err.code ? err.code : "");
	parent = a1;
	is_int(comment_place(conn, c, "notes", "/about/", &parent, &err), COMMENT_INVALID,
	       "comment_place refuses it too");
	parent = a1;
	is_int(comment_place(conn, c, "blog", "/about/", &parent, &err), 0,
	       "on its own site it is fine");

	/* The commenter's history is per site (moderation = first). */
	comment_email_hash(keys, "ann@example.org", hash);
	is_int(comment_previously_approved(conn, "blog", hash), 1, "ann is known on blog");
	is_int(comment_previously_approved(conn, "notes", hash), 0, "and new on notes");

	/* A comment knows its site, and its sealed client address opens. */
	{
		struct comment_row row;
		is_int(comment_load(conn, keys, b1, &row), 1, "load notes' comment");
		is_str(row.site, "notes", "its site");
		is_str(row.ip ? row.ip : "(null)", "192.0.2.1", "its client address, unsealed");
		comment_row_clear(&row);
		is_int(count_sql("SELECT count(*) FROM comments WHERE ip IS NOT NULL", NULL), 0,
		       "no client address in clear on either site");
	}
	/* Discards are counted per site, and their decoys kept on it. */
	{
		unsigned char edit_hash[KEYS_HASH_BYTES] = {1, 2, 3};
		int64_t id[3] = {0};
		struct comment_decoy dc;
		comment_discard(conn, "blog", time(NULL), edit_hash, NULL, 0, &id[0], &err);
		comment_discard(conn, "blog", time(NULL), edit_hash, NULL, 0, &id[1], &err);
		comment_discard(conn, "notes", time(NULL), edit_hash, "sealed", 6, &id[2], &err);
		is_int(count_sql("SELECT count FROM discarded WHERE site = ?1", "blog"), 2,
		       "two discards on blog");
		is_int(count_sql("SELECT count FROM discarded WHERE site = ?1", "notes"), 1,
		       "one on notes");
		ok(id[0] > 0 && id[1] > id[0] && id[2] > id[1], "each decoy takes a fresh id");
		is_int(comment_decoy_load(conn, id[1], &dc), 1, "blog's decoy loads");
		is_str(dc.site, "blog", "and names blog");
		comment_decoy_clear(&dc);
		is_int(comment_decoy_load(conn, id[2], &dc), 1, "notes' decoy loads");
		is_str(dc.site, "notes", "and names notes");
		ok(dc.sealed_len == 6 && memcmp(dc.sealed, "sealed", 6) == 0, "with its content");
		comment_decoy_clear(&dc);
		/* The insert picks the id itself on SQLite (lib/comment.c
		 * sql_insert): past every decoy's, never one a deleted comment
		 * had, and a top-level comment is its own root. */
		int64_t next = create(c, "/after-decoys", 0, "n@example.org", "after the decoys",
				      COMMENT_PUBLISHED, &err, NULL);
		ok(next > id[2], "the next comment takes an id past every decoy's");
		is_int(
		    count_sql("SELECT count(*) FROM comments WHERE id = root_id AND parent_id IS "
			      "NULL AND id = (SELECT max(id) FROM comments)",
			      NULL),
		    1, "and is its own root");
		struct store_stmt *del = store_stmt_new(conn, "DELETE FROM comments WHERE id = ?1");
		ok(del != NULL, "a statement to delete it");
		if (del)
			store_bind_int64(del, 1, next);
		is_int(del ? store_run(conn, del, "test delete") : -1, 0,
		       "the newest comment deleted");
		store_stmt_free(del);
		int64_t after = create(c, "/after-decoys", 0, "n@example.org", "after the deleted",
				       COMMENT_PUBLISHED, &err, NULL);
		ok(after > next, "the next one does not take the deleted comment's id");
		int64_t reply = create(c, "/after-decoys", after, "r@example.org", "a reply",
				       COMMENT_PUBLISHED, &err, NULL);
		is_int(count_sql(
			   "SELECT root_id FROM comments WHERE id = (SELECT max(id) FROM comments)",
			   NULL),
		       after, "a reply's root is its top-level comment");
		ok(reply > after, "and its id comes after it");
	}
	create_site = "default";
	store_release(st, conn);
	store_free(st);
	keys_free(keys);
	config_free(c);
}

/* Store results as API errors: each refusal its own code, all 503. */
static void test_store_results(void)
{
	static const struct {
		int r;
		const char *code;
	} cases[] = {
	    {STORE_FULL, "storage_full"},
	    {STORE_READONLY, "storage_readonly"},
	    {STORE_UNAVAILABLE, "unavailable"},
	};
	struct comment_error err;

	is_int(comment_store_result(0, &err), 0, "store result 0: no error");
	is_int(comment_store_result(-5, &err), -5, "a negative store result stays negative");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		ok(comment_store_result(cases[i].r, &err) > 0 && err.status == 503 && err.code &&
		       strcmp(err.code, cases[i].code) == 0 && err.message[0],
		   "store result %d: 503 %s", cases[i].r, cases[i].code);
	}
}

int main(void)
{
	if (fixture_tmpdir(&fx, "comment") != 0)
		return 1;
	test_store_results();
	test_thread_check();
	test_validate();
	test_normalise();
	test_names();
	test_store();
	test_preview();
	test_sites();

	fixture_close(&fx);
	return done_testing();
}
