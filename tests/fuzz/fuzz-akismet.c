/* fuzz-akismet: Akismet request bodies through lib/akismet's parser and
 * every mapping the daemon applies to one (key lookup from fields and a
 * Host header, classify_input, test values, honeypot, learning key). */
#include "fuzz.h"

#include "akismet.h"
#include "keys.h"

#include <errno.h>
#include <string.h>

static struct keys *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char master[KEYS_MASTER_BYTES] = {7};
	struct akismet_request *r = NULL;
	struct classify_input ci;
	char key[AKISMET_KEY_CHARS], mk[AKISMET_MSG_KEY_MAX], *host;
	size_t split;
	int ret;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!keys && keys_new_from_bytes(&keys, master) != 0)
		abort();
	/* The first line is a Host header, the rest the body. */
	split = 0;
	while (split < size && data[split] != '\n')
		split++;
	host = fuzz_strndup(data, split);
	if (split < size)
		split++;

	fuzz_assert(akismet_key_from_host(host, key) == (key[0] != '\0'));
	if (key[0])
		fuzz_assert(strlen(key) == AKISMET_KEY_HEX);
	ret = akismet_request_parse(&r, (const char *)data + split, size - split);
	fuzz_assert(ret == 0 || ret == AKISMET_INVALID || ret == -ENOMEM);
	if (ret != 0) {
		fuzz_assert(r == NULL);
		free(host);
		return 0;
	}
	for (int verify = 0; verify < 2; verify++) {
		if (akismet_request_key(r, host, verify, key))
			fuzz_assert(key[0] == '\0' || strlen(key) == AKISMET_KEY_HEX);
	}
	(void)akismet_request_missing(r);
	akismet_request_classify(r, "fallback.example", &ci);
	fuzz_assert(ci.render_seconds == -1);
	fuzz_assert(ci.honeypot_filled == akismet_request_honeypot(r));
	if (ci.site_host)
		fuzz_assert(strlen(ci.site_host) < 256);
	ret = (int)akismet_request_test(r);
	fuzz_assert(ret == AKISMET_TEST_NONE || ret == AKISMET_TEST_SPAM ||
		    ret == AKISMET_TEST_HAM);
	(void)akismet_request_is_test(r);
	akismet_message_key(r, keys, mk);
	fuzz_assert(strncmp(mk, "akismet:", 8) == 0 && strlen(mk) == 8 + 2 * KEYS_HASH_BYTES);
	akismet_request_free(r);
	free(host);
	return 0;
}
