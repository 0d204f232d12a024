/* Unit tests for lib/connlimit: per-client and total caps, who gives way
 * (the connection waiting longest for headers), the header deadline, and
 * many threads at once. */
#include "tap.h"

#include "connlimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* Evicted cookies, in order. */
static intptr_t evicted[4096];
static size_t n_evicted;

static void evict(void *cookie, void *u)
{
	(void)u;
	if (n_evicted < 4096)
		evicted[n_evicted++] = (intptr_t)cookie;
}

/* A connection as the daemon makes one: admit, then open. */
static struct connlimit_slot *connect_(struct connlimit *cl, uint64_t key, bool exempt, double now,
				       intptr_t cookie)
{
	if (!connlimit_admit(cl, key, exempt, evict, NULL))
		return NULL;
	return connlimit_open(cl, key, exempt, now, (void *)cookie);
}

static void test_per_client(void)
{
	struct connlimit *cl = NULL;
	struct connlimit_slot *s[8];

	is_int(connlimit_new(&cl, 64, 100, 3, 10), 0, "connlimit_new");
	n_evicted = 0;
	for (int i = 0; i < 3; i++)
		s[i] = connect_(cl, 7, false, i, 100 + i);
	ok(s[0] && s[1] && s[2], "a client opens three connections (its cap)");
	is_int(connlimit_count(cl, 7), 3, "counted");
	connlimit_busy(cl, s[1]);
	s[3] = connect_(cl, 7, false, 5, 103);
	ok(s[3] != NULL, "a fourth is admitted");
	is_int(n_evicted, 1, "by evicting one");
	is_int(evicted[0], 100, "the one waiting longest for its headers (not the busy one)");
	connlimit_close(cl, s[0]);
	is_int(connlimit_count(cl, 7), 3, "the client still holds its cap");
	connlimit_busy(cl, s[2]);
	connlimit_busy(cl, s[3]);
	n_evicted = 0;
	ok(!connect_(cl, 7, false, 6, 104), "with every connection busy, a new one is refused");
	is_int(n_evicted, 0, "and nothing is evicted");
	ok(connect_(cl, 8, false, 6, 200) != NULL, "another client is not affected");
	connlimit_idle(cl, s[2], 7);
	ok(connect_(cl, 7, false, 8, 105) != NULL, "once one of its requests is answered");
	is_int(evicted[0], 102, "the idle keep-alive connection gives way");
	for (int i = 0; i < 10; i++)
		ok(connect_(cl, 9, true, 10 + i, 300 + i) != NULL,
		   "a trusted proxy is not capped per client (%d)", i + 1);
	connlimit_free(cl);
	ok(connlimit_free(NULL) == NULL, "connlimit_free(NULL)");
}

static void test_total(void)
{
	struct connlimit *cl = NULL;
	struct connlimit_slot *s[16];

	connlimit_new(&cl, 64, 5, 5, 10);
	n_evicted = 0;
	for (int i = 0; i < 5; i++)
		s[i] = connect_(cl, (uint64_t)i, false, i, i);
	is_int(connlimit_total(cl), 5, "five clients, five connections (the total)");
	ok(connect_(cl, 99, false, 9, 99) != NULL, "a sixth client gets in");
	is_int(evicted[0], 0, "in the place of the connection waiting longest");
	is_int(connlimit_total(cl), 5, "the total holds");
	for (int i = 1; i < 5; i++)
		connlimit_busy(cl, s[i]);
	/* The newcomer (99) waits too: it is evicted next. */
	ok(connect_(cl, 100, false, 10, 100) != NULL, "another newcomer");
	is_int(evicted[1], 99, "evicts the newest waiting, the only one left waiting");
	n_evicted = 0;
	connlimit_free(cl);
}

/* A flood: evicted connections not yet closed bound the churn. */
static void test_flood(void)
{
	struct connlimit *cl = NULL;
	unsigned admitted = 0;

	connlimit_new(&cl, 512, 8, 100, 10);
	n_evicted = 0;
	for (int i = 0; i < 200; i++)
		admitted += connect_(cl, (uint64_t)i, false, i, i) != NULL;
	is_int(connlimit_total(cl), 8, "a flood of 200: eight held (the total)");
	is_int(n_evicted, 16, "sixteen evicted while their closing is pending");
	is_int(admitted, 8 + 16, "and the rest refused (%u admitted)", admitted);
	connlimit_free(cl);
}

static void test_deadline(void)
{
	struct connlimit *cl = NULL;
	struct connlimit_slot *a, *b, *c;

	connlimit_new(&cl, 16, 100, 100, 10);
	n_evicted = 0;
	a = connect_(cl, 1, false, 0, 1);
	b = connect_(cl, 2, false, 3, 2);
	c = connect_(cl, 3, false, 0, 3);
	connlimit_busy(cl, c);
	is_int(connlimit_expire(cl, 9.9, evict, NULL), 0, "nothing expires before the deadline");
	is_int(connlimit_expire(cl, 10.5, evict, NULL), 1, "one expires at 10.5 s");
	is_int(evicted[0], 1, "the one connected at 0 that never finished its headers");
	is_int(connlimit_expire(cl, 10.6, evict, NULL), 0, "an evicted one is not evicted twice");
	is_int(connlimit_total(cl), 2, "nor counted");
	is_int(connlimit_expire(cl, 100, evict, NULL), 1, "the second, later");
	is_int(evicted[1], 2, "is b");
	connlimit_idle(cl, c, 100);
	is_int(connlimit_expire(cl, 105, evict, NULL), 0,
	       "a kept-alive connection gets the deadline anew");
	is_int(connlimit_expire(cl, 111, evict, NULL), 1, "and then goes too");
	connlimit_configure(cl, 100, 100, 1000);
	connlimit_close(cl, a);
	connlimit_close(cl, b);
	connlimit_close(cl, c);
	connlimit_close(cl, NULL);
	is_int(connlimit_total(cl), 0, "closed slots are free");
	connlimit_free(cl);
}

static void test_capacity(void)
{
	struct connlimit *cl = NULL;
	struct connlimit_slot *s[5];

	connlimit_new(&cl, 4, 100, 100, 10);
	for (int i = 0; i < 4; i++)
		s[i] = connlimit_open(cl, (uint64_t)i, false, 0, NULL);
	ok(s[3] != NULL, "four slots");
	s[4] = connlimit_open(cl, 9, false, 0, NULL);
	ok(s[4] == NULL, "a fifth finds none (the caller closes the connection)");
	connlimit_close(cl, s[0]);
	ok((s[0] = connlimit_open(cl, 9, false, 0, NULL)) != NULL, "a freed slot is reused");
	connlimit_free(cl);
}

struct worker {
	struct connlimit *cl;
	uint64_t key;
	unsigned admitted;
};

static void *churn(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 2000; i++) {
		struct connlimit_slot *s = NULL;
		if (connlimit_admit(w->cl, w->key, false, NULL, NULL))
			s = connlimit_open(w->cl, w->key, false, i, NULL);
		if (s) {
			w->admitted++;
			if (i % 3)
				connlimit_busy(w->cl, s);
			connlimit_close(w->cl, s);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct connlimit *cl = NULL;
	struct worker w[8];
	pthread_t t[8];
	unsigned total = 0;

	connlimit_new(&cl, 256, 64, 16, 10);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){cl, (uint64_t)(i % 3), 0};
		pthread_create(&t[i], NULL, churn, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += w[i].admitted;
	}
	ok(total > 0, "eight threads opened and closed %u connections", total);
	is_int(connlimit_total(cl), 0, "and every slot is free again");
	connlimit_free(cl);
}

/* Two worker threads admit a client's connections at once: each sees room
 * below the cap, both open; enforcing after the open brings the client back
 * to its cap (the race CI saw: 9 of 10 slow connections alive with a cap
 * of 4). */
static void test_racing_admissions(void)
{
	struct connlimit *cl = NULL;
	struct connlimit_slot *s[6];

	is_int(connlimit_new(&cl, 64, 100, 3, 10), 0, "connlimit_new");
	n_evicted = 0;
	for (int i = 0; i < 2; i++)
		s[i] = connect_(cl, 7, false, i, 100 + i);
	ok(connlimit_admit(cl, 7, false, evict, NULL) && connlimit_admit(cl, 7, false, evict, NULL),
	   "two admissions at once both see room (2 of 3)");
	s[2] = connlimit_open(cl, 7, false, 2, (void *)102);
	s[3] = connlimit_open(cl, 7, false, 3, (void *)103);
	is_int(connlimit_count(cl, 7), 4, "both open: 4 over a cap of 3");
	connlimit_enforce(cl, s[2], evict, NULL);
	connlimit_enforce(cl, s[3], evict, NULL);
	is_int(connlimit_count(cl, 7), 3, "enforced after the open: back to 3");
	ok(n_evicted == 1 && evicted[0] == 100, "by evicting the one waiting longest");
	connlimit_enforce(cl, NULL, evict, NULL);
	s[4] = connlimit_open(cl, 9, true, 4, (void *)104);
	s[5] = connlimit_open(cl, 9, true, 5, (void *)105);
	connlimit_enforce(cl, s[5], evict, NULL);
	is_int(n_evicted, 1, "an exempt client (a trusted proxy) is not enforced on");
	connlimit_free(cl);
}

int main(void)
{
	test_per_client();
	test_racing_admissions();
	test_total();
	test_deadline();
	test_flood();
	test_capacity();
	test_threads();
	return done_testing();
}
