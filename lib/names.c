#include "names.h"

#include "confusables.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct entry {
	char *name;
	char key[NAMES_KEY_MAX];
};

struct names {
	size_t n;
	struct entry *e[NAMES_MAX];
};

/* Steps 1 and 2: folded, marks and ignorables removed, only letters and
 * digits.  0, 1 (nothing left or too long), negative. */
static int fold(const char *in, char *out, size_t cap)
{
	const utf8proc_option_t opts = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
				       UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
				       UTF8PROC_STRIPMARK | UTF8PROC_STRIPCC;
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n, k;
	utf8proc_int32_t cp;
	size_t o = 0;

	n = utf8proc_map((const utf8proc_uint8_t *)in, 0, &folded, opts);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : 1;
	for (utf8proc_ssize_t i = 0; i < n; i += k) {
		k = utf8proc_iterate(folded + i, n - i, &cp);
		if (k <= 0)
			break;
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
		case UTF8PROC_CATEGORY_ND:
		case UTF8PROC_CATEGORY_NL:
		case UTF8PROC_CATEGORY_NO:
			if (o + (size_t)k >= cap) {
				free(folded);
				return 1;
			}
			memcpy(out + o, folded + i, (size_t)k);
			o += (size_t)k;
			break;
		default:
			break;
		}
	}
	free(folded);
	out[o] = '\0';
	return o ? 0 : 1;
}

static int by_code_point(const void *key, const void *entry)
{
	uint32_t cp = *(const uint32_t *)key, other = ((const struct confusable *)entry)->cp;

	return cp < other ? -1 : cp > other;
}

/* Step 3: the TR39 skeleton, character by character from the table made
 * from ICU's data at build time (lib/confusables.h).  in is folded (step 1
 * and 2).  0, 1 (does not fit). */
static int skeleton(const char *in, char *out, size_t cap)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
	const struct confusable *hit;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t o = 0, n;
	uint32_t key;

	for (; *p; p += k) {
		k = utf8proc_iterate(p, -1, &cp);
		if (k <= 0)
			return 1;
		key = (uint32_t)cp;
		hit = bsearch(&key, confusables, confusables_count, sizeof(confusables[0]),
			      by_code_point);
		n = hit ? strlen(hit->to) : (size_t)k;
		if (o + n >= cap)
			return 1;
		memcpy(out + o, hit ? (const void *)hit->to : (const void *)p, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int names_key(const char *name, char out[NAMES_KEY_MAX])
{
	char a[NAMES_KEY_MAX], b[NAMES_KEY_MAX];
	size_t len = name ? strnlen(name, NAMES_KEY_MAX) : NAMES_KEY_MAX;
	int r;

	out[0] = '\0';
	if (len >= NAMES_KEY_MAX || !text_utf8_valid(name, len, NULL))
		return 1;
	r = fold(name, a, sizeof(a));
	if (r == 0)
		r = skeleton(a, b, sizeof(b));
	if (r == 0)
		r = fold(b, out, NAMES_KEY_MAX);
	if (r != 0)
		out[0] = '\0';
	return r;
}

int names_new(struct names **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

struct names *names_free(struct names *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++) {
		free(n->e[i]->name);
		free(n->e[i]);
	}
	free(n);
	return NULL;
}

int names_add(struct names *n, const char *name)
{
	struct entry *e;
	int r;

	if (n->n == NAMES_MAX)
		return 1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	r = names_key(name, e->key);
	if (r == 0) {
		e->name = strdup(name);
		r = e->name ? 0 : -ENOMEM;
	}
	if (r != 0) {
		free(e);
		return r;
	}
	n->e[n->n++] = e;
	return 0;
}

size_t names_count(const struct names *n)
{
	return n ? n->n : 0;
}

int names_match(const struct names *n, const char *name, const char **match)
{
	char key[NAMES_KEY_MAX];
	int r;

	*match = NULL;
	if (!n || !n->n)
		return 0;
	r = names_key(name, key);
	if (r != 0)
		return r < 0 ? r : 0;
	for (size_t i = 0; i < n->n; i++) {
		if (strcmp(n->e[i]->key, key) == 0) {
			*match = n->e[i]->name;
			return 1;
		}
	}
	return 0;
}
