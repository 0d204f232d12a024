/* writers: a few threads that run the requests which write, so that an
 * HTTP worker thread never waits for a commit.
 *
 * A POST waits for its group commit (an fdatasync, slow when the disk is
 * busy); run on one of libmicrohttpd's worker threads, it held that thread
 * and every other connection the thread serves, reads included
 * (docs/performance.md, "Why the mixed loads' tails are long").  The HTTP
 * layer suspends such a request's connection and hands the request here;
 * the job resumes the connection with its answer.
 */
#ifndef COMMENTD_WRITERS_H
#define COMMENTD_WRITERS_H

#include <stdbool.h>

struct writers;

/* A queued job, embedded in what it runs for.  run(arg) must be the last
 * use of the job: once it has handed its result back, the memory may be
 * gone. */
struct writer_job {
	void (*run)(void *arg);
	void *arg;
	struct writer_job *next;
};

/* How many writers for http_threads HTTP threads, at most 64.  SQLite:
 * four times as many.  A writer mostly waits for the disk, and the posts
 * waiting together are committed together (one fdatasync), so the writers
 * bound how many posts share a commit: with four a batch held two posts,
 * with eight four, and each post wrote fewer pages (docs/performance.md,
 * "The checkpoint's hold").  A writer's connection is opened when first
 * needed: a small blog never opens most of them.  PostgreSQL (postgresql
 * true): twice as many, since each connection is a server process that
 * counts against the server's max_connections for every node. */
unsigned writers_count(unsigned http_threads, bool postgresql);

/* Starts n threads (at least 1).  0 or negative. */
int writers_new(struct writers **out, unsigned n);

/* Queues job unless the pool is closing: before job is queued, prepare(arg)
 * runs (the caller suspends its connection there, so that the job cannot
 * resume it first).  0 queued, 1 closing (nothing ran: the caller runs the
 * work itself). */
int writers_submit(struct writers *w, struct writer_job *job, void (*prepare)(void *arg));

/* Waits until no job is queued or running, at most timeout_ns: true when
 * the pool is idle (or w is NULL), false at the timeout.  The admin
 * search's indexer waits here before each batch, since every post waits
 * while a batch holds the writer lock (daemon/maintenance.c). */
bool writers_wait_idle(struct writers *w, long timeout_ns);

/* Takes no more jobs and returns once every queued and running job has
 * finished.  NULL-safe. */
void writers_close(struct writers *w);

/* Closes, joins the threads and frees.  NULL-safe; returns NULL. */
struct writers *writers_free(struct writers *w);

#endif
