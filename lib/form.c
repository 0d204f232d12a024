#include "form.h"

#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct field {
	char *name;
	char *value;
};

struct form {
	size_t n;
	char *storage; /* all decoded names and values, NUL-separated */
	struct field fields[FORM_MAX_FIELDS];
};

/* Decodes src[0..len) into dst (at least len + 1 bytes).  Returns the
 * decoded length, or -1 on a malformed escape or %00. */
static long decode(const char *src, size_t len, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (len - i < 3)
				return -1;
			hi = text_hex_value(src[i + 1]);
			lo = text_hex_value(src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '\0') {
			return -1;
		}
		dst[o++] = c;
	}
	dst[o] = '\0';
	return (long)o;
}

int form_parse(struct form **out, const char *body, size_t len)
{
	struct form *f;
	char *w;
	size_t pos = 0;
	int r = FORM_INVALID;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	/* Decoding never grows the text; two NULs per field at most. */
	f->storage = malloc(len + 2 * FORM_MAX_FIELDS + 2);
	if (!f->storage) {
		free(f);
		return -ENOMEM;
	}
	w = f->storage;
	while (pos < len) {
		const char *amp = memchr(body + pos, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - (body + pos)) : len - pos;
		const char *pair = body + pos;
		const char *eq = memchr(pair, '=', plen);
		size_t nlen = eq ? (size_t)(eq - pair) : plen;
		long d;

		pos += plen + (amp ? 1 : 0);
		if (plen == 0)
			continue;
		if (f->n == FORM_MAX_FIELDS || nlen == 0 || nlen > FORM_MAX_NAME * 3)
			goto out;
		d = decode(pair, nlen, w);
		if (d < 0 || (size_t)d > FORM_MAX_NAME)
			goto out;
		f->fields[f->n].name = w;
		w += d + 1;
		if (eq)
			d = decode(eq + 1, plen - nlen - 1, w);
		else
			d = decode("", 0, w);
		if (d < 0)
			goto out;
		f->fields[f->n].value = w;
		w += d + 1;
		f->n++;
	}
	*out = f;
	f = NULL;
	r = 0;
out:
	form_free(f);
	return r;
}

struct form *form_free(struct form *f)
{
	if (!f)
		return NULL;
	free(f->storage);
	free(f);
	return NULL;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	}
	return NULL;
}

size_t form_count(const struct form *f, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += strcmp(f->fields[i].name, name) == 0;
	return n;
}

size_t form_size(const struct form *f)
{
	return f->n;
}

const char *form_name(const struct form *f, size_t i)
{
	return i < f->n ? f->fields[i].name : NULL;
}

const char *form_value(const struct form *f, size_t i)
{
	return i < f->n ? f->fields[i].value : NULL;
}
