/* moderation: what moderators do to comments, and what the site keeps.
 *
 * Every action runs in one BEGIN IMMEDIATE transaction together with its
 * audit row and the classifier learning it implies: approving teaches ham,
 * marking spam teaches spam (a reversed decision unlearns first), so the
 * token counts always match the moderators' latest word.
 *
 * Every function takes the moderator's scope (lib/admin.h: the sites a
 * token may see, NULL for every site).  A comment of a site outside the
 * scope is answered exactly like a comment that does not exist (404), so a
 * token cannot even learn which ids another site uses.
 */
#ifndef COMMENTD_MODERATION_H
#define COMMENTD_MODERATION_H

#include "classify.h"
#include "comment.h"
#include "config.h"
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
	const char *scope;  /* the sites to list (lib/admin.h), NULL: every site */
};

/* Lists the scope's comments newest first with everything a moderator
 * needs: site, thread, author, url, text, html, created, status, score,
 * verdict, deciding tokens (no e-mail domain or network in clear), a
 * 12-hex-digit prefix of the e-mail hash and the IP's network prefix
 * (opened with k from the sealed address; null once cleared).
 * {"comments": [...], "next": id or null}.  0 or negative. */
int moderation_list(struct store_conn *c, const struct keys *k, const struct moderation_query *q,
		    json_t **out);

/* Applies action to comment id as actor (audit).  0, COMMENT_INVALID with
 * err (404 no such comment), COMMENT_UNAVAILABLE (503), negative. */
int moderation_act(struct store_conn *c, struct classifier *cl, const char *scope,
		   const char *actor, enum moderation_action action, int64_t id,
		   struct comment_error *err);

/* Applies action to every id (at most MODERATION_BULK_MAX) in one
 * transaction: all or nothing. */
int moderation_bulk(struct store_conn *c, struct classifier *cl, const char *scope,
		    const char *actor, enum moderation_action action, const int64_t *ids, size_t n,
		    struct comment_error *err);

/* The site of comment id into site, when it is in scope.  1, 0 (no such
 * comment in scope), or negative. */
int moderation_comment_site(struct store_conn *c, const char *scope, int64_t id,
			    char site[CONFIG_SITE_ID_MAX + 1]);

/* Replaces a comment's text, author and/or website (ch: NULL keeps),
 * re-renders it and, when the classifier had learned it, relearns it under
 * the same label; the status stays (a moderator's edit is not decided
 * again).  Validation as for new comments by cfg (the comment's site's
 * view).  0, COMMENT_INVALID, COMMENT_UNAVAILABLE, negative.  *out is the
 * updated comment (admin form). */
int moderation_edit(struct store_conn *c, struct classifier *cl, const struct config *cfg,
		    const struct keys *k, const char *scope, const char *actor, int64_t id,
		    const struct comment_change *ch, json_t **out, struct comment_error *err);

/* The scope's figures: {"comments": {"published": n, ...}, "discarded": n,
 * "classifier": {...}, "reversals_30d": n, "decisions_30d": n}; cs are the
 * configured cut-offs, and site (NULL: the scope spans several sites) the
 * one whose effective cut-offs to report: "ham_cutoff" and "spam_cutoff"
 * are those that decide, "cutoffs" says whether they were "learned" from
 * the site's decisions (lib/cutoffs.h), are the "configured" ones (too few
 * decided, or several sites) or learn_cutoffs is "off". */
int moderation_stats(struct store_conn *c, struct classifier *cl,
		     const struct classify_settings *cs, const char *scope, const char *site,
		     json_t **out);

#define MODERATION_DAYS_MAX 365 /* days in a stats series */

/* The daily series for the charts of the scope's sites: the days (UTC)
 * ending with now's,
 * oldest first, each {"date": "YYYY-MM-DD", "published", "held", "spam"
 * (what the pipeline decided for the comments that arrived that day;
 * moderators' replies not counted), "discarded", "decisions" (moderators'
 * approvals and spam marks), "reversals" (those that overturned the
 * filter: approving what it filed as spam, marking spam what it published)
 * and "agreement": 1 - reversals / decisions, or null on a day without
 * decisions}.  *out is {"days": n, "series": [...], "agreement": the same
 * over the whole period or null}.  days 1..MODERATION_DAYS_MAX.  0 or
 * negative. */
int moderation_series(struct store_conn *c, const char *scope, unsigned days, int64_t now,
		      json_t **out);

/* Every comment of the scope written with email (normalised here; only its
 * hash is used, the address is not kept), with everything held about its
 * writer while it is kept: the admin form plus "ip", "user_agent",
 * "referrer" and "email_domain" (null once cleared): {"comments": [...]}. */
int moderation_export(struct store_conn *c, const struct keys *k, const char *scope,
		      const char *email, json_t **out);

/* Removes every comment of the scope written with email (tombstones where
 * published replies hang below), or with anonymise keeps them as
 * "Anonymous" with no URL, IP, e-mail hash or features; forgets what the
 * classifier learned from them; one audit row per site of the scope; then
 * merges the search index's blocks that held the erased texts (lib/search.h:
 * search_purge) and truncates the WAL (store_checkpoint_truncate) so the
 * erased text is left nowhere in the files.  {"erased": n} in *out. */
int moderation_erase(struct store_conn *c, struct classifier *cl, const struct keys *k,
		     const char *scope, const char *email, bool anonymise, const char *actor,
		     json_t **out);

struct maintenance_report {
	unsigned spam_deleted;
	unsigned spam_emptied; /* expired spam with replies: now a tombstone */
	unsigned ips_cleared;
	unsigned tokens_pruned;
	unsigned tombstones_purged;
	unsigned decoys_purged;
	unsigned search_merged; /* blocks of the search index merged (lib/search.h) */
	bool wal_truncated;
};

/* A site's own edit window (edit_window in its [site ID] section). */
struct moderation_window {
	const char *site;
	unsigned edit_window; /* seconds */
};

/* How long things are kept (from the configuration). */
struct moderation_retention {
	unsigned spam_days;   /* spam, and discarded comments' decoy records */
	unsigned ip_days;     /* client addresses, user agents, referrers */
	unsigned prune_days;  /* classifier tokens seen once */
	unsigned edit_window; /* seconds: e-mail domains, decoys' content */
	/* Sites whose edit window is their own (n_windows of them; NULL:
	 * none): their e-mail domains and decoys' content are kept exactly as
	 * long as their authors may edit, no shorter and no longer. */
	const struct moderation_window *windows;
	size_t n_windows;
};

/* In the scope's sites (lib/admin.h; NULL: every site), deletes spam older
 * than spam_days (emptying it to a tombstone where replies hang below),
 * clears client addresses, user agents and referrers older than ip_days and
 * sealed e-mail domains and decoy contents older than their site's edit
 * window, forgets decoys older than spam_days and drops tombstones left
 * without replies; for every site (scope NULL) it also prunes classifier
 * tokens seen once and not for prune_days.  Then it truncates the WAL.
 * now: Unix seconds.  0 or a store result. */
int moderation_maintain(struct store_conn *c, struct classifier *cl, const char *scope,
			const struct moderation_retention *rt, int64_t now,
			struct maintenance_report *rep);

/* The retention cfg (a whole configuration, with its [site ID] sections)
 * asks for: the top-level periods, and the edit window of every site whose
 * own differs.  *windows (caller frees; may be NULL) holds rt->windows and
 * borrows the site ids from cfg.  0 or -ENOMEM. */
int moderation_retention_of(const struct config *cfg, struct moderation_retention *rt,
			    struct moderation_window **windows);

#endif
