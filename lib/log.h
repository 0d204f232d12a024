/* log: stderr logging with journald priority prefixes.
 *
 * Every line starts with "<N>" (sd-daemon(3)) so journald records the
 * priority.  Callers must never pass e-mail addresses, IP addresses, tokens
 * or keys; log a short keyed-hash prefix instead where an identity matters.
 * Thread-safe: one write(2) per line.
 */
#ifndef COMMENTD_LOG_H
#define COMMENTD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Lines above this level are dropped.  Default LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);

/* Parses "err", "warn", "info" or "debug".  Returns 0 or 1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs, at debug level and after "prefix: ", a message another library
 * (libmicrohttpd) formats for us.  Such a message may quote what a client
 * sent (a request's path) or name an address, so it is written only when
 * nothing in it could be an e-mail or client address ('@', "%40", a digit
 * followed by '.', "::") or quoted client text ('`'); otherwise the
 * library's format string is written instead, without its arguments. */
void log_foreign(const char *prefix, const char *fmt, va_list ap);

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
