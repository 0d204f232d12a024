#include "site.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct site_set {
	struct site *sites;
	size_t n;
	bool strict;
};

static void site_clear(struct site *s)
{
	config_free(s->cfg);
	net_origins_free(s->origins);
	policy_free(s->policy);
	memset(s, 0, sizeof(*s));
}

void site_classify_settings(const struct config *cfg, struct classify_settings *out)
{
	classify_settings_default(out);
	out->ham_cutoff = cfg->ham_cutoff;
	out->spam_cutoff = cfg->spam_cutoff;
	out->discard_cutoff = cfg->discard_cutoff;
	out->min_learned = cfg->min_learned;
	out->starter = cfg->starter_model != 0;
	out->learn_cutoffs = cfg->learn_cutoffs != 0;
}

/* Site i of cfg, resolved.  0, 1 with err, negative. */
static int site_init(struct site *s, const struct config *cfg, size_t i, char *err)
{
	const char *first, *host;
	int r;

	snprintf(s->id, sizeof(s->id), "%s", config_site_id(cfg, i));
	r = config_site_view(cfg, i, &s->cfg, err);
	if (r == 0)
		r = net_origins_new(&s->origins, s->cfg->site_origins);
	if (r == 0)
		r = policy_new(&s->policy, s->cfg);
	if (r > 0 && !err[0])
		snprintf(err, CONFIG_ERR_MAX, "[site %s]: a list does not parse", s->id);
	if (r != 0)
		return r;
	site_classify_settings(s->cfg, &s->classify);
	first = net_origins_first(s->origins);
	host = first ? strstr(first, "://") : NULL;
	snprintf(s->host, sizeof(s->host), "%s", host ? host + 3 : "");
	return 0;
}

int site_set_new(struct site_set **out, const struct config *cfg, char *err)
{
	struct site_set *s = calloc(1, sizeof(*s));
	size_t n = config_site_count(cfg);
	int r = 0;

	err[0] = '\0';
	if (!s)
		return -ENOMEM;
	s->sites = calloc(n, sizeof(*s->sites));
	if (!s->sites) {
		free(s);
		return -ENOMEM;
	}
	s->strict = config_has_sections(cfg);
	for (; s->n < n && r == 0; s->n++)
		r = site_init(&s->sites[s->n], cfg, s->n, err);
	if (r != 0) {
		site_set_free(s);
		return r;
	}
	*out = s;
	return 0;
}

struct site_set *site_set_free(struct site_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		site_clear(&s->sites[i]);
	free(s->sites);
	free(s);
	return NULL;
}

size_t site_set_count(const struct site_set *s)
{
	return s->n;
}

const struct site *site_set_at(const struct site_set *s, size_t i)
{
	return i < s->n ? &s->sites[i] : NULL;
}

const struct site *site_set_find(const struct site_set *s, const char *id)
{
	for (size_t i = 0; id && i < s->n; i++) {
		if (strcmp(s->sites[i].id, id) == 0)
			return &s->sites[i];
	}
	return NULL;
}

const struct site *site_set_by_origin(const struct site_set *s, const char *origin, size_t len)
{
	for (size_t i = 0; origin && i < s->n; i++) {
		if (net_origins_match(s->sites[i].origins, origin, len))
			return &s->sites[i];
	}
	return NULL;
}

/* The length of url's origin ("scheme://host[:port]"), or 0 when url is
 * not an absolute http(s) URL. */
static size_t url_origin_len(const char *url)
{
	const char *rest;

	if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else
		return 0;
	return (size_t)(rest - url) + strcspn(rest, "/?#");
}

const struct site *site_set_by_url(const struct site_set *s, const char *url)
{
	size_t len = url ? url_origin_len(url) : 0;

	return len ? site_set_by_origin(s, url, len) : NULL;
}

bool site_set_strict(const struct site_set *s)
{
	return s->strict;
}

/* The origin a browser request shows: its Origin header, or without one
 * (or with "null", an opaque origin) its Referer's.  len 0: none. */
static const char *shown_origin(const char *origin, const char *referer, size_t *len)
{
	*len = 0;
	if (origin && *origin && strcmp(origin, "null") != 0) {
		*len = strlen(origin);
		return origin;
	}
	if (referer)
		*len = url_origin_len(referer);
	return *len ? referer : NULL;
}

/* The site one of whose origins is http(s)://host, or NULL. */
static const struct site *by_host(const struct site_set *s, const char *host)
{
	static const char *const schemes[] = {"https://", "http://"};
	char origin[NET_ORIGIN_MAX];
	const struct site *site = NULL;

	for (size_t i = 0; host && *host && !site && i < 2; i++) {
		int n = snprintf(origin, sizeof(origin), "%s%s", schemes[i], host);
		if (n > 0 && (size_t)n < sizeof(origin))
			site = site_set_by_origin(s, origin, (size_t)n);
	}
	return site;
}

int site_pick(const struct site_set *s, const struct site_hint *h, const struct site **out,
	      struct comment_error *err)
{
	const struct site *site = h->named ? site_set_find(s, h->named) : NULL;
	const char *shown;
	size_t len;

	if (h->named && !site)
		return comment_fail(err, 404, "unknown_site", "There is no such site here.");
	if (!s->strict) {
		*out = site ? site : &s->sites[0];
		return 0;
	}
	shown = shown_origin(h->origin, h->referer, &len);
	if (site) {
		/* Without Origin and Referer, a Host of another site is the
		 * same mismatch (a same-origin page naming the wrong site). */
		if ((shown && !net_origins_match(site->origins, shown, len)) ||
		    (!shown && by_host(s, h->host) && by_host(s, h->host) != site))
			return comment_fail(err, 403, "site_mismatch",
					    "This page is not on the site \"%s\".", site->id);
		*out = site;
		return 0;
	}
	if (shown) {
		*out = site_set_by_origin(s, shown, len);
		if (!*out)
			return comment_fail(
			    err, 403, "unknown_origin",
			    "This page's origin is not one of the sites this server "
			    "serves.");
		return 0;
	}
	/* Same-origin: the blog's own host serves commentd too. */
	*out = by_host(s, h->host);
	if (*out)
		return 0;
	if (s->n == 1) {
		*out = &s->sites[0];
		return 0;
	}
	return comment_fail(err, 400, "missing_site",
			    "Say which site this is for: send \"site\" or ?site=, or ask from "
			    "the site's pages.");
}
