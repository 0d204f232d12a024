/* commentctl key: site keys for the Akismet-compatible endpoint
 * (docs/akismet.md). */
#include "ctl.h"

#include "akismet.h"
#include "config.h"
#include "keys.h"
#include "site.h"
#include "store.h"
#include "text.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char key_usage[] =
    "usage: commentctl key create --blog URL (--db DB --key KEY | --config FILE)\n"
    "       commentctl key create --site ID [--blog URL] (--db DB --key KEY | --config FILE)\n"
    "       commentctl key list (--db DB | --config FILE)\n"
    "       commentctl key revoke --id N (--db DB | --config FILE)\n"
    "       commentctl key revoke --site-key SITEKEY (--db DB --key KEY | --config FILE)\n"
    "Creates, lists or revokes the site keys that Akismet clients use with\n"
    "commentd's Akismet-compatible endpoint.  A new key (12 hex digits, the\n"
    "shape Akismet clients expect) is printed once; the database keeps only\n"
    "its keyed hash.  --key is commentd's secret key file, not a site key.\n"
    "A key belongs to one site, whose rules its checks follow: --site ID, or\n"
    "the site one of whose origins --blog is on (a configuration without\n"
    "[site ID] sections has one site, default).  --blog defaults to the site's\n"
    "first origin.\n";

struct key_args {
	bool create, revoke;
	const char *blog, *site_key;
	int64_t id;
};

enum { OPT_BLOG = 0x100, OPT_ID, OPT_SITE_KEY };

static const struct option key_options[] = {
    {"blog", required_argument, NULL, OPT_BLOG},
    {"id", required_argument, NULL, OPT_ID},
    {"site-key", required_argument, NULL, OPT_SITE_KEY},
    {NULL, 0, NULL, 0},
};

static int key_option(void *ctx, int opt, const char *arg)
{
	struct key_args *a = ctx;
	unsigned long long id;

	switch (opt) {
	case OPT_BLOG:
		a->blog = arg;
		return 0;
	case OPT_ID:
		if (text_parse_uint(arg, INT64_MAX, &id) != 0 || id < 1) {
			fprintf(stderr, "commentctl: --id takes a key id from 'key list'\n");
			return CTL_USAGE;
		}
		a->id = (int64_t)id;
		return 0;
	case OPT_SITE_KEY:
		a->site_key = arg;
		return 0;
	default:
		return CTL_USAGE;
	}
}

/* Revoking names one key; creating, or revoking by the key itself, needs
 * the secret key to hash it. */
static int key_need(void *ctx)
{
	const struct key_args *a = ctx;

	if (a->revoke && !a->id == !a->site_key) {
		fprintf(stderr, "commentctl: say which key: --id N or --site-key SITEKEY\n");
		return -1;
	}
	return CTL_NEED_DB | (a->create || (a->revoke && a->site_key) ? CTL_NEED_KEY : 0);
}

/* The site and blog of a new key: --site, or the site of --blog's origin;
 * --blog, or the site's first origin.  CTL_OK or a status (printed). */
static int key_site(const struct ctl_env *e, const struct key_args *a,
		    char site[CONFIG_SITE_ID_MAX + 1], const char **blog,
		    char first[NET_ORIGIN_MAX])
{
	struct site_set *set = NULL;
	const struct site *s;
	char err[CONFIG_ERR_MAX];

	if (e->n_sites > 1 || (!e->n_sites && !a->blog)) {
		fprintf(stderr,
			"commentctl: say which site: --site ID, or --blog URL on one of its "
			"origins\n");
		return CTL_USAGE;
	}
	if (site_set_new(&set, e->cfg, err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err[0] ? err : "out of memory");
		return CTL_FAIL;
	}
	s = e->n_sites ? site_set_find(set, e->sites[0]) : site_set_by_url(set, a->blog);
	if (!e->n_sites && !s && site_set_strict(set)) {
		fprintf(stderr, "commentctl: %s is on none of the sites' origins; add --site ID\n",
			a->blog);
		site_set_free(set);
		return CTL_USAGE;
	}
	snprintf(site, CONFIG_SITE_ID_MAX + 1, "%s",
		 e->n_sites ? e->sites[0]
		 : s	    ? s->id
			    : CONFIG_DEFAULT_SITE);
	*blog = a->blog;
	if (!*blog && s && net_origins_first(s->origins)) {
		snprintf(first, NET_ORIGIN_MAX, "%s/", net_origins_first(s->origins));
		*blog = first;
	}
	site_set_free(set);
	if (!*blog) {
		fprintf(stderr, "commentctl: --blog URL is required (the site has no origins)\n");
		return CTL_USAGE;
	}
	return CTL_OK;
}

static int key_create(struct store_conn *c, const struct ctl_env *e, const struct key_args *a)
{
	char key[AKISMET_KEY_CHARS], first[NET_ORIGIN_MAX], site[CONFIG_SITE_ID_MAX + 1];
	const char *blog = NULL;
	int64_t id = 0;
	int r;

	r = key_site(e, a, site, &blog, first);
	if (r != CTL_OK)
		return r;
	r = akismet_key_create(c, e->keys, site, blog, key, &id);
	if (r == AKISMET_BAD_BLOG) {
		fprintf(stderr, "commentctl: --blog must be an http:// or https:// URL\n");
		return CTL_USAGE;
	}
	if (r != 0) {
		fprintf(stderr, "commentctl: could not create the key\n");
		return CTL_FAIL;
	}
	printf("%s\n", key);
	fprintf(stderr,
		"commentctl: site key #%lld created for %s (site %s); it is shown only this "
		"once\n",
		(long long)id, blog, site);
	sodium_memzero(key, sizeof(key));
	return CTL_OK;
}

static int key_revoke(struct store_conn *c, const struct keys *k, const struct key_args *a)
{
	int r = a->id ? akismet_key_revoke_id(c, a->id) : akismet_key_revoke(c, k, a->site_key);

	if (r == AKISMET_NOT_FOUND) {
		fprintf(stderr, "commentctl: no active site key %s\n",
			a->id ? "with that id" : "like that");
		return CTL_FAIL;
	}
	return r == 0 ? CTL_OK : CTL_FAIL;
}

int cmd_key(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool create = strcmp(verb, "create") == 0, revoke = strcmp(verb, "revoke") == 0;
	struct key_args a = {.create = create, .revoke = revoke};
	struct ctl_spec spec = {
	    .usage = key_usage,
	    .options = key_options,
	    .option = key_option,
	    .ctx = &a,
	    .need_of = key_need,
	    .sites = create,
	};
	struct ctl_env e;
	struct store_conn *c;
	json_t *list = NULL;
	int r, status;

	if (!create && !revoke && strcmp(verb, "list") != 0) {
		bool help = strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0;
		fprintf(help ? stdout : stderr, "%s", key_usage);
		return help ? CTL_OK : CTL_USAGE;
	}
	r = ctl_env_open(&e, &spec, argc - 1, argv + 1);
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	if (create) {
		status = key_create(c, &e, &a);
	} else if (revoke) {
		status = key_revoke(c, e.keys, &a);
	} else if (akismet_key_list(c, (int64_t)time(NULL), &list) == 0) {
		char *s = json_dumps(list, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(list);
		status = CTL_OK;
	} else {
		status = CTL_FAIL;
	}
	store_release(e.store, c);
	ctl_env_close(&e);
	return status;
}
