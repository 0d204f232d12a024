/* commentd: argv, configuration, key, signals, systemd, and the HTTP server. */
#include "server.h"

#include "log.h"
#include "maintenance.h"
#include "sdnotify.h"

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

struct overrides {
	const char *names[64];
	const char *values[64];
	char *owned[64];
	size_t n;
};

static int add_override(struct overrides *o, const char *name, const char *value)
{
	if (o->n == 64)
		return 1;
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
}

static void reload(struct server *s, const char *config_path, const struct overrides *o)
{
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
	server_set_snapshot(s, snap);
	log_info("reload: configuration reloaded");
out:
	sdnotify("READY=1");
}

int main(int argc, char **argv)
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
	struct overrides o = {0};
	const char *config_path = NULL, *keygen = NULL;
	bool check_only = false;
	struct server s = {0};
	struct config *cfg = NULL;
	struct snapshot *snap = NULL;
	sigset_t mask;
	int opt, r, status = 1, listen_fd;

	while ((opt = getopt_long(argc, argv, "c:l:k:s:nhV", long_opts, NULL)) != -1) {
		char *eq;
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'l':
			r = add_override(&o, "listen", optarg);
			break;
		case 'D':
			r = add_override(&o, "db", optarg);
			break;
		case 'k':
			r = add_override(&o, "key", optarg);
			break;
		case 's':
			eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "commentd: --set wants NAME=VALUE\n");
				return 2;
			}
			*eq = '\0';
			r = add_override(&o, optarg, eq + 1);
			break;
		case 'G':
			keygen = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("commentd %s\n", COMMENTD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		(void)r;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return 1;
	}
	if (keygen) {
		if (keys_generate(keygen) != 0)
			return 1;
		log_info("wrote a new secret key to %s", keygen);
		return 0;
	}
	json_object_seed(0);
	/* glibc gives every thread its own malloc arena; two keep the
	 * resident size small without contention worth measuring. */
	mallopt(M_ARENA_MAX, 2);

	if (load_config(&cfg, config_path, &o) != 0)
		return 1;
	{
		/* Under systemd the key comes as a credential. */
		const char *cred_dir = getenv("CREDENTIALS_DIRECTORY");
		char cred_path[4096];
		const char *key_path = cfg->key;
		if (cred_dir && strchr(cfg->key, '/') == NULL) {
			snprintf(cred_path, sizeof(cred_path), "%s/%s", cred_dir, cfg->key);
			if (access(cred_path, R_OK) == 0)
				key_path = cred_path;
		}
		r = keys_new(&s.keys, key_path);
	}
	if (r != 0) {
		log_err("refusing to start without a valid secret key");
		config_free(cfg);
		return 1;
	}
	if (check_only) {
		config_each(cfg, print_setting, NULL);
		printf("configuration OK\n");
		status = 0;
		config_free(cfg);
		goto out;
	}
	if (snapshot_new(&snap, cfg) != 0) {
		config_free(cfg);
		goto out;
	}
	pthread_mutex_init(&s.snap_lock, NULL);
	s.snap = snap;
	if (ratelimit_new(&s.post_limit, cfg->rate_limit, cfg->rate_burst) < 0 ||
	    ratelimit_new(&s.auth_failures, 10, 10) < 0)
		goto out;
	if (cache_new(&s.thread_cache, 256, 4 << 20) < 0)
		goto out;
	if (classifier_new(&s.classifier, &snap->classify) != 0) {
		log_err("the classifier settings are invalid");
		goto out;
	}
	apply_runtime(&s, cfg);

	r = store_new(&s.store, cfg->db, cfg->threads + 2);
	if (r != 0) {
		log_err("cannot open the database %s", cfg->db);
		goto out;
	}

	/* Only this thread takes signals; MHD's threads inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	listen_fd = sdnotify_listen_fd();
	if (http_start(&s, listen_fd) != 0)
		goto out;
	if (maintenance_start(&s) != 0)
		goto out;
	log_info("commentd %s listening on %s (port %u), database %s", COMMENTD_VERSION,
		 listen_fd >= 0 ? "the socket from systemd" : cfg->listen, http_port(&s), cfg->db);
	sdnotify("READY=1\nSTATUS=serving");

	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&mask, &info);
		if (sig == SIGHUP) {
			reload(&s, config_path, &o);
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("stopping: finishing requests in flight");
	sdnotify("STOPPING=1");
	http_stop(&s, STOP_GRACE_SECONDS);
	status = 0;
out:
	if (s.mhd)
		http_stop(&s, 0);
	maintenance_stop(&s);
	s.store = store_free(s.store);
	s.keys = keys_free(s.keys);
	s.post_limit = ratelimit_free(s.post_limit);
	s.auth_failures = ratelimit_free(s.auth_failures);
	s.classifier = classifier_free(s.classifier);
	s.thread_cache = cache_free(s.thread_cache);
	if (s.snap) {
		snapshot_unref(s.snap);
		pthread_mutex_destroy(&s.snap_lock);
	}
	if (status == 0 && !check_only)
		log_info("stopped");
	return status;
}
