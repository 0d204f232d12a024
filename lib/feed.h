/* feed: Atom 1.0 feeds (RFC 4287) of the latest published comments, of one
 * thread (GET /api/v1/feed?thread=PATH) or of the whole site (GET
 * /api/v1/feed): the blog's "nieuwsbrief/RSS" for its comments.
 *
 * Every entry links to the comment on the blog's page (the site's origin,
 * the thread's path and #comment-N) and carries the comment's rendered
 * HTML, its author (name and website; never more) and its times.  Only
 * published comments appear; deleted ones leave the feed.
 */
#ifndef COMMENTD_FEED_H
#define COMMENTD_FEED_H

#include "lang.h"
#include "store.h"

#define FEED_ENTRIES 50		/* the latest comments a feed holds */
#define FEED_MAX     (16 << 20) /* bytes of one feed, at most */

struct feed_site {
	const char *id;		/* the site's id: its threads */
	const char *public_url; /* commentd as readers reach it (the feed's own
				   address), or NULL/"" */
	const char *site_url;	/* the blog's origin (page links), or NULL/"" */
	enum lang lang;		/* of the titles */
};

/* The feed of site's thread (a checked path), or of all its threads when
 * thread is NULL: at most FEED_ENTRIES published comments, newest first (fewer when
 * they are very long: the feed stops taking entries at FEED_MAX / 2 bytes,
 * and one entry is at most a few MB).  An unknown
 * thread has a feed without entries.  0 with *out (caller frees), or
 * negative. */
int feed_atom(struct store_conn *c, const struct feed_site *site, const char *thread, char **out);

#endif
