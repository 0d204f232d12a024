/* lang: the languages commentd's own pages speak (the privacy page, the
 * thread as HTML, the feeds): Dutch, English and German, the widget's
 * three.
 *
 * A request names one with ?lang= or says what it prefers in its
 * Accept-Language header (RFC 9110 12.5.4: tags with optional q weights);
 * both are untrusted text, parsed here and fuzzed (tests/fuzz/fuzz-query.c).
 */
#ifndef COMMENTD_LANG_H
#define COMMENTD_LANG_H

#include "config.h"

#include <stddef.h>

enum lang {
	LANG_EN,
	LANG_NL,
	LANG_DE,
};

#define LANG_ACCEPT_MAX 1024 /* bytes of Accept-Language read */

/* The language named by code ("nl", "nl-BE", "EN" ...: its primary
 * subtag), into *out.  0, or 1 when it is none of ours. */
int lang_parse(const char *code, enum lang *out);

/* The language for a request: query (a ?lang= value, may be NULL) when it
 * names one of ours, else the most preferred of ours in accept (an
 * Accept-Language value, may be NULL; q=0 refuses a language, equal weights
 * keep the header's order), else fallback. */
enum lang lang_pick(const char *query, const char *accept, enum lang fallback);

/* A site's language setting (notifications' "language") as a page
 * language: the fallback of lang_pick for that site's pages and feeds. */
enum lang lang_of_site(enum config_language l);

/* "en", "nl" or "de". */
const char *lang_code(enum lang l);

#endif
