/* maintenance: periodic jobs on a background thread (see maintenance.h). */
#include "maintenance.h"

#include "backup.h"
#include "log.h"
#include "moderation.h"
#include "search.h"
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct maintenance {
	struct server *server;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	bool index_failing; /* the last indexing of the search's tail failed (logged once) */
	int turn;	    /* maintenance_turn's last answer */
};

/* A job: one pass of some periodic work.  cfg is the configuration snapshot
 * of this run and now the wall-clock time (Unix seconds).  Returns 0 or
 * non-zero after logging why; a failing job is retried on the next run. */
struct maintenance_job {
	const char *name;
	int (*run)(struct server *s, const struct config *cfg, time_t now);
};

/* The daily backup into backup_dir, when set and not yet taken today. */
static int job_backup(struct server *s, const struct config *cfg, time_t now)
{
	struct store_conn *c;
	int r;

	if (!*cfg->backup_dir)
		return 0;
	c = store_acquire(s->store);
	r = backup_daily(c, cfg->backup_dir, cfg->backup_keep, now, NULL);
	store_release(s->store, c);
	return r;
}

/* Retention: old spam, old IP addresses, bare tombstones, stale tokens. */
static int job_retention(struct server *s, const struct config *cfg, time_t now)
{
	struct moderation_window *windows = NULL;
	struct moderation_retention rt;
	struct maintenance_report rep;
	struct store_conn *c;
	int r;

	c = store_acquire(s->store);
	r = moderation_retention_of(cfg, &rt, &windows);
	if (r == 0)
		r = moderation_maintain(c, s->classifier, NULL, &rt, (int64_t)now, &rep);
	free(windows);
	store_release(s->store, c);
	if (r == 0 && (rep.spam_deleted || rep.spam_emptied || rep.ips_cleared ||
		       rep.tombstones_purged || rep.tokens_pruned || rep.decoys_purged))
		log_info("maintenance: deleted %u old spam (%u emptied to tombstones), cleared %u "
			 "IP addresses, purged %u tombstones and %u decoys, pruned %u tokens",
			 rep.spam_deleted, rep.spam_emptied, rep.ips_cleared, rep.tombstones_purged,
			 rep.decoys_purged, rep.tokens_pruned);
	return r;
}

/* Removed texts leave the search index's segments: the blocks still owed
 * a merge (an erasure or retention that failed half-way, a crash, an edit
 * or a deletion since, a full block) are merged, one a transaction
 * (lib/search.h); the WAL is truncated when a text had left one. */
static int job_search(struct server *s, const struct config *cfg, time_t now)
{
	struct store_conn *c = store_acquire(s->store);
	unsigned merged = 0, forgotten = 0;
	int r;

	(void)cfg;
	(void)now;
	r = search_purge(c, &merged, &forgotten);
	if (forgotten)
		store_checkpoint_truncate(c);
	store_release(s->store, c);
	if (merged)
		log_info("maintenance: merged %u block(s) of the search index (%u of them left by "
			 "removed texts)",
			 merged, forgotten);
	return r;
}

/* PostgreSQL: the tables privacy erasures left owing a compaction are
 * rewritten (VACUUM FULL, store.h) in a pass within compact_hour (server
 * local time): each is locked while it is rewritten, so not at erase time.
 * SQLite owes nothing. */
static int job_compact(struct server *s, const struct config *cfg, time_t now)
{
	struct store_conn *c;
	struct tm local;
	unsigned n = 0;
	int r;

	if (!localtime_r(&now, &local) || (unsigned)local.tm_hour != cfg->compact_hour)
		return 0;
	c = store_acquire(s->store);
	r = store_compact_owed(c);
	if (r > 0) {
		log_info("maintenance: compacting %d table(s) that erasures left (each locked "
			 "while it is rewritten)",
			 r);
		r = store_compact(c, true, &n);
	}
	store_release(s->store, c);
	if (n)
		log_info("maintenance: compacted %u table(s): the erased bytes left their files",
			 n);
	return r < 0 ? r : (r > 0 ? -EIO : 0);
}

/* The jobs, run in this order on every pass.  To add one, write a static
 * job_<name>() above and add a row here. */
static const struct maintenance_job jobs[] = {
    {"retention", job_retention},
    {"search", job_search},
    {"backup", job_backup},
    {"compact", job_compact},
};

#define N_JOBS (sizeof(jobs) / sizeof(jobs[0]))

static bool stopping(struct maintenance *m)
{
	bool stop;

	pthread_mutex_lock(&m->lock);
	stop = m->stopping;
	pthread_mutex_unlock(&m->lock);
	return stop;
}

bool maintenance_turn(struct server *s, enum store_job job, int *state, const char *what)
{
	struct snapshot *snap = snapshot_ref(s);
	bool shared = store_is_pg_uri(snap->cfg->db);
	int r = store_job_try(s->store, job);

	snapshot_unref(snap);
	if (r != *state && shared) {
		if (r == 1)
			log_info("nodes: this node runs %s (it holds their lock; the other nodes "
				 "of the database wait)",
				 what);
		else if (r == 0)
			log_info("nodes: another node of the database runs %s; this one waits",
				 what);
		else
			log_warn("nodes: cannot tell whether another node runs %s (%d); not "
				 "running them",
				 what, r);
	}
	*state = r;
	return r == 1;
}

/* Runs every job once (when this node's turn: one node of a PostgreSQL
 * database runs them); returns the seconds to wait before the next pass. */
static unsigned run_jobs(struct maintenance *m)
{
	struct snapshot *snap = snapshot_ref(m->server);
	unsigned interval = snap->cfg->maintenance_interval;

	if (!maintenance_turn(m->server, STORE_JOB_MAINTENANCE, &m->turn, "the maintenance jobs")) {
		snapshot_unref(snap);
		return interval ? interval : 3600;
	}
	for (size_t i = 0; i < N_JOBS && !stopping(m); i++) {
		int r = jobs[i].run(m->server, snap->cfg, time(NULL));
		if (r != 0)
			log_warn("maintenance: job %s failed (%d); retrying on the next run",
				 jobs[i].name, r);
	}
	snapshot_unref(snap);
	return interval ? interval : 3600;
}

/* Between two batches of the search's tail, so that the posts queued
 * behind a batch get the writer lock (search_index_pause_ns). */
static void index_pause(double batch_seconds)
{
	long ns = search_index_pause_ns(batch_seconds);

	nanosleep(&(struct timespec){ns / 1000000000L, ns % 1000000000L}, NULL);
}

/* How long a batch of the tail waits for the writers to be idle (no post
 * or other write queued or running) before it goes anyway: a batch holds
 * every post that comes meanwhile, so it goes between them, and under a
 * load that never lets up still one every INDEX_QUIET_WAIT_NS (about 200
 * comments a second), so that the tail a search reads by LIKE stays
 * bounded by the time the load lasts. */
#define INDEX_QUIET_WAIT_NS (100 * 1000 * 1000L)

/* Indexes the search's tail (lib/search.h), a batch a transaction, each
 * when the writers are idle (INDEX_QUIET_WAIT_NS), with a pause between
 * batches that lets waiting writers in (index_pause); then
 * merges the blocks owed a merge (a deletion or an edit left them, or the
 * tail filled them), so that removed text leaves the index's pages within
 * seconds, not at the next pass, and truncates the WAL only when a text
 * had left one. */
static void index_tail(struct maintenance *m)
{
	struct snapshot *snap = snapshot_ref(m->server);
	struct store_conn *c = store_acquire(m->server->store);
	unsigned n = 0, merged = 0, forgotten = 0;
	int r = search_worth_indexing(c, snap->cfg->search_index_from);

	snapshot_unref(snap);
	while (r == 1) {
		double started;

		writers_wait_idle(m->server->writers, INDEX_QUIET_WAIT_NS);
		started = monotonic_seconds();
		r = search_index_batch(c, SEARCH_BATCH, &n);
		if (r != 0 || !n || stopping(m))
			break;
		index_pause(monotonic_seconds() - started);
		r = 1;
	}
	if (r > 0)
		r = 0;
	if (r == 0 && !stopping(m) && search_purge(c, &merged, &forgotten) == 0 && forgotten)
		store_checkpoint_truncate(c);
	store_release(m->server->store, c);
	if (r != 0 && !m->index_failing)
		log_warn("maintenance: indexing new comments for the admin search failed (%d); "
			 "retrying every %d s",
			 r, SEARCH_INDEX_EVERY);
	m->index_failing = r != 0;
}

/* Sleeps until deadline or maintenance_stop(); true when stopping. */
static bool sleep_until(struct maintenance *m, const struct timespec *deadline)
{
	bool stop;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		if (pthread_cond_timedwait(&m->wake, &m->lock, deadline) == ETIMEDOUT)
			break;
	}
	stop = m->stopping;
	pthread_mutex_unlock(&m->lock);
	return stop;
}

/* Every job once a pass; between passes the search's tail every
 * SEARCH_INDEX_EVERY seconds. */
static void *thread_main(void *arg)
{
	struct maintenance *m = arg;
	struct timespec next_pass, now, deadline;

	while (!stopping(m)) {
		unsigned interval = run_jobs(m);

		clock_gettime(CLOCK_MONOTONIC, &next_pass);
		next_pass.tv_sec += (time_t)interval;
		for (;;) {
			if (stopping(m))
				break;
			if (m->turn == 1)
				index_tail(m);
			clock_gettime(CLOCK_MONOTONIC, &now);
			deadline = now;
			deadline.tv_sec += SEARCH_INDEX_EVERY;
			if (deadline.tv_sec > next_pass.tv_sec)
				deadline = next_pass;
			if (sleep_until(m, &deadline) || deadline.tv_sec >= next_pass.tv_sec)
				break;
		}
	}
	return NULL;
}

int maintenance_start(struct server *s)
{
	struct maintenance *m;
	pthread_condattr_t attr;
	sigset_t all, old;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m) {
		log_err("maintenance: out of memory");
		return -ENOMEM;
	}
	m->server = s;
	m->turn = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &attr);
	pthread_condattr_destroy(&attr);

	/* The thread inherits a mask blocking everything: signals go to main. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&m->thread, NULL, thread_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_err("maintenance: cannot start the thread: %s", strerror(r));
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -r;
	}
	s->maintenance = m;
	return 0;
}

void maintenance_stop(struct server *s)
{
	struct maintenance *m = s->maintenance;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	store_job_done(s->store, STORE_JOB_MAINTENANCE); /* another node may take over */
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m);
	s->maintenance = NULL;
}
