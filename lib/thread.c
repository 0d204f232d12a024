#include "thread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* A row: the view's fields, its strings as offsets into the tree's
 * strings, and its place (indexes into the tree's nodes). */
struct node {
	int64_t id, parent, created, likes;
	size_t author, url, html, avatar;
	uint32_t up;	      /* the node whose replies hold it; NONE: top level */
	uint32_t first, last; /* its replies */
	uint32_t next;	      /* its next sibling */
	bool deleted, author_badge;
	bool shown; /* set by mark_shown */
};

/* The id index: open addressing, linear probing, a power of two slots
 * that are never more than half full. */
struct slot {
	int64_t id;
	uint32_t node; /* the latest row with this id, or NONE */
	bool used, kept;
};

struct thread_tree {
	struct node *nodes;
	uint32_t n, alloc;
	uint32_t first, last; /* the top level */
	struct slot *slots;
	size_t nslots, used;
	struct buf strings; /* NUL-terminated, one after the other */
};

int thread_tree_new(struct thread_tree **out)
{
	struct thread_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->first = t->last = NONE;
	t->nslots = 64;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	buf_init(&t->strings, THREAD_MAX_BYTES);
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

struct thread_tree *thread_tree_free(struct thread_tree *t)
{
	if (!t)
		return NULL;
	free(t->nodes);
	free(t->slots);
	buf_free(&t->strings);
	free(t);
	return NULL;
}

/* The slot of id, or the empty slot where it would go. */
static struct slot *slot_find(const struct slot *slots, size_t nslots, int64_t id)
{
	size_t i = (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15u) >> 32) & (nslots - 1);

	while (slots[i].used && slots[i].id != id)
		i = (i + 1) & (nslots - 1);
	return (struct slot *)&slots[i];
}

/* The slot of id, added (node NONE, not kept) if it is new.  NULL on OOM. */
static struct slot *slot_get(struct thread_tree *t, int64_t id)
{
	struct slot *s = slot_find(t->slots, t->nslots, id);

	if (s->used)
		return s;
	if (2 * (t->used + 1) > t->nslots) {
		size_t n = 2 * t->nslots;
		struct slot *slots = calloc(n, sizeof(*slots));
		if (!slots)
			return NULL;
		for (size_t i = 0; i < t->nslots; i++) {
			if (t->slots[i].used)
				*slot_find(slots, n, t->slots[i].id) = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = n;
		s = slot_find(t->slots, t->nslots, id);
	}
	*s = (struct slot){.id = id, .node = NONE, .used = true};
	t->used++;
	return s;
}

/* Copies s (NULL: "") into the tree's strings; *off gets its offset. */
static int keep_string(struct thread_tree *t, const char *s, size_t *off)
{
	int r;

	*off = t->strings.len;
	r = buf_append(&t->strings, s ? s : "", (s ? strlen(s) : 0) + 1);
	return r == BUF_TOO_BIG ? -E2BIG : r;
}

/* Room for one node more.  0 or -ENOMEM. */
static int nodes_room(struct thread_tree *t)
{
	uint32_t alloc = t->alloc ? 2 * t->alloc : 64;
	struct node *nodes;

	if (t->n < t->alloc)
		return 0;
	nodes = realloc(t->nodes, alloc * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	t->nodes = nodes;
	t->alloc = alloc;
	return 0;
}

int thread_tree_add(struct thread_tree *t, const struct comment_view *v)
{
	struct slot *s = NULL;
	struct node *n;
	uint32_t up = NONE;
	int r;

	if (t->n >= THREAD_MAX_ROWS)
		return 1;
	if (v->parent) {
		/* A reply whose parent is on an earlier page goes first on this
		 * one, its "parent" telling where it belongs. */
		s = slot_find(t->slots, t->nslots, v->parent);
		up = s->used ? s->node : NONE;
	}
	r = nodes_room(t);
	if (r < 0)
		return r;
	n = &t->nodes[t->n];
	*n = (struct node){.id = v->id,
			   .parent = v->parent,
			   .created = v->created,
			   .likes = v->likes,
			   .up = up,
			   .first = NONE,
			   .last = NONE,
			   .next = NONE,
			   .deleted = v->deleted,
			   .author_badge = v->author_badge};
	if (!v->deleted) {
		r = keep_string(t, v->author, &n->author);
		if (r == 0)
			r = keep_string(t, v->url, &n->url);
		if (r == 0)
			r = keep_string(t, v->html, &n->html);
		if (r == 0)
			r = keep_string(t, v->avatar, &n->avatar);
		if (r < 0)
			return r;
	}
	s = slot_get(t, v->id);
	if (!s)
		return -ENOMEM;
	s->node = t->n;
	if (up == NONE && t->last == NONE)
		t->first = t->n;
	else if (up == NONE)
		t->nodes[t->last].next = t->n;
	else if (t->nodes[up].last == NONE)
		t->nodes[up].first = t->n;
	else
		t->nodes[t->nodes[up].last].next = t->n;
	*(up == NONE ? &t->last : &t->nodes[up].last) = t->n++;
	return 0;
}

int thread_tree_keep(struct thread_tree *t, int64_t id)
{
	struct slot *s = slot_get(t, id);

	if (!s)
		return -ENOMEM;
	s->kept = true;
	return 0;
}

/* Marks the nodes the output shows: published ones, and tombstones that
 * are kept or have something shown below them.  A node's replies come
 * after it, so one pass from the last node settles every one. */
static void mark_shown(struct thread_tree *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		t->nodes[i].shown = false;
	for (uint32_t i = t->n; i-- > 0;) {
		struct node *n = &t->nodes[i];
		if (!n->shown)
			n->shown = !n->deleted || slot_find(t->slots, t->nslots, n->id)->kept;
		if (n->shown && n->up != NONE)
			t->nodes[n->up].shown = true;
	}
}

/* Node i as a view (its strings borrowed from the tree). */
static struct comment_view node_view(const struct thread_tree *t, uint32_t i)
{
	const struct node *n = &t->nodes[i];
	const char *s = t->strings.data;

	return (struct comment_view){.id = n->id,
				     .parent = n->parent,
				     .author = n->deleted ? NULL : s + n->author,
				     .url = n->deleted ? NULL : s + n->url,
				     .created = n->created,
				     .html = n->deleted ? NULL : s + n->html,
				     .avatar = n->deleted ? NULL : s + n->avatar,
				     .deleted = n->deleted,
				     .author_badge = n->author_badge,
				     .likes = n->likes};
}

/* Appends node i, with an empty "replies" (*replies, borrowed), to list.
 * 0 or -ENOMEM. */
static int node_json(const struct thread_tree *t, uint32_t i, json_t *list, json_t **replies)
{
	struct comment_view v = node_view(t, i);
	json_t *node = view_public(&v), *arr = json_array();
	int r = node && arr && json_object_set(node, "replies", arr) == 0 ? 0 : -ENOMEM;

	json_decref(arr); /* node's now */
	*replies = arr;
	if (r < 0) {
		json_decref(node);
		return r;
	}
	return json_array_append_new(list, node) == 0 ? 0 : -ENOMEM;
}

int thread_tree_json(struct thread_tree *t, json_t **out)
{
	json_t **replies = calloc(t->n ? t->n : 1, sizeof(*replies)), *top = json_array();
	int r = replies && top ? 0 : -ENOMEM;

	mark_shown(t);
	/* Nodes in id order, each appended to its parent's replies: the
	 * order of every list is the order in which its rows came. */
	for (uint32_t i = 0; r == 0 && i < t->n; i++) {
		uint32_t up = t->nodes[i].up;
		if (t->nodes[i].shown)
			r = node_json(t, i, up == NONE ? top : replies[up], &replies[i]);
	}
	free(replies);
	if (r < 0) {
		json_decref(top);
		return r;
	}
	*out = top;
	return 0;
}

/* The first shown node of the list that starts at i, or NONE. */
static uint32_t next_shown(const struct thread_tree *t, uint32_t i)
{
	while (i != NONE && !t->nodes[i].shown)
		i = t->nodes[i].next;
	return i;
}

/* Appends node i's object up to its replies' '['. */
static int node_open(const struct thread_tree *t, uint32_t i, struct buf *out)
{
	struct comment_view v = node_view(t, i);
	int r = buf_append(out, "{", 1);

	if (r == 0)
		r = view_public_members(out, &v);
	return r ? r : buf_puts(out, ",\"replies\":[");
}

int thread_tree_text(struct thread_tree *t, struct buf *out)
{
	uint32_t i, below;
	int r;

	mark_shown(t);
	r = buf_append(out, "[", 1);
	/* Depth first without recursion (a reply chain may be long): down
	 * into the replies, else close nodes until one has a next sibling. */
	for (i = next_shown(t, t->first); r == 0 && i != NONE;) {
		r = node_open(t, i, out);
		below = next_shown(t, t->nodes[i].first);
		if (below != NONE) {
			i = below;
			continue;
		}
		while (r == 0 && i != NONE) {
			r = buf_puts(out, "]}");
			below = next_shown(t, t->nodes[i].next);
			if (below != NONE) {
				r = r ? r : buf_append(out, ",", 1);
				i = below;
				break;
			}
			i = t->nodes[i].up;
		}
	}
	return r ? r : buf_append(out, "]", 1);
}
