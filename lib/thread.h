/* thread: nests a thread's comment rows into the reply tree.
 *
 * Rows are added in id order (a parent always precedes its replies); each
 * becomes {"id", "parent", "author", "url", "created", "html", "avatar",
 * "replies": [...]}.  A row whose parent was not added (hidden or on another
 * page) is left out together with its replies.  A deleted row is a
 * tombstone {"id", "parent", "deleted": true, "replies"} that the JSON keeps
 * only while something published hangs below it.
 */
#ifndef COMMENTD_THREAD_H
#define COMMENTD_THREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define THREAD_MAX_ROWS 100000

struct thread_tree;

struct thread_row {
	int64_t id;
	int64_t parent; /* 0: top level */
	const char *author;
	const char *url; /* may be NULL */
	int64_t created;
	const char *html;
	const char *avatar;
	bool deleted; /* a tombstone: shown only while published replies hang below */
};

/* 0 or -ENOMEM. */
int thread_tree_new(struct thread_tree **out);

/* NULL-safe; returns NULL. */
struct thread_tree *thread_tree_free(struct thread_tree *t);

/* Adds a row (strings are copied).  0, 1 if the row was left out (unknown
 * parent, or more than THREAD_MAX_ROWS), -ENOMEM. */
int thread_tree_add(struct thread_tree *t, const struct thread_row *row);

/* The top-level comments as a JSON array, oldest first at every level (the
 * caller owns *out).  0 or -ENOMEM. */
int thread_tree_json(struct thread_tree *t, json_t **out);

#endif
