/* writers: a small pool of threads for the requests that write (writers.h). */
#include "writers.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define WRITERS_MAX 64

struct writers {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or the pool is stopping */
	pthread_cond_t idle; /* pending fell to 0 (CLOCK_MONOTONIC for timed waits) */
	struct writer_job *head, **tail;
	unsigned pending; /* submitted and not finished (queued or running) */
	bool closing;	  /* no new jobs */
	bool stopping;	  /* threads exit once the queue is empty */
	unsigned n;
	pthread_t threads[WRITERS_MAX];
};

static void *writer_main(void *arg)
{
	struct writers *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct writer_job *job = w->head;

		if (!job) {
			if (w->stopping)
				break;
			pthread_cond_wait(&w->work, &w->lock);
			continue;
		}
		w->head = job->next;
		if (!w->head)
			w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);
		/* run() may free job: read nothing of it afterwards */
		void (*run)(void *) = job->run;
		run(job->arg);
		pthread_mutex_lock(&w->lock);
		if (--w->pending == 0)
			pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

unsigned writers_count(unsigned http_threads, bool postgresql)
{
	unsigned n = (postgresql ? 2 : 4) * http_threads;

	return n < 1 ? 1 : n > WRITERS_MAX ? WRITERS_MAX : n;
}

int writers_new(struct writers **out, unsigned n)
{
	struct writers *w = calloc(1, sizeof(*w));
	pthread_condattr_t monotonic;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&w->idle, &monotonic);
	pthread_condattr_destroy(&monotonic);
	w->tail = &w->head;
	if (n < 1)
		n = 1;
	if (n > WRITERS_MAX)
		n = WRITERS_MAX;
	for (; w->n < n; w->n++) {
		if (pthread_create(&w->threads[w->n], NULL, writer_main, w) != 0) {
			log_err("writers: cannot start a thread");
			writers_free(w);
			return -EAGAIN;
		}
	}
	*out = w;
	return 0;
}

int writers_submit(struct writers *w, struct writer_job *job, void (*prepare)(void *arg))
{
	pthread_mutex_lock(&w->lock);
	if (w->closing) {
		pthread_mutex_unlock(&w->lock);
		return 1;
	}
	w->pending++; /* from here writers_close waits for this job */
	pthread_mutex_unlock(&w->lock);
	prepare(job->arg);
	pthread_mutex_lock(&w->lock);
	job->next = NULL;
	*w->tail = job;
	w->tail = &job->next;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

bool writers_wait_idle(struct writers *w, long timeout_ns)
{
	struct timespec until;
	bool idle;

	if (!w)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ns / 1000000000L;
	until.tv_nsec += timeout_ns % 1000000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (w->pending && pthread_cond_timedwait(&w->idle, &w->lock, &until) == 0)
		;
	idle = w->pending == 0;
	pthread_mutex_unlock(&w->lock);
	return idle;
}

void writers_close(struct writers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->closing = true;
	while (w->pending)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

struct writers *writers_free(struct writers *w)
{
	if (!w)
		return NULL;
	writers_close(w);
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}
