/* notice: the words of notifications, in the site's language (en, nl, de).
 *
 * Mails (subject and plain-text body) for moderators (one held comment, or
 * a digest), for a reader's reply notification and for the confirmation of
 * a subscription; and the small pages behind the mail links, whose button
 * POSTs (a GET never acts).  Pure functions: everything comes in as
 * arguments, and nothing here knows an address.
 */
#ifndef COMMENTD_NOTICE_H
#define COMMENTD_NOTICE_H

#include "buf.h"
#include "config.h"

#include <stdint.h>

#define NOTICE_EXCERPT_MAX 300 /* characters of a comment quoted in a mail */

/* A comment as a notice shows it (borrowed). */
struct notice_comment {
	int64_t id;
	const char *author;
	const char *text;
	const char *thread;
	const char *page; /* the page's address (site origin + thread), or "" */
};

/* The links of a held comment (approve, spam, delete), their expiry. */
struct notice_actions {
	const char *approve, *spam, *del;
	int64_t expires;
};

/* Appends text's first NOTICE_EXCERPT_MAX characters (whole characters,
 * "…" when cut), each line prefixed with "> ". */
int notice_excerpt(const char *text, struct buf *out);

/* One held comment for the moderators; admin is the moderation page. */
int notice_held(enum config_language lang, const struct notice_comment *cm,
		const struct notice_actions *act, const char *admin, struct buf *subject,
		struct buf *body);

/* A digest: notice_digest_start, notice_digest_item per comment,
 * notice_digest_end. */
int notice_digest_start(enum config_language lang, unsigned n, struct buf *subject,
			struct buf *body);
int notice_digest_item(enum config_language lang, const struct notice_comment *cm,
		       const struct notice_actions *act, struct buf *body);
int notice_digest_end(enum config_language lang, const char *admin, struct buf *body);

/* A reply (cm) to the reader's comment; unsubscribe is the one-click link. */
int notice_reply(enum config_language lang, const struct notice_comment *cm,
		 const char *unsubscribe, struct buf *subject, struct buf *body);

/* The double opt-in: page is where the comment was left. */
int notice_confirm(enum config_language lang, const char *page, const char *confirm,
		   const char *unsubscribe, struct buf *subject, struct buf *body);

enum notice_page {
	NOTICE_PAGE_CONFIRM,	 /* ask: confirm the subscription */
	NOTICE_PAGE_CONFIRMED,	 /* done */
	NOTICE_PAGE_UNSUBSCRIBE, /* ask: stop */
	NOTICE_PAGE_UNSUBSCRIBED,
	NOTICE_PAGE_APPROVE, /* ask: the moderator's action (a comment is shown) */
	NOTICE_PAGE_SPAM,
	NOTICE_PAGE_DELETE,
	NOTICE_PAGE_ACTED,   /* done */
	NOTICE_PAGE_INVALID, /* a bad or expired link, or nothing left to do */
	NOTICE_PAGE_USED,    /* a moderator's link already used or the comment dealt with */
};

/* A small accessible HTML page (no script, no style); token (may be NULL)
 * goes into the form, cm (may be NULL) is shown quoted.  *out is the
 * caller's.  0 or negative. */
int notice_page_html(enum config_language lang, enum notice_page page, const char *token,
		     const struct notice_comment *cm, char **out);

#endif
