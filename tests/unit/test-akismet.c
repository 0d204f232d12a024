/* Unit tests for lib/akismet: form fields to classify_input, key extraction
 * (fields, Host label, precedence), test values, is_test, the honeypot, the
 * learning key (stable, identity fields only, keyed), and site keys (create,
 * verify, revoke, list, counters, usage JSON; only the keyed hash stored),
 * against a real temporary SQLite file. */
#include "tap.h"

#include "akismet.h"
#include "keys.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test-akismet-XXXXXX";
static char path[300];
static struct store *st;
static struct store_conn *conn;
static struct keys *keys;

static struct akismet_request *req(const char *body)
{
	struct akismet_request *r = NULL;

	if (akismet_request_parse(&r, body, strlen(body)) != 0)
		return NULL;
	return r;
}

static void test_parse(void)
{
	struct akismet_request *r = NULL;
	struct classify_input ci;

	is_int(akismet_request_parse(&r, "a=%zz", 5), AKISMET_INVALID, "a bad escape is refused");
	ok(r == NULL, "nothing is returned for a refused body");
	is_int(akismet_request_parse(&r, "a=%00", 5), AKISMET_INVALID, "a %%00 is refused");
	is_int(akismet_request_parse(&r, NULL, 0), 0, "an empty body parses");
	ok(akismet_request_missing(r) != NULL, "an empty body misses user_ip");
	r = akismet_request_free(r);
	ok(akismet_request_free(NULL) == NULL, "free is NULL-safe");

	r = req("blog=https%3A%2F%2FBlog.Example.org%2F&user_ip=203.0.113.9&user_agent=UA%2F1"
		"&referrer=https%3A%2F%2Fblog.example.org%2Fpost&permalink=https%3A%2F%2Fblog."
		"example.org%2Fpost&comment_type=comment&comment_author=Ann&comment_author_email="
		"ann%40Mail.Example.net&comment_author_url=https%3A%2F%2Fann.example&comment_"
		"content=Hello+there&comment_date_gmt=2024-01-01T00%3A00%3A00Z&blog_lang=en_us"
		"&blog_charset=UTF-8&recheck_reason=edit&comment_context%5B0%5D=tag&comment_"
		"context%5B1%5D=cat&POST_whatever=x&HTTP_X_UNKNOWN=y");
	ok(r != NULL, "every documented field plus unknown ones parses");
	ok(akismet_request_missing(r) == NULL, "user_ip is present");
	akismet_request_classify(r, "fallback.example", &ci);
	is_str(ci.text, "Hello there", "content is the text");
	is_str(ci.author, "Ann", "author");
	is_str(ci.email, "ann@Mail.Example.net", "the e-mail goes to the classifier (domain only)");
	is_str(ci.url, "https://ann.example", "author URL");
	is_str(ci.ip, "203.0.113.9", "user_ip is the IP");
	is_str(ci.user_agent, "UA/1", "user agent");
	is_str(ci.referrer, "https://blog.example.org/post", "referrer");
	is_str(ci.thread, "https://blog.example.org/post", "permalink is the thread");
	is_str(ci.site_host, "blog.example.org", "site host from the blog URL, lower-cased");
	is_int(ci.render_seconds, -1, "render time unknown");
	ok(!ci.honeypot_filled, "no honeypot");
	is_str(akismet_request_get(r, "comment_context[1]"), "cat", "comment_context[] is kept");
	akismet_request_free(r);

	r = req("user_ip=1.2.3.4&referer=http%3A%2F%2Fx.example%2F");
	akismet_request_classify(r, "fallback.example", &ci);
	is_str(ci.referrer, "http://x.example/", "referer (one r) is accepted");
	is_str(ci.site_host, "fallback.example", "no blog: the fallback host");
	ok(ci.user_agent == NULL && ci.text == NULL, "absent fields stay unknown");
	akismet_request_free(r);
	r = req("user_ip=+++&comment_content=");
	ok(akismet_request_missing(r) != NULL, "a blank user_ip is missing");
	akismet_request_classify(r, NULL, &ci);
	ok(ci.text == NULL && ci.site_host == NULL, "empty content and no host at all");
	akismet_request_free(r);
}

static void test_keys_from_request(void)
{
	char key[AKISMET_KEY_CHARS];
	struct akismet_request *r;

	ok(akismet_key_normalise(" 0123456789AB\n", key) && strcmp(key, "0123456789ab") == 0,
	   "a key is trimmed and lower-cased");
	ok(!akismet_key_normalise("0123456789a", key) && key[0] == '\0', "11 digits are refused");
	ok(!akismet_key_normalise("0123456789abc", key), "13 digits are refused");
	ok(!akismet_key_normalise("0123456789ag", key), "a non-hex digit is refused");
	ok(!akismet_key_normalise("012345 6789ab", key), "an inner blank is refused");
	ok(!akismet_key_normalise(NULL, key), "NULL is no key");

	ok(akismet_key_from_host("0123456789AB.localhost:8080", key) &&
	       strcmp(key, "0123456789ab") == 0,
	   "the Host's first label is the key");
	ok(!akismet_key_from_host("localhost:8080", key), "a bare host has no key");
	ok(!akismet_key_from_host("0123456789ab", key), "a single label is not a key");
	ok(!akismet_key_from_host("0123456789ab.:80", key), "an empty second label is refused");
	ok(!akismet_key_from_host("rest.akismet.com", key), "an ordinary host is no key");
	ok(!akismet_key_from_host(NULL, key), "no Host header");

	r = req("key=aaaaaaaaaaaa&api_key=bbbbbbbbbbbb");
	ok(akismet_request_key(r, NULL, true, key) && strcmp(key, "aaaaaaaaaaaa") == 0,
	   "verify-key: key comes before api_key");
	ok(akismet_request_key(r, NULL, false, key) && strcmp(key, "bbbbbbbbbbbb") == 0,
	   "other calls: api_key comes before key");
	akismet_request_free(r);
	r = req("key=&api_key=bbbbbbbbbbbb");
	ok(akismet_request_key(r, NULL, true, key) && strcmp(key, "bbbbbbbbbbbb") == 0,
	   "an empty key field falls through to api_key");
	akismet_request_free(r);
	r = req("api_key=nonsense");
	ok(akismet_request_key(r, "cccccccccccc.localhost", false, key) && key[0] == '\0',
	   "a malformed field wins over the Host label (and fails)");
	akismet_request_free(r);
	r = req("user_ip=1.2.3.4");
	ok(akismet_request_key(r, "cccccccccccc.localhost", false, key) &&
	       strcmp(key, "cccccccccccc") == 0,
	   "no field: the Host label");
	ok(!akismet_request_key(r, "localhost", false, key), "no field, no label: no key");
	akismet_request_free(r);
}

static void test_values(void)
{
	struct akismet_request *r;

	r = req("comment_author=viagra-test-123");
	is_int(akismet_request_test(r), AKISMET_TEST_SPAM, "viagra-test-123 is spam");
	akismet_request_free(r);
	r = req("comment_author_email=+Akismet-Guaranteed-Spam%40Example.com+");
	is_int(akismet_request_test(r), AKISMET_TEST_SPAM, "the guaranteed-spam address is spam");
	akismet_request_free(r);
	r = req("comment_author=viagra-test-123&user_role=editor%2Cadministrator");
	is_int(akismet_request_test(r), AKISMET_TEST_HAM,
	       "administrator in a role list is ham, and wins");
	akismet_request_free(r);
	r = req("comment_author=viagra-test-1234&user_role=administrators");
	is_int(akismet_request_test(r), AKISMET_TEST_NONE, "near misses are ordinary");
	akismet_request_free(r);

	ok(akismet_parse_bool("1") && akismet_parse_bool("true") && akismet_parse_bool("True") &&
	       akismet_parse_bool(" yes ") && akismet_parse_bool("ON"),
	   "lenient true spellings");
	ok(!akismet_parse_bool("0") && !akismet_parse_bool("False") && !akismet_parse_bool("") &&
	       !akismet_parse_bool(NULL) && !akismet_parse_bool("2"),
	   "everything else is false");
	r = req("is_test=True");
	ok(akismet_request_is_test(r), "is_test=True (Python's spelling)");
	akismet_request_free(r);

	r = req("honeypot_field_name=hp&hp=I+am+a+bot");
	ok(akismet_request_honeypot(r), "a filled honeypot field");
	akismet_request_free(r);
	r = req("honeypot_field_name=hp&hp=+%09");
	ok(!akismet_request_honeypot(r), "a blank honeypot field is empty");
	akismet_request_free(r);
	r = req("honeypot_field_name=hp");
	ok(!akismet_request_honeypot(r), "a missing honeypot field is empty");
	akismet_request_free(r);
	r = req("honeypot_field_name=comment_content&comment_content=hello");
	ok(!akismet_request_honeypot(r), "Akismet's own fields are never a honeypot");
	akismet_request_free(r);
}

static void message_key_of(const char *body, char out[AKISMET_MSG_KEY_MAX])
{
	struct akismet_request *r = req(body);

	akismet_message_key(r, keys, out);
	akismet_request_free(r);
}

static void test_message_key(void)
{
	char a[AKISMET_MSG_KEY_MAX], b[AKISMET_MSG_KEY_MAX];
	unsigned char other_master[KEYS_MASTER_BYTES] = {9};
	struct keys *other = NULL;
	struct akismet_request *r;

	message_key_of("comment_content=hi&comment_author=A&user_ip=1.2.3.4&comment_author_email="
		       "a%40b.example",
		       a);
	ok(strncmp(a, "akismet:", 8) == 0 && strlen(a) == 8 + 64, "akismet:<64 hex>");
	ok(strstr(a, "b.example") == NULL, "the key holds no e-mail text");
	message_key_of("user_ip=1.2.3.4&comment_author=A&comment_content=hi&is_test=1&"
		       "comment_date_gmt=2024&user_agent=X&referrer=Y&foo=bar&"
		       "comment_author_email=+A%40B.example",
		       b);
	is_str(b, a,
	       "order, dates, agent, referrer, is_test, unknown fields and e-mail case "
	       "do not change it");
	message_key_of("comment_content=hi!&comment_author=A&user_ip=1.2.3.4&comment_author_email="
		       "a%40b.example",
		       b);
	ok(strcmp(a, b) != 0, "other content is another message");
	message_key_of("comment_content=hi&comment_author=A&user_ip=1.2.3.5&comment_author_email="
		       "a%40b.example",
		       b);
	ok(strcmp(a, b) != 0, "another IP is another message");
	/* Field boundaries are unambiguous. */
	message_key_of("comment_content=ab&comment_author=c", a);
	message_key_of("comment_content=a&comment_author=bc", b);
	ok(strcmp(a, b) != 0, "moving bytes between fields changes the key");
	keys_new_from_bytes(&other, other_master);
	r = req("comment_content=ab&comment_author=c");
	akismet_message_key(r, other, b);
	akismet_request_free(r);
	ok(strcmp(a, b) != 0, "the key depends on the secret key");
	keys_free(other);
}

static int64_t count_sql(const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(store_db(conn), sql, -1, &q, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static void test_site_keys(void)
{
	char key[AKISMET_KEY_CHARS], key2[AKISMET_KEY_CHARS], upper[AKISMET_KEY_CHARS];
	int64_t id = 0, id2 = 0, got = 0, now = (int64_t)time(NULL);
	json_t *list = NULL, *usage = NULL, *sites = NULL;
	char *s;

	is_int(akismet_key_create(conn, keys, "ftp://x.example", key, &id), AKISMET_BAD_BLOG,
	       "an ftp blog is refused");
	is_int(akismet_key_create(conn, keys, "https://a b.example/", key, &id), AKISMET_BAD_BLOG,
	       "a blog with a space is refused");
	is_int(akismet_key_create(conn, keys, "", key, &id), AKISMET_BAD_BLOG, "an empty blog");
	is_int(akismet_key_create(conn, keys, "https://blog.example.org/", key, &id), 0,
	       "create a key");
	ok(strlen(key) == AKISMET_KEY_HEX && strspn(key, "0123456789abcdef") == AKISMET_KEY_HEX,
	   "the key is 12 lowercase hex digits");
	is_int(akismet_key_create(conn, keys, "https://other.example/", key2, &id2), 0,
	       "a second key");
	ok(strcmp(key, key2) != 0 && id2 > id, "keys and ids differ");

	is_int(akismet_key_verify(conn, keys, key, &got), 0, "the key verifies");
	is_int(got, id, "with its id");
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (key[i] >= 'a' && key[i] <= 'f') ? (char)(key[i] - 32) : key[i];
	is_int(akismet_key_verify(conn, keys, upper, &got), 0, "upper case verifies too");
	is_int(akismet_key_verify(conn, keys, "000000000000", &got), AKISMET_DENIED,
	       "an unknown key is denied");
	is_int(akismet_key_verify(conn, keys, "short", &got), AKISMET_DENIED,
	       "a malformed key is denied");
	is_int(akismet_key_verify(conn, keys, "", &got), AKISMET_DENIED, "an empty key is denied");
	is_int(count_sql("SELECT count(*) FROM akismet_keys WHERE length(hash) = 32"), 2,
	       "two hashes stored");
	{
		sqlite3_stmt *q = NULL;
		int found = 0;
		sqlite3_prepare_v2(store_db(conn), "SELECT hash, blog FROM akismet_keys", -1, &q,
				   NULL);
		while (q && sqlite3_step(q) == SQLITE_ROW) {
			const char *h = sqlite3_column_blob(q, 0);
			if (memmem(h, 32, key, AKISMET_KEY_HEX) ||
			    memmem(h, 32, key2, AKISMET_KEY_HEX) ||
			    strstr((const char *)sqlite3_column_text(q, 1), key))
				found = 1;
		}
		sqlite3_finalize(q);
		ok(!found, "no key text in the table");
	}

	is_int(akismet_key_count(conn, id, AKISMET_EVENT_CHECK_SPAM, now), 0, "count a spam check");
	akismet_key_count(conn, id, AKISMET_EVENT_CHECK_HAM, now);
	akismet_key_count(conn, id, AKISMET_EVENT_CHECK_HAM, now);
	akismet_key_count(conn, id, AKISMET_EVENT_SUBMIT_SPAM, now);
	akismet_key_count(conn, id, AKISMET_EVENT_SUBMIT_HAM, now);
	is_int(akismet_key_usage(conn, id, now, false, &usage), 0, "usage");
	s = json_dumps(usage, JSON_COMPACT);
	is_str(s, "{\"limit\":\"none\",\"usage\":5,\"percentage\":\"0.00\",\"throttled\":false}",
	       "usage-limit JSON, in Akismet's field order");
	free(s);
	json_decref(usage);
	is_int(akismet_key_usage(conn, id, now + 40 * 86400, true, &usage), 0, "usage next month");
	s = json_dumps(usage, JSON_COMPACT);
	is_str(s,
	       "{\"limit\":\"none\",\"usage\":0,\"percentage\":\"0.00\",\"throttled\":false,"
	       "\"notice_level\":\"NOTICE_NONE\",\"upgrade\":false}",
	       "a new month starts at 0; extended adds notice_level and upgrade");
	free(s);
	json_decref(usage);
	ok(akismet_key_usage(conn, 9999, now, false, &usage) < 0, "usage of no key fails");

	is_int(akismet_key_sites(conn, id, now, NULL, &sites), 0, "key-sites");
	{
		char month[8];
		time_t t = (time_t)now;
		struct tm tm;
		json_t *site;
		gmtime_r(&t, &tm);
		strftime(month, sizeof(month), "%Y-%m", &tm);
		site = json_array_get(json_object_get(sites, month), 0);
		is_str(json_string_value(json_object_get(site, "site")), "blog.example.org",
		       "the site is the blog's host");
		is_int(json_integer_value(json_object_get(site, "api_calls")), 5, "api_calls");
		is_int(json_integer_value(json_object_get(site, "spam")), 1, "spam");
		is_int(json_integer_value(json_object_get(site, "ham")), 2, "ham");
		is_int(json_integer_value(json_object_get(site, "missed_spam")), 1, "missed_spam");
		is_int(json_integer_value(json_object_get(site, "false_positives")), 1,
		       "false_positives");
		is_int(json_integer_value(json_object_get(sites, "total")), 1, "total");
	}
	json_decref(sites);
	is_int(akismet_key_sites(conn, id, now, "2001-02", &sites), 0, "key-sites, another month");
	is_int(json_array_size(json_object_get(sites, "2001-02")), 0, "lists no site");
	json_decref(sites);
	is_int(akismet_key_sites(conn, id, now, "2001-13", &sites), AKISMET_INVALID,
	       "a bad month is refused");
	is_int(akismet_key_sites(conn, id, now, "01-2001", &sites), AKISMET_INVALID,
	       "a month the wrong way round is refused");

	is_int(akismet_key_list(conn, now, &list), 0, "list");
	is_int(json_array_size(list), 2, "two keys listed");
	is_str(json_string_value(json_object_get(json_array_get(list, 0), "blog")),
	       "https://blog.example.org/", "with the blog");
	is_int(json_integer_value(json_object_get(json_array_get(list, 0), "calls")), 5,
	       "and this month's calls");
	ok(json_is_string(json_object_get(json_array_get(list, 0), "last_used")),
	   "and when it was last used");
	json_decref(list);

	is_int(akismet_key_revoke(conn, keys, key2), 0, "revoke by key text");
	is_int(akismet_key_verify(conn, keys, key2, &got), AKISMET_DENIED,
	       "a revoked key is denied");
	is_int(akismet_key_revoke(conn, keys, key2), AKISMET_NOT_FOUND, "revoking twice");
	is_int(akismet_key_revoke(conn, keys, "nonsense"), AKISMET_NOT_FOUND, "revoke nonsense");
	is_int(akismet_key_revoke_id(conn, id), 0, "revoke by id");
	is_int(akismet_key_verify(conn, keys, key, &got), AKISMET_DENIED, "denied after revoke");
	is_int(akismet_key_revoke_id(conn, 424242), AKISMET_NOT_FOUND, "revoke an unknown id");
	akismet_key_list(conn, now, &list);
	ok(json_is_string(json_object_get(json_array_get(list, 1), "revoked")),
	   "the revoked key stays listed");
	json_decref(list);
	is_int(akismet_key_sites(conn, id, now, NULL, &sites), 0, "key-sites of a revoked key");
	s = json_dumps(sites, JSON_COMPACT);
	ok(s && strstr(s, "\"is_revoked\":true"), "says it is revoked");
	free(s);
	json_decref(sites);
}

static void test_known_label(void)
{
	enum classify_label label;
	char mk[AKISMET_MSG_KEY_MAX];

	message_key_of("comment_content=x&user_ip=1.1.1.1", mk);
	is_int(akismet_known_label(conn, mk, &label), AKISMET_NOT_FOUND, "not learned yet");
	sqlite3_exec(store_db(conn),
		     "INSERT INTO classifier_learned(msg_key, label, tokens, learned) "
		     "VALUES ('akismet:test', 'spam', x'', 0)",
		     NULL, NULL, NULL);
	is_int(akismet_known_label(conn, "akismet:test", &label), 0, "a learned key is found");
	is_int(label, CLASSIFY_LABEL_SPAM, "with its label");
}

static void test_guid(void)
{
	char a[AKISMET_GUID_CHARS], b[AKISMET_GUID_CHARS];

	akismet_guid(a);
	akismet_guid(b);
	ok(strlen(a) == 36 && a[8] == '-' && a[14] == '4', "a version 4 UUID");
	ok(strcmp(a, b) != 0, "each answer gets its own");
}

int main(void)
{
	unsigned char master[KEYS_MASTER_BYTES] = {1, 2, 3};

	if (!mkdtemp(dir) || keys_new_from_bytes(&keys, master) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (store_new(&st, path, 1) != 0)
		return 1;
	conn = store_acquire(st);

	test_parse();
	test_keys_from_request();
	test_values();
	test_message_key();
	test_site_keys();
	test_known_label();
	test_guid();

	store_release(st, conn);
	store_free(st);
	keys_free(keys);
	unlink(path);
	{
		char p[320];
		snprintf(p, sizeof(p), "%s-wal", path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", path);
		unlink(p);
	}
	rmdir(dir);
	{
		/* A refused key leaves nothing behind: a valid key followed by
		 * junk must not pass as the valid key (found by fuzz-akismet). */
		char out[AKISMET_KEY_CHARS];
		memset(out, 'x', sizeof(out));
		ok(!akismet_key_normalise("0123456789abX", out) && out[0] == '\0',
		   "a key with a trailing non-hex character is refused and out is empty");
		memset(out, 'x', sizeof(out));
		ok(!akismet_key_normalise("0123456789abc", out) && out[0] == '\0',
		   "a 13-digit key is refused and out is empty");
		memset(out, 'x', sizeof(out));
		ok(akismet_key_normalise(" 0123456789AB ", out) && strcmp(out, "0123456789ab") == 0,
		   "a padded upper-case key is normalised");
	}
	return done_testing();
}
