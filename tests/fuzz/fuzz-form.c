/* fuzz-form: application/x-www-form-urlencoded bodies (comment forms,
 * Akismet fields) through form_parse and every accessor. */
#include "fuzz.h"

#include "form.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form *f = NULL;
	size_t n;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	/* form_parse takes a length: pass the bytes as they are, NULs included. */
	r = form_parse(&f, (const char *)data, size);
	fuzz_assert(r == 0 || r == FORM_INVALID || r == -ENOMEM);
	if (r != 0) {
		fuzz_assert(f == NULL);
		return 0;
	}
	n = form_size(f);
	fuzz_assert(n <= FORM_MAX_FIELDS);
	for (size_t i = 0; i < n; i++) {
		const char *name = form_name(f, i), *value = form_value(f, i);
		fuzz_assert(name && value);
		fuzz_assert(*name && strlen(name) <= FORM_MAX_NAME);
		/* Decoding never grows the text. */
		fuzz_assert(strlen(value) <= size);
		if (i >= 32)
			continue; /* the lookups are linear: keep each input cheap */
		fuzz_assert(form_get(f, name) != NULL);
		fuzz_assert(form_count(f, name) >= 1);
	}
	fuzz_assert(form_name(f, n) == NULL && form_value(f, n) == NULL);
	/* The fields the daemon and the Akismet client look up. */
	static const char *const names[] = {"thread", "parent",	 "author",   "email",
					    "url",    "text",	 "redirect", "comment_content",
					    "blog",   "user_ip", NULL};
	for (size_t i = 0; names[i]; i++) {
		const char *v = form_get(f, names[i]);
		size_t c = form_count(f, names[i]);
		fuzz_assert((v != NULL) == (c > 0));
		if (v && strcmp(names[i], "parent") == 0) {
			char *end;
			errno = 0;
			(void)strtoll(v, &end, 10);
		}
	}
	form_free(f);
	return 0;
}
