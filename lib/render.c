#include "render.h"

#include "buf.h"

#include <cmark.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int escape_into(struct buf *b, const char *s, size_t len)
{
	size_t start = 0;
	int r;

	for (size_t i = 0; i < len; i++) {
		const char *rep;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		r = buf_append(b, s + start, i - start);
		if (r == 0)
			r = buf_puts(b, rep);
		if (r)
			return r;
		start = i + 1;
	}
	return buf_append(b, s + start, len - start);
}

char *render_escape(const char *text, size_t len)
{
	struct buf b;

	buf_init(&b, (size_t)-1 / 2);
	if (escape_into(&b, text, len) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static bool link_allowed(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
	       strncasecmp(url, "mailto:", 7) == 0;
}

/* True if n has an ancestor link that is emitted as <a>.  cmark lets an
 * autolink sit inside a link's text; nested <a> elements are invalid HTML,
 * so the inner one is reduced to its text. */
static bool inside_link(cmark_node *n)
{
	for (cmark_node *p = cmark_node_parent(n); p; p = cmark_node_parent(p)) {
		const char *url;

		if (cmark_node_get_type(p) != CMARK_NODE_LINK)
			continue;
		url = cmark_node_get_url(p);
		if (url && link_allowed(url))
			return true;
	}
	return false;
}

static int literal(struct buf *b, cmark_node *n)
{
	const char *s = cmark_node_get_literal(n);

	return s ? escape_into(b, s, strlen(s)) : 0;
}

/* Emits the node on entering (enter) or leaving it.  Nodes without an HTML
 * form of their own emit nothing and let their children through. */
static int emit(struct buf *b, cmark_node *n, bool enter)
{
	cmark_node *parent;
	const char *url;
	char marker[24];
	int r = 0;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		/* A paragraph directly inside a list item is opened by the item. */
		parent = cmark_node_parent(n);
		if (parent && cmark_node_get_type(parent) == CMARK_NODE_ITEM &&
		    cmark_node_first_child(parent) == n)
			return enter ? 0 : buf_puts(b, "</p>\n");
		return buf_puts(b, enter ? "<p>" : "</p>\n");
	case CMARK_NODE_HEADING:
		return buf_puts(b, enter ? "<p>" : "</p>\n");
	case CMARK_NODE_ITEM:
		if (!enter)
			return 0;
		parent = cmark_node_parent(n);
		if (parent && cmark_node_get_list_type(parent) == CMARK_ORDERED_LIST) {
			int pos = cmark_node_get_list_start(parent);
			for (cmark_node *s = cmark_node_previous(n); s; s = cmark_node_previous(s))
				pos++;
			snprintf(marker, sizeof(marker), "<p>%d. ", pos);
		} else {
			snprintf(marker, sizeof(marker), "<p>\xe2\x80\xa2 ");
		}
		r = buf_puts(b, marker);
		if (r == 0 &&
		    (!cmark_node_first_child(n) ||
		     cmark_node_get_type(cmark_node_first_child(n)) != CMARK_NODE_PARAGRAPH))
			r = buf_puts(b, "</p>\n");
		return r;
	case CMARK_NODE_CODE_BLOCK:
		r = buf_puts(b, "<pre><code>");
		if (r == 0)
			r = literal(b, n);
		if (r == 0)
			r = buf_puts(b, "</code></pre>\n");
		return r;
	case CMARK_NODE_HTML_BLOCK:
		r = buf_puts(b, "<p>");
		if (r == 0)
			r = literal(b, n);
		if (r == 0)
			r = buf_puts(b, "</p>\n");
		return r;
	case CMARK_NODE_TEXT:
	case CMARK_NODE_HTML_INLINE:
		return literal(b, n);
	case CMARK_NODE_CODE:
		r = buf_puts(b, "<code>");
		if (r == 0)
			r = literal(b, n);
		if (r == 0)
			r = buf_puts(b, "</code>");
		return r;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		return buf_puts(b, "<br>\n");
	case CMARK_NODE_EMPH:
		return buf_puts(b, enter ? "<em>" : "</em>");
	case CMARK_NODE_STRONG:
		return buf_puts(b, enter ? "<strong>" : "</strong>");
	case CMARK_NODE_LINK:
		url = cmark_node_get_url(n);
		if (!url || !link_allowed(url) || inside_link(n))
			return 0;
		if (!enter)
			return buf_puts(b, "</a>");
		r = buf_puts(b, "<a href=\"");
		if (r == 0)
			r = escape_into(b, url, strlen(url));
		if (r == 0)
			r = buf_puts(b, "\" rel=\"nofollow ugc\">");
		return r;
	default:
		/* document, block quote, list, image, thematic break, custom
		 * nodes: no markup of their own. */
		return 0;
	}
}

int render_markdown(const char *text, size_t len, char **html)
{
	cmark_node *doc = NULL;
	cmark_iter *it = NULL;
	cmark_event_type ev;
	struct buf b;
	int r = 0;

	if (len > RENDER_MAX_INPUT)
		return RENDER_TOO_BIG;
	buf_init(&b, RENDER_MAX_OUTPUT);
	doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	it = cmark_iter_new(doc);
	if (!it) {
		r = -ENOMEM;
		goto out;
	}
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		/* cmark reports leaves (text, code, breaks, raw HTML) with an
		 * ENTER event only; containers with ENTER and EXIT. */
		r = emit(&b, cmark_iter_get_node(it), ev == CMARK_EVENT_ENTER);
		if (r)
			goto out;
	}
	/* Strip the trailing newline for a tidy field. */
	while (b.len > 0 && b.data && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	*html = buf_steal(&b);
	if (!*html)
		r = -ENOMEM;
out:
	if (r == BUF_TOO_BIG)
		r = RENDER_TOO_BIG;
	buf_free(&b);
	cmark_iter_free(it);
	cmark_node_free(doc);
	return r;
}

/* One node of render_visit's walk. */
static void visit(const struct render_visitor *v, cmark_node *n, bool enter)
{
	const char *s, *url;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_HTML_INLINE:
	case CMARK_NODE_CODE:
	case CMARK_NODE_CODE_BLOCK:
	case CMARK_NODE_HTML_BLOCK:
		s = cmark_node_get_literal(n);
		if (s)
			v->text(s, strlen(s), inside_link(n), v->u);
		if (cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK ||
		    cmark_node_get_type(n) == CMARK_NODE_HTML_BLOCK)
			v->text("\n", 1, false, v->u);
		return;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		v->text("\n", 1, inside_link(n), v->u);
		return;
	case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING:
	case CMARK_NODE_ITEM:
		if (!enter)
			v->text("\n", 1, false, v->u);
		return;
	case CMARK_NODE_LINK:
		url = cmark_node_get_url(n);
		if (enter && url && link_allowed(url) && !inside_link(n))
			v->link(url, v->u);
		return;
	default:
		return;
	}
}

int render_visit(const char *text, size_t len, const struct render_visitor *v)
{
	cmark_node *doc;
	cmark_iter *it;
	cmark_event_type ev;

	if (len > RENDER_MAX_INPUT)
		return RENDER_TOO_BIG;
	doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	it = cmark_iter_new(doc);
	if (!it) {
		cmark_node_free(doc);
		return -ENOMEM;
	}
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
		visit(v, cmark_iter_get_node(it), ev == CMARK_EVENT_ENTER);
	cmark_iter_free(it);
	cmark_node_free(doc);
	return 0;
}
