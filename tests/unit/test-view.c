/* Unit tests for lib/view: the public and poster forms of a comment have
 * fixed key sets, whatever the comment's fate. */
#include "tap.h"

#include "jsontext.h"
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* The object's keys, sorted, comma-separated. */
static void keys_of(json_t *o, char *out, size_t cap)
{
	const char *names[32];
	size_t n = 0, len = 0;
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (n < 32)
			names[n++] = k;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (strcmp(names[j], names[i]) < 0) {
				const char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
		}
	}
	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", names[i]);
}

static void test_public(void)
{
	struct comment_view v = {7,
				 "/post",
				 3,
				 "Ann",
				 "https://ann.example",
				 1700000000,
				 "<p>Hi</p>",
				 "0123456789abcdef0123456789abcdef",
				 true,
				 false,
				 false,
				 3};
	char keys[300];
	json_t *j = view_public(&v);

	keys_of(j, keys, sizeof(keys));
	is_str(keys, "author,author_badge,avatar,created,html,id,likes,parent,thread,url",
	       "public keys");
	is_int(json_integer_value(json_object_get(j, "likes")), 3, "likes");
	is_int(json_integer_value(json_object_get(j, "id")), 7, "id");
	is_int(json_integer_value(json_object_get(j, "parent")), 3, "parent");
	is_str(json_string_value(json_object_get(j, "created")), "2023-11-14T22:13:20Z",
	       "created as RFC 3339");
	is_str(json_string_value(json_object_get(j, "url")), "https://ann.example", "url");
	ok(json_is_false(json_object_get(j, "author_badge")),
	   "a reader's comment: author_badge false");
	json_decref(j);
	v.author_badge = true;
	j = view_public(&v);
	ok(json_is_true(json_object_get(j, "author_badge")),
	   "a moderator's reply: author_badge true");
	keys_of(j, keys, sizeof(keys));
	is_str(keys, "author,author_badge,avatar,created,html,id,likes,parent,thread,url",
	       "  with the same keys");
	json_decref(j);
	v.author_badge = false;

	v.thread = NULL;
	v.parent = 0;
	v.url = "";
	j = view_public(&v);
	keys_of(j, keys, sizeof(keys));
	is_str(keys, "author,author_badge,avatar,created,html,id,likes,parent,url",
	       "a tree node has no thread");
	ok(json_is_null(json_object_get(j, "parent")), "top level: parent null");
	ok(json_is_null(json_object_get(j, "url")), "an empty website is null");
	json_decref(j);

	v.url = NULL;
	v.deleted = true;
	j = view_public(&v);
	keys_of(j, keys, sizeof(keys));
	is_str(keys, "deleted,id,parent", "a tombstone shows nothing of the comment");
	ok(json_is_true(json_object_get(j, "deleted")), "deleted: true");
	json_decref(j);
}

static void test_poster(void)
{
	struct comment_view v = {9,    "/p",	   0,	       "Bob",
				 NULL, 1700000000, "<p>x</p>", "00ff00ff00ff00ff00ff00ff00ff00ff",
				 true, false,	   false,      0};
	char keys_pub[300], keys_held[300];
	json_t *pub, *held;

	pub = view_poster(&v, "tok", 1700000900);
	v.published = false;
	held = view_poster(&v, "tok", 1700000900);
	keys_of(pub, keys_pub, sizeof(keys_pub));
	keys_of(held, keys_held, sizeof(keys_held));
	is_str(keys_pub,
	       "author,author_badge,avatar,created,edit_token,edit_until,html,id,likes,parent,"
	       "status,thread,url",
	       "the answer to a new comment");
	is_str(keys_held, keys_pub, "published and held answers have the same keys");
	is_str(json_string_value(json_object_get(pub, "status")), "published", "published");
	is_str(json_string_value(json_object_get(held, "status")), "pending",
	       "anything not published says pending");
	is_str(json_string_value(json_object_get(pub, "edit_until")), "2023-11-14T22:28:20Z",
	       "edit_until as RFC 3339");
	json_decref(pub);
	json_decref(held);

	pub = view_poster(&v, NULL, 0);
	keys_of(pub, keys_pub, sizeof(keys_pub));
	is_str(keys_pub,
	       "author,author_badge,avatar,created,html,id,likes,parent,status,thread,url",
	       "an edit's answer has no token");
	json_decref(pub);
}

/* view_public_members(v) in braces: the dump of view_public(v), or both
 * refuse (view_public NULL, JSONTEXT_NOT_UTF8). */
static bool members_are_dump(const struct comment_view *v)
{
	json_t *j = view_public(v);
	char *want = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct buf b;
	bool same;
	int r;

	buf_init(&b, 1 << 16);
	r = buf_puts(&b, "{");
	r = r ? r : view_public_members(&b, v);
	r = r ? r : buf_puts(&b, "}");
	same = want ? r == 0 && strcmp(b.data, want) == 0 : !j && r == JSONTEXT_NOT_UTF8;
	if (!same)
		diag("got %s (%d)\n want %s", b.data ? b.data : "", r, want ? want : "(refused)");
	buf_free(&b);
	free(want);
	json_decref(j);
	return same;
}

static void test_members(void)
{
	struct comment_view v = {7,
				 "/p\xc3\xa9/\"q\"",
				 3,
				 "Ann \"A\" \\ \x01\x1f \xe2\x80\xa8",
				 "https://ann.example/a\"b",
				 1700000000,
				 "<p>Hi\n\"there\"</p>\t\xf0\x9f\x98\x80",
				 "0123456789abcdef0123456789abcdef",
				 true,
				 false,
				 true,
				 -3};
	struct buf b;

	ok(members_are_dump(&v), "the members as text: view_public's dump (thread, quotes, "
				 "controls, UTF-8)");
	v.thread = NULL;
	v.parent = 0;
	v.url = "";
	v.author_badge = false;
	v.likes = 12;
	ok(members_are_dump(&v), "a tree node: no thread, parent and url null");
	v.url = NULL;
	v.author = NULL;
	v.html = NULL;
	v.avatar = NULL;
	ok(members_are_dump(&v), "NULL strings as \"\" and null");
	v.created = -1;
	v.id = INT64_MAX;
	v.parent = INT64_MIN;
	ok(members_are_dump(&v), "extreme integers and times");
	v.deleted = true;
	v.thread = "/p";
	ok(members_are_dump(&v), "a tombstone: id, parent, deleted (no thread)");
	buf_init(&b, 100);
	view_public_members(&b, &v);
	is_str(b.data,
	       "\"id\":9223372036854775807,\"parent\":-9223372036854775808,\"deleted\":true",
	       "  exactly");
	buf_free(&b);
	v.deleted = false;
	{
		/* Each string view_public would refuse, in turn. */
		const char **field[] = {&v.author, &v.url, &v.html, &v.thread};
		static const char *const bad[] = {"An\xffn", "https://x.example/\xed\xa0\x80",
						  "<p>\xc0\xaf</p>", "/\xff"};
		static const char *const names[] = {"author", "url", "html", "thread"};
		for (size_t i = 0; i < 4; i++) {
			const char *kept = *field[i];
			*field[i] = bad[i];
			ok(members_are_dump(&v), "a %s that is not UTF-8: both refuse", names[i]);
			*field[i] = kept;
		}
	}
	buf_init(&b, 40);
	is_int(view_public_members(&b, &v), BUF_TOO_BIG, "past the buffer's cap: BUF_TOO_BIG");
	buf_free(&b);
}

int main(void)
{
	test_public();
	test_poster();
	test_members();
	return done_testing();
}
