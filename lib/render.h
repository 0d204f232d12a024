/* render: comment text (a safe Markdown subset) to HTML.
 *
 * cmark parses the text; our own walk over its tree emits only paragraphs,
 * line breaks (<br>), emphasis (<em>, <strong>), code (<code>, <pre>),
 * block quotes (<blockquote>), lists (<ul>, <ol [start]>, <li>) and links.
 * Bare http:// and https:// URLs in the text become links too (trailing
 * punctuation and an unopened ")" stay outside).  Everything else is
 * reduced to its text: headings become paragraphs, images their alt text,
 * raw HTML literal (escaped) text.  Links keep only http, https and mailto
 * targets and always carry rel="nofollow ugc"; a link never sits inside
 * another.  Quotes and lists nest RENDER_MAX_NEST levels deep; deeper ones
 * keep only their content.  The same function renders stored comments and
 * previews (POST /api/v1/preview), so a preview is what will be shown.
 */
#ifndef COMMENTD_RENDER_H
#define COMMENTD_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#define RENDER_MAX_INPUT  (512 * 1024)
#define RENDER_MAX_OUTPUT (4 * 1024 * 1024)
#define RENDER_MAX_NEST	  8 /* block quotes and lists inside each other */

enum {
	RENDER_TOO_BIG = 1,
};

/* Renders len bytes of UTF-8 text into *html (caller frees).  0,
 * RENDER_TOO_BIG for input or output over the caps, negative on OOM. */
int render_markdown(const char *text, size_t len, char **html);

/* What a reader sees of a text, for the site's rules (lib/policy.h): the
 * same walk as render_markdown reports each link target that becomes an
 * <a> (link; bare URLs included) and the visible text in document order
 * (text; in_link when it is a link's text), with "\n" between blocks and at
 * line breaks.  Entities
 * and escapes come decoded, as a browser shows them. */
struct render_visitor {
	void (*link)(const char *url, void *u);
	void (*text)(const char *s, size_t len, bool in_link, void *u);
	void *u;
};

/* Walks len bytes of text for v.  0, RENDER_TOO_BIG, negative on OOM. */
int render_visit(const char *text, size_t len, const struct render_visitor *v);

/* Appends text with &, <, >, " and ' escaped to a newly allocated string.
 * NULL on OOM. */
char *render_escape(const char *text, size_t len);

#endif
