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
 * author, url, text, html, created, status, score, verdict, deciding tokens
 * (no e-mail domain or network in clear), a 12-hex-digit prefix of the
 * e-mail hash and the IP's network prefix (opened with k from the sealed
 * address; null once cleared).  {"comments": [...], "next": id or null}.
 * 0 or negative. */
int moderation_list(struct store_conn *c, const struct keys *k, const struct moderation_query *q,
		    json_t **out);

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
		    const struct keys *k, const char *actor, int64_t id,
		    const struct comment_change *ch, json_t **out, struct comment_error *err);

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
 * used, the address is not kept), with everything held about its writer
 * while it is kept: the admin form plus "ip", "user_agent", "referrer" and
 * "email_domain" (null once cleared): {"comments": [...]}. */
int moderation_export(struct store_conn *c, const struct keys *k, const char *email, json_t **out);

/* Removes every comment written with email (tombstones where published
 * replies hang below), or with anonymise keeps them as "Anonymous" with no
 * URL, IP, e-mail hash or features; forgets what the classifier learned from
 * them; then truncates the WAL (store_checkpoint_truncate) so the erased
 * text is left nowhere in the files.  {"erased": n} in *out. */
int moderation_erase(struct store_conn *c, struct classifier *cl, const struct keys *k,
		     const char *email, bool anonymise, const char *actor, json_t **out);

struct maintenance_report {
	unsigned spam_deleted;
	unsigned spam_emptied; /* expired spam with replies: now a tombstone */
	unsigned ips_cleared;
	unsigned tokens_pruned;
	unsigned tombstones_purged;
	unsigned decoys_purged;
	bool wal_truncated;
};

/* How long things are kept (from the configuration). */
struct moderation_retention {
	unsigned spam_days;   /* spam, and discarded comments' decoy records */
	unsigned ip_days;     /* client addresses, user agents, referrers */
	unsigned prune_days;  /* classifier tokens seen once */
	unsigned edit_window; /* seconds: e-mail domains, decoys' content */
};

/* Deletes spam older than spam_days (emptying it to a tombstone where
 * replies hang below), clears client addresses, user agents and referrers
 * older than ip_days and sealed e-mail domains and decoy contents older than
 * the edit window, forgets decoys older than spam_days, drops tombstones
 * left without replies, prunes classifier tokens seen once and not for
 * prune_days, then truncates the WAL.  now: Unix seconds.  0 or a store
 * result. */
int moderation_maintain(struct store_conn *c, struct classifier *cl,
			const struct moderation_retention *rt, int64_t now,
			struct maintenance_report *rep);

#endif
