/* env: what every commentctl command shares: the common options, the
 * configuration, the key and the store, and line input. */
#include "ctl.h"

#include "config.h"
#include "keys.h"
#include "nodes.h"
#include "store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTIONS 48

/* The options every command accepts. */
static const struct option common_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'd'},
    {"key", required_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
};
#define N_COMMON (sizeof(common_options) / sizeof(common_options[0]))

/* The shared --site option of commands that act on comments. */
static const struct option site_options[] = {
    {"site", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* Appends the NULL-terminated table own to out[*n..]. */
static int append_options(const struct option *own, struct option *out, size_t *n)
{
	for (; own && own->name; own++) {
		if (*n + 1 >= MAX_OPTIONS)
			return -1;
		out[(*n)++] = *own;
	}
	return 0;
}

/* common_options followed by the command's own, NULL-terminated. */
static int merge_options(const struct ctl_spec *spec, struct option *out)
{
	size_t n = 0;

	for (size_t i = 0; i < N_COMMON; i++)
		out[n++] = common_options[i];
	if (append_options(spec->options, out, &n) < 0 ||
	    append_options(spec->more_options, out, &n) < 0 ||
	    (spec->sites && append_options(site_options, out, &n) < 0))
		return -1;
	memset(&out[n], 0, sizeof(out[n]));
	return 0;
}

struct paths {
	const char *config, *db, *key;
};

/* One --site: a well-formed id, named once.  0 or -1 (printed). */
static int add_site(struct ctl_env *e, const char *id)
{
	if (!config_site_id_valid(id)) {
		fprintf(stderr, "commentctl: --site takes a site id (a-z, 0-9, '.', '_', '-')\n");
		return -1;
	}
	for (size_t i = 0; i < e->n_sites; i++) {
		if (strcmp(e->sites[i], id) == 0)
			return 0;
	}
	if (e->n_sites == CTL_SITES_MAX) {
		fprintf(stderr, "commentctl: at most %d --site options\n", CTL_SITES_MAX);
		return -1;
	}
	e->sites[e->n_sites++] = id;
	return 0;
}

/* The --site ids as a scope, and a word about ids the --config file does
 * not define (a typo, or a site whose section was removed).  CTL_OK or
 * CTL_FAIL. */
static int site_scope(struct ctl_env *e, const char *config_path)
{
	json_t *list;

	if (!e->n_sites)
		return CTL_OK;
	list = json_array();
	for (size_t i = 0; list && i < e->n_sites; i++) {
		if (config_path && config_site_find(e->cfg, e->sites[i]) < 0)
			fprintf(stderr, "commentctl: note: %s defines no site %s\n", config_path,
				e->sites[i]);
		if (json_array_append_new(list, json_string(e->sites[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	e->scope = list ? json_dumps(list, JSON_COMPACT) : NULL;
	json_decref(list);
	return e->scope ? CTL_OK : CTL_FAIL;
}

/* Runs getopt over argv; fills p and e's operands.  CTL_OK or a status. */
static int parse(struct ctl_env *e, const struct ctl_spec *spec, int argc, char **argv,
		 struct paths *p)
{
	struct option opts[MAX_OPTIONS];
	int opt, r;

	if (merge_options(spec, opts) < 0)
		return CTL_FAIL;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			p->config = optarg;
			break;
		case 'd':
			p->db = optarg;
			break;
		case 'k':
			p->key = optarg;
			break;
		case 'S':
			if (add_site(e, optarg) != 0)
				return CTL_USAGE;
			break;
		case 'h':
			printf("%s", spec->usage);
			return CTL_HELP;
		case '?':
			fprintf(stderr, "%s", spec->usage);
			return CTL_USAGE;
		default:
			r = spec->option ? spec->option(spec->ctx, opt, optarg) : CTL_USAGE;
			if (r != 0)
				return CTL_USAGE;
		}
	}
	e->noperands = argc - optind;
	e->operands = argv + optind;
	if (e->noperands < spec->min_operands || e->noperands > spec->max_operands) {
		if (e->noperands > spec->max_operands)
			fprintf(stderr, "commentctl: unexpected argument '%s'\n",
				e->operands[spec->max_operands]);
		fprintf(stderr, "%s", spec->usage);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* A bare key name in a configuration file is the systemd credential the
 * unit loads (LoadCredential=); run by hand, commentctl finds that file in
 * $CREDENTIALS_DIRECTORY or next to the configuration file. */
static int resolve_key(struct ctl_env *e, const char *config_path, char *err)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	const char *slash = strrchr(config_path, '/');
	char path[4096];

	if (strchr(e->cfg->key, '/') || access(e->cfg->key, R_OK) == 0)
		return 0;
	if (creds &&
	    snprintf(path, sizeof(path), "%s/%s", creds, e->cfg->key) < (int)sizeof(path) &&
	    access(path, R_OK) == 0)
		return config_set(e->cfg, "key", path, err);
	if (slash &&
	    snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - config_path), config_path,
		     e->cfg->key) < (int)sizeof(path) &&
	    access(path, R_OK) == 0)
		return config_set(e->cfg, "key", path, err);
	return 0;
}

/* The configuration: defaults, then --config's file, then --db and --key. */
static int load_config(struct ctl_env *e, const struct paths *p)
{
	char err[CONFIG_ERR_MAX];

	if (config_new(&e->cfg) < 0)
		return CTL_FAIL;
	if (p->config && (config_load_file(e->cfg, p->config, err) != 0 ||
			  (!p->key && resolve_key(e, p->config, err) != 0))) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	if ((p->db && config_set(e->cfg, "db", p->db, err) != 0) ||
	    (p->key && config_set(e->cfg, "key", p->key, err) != 0)) {
		fprintf(stderr, "commentctl: %s\n", err);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* A command that reads or writes keyed data (e-mail hashes, tokens, site
 * keys, sealed values) under another key than the database's would write
 * what no node can match: the daemon's start-up check (lib/nodes.h), run
 * before the command does anything.  CTL_OK or CTL_FAIL (said). */
static int key_check(struct ctl_env *e)
{
	struct store_conn *c = store_acquire(e->store);
	int r = nodes_key_check_silent(c, e->keys);

	store_release(e->store, c);
	if (r == NODES_KEY_MISMATCH)
		fprintf(stderr,
			"commentctl: the key %s is not the one the database was first used with; "
			"nothing done (use commentd's key file)\n",
			e->cfg->key);
	else if (r != 0)
		fprintf(stderr, "commentctl: cannot check the key against the database\n");
	return r == 0 ? CTL_OK : CTL_FAIL;
}

int ctl_env_open(struct ctl_env *e, const struct ctl_spec *spec, int argc, char **argv)
{
	struct paths p = {0};
	int r, need;

	memset(e, 0, sizeof(*e));
	r = parse(e, spec, argc, argv, &p);
	if (r != CTL_OK)
		return r;
	need = spec->need_of ? spec->need_of(spec->ctx) : (int)spec->need;
	if (need < 0)
		return CTL_USAGE;
	r = load_config(e, &p);
	if (r == CTL_OK)
		r = site_scope(e, p.config);
	if (r != CTL_OK)
		return r;
	if ((need & (CTL_NEED_DB | CTL_WANT_DB)) && !p.db && !p.config) {
		fprintf(stderr, "commentctl: say which database: --db PATH or --config FILE\n");
		return CTL_USAGE;
	}
	if (need & CTL_NEED_KEY) {
		if (!p.key && !p.config) {
			fprintf(stderr, "commentctl: this needs the secret key: --key PATH or "
					"--config FILE\n");
			return CTL_USAGE;
		}
		if (keys_new(&e->keys, e->cfg->key) != 0) {
			fprintf(stderr, "commentctl: cannot read the key %s\n", e->cfg->key);
			return CTL_FAIL;
		}
	}
	if (need & CTL_NEED_DB) {
		r = store_new(&e->store, e->cfg->db, 1);
		if (r != 0) {
			char shown[512];
			fprintf(stderr, "commentctl: cannot open %s%s\n",
				store_db_display(e->cfg->db, shown, sizeof(shown)),
				r == STORE_TOO_NEW ? " (database is newer than this commentctl)"
						   : "");
			return CTL_FAIL;
		}
		if (need & CTL_NEED_KEY)
			return key_check(e);
	}
	return CTL_OK;
}

void ctl_env_close(struct ctl_env *e)
{
	free(e->scope);
	e->scope = NULL;
	e->store = store_free(e->store);
	e->keys = keys_free(e->keys);
	e->cfg = config_free(e->cfg);
}

int ctl_exit(int r)
{
	return r == CTL_HELP ? CTL_OK : r;
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
