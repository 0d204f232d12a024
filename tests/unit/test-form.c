/* Unit tests for lib/form: x-www-form-urlencoded decoding and its limits. */
#include "tap.h"

#include "form.h"

#include <stdlib.h>

static struct form *parse(const char *body, int *r)
{
	struct form *f = NULL;

	*r = form_parse(&f, body, strlen(body));
	return f;
}

int main(void)
{
	struct form *f;
	int r;

	f = parse("author=Ann+Example&email=ann%40example.org&text=Hi%21%0D%0ALine+2%2B%25", &r);
	is_int(r, 0, "a typical body parses");
	is_int(form_size(f), 3, "three fields");
	is_str(form_get(f, "author"), "Ann Example", "'+' decodes to a space");
	is_str(form_get(f, "email"), "ann@example.org", "%%40 decodes to '@'");
	is_str(form_get(f, "text"), "Hi!\r\nLine 2+%", "%%XX escapes incl. CRLF, '+' and '%%'");
	ok(form_get(f, "missing") == NULL, "an absent name gives NULL");
	is_int(form_count(f, "missing"), 0, "and counts 0");
	form_free(f);

	/* Order, duplicates, empty and missing values. */
	f = parse("b=2&a=1&b=3&empty=&novalue&c=%e2%82%AC", &r);
	is_int(r, 0, "parses");
	is_int(form_size(f), 6, "six fields");
	is_str(form_name(f, 0), "b", "order kept: 0");
	is_str(form_name(f, 1), "a", "order kept: 1");
	is_str(form_name(f, 2), "b", "order kept: 2");
	is_str(form_value(f, 2), "3", "the second b's value");
	is_str(form_get(f, "b"), "2", "form_get returns the first of duplicates");
	is_int(form_count(f, "b"), 2, "duplicates counted");
	is_int(form_count(f, "a"), 1, "single counted");
	is_str(form_get(f, "empty"), "", "an empty value is \"\"");
	is_str(form_get(f, "novalue"), "", "a name without '=' has value \"\"");
	is_str(form_get(f, "c"), "\xe2\x82\xac", "mixed-case hex escapes (UTF-8 euro)");
	ok(form_name(f, 6) == NULL && form_value(f, 6) == NULL, "out of range gives NULL");
	form_free(f);

	/* Empty pairs and bodies. */
	f = parse("", &r);
	is_int(r, 0, "an empty body parses");
	is_int(form_size(f), 0, "with no fields");
	form_free(f);
	f = parse("&&a=1&&", &r);
	is_int(r, 0, "empty pairs are skipped");
	is_int(form_size(f), 1, "one field");
	is_str(form_get(f, "a"), "1", "value");
	form_free(f);
	f = parse("a==b=c", &r);
	is_int(r, 0, "'=' in a value");
	is_str(form_get(f, "a"), "=b=c", "the value keeps later '='");
	form_free(f);
	f = parse("%61%62=x", &r);
	is_int(r, 0, "escaped names");
	is_str(form_get(f, "ab"), "x", "names are decoded too");
	form_free(f);
	f = parse("a+b=c+d", &r);
	is_str(form_get(f, "a b"), "c d", "'+' in names");
	form_free(f);
	f = parse("a=%26&b=%3D", &r);
	is_str(form_get(f, "a"), "&", "escaped '&' does not split");
	is_str(form_get(f, "b"), "=", "escaped '='");
	form_free(f);
	f = parse("x=%FF%FE", &r);
	is_int(r, 0, "non-UTF-8 bytes are allowed (values are bytes)");
	is_str(form_get(f, "x"), "\xff\xfe", "and decoded");
	form_free(f);

	/* Refusals. */
	static const char *const bad[] = {
	    "=value", "a=1&=2",	  "a=%",    "a=%4",  "a=%4g", "a=%g4",	 "a=%%41", "a=%00", "%00=a",
	    "a%=1",   "a=1&b=%0", "a=x%zz", "a=%-1", "a=% 1", "a=%0%30", "a=%+1",  "%=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		f = NULL;
		r = form_parse(&f, bad[i], strlen(bad[i]));
		is_int(r, FORM_INVALID, "\"%s\" is refused", bad[i]);
		ok(f == NULL, "no form on refusal");
	}
	{
		static const char nul[] = "a=b\0c";
		f = NULL;
		is_int(form_parse(&f, nul, sizeof(nul) - 1), FORM_INVALID, "a raw NUL is refused");
		static const char nul2[] = "a\0=b";
		is_int(form_parse(&f, nul2, sizeof(nul2) - 1), FORM_INVALID,
		       "a raw NUL in a name is refused");
	}
	{
		/* len is honoured: the body need not be NUL-terminated. */
		static const char body[] = "a=1&b=2";
		f = NULL;
		is_int(form_parse(&f, body, 3), 0, "a prefix of a body parses");
		is_int(form_size(f), 1, "only the fields within len");
		is_str(form_get(f, "a"), "1", "value");
		ok(form_get(f, "b") == NULL, "nothing past len");
		form_free(f);
		f = NULL;
		is_int(form_parse(&f, "a=%41", 4), FORM_INVALID,
		       "an escape cut by len is malformed");
	}

	/* Field count cap. */
	{
		size_t cap = (FORM_MAX_FIELDS + 1) * 8 + 1;
		char *body = malloc(cap);
		size_t n = 0;
		for (int i = 0; i < FORM_MAX_FIELDS; i++)
			n += (size_t)snprintf(body + n, cap - n, "f%d=%d&", i % 1000, i % 10);
		f = NULL;
		r = form_parse(&f, body, n);
		is_int(r, 0, "%d fields are accepted", FORM_MAX_FIELDS);
		is_int(f ? form_size(f) : 0, FORM_MAX_FIELDS, "all of them");
		is_str(f ? form_name(f, FORM_MAX_FIELDS - 1) : NULL, "f255",
		       "the last field's name");
		form_free(f);
		n += (size_t)snprintf(body + n, cap - n, "&&&");
		f = NULL;
		is_int(form_parse(&f, body, n), 0, "trailing empty pairs don't count");
		form_free(f);
		n += (size_t)snprintf(body + n, cap - n, "x");
		f = NULL;
		is_int(form_parse(&f, body, n), FORM_INVALID, "%d fields are refused",
		       FORM_MAX_FIELDS + 1);
		ok(f == NULL, "no form");
		free(body);
	}

	/* Name length cap (on the decoded name). */
	{
		char body[FORM_MAX_NAME * 3 + 16];
		memset(body, 'n', FORM_MAX_NAME);
		memcpy(body + FORM_MAX_NAME, "=v", 3);
		f = NULL;
		is_int(form_parse(&f, body, strlen(body)), 0, "a %d-byte name is accepted",
		       FORM_MAX_NAME);
		is_int(f ? strlen(form_name(f, 0)) : 0, FORM_MAX_NAME, "and kept whole");
		form_free(f);
		memset(body, 'n', FORM_MAX_NAME + 1);
		memcpy(body + FORM_MAX_NAME + 1, "=v", 3);
		f = NULL;
		is_int(form_parse(&f, body, strlen(body)), FORM_INVALID,
		       "a %d-byte name is refused", FORM_MAX_NAME + 1);
		memset(body, 'n', FORM_MAX_NAME + 1);
		body[FORM_MAX_NAME + 1] = '\0';
		is_int(form_parse(&f, body, strlen(body)), FORM_INVALID, "also without '='");
		/* 256 escapes decode to 256 bytes: accepted. */
		for (int i = 0; i < FORM_MAX_NAME; i++)
			memcpy(body + 3 * i, "%41", 3);
		memcpy(body + 3 * FORM_MAX_NAME, "=v", 3);
		f = NULL;
		is_int(form_parse(&f, body, strlen(body)), 0,
		       "a name of %d escapes decodes to %d bytes and is accepted", FORM_MAX_NAME,
		       FORM_MAX_NAME);
		form_free(f);
		memcpy(body + 3 * FORM_MAX_NAME, "%41=v", 6);
		f = NULL;
		is_int(form_parse(&f, body, strlen(body)), FORM_INVALID,
		       "a name of %d escapes is refused", FORM_MAX_NAME + 1);
	}

	/* Long values are fine (the body cap is the HTTP layer's). */
	{
		size_t n = 100000;
		char *body = malloc(n + 3);
		memcpy(body, "t=", 2);
		for (size_t i = 2; i < n; i++)
			body[i] = (i % 3 == 0) ? '+' : 'x';
		f = NULL;
		r = form_parse(&f, body, n);
		is_int(r, 0, "a 100 kB value parses");
		is_int(f ? strlen(form_get(f, "t")) : 0, n - 2, "at full length");
		form_free(f);
		free(body);
	}
	ok(form_free(NULL) == NULL, "form_free(NULL)");
	return done_testing();
}
