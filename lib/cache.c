#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key; /* NULL: free slot */
	int64_t version;
	char *body;
	size_t len;
	char etag[CACHE_ETAG_MAX];
	uint64_t used; /* clock of the last hit or store */
};

struct cache {
	pthread_mutex_t lock;
	unsigned n;
	size_t max_bytes, bytes;
	uint64_t clock;
	struct entry *entries;
};

int cache_new(struct cache **out, unsigned max_entries, size_t max_bytes)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->n = max_entries ? max_entries : 1;
	c->entries = calloc(c->n, sizeof(*c->entries));
	if (!c->entries) {
		free(c);
		return -ENOMEM;
	}
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static void drop(struct cache *c, struct entry *e)
{
	c->bytes -= e->len;
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

struct cache *cache_free(struct cache *c)
{
	if (!c)
		return NULL;
	for (unsigned i = 0; i < c->n; i++)
		drop(c, &c->entries[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->entries);
	free(c);
	return NULL;
}

static struct entry *find(struct cache *c, const char *key)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->entries[i].key && strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	}
	return NULL;
}

int cache_get(struct cache *c, const char *key, int64_t version, char **body,
	      char etag[CACHE_ETAG_MAX])
{
	struct entry *e;
	int r = 1;

	pthread_mutex_lock(&c->lock);
	e = find(c, key);
	if (e && e->version == version) {
		*body = malloc(e->len + 1);
		if (!*body) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(*body, e->body, e->len + 1);
		snprintf(etag, CACHE_ETAG_MAX, "%s", e->etag);
		e->used = ++c->clock;
		r = 0;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int cache_put(struct cache *c, const char *key, int64_t version, const char *body, size_t len,
	      const char *etag)
{
	struct entry *e, *victim;
	char *k, *b;

	if (len > c->max_bytes / 4)
		return 0;
	k = strdup(key);
	b = malloc(len + 1);
	if (!k || !b) {
		free(k);
		free(b);
		return -ENOMEM;
	}
	memcpy(b, body, len);
	b[len] = '\0';
	pthread_mutex_lock(&c->lock);
	e = find(c, key);
	if (e)
		drop(c, e);
	/* Evict least recently used entries until the new one fits. */
	for (;;) {
		victim = NULL;
		e = NULL;
		for (unsigned i = 0; i < c->n; i++) {
			struct entry *x = &c->entries[i];
			if (!x->key) {
				if (!e)
					e = x;
				continue;
			}
			if (!victim || x->used < victim->used)
				victim = x;
		}
		if (e && c->bytes + len <= c->max_bytes)
			break;
		if (!victim)
			break;
		drop(c, victim);
	}
	e->key = k;
	e->version = version;
	e->body = b;
	e->len = len;
	snprintf(e->etag, CACHE_ETAG_MAX, "%s", etag);
	e->used = ++c->clock;
	c->bytes += len;
	pthread_mutex_unlock(&c->lock);
	return 0;
}
