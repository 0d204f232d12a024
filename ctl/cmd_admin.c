/* commentctl token | maintain | privacy | email-hash: moderator access,
 * retention and privacy requests from the command line. */
#include "ctl.h"

#include "admin.h"
#include "classify.h"
#include "config.h"
#include "keys.h"
#include "moderation.h"
#include "search.h"
#include "store.h"
#include "text.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Options of token, privacy and email-hash. */
struct admin_args {
	const char *name;
	const char *email;
	const char *display_name;
	bool anonymise;
	bool no_display_name;
};

enum { OPT_NAME = 0x100, OPT_EMAIL, OPT_ANONYMISE, OPT_DISPLAY_NAME, OPT_NO_DISPLAY_NAME };

static const struct option admin_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"email", required_argument, NULL, OPT_EMAIL},
    {"anonymise", no_argument, NULL, OPT_ANONYMISE},
    {"display-name", required_argument, NULL, OPT_DISPLAY_NAME},
    {"no-display-name", no_argument, NULL, OPT_NO_DISPLAY_NAME},
    {NULL, 0, NULL, 0},
};

static int admin_option(void *ctx, int opt, const char *arg)
{
	struct admin_args *a = ctx;

	if (opt == OPT_NAME)
		a->name = arg;
	else if (opt == OPT_EMAIL)
		a->email = arg;
	else if (opt == OPT_ANONYMISE)
		a->anonymise = true;
	else if (opt == OPT_DISPLAY_NAME)
		a->display_name = arg;
	else if (opt == OPT_NO_DISPLAY_NAME)
		a->no_display_name = true;
	else
		return CTL_USAGE;
	return 0;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s)
		printf("%s\n", s);
	free(s);
}

static const char token_usage[] =
    "usage: commentctl token create --name NAME [--display-name NAME] [--site ID]...\n"
    "                               (--db DB --key KEY | --config FILE)\n"
    "       commentctl token set --name NAME (--display-name NAME | --no-display-name)\n"
    "                            (--db DB | --config FILE)\n"
    "       commentctl token list (--db DB | --config FILE)\n"
    "       commentctl token revoke --name NAME (--db DB | --config FILE)\n"
    "Creates, changes, lists or revokes moderator tokens.  A new token is printed\n"
    "once; the database keeps only its keyed hash.  --display-name is the name\n"
    "the moderator's replies from the moderation page are published under (with\n"
    "the author badge); public posts under that name are held.  A token created\n"
    "with --site sees and acts on those sites only; without, on every site.\n";

/* Sets or clears the token's display name.  CTL_OK or CTL_FAIL. */
static int token_display_name(struct store_conn *c, const struct admin_args *a)
{
	int r =
	    admin_token_set_display_name(c, a->name, a->no_display_name ? NULL : a->display_name);

	if (r == ADMIN_INVALID)
		fprintf(stderr, "commentctl: a display name is 1 to %d characters on one line\n",
			ADMIN_DISPLAY_MAX);
	else if (r == ADMIN_NOT_FOUND)
		fprintf(stderr, "commentctl: no active token called %s\n", a->name);
	else if (r < 0)
		fprintf(stderr, "commentctl: cannot store the display name\n");
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static int token_create(struct store_conn *c, const struct ctl_env *e, const struct admin_args *a)
{
	const char *name = a->name;
	char token[KEYS_TOKEN_CHARS];
	int r;

	/* A bad display name stops the command before a token exists. */
	if (a->display_name && admin_display_name_check(a->display_name) != 0) {
		fprintf(stderr, "commentctl: a display name is 1 to %d characters on one line\n",
			ADMIN_DISPLAY_MAX);
		return CTL_FAIL;
	}
	r = admin_token_create(c, e->keys, name, e->sites, e->n_sites, token);
	if (r == 0 && a->display_name && token_display_name(c, a) != CTL_OK) {
		/* Nobody has seen the token: it is revoked at once. */
		admin_token_revoke(c, name);
		fprintf(stderr, "commentctl: token %s revoked: its display name was not stored\n",
			name);
		r = -1;
	}
	if (r == ADMIN_EXISTS)
		fprintf(stderr,
			"commentctl: a token called %s exists; revoke it or pick another "
			"name\n",
			name);
	else if (r == ADMIN_INVALID)
		fprintf(stderr, "commentctl: a name is 1 to 64 characters without spaces\n");
	else if (r == 0) {
		printf("%s\n", token);
		fprintf(stderr, "commentctl: token %s created for %s; it is shown only this once\n",
			name, e->n_sites ? "the sites named" : "every site");
	}
	sodium_memzero(token, sizeof(token));
	return r == 0 ? CTL_OK : CTL_FAIL;
}

int cmd_token(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool create = strcmp(verb, "create") == 0, revoke = strcmp(verb, "revoke") == 0;
	bool set = strcmp(verb, "set") == 0;
	struct admin_args a = {0};
	struct ctl_spec spec = {
	    .usage = token_usage,
	    .need = CTL_NEED_DB | (create ? CTL_NEED_KEY : 0),
	    .options = admin_options,
	    .option = admin_option,
	    .ctx = &a,
	    .sites = create,
	};
	struct ctl_env e;
	struct store_conn *c;
	json_t *list = NULL;
	int r, status = CTL_FAIL;

	if (!create && !revoke && !set && strcmp(verb, "list") != 0) {
		fprintf(stderr, "%s", token_usage);
		return CTL_USAGE;
	}
	r = ctl_env_open(&e, &spec, argc - 1, argv + 1);
	if (r == CTL_OK && (create || revoke || set) && !a.name) {
		fprintf(stderr, "commentctl: --name is required\n");
		r = CTL_USAGE;
	}
	if (r == CTL_OK && set && !a.display_name == !a.no_display_name) {
		fprintf(stderr,
			"commentctl: token set needs --display-name or --no-display-name\n");
		r = CTL_USAGE;
	}
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	if (create) {
		status = token_create(c, &e, &a);
	} else if (set) {
		status = token_display_name(c, &a);
	} else if (revoke) {
		r = admin_token_revoke(c, a.name);
		if (r == ADMIN_NOT_FOUND)
			fprintf(stderr, "commentctl: no active token called %s\n", a.name);
		status = r == 0 ? CTL_OK : CTL_FAIL;
	} else if (admin_token_list(c, &list) == 0) {
		print_json(list);
		json_decref(list);
		status = CTL_OK;
	}
	store_release(e.store, c);
	ctl_env_close(&e);
	return status;
}

static const char maintain_usage[] =
    "usage: commentctl maintain [--site ID]... (--db DB | --config FILE)\n"
    "Deletes spam older than spam_retention_days, clears client addresses older\n"
    "than ip_retention_days and e-mail domains and decoys' content older than each\n"
    "site's edit_window, drops bare tombstones and prunes stale classifier tokens\n"
    "(settings from --config, else the defaults), and prints what it did.  With\n"
    "--site, only those sites' comments (the classifier, shared, is not pruned).\n";

int cmd_maintain(int argc, char **argv)
{
	struct ctl_spec spec = {.usage = maintain_usage, .need = CTL_NEED_DB, .sites = true};
	struct maintenance_report rep;
	struct classifier *cl = NULL;
	struct ctl_env e;
	struct store_conn *c;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK && classifier_new(&cl, NULL) != 0)
		r = CTL_FAIL;
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	{
		struct moderation_window *windows = NULL;
		struct moderation_retention rt;
		r = moderation_retention_of(e.cfg, &rt, &windows);
		if (r == 0)
			r = moderation_maintain(c, cl, e.scope, &rt, (int64_t)time(NULL), &rep);
		free(windows);
	}
	store_release(e.store, c);
	if (r == 0)
		printf("{\"spam_deleted\": %u, \"spam_emptied\": %u, \"ips_cleared\": %u, "
		       "\"tombstones_purged\": %u, \"decoys_purged\": %u, \"tokens_pruned\": %u, "
		       "\"search_merged\": %u, \"wal_truncated\": %s}\n",
		       rep.spam_deleted, rep.spam_emptied, rep.ips_cleared, rep.tombstones_purged,
		       rep.decoys_purged, rep.tokens_pruned, rep.search_merged,
		       rep.wal_truncated ? "true" : "false");
	else
		fprintf(stderr, "commentctl: maintenance failed\n");
	classifier_free(cl);
	ctl_env_close(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static const char index_usage[] =
    "usage: commentctl index (--db DB | --config FILE)\n"
    "Indexes the comments the admin search's index does not hold yet (commentd\n"
    "does it every few seconds; after an upgrade to schema 0016, every comment),\n"
    "merges the index's blocks that removed texts left, and prints what it did.\n";

int cmd_index(int argc, char **argv)
{
	struct ctl_spec spec = {.usage = index_usage, .need = CTL_NEED_DB};
	unsigned long long total = 0;
	unsigned n = 0, merged = 0, forgotten = 0;
	bool tty = isatty(STDERR_FILENO);
	struct ctl_env e;
	struct store_conn *c;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	while ((r = search_index_batch(c, SEARCH_BATCH_BULK, &n)) == 0 && n) {
		total += n;
		if (tty)
			fprintf(stderr, "\rindexing for the admin search: %llu comments", total);
	}
	if (tty && total)
		fputc('\n', stderr);
	if (r == 0)
		r = search_purge(c, &merged, &forgotten);
	if (r == 0 && forgotten)
		store_checkpoint_truncate(c);
	store_release(e.store, c);
	if (r == 0)
		printf("{\"indexed\": %llu, \"merged\": %u}\n", total, merged);
	else
		fprintf(stderr, "commentctl: indexing failed\n");
	ctl_env_close(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static const char compact_usage[] =
    "usage: commentctl compact (--db DB | --config FILE)\n"
    "PostgreSQL: rewrites the tables a privacy erase left owing a compaction\n"
    "(VACUUM FULL), so that the erased bytes leave the table files now instead\n"
    "of in the daemon's compact_hour, and prints how many tables it rewrote.\n"
    "Each table is LOCKED while it is rewritten (at a million comments, a minute\n"
    "and more in which commentd waits for it).  SQLite: nothing to do (erased rows\n"
    "are zeroed at once).\n";

int cmd_compact(int argc, char **argv)
{
	struct ctl_spec spec = {.usage = compact_usage, .need = CTL_NEED_DB};
	struct ctl_env e;
	struct store_conn *c;
	unsigned n = 0;
	int owed, r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	owed = store_compact_owed(c);
	if (owed > 0)
		fprintf(stderr,
			"commentctl: compacting %d table(s); each is locked while it is "
			"rewritten, and commentd waits for it\n",
			owed);
	r = owed < 0 ? owed : store_compact(c, true, &n);
	store_release(e.store, c);
	if (r == 0)
		printf("{\"compacted\": %u}\n", n);
	else
		fprintf(stderr, "commentctl: compaction failed (what is not done stays owed)\n");
	ctl_env_close(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static const char privacy_usage[] =
    "usage: commentctl privacy export --email ADDRESS [--site ID]... (--db DB --key KEY | "
    "--config FILE)\n"
    "       commentctl privacy erase --email ADDRESS [--anonymise] [--site ID]... (--db DB "
    "--key KEY | --config FILE)\n"
    "Exports or erases every comment written with an e-mail address (on the\n"
    "sites named with --site, else on every site).  The address is hashed to\n"
    "find the comments and then dropped.\n";

int cmd_privacy(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	bool erase = strcmp(verb, "erase") == 0;
	struct admin_args a = {0};
	struct ctl_spec spec = {
	    .usage = privacy_usage,
	    .need = CTL_NEED_DB | CTL_NEED_KEY,
	    .options = admin_options,
	    .option = admin_option,
	    .ctx = &a,
	    .sites = true,
	};
	struct classifier *cl = NULL;
	struct ctl_env e;
	struct store_conn *c;
	json_t *out = NULL;
	int r;

	if (!erase && strcmp(verb, "export") != 0) {
		fprintf(stderr, "%s", privacy_usage);
		return CTL_USAGE;
	}
	r = ctl_env_open(&e, &spec, argc - 1, argv + 1);
	if (r == CTL_OK && !a.email) {
		fprintf(stderr, "commentctl: --email is required\n");
		r = CTL_USAGE;
	}
	if (r == CTL_OK && classifier_new(&cl, NULL) != 0)
		r = CTL_FAIL;
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	if (erase)
		r = moderation_erase(c, cl, e.keys, e.scope, a.email,
				     a.anonymise || e.cfg->erase == ERASE_ANONYMISE, "commentctl",
				     &out);
	else
		r = moderation_export(c, e.keys, e.scope, a.email, &out);
	store_release(e.store, c);
	if (r == 0)
		print_json(out);
	else
		fprintf(stderr, "commentctl: %s\n",
			r == COMMENT_INVALID ? "that is not an e-mail address" : "failed");
	json_decref(out);
	classifier_free(cl);
	ctl_env_close(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}

static const char email_hash_usage[] =
    "usage: commentctl email-hash --email ADDRESS (--key KEY | --config FILE)\n"
    "Prints the keyed hash of an address, for allowlist_emails.\n";

int cmd_email_hash(int argc, char **argv)
{
	unsigned char hash[KEYS_HASH_BYTES];
	char hex[2 * KEYS_HASH_BYTES + 1], norm[300], *normalised;
	struct admin_args a = {0};
	struct ctl_spec spec = {
	    .usage = email_hash_usage,
	    .need = CTL_NEED_KEY,
	    .options = admin_options,
	    .option = admin_option,
	    .ctx = &a,
	};
	struct ctl_env e;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r == CTL_OK && (!a.email || strlen(a.email) >= sizeof(norm) || !strchr(a.email, '@'))) {
		fprintf(stderr, "%s", email_hash_usage);
		r = CTL_USAGE;
	}
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	/* The same normalisation as comment_validate: trimmed, lower-case. */
	snprintf(norm, sizeof(norm), "%s", a.email);
	normalised = text_ascii_lower(text_trim(norm));
	keys_hash(e.keys, KEYS_EMAIL, normalised, strlen(normalised), hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	printf("%s\n", hex);
	sodium_memzero(norm, sizeof(norm));
	ctl_env_close(&e);
	return CTL_OK;
}
