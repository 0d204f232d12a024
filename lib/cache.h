/* cache: rendered answers kept in memory, checked against a version.
 *
 * An entry maps a key (e.g. a thread path with its page arguments) to a
 * body and its ETag, valid for one version of the underlying data (the
 * thread's version column, bumped by triggers on every change).  A lookup
 * with another version misses.  Memory is bounded by an entry count and a
 * byte budget; the least recently used entries go first.  Thread-safe.
 */
#ifndef COMMENTD_CACHE_H
#define COMMENTD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_ETAG_MAX 40

struct cache;

/* 0 or -ENOMEM.  max_entries >= 1, max_bytes: total body bytes kept. */
int cache_new(struct cache **out, unsigned max_entries, size_t max_bytes);

/* NULL-safe; returns NULL. */
struct cache *cache_free(struct cache *c);

/* On a hit (same key and version) copies the body into *body (malloc'ed,
 * caller frees) and the ETag into etag, and returns 0; 1 on a miss;
 * -ENOMEM. */
int cache_get(struct cache *c, const char *key, int64_t version, char **body,
	      char etag[CACHE_ETAG_MAX]);

/* Stores a copy of body (len bytes) and etag for key at version, replacing
 * an older entry.  Bodies larger than a quarter of the budget are not kept.
 * 0 or -ENOMEM (the cache is then unchanged). */
int cache_put(struct cache *c, const char *key, int64_t version, const char *body, size_t len,
	      const char *etag);

#endif
