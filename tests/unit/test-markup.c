/* Unit tests for lib/markup: escaping, cleaning, templates, query values,
 * the cap and the sticky error. */
#include "tap.h"

#include "markup.h"

#include <stdlib.h>
#include <string.h>

static char *text_of(const char *s)
{
	struct markup m;
	int err;

	markup_init(&m, 1 << 20);
	markup_text(&m, s);
	return markup_finish(&m, &err);
}

#define TEXT(in, want, why)                                                                        \
	do {                                                                                       \
		char *got_ = text_of(in);                                                          \
		is_str(got_, want, why);                                                           \
		free(got_);                                                                        \
	} while (0)

static void test_text(void)
{
	TEXT("a & b < c > d \" e ' f", "a &amp; b &lt; c &gt; d &quot; e &#39; f",
	     "the five entities");
	TEXT("tab\tlf\ncr\r", "tab\tlf\ncr\r", "tab, line feed and carriage return stay");
	TEXT("a\x01\x08\x0b\x0c\x1f\x7f"
	     "b",
	     "ab", "other controls go (XML 1.0 refuses them)");
	TEXT("\xef\xbf\xbe\xef\xbf\xbf.", ".", "U+FFFE and U+FFFF go");
	TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "UTF-8 stays");
	TEXT("a\xff"
	     "b",
	     "a\xef\xbf\xbd"
	     "b",
	     "a stray byte becomes U+FFFD");
	TEXT("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "an overlong form is two stray bytes");
	TEXT("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate is refused");
	TEXT("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	     "beyond U+10FFFF is refused");
	TEXT("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd", "a sequence cut short");
	TEXT("", "", "nothing");
}

static void test_rest(void)
{
	struct markup m;
	const char *args[] = {"<b>", "Sjef & co"};
	char *out;
	int err;

	markup_init(&m, 1024);
	markup_raw(&m, "<p>");
	markup_template(&m, "{1} zegt {0}, {2} {x} {", args, 2);
	markup_raw(&m, "</p>");
	markup_int(&m, -42);
	markup_raw(&m, " ");
	markup_query_value(&m, "/a b/é?&=#%~x-_.");
	markup_text(&m, NULL);
	out = markup_finish(&m, &err);
	is_str(
	    out,
	    "<p>Sjef &amp; co zegt &lt;b&gt;, {2} {x} {</p>-42 /a%20b/%C3%A9%3F%26%3D%23%25~x-_.",
	    "raw, templates (unknown holes stay), numbers, query values");
	is_int(err, 0, "no error");
	free(out);

	markup_init(&m, 8);
	markup_raw(&m, "12345");
	markup_raw(&m, "67890");
	markup_raw(&m, "x");
	out = markup_finish(&m, &err);
	ok(out == NULL && err == BUF_TOO_BIG, "past the cap: NULL and BUF_TOO_BIG");
	markup_init(&m, 8);
	out = markup_finish(&m, &err);
	ok(out && *out == '\0' && err == 0, "an empty page is \"\"");
	free(out);
}

int main(void)
{
	test_text();
	test_rest();
	return done_testing();
}
