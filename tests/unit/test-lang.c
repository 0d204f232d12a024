/* Unit tests for lib/lang: ?lang= and Accept-Language. */
#include "tap.h"

#include "lang.h"

#include <string.h>

#define PICK(q, accept, want, why) is_str(lang_code(lang_pick(q, accept, LANG_EN)), want, why)

int main(void)
{
	enum lang l;

	is_int(lang_of_site(LANGUAGE_NL), LANG_NL, "a site's language nl");
	is_int(lang_of_site(LANGUAGE_DE), LANG_DE, "de");
	is_int(lang_of_site(LANGUAGE_EN), LANG_EN, "en");
	is_int(lang_pick(NULL, "fr", lang_of_site(LANGUAGE_DE)), LANG_DE,
	       "  the fallback when a request names none of ours");
	is_int(lang_parse("nl", &l), 0, "nl");
	is_int(l, LANG_NL, "  is Dutch");
	is_int(lang_parse("DE-at", &l), 0, "DE-at");
	is_int(l, LANG_DE, "  is German");
	is_int(lang_parse("en_GB", &l), 0, "en_GB");
	is_int(lang_parse("fr", &l), 1, "fr is not ours");
	is_int(lang_parse("nld", &l), 1, "nld is not nl");
	is_int(lang_parse("n", &l), 1, "one letter");
	is_int(lang_parse("", &l), 1, "empty");
	is_int(lang_parse(NULL, &l), 1, "NULL");

	PICK("de", "nl", "de", "?lang= wins");
	PICK("xx", "nl", "nl", "an unknown ?lang= is ignored");
	PICK(NULL, NULL, "en", "nothing: the fallback");
	is_str(lang_code(lang_pick(NULL, NULL, LANG_NL)), "nl", "the fallback is the caller's");
	PICK(NULL, "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl", "a Dutch browser");
	PICK(NULL, "fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7", "de", "the best of ours");
	PICK(NULL, "en;q=0.5, de;q=0.6", "de", "by weight, not order");
	PICK(NULL, "de;q=0.5, nl;q=0.5", "de", "equal weights: the first");
	PICK(NULL, "nl;q=0, de;q=0.001", "de", "q=0 refuses");
	PICK(NULL, "nl;q=0", "en", "only refusals: the fallback");
	PICK(NULL, "nl ; q=0.8 , de;q=0.9", "de", "spaces");
	PICK(NULL, "nl;q=1.5,de;q=0.1", "de", "a malformed q is ignored");
	PICK(NULL, "nl;q=,de;q=abc,fr", "en", "malformed members only");
	PICK(NULL, "*", "en", "a wildcard: the fallback");
	PICK(NULL, ",,;;,nl-", "nl", "junk around a tag");
	PICK(NULL, "NL-be", "nl", "case");
	PICK(NULL, "nl;x=1", "en", "another parameter than q");
	{
		char big[LANG_ACCEPT_MAX + 64];
		memset(big, 'x', sizeof(big));
		memcpy(big + LANG_ACCEPT_MAX + 10, ",de", 3);
		big[sizeof(big) - 1] = '\0';
		PICK(NULL, big, "en", "only the first LANG_ACCEPT_MAX bytes are read");
	}
	return done_testing();
}
