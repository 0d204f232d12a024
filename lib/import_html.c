/* import_html: a comment's HTML to commentd's Markdown subset.
 *
 * libxml2's HTML parser (forgiving, as browsers are: unclosed <p>, stray
 * tags, entities) builds the tree; this walk writes Markdown for what
 * lib/render.c shows (paragraphs, line breaks, emphasis, code, links) and
 * plain, escaped text for everything else.  Newlines in text count as
 * WordPress shows them (wpautop): one is a line break, two a paragraph.
 */
#include "importfmt.h"

#include "buf.h"

#include <errno.h>
#include <libxml/HTMLparser.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MD_MAX	     (4 * 1024 * 1024)
#define MD_DEPTH_MAX 64
#define MD_MARKS     16

struct md {
	struct buf out;
	int quote;		     /* blockquote depth */
	int pending;		     /* before the next text: 1 line break, 2 paragraph */
	bool line_start;	     /* nothing written on this line yet */
	bool space;		     /* the last thing written was a space */
	bool after_br;		     /* a <br> was just seen: its newline is absorbed */
	bool in_link;		     /* inside an emitted link: no nested links or blocks */
	bool digits;		     /* the line so far is digits (an ordered list marker?) */
	const char *marks[MD_MARKS]; /* emphasis markers opened, innermost last */
	int n_marks, n_written;	     /* pushed; written to out (the outer ones) */
	int r;			     /* the first failure */
};

static void put(struct md *m, const char *s, size_t n)
{
	if (m->r == 0)
		m->r = buf_append(&m->out, s, n);
}

static void puts_md(struct md *m, const char *s)
{
	put(m, s, strlen(s));
}

/* Writes what must precede visible text: the pending break, the quote
 * prefix at a line's start and the emphasis markers not yet written. */
static void before_text(struct md *m)
{
	if (m->out.len > 0 && m->pending) {
		while (!m->in_link && m->out.len && m->out.data[m->out.len - 1] == ' ')
			m->out.data[--m->out.len] = '\0';
		puts_md(m, m->pending >= 2 && !m->in_link ? "\n\n" : m->in_link ? " " : "\n");
		m->line_start = !m->in_link;
	}
	m->pending = 0;
	m->after_br = false;
	if (m->line_start) {
		for (int i = 0; i < m->quote; i++)
			puts_md(m, "> ");
		m->digits = true;
	}
	for (; m->n_written < m->n_marks; m->n_written++)
		puts_md(m, m->marks[m->n_written]);
	m->space = false;
}

static void block_break(struct md *m)
{
	if (m->in_link) {
		if (!m->space && m->out.len)
			m->pending = 1;
		return;
	}
	m->pending = 2;
	m->after_br = false;
}

static bool entity_like(const char *p)
{
	return (p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z') ||
	       (p[0] >= '0' && p[0] <= '9') || p[0] == '#';
}

/* One visible character (or UTF-8 byte), escaped so that it shows as is. */
static void visible(struct md *m, const char *p)
{
	char c = *p;
	bool at_start;

	before_text(m);
	at_start = m->line_start;
	m->line_start = false;
	if (strchr("\\`*_[]<", c) || (c == '&' && entity_like(p + 1)) ||
	    (at_start && strchr("#>-+=~|", c)) ||
	    (m->digits && !at_start && (c == '.' || c == ')')))
		put(m, "\\", 1);
	if (!(c >= '0' && c <= '9'))
		m->digits = false;
	put(m, p, 1);
}

static void text(struct md *m, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\n') {
			if (m->after_br) {
				m->after_br = false;
				continue;
			}
			if (m->out.len)
				m->pending = m->pending ? 2 : 1;
			m->space = true;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f') {
			if (!m->space && !m->line_start && !m->pending) {
				put(m, " ", 1);
				m->space = true;
			}
			continue;
		}
		visible(m, p);
	}
}

static bool is(const xmlNode *n, const char *name)
{
	return strcasecmp((const char *)n->name, name) == 0;
}

static bool one_of(const xmlNode *n, const char *const *names)
{
	for (; *names; names++)
		if (is(n, *names))
			return true;
	return false;
}

static const char *const dropped[] = {"script",	  "style",  "head",   "title", "noscript",
				      "template", "iframe", "object", "embed", NULL};
static const char *const blocks[] = {
    "p",     "div",	   "h1",      "h2",	 "h3",	   "h4",     "h5",    "h6",	"ul", "ol",
    "table", "tr",	   "section", "article", "header", "footer", "aside", "figure", "dl", "dt",
    "dd",    "figcaption", "address", "center",	 "hr",	   "main",   "nav",   NULL};

static void walk(struct md *m, xmlNode *n, int depth);

static void children(struct md *m, xmlNode *n, int depth)
{
	for (xmlNode *c = n->children; c && m->r == 0; c = c->next)
		walk(m, c, depth + 1);
}

/* The longest run of backticks in s. */
static size_t backtick_run(const char *s)
{
	size_t best = 0, run = 0;

	for (; *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

static void fence(struct md *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(m, "`", 1);
}

static void inline_code(struct md *m, xmlNode *n)
{
	char *s = (char *)xmlNodeGetContent(n);
	size_t ticks;
	bool blank = true;

	if (!s)
		return;
	for (char *p = s; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		if (*p != ' ')
			blank = false;
	}
	if (!blank) {
		ticks = backtick_run(s) + 1;
		before_text(m);
		m->line_start = false;
		fence(m, ticks);
		if (s[0] == '`' || s[strlen(s) - 1] == '`')
			puts_md(m, " ");
		puts_md(m, s);
		if (s[0] == '`' || s[strlen(s) - 1] == '`')
			puts_md(m, " ");
		fence(m, ticks);
	}
	xmlFree(s);
}

static void preformatted(struct md *m, xmlNode *n)
{
	char *s = (char *)xmlNodeGetContent(n);
	size_t ticks;

	if (!s)
		return;
	if (m->in_link || m->quote) {
		text(m, s); /* no fenced blocks inside links or quotes */
		xmlFree(s);
		return;
	}
	ticks = backtick_run(s) + 1;
	if (ticks < 3)
		ticks = 3;
	block_break(m);
	m->pending = m->out.len ? 2 : 0;
	before_text(m);
	fence(m, ticks);
	puts_md(m, "\n");
	puts_md(m, s[0] == '\n' ? s + 1 : s);
	if (!*s || s[strlen(s) - 1] != '\n')
		puts_md(m, "\n");
	fence(m, ticks);
	xmlFree(s);
	block_break(m);
}

static bool link_allowed(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
	       strncasecmp(url, "mailto:", 7) == 0;
}

/* The destination in angle brackets, with what could end it encoded. */
static void destination(struct md *m, const char *url)
{
	char hex[4];

	puts_md(m, "(<");
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p == '<' || *p == '>' || *p == '\\' || *p == 0x7f) {
			snprintf(hex, sizeof(hex), "%%%02X", *p);
			puts_md(m, hex);
		} else {
			put(m, (const char *)p, 1);
		}
	}
	puts_md(m, ">)");
}

static bool blank_content(xmlNode *n)
{
	char *s = (char *)xmlNodeGetContent(n);
	bool blank = true;

	for (char *p = s; p && *p; p++)
		if (!strchr(" \t\r\n\f", *p))
			blank = false;
	xmlFree(s);
	return blank;
}

static void link(struct md *m, xmlNode *n, int depth)
{
	char *href = (char *)xmlGetProp(n, (const xmlChar *)"href");
	const char *url = href;

	while (url && (*url == ' ' || *url == '\t' || *url == '\n'))
		url++;
	if (!url || !link_allowed(url) || m->in_link || strlen(url) > IMPORT_FIELD_MAX) {
		children(m, n, depth);
		xmlFree(href);
		return;
	}
	before_text(m);
	m->line_start = false;
	puts_md(m, "[");
	m->in_link = true;
	if (blank_content(n))
		text(m, url);
	else
		children(m, n, depth);
	m->in_link = false;
	m->pending = 0;
	puts_md(m, "]");
	destination(m, url);
	xmlFree(href);
}

/* Emphasis: the marker is written just before the first visible text
 * inside (so "<b> x</b>" gives " **x**") and closed before trailing
 * spaces; an element with nothing visible writes no marker. */
static void emphasis(struct md *m, xmlNode *n, int depth, const char *marker)
{
	int level = m->n_marks;
	size_t trailing = 0;

	if (level == MD_MARKS) {
		children(m, n, depth);
		return;
	}
	m->marks[m->n_marks++] = marker;
	children(m, n, depth);
	if (m->n_written > level && m->r == 0) {
		while (trailing < m->out.len && m->out.data[m->out.len - 1 - trailing] == ' ')
			trailing++;
		put(m, marker, strlen(marker));
		if (m->r == 0 && trailing) {
			char *end = m->out.data + m->out.len - strlen(marker);
			memmove(end - trailing + strlen(marker), end - trailing, trailing);
			memcpy(end - trailing, marker, strlen(marker));
		}
		m->n_written = level;
	}
	m->n_marks = level;
	if (m->n_written > level)
		m->n_written = level;
}

static void list_item(struct md *m, xmlNode *n, int depth)
{
	char marker[16];
	int pos = 1;

	block_break(m);
	if (n->parent && is(n->parent, "ol")) {
		for (xmlNode *s = n->prev; s; s = s->prev)
			if (s->type == XML_ELEMENT_NODE && is(s, "li"))
				pos++;
		snprintf(marker, sizeof(marker), "%d. ", pos);
	} else {
		snprintf(marker, sizeof(marker), "- ");
	}
	if (!m->in_link && !blank_content(n)) {
		m->pending = m->out.len ? 2 : 0;
		before_text(m);
		puts_md(m, marker);
		m->line_start = false;
		m->digits = false;
	}
	children(m, n, depth);
	block_break(m);
}

static void element(struct md *m, xmlNode *n, int depth)
{
	if (one_of(n, dropped))
		return;
	if (is(n, "br")) {
		if (m->out.len && !m->in_link)
			m->pending = m->pending ? m->pending : 1;
		m->after_br = true;
		m->space = true;
	} else if (is(n, "a")) {
		link(m, n, depth);
	} else if (is(n, "b") || is(n, "strong")) {
		emphasis(m, n, depth, "**");
	} else if (is(n, "i") || is(n, "em") || is(n, "cite") || is(n, "dfn") || is(n, "var")) {
		emphasis(m, n, depth, "*");
	} else if (is(n, "code") || is(n, "kbd") || is(n, "samp") || is(n, "tt")) {
		inline_code(m, n);
	} else if (is(n, "pre")) {
		preformatted(m, n);
	} else if (is(n, "blockquote")) {
		block_break(m);
		m->quote += !m->in_link;
		children(m, n, depth);
		m->quote -= !m->in_link;
		block_break(m);
	} else if (is(n, "li")) {
		list_item(m, n, depth);
	} else if (is(n, "q")) {
		text(m, "\xe2\x80\x9c");
		children(m, n, depth);
		text(m, "\xe2\x80\x9d");
	} else if (is(n, "img")) {
		char *alt = (char *)xmlGetProp(n, (const xmlChar *)"alt");
		if (alt)
			text(m, alt);
		xmlFree(alt);
	} else if (is(n, "td") || is(n, "th")) {
		text(m, " ");
		children(m, n, depth);
		text(m, " ");
	} else if (one_of(n, blocks)) {
		block_break(m);
		children(m, n, depth);
		block_break(m);
	} else {
		children(m, n, depth);
	}
}

static void walk(struct md *m, xmlNode *n, int depth)
{
	if (depth > MD_DEPTH_MAX) {
		char *s = (char *)xmlNodeGetContent(n);
		if (s)
			text(m, s);
		xmlFree(s);
		return;
	}
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			text(m, (const char *)n->content);
	} else if (n->type == XML_ELEMENT_NODE) {
		element(m, n, depth);
	}
}

/* The body element of a parsed fragment, or the root when there is none. */
static xmlNode *body_of(xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc);

	if (!root)
		return NULL;
	for (xmlNode *c = root->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && is(c, "body"))
			return c;
	return root;
}

int import_html_to_markdown(const char *html, size_t len, char **out)
{
	struct md m = {.line_start = true};
	xmlDoc *doc = NULL;
	xmlNode *body;

	*out = NULL;
	buf_init(&m.out, MD_MAX);
	if (len > IMPORT_TEXT_MAX)
		len = IMPORT_TEXT_MAX;
	if (len > 0) {
		doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
				     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
					 HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
		if (!doc)
			return -ENOMEM;
	}
	body = doc ? body_of(doc) : NULL;
	if (body) {
		if (body->type == XML_ELEMENT_NODE && !is(body, "body") && !is(body, "html"))
			walk(&m, body, 0);
		else
			children(&m, body, 0);
	}
	xmlFreeDoc(doc);
	if (m.r == BUF_TOO_BIG) {
		/* Longer than any comment may be: cut (the driver refuses it). */
		m.r = 0;
	}
	if (m.r != 0) {
		buf_free(&m.out);
		return -ENOMEM;
	}
	while (m.out.len && strchr(" \n", m.out.data[m.out.len - 1]))
		m.out.data[--m.out.len] = '\0';
	*out = buf_steal(&m.out);
	return *out ? 0 : -ENOMEM;
}
