#include "names.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uspoof.h>
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

/* Step 3: the TR39 skeleton.  0, 1 (does not fit), negative. */
static int skeleton(const char *in, char *out, size_t cap)
{
	UErrorCode status = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&status);
	int32_t n;

	if (U_FAILURE(status)) {
		log_err("names: cannot open ICU's spoof checker: %s", u_errorName(status));
		uspoof_close(sc);
		return -EIO;
	}
	n = uspoof_getSkeletonUTF8(sc, 0, in, -1, out, (int32_t)cap, &status);
	uspoof_close(sc);
	if (status == U_BUFFER_OVERFLOW_ERROR || status == U_STRING_NOT_TERMINATED_WARNING ||
	    n < 0 || (size_t)n >= cap)
		return 1;
	if (U_FAILURE(status)) {
		log_err("names: skeleton failed: %s", u_errorName(status));
		return -EIO;
	}
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
