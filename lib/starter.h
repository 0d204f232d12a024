/* starter: the spam model shipped with commentd, so that a new site's filter
 * decides from its first comment (docs/classifier.md, "Starter model").
 *
 * The model is a text file, data/starter-model.txt, made by
 * tools/build-starter.py from public, openly licensed labelled messages and
 * compiled into the binary.  It holds token texts (of public corpora, never
 * of a site's comments) with the number of spam and ham messages containing
 * each.  Token texts, not hashes, because every database hashes tokens with
 * its own random key: the classifier hashes the starter's tokens into its
 * database's key space when it loads them (classify.c) and keeps only the
 * hashes and counts in memory.  Nothing of the starter is written to the
 * database.
 *
 * Format (UTF-8, one record a line, '#' lines are comments):
 *   commentd-starter 1 <tokenizer version>
 *   messages <spam> <ham>
 *   <spam count> <ham count> <token>      (the token is the rest of the line)
 * Counts are at most STARTER_MAX_COUNT and at most the message totals.
 */
#ifndef COMMENTD_STARTER_H
#define COMMENTD_STARTER_H

#include <stddef.h>
#include <stdint.h>

#define STARTER_FORMAT	   1
#define STARTER_MAX_COUNT  65535 /* counts are kept in 16 bits */
#define STARTER_MAX_TOKENS (1u << 20)
#define STARTER_MAX_BYTES  (64u << 20)
#define STARTER_ERR_MAX	   160

struct starter;

/* Checks and indexes a model text of len bytes.  The text is not copied: it
 * must outlive the starter.  0, 1 with "line N: reason" in err (at least
 * STARTER_ERR_MAX bytes) for a malformed model or one made for another
 * tokenizer version, negative on OOM. */
int starter_parse(struct starter **out, const char *text, size_t len, char *err);

/* NULL-safe; returns NULL. */
struct starter *starter_free(struct starter *s);

/* The model compiled into the binary, parsed on first use; NULL (logged
 * once) if it is missing or broken.  Thread-safe; never freed. */
const struct starter *starter_builtin(void);

/* Messages per class the model was built from. */
void starter_totals(const struct starter *s, uint32_t *nspam, uint32_t *nham);

/* Number of tokens. */
size_t starter_size(const struct starter *s);

/* Token i (< starter_size): its text (not NUL-terminated) and counts. */
void starter_token(const struct starter *s, size_t i, const char **tok, size_t *len, uint32_t *spam,
		   uint32_t *ham);

#endif
