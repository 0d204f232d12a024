#include "tokentab.h"

#include <errno.h>
#include <stdlib.h>

/* 12 bytes, aligned to 4: the value is kept as two halves so that the slots
 * pack without a packed (misaligned) 64-bit member. */
struct slot {
	uint32_t fp; /* the hash's high 32 bits, 0 mapped to 1; 0 = empty */
	uint32_t lo, hi;
};

struct tokentab {
	struct slot *s;
	uint32_t *low; /* growable tables: each used slot's hash, low 32 bits */
	size_t cap, n;
};

static uint32_t fingerprint(uint64_t h)
{
	uint32_t fp = (uint32_t)(h >> 32);

	return fp ? fp : 1;
}

/* The first slot of a token whose hash has these low 32 bits, and the slot
 * after i.  The slot comes from the bits the fingerprint does not keep. */
static size_t slot_first(uint32_t low, size_t cap)
{
	return (size_t)(low % (uint32_t)cap);
}

static size_t slot_next(size_t i, size_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

static bool full(size_t n, size_t cap)
{
	return n * 4 > cap * 3;
}

static int alloc_slots(struct tokentab *t, size_t cap, bool growable)
{
	t->s = calloc(cap, sizeof(*t->s));
	t->low = growable ? calloc(cap, sizeof(*t->low)) : NULL;
	if (!t->s || (growable && !t->low)) {
		free(t->s);
		free(t->low);
		return -ENOMEM;
	}
	t->cap = cap;
	return 0;
}

int tokentab_new(struct tokentab **out, size_t want, bool growable)
{
	struct tokentab *t;
	size_t cap = want / 3 * 4 + 4;

	*out = NULL;
	if (want > TOKENTAB_MAX_WANT)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (cap < TOKENTAB_MIN_CAP)
		cap = TOKENTAB_MIN_CAP;
	if (alloc_slots(t, cap, growable) < 0) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

struct tokentab *tokentab_free(struct tokentab *t)
{
	if (t) {
		free(t->s);
		free(t->low);
		free(t);
	}
	return NULL;
}

/* The slot of h, or the empty slot that ends its probe run. */
static size_t probe(const struct tokentab *t, uint64_t h)
{
	uint32_t fp = fingerprint(h);
	size_t i = slot_first((uint32_t)h, t->cap);

	while (t->s[i].fp && t->s[i].fp != fp)
		i = slot_next(i, t->cap);
	return i;
}

size_t tokentab_find(const struct tokentab *t, uint64_t h)
{
	size_t i = probe(t, h);

	return t->s[i].fp ? i : TOKENTAB_NONE;
}

/* Doubles a growable table: each token's first slot again from its low
 * bits, kept for this. */
static int grow(struct tokentab *t)
{
	struct tokentab old = *t;

	if (!t->low || t->cap > TOKENTAB_MAX_WANT)
		return -ENOSPC;
	if (alloc_slots(t, old.cap * 2, true) < 0) {
		*t = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.s[i].fp)
			continue;
		size_t j = slot_first(old.low[i], t->cap);

		while (t->s[j].fp)
			j = slot_next(j, t->cap);
		t->s[j] = old.s[i];
		t->low[j] = old.low[i];
	}
	free(old.s);
	free(old.low);
	return 0;
}

int tokentab_add(struct tokentab *t, uint64_t h, size_t *slot)
{
	size_t i = probe(t, h);
	int r;

	if (!t->s[i].fp && full(t->n + 1, t->cap)) {
		r = grow(t);
		if (r < 0)
			return r;
		i = probe(t, h);
	}
	if (!t->s[i].fp) {
		t->s[i] = (struct slot){fingerprint(h), 0, 0};
		if (t->low)
			t->low[i] = (uint32_t)h;
		t->n++;
	}
	*slot = i;
	return 0;
}

void tokentab_prefetch(const struct tokentab *t, uint64_t h)
{
	__builtin_prefetch(&t->s[slot_first((uint32_t)h, t->cap)]);
}

size_t tokentab_cap(const struct tokentab *t)
{
	return t->cap;
}

size_t tokentab_count(const struct tokentab *t)
{
	return t->n;
}

bool tokentab_used(const struct tokentab *t, size_t slot)
{
	return t->s[slot].fp != 0;
}

uint64_t tokentab_value(const struct tokentab *t, size_t slot)
{
	return (uint64_t)t->s[slot].hi << 32 | t->s[slot].lo;
}

void tokentab_set(struct tokentab *t, size_t slot, uint64_t v)
{
	t->s[slot].lo = (uint32_t)v;
	t->s[slot].hi = (uint32_t)(v >> 32);
}
