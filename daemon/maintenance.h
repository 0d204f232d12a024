/* maintenance: the daemon's background thread for periodic jobs.
 *
 * One thread runs every job in a fixed list (daemon/maintenance.c) once
 * right after start, then again every maintenance_interval seconds (read
 * from the current configuration snapshot each time, so SIGHUP changes it).
 * Each job decides for itself whether there is work due; the daily backup,
 * for example, does nothing when today's copy exists.  The wait between
 * runs is interruptible: maintenance_stop() wakes the thread at once; a job
 * already running finishes first (jobs keep their work short).
 * Several nodes on one PostgreSQL database: one of them runs the jobs
 * (maintenance_turn); the others check at each pass whether it is gone.
 */
#ifndef COMMENTD_MAINTENANCE_H
#define COMMENTD_MAINTENANCE_H

#include "store.h"

#include <stdbool.h>

struct server;

/* Whether this node runs job now (store_job_try: on PostgreSQL one node of
 * the database at a time; on SQLite always).  *state remembers the last
 * answer (start it at -1) so that a change is logged once, as "this node
 * runs <what>" or "another node ... runs <what>" (what: plural). */
bool maintenance_turn(struct server *s, enum store_job job, int *state, const char *what);

/* Starts the thread for s and stores its handle in s->maintenance.  The
 * thread blocks every signal (main keeps handling them).  s->store and
 * s->snap must stay valid until maintenance_stop().  Returns 0 or a negative
 * errno (logged). */
int maintenance_start(struct server *s);

/* Wakes the thread, waits for it to end and frees it; s->maintenance
 * becomes NULL.  Safe when it was never started. */
void maintenance_stop(struct server *s);

#endif
