/* fuzz-link: the tokens of notification links (lib/link.c link_parse), as
 * they arrive in ?t= or a form field.  A token that parses must be one
 * this key made: link_token of what it says gives it back byte for byte. */
#include "fuzz.h"

#include "link.h"

#include <sodium.h>

static struct keys *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char master[KEYS_MASTER_BYTES];
	char again[LINK_TOKEN_MAX];
	struct link l;
	char *token;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!keys) {
		for (int i = 0; i < KEYS_MASTER_BYTES; i++)
			master[i] = (unsigned char)(i * 11 + 3);
		if (keys_new_from_bytes(&keys, master) != 0)
			abort();
	}
	token = fuzz_strndup(data, size);
	r = link_parse(keys, token, 1800000000, &l);
	fuzz_assert(r == 0 || r == LINK_INVALID || r == LINK_EXPIRED);
	if (r == 0) {
		fuzz_assert(l.kind >= LINK_CONFIRM && l.kind <= LINK_MODERATE && l.id > 0);
		link_token(keys, &l, again);
		fuzz_assert(strcmp(again, token) == 0);
	}
	free(token);
	return 0;
}
