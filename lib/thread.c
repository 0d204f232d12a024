#include "thread.h"

#include "comment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct thread_tree {
	json_t *top;   /* array of top-level nodes */
	json_t *index; /* id (decimal text) -> borrowed "replies" array */
	size_t rows;
};

int thread_tree_new(struct thread_tree **out)
{
	struct thread_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->top = json_array();
	t->index = json_object();
	if (!t->top || !t->index) {
		thread_tree_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

struct thread_tree *thread_tree_free(struct thread_tree *t)
{
	if (!t)
		return NULL;
	json_decref(t->top);
	json_decref(t->index);
	free(t);
	return NULL;
}

int thread_tree_add(struct thread_tree *t, const struct thread_row *row)
{
	char key[24], created[21];
	json_t *siblings = t->top, *node, *replies;

	if (t->rows >= THREAD_MAX_ROWS)
		return 1;
	if (row->parent) {
		snprintf(key, sizeof(key), "%lld", (long long)row->parent);
		siblings = json_object_get(t->index, key);
		if (!siblings)
			return 1;
	}
	replies = json_array();
	if (!replies)
		return -ENOMEM;
	comment_format_time(row->created, created);
	if (row->deleted)
		node = json_pack("{s:I, s:o, s:b, s:o}", "id", (json_int_t)row->id, "parent",
				 row->parent ? json_integer(row->parent) : json_null(), "deleted",
				 1, "replies", json_incref(replies));
	else
		node =
		    json_pack("{s:I, s:o, s:s, s:o, s:s, s:s, s:s, s:o}", "id", (json_int_t)row->id,
			      "parent", row->parent ? json_integer(row->parent) : json_null(),
			      "author", row->author ? row->author : "", "url",
			      row->url ? json_string(row->url) : json_null(), "created", created,
			      "html", row->html ? row->html : "", "avatar",
			      row->avatar ? row->avatar : "", "replies", json_incref(replies));
	if (!node) {
		json_decref(replies);
		return -ENOMEM;
	}
	snprintf(key, sizeof(key), "%lld", (long long)row->id);
	if (json_array_append_new(siblings, node) != 0 ||
	    json_object_set_new(t->index, key, replies) != 0)
		return -ENOMEM;
	t->rows++;
	return 0;
}

/* Removes tombstones with nothing left below them, deepest first. */
static void prune(json_t *list)
{
	size_t i = json_array_size(list);

	while (i-- > 0) {
		json_t *node = json_array_get(list, i);
		json_t *replies = json_object_get(node, "replies");
		prune(replies);
		if (json_is_true(json_object_get(node, "deleted")) && json_array_size(replies) == 0)
			json_array_remove(list, i);
	}
}

int thread_tree_json(struct thread_tree *t, json_t **out)
{
	prune(t->top);
	*out = json_incref(t->top);
	return 0;
}
