/* submit: the one way a comment enters commentd.
 *
 * Every path that creates a comment or changes what it says - the JSON API
 * and the no-JS form, the author's edit, Akismet's comment-check (decide
 * only), imports and moderators' replies - goes through this module.  It
 * validates, scores with the classifier, applies the site's rules
 * (honeypot, allowlist, blocklists, link limit, moderation mode), decides
 * the status with its reasons and stores the comment, so that every path
 * takes the same decision and every answer to a poster has the same shape
 * (lib/view.h).
 *
 * The decision (submit_rule), strongest rule first:
 *   honeypot filled                          -> discarded   (honeypot)
 *   e-mail hash on the allowlist, unless the name is a moderator's
 *                                            -> published   (allowlist)
 *   blocklisted word, domain or network      -> spam        (blocklist_*)
 *   classifier, cold start (the site learned fewer than min_learned of a class):
 *     score >= spam_cutoff                   -> pending     (classifier, cold_start)
 *     unsure, and the starter model spoke    -> pending     (classifier, cold_start)
 *   classifier, trained: discard / spam / unsure
 *                                            -> discarded / spam / pending (classifier)
 *   then the site's holds, each one that applies named:
 *   the name is a moderator's display name (lib/names.h)
 *                                            -> pending     (impersonation)
 *   sent less than min_submit_seconds after the page's render
 *                                            -> pending     (too_fast)
 *   more links than max_links                -> pending     (links)
 *   moderation = all                         -> pending     (moderation_all)
 *   moderation = first, no published comment with this e-mail hash yet
 *                                            -> pending     (first_comment)
 *   otherwise                                -> published
 * A comment the classifier holds also names the site's holds that apply.
 * Imports and moderators' replies keep the status their caller gives.  An
 * author's edit is decided by the same rule on the new content, and never
 * lifts the status it had (held stays held, spam stays spam): the answer
 * would tell the author what the filter thought of the first version.
 *
 * The render time is both a rule and a signal: the classifier learns it as
 * a token (a bucket such as "<3" seconds) like any other evidence, and a
 * time under min_submit_seconds holds the comment whatever the score, so
 * that a new site (a classifier in its cold start) is protected too.  Posts
 * without a valid render stamp are not judged by the rule.
 */
#ifndef COMMENTD_SUBMIT_H
#define COMMENTD_SUBMIT_H

#include "classify.h"
#include "cutoffs.h"
#include "comment.h"
#include "config.h"
#include "host.h"
#include "keys.h"
#include "names.h"
#include "net.h"
#include "policy.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum submit_origin {
	SUBMIT_JSON,	    /* POST /api/v1/comments with a JSON body */
	SUBMIT_FORM,	    /* the same with the no-JS HTML form */
	SUBMIT_AUTHOR_EDIT, /* the author's PATCH within the edit window */
	SUBMIT_AKISMET,	    /* Akismet comment-check: decided, never stored */
	SUBMIT_IMPORT,	    /* commentctl import: the source's status is kept */
	SUBMIT_MODERATOR,   /* a moderator's reply: published as given */
};

/* The site's rules and tools, from the caller's configuration snapshot
 * (lib/site.h: one per configured site).  cfg is the site's view of the
 * settings; classify holds its live cut-offs: a reload's new values apply
 * to the next decision, and the classifier's own copies are not used. */
struct submit_site {
	const struct config *cfg;
	const struct keys *keys;
	struct classifier *classifier;
	const struct policy *policy;
	const struct classify_settings *classify;
	const char *host;		   /* the site's host, to tell on-site referrers; NULL */
	const struct net_origins *origins; /* a page_url must be on one; NULL: none is */
	const struct names *moderators;	   /* display names (admin_display_names); NULL */
	const char *id;			   /* the site's id: its threads, its commenters' history */
	struct cutoffs_cache *cutoffs;	   /* the learned cut-offs per site; NULL: read each time */
};

/* What the request says about where the comment comes from. */
struct submit_request {
	enum submit_origin origin;
	const struct net_addr *client; /* for blocklist_networks; NULL unknown */
	const char *ip;		       /* the client address as text, kept for
					  ip_retention_days; NULL unknown */
	const char *user_agent;	       /* NULL unknown */
	const char *referrer;	       /* NULL unknown */
	long render_seconds;	       /* page render to submit; -1 unknown */
	bool honeypot_filled;
	bool notify;		    /* the poster asks for reply notifications */
	int64_t now;		    /* Unix seconds; the comment's date */
	enum comment_status status; /* SUBMIT_IMPORT, SUBMIT_MODERATOR: the status */
	const char *moderator;	    /* SUBMIT_MODERATOR: the token's name */
};

/* What a comment says, for the decision (borrowed; email may be NULL when
 * only its hash is known). */
struct submit_content {
	const char *thread;
	const char *author;
	const char *email;
	const char *url;
	const char *text;
	const char *page_title; /* as the widget sent it; NULL: not sent */
};

enum submit_reason_code {
	SUBMIT_REASON_HONEYPOT,
	SUBMIT_REASON_ALLOWLIST,
	SUBMIT_REASON_BLOCKLIST_WORD,
	SUBMIT_REASON_BLOCKLIST_DOMAIN,
	SUBMIT_REASON_BLOCKLIST_NETWORK,
	SUBMIT_REASON_CLASSIFIER,
	SUBMIT_REASON_COLD_START,
	SUBMIT_REASON_LINKS,
	SUBMIT_REASON_MODERATION_ALL,
	SUBMIT_REASON_FIRST_COMMENT,
	SUBMIT_REASON_EDITED,
	SUBMIT_REASON_IMPORTED,
	SUBMIT_REASON_MODERATOR,
	SUBMIT_REASON_TOO_FAST,
	SUBMIT_REASON_IMPERSONATION,
	SUBMIT_REASON_KEPT, /* an author's edit kept the earlier, stricter status */
};

struct submit_reason {
	enum submit_reason_code code;
	double score;	       /* classifier: the score */
	unsigned count, limit; /* links: how many, and max_links; too_fast: the
				  seconds, and min_submit_seconds */
	const char *name;      /* impersonation: the display name (borrowed from
				  the site's moderators) */
};

#define SUBMIT_REASONS_MAX 8

/* The facts the rule weighs. */
struct submit_facts {
	enum submit_origin origin;
	enum moderation_mode moderation;
	bool classified;	       /* the classifier ran */
	enum classify_verdict verdict; /* its verdict under the live cut-offs */
	double score;
	double ham_cutoff, spam_cutoff; /* the live cut-offs the verdict used */
	bool cutoffs_learned;		/* narrowed to the site's own decisions
					   (learn_cutoffs, lib/cutoffs.h) */
	bool cold_start;		/* fewer than min_learned of a class learned */
	bool starter;			/* the starter model's evidence went into the score
					   (classify_result.model starter or both) */
	bool honeypot_filled;
	bool allowlisted;
	const char *blocked; /* "word", "domain", "network" or NULL */
	bool previously_approved;
	unsigned links, max_links;
	enum comment_status given; /* SUBMIT_IMPORT, SUBMIT_MODERATOR */
	const char *impersonated;  /* the moderator's display name the author's
				      name is the same as, or NULL */
	long render_seconds;	   /* page render to submit; -1 unknown */
	unsigned min_seconds;	   /* min_submit_seconds; 0: the rule is off */
};

struct submit_decision {
	enum comment_status status;
	struct submit_facts facts;
	unsigned n_reasons;
	struct submit_reason reasons[SUBMIT_REASONS_MAX];
	struct classify_result result;	  /* score, deciding tokens, features (owned) */
	char referrer[HOST_REFERRER_MAX]; /* the Referer as weighed and kept:
					     "scheme://host/", "(invalid)" or "" */
};

/* Frees what the decision owns and zeroes it.  NULL-safe. */
void submit_decision_clear(struct submit_decision *d);

/* The decision rule (above), pure: fills d->status and d->reasons from
 * d->facts. */
void submit_rule(struct submit_decision *d);

/* The reasons as JSON (caller owns), each {"code"} with its parameters:
 *   classifier     "score", "verdict" and "tokens": the deciding tokens in
 *                  readable form (lib/explain.h: kind, text, p, spam)
 *   links          "count", "limit" (max_links)
 *   too_fast       "seconds", "limit" (min_submit_seconds)
 *   impersonation  "name": the moderator's display name
 * for example [{"code": "links", "count": 4, "limit": 2}].  NULL on OOM. */
json_t *submit_reasons_json(const struct submit_decision *d);

/* Scores content and gathers the facts, then applies submit_rule.  Nothing
 * is stored.  email_hash: the keyed hash of the address, or NULL to hash
 * content->email (an edit knows the hash and, for the edit window, the
 * domain only).  The Referer is reduced to its scheme and host first
 * (d->referrer): the rest is never weighed or kept.  0 or negative. */
int submit_decide(struct store_conn *c, const struct submit_site *site,
		  const struct submit_content *content, const unsigned char *email_hash,
		  const struct submit_request *rq, struct submit_decision *d);

/* Validates in (normalised in place), decides and stores a new comment; a
 * discarded one is counted, takes an id and is answered like a held one.
 * *out is the poster's answer (lib/view.h, with the edit token).  0,
 * COMMENT_INVALID or COMMENT_UNAVAILABLE with err, or negative. */
int submit_comment(struct store_conn *c, const struct submit_site *site, struct comment_input *in,
		   const struct submit_request *rq, struct submit_decision *d, json_t **out,
		   struct comment_error *err);

/* The author's edit of comment id with its edit token, within edit_window:
 * the changed text, name or website is validated and decided again exactly
 * as a new comment with that content would be (the e-mail domain, kept
 * sealed for the edit window, included).  *out is the poster's answer.  The
 * edit of a discarded comment's decoy is validated alike and answered like
 * a held comment's, never published.  0, COMMENT_INVALID (404 unknown, 403
 * wrong token or window closed, 422 invalid), COMMENT_UNAVAILABLE, or
 * negative. */
int submit_author_edit(struct store_conn *c, const struct submit_site *site, int64_t id,
		       const char *token, const struct comment_change *ch,
		       const struct submit_request *rq, struct submit_decision *d, json_t **out,
		       struct comment_error *err);

/* A moderator's reply (POST /api/v1/admin/comments/{id}/reply). */
struct submit_reply {
	int64_t parent;		  /* the comment answered */
	const char *text;	  /* Markdown, validated as any comment's */
	const char *actor;	  /* the token's name: kept with the reply, audit log */
	const char *display_name; /* the name the reply is published under */
	bool approve;		  /* approve a parent that is not published first */
};

/* Publishes rp->text under rp->display_name as a reply to rp->parent (a
 * comment of site: another site's is 404, as one that does not exist),
 * through the pipeline with origin SUBMIT_MODERATOR (published, reason
 * "moderator"), kept with rp->actor so that readers see the author badge,
 * and audited ("reply").  A held or spam-filed parent is approved first
 * (moderation_act: learned as ham, audited) when rp->approve, else refused.
 * *out is the reply's public form with "status".  0, COMMENT_INVALID (404
 * no such comment, 409 parent_not_published, 422 invalid text),
 * COMMENT_UNAVAILABLE, or negative. */
int submit_moderator_reply(struct store_conn *c, const struct submit_site *site,
			   const struct submit_reply *rp, int64_t now, struct submit_decision *d,
			   json_t **out, struct comment_error *err);

/* The author's deletion of comment id (same token and window), a decoy's
 * too.  *out is {"id", "deleted": true}.  Like submit_author_edit. */
int submit_author_delete(struct store_conn *c, const struct submit_site *site, int64_t id,
			 const char *token, int64_t now, json_t **out, struct comment_error *err);

#endif
