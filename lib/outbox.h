/* outbox: notifications, written with what causes them and sent later.
 *
 * An event (held, published, reply, approved, subscribe) is added inside
 * the transaction that stores the comment or the moderator's action, so it
 * exists exactly when the change does.  The daemon's worker calls
 * outbox_run: it expands new events into deliveries, one per recipient
 * (the moderators, the webhook, a subscription; the table's key makes a
 * second one impossible), and sends those that are due without holding a
 * database connection while it talks to a server.  A failed delivery is
 * retried after notify_retry_seconds, doubling each time (at most 6 hours
 * apart), until a day after the event; then it is "failed".  A server may
 * see a mail twice only if the daemon dies between the server's "250" and
 * the commit that records it; the Message-ID (and the webhook's
 * X-Commentd-Delivery) stays the same for the receiver to tell.
 *
 * No address is stored here: a mail to a subscriber opens the
 * subscription's sealed address at send time (lib/subscribe.h).
 *
 * Every event belongs to its comment's site (lib/site.h) and is delivered
 * under that site's settings only: its moderators (and their digest), its
 * webhook, its public_url, sender and language; the links it sends act only
 * within that site (lib/link.h).  An event of a site no longer configured
 * is delivered to nobody.
 */
#ifndef COMMENTD_OUTBOX_H
#define COMMENTD_OUTBOX_H

#include "comment.h"
#include "config.h"
#include "keys.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define OUTBOX_GIVE_UP	      86400 /* seconds after the event: no more retries */
#define OUTBOX_MAX_DELAY      21600 /* longest wait between two tries */
#define OUTBOX_LINK_DAYS      7	    /* moderators' links expire after this */
#define OUTBOX_MODERATORS_MAX 16
#define OUTBOX_ERR_MAX	      160

enum outbox_type {
	OUTBOX_HELD,	  /* a new comment waits for moderation */
	OUTBOX_PUBLISHED, /* a new top-level comment was published */
	OUTBOX_REPLY,	  /* a new reply was published */
	OUTBOX_APPROVED,  /* a moderator published a held comment */
	OUTBOX_SUBSCRIBE, /* a reader asked for reply notifications: confirm */
};

/* The type's name ("held", ...). */
const char *outbox_type_name(enum outbox_type t);

/* A site's notification settings (borrowed strings), one per configured
 * site, filled from the site's view of the configuration by
 * outbox_site_of.  smtp_url, smtp_password and retry_seconds are the
 * daemon's (the same in every site's view). */
struct outbox_site {
	const char *id;		/* the site's id (lib/site.h) */
	const char *public_url; /* commentd as readers reach it, for links */
	const char *site_url;	/* the blog's origin, for page links, or "" */
	enum config_language language;
	const char *smtp_url, *smtp_from, *smtp_password;
	const char *moderators; /* list of addresses */
	unsigned digest_minutes, retention_days, retry_seconds;
	const char *webhook_url, *webhook_secret;
};

/* The notification settings of site id from cfg, the site's view
 * (site_url and smtp_password come from the caller: the site's first
 * origin, the credential's contents). */
void outbox_site_of(const struct config *cfg, const char *id, const char *site_url,
		    const char *smtp_password, struct outbox_site *out);

/* The site called id among the n in sites, or NULL. */
const struct outbox_site *outbox_site_find(const struct outbox_site *sites, size_t n,
					   const char *id);

/* True when cfg sends anything (mail or webhook): only then are events
 * written. */
bool outbox_enabled(const struct config *cfg);

/* A new comment, as comment_create stored it. */
struct outbox_comment {
	const char *site; /* the comment's site */
	int64_t id;
	int64_t parent; /* 0: top level */
	enum comment_status status;
	const char *notify_email; /* the poster asked for reply notifications, or NULL */
	int64_t now;
};

/* Inside the transaction that stores the comment: its event (held for
 * pending, reply or published for published, none otherwise) and, when
 * asked and mail is set up, the poster's subscription and its confirmation
 * event, all of oc->site.  cfg is that site's view.  Nothing when
 * !outbox_enabled(cfg).  0 or a store result. */
int outbox_comment_created(struct store_conn *c, const struct config *cfg, const struct keys *k,
			   const struct outbox_comment *oc);

/* Adds one event of site inside the caller's transaction.  0 or a store
 * result. */
int outbox_add(struct store_conn *c, enum outbox_type type, const char *site, int64_t comment_id,
	       int64_t subscription_id, int64_t now);

/* Seconds to wait after the attempts-th failed try (1, 2, ...): base,
 * doubling, at most OUTBOX_MAX_DELAY. */
int64_t outbox_backoff(unsigned attempts, unsigned base);

/* How a delivery leaves: in the daemon mail_send and webhook_post
 * (outbox_network, whose u may point to an atomic_bool that stops a send in
 * progress); results 0, 2 (retry) or 3 (refused for good). */
struct outbox_transport {
	int (*mail)(void *u, const struct outbox_site *site, const char *const *rcpt, size_t n,
		    const char *message, size_t len, char err[OUTBOX_ERR_MAX]);
	int (*webhook)(void *u, const struct outbox_site *site, const char *type, int64_t event_id,
		       int64_t now, const char *body, char err[OUTBOX_ERR_MAX]);
	void *u;
};
extern const struct outbox_transport outbox_network;

struct outbox_report {
	unsigned expanded, delivered, retried, failed, skipped;
};

/* One pass over the n_sites configured sites: expands new events and sends
 * what is due at now, each under its site's settings (at most a few dozen
 * deliveries and one digest per site; call again while rep->delivered +
 * retried + failed + skipped is not 0).  Connections are borrowed from s
 * only between sends.  0 or negative. */
int outbox_run(struct store *s, const struct keys *k, const struct outbox_site *sites,
	       size_t n_sites, const struct outbox_transport *t, int64_t now,
	       struct outbox_report *rep);

/* The deliveries of the scope's sites (lib/admin.h; NULL: every site) that
 * are pending or failed (all: also delivered and skipped ones still kept),
 * oldest first, at most limit:
 * [{"event", "site", "type", "comment", "recipient", "state", "attempts",
 *   "next", "error", "created"}].  Recipients are "moderators", "webhook"
 * or "subscription #N": never an address.  0 or negative. */
int outbox_list(struct store_conn *c, const char *scope, bool all, unsigned limit, json_t **out);

/* Retention: events whose deliveries are all done and older than 30 days,
 * subscriptions after their site's retention_days (default_days for a site
 * no longer among the n_sites in sites; subscribe_maintain) and expired
 * link uses.  *n counts the rows deleted.  0 or a store result. */
int outbox_maintain(struct store_conn *c, const struct outbox_site *sites, size_t n_sites,
		    unsigned default_days, int64_t now, unsigned *n);

#endif
