/* Unit tests for lib/config: defaults, every setting, bounds, the file
 * parser, config_check, config_each, and the documentation of each setting. */
#include "fixture.h"
#include "tap.h"

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree (set in tests/meson.build)"
#endif

static struct fixture fx;

struct uint_setting {
	const char *name;
	size_t offset;
	unsigned def, min, max;
};

#define F(f) offsetof(struct config, f)

/* The numeric settings with their documented defaults and bounds. */
static const struct uint_setting uints[] = {
    {"max_depth", F(max_depth), 5, 1, 50},
    {"max_body", F(max_body), 65536, 1024, 1048576},
    {"max_text", F(max_text), 10000, 1, 100000},
    {"max_author", F(max_author), 100, 1, 1000},
    {"max_url", F(max_url), 2000, 10, 8000},
    {"rate_limit", F(rate_limit), 10, 0, 100000},
    {"rate_burst", F(rate_burst), 5, 1, 100000},
    {"threads", F(threads), 2, 1, 64},
    {"connections", F(connections), 128, 4, 10000},
    {"timeout", F(timeout), 15, 1, 3600},
    {"page_max", F(page_max), 200, 1, 10000},
    {"request_timeout", F(request_timeout), 30, 1, 3600},
    {"notify_digest_minutes", F(notify_digest_minutes), 0, 0, 10080},
    {"notify_retention_days", F(notify_retention_days), 180, 1, 3650},
    {"notify_retry_seconds", F(notify_retry_seconds), 60, 1, 3600},
};

#define N_UINTS (sizeof(uints) / sizeof(uints[0]))

static const char *const string_settings[] = {"listen", "db", "key", "site_origins",
					      "trusted_proxies"};

static unsigned get_uint(const struct config *c, const struct uint_setting *u)
{
	return *(const unsigned *)((const char *)c + u->offset);
}

/* config_each collection. */
#define MAX_SEEN 64
struct seen {
	size_t n;
	char names[MAX_SEEN][64];
	char values[MAX_SEEN][CONFIG_MAX_VALUE];
};

static void collect(const char *name, const char *value, void *u)
{
	struct seen *s = u;

	if (s->n < MAX_SEEN) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
	}
	s->n++;
}

static const char *seen_value(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n && i < MAX_SEEN; i++) {
		if (strcmp(s->names[i], name) == 0)
			return s->values[i];
	}
	return NULL;
}

static int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static bool word_char(int ch)
{
	return isalnum(ch) || ch == '_';
}

/* True if name occurs in text as a whole word (not inside a longer
 * identifier such as "max_text_x" or "db_path"). */
static bool has_word(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
		bool left = p == text || !word_char((unsigned char)p[-1]);
		bool right = !word_char((unsigned char)p[n]);
		if (left && right)
			return true;
	}
	return false;
}

static void test_defaults(void)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX] = "";

	is_int(config_new(&c), 0, "config_new");
	if (!c)
		exit(1);
	is_str(c->listen, "127.0.0.1:8080", "default listen");
	is_str(c->db, "commentd.db", "default db");
	is_str(c->key, "commentd.key", "default key");
	is_str(c->site_origins, "", "default site_origins is empty");
	is_str(c->trusted_proxies, "", "default trusted_proxies is empty");
	is_str(c->log_level, "info", "default log_level");
	is_int(c->moderation, MODERATION_NONE, "default moderation");
	for (size_t i = 0; i < N_UINTS; i++)
		is_int(get_uint(c, &uints[i]), uints[i].def, "default %s", uints[i].name);
	is_int(config_check(c, err), 0, "the defaults pass config_check (%s)", err);
	config_free(c);
	ok(config_free(NULL) == NULL, "config_free(NULL)");
}

static void test_set(void)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX], val[32];

	config_new(&c);

	/* Numbers: both bounds accepted, one past each refused with the name. */
	for (size_t i = 0; i < N_UINTS; i++) {
		const struct uint_setting *u = &uints[i];

		snprintf(val, sizeof(val), "%u", u->min);
		is_int(config_set(c, u->name, val, err), 0, "%s = %s (min)", u->name, val);
		is_int(get_uint(c, u), u->min, "%s holds its minimum", u->name);
		snprintf(val, sizeof(val), "%u", u->max);
		is_int(config_set(c, u->name, val, err), 0, "%s = %s (max)", u->name, val);
		is_int(get_uint(c, u), u->max, "%s holds its maximum", u->name);
		snprintf(val, sizeof(val), "%lu", (unsigned long)u->max + 1);
		err[0] = '\0';
		is_int(config_set(c, u->name, val, err), 1, "%s = %s (above max) refused", u->name,
		       val);
		ok(has(err, u->name), "the error names %s: %s", u->name, err);
		is_int(get_uint(c, u), u->max, "%s unchanged after refusal", u->name);
		if (u->min > 0) {
			snprintf(val, sizeof(val), "%u", u->min - 1);
			err[0] = '\0';
			is_int(config_set(c, u->name, val, err), 1, "%s = %s (below min) refused",
			       u->name, val);
			ok(has(err, u->name), "the error names %s: %s", u->name, err);
		}
	}

	/* Number syntax. */
	static const char *const bad_numbers[] = {"",
						  "abc",
						  "-1",
						  "+5",
						  " 5",
						  "5 ",
						  "5x",
						  "0x10",
						  "1e3",
						  "3.0",
						  "99999999999999999999999",
						  "4294967301"};
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
		err[0] = '\0';
		is_int(config_set(c, "max_depth", bad_numbers[i], err), 1,
		       "max_depth = \"%s\" refused", bad_numbers[i]);
		ok(has(err, "max_depth"), "error names max_depth: %s", err);
	}
	is_int(c->max_depth, 50, "max_depth still holds the last good value");
	is_int(config_set(c, "max_depth", "007", err), 0, "leading zeros are fine");
	is_int(c->max_depth, 7, "max_depth = 7");

	/* Strings. */
	for (size_t i = 0; i < sizeof(string_settings) / sizeof(string_settings[0]); i++) {
		char want[64];
		struct seen s = {0};

		snprintf(want, sizeof(want), "value-of-%s", string_settings[i]);
		is_int(config_set(c, string_settings[i], want, err), 0, "%s settable",
		       string_settings[i]);
		config_each(c, collect, &s);
		is_str(seen_value(&s, string_settings[i]), want, "%s reads back",
		       string_settings[i]);
	}
	is_str(c->listen, "value-of-listen", "listen field");
	is_str(c->db, "value-of-db", "db field");
	is_str(c->key, "value-of-key", "key field");
	is_str(c->site_origins, "value-of-site_origins", "site_origins field");
	is_str(c->trusted_proxies, "value-of-trusted_proxies", "trusted_proxies field");
	{
		char *longv = malloc(CONFIG_MAX_VALUE + 1);
		memset(longv, 'a', CONFIG_MAX_VALUE);
		longv[CONFIG_MAX_VALUE] = '\0';
		err[0] = '\0';
		is_int(config_set(c, "db", longv, err), 1, "a %d-byte value is too long",
		       CONFIG_MAX_VALUE);
		ok(has(err, "db"), "the error names db: %s", err);
		is_str(c->db, "value-of-db", "db unchanged");
		longv[CONFIG_MAX_VALUE - 1] = '\0';
		is_int(config_set(c, "db", longv, err), 0, "a %d-byte value fits",
		       CONFIG_MAX_VALUE - 1);
		is_int(strlen(c->db), CONFIG_MAX_VALUE - 1, "and is stored whole");
		free(longv);
	}

	/* log_level. */
	static const char *const levels[] = {"err", "warn", "info", "debug"};
	for (size_t i = 0; i < 4; i++) {
		is_int(config_set(c, "log_level", levels[i], err), 0, "log_level = %s", levels[i]);
		is_str(c->log_level, levels[i], "log_level holds %s", levels[i]);
	}
	err[0] = '\0';
	is_int(config_set(c, "log_level", "verbose", err), 1, "log_level = verbose refused");
	ok(has(err, "log_level"), "error names log_level: %s", err);
	is_str(c->log_level, "debug", "log_level unchanged");

	/* moderation. */
	static const char *const modes[] = {"none", "first", "all"};
	for (int i = 2; i >= 0; i--) {
		is_int(config_set(c, "moderation", modes[i], err), 0, "moderation = %s", modes[i]);
		is_int(c->moderation, i, "moderation field for %s", modes[i]);
		is_str(config_moderation_name((enum moderation_mode)i), modes[i], "name of mode %d",
		       i);
	}
	err[0] = '\0';
	is_int(config_set(c, "moderation", "ALL", err), 1, "moderation names are exact");
	ok(has(err, "moderation"), "error names moderation: %s", err);
	is_int(c->moderation, MODERATION_NONE, "moderation unchanged");

	/* Unknown names. */
	err[0] = '\0';
	is_int(config_set(c, "no_such_setting", "1", err), 1, "unknown setting refused");
	ok(has(err, "unknown") && has(err, "no_such_setting"), "error says so: %s", err);
	is_int(config_set(c, "MAX_DEPTH", "3", err), 1, "names are case-sensitive");
	is_int(config_set(c, "", "3", err), 1, "empty name refused");
	config_free(c);
}

static void test_each(void)
{
	struct config *c = NULL;
	struct seen s = {0};
	char err[CONFIG_ERR_MAX];

	config_new(&c);
	config_set(c, "max_text", "1234", err);
	config_set(c, "moderation", "first", err);
	config_each(c, collect, &s);
	ok(s.n >= N_UINTS + 5 + 2 && s.n <= MAX_SEEN, "config_each reports %zu settings", s.n);
	{
		size_t dups = 0;
		for (size_t i = 0; i < s.n && i < MAX_SEEN; i++) {
			size_t seen = 0;
			for (size_t j = 0; j < s.n && j < MAX_SEEN; j++)
				seen += strcmp(s.names[i], s.names[j]) == 0;
			if (seen != 1) {
				diag("%s reported %zu times", s.names[i], seen);
				dups++;
			}
		}
		is_int(dups, 0, "each setting is reported once");
	}
	for (size_t i = 0; i < N_UINTS; i++)
		ok(seen_value(&s, uints[i].name) != NULL, "config_each lists %s", uints[i].name);
	for (size_t i = 0; i < 5; i++)
		ok(seen_value(&s, string_settings[i]) != NULL, "config_each lists %s",
		   string_settings[i]);
	is_str(seen_value(&s, "log_level"), "info", "config_each lists log_level");
	is_str(seen_value(&s, "moderation"), "first", "config_each shows moderation by name");
	is_str(seen_value(&s, "max_text"), "1234", "config_each shows numbers in decimal");
	is_str(seen_value(&s, "listen"), "127.0.0.1:8080", "config_each shows strings");

	/* Every setting config_each names is known to config_set, and a bad
	 * value for it is either taken (free text) or refused naming it. */
	{
		size_t unnamed = 0, unknown = 0;
		for (size_t i = 0; i < s.n && i < MAX_SEEN; i++) {
			struct config *c2 = NULL;
			int r;
			config_new(&c2);
			err[0] = '\0';
			r = config_set(c2, s.names[i], "bogus value", err);
			if (r != 0 && !has(err, s.names[i])) {
				diag("error for %s does not name it: %s", s.names[i], err);
				unnamed++;
			}
			if (r != 0 && has(err, "unknown"))
				unknown++;
			config_free(c2);
		}
		is_int(unnamed, 0, "every refused value's error names its setting");
		is_int(unknown, 0, "every setting from config_each is settable by name");
	}

	/* Every value printed by config_each is accepted back by config_set
	 * (the `commentd -n` output is a valid config file). */
	{
		struct config *c2 = NULL;
		struct seen s2 = {0};
		int bad = 0;

		config_new(&c2);
		for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
			bad += config_set(c2, s.names[i], s.values[i], err) != 0;
		is_int(bad, 0, "config_each output round-trips through config_set");
		config_each(c2, collect, &s2);
		int diff = 0;
		for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
			diff += strcmp(s.values[i], s2.values[i]) != 0;
		is_int(diff, 0, "and gives the same values");
		config_free(c2);
	}
	config_free(c);
}

static void test_text(void)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX];
	static const char good[] = "# commentd configuration\n"
				   "\n"
				   "listen = [::1]:9000\n"
				   "   db=/var/lib/commentd/c.db   \n"
				   "\tkey\t=\t/etc/commentd.key\t# trailing comment\n"
				   "   # indented comment\n"
				   "\t\n"
				   "max_depth = 3\r\n"
				   "moderation = all\n"
				   "site_origins = https://a.example, https://b.example:8443\n"
				   "log_level = debug\n"
				   "max_text=77"; /* no final newline */

	config_new(&c);
	err[0] = '\0';
	is_int(config_load_text(c, good, strlen(good), "t.conf", err), 0, "a good file loads (%s)",
	       err);
	is_str(c->listen, "[::1]:9000", "listen from file");
	is_str(c->db, "/var/lib/commentd/c.db", "name=value without spaces, surrounding blanks");
	is_str(c->key, "/etc/commentd.key", "tabs and trailing comment stripped");
	is_int(c->max_depth, 3, "CRLF line ending");
	is_int(c->moderation, MODERATION_ALL, "moderation from file");
	is_str(c->site_origins, "https://a.example, https://b.example:8443",
	       "inner spaces of a value kept");
	is_str(c->log_level, "debug", "log_level from file");
	is_int(c->max_text, 77, "the last line without newline");
	is_int(c->max_author, 100, "settings not in the file keep their defaults");
	is_int(config_check(c, err), 0, "and the result passes config_check");

	is_int(config_load_text(c, "", 0, "empty", err), 0, "an empty text is fine");
	is_int(config_load_text(c, "\n\n# x\n", 6, "blank", err), 0, "only blanks and comments");
	is_int(config_load_text(c, "db = \n", 6, "e", err), 0, "an empty string value is set");
	is_str(c->db, "", "db is empty");
	is_int(config_load_text(c, "db = a=b\n", 9, "e", err), 0, "'=' inside a value");
	is_str(c->db, "a=b", "value keeps the second '='");

	/* Errors name origin:line. */
	static const struct {
		const char *text, *want, *what;
	} bad[] = {
	    {"listen = 1.2.3.4:80\n\nmax_depth = 99\n", "x.conf:3: ", "bounds error on line 3"},
	    {"# c\nfoo = 1\n", "x.conf:2: ", "unknown setting on line 2"},
	    {"max_depth\n", "x.conf:1: ", "missing '=' on line 1"},
	    {"\n\n\n\njust words here\n", "x.conf:5: ", "missing '=' on line 5"},
	    {" = 5\n", "x.conf:1: ", "missing name"},
	    {"moderation = sometimes\n", "x.conf:1: ", "bad moderation"},
	    {"max_body = \n", "x.conf:1: ", "empty number"},
	    {"db = x\r\nthreads = 0\r\n", "x.conf:2: ", "CRLF lines counted"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		is_int(config_load_text(c, bad[i].text, strlen(bad[i].text), "x.conf", err), 1,
		       "%s is refused", bad[i].what);
		ok(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "%s: \"%s\" starts with %s",
		   bad[i].what, err, bad[i].want);
	}
	err[0] = '\0';
	config_load_text(c, "max_depth = 99\n", 15, "x.conf", err);
	ok(has(err, "max_depth"), "a file bounds error names the setting: %s", err);
	config_load_text(c, "bogus = 1\n", 10, "x.conf", err);
	ok(has(err, "bogus"), "a file unknown-setting error names it: %s", err);

	/* NUL bytes. */
	{
		static const char nul[] = "db = a\nkey = b\0c\n";
		err[0] = '\0';
		is_int(config_load_text(c, nul, sizeof(nul) - 1, "n.conf", err), 1,
		       "a NUL byte is refused");
		ok(has(err, "n.conf:2:") && has(err, "NUL"), "and reported on its line: %s", err);
		static const char nul2[] = "# a comment with \0 inside\n";
		is_int(config_load_text(c, nul2, sizeof(nul2) - 1, "n.conf", err), 1,
		       "a NUL byte in a comment is refused too");
	}

	/* Over-long lines. */
	{
		size_t n = CONFIG_MAX_VALUE + 200;
		char *t = malloc(n + 32);
		int len = snprintf(t, n + 32, "db = x\ndb = ");
		memset(t + len, 'a', n);
		t[len + n] = '\n';
		err[0] = '\0';
		is_int(config_load_text(c, t, (size_t)len + n + 1, "l.conf", err), 1,
		       "an over-long line is refused");
		ok(has(err, "l.conf:2:") && has(err, "too long"), "and reported: %s", err);
		/* A value just under the cap in a line that fits. */
		len = snprintf(t, n + 32, "db = ");
		memset(t + len, 'b', CONFIG_MAX_VALUE - 1);
		t[len + CONFIG_MAX_VALUE - 1] = '\n';
		err[0] = '\0';
		is_int(config_load_text(c, t, (size_t)len + CONFIG_MAX_VALUE, "l.conf", err), 0,
		       "a %d-byte value on its line is accepted (%s)", CONFIG_MAX_VALUE - 1, err);
		is_int(strlen(c->db), CONFIG_MAX_VALUE - 1, "and stored whole");
		free(t);
	}

	/* Whole-text cap. */
	{
		size_t n = CONFIG_MAX_FILE + 1;
		char *t = malloc(n);
		memset(t, '\n', n);
		err[0] = '\0';
		is_int(config_load_text(c, t, n, "big.conf", err), 1,
		       "a text over the cap is refused");
		ok(has(err, "big.conf"), "the error names the file: %s", err);
		is_int(config_load_text(c, t, n - 1, "big.conf", err), 0,
		       "a text exactly at the cap is read");
		free(t);
	}
	config_free(c);
}

static void test_file(void)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX], path[300];
	static const char text[] = "# test\nthreads = 4\n\nrate_limit = 0\n";
	int r;

	config_new(&c);
	snprintf(path, sizeof(path), "%s/good.conf", fx.dir);
	write_file(path, text, sizeof(text) - 1);
	is_int(config_load_file(c, path, err), 0, "config_load_file reads a file");
	is_int(c->threads, 4, "threads from the file");
	is_int(c->rate_limit, 0, "rate_limit 0 from the file");

	snprintf(path, sizeof(path), "%s/bad.conf", fx.dir);
	write_file(path, "threads = 4\nthreads = 65\n", 25);
	err[0] = '\0';
	is_int(config_load_file(c, path, err), 1, "a bad file is refused");
	{
		char want[320];
		snprintf(want, sizeof(want), "%s:2: ", path);
		ok(strncmp(err, want, strlen(want)) == 0, "error starts with path:line: %s", err);
		ok(has(err, "threads"), "and names the setting");
	}

	snprintf(path, sizeof(path), "%s/missing.conf", fx.dir);
	err[0] = '\0';
	r = config_load_file(c, path, err);
	is_int(r, -ENOENT, "a missing file is -ENOENT");
	ok(has(err, path), "and the error names it: %s", err);

	/* A file larger than the cap is detected, not silently truncated. */
	{
		size_t n = CONFIG_MAX_FILE + 10;
		char *t = malloc(n);
		memset(t, '#', n);
		snprintf(path, sizeof(path), "%s/big.conf", fx.dir);
		write_file(path, t, n);
		free(t);
		err[0] = '\0';
		is_int(config_load_file(c, path, err), 1, "an oversized file is refused");
		ok(has(err, path), "naming the file: %s", err);
	}
	config_free(c);
}

static void test_check(void)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX];

	static const char *const good_listen[] = {"127.0.0.1:8080", "[::1]:8080", "localhost:80",
						  "0.0.0.0:1", "[::]:65535"};
	static const char *const bad_listen[] = {"8080",
						 "127.0.0.1",
						 "[::1]",
						 "::1",
						 "example.org:80",
						 "127.0.0.1:65536",
						 "127.0.0.1:-1",
						 "127.0.0.1:http",
						 ":8080",
						 "[::1]8080",
						 "127.0.0.1:",
						 "127.0.0.1:80 ",
						 "",
						 "1.2.3:80",
						 "[::1:8080"};
	static const char *const good_origins[] = {
	    "", "https://blog.example.nl", "http://a.example https://b.example:8443",
	    "https://a.example,https://b.example", "http://[::1]:8080"};
	static const char *const bad_origins[] = {"blog.example.nl",
						  "https://blog.example.nl/",
						  "https://blog.example.nl/path",
						  "ftp://blog.example.nl",
						  "https://",
						  "https://user@blog.example.nl",
						  "https://blog.example.nl?x",
						  "https://a.example javascript:alert(1)"};
	static const char *const good_proxies[] = {"", "127.0.0.1", "10.0.0.0/8, ::1",
						   "192.168.0.0/16 fd00::/8", "0.0.0.0/0"};
	static const char *const bad_proxies[] = {"10.0.0.0/33", "abc",	     "10.0.0.0/",
						  "10.0.0.0/8x", "::1/129",  "10.0.0.1 nope",
						  "10.0.0.0/-1", "localhost"};

	config_new(&c);
	for (size_t i = 0; i < sizeof(good_listen) / sizeof(*good_listen); i++) {
		config_set(c, "listen", good_listen[i], err);
		is_int(config_check(c, err), 0, "listen %s passes", good_listen[i]);
	}
	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(*bad_listen); i++) {
		config_set(c, "listen", bad_listen[i], err);
		err[0] = '\0';
		is_int(config_check(c, err), 1, "listen \"%s\" fails", bad_listen[i]);
		ok(has(err, "listen"), "the error names listen: %s", err);
	}
	config_set(c, "listen", "127.0.0.1:8080", err);
	for (size_t i = 0; i < sizeof(good_origins) / sizeof(*good_origins); i++) {
		config_set(c, "site_origins", good_origins[i], err);
		is_int(config_check(c, err), 0, "site_origins \"%s\" passes", good_origins[i]);
	}
	for (size_t i = 0; i < sizeof(bad_origins) / sizeof(*bad_origins); i++) {
		config_set(c, "site_origins", bad_origins[i], err);
		err[0] = '\0';
		is_int(config_check(c, err), 1, "site_origins \"%s\" fails", bad_origins[i]);
		ok(has(err, "site_origins"), "the error names site_origins: %s", err);
	}
	config_set(c, "site_origins", "", err);
	for (size_t i = 0; i < sizeof(good_proxies) / sizeof(*good_proxies); i++) {
		config_set(c, "trusted_proxies", good_proxies[i], err);
		is_int(config_check(c, err), 0, "trusted_proxies \"%s\" passes", good_proxies[i]);
	}
	for (size_t i = 0; i < sizeof(bad_proxies) / sizeof(*bad_proxies); i++) {
		config_set(c, "trusted_proxies", bad_proxies[i], err);
		err[0] = '\0';
		is_int(config_check(c, err), 1, "trusted_proxies \"%s\" fails", bad_proxies[i]);
		ok(has(err, "trusted_proxies"), "the error names trusted_proxies: %s", err);
	}
	config_set(c, "trusted_proxies", "", err);
	config_set(c, "db", "", err);
	err[0] = '\0';
	is_int(config_check(c, err), 1, "an empty db fails");
	ok(has(err, "db"), "naming db: %s", err);
	config_set(c, "db", "x.db", err);
	config_set(c, "key", "", err);
	err[0] = '\0';
	is_int(config_check(c, err), 1, "an empty key fails");
	ok(has(err, "key"), "naming key: %s", err);
	config_set(c, "key", "k", err);
	/* backup_dir's copies are SQLite files: refused with a PostgreSQL db. */
	config_set(c, "backup_dir", "/var/backups/commentd", err);
	err[0] = '\0';
	is_int(config_check(c, err), 0, "backup_dir with a SQLite db passes (%s)", err);
	config_set(c, "db", "postgresql://commentd@db.example/commentd", err);
	is_int(config_check(c, err), 1, "backup_dir with a PostgreSQL db fails");
	ok(has(err, "backup_dir") && has(err, "pg_dump"), "naming backup_dir and pg_dump: %s", err);
	config_set(c, "backup_dir", "", err);
	err[0] = '\0';
	is_int(config_check(c, err), 0, "a PostgreSQL db without backup_dir passes (%s)", err);
	/* compact_hour: an hour of the day; a pass must fall in it. */
	is_int(config_set(c, "compact_hour", "23", err), 0, "compact_hour 23 is an hour");
	is_int(config_set(c, "compact_hour", "24", err), 1, "compact_hour 24 is refused");
	ok(has(err, "compact_hour"), "naming compact_hour: %s", err);
	config_set(c, "compact_hour", "4", err);
	config_set(c, "maintenance_interval", "7200", err);
	err[0] = '\0';
	is_int(config_check(c, err), 1, "passes two hours apart with a PostgreSQL db fail");
	ok(has(err, "maintenance_interval") && has(err, "compact_hour"),
	   "naming maintenance_interval and compact_hour: %s", err);
	config_set(c, "db", "x.db", err);
	err[0] = '\0';
	is_int(config_check(c, err), 0, "  and pass with a SQLite db (%s)", err);
	config_set(c, "maintenance_interval", "3600", err);
	{
		/* The reader-facing addresses (public_url, privacy_url,
		 * privacy_contact): they go into pages, JSON and feeds. */
		static const struct {
			const char *name, *value;
			int want;
		} urls[] = {
		    {"public_url", "https://comments.example.nl", 0},
		    {"public_url", "http://127.0.0.1:8080/comments", 0},
		    {"public_url", "https://comments.example.nl/", 1},
		    {"public_url", "comments.example.nl", 1},
		    {"public_url", "https://", 1},
		    {"public_url", "https://a.example/\"onclick", 1},
		    {"public_url", "javascript:alert(1)", 1},
		    {"privacy_url", "https://blog.example.nl/privacy/", 0},
		    {"privacy_url", "https://blog.example.nl/a b", 1},
		    {"privacy_url", "ftp://blog.example.nl/p", 1},
		    {"privacy_contact", "privacy@example.nl", 0},
		    {"privacy_contact", "https://blog.example.nl/contact", 0},
		    {"privacy_contact", "Anna <anna@example.nl>", 1},
		    {"privacy_contact", "not an address", 1},
		    {"privacy_contact", "@example.nl", 1},
		};
		for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
			config_set(c, urls[i].name, urls[i].value, err);
			err[0] = '\0';
			is_int(config_check(c, err), urls[i].want, "%s \"%s\" %s", urls[i].name,
			       urls[i].value, urls[i].want ? "fails" : "passes");
			if (urls[i].want)
				ok(has(err, urls[i].name), "  naming %s: %s", urls[i].name, err);
			config_set(c, urls[i].name, "", err);
		}
	}
	config_free(c);
}

/* The notification settings' cross-checks (docs/notifications.md). */
static void test_notify_checks(void)
{
	static const struct {
		const char *text;
		int want;
		const char *why;
	} cases[] = {
	    {"", 0, "notifications off by default"},
	    {"language = nl\n", 0, "language nl"},
	    {"language = fr\n", -1, "an unknown language is refused by config_set"},
	    {"smtp_url = smtp://127.0.0.1:25\nsmtp_from = a@b.nl\npublic_url = https://c.nl\n", 0,
	     "a complete mail set-up"},
	    {"smtp_url = smtp://127.0.0.1:25\npublic_url = https://c.nl\n", 1,
	     "smtp_url without smtp_from"},
	    {"smtp_url = smtp://127.0.0.1:25\nsmtp_from = a@b.nl\n", 1,
	     "smtp_url without public_url"},
	    {"smtp_url = http://x\nsmtp_from = a@b.nl\npublic_url = https://c.nl\n", 1,
	     "smtp_url must be smtp:// or smtps://"},
	    {"public_url = https://c.nl/\n", 1, "public_url with a trailing slash"},
	    {"public_url = ftp://c.nl\n", 1, "public_url must be http(s)"},
	    {"notify_moderators = a@b.nl\n", 1, "notify_moderators needs smtp_url"},
	    {"smtp_url = smtps://m.nl\nsmtp_from = B <a@b.nl>\npublic_url = https://c.nl\n"
	     "notify_moderators = x@y.nl, z@y.nl\n",
	     0, "moderators with a mail set-up"},
	    {"smtp_url = smtps://m.nl\nsmtp_from = a@b.nl\npublic_url = https://c.nl\n"
	     "notify_moderators = x@y.nl <z@y.nl>\n",
	     1, "a moderator list with brackets"},
	    {"webhook_url = https://hooks.example.org/x\nwebhook_secret = short\n", 1,
	     "a webhook needs a secret of 16 characters"},
	    {"webhook_url = https://hooks.example.org/x\nwebhook_secret = 0123456789abcdef\n", 0,
	     "a webhook with its secret"},
	};
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c = NULL;
		int r;
		config_new(&c);
		r = config_load_text(c, cases[i].text, strlen(cases[i].text), "t", err);
		if (r == 0)
			r = config_check(c, err);
		else
			r = -1;
		is_int(r, cases[i].want, "notify check: %s", cases[i].why);
		config_free(c);
	}
}

/* The notification settings of several blogs: each site's view must be
 * complete, and an error names the site. */
static void test_notify_sites(void)
{
	static const struct {
		const char *text;
		int want;
		const char *says, *why;
	} cases[] = {
	    {"smtp_url = smtp://127.0.0.1:25\nsmtp_from = a@b.nl\n"
	     "[site a]\norigins = https://a.nl\npublic_url = https://c.a.nl\n"
	     "[site b]\norigins = https://b.nl\npublic_url = https://c.b.nl\nlanguage = de\n",
	     0, NULL, "each site its own public_url, none at the top"},
	    {"smtp_url = smtp://127.0.0.1:25\nsmtp_from = a@b.nl\n"
	     "[site a]\norigins = https://a.nl\npublic_url = https://c.a.nl\n"
	     "[site b]\norigins = https://b.nl\n",
	     1, "t:6: [site b]: public_url must be set", "a site without public_url"},
	    {"smtp_url = smtp://127.0.0.1:25\npublic_url = https://c.nl\n"
	     "[site a]\norigins = https://a.nl\nsmtp_from = A <a@a.nl>\n"
	     "[site b]\norigins = https://b.nl\n",
	     1, "[site b]: smtp_from must be", "no sender at the top, and only one site has one"},
	    {"[site a]\norigins = https://a.nl\nnotify_moderators = m@a.nl\n", 1,
	     "[site a]: notify_moderators needs smtp_url", "moderators of a site without mail"},
	    {"[site a]\nwebhook_url = https://h.example/a\nwebhook_secret = short\n", 1,
	     "[site a]: webhook_secret must be", "a site's webhook with a short secret"},
	    {"webhook_url = https://h.example/all\nwebhook_secret = 0123456789abcdef\n"
	     "[site a]\nwebhook_url = https://h.example/a\n",
	     0, NULL, "a site's own webhook with the top-level secret"},
	    {"[site a]\nwebhook_url = \n", 0, NULL, "a site without a webhook"},
	    {"public_url = https://c.nl/"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "\n",
	     1, "public_url must be", "a public_url longer than 300 characters"},
	};
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c = NULL;
		int r;
		config_new(&c);
		err[0] = '\0';
		r = config_load_text(c, cases[i].text, strlen(cases[i].text), "t", err);
		if (r == 0)
			r = config_check(c, err);
		is_int(r, cases[i].want, "notify sites: %s (%s)", cases[i].why, err);
		if (cases[i].says)
			ok(strstr(err, cases[i].says) != NULL, "it says \"%s\": %s", cases[i].says,
			   err);
		config_free(c);
	}
	{
		struct config *c = NULL;
		config_new(&c);
		is_int(config_load_text(c, "[site a]\nsmtp_url = smtp://x\n", 27, "t", err), 1,
		       "smtp_url in a site is refused: the mail server is the daemon's");
		config_free(c);
	}
}

/* A config loaded from text (which must load). */
static struct config *loaded(const char *text)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX] = "";

	config_new(&c);
	if (config_load_text(c, text, strlen(text), "s.conf", err) != 0)
		diag("load failed: %s", err);
	return c;
}

static void test_sites_plain(void)
{
	struct config *c = loaded("site_origins = https://a.example\nmoderation = first\n");
	struct config *v = NULL;
	char err[CONFIG_ERR_MAX] = "";

	is_int(config_site_count(c), 1, "without sections there is one site");
	is_str(config_site_id(c, 0), "default", "called default");
	ok(!config_has_sections(c), "and no sections");
	ok(config_site_where(c, 0) == NULL, "the default site has no section");
	is_int(config_site_find(c, "default"), 0, "found by id");
	is_int(config_site_find(c, "other"), -1, "an unknown id is not found");
	is_int(config_site_view(c, 0, &v, err), 0, "its view builds (%s)", err);
	if (v) {
		is_str(v->site_origins, "https://a.example", "the view has the top-level origins");
		is_int(v->moderation, MODERATION_FIRST, "and the top-level settings");
		is_int(v->n_sections, 0, "a view has no sections");
	}
	config_free(v);
	is_int(config_check(c, err), 0, "it checks (%s)", err);
	config_free(c);
}

static void test_sites_sections(void)
{
	static const char text[] = "moderation = first\n"
				   "max_links = 4\n"
				   "site_origins = https://old.example\n"
				   "\n"
				   "[site blog]   # the first blog\n"
				   "origins = https://blog.example, https://www.blog.example\n"
				   "moderation = all\n"
				   "ham_cutoff = 0.5\n"
				   "moderation = none   # the last value wins\n"
				   "\n"
				   "[site   small.blog-2]\n"
				   "site_origins = https://small.example\n"
				   "blocklist_words = casino\n";
	struct config *c = NULL, *v = NULL;
	char err[CONFIG_ERR_MAX] = "";
	struct seen s = {0};

	c = loaded(
	    "[site a]\norigins = https://a.example\n[site  b ]\norigins = https://b.example\n");
	is_int(config_site_count(c), 2, "blanks around the id are fine");
	is_str(config_site_id(c, 1), "b", "and trimmed");
	config_free(c);
	c = loaded(text);
	is_int(config_site_count(c), 3, "two sections and the default (site_origins is set)");
	ok(config_has_sections(c), "sections");
	is_str(config_site_id(c, 0), "default", "the default site comes first");
	is_str(config_site_id(c, 1), "blog", "then the sections in file order");
	is_str(config_site_id(c, 2), "small.blog-2", "with their ids");
	is_str(config_site_where(c, 1), "s.conf:5", "a section knows where it starts");
	is_int(config_check(c, err), 0, "the file checks (%s)", err);

	is_int(config_site_view(c, 1, &v, err), 0, "blog's view (%s)", err);
	if (v) {
		is_str(v->site_origins, "https://blog.example, https://www.blog.example",
		       "origins = sets the site's origins");
		is_int(v->moderation, MODERATION_NONE, "an override applies; the last one wins");
		ok(v->ham_cutoff == 0.5, "a per-site cut-off");
		is_int(v->max_links, 4, "what the site does not set comes from the top level");
	}
	config_free(v);
	v = NULL;
	is_int(config_site_view(c, 2, &v, err), 0, "small.blog-2's view");
	if (v) {
		is_str(v->site_origins, "https://small.example",
		       "site_origins works in a section too");
		is_int(v->moderation, MODERATION_FIRST, "moderation from the top level");
		is_str(v->blocklist_words, "casino", "its own blocklist");
	}
	config_free(v);
	v = NULL;
	is_int(config_site_view(c, 0, &v, err), 0, "the default site's view");
	if (v) {
		is_str(v->site_origins, "https://old.example", "has the top-level origins");
		is_str(v->blocklist_words, "", "and no other site's settings");
	}
	config_free(v);
	config_site_each(c, 1, collect, &s);
	is_int(s.n, 4, "config_site_each lists blog's own settings");
	is_str(s.names[0], "origins", "origins under its section name");
	is_str(s.values[3], "none", "in file order");
	s.n = 0;
	config_site_each(c, 0, collect, &s);
	is_int(s.n, 0, "nothing for the implicit default");
	config_free(c);

	/* Without top-level origins there is no default site. */
	c = loaded("[site one]\norigins = https://one.example\n");
	is_int(config_site_count(c), 1, "one section, no site_origins: one site");
	is_str(config_site_id(c, 0), "one", "the section");
	is_int(config_site_find(c, "default"), -1, "no default site");
	v = NULL;
	is_int(config_site_view(c, 0, &v, err), 0, "view");
	config_free(v);
	config_free(c);

	/* [site default] is the default site written out. */
	c = loaded("[site default]\norigins = https://d.example\n[site x]\n");
	is_int(config_site_count(c), 2, "[site default] and another");
	is_int(config_site_find(c, "default"), 0, "the default section is the default site");
	is_int(config_check(c, err), 0, "checks (%s)", err);
	v = NULL;
	config_site_view(c, 1, &v, err);
	ok(v && strcmp(v->site_origins, "") == 0, "a section without origins has none");
	config_free(v);
	config_free(c);
}

static void test_sites_errors(void)
{
	static const struct {
		const char *text, *want, *what;
	} bad[] = {
	    {"[site]\n", "e.conf:1: ", "a header without id"},
	    {"db = x\n[place blog]\n", "e.conf:2: ", "an unknown section"},
	    {"[site Blog]\n", "e.conf:1: ", "an upper-case id"},
	    {"[site -a]\n", "e.conf:1: ", "an id starting with '-'"},
	    {"[site a b]\n", "e.conf:1: ", "an id with a space"},
	    {"[site a\n", "e.conf:1: ", "an unclosed header"},
	    {"[ site a]\n", "e.conf:1: ", "a blank after '['"},
	    {"[site a]\n\n[site a]\n", "e.conf:3: ", "a site defined twice"},
	    {"[site a]\nlisten = 127.0.0.1:80\n", "e.conf:2: ", "a daemon-wide setting in a site"},
	    {"[site a]\nthreads = 2\n", "e.conf:2: ", "threads in a site"},
	    {"[site a]\nmax_depth = 0\n", "e.conf:2: ", "a bound in a site"},
	    {"[site a]\nmoderation = maybe\n", "e.conf:2: ", "a bad choice in a site"},
	    {"[site a]\nno_such = 1\n", "e.conf:2: ", "an unknown setting in a site"},
	    {"[site a]\njust words\n", "e.conf:2: ", "a line without '=' in a site"},
	};
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *c = NULL;
		config_new(&c);
		err[0] = '\0';
		is_int(config_load_text(c, bad[i].text, strlen(bad[i].text), "e.conf", err), 1,
		       "%s is refused", bad[i].what);
		ok(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "%s: \"%s\" starts with %s",
		   bad[i].what, err, bad[i].want);
		config_free(c);
	}
	{
		struct config *c = NULL;
		config_new(&c);
		config_load_text(c, "[site a]\nlisten = x\n", 20, "e.conf", err);
		ok(has(err, "listen") && has(err, "whole daemon"), "says why: %s", err);
		config_free(c);
	}
	{
		char big[(CONFIG_SITES_MAX + 1) * 16];
		size_t o = 0;
		struct config *c = NULL;
		for (int i = 0; i <= CONFIG_SITES_MAX; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o, "[site s%d]\n", i);
		config_new(&c);
		err[0] = '\0';
		is_int(config_load_text(c, big, o, "e.conf", err), 1, "more than %d sites refused",
		       CONFIG_SITES_MAX);
		ok(has(err, "e.conf:257:"), "on the line that is one too many: %s", err);
		config_free(c);
	}

	/* Cross-setting rules per site, named by the section's place. */
	static const struct {
		const char *text, *want, *what;
	} check[] = {
	    {"[site a]\norigins = https://a.example\n[site b]\norigins = https://A.example\n",
	     "belongs to two sites, a and b", "an origin in two sites"},
	    {"site_origins = https://a.example\n[site b]\norigins = https://a.example\n",
	     "belongs to two sites, default and b", "the default site's origin in a section"},
	    {"\n[site a]\nham_cutoff = 0.999\n", "s.conf:2: [site a]: the cut-offs",
	     "cut-offs out of order in a site"},
	    {"[site a]\norigins = blog.example\n", "s.conf:1: [site a]: site_origins",
	     "a bad origin in a site"},
	    {"[site a]\nblocklist_networks = 10.0.0.0/99\n", "[site a]: blocklist_networks",
	     "a bad network list in a site"},
	    {"[site a]\nallowlist_emails = nothex\n", "[site a]: allowlist_emails",
	     "a bad allowlist in a site"},
	    {"site_origins = https://a.example\n[site default]\norigins = https://b.example\n",
	     "[site default]", "site_origins with a [site default] section"},
	};
	for (size_t i = 0; i < sizeof(check) / sizeof(check[0]); i++) {
		struct config *c = loaded(check[i].text);
		err[0] = '\0';
		is_int(config_check(c, err), 1, "%s fails config_check", check[i].what);
		ok(has(err, check[i].want), "%s: \"%s\" says %s", check[i].what, err,
		   check[i].want);
		config_free(c);
	}
}

static void test_per_site_flag(void)
{
	static const char *const per_site[] = {"site_origins",
					       "moderation",
					       "max_links",
					       "blocklist_words",
					       "blocklist_domains",
					       "blocklist_networks",
					       "allowlist_emails",
					       "max_depth",
					       "ham_cutoff",
					       "spam_cutoff",
					       "discard_cutoff",
					       "min_learned",
					       "public_url",
					       "language",
					       "smtp_from",
					       "notify_moderators",
					       "notify_digest_minutes",
					       "notify_retention_days",
					       "webhook_url",
					       "webhook_secret"};
	static const char *const global[] = {"listen",
					     "db",
					     "key",
					     "threads",
					     "trusted_proxies",
					     "rate_limit",
					     "backup_dir",
					     "honeypot_field",
					     "smtp_url",
					     "smtp_credential",
					     "notify_retry_seconds"};

	for (size_t i = 0; i < sizeof(per_site) / sizeof(per_site[0]); i++)
		ok(config_setting_per_site(per_site[i]), "%s may be set per site", per_site[i]);
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		ok(!config_setting_per_site(global[i]), "%s is daemon-wide", global[i]);
	ok(!config_setting_per_site("no_such"), "an unknown name is not per site");
	ok(config_site_id_valid("a") && config_site_id_valid("blog.example-2_x"), "valid site ids");
	ok(!config_site_id_valid("") && !config_site_id_valid("_a") &&
	       !config_site_id_valid("a/b") && !config_site_id_valid("A"),
	   "invalid site ids");
	{
		char id[CONFIG_SITE_ID_MAX + 2];
		memset(id, 'a', sizeof(id) - 1);
		id[sizeof(id) - 1] = '\0';
		ok(!config_site_id_valid(id), "an id of %d bytes is too long",
		   CONFIG_SITE_ID_MAX + 1);
		id[CONFIG_SITE_ID_MAX] = '\0';
		ok(config_site_id_valid(id), "%d bytes fit", CONFIG_SITE_ID_MAX);
	}
}

static void test_docs(void)
{
	static const char path[] = SOURCE_ROOT "/docs/configuration.md";
	struct config *c = NULL;
	struct seen s = {0};
	FILE *f;
	char *doc = NULL;
	size_t len = 0;

	config_new(&c);
	config_each(c, collect, &s);
	f = fopen(path, "r");
	ok(f != NULL, "docs/configuration.md exists (%s)", path);
	if (f) {
		doc = calloc(1, 1 << 20);
		len = fread(doc, 1, (1 << 20) - 1, f);
		fclose(f);
		ok(len > 0, "docs/configuration.md is not empty");
	}
	for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
		ok(doc && has_word(doc, s.names[i]), "docs/configuration.md documents %s",
		   s.names[i]);
	/* The paragraph that lists the per-site settings names exactly those. */
	{
		const char *start = doc ? strstr(doc, "The per-site settings are:") : NULL;
		const char *end = start ? strstr(start, "\n\n") : NULL;
		char *block = NULL;

		ok(start && end, "docs/configuration.md lists the per-site settings");
		if (start && end)
			block = strndup(start, (size_t)(end - start));
		for (size_t i = 0; block && i < s.n && i < MAX_SEEN; i++) {
			bool listed = has_word(block, s.names[i]);
			ok(listed == config_setting_per_site(s.names[i]),
			   "%s is %slisted as a per-site setting", s.names[i],
			   config_setting_per_site(s.names[i]) ? "" : "not ");
		}
		free(block);
	}
	/* The check can fail: a made-up name, or a prefix of a longer word. */
	ok(!has_word("the max_text_limit setting", "max_text"), "has_word needs a whole word");
	ok(has_word("`max_text` (default 10000)", "max_text"), "has_word finds a code span");
	ok(!doc || !has_word(doc, "no_such_setting_zz"), "an undocumented name is not found");
	free(doc);
	config_free(c);
}

int main(void)
{
	if (fixture_tmpdir(&fx, "config") != 0)
		return 1;
	test_defaults();
	test_set();
	test_each();
	test_text();
	test_file();
	test_check();
	test_notify_checks();
	test_notify_sites();
	test_sites_plain();
	test_sites_sections();
	test_sites_errors();
	test_per_site_flag();
	test_docs();

	fixture_close(&fx);
	return done_testing();
}
