#include "markup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void markup_init(struct markup *m, size_t max)
{
	buf_init(&m->b, max);
	m->err = 0;
}

static void put(struct markup *m, const char *s, size_t n)
{
	if (!m->err && n)
		m->err = buf_append(&m->b, s, n);
}

void markup_raw(struct markup *m, const char *s)
{
	if (s)
		put(m, s, strlen(s));
}

void markup_raw_len(struct markup *m, const char *s, size_t n)
{
	put(m, s, n);
}

void markup_int(struct markup *m, long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", v);
	markup_raw(m, num);
}

/* The length of the UTF-8 sequence at s (at most len bytes) and its code
 * point in *cp, or 0 when it is not well-formed (overlong, surrogate,
 * beyond U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = s[0] < 0x80			 ? 1
		   : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
		   : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		   : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
						 : 0;
	unsigned v;

	if (n == 0 || n > len)
		return 0;
	v = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* What stands for code point cp in text: an entity, "" (dropped), or NULL
 * (the bytes themselves). */
static const char *text_form(unsigned cp)
{
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\t':
	case '\n':
	case '\r':
		return NULL;
	default:
		return cp < 0x20 || cp == 0x7f || cp == 0xfffe || cp == 0xffff ? "" : NULL;
	}
}

void markup_text(struct markup *m, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = s ? strlen(s) : 0, i = 0, start = 0;

	while (i < len && !m->err) {
		unsigned cp = 0;
		size_t n = utf8_seq(p + i, len - i, &cp);
		const char *rep = n ? text_form(cp) : "\xef\xbf\xbd";

		if (!rep) {
			i += n;
			continue;
		}
		put(m, s + start, i - start);
		markup_raw(m, rep);
		i += n ? n : 1;
		start = i;
	}
	put(m, s + start, len - start);
}

void markup_query_value(struct markup *m, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; p && *p && !m->err; p++) {
		char enc[4] = {'%', hex[*p >> 4], hex[*p & 15], '\0'};
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);

		if (plain)
			put(m, (const char *)p, 1);
		else
			markup_raw(m, enc);
	}
}

void markup_template(struct markup *m, const char *tmpl, const char *const *args, size_t n)
{
	const char *p = tmpl, *hole;

	while ((hole = strchr(p, '{')) && !m->err) {
		size_t i = (size_t)(hole[1] - '0');

		if (hole[1] >= '0' && hole[1] <= '9' && hole[2] == '}' && i < n) {
			put(m, p, (size_t)(hole - p));
			markup_text(m, args[i]);
			p = hole + 3;
		} else {
			put(m, p, (size_t)(hole - p) + 1);
			p = hole + 1;
		}
	}
	markup_raw(m, p);
}

char *markup_finish(struct markup *m, int *err)
{
	char *out = NULL;

	*err = m->err;
	if (!m->err) {
		out = buf_steal(&m->b);
		if (!out)
			*err = -ENOMEM;
	}
	buf_free(&m->b);
	m->err = 0;
	return out;
}
