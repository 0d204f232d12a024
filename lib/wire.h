/* wire: the public API's request bodies and query strings, parsed into
 * lib's structures.
 *
 * Everything here reads untrusted bytes: a JSON comment body, the no-JS
 * form body, an author's PATCH body, the preview body, the counts body and
 * the thread query.
 * A refusal is a COMMENT_INVALID with a comment_error (status 400 or 422,
 * a machine code and a sentence), never a crash.  Fuzzed by
 * tests/fuzz/fuzz-json-comment.c and fuzz-query.c.
 */
#ifndef COMMENTD_WIRE_H
#define COMMENTD_WIRE_H

#include "comment.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_COUNTS_MAX 200 /* thread paths in one counts request */

/* A submission as posted.  Strings are owned (wire_comment_clear). */
struct wire_comment {
	struct comment_input in; /* thread, parent, author, email, url, text */
	char *redirect;		 /* form posts: where to go back to, or NULL */
	char *stamp;		 /* the signed render time from GET, or NULL */
	char *site;		 /* the site the poster names (lib/site.h), or NULL */
	bool honeypot_filled;	 /* the hidden field had a non-blank value */
	bool notify;		 /* "notify": true, or a ticked form checkbox */
	/* Form posts from commentd's own page (lib/threadpage): format=html
	 * returns there, in lang (or NULL), framed when frame=1. */
	bool page;
	bool framed;
	char *lang;
};

/* Frees the strings (the e-mail address wiped first) and zeroes w. */
void wire_comment_clear(struct wire_comment *w);

/* Parses len bytes of JSON: an object with the comment fields (thread,
 * parent, author, email, url, text, and the page's context page_title and
 * page_url), "stamp", "site", "notify" (a boolean: reply notifications) and
 * the honeypot field, nothing else, no duplicate
 * keys.  0 (caller clears
 * *out), COMMENT_INVALID with err, or negative. */
int wire_comment_json(const char *body, size_t len, const char *honeypot_field,
		      struct wire_comment *out, struct comment_error *err);

/* Parses an application/x-www-form-urlencoded body: the same fields plus
 * "redirect", and "format", "lang" and "frame" of commentd's own page; a
 * known field may appear once.  Like wire_comment_json. */
int wire_comment_form(const char *body, size_t len, const char *honeypot_field,
		      struct wire_comment *out, struct comment_error *err);

/* Parses len bytes as one JSON value (duplicate keys refused).  0 with *out
 * owned by the caller, or COMMENT_INVALID with a 400 invalid_json naming
 * the line and column. */
int wire_json(const char *body, size_t len, json_t **out, struct comment_error *err);

/* An author's PATCH body: an object with at least one of "text", "author"
 * and "url" (strings; "url" may be "" or null to remove the website).
 * Fills *out with owned copies (comment_change_clear).  0,
 * COMMENT_INVALID with err, or negative. */
int wire_change_json(const char *body, size_t len, struct comment_change *out,
		     struct comment_error *err);

/* The preview body: an object {"text": string} and nothing else.  0 with
 * *text (caller frees; NULL when absent or null), COMMENT_INVALID with err,
 * or negative. */
int wire_preview_json(const char *body, size_t len, char **text, struct comment_error *err);

/* A moderator's reply body: {"text": "...", "approve": true|false}
 * ("approve" optional, false).  0 with *text owned by the caller, or
 * COMMENT_INVALID with err (400, or 422 without text), or negative. */
int wire_reply_json(const char *body, size_t len, char **text, bool *approve,
		    struct comment_error *err);

/* The counts body: a JSON array of at most WIRE_COUNTS_MAX valid thread
 * paths.  0 with *paths owned by the caller, COMMENT_INVALID with err, or
 * negative. */
int wire_counts(const char *body, size_t len, json_t **paths, struct comment_error *err);

/* GET /api/v1/comments?thread=&limit=&after=&cursor=&sort=: the query's
 * raw values (NULL when absent).  limit is 0..page_max top-level comments a
 * page (0 or absent: the site's page_default); a page starts at cursor (the
 * text from a previous answer, which carries its sort order), or after a
 * top-level comment id (after, oldest first only), or at the thread's
 * start; cursor and after do not go together.  sort is oldest (the
 * default), newest or top; with a cursor it must be the cursor's.  0 or
 * COMMENT_INVALID with err (400 invalid_sort, invalid_cursor, ...). */
struct wire_thread_query {
	const char *thread; /* borrowed */
	unsigned limit;
	struct comment_cursor from;
};
int wire_thread_query(const char *thread, const char *limit, const char *after, const char *cursor,
		      const char *sort, unsigned page_max, struct wire_thread_query *out,
		      struct comment_error *err);

/* GET /api/v1/feed[?thread=]: the thread, when given, must be a valid
 * path.  0 or COMMENT_INVALID with err. */
int wire_feed_query(const char *thread, struct comment_error *err);

/* GET /api/v1/comments's arguments for the thread as HTML (lib/threadpage):
 * format (absent or "json": JSON; "html": the page; "fragment": its section
 * for a server-side include), frame ("1": inside an iframe), reply and
 * comment (comment ids: the form answers reply; the page shows comment's
 * conversation), held ("1": the awaiting-moderation notice), mail ("1":
 * the check-your-e-mail notice after a post that asked for notifications).  Raw values,
 * NULL when absent.  0 or COMMENT_INVALID with err (400 invalid_format,
 * invalid_id). */
struct wire_page_query {
	bool html;
	bool fragment;
	bool framed;
	bool held;
	bool mail;
	int64_t reply;
	int64_t focus;
};
int wire_page_query(const char *format, const char *frame, const char *reply, const char *comment,
		    const char *held, const char *mail, struct wire_page_query *out,
		    struct comment_error *err);

#endif
