/* commentctl: the operator's command line for commentd.
 *
 * The subcommands register themselves (daemon/ctl.h); this file only
 * dispatches and prints help.
 */
#include "ctl.h"

#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static struct ctl_command *commands;

void ctl_register(struct ctl_command *cmd)
{
	struct ctl_command **p = &commands;

	/* keep the list sorted by name for the help text */
	while (*p && strcmp((*p)->name, cmd->name) < 0)
		p = &(*p)->next;
	cmd->next = *p;
	*p = cmd;
}

int ctl_open_store(const char *path, struct store **out)
{
	int r;

	if (!path) {
		fprintf(stderr, "commentctl: --db is required\n");
		return CTL_FAIL;
	}
	r = store_new(out, path, 1);
	if (r != 0) {
		fprintf(stderr, "commentctl: cannot open %s%s\n", path,
			r == STORE_TOO_NEW ? " (database is newer than this commentctl)" : "");
		return CTL_FAIL;
	}
	return CTL_OK;
}

FILE *ctl_open_input(const char *path)
{
	FILE *f;

	if (!path || strcmp(path, "-") == 0)
		return stdin;
	f = fopen(path, "r");
	if (!f)
		fprintf(stderr, "commentctl: cannot open %s\n", path);
	return f;
}

long ctl_read_line(FILE *f, char **line, size_t *cap, size_t max)
{
	size_t len = 0;
	bool too_long = false;
	int ch;

	if (!*line) {
		*cap = 4096;
		*line = malloc(*cap);
		if (!*line)
			return -1;
	}
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (len >= max) {
			too_long = true;
			continue;
		}
		if (len + 1 >= *cap) {
			size_t ncap = *cap * 2 > max + 1 ? max + 1 : *cap * 2;
			char *p = realloc(*line, ncap);

			if (!p)
				return -1;
			*line = p;
			*cap = ncap;
		}
		(*line)[len++] = (char)ch;
	}
	if (ch == EOF && len == 0 && !too_long)
		return -1;
	(*line)[len] = '\0';
	return too_long ? -2 : (long)len;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: commentctl COMMAND [OPTIONS]\n\ncommands:\n");
	for (struct ctl_command *c = commands; c; c = c->next)
		if (c->summary)
			fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\n'commentctl COMMAND --help' describes a command.\n");
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
	for (struct ctl_command *c = commands; c; c = c->next)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "commentctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CTL_USAGE;
}
