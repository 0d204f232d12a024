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

/* True if n has an ancestor link that is emitted as <a> (render_visit's
 * question; render_markdown counts the links it is inside).  cmark lets an
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

/* ---- bare URLs ---- */

/* Length of the scheme ("http://" or "https://") at s, or 0. */
static size_t url_scheme(const char *s, size_t len)
{
	if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
		return 8;
	if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
		return 7;
	return 0;
}

/* A byte that ends a bare URL: white space, controls, and the characters
 * that cannot stand unescaped in a URL and usually close its sentence. */
static bool url_end(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '`' ||
	       c == '\\' || c == '{' || c == '}' || c == '|' || c == '^';
}

/* A byte of a URL's authority (host, port, user): letters, digits, a few
 * marks, and non-ASCII (IDN) bytes. */
static bool authority_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || (c && strchr("-._~:@%", c));
}

/* Where the bare URL at s (starting after a scheme of `scheme` bytes) ends
 * before trimming: its authority, then - only after "/", "?" or "#" - its
 * path up to a byte that ends URLs or another URL's scheme.  So
 * "http://a.example,http://b.example" or "http://a.example!www.b.example"
 * are two addresses, as a reader (and the link limit) sees them. */
static size_t url_extent(const char *s, size_t len, size_t scheme)
{
	size_t n = scheme;

	while (n < len && authority_byte((unsigned char)s[n]))
		n++;
	if (n == len || !strchr("/?#", s[n]))
		return n;
	while (n < len && !url_end((unsigned char)s[n])) {
		if (n > scheme && url_scheme(s + n, len - n))
			break;
		n++;
	}
	return n;
}

/* Length of the bare URL at s (which starts with a scheme), or 0 when there
 * is no host.  Trailing punctuation belongs to the sentence, and so does a
 * closing parenthesis that the URL did not open (as GitHub's autolinker
 * decides). */
static size_t render_url_length(const char *s, size_t len)
{
	size_t scheme = url_scheme(s, len), n, open = 0, close = 0;

	if (!scheme)
		return 0;
	n = url_extent(s, len, scheme);
	for (;;) {
		while (n > scheme && strchr("?!.,:;*_~'", s[n - 1]))
			n--;
		if (n == scheme || s[n - 1] != ')')
			break;
		open = close = 0;
		for (size_t i = scheme; i < n; i++) {
			open += s[i] == '(';
			close += s[i] == ')';
		}
		if (close <= open)
			break;
		n--;
	}
	/* A host: at least one letter, digit or non-ASCII byte first. */
	if (n == scheme ||
	    !((unsigned char)s[scheme] >= 0x80 ||
	      strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", s[scheme])))
		return 0;
	return n;
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

static int emit_anchor(struct buf *b, const char *url, size_t len)
{
	int r = buf_puts(b, "<a href=\"");

	if (r == 0)
		r = escape_into(b, url, len);
	if (r == 0)
		r = buf_puts(b, "\" rel=\"nofollow ugc\">");
	if (r == 0)
		r = escape_into(b, url, len);
	if (r == 0)
		r = buf_puts(b, "</a>");
	return r;
}

/* Text with every bare http(s) URL that starts a word turned into a link. */
static int autolink_into(struct buf *b, const char *s, size_t len)
{
	size_t start = 0, i = 0;
	int r;

	while (i < len) {
		size_t n = 0;

		if ((s[i] == 'h' || s[i] == 'H') && (i == 0 || !word_byte((unsigned char)s[i - 1])))
			n = render_url_length(s + i, len - i);
		if (!n) {
			i++;
			continue;
		}
		r = escape_into(b, s + start, i - start);
		if (r == 0)
			r = emit_anchor(b, s + i, n);
		if (r)
			return r;
		i += n;
		start = i;
	}
	return escape_into(b, s + start, len - start);
}

/* ---- the tree walk ---- */

/* Marks the containers and links that were emitted with their own tags, so
 * that leaving them closes exactly those (cmark's user data). */
static char emitted_mark;

struct walk {
	struct buf *b;
	int nest;  /* emitted block quotes and lists around the node */
	int links; /* emitted links around the node */
};

static bool emitted(cmark_node *n)
{
	return cmark_node_get_user_data(n) == &emitted_mark;
}

/* A paragraph that an emitted item of a tight list holds: no <p>. */
static bool tight_paragraph(cmark_node *n)
{
	cmark_node *item = cmark_node_parent(n);

	return item && cmark_node_get_type(item) == CMARK_NODE_ITEM && emitted(item) &&
	       cmark_node_get_list_tight(cmark_node_parent(item));
}

static int literal(struct buf *b, cmark_node *n)
{
	const char *s = cmark_node_get_literal(n);

	return s ? escape_into(b, s, strlen(s)) : 0;
}

static int wrapped(struct buf *b, const char *open, cmark_node *n, const char *close)
{
	int r = buf_puts(b, open);

	if (r == 0)
		r = literal(b, n);
	if (r == 0)
		r = buf_puts(b, close);
	return r;
}

/* Block quotes and lists: their own tags up to RENDER_MAX_NEST levels,
 * deeper ones only their content. */
static int container(struct walk *w, cmark_node *n, bool enter)
{
	bool list = cmark_node_get_type(n) == CMARK_NODE_LIST;
	bool ordered = list && cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	char open[32];

	if (!enter) {
		if (!emitted(n))
			return 0;
		w->nest--;
		return buf_puts(w->b, !list ? "</blockquote>\n" : ordered ? "</ol>\n" : "</ul>\n");
	}
	if (w->nest >= RENDER_MAX_NEST)
		return 0;
	cmark_node_set_user_data(n, &emitted_mark);
	w->nest++;
	if (!list)
		return buf_puts(w->b, "<blockquote>\n");
	if (!ordered)
		return buf_puts(w->b, "<ul>\n");
	if (cmark_node_get_list_start(n) == 1)
		return buf_puts(w->b, "<ol>\n");
	snprintf(open, sizeof(open), "<ol start=\"%d\">\n", cmark_node_get_list_start(n));
	return buf_puts(w->b, open);
}

static int item(struct walk *w, cmark_node *n, bool enter)
{
	if (!emitted(cmark_node_parent(n)))
		return 0; /* a list too deep: its items flow as paragraphs */
	if (enter)
		cmark_node_set_user_data(n, &emitted_mark);
	return buf_puts(w->b, enter ? "<li>" : "</li>\n");
}

static int link(struct walk *w, cmark_node *n, bool enter)
{
	const char *url = cmark_node_get_url(n);
	int r;

	if (!enter) {
		if (!emitted(n))
			return 0;
		w->links--;
		return buf_puts(w->b, "</a>");
	}
	/* Nested <a> elements are invalid HTML: a link inside an emitted
	 * link's text is reduced to its text. */
	if (!url || !link_allowed(url) || w->links > 0)
		return 0;
	cmark_node_set_user_data(n, &emitted_mark);
	w->links++;
	r = buf_puts(w->b, "<a href=\"");
	if (r == 0)
		r = escape_into(w->b, url, strlen(url));
	if (r == 0)
		r = buf_puts(w->b, "\" rel=\"nofollow ugc\">");
	return r;
}

/* Emits the node on entering (enter) or leaving it.  Nodes without an HTML
 * form of their own emit nothing and let their children through. */
static int emit(struct walk *w, cmark_node *n, bool enter)
{
	struct buf *b = w->b;
	const char *s;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		if (tight_paragraph(n))
			return 0;
		return buf_puts(b, enter ? "<p>" : "</p>\n");
	case CMARK_NODE_HEADING:
		return buf_puts(b, enter ? "<p>" : "</p>\n");
	case CMARK_NODE_BLOCK_QUOTE:
	case CMARK_NODE_LIST:
		return container(w, n, enter);
	case CMARK_NODE_ITEM:
		return item(w, n, enter);
	case CMARK_NODE_CODE_BLOCK:
		return wrapped(b, "<pre><code>", n, "</code></pre>\n");
	case CMARK_NODE_HTML_BLOCK:
		return wrapped(b, "<p>", n, "</p>\n");
	case CMARK_NODE_TEXT:
		s = cmark_node_get_literal(n);
		if (!s)
			return 0;
		return w->links ? escape_into(b, s, strlen(s)) : autolink_into(b, s, strlen(s));
	case CMARK_NODE_HTML_INLINE:
		return literal(b, n);
	case CMARK_NODE_CODE:
		return wrapped(b, "<code>", n, "</code>");
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		return buf_puts(b, "<br>\n");
	case CMARK_NODE_EMPH:
		return buf_puts(b, enter ? "<em>" : "</em>");
	case CMARK_NODE_STRONG:
		return buf_puts(b, enter ? "<strong>" : "</strong>");
	case CMARK_NODE_LINK:
		return link(w, n, enter);
	default:
		/* document, image (its alt text comes through), thematic
		 * break, custom nodes: no markup of their own. */
		return 0;
	}
}

int render_markdown(const char *text, size_t len, char **html)
{
	cmark_node *doc = NULL;
	cmark_iter *it = NULL;
	cmark_event_type ev;
	struct buf b;
	struct walk w = {.b = &b};
	int r = 0;

	if (len > RENDER_MAX_INPUT)
		return RENDER_TOO_BIG;
	buf_init(&b, RENDER_MAX_OUTPUT);
	doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	/* A URL that cmark split into several text nodes (at "[", "!" ...)
	 * is one text again. */
	cmark_consolidate_text_nodes(doc);
	it = cmark_iter_new(doc);
	if (!it) {
		r = -ENOMEM;
		goto out;
	}
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		/* cmark reports leaves (text, code, breaks, raw HTML) with an
		 * ENTER event only; containers with ENTER and EXIT. */
		r = emit(&w, cmark_iter_get_node(it), ev == CMARK_EVENT_ENTER);
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

/* A text outside links as a reader meets it: its bare URLs are links
 * (as render_markdown makes them), the rest plain text.  0 or -ENOMEM. */
static int visit_text(const struct render_visitor *v, const char *s, size_t len)
{
	size_t start = 0, i = 0;

	while (i < len) {
		size_t n = 0;
		char *url;

		if ((s[i] == 'h' || s[i] == 'H') && (i == 0 || !word_byte((unsigned char)s[i - 1])))
			n = render_url_length(s + i, len - i);
		if (!n) {
			i++;
			continue;
		}
		url = strndup(s + i, n);
		if (!url)
			return -ENOMEM;
		if (i > start)
			v->text(s + start, i - start, false, v->u);
		v->link(url, v->u);
		v->text(url, n, true, v->u);
		free(url);
		i += n;
		start = i;
	}
	if (start < len)
		v->text(s + start, len - start, false, v->u);
	return 0;
}

/* One node of render_visit's walk.  0 or -ENOMEM. */
static int visit(const struct render_visitor *v, cmark_node *n, bool enter)
{
	const char *s, *url;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
		s = cmark_node_get_literal(n);
		if (!s)
			return 0;
		if (inside_link(n)) {
			v->text(s, strlen(s), true, v->u);
			return 0;
		}
		return visit_text(v, s, strlen(s));
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
		return 0;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		v->text("\n", 1, inside_link(n), v->u);
		return 0;
	case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING:
	case CMARK_NODE_ITEM:
		if (!enter)
			v->text("\n", 1, false, v->u);
		return 0;
	case CMARK_NODE_LINK:
		url = cmark_node_get_url(n);
		if (enter && url && link_allowed(url) && !inside_link(n))
			v->link(url, v->u);
		return 0;
	default:
		return 0;
	}
}

int render_visit(const char *text, size_t len, const struct render_visitor *v)
{
	cmark_node *doc;
	cmark_iter *it;
	cmark_event_type ev;
	int r = 0;

	if (len > RENDER_MAX_INPUT)
		return RENDER_TOO_BIG;
	doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	cmark_consolidate_text_nodes(doc); /* as render_markdown does */
	it = cmark_iter_new(doc);
	if (!it) {
		cmark_node_free(doc);
		return -ENOMEM;
	}
	while (r == 0 && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
		r = visit(v, cmark_iter_get_node(it), ev == CMARK_EVENT_ENTER);
	cmark_iter_free(it);
	cmark_node_free(doc);
	return r;
}
