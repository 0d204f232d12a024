/* link: the signed links in notification mails.
 *
 * A link token carries what it may do (confirm or end a subscription, or
 * one moderator action on one comment), the id it applies to, the site it
 * was sent for and when it expires, with a MAC (keys KEYS_LINK): nothing is
 * stored to hand one out, and a changed byte makes it worthless.  A link
 * acts only within its site (lib/site.h): on a subscription or a comment of
 * that site, through moderation_act with that site's scope.  Moderators'
 * links work once: link_use records a used token until it expires.
 *
 * Following a link never acts: the daemon answers a GET with a page whose
 * button POSTs, because mail scanners open the links they see.
 */
#ifndef COMMENTD_LINK_H
#define COMMENTD_LINK_H

#include "classify.h"
#include "config.h"
#include "keys.h"
#include "store.h"

#include <stdint.h>

/* base64url of at most 19 + CONFIG_SITE_ID_MAX + 32 bytes, + NUL */
#define LINK_TOKEN_MAX 160

enum link_kind {
	LINK_CONFIRM = 1,     /* confirm a subscription (double opt-in) */
	LINK_UNSUBSCRIBE = 2, /* end a subscription */
	LINK_MODERATE = 3,    /* one moderator action on a held comment */
};

/* Positive results of link_parse. */
enum {
	LINK_INVALID = 1, /* malformed, forged or of another key */
	LINK_EXPIRED = 2,
	LINK_USED = 3,	      /* used already, or nothing left to do */
	LINK_UNAVAILABLE = 4, /* the disk refuses writes: try later */
};

struct link {
	enum link_kind kind;
	int64_t id;	 /* the subscription (confirm, unsubscribe) or the comment */
	int action;	 /* LINK_MODERATE: an enum moderation_action; else 0 */
	int64_t expires; /* Unix seconds; 0: never */
	char site[CONFIG_SITE_ID_MAX + 1]; /* the site it acts in (a valid site id) */
};

/* Writes the token of l (base64url, no padding; l->site a valid site id)
 * into out. */
void link_token(const struct keys *k, const struct link *l, char out[LINK_TOKEN_MAX]);

/* Reads a token (untrusted) into *out.  0, LINK_INVALID or LINK_EXPIRED
 * (at now, Unix seconds). */
int link_parse(const struct keys *k, const char *token, int64_t now, struct link *out);

/* Marks token used, inside or outside a transaction.  1 when this was its
 * first use, 0 when it had been used, negative on failure. */
int link_use(struct store_conn *c, const struct keys *k, const char *token, int64_t expires);

/* What a link would do (a GET: nothing changes): the token must be valid,
 * of kind, not expired; a moderator's link also unused and its comment
 * still held on the link's site; a subscription's must still exist on it.  0 with *out,
 * LINK_INVALID, LINK_EXPIRED, LINK_USED, or negative. */
int link_check(struct store_conn *c, const struct keys *k, const char *token, enum link_kind kind,
	       int64_t now, struct link *out);

/* Does what the link says (its page's POST): confirms or ends the
 * subscription, or applies the moderator's action through moderation_act
 * with the link's site as scope and the audit actor "mail-link", using the
 * token up.  0, LINK_INVALID,
 * LINK_EXPIRED, LINK_USED, LINK_UNAVAILABLE, or negative. */
int link_act(struct store_conn *c, struct classifier *cl, const struct keys *k, const char *token,
	     enum link_kind kind, int64_t now);

/* Forgets used tokens that expired before now.  0 or negative. */
int link_prune(struct store_conn *c, int64_t now);

#endif
