/* Unit tests for lib/admin: moderator tokens (create, verify, revoke, list;
 * only the keyed hash reaches the database) and the audit log (order,
 * limit, cursor, flags), against a real temporary SQLite file. */
#include "fixture.h"
#include "tap.h"

#include "admin.h"
#include "keys.h"
#include "store.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct fixture fx;
static char path[400];
static struct store *st;
static struct store_conn *conn;
static struct keys *keys;

static int64_t count_sql(const char *sql, const char *arg)
{
	struct store_stmt *q = NULL;
	int64_t n = -1;

	if (!(q = store_stmt_new(conn, sql)))
		return -2;
	if (arg)
		store_bind_text(q, 1, arg);
	if (store_row(conn, q) == 1)
		n = store_col_type(q, 0) == STORE_NULL ? -3 : store_col_int64(q, 0);
	store_stmt_free(q);
	return n;
}

static char *read_all(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0, k;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (n == cap) {
			char *grown;
			cap = cap ? cap * 2 : 65536;
			grown = realloc(data, cap);
			if (!grown) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = grown;
		}
		k = fread(data + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*len = n;
	return data;
}

/* Number of the database files (main, -wal, -shm) that contain needle;
 * *total the bytes read.  On PostgreSQL, whose files are the server's, the
 * number of values in any table that contain it; *total 1 when every table
 * was read. */
static int files_with(const char *needle, size_t *total)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	int found = 0;

	*total = 0;
	if (store_postgresql(conn)) {
		int64_t n = fixture_scan_tables(conn, needle, strlen(needle), NULL, 0);
		*total = n >= 0;
		return n < 0 ? 1 : (int)n;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
		char p[420];
		size_t len;
		char *data;

		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		data = read_all(p, &len);
		*total += len;
		if (data && memmem(data, len, needle, strlen(needle)))
			found++;
		free(data);
	}
	return found;
}

static bool is_base64url(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	}
	return true;
}

/* True if s is "YYYY-MM-DDTHH:MM:SSZ" within a few seconds of now. */
static bool is_recent_time(const char *s)
{
	struct tm tm = {0};
	const char *end;
	time_t t, now = time(NULL);

	if (!s)
		return false;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return false;
	t = timegm(&tm);
	return t >= now - 5 && t <= now + 1;
}

static bool all_zero(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i])
			return false;
	return true;
}

static void test_names(void)
{
	char token[KEYS_TOKEN_CHARS];
	char name[80];
	static const struct {
		const char *name;
		int want;
		const char *what;
	} cases[] = {
	    {"", ADMIN_INVALID, "an empty name"},
	    {"has space", ADMIN_INVALID, "a name with a space"},
	    {" lead", ADMIN_INVALID, "a leading space"},
	    {"tab\there", ADMIN_INVALID, "a tab"},
	    {"nl\n", ADMIN_INVALID, "a newline"},
	    {"esc\x1b[1m", ADMIN_INVALID, "an escape sequence"},
	    {"del\x7f", ADMIN_INVALID, "DEL"},
	    {"c1\xc2\x85", ADMIN_INVALID, "a C1 control (U+0085)"},
	    {"bad\xff", ADMIN_INVALID, "invalid UTF-8"},
	    {"over\xc0\xaf", ADMIN_INVALID, "an overlong encoding"},
	    {"marieke", 0, "a plain name"},
	    {"ops-bot_2.0@site", 0, "punctuation"},
	    {"Zo\xc3\xab", 0, "a non-ASCII name"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		memset(token, 'x', sizeof(token));
		int r = admin_token_create(conn, keys, cases[i].name, NULL, 0, token);
		is_int(r, cases[i].want, "name rules: %s", cases[i].what);
		if (r == 0)
			ok(strlen(token) == KEYS_TOKEN_CHARS - 1, "  and a token is handed out");
	}
	/* Length: 64 bytes is the limit. */
	memset(name, 'n', 64);
	name[64] = '\0';
	is_int(admin_token_create(conn, keys, name, NULL, 0, token), 0, "a 64-character name");
	name[64] = 'n';
	name[65] = '\0';
	is_int(admin_token_create(conn, keys, name, NULL, 0, token), ADMIN_INVALID,
	       "a 65-character name is refused");
	is_int(count_sql("SELECT count(*) FROM admin_tokens", NULL), 4,
	       "only the valid names were stored");
	is_int(count_sql("SELECT count(*) FROM admin_tokens WHERE name = ?1", "marieke"), 1,
	       "marieke is stored under her name");
	ok(!store_in_transaction(conn), "no transaction left open");
}

static void test_tokens(void)
{
	char t_alice[KEYS_TOKEN_CHARS], t_bob[KEYS_TOKEN_CHARS], t_again[KEYS_TOKEN_CHARS];
	char name[ADMIN_NAME_MAX + 1], bad[KEYS_TOKEN_CHARS + 8];
	char *scope = NULL;
	json_t *list = NULL;

	is_int(admin_token_create(conn, keys, "alice", NULL, 0, t_alice), 0, "create alice");
	is_int(strlen(t_alice), KEYS_TOKEN_CHARS - 1, "the token has 43 characters");
	is_int(KEYS_TOKEN_CHARS - 1, 43, "(KEYS_TOKEN_CHARS - 1 is 43)");
	ok(is_base64url(t_alice), "the token is base64url without padding (%s)", t_alice);
	is_int(admin_token_create(conn, keys, "bob", NULL, 0, t_bob), 0, "create bob");
	ok(strcmp(t_alice, t_bob) != 0, "two tokens differ");

	memset(t_again, 'x', sizeof(t_again));
	is_int(admin_token_create(conn, keys, "alice", NULL, 0, t_again), ADMIN_EXISTS,
	       "a second alice is ADMIN_EXISTS");
	ok(all_zero(t_again, sizeof(t_again)), "and its token buffer is wiped");
	is_int(count_sql("SELECT count(*) FROM admin_tokens WHERE name = 'alice'", NULL), 1,
	       "still one alice");

	/* Only the keyed hash is stored. */
	{
		unsigned char want[KEYS_HASH_BYTES];
		struct store_stmt *q = NULL;
		bool same = false;

		keys_hash(keys, KEYS_TOKEN, t_alice, strlen(t_alice), want);
		q = store_stmt_new(conn, "SELECT hash FROM admin_tokens WHERE name = ?1");
		store_bind_text(q, 1, "alice");
		if (store_row(conn, q) == 1)
			same = store_col_bytes(q, 0) == KEYS_HASH_BYTES &&
			       memcmp(store_col_blob(q, 0), want, KEYS_HASH_BYTES) == 0;
		store_stmt_free(q);
		ok(same, "the stored hash is keys_hash(KEYS_TOKEN, token)");
	}

	/* Verify. */
	is_int(count_sql("SELECT last_used FROM admin_tokens WHERE name = 'alice'", NULL), -3,
	       "alice's last_used starts NULL");
	memset(name, 0, sizeof(name));
	is_int(admin_token_verify(conn, keys, t_alice, name, &scope), 0, "alice's token verifies");
	is_str(name, "alice", "as alice");
	ok(scope == NULL, "a token made without sites has every site in scope");
	{
		int64_t used =
		    count_sql("SELECT last_used FROM admin_tokens WHERE name = 'alice'", NULL);
		int64_t now = (int64_t)time(NULL);
		ok(used >= now - 5 && used <= now + 1, "last_used is set to now (%lld)",
		   (long long)used);
	}
	is_int(count_sql("SELECT last_used FROM admin_tokens WHERE name = 'bob'", NULL), -3,
	       "bob's last_used is untouched");
	is_int(admin_token_verify(conn, keys, t_bob, name, &scope), 0, "bob's token verifies");
	is_str(name, "bob", "as bob");

	snprintf(bad, sizeof(bad), "%s", t_alice);
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	is_int(admin_token_verify(conn, keys, bad, name, &scope), ADMIN_DENIED,
	       "one character changed: denied");
	snprintf(bad, sizeof(bad), "%.42s", t_alice);
	is_int(admin_token_verify(conn, keys, bad, name, &scope), ADMIN_DENIED,
	       "the first 42 characters: denied");
	snprintf(bad, sizeof(bad), "%sA", t_alice);
	is_int(admin_token_verify(conn, keys, bad, name, &scope), ADMIN_DENIED,
	       "token plus one character: denied");
	snprintf(bad, sizeof(bad), "%s%s", t_alice, "AAAAAA");
	is_int(admin_token_verify(conn, keys, bad, name, &scope), ADMIN_DENIED,
	       "token plus several characters: denied");
	is_int(admin_token_verify(conn, keys, "", name, &scope), ADMIN_DENIED, "empty: denied");
	{
		char fresh[KEYS_TOKEN_CHARS];
		unsigned char h[KEYS_HASH_BYTES];
		keys_token_new(keys, fresh, h);
		is_int(admin_token_verify(conn, keys, fresh, name, &scope), ADMIN_DENIED,
		       "a well-formed token never issued: denied");
	}
	{
		/* A token issued under another master key does not verify. */
		unsigned char other_master[KEYS_MASTER_BYTES];
		struct keys *other = NULL;
		for (int i = 0; i < KEYS_MASTER_BYTES; i++)
			other_master[i] = (unsigned char)(0x3c + i);
		keys_new_from_bytes(&other, other_master);
		is_int(admin_token_verify(conn, other, t_alice, name, &scope), ADMIN_DENIED,
		       "alice's token checked with another key: denied");
		keys_free(other);
	}

	/* Revoke. */
	is_int(admin_token_revoke(conn, "alice"), 0, "revoke alice");
	is_int(admin_token_verify(conn, keys, t_alice, name, &scope), ADMIN_DENIED,
	       "a revoked token is denied");
	is_int(admin_token_verify(conn, keys, t_bob, name, &scope), 0, "bob still verifies");
	is_int(admin_token_revoke(conn, "alice"), ADMIN_NOT_FOUND,
	       "revoking alice again: ADMIN_NOT_FOUND");
	is_int(admin_token_revoke(conn, "nobody"), ADMIN_NOT_FOUND,
	       "revoking an unknown name: ADMIN_NOT_FOUND");
	is_int(admin_token_revoke(conn, "nobody"), ADMIN_NOT_FOUND, "and again");
	is_int(admin_token_revoke(conn, "Bob"), ADMIN_NOT_FOUND, "names are case-sensitive");
	is_int(admin_token_verify(conn, keys, t_bob, name, &scope), 0,
	       "bob was not revoked by that");
	memset(t_again, 'x', sizeof(t_again));
	is_int(admin_token_create(conn, keys, "alice", NULL, 0, t_again), ADMIN_EXISTS,
	       "a revoked name stays taken");

	/* List. */
	is_int(admin_token_list(conn, &list), 0, "admin_token_list");
	ok(json_is_array(list), "is an array");
	/* marieke, ops-bot, Zoë, nnn… from test_names, then alice, bob. */
	is_int(json_array_size(list), 6, "every token, revoked ones too");
	{
		static const char *const order[] = {
		    "marieke", "ops-bot_2.0@site", "Zo\xc3\xab", NULL, "alice", "bob"};
		size_t i;
		json_t *e;
		int shape_ok = 0, order_ok = 0, created_ok = 0;

		json_array_foreach(list, i, e)
		{
			if (json_is_object(e) && json_object_size(e) == 6 &&
			    json_is_null(json_object_get(e, "sites")) &&
			    json_is_string(json_object_get(e, "name")) &&
			    json_is_null(json_object_get(e, "display_name")) &&
			    json_is_string(json_object_get(e, "created")) &&
			    json_object_get(e, "revoked") && json_object_get(e, "last_used"))
				shape_ok++;
			if (i < 6 &&
			    (!order[i] ||
			     strcmp(order[i], json_string_value(json_object_get(e, "name"))) == 0))
				order_ok++;
			if (is_recent_time(json_string_value(json_object_get(e, "created"))))
				created_ok++;
		}
		is_int(shape_ok, 6,
		       "each entry is {name, display_name, sites, created, revoked, last_used}");
		is_int(order_ok, 6, "in creation order");
		is_int(created_ok, 6, "created is an RFC 3339 time of now");
		json_t *a = json_array_get(list, 4), *b = json_array_get(list, 5),
		       *m = json_array_get(list, 0);
		ok(is_recent_time(json_string_value(json_object_get(a, "revoked"))),
		   "alice: revoked is a time");
		ok(is_recent_time(json_string_value(json_object_get(a, "last_used"))),
		   "alice: last_used is a time");
		ok(json_is_null(json_object_get(b, "revoked")), "bob: revoked is null");
		ok(is_recent_time(json_string_value(json_object_get(b, "last_used"))),
		   "bob: last_used is a time");
		ok(json_is_null(json_object_get(m, "last_used")) &&
		       json_is_null(json_object_get(m, "revoked")),
		   "marieke (never used): last_used and revoked null");
		char *dump = json_dumps(list, 0);
		ok(dump && !strstr(dump, t_alice) && !strstr(dump, t_bob),
		   "the list holds no token");
		free(dump);
	}
	json_decref(list);

	/* The token text never reaches the files; the names do (so the scan can
	 * find things). */
	{
		size_t total;
		int a = files_with(t_alice, &total), b = files_with(t_bob, &total);
		ok(total > 0, "read the database (%zu bytes of files, or 1: every table)", total);
		is_int(a + b, 0, "no token text in the database, WAL or shm");
		ok(files_with("ops-bot_2.0@site", &total) > 0, "(while a token name is found)");
	}
}

static void audit_add(const char *actor, const char *action, int64_t comment, const char *detail,
		      bool reversal, int64_t *id)
{
	store_begin(conn);
	if (audit_write(conn, "default", actor, action, comment, detail, reversal) == 0) {
		*id = store_last_id(conn);
		store_commit(conn);
	} else {
		*id = -1;
		store_rollback(conn);
	}
}

static int64_t entry_id(json_t *entries, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(entries, i), "id"));
}

static void test_audit(void)
{
	json_t *out = NULL, *entries;
	int64_t ids[5], total;

	is_int(audit_list(conn, NULL, 10, 0, &out), 0, "audit_list on an empty log");
	entries = json_object_get(out, "entries");
	ok(json_is_array(entries) && json_array_size(entries) == 0, "{\"entries\": []}");
	json_decref(out);

	audit_add("alice", "approve", 17, "pending -> published", false, &ids[0]);
	audit_add("bob", "spam", 18, "published -> spam", true, &ids[1]);
	audit_add("alice", "privacy-erase", 0, NULL, false, &ids[2]);
	audit_add("bob", "edit", 19, NULL, false, &ids[3]);
	audit_add("carol", "approve", 20, "spam -> published", true, &ids[4]);
	ok(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1] && ids[3] > ids[2] && ids[4] > ids[3],
	   "five audit rows written");

	is_int(audit_list(conn, NULL, 100, 0, &out), 0, "audit_list");
	ok(json_is_object(out) && json_object_size(out) == 1, "{\"entries\"} only");
	entries = json_object_get(out, "entries");
	is_int(json_array_size(entries), 5, "five entries");
	{
		bool desc = true;
		for (size_t i = 0; i < 5; i++)
			desc = desc && entry_id(entries, i) == ids[4 - i];
		ok(desc, "newest first");
		json_t *e = json_array_get(entries, 4); /* the first written */
		is_str(json_string_value(json_object_get(e, "actor")), "alice", "actor");
		is_str(json_string_value(json_object_get(e, "action")), "approve", "action");
		is_int(json_integer_value(json_object_get(e, "comment")), 17, "comment id");
		is_str(json_string_value(json_object_get(e, "detail")), "pending -> published",
		       "detail");
		ok(json_is_false(json_object_get(e, "reversal")), "reversal false (a JSON bool)");
		ok(is_recent_time(json_string_value(json_object_get(e, "at"))),
		   "at is an RFC 3339 time of now");
		is_int(json_object_size(e), 8,
		       "eight members: id, at, actor, action, comment, detail, reversal, site");
		is_str(json_string_value(json_object_get(e, "site")), "default", "site");
		e = json_array_get(entries, 3);
		ok(json_is_true(json_object_get(e, "reversal")),
		   "the reversal flag comes back true");
		e = json_array_get(entries, 2);
		ok(json_is_null(json_object_get(e, "comment")), "comment 0 is null");
		ok(json_is_null(json_object_get(e, "detail")), "a NULL detail is null");
		is_str(json_string_value(json_object_get(e, "action")), "privacy-erase",
		       "(the privacy-erase row)");
		e = json_array_get(entries, 1);
		ok(json_is_integer(json_object_get(e, "comment")) &&
		       json_is_null(json_object_get(e, "detail")),
		   "a comment with a NULL detail");
	}
	json_decref(out);

	/* limit and the before cursor. */
	audit_list(conn, NULL, 2, 0, &out);
	entries = json_object_get(out, "entries");
	ok(json_array_size(entries) == 2 && entry_id(entries, 0) == ids[4] &&
	       entry_id(entries, 1) == ids[3],
	   "limit 2: the two newest");
	json_decref(out);
	audit_list(conn, NULL, 2, ids[3], &out);
	entries = json_object_get(out, "entries");
	ok(json_array_size(entries) == 2 && entry_id(entries, 0) == ids[2] &&
	       entry_id(entries, 1) == ids[1],
	   "before the 4th: the 3rd and 2nd");
	json_decref(out);
	audit_list(conn, NULL, 10, ids[1], &out);
	entries = json_object_get(out, "entries");
	ok(json_array_size(entries) == 1 && entry_id(entries, 0) == ids[0],
	   "before the 2nd: only the 1st");
	json_decref(out);
	audit_list(conn, NULL, 10, ids[0], &out);
	is_int(json_array_size(json_object_get(out, "entries")), 0, "before the 1st: nothing");
	json_decref(out);
	audit_list(conn, NULL, 1, 0, &out);
	entries = json_object_get(out, "entries");
	ok(json_array_size(entries) == 1 && entry_id(entries, 0) == ids[4], "limit 1: the newest");
	json_decref(out);

	/* A long log, paged through with the cursor. */
	store_begin(conn);
	for (int i = 0; i < 250; i++) {
		char detail[32];
		snprintf(detail, sizeof(detail), "row %d", i);
		audit_write(conn, "default", "bulk", "spam", 1000 + i, detail, i % 7 == 0);
	}
	store_commit(conn);
	total = count_sql("SELECT count(*) FROM audit", NULL);
	is_int(total, 255, "255 rows in the log");
	{
		int64_t before = 0, prev = INT64_MAX, seen = 0;
		bool ordered = true;
		int pages = 0;
		for (;;) {
			audit_list(conn, NULL, 40, before, &out);
			entries = json_object_get(out, "entries");
			size_t n = json_array_size(entries);
			for (size_t i = 0; i < n; i++) {
				int64_t id = entry_id(entries, i);
				ordered = ordered && id < prev;
				prev = id;
				seen++;
			}
			if (n)
				before = entry_id(entries, n - 1);
			json_decref(out);
			pages++;
			if (n < 40 || pages > 20)
				break;
		}
		is_int(seen, total, "paging by 40 visits every row once");
		ok(ordered, "in strictly descending id order");
		is_int(pages, 7, "in seven pages");
	}
	audit_list(conn, NULL, 1000, 0, &out);
	is_int(json_array_size(json_object_get(out, "entries")), total,
	       "limit 1000 returns the whole (smaller) log");
	{
		size_t i;
		json_t *e;
		int rev = 0;
		json_array_foreach(json_object_get(out, "entries"), i, e)
		{
			rev += json_is_true(json_object_get(e, "reversal"));
		}
		is_int(rev, count_sql("SELECT count(*) FROM audit WHERE reversal = 1", NULL),
		       "reversal flags match the rows");
	}
	json_decref(out);

	/* Inside the caller's transaction: a rollback drops the row. */
	store_begin(conn);
	is_int(audit_write(conn, "default", "dave", "delete", 5, "x", false), 0,
	       "audit_write in a transaction");
	store_rollback(conn);
	is_int(count_sql("SELECT count(*) FROM audit WHERE actor = 'dave'", NULL), 0,
	       "rolled back with it");
}

static void test_token_sites(void)
{
	static const char *const two[] = {"blog", "notes"};
	static const char *const bad_id[] = {"blog", "Not An Id"};
	const char *many[ADMIN_SITES_MAX + 1];
	char token[KEYS_TOKEN_CHARS], other[KEYS_TOKEN_CHARS], name[ADMIN_NAME_MAX + 1];
	char *scope = NULL;
	json_t *list = NULL, *row;
	int64_t id;

	is_int(admin_token_create(conn, keys, "carol", two, 2, token), 0, "a token for two sites");
	is_int(admin_token_verify(conn, keys, token, name, &scope), 0, "verifies");
	is_str(scope, "[\"blog\",\"notes\"]", "its scope names its two sites");
	ok(admin_scope_has(scope, "blog") && admin_scope_has(scope, "notes"), "both are in scope");
	ok(!admin_scope_has(scope, "other") && !admin_scope_has(scope, "blo"),
	   "another site is not");
	ok(admin_scope_has(NULL, "anything"), "the NULL scope has every site");
	{
		char one[CONFIG_SITE_ID_MAX + 1] = "";
		ok(!admin_scope_one(scope, one), "two sites are not one");
		ok(!admin_scope_one(NULL, one), "nor is every site");
		ok(admin_scope_one("[\"notes\"]", one) && strcmp(one, "notes") == 0,
		   "admin_scope_one names the one site");
	}
	free(scope);
	scope = admin_scope_of("blog");
	is_str(scope, "[\"blog\"]", "admin_scope_of");
	free(scope);
	scope = NULL;
	is_int(admin_token_create(conn, keys, "dan", two, 1, other), 0, "a token for one site");
	is_int(admin_token_verify(conn, keys, other, name, &scope), 0, "verifies");
	is_str(scope, "[\"blog\"]", "with one site");
	free(scope);
	scope = NULL;
	is_int(admin_token_create(conn, keys, "erin", bad_id, 2, other), ADMIN_INVALID,
	       "a malformed site id is refused");
	for (size_t i = 0; i <= ADMIN_SITES_MAX; i++)
		many[i] = "s";
	is_int(admin_token_create(conn, keys, "erin", many, ADMIN_SITES_MAX + 1, other),
	       ADMIN_INVALID, "more than %d sites are refused", ADMIN_SITES_MAX);
	is_int(count_sql("SELECT count(*) FROM admin_tokens WHERE name = ?1", "erin"), 0,
	       "and nothing is stored for them");
	is_int(admin_token_list(conn, &list), 0, "list");
	row = NULL;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *r = json_array_get(list, i);
		if (strcmp(json_string_value(json_object_get(r, "name")), "carol") == 0)
			row = r;
		if (strcmp(json_string_value(json_object_get(r, "name")), "bob") == 0)
			ok(json_is_null(json_object_get(r, "sites")),
			   "bob's sites are null (every)");
	}
	ok(row && json_array_size(json_object_get(row, "sites")) == 2, "carol's two sites listed");
	json_decref(list);

	/* The audit log by scope: a row about no one site only for every site. */
	store_begin(conn);
	audit_write(conn, "blog", "carol", "approve", 501, NULL, false);
	id = store_last_id(conn);
	audit_write(conn, "notes", "carol", "spam", 502, NULL, false);
	audit_write(conn, "other", "zed", "spam", 503, NULL, false);
	audit_write(conn, NULL, "zed", "privacy-erase", 0, NULL, false);
	store_commit(conn);
	{
		json_t *out = NULL, *e;
		audit_list(conn, "[\"blog\"]", 10, id + 4, &out);
		e = json_object_get(out, "entries");
		is_int(json_array_size(e), 1, "the blog scope sees one of the four rows");
		is_str(json_string_value(json_object_get(json_array_get(e, 0), "site")), "blog",
		       "its own, with its site");
		json_decref(out);
		audit_list(conn, "[\"blog\",\"notes\"]", 10, id + 4, &out);
		is_int(json_array_size(json_object_get(out, "entries")), 2, "two sites see two");
		json_decref(out);
		audit_list(conn, NULL, 10, id + 4, &out);
		e = json_object_get(out, "entries");
		is_int(entry_id(e, 3), id, "every site sees all four (the 4th is the first)");
		ok(json_is_null(json_object_get(json_array_get(e, 0), "site")),
		   "the row about no one site has a null site");
		json_decref(out);
	}
}

static void test_display_names(void)
{
	char token[KEYS_TOKEN_CHARS], display[ADMIN_DISPLAY_BYTES],
	    long_name[ADMIN_DISPLAY_BYTES + 8];
	struct names *set = NULL;
	const char *m = NULL;

	is_int(admin_token_create(conn, keys, "sjef", NULL, 0, token), 0, "create sjef");
	is_int(admin_token_create(conn, keys, "gast", NULL, 0, token), 0, "create gast");
	is_int(admin_token_display_name(conn, "sjef", display), 0, "no display name yet");
	is_str(display, "", "  empty");
	is_int(admin_token_set_display_name(conn, "sjef", "  Sjef\xe2\x80\x8b Kerkhofs "), 0,
	       "set a display name");
	is_int(admin_token_display_name(conn, "sjef", display), 1, "read it back");
	is_str(display, "Sjef Kerkhofs", "  trimmed, invisible characters removed");
	is_int(admin_token_set_display_name(conn, "nobody", "X"), ADMIN_NOT_FOUND,
	       "no such token: ADMIN_NOT_FOUND");
	is_int(admin_token_set_display_name(conn, "sjef", ""), ADMIN_INVALID, "empty: invalid");
	is_int(admin_token_set_display_name(conn, "sjef", " \xe2\x80\x8b "), ADMIN_INVALID,
	       "only invisible characters: invalid");
	is_int(admin_token_set_display_name(conn, "sjef", "Sjef\nAdmin"), ADMIN_INVALID,
	       "a line break: invalid");
	is_int(admin_token_set_display_name(conn, "sjef", "a\xff"), ADMIN_INVALID,
	       "not UTF-8: invalid");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	is_int(admin_display_name_check(long_name), ADMIN_INVALID, "too long: invalid");
	long_name[ADMIN_DISPLAY_MAX] = '\0';
	is_int(admin_display_name_check(long_name), 0, "%d characters are fine", ADMIN_DISPLAY_MAX);
	long_name[ADMIN_DISPLAY_MAX] = 'a';
	long_name[ADMIN_DISPLAY_MAX + 1] = '\0';
	is_int(admin_display_name_check(long_name), ADMIN_INVALID, "%d are not",
	       ADMIN_DISPLAY_MAX + 1);
	is_int(admin_token_display_name(conn, "sjef", display), 1,
	       "a refused change keeps the name");
	is_str(display, "Sjef Kerkhofs", "  Sjef Kerkhofs");

	is_int(admin_token_set_display_name(conn, "gast", "Redactie"), 0, "gast is Redactie");
	is_int(admin_display_names(conn, NULL, &set), 0, "admin_display_names");
	is_int((int)names_count(set), 2, "  two names");
	is_int(names_match(set, "SJEF KERKHOFS", &m), 1, "  a poster's Sjef Kerkhofs matches");
	names_free(set);
	is_int(admin_token_revoke(conn, "gast"), 0, "revoke gast");
	is_int(admin_token_set_display_name(conn, "gast", "Other"), ADMIN_NOT_FOUND,
	       "a revoked token's name cannot change");
	is_int(admin_token_display_name(conn, "gast", display), 0, "nor is it read");
	is_int(admin_display_names(conn, NULL, &set), 0, "admin_display_names again");
	is_int((int)names_count(set), 1, "  a revoked token's name is no longer protected");
	is_int(names_match(set, "Redactie", &m), 0, "  Redactie is free");
	names_free(set);
	is_int(admin_token_set_display_name(conn, "sjef", NULL), 0, "remove sjef's name");
	is_int(admin_token_display_name(conn, "sjef", display), 0, "  gone");
	{
		json_t *list = NULL, *e;
		size_t i;
		bool listed = false;

		admin_token_set_display_name(conn, "sjef", "Sjef");
		is_int(admin_token_list(conn, &list), 0, "token list");
		json_array_foreach(list, i, e)
		{
			if (strcmp(json_string_value(json_object_get(e, "name")), "sjef") == 0)
				listed =
				    json_is_string(json_object_get(e, "display_name")) &&
				    strcmp(json_string_value(json_object_get(e, "display_name")),
					   "Sjef") == 0;
		}
		ok(listed, "the list shows the display name");
		json_decref(list);
	}
}

int main(void)
{
	unsigned char master[KEYS_MASTER_BYTES];
	if (fixture_tmpdir(&fx, "admin") != 0)
		return 1;
	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(0x5a ^ (i * 7));
	if (keys_new_from_bytes(&keys, master) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s", fixture_db(&fx, "a"));
	is_int(store_new(&st, path, 1), 0, "store_new on a temporary file");
	if (!st)
		return 1;
	conn = store_acquire(st);

	test_names();
	test_tokens();
	test_audit();
	test_display_names();
	test_token_sites();

	store_release(st, conn);
	store_free(st);
	keys_free(keys);
	fixture_close(&fx);
	return done_testing();
}
