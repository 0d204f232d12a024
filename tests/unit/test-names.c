/* Unit tests for lib/names: the key of a name ignores case, accents, width,
 * invisible characters, spaces, punctuation and lookalike letters, and
 * nothing else; a set finds the name a poster's is the same as. */
#include "tap.h"

#include "names.h"

#include <string.h>

static int same(const char *a, const char *b)
{
	char ka[NAMES_KEY_MAX], kb[NAMES_KEY_MAX];

	return names_key(a, ka) == 0 && names_key(b, kb) == 0 && strcmp(ka, kb) == 0;
}

static void test_key(void)
{
	static const char *const like_sjef[] = {
	    "Sjef",
	    "sjef",
	    "SJEF",
	    " Sjef ",
	    "Sjef.",
	    "S j e f",
	    "S-j_e*f!",
	    "Sj\xc3\xa9"
	    "f", /* é */
	    "Sje\xcc\x81"
	    "f",						/* e + combining acute */
	    "\xef\xbc\xb3\xef\xbd\x8a\xef\xbd\x85\xef\xbd\x86", /* fullwidth */
	    "Sj\xe2\x80\x8b"
	    "ef", /* zero-width space */
	    "Sj\xe2\x80\xae"
	    "ef", /* right-to-left override */
	    "\xd0\x85\xd1\x98\xd0\xb5"
	    "f",		     /* Cyrillic Ѕ ј е */
	    "Sjef \xf0\x9f\x99\x82", /* an emoji after it */
	};
	static const char *const not_sjef[] = {"Sjefke", "Sjef 2", "Jef", "Sjaf", "Sje"};
	char key[NAMES_KEY_MAX];

	for (size_t i = 0; i < sizeof(like_sjef) / sizeof(like_sjef[0]); i++)
		ok(same("Sjef", like_sjef[i]), "\"%s\" has Sjef's key", like_sjef[i]);
	for (size_t i = 0; i < sizeof(not_sjef) / sizeof(not_sjef[0]); i++)
		ok(!same("Sjef", not_sjef[i]), "\"%s\" does not", not_sjef[i]);
	ok(same("Marieke Kerkhofs", "marieke   kerkhofs"), "spaces between names do not count");
	ok(same("Bart", "B\xce\xb1rt"), "a Greek alpha looks like a");
	ok(same("Tom", "T0m"), "a zero looks like O");
	ok(same("Will", "Wi11"), "ones look like l");
	ok(same("Emma", "Ernrna"), "rn looks like m");
	ok(!same("Anna", "Anne"), "different letters differ");
	is_int(names_key("Sjef", key), 0, "a key");
	is_str(key, "sjef", "  folded");
	is_int(names_key("...", key), 1, "punctuation only has no key");
	is_str(key, "", "  and the key is empty");
	is_int(names_key("", key), 1, "an empty name has none");
	is_int(names_key("a\xff", key), 1, "bytes that are not UTF-8 have none");
	{
		char long_name[2 * NAMES_KEY_MAX];
		memset(long_name, 'a', sizeof(long_name) - 1);
		long_name[sizeof(long_name) - 1] = '\0';
		is_int(names_key(long_name, key), 1, "a name past the key's size has none");
	}
}

static void test_set(void)
{
	struct names *n = NULL;
	const char *m = "x";

	is_int(names_match(NULL, "Sjef", &m), 0, "no set: no match");
	ok(m == NULL, "  *match NULL");
	is_int(names_new(&n), 0, "names_new");
	is_int(names_match(n, "Sjef", &m), 0, "an empty set matches nothing");
	is_int(names_add(n, "Sjef Kerkhofs"), 0, "add Sjef Kerkhofs");
	is_int(names_add(n, "Redactie"), 0, "add Redactie");
	is_int(names_add(n, "--"), 1, "a name without letters is not added");
	is_int((int)names_count(n), 2, "two names");
	is_int(names_match(n, "sjef  KERKHOFS", &m), 1, "a poster's spelling matches");
	is_str(m, "Sjef Kerkhofs", "  the display name as set");
	is_int(names_match(n,
			   "R\xd0\xb5"
			   "dactie",
			   &m),
	       1, "with a Cyrillic e too");
	is_str(m, "Redactie", "  Redactie");
	is_int(names_match(n, "Sjef", &m), 0, "a part of a name is not the name");
	is_int(names_match(n, "", &m), 0, "an empty name matches nothing");
	for (int i = 0; i < NAMES_MAX; i++)
		names_add(n, "Naam");
	is_int((int)names_count(n), NAMES_MAX, "a set holds at most NAMES_MAX names");
	is_int(names_add(n, "One more"), 1, "  then refuses");
	names_free(n);
	ok(names_free(NULL) == NULL, "names_free(NULL)");
	is_int((int)names_count(NULL), 0, "names_count(NULL)");
}

int main(void)
{
	test_key();
	test_set();
	return done_testing();
}
