/* form: application/x-www-form-urlencoded bodies (HTML forms, Akismet).
 *
 * Decodes '+' and %XX escapes into NUL-terminated name/value pairs in order.
 * A body with a malformed escape, a %00, more than FORM_MAX_FIELDS fields or
 * a name longer than FORM_MAX_NAME is refused as a whole.  Values are bytes:
 * callers check UTF-8 where they need text.
 */
#ifndef COMMENTD_FORM_H
#define COMMENTD_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 256
#define FORM_MAX_NAME	256

enum {
	FORM_INVALID = 1,
};

struct form;

/* Parses len bytes of body.  0 with *out owned by the caller, FORM_INVALID,
 * or -ENOMEM. */
int form_parse(struct form **out, const char *body, size_t len);

/* NULL-safe; returns NULL. */
struct form *form_free(struct form *f);

/* The first value of name, or NULL.  Borrowed from f. */
const char *form_get(const struct form *f, const char *name);

/* How many fields are called name. */
size_t form_count(const struct form *f, const char *name);

/* Fields by position (0 <= i < form_size). */
size_t form_size(const struct form *f);
const char *form_name(const struct form *f, size_t i);
const char *form_value(const struct form *f, size_t i);

#endif
