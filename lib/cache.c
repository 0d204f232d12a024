#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key; /* NULL: free slot */
	int64_t version;
	struct cache_body *body; /* the cache's reference */
	uint64_t used;		 /* clock of the last hit or store */
};

struct cache {
	pthread_mutex_t lock;
	unsigned n;
	size_t max_bytes, bytes;
	uint64_t clock;
	struct entry *entries;
};

struct cache_body *cache_body_new(size_t len)
{
	struct cache_body *b;

	if (len > SIZE_MAX - sizeof(*b) - 1)
		return NULL;
	b = malloc(sizeof(*b) + len + 1);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->len = len;
	b->data[len] = '\0';
	return b;
}

struct cache_body *cache_body_ref(struct cache_body *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

void cache_body_unref(struct cache_body *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

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
	if (e->body)
		c->bytes -= e->body->len;
	free(e->key);
	cache_body_unref(e->body);
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

int cache_get(struct cache *c, const char *key, int64_t version, struct cache_body **body)
{
	struct entry *e;
	int r = 1;

	pthread_mutex_lock(&c->lock);
	e = find(c, key);
	if (e && e->version == version) {
		*body = cache_body_ref(e->body);
		e->used = ++c->clock;
		r = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* A free slot after evicting least recently used entries until len more
 * bytes fit.  Called with the lock held. */
static struct entry *make_room(struct cache *c, size_t len)
{
	for (;;) {
		struct entry *victim = NULL, *free_slot = NULL;

		for (unsigned i = 0; i < c->n; i++) {
			struct entry *x = &c->entries[i];
			if (!x->key) {
				if (!free_slot)
					free_slot = x;
				continue;
			}
			if (!victim || x->used < victim->used)
				victim = x;
		}
		if (free_slot && c->bytes + len <= c->max_bytes)
			return free_slot;
		if (!victim)
			return free_slot;
		drop(c, victim);
	}
}

struct cache_body *cache_put(struct cache *c, const char *key, int64_t version,
			     struct cache_body *body)
{
	struct entry *e;
	char *k;

	if (body->len > c->max_bytes / 4)
		return body;
	k = strdup(key);
	if (!k)
		return body;
	pthread_mutex_lock(&c->lock);
	e = find(c, key);
	if (e && e->version > version) {
		/* Built from an older version than the one stored. */
		pthread_mutex_unlock(&c->lock);
		free(k);
		return body;
	}
	if (e && e->version == version) {
		/* Built twice at once: everyone answers with the first. */
		struct cache_body *first = cache_body_ref(e->body);
		e->used = ++c->clock;
		pthread_mutex_unlock(&c->lock);
		free(k);
		cache_body_unref(body);
		return first;
	}
	if (e)
		drop(c, e);
	e = make_room(c, body->len);
	e->key = k;
	e->version = version;
	e->body = cache_body_ref(body);
	e->used = ++c->clock;
	c->bytes += body->len;
	pthread_mutex_unlock(&c->lock);
	return body;
}
