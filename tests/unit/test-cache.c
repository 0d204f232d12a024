/* Unit tests for lib/cache: hits and misses by version, replacement, LRU
 * eviction under the entry and byte budgets, oversized bodies. */
#include "tap.h"

#include "cache.h"

#include <stdlib.h>

static int hit(struct cache *c, const char *key, int64_t version, const char *want_body,
	       const char *want_etag)
{
	char etag[CACHE_ETAG_MAX] = "";
	char *body = NULL;
	int r = cache_get(c, key, version, &body, etag);
	int good = r == 0 && body && strcmp(body, want_body) == 0 && strcmp(etag, want_etag) == 0;

	free(body);
	return good;
}

static int miss(struct cache *c, const char *key, int64_t version)
{
	char etag[CACHE_ETAG_MAX];
	char *body = NULL;
	int r = cache_get(c, key, version, &body, etag);

	free(body);
	return r == 1 && body == NULL;
}

int main(void)
{
	struct cache *c = NULL;
	char big[300];

	is_int(cache_new(&c, 3, 100), 0, "cache_new");
	ok(miss(c, "/a", 1), "an empty cache misses");
	is_int(cache_put(c, "/a", 1, "{\"a\":1}", 7, "\"e1\""), 0, "put /a v1");
	ok(hit(c, "/a", 1, "{\"a\":1}", "\"e1\""), "the same version hits with body and ETag");
	ok(miss(c, "/a", 2), "another version misses");
	ok(miss(c, "/b", 1), "another key misses");
	is_int(cache_put(c, "/a", 2, "{\"a\":2}", 7, "\"e2\""), 0, "put /a v2 replaces v1");
	ok(miss(c, "/a", 1), "the old version is gone");
	ok(hit(c, "/a", 2, "{\"a\":2}", "\"e2\""), "the new version hits");

	/* Entry budget 3: the least recently used goes first. */
	cache_put(c, "/b", 1, "b", 1, "\"b\"");
	cache_put(c, "/c", 1, "c", 1, "\"c\"");
	ok(hit(c, "/a", 2, "{\"a\":2}", "\"e2\""), "touch /a");
	cache_put(c, "/d", 1, "d", 1, "\"d\"");
	ok(miss(c, "/b", 1), "the least recently used entry (/b) was evicted");
	ok(hit(c, "/a", 2, "{\"a\":2}", "\"e2\"") && hit(c, "/c", 1, "c", "\"c\"") &&
	       hit(c, "/d", 1, "d", "\"d\""),
	   "the others stay");

	/* Byte budget 100: a 25-byte body is the largest kept (a quarter). */
	memset(big, 'x', sizeof(big));
	big[40] = '\0';
	is_int(cache_put(c, "/big", 1, big, 40, "\"big\""), 0, "an oversized body is accepted");
	ok(miss(c, "/big", 1), "but not kept");
	big[25] = '\0';
	cache_put(c, "/e", 1, big, 25, "\"e\"");
	cache_put(c, "/f", 1, big, 25, "\"f\"");
	cache_put(c, "/g", 1, big, 25, "\"g\"");
	cache_put(c, "/h", 1, big, 25, "\"h\"");
	ok(hit(c, "/h", 1, big, "\"h\""), "the newest large body is kept");
	{
		int kept = 0;
		const char *keys[] = {"/a", "/c", "/d", "/e", "/f", "/g", "/h"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char etag[CACHE_ETAG_MAX];
			char *body = NULL;
			for (int64_t v = 1; v <= 2; v++) {
				if (cache_get(c, keys[i], v, &body, etag) == 0) {
					kept++;
					free(body);
					body = NULL;
				}
			}
		}
		ok(kept <= 3, "never more entries than the budget (%d)", kept);
	}
	ok(cache_free(c) == NULL, "cache_free returns NULL");
	ok(cache_free(NULL) == NULL, "cache_free(NULL) is a no-op");
	return done_testing();
}
