/* policy: the site's own rules, applied before the publish decision:
 * blocklisted words, domains and networks, allowlisted commenters, and the
 * number of links in a comment.  Built from a config; immutable after. */
#ifndef COMMENTD_POLICY_H
#define COMMENTD_POLICY_H

#include "config.h"
#include "keys.h"
#include "net.h"

#include <stdbool.h>

struct policy;

struct policy_facts {
	bool blocklisted;
	const char *block_reason; /* "word", "domain" or "network" */
	bool allowlisted;
	unsigned links; /* links in the text plus the author URL */
};

/* Parses the lists in cfg.  0, 1 on a bad list, negative on OOM. */
int policy_new(struct policy **out, const struct config *cfg);

/* NULL-safe; returns NULL. */
struct policy *policy_free(struct policy *p);

/* Checks a validated submission.  email_hash is the keyed hash of the
 * normalised address (NULL: unknown, no allowlist); email (normalised, or
 * NULL when only the hash is known) gives the domain. */
void policy_check(const struct policy *p, const char *text, const char *author, const char *url,
		  const char *email, const unsigned char email_hash[KEYS_HASH_BYTES],
		  const struct net_addr *client, struct policy_facts *out);

/* Counts http(s):// and www. links in text. */
unsigned policy_count_links(const char *text);

#endif
