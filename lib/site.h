/* site: the blogs one daemon serves, resolved from the configuration, and
 * the rule that says which of them a request is for.
 *
 * A site set holds one struct site per configured site (lib/config.h,
 * "Sites"): its id, its view of the settings, its parsed origins, its own
 * policy (blocklists, allowlist, link limit) and classifier cut-offs.  It
 * is immutable once built, so a reload builds a new set and requests keep
 * the one they started with.
 *
 * Which site a public request is for (site_pick), docs/configuration.md:
 *   - the site named by the request (a "site" field or ?site=), which must
 *     exist, and whose origins must include the request's Origin (or, when
 *     it sends none, its Referer's origin) when it has one;
 *   - else the site whose origins include that Origin or Referer;
 *   - else (a same-origin request: browsers send no Origin with a
 *     same-origin GET, and a page may send no Referer) the site one of
 *     whose origins has the request's Host;
 *   - else, with a single site, that site.
 * Without [site ID] sections (one site, "default") any request is the
 * default site's, as before sites existed: only naming another site fails.
 */
#ifndef COMMENTD_SITE_H
#define COMMENTD_SITE_H

#include "classify.h"
#include "comment.h"
#include "config.h"
#include "net.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>

struct site {
	char id[CONFIG_SITE_ID_MAX + 1];
	struct config *cfg; /* the site's view: top-level settings with its own over them */
	struct net_origins *origins;
	struct policy *policy;
	struct classify_settings classify; /* cut-offs and min_learned from cfg */
	char host[NET_ORIGIN_MAX];	   /* the host of its first origin, or "" */
};

struct site_set;

/* Resolves every site of cfg (which config_check accepted).  0, 1 with err
 * when a site's view breaks a rule, or negative on OOM. */
int site_set_new(struct site_set **out, const struct config *cfg, char *err);

/* NULL-safe; returns NULL. */
struct site_set *site_set_free(struct site_set *s);

/* The number of sites (at least 1) and site i (< count). */
size_t site_set_count(const struct site_set *s);
const struct site *site_set_at(const struct site_set *s, size_t i);

/* The site called id, or NULL. */
const struct site *site_set_find(const struct site_set *s, const char *id);

/* The site one of whose origins is origin (len bytes, as in an Origin
 * header), or NULL. */
const struct site *site_set_by_origin(const struct site_set *s, const char *origin, size_t len);

/* The site whose origins include the origin of the absolute http(s) URL
 * url (a Referer, an Akismet blog URL), or NULL. */
const struct site *site_set_by_url(const struct site_set *s, const char *url);

/* The classifier settings of cfg: the defaults with its cut-offs and
 * min_learned (what struct site's classify holds for its view). */
void site_classify_settings(const struct config *cfg, struct classify_settings *out);

/* True when the configuration has [site ID] sections, so requests must
 * show their site. */
bool site_set_strict(const struct site_set *s);

/* The request headers site_pick weighs (each NULL when absent). */
struct site_hint {
	const char *named;   /* the request's "site" field or ?site= */
	const char *origin;  /* Origin */
	const char *referer; /* Referer */
	const char *host;    /* Host */
};

/* The site a public request is for, by the rule above.  0 with *out, or
 * COMMENT_INVALID with err: 404 unknown_site, 403 site_mismatch, 403
 * unknown_origin or 400 missing_site. */
int site_pick(const struct site_set *s, const struct site_hint *h, const struct site **out,
	      struct comment_error *err);

#endif
