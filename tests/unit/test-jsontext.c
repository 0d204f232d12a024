/* Unit tests for lib/jsontext: strings and integers written as jansson
 * 2.14's json_dumps(..., JSON_COMPACT) writes them, and the same strings
 * refused. */
#include "tap.h"

#include "jsontext.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

/* jansson's text of s[0..len) as a JSON string (dumped inside an array,
 * the brackets cut off), or NULL when json_stringn refuses it. */
static char *jansson_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len), *arr;
	char *text;
	size_t n;

	if (!j)
		return NULL;
	arr = json_pack("[o]", j);
	text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (!text)
		abort();
	n = strlen(text);
	memmove(text, text + 1, n - 2);
	text[n - 2] = '\0';
	return text;
}

/* Whether jsontext_string agrees with jansson on s[0..len): the same text,
 * or both refuse (ours with JSONTEXT_NOT_UTF8, the buffer untouched). */
static bool same(const char *s, size_t len)
{
	char *want = jansson_text(s, len);
	struct buf b;
	bool agree;
	int r;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "x");
	r = jsontext_string(&b, s, len);
	if (want)
		agree = r == 0 && strcmp(b.data + 1, want) == 0;
	else
		agree = r == JSONTEXT_NOT_UTF8 && b.len == 1 && strcmp(b.data, "x") == 0;
	free(want);
	buf_free(&b);
	return agree;
}

/* jsontext_string's text of s (NUL-terminated), in a static buffer. */
static const char *ours(const char *s)
{
	static char out[256];
	struct buf b;
	int r;

	buf_init(&b, 200);
	r = jsontext_string(&b, s, strlen(s));
	snprintf(out, sizeof(out), "%s", r == 0 ? b.data : "(refused)");
	buf_free(&b);
	return out;
}

static void every_ascii_byte(void)
{
	unsigned bad = 0;
	char s[3] = "a?b";

	for (unsigned c = 0; c < 0x80; c++) {
		char one = (char)c;
		s[1] = (char)c;
		if (!same(&one, 1) || !same(s, 3)) {
			diag("byte 0x%02x differs", c);
			bad++;
		}
	}
	is_int(bad, 0, "every byte 0x00-0x7f alone and inside text: jansson's text");
	is_str(ours("\x1f"), "\"\\u001F\"", "a control byte is \\u00XX, upper-case hex");
	is_str(ours("\x01\x7f"), "\"\\u0001\x7f\"", "DEL goes through");
	is_str(ours("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"", "the five named escapes");
	is_str(ours("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"", "quote and backslash escaped, slash not");
	is_str(ours(""), "\"\"", "the empty string");
	ok(same("a\0b", 3), "an embedded NUL (within len) is \\u0000 as in jansson");
}

static void multibyte(void)
{
	static const char *const valid[] = {
	    "\xc3\xa9",		/* é: 2 bytes */
	    "\xc2\x80",		/* U+0080, the first 2-byte one */
	    "\xdf\xbf",		/* U+07FF */
	    "\xe2\x82\xac",	/* €: 3 bytes */
	    "\xe0\xa0\x80",	/* U+0800 */
	    "\xed\x9f\xbf",	/* U+D7FF, below the surrogates */
	    "\xee\x80\x80",	/* U+E000, above them */
	    "\xef\xbf\xbf",	/* U+FFFF */
	    "\xe2\x80\xa8",	/* U+2028 LINE SEPARATOR: not escaped */
	    "\xe2\x80\xa9",	/* U+2029 */
	    "\xf0\x9f\x98\x80", /* 😀: 4 bytes */
	    "\xf0\x90\x80\x80", /* U+10000 */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
	    "x\xc3\xa9\"\xe2\x82\xac\n\xf0\x9f\x98\x80y",
	};
	static const char *const invalid[] = {
	    "\x80",			      /* a lone continuation byte */
	    "a\xbf",			      /* another */
	    "\xc0\x80",			      /* overlong NUL */
	    "\xc1\xbf",			      /* overlong 2 bytes */
	    "\xe0\x80\x80",		      /* overlong 3 bytes */
	    "\xe0\x9f\xbf",		      /* overlong U+07FF */
	    "\xf0\x80\x80\x80",		      /* overlong 4 bytes */
	    "\xf0\x8f\xbf\xbf",		      /* overlong U+FFFF */
	    "\xed\xa0\x80",		      /* U+D800, a surrogate */
	    "\xed\xbf\xbf",		      /* U+DFFF */
	    "\xf4\x90\x80\x80",		      /* U+110000 */
	    "\xf5\x80\x80\x80",		      /* past the range */
	    "\xf8\x88\x80\x80\x80",	      /* 5 bytes */
	    "\xfe",			      /* never in UTF-8 */
	    "\xff",			      /* never in UTF-8 */
	    "\xc3",			      /* cut at the end */
	    "\xe2\x82",			      /* cut at the end */
	    "\xf0\x9f\x98",		      /* cut at the end */
	    "\xc3(",			      /* a lead byte without its continuation */
	    "\xe2\x28\xa1",		      /* the second byte is not a continuation */
	    "\xf0\x9f\x28\x80",		      /* the third byte is not one */
	    "ok\n\xc3\xa9 then \xed\xa0\x80", /* after valid text that was escaped */
	};
	unsigned bad = 0;
	struct buf b;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		char *want = jansson_text(valid[i], strlen(valid[i]));
		ok(want && same(valid[i], strlen(valid[i])), "valid UTF-8 %zu: jansson's text", i);
		free(want);
	}
	is_str(ours("\xe2\x80\xa8"), "\"\xe2\x80\xa8\"", "U+2028 goes through unescaped");
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		char *want = jansson_text(invalid[i], strlen(invalid[i]));
		ok(!want && same(invalid[i], strlen(invalid[i])),
		   "invalid sequence %zu: refused by both, nothing written", i);
		free(want);
	}
	buf_init(&b, 100);
	is_int(jsontext_string(&b, "\xff", 1), JSONTEXT_NOT_UTF8,
	       "a refusal says JSONTEXT_NOT_UTF8");
	buf_free(&b);
	/* Every two-byte start, and every three- and four-byte one with a
	 * few third bytes around the edges of the continuation range. */
	for (unsigned c = 0x80; c < 0x100; c++) {
		for (unsigned d = 0; d < 0x100; d++) {
			static const unsigned char thirds[] = {0x00, 0x7f, 0x80, 0xbf, 0xc0};
			char s[4] = {(char)c, (char)d};
			bad += !same(s, 2);
			for (size_t k = 0; c >= 0xe0 && k < sizeof(thirds); k++) {
				s[2] = (char)thirds[k];
				s[3] = (char)0x80;
				bad += !same(s, 3) + !same(s, 4);
			}
		}
	}
	is_int(bad, 0, "every byte pair from 0x80, and triples and quads: jansson's answer");
}

/* A deterministic generator (an LCG; its high bits are used). */
static uint64_t rng = 12345;
static uint64_t next_random(void)
{
	rng = rng * 6364136223846793005u + 1442695040888963407u;
	return rng >> 16;
}

/* Appends a random piece to s at *len (room for 4 bytes more): mostly
 * whole characters that need care (escapes, 2-, 3- and 4-byte ones, U+2028),
 * else a byte of the kinds that break UTF-8 (lead and continuation bytes,
 * bytes never seen in it) or any byte. */
static void random_piece(char *s, size_t *len)
{
	static const char *const whole[] = {"\"",
					    "\\",
					    "/",
					    "\n",
					    "\x01",
					    "\x1f",
					    "\x7f",
					    "a",
					    "\xc3\xa9",
					    "\xe2\x82\xac",
					    "\xe2\x80\xa8",
					    "\xf0\x9f\x98\x80",
					    "\xf4\x8f\xbf\xbf"};
	static const unsigned char bytes[] = {0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
					      0xf0, 0xf4, 0xf5, 0xa0, 0x90, 0x8f, 0xff, 0x00};
	uint64_t x = next_random();
	const char *w;

	if (x % 16 == 0) {
		s[(*len)++] = (char)bytes[(x >> 8) % sizeof(bytes)];
	} else if (x % 16 == 1) {
		s[(*len)++] = (char)(x >> 16);
	} else {
		w = whole[(x >> 8) % (sizeof(whole) / sizeof(whole[0]))];
		memcpy(s + *len, w, strlen(w));
		*len += strlen(w);
	}
}

static void random_strings(void)
{
	unsigned bad = 0, refused = 0;
	char s[64];

	for (unsigned i = 0; i < 20000; i++) {
		size_t len = 0, pieces = i % 12;
		json_t *j;

		for (size_t k = 0; k < pieces; k++)
			random_piece(s, &len);
		bad += !same(s, len);
		j = json_stringn(s, len);
		refused += j ? 0 : 1;
		json_decref(j);
	}
	is_int(bad, 0, "20000 random strings: jansson's text or both refuse");
	ok(refused > 2000 && refused < 18000, "a mix of valid and invalid ones (%u refused)",
	   refused);
}

static void integers(void)
{
	static const int64_t values[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_t *arr = json_pack("[I]", (json_int_t)values[i]);
		char *want = json_dumps(arr, JSON_COMPACT);
		struct buf b;

		buf_init(&b, 64);
		buf_puts(&b, "[");
		is_int(jsontext_int(&b, values[i]), 0, "integer %lld written",
		       (long long)values[i]);
		buf_puts(&b, "]");
		is_str(b.data, want, "  as jansson writes it");
		buf_free(&b);
		free(want);
		json_decref(arr);
	}
}

static void caps(void)
{
	struct buf b;

	buf_init(&b, 8);
	buf_puts(&b, "ab");
	is_int(jsontext_string(&b, "0123456789", 10), BUF_TOO_BIG, "past the cap: BUF_TOO_BIG");
	is_str(b.data, "ab", "  the buffer is as it was");
	is_int(jsontext_string(&b, "\x01", 1), BUF_TOO_BIG,
	       "an escape that takes it past the cap: BUF_TOO_BIG");
	is_int(b.len, 2, "  the buffer is as it was");
	is_int(jsontext_string(&b, "\n", 1), 0, "one that fits is written");
	is_str(b.data, "ab\"\\n\"", "  in full");
	is_int(jsontext_int(&b, 1234), BUF_TOO_BIG, "an integer past the cap: BUF_TOO_BIG");
	buf_free(&b);
	is_int(jsontext_errno(BUF_TOO_BIG), -E2BIG, "BUF_TOO_BIG maps to -E2BIG");
	is_int(jsontext_errno(JSONTEXT_NOT_UTF8), -EILSEQ, "JSONTEXT_NOT_UTF8 to -EILSEQ");
	is_int(jsontext_errno(0), 0, "0 passes");
	is_int(jsontext_errno(-ENOMEM), -ENOMEM, "negatives pass");
}

int main(void)
{
	every_ascii_byte();
	multibyte();
	random_strings();
	integers();
	caps();
	return done_testing();
}
