/* thread: nests a thread's comment rows into the reply tree.
 *
 * Rows are added in id order (a parent always precedes its replies); each
 * becomes {"id", "parent", "author", "url", "created", "html", "avatar",
 * "author_badge", "likes", "replies": [...]}.  A row whose parent was not
 * added (it is on an earlier page of a long thread) is put at the top level
 * with its "parent" set, for the reader to attach it there.  A deleted or
 * hidden row is a tombstone {"id", "parent", "deleted": true, "replies"}
 * that the output keeps only while something published hangs below it.
 *
 * The tree is plain C (nodes, their strings in one buffer, an id index);
 * it comes out as a jansson array (thread_tree_json: the HTML page reads
 * it) or as the same array's JSON text (thread_tree_text: the daemon's
 * answer, without a jansson tree built and thrown away).
 */
#ifndef COMMENTD_THREAD_H
#define COMMENTD_THREAD_H

#include "buf.h"
#include "view.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define THREAD_MAX_ROWS	 100000
#define THREAD_MAX_BYTES ((size_t)1 << 30) /* of the rows' strings */

struct thread_tree;

/* 0 or -ENOMEM. */
int thread_tree_new(struct thread_tree **out);

/* NULL-safe; returns NULL. */
struct thread_tree *thread_tree_free(struct thread_tree *t);

/* Adds a comment (strings are copied; v->thread is ignored).  0, 1 if it
 * was left out (more than THREAD_MAX_ROWS), -E2BIG past THREAD_MAX_BYTES
 * of strings, -ENOMEM.  Strings are checked when written out. */
int thread_tree_add(struct thread_tree *t, const struct comment_view *v);

/* Keeps the tombstone id even without replies on this tree (they may come
 * on a later page).  0 or -ENOMEM. */
int thread_tree_keep(struct thread_tree *t, int64_t id);

/* The top-level comments as a JSON array, oldest first at every level (the
 * caller owns *out).  0 or -ENOMEM (also for a string that is not UTF-8,
 * which jansson refuses). */
int thread_tree_json(struct thread_tree *t, json_t **out);

/* Appends the text of thread_tree_json's array to out, byte for byte as
 * json_dumps(array, JSON_COMPACT) writes it.  0, BUF_TOO_BIG,
 * JSONTEXT_NOT_UTF8 (lib/jsontext.h) or -ENOMEM; out may then hold part
 * of it. */
int thread_tree_text(struct thread_tree *t, struct buf *out);

#endif
