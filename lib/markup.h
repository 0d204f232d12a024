/* markup: writing HTML and XML pages (the feeds, the thread as HTML, the
 * privacy page) into a capped buffer.
 *
 * A struct markup keeps the first error it meets: every call after it does
 * nothing, and markup_finish reports it, so a page is written as a plain
 * sequence of calls.  Text from the database or a request goes through
 * markup_text (escaped, and cleaned of what neither XML 1.0 nor HTML may
 * hold); only the page's own fixed markup goes in raw.
 */
#ifndef COMMENTD_MARKUP_H
#define COMMENTD_MARKUP_H

#include "buf.h"

#include <stddef.h>

struct markup {
	struct buf b;
	int err; /* the first failure: BUF_TOO_BIG or negative */
};

/* An empty page of at most max bytes. */
void markup_init(struct markup *m, size_t max);

/* Appends trusted markup as it is. */
void markup_raw(struct markup *m, const char *s);

/* Appends the first n bytes of s as they are. */
void markup_raw_len(struct markup *m, const char *s, size_t n);

/* Appends s as text: &, <, >, " and ' as entities (so it is safe in
 * element content and in quoted attributes); bytes that are not UTF-8 as
 * U+FFFD; control characters other than tab, line feed and carriage
 * return, and U+FFFE and U+FFFF, dropped.  NULL appends nothing. */
void markup_text(struct markup *m, const char *s);

/* Appends s percent-encoded for a URL's query value (all but letters,
 * digits, "-._~" and "/"), for an attribute. */
void markup_query_value(struct markup *m, const char *s);

/* Appends a decimal number. */
void markup_int(struct markup *m, long long v);

/* Appends tmpl (trusted markup) with each "{0}" ... "{9}" replaced by
 * args[i] as text (markup_text); a placeholder past n stays as it is. */
void markup_template(struct markup *m, const char *tmpl, const char *const *args, size_t n);

/* The page (caller frees), or NULL with *err set to the failure
 * (BUF_TOO_BIG or negative).  The markup is empty afterwards. */
char *markup_finish(struct markup *m, int *err);

#endif
