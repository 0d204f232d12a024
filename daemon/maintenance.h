/* maintenance: the daemon's background thread for periodic jobs.
 *
 * One thread runs every job in a fixed list (daemon/maintenance.c) once
 * right after start, then again every maintenance_interval seconds (read
 * from the current configuration snapshot each time, so SIGHUP changes it).
 * Each job decides for itself whether there is work due; the daily backup,
 * for example, does nothing when today's copy exists.  The wait between
 * runs is interruptible: maintenance_stop() wakes the thread at once; a job
 * already running finishes first (jobs keep their work short).
 */
#ifndef COMMENTD_MAINTENANCE_H
#define COMMENTD_MAINTENANCE_H

struct server;

/* Starts the thread for s and stores its handle in s->maintenance.  The
 * thread blocks every signal (main keeps handling them).  s->store and
 * s->snap must stay valid until maintenance_stop().  Returns 0 or a negative
 * errno (logged). */
int maintenance_start(struct server *s);

/* Wakes the thread, waits for it to end and frees it; s->maintenance
 * becomes NULL.  Safe when it was never started. */
void maintenance_stop(struct server *s);

#endif
