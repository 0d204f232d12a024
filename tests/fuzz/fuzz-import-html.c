/* fuzz-import-html: import_html_to_markdown (lib/import_html.c), the
 * conversion of imported comments' HTML, on arbitrary bytes; the Markdown
 * it writes then goes through render_markdown as the importer's comments
 * do, and the HTML that comes out carries no element or attribute the
 * renderer does not write (no raw HTML passes through). */
#include "fuzz.h"

#include "importfmt.h"
#include "render.h"

#include <stdbool.h>

/* Every '<' in the output starts one of the renderer's own tags (text is
 * escaped; lists and quotes are the renderer's since issue 19): converted
 * HTML never brings its own elements or attributes. */
static void check_tags(const char *html)
{
	static const char *const tags[] = {
	    "<p>",	  "</p>",   "<br>",	    "<em>",	    "</em>",	    "<strong>",
	    "</strong>",  "<code>", "</code>",	    "<pre>",	    "</pre>",	    "</a>",
	    "<a href=\"", "<ul>",   "</ul>",	    "<ol>",	    "<ol start=\"", "</ol>",
	    "<li>",	  "</li>",  "<blockquote>", "</blockquote>"};

	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		bool known = false;
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			known = known || strncmp(p, tags[i], strlen(tags[i])) == 0;
		fuzz_assert(known);
		if (strncmp(p, "<ol start=\"", 11) == 0) {
			const char *digits = p + 11;
			size_t n = strspn(digits, "0123456789");
			fuzz_assert(n > 0 && strncmp(digits + n, "\">", 2) == 0);
		}
		if (strncmp(p, "<a href=\"", 9) == 0) {
			const char *end = strchr(p + 9, '"');
			fuzz_assert(end && strncmp(end, "\" rel=\"nofollow ugc\">", 21) == 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *md = NULL, *html = NULL;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	in = fuzz_strndup(data, size);
	fuzz_assert(import_html_to_markdown(in, strlen(in), &md) == 0);
	r = render_markdown(md, strlen(md), &html);
	fuzz_assert(r == 0 || r == RENDER_TOO_BIG);
	if (r == 0)
		check_tags(html);
	free(in);
	free(md);
	free(html);
	return 0;
}
