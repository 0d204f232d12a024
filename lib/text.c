#include "text.h"

#include <sodium.h>
#include <string.h>
#include <utf8proc.h>

bool text_utf8_valid(const char *s, size_t len, size_t *chars)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t n = 0;

	while (len > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
		if (k <= 0 || cp == 0)
			return false;
		p += k;
		len -= (size_t)k;
		n++;
	}
	if (chars)
		*chars = n;
	return true;
}

bool text_has_controls(const char *s, bool allow_newlines)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	while (*p) {
		bool newline;

		k = utf8proc_iterate(p, -1, &cp);
		if (k <= 0) {
			/* Not UTF-8: judge the byte by itself and go on, so that
			 * a control after a bad sequence is still found. */
			cp = *p;
			k = 1;
		}
		newline = cp == '\n' || cp == '\r' || cp == '\t';
		if ((cp < 0x20 && !(allow_newlines && newline)) || (cp >= 0x7f && cp < 0xa0))
			return true;
		/* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR: line breaks. */
		if ((cp == 0x2028 || cp == 0x2029) && !allow_newlines)
			return true;
		p += k;
	}
	return false;
}

static bool invisible(utf8proc_int32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff ||
	       cp == 0x061c || cp == 0x00ad;
}

void text_strip_invisible(char *s)
{
	utf8proc_uint8_t *r = (utf8proc_uint8_t *)s, *w = r;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	while (*r) {
		k = utf8proc_iterate(r, -1, &cp);
		if (k <= 0) {
			*w++ = *r++;
			continue;
		}
		if (!invisible(cp)) {
			memmove(w, r, (size_t)k);
			w += k;
		}
		r += k;
	}
	*w = '\0';
}

static bool space_at(const utf8proc_uint8_t *p, utf8proc_ssize_t *len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);

	if (k <= 0)
		return false;
	*len = k;
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	       utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

char *text_trim(char *s)
{
	utf8proc_uint8_t *p = (utf8proc_uint8_t *)s, *end;
	utf8proc_ssize_t k;

	while (*p && space_at(p, &k))
		p += k;
	memmove(s, p, strlen((char *)p) + 1);
	/* Find the end of the last non-space character. */
	p = (utf8proc_uint8_t *)s;
	end = p;
	while (*p) {
		if (space_at(p, &k)) {
			p += k;
		} else {
			utf8proc_int32_t cp;
			k = utf8proc_iterate(p, -1, &cp);
			p += k > 0 ? k : 1;
			end = p;
		}
	}
	*end = '\0';
	return s;
}

char *text_ascii_lower(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + ('a' - 'A'));
	}
	return s;
}

int text_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int text_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return 1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return 1;
		d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return 1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A code point that breaks a line or controls the terminal: C0, DEL, C1,
 * U+2028 and U+2029. */
static bool breaks_line(utf8proc_int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029;
}

char *text_one_line(char *s, size_t max_chars)
{
	utf8proc_uint8_t *r = (utf8proc_uint8_t *)s, *w = r;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t chars = 0;
	bool space = true; /* drops leading space */

	text_strip_invisible(s);
	while (*r && chars < max_chars) {
		k = utf8proc_iterate(r, -1, &cp);
		if (k <= 0) {
			k = 1;
			cp = 0xfffd; /* not UTF-8: dropped */
		} else if (breaks_line(cp) || space_at(r, &k)) {
			cp = ' ';
		}
		if (cp == ' ') {
			if (!space) {
				*w++ = ' ';
				chars++;
			}
			space = true;
		} else if (cp != 0xfffd || k > 1) {
			memmove(w, r, (size_t)k);
			w += k;
			chars++;
			space = false;
		}
		r += k;
	}
	*w = '\0';
	return text_trim(s);
}

int text_base64url_decode(const char *s, unsigned char *out, size_t max, size_t *len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s);

	*len = 0;
	if (s[strspn(s, alphabet)] != '\0')
		return 1;
	return sodium_base642bin(out, max, s, n, NULL, len, NULL,
				 sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0;
}
