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

#include "buf.h"

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
	bool published;	   /* what a poster is told: published, else pending */
	bool deleted;	   /* a tombstone: only id, parent and "deleted" */
	bool author_badge; /* written by a moderator as the site's author */
	int64_t likes;	   /* readers' likes (lib/likes.h) */
};

/* The public form {"id", ["thread",] "parent", "author", "url", "created",
 * "html", "avatar", "author_badge", "likes"}, or a tombstone {"id",
 * "parent", "deleted": true}.  "author_badge" is true for a reply a
 * moderator wrote from the moderation page and false for every other
 * comment; "likes" is every comment's count of likes, also when the site
 * takes none (then the widget shows no button): all comments have one key
 * set.  NULL on OOM. */
json_t *view_public(const struct comment_view *v);

/* The members of view_public(v) as JSON text, in its order and as
 * json_dumps(..., JSON_COMPACT) writes them, without the braces (the
 * thread tree adds "replies" after them), appended to out.  0, BUF_TOO_BIG,
 * JSONTEXT_NOT_UTF8 (a string that view_public refuses: lib/jsontext.h) or
 * -ENOMEM; out may then hold part of them. */
int view_public_members(struct buf *out, const struct comment_view *v);

/* The poster's form: the public form with "status" ("published" or
 * "pending"), and with "edit_token" and "edit_until" when edit_token is not
 * NULL (the answer to a new comment).  NULL on OOM. */
json_t *view_poster(const struct comment_view *v, const char *edit_token, int64_t edit_until);

#endif
