#include "connlimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* Evicted connections hold their descriptor until the server has closed
 * them; under a flood of new connections, no more than this many may be
 * on their way out (further newcomers are refused), so descriptors stay
 * within total + EVICTING_MAX. */
#define EVICTING_MAX 16

struct connlimit_slot {
	bool used;
	bool exempt;
	bool waiting; /* for request headers */
	bool evicted; /* told to close: no longer counted */
	uint64_t key;
	double since; /* waiting since */
	void *cookie;
	struct connlimit_slot *next_free;
};

struct connlimit {
	pthread_mutex_t lock;
	unsigned capacity, total, per_client;
	double header_timeout;
	struct connlimit_slot *slots;
	struct connlimit_slot *free_list;
};

int connlimit_new(struct connlimit **out, unsigned capacity, unsigned total, unsigned per_client,
		  double header_timeout)
{
	struct connlimit *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return -ENOMEM;
	cl->capacity = capacity ? capacity : 1;
	cl->slots = calloc(cl->capacity, sizeof(*cl->slots));
	if (!cl->slots) {
		free(cl);
		return -ENOMEM;
	}
	for (unsigned i = cl->capacity; i-- > 0;) {
		cl->slots[i].next_free = cl->free_list;
		cl->free_list = &cl->slots[i];
	}
	pthread_mutex_init(&cl->lock, NULL);
	connlimit_configure(cl, total, per_client, header_timeout);
	*out = cl;
	return 0;
}

struct connlimit *connlimit_free(struct connlimit *cl)
{
	if (!cl)
		return NULL;
	pthread_mutex_destroy(&cl->lock);
	free(cl->slots);
	free(cl);
	return NULL;
}

void connlimit_configure(struct connlimit *cl, unsigned total, unsigned per_client,
			 double header_timeout)
{
	pthread_mutex_lock(&cl->lock);
	cl->total = total ? total : 1;
	cl->per_client = per_client ? per_client : 1;
	cl->header_timeout = header_timeout;
	pthread_mutex_unlock(&cl->lock);
}

static bool counted(const struct connlimit_slot *s)
{
	return s->used && !s->evicted;
}

/* The connections counted in all, and of key (not exempt ones); *leaving
 * (may be NULL) gets those evicted but not yet closed. */
static void counts(const struct connlimit *cl, uint64_t key, unsigned *all, unsigned *mine,
		   unsigned *leaving)
{
	*all = 0;
	*mine = 0;
	if (leaving)
		*leaving = 0;
	for (unsigned i = 0; i < cl->capacity; i++) {
		const struct connlimit_slot *s = &cl->slots[i];
		if (leaving && s->used && s->evicted)
			(*leaving)++;
		if (!counted(s))
			continue;
		(*all)++;
		if (!s->exempt && s->key == key)
			(*mine)++;
	}
}

/* The connection waiting longest for headers (of key when of_key), other
 * than except. */
static struct connlimit_slot *longest_waiting(struct connlimit *cl, bool of_key, uint64_t key,
					      const struct connlimit_slot *except)
{
	struct connlimit_slot *best = NULL;

	for (unsigned i = 0; i < cl->capacity; i++) {
		struct connlimit_slot *s = &cl->slots[i];
		if (!counted(s) || !s->waiting || s == except ||
		    (of_key && (s->exempt || s->key != key)))
			continue;
		if (!best || s->since < best->since)
			best = s;
	}
	return best;
}

static void evict_slot(struct connlimit_slot *s, connlimit_evict_fn evict, void *u)
{
	s->evicted = true;
	if (evict)
		evict(s->cookie, u);
}

bool connlimit_admit(struct connlimit *cl, uint64_t key, bool exempt, connlimit_evict_fn evict,
		     void *u)
{
	struct connlimit_slot *mine_victim = NULL, *any_victim = NULL;
	unsigned all, mine, leaving;
	bool ok = true;

	pthread_mutex_lock(&cl->lock);
	counts(cl, key, &all, &mine, &leaving);
	if (!exempt && mine >= cl->per_client) {
		mine_victim = longest_waiting(cl, true, key, NULL);
		ok = mine_victim != NULL;
	}
	/* Taking the place of one of the client's own frees one in all too. */
	if (ok && all - (mine_victim ? 1 : 0) >= cl->total) {
		any_victim = longest_waiting(cl, false, 0, mine_victim);
		ok = any_victim != NULL;
	}
	if ((mine_victim || any_victim) && leaving >= EVICTING_MAX)
		ok = false;
	if (ok && mine_victim)
		evict_slot(mine_victim, evict, u);
	if (ok && any_victim)
		evict_slot(any_victim, evict, u);
	pthread_mutex_unlock(&cl->lock);
	return ok;
}

struct connlimit_slot *connlimit_open(struct connlimit *cl, uint64_t key, bool exempt, double now,
				      void *cookie)
{
	struct connlimit_slot *s;

	pthread_mutex_lock(&cl->lock);
	s = cl->free_list;
	if (s) {
		cl->free_list = s->next_free;
		*s = (struct connlimit_slot){
		    .used = true,
		    .exempt = exempt,
		    .waiting = true,
		    .key = key,
		    .since = now,
		    .cookie = cookie,
		};
	}
	pthread_mutex_unlock(&cl->lock);
	return s;
}

void connlimit_enforce(struct connlimit *cl, struct connlimit_slot *slot, connlimit_evict_fn evict,
		       void *u)
{
	struct connlimit_slot *victim;
	unsigned all, mine;

	if (!slot || slot->exempt)
		return;
	pthread_mutex_lock(&cl->lock);
	counts(cl, slot->key, &all, &mine, NULL);
	while (mine > cl->per_client &&
	       (victim = longest_waiting(cl, true, slot->key, slot)) != NULL) {
		evict_slot(victim, evict, u);
		mine--;
	}
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_busy(struct connlimit *cl, struct connlimit_slot *slot)
{
	if (!slot)
		return;
	pthread_mutex_lock(&cl->lock);
	slot->waiting = false;
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_idle(struct connlimit *cl, struct connlimit_slot *slot, double now)
{
	if (!slot)
		return;
	pthread_mutex_lock(&cl->lock);
	slot->waiting = true;
	slot->since = now;
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_close(struct connlimit *cl, struct connlimit_slot *slot)
{
	if (!slot)
		return;
	pthread_mutex_lock(&cl->lock);
	slot->used = false;
	slot->cookie = NULL;
	slot->next_free = cl->free_list;
	cl->free_list = slot;
	pthread_mutex_unlock(&cl->lock);
}

unsigned connlimit_expire(struct connlimit *cl, double now, connlimit_evict_fn evict, void *u)
{
	unsigned n = 0;

	pthread_mutex_lock(&cl->lock);
	for (unsigned i = 0; i < cl->capacity; i++) {
		struct connlimit_slot *s = &cl->slots[i];
		if (counted(s) && s->waiting && now - s->since > cl->header_timeout) {
			evict_slot(s, evict, u);
			n++;
		}
	}
	pthread_mutex_unlock(&cl->lock);
	return n;
}

unsigned connlimit_count(struct connlimit *cl, uint64_t key)
{
	unsigned all, mine;

	pthread_mutex_lock(&cl->lock);
	counts(cl, key, &all, &mine, NULL);
	pthread_mutex_unlock(&cl->lock);
	return mine;
}

unsigned connlimit_total(struct connlimit *cl)
{
	unsigned all, mine;

	pthread_mutex_lock(&cl->lock);
	counts(cl, 0, &all, &mine, NULL);
	pthread_mutex_unlock(&cl->lock);
	return all;
}
