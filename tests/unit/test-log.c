/* Unit tests for lib/log: priority prefixes, level filtering, one line per
 * record, level names. */
#include "tap.h"

#include "log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Runs fn with stderr captured; returns what was written (static buffer). */
static const char *capture(void (*fn)(void))
{
	static char out[4096];
	int fds[2], saved;
	ssize_t n;

	if (pipe(fds) != 0)
		return "";
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void write_levels(void)
{
	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
}

static void write_multiline(void)
{
	log_info("first\nsecond\rthird");
}

static void write_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warn("%s", big);
}

int main(void)
{
	enum log_level lvl = LOG_LEVEL_ERR;
	const char *out;

	log_set_level(LOG_LEVEL_INFO);
	is_str(capture(write_levels), "<3>e 1\n<4>w\n<6>i\n",
	       "info: err, warn, info with prefixes");
	log_set_level(LOG_LEVEL_DEBUG);
	is_str(capture(write_levels), "<3>e 1\n<4>w\n<6>i\n<7>d\n", "debug: everything");
	log_set_level(LOG_LEVEL_ERR);
	is_str(capture(write_levels), "<3>e 1\n", "err: errors only");
	log_set_level(LOG_LEVEL_INFO);
	is_str(capture(write_multiline), "<6>first second third\n", "newlines are folded");
	out = capture(write_long);
	ok(strncmp(out, "<4>xxx", 6) == 0 && strlen(out) < 1100 && out[strlen(out) - 1] == '\n' &&
	       strchr(out, '\n') == out + strlen(out) - 1,
	   "a long record is cut to one line (%zu bytes)", strlen(out));
	is_int(log_level_parse("debug", &lvl), 0, "parse debug");
	is_int(lvl, LOG_LEVEL_DEBUG, "debug is 7");
	is_int(log_level_parse("warn", &lvl), 0, "parse warn");
	is_int(lvl, LOG_LEVEL_WARN, "warn is 4");
	is_int(log_level_parse("loud", &lvl), 1, "unknown level");
	return done_testing();
}
