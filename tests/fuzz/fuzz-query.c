/* fuzz-query: the query strings of GET /api/v1/comments and the body of
 * POST /api/v1/counts.  The string is split into fields as form_parse does
 * (libmicrohttpd decodes the same escapes), then thread, limit, after and
 * cursor go through lib/wire's wire_thread_query as the daemon does; a
 * cursor that parses formats back to the same text.  The whole input is
 * also tried as a thread path itself, as a counts body (wire_counts) and as
 * an Accept-Language header (lib/lang); the query's thread and lang also as
 * GET /api/v1/feed and the pages read them. */
#include "fuzz.h"

#include "comment.h"
#include "form.h"
#include "lang.h"
#include "wire.h"

#include <stdint.h>

#define PAGE_MAX 200 /* the default page_max */

static void check_thread(const char *thread)
{
	struct comment_error err = {0};
	int r = comment_thread_check(thread, &err);

	fuzz_assert(r == 0 || r == COMMENT_INVALID);
	if (r) {
		fuzz_assert(err.status == 400 || err.status == 422);
		fuzz_assert(err.code && err.message[0]);
		return;
	}
	/* What the check promises. */
	fuzz_assert(thread[0] == '/' && thread[1] != '/');
	fuzz_assert(strlen(thread) <= COMMENT_THREAD_MAX);
	for (const unsigned char *p = (const unsigned char *)thread; *p; p++)
		fuzz_assert(*p > 0x20 && *p != 0x7f && *p != '\\');
	fuzz_assert(strstr(thread, "/../") == NULL && strstr(thread, "/./") == NULL);
	{
		size_t n = strlen(thread);
		fuzz_assert(!(n >= 3 && strcmp(thread + n - 3, "/..") == 0));
		fuzz_assert(!(n >= 2 && strcmp(thread + n - 2, "/.") == 0));
	}
}

/* The query's fields through wire_thread_query, as GET /api/v1/comments. */
static void check_query(const struct form *f)
{
	const char *thread = form_get(f, "thread");
	struct comment_error err = {0};
	struct wire_thread_query tq;
	int r;

	if (thread)
		check_thread(thread);
	r = wire_thread_query(thread, form_get(f, "limit"), form_get(f, "after"),
			      form_get(f, "cursor"), form_get(f, "sort"), PAGE_MAX, &tq, &err);
	if (r == 0) {
		char sort = 0;
		check_thread(tq.thread);
		fuzz_assert(tq.limit <= PAGE_MAX && tq.from.root >= 0 && tq.from.row >= 0);
		fuzz_assert(tq.from.sort == COMMENT_SORT_OLDEST ||
			    tq.from.sort == COMMENT_SORT_NEWEST ||
			    tq.from.sort == COMMENT_SORT_TOP);
		/* A sort named with a cursor is the cursor's. */
		if (form_get(f, "sort") && comment_sort_parse(form_get(f, "sort"), &sort) == 0)
			fuzz_assert(tq.from.sort == sort);
		if (form_get(f, "cursor")) {
			char again[COMMENT_CURSOR_MAX];
			fuzz_assert(comment_cursor_format(&tq.from, again) == 0);
			fuzz_assert(comment_cursor_parse(again, &tq.from) == 0);
		}
	} else {
		fuzz_assert(r == COMMENT_INVALID && err.code && err.message[0]);
	}
}

/* GET /api/v1/feed's thread and a page's ?lang=, as the daemon reads them. */
static void check_feed_and_lang(const struct form *f)
{
	struct comment_error err = {0};
	const char *thread = form_get(f, "thread");
	int r = wire_feed_query(thread, &err);
	enum lang l = lang_pick(form_get(f, "lang"), NULL, LANG_NL);

	fuzz_assert(r == 0 || (r == COMMENT_INVALID && err.code && err.message[0]));
	if (r == 0 && thread)
		check_thread(thread);
	fuzz_assert(l == LANG_EN || l == LANG_NL || l == LANG_DE);
}

/* The thread-as-HTML arguments (format, frame, reply, comment, held, mail). */
static void check_page(const struct form *f)
{
	struct comment_error err = {0};
	struct wire_page_query q;
	int r = wire_page_query(form_get(f, "format"), form_get(f, "frame"), form_get(f, "reply"),
				form_get(f, "comment"), form_get(f, "held"), form_get(f, "mail"),
				&q, &err);

	if (r != 0) {
		fuzz_assert(r == COMMENT_INVALID && err.status == 400 && err.code);
		return;
	}
	fuzz_assert(q.reply >= 0 && q.focus >= 0);
	fuzz_assert(!q.fragment || q.html);
}

/* The whole input as an Accept-Language header. */
static void check_accept_language(const char *s)
{
	enum lang l = lang_pick(NULL, s, LANG_DE);

	fuzz_assert(l == LANG_EN || l == LANG_NL || l == LANG_DE);
	/* A leading Dutch tag of full weight always wins. */
	if (strncmp(s, "nl,", 3) == 0)
		fuzz_assert(l == LANG_NL);
}

/* The whole input as a POST /api/v1/counts body. */
static void check_counts(const uint8_t *data, size_t size)
{
	struct comment_error err = {0};
	json_t *paths = NULL, *v;
	size_t i;
	int r = wire_counts((const char *)data, size, &paths, &err);

	if (r != 0) {
		fuzz_assert(r == COMMENT_INVALID && err.code && err.message[0]);
		return;
	}
	fuzz_assert(json_is_array(paths) && json_array_size(paths) <= WIRE_COUNTS_MAX);
	json_array_foreach(paths, i, v)
	{
		fuzz_assert(json_is_string(v));
		check_thread(json_string_value(v));
	}
	json_decref(paths);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form *f = NULL;
	const char *query;
	char *s;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	s = fuzz_strndup(data, size);
	check_thread(s);
	/* A full URL's query part, or the whole input. */
	query = strchr(s, '?');
	query = query ? query + 1 : s;
	r = form_parse(&f, query, strlen(query));
	fuzz_assert(r == 0 || r == FORM_INVALID);
	if (r == 0) {
		check_query(f);
		check_feed_and_lang(f);
		check_page(f);
	}
	form_free(f);
	check_counts(data, size);
	check_accept_language(s);
	free(s);
	return 0;
}
