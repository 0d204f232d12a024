/* commentctl token | maintain | privacy | email-hash: moderator access,
 * retention and privacy requests from the command line. */
#include "ctl.h"

#include "admin.h"
#include "classify.h"
#include "config.h"
#include "keys.h"
#include "moderation.h"
#include "store.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctl_env {
	struct config *cfg;
	struct keys *keys;
	struct store *store;
	const char *name;
	const char *email;
	bool anonymise;
};

static void ctl_env_free(struct ctl_env *e)
{
	e->store = store_free(e->store);
	e->keys = keys_free(e->keys);
	e->cfg = config_free(e->cfg);
}

/* Parses --db, --key, --config and the command's own options; opens what
 * the command needs.  Returns CTL_OK or an exit status. */
static int ctl_env_open(struct ctl_env *e, int argc, char **argv, bool need_key, bool need_db,
			const char *usage)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},     {"key", required_argument, NULL, 'k'},
	    {"config", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'n'},
	    {"email", required_argument, NULL, 'e'},  {"anonymise", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *key = NULL, *config_path = NULL;
	char err[CONFIG_ERR_MAX];
	int opt;

	memset(e, 0, sizeof(*e));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:k:c:n:e:ah", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			db = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			e->name = optarg;
			break;
		case 'e':
			e->email = optarg;
			break;
		case 'a':
			e->anonymise = true;
			break;
		case 'h':
			printf("%s", usage);
			return -1;
		default:
			fprintf(stderr, "%s", usage);
			return CTL_USAGE;
		}
	}
	if (config_new(&e->cfg) < 0)
		return CTL_FAIL;
	if (config_path && config_load_file(e->cfg, config_path, err) != 0) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	if ((db && config_set(e->cfg, "db", db, err) != 0) ||
	    (key && config_set(e->cfg, "key", key, err) != 0)) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	if (need_db && !db && !config_path) {
		fprintf(stderr, "commentctl: say which database: --db PATH or --config FILE\n");
		return CTL_USAGE;
	}
	if (need_key) {
		if (!key && !config_path) {
			fprintf(stderr, "commentctl: this needs the secret key: --key PATH or "
					"--config FILE\n");
			return CTL_USAGE;
		}
		if (keys_new(&e->keys, e->cfg->key) != 0) {
			fprintf(stderr, "commentctl: cannot read the key %s\n", e->cfg->key);
			return CTL_FAIL;
		}
	}
	if (need_db && ctl_open_store(e->cfg->db, &e->store) != CTL_OK)
		return CTL_FAIL;
	return CTL_OK;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s)
		printf("%s\n", s);
	free(s);
}

static const char token_usage[] =
    "usage: commentctl token create --name NAME (--db DB --key KEY | --config FILE)\n"
    "       commentctl token list (--db DB | --config FILE)\n"
    "       commentctl token revoke --name NAME (--db DB | --config FILE)\n"
    "Creates, lists or revokes moderator tokens.  A new token is printed once;\n"
    "the database keeps only its keyed hash.\n";

static int cmd_token(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool create = strcmp(verb, "create") == 0;
	struct ctl_env e;
	char token[KEYS_TOKEN_CHARS];
	struct store_conn *c;
	json_t *list = NULL;
	int r, status = CTL_FAIL;

	if (!create && strcmp(verb, "list") != 0 && strcmp(verb, "revoke") != 0) {
		fprintf(stderr, "%s", token_usage);
		return CTL_USAGE;
	}
	r = ctl_env_open(&e, argc - 1, argv + 1, create, true, token_usage);
	if (r != CTL_OK) {
		ctl_env_free(&e);
		return r < 0 ? CTL_OK : r;
	}
	c = store_acquire(e.store);
	if (create || strcmp(verb, "revoke") == 0) {
		if (!e.name) {
			fprintf(stderr, "commentctl: --name is required\n");
			status = CTL_USAGE;
			goto out;
		}
	}
	if (create) {
		r = admin_token_create(c, e.keys, e.name, token);
		if (r == ADMIN_EXISTS)
			fprintf(stderr,
				"commentctl: a token called %s exists; revoke it or pick "
				"another name\n",
				e.name);
		else if (r == ADMIN_INVALID)
			fprintf(stderr,
				"commentctl: a name is 1 to 64 characters without spaces\n");
		else if (r == 0) {
			printf("%s\n", token);
			fprintf(stderr,
				"commentctl: token %s created; it is shown only this once\n",
				e.name);
			status = CTL_OK;
		}
		sodium_memzero(token, sizeof(token));
	} else if (strcmp(verb, "revoke") == 0) {
		r = admin_token_revoke(c, e.name);
		if (r == ADMIN_NOT_FOUND)
			fprintf(stderr, "commentctl: no active token called %s\n", e.name);
		else if (r == 0)
			status = CTL_OK;
	} else if (admin_token_list(c, &list) == 0) {
		print_json(list);
		json_decref(list);
		status = CTL_OK;
	}
out:
	store_release(e.store, c);
	ctl_env_free(&e);
	return status;
}
CTL_COMMAND(token, "create, list or revoke moderator tokens", cmd_token);

static const char maintain_usage[] =
    "usage: commentctl maintain (--db DB | --config FILE)\n"
    "Deletes spam older than spam_retention_days, clears IP addresses older than\n"
    "ip_retention_days, drops bare tombstones and prunes stale classifier tokens\n"
    "(settings from --config, else the defaults).\n";

static int cmd_maintain(int argc, char **argv)
{
	struct maintenance_report rep;
	struct classifier *cl = NULL;
	struct ctl_env e;
	struct store_conn *c;
	int r;

	r = ctl_env_open(&e, argc, argv, false, true, maintain_usage);
	if (r != CTL_OK) {
		ctl_env_free(&e);
		return r < 0 ? CTL_OK : r;
	}
	if (classifier_new(&cl, NULL) != 0) {
		ctl_env_free(&e);
		return CTL_FAIL;
	}
	c = store_acquire(e.store);
	r = moderation_maintain(c, cl, e.cfg->spam_retention_days, e.cfg->ip_retention_days,
				e.cfg->token_prune_days, (int64_t)time(NULL), &rep);
	store_release(e.store, c);
	if (r == 0)
		printf("{\"spam_deleted\": %u, \"ips_cleared\": %u, \"tombstones_purged\": %u, "
		       "\"tokens_pruned\": %u}\n",
		       rep.spam_deleted, rep.ips_cleared, rep.tombstones_purged, rep.tokens_pruned);
	else
		fprintf(stderr, "commentctl: maintenance failed\n");
	classifier_free(cl);
	ctl_env_free(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}
CTL_COMMAND(maintain, "apply the retention rules now", cmd_maintain);

static const char privacy_usage[] =
    "usage: commentctl privacy export --email ADDRESS (--db DB --key KEY | --config FILE)\n"
    "       commentctl privacy erase --email ADDRESS [--anonymise] (--db DB --key KEY | "
    "--config FILE)\n"
    "Exports or erases every comment written with an e-mail address.  The address\n"
    "is hashed to find the comments and then dropped.\n";

static int cmd_privacy(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool erase = strcmp(verb, "erase") == 0;
	struct classifier *cl = NULL;
	struct ctl_env e;
	struct store_conn *c;
	json_t *out = NULL;
	int r;

	if (!erase && strcmp(verb, "export") != 0) {
		fprintf(stderr, "%s", privacy_usage);
		return CTL_USAGE;
	}
	r = ctl_env_open(&e, argc - 1, argv + 1, true, true, privacy_usage);
	if (r != CTL_OK) {
		ctl_env_free(&e);
		return r < 0 ? CTL_OK : r;
	}
	if (!e.email) {
		fprintf(stderr, "commentctl: --email is required\n");
		ctl_env_free(&e);
		return CTL_USAGE;
	}
	if (classifier_new(&cl, NULL) != 0) {
		ctl_env_free(&e);
		return CTL_FAIL;
	}
	c = store_acquire(e.store);
	if (erase)
		r = moderation_erase(c, cl, e.keys, e.email,
				     e.anonymise || e.cfg->erase == ERASE_ANONYMISE, "commentctl",
				     &out);
	else
		r = moderation_export(c, e.keys, e.email, &out);
	store_release(e.store, c);
	if (r == 0)
		print_json(out);
	else
		fprintf(stderr, "commentctl: %s\n",
			r == COMMENT_INVALID ? "that is not an e-mail address" : "failed");
	json_decref(out);
	classifier_free(cl);
	ctl_env_free(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}
CTL_COMMAND(privacy, "export or erase a commenter's comments", cmd_privacy);

static const char email_hash_usage[] =
    "usage: commentctl email-hash --email ADDRESS (--key KEY | --config FILE)\n"
    "Prints the keyed hash of an address, for allowlist_emails.\n";

static int cmd_email_hash(int argc, char **argv)
{
	unsigned char hash[KEYS_HASH_BYTES];
	char hex[2 * KEYS_HASH_BYTES + 1], norm[300];
	struct ctl_env e;
	int r;

	r = ctl_env_open(&e, argc, argv, true, false, email_hash_usage);
	if (r != CTL_OK) {
		ctl_env_free(&e);
		return r < 0 ? CTL_OK : r;
	}
	if (!e.email || strlen(e.email) >= sizeof(norm) || !strchr(e.email, '@')) {
		fprintf(stderr, "%s", email_hash_usage);
		ctl_env_free(&e);
		return CTL_USAGE;
	}
	/* The same normalisation as comment_validate: trimmed, lower-case. */
	{
		const char *s = e.email;
		size_t n;
		while (*s == ' ' || *s == '\t')
			s++;
		n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
			n--;
		for (size_t i = 0; i < n; i++)
			norm[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
		norm[n] = '\0';
	}
	keys_hash(e.keys, KEYS_EMAIL, norm, strlen(norm), hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	printf("%s\n", hex);
	sodium_memzero(norm, sizeof(norm));
	ctl_env_free(&e);
	return CTL_OK;
}
CTL_COMMAND_NAMED(email_hash, "email-hash", "print an address's keyed hash (allowlists)",
		  cmd_email_hash);
