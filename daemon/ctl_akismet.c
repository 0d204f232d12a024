/* commentctl key: site keys for the Akismet-compatible endpoint
 * (docs/akismet.md). */
#include "ctl.h"

#include "akismet.h"
#include "config.h"
#include "keys.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char key_usage[] =
    "usage: commentctl key create --blog URL (--db DB --key KEY | --config FILE)\n"
    "       commentctl key list (--db DB | --config FILE)\n"
    "       commentctl key revoke --id N (--db DB | --config FILE)\n"
    "       commentctl key revoke --site-key SITEKEY (--db DB --key KEY | --config FILE)\n"
    "Creates, lists or revokes the site keys that Akismet clients use with\n"
    "commentd's Akismet-compatible endpoint.  A new key (12 hex digits, the\n"
    "shape Akismet clients expect) is printed once; the database keeps only\n"
    "its keyed hash.  --key is commentd's secret key file, not a site key.\n";

struct key_args {
	const char *db, *secret, *config_path, *blog, *site_key;
	int64_t id;
};

/* 0, or an exit status (-1: help printed). */
static int parse_args(int argc, char **argv, struct key_args *a)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},     {"key", required_argument, NULL, 'k'},
	    {"config", required_argument, NULL, 'c'}, {"blog", required_argument, NULL, 'b'},
	    {"id", required_argument, NULL, 'i'},     {"site-key", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:k:c:b:i:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			a->db = optarg;
			break;
		case 'k':
			a->secret = optarg;
			break;
		case 'c':
			a->config_path = optarg;
			break;
		case 'b':
			a->blog = optarg;
			break;
		case 'i':
			errno = 0;
			a->id = strtoll(optarg, &end, 10);
			if (errno || *end || a->id < 1) {
				fprintf(stderr,
					"commentctl: --id takes a key id from 'key list'\n");
				return CTL_USAGE;
			}
			break;
		case 's':
			a->site_key = optarg;
			break;
		case 'h':
			printf("%s", key_usage);
			return -1;
		default:
			fprintf(stderr, "%s", key_usage);
			return CTL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "commentctl: unexpected argument '%s'\n%s", argv[optind],
			key_usage);
		return CTL_USAGE;
	}
	return 0;
}

/* Loads the configuration and opens the store (and the secret key when
 * need_key).  CTL_OK or an exit status. */
static int open_env(const struct key_args *a, bool need_key, struct config **cfg,
		    struct keys **keys, struct store **store)
{
	char err[CONFIG_ERR_MAX];

	if (config_new(cfg) < 0)
		return CTL_FAIL;
	if (a->config_path && config_load_file(*cfg, a->config_path, err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	if ((a->db && config_set(*cfg, "db", a->db, err) != 0) ||
	    (a->secret && config_set(*cfg, "key", a->secret, err) != 0)) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	if (!a->db && !a->config_path) {
		fprintf(stderr, "commentctl: say which database: --db PATH or --config FILE\n");
		return CTL_USAGE;
	}
	if (need_key) {
		if (!a->secret && !a->config_path) {
			fprintf(stderr, "commentctl: this needs the secret key: --key PATH or "
					"--config FILE\n");
			return CTL_USAGE;
		}
		if (keys_new(keys, (*cfg)->key) != 0) {
			fprintf(stderr, "commentctl: cannot read the key %s\n", (*cfg)->key);
			return CTL_FAIL;
		}
	}
	return ctl_open_store((*cfg)->db, store);
}

static int key_create(struct store_conn *c, const struct keys *k, const struct key_args *a)
{
	char key[AKISMET_KEY_CHARS];
	int64_t id = 0;
	int r;

	if (!a->blog) {
		fprintf(stderr, "commentctl: --blog URL is required (the site's front page)\n");
		return CTL_USAGE;
	}
	r = akismet_key_create(c, k, a->blog, key, &id);
	if (r == AKISMET_BAD_BLOG) {
		fprintf(stderr, "commentctl: --blog must be an http:// or https:// URL\n");
		return CTL_USAGE;
	}
	if (r != 0) {
		fprintf(stderr, "commentctl: could not create the key\n");
		return CTL_FAIL;
	}
	printf("%s\n", key);
	fprintf(stderr, "commentctl: site key #%lld created for %s; it is shown only this once\n",
		(long long)id, a->blog);
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

static int cmd_key(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool create = strcmp(verb, "create") == 0, revoke = strcmp(verb, "revoke") == 0;
	struct config *cfg = NULL;
	struct keys *keys = NULL;
	struct store *store = NULL;
	struct store_conn *c;
	struct key_args a;
	json_t *list = NULL;
	int status;

	if (!create && !revoke && strcmp(verb, "list") != 0) {
		if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
			printf("%s", key_usage);
			return CTL_OK;
		}
		fprintf(stderr, "%s", key_usage);
		return CTL_USAGE;
	}
	status = parse_args(argc - 1, argv + 1, &a);
	if (status)
		return status < 0 ? CTL_OK : status;
	if (revoke && !a.id == !a.site_key) {
		fprintf(stderr, "commentctl: say which key: --id N or --site-key SITEKEY\n");
		return CTL_USAGE;
	}
	status = open_env(&a, create || (revoke && a.site_key), &cfg, &keys, &store);
	if (status != CTL_OK)
		goto out;
	c = store_acquire(store);
	if (create) {
		status = key_create(c, keys, &a);
	} else if (revoke) {
		status = key_revoke(c, keys, &a);
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
	store_release(store, c);
out:
	store_free(store);
	keys_free(keys);
	config_free(cfg);
	return status;
}
CTL_COMMAND(key, "create, list or revoke Akismet site keys", cmd_key);
