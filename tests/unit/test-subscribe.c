/* Unit tests for lib/subscribe: the address only sealed (not in the file),
 * opened with the master key only, the double opt-in rules, confirm, cancel,
 * erase by hash, watchers, retention; each site on its own (consent given to
 * one blog is not consent to another, a link of one site never reaches
 * another's subscription, erase and retention by site). */
#include "fixture.h"
#include "tap.h"

#include "comment.h"
#include "subscribe.h"

#include <stdlib.h>
#include <string.h>

static struct fixture fx;

static int64_t add(const char *site, int64_t comment, const char *email, int64_t now, bool *ask)
{
	int64_t id = 0;

	store_begin(fx.conn);
	if (subscribe_add(fx.conn, fx.keys, site, comment, email, now, &id, ask) != 0)
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

static void test_one_site(int64_t now)
{
	struct subscription s;
	struct keys *other = NULL;
	unsigned char hash[KEYS_HASH_BYTES];
	int64_t list[8] = {0};
	unsigned n = 0;
	bool ask = false;
	int64_t a, b, c2, d;

	a = add("default", 1, "reader@example.org", now, &ask);
	ok(a > 0 && ask, "a first subscription asks for a confirmation");
	ok(!in_files("reader@example.org"), "the address is not in the database or WAL in clear");
	is_int(subscribe_load(fx.conn, fx.keys, a, &s), 1, "it loads");
	is_str(s.address, "reader@example.org", "and opens with the master key");
	ok(!s.confirmed && s.comment_id == 1, "unconfirmed, for comment 1");
	is_str(s.site, "default", "of its comment's site");
	subscribe_clear(&s);
	fixture_keys(&other, 0x33);
	is_int(subscribe_load(fx.conn, other, a, &s), 0, "another key cannot open it");
	keys_free(other);
	b = add("default", 2, "reader@example.org", now + 60, &ask);
	ok(b > 0 && !ask, "a second one within a day asks nobody (one mail a day at most)");
	is_int(subscribe_confirm(fx.conn, "default", a, now + 120), 0, "confirm");
	subscribe_load(fx.conn, fx.keys, b, &s);
	ok(s.confirmed, "one confirmation confirms every pending subscription of the address");
	subscribe_clear(&s);
	c2 = add("default", 3, "reader@example.org", now + 200000, &ask);
	subscribe_load(fx.conn, fx.keys, c2, &s);
	ok(!ask && s.confirmed, "a confirmed address is confirmed at once later");
	subscribe_clear(&s);
	d = add("default", 1, "other@example.org", now, &ask);
	subscribe_confirm(fx.conn, "default", d, now + 10);
	subscribe_watchers(fx.conn, 1, now + 500, NULL, collect, list);
	ok(list[0] == 2 && list[1] == a && list[2] == d, "watchers of comment 1");
	list[0] = 0;
	comment_email_hash(fx.keys, "other@example.org", hash);
	subscribe_watchers(fx.conn, 1, now + 500, hash, collect, list);
	ok(list[0] == 1 && list[1] == a, "except the reply's own author");
	list[0] = 0;
	subscribe_watchers(fx.conn, 1, now + 50, NULL, collect, list);
	ok(list[0] == 1 && list[1] == d, "only those confirmed before the event");
	is_int(subscribe_cancel(fx.conn, "default", d), 0, "unsubscribe");
	is_int(subscribe_cancel(fx.conn, "default", d), SUBSCRIBE_GONE, "twice: gone");
	is_int(subscribe_load(fx.conn, fx.keys, d, &s), 0, "the row is gone");
	comment_email_hash(fx.keys, "reader@example.org", hash);
	store_begin(fx.conn);
	is_int(subscribe_erase(fx.conn, NULL, hash, &n), 0, "erase by the address's hash");
	store_commit(fx.conn);
	is_int(n, 3, "all three of that address");
}

static void test_sites(int64_t now)
{
	struct subscription s;
	unsigned char hash[KEYS_HASH_BYTES];
	unsigned n = 0;
	bool ask = false;
	int64_t a, b, a2;

	a = add("a", 11, "both@example.org", now, &ask);
	ok(a > 0 && ask, "site a asks for a confirmation");
	b = add("b", 21, "both@example.org", now + 60, &ask);
	ok(b > 0 && ask, "site b asks too, within the same day: each blog asks for itself");
	is_int(subscribe_confirm(fx.conn, "b", a, now + 100), SUBSCRIBE_GONE,
	       "site b cannot confirm site a's subscription");
	is_int(subscribe_cancel(fx.conn, "b", a), SUBSCRIBE_GONE, "nor end it (the row stays)");
	is_int(subscribe_confirm(fx.conn, "a", a, now + 120), 0, "site a confirms its own");
	subscribe_load(fx.conn, fx.keys, b, &s);
	ok(!s.confirmed, "which does not confirm the address on site b");
	subscribe_clear(&s);
	a2 = add("a", 12, "both@example.org", now + 200, &ask);
	subscribe_load(fx.conn, fx.keys, a2, &s);
	ok(!ask && s.confirmed, "on site a the confirmed address is confirmed at once later");
	subscribe_clear(&s);
	comment_email_hash(fx.keys, "both@example.org", hash);
	store_begin(fx.conn);
	is_int(subscribe_erase(fx.conn, "[\"b\"]", hash, &n), 0, "erase within site b's scope");
	store_commit(fx.conn);
	is_int(n, 1, "only site b's subscription of the address goes");
	is_int(subscribe_load(fx.conn, fx.keys, a, &s), 1, "site a's stays");
	subscribe_clear(&s);
	store_begin(fx.conn);
	subscribe_erase(fx.conn, NULL, hash, &n);
	store_commit(fx.conn);
	is_int(n, 2, "a scope of every site erases the rest");
}

/* A published comment on site's path: its subscriptions live as long as retention says. */
static int64_t comment_on(const char *site, const char *path)
{
	char thread[64], author[] = "Ann", email[] = "ann@example.org", text[] = "Hello";
	struct comment_input in = {.author = author, .email = email, .text = text, .site = site};
	struct comment_record rec = {.status = COMMENT_PUBLISHED, .score = -1, .created = 1};
	struct comment_stored out;
	struct comment_error err;
	int64_t id = -1;

	snprintf(thread, sizeof(thread), "%s", path);
	in.thread = thread;
	if (comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err) == 0)
		id = out.id;
	comment_stored_clear(&out);
	return id;
}

static void test_retention(int64_t now)
{
	const struct subscribe_retention days[] = {{"short", 10}, {"long", 100}};
	int64_t in_short = comment_on("short", "/p"), in_long = comment_on("long", "/p");
	int64_t in_gone = comment_on("gone", "/p");
	int64_t s_short, s_long, s_gone, s_young, s_unasked, s_asked;
	struct subscription s;
	unsigned n = 0;
	bool ask;

	s_short = add("short", in_short, "r1@example.org", now - 20 * 86400, &ask);
	s_long = add("long", in_long, "r1@example.org", now - 20 * 86400, &ask);
	s_gone = add("gone", in_gone, "r1@example.org", now - 60 * 86400, &ask);
	s_young = add("gone", in_gone, "r2@example.org", now - 2 * 86400, &ask);
	subscribe_confirm(fx.conn, "short", s_short, now - 19 * 86400);
	subscribe_confirm(fx.conn, "long", s_long, now - 19 * 86400);
	subscribe_confirm(fx.conn, "gone", s_gone, now - 59 * 86400);
	subscribe_confirm(fx.conn, "gone", s_young, now - 86400);
	/* Never confirmed: its sealed address goes after SUBSCRIBE_CONFIRM_DAYS,
	 * well within the site's retention. */
	s_unasked = add("long", in_long, "r3@example.org", now - 8 * 86400, &ask);
	s_asked = add("long", in_long, "r4@example.org", now - 6 * 86400, &ask);
	/* Retention: a subscription whose comment is gone goes too. */
	add("default", 9999, "late@example.org", now, &ask);
	subscribe_maintain(fx.conn, days, 2, 30, now, &n);
	is_int(n, 4, "four subscriptions expire");
	is_int(subscribe_load(fx.conn, fx.keys, s_unasked, &s), 0,
	       "unconfirmed after 8 days (SUBSCRIBE_CONFIRM_DAYS 7): gone");
	is_int(subscribe_load(fx.conn, fx.keys, s_asked, &s), 1, "unconfirmed after 6 days: kept");
	subscribe_clear(&s);
	is_int(subscribe_load(fx.conn, fx.keys, s_short, &s), 0,
	       "20 days old on a site keeping them 10: gone");
	is_int(subscribe_load(fx.conn, fx.keys, s_long, &s), 1,
	       "20 days old on a site keeping them 100: kept");
	subscribe_clear(&s);
	is_int(subscribe_load(fx.conn, fx.keys, s_gone, &s), 0,
	       "a site no longer configured keeps them the default 30 days");
	is_int(subscribe_load(fx.conn, fx.keys, s_young, &s), 1, "a young one of it stays");
	subscribe_clear(&s);
}

int main(void)
{
	int64_t now = 1800000000;

	if (fixture_open(&fx, "subscribe") != 0)
		return 1;
	test_one_site(now);
	test_sites(now);
	test_retention(now);
	fixture_close(&fx);
	return done_testing();
}
