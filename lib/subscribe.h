/* subscribe: readers' requests to hear of replies to their comment.
 *
 * The one place where commentd keeps an e-mail address, and only for as
 * long as it is needed: sealed with a key derived from the master key
 * (keys_seal: KEYS_SEAL, libsodium secretbox), beside the same keyed hash the
 * comments use (so a privacy erase finds it).  The address is opened only
 * to send a mail (lib/outbox.c).  A subscription is confirmed through a
 * mail first (double opt-in); it goes on unsubscribe, on privacy erase,
 * when its comment is no longer pending or published, after its site's
 * notify_retention_days, and unconfirmed after SUBSCRIBE_CONFIRM_DAYS.
 *
 * A subscription belongs to its comment's site (lib/site.h): a reader's
 * consent is given to one blog, so a confirmed address on one site never
 * confirms a subscription on another, and each site's mail links open only
 * its own subscriptions.
 */
#ifndef COMMENTD_SUBSCRIBE_H
#define COMMENTD_SUBSCRIBE_H

#include "config.h"
#include "keys.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define SUBSCRIBE_CONFIRM_DAYS 7
#define SUBSCRIBE_ADDRESS_MAX  256

enum {
	SUBSCRIBE_GONE = 1, /* no such subscription (any more) */
};

/* Inside the caller's transaction: subscribes email (a normalised, valid
 * address) to replies to comment_id, a comment of site.  *id is the new
 * subscription; *ask says whether to send a confirmation mail: not when
 * the address already has a confirmed subscription on the same site (the
 * new one is confirmed at once) and not when one was asked for on that
 * site within the last day (one mail a day at most to an address someone
 * else may have typed).  0 or a store result. */
int subscribe_add(struct store_conn *c, const struct keys *k, const char *site, int64_t comment_id,
		  const char *email, int64_t now, int64_t *id, bool *ask);

/* Confirms subscription id of site, and every other unconfirmed one of the
 * same address on that site (one mail confirms them all).  0,
 * SUBSCRIBE_GONE (none such on site), a store result. */
int subscribe_confirm(struct store_conn *c, const char *site, int64_t id, int64_t now);

/* Deletes subscription id of site.  0, SUBSCRIBE_GONE, or a store result. */
int subscribe_cancel(struct store_conn *c, const char *site, int64_t id);

/* Inside the caller's transaction: deletes every subscription of the
 * address with this keyed hash on the sites of scope (lib/admin.h; NULL:
 * every site) (privacy erase).  *n (may be NULL) counts them.  0 or a
 * store result. */
int subscribe_erase(struct store_conn *c, const char *scope,
		    const unsigned char hash[KEYS_HASH_BYTES], unsigned *n);

/* A subscription as the sender needs it; address is wiped by
 * subscribe_clear. */
struct subscription {
	int64_t id;
	int64_t comment_id;
	char site[CONFIG_SITE_ID_MAX + 1];
	bool confirmed;
	unsigned char email_hash[KEYS_HASH_BYTES];
	char address[SUBSCRIBE_ADDRESS_MAX];
};

/* Loads subscription id and opens its address.  1 found, 0 none (or the
 * box does not open: another key), negative on failure. */
int subscribe_load(struct store_conn *c, const struct keys *k, int64_t id,
		   struct subscription *out);

/* Wipes s. */
void subscribe_clear(struct subscription *s);

/* Calls fn(u, id) for each subscription to replies to comment_id that was
 * confirmed at or before since (the event's time: a reply published before
 * the confirmation is not told), except those with the hash exclude (the
 * reply's own author; may be NULL).  Stops at fn's first non-zero result and returns it; else
 * 0, or negative. */
int subscribe_watchers(struct store_conn *c, int64_t comment_id, int64_t since,
		       const unsigned char *exclude, int (*fn)(void *u, int64_t id), void *u);

/* A site's own retention (its notify_retention_days). */
struct subscribe_retention {
	const char *site;
	unsigned days;
};

/* Deletes the subscriptions older than their site's retention days (of the
 * n_sites in sites; default_days for a site not among them), unconfirmed
 * ones older than SUBSCRIBE_CONFIRM_DAYS and those whose comment is no
 * longer pending or published.  *n counts them.  0 or a store result. */
int subscribe_maintain(struct store_conn *c, const struct subscribe_retention *sites,
		       size_t n_sites, unsigned default_days, int64_t now, unsigned *n);

#endif
