/* Unit tests for lib/log: priority prefixes, level filtering, one line per
 * record, level names. */
#include "tap.h"

#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
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

/* libmicrohttpd's messages for a failed send name the request's path, one
 * of them quoted. */
static const char send_failed[] = "Failed to send data in request for %s.";
static const char send_failed_quoted[] =
    "Failed to send the response headers for the request for `%s'. Error: %s";
static const char *foreign_fmt, *foreign_arg;

static void call_foreign(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_foreign("http", fmt, ap);
	va_end(ap);
}

static void write_foreign(void)
{
	call_foreign(foreign_fmt, foreign_arg, "Connection reset by peer");
}

static void write_foreign_clean(void)
{
	call_foreign("Failed to create a thread: %s", "Resource temporarily unavailable");
}

/* What log_foreign writes at debug level for the message fmt about path. */
static const char *foreign(const char *fmt, const char *path)
{
	foreign_fmt = fmt;
	foreign_arg = path;
	return capture(write_foreign);
}

static void test_foreign(void)
{
	static const char *const paths[] = {
	    "/x/Reader@Example.org",   /* an e-mail address in the path */
	    "/x/reader%40example.org", /* still escaped */
	    "/x/203.0.113.7",	       /* IPv4 */
	    "/x/2001:db8::7",	       /* IPv6 */
	};
	char want[256];

	log_set_level(LOG_LEVEL_DEBUG);
	snprintf(want, sizeof(want), "<7>http: %s\n", send_failed);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_str(foreign(send_failed, paths[i]), want,
		       "a library message naming %s: only its format", paths[i] + 3);
	is_str(foreign(send_failed, "/x/plain"),
	       "<7>http: Failed to send data in request for /x/plain.\n",
	       "a library message without an address: written in full");
	snprintf(want, sizeof(want), "<7>http: %s\n", send_failed_quoted);
	is_str(foreign(send_failed_quoted, "/x/Reader de Vries"), want,
	       "a library message quoting a client's text: only its format");
	log_set_level(LOG_LEVEL_INFO);
	is_str(capture(write_foreign_clean), "", "library messages only at debug level");
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
	test_foreign();
	return done_testing();
}
