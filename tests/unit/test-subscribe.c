/* Unit tests for lib/subscribe: the address only sealed (not in the file),
 * opened with the site key only, the double opt-in rules, confirm, cancel,
 * erase by hash, watchers, retention. */
#include "fixture.h"
#include "tap.h"

#include "comment.h"
#include "subscribe.h"

#include <stdlib.h>
#include <string.h>

static struct fixture fx;

static int64_t add(int64_t comment, const char *email, int64_t now, bool *ask)
{
	int64_t id = 0;

	store_begin(fx.conn);
	if (subscribe_add(fx.conn, fx.keys, comment, email, now, &id, ask) != 0)
		id = -1;
	store_commit(fx.conn);
	return id;
}

/* Whether the bytes of s are anywhere in the database file or its WAL. */
static bool in_files(const char *s)
{
	const char *suffix[] = {"", "-wal"};
	bool found = false;

	for (int i = 0; i < 2; i++) {
		char path[512];
		FILE *f;
		snprintf(path, sizeof(path), "%s%s", fx.db, suffix[i]);
		f = fopen(path, "rb");
		if (!f)
			continue;
		char *data = malloc(8 << 20);
		size_t n = fread(data, 1, 8 << 20, f);
		fclose(f);
		found = found || memmem(data, n, s, strlen(s)) != NULL;
		free(data);
	}
	return found;
}

static int collect(void *u, int64_t id)
{
	int64_t *list = u;
	list[++list[0]] = id;
	return 0;
}

int main(void)
{
	struct subscription s;
	struct keys *other = NULL;
	unsigned char hash[KEYS_HASH_BYTES];
	int64_t now = 1800000000, list[8] = {0};
	unsigned n = 0;
	bool ask = false;
	int64_t a, b, c2, d;

	if (fixture_open(&fx, "subscribe") != 0)
		return 1;
	a = add(1, "reader@example.org", now, &ask);
	ok(a > 0 && ask, "a first subscription asks for a confirmation");
	ok(!in_files("reader@example.org"), "the address is not in the database or WAL in clear");
	is_int(subscribe_load(fx.conn, fx.keys, a, &s), 1, "it loads");
	is_str(s.address, "reader@example.org", "and opens with the site key");
	ok(!s.confirmed && s.comment_id == 1, "unconfirmed, for comment 1");
	subscribe_clear(&s);
	fixture_keys(&other, 0x33);
	is_int(subscribe_load(fx.conn, other, a, &s), 0, "another key cannot open it");
	keys_free(other);
	b = add(2, "reader@example.org", now + 60, &ask);
	ok(b > 0 && !ask, "a second one within a day asks nobody (one mail a day at most)");
	is_int(subscribe_confirm(fx.conn, a, now + 120), 0, "confirm");
	subscribe_load(fx.conn, fx.keys, b, &s);
	ok(s.confirmed, "one confirmation confirms every pending subscription of the address");
	subscribe_clear(&s);
	c2 = add(3, "reader@example.org", now + 200000, &ask);
	subscribe_load(fx.conn, fx.keys, c2, &s);
	ok(!ask && s.confirmed, "a confirmed address is confirmed at once later");
	subscribe_clear(&s);
	d = add(1, "other@example.org", now, &ask);
	subscribe_confirm(fx.conn, d, now + 10);
	subscribe_watchers(fx.conn, 1, now + 500, NULL, collect, list);
	ok(list[0] == 2 && list[1] == a && list[2] == d, "watchers of comment 1");
	list[0] = 0;
	comment_email_hash(fx.keys, "other@example.org", hash);
	subscribe_watchers(fx.conn, 1, now + 500, hash, collect, list);
	ok(list[0] == 1 && list[1] == a, "except the reply's own author");
	list[0] = 0;
	subscribe_watchers(fx.conn, 1, now + 50, NULL, collect, list);
	ok(list[0] == 1 && list[1] == d, "only those confirmed before the event");
	is_int(subscribe_cancel(fx.conn, d), 0, "unsubscribe");
	is_int(subscribe_cancel(fx.conn, d), SUBSCRIBE_GONE, "twice: gone");
	is_int(subscribe_load(fx.conn, fx.keys, d, &s), 0, "the row is gone");
	comment_email_hash(fx.keys, "reader@example.org", hash);
	store_begin(fx.conn);
	is_int(subscribe_erase(fx.conn, hash, &n), 0, "erase by the address's hash");
	store_commit(fx.conn);
	is_int(n, 3, "all three of that address");
	/* Retention: no comment rows exist here, so every subscription is one
	 * whose comment is gone. */
	add(9, "late@example.org", now, &ask);
	subscribe_maintain(fx.conn, 180, now, &n);
	is_int(n, 1, "a subscription whose comment is gone is deleted");
	fixture_close(&fx);
	return done_testing();
}
