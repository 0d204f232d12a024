/* explain: the spam filter's deciding tokens in a form moderators can read.
 *
 * The classifier reports the tokens that decided a score as its own token
 * text ("url:bit.ly", "b1:cheap pills", "m:rt:<3"; lib/tokenize.h,
 * lib/classify.c).  A moderator needs what kind of evidence each one is and,
 * where the privacy rules allow, what it says: {"kind": "link", "text":
 * "bit.ly"}.  The kinds are fixed codes that the moderation page translates:
 *
 *   word, word_pair, fragment, word_start, word_end, long_word,
 *   number_shape, punctuation, link, link_domain, link_count, length,
 *   capitals, obfuscation                         (from the text)
 *   name, website, website_domain, browser, referrer, render_time,
 *   duplicate                                     (from the other fields)
 *   email_domain, network, signal                 (text never shown)
 *
 * The commenter's e-mail domain and network prefix are never shown (nor
 * stored in a reason): only their kind.  So is any meta token this module
 * does not know ("signal"), so that a new signal cannot leak by default.
 */
#ifndef COMMENTD_EXPLAIN_H
#define COMMENTD_EXPLAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define EXPLAIN_TEXT_MAX 160 /* bytes of a shown token text with its NUL */

/* The kind of a classifier token (one of the codes above) and, in text,
 * what a moderator may read of it: "" for kinds never shown.  Returns the
 * kind (a static string).  Pairs of words that were not adjacent read
 * "to … channel". */
const char *explain_token(const char *token, char text[EXPLAIN_TEXT_MAX], bool *shown);

/* The readable form of a classifier's tokens_json (an array of {"token",
 * "p", "spam", "ham", "model"}): [{"kind", "text" (null when not shown), "p"
 * (two decimals), "spam": p >= 0.5, "model" (as given: "site", "starter" or
 * "both"; absent when the input has none)}], in the same order.  NULL or malformed
 * input gives [].  NULL on OOM. */
json_t *explain_tokens(const char *tokens_json);

/* Adds "kind" and "text" (as above) to every object of a stored token
 * array (the admin view of an older comment), in place.  0 or -ENOMEM. */
int explain_annotate(json_t *tokens);

#endif
