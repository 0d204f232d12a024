#include "ratelimit.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define PROBES 8

struct bucket {
	uint64_t key; /* 0 = empty */
	double tokens;
	double last;
};

struct ratelimit {
	pthread_mutex_t lock;
	double per_second;
	double burst;
	struct bucket slots[RATELIMIT_SLOTS];
};

int ratelimit_new(struct ratelimit **out, unsigned per_minute, unsigned burst)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	ratelimit_configure(r, per_minute, burst);
	*out = r;
	return 0;
}

struct ratelimit *ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return NULL;
	pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

void ratelimit_configure(struct ratelimit *r, unsigned per_minute, unsigned burst)
{
	pthread_mutex_lock(&r->lock);
	r->per_second = per_minute / 60.0;
	r->burst = burst ? burst : 1;
	pthread_mutex_unlock(&r->lock);
}

static unsigned take(struct ratelimit *r, uint64_t key, double now, bool consume)
{
	struct bucket *b = NULL, *oldest = NULL;
	unsigned wait = 0;

	if (key == 0)
		key = 1;
	pthread_mutex_lock(&r->lock);
	if (r->per_second <= 0)
		goto out;
	for (unsigned i = 0; i < PROBES; i++) {
		struct bucket *s = &r->slots[(key + i) % RATELIMIT_SLOTS];
		if (s->key == key) {
			b = s;
			break;
		}
		if (!oldest || s->key == 0 || (oldest->key != 0 && s->last < oldest->last))
			oldest = s;
	}
	if (!b) {
		if (!consume)
			goto out; /* an unknown client has a full bucket */
		b = oldest;
		b->key = key;
		b->tokens = r->burst;
		b->last = now;
	}
	b->tokens += (now - b->last) * r->per_second;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->last = now;
	if (b->tokens >= 1.0) {
		if (consume)
			b->tokens -= 1.0;
	} else {
		wait = (unsigned)ceil((1.0 - b->tokens) / r->per_second);
		if (wait == 0)
			wait = 1;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return wait;
}

unsigned ratelimit_take(struct ratelimit *r, uint64_t key, double now)
{
	return take(r, key, now, true);
}

unsigned ratelimit_peek(struct ratelimit *r, uint64_t key, double now)
{
	return take(r, key, now, false);
}
