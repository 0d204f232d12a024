/* names: telling whether a commenter's name is a moderator's.
 *
 * A public post under the display name a moderator replies with is held
 * (lib/submit.h, reason "impersonation").  Names are compared by their key,
 * which ignores what a reader's eye does not see or easily overlooks:
 *
 *   1. NFKC, Unicode case folding, combining marks and default-ignorable
 *      characters removed (utf8proc): "SJEF", "Sjéf", "Ｓｊｅｆ" and "Sj\u200bef"
 *      are "sjef";
 *   2. only letters and digits kept: white space, punctuation and symbols go
 *      ("S. j-e f 🙂" is "sjef");
 *   3. the Unicode TR39 skeleton maps lookalikes to one prototype: Cyrillic
 *      "Ѕјеf", Greek omicron for "o", "rn" for "m", "0" for "O", "1" and
 *      "I" for "l" (ICU's spoof checker data, as a table made at build time:
 *      lib/confusables.h);
 *   4. folded again (steps 1 and 2), as the skeleton keeps case.
 *
 * So "Sjef", "sjef.", "S j e f", "Ѕјеf" and "Sjéf" share a key; "Sjef 2" and
 * "Sjefke" do not.
 */
#ifndef COMMENTD_NAMES_H
#define COMMENTD_NAMES_H

#include <stddef.h>

#define NAMES_KEY_MAX 1024 /* bytes of a key with its NUL */
#define NAMES_MAX     256  /* names in a set */

/* Writes name's key (above) into out.  0; 1 when name is not valid UTF-8,
 * has no letter or digit or its key would not fit; negative on failure
 * (logged). */
int names_key(const char *name, char out[NAMES_KEY_MAX]);

/* A set of names (the moderators' display names) with their keys. */
struct names;

/* An empty set.  0 or -ENOMEM. */
int names_new(struct names **out);

/* NULL-safe; returns NULL. */
struct names *names_free(struct names *n);

/* Adds name (copied).  0; 1 when it has no key (names_key) or the set is
 * full; negative on failure. */
int names_add(struct names *n, const char *name);

/* The number of names in the set (NULL: 0). */
size_t names_count(const struct names *n);

/* Whether name is the same as a name of the set (same key): 1 with *match
 * set to that name (it belongs to n), 0 when none is (or name has no key,
 * or n is NULL or empty), negative on failure (logged). */
int names_match(const struct names *n, const char *name, const char **match);

#endif
