#include "config.h"

#include "log.h"
#include "net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum setting_type {
	SETTING_STRING,
	SETTING_UINT,
	SETTING_CHOICE, /* an int field holding the index of one of choices */
	SETTING_DOUBLE,
	SETTING_LOGLEVEL,
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *def;
	unsigned min, max;	    /* SETTING_UINT bounds */
	const char *const *choices; /* SETTING_CHOICE names, NULL-terminated */
	double dmin, dmax;	    /* SETTING_DOUBLE bounds */
};

#define FIELD(f) offsetof(struct config, f)

/* The one table of settings: name, type, field, default, bounds.
 * docs/configuration.md documents each; tests/unit/test-config.c checks that
 * every name here appears there. */
static const char *const moderation_names[] = {"none", "first", "all", NULL};
static const char *const erase_names[] = {"delete", "anonymise", NULL};
static const char *const off_on_names[] = {"off", "on", NULL};

static const struct setting settings[] = {
    {"listen", SETTING_STRING, FIELD(listen), "127.0.0.1:8080", 0, 0, NULL, 0, 0},
    {"db", SETTING_STRING, FIELD(db), "commentd.db", 0, 0, NULL, 0, 0},
    {"key", SETTING_STRING, FIELD(key), "commentd.key", 0, 0, NULL, 0, 0},
    {"site_origins", SETTING_STRING, FIELD(site_origins), "", 0, 0, NULL, 0, 0},
    {"trusted_proxies", SETTING_STRING, FIELD(trusted_proxies), "", 0, 0, NULL, 0, 0},
    {"log_level", SETTING_LOGLEVEL, FIELD(log_level), "info", 0, 0, NULL, 0, 0},
    {"max_depth", SETTING_UINT, FIELD(max_depth), "5", 1, 50, NULL, 0, 0},
    {"max_body", SETTING_UINT, FIELD(max_body), "65536", 1024, 1048576, NULL, 0, 0},
    {"max_text", SETTING_UINT, FIELD(max_text), "10000", 1, 100000, NULL, 0, 0},
    {"max_author", SETTING_UINT, FIELD(max_author), "100", 1, 1000, NULL, 0, 0},
    {"max_url", SETTING_UINT, FIELD(max_url), "2000", 10, 8000, NULL, 0, 0},
    {"rate_limit", SETTING_UINT, FIELD(rate_limit), "10", 0, 100000, NULL, 0, 0},
    {"rate_burst", SETTING_UINT, FIELD(rate_burst), "5", 1, 100000, NULL, 0, 0},
    {"threads", SETTING_UINT, FIELD(threads), "8", 1, 64, NULL, 0, 0},
    {"connections", SETTING_UINT, FIELD(connections), "128", 4, 10000, NULL, 0, 0},
    {"connections_per_client", SETTING_UINT, FIELD(connections_per_client), "32", 1, 10000, NULL, 0,
     0},
    {"timeout", SETTING_UINT, FIELD(timeout), "15", 1, 3600, NULL, 0, 0},
    {"header_timeout", SETTING_UINT, FIELD(header_timeout), "10", 1, 3600, NULL, 0, 0},
    {"request_timeout", SETTING_UINT, FIELD(request_timeout), "30", 1, 3600, NULL, 0, 0},
    {"page_max", SETTING_UINT, FIELD(page_max), "200", 1, 10000, NULL, 0, 0},
    {"page_default", SETTING_UINT, FIELD(page_default), "50", 1, 10000, NULL, 0, 0},
    {"page_rows", SETTING_UINT, FIELD(page_rows), "300", 10, 10000, NULL, 0, 0},
    {"moderation", SETTING_CHOICE, FIELD(moderation), "none", 0, 0, moderation_names, 0, 0},
    {"max_links", SETTING_UINT, FIELD(max_links), "2", 0, 1000, NULL, 0, 0},
    {"min_submit_seconds", SETTING_UINT, FIELD(min_submit_seconds), "3", 0, 3600, NULL, 0, 0},
    {"blocklist_words", SETTING_STRING, FIELD(blocklist_words), "", 0, 0, NULL, 0, 0},
    {"blocklist_domains", SETTING_STRING, FIELD(blocklist_domains), "", 0, 0, NULL, 0, 0},
    {"blocklist_networks", SETTING_STRING, FIELD(blocklist_networks), "", 0, 0, NULL, 0, 0},
    {"allowlist_emails", SETTING_STRING, FIELD(allowlist_emails), "", 0, 0, NULL, 0, 0},
    {"edit_window", SETTING_UINT, FIELD(edit_window), "900", 0, 86400, NULL, 0, 0},
    {"honeypot_field", SETTING_STRING, FIELD(honeypot_field), "website2", 0, 0, NULL, 0, 0},
    {"ham_cutoff", SETTING_DOUBLE, FIELD(ham_cutoff), "0.65", 0, 0, NULL, 0.0, 1.0},
    {"spam_cutoff", SETTING_DOUBLE, FIELD(spam_cutoff), "0.99", 0, 0, NULL, 0.0, 1.0},
    {"discard_cutoff", SETTING_DOUBLE, FIELD(discard_cutoff), "0.9999", 0, 0, NULL, 0.0, 1.01},
    {"min_learned", SETTING_UINT, FIELD(min_learned), "50", 0, 1000000, NULL, 0, 0},
    {"starter_model", SETTING_CHOICE, FIELD(starter_model), "on", 0, 0, off_on_names, 0, 0},
    {"spam_retention_days", SETTING_UINT, FIELD(spam_retention_days), "15", 1, 3650, NULL, 0, 0},
    {"ip_retention_days", SETTING_UINT, FIELD(ip_retention_days), "30", 1, 3650, NULL, 0, 0},
    {"token_prune_days", SETTING_UINT, FIELD(token_prune_days), "90", 1, 3650, NULL, 0, 0},
    {"maintenance_interval", SETTING_UINT, FIELD(maintenance_interval), "3600", 10, 86400, NULL, 0,
     0},
    {"erase", SETTING_CHOICE, FIELD(erase), "delete", 0, 0, erase_names, 0, 0},
    {"backup_dir", SETTING_STRING, FIELD(backup_dir), "", 0, 0, NULL, 0, 0},
    {"backup_keep", SETTING_UINT, FIELD(backup_keep), "7", 1, 365, NULL, 0, 0},
    {"likes", SETTING_CHOICE, FIELD(likes), "on", 0, 0, off_on_names, 0, 0},
    {"like_rate_limit", SETTING_UINT, FIELD(like_rate_limit), "30", 0, 100000, NULL, 0, 0},
    {"public_url", SETTING_STRING, FIELD(public_url), "", 0, 0, NULL, 0, 0},
    {"privacy_url", SETTING_STRING, FIELD(privacy_url), "", 0, 0, NULL, 0, 0},
    {"privacy_contact", SETTING_STRING, FIELD(privacy_contact), "", 0, 0, NULL, 0, 0},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

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
	case SETTING_CHOICE:
		for (int i = 0; st->choices[i]; i++) {
			if (strcmp(value, st->choices[i]) == 0) {
				*(int *)base = i;
				return 0;
			}
		}
		{
			char list[128] = "";
			size_t o = 0;
			for (int i = 0; st->choices[i] && o < sizeof(list); i++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      i == 0		   ? ""
						      : st->choices[i + 1] ? ", "
									   : " or ",
						      st->choices[i]);
			set_err(err, "%s must be %s", st->name, list);
		}
		return 1;
	case SETTING_DOUBLE: {
		char *end;
		double d;
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !(d >= st->dmin && d <= st->dmax)) {
			set_err(err, "%s must be a number from %g to %g", st->name, st->dmin,
				st->dmax);
			return 1;
		}
		*(double *)base = d;
		return 0;
	}
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

/* An http(s) URL with a host and without spaces, quotes, angle brackets,
 * backslashes or controls (it goes into headers, JSON and pages); a
 * trailing slash only when trailing_slash. */
static bool url_ok(const char *u, bool trailing_slash)
{
	size_t n = strlen(u), scheme;

	if (strncmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (strncmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return false;
	if (n == scheme || u[scheme] == '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\", *p))
			return false;
	}
	return trailing_slash || u[n - 1] != '/';
}

/* privacy_contact: an http(s) URL or an address name@domain. */
static bool contact_ok(const char *c)
{
	const char *at = strchr(c, '@');

	if (url_ok(c, true))
		return true;
	if (!at || at == c || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)c; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\()[],;:", *p))
			return false;
	}
	return true;
}

/* The reader-facing addresses: public_url, privacy_url, privacy_contact. */
static int check_reader_urls(const struct config *c, char *err)
{
	if (*c->public_url && !url_ok(c->public_url, false)) {
		set_err(err, "public_url must be an http:// or https:// address without a "
			     "trailing slash, such as https://comments.example.nl");
		return 1;
	}
	if (*c->privacy_url && !url_ok(c->privacy_url, true)) {
		set_err(err, "privacy_url must be an http:// or https:// address, such as "
			     "https://blog.example.nl/privacy");
		return 1;
	}
	if (*c->privacy_contact && !contact_ok(c->privacy_contact)) {
		set_err(err, "privacy_contact must be an e-mail address or an http:// or https:// "
			     "address");
		return 1;
	}
	return 0;
}

int config_check(const struct config *c, char *err)
{
	struct net_addr addr;
	struct net_origins *origins = NULL;
	struct net_cidrs *proxies = NULL;
	int r;

	if (c->page_default > c->page_max) {
		set_err(err, "page_default (%u) must not exceed page_max (%u)", c->page_default,
			c->page_max);
		return 1;
	}
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
	proxies = NULL;
	r = net_cidrs_new(&proxies, c->blocklist_networks);
	if (r != 0) {
		set_err(err, "blocklist_networks must be a list of addresses or networks");
		return r < 0 ? r : 1;
	}
	net_cidrs_free(proxies);
	for (const char *p = c->allowlist_emails; *p;) {
		size_t n;
		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n == 0)
			break;
		if (n != 64 || strspn(p, "0123456789abcdef") < 64) {
			set_err(err, "allowlist_emails must be e-mail hashes of 64 hex digits (see "
				     "commentctl email-hash)");
			return 1;
		}
		p += n;
	}
	if (c->ham_cutoff > c->spam_cutoff || c->spam_cutoff > c->discard_cutoff) {
		set_err(err,
			"the cut-offs must satisfy ham_cutoff <= spam_cutoff <= discard_cutoff");
		return 1;
	}
	if (!*c->honeypot_field || strlen(c->honeypot_field) > 64) {
		set_err(err, "honeypot_field must be a field name of 1 to 64 characters");
		return 1;
	}
	if (!*c->db || !*c->key) {
		set_err(err, "db and key must name files");
		return 1;
	}
	if (check_reader_urls(c, err) != 0)
		return 1;
	if (*c->backup_dir && c->backup_dir[0] != '/') {
		set_err(err, "backup_dir must be an absolute path (or empty for no backups)");
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
		case SETTING_CHOICE:
			fn(settings[i].name, settings[i].choices[*(const int *)base], u);
			break;
		case SETTING_DOUBLE:
			snprintf(num, sizeof(num), "%g", *(const double *)base);
			fn(settings[i].name, num, u);
			break;
		}
	}
}
