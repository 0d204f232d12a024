/* ctl: commentctl's commands and the environment they share.
 *
 * Every command is a function `int cmd_x(int argc, char **argv)` listed in
 * the table in ctl/commentctl.c; argv[0] is the command's name (after a
 * verb such as "token create", argv[0] is the verb).  It returns the
 * process exit status: 0 ok, 1 failure, 2 usage error.
 *
 * A command opens what it needs with ctl_env_open: the options every command
 * accepts (--config FILE, --db PATH, --key PATH, --help) are parsed there,
 * the command's own options are handed to its callback, and the store and
 * key are opened when the command says it needs them.  A command that acts
 * on comments sets .sites in its spec to take --site ID (repeatable; see
 * struct ctl_env), so every such command limits itself to sites the same
 * way.  A command that needs the database and the key (keyed data: e-mail
 * hashes, tokens, site keys, sealed values) is refused before it runs when
 * the key is not the one the database was first used with (the daemon's
 * start-up check, lib/nodes.h), so that nothing is written that no node
 * could match.
 */
#ifndef COMMENTD_CTL_H
#define COMMENTD_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

struct config;
struct keys;
struct store;

/* Exit statuses of a command. */
enum {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
	CTL_HELP = -1, /* ctl_env_open printed the help: exit with CTL_OK */
};

/* What ctl_env_open opens. */
enum {
	CTL_NEED_DB = 1,  /* the store (created and migrated if needed) */
	CTL_NEED_KEY = 2, /* the secret key; with CTL_NEED_DB, it must be the
			   * database's (lib/nodes.h's key check) */
	CTL_WANT_DB = 4,  /* only the database path: --db or --config required */
};

#define CTL_SITES_MAX 64 /* --site options on one command line */

/* A command's own option: opt is getopt_long's val (use values >= 0x100 or
 * letters other than c, d, k, h and S), arg its argument or NULL.  Returns 0,
 * or CTL_USAGE after printing what is wrong. */
typedef int (*ctl_option_fn)(void *ctx, int opt, const char *arg);

struct ctl_spec {
	const char *usage;		   /* printed for --help and usage errors */
	unsigned need;			   /* CTL_NEED_* flags */
	const struct option *options;	   /* the command's own options, or NULL */
	const struct option *more_options; /* a second table of them, or NULL */
	ctl_option_fn option;		   /* called for each of them */
	void *ctx;
	/* When set, decides the CTL_NEED_* flags once the options are parsed
	 * (in place of need), or returns -1 after printing a usage error. */
	int (*need_of)(void *ctx);
	int min_operands, max_operands; /* positional arguments allowed */
	bool sites;			/* takes --site ID (repeatable) */
};

struct ctl_env {
	struct config *cfg;  /* always: the defaults, --config's file, --db, --key */
	struct keys *keys;   /* with CTL_NEED_KEY */
	struct store *store; /* with CTL_NEED_DB */
	int noperands;
	char **operands; /* positional arguments (into argv) */
	/* With spec->sites: the --site ids in order (well-formed; a site the
	 * --config file does not define is warned about), and the same as a
	 * scope for lib/moderation and lib/admin (lib/admin.h; NULL without
	 * --site: every site). */
	const char *sites[CTL_SITES_MAX];
	size_t n_sites;
	char *scope;
};

/* Parses argv (argv[0] is skipped) by spec and opens what spec->need asks
 * for.  CTL_OK, CTL_HELP (help printed), CTL_USAGE or CTL_FAIL (the reason
 * printed).  Call ctl_env_close in every case. */
int ctl_env_open(struct ctl_env *e, const struct ctl_spec *spec, int argc, char **argv);

/* Frees what ctl_env_open opened.  Safe on a zeroed or failed env. */
void ctl_env_close(struct ctl_env *e);

/* The exit status for a ctl_env_open result that is not CTL_OK. */
int ctl_exit(int r);

/* Opens path for reading ("-" or NULL: stdin).  NULL on failure (printed). */
FILE *ctl_open_input(const char *path);

/* Reads one line of at most max bytes into *line (malloc'ed, reused across
 * calls, caller frees).  Returns its length without the newline, -1 at end
 * of input, -2 if the line is longer than max (the rest is skipped). */
long ctl_read_line(FILE *f, char **line, size_t *cap, size_t max);

/* The commands (one file each under ctl/). */
int cmd_token(int argc, char **argv);
int cmd_maintain(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_privacy(int argc, char **argv);
int cmd_email_hash(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_eval_split(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_cutoffs(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

#endif
