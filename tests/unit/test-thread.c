/* Unit tests for lib/thread: nesting rows into the reply tree. */
#include "tap.h"

#include "jsontext.h"
#include "thread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static int add(struct thread_tree *t, int64_t id, int64_t parent)
{
	char author[32];
	struct comment_view row = {
	    .id = id,
	    .parent = parent,
	    .author = author,
	    .url = NULL,
	    .created = 1700000000 + id,
	    .html = "<p>x</p>",
	    .avatar = "0123456789abcdef0123456789abcdef",
	};

	snprintf(author, sizeof(author), "author %lld", (long long)id);
	return thread_tree_add(t, &row);
}

/* The tree as "id(child child) id" for compact comparisons. */
static void shape(json_t *arr, char *out, size_t cap)
{
	size_t i;
	json_t *n;

	json_array_foreach(arr, i, n)
	{
		size_t len = strlen(out);
		json_t *replies = json_object_get(n, "replies");
		snprintf(out + len, cap - len, "%s%lld", i ? " " : "",
			 (long long)json_integer_value(json_object_get(n, "id")));
		if (json_array_size(replies)) {
			len = strlen(out);
			snprintf(out + len, cap - len, "(");
			shape(replies, out, cap);
			len = strlen(out);
			snprintf(out + len, cap - len, ")");
		}
	}
}

static bool parents_consistent(json_t *arr, json_int_t parent)
{
	size_t i;
	json_t *n;

	json_array_foreach(arr, i, n)
	{
		json_t *p = json_object_get(n, "parent");
		if (parent == 0 ? !json_is_null(p) : json_integer_value(p) != parent)
			return false;
		if (!parents_consistent(json_object_get(n, "replies"),
					json_integer_value(json_object_get(n, "id"))))
			return false;
	}
	return true;
}

/* Trees written both ways, and how many texts were not their JSON's dump. */
static unsigned texts, texts_differ;

/* thread_tree_json, with thread_tree_text compared with the json's dump. */
static int tree_json(struct thread_tree *t, json_t **out)
{
	int r = thread_tree_json(t, out);
	char *want = r == 0 ? json_dumps(*out, JSON_COMPACT) : NULL;
	struct buf b;
	int rt;

	buf_init(&b, (size_t)1 << 30);
	rt = thread_tree_text(t, &b);
	texts++;
	if (!want || rt != 0 || strcmp(b.data, want) != 0) {
		if (texts_differ++ < 3)
			diag("text %d: %.300s\n dump: %.300s", rt, b.data ? b.data : "",
			     want ? want : "");
	}
	buf_free(&b);
	free(want);
	return r;
}

/* thread_tree_text of t, in a buffer of at most max bytes (caller frees). */
static char *tree_text(struct thread_tree *t, size_t max, int *r)
{
	struct buf b;

	buf_init(&b, max);
	*r = thread_tree_text(t, &b);
	return buf_steal(&b);
}

/* Tombstones a page keeps for its next one, strings the writer refuses,
 * the text's cap, a long chain. */
static void test_text(void)
{
	struct thread_tree *t = NULL;
	struct comment_view del = {.id = 2, .parent = 1, .deleted = true};
	json_t *j = NULL;
	char *s;
	int r;

	thread_tree_new(&t);
	add(t, 1, 0);
	thread_tree_add(t, &del); /* 2 under 1: kept */
	del.id = 3;
	thread_tree_add(t, &del); /* 3 under 1: not kept */
	del.id = 4;
	del.parent = 0;
	thread_tree_add(t, &del); /* 4 top level: kept before it came */
	is_int(thread_tree_keep(t, 2), 0, "thread_tree_keep");
	thread_tree_keep(t, 4);
	thread_tree_keep(t, 99); /* never comes */
	s = tree_text(t, 1 << 20, &r);
	is_int(r, 0, "thread_tree_text");
	is_str(s,
	       "[{\"id\":1,\"parent\":null,\"author\":\"author 1\",\"url\":null,"
	       "\"created\":\"2023-11-14T22:13:21Z\",\"html\":\"<p>x</p>\","
	       "\"avatar\":\"0123456789abcdef0123456789abcdef\",\"author_badge\":false,"
	       "\"likes\":0,\"replies\":[{\"id\":2,\"parent\":1,\"deleted\":true,"
	       "\"replies\":[]}]},{\"id\":4,\"parent\":null,\"deleted\":true,\"replies\":[]}]",
	       "kept tombstones stay without replies, the others go");
	free(s);
	tree_json(t, &j);
	json_decref(j);
	s = tree_text(t, 40, &r);
	is_int(r, BUF_TOO_BIG, "past the buffer's cap: BUF_TOO_BIG");
	free(s);
	thread_tree_free(t);

	/* A string that is not UTF-8: the JSON fails as jansson refuses it,
	 * the text says so. */
	{
		struct comment_view bad = {.id = 1, .author = "A\xc0\xafn", .html = "<p>x</p>"};
		thread_tree_new(&t);
		is_int(thread_tree_add(t, &bad), 0, "a row whose author is not UTF-8 is added");
		is_int(thread_tree_json(t, &j), -ENOMEM, "  its JSON fails");
		s = tree_text(t, 1 << 20, &r);
		is_int(r, JSONTEXT_NOT_UTF8, "  its text says JSONTEXT_NOT_UTF8");
		free(s);
		thread_tree_free(t);
	}

	/* A long chain is written without recursion. */
	{
		size_t opens = 0;
		thread_tree_new(&t);
		for (int64_t id = 1; id <= 5000; id++)
			add(t, id, id - 1);
		tree_json(t, &j);
		json_decref(j);
		s = tree_text(t, (size_t)1 << 30, &r);
		for (const char *p = s; (p = strstr(p, "\"replies\":[")); p++)
			opens++;
		ok(r == 0 && opens == 5000, "a 5000-long chain: 5000 nested replies");
		free(s);
		thread_tree_free(t);
	}
	is_int(texts_differ, 0, "every tree's text (%u) is its JSON's dump", texts);
}

int main(void)
{
	struct thread_tree *t = NULL;
	json_t *j = NULL, *n;
	char s[1024] = "";

	/* Empty. */
	is_int(thread_tree_new(&t), 0, "thread_tree_new");
	is_int(tree_json(t, &j), 0, "json of an empty tree");
	ok(json_is_array(j) && json_array_size(j) == 0, "is an empty array");
	json_decref(j);
	t = thread_tree_free(t);
	ok(t == NULL && thread_tree_free(NULL) == NULL, "free returns NULL, NULL-safe");

	/* Nesting and order. */
	thread_tree_new(&t);
	is_int(add(t, 1, 0), 0, "top-level 1");
	is_int(add(t, 2, 0), 0, "top-level 2");
	is_int(add(t, 3, 1), 0, "3 replies to 1");
	is_int(add(t, 4, 3), 0, "4 replies to 3");
	is_int(add(t, 5, 1), 0, "5 replies to 1");
	is_int(add(t, 6, 2), 0, "6 replies to 2");
	is_int(add(t, 7, 4), 0, "7 replies to 4");
	is_int(add(t, 8, 0), 0, "top-level 8");
	is_int(add(t, 13, 5), 0, "13 replies to 5");
	tree_json(t, &j);
	shape(j, s, sizeof(s));
	is_str(s, "1(3(4(7)) 5(13)) 2(6) 8", "nesting and oldest-first order at every level");
	ok(parents_consistent(j, 0), "every node's parent is its container's id");
	json_decref(j);
	/* Replies whose parent is on an earlier page come at the top level,
	 * saying where they belong, with their own replies under them. */
	is_int(add(t, 20, 9), 0, "20 replies to 9, not on this page");
	is_int(add(t, 21, 20), 0, "21 replies to 20");
	is_int(add(t, 22, 99), 0, "22 replies to 99, not on this page");
	tree_json(t, &j);
	s[0] = '\0';
	shape(j, s, sizeof(s));
	is_str(s, "1(3(4(7)) 5(13)) 2(6) 8 20(21) 22", "continuations at the top level");
	{
		json_t *c20 = json_array_get(j, 3), *c22 = json_array_get(j, 4);
		is_int(json_integer_value(json_object_get(c20, "parent")), 9,
		       "with their parent's id (20 -> 9)");
		is_int(json_integer_value(json_object_get(c22, "parent")), 99, "(22 -> 99)");
		ok(parents_consistent(json_object_get(c20, "replies"), 20),
		   "and their replies nested under them");
	}

	/* JSON shape of one node. */
	n = json_array_get(j, 0);
	ok(json_is_object(n), "a node is an object");
	is_int(json_object_size(n), 10, "with exactly 10 members");
	ok(json_is_false(json_object_get(n, "author_badge")), "  author_badge false");
	ok(json_is_integer(json_object_get(n, "id")) &&
	       json_integer_value(json_object_get(n, "id")) == 1,
	   "id is an integer");
	ok(json_is_null(json_object_get(n, "parent")), "a top-level parent is null");
	is_str(json_string_value(json_object_get(n, "author")), "author 1", "author");
	ok(json_is_null(json_object_get(n, "url")), "a missing url is null");
	is_str(json_string_value(json_object_get(n, "created")), "2023-11-14T22:13:21Z",
	       "created is RFC 3339 UTC");
	is_str(json_string_value(json_object_get(n, "html")), "<p>x</p>", "html");
	is_str(json_string_value(json_object_get(n, "avatar")), "0123456789abcdef0123456789abcdef",
	       "avatar");
	ok(json_is_integer(json_object_get(n, "likes")), "likes is a count");
	ok(json_is_array(json_object_get(n, "replies")), "replies is an array");
	n = json_array_get(json_object_get(n, "replies"), 0);
	ok(json_is_integer(json_object_get(n, "parent")) &&
	       json_integer_value(json_object_get(n, "parent")) == 1,
	   "a reply's parent is an integer");
	n = json_array_get(j, 2);
	is_int(json_array_size(json_object_get(n, "replies")), 0,
	       "a leaf has an empty replies array");
	{
		char *dump = json_dumps(j, JSON_COMPACT);
		ok(dump && !strstr(dump, "\"id\":10") && !strstr(dump, "\"id\":9,"),
		   "rows never added appear nowhere");
		free(dump);
	}

	/* The JSON is independent of the tree's lifetime. */
	thread_tree_free(t);
	ok(json_array_size(j) == 5, "the JSON outlives the tree");
	json_decref(j);

	/* Strings are copied; url kept; NULL strings become "". */
	{
		char author[] = "Ann", url[] = "https://ann.example", html[] = "<p>hi</p>";
		struct comment_view row = {.id = 5,
					   .parent = 0,
					   .author = author,
					   .url = url,
					   .created = 0,
					   .html = html,
					   .avatar = NULL};
		thread_tree_new(&t);
		is_int(thread_tree_add(t, &row), 0, "a row with url");
		/* Overwrite the caller's buffers: the tree must hold copies. */
		memset(author, 'X', strlen(author));
		memset(url, 'X', strlen(url));
		memset(html, 'X', strlen(html));
		tree_json(t, &j);
		n = json_array_get(j, 0);
		is_str(json_string_value(json_object_get(n, "author")), "Ann", "author was copied");
		is_str(json_string_value(json_object_get(n, "url")), "https://ann.example",
		       "url was copied");
		is_str(json_string_value(json_object_get(n, "html")), "<p>hi</p>",
		       "html was copied");
		is_str(json_string_value(json_object_get(n, "avatar")), "", "NULL avatar is \"\"");
		is_str(json_string_value(json_object_get(n, "created")), "1970-01-01T00:00:00Z",
		       "epoch formats");
		json_decref(j);
		thread_tree_free(t);
	}

	/* Tombstones: a deleted row stays only while a published reply hangs
	 * below it. */
	{
		struct comment_view del = {.id = 2, .parent = 1, .deleted = true};
		thread_tree_new(&t);
		add(t, 1, 0);
		is_int(thread_tree_add(t, &del), 0, "a deleted row 2 under 1");
		add(t, 3, 2);
		del.id = 4;
		del.parent = 1;
		thread_tree_add(t, &del); /* deleted leaf */
		del.id = 5;
		del.parent = 0;
		thread_tree_add(t, &del); /* deleted top-level with a deleted reply */
		del.id = 6;
		del.parent = 5;
		thread_tree_add(t, &del);
		add(t, 7, 0);
		tree_json(t, &j);
		s[0] = '\0';
		shape(j, s, sizeof(s));
		is_str(s, "1(2(3)) 7", "tombstones without published replies are pruned");
		n = json_array_get(json_object_get(json_array_get(j, 0), "replies"), 0);
		ok(json_is_true(json_object_get(n, "deleted")), "a tombstone says deleted: true");
		ok(!json_object_get(n, "author") && !json_object_get(n, "html") &&
		       !json_object_get(n, "avatar") && !json_object_get(n, "url"),
		   "and carries no author, html, avatar or url");
		is_int(json_integer_value(json_object_get(n, "parent")), 1, "but keeps its parent");
		json_decref(j);
		thread_tree_free(t);
	}

	/* A long chain nests fully (depth capping is comment_create's job). */
	{
		json_t *cur;
		int depth = 0;
		thread_tree_new(&t);
		add(t, 1, 0);
		for (int64_t id = 2; id <= 60; id++)
			add(t, id, id - 1);
		tree_json(t, &j);
		for (cur = json_array_get(j, 0); cur;
		     cur = json_array_get(json_object_get(cur, "replies"), 0))
			depth++;
		is_int(depth, 60, "a 60-long reply chain nests 60 deep");
		json_decref(j);
		thread_tree_free(t);
	}

	/* The row cap. */
	{
		int r = 0;
		thread_tree_new(&t);
		for (int64_t id = 1; id <= THREAD_MAX_ROWS && r == 0; id++)
			r = add(t, id, id > 1 && id % 2 ? id - 1 : 0);
		is_int(r, 0, "%d rows are accepted", THREAD_MAX_ROWS);
		is_int(add(t, THREAD_MAX_ROWS + 1, 0), 1, "row %d is left out",
		       THREAD_MAX_ROWS + 1);
		tree_json(t, &j);
		is_int(json_array_size(j), THREAD_MAX_ROWS / 2 + 1,
		       "top-level count under the cap");
		json_decref(j);
		thread_tree_free(t);
	}
	test_text();
	return done_testing();
}
