/* Unit tests for daemon/writers: jobs run on the pool's threads,
 * writers_wait_idle waits for them (or its timeout), closing waits for
 * every job. */
#include "tap.h"

#include "writers.h"

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

struct sleeper {
	struct writer_job job;
	long ms;
	atomic_int *done;
};

static void sleeper_run(void *arg)
{
	struct sleeper *s = arg;

	nanosleep(&(struct timespec){s->ms / 1000, (s->ms % 1000) * 1000000L}, NULL);
	atomic_fetch_add(s->done, 1);
}

static void prepare_nothing(void *arg)
{
	(void)arg;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleeper_submit(struct writers *w, struct sleeper *s, long ms, atomic_int *done)
{
	s->job.run = sleeper_run;
	s->job.arg = s;
	s->ms = ms;
	s->done = done;
	is_int(writers_submit(w, &s->job, prepare_nothing), 0, "a job of %ld ms queued", ms);
}

static void test_wait_idle(void)
{
	struct writers *w = NULL;
	struct sleeper a, b;
	atomic_int done = 0;
	double t0;

	ok(writers_wait_idle(NULL, 0), "no pool is idle");
	is_int(writers_new(&w, 1), 0, "a pool of one thread");
	ok(writers_wait_idle(w, 0), "an empty pool is idle at once");
	sleeper_submit(w, &a, 300, &done);
	sleeper_submit(w, &b, 1, &done);
	t0 = now_ms();
	ok(!writers_wait_idle(w, 20 * 1000 * 1000L),
	   "not idle while a job runs: false at the timeout");
	ok(now_ms() - t0 >= 19.0, "  after waiting the timeout (%.1f ms)", now_ms() - t0);
	is_int(atomic_load(&done), 0, "  the jobs have not finished");
	ok(writers_wait_idle(w, 10L * 1000 * 1000 * 1000), "idle once both jobs finished");
	is_int(atomic_load(&done), 2, "  both ran (the queued one too)");
	w = writers_free(w);
	ok(w == NULL, "freed");
}

static void test_close_waits(void)
{
	struct writers *w = NULL;
	struct sleeper s[4];
	atomic_int done = 0;

	is_int(writers_new(&w, 2), 0, "a pool of two threads");
	for (int i = 0; i < 4; i++)
		sleeper_submit(w, &s[i], 20, &done);
	writers_close(w);
	is_int(atomic_load(&done), 4, "closing waits for every queued and running job");
	is_int(writers_submit(w, &s[0].job, prepare_nothing), 1, "  then takes no more");
	ok(writers_wait_idle(w, 0), "  and is idle");
	writers_free(w);
	ok(writers_free(NULL) == NULL, "free is NULL-safe");
}

int main(void)
{
	is_int(writers_count(2, false), 8, "SQLite: four times as many writers as HTTP threads");
	is_int(writers_count(2, true), 4, "PostgreSQL: twice as many (each a server connection)");
	is_int(writers_count(0, false), 1, "  at least one");
	is_int(writers_count(64, false), 64, "  at most 64");
	is_int(writers_count(64, true), 64, "  on either engine");
	test_wait_idle();
	test_close_waits();
	return done_testing();
}
