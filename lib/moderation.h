/* moderation: what moderators do to comments, and what the site keeps.
 *
 * Every action runs in one BEGIN IMMEDIATE transaction together with its
 * audit row and the classifier learning it implies: approving teaches ham,
 * marking spam teaches spam (a reversed decision unlearns first), so the
 * token counts always match the moderators' latest word.
 */
#ifndef COMMENTD_MODERATION_H
#define COMMENTD_MODERATION_H

#include "classify.h"
#include "comment.h"
#include "keys.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define MODERATION_BULK_MAX  500
#define MODERATION_QUERY_MAX 200 /* bytes of a search string */

enum moderation_action {
	MODERATION_APPROVE,
	MODERATION_SPAM,
	MODERATION_DELETE,
};

/* Parses "approve", "spam" or "delete".  0 or 1. */
int moderation_action_parse(const char *name, enum moderation_action *out);

struct moderation_query {
	const char *status; /* "pending", "spam", "published", "deleted" or NULL (all) */
	const char *thread; /* path or NULL */
	const char *q;	    /* substring of text or author, or NULL */
	unsigned limit;	    /* 1..page_max */
	int64_t before;	    /* id cursor: only ids below it (0: newest) */
};

/* Lists comments newest first with everything a moderator needs: thread,
 * author, url, text, html, created, status, score, verdict, tokens, a
 * 12-hex-digit prefix of the e-mail hash and the IP's network prefix.
 * {"comments": [...], "next": id or null}.  0 or negative. */
int moderation_list(struct store_conn *c, const struct moderation_query *q, json_t **out);

/* Applies action to comment id as actor (audit).  0, COMMENT_INVALID with
 * err (404 no such comment), COMMENT_UNAVAILABLE (503), negative. */
int moderation_act(struct store_conn *c, struct classifier *cl, const char *actor,
		   enum moderation_action action, int64_t id, struct comment_error *err);

/* Applies action to every id (at most MODERATION_BULK_MAX) in one
 * transaction: all or nothing. */
int moderation_bulk(struct store_conn *c, struct classifier *cl, const char *actor,
		    enum moderation_action action, const int64_t *ids, size_t n,
		    struct comment_error *err);

/* Replaces a comment's text, author and/or website (ch: NULL keeps),
 * re-renders it and, when the classifier had learned it, relearns it under
 * the same label; the status stays (a moderator's edit is not decided
 * again).  Validation as for new comments.  0, COMMENT_INVALID,
 * COMMENT_UNAVAILABLE, negative.  *out is the updated comment (admin form). */
int moderation_edit(struct store_conn *c, struct classifier *cl, const struct config *cfg,
		    const char *actor, int64_t id, const struct comment_change *ch, json_t **out,
		    struct comment_error *err);

/* {"comments": {"published": n, ...}, "discarded": n, "classifier": {...},
 *  "reversals_30d": n, "decisions_30d": n}. */
int moderation_stats(struct store_conn *c, struct classifier *cl,
		     const struct classify_settings *cs, json_t **out);

#define MODERATION_DAYS_MAX 365 /* days in a stats series */

/* The daily series for the charts: the days (UTC) ending with now's,
 * oldest first, each {"date": "YYYY-MM-DD", "published", "held", "spam"
 * (what the pipeline decided for the comments that arrived that day;
 * moderators' replies not counted), "discarded", "decisions" (moderators'
 * approvals and spam marks), "reversals" (those that overturned the
 * filter: approving what it filed as spam, marking spam what it published)
 * and "agreement": 1 - reversals / decisions, or null on a day without
 * decisions}.  *out is {"days": n, "series": [...], "agreement": the same
 * over the whole period or null}.  days 1..MODERATION_DAYS_MAX.  0 or
 * negative. */
int moderation_series(struct store_conn *c, unsigned days, int64_t now, json_t **out);

/* Every comment written with email (normalised here; only its hash is
 * used, the address is not kept): {"comments": [...]}. */
int moderation_export(struct store_conn *c, const struct keys *k, const char *email, json_t **out);

/* Removes every comment written with email (tombstones where published
 * replies hang below), or with anonymise keeps them as "Anonymous" with no
 * URL, IP, e-mail hash or features; forgets what the classifier learned from
 * them.  {"erased": n} in *out. */
int moderation_erase(struct store_conn *c, struct classifier *cl, const struct keys *k,
		     const char *email, bool anonymise, const char *actor, json_t **out);

struct maintenance_report {
	unsigned spam_deleted;
	unsigned ips_cleared;
	unsigned tokens_pruned;
	unsigned tombstones_purged;
};

/* Deletes spam older than spam_days, clears IP addresses (and user agents)
 * older than ip_days, drops tombstones left without replies, and prunes
 * classifier tokens seen once and not for prune_days.  now: Unix seconds. */
int moderation_maintain(struct store_conn *c, struct classifier *cl, unsigned spam_days,
			unsigned ip_days, unsigned prune_days, int64_t now,
			struct maintenance_report *rep);

#endif
