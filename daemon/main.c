/* commentd: argv, configuration, key, signals, systemd, and the HTTP server. */
#include "server.h"

#include "log.h"
#include "maintenance.h"
#include "nodes.h"
#include "notify.h"
#include "sdnotify.h"
#include "sender.h"

#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_GRACE_SECONDS 10

static void usage(FILE *f)
{
	fprintf(f, "usage: commentd [--config FILE] [--listen ADDR:PORT] [--db PATH] [--key PATH]\n"
		   "                [--set NAME=VALUE]... [-n]\n"
		   "       commentd --keygen PATH\n"
		   "\n"
		   "  -c, --config FILE   read settings from FILE (see commentd.conf(5))\n"
		   "  -l, --listen A:P    listen address (ignored under socket activation)\n"
		   "      --db PATH       SQLite database file\n"
		   "  -k, --key PATH      32-byte secret key file\n"
		   "  -s, --set N=V       set any setting from the command line\n"
		   "  -n                  check the configuration and key, then exit\n"
		   "      --keygen PATH   write a new secret key (mode 0600) and exit\n"
		   "  -V, --version       print the version\n");
}

#define MAX_OVERRIDES 64

/* Settings from the command line, applied after the file's. */
struct overrides {
	const char *names[MAX_OVERRIDES];
	const char *values[MAX_OVERRIDES];
	size_t n;
};

static int add_override(struct overrides *o, const char *name, const char *value)
{
	if (o->n == MAX_OVERRIDES) {
		fprintf(stderr, "commentd: at most %d settings on the command line\n",
			MAX_OVERRIDES);
		return 1;
	}
	o->names[o->n] = name;
	o->values[o->n] = value;
	o->n++;
	return 0;
}

static void print_setting(const char *name, const char *value, void *u)
{
	(void)u;
	printf("%s = %s\n", name, value);
}

/* Reads the configuration: defaults, then the file, then the flags. */
static int load_config(struct config **out, const char *path, const struct overrides *o)
{
	char err[CONFIG_ERR_MAX];
	struct config *cfg = NULL;
	int r;

	r = config_new(&cfg);
	if (r < 0)
		return r;
	if (path) {
		r = config_load_file(cfg, path, err);
		if (r != 0) {
			log_err("config: %s", err);
			goto fail;
		}
	}
	for (size_t i = 0; i < o->n; i++) {
		r = config_set(cfg, o->names[i], o->values[i], err);
		if (r != 0) {
			log_err("config: --%s: %s", o->names[i], err);
			goto fail;
		}
	}
	r = config_check(cfg, err);
	if (r != 0) {
		log_err("config: %s", err);
		goto fail;
	}
	*out = cfg;
	return 0;
fail:
	config_free(cfg);
	return r ? r : 1;
}

static void apply_runtime(struct server *s, const struct config *cfg)
{
	enum log_level level = LOG_LEVEL_INFO;

	log_level_parse(cfg->log_level, &level);
	log_set_level(level);
	ratelimit_configure(s->post_limit, cfg->rate_limit, cfg->rate_burst);
	ratelimit_configure(s->like_limit, cfg->like_rate_limit, LIKE_BURST);
	guard_configure(s, cfg);
}

static void reload(struct server *s, const char *config_path, const struct overrides *o)
{
	struct classify_settings cs;
	struct config *cfg = NULL;
	struct snapshot *snap = NULL;

	sdnotify("RELOADING=1");
	if (load_config(&cfg, config_path, o) != 0) {
		log_err("reload: the new configuration is invalid; keeping the old one");
		goto out;
	}
	if (strcmp(cfg->db, s->snap->cfg->db) != 0 || strcmp(cfg->key, s->snap->cfg->key) != 0 ||
	    strcmp(cfg->listen, s->snap->cfg->listen) != 0 || cfg->threads != s->snap->cfg->threads)
		log_warn("reload: db, key, listen and threads take effect only after a restart");
	if (snapshot_new(&snap, cfg) != 0) {
		config_free(cfg);
		goto out;
	}
	apply_runtime(s, cfg);
	/* The classifier's own settings are the top level's (the starter
	 * switch); each site's cut-offs apply per decision (lib/submit). */
	site_classify_settings(cfg, &cs);
	classifier_configure(s->classifier, &cs);
	server_set_snapshot(s, snap);
	log_info("reload: configuration reloaded (%zu site%s)", site_set_count(snap->sites),
		 site_set_count(snap->sites) == 1 ? "" : "s");
out:
	sdnotify("READY=1");
}

/* What the command line asks for. */
struct args {
	struct overrides o;
	const char *config_path;
	const char *keygen;
	bool check_only;
};

/* One option into a.  0, or an exit status (2 usage, -1: exit 0). */
static int parse_option(int opt, char *arg, struct args *a)
{
	char *eq;

	switch (opt) {
	case 'c':
		a->config_path = arg;
		return 0;
	case 'l':
		return add_override(&a->o, "listen", arg) ? 2 : 0;
	case 'D':
		return add_override(&a->o, "db", arg) ? 2 : 0;
	case 'k':
		return add_override(&a->o, "key", arg) ? 2 : 0;
	case 's':
		eq = strchr(arg, '=');
		if (!eq) {
			fprintf(stderr, "commentd: --set wants NAME=VALUE\n");
			return 2;
		}
		*eq = '\0';
		return add_override(&a->o, arg, eq + 1) ? 2 : 0;
	case 'G':
		a->keygen = arg;
		return 0;
	case 'n':
		a->check_only = true;
		return 0;
	case 'h':
		usage(stdout);
		return -1;
	case 'V':
		printf("commentd %s\n", COMMENTD_VERSION);
		return -1;
	default:
		usage(stderr);
		return 2;
	}
}

/* 0, or an exit status as parse_option. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option long_opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'D'},
	    {"key", required_argument, NULL, 'k'},
	    {"set", required_argument, NULL, 's'},
	    {"keygen", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, "c:l:k:s:nhV", long_opts, NULL)) != -1) {
		r = parse_option(opt, optarg, a);
		if (r != 0)
			return r;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The master key: the configured file, or under systemd the credential of
 * that name.  0 or non-zero (logged). */
static int open_keys(const struct config *cfg, struct keys **out)
{
	const char *cred_dir = getenv("CREDENTIALS_DIRECTORY");
	const char *key_path = cfg->key;
	char cred_path[4096];
	int r;

	if (cred_dir && strchr(cfg->key, '/') == NULL) {
		snprintf(cred_path, sizeof(cred_path), "%s/%s", cred_dir, cfg->key);
		if (access(cred_path, R_OK) == 0)
			key_path = cred_path;
	}
	r = keys_new(out, key_path);
	if (r != 0)
		log_err("refusing to start without a valid secret key");
	return r;
}

/* What this node shares with the others of its database (lib/nodes.h):
 * the key must be the database's, and the ETag key is read (PostgreSQL)
 * or drawn (SQLite).  0 or -1 (logged). */
static int nodes_open(struct server *s)
{
	struct store_conn *c = store_acquire(s->store);
	int r = nodes_key_check(c, s->keys);

	if (r == 0)
		r = nodes_etag_key(c, s->etag_key);
	store_release(s->store, c);
	if (r < 0)
		log_err("cannot read or store the keys the nodes share (%d)", r);
	return r == 0 ? 0 : -1;
}

/* Everything but the HTTP layer, from cfg (owned by s afterwards).  0 or -1. */
static int server_open(struct server *s, struct config *cfg)
{
	struct classify_settings cs;
	struct snapshot *snap = NULL;

	if (snapshot_new(&snap, cfg) != 0) {
		config_free(cfg);
		return -1;
	}
	pthread_mutex_init(&s->snap_lock, NULL);
	s->snap = snap;
	if (ratelimit_new(&s->post_limit, cfg->rate_limit, cfg->rate_burst) < 0 ||
	    ratelimit_new(&s->auth_failures, 10, 10) < 0 ||
	    ratelimit_new(&s->like_limit, cfg->like_rate_limit, LIKE_BURST) < 0 ||
	    cache_new(&s->thread_cache, 256, 4 << 20) < 0)
		return -1;
	site_classify_settings(cfg, &cs);
	if (classifier_new(&s->classifier, &cs) != 0) {
		log_err("the classifier settings are invalid");
		return -1;
	}
	if (cutoffs_cache_new(&s->cutoffs) < 0)
		return -1;
	apply_runtime(s, cfg);
	/* a connection for each HTTP thread, each writer (writers_count), the
	 * maintenance and outbox workers, and one for each of their locks
	 * (store_job_try: one node of several at a time) */
	s->n_writers = writers_count(cfg->threads, store_is_pg_uri(cfg->db));
	if (store_new(&s->store, cfg->db, cfg->threads + s->n_writers + 4) != 0) {
		char shown[512];
		log_err("cannot open the database %s",
			store_db_display(cfg->db, shown, sizeof(shown)));
		return -1;
	}
	if (nodes_open(s) != 0)
		return -1;
	/* Checkpoints on a thread of their own, not in a post's COMMIT. */
	if (store_checkpoints_start(s->store) != 0)
		return -1;
	return 0;
}

static void server_close(struct server *s)
{
	if (s->mhd)
		http_stop(s, 0);
	/* The maintenance thread waits on the writers (index_tail): it stops
	 * first. */
	maintenance_stop(s);
	s->writers = writers_free(s->writers);
	notify_stop(s);
	s->store = store_free(s->store);
	s->keys = keys_free(s->keys);
	s->post_limit = ratelimit_free(s->post_limit);
	s->auth_failures = ratelimit_free(s->auth_failures);
	s->like_limit = ratelimit_free(s->like_limit);
	s->classifier = classifier_free(s->classifier);
	s->cutoffs = cutoffs_cache_free(s->cutoffs);
	s->thread_cache = cache_free(s->thread_cache);
	if (s->snap) {
		snapshot_unref(s->snap);
		pthread_mutex_destroy(&s->snap_lock);
	}
}

/* Serves until SIGTERM or SIGINT; SIGHUP reloads.  0 or 1. */
static int serve(struct server *s, const struct args *a)
{
	static const struct route_table *const tables[] = {
	    &public_route_table, &admin_route_table, &akismet_route_table, &static_route_table,
	    &notify_route_table};
	sigset_t mask;
	int listen_fd;

	/* Only this thread takes signals; MHD's threads inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	listen_fd = sdnotify_listen_fd();
	/* After the signal mask: the writers inherit it. */
	if (writers_new(&s->writers, s->n_writers) != 0 ||
	    http_start(s, listen_fd, tables, sizeof(tables) / sizeof(tables[0])) != 0 ||
	    maintenance_start(s) != 0 || notify_start(s) != 0)
		return 1;
	char shown[512];
	log_info("commentd %s listening on %s (port %u), database %s, %zu site%s", COMMENTD_VERSION,
		 listen_fd >= 0 ? "the socket from systemd" : s->snap->cfg->listen, http_port(s),
		 store_db_display(s->snap->cfg->db, shown, sizeof(shown)),
		 site_set_count(s->snap->sites), site_set_count(s->snap->sites) == 1 ? "" : "s");
	sdnotify("READY=1\nSTATUS=serving");
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&mask, &info);
		if (sig == SIGHUP)
			reload(s, a->config_path, &a->o);
		else if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("stopping: finishing requests in flight");
	sdnotify("STOPPING=1");
	http_stop(s, STOP_GRACE_SECONDS);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct server s = {0};
	struct config *cfg = NULL;
	int r, status = 1;

	/* The outbox worker's child for one delivery (lib/sender.h). */
	if (argc == 2 && strcmp(argv[1], "--send") == 0)
		return sodium_init() < 0 || sender_serve(0, 1) != 0;
	r = parse_args(argc, argv, &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return 1;
	}
	if (a.keygen) {
		if (keys_generate(a.keygen) != 0)
			return 1;
		log_info("wrote a new secret key to %s", a.keygen);
		return 0;
	}
	json_object_seed(0);
	/* glibc gives every thread its own malloc arena; one keeps the
	 * resident size small (0.5 MiB less than two after 600 learned
	 * decisions, bench/memory.py), and the threads' own caches (tcache)
	 * keep contention out of the figures (docs/performance.md). */
	mallopt(M_ARENA_MAX, 1);
	if (load_config(&cfg, a.config_path, &a.o) != 0)
		return 1;
	if (open_keys(cfg, &s.keys) != 0) {
		config_free(cfg);
		return 1;
	}
	if (a.check_only) {
		config_each(cfg, print_setting, NULL);
		for (size_t i = 0; i < config_site_count(cfg); i++) {
			if (!config_site_where(cfg, i))
				continue;
			printf("\n[site %s]\n", config_site_id(cfg, i));
			config_site_each(cfg, i, print_setting, NULL);
		}
		printf("configuration OK\n");
		config_free(cfg);
		s.keys = keys_free(s.keys);
		return 0;
	}
	if (server_open(&s, cfg) == 0)
		status = serve(&s, &a);
	server_close(&s);
	if (status == 0)
		log_info("stopped");
	return status;
}
