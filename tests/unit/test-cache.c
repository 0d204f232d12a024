/* Unit tests for lib/cache: hits and misses by version, replacement, LRU
 * eviction under the entry and byte budgets, oversized bodies, and shared
 * bodies: references outlive eviction, concurrent builders share one copy. */
#include "tap.h"

#include "cache.h"

#include <pthread.h>
#include <stdlib.h>

/* A body holding text. */
static struct cache_body *body_of(const char *text)
{
	struct cache_body *b = cache_body_new(strlen(text));

	if (!b)
		exit(1);
	memcpy(b->data, text, b->len);
	return b;
}

/* Stores text and drops the returned reference. */
static void put(struct cache *c, const char *key, int64_t version, const char *text)
{
	cache_body_unref(cache_put(c, key, version, body_of(text)));
}

static int hit(struct cache *c, const char *key, int64_t version, const char *want_body)
{
	struct cache_body *b = NULL;
	int r = cache_get(c, key, version, &b);
	int good = r == 0 && b && b->len == strlen(want_body) && strcmp(b->data, want_body) == 0;

	cache_body_unref(b);
	return good;
}

static int miss(struct cache *c, const char *key, int64_t version)
{
	struct cache_body *b = NULL;
	int r = cache_get(c, key, version, &b);

	cache_body_unref(b); /* a hit's reference */
	return r == 1 && b == NULL;
}

static void test_budgets(void)
{
	struct cache *c = NULL;
	char big[300];

	is_int(cache_new(&c, 3, 100), 0, "cache_new");
	ok(miss(c, "/a", 1), "an empty cache misses");
	put(c, "/a", 1, "{\"a\":1}");
	ok(hit(c, "/a", 1, "{\"a\":1}"), "the same version hits with body and ETag");
	ok(miss(c, "/a", 2), "another version misses");
	ok(miss(c, "/b", 1), "another key misses");
	put(c, "/a", 2, "{\"a\":2}");
	ok(miss(c, "/a", 1), "the old version is gone");
	ok(hit(c, "/a", 2, "{\"a\":2}"), "the new version hits");
	put(c, "/a", 1, "{\"a\":1}");
	ok(hit(c, "/a", 2, "{\"a\":2}") && miss(c, "/a", 1),
	   "a late builder of an older version does not replace the newer one");

	/* Entry budget 3: the least recently used goes first. */
	put(c, "/b", 1, "b");
	put(c, "/c", 1, "c");
	ok(hit(c, "/a", 2, "{\"a\":2}"), "touch /a");
	put(c, "/d", 1, "d");
	ok(miss(c, "/b", 1), "the least recently used entry (/b) was evicted");
	ok(hit(c, "/a", 2, "{\"a\":2}") && hit(c, "/c", 1, "c") && hit(c, "/d", 1, "d"),
	   "the others stay");

	/* Byte budget 100: a 25-byte body is the largest kept (a quarter). */
	memset(big, 'x', sizeof(big));
	big[40] = '\0';
	{
		struct cache_body *b = body_of(big);
		struct cache_body *got = cache_put(c, "/big", 1, b);
		ok(got == b && strcmp(got->data, big) == 0,
		   "an oversized body is handed back to send");
		cache_body_unref(got);
	}
	ok(miss(c, "/big", 1), "but not kept");
	big[25] = '\0';
	put(c, "/e", 1, big);
	put(c, "/f", 1, big);
	put(c, "/g", 1, big);
	put(c, "/h", 1, big);
	ok(hit(c, "/h", 1, big), "the newest large body is kept");
	{
		int kept = 0;
		const char *keys[] = {"/a", "/c", "/d", "/e", "/f", "/g", "/h"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			for (int64_t v = 1; v <= 2; v++)
				kept += !miss(c, keys[i], v);
		}
		ok(kept <= 3, "never more entries than the budget (%d)", kept);
	}
	ok(cache_free(c) == NULL, "cache_free returns NULL");
	ok(cache_free(NULL) == NULL, "cache_free(NULL) is a no-op");
}

/* A body handed out stays readable after eviction, replacement and even
 * cache_free; the last reference frees it (ASan checks both ways). */
static void test_shared(void)
{
	struct cache *c = NULL;
	struct cache_body *b, *held[50];

	is_int(cache_new(&c, 2, 1 << 20), 0, "cache_new for sharing");
	put(c, "/p", 1, "{\"page\":1}");
	for (int i = 0; i < 50; i++)
		is_int(cache_get(c, "/p", 1, &held[i]), 0, "reader %d gets the page", i);
	ok(held[0] == held[49], "fifty readers hold one copy");
	is_int((int)atomic_load(&held[0]->refs), 51, "fifty references and the cache's");
	put(c, "/p", 2, "{\"page\":2}");
	put(c, "/q", 1, "q");
	put(c, "/r", 1, "r");
	ok(strcmp(held[7]->data, "{\"page\":1}") == 0, "an evicted body is intact for its readers");
	cache_free(c);
	ok(strcmp(held[31]->data, "{\"page\":1}") == 0, "and after the cache is gone");
	for (int i = 0; i < 50; i++)
		cache_body_unref(held[i]);
	cache_body_unref(NULL);

	/* Two builders of one answer: the second answers with the first's. */
	is_int(cache_new(&c, 4, 1 << 20), 0, "cache_new for builders");
	b = cache_put(c, "/x", 3, body_of("{\"x\":1}"));
	{
		struct cache_body *mine = body_of("{\"x\":1}");
		struct cache_body *got = cache_put(c, "/x", 3, mine);
		ok(got == b, "a second build of the same version gives the stored body");
		cache_body_unref(got);
	}
	cache_body_unref(b);
	cache_free(c);
}

struct racer {
	struct cache *c;
	struct cache_body *got;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct cache_body *b = NULL;

	if (cache_get(r->c, "/race", 9, &b) != 0)
		b = cache_put(r->c, "/race", 9, body_of("{\"r\":9}"));
	r->got = b;
	return NULL;
}

/* Many threads missing at once end up with one shared body (at most the
 * first few builds are thrown away). */
static void test_race(void)
{
	struct racer r[16];
	pthread_t t[16];
	struct cache *c = NULL;
	int same = 0;

	cache_new(&c, 8, 1 << 20);
	for (int i = 0; i < 16; i++) {
		r[i] = (struct racer){c, NULL};
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	{
		struct cache_body *stored = NULL;
		cache_get(c, "/race", 9, &stored);
		for (int i = 0; i < 16; i++)
			same += r[i].got == stored;
		cache_body_unref(stored);
	}
	is_int(same, 16, "sixteen concurrent builders share the stored body");
	for (int i = 0; i < 16; i++)
		cache_body_unref(r[i].got);
	cache_free(c);
}

int main(void)
{
	test_budgets();
	test_shared();
	test_race();
	return done_testing();
}
