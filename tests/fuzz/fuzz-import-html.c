/* fuzz-import-html: import_html_to_markdown (lib/import_html.c), the
 * conversion of imported comments' HTML, on arbitrary bytes; the Markdown
 * it writes then goes through render_markdown as the importer's comments
 * do, and the HTML that comes out carries no element or attribute the
 * renderer does not write (no raw HTML passes through). */
#include "fuzz.h"

#include "importfmt.h"
#include "render.h"

#include <strings.h>

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
	if (r == 0) {
		fuzz_assert(!strcasestr(html, "<script"));
		fuzz_assert(!strcasestr(html, "<img"));
		fuzz_assert(!strcasestr(html, "<iframe"));
		fuzz_assert(!strcasestr(html, " on"));
	}
	free(in);
	free(md);
	free(html);
	return 0;
}
