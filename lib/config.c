#include "config.h"

#include "log.h"
#include "net.h"
#include "store.h"

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

/* Where a setting may be given: only at the top of the file, or also in a
 * [site ID] section, overriding the top-level value for that site. */
enum setting_scope {
	SCOPE_GLOBAL,
	SCOPE_SITE,
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *def;
	unsigned min, max;	    /* SETTING_UINT bounds */
	const char *const *choices; /* SETTING_CHOICE names, NULL-terminated */
	double dmin, dmax;	    /* SETTING_DOUBLE bounds */
	enum setting_scope scope;
};

#define FIELD(f) offsetof(struct config, f)

/* The one table of settings: name, type, field, default, bounds, and
 * whether a [site ID] section may override it (SCOPE_SITE: a new per-site
 * setting needs nothing else here; its users read it from the site's view,
 * config_site_view).  docs/configuration.md documents each; test-config.c
 * checks that every name here appears there, and that the per-site ones
 * are listed as such. */
static const char *const moderation_names[] = {"none", "first", "all", NULL};
static const char *const erase_names[] = {"delete", "anonymise", NULL};
static const char *const off_on_names[] = {"off", "on", NULL};
static const char *const language_names[] = {"en", "nl", "de", NULL};

static const struct setting settings[] = {
    {"listen", SETTING_STRING, FIELD(listen), "127.0.0.1:8080", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"db", SETTING_STRING, FIELD(db), "commentd.db", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"key", SETTING_STRING, FIELD(key), "commentd.key", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"site_origins", SETTING_STRING, FIELD(site_origins), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"trusted_proxies", SETTING_STRING, FIELD(trusted_proxies), "", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"log_level", SETTING_LOGLEVEL, FIELD(log_level), "info", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"max_depth", SETTING_UINT, FIELD(max_depth), "5", 1, 50, NULL, 0, 0, SCOPE_SITE},
    {"max_body", SETTING_UINT, FIELD(max_body), "65536", 1024, 1048576, NULL, 0, 0, SCOPE_GLOBAL},
    {"max_text", SETTING_UINT, FIELD(max_text), "10000", 1, 100000, NULL, 0, 0, SCOPE_SITE},
    {"max_author", SETTING_UINT, FIELD(max_author), "100", 1, 1000, NULL, 0, 0, SCOPE_SITE},
    {"max_url", SETTING_UINT, FIELD(max_url), "2000", 10, 8000, NULL, 0, 0, SCOPE_SITE},
    {"rate_limit", SETTING_UINT, FIELD(rate_limit), "10", 0, 100000, NULL, 0, 0, SCOPE_GLOBAL},
    {"rate_burst", SETTING_UINT, FIELD(rate_burst), "5", 1, 100000, NULL, 0, 0, SCOPE_GLOBAL},
    {"threads", SETTING_UINT, FIELD(threads), "2", 1, 64, NULL, 0, 0, SCOPE_GLOBAL},
    {"connections", SETTING_UINT, FIELD(connections), "128", 4, 10000, NULL, 0, 0, SCOPE_GLOBAL},
    {"connections_per_client", SETTING_UINT, FIELD(connections_per_client), "32", 1, 10000, NULL, 0,
     0, SCOPE_GLOBAL},
    {"timeout", SETTING_UINT, FIELD(timeout), "15", 1, 3600, NULL, 0, 0, SCOPE_GLOBAL},
    {"header_timeout", SETTING_UINT, FIELD(header_timeout), "10", 1, 3600, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"request_timeout", SETTING_UINT, FIELD(request_timeout), "30", 1, 3600, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"page_max", SETTING_UINT, FIELD(page_max), "200", 1, 10000, NULL, 0, 0, SCOPE_GLOBAL},
    {"page_default", SETTING_UINT, FIELD(page_default), "50", 1, 10000, NULL, 0, 0, SCOPE_GLOBAL},
    {"page_rows", SETTING_UINT, FIELD(page_rows), "300", 10, 10000, NULL, 0, 0, SCOPE_GLOBAL},
    {"moderation", SETTING_CHOICE, FIELD(moderation), "none", 0, 0, moderation_names, 0, 0,
     SCOPE_SITE},
    {"max_links", SETTING_UINT, FIELD(max_links), "2", 0, 1000, NULL, 0, 0, SCOPE_SITE},
    {"min_submit_seconds", SETTING_UINT, FIELD(min_submit_seconds), "3", 0, 3600, NULL, 0, 0,
     SCOPE_SITE},
    {"blocklist_words", SETTING_STRING, FIELD(blocklist_words), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"blocklist_domains", SETTING_STRING, FIELD(blocklist_domains), "", 0, 0, NULL, 0, 0,
     SCOPE_SITE},
    {"blocklist_networks", SETTING_STRING, FIELD(blocklist_networks), "", 0, 0, NULL, 0, 0,
     SCOPE_SITE},
    {"allowlist_emails", SETTING_STRING, FIELD(allowlist_emails), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"edit_window", SETTING_UINT, FIELD(edit_window), "900", 0, 86400, NULL, 0, 0, SCOPE_SITE},
    {"honeypot_field", SETTING_STRING, FIELD(honeypot_field), "website2", 0, 0, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"ham_cutoff", SETTING_DOUBLE, FIELD(ham_cutoff), "0.65", 0, 0, NULL, 0.0, 1.0, SCOPE_SITE},
    {"spam_cutoff", SETTING_DOUBLE, FIELD(spam_cutoff), "0.99", 0, 0, NULL, 0.0, 1.0, SCOPE_SITE},
    {"discard_cutoff", SETTING_DOUBLE, FIELD(discard_cutoff), "0.9999", 0, 0, NULL, 0.0, 1.01,
     SCOPE_SITE},
    {"min_learned", SETTING_UINT, FIELD(min_learned), "50", 0, 1000000, NULL, 0, 0, SCOPE_SITE},
    {"learn_cutoffs", SETTING_CHOICE, FIELD(learn_cutoffs), "on", 0, 0, off_on_names, 0, 0,
     SCOPE_SITE},
    {"starter_model", SETTING_CHOICE, FIELD(starter_model), "on", 0, 0, off_on_names, 0, 0,
     SCOPE_GLOBAL},
    {"spam_retention_days", SETTING_UINT, FIELD(spam_retention_days), "15", 1, 3650, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"ip_retention_days", SETTING_UINT, FIELD(ip_retention_days), "30", 1, 3650, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"token_prune_days", SETTING_UINT, FIELD(token_prune_days), "90", 1, 3650, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"search_index_from", SETTING_UINT, FIELD(search_index_from), "50000", 0, 2000000000, NULL, 0,
     0, SCOPE_GLOBAL},
    {"maintenance_interval", SETTING_UINT, FIELD(maintenance_interval), "3600", 10, 86400, NULL, 0,
     0, SCOPE_GLOBAL},
    {"compact_hour", SETTING_UINT, FIELD(compact_hour), "4", 0, 23, NULL, 0, 0, SCOPE_GLOBAL},
    {"erase", SETTING_CHOICE, FIELD(erase), "delete", 0, 0, erase_names, 0, 0, SCOPE_GLOBAL},
    {"backup_dir", SETTING_STRING, FIELD(backup_dir), "", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"backup_keep", SETTING_UINT, FIELD(backup_keep), "7", 1, 365, NULL, 0, 0, SCOPE_GLOBAL},
    {"likes", SETTING_CHOICE, FIELD(likes), "on", 0, 0, off_on_names, 0, 0, SCOPE_SITE},
    {"like_rate_limit", SETTING_UINT, FIELD(like_rate_limit), "30", 0, 100000, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"privacy_url", SETTING_STRING, FIELD(privacy_url), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"privacy_contact", SETTING_STRING, FIELD(privacy_contact), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"public_url", SETTING_STRING, FIELD(public_url), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"language", SETTING_CHOICE, FIELD(language), "en", 0, 0, language_names, 0, 0, SCOPE_SITE},
    {"smtp_url", SETTING_STRING, FIELD(smtp_url), "", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"smtp_from", SETTING_STRING, FIELD(smtp_from), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"smtp_credential", SETTING_STRING, FIELD(smtp_credential), "", 0, 0, NULL, 0, 0, SCOPE_GLOBAL},
    {"notify_moderators", SETTING_STRING, FIELD(notify_moderators), "", 0, 0, NULL, 0, 0,
     SCOPE_SITE},
    {"notify_digest_minutes", SETTING_UINT, FIELD(notify_digest_minutes), "0", 0, 10080, NULL, 0, 0,
     SCOPE_SITE},
    {"notify_retention_days", SETTING_UINT, FIELD(notify_retention_days), "180", 1, 3650, NULL, 0,
     0, SCOPE_SITE},
    {"notify_retry_seconds", SETTING_UINT, FIELD(notify_retry_seconds), "60", 1, 3600, NULL, 0, 0,
     SCOPE_GLOBAL},
    {"webhook_url", SETTING_STRING, FIELD(webhook_url), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
    {"webhook_secret", SETTING_STRING, FIELD(webhook_secret), "", 0, 0, NULL, 0, 0, SCOPE_SITE},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* One setting given in a [site ID] section. */
struct site_value {
	const struct setting *st;
	char *value;
};

/* A [site ID] section: its id, where it starts ("FILE:LINE") and its own
 * settings in file order (a repeated name: the last one wins). */
struct config_section {
	char id[CONFIG_SITE_ID_MAX + 1];
	char where[CONFIG_ERR_MAX];
	struct site_value *values;
	size_t n_values;
};

const char *config_moderation_name(enum moderation_mode m)
{
	return moderation_names[m];
}

const char *config_language_name(enum config_language l)
{
	return language_names[l];
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

static const struct setting *find_setting(const char *name)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	}
	return NULL;
}

int config_set(struct config *c, const char *name, const char *value, char *err)
{
	const struct setting *st = find_setting(name);

	if (st)
		return apply(c, st, value, err);
	set_err(err, "unknown setting \"%.64s\"", name);
	return 1;
}

bool config_setting_per_site(const char *name)
{
	const struct setting *st = find_setting(name);

	return st && st->scope == SCOPE_SITE;
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

static void sections_free(struct config *c)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		for (size_t j = 0; j < c->sections[i].n_values; j++)
			free(c->sections[i].values[j].value);
		free(c->sections[i].values);
	}
	free(c->sections);
	c->sections = NULL;
	c->n_sections = 0;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].type == SETTING_STRING || settings[i].type == SETTING_LOGLEVEL)
			free(*(char **)((char *)c + settings[i].offset));
	}
	sections_free(c);
	free(c);
	return NULL;
}

/* A copy of c's settings (not its sections).  0 or -ENOMEM. */
static int config_copy(const struct config *c, struct config **out)
{
	struct config *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const char *from = (const char *)c + settings[i].offset;
		char *to = (char *)n + settings[i].offset;

		switch (settings[i].type) {
		case SETTING_STRING:
		case SETTING_LOGLEVEL:
			*(char **)to = strdup(*(char *const *)from);
			if (!*(char **)to) {
				config_free(n);
				return -ENOMEM;
			}
			break;
		case SETTING_UINT:
			*(unsigned *)to = *(const unsigned *)from;
			break;
		case SETTING_CHOICE:
			*(int *)to = *(const int *)from;
			break;
		case SETTING_DOUBLE:
			*(double *)to = *(const double *)from;
			break;
		}
	}
	*out = n;
	return 0;
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

bool config_site_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > CONFIG_SITE_ID_MAX ||
	    !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A "[site ID]" header (trimmed, without its comment) opens a section.
 * 0, or 1 with the reason in err; negative on OOM. */
static int open_section(struct config *c, char *line, const char *where, char *err)
{
	struct config_section *grown, *sec;
	char *id, *end = line + strlen(line) - 1;

	if (*end != ']' || strncmp(line, "[site", 5) != 0 || (line[5] != ' ' && line[5] != '\t')) {
		set_err(err, "expected a section header \"[site ID]\"");
		return 1;
	}
	id = trim(line + 5, end);
	if (!config_site_id_valid(id)) {
		set_err(err,
			"a site id is 1 to %d characters of a-z, 0-9, '.', '_' and '-', starting "
			"with a letter or digit",
			CONFIG_SITE_ID_MAX);
		return 1;
	}
	for (size_t i = 0; i < c->n_sections; i++) {
		if (strcmp(c->sections[i].id, id) == 0) {
			set_err(err, "site %s is already defined at %s", id, c->sections[i].where);
			return 1;
		}
	}
	if (c->n_sections == CONFIG_SITES_MAX) {
		set_err(err, "at most %d sites", CONFIG_SITES_MAX);
		return 1;
	}
	grown = realloc(c->sections, (c->n_sections + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->sections = grown;
	sec = &c->sections[c->n_sections++];
	memset(sec, 0, sizeof(*sec));
	snprintf(sec->id, sizeof(sec->id), "%s", id);
	snprintf(sec->where, sizeof(sec->where), "%s", where);
	return 0;
}

/* "name = value" inside a section: a per-site setting ("origins" names
 * site_origins), checked against its type and bounds on scratch. */
static int section_set(struct config_section *sec, struct config *scratch, const char *name,
		       const char *value, char *err)
{
	const struct setting *st =
	    find_setting(strcmp(name, "origins") == 0 ? "site_origins" : name);
	struct site_value *grown;
	char *dup;
	int r;

	if (!st) {
		set_err(err, "unknown setting \"%.64s\"", name);
		return 1;
	}
	if (st->scope != SCOPE_SITE) {
		set_err(err,
			"%s applies to the whole daemon; set it above the first [site] section",
			st->name);
		return 1;
	}
	r = apply(scratch, st, value, err);
	if (r != 0)
		return r;
	dup = strdup(value);
	grown = dup ? realloc(sec->values, (sec->n_values + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(dup);
		return -ENOMEM;
	}
	sec->values = grown;
	sec->values[sec->n_values++] = (struct site_value){st, dup};
	return 0;
}

/* One line without its comment, trimmed: a setting at the top level or in
 * the current section, or a section header.  0, 1 with err, negative. */
static int load_line(struct config *c, struct config **scratch, char *line, const char *where,
		     char *err)
{
	char *eq, *name, *value;
	int r;

	if (line[0] == '[')
		return open_section(c, line, where, err);
	eq = strchr(line, '=');
	if (!eq) {
		set_err(err, "expected \"name = value\"");
		return 1;
	}
	value = trim(eq + 1, eq + 1 + strlen(eq + 1));
	name = trim(line, eq);
	if (!c->n_sections)
		return config_set(c, name, value, err);
	if (!*scratch) {
		r = config_new(scratch);
		if (r < 0)
			return r;
	}
	return section_set(&c->sections[c->n_sections - 1], *scratch, name, value, err);
}

int config_load_text(struct config *c, const char *text, size_t len, const char *origin, char *err)
{
	char line[CONFIG_MAX_VALUE + 128];
	char sub[CONFIG_ERR_MAX], where[CONFIG_ERR_MAX];
	struct config *scratch = NULL;
	size_t pos = 0;
	unsigned lineno = 0;
	int r = 0;

	if (len > CONFIG_MAX_FILE) {
		set_err(err, "%s: the file is larger than %d bytes", origin, CONFIG_MAX_FILE);
		return 1;
	}
	while (pos < len && r == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *hash, *trimmed;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", origin, lineno);
		if (n >= sizeof(line)) {
			set_err(err, "%s: line too long", where);
			r = 1;
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			set_err(err, "%s: NUL byte", where);
			r = 1;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		trimmed = trim(line, line + strlen(line));
		if (!*trimmed)
			continue;
		r = load_line(c, &scratch, trimmed, where, sub);
		if (r > 0)
			set_err(err, "%s: %s", where, sub);
	}
	config_free(scratch);
	return r;
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

/* A header value: no line breaks or other control characters. */
static bool header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An http(s) URL with a host and without spaces, quotes, angle brackets,
 * backslashes or controls (it goes into headers, mails, JSON and pages); a
 * trailing slash only when trailing_slash_ok. */
static bool url_ok(const char *u, bool trailing_slash_ok)
{
	size_t n = strlen(u), scheme;

	if (has_prefix(u, "https://"))
		scheme = 8;
	else if (has_prefix(u, "http://"))
		scheme = 7;
	else
		return false;
	if (n == scheme || u[scheme] == '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\", *p))
			return false;
	}
	return trailing_slash_ok || u[n - 1] != '/';
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

/* A site's privacy page and contact (privacy_url, privacy_contact). */
static int check_privacy(const struct config *c, char *err)
{
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
/* Each address of a list: local@domain, no spaces, controls or brackets. */
static bool addresses_ok(const char *list)
{
	for (const char *p = list; *p;) {
		size_t n;
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 0)
			break;
		const char *at = memchr(p, '@', n);
		if (!at || at == p || at == p + n - 1 || n > 254)
			return false;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)p[i];
			if (ch < 0x21 || ch == 0x7f || strchr("<>()[]\\\";:", ch))
				return false;
		}
		p += n;
	}
	return true;
}

/* The daemon's notification settings: the SMTP server (docs/notifications.md). */
static int check_notify_global(const struct config *c, char *err)
{
	if (*c->smtp_url &&
	    ((!has_prefix(c->smtp_url, "smtp://") && !has_prefix(c->smtp_url, "smtps://")) ||
	     strpbrk(c->smtp_url, " \"<>") || !header_safe(c->smtp_url))) {
		set_err(err, "smtp_url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
		return 1;
	}
	return 0;
}

/* A site's notification settings, each well-formed (the top level's, or a
 * site's view). */
static int check_notify_site(const struct config *c, char *err)
{
	if (*c->public_url &&
	    (!url_ok(c->public_url, false) || strlen(c->public_url) > CONFIG_PUBLIC_URL_MAX)) {
		set_err(err,
			"public_url must be an http:// or https:// address of at most %d "
			"characters without a trailing slash, such as https://comments.example.nl",
			CONFIG_PUBLIC_URL_MAX);
		return 1;
	}
	if (*c->smtp_from && (!header_safe(c->smtp_from) || !strchr(c->smtp_from, '@'))) {
		set_err(err, "smtp_from must be the sender's address (for example "
			     "Blog <comments@example.nl>)");
		return 1;
	}
	if (!addresses_ok(c->notify_moderators)) {
		set_err(err, "notify_moderators must be a list of e-mail addresses");
		return 1;
	}
	if (*c->notify_moderators && !*c->smtp_url) {
		set_err(err, "notify_moderators needs smtp_url");
		return 1;
	}
	if (*c->webhook_url) {
		if (!url_ok(c->webhook_url, true)) {
			set_err(err, "webhook_url must be an http:// or https:// address");
			return 1;
		}
		if (strlen(c->webhook_secret) < 16) {
			set_err(err,
				"webhook_secret must be at least 16 characters when webhook_url "
				"is set");
			return 1;
		}
	}
	return 0;
}

/* What a site that sends mail must have: a sender and the address its
 * links point to (checked for each site's view, and for the top level of a
 * file without sections). */
static int check_notify_needs(const struct config *c, char *err)
{
	if (!*c->smtp_url)
		return 0;
	if (!*c->smtp_from) {
		set_err(err, "smtp_from must be the sender's address (for example "
			     "Blog <comments@example.nl>) when smtp_url is set");
		return 1;
	}
	if (!*c->public_url) {
		set_err(err, "public_url must be set when smtp_url is set (mails carry links)");
		return 1;
	}
	return 0;
}

/* The rules one site's settings must keep (the top level's, or a view's). */
static int check_site_rules(const struct config *c, char *err)
{
	struct net_origins *origins = NULL;
	struct net_cidrs *networks = NULL;
	int r;

	r = net_origins_new(&origins, c->site_origins);
	if (r != 0) {
		set_err(err,
			"site_origins must be a list of origins such as https://blog.example.nl");
		return r < 0 ? r : 1;
	}
	net_origins_free(origins);
	r = net_cidrs_new(&networks, c->blocklist_networks);
	if (r != 0) {
		set_err(err, "blocklist_networks must be a list of addresses or networks");
		return r < 0 ? r : 1;
	}
	net_cidrs_free(networks);
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
	r = check_privacy(c, err);
	return r ? r : check_notify_site(c, err);
}

/* The daemon-wide rules. */
static int check_global(const struct config *c, char *err)
{
	struct net_addr addr;
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
	r = net_cidrs_new(&proxies, c->trusted_proxies);
	if (r != 0) {
		set_err(err, "trusted_proxies must be a list of addresses or networks such as "
			     "127.0.0.1 or 10.0.0.0/8");
		return r < 0 ? r : 1;
	}
	net_cidrs_free(proxies);
	if (!*c->honeypot_field || strlen(c->honeypot_field) > 64) {
		set_err(err, "honeypot_field must be a field name of 1 to 64 characters");
		return 1;
	}
	if (!*c->db || !*c->key) {
		set_err(err, "db and key must name files");
		return 1;
	}
	if (*c->backup_dir && c->backup_dir[0] != '/') {
		set_err(err, "backup_dir must be an absolute path (or empty for no backups)");
		return 1;
	}
	/* The daily copies are SQLite files (lib/backup.h). */
	if (*c->backup_dir && store_is_pg_uri(c->db)) {
		set_err(err, "backup_dir copies a SQLite database: with a PostgreSQL db leave it "
			     "empty and back up with pg_dump or the server's base backups");
		return 1;
	}
	/* The compaction runs in a pass that falls in compact_hour: passes
	 * further apart than an hour could step over it. */
	if (store_is_pg_uri(c->db) && c->maintenance_interval > 3600) {
		set_err(err, "maintenance_interval must be at most 3600 with a PostgreSQL db (the "
			     "compaction after erasures runs in a pass within compact_hour)");
		return 1;
	}
	return check_notify_global(c, err);
}

/* The implicit site "default" exists without sections, or when the top
 * level names origins and no section takes the name. */
static bool implicit_default(const struct config *c)
{
	if (c->n_sections == 0)
		return true;
	if (!*c->site_origins)
		return false;
	for (size_t i = 0; i < c->n_sections; i++) {
		if (strcmp(c->sections[i].id, CONFIG_DEFAULT_SITE) == 0)
			return false;
	}
	return true;
}

/* The section of site i, or NULL for the implicit default. */
static const struct config_section *section_of(const struct config *c, size_t i)
{
	if (implicit_default(c)) {
		if (i == 0)
			return NULL;
		i--;
	}
	return i < c->n_sections ? &c->sections[i] : NULL;
}

size_t config_site_count(const struct config *c)
{
	return c->n_sections + (implicit_default(c) ? 1 : 0);
}

const char *config_site_id(const struct config *c, size_t i)
{
	const struct config_section *sec = section_of(c, i);

	return sec ? sec->id : CONFIG_DEFAULT_SITE;
}

int config_site_find(const struct config *c, const char *id)
{
	size_t n = config_site_count(c);

	for (size_t i = 0; id && i < n && i <= CONFIG_SITES_MAX; i++) {
		if (strcmp(config_site_id(c, i), id) == 0)
			return (int)i;
	}
	return -1;
}

const char *config_site_where(const struct config *c, size_t i)
{
	const struct config_section *sec = section_of(c, i);

	return sec ? sec->where : NULL;
}

bool config_has_sections(const struct config *c)
{
	return c->n_sections > 0;
}

int config_site_view(const struct config *c, size_t i, struct config **out, char *err)
{
	const struct config_section *sec = section_of(c, i);
	struct config *v = NULL;
	char sub[CONFIG_ERR_MAX];
	int r;

	r = config_copy(c, &v);
	if (r < 0)
		return r;
	/* A section's origins are its own: two sections never share the
	 * top level's by default. */
	if (sec)
		r = apply(v, find_setting("site_origins"), "", sub);
	for (size_t j = 0; sec && r == 0 && j < sec->n_values; j++)
		r = apply(v, sec->values[j].st, sec->values[j].value, sub);
	if (r == 0)
		r = check_site_rules(v, sub);
	if (r == 0)
		r = check_notify_needs(v, sub);
	if (r != 0) {
		if (r > 0)
			set_err(err, "%s: [site %s]: %s", sec ? sec->where : "site_origins",
				config_site_id(c, i), sub);
		config_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* Calls fn for each origin in the list (spaces or commas between). */
static void each_origin(const char *list, void (*fn)(const char *o, size_t n, void *u), void *u)
{
	for (const char *p = list; *p;) {
		size_t n;
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n)
			fn(p, n, u);
		p += n;
	}
}

struct origin_clash {
	const struct net_origins *other;
	const char *first; /* an origin found in other, or NULL */
	size_t len;
};

static void find_clash(const char *o, size_t n, void *u)
{
	struct origin_clash *cl = u;

	if (!cl->first && net_origins_match(cl->other, o, n)) {
		cl->first = o;
		cl->len = n;
	}
}

/* No origin may belong to two sites: it is how a request finds its site. */
static int check_distinct_origins(struct config *const *views, size_t n, const struct config *c,
				  char *err)
{
	for (size_t i = 0; i < n; i++) {
		struct net_origins *oi = NULL;
		int r = net_origins_new(&oi, views[i]->site_origins);

		if (r != 0)
			return r < 0 ? r : 1;
		for (size_t j = i + 1; j < n; j++) {
			struct origin_clash cl = {oi, NULL, 0};
			each_origin(views[j]->site_origins, find_clash, &cl);
			if (cl.first) {
				set_err(err, "the origin %.*s belongs to two sites, %s and %s",
					(int)(cl.len < 200 ? cl.len : 200), cl.first,
					config_site_id(c, i), config_site_id(c, j));
				net_origins_free(oi);
				return 1;
			}
		}
		net_origins_free(oi);
	}
	return 0;
}

/* Every site's view keeps the rules, and the sites' origins are distinct. */
static int check_sites(const struct config *c, char *err)
{
	size_t n = config_site_count(c);
	struct config **views = calloc(n, sizeof(*views));
	int r = 0;

	if (!views)
		return -ENOMEM;
	if (config_site_find(c, CONFIG_DEFAULT_SITE) >= 0 && *c->site_origins &&
	    !implicit_default(c)) {
		set_err(err, "site_origins is the default site's; with a [site default] section, "
			     "give its origins there");
		r = 1;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = config_site_view(c, i, &views[i], err);
	if (r == 0)
		r = check_distinct_origins(views, n, c, err);
	for (size_t i = 0; i < n; i++)
		config_free(views[i]);
	free(views);
	return r;
}

int config_check(const struct config *c, char *err)
{
	int r = check_global(c, err);

	if (r == 0)
		r = check_site_rules(c, err);
	if (r == 0 && !c->n_sections)
		r = check_notify_needs(c, err);
	if (r == 0 && c->n_sections)
		r = check_sites(c, err);
	return r;
}

void config_site_each(const struct config *c, size_t i,
		      void (*fn)(const char *name, const char *value, void *u), void *u)
{
	const struct config_section *sec = section_of(c, i);

	for (size_t j = 0; sec && j < sec->n_values; j++) {
		const char *name = sec->values[j].st->name;
		fn(strcmp(name, "site_origins") == 0 ? "origins" : name, sec->values[j].value, u);
	}
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
