/* notify: the daemon's outbox worker (lib/outbox.h).
 *
 * One thread sends what the outbox holds: it looks every second (a POST
 * never waits for it, nor wakes it), and once an hour applies the
 * notification retention rules.  It reads the configuration snapshot on
 * every pass, so SIGHUP changes apply at once, and reads the SMTP password
 * from smtp_credential (a file, or with systemd the credential of that
 * name) whenever that setting changes.
 */
#ifndef COMMENTD_NOTIFY_H
#define COMMENTD_NOTIFY_H

struct server;

/* Starts the thread (s->notify).  0 or a negative errno (logged). */
int notify_start(struct server *s);

/* Stops it: a send in progress is cut off (and retried after the next
 * start).  Safe when never started. */
void notify_stop(struct server *s);

#endif
