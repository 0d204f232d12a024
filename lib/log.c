#include "log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int max_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	atomic_store(&max_level, (int)level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
	    {"err", LOG_LEVEL_ERR},
	    {"warn", LOG_LEVEL_WARN},
	    {"info", LOG_LEVEL_INFO},
	    {"debug", LOG_LEVEL_DEBUG},
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return 1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	if ((int)level > atomic_load(&max_level))
		return;
	n = snprintf(line, sizeof(line), "<%d>", (int)level);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	/* One line per record: fold embedded newlines. */
	for (int i = 0; i < n; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* True if text holds anything that could be an e-mail address, a client
 * address or text a client sent (see log_foreign). */
static bool may_name_client(const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '@' || *p == '`' || (p[0] == ':' && p[1] == ':'))
			return true;
		if (p[0] >= '0' && p[0] <= '9' && p[1] == '.')
			return true;
		if (p[0] == '%' && p[1] == '4' && p[2] == '0')
			return true;
	}
	return false;
}

void log_foreign(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];

	if (atomic_load(&max_level) < (int)LOG_LEVEL_DEBUG)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_debug("%s: %s", prefix, may_name_client(line) ? fmt : line);
}
