#include "jsontext.h"

#include <errno.h>
#include <string.h>
#include <utf8proc.h>

/* The escape of a byte below 0x20, '"' or '\\' into out (at least 7
 * bytes): its length. */
static size_t escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char *const named[0x20] = {
	    ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (named[c]) {
		out[0] = named[c][0];
		out[1] = named[c][1];
		return 2;
	}
	memcpy(out, "\\u00", 4);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 0xf];
	return 6;
}

/* Appends s[0..len) escaped, without quotes.  0, BUF_TOO_BIG,
 * JSONTEXT_NOT_UTF8, -ENOMEM. */
static int string_body(struct buf *b, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *run = p;
	char esc[8];
	int r;

	while (p < end) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
		} else if (*p >= 0x80) {
			/* utf8proc refuses what jansson's utf8_check_full does
			 * (tests/unit/test-jsontext.c, tests/fuzz). */
			utf8proc_int32_t cp;
			utf8proc_ssize_t k = utf8proc_iterate(p, end - p, &cp);
			if (k <= 0)
				return JSONTEXT_NOT_UTF8;
			p += k;
		} else {
			r = buf_append(b, run, (size_t)(p - run));
			if (r == 0)
				r = buf_append(b, esc, escape(*p, esc));
			if (r != 0)
				return r;
			run = ++p;
		}
	}
	return buf_append(b, run, (size_t)(p - run));
}

int jsontext_string(struct buf *b, const char *s, size_t len)
{
	size_t start = b->len;
	int r = buf_append(b, "\"", 1);

	if (r == 0)
		r = string_body(b, (const unsigned char *)s, len);
	if (r == 0)
		r = buf_append(b, "\"", 1);
	if (r != 0 && b->data) {
		b->len = start;
		b->data[start] = '\0';
	}
	return r;
}

int jsontext_int(struct buf *b, int64_t v)
{
	char digits[24], *p = digits + sizeof(digits);
	/* The magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return buf_append(b, p, (size_t)(digits + sizeof(digits) - p));
}

int jsontext_errno(int r)
{
	if (r == BUF_TOO_BIG)
		return -E2BIG;
	if (r == JSONTEXT_NOT_UTF8)
		return -EILSEQ;
	return r;
}
