/* Unit tests for lib/render: the Markdown subset, escaping, link rules, the
 * size caps, and an inertness check of the output over nasty and random
 * inputs. */
#include "tap.h"

#include "render.h"
#include "text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

/* s with control characters shown as \xNN, for test names. */
static const char *vis(const char *s)
{
	static char out[4][1024];
	static int i;
	size_t n = 0;

	if (!s)
		return "(null)";
	i = (i + 1) % 4;
	for (; *s && n < sizeof(out[0]) - 5; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(out[i] + n, 5, "\\x%02x", ch);
		else
			out[i][n++] = (char)ch;
	}
	out[i][n] = '\0';
	return out[i];
}

static char *md(const char *text)
{
	char *html = NULL;
	int r = render_markdown(text, strlen(text), &html);

	if (r != 0) {
		diag("render_markdown returned %d for \"%s\"", r, text);
		free(html);
		return NULL;
	}
	return html;
}

/* Renders text and compares the whole output. */
#define RENDERS(text, want, ...)                                                                   \
	do {                                                                                       \
		char *h_ = md(text);                                                               \
		is_str(h_, want, __VA_ARGS__);                                                     \
		free(h_);                                                                          \
	} while (0)

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* Why html is not inert, or NULL when it is.  Accepts only the tags render
 * may emit: <p> <br> <em> <strong> <code> <pre> (and their closing forms)
 * without attributes, and <a href="http(s)|mailto:..." rel="nofollow ugc">.
 * Outside tags, '>' must not appear raw and '&' must start one of the five
 * entities render writes. */
static const char *not_inert(const char *html)
{
	static const char *const bare[] = {
	    "<p>",    "</p>",	 "<br>",  "<em>",   "</em>",	    "<strong>",	    "</strong>",
	    "<code>", "</code>", "<pre>", "</pre>", "</a>",	    "<ul>",	    "</ul>",
	    "<ol>",   "</ol>",	 "<li>",  "</li>",  "<blockquote>", "</blockquote>"};
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
	const char *p = html;
	bool in_a = false;

	while (*p) {
		if (*p == '<') {
			bool known = false;
			if (strncmp(p, "</a>", 4) == 0)
				in_a = false;
			for (size_t i = 0; i < sizeof(bare) / sizeof(*bare); i++) {
				size_t n = strlen(bare[i]);
				if (strncmp(p, bare[i], n) == 0) {
					p += n;
					known = true;
					break;
				}
			}
			if (known)
				continue;
			if (strncmp(p, "<ol start=\"", 11) == 0) {
				p += 11;
				while (*p >= '0' && *p <= '9')
					p++;
				if (strncmp(p, "\">", 2) != 0)
					return "an <ol> start that is not a number";
				p += 2;
				continue;
			}
			if (strncmp(p, "<a href=\"", 9) != 0)
				return "a tag other than p, br, em, strong, code, pre, lists, "
				       "blockquote or a";
			if (in_a)
				return "an <a> inside an <a>";
			in_a = true;
			p += 9;
			if (strncasecmp(p, "http://", 7) != 0 &&
			    strncasecmp(p, "https://", 8) != 0 && strncasecmp(p, "mailto:", 7) != 0)
				return "a link that is not http, https or mailto";
			while (*p && *p != '"') {
				if (*p == '<' || *p == '>' || *p == '\'' ||
				    (unsigned char)*p < 0x20)
					return "an unescaped character in href";
				p++;
			}
			if (strncmp(p, "\" rel=\"nofollow ugc\">", 21) != 0)
				return "an <a> without exactly rel=\"nofollow ugc\"";
			p += 21;
			continue;
		}
		if (*p == '>')
			return "a raw '>' outside a tag";
		if (*p == '"' || *p == '\'')
			return "a raw quote in text";
		if (*p == '&') {
			bool known = false;
			for (size_t i = 0; i < sizeof(ents) / sizeof(*ents); i++) {
				if (strncmp(p, ents[i], strlen(ents[i])) == 0) {
					known = true;
					break;
				}
			}
			if (!known)
				return "a raw '&'";
		}
		p++;
	}
	return NULL;
}

/* Every tag opened is closed in order (a well-formed fragment). */
static bool balanced(const char *html)
{
	static const char *const names[] = {"p", "em", "strong", "code", "pre",
					    "a", "ul", "ol",	 "li",	 "blockquote"};
	int stack[256], depth = 0;

	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		bool close = p[1] == '/';
		const char *name = p + 1 + close;
		int which = -1;
		for (int i = 0; i < (int)(sizeof(names) / sizeof(*names)); i++) {
			size_t n = strlen(names[i]);
			if (strncmp(name, names[i], n) == 0 && (name[n] == '>' || name[n] == ' ')) {
				which = i;
				break;
			}
		}
		if (which < 0)
			continue; /* <br> */
		if (!close) {
			if (depth == 256)
				return false;
			stack[depth++] = which;
		} else if (depth == 0 || stack[--depth] != which) {
			return false;
		}
	}
	return depth == 0;
}

/* The case-insensitive checks the brief asks for by name. */
static bool no_script_no_handlers(const char *html)
{
	for (const char *p = html; *p; p++) {
		if (strncasecmp(p, "<script", 7) == 0)
			return false;
	}
	/* on...= as an attribute name inside a tag (outside quoted values) */
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		char quote = 0;
		for (const char *q = p + 1; *q && (quote || *q != '>'); q++) {
			if (quote) {
				if (*q == quote)
					quote = 0;
				continue;
			}
			if (*q == '"' || *q == '\'') {
				quote = *q;
				continue;
			}
			if ((q[0] == ' ' || q[0] == '\t' || q[0] == '\n' || q[0] == '/') &&
			    (q[1] == 'o' || q[1] == 'O') && (q[2] == 'n' || q[2] == 'N')) {
				const char *r = q + 3;
				while (isalpha((unsigned char)*r))
					r++;
				while (*r == ' ' || *r == '\t' || *r == '\n')
					r++;
				if (*r == '=')
					return false;
			}
		}
	}
	return true;
}

static void check_inert(const char *text, size_t len, const char *what)
{
	char *html = NULL;
	int r = render_markdown(text, len, &html);
	const char *why;
	size_t anchors = 0, rels = 0;

	if (r != 0) {
		ok(0, "%s: render_markdown returned %d", what, r);
		return;
	}
	why = not_inert(html);
	ok(why == NULL, "%s: inert output%s%s", what, why ? ": " : "", why ? why : "");
	if (why)
		diag("  html: %s", vis(html));
	ok(no_script_no_handlers(html), "%s: no <script, no on...= attributes", what);
	for (const char *p = strstr(html, "<a"); p; p = strstr(p + 1, "<a"))
		anchors++;
	for (const char *p = strstr(html, "rel=\"nofollow ugc\""); p;
	     p = strstr(p + 1, "rel=\"nofollow ugc\""))
		rels++;
	is_int(rels, anchors, "%s: every <a carries rel=\"nofollow ugc\"", what);
	ok(balanced(html), "%s: tags balanced", what);
	ok(text_utf8_valid(html, strlen(html), NULL), "%s: output is valid UTF-8", what);
	free(html);
}

static void test_basics(void)
{
	RENDERS("", "", "empty text renders empty");
	RENDERS("hello", "<p>hello</p>", "one paragraph");
	RENDERS("one\n\ntwo", "<p>one</p>\n<p>two</p>", "two paragraphs");
	RENDERS("one\ntwo", "<p>one<br>\ntwo</p>", "a soft line break is <br>");
	RENDERS("one  \ntwo", "<p>one<br>\ntwo</p>", "a hard line break is <br>");
	RENDERS("one\\\ntwo", "<p>one<br>\ntwo</p>", "a backslash line break is <br>");
	RENDERS("a *b* _c_ **d** __e__ ***f***",
		"<p>a <em>b</em> <em>c</em> <strong>d</strong> <strong>e</strong> "
		"<em><strong>f</strong></em></p>",
		"emphasis and strong");
	RENDERS("use `a<b>&\"'` here", "<p>use <code>a&lt;b&gt;&amp;&quot;&#39;</code> here</p>",
		"inline code is escaped");
	RENDERS("```\n<script>alert(1)</script>\n```",
		"<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>",
		"fenced code is escaped");
	RENDERS("```js onload=x\ncode\n```", "<pre><code>code\n</code></pre>",
		"the info string is dropped");
	RENDERS("    indented <b>\n", "<pre><code>indented &lt;b&gt;\n</code></pre>",
		"indented code is escaped");
	RENDERS("Tom & Jerry's \"cat\" > dog < bird",
		"<p>Tom &amp; Jerry&#39;s &quot;cat&quot; &gt; dog &lt; bird</p>",
		"text special characters are escaped");
	RENDERS("&lt;script&gt; &amp;amp; &copy;", "<p>&lt;script&gt; &amp;amp; \xc2\xa9</p>",
		"entities are decoded then re-escaped");
	RENDERS("\\*not em\\*", "<p>*not em*</p>", "backslash escapes");
	RENDERS("a\n\n---\n\nb", "<p>a</p>\n<p>b</p>", "thematic breaks vanish");
	RENDERS("trailing\n\n\n", "<p>trailing</p>", "no trailing newline");
}

static void test_links(void)
{
	RENDERS(
	    "[site](https://example.org/a?b=1&c=2)",
	    "<p><a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow ugc\">site</a></p>",
	    "https link with rel and escaped &");
	RENDERS("[s](http://example.org)",
		"<p><a href=\"http://example.org\" rel=\"nofollow ugc\">s</a></p>", "http link");
	RENDERS("[m](mailto:a@example.org)",
		"<p><a href=\"mailto:a@example.org\" rel=\"nofollow ugc\">m</a></p>",
		"mailto link");
	RENDERS("[T](HTTPS://EXAMPLE.ORG)",
		"<p><a href=\"HTTPS://EXAMPLE.ORG\" rel=\"nofollow ugc\">T</a></p>",
		"scheme case-insensitive");
	RENDERS(
	    "<https://example.org>",
	    "<p><a href=\"https://example.org\" rel=\"nofollow ugc\">https://example.org</a></p>",
	    "autolink");
	RENDERS("[t](https://example.org \"Title\")",
		"<p><a href=\"https://example.org\" rel=\"nofollow ugc\">t</a></p>",
		"titles are dropped");
	RENDERS("[r]\n\n[r]: https://example.org/ref",
		"<p><a href=\"https://example.org/ref\" rel=\"nofollow ugc\">r</a></p>",
		"reference links");
	RENDERS("[*e*](https://x.example)",
		"<p><a href=\"https://x.example\" rel=\"nofollow ugc\"><em>e</em></a></p>",
		"emphasis inside a link");

	static const char *const dropped[] = {
	    "[click](javascript:alert(1))",	"[click](JavaScript:alert(1))",
	    "[click](javascript&#58;alert(1))", "[click](data:text/html;base64,PHNjcmlwdD4=)",
	    "[click](vbscript:msgbox(1))",	"[click](<javascript:alert(1)>)",
	    "[click](ftp://example.org)",	"[click](/relative)",
	    "[click](//evil.example)",		"[click](file:///etc/passwd)",
	    "[click](%6Aavascript:alert(1))",	"[click]( javascript:alert(1))",
	    "[click](\tjavascript:alert(1))",	"[click](java\nscript:alert(1))"};
	for (size_t i = 0; i < sizeof(dropped) / sizeof(*dropped); i++) {
		char *h = md(dropped[i]);
		ok(h && !has(h, "<a") && has(h, "click"), "link %zu dropped, text kept: %s", i,
		   vis(h));
		free(h);
	}
	RENDERS("<javascript:alert(1)>", "<p>javascript:alert(1)</p>",
		"a javascript: autolink is reduced to its text");

	/* An autolink inside a link's text would nest <a> elements. */
	{
		char *h = md("[see <https://inner.example> here](https://outer.example)");
		const char *first = h ? strstr(h, "<a") : NULL;
		ok(first && !strstr(first + 1, "<a"), "a link inside a link is not nested: %s",
		   vis(h));
		ok(has(h, "https://inner.example") && has(h, "href=\"https://outer.example\""),
		   "the outer link wins, the inner keeps its text");
		free(h);
		h = md("[x <https://inner.example>](javascript:alert(1))");
		ok(h && has(h, "href=\"https://inner.example\"") && !has(h, "javascript:alert"),
		   "inside a dropped link the inner link stays: %s", vis(h));
		free(h);
	}

	/* Attribute-breaking URLs. */
	{
		char *h = md("[x](https://a.example/\"onmouseover=alert(1)//)");
		ok(h && !has(h, "\"onmouseover") && has(h, "&quot;onmouseover"),
		   "a double quote in a URL is escaped: %s", vis(h));
		free(h);
		h = md("[x](<https://a.example/\" onclick=\"x>)");
		ok(h && !has(h, "\" onclick"), "a quoted space in a URL cannot add attributes: %s",
		   vis(h));
		free(h);
		h = md("[x](https://a.example/'><script>)");
		ok(h && !has(h, "'>") && !has(h, "<script"), "single quotes and <> escaped: %s",
		   vis(h));
		free(h);
		h = md("[x]: https://a.example/\"><img src=x onerror=alert(1)>\n\n[x]");
		ok(h && !has(h, "<img"), "a reference URL with HTML stays escaped: %s", vis(h));
		free(h);
	}
}

static void test_reduced(void)
{
	RENDERS("<b onclick=\"x()\">bold</b>",
		"<p>&lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;</p>", "inline HTML is escaped");
	RENDERS("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>",
		"a script block is escaped");
	RENDERS("<div onclick=\"x\">\nblock\n</div>",
		"<p>&lt;div onclick=&quot;x&quot;&gt;\nblock\n&lt;/div&gt;\n</p>",
		"an HTML block is escaped");
	RENDERS("<!-- hidden -->", "<p>&lt;!-- hidden --&gt;\n</p>", "a comment is shown, escaped");
	RENDERS("![alt text](https://example.org/x.png)", "<p>alt text</p>",
		"an image becomes its alt text");
	RENDERS("![](javascript:alert(1))", "<p></p>", "an image without alt becomes nothing");
	RENDERS("![a \"q\"](https://x/y.png \"t\")", "<p>a &quot;q&quot;</p>",
		"image alt is escaped");
	RENDERS("# Heading\n\ntext", "<p>Heading</p>\n<p>text</p>",
		"an ATX heading is a paragraph");
	RENDERS("Setext\n======", "<p>Setext</p>", "a setext heading is a paragraph");
	RENDERS("> quoted\n> more", "<blockquote>\n<p>quoted<br>\nmore</p>\n</blockquote>",
		"a block quote");
	RENDERS("> a\n>\n> > b",
		"<blockquote>\n<p>a</p>\n<blockquote>\n<p>b</p>\n</blockquote>\n</blockquote>",
		"a quote inside a quote");
	RENDERS("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
		"a tight bullet list has no paragraphs in its items");
	RENDERS("* a\n+ b", "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>\n</ul>",
		"another bullet character starts another list");
	RENDERS("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>", "an ordered list");
	RENDERS("3. three\n4. four", "<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>",
		"an ordered list keeps its first number");
	RENDERS("1. a\n\n   second para\n2. b",
		"<ol>\n<li><p>a</p>\n<p>second para</p>\n</li>\n<li><p>b</p>\n</li>\n</ol>",
		"a loose list keeps its paragraphs");
	RENDERS("- \n- x", "<ul>\n<li></li>\n<li>x</li>\n</ul>", "an empty item");
	RENDERS("- a\n  - nested", "<ul>\n<li>a<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>",
		"nested lists");
	RENDERS("- ```\n  code\n  ```", "<ul>\n<li><pre><code>code\n</code></pre>\n</li>\n</ul>",
		"an item starting with code");
	RENDERS(
	    "- *em* and `code`\n- > quoted",
	    "<ul>\n<li><em>em</em> and <code>code</code></li>\n<li><blockquote>\n<p>quoted</p>\n"
	    "</blockquote>\n</li>\n</ul>",
	    "emphasis, code and quotes in items");
	/* Quotes and lists nest only so deep; deeper ones keep their content. */
	{
		char deep[64] = "";
		size_t len = 0;
		char *h;
		int opened = 0;

		for (int i = 0; i < RENDER_MAX_NEST + 4; i++)
			len += (size_t)snprintf(deep + len, sizeof(deep) - len, "> ");
		snprintf(deep + len, sizeof(deep) - len, "deep");
		h = md(deep);
		for (const char *p = h; p && (p = strstr(p, "<blockquote>")); p++)
			opened++;
		is_int(opened, RENDER_MAX_NEST, "quotes nest %d levels deep", RENDER_MAX_NEST);
		ok(has(h, "<p>deep</p>"), "the deepest text stays");
		ok(h && balanced(h), "and the tags balance");
		free(h);
	}
}

static void test_autolinks(void)
{
	RENDERS("see https://example.org/a?b=1&c=2 here",
		"<p>see <a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow ugc\">"
		"https://example.org/a?b=1&amp;c=2</a> here</p>",
		"a bare https URL is a link");
	RENDERS("http://example.org",
		"<p><a href=\"http://example.org\" rel=\"nofollow ugc\">http://example.org</a></p>",
		"a bare http URL at the start");
	RENDERS("Zie https://example.org/x. En (https://example.org/y), of https://example.org/z!",
		"<p>Zie <a href=\"https://example.org/x\" rel=\"nofollow "
		"ugc\">https://example.org/x</a>. "
		"En (<a href=\"https://example.org/y\" rel=\"nofollow "
		"ugc\">https://example.org/y</a>), "
		"of <a href=\"https://example.org/z\" rel=\"nofollow "
		"ugc\">https://example.org/z</a>!</p>",
		"trailing punctuation and an unopened parenthesis stay outside");
	RENDERS("https://en.wikipedia.org/wiki/Foo_(bar)",
		"<p><a href=\"https://en.wikipedia.org/wiki/Foo_(bar)\" rel=\"nofollow ugc\">"
		"https://en.wikipedia.org/wiki/Foo_(bar)</a></p>",
		"balanced parentheses stay inside");
	RENDERS("https://example.org/[x]",
		"<p><a href=\"https://example.org/[x]\" rel=\"nofollow "
		"ugc\">https://example.org/[x]</a></p>",
		"a URL cmark splits into several text nodes is one link");
	RENDERS(
	    "HTTPS://EXAMPLE.ORG",
	    "<p><a href=\"HTTPS://EXAMPLE.ORG\" rel=\"nofollow ugc\">HTTPS://EXAMPLE.ORG</a></p>",
	    "the scheme in capitals");
	RENDERS("http://a.example,http://b.example;https://c.example",
		"<p><a href=\"http://a.example\" rel=\"nofollow ugc\">http://a.example</a>,"
		"<a href=\"http://b.example\" rel=\"nofollow ugc\">http://b.example</a>;"
		"<a href=\"https://c.example\" rel=\"nofollow ugc\">https://c.example</a></p>",
		"after the host only a path goes on: addresses written together are several links");
	RENDERS("http://a.example/x)http://b.example",
		"<p><a href=\"http://a.example/x\" rel=\"nofollow ugc\">http://a.example/x</a>)"
		"<a href=\"http://b.example\" rel=\"nofollow ugc\">http://b.example</a></p>",
		"another scheme ends a path");
	RENDERS("http://a.example:8080/p?q=1#f x",
		"<p><a href=\"http://a.example:8080/p?q=1#f\" rel=\"nofollow ugc\">"
		"http://a.example:8080/p?q=1#f</a> x</p>",
		"port, query and fragment");
	RENDERS("xhttps://example.org", "<p>xhttps://example.org</p>", "inside a word it is text");
	RENDERS("https:// and https://. and http://-x",
		"<p>https:// and https://. and http://-x</p>", "no host, no link");
	RENDERS("ftp://example.org javascript:alert(1) www.example.org",
		"<p>ftp://example.org javascript:alert(1) www.example.org</p>",
		"other schemes and bare hosts are text");
	RENDERS("https://example.org/\"onmouseover=x",
		"<p><a href=\"https://example.org/\" rel=\"nofollow ugc\">https://example.org/</a>"
		"&quot;onmouseover=x</p>",
		"a quote ends the URL");
	RENDERS("&lt;https://example.org/&gt;",
		"<p>&lt;<a href=\"https://example.org/\" rel=\"nofollow "
		"ugc\">https://example.org/</a>&gt;</p>",
		"angle brackets end the URL");
	RENDERS("[site](https://a.example) https://b.example",
		"<p><a href=\"https://a.example\" rel=\"nofollow ugc\">site</a> "
		"<a href=\"https://b.example\" rel=\"nofollow ugc\">https://b.example</a></p>",
		"a link and a bare URL");
	RENDERS("[see https://inner.example](https://outer.example)",
		"<p><a href=\"https://outer.example\" rel=\"nofollow ugc\">see "
		"https://inner.example</a></p>",
		"a bare URL in a link's text is not a second link");
	RENDERS("`https://example.org`", "<p><code>https://example.org</code></p>",
		"code keeps its URLs as text");
	RENDERS("*https://example.org*",
		"<p><em><a href=\"https://example.org\" rel=\"nofollow "
		"ugc\">https://example.org</a></em></p>",
		"a URL in emphasis");
	RENDERS("- https://example.org",
		"<ul>\n<li><a href=\"https://example.org\" rel=\"nofollow "
		"ugc\">https://example.org</a></li>\n</ul>",
		"a URL in a list item");
	RENDERS("https://xn--bcher-kva.example/ü",
		"<p><a href=\"https://xn--bcher-kva.example/ü\" rel=\"nofollow "
		"ugc\">https://xn--bcher-kva.example/ü</a></p>",
		"non-ASCII in a URL");
}

static void test_caps(void)
{
	char *html = (char *)1;
	char *big;
	int r;

	big = malloc(RENDER_MAX_INPUT + 1);
	memset(big, 'a', RENDER_MAX_INPUT + 1);
	r = render_markdown(big, RENDER_MAX_INPUT + 1, &html);
	is_int(r, RENDER_TOO_BIG, "input over RENDER_MAX_INPUT is RENDER_TOO_BIG");
	html = NULL;
	r = render_markdown(big, RENDER_MAX_INPUT, &html);
	is_int(r, 0, "input of exactly RENDER_MAX_INPUT renders");
	ok(html && strlen(html) == RENDER_MAX_INPUT + 7, "as one paragraph");
	free(html);

	/* Output cap: an e-mail autolink "<a@b>" (5 bytes) becomes a 47-byte
	 * anchor, so 510 kB of them exceed the 4 MB output cap. */
	{
		size_t n = 0;
		while (n + 5 <= 510 * 1024) {
			memcpy(big + n, "<a@b>", 5);
			n += 5;
		}
		html = (char *)1;
		r = render_markdown(big, n, &html);
		is_int(r, RENDER_TOO_BIG, "output over RENDER_MAX_OUTPUT is RENDER_TOO_BIG");
		ok(html == (char *)1, "and *html is left alone");
		/* A tenth of it fits. */
		html = NULL;
		r = render_markdown(big, n / 10, &html);
		is_int(r, 0, "a tenth of that renders");
		ok(html && strlen(html) > n / 10 * 9 && strlen(html) <= RENDER_MAX_OUTPUT,
		   "expanded ~9x (%zu bytes)", html ? strlen(html) : 0);
		free(html);
	}
	/* Escapes expand 5x: under the cap it still renders. */
	{
		size_t n = 100 * 1024;
		memset(big, '\'', n);
		html = NULL;
		r = render_markdown(big, n, &html);
		is_int(r, 0, "100 kB of quotes (500 kB of output) renders");
		ok(html && strlen(html) == 5 * n + 7, "fully escaped");
		free(html);
	}
	free(big);
}

static void test_escape(void)
{
	char *s = render_escape("<a href='x'>&\"</a>", 19);
	is_str(s, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;", "render_escape");
	free(s);
	s = render_escape("a\0b<", 4);
	ok(s && memcmp(s, "a\0b&lt;", 8) == 0, "render_escape honours len, keeps bytes");
	free(s);
	s = render_escape("", 0);
	is_str(s, "", "render_escape of nothing");
	free(s);
}

static void test_checkers(void)
{
	/* The checkers themselves must catch what they look for. */
	ok(not_inert("<p>x</p><br>") == NULL, "checker accepts plain markup");
	ok(not_inert("<a href=\"https://x\" rel=\"nofollow ugc\">y</a>") == NULL,
	   "checker accepts a good link");
	ok(not_inert("<script>") != NULL, "checker rejects <script>");
	ok(not_inert("<p onclick=x>") != NULL, "checker rejects attributes on p");
	ok(not_inert("<a href=\"javascript:x\" rel=\"nofollow ugc\">") != NULL,
	   "checker rejects javascript: links");
	ok(not_inert("<a href=\"https://x\">") != NULL, "checker rejects a link without rel");
	ok(not_inert("<a href=\"https://x\" rel=\"nofollow ugc\" onclick=\"y\">") != NULL,
	   "checker rejects extra attributes");
	ok(not_inert("a > b") != NULL, "checker rejects raw >");
	ok(not_inert("a &copy; b") != NULL, "checker rejects unknown entities");
	ok(!no_script_no_handlers("<p>x</p><SCRIPT>"), "checker finds <SCRIPT");
	ok(!no_script_no_handlers("<img src=x onerror=y>"), "checker finds onerror=");
	ok(!no_script_no_handlers("<svg/onload =y>"), "checker finds /onload =");
	ok(no_script_no_handlers("<a href=\"x &quot; onclick=1\">"),
	   "checker ignores on...= inside a quoted value");
	ok(no_script_no_handlers("<p>a onclick=b</p>"), "checker ignores text");
	ok(not_inert("<a href=\"https://x\" rel=\"nofollow ugc\"><a href=\"https://y\" "
		     "rel=\"nofollow ugc\">y</a></a>") != NULL,
	   "checker rejects nested links");
	ok(!balanced("<p><em></p></em>"), "checker finds misnested tags");
	ok(!balanced("<p>"), "checker finds unclosed tags");
	ok(balanced("<p><em>a</em><br>\n</p>"), "checker accepts nested tags");
}

static void test_inert(void)
{
	static const char *const nasty[] = {
	    "<script>alert(1)</script>",
	    "<SCRIPT SRC=//evil/x.js></SCRIPT>",
	    "<img src=x onerror=alert(1)>",
	    "<svg/onload=alert(1)>",
	    "<a href=\"javascript:alert(1)\">x</a>",
	    "[x](javascript:alert(1))",
	    "[x](https://a/\" onmouseover=\"alert(1))",
	    "[x](<https://a/\" onmouseover=\"alert(1)>)",
	    "![x\" onerror=\"alert(1)](https://a/b.png)",
	    "<https://a/\"onmouseover=alert(1)>",
	    "<iframe src=https://evil>",
	    "<style>body{}</style>",
	    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
	    "``<script>``",
	    "```\n</code></pre><script>x</script>\n```",
	    "**<b>**</b>",
	    "[a](https://x)[b](mailto:y)[c](data:x)",
	    "&#60;script&#62;alert(1)&#60;/script&#62;",
	    "&#x3C;script&#x3E;",
	    "\\<script\\>",
	    "- <script>\n- [x](javascript:y)\n  > <b onclick=1>",
	    "# <h1 onclick=x>\n",
	    "<!--><script>alert(1)</script>-->",
	    "<?xml version=\"1.0\"?>",
	    "<![CDATA[<script>]]>",
	    "[x](https://a/%22%3E%3Cscript%3E)",
	    "[x]: javascript:alert(1)\n\n[x]",
	    "<div\nonclick=x>",
	    "\xff\xfe<script>\xc0\xaf",
	    "a\r\n<b\r\nonclick=x>\r\n",
	};
	for (size_t i = 0; i < sizeof(nasty) / sizeof(*nasty); i++) {
		char what[32];
		snprintf(what, sizeof(what), "nasty input %zu", i);
		check_inert(nasty[i], strlen(nasty[i]), what);
	}

	/* Random Markdown soup from a fixed seed. */
	static const char *const atoms[] = {
	    "<",	   ">",
	    "&",	   "\"",
	    "'",	   "*",
	    "_",	   "`",
	    "```\n",	   "[",
	    "]",	   "(",
	    ")",	   "!",
	    "\n",	   "\n\n",
	    "  \n",	   "- ",
	    "1. ",	   "# ",
	    "> ",	   "    ",
	    "\\",	   "javascript:",
	    "https://x",   "mailto:a",
	    "data:",	   "<script>",
	    "</script>",   " onclick=",
	    "<a href=",	   "<img src=x onerror=y>",
	    "&#60;",	   "&lt;",
	    "a",	   "word ",
	    "\xc3\xa9",	   "\xe2\x80\xae",
	    "\xff",	   "\x00",
	    "<https://y>", "[r]: https://z\n",
	    "[r]",	   "|",
	    "~~~\n",	   "<!--",
	    "-->",	   "=",
	};
	uint32_t seed = 12345;
	int bad = 0;
	char buf[512];
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0;
		int atoms_n;
		seed = seed * 1103515245u + 12345u;
		atoms_n = 1 + (int)((seed >> 16) % 40);
		for (int k = 0; k < atoms_n; k++) {
			const char *a;
			size_t al;
			seed = seed * 1103515245u + 12345u;
			a = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(*atoms))];
			al = a[0] ? strlen(a) : 1; /* "\x00" is one NUL byte */
			if (n + al >= sizeof(buf))
				break;
			memcpy(buf + n, a, al);
			n += al;
		}
		char *html = NULL;
		int r = render_markdown(buf, n, &html);
		const char *why = r == 0 ? not_inert(html) : "render failed";
		if (!why && !no_script_no_handlers(html))
			why = "script or handler";
		if (!why && !balanced(html))
			why = "unbalanced tags";
		if (!why && !text_utf8_valid(html, strlen(html), NULL))
			why = "invalid UTF-8";
		if (why) {
			if (bad++ < 5)
				diag("iteration %d: %s: %s", iter, why, vis(html));
		}
		free(html);
	}
	is_int(bad, 0, "3000 random Markdown soups render inert, balanced, valid UTF-8");
}

int main(void)
{
	test_basics();
	test_links();
	test_reduced();
	test_autolinks();
	test_caps();
	test_escape();
	test_checkers();
	test_inert();
	return done_testing();
}
