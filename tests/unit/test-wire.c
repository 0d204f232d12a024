/* Unit tests for lib/wire: the public API's bodies and query strings. */
#include "tap.h"

#include "wire.h"

#include <stdlib.h>
#include <string.h>

static const char *hp = "website2"; /* a honeypot field name */

static int json_body(const char *body, struct wire_comment *w, struct comment_error *err)
{
	memset(err, 0, sizeof(*err));
	return wire_comment_json(body, strlen(body), hp, w, err);
}

static void refused_json(const char *body, int status, const char *code, const char *why)
{
	struct comment_error err;
	struct wire_comment w;
	int r = json_body(body, &w, &err);

	is_int(r, COMMENT_INVALID, "json refused: %s", why);
	is_int(err.status, status, "  status %d", status);
	is_str(err.code, code, "  code %s", code);
	ok(w.in.thread == NULL && w.in.email == NULL, "  nothing kept");
	wire_comment_clear(&w);
}

static void test_json(void)
{
	struct comment_error err;
	struct wire_comment w;

	is_int(json_body("{\"thread\":\"/p\",\"parent\":4,\"author\":\"Ann\",\"email\":"
			 "\"a@b.nl\",\"url\":null,\"text\":\"Hoi\",\"stamp\":\"1.x\"}",
			 &w, &err),
	       0, "a full body");
	is_str(w.in.thread, "/p", "thread");
	is_int(w.in.parent, 4, "parent");
	is_str(w.in.author, "Ann", "author");
	is_str(w.in.email, "a@b.nl", "email");
	ok(w.in.url == NULL, "url null is absent");
	is_str(w.in.text, "Hoi", "text");
	is_str(w.stamp, "1.x", "stamp");
	ok(!w.honeypot_filled, "no honeypot");
	ok(w.redirect == NULL, "no redirect from JSON");
	wire_comment_clear(&w);
	ok(w.in.thread == NULL && w.stamp == NULL, "clear zeroes");

	is_int(json_body("{\"text\":\"x\",\"website2\":\"http://spam\"}", &w, &err), 0,
	       "the honeypot field is known");
	ok(w.honeypot_filled, "a filled honeypot");
	wire_comment_clear(&w);
	is_int(json_body("{\"website2\":\" \\t\"}", &w, &err), 0, "blank honeypot");
	ok(!w.honeypot_filled, "blank is not filled");
	wire_comment_clear(&w);
	is_int(json_body("{\"text\":\"x\",\"notify\":true}", &w, &err), 0, "notify true");
	ok(w.notify, "asks for reply notifications");
	wire_comment_clear(&w);
	is_int(json_body("{\"text\":\"x\",\"notify\":false}", &w, &err), 0, "notify false");
	ok(!w.notify, "does not ask");
	wire_comment_clear(&w);
	is_int(json_body("{\"text\":\"x\"}", &w, &err), 0, "no notify");
	ok(!w.notify, "does not ask either");
	wire_comment_clear(&w);
	refused_json("{\"notify\":\"yes\"}", 400, "invalid_type", "notify must be a boolean");
	is_int(json_body("{\"website2\":3}", &w, &err), 0, "a non-string honeypot");
	ok(w.honeypot_filled, "a number counts as filled");
	wire_comment_clear(&w);
	is_int(json_body("{\"website2\":null}", &w, &err), 0, "null honeypot");
	ok(!w.honeypot_filled, "null is not filled");
	wire_comment_clear(&w);

	is_int(json_body("{\"text\":\"x\",\"page_title\":\"Social media\",\"page_url\":"
			 "\"https://blog.example.nl/p\"}",
			 &w, &err),
	       0, "the page's context");
	is_str(w.in.page_title, "Social media", "page_title");
	is_str(w.in.page_url, "https://blog.example.nl/p", "page_url");
	wire_comment_clear(&w);
	ok(w.in.page_title == NULL && w.in.page_url == NULL, "clear frees them");
	is_int(json_body("{\"page_title\":null,\"page_url\":null}", &w, &err), 0,
	       "null context is absent");
	ok(w.in.page_title == NULL && w.in.page_url == NULL, "  absent");
	wire_comment_clear(&w);
	refused_json("{\"page_title\":[\"x\"]}", 400, "invalid_type", "a title that is no string");
	refused_json("{\"page_url\":7}", 400, "invalid_type", "a page URL that is no string");
	refused_json("", 400, "invalid_json", "empty");
	refused_json("[1]", 400, "invalid_json", "an array");
	refused_json("{\"text\":\"a\",\"text\":\"b\"}", 400, "invalid_json", "a duplicate key");
	refused_json("{\"redirect\":\"https://x\"}", 400, "unknown_field", "redirect in JSON");
	refused_json("{\"likes\":1}", 400, "unknown_field", "an unknown field");
	refused_json("{\"thread\":\"/p\",\"text\":5}", 400, "invalid_type", "a number as text");
	refused_json("{\"text\":\"a\\u0000b\"}", 400, "invalid_json", "a NUL in text");
	refused_json("{\"parent\":0}", 400, "invalid_type", "parent 0");
	refused_json("{\"parent\":-3}", 400, "invalid_type", "a negative parent");
	refused_json("{\"parent\":\"3\"}", 400, "invalid_type", "parent as a string");
	refused_json("{\"parent\":1.5}", 400, "invalid_type", "a fractional parent");
	refused_json("{\"thread\":\"/p\"", 400, "invalid_json", "truncated");
	{
		/* The error names the position. */
		struct wire_comment w2;
		json_body("{\n  \"text\": tru\n}", &w2, &err);
		ok(strstr(err.message, "line 2") != NULL, "json errors name the line: %s",
		   err.message);
	}
}

static int form_body(const char *body, struct wire_comment *w, struct comment_error *err)
{
	memset(err, 0, sizeof(*err));
	return wire_comment_form(body, strlen(body), hp, w, err);
}

static void test_form(void)
{
	struct comment_error err;
	struct wire_comment w;

	is_int(form_body("thread=%2Fp&parent=12&author=Sjef+K&email=s%40x.nl&text=Leuk%21&"
			 "redirect=https%3A%2F%2Fblog.nl%2Fp&other=ignored",
			 &w, &err),
	       0, "a form body");
	is_str(w.in.thread, "/p", "thread decoded");
	is_int(w.in.parent, 12, "parent");
	is_str(w.in.author, "Sjef K", "+ is a space");
	is_str(w.in.text, "Leuk!", "text");
	is_str(w.redirect, "https://blog.nl/p", "redirect");
	wire_comment_clear(&w);
	is_int(form_body("text=a&page_title=Social+media&page_url=https%3A%2F%2Fblog.nl%2Fp", &w,
			 &err),
	       0, "a form with the page's context");
	is_str(w.in.page_title, "Social media", "page_title");
	is_str(w.in.page_url, "https://blog.nl/p", "page_url");
	wire_comment_clear(&w);
	is_int(form_body("text=a&page_url=x&page_url=y", &w, &err), COMMENT_INVALID,
	       "page_url twice");
	is_int(form_body("text=a&parent=", &w, &err), 0, "an empty parent is top level");
	is_int(w.in.parent, 0, "parent 0");
	wire_comment_clear(&w);
	is_int(form_body("text=a&notify=1", &w, &err), 0, "a ticked notify checkbox");
	ok(w.notify, "asks for reply notifications");
	wire_comment_clear(&w);
	is_int(form_body("text=a&notify=0", &w, &err), 0, "notify=0");
	ok(!w.notify, "does not ask");
	wire_comment_clear(&w);
	is_int(form_body("text=a&notify=1&notify=1", &w, &err), COMMENT_INVALID,
	       "notify twice is a duplicate");
	is_int(form_body("text=a&website2=x", &w, &err), 0, "honeypot in a form");
	ok(w.honeypot_filled, "filled");
	wire_comment_clear(&w);
	is_int(form_body("text=a&text=b", &w, &err), COMMENT_INVALID, "a field twice");
	is_str(err.code, "duplicate_field", "duplicate_field");
	is_int(form_body("text=a&parent=x1", &w, &err), COMMENT_INVALID, "a bad parent");
	is_str(err.code, "invalid_type", "invalid_type");
	is_int(form_body("text=a&parent=99999999999999999999", &w, &err), COMMENT_INVALID,
	       "an overflowing parent");
	is_int(form_body("text=%zz", &w, &err), COMMENT_INVALID, "a bad escape");
	is_str(err.code, "invalid_form", "invalid_form");
	is_int(form_body("text=a%00b", &w, &err), COMMENT_INVALID, "a %%00");
	is_int(err.status, 400, "400");
	/* commentd's own page. */
	is_int(form_body("text=a&format=html&lang=de&frame=1", &w, &err), 0, "the page's form");
	ok(w.page && w.framed && w.lang && strcmp(w.lang, "de") == 0, "page, framed, lang");
	wire_comment_clear(&w);
	is_int(form_body("text=a&format=json&frame=yes", &w, &err), 0, "other values");
	ok(!w.page && !w.framed && !w.lang, "are not the page's");
	wire_comment_clear(&w);
	is_int(form_body("text=a&format=html&format=html", &w, &err), COMMENT_INVALID,
	       "format twice");
	is_int(form_body("text=a", &w, &err), 0, "a blog's form");
	ok(!w.page && !w.framed, "is not the page's");
	wire_comment_clear(&w);
}

static void test_page_query(void)
{
	struct comment_error err = {0};
	struct wire_page_query q;

	is_int(wire_page_query(NULL, NULL, NULL, NULL, NULL, NULL, &q, &err), 0, "no arguments");
	ok(!q.html && !q.fragment && !q.framed && !q.held && !q.mail && !q.reply && !q.focus,
	   "JSON");
	is_int(wire_page_query("json", NULL, NULL, NULL, NULL, NULL, &q, &err), 0, "format=json");
	ok(!q.html, "JSON");
	is_int(wire_page_query("html", "1", "7", "9", "1", "1", &q, &err), 0, "everything");
	ok(q.html && !q.fragment && q.framed && q.held && q.mail && q.reply == 7 && q.focus == 9,
	   "read");
	is_int(wire_page_query("fragment", "0", NULL, NULL, "yes", "true", &q, &err), 0,
	       "a fragment");
	ok(q.html && q.fragment && !q.framed && !q.held && !q.mail, "only 1 is true");
	is_int(wire_page_query("xml", NULL, NULL, NULL, NULL, NULL, &q, &err), COMMENT_INVALID,
	       "format=xml");
	is_str(err.code, "invalid_format", "  invalid_format");
	is_int(wire_page_query("html", NULL, "0", NULL, NULL, NULL, &q, &err), COMMENT_INVALID,
	       "reply=0");
	is_str(err.code, "invalid_id", "  invalid_id");
	is_int(wire_page_query("html", NULL, NULL, "-3", NULL, NULL, &q, &err), COMMENT_INVALID,
	       "comment=-3");
	is_int(wire_page_query("html", NULL, NULL, "1x", NULL, NULL, &q, &err), COMMENT_INVALID,
	       "comment=1x");
	is_int(err.status, 400, "  400");
}

static int reply_body(const char *body, char **text, bool *approve, struct comment_error *err)
{
	return wire_reply_json(body, strlen(body), text, approve, err);
}

static void test_reply(void)
{
	struct comment_error err;
	char *text = NULL;
	bool approve = true;

	is_int(reply_body("{\"text\":\"Dank je!\"}", &text, &approve, &err), 0, "a reply");
	is_str(text, "Dank je!", "  its text");
	ok(!approve, "  approve defaults to false");
	free(text);
	is_int(reply_body("{\"text\":\"Ja\",\"approve\":true}", &text, &approve, &err), 0,
	       "approve and reply");
	ok(approve, "  approve");
	free(text);
	is_int(reply_body("{\"approve\":true}", &text, &approve, &err), COMMENT_INVALID, "no text");
	is_int(err.status, 422, "  422");
	ok(text == NULL, "  nothing kept");
	is_int(reply_body("{\"text\":\"a\",\"approve\":1}", &text, &approve, &err), COMMENT_INVALID,
	       "approve not a boolean");
	is_str(err.code, "invalid_type", "  invalid_type");
	free(text);
	text = NULL;
	is_int(reply_body("{\"text\":\"a\",\"author\":\"x\"}", &text, &approve, &err),
	       COMMENT_INVALID, "an author cannot be chosen");
	is_str(err.code, "unknown_field", "  unknown_field");
	is_int(reply_body("[]", &text, &approve, &err), COMMENT_INVALID, "not an object");
	is_int(reply_body("{\"text\":5}", &text, &approve, &err), COMMENT_INVALID,
	       "text not a string");
	is_int(err.status, 400, "  400");
}

static int change(const char *body, struct comment_change *ch, struct comment_error *err)
{
	memset(err, 0, sizeof(*err));
	return wire_change_json(body, strlen(body), ch, err);
}

static void test_change(void)
{
	struct comment_error err;
	struct comment_change ch;

	is_int(change("{\"text\":\"new\"}", &ch, &err), 0, "text only");
	is_str(ch.text, "new", "text");
	ok(!ch.author && !ch.url_set, "the rest kept");
	comment_change_clear(&ch);
	is_int(change("{\"author\":\"B\",\"url\":\"https://b.example\"}", &ch, &err), 0,
	       "author and url");
	ok(ch.url_set && ch.url && strcmp(ch.url, "https://b.example") == 0, "url set");
	comment_change_clear(&ch);
	is_int(change("{\"url\":null}", &ch, &err), 0, "url null removes the website");
	ok(ch.url_set && ch.url == NULL, "url_set without a url");
	comment_change_clear(&ch);
	is_int(change("{}", &ch, &err), COMMENT_INVALID, "nothing to change");
	is_str(err.code, "nothing_to_change", "nothing_to_change");
	is_int(err.status, 422, "422");
	is_int(change("{\"email\":\"x@y.nl\"}", &ch, &err), COMMENT_INVALID,
	       "the e-mail address cannot be changed");
	is_str(err.code, "unknown_field", "unknown_field");
	is_int(change("{\"text\":1}", &ch, &err), COMMENT_INVALID, "text must be a string");
	is_str(err.code, "invalid_type", "invalid_type");
	is_int(change("{\"text\":\"a\",\"text\":\"b\"}", &ch, &err), COMMENT_INVALID,
	       "duplicate keys");
	is_int(change("\"text\"", &ch, &err), COMMENT_INVALID, "not an object");
}

static void test_counts(void)
{
	struct comment_error err;
	json_t *paths = NULL;
	char big[8192];
	size_t n = 0;

	is_int(wire_counts("[\"/a\",\"/b/\"]", 12, &paths, &err), 0, "two paths");
	is_int(json_array_size(paths), 2, "kept");
	json_decref(paths);
	is_int(wire_counts("[]", 2, &paths, &err), 0, "none");
	json_decref(paths);
	is_int(wire_counts("{}", 2, &paths, &err), COMMENT_INVALID, "an object");
	is_str(err.code, "invalid_json", "invalid_json");
	is_int(wire_counts("[1]", 3, &paths, &err), COMMENT_INVALID, "a number");
	is_str(err.code, "invalid_type", "invalid_type");
	is_int(wire_counts("[\"/ok\",\"no\"]", 12, &paths, &err), COMMENT_INVALID, "a bad path");
	is_str(err.code, "invalid_thread", "invalid_thread");
	ok(strncmp(err.message, "Thread 2:", 9) == 0, "names the position: %s", err.message);
	is_int(wire_counts("[\"/a\\u0000\"]", 11, &paths, &err), COMMENT_INVALID, "a NUL");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "[");
	for (int i = 0; i <= WIRE_COUNTS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"/%d\"", i ? "," : "", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "]");
	is_int(wire_counts(big, n, &paths, &err), COMMENT_INVALID, "one path too many");
	is_str(err.code, "too_many_threads", "too_many_threads");
	is_int(err.status, 422, "422");
}

static void test_query(void)
{
	struct comment_error err;
	struct wire_thread_query q;
	struct comment_cursor cur = {COMMENT_SORT_OLDEST, 0, 42, 99};
	char text[COMMENT_CURSOR_MAX];

	is_int(wire_thread_query("/p", NULL, NULL, NULL, NULL, 200, &q, &err), 0, "thread only");
	ok(q.limit == 0 && q.from.root == 0 && q.from.row == COMMENT_ROW_DONE &&
	       q.from.sort == COMMENT_SORT_OLDEST,
	   "the default page from the start");
	is_int(wire_thread_query("/p", "200", "17", NULL, NULL, 200, &q, &err), 0,
	       "limit and after");
	ok(q.limit == 200 && q.from.root == 17 && q.from.row == COMMENT_ROW_DONE,
	   "parsed: after top-level comment 17");
	comment_cursor_format(&cur, text);
	is_int(wire_thread_query("/p", NULL, NULL, text, NULL, 200, &q, &err), 0, "a cursor");
	ok(q.from.root == 42 && q.from.row == 99, "parsed to its position");
	is_int(wire_thread_query("/p", NULL, "17", text, NULL, 200, &q, &err), COMMENT_INVALID,
	       "cursor and after together");
	is_str(err.code, "invalid_cursor", "invalid_cursor");
	is_int(wire_thread_query("/p", NULL, NULL, "bogus!", NULL, 200, &q, &err), COMMENT_INVALID,
	       "a cursor not of ours");
	is_str(err.code, "invalid_cursor", "invalid_cursor");
	is_int(err.status, 400, "400");
	is_int(wire_thread_query("/p", NULL, NULL, "", NULL, 200, &q, &err), COMMENT_INVALID,
	       "an empty cursor");
	is_int(wire_thread_query(NULL, NULL, NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "no thread");
	is_str(err.code, "missing_thread", "missing_thread");
	is_int(wire_thread_query("p", NULL, NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "a relative path");
	is_int(wire_thread_query("/p", "201", NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "limit above page_max");
	is_str(err.code, "invalid_limit", "invalid_limit");
	is_int(wire_thread_query("/p", "-1", NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "a negative limit");
	is_int(wire_thread_query("/p", "", NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "an empty limit");
	is_int(wire_thread_query("/p", " 5", NULL, NULL, NULL, 200, &q, &err), COMMENT_INVALID,
	       "a space in limit");
	is_int(wire_thread_query("/p", NULL, "9223372036854775808", NULL, NULL, 200, &q, &err),
	       COMMENT_INVALID, "after past INT64_MAX");
	is_str(err.code, "invalid_after", "invalid_after");
	is_int(wire_thread_query("/p", NULL, "9223372036854775807", NULL, NULL, 200, &q, &err), 0,
	       "after at INT64_MAX");
	/* sort */
	is_int(wire_thread_query("/p", NULL, NULL, NULL, "newest", 200, &q, &err), 0,
	       "sort=newest");
	ok(q.from.sort == COMMENT_SORT_NEWEST && q.from.root == 0,
	   "  from the start, newest first");
	is_int(wire_thread_query("/p", NULL, NULL, NULL, "top", 200, &q, &err), 0, "sort=top");
	ok(q.from.sort == COMMENT_SORT_TOP, "  most liked first");
	is_int(wire_thread_query("/p", NULL, NULL, NULL, "oldest", 200, &q, &err), 0,
	       "sort=oldest");
	is_int(wire_thread_query("/p", NULL, NULL, NULL, "best", 200, &q, &err), COMMENT_INVALID,
	       "sort=best");
	is_str(err.code, "invalid_sort", "  invalid_sort");
	is_int(wire_thread_query("/p", NULL, "17", NULL, "newest", 200, &q, &err), COMMENT_INVALID,
	       "after with another order than oldest");
	cur.sort = COMMENT_SORT_TOP;
	cur.key = 5;
	comment_cursor_format(&cur, text);
	is_int(wire_thread_query("/p", NULL, NULL, text, NULL, 200, &q, &err), 0,
	       "a cursor of sort=top without sort");
	ok(q.from.sort == COMMENT_SORT_TOP && q.from.key == 5, "  keeps its order and key");
	is_int(wire_thread_query("/p", NULL, NULL, text, "top", 200, &q, &err), 0,
	       "  and with its own sort");
	is_int(wire_thread_query("/p", NULL, NULL, text, "newest", 200, &q, &err), COMMENT_INVALID,
	       "  but not with another");
	is_str(err.code, "invalid_cursor", "  invalid_cursor");
}

static void preview(const char *body, int want, const char *code, const char *text, const char *why)
{
	struct comment_error err = {0};
	char *got = (char *)1;
	int r = wire_preview_json(body, strlen(body), &got, &err);

	is_int(r, want, "preview: %s", why);
	if (code)
		is_str(err.code, code, "  code %s", code);
	if (r == 0)
		is_str(got, text, "  text");
	else
		ok(got == NULL, "  no text");
	if (r == 0)
		free(got);
}

static void test_preview(void)
{
	preview("{\"text\":\"*hoi*\"}", 0, NULL, "*hoi*", "a text");
	preview("{}", 0, NULL, NULL, "no text: NULL (the rules for texts refuse it)");
	preview("{\"text\":null}", 0, NULL, NULL, "null text");
	preview("{\"text\":\"x\",\"thread\":\"/p\"}", COMMENT_INVALID, "unknown_field", NULL,
		"another field");
	preview("{\"text\":5}", COMMENT_INVALID, "invalid_type", NULL, "a number");
	preview("{\"text\":\"a\\u0000b\"}", COMMENT_INVALID, "invalid_json", NULL,
		"a NUL (jansson refuses it)");
	preview("[\"x\"]", COMMENT_INVALID, "invalid_json", NULL, "an array");
	preview("{\"text\":", COMMENT_INVALID, "invalid_json", NULL, "cut short");
	preview("{\"text\":\"a\",\"text\":\"b\"}", COMMENT_INVALID, "invalid_json", NULL,
		"a duplicate key");
}

int main(void)
{
	test_json();
	test_form();
	test_change();
	test_counts();
	test_query();
	test_preview();
	test_page_query();
	test_reply();
	return done_testing();
}
