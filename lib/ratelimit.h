/* ratelimit: per-client token buckets in a fixed-size table.
 *
 * Clients are keyed by a 64-bit value (the start of a keyed hash of their
 * address), so the table never holds an address.  Memory is fixed
 * (RATELIMIT_SLOTS entries); when the table is full the least recently seen
 * client among the probed slots is forgotten.  Thread-safe.
 */
#ifndef COMMENTD_RATELIMIT_H
#define COMMENTD_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_SLOTS 8192

struct ratelimit;

/* per_minute tokens are refilled each minute, up to burst; per_minute 0
 * disables the limit.  0 or -ENOMEM. */
int ratelimit_new(struct ratelimit **out, unsigned per_minute, unsigned burst);

/* NULL-safe; returns NULL. */
struct ratelimit *ratelimit_free(struct ratelimit *r);

/* Changes the rates (configuration reload); existing buckets keep their fill. */
void ratelimit_configure(struct ratelimit *r, unsigned per_minute, unsigned burst);

/* Takes one token for key at time now (seconds, monotonic).  Returns 0 if
 * allowed, else the whole seconds until a token is available (>= 1). */
unsigned ratelimit_take(struct ratelimit *r, uint64_t key, double now);

/* Like ratelimit_take but consumes nothing: 0 if a token is available. */
unsigned ratelimit_peek(struct ratelimit *r, uint64_t key, double now);

#endif
