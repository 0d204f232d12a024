/* Unit tests for lib/likes: the voter (a keyed hash of client and comment,
 * never the address), the toggle, the rules (published comments only, the
 * likes setting), the count in the thread's answer and the thread version,
 * and what a tombstone and a deletion leave. */
#include "tap.h"

#include "fixture.h"
#include "likes.h"

#include <arpa/inet.h>
#include <sys/socket.h>

static struct fixture fx;

static struct net_addr addr(const char *ip)
{
	struct net_addr a = {0};

	if (net_parse_ip(ip, &a) != 0)
		diag("bad address %s", ip);
	return a;
}

/* A comment in thread /t (parent 0: top level) with the given status. */
static int64_t create(int64_t parent, enum comment_status status)
{
	char thread[] = "/t", author[] = "Ann", email[] = "ann@example.org", text[] = "Hallo";
	struct comment_input in = {.site = "default",
				   .thread = thread,
				   .parent = parent,
				   .author = author,
				   .email = email,
				   .text = text};
	struct comment_record rec = {.status = status, .score = -1, .created = 1700000000};
	struct comment_stored out;
	struct comment_error err = {0};
	int64_t id;

	if (comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err) != 0) {
		diag("comment_create: %s", err.message);
		return 0;
	}
	id = out.id;
	comment_stored_clear(&out);
	return id;
}

static int toggle(int64_t id, const char *ip, struct likes_result *res, struct comment_error *err)
{
	unsigned char voter[KEYS_HASH_BYTES];
	struct net_addr a = addr(ip);

	likes_voter(fx.keys, &a, id, voter);
	memset(err, 0, sizeof(*err));
	return likes_toggle(fx.conn, fx.cfg, "default", id, voter, 1700000100, res, err);
}

static int64_t sql_int(const char *sql, int64_t id)
{
	struct store_stmt *st = NULL;
	int64_t v = -1;

	st = store_stmt_new(fx.conn, sql);
	store_bind_int64(st, 1, id);
	if (store_row(fx.conn, st) == 1)
		v = store_col_int64(st, 0);
	store_stmt_free(st);
	return v;
}

static void test_voter(void)
{
	unsigned char a[KEYS_HASH_BYTES], b[KEYS_HASH_BYTES], c[KEYS_HASH_BYTES];
	struct net_addr v4 = addr("192.0.2.7"), v4b = addr("192.0.2.8");
	struct net_addr v6 = addr("2001:db8:1:2::1"), v6b = addr("2001:db8:1:2:ffff::9");
	struct net_addr v6c = addr("2001:db8:1:3::1");

	likes_voter(fx.keys, &v4, 1, a);
	likes_voter(fx.keys, &v4, 1, b);
	ok(memcmp(a, b, sizeof(a)) == 0, "the same client and comment: the same voter");
	likes_voter(fx.keys, &v4, 2, b);
	ok(memcmp(a, b, sizeof(a)) != 0,
	   "another comment: another voter (no profile across comments)");
	likes_voter(fx.keys, &v4b, 1, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another IPv4 client: another voter");
	likes_voter(fx.keys, &v6, 1, a);
	likes_voter(fx.keys, &v6b, 1, b);
	likes_voter(fx.keys, &v6c, 1, c);
	ok(memcmp(a, b, sizeof(a)) == 0, "an IPv6 client is its /64");
	ok(memcmp(a, c, sizeof(a)) != 0, "another /64: another voter");
	{
		/* A 6to4 address carries the IPv4 client it tunnels. */
		struct net_addr t = addr("2002:c000:207::1");
		likes_voter(fx.keys, &v4, 1, a);
		likes_voter(fx.keys, &t, 1, b);
		ok(memcmp(a, b, sizeof(a)) == 0, "a 6to4 address is its IPv4 client");
	}
	{
		/* Not the address's bytes, and keyed: another key, another voter. */
		struct keys *other = NULL;
		unsigned char d[KEYS_HASH_BYTES];
		fixture_keys(&other, 0x33);
		likes_voter(other, &v6, 1, d);
		ok(memcmp(a, d, sizeof(a)) != 0, "the voter depends on the key");
		ok(memmem(a, sizeof(a), v6.bytes, 4) == NULL,
		   "the voter does not hold the address");
		keys_free(other);
	}
}

static void test_toggle(void)
{
	struct likes_result res;
	struct comment_error err;
	int64_t a = create(0, COMMENT_PUBLISHED), held = create(0, COMMENT_PENDING);
	int64_t version = 0, before = 0;
	json_t *j = NULL, *t;
	char errs[CONFIG_ERR_MAX];

	ok(a > 0 && held > 0, "two comments");
	comment_thread_version(fx.conn, "default", "/t", &before);
	is_int(toggle(a, "192.0.2.1", &res, &err), 0, "a like");
	ok(res.liked && res.likes == 1 && res.id == a, "liked, 1 like");
	comment_thread_version(fx.conn, "default", "/t", &version);
	ok(version > before, "a like changes the thread's version (cached answers are rebuilt)");
	is_int(toggle(a, "192.0.2.2", &res, &err), 0, "another client's like");
	ok(res.liked && res.likes == 2, "2 likes");
	is_int(toggle(a, "192.0.2.1", &res, &err), 0, "the first client again");
	ok(!res.liked && res.likes == 1, "takes its like back: 1 like");
	is_int(sql_int("SELECT count(*) FROM likes WHERE comment_id = ?1", a), 1, "one like row");
	j = likes_json(&res);
	{
		char *dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		char want[64];
		snprintf(want, sizeof(want), "{\"id\":%lld,\"liked\":false,\"likes\":1}",
			 (long long)a);
		is_str(dump, want, "likes_json");
		free(dump);
	}
	json_decref(j);

	/* The count in the thread's answer. */
	{
		struct comment_page_query q = {
		    "default", "/t", {COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE},
		    50,	       300,  1 << 20};
		is_int(comment_thread_page(fx.conn, &q, &j), 0, "the thread");
	}
	t = json_array_get(json_object_get(j, "comments"), 0);
	is_int(json_integer_value(json_object_get(t, "likes")), 1, "its answer has the count");
	json_decref(j);

	/* The rules. */
	is_int(toggle(held, "192.0.2.1", &res, &err), COMMENT_INVALID, "a held comment");
	ok(err.status == 404 && strcmp(err.code, "not_found") == 0, "  404 not_found");
	{
		unsigned char voter[KEYS_HASH_BYTES];
		struct net_addr cl = addr("192.0.2.9");
		likes_voter(fx.keys, &cl, a, voter);
		is_int(likes_toggle(fx.conn, fx.cfg, "other", a, voter, 1700000100, &res, &err),
		       COMMENT_INVALID, "a comment of another site");
		is_int(err.status, 404, "  404, as if it did not exist");
	}
	is_int(toggle(999, "192.0.2.1", &res, &err), COMMENT_INVALID, "an unknown comment");
	is_int(err.status, 404, "  404");
	config_set(fx.cfg, "likes", "off", errs);
	is_int(toggle(a, "192.0.2.3", &res, &err), COMMENT_INVALID, "likes = off");
	ok(err.status == 403 && strcmp(err.code, "likes_disabled") == 0, "  403 likes_disabled");
	is_int(sql_int("SELECT likes FROM comments WHERE id = ?1", a), 1, "  nothing changed");
	config_set(fx.cfg, "likes", "on", errs);
}

static void test_removal(void)
{
	struct likes_result res;
	struct comment_error err;
	int64_t p = create(0, COMMENT_PUBLISHED), r, lone = create(0, COMMENT_PUBLISHED);

	r = create(p, COMMENT_PUBLISHED);
	toggle(p, "192.0.2.1", &res, &err);
	toggle(p, "192.0.2.2", &res, &err);
	toggle(lone, "192.0.2.1", &res, &err);
	is_int(res.likes, 1, "likes before removal");
	/* A comment with replies becomes a tombstone: its likes go. */
	is_int(comment_remove(fx.conn, p, 1700000200), 0, "remove a comment with a reply");
	is_int(sql_int("SELECT status = 'deleted' FROM comments WHERE id = ?1", p), 1,
	       "a tombstone");
	is_int(sql_int("SELECT count(*) FROM likes WHERE comment_id = ?1", p), 0,
	       "its likes are gone");
	is_int(sql_int("SELECT likes FROM comments WHERE id = ?1", p), 0, "its count is 0");
	is_int(toggle(p, "192.0.2.3", &res, &err), COMMENT_INVALID, "a tombstone cannot be liked");
	/* A comment without replies goes, and its likes with it. */
	is_int(comment_remove(fx.conn, lone, 1700000200), 0, "remove a comment without replies");
	is_int(sql_int("SELECT count(*) FROM likes WHERE comment_id = ?1", lone), 0,
	       "its likes are gone with it");
	ok(r > 0, "the reply stays");
}

int main(void)
{
	if (fixture_open(&fx, "likes") != 0)
		return 1;
	test_voter();
	test_toggle();
	test_removal();
	fixture_close(&fx);
	return done_testing();
}
