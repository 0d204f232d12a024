/* fuzz-render: comment text through render_markdown, and a check that the
 * HTML is inert: only the tags the renderer may emit (<p>, <br>, <em>,
 * <strong>, <code>, <pre>, <ul>, <ol [start="N"]>, <li>, <blockquote>,
 * <a href="..." rel="nofollow ugc">, bare URLs included), no "<script",
 * every '&' an entity the escaper writes, quotes and '>' only inside tags,
 * and every href an http, https or mailto URL (so never javascript:).  Any
 * violation aborts.  The same bytes through markup_text (the feeds' and
 * the HTML pages' escaping) must come out as inert, XML-clean UTF-8. */
#include "fuzz.h"

#include "markup.h"
#include "render.h"
#include "text.h"

#include <stdbool.h>
#include <strings.h>

static const char *const tags[] = {
    "<p>",    "</p>",	 "<br>",  "<em>",   "</em>",	    "<strong>",	     "</strong>",
    "<code>", "</code>", "<pre>", "</pre>", "</a>",	    "<ul>",	     "</ul>",
    "<ol>",   "</ol>",	 "<li>",  "</li>",  "<blockquote>", "</blockquote>", NULL};
static const char ol_start[] = "<ol start=\"";
static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", NULL};
static const char a_open[] = "<a href=\"";
static const char a_rel[] = "\" rel=\"nofollow ugc\">";

static size_t starts_with_any(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		size_t n = strlen(list[i]);
		if (strncmp(s, list[i], n) == 0)
			return n;
	}
	return 0;
}

/* Decodes the escaper's five entities in href[0..len) into out. */
static void unescape(const char *href, size_t len, char *out)
{
	static const char plain[] = "&<>\"'";
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		if (href[i] == '&') {
			size_t k;
			for (k = 0; entities[k]; k++) {
				if (strncmp(href + i, entities[k], strlen(entities[k])) == 0)
					break;
			}
			fuzz_assert(entities[k] != NULL);
			out[o++] = plain[k];
			i += strlen(entities[k]);
		} else {
			out[o++] = href[i++];
		}
	}
	out[o] = '\0';
}

static void check_href(const char *href, size_t len)
{
	char *url = malloc(len + 1);

	if (!url)
		abort();
	unescape(href, len, url);
	/* What a browser would see: no raw quote or angle bracket survives
	 * in the attribute, and the scheme is one of the three allowed. */
	for (size_t i = 0; i < len; i++)
		fuzz_assert(href[i] != '<' && href[i] != '>' && href[i] != '\'');
	fuzz_assert(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
		    strncasecmp(url, "mailto:", 7) == 0);
	fuzz_assert(strncasecmp(url, "javascript:", 11) != 0);
	free(url);
}

static void check_html(const char *html)
{
	bool in_link = false;

	for (const char *p = html; *p;) {
		size_t n;

		fuzz_assert(strncasecmp(p, "<script", 7) != 0);
		switch (*p) {
		case '<':
			if (strncmp(p, a_open, sizeof(a_open) - 1) == 0) {
				const char *href = p + sizeof(a_open) - 1;
				const char *q = strchr(href, '"');
				fuzz_assert(q != NULL);
				fuzz_assert(strncmp(q, a_rel, sizeof(a_rel) - 1) == 0);
				check_href(href, (size_t)(q - href));
				fuzz_assert(!in_link);
				in_link = true;
				p = q + sizeof(a_rel) - 1;
				continue;
			}
			if (strncmp(p, ol_start, sizeof(ol_start) - 1) == 0) {
				const char *q = p + sizeof(ol_start) - 1;
				fuzz_assert(*q >= '0' && *q <= '9');
				while (*q >= '0' && *q <= '9')
					q++;
				fuzz_assert(q[0] == '"' && q[1] == '>');
				p = q + 2;
				continue;
			}
			n = starts_with_any(p, tags);
			fuzz_assert(n > 0);
			if (strncmp(p, "</a>", 4) == 0) {
				fuzz_assert(in_link);
				in_link = false;
			}
			p += n;
			continue;
		case '&':
			n = starts_with_any(p, entities);
			fuzz_assert(n > 0);
			p += n;
			continue;
		case '>':
		case '"':
		case '\'':
			fuzz_assert(!"markup character outside a tag");
			break;
		default:
			p++;
		}
	}
	fuzz_assert(!in_link);
	/* Also case-folded: "<SCRIPT" must not appear anywhere. */
	for (const char *p = html; (p = strchr(p, '<')); p++)
		fuzz_assert(strncasecmp(p, "<script", 7) != 0);
}

/* render_visit (what lib/policy reads): every link it reports is one the
 * HTML carries, and every piece of text is valid UTF-8. */
struct visited {
	unsigned links;
};

static void on_link(const char *url, void *u)
{
	fuzz_assert(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
		    strncasecmp(url, "mailto:", 7) == 0);
	((struct visited *)u)->links++;
}

static void on_text(const char *s, size_t len, bool in_link, void *u)
{
	(void)in_link;
	(void)u;
	fuzz_assert(text_utf8_valid(s, len, NULL));
}

static void check_visit(const uint8_t *data, size_t size, const char *html)
{
	struct visited v = {0};
	struct render_visitor rv = {on_link, on_text, &v};
	unsigned anchors = 0;

	fuzz_assert(render_visit((const char *)data, size, &rv) == 0);
	for (const char *p = html; (p = strstr(p, "<a href=")); p++)
		anchors++;
	fuzz_assert(v.links == anchors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *html = NULL;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	r = render_markdown((const char *)data, size, &html);
	fuzz_assert(r == 0 || r == RENDER_TOO_BIG);
	if (r != 0) {
		fuzz_assert(html == NULL);
		return 0;
	}
	fuzz_assert(html != NULL);
	/* cmark replaces invalid UTF-8 and NULs (CMARK_OPT_VALIDATE_UTF8). */
	fuzz_assert(text_utf8_valid(html, strlen(html), NULL));
	check_html(html);
	check_visit(data, size, html);
	free(html);

	/* markup_text (the feeds' and pages' text) on the same bytes: valid
	 * UTF-8 that XML 1.0 accepts, nothing but the five entities. */
	{
		struct markup m;
		char *z = fuzz_strndup(data, size);
		int err;

		markup_init(&m, 16 * size + 64);
		markup_text(&m, z);
		html = markup_finish(&m, &err);
		fuzz_assert(html != NULL && err == 0);
		fuzz_assert(text_utf8_valid(html, strlen(html), NULL));
		for (const unsigned char *p = (const unsigned char *)html; *p; p++) {
			fuzz_assert(*p != '<' && *p != '>' && *p != '"' && *p != '\'');
			fuzz_assert(*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r');
			fuzz_assert(*p != 0x7f);
			if (*p == '&')
				fuzz_assert(starts_with_any((const char *)p, entities) > 0);
			/* U+FFFE and U+FFFF are not XML characters. */
			fuzz_assert(
			    !(p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)));
		}
		free(html);
		free(z);
	}

	/* render_escape on the same bytes: nothing but the five entities. */
	html = render_escape((const char *)data, size);
	fuzz_assert(html != NULL);
	for (const char *p = html; *p; p++) {
		fuzz_assert(*p != '<' && *p != '>' && *p != '"' && *p != '\'');
		if (*p == '&')
			fuzz_assert(starts_with_any(p, entities) > 0);
	}
	free(html);
	return 0;
}
