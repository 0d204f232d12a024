/* view: the JSON forms in which commentd shows a comment.
 *
 * Every answer that shows a comment to readers or to its poster is built
 * here: the thread tree, the answer to a new comment, to an author's edit
 * and the decoy for a discarded one.  A poster sees "published" or
 * "pending" and nothing else, and the same keys whatever the comment's fate:
 * held, filed as spam and discarded cannot be told apart (spammers never
 * read their verdict).
 */
#ifndef COMMENTD_VIEW_H
#define COMMENTD_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A comment as readers may see it.  Strings are borrowed. */
struct comment_view {
	int64_t id;
	const char *thread; /* the thread's path; NULL leaves "thread" out (tree nodes) */
	int64_t parent;	    /* 0: top level */
	const char *author;
	const char *url; /* NULL or "": null */
	int64_t created; /* Unix seconds */
	const char *html;
	const char *avatar;
	bool published; /* what a poster is told: published, else pending */
	bool deleted;	/* a tombstone: only id, parent and "deleted" */
	int64_t likes;	/* readers' likes (lib/likes.h) */
};

/* The public form {"id", ["thread",] "parent", "author", "url", "created",
 * "html", "avatar", "likes"}, or a tombstone {"id", "parent", "deleted":
 * true}.  "likes" is in every comment's form, also when the site takes no
 * likes (then the widget shows no button), so that all comments have one
 * key set.  NULL on OOM. */
json_t *view_public(const struct comment_view *v);

/* The poster's form: the public form with "status" ("published" or
 * "pending"), and with "edit_token" and "edit_until" when edit_token is not
 * NULL (the answer to a new comment).  NULL on OOM. */
json_t *view_poster(const struct comment_view *v, const char *edit_token, int64_t edit_until);

#endif
