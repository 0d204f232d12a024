/* fuzz-akismet: Akismet request bodies through lib/akismet's parser,
 * blog_charset decoding (UTF-8, windows-1252 and any iconv charset named in
 * the input) and every mapping the daemon applies to one (key lookup from
 * fields and a Host header, classify_input, test values, honeypot, learning
 * key). */
#include "fuzz.h"

#include "akismet.h"
#include "keys.h"
#include "text.h"

#include <errno.h>
#include <string.h>

static struct keys *keys;

/* Every field the daemon reads, decoded: valid UTF-8 whatever was sent. */
static const char *const text_fields[] = {
    "blog",
    "user_ip",
    "user_agent",
    "referrer",
    "referer",
    "permalink",
    "comment_type",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_content",
    "user_role",
    "is_test",
    "honeypot_field_name",
    "comment_context[0]",
    "recheck_reason",
    "blog_lang",
    NULL,
};

/* A note becomes an HTTP header: printable ASCII only. */
static bool header_safe(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

static void check_decoded(const struct akismet_request *r)
{
	const char *note = akismet_request_charset_note(r), *hp;

	for (size_t i = 0; text_fields[i]; i++) {
		const char *v = akismet_request_get(r, text_fields[i]);
		if (v)
			fuzz_assert(text_utf8_valid(v, strlen(v), NULL));
	}
	hp = akismet_request_get(r, "honeypot_field_name");
	if (hp && akismet_request_get(r, hp) && strcmp(hp, "api_key") && strcmp(hp, "key") &&
	    strcmp(hp, "blog_charset")) {
		const char *v = akismet_request_get(r, hp);
		fuzz_assert(text_utf8_valid(v, strlen(v), NULL));
	}
	fuzz_assert(header_safe(akismet_request_charset(r)));
	fuzz_assert(strlen(akismet_request_charset(r)) < AKISMET_CHARSET_MAX);
	if (note)
		fuzz_assert(header_safe(note) && strlen(note) < AKISMET_NOTE_MAX);
}

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
	check_decoded(r);
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
