/* notify: the outbox worker thread (see notify.h). */
#include "notify.h"

#include "log.h"
#include "maintenance.h"
#include "outbox.h"
#include "sender.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PASS_SECONDS	  1
#define BUSY_PAUSE_NS	  100000000 /* between passes while there is work: 100 ms */
#define RETENTION_SECONDS 3600
#define PASSWORD_MAX	  512

struct notify {
	struct server *server;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	atomic_bool cancel;	       /* stops a send in progress (notify_stop) */
	const struct config *read_for; /* the configuration the password was read for */
	char password[PASSWORD_MAX];
	time_t last_retention;
	int turn; /* maintenance_turn's last answer: one node sends */
};

/* The SMTP password: the file smtp_credential names, or under systemd the
 * credential of that name (no slash).  The trailing newline is dropped. */
static void read_password(struct notify *n, const struct config *cfg)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY"), *credential = cfg->smtp_credential;
	char path[4200];
	ssize_t len = 0;
	int fd;

	/* Again after each reload (SIGHUP): the file may have changed. */
	if (cfg == n->read_for)
		return;
	n->read_for = cfg;
	sodium_memzero(n->password, sizeof(n->password));
	if (!*credential)
		return;
	if (dir && !strchr(credential, '/'))
		snprintf(path, sizeof(path), "%s/%s", dir, credential);
	else
		snprintf(path, sizeof(path), "%s", credential);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, n->password, sizeof(n->password) - 1);
		close(fd);
	}
	if (fd < 0 || len < 0) {
		log_err("notify: cannot read the SMTP password from %s: %s", path, strerror(errno));
		len = 0;
	}
	n->password[len] = '\0';
	n->password[strcspn(n->password, "\r\n")] = '\0';
}

/* Waits up to ns nanoseconds, or until notify_stop.  False when stopping. */
static bool pause_for(struct notify *n, long ns)
{
	struct timespec deadline;
	bool go;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += ns;
	deadline.tv_sec += deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	pthread_mutex_lock(&n->lock);
	while (!n->stopping && pthread_cond_timedwait(&n->wake, &n->lock, &deadline) != ETIMEDOUT)
		;
	go = !n->stopping;
	pthread_mutex_unlock(&n->lock);
	return go;
}

/* The notification settings of every site of snap (password: the SMTP
 * password, the daemon's).  Borrowed from snap; caller frees the array. */
static struct outbox_site *sites_of(const struct snapshot *snap, const char *password, size_t *n)
{
	size_t count = site_set_count(snap->sites);
	struct outbox_site *sites = calloc(count, sizeof(*sites));

	*n = 0;
	if (!sites)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		const struct site *site = site_set_at(snap->sites, i);
		const char *first = net_origins_first(site->origins);
		outbox_site_of(site->cfg, site->id, first ? first : "", password, &sites[i]);
	}
	*n = count;
	return sites;
}

/* Sends until nothing more is due (pausing between passes, so that the
 * worker's commits stay few beside the posts'), then the hourly retention. */
static void pass(struct notify *n)
{
	struct server *s = n->server;
	struct snapshot *snap = snapshot_ref(s);
	/* Sent by children (lib/sender.h): libcurl never enters the daemon. */
	struct sender sender = {"/proc/self/exe", &n->cancel};
	struct outbox_transport net = sender_transport(&sender);
	struct outbox_report rep;
	struct outbox_site *sites;
	time_t now = time(NULL);
	unsigned deleted = 0;
	size_t n_sites = 0;
	int r;

	/* One node of a PostgreSQL database sends (the others' passes would
	 * race for the same deliveries). */
	if (!maintenance_turn(s, STORE_JOB_OUTBOX, &n->turn, "the outbox deliveries")) {
		snapshot_unref(snap);
		return;
	}
	read_password(n, snap->cfg);
	sites = sites_of(snap, n->password, &n_sites);
	if (!sites) {
		log_warn("notify: out of memory; retrying");
		snapshot_unref(snap);
		return;
	}
	do {
		r = outbox_run(s->store, s->keys, sites, n_sites, &net, (int64_t)time(NULL), &rep);
		if (r < 0)
			log_warn("notify: the outbox pass failed (%d); retrying", r);
	} while (r == 0 && rep.delivered + rep.retried + rep.failed + rep.skipped > 0 &&
		 pause_for(n, BUSY_PAUSE_NS));
	if (now - n->last_retention >= RETENTION_SECONDS) {
		struct store_conn *c = store_acquire(s->store);
		r = outbox_maintain(c, sites, n_sites, snap->cfg->notify_retention_days,
				    (int64_t)now, &deleted);
		store_release(s->store, c);
		if (r == 0)
			n->last_retention = now;
		if (deleted)
			log_info("notify: retention deleted %u old events and subscriptions",
				 deleted);
	}
	free(sites);
	snapshot_unref(snap);
}

static void *thread_main(void *arg)
{
	struct notify *n = arg;

	do
		pass(n);
	while (pause_for(n, PASS_SECONDS * 1000000000L));
	return NULL;
}

int notify_start(struct server *s)
{
	struct notify *n;
	pthread_condattr_t attr;
	sigset_t all, old;
	int r;

	n = calloc(1, sizeof(*n));
	if (!n) {
		log_err("notify: out of memory");
		return -ENOMEM;
	}
	n->server = s;
	n->turn = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&n->wake, &attr);
	pthread_condattr_destroy(&attr);
	/* The thread blocks every signal: main handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&n->thread, NULL, thread_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_err("notify: cannot start the thread: %s", strerror(r));
		pthread_cond_destroy(&n->wake);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return -r;
	}
	s->notify = n;
	return 0;
}

void notify_stop(struct server *s)
{
	struct notify *n = s->notify;

	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	atomic_store(&n->cancel, true);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	store_job_done(s->store, STORE_JOB_OUTBOX); /* another node may take over */
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	sodium_memzero(n->password, sizeof(n->password));
	free(n);
	s->notify = NULL;
}
