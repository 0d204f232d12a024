/* likes: readers' likes of published comments.
 *
 * One like per client and comment, and a like toggles: the same client
 * liking again takes its like back.  The client is keyed as for rate limits
 * (net_client_network: an IPv4 address, an IPv6 /64 within which it may
 * change addresses at will, a tunnelled IPv6 address by its IPv4); what is
 * stored is a keyed hash (KEYS_LIKE) of that and the comment's id, never
 * the address, and it differs from one comment to the next, so a client's
 * likes cannot be joined into a profile.  The count lives in
 * comments.likes (schema 0013, kept by triggers) and shows in every
 * comment answer (lib/view.h); sort=top orders by it.
 */
#ifndef COMMENTD_LIKES_H
#define COMMENTD_LIKES_H

#include "comment.h"
#include "config.h"
#include "keys.h"
#include "net.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The voter of client for comment id. */
void likes_voter(const struct keys *k, const struct net_addr *client, int64_t id,
		 unsigned char out[KEYS_HASH_BYTES]);

struct likes_result {
	int64_t id;
	int64_t likes; /* the comment's count after the toggle */
	bool liked;    /* the voter likes it now */
};

/* Toggles voter's like of comment id of site at now (cfg: the site's
 * settings), in one transaction shared with concurrent writers
 * (store_group_write).  0 with *out; COMMENT_INVALID with err (403
 * likes_disabled when cfg->likes is off, 404 not_found when id is not a
 * published comment of site), COMMENT_UNAVAILABLE, or negative. */
int likes_toggle(struct store_conn *c, const struct config *cfg, const char *site, int64_t id,
		 const unsigned char voter[KEYS_HASH_BYTES], int64_t now, struct likes_result *out,
		 struct comment_error *err);

/* {"id", "likes", "liked"}.  NULL on OOM. */
json_t *likes_json(const struct likes_result *r);

#endif
