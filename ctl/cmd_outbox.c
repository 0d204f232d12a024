/* commentctl outbox: what the notification outbox still has to send, or
 * could not send (lib/outbox.h).
 *
 *   commentctl outbox [--all] [--json] [--site ID]... (--db DB | --config FILE)
 */
#include "ctl.h"

#include "outbox.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char outbox_usage[] =
    "usage: commentctl outbox [--all] [--json] [--site ID]... (--db DB | --config FILE)\n"
    "Lists the notification deliveries that are pending (with their next try)\n"
    "or failed (with the server's last answer), oldest first, with their site\n"
    "(--site: only those of the sites named).  --all adds the delivered and\n"
    "skipped ones still kept (30 days).  Recipients are shown as \"moderators\",\n"
    "\"webhook\" or \"subscription #N\" (of the event's site): never an address.\n";

enum { OPT_ALL = 0x100, OPT_JSON };

static const struct option outbox_options[] = {
    {"all", no_argument, NULL, OPT_ALL},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

struct outbox_args {
	bool all, json;
};

static int outbox_option(void *ctx, int opt, const char *arg)
{
	struct outbox_args *a = ctx;

	(void)arg;
	if (opt == OPT_ALL)
		a->all = true;
	else
		a->json = true;
	return 0;
}

static const char *str(json_t *row, const char *key)
{
	const char *s = json_string_value(json_object_get(row, key));

	return s ? s : "-";
}

static void print_table(json_t *list)
{
	size_t i;
	json_t *row;

	printf("%-7s %-12s %-9s %-8s %-18s %-9s %-8s %-20s %s\n", "EVENT", "SITE", "TYPE",
	       "COMMENT", "RECIPIENT", "STATE", "ATTEMPTS", "NEXT TRY", "LAST ERROR");
	json_array_foreach(list, i, row)
	{
		printf("%-7lld %-12s %-9s %-8lld %-18s %-9s %-8lld %-20s %s\n",
		       (long long)json_integer_value(json_object_get(row, "event")),
		       str(row, "site"), str(row, "type"),
		       (long long)json_integer_value(json_object_get(row, "comment")),
		       str(row, "recipient"), str(row, "state"),
		       (long long)json_integer_value(json_object_get(row, "attempts")),
		       str(row, "next"), str(row, "error"));
	}
	if (json_array_size(list) == 0)
		printf("(nothing %s)\n", "pending or failed");
}

int cmd_outbox(int argc, char **argv)
{
	struct outbox_args a = {0};
	struct ctl_spec spec = {.usage = outbox_usage,
				.need = CTL_NEED_DB,
				.options = outbox_options,
				.option = outbox_option,
				.ctx = &a,
				.sites = true};
	struct ctl_env e;
	struct store_conn *c;
	json_t *list = NULL;
	int r;

	r = ctl_env_open(&e, &spec, argc, argv);
	if (r != CTL_OK) {
		ctl_env_close(&e);
		return ctl_exit(r);
	}
	c = store_acquire(e.store);
	r = outbox_list(c, e.scope, a.all, 0, &list);
	store_release(e.store, c);
	if (r == 0 && a.json) {
		char *s = json_dumps(list, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	} else if (r == 0) {
		print_table(list);
	} else {
		fprintf(stderr, "commentctl outbox: cannot read the outbox\n");
	}
	json_decref(list);
	ctl_env_close(&e);
	return r == 0 ? CTL_OK : CTL_FAIL;
}
