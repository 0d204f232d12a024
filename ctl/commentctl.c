/* commentctl: the operator's command line for commentd.
 *
 * The commands are in the table below, one file each under ctl/; this file
 * only dispatches and prints help.
 */
#include "ctl.h"

#include "log.h"

#include <string.h>

struct command {
	const char *name;
	const char *summary; /* NULL: not listed in the help */
	int (*run)(int argc, char **argv);
};

/* Sorted by name, as the help lists them. */
static const struct command commands[] = {
    {"backup", "copy the database safely while commentd runs", cmd_backup},
    {"compact", "PostgreSQL: rewrite the tables erasures left (locks them)", cmd_compact},
    {"cutoffs", NULL, cmd_cutoffs},
    {"email-hash", "print an address's keyed hash (allowlists)", cmd_email_hash},
    {"eval", "k-fold cross-validation of the classifier on labelled JSON Lines", cmd_eval},
    {"eval-split", NULL, cmd_eval_split},
    {"export", "write every comment as JSON Lines or a WordPress WXR file", cmd_export},
    {"import", "import comments from WordPress, Disqus, Isso, Remark42, Waline", cmd_import},
    {"index", "index new comments for the admin search now", cmd_index},
    {"key", "create, list or revoke Akismet site keys", cmd_key},
    {"learn", "learn spam or ham comments (JSON Lines) into the classifier", cmd_learn},
    {"maintain", "apply the retention rules now", cmd_maintain},
    {"migrate-db", "copy the database to PostgreSQL or back to SQLite", cmd_migrate},
    {"outbox", "list notifications that are pending or failed", cmd_outbox},
    {"privacy", "export or erase a commenter's comments", cmd_privacy},
    {"score", "score comments (JSON Lines) and print verdicts with reasons", cmd_score},
    {"token", "create, change, list or revoke moderator tokens", cmd_token},
    {"tokens", NULL, cmd_tokens},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: commentctl COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)
			fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nEvery command takes --config FILE (or --db PATH and --key PATH).\n"
		     "'commentctl COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("commentctl %s\n", COMMENTD_VERSION);
		return CTL_OK;
	}
	log_set_level(LOG_LEVEL_WARN);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "commentctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CTL_USAGE;
}
