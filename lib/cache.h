/* cache: rendered answers kept in memory, checked against a version, and
 * shared rather than copied.
 *
 * An entry maps a key (e.g. a thread path with its page arguments) to a
 * body, valid for one version of the underlying data (the
 * thread's version column, bumped by triggers on every change).  A lookup
 * with another version misses.  Memory is bounded by an entry count and a
 * byte budget; the least recently used entries go first.
 *
 * Bodies are reference-counted: a hit hands out a reference to the stored
 * bytes, which a response may send from directly (and release when the
 * connection is done with it), so a hundred slow readers of one large answer
 * share one copy.  An evicted body lives on until its last reader lets go.
 * Thread-safe.
 */
#ifndef COMMENTD_CACHE_H
#define COMMENTD_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct cache;

/* A body: len bytes of data (and a NUL after them).  Only the
 * cache_body_* functions touch refs. */
struct cache_body {
	atomic_uint refs;
	size_t len;
	char data[];
};

/* A body of len bytes (data to be filled in, NUL-terminated already) with
 * one reference, the caller's.  NULL on OOM. */
struct cache_body *cache_body_new(size_t len);

/* Another reference to b.  Returns b. */
struct cache_body *cache_body_ref(struct cache_body *b);

/* Drops a reference; the last one frees.  NULL-safe. */
void cache_body_unref(struct cache_body *b);

/* 0 or -ENOMEM.  max_entries >= 1, max_bytes: total body bytes kept. */
int cache_new(struct cache **out, unsigned max_entries, size_t max_bytes);

/* NULL-safe; returns NULL. */
struct cache *cache_free(struct cache *c);

/* On a hit (same key and version) sets *body to a new reference to the
 * stored body (the caller drops it) and returns 0; 1 on a miss. */
int cache_get(struct cache *c, const char *key, int64_t version, struct cache_body **body);

/* Keeps body for key at version, replacing an older entry, and returns the
 * body to answer with: body itself, or - when another thread stored one for
 * the same key and version meanwhile - that one (body is then dropped), so
 * that concurrent builders of one answer end up sharing one copy.  Takes
 * over the caller's reference to body; the result is a reference of the
 * caller's.  Bodies larger than a quarter of the budget are returned but not
 * kept; so is body when memory for the key runs out. */
struct cache_body *cache_put(struct cache *c, const char *key, int64_t version,
			     struct cache_body *body);

#endif
