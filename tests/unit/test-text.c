/* Unit tests for lib/text: UTF-8 validity, control characters, invisible
 * characters and Unicode trimming. */
#include "tap.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

/* bytes with non-printables as \xNN, for test names. */
static const char *vis(const char *s, size_t len)
{
	static char out[4][256];
	static int i;
	size_t n = 0;

	i = (i + 1) % 4;
	for (size_t k = 0; k < len && n < sizeof(out[0]) - 5; k++) {
		unsigned char ch = (unsigned char)s[k];
		if (ch < 0x20 || ch >= 0x7f)
			n += (size_t)snprintf(out[i] + n, 5, "\\x%02x", ch);
		else
			out[i][n++] = (char)ch;
	}
	out[i][n] = '\0';
	return out[i];
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t len;
		size_t chars;
	} good[] = {
	    {"", 0, 0},
	    {"abc", 3, 3},
	    {"caf\xc3\xa9", 5, 4},
	    {"\xe2\x82\xac", 3, 1},		     /* U+20AC */
	    {"\xf0\x9f\x98\x80", 4, 1},		     /* U+1F600 */
	    {"\xc2\x80", 2, 1},			     /* U+0080, smallest 2-byte */
	    {"\xdf\xbf", 2, 1},			     /* U+07FF */
	    {"\xe0\xa0\x80", 3, 1},		     /* U+0800, smallest 3-byte */
	    {"\xed\x9f\xbf", 3, 1},		     /* U+D7FF, below surrogates */
	    {"\xee\x80\x80", 3, 1},		     /* U+E000, above surrogates */
	    {"\xef\xbf\xbf", 3, 1},		     /* U+FFFF */
	    {"\xf0\x90\x80\x80", 4, 1},		     /* U+10000 */
	    {"\xf4\x8f\xbf\xbf", 4, 1},		     /* U+10FFFF */
	    {"\xe2\x80\xae", 3, 1},		     /* RLO is valid UTF-8 */
	    {"a\xd7\x90\xd8\xb9\xe4\xb8\xad", 8, 4}, /* Hebrew, Arabic, CJK */
	    {"\x01\x7f", 2, 2},			     /* controls are valid UTF-8 */
	};
	static const struct {
		const char *s;
		size_t len;
		const char *what;
	} bad[] = {
	    {"\xc0\x80", 2, "overlong NUL (C0 80)"},
	    {"\xc0\xaf", 2, "overlong '/' (C0 AF)"},
	    {"\xc1\xbf", 2, "overlong (C1 BF)"},
	    {"\xe0\x80\xaf", 3, "overlong 3-byte '/'"},
	    {"\xe0\x9f\xbf", 3, "overlong 3-byte U+07FF"},
	    {"\xf0\x80\x80\xaf", 4, "overlong 4-byte '/'"},
	    {"\xf0\x8f\xbf\xbf", 4, "overlong 4-byte U+FFFF"},
	    {"\xed\xa0\x80", 3, "high surrogate U+D800"},
	    {"\xed\xbf\xbf", 3, "low surrogate U+DFFF"},
	    {"\xed\xa0\xbd\xed\xb8\x80", 6, "CESU-8 surrogate pair"},
	    {"\xf4\x90\x80\x80", 4, "above U+10FFFF"},
	    {"\xf5\x80\x80\x80", 4, "F5 lead byte"},
	    {"\xff", 1, "FF byte"},
	    {"\xfe", 1, "FE byte"},
	    {"\x80", 1, "lone continuation byte"},
	    {"a\xbf", 2, "continuation after ASCII"},
	    {"\xc3", 1, "truncated 2-byte"},
	    {"\xe2\x82", 2, "truncated 3-byte"},
	    {"\xf0\x9f\x98", 3, "truncated 4-byte"},
	    {"caf\xc3", 4, "truncated at the end"},
	    {"\xc3(", 2, "bad continuation"},
	    {"\xe2\x28\xa1", 3, "bad second byte of 3"},
	    {"\xe2\x82\x28", 3, "bad third byte of 3"},
	    {"\x00", 1, "a NUL byte"},
	    {"ab\x00"
	     "cd",
	     5, "an embedded NUL"},
	    {"\xf8\x88\x80\x80\x80", 5, "5-byte form"},
	};
	size_t chars;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		chars = 999;
		ok(text_utf8_valid(good[i].s, good[i].len, &chars), "valid: \"%s\"",
		   vis(good[i].s, good[i].len));
		is_int(chars, good[i].chars, "  with %zu code points", good[i].chars);
	}
	ok(text_utf8_valid("abc", 3, NULL), "chars may be NULL");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(!text_utf8_valid(bad[i].s, bad[i].len, &chars), "invalid: %s (\"%s\")",
		   bad[i].what, vis(bad[i].s, bad[i].len));
	/* len is honoured: a truncated sequence past len is not read. */
	ok(text_utf8_valid("ab\xc3\xa9", 2, &chars) && chars == 2, "only len bytes are read");
	ok(!text_utf8_valid("ab\xc3\xa9", 3, &chars), "cutting a sequence with len is invalid");
}

static void test_controls(void)
{
	static const struct {
		const char *s;
		bool with_nl, without_nl;
	} cases[] = {
	    {"plain text", false, false},
	    {"", false, false},
	    {"line\nbreak", false, true},
	    {"cr\rlf", false, true},
	    {"tab\there", false, true},
	    {"bell\a", true, true},
	    {"\x01", true, true},
	    {"esc\x1b[31m", true, true},
	    {"del\x7f", true, true},
	    {"c1 \xc2\x80", true, true},  /* U+0080 */
	    {"nel \xc2\x85", true, true}, /* U+0085 NEL */
	    {"csi \xc2\x9b", true, true}, /* U+009B */
	    {"c1 end \xc2\x9f", true, true},
	    {"nbsp \xc2\xa0", false, false}, /* U+00A0 is not a control */
	    {"caf\xc3\xa9", false, false},
	    {"\xe2\x80\xae rlo", false, false}, /* format, not control */
	    {"vt\v", true, true},
	    {"ff\f", true, true},
	};
	/* Bytes that are not UTF-8 do not hide a control after them. */
	ok(text_has_controls("\xff\x01", true), "a control after an invalid byte is found");
	ok(text_has_controls("ok \xe2\x82 \x1b[0m", true),
	   "a control after a truncated sequence is found");
	ok(text_has_controls("\xc3\n", false), "a newline after a bad lead byte is found");
	ok(!text_has_controls("\xff\xfe abc", true), "invalid bytes alone are not controls");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *v = vis(cases[i].s, strlen(cases[i].s));
		is_int(text_has_controls(cases[i].s, true), cases[i].with_nl,
		       "\"%s\" has controls (newlines allowed): %d", v, cases[i].with_nl);
		is_int(text_has_controls(cases[i].s, false), cases[i].without_nl,
		       "\"%s\" has controls (newlines not allowed): %d", v, cases[i].without_nl);
	}
}

static void test_strip(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
	    {"plain", "plain", "nothing to strip"},
	    {"", "", "empty"},
	    {"ab\xe2\x80\xae"
	     "cd",
	     "abcd", "RLO U+202E"},
	    {"\xe2\x80\xad"
	     "x\xe2\x80\xac",
	     "x", "LRO U+202D and PDF U+202C"},
	    {"\xe2\x80\xaa\xe2\x80\xab", "", "LRE U+202A, RLE U+202B"},
	    {"a\xe2\x80\x8b"
	     "b",
	     "ab", "ZWSP U+200B"},
	    {"a\xe2\x80\x8c\xe2\x80\x8d"
	     "b",
	     "ab", "ZWNJ U+200C, ZWJ U+200D"},
	    {"a\xe2\x80\x8e\xe2\x80\x8f"
	     "b",
	     "ab", "LRM U+200E, RLM U+200F"},
	    {"\xef\xbb\xbf"
	     "BOM",
	     "BOM", "BOM U+FEFF at the start"},
	    {"a\xef\xbb\xbf"
	     "b",
	     "ab", "BOM U+FEFF inside"},
	    {"a\xe2\x81\xa0"
	     "b",
	     "ab", "word joiner U+2060"},
	    {"a\xe2\x81\xa4"
	     "b",
	     "ab", "invisible plus U+2064"},
	    {"\xe2\x81\xa6"
	     "a\xe2\x81\xa7"
	     "b\xe2\x81\xa8"
	     "c\xe2\x81\xa9",
	     "abc", "isolates U+2066-U+2069"},
	    {"a\xd8\x9c"
	     "b",
	     "ab", "Arabic letter mark U+061C"},
	    {"soft\xc2\xad"
	     "hyphen",
	     "softhyphen", "soft hyphen U+00AD"},
	    {"\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae", "", "only invisible characters"},
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "visible multibyte characters are kept"},
	    {"\xe2\x80\x8a", "\xe2\x80\x8a", "hair space U+200A (visible width) is kept"},
	    {"\xe2\x80\x90", "\xe2\x80\x90", "hyphen U+2010 is kept"},
	    {"\xe2\x81\xaa", "\xe2\x81\xaa", "U+206A is kept"},
	    {"a\xff\xe2\x80\x8b"
	     "b",
	     "a\xff"
	     "b",
	     "invalid bytes are kept, ZWSP after them removed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = strdup(cases[i].in);
		text_strip_invisible(s);
		is_str(s, cases[i].want, "strip_invisible: %s", cases[i].what);
		free(s);
	}
}

static void test_trim(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
	    {"  a b  ", "a b", "ASCII spaces, inner kept"},
	    {"\t\r\n a \n\t", "a", "tabs and newlines"},
	    {"", "", "empty"},
	    {"   ", "", "only spaces"},
	    {"x", "x", "one character"},
	    {"\xc2\xa0"
	     "a\xc2\xa0",
	     "a", "NBSP U+00A0"},
	    {"\xe3\x80\x80"
	     "name\xe3\x80\x80",
	     "name", "ideographic space U+3000"},
	    {"\xe2\x80\x83"
	     "em\xe2\x80\x82",
	     "em", "em/en space U+2003/U+2002"},
	    {"\xe2\x80\xaf"
	     "x\xe2\x80\x8a",
	     "x", "narrow NBSP U+202F, hair space U+200A"},
	    {"\xe1\x9a\x80"
	     "ogham",
	     "ogham", "Ogham space mark U+1680"},
	    {" caf\xc3\xa9 ", "caf\xc3\xa9", "multibyte at the end kept whole"},
	    {"a\xc2\xa0"
	     "b",
	     "a\xc2\xa0"
	     "b",
	     "inner NBSP kept"},
	    {"\xc2\xa0 \xe3\x80\x80\t", "", "only Unicode spaces"},
	    {" \xff ", "\xff", "an invalid byte is content"},
	    {"\xe2\x80\x8b"
	     "x",
	     "\xe2\x80\x8b"
	     "x",
	     "ZWSP is not white space (strip handles it)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = strdup(cases[i].in);
		char *r = text_trim(s);
		ok(r == s, "trim returns its argument (%s)", cases[i].what);
		is_str(s, cases[i].want, "trim: %s", cases[i].what);
		free(s);
	}
}

static void test_one_line(void)
{
	static const struct {
		const char *in;
		size_t max;
		const char *want, *what;
	} cases[] = {
	    {"Social media realities", 300, "Social media realities", "a plain title"},
	    {"  Social\n\tmedia \r\n realities  ", 300, "Social media realities",
	     "line breaks and tabs become one space"},
	    {"a\xe2\x80\xa8"
	     "b\xe2\x80\xa9"
	     "c",
	     300, "a b c", "U+2028 and U+2029 too"},
	    {"a\x1b[31mb\x7f"
	     "c\xc2\x85"
	     "d",
	     300, "a [31mb c d", "escape, DEL and C1 controls become spaces"},
	    {"Sj\xe2\x80\x8b"
	     "ef\xe2\x80\xae",
	     300, "Sjef", "invisible characters go"},
	    {"a\xff"
	     "b",
	     300, "ab", "a byte that is not UTF-8 goes"},
	    {"caf\xc3\xa9 au lait", 4, "caf\xc3\xa9", "cut after max characters, not bytes"},
	    {"one two three", 4, "one", "a cut before a space is trimmed"},
	    {"\xc2\xa0x\xc2\xa0\xc2\xa0y", 300, "x y", "Unicode spaces collapse"},
	    {"", 300, "", "empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = strdup(cases[i].in);
		char *r = text_one_line(s, cases[i].max);
		ok(r == s, "one_line returns its argument (%s)", cases[i].what);
		is_str(s, cases[i].want, "one_line: %s", cases[i].what);
		free(s);
	}
}

static void test_base64url(void)
{
	unsigned char out[8];
	size_t n = 99;

	is_int(text_base64url_decode("aGVsbG8", out, sizeof(out), &n), 0, "base64url: aGVsbG8");
	ok(n == 5 && memcmp(out, "hello", 5) == 0, "  is hello (%zu bytes)", n);
	is_int(text_base64url_decode("", out, sizeof(out), &n), 0, "  the empty text");
	is_int(n, 0, "  is nothing");
	is_int(text_base64url_decode("_-8", out, sizeof(out), &n), 0, "  '_' and '-' are digits");
	is_int(text_base64url_decode("\xe4-8", out, sizeof(out), &n), 1,
	       "  a byte above 0x7f is refused (libsodium alone reads it as '_')");
	is_int(text_base64url_decode("aGVsbG8=", out, sizeof(out), &n), 1, "  padding is refused");
	is_int(text_base64url_decode("aGVs+G8", out, sizeof(out), &n), 1,
	       "  the standard alphabet's '+' is refused");
	is_int(text_base64url_decode("aGVsbG9", out, sizeof(out), &n), 1,
	       "  unused bits that are not zero are refused (one spelling)");
	is_int(text_base64url_decode("aGVs bG8", out, sizeof(out), &n), 1, "  a space is refused");
	is_int(text_base64url_decode("aGVsbG8gd29ybGQ", out, sizeof(out), &n), 1,
	       "  more than fits is refused");
}

int main(void)
{
	test_utf8();
	test_controls();
	test_strip();
	test_trim();
	test_one_line();
	test_base64url();
	return done_testing();
}
