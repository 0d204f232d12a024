#include "config.h"

#include "log.h"
#include "net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum setting_type {
	SETTING_STRING,
	SETTING_UINT,
	SETTING_MODERATION,
	SETTING_LOGLEVEL,
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *def;
	unsigned min, max; /* SETTING_UINT bounds */
};

#define FIELD(f) offsetof(struct config, f)

/* The one table of settings: name, type, field, default, bounds.
 * docs/configuration.md documents each; tests/unit/test-config.c checks that
 * every name here appears there. */
static const struct setting settings[] = {
    {"listen", SETTING_STRING, FIELD(listen), "127.0.0.1:8080", 0, 0},
    {"db", SETTING_STRING, FIELD(db), "commentd.db", 0, 0},
    {"key", SETTING_STRING, FIELD(key), "commentd.key", 0, 0},
    {"site_origins", SETTING_STRING, FIELD(site_origins), "", 0, 0},
    {"trusted_proxies", SETTING_STRING, FIELD(trusted_proxies), "", 0, 0},
    {"log_level", SETTING_LOGLEVEL, FIELD(log_level), "info", 0, 0},
    {"max_depth", SETTING_UINT, FIELD(max_depth), "5", 1, 50},
    {"max_body", SETTING_UINT, FIELD(max_body), "65536", 1024, 1048576},
    {"max_text", SETTING_UINT, FIELD(max_text), "10000", 1, 100000},
    {"max_author", SETTING_UINT, FIELD(max_author), "100", 1, 1000},
    {"max_url", SETTING_UINT, FIELD(max_url), "2000", 10, 8000},
    {"rate_limit", SETTING_UINT, FIELD(rate_limit), "10", 0, 100000},
    {"rate_burst", SETTING_UINT, FIELD(rate_burst), "5", 1, 100000},
    {"threads", SETTING_UINT, FIELD(threads), "2", 1, 64},
    {"connections", SETTING_UINT, FIELD(connections), "128", 4, 10000},
    {"timeout", SETTING_UINT, FIELD(timeout), "15", 1, 3600},
    {"page_max", SETTING_UINT, FIELD(page_max), "200", 1, 10000},
    {"moderation", SETTING_MODERATION, FIELD(moderation), "none", 0, 0},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const moderation_names[] = {"none", "first", "all"};

const char *config_moderation_name(enum moderation_mode m)
{
	return moderation_names[m];
}

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CONFIG_ERR_MAX, fmt, ap);
	va_end(ap);
}

static int parse_uint(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return 1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end)
		return 1;
	return 0;
}

static int apply(struct config *c, const struct setting *st, const char *value, char *err)
{
	char *base = (char *)c + st->offset;
	unsigned long n;

	switch (st->type) {
	case SETTING_STRING:
	case SETTING_LOGLEVEL: {
		char *dup;
		if (st->type == SETTING_LOGLEVEL) {
			enum log_level lvl;
			if (log_level_parse(value, &lvl) != 0) {
				set_err(err, "%s must be one of err, warn, info, debug", st->name);
				return 1;
			}
		}
		if (strlen(value) >= CONFIG_MAX_VALUE) {
			set_err(err, "%s is too long", st->name);
			return 1;
		}
		dup = strdup(value);
		if (!dup)
			return -ENOMEM;
		free(*(char **)base);
		*(char **)base = dup;
		return 0;
	}
	case SETTING_UINT:
		if (parse_uint(value, &n) != 0 || n < st->min || n > st->max) {
			set_err(err, "%s must be a whole number from %u to %u", st->name, st->min,
				st->max);
			return 1;
		}
		*(unsigned *)base = (unsigned)n;
		return 0;
	case SETTING_MODERATION:
		for (unsigned i = 0; i < 3; i++) {
			if (strcmp(value, moderation_names[i]) == 0) {
				*(enum moderation_mode *)base = (enum moderation_mode)i;
				return 0;
			}
		}
		set_err(err, "moderation must be none, first or all");
		return 1;
	}
	return 1;
}

int config_set(struct config *c, const char *name, const char *value, char *err)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(settings[i].name, name) == 0)
			return apply(c, &settings[i], value, err);
	}
	set_err(err, "unknown setting \"%.64s\"", name);
	return 1;
}

int config_new(struct config **out)
{
	struct config *c = calloc(1, sizeof(*c));
	char err[CONFIG_ERR_MAX];
	int r;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		r = apply(c, &settings[i], settings[i].def, err);
		if (r != 0) {
			config_free(c);
			return r < 0 ? r : -EINVAL;
		}
	}
	*out = c;
	return 0;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].type == SETTING_STRING || settings[i].type == SETTING_LOGLEVEL)
			free(*(char **)((char *)c + settings[i].offset));
	}
	free(c);
	return NULL;
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

int config_load_text(struct config *c, const char *text, size_t len, const char *origin, char *err)
{
	char line[CONFIG_MAX_VALUE + 128];
	char sub[CONFIG_ERR_MAX];
	size_t pos = 0;
	unsigned lineno = 0;
	int r;

	if (len > CONFIG_MAX_FILE) {
		set_err(err, "%s: the file is larger than %d bytes", origin, CONFIG_MAX_FILE);
		return 1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *eq, *name, *value, *hash;

		lineno++;
		if (n >= sizeof(line)) {
			set_err(err, "%s:%u: line too long", origin, lineno);
			return 1;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			set_err(err, "%s:%u: NUL byte", origin, lineno);
			return 1;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		name = trim(line, line + strlen(line));
		if (!*name)
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			set_err(err, "%s:%u: expected \"name = value\"", origin, lineno);
			return 1;
		}
		value = trim(eq + 1, eq + 1 + strlen(eq + 1));
		name = trim(name, eq);
		r = config_set(c, name, value, sub);
		if (r < 0)
			return r;
		if (r > 0) {
			set_err(err, "%s:%u: %s", origin, lineno, sub);
			return 1;
		}
	}
	return 0;
}

int config_load_file(struct config *c, const char *path, char *err)
{
	FILE *f;
	char *text;
	size_t n;
	int r;

	f = fopen(path, "re");
	if (!f) {
		set_err(err, "%s: %s", path, strerror(errno));
		return -errno;
	}
	text = malloc(CONFIG_MAX_FILE + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, CONFIG_MAX_FILE + 1, f);
	if (ferror(f)) {
		set_err(err, "%s: read error", path);
		r = -EIO;
		goto out;
	}
	r = config_load_text(c, text, n, path, err);
out:
	free(text);
	fclose(f);
	return r;
}

int config_check(const struct config *c, char *err)
{
	struct net_addr addr;
	struct net_origins *origins = NULL;
	struct net_cidrs *proxies = NULL;
	int r;

	if (net_parse_listen(c->listen, &addr) != 0) {
		set_err(err,
			"listen must be ADDRESS:PORT (for example 127.0.0.1:8080 or [::1]:8080)");
		return 1;
	}
	r = net_origins_new(&origins, c->site_origins);
	if (r != 0) {
		set_err(err,
			"site_origins must be a list of origins such as https://blog.example.nl");
		return r < 0 ? r : 1;
	}
	net_origins_free(origins);
	r = net_cidrs_new(&proxies, c->trusted_proxies);
	if (r != 0) {
		set_err(err, "trusted_proxies must be a list of addresses or networks such as "
			     "127.0.0.1 or 10.0.0.0/8");
		return r < 0 ? r : 1;
	}
	net_cidrs_free(proxies);
	if (!*c->db || !*c->key) {
		set_err(err, "db and key must name files");
		return 1;
	}
	return 0;
}

void config_each(const struct config *c, void (*fn)(const char *name, const char *value, void *u),
		 void *u)
{
	char num[24];

	for (size_t i = 0; i < N_SETTINGS; i++) {
		const char *base = (const char *)c + settings[i].offset;
		switch (settings[i].type) {
		case SETTING_STRING:
		case SETTING_LOGLEVEL:
			fn(settings[i].name, *(char *const *)base, u);
			break;
		case SETTING_UINT:
			snprintf(num, sizeof(num), "%u", *(const unsigned *)base);
			fn(settings[i].name, num, u);
			break;
		case SETTING_MODERATION:
			fn(settings[i].name,
			   config_moderation_name(*(const enum moderation_mode *)base), u);
			break;
		}
	}
}
