/* ctl: the subcommand table of commentctl.
 *
 * Each subcommand lives in its own daemon/ctl_<name>.c and registers itself
 * with one line at file scope:
 *
 *     CTL_COMMAND(learn, "learn spam or ham from JSON Lines", cmd_learn);
 *
 * and its file is added to ctl_sources in daemon/meson.build.  Nothing in
 * commentctl.c changes.  run() gets argv with argv[0] = the subcommand name
 * and returns the process exit status (0 ok, 1 failure, 2 usage error).
 * A summary of NULL hides the command from the help listing.
 */
#ifndef COMMENTD_CTL_H
#define COMMENTD_CTL_H

#include <stdbool.h>
#include <stdio.h>

struct store;

struct ctl_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	struct ctl_command *next;
};

/* Adds cmd to the table (called from CTL_COMMAND constructors). */
void ctl_register(struct ctl_command *cmd);

#define CTL_COMMAND(id, summary_, fn)                                                              \
	static struct ctl_command ctl_cmd_##id = {#id, summary_, fn, NULL};                        \
	__attribute__((constructor)) static void ctl_register_##id(void)                           \
	{                                                                                          \
		ctl_register(&ctl_cmd_##id);                                                       \
	}

/* Same with a name that is not a C identifier ("eval-split"). */
#define CTL_COMMAND_NAMED(id, name_, summary_, fn)                                                 \
	static struct ctl_command ctl_cmd_##id = {name_, summary_, fn, NULL};                      \
	__attribute__((constructor)) static void ctl_register_##id(void)                           \
	{                                                                                          \
		ctl_register(&ctl_cmd_##id);                                                       \
	}

/* Exit statuses of run(). */
enum {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
};

/* Opens the database at path (creating and migrating it) with one
 * connection; prints the reason on failure.  0 or CTL_FAIL. */
int ctl_open_store(const char *path, struct store **out);

/* Opens path for reading ("-" or NULL: stdin).  NULL on failure (printed). */
FILE *ctl_open_input(const char *path);

/* Reads one line of at most max bytes into *line (malloc'ed, reused across
 * calls, caller frees).  Returns its length without the newline, -1 at end
 * of input, -2 if the line is longer than max (the rest is skipped). */
long ctl_read_line(FILE *f, char **line, size_t *cap, size_t max);

#endif
