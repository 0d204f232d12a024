/* fuzz-jsontext: strings as the thread answer writes them (lib/jsontext,
 * view_public_members) against jansson's dump of the same values.  The
 * whole input as one string (NULs included) must come out as
 * json_dumps(json_stringn(input), JSON_COMPACT) writes it, or be refused
 * by both; split at 0x1e bytes into author, url, html and thread, the
 * members of a comment must be the dump of view_public's object, or both
 * refuse. */
#include "fuzz.h"

#include "jsontext.h"
#include "view.h"

#include <jansson.h>

/* The dump of j (NULL: NULL); j is dropped. */
static char *dump_of(json_t *j)
{
	char *text;

	if (!j)
		return NULL;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	fuzz_assert(text != NULL);
	return text;
}

static void check_string(const uint8_t *data, size_t size)
{
	json_t *s = json_stringn((const char *)data, size);
	char *want = s ? dump_of(json_pack("[o]", s)) : NULL;
	struct buf b;
	int r;

	buf_init(&b, 8 * size + 64);
	r = buf_append(&b, "[", 1);
	fuzz_assert(r == 0);
	r = jsontext_string(&b, (const char *)data, size);
	if (!want) {
		fuzz_assert(r == JSONTEXT_NOT_UTF8 && b.len == 1);
	} else {
		fuzz_assert(r == 0 && buf_append(&b, "]", 1) == 0);
		fuzz_assert(strcmp(b.data, want) == 0);
	}
	free(want);
	buf_free(&b);
}

static void check_members(const uint8_t *data, size_t size)
{
	char *z = fuzz_strndup(data, size), *field[4] = {NULL, NULL, NULL, NULL}, *p = z;
	struct comment_view v;
	char *want;
	struct buf b;
	int r;

	for (int i = 0; i < 4 && p; i++) {
		field[i] = p;
		p = strchr(p, 0x1e);
		if (p)
			*p++ = '\0';
	}
	v = (struct comment_view){.id = (int64_t)size,
				  .thread = field[3],
				  .parent = size % 3,
				  .author = field[0],
				  .url = field[1],
				  .created = 1700000000 + (int64_t)size,
				  .html = field[2],
				  .avatar = "0123456789abcdef0123456789abcdef",
				  .author_badge = size % 2,
				  .likes = (int64_t)size - 7};
	want = dump_of(view_public(&v));
	buf_init(&b, 8 * size + 512);
	r = buf_append(&b, "{", 1);
	r = r ? r : view_public_members(&b, &v);
	if (!want) {
		fuzz_assert(r == JSONTEXT_NOT_UTF8);
	} else {
		fuzz_assert(r == 0 && buf_append(&b, "}", 1) == 0);
		fuzz_assert(strcmp(b.data, want) == 0);
	}
	free(want);
	buf_free(&b);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	check_string(data, size);
	check_members(data, size);
	return 0;
}
