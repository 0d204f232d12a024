/* threadpage: a thread as HTML for readers without JavaScript
 * (GET /api/v1/comments?thread=PATH&format=html), in Dutch, English and
 * German.
 *
 * A small page for an <iframe> on the blog (frame=1: no page margins; links
 * out open in the top window), or, with format=fragment, only its section
 * for a server-side include.  It shows the count, the comments with their
 * replies (the page's top-level comments, or one conversation), a link to
 * the next page, a reply link under each comment (the same page with the
 * form set to answer it) and the comment form: text first, then name,
 * e-mail and website, the honeypot, the reply-notification checkbox when
 * the server sends mail, and the processing notice that links to the
 * privacy page.  No script, no inline style; page.css and embed.css
 * style it.
 *
 * The form posts to /api/v1/comments with format=html, and the answer's
 * redirect (threadpage_location) lands on the new comment in its
 * conversation, or on the page's "awaiting moderation" notice.
 */
#ifndef COMMENTD_THREADPAGE_H
#define COMMENTD_THREADPAGE_H

#include "lang.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define THREADPAGE_MAX (16 << 20)

struct threadpage {
	enum lang lang;
	const char *site;     /* the site's id, carried in links and the form; or NULL */
	const char *thread;   /* the thread's path */
	const json_t *answer; /* {"count", "comments", ["cursor"]}: lib/comment's thread */
	const char *api;      /* the API's address ("…/api/v1/") for links and the form:
				 "" means relative to /api/v1/comments itself */
	const char *stamp;    /* the signed render time for the form */
	const char *honeypot; /* the honeypot field's name */
	const char *next;     /* the next page's query arguments ("cursor=…"), or NULL */
	const char *privacy;  /* the privacy page's address (privacy_url), or NULL for
				 commentd's own */
	const char *back;     /* a checked address on the blog to return to, or NULL */
	int64_t reply_to;     /* the comment the form answers, or 0 */
	int64_t focus;	      /* answer is this comment's conversation, or 0 */
	bool held;	      /* show the "awaiting moderation" notice */
	bool mail;	      /* show "check your e-mail" (a post asked for notifications) */
	bool likes;	      /* show like counts */
	bool notify;	      /* the form offers reply notifications (the server sends mail) */
	bool framed;	      /* inside an iframe */
	bool fragment;	      /* only the section, for a server-side include */
};

/* The page.  0 with *out (caller frees), or negative. */
int threadpage_html(const struct threadpage *p, char **out);

/* Where a form post with format=html returns to (relative to
 * /api/v1/comments): the conversation of comment id at #comment-<id> when
 * published, else site's thread's page with the held notice; mail adds the
 * "check your e-mail" notice (the post asked for reply notifications);
 * site (may be NULL), lang and framed carry over, back (an address on the
 * blog, checked by the caller, or NULL) too.  A new string, or NULL on
 * OOM. */
char *threadpage_location(const char *thread, const char *site, enum lang lang, bool framed,
			  int64_t id, bool published, bool mail, const char *back);

#endif
