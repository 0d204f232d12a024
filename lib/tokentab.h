/* tokentab: the classifier's table of token hashes, each with a 64-bit
 * value (lib/classify.c packs a token's counts and weight into it).
 *
 * Open addressing with linear probing, at most 3/4 of the slots used, 12
 * bytes a slot: a token's first slot is the low 32 bits of its hash modulo
 * the table's size, and the slot keeps only the high 32 bits (the
 * fingerprint).  A lookup therefore matches a token by 32 + log2(size) bits
 * of its 64-bit hash, not all of them: a different token whose fingerprint is
 * equal and that lies in the probe run is taken for it.  The hashes are keyed
 * SipHash (uniform, the two halves independent), so at the fullest a lookup
 * compares its fingerprint with about 1.5 other tokens' (7.5 for an absent
 * token): a false match is at most about one lookup in 500 million
 * (8.5 / 2^32), and loading a table of n tokens merges two of them with
 * probability about 2.5 n / 2^32 (one load in 4,500 for 377,000 tokens).
 * docs/classifier.md says what such a match does to a score.
 *
 * A table made for its final size (tokentab_new with growable false) holds
 * 12 bytes a slot; a growable one (memory mode, learning as it goes) also
 * keeps every token's low 32 bits, 4 bytes a slot more, to find the tokens'
 * slots again when it doubles.  Not thread-safe: the caller locks. */
#ifndef COMMENTD_TOKENTAB_H
#define COMMENTD_TOKENTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENTAB_NONE	  SIZE_MAX
#define TOKENTAB_MIN_CAP  1024
#define TOKENTAB_MAX_WANT ((size_t)1 << 30) /* tokens: slot indexes fit in 32 bits */

struct tokentab;

/* A table for want tokens at most 3/4 full (at least TOKENTAB_MIN_CAP
 * slots); growable: it doubles when full instead of refusing.  0, -EINVAL for
 * want over TOKENTAB_MAX_WANT, or -ENOMEM. */
int tokentab_new(struct tokentab **out, size_t want, bool growable);

/* NULL-safe; returns NULL. */
struct tokentab *tokentab_free(struct tokentab *t);

/* The slot holding h, or TOKENTAB_NONE. */
size_t tokentab_find(const struct tokentab *t, uint64_t h);

/* The slot holding h in *slot, added with value 0 if absent: 0, -ENOSPC when
 * absent and a table that does not grow is full, or -ENOMEM.  Growing moves
 * every token: slots found before are then stale. */
int tokentab_add(struct tokentab *t, uint64_t h, size_t *slot);

/* Starts fetching h's first slot into the cache (the table is larger than
 * the caches: a scoring loop asks for all its tokens first). */
void tokentab_prefetch(const struct tokentab *t, uint64_t h);

/* The number of slots and of tokens held. */
size_t tokentab_cap(const struct tokentab *t);
size_t tokentab_count(const struct tokentab *t);

/* Whether slot (< tokentab_cap) holds a token. */
bool tokentab_used(const struct tokentab *t, size_t slot);

/* The value at a used slot, and setting it. */
uint64_t tokentab_value(const struct tokentab *t, size_t slot);
void tokentab_set(struct tokentab *t, size_t slot, uint64_t v);

#endif
