/* Unit tests for lib/tokentab: the classifier's token table (12 bytes a slot:
 * a token's first slot from its hash's low 32 bits, the high 32 kept as its
 * fingerprint).  Hashes are chosen here to aim at slots and fingerprints. */
#include "tap.h"

#include "tokentab.h"

#include <errno.h>
#include <stdint.h>

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t hash_of(uint32_t high, uint32_t low)
{
	return (uint64_t)high << 32 | low;
}

/* Adds h with value v: 0 or the add's error. */
static int put(struct tokentab *t, uint64_t h, uint64_t v)
{
	size_t slot;
	int r = tokentab_add(t, h, &slot);

	if (r == 0)
		tokentab_set(t, slot, v);
	return r;
}

/* v if h is found with it, else a value no test stores. */
static uint64_t get(const struct tokentab *t, uint64_t h)
{
	size_t slot = tokentab_find(t, h);

	return slot == TOKENTAB_NONE ? UINT64_MAX - 1 : tokentab_value(t, slot);
}

/* A table made for n tokens takes exactly n (at 3/4 of its slots), finds
 * each with its value and every absent token as absent (the probe run ends
 * at an empty slot), and refuses one more. */
static void test_size_limit(void)
{
	const size_t n = 3000;
	struct tokentab *t = NULL;
	uint64_t h[3000];
	size_t found = 0, absent = 0;

	is_int(tokentab_new(&t, n, false), 0, "a table for 3000 tokens");
	ok(tokentab_cap(t) * 3 >= n * 4, "its %zu slots hold 3000 at 3/4", tokentab_cap(t));
	for (size_t i = 0; i < n; i++) {
		h[i] = rnd64();
		if (put(t, h[i], i * 7 + 1) != 0)
			break;
	}
	is_int((int)tokentab_count(t), (int)n, "all 3000 added");
	for (size_t i = 0; i < n; i++)
		found += get(t, h[i]) == i * 7 + 1;
	is_int((int)found, (int)n, "each found with its value");
	for (size_t i = 0; i < 100000; i++)
		absent += tokentab_find(t, rnd64()) == TOKENTAB_NONE;
	is_int((int)absent, 100000, "100,000 absent tokens are absent");
	while (tokentab_count(t) * 4 <= tokentab_cap(t) * 3 - 4)
		put(t, rnd64(), 1);
	size_t slot, before = tokentab_count(t);
	int r = 0;

	for (int i = 0; i < 8 && r == 0; i++)
		r = tokentab_add(t, rnd64(), &slot);
	is_int(r, -ENOSPC, "a table made for its size refuses a token past 3/4");
	ok(tokentab_count(t) * 4 <= tokentab_cap(t) * 3 && tokentab_count(t) >= before,
	   "and stays at most 3/4 full (%zu of %zu)", tokentab_count(t), tokentab_cap(t));
	is_int((int)tokentab_add(t, h[5], &slot), 0, "a token it holds is still updated when full");
	ok(slot == tokentab_find(t, h[5]), "in its own slot");
	tokentab_free(t);
	ok(tokentab_new(&t, TOKENTAB_MAX_WANT + 1, false) == -EINVAL && !t,
	   "a table past the maximum is refused");
	tokentab_free(NULL);
}

/* The first slot comes from the low bits, the fingerprint from the high
 * bits: tokens that share either half are told apart; tokens that share
 * the fingerprint and the first slot are not (the false match that
 * tokentab.h puts at one lookup in 500 million). */
static void test_split(void)
{
	struct tokentab *t = NULL;
	size_t cap;

	is_int(tokentab_new(&t, 0, false), 0, "a small table");
	cap = tokentab_cap(t);
	/* the same first slot, different fingerprints */
	for (uint32_t i = 0; i < 50; i++)
		put(t, hash_of(0x1000 + i, 77), 100 + i);
	/* the same fingerprint, different first slots */
	for (uint32_t i = 0; i < 50; i++)
		put(t, hash_of(0xABCDEF, 5000 + i * 3), 200 + i);
	is_int((int)tokentab_count(t), 100, "100 tokens sharing a half are 100 entries");
	unsigned right = 0;

	for (uint32_t i = 0; i < 50; i++)
		right += get(t, hash_of(0x1000 + i, 77)) == 100 + i &&
			 get(t, hash_of(0xABCDEF, 5000 + i * 3)) == 200 + i;
	is_int((int)right, 50, "each with its own value");
	ok(tokentab_find(t, hash_of(0x2000, 77)) == TOKENTAB_NONE,
	   "an absent token in a crowded first slot is absent");
	ok(tokentab_find(t, hash_of(0xABCDEF, 4999)) == TOKENTAB_NONE,
	   "an absent token with a known fingerprint elsewhere is absent");
	/* fingerprint and first slot equal, low bits not: one entry */
	ok(get(t, hash_of(0x1000, 77 + (uint32_t)cap)) == 100,
	   "a token equal in fingerprint and first slot is taken for the other (documented)");
	/* a hash with zero high bits is not an empty slot */
	put(t, hash_of(0, 9), 42);
	ok(get(t, hash_of(0, 9)) == 42, "a hash whose high 32 bits are zero is found");
	/* runs that wrap past the last slot */
	for (uint32_t i = 0; i < 5; i++)
		put(t, hash_of(0x777 + i, (uint32_t)cap - 1), 300 + i);
	right = 0;
	for (uint32_t i = 0; i < 5; i++)
		right += get(t, hash_of(0x777 + i, (uint32_t)cap - 1)) == 300 + i;
	is_int((int)right, 5, "a probe run wraps around the end");
	ok(tokentab_used(t, 0) && tokentab_used(t, cap - 1), "into slot 0");
	tokentab_free(t);
}

/* A growable table doubles and finds every token again from the low bits
 * it keeps, including tokens that share a fingerprint. */
static void test_growth(void)
{
	struct tokentab *t = NULL;
	size_t right = 0, n = 20000;

	is_int(tokentab_new(&t, 0, true), 0, "a growable table");
	size_t cap0 = tokentab_cap(t);

	for (uint32_t i = 0; i < n; i++)
		put(t, hash_of(i % 3 ? 0x55 : i, i * 2654435761u), i);
	ok(tokentab_cap(t) >= cap0 * 16 && tokentab_count(t) == n,
	   "it grew from %zu to %zu slots for %zu tokens", cap0, tokentab_cap(t), n);
	for (uint32_t i = 0; i < n; i++)
		right += get(t, hash_of(i % 3 ? 0x55 : i, i * 2654435761u)) == i;
	is_int((int)right, (int)n, "every token found with its value after growing");
	tokentab_free(t);
}

int main(void)
{
	test_size_limit();
	test_split();
	test_growth();
	return done_testing();
}
