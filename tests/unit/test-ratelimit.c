/* Unit tests for lib/ratelimit: token buckets with explicit times. */
#include "tap.h"

#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

struct worker {
	struct ratelimit *rl;
	uint64_t key;
	unsigned allowed;
};

static void *worker(void *u)
{
	struct worker *w = u;

	for (int i = 0; i < 1000; i++)
		w->allowed += ratelimit_take(w->rl, w->key, 1000.0) == 0;
	return NULL;
}

int main(void)
{
	struct ratelimit *rl = NULL;
	unsigned w;
	int allowed;

	/* 6 per minute = one token every 10 s, burst 3. */
	is_int(ratelimit_new(&rl, 6, 3), 0, "ratelimit_new");
	for (int i = 0; i < 3; i++)
		is_int(ratelimit_take(rl, 42, 100.0), 0, "burst request %d allowed", i + 1);
	w = ratelimit_take(rl, 42, 100.0);
	ok(w >= 1, "the request after the burst is refused (retry %u)", w);
	is_int(w, 10, "Retry-After is the time to the next token (10 s)");
	w = ratelimit_take(rl, 42, 104.0);
	is_int(w, 6, "4 s later, 6 s to go");
	w = ratelimit_take(rl, 42, 109.5);
	is_int(w, 1, "0.5 s to go rounds up to 1");
	is_int(ratelimit_take(rl, 42, 110.0), 0, "after 10 s one token is back");
	ok(ratelimit_take(rl, 42, 110.0) >= 1, "and only one");

	/* Refill caps at burst. */
	allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += ratelimit_take(rl, 42, 10000.0) == 0;
	is_int(allowed, 3, "a long pause refills only up to the burst");

	/* Steady rate: one per 10 s is always allowed. */
	allowed = 0;
	for (int i = 1; i <= 20; i++)
		allowed += ratelimit_take(rl, 42, 10000.0 + 10.0 * i) == 0;
	is_int(allowed, 20, "one request per 10 s is sustained");
	allowed = 0;
	for (int i = 1; i <= 20; i++)
		allowed += ratelimit_take(rl, 42, 10200.0 + 5.0 * i) == 0;
	is_int(allowed, 10, "one per 5 s gets half through");

	/* Keys are independent. */
	for (int i = 0; i < 3; i++)
		ratelimit_take(rl, 1001, 500.0);
	ok(ratelimit_take(rl, 1001, 500.0) >= 1, "key 1001 exhausted");
	is_int(ratelimit_take(rl, 1002, 500.0), 0, "key 1002 unaffected");
	is_int(ratelimit_take(rl, 1001 + RATELIMIT_SLOTS, 500.0), 0,
	       "a key in the same slot is a different client");
	ok(ratelimit_take(rl, 1001, 500.0) >= 1, "key 1001 still exhausted after a slot neighbour");
	is_int(ratelimit_take(rl, 0, 500.0), 0, "key 0 works");

	/* Many clients: each gets its own burst. */
	{
		int denied = 0;
		for (uint64_t k = 1; k <= 2000; k++)
			for (int i = 0; i < 3; i++)
				denied += ratelimit_take(rl, k * 7919, 600.0) != 0;
		is_int(denied, 0, "2000 clients each get a full burst");
		denied = 0;
		for (uint64_t k = 1; k <= 2000; k++)
			denied += ratelimit_take(rl, k * 7919, 600.0) != 0;
		is_int(denied, 2000, "and each is limited after it");
	}

	/* A full probe window forgets the least recently seen client. */
	{
		struct ratelimit *ev = NULL;
		const uint64_t base = 5; /* keys base + j * SLOTS share a home slot */
		ratelimit_new(&ev, 1, 1);
		for (uint64_t j = 0; j < 8; j++)
			is_int(ratelimit_take(ev, base + j * RATELIMIT_SLOTS, 10.0 + (double)j), 0,
			       "colliding client %llu allowed once", (unsigned long long)j);
		ok(ratelimit_take(ev, base, 18.0) >= 1,
		   "the first colliding client, seen again, is limited");
		is_int(ratelimit_take(ev, base + 8 * RATELIMIT_SLOTS, 19.0), 0,
		       "a ninth colliding client gets a slot");
		ok(ratelimit_take(ev, base, 20.0) >= 1,
		   "the recently seen first client was not forgotten");
		ok(ratelimit_take(ev, base + 7 * RATELIMIT_SLOTS, 20.0) >= 1, "nor the newest");
		is_int(ratelimit_take(ev, base + 1 * RATELIMIT_SLOTS, 21.0), 0,
		       "the least recently seen client (second) was forgotten: fresh burst");
		ratelimit_free(ev);
	}

	/* Reconfiguration keeps the fill. */
	ratelimit_configure(rl, 60, 3);
	w = ratelimit_take(rl, 7919, 600.0);
	is_int(w, 1, "after raising the rate, Retry-After is 1 s");
	is_int(ratelimit_take(rl, 7919, 601.0), 0, "and a second later a token is there");
	ratelimit_configure(rl, 0, 3);
	allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += ratelimit_take(rl, 7919, 601.0) == 0;
	is_int(allowed, 100, "configuring per_minute 0 disables the limit");
	rl = ratelimit_free(rl);
	ok(rl == NULL, "ratelimit_free returns NULL");
	ok(ratelimit_free(NULL) == NULL, "ratelimit_free(NULL)");

	/* per_minute 0 from the start. */
	ratelimit_new(&rl, 0, 1);
	allowed = 0;
	for (int i = 0; i < 1000; i++)
		allowed += ratelimit_take(rl, 5, 1.0) == 0;
	is_int(allowed, 1000, "per_minute 0 disables the limit");
	ratelimit_free(rl);

	/* Slow rate: Retry-After is large but exact. */
	ratelimit_new(&rl, 1, 1);
	is_int(ratelimit_take(rl, 9, 0.0), 0, "1/min: first allowed");
	is_int(ratelimit_take(rl, 9, 0.0), 60, "1/min: retry after 60 s");
	is_int(ratelimit_take(rl, 9, 59.99), 1, "1/min: 0.01 s before, retry after 1 s");
	is_int(ratelimit_take(rl, 9, 60.0), 0, "1/min: allowed after 60 s");
	ratelimit_free(rl);

	/* burst 0 behaves as 1. */
	ratelimit_new(&rl, 60, 0);
	is_int(ratelimit_take(rl, 3, 0.0), 0, "burst 0: one request allowed");
	ok(ratelimit_take(rl, 3, 0.0) >= 1, "burst 0: the second refused");
	ratelimit_free(rl);

	/* Fast rate: Retry-After is never 0 when refused. */
	ratelimit_new(&rl, 100000, 1);
	{
		int zero = 0, refused = 0;
		for (int i = 0; i < 1000; i++) {
			unsigned r = ratelimit_take(rl, 11, 5.0 + i * 0.0001);
			refused += r != 0;
			zero += r == 0;
		}
		ok(refused > 0, "a fast rate still refuses bursts (%d refused)", refused);
		(void)zero;
	}
	{
		unsigned r;
		ratelimit_take(rl, 12, 1.0);
		r = ratelimit_take(rl, 12, 1.0);
		is_int(r, 1, "sub-second waits report Retry-After 1");
	}
	ratelimit_free(rl);

	/* ratelimit_peek consumes nothing. */
	ratelimit_new(&rl, 6, 2);
	is_int(ratelimit_peek(rl, 21, 0.0), 0, "peek at an unknown client: a token is there");
	for (int i = 0; i < 10; i++)
		ratelimit_peek(rl, 21, 0.0);
	is_int(ratelimit_take(rl, 21, 0.0), 0, "peeking took nothing: first take allowed");
	is_int(ratelimit_take(rl, 21, 0.0), 0, "second take allowed (burst 2)");
	is_int(ratelimit_peek(rl, 21, 0.0), 10, "peek at an empty bucket: Retry-After 10");
	is_int(ratelimit_peek(rl, 21, 10.0), 0, "peek after the refill: available");
	is_int(ratelimit_take(rl, 21, 10.0), 0, "and the token is still there to take");
	ratelimit_free(rl);

	/* Threads: the same key from several threads never exceeds the burst. */
	{
		pthread_t th[4];
		struct worker ws[4];
		unsigned total = 0;
		ratelimit_new(&rl, 6, 5);
		for (int i = 0; i < 4; i++) {
			ws[i] = (struct worker){.rl = rl, .key = 77, .allowed = 0};
			pthread_create(&th[i], NULL, worker, &ws[i]);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			total += ws[i].allowed;
		}
		is_int(total, 5, "4 threads hammering one key get exactly the burst");
		ratelimit_free(rl);
	}
	return done_testing();
}
