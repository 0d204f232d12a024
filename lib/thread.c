#include "thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct thread_tree {
	json_t *top;   /* array of top-level nodes */
	json_t *index; /* id (decimal text) -> borrowed "replies" array */
	json_t *kept;  /* id (decimal text) -> true: tombstones not to prune */
	size_t rows;
};

int thread_tree_new(struct thread_tree **out)
{
	struct thread_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->top = json_array();
	t->index = json_object();
	t->kept = json_object();
	if (!t->top || !t->index || !t->kept) {
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
	json_decref(t->kept);
	free(t);
	return NULL;
}

int thread_tree_add(struct thread_tree *t, const struct comment_view *v)
{
	struct comment_view node_view = *v;
	json_t *siblings = t->top, *node, *replies;
	char key[24];

	if (t->rows >= THREAD_MAX_ROWS)
		return 1;
	if (v->parent) {
		/* A reply whose parent is on an earlier page goes first on this
		 * one, its "parent" telling where it belongs. */
		snprintf(key, sizeof(key), "%lld", (long long)v->parent);
		siblings = json_object_get(t->index, key);
		if (!siblings)
			siblings = t->top;
	}
	node_view.thread = NULL;
	node = view_public(&node_view);
	replies = json_array();
	if (!node || !replies || json_object_set(node, "replies", replies) != 0) {
		json_decref(node);
		json_decref(replies);
		return -ENOMEM;
	}
	snprintf(key, sizeof(key), "%lld", (long long)v->id);
	if (json_array_append_new(siblings, node) != 0 ||
	    json_object_set_new(t->index, key, replies) != 0)
		return -ENOMEM;
	t->rows++;
	return 0;
}

int thread_tree_keep(struct thread_tree *t, int64_t id)
{
	char key[24];

	snprintf(key, sizeof(key), "%lld", (long long)id);
	return json_object_set_new(t->kept, key, json_true()) == 0 ? 0 : -ENOMEM;
}

/* Removes tombstones with nothing left below them, deepest first. */
static void prune(const struct thread_tree *t, json_t *list)
{
	size_t i = json_array_size(list);
	char key[24];

	while (i-- > 0) {
		json_t *node = json_array_get(list, i);
		json_t *replies = json_object_get(node, "replies");
		prune(t, replies);
		if (!json_is_true(json_object_get(node, "deleted")) ||
		    json_array_size(replies) != 0)
			continue;
		snprintf(key, sizeof(key), "%lld",
			 (long long)json_integer_value(json_object_get(node, "id")));
		if (!json_object_get(t->kept, key))
			json_array_remove(list, i);
	}
}

int thread_tree_json(struct thread_tree *t, json_t **out)
{
	prune(t, t->top);
	*out = json_incref(t->top);
	return 0;
}
