/* connlimit: who holds the daemon's connections, and who must let go.
 *
 * Every open connection has a slot: its client (a 64-bit key, as for rate
 * limits: a keyed hash of the IPv4 address or the IPv6 /64), whether it is
 * waiting for request headers (connected, or idle between keep-alive
 * requests) and since when.  The rules:
 *
 *   - a client holds at most per_client connections, and all clients
 *     together at most total (connections from a trusted proxy count only
 *     towards total);
 *   - a new connection over either cap takes the place of the connection
 *     that has been waiting longest for its headers (of the same client for
 *     per_client, of anyone for total); when none is waiting, or when a
 *     flood has many evicted connections not yet closed, it is refused;
 *   - headers must be complete within header_timeout of the connection or
 *     of the end of the previous request: a client trickling header bytes
 *     is cut off even though it is never idle.
 *
 * So connections that send their request at once are always served, and
 * slow-header floods (from one client or many) cost only the slots they
 * would have had.  Memory is fixed at creation.  Thread-safe.  The caller
 * closes the connections chosen (the evict callback, run under the lock,
 * so a cookie still names a live connection).
 */
#ifndef COMMENTD_CONNLIMIT_H
#define COMMENTD_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct connlimit;
struct connlimit_slot;

/* Called for a connection that must be closed, with the cookie it was
 * opened with. */
typedef void (*connlimit_evict_fn)(void *cookie, void *u);

/* capacity: slots (at least the connections the server may hold).  0 or
 * -ENOMEM. */
int connlimit_new(struct connlimit **out, unsigned capacity, unsigned total, unsigned per_client,
		  double header_timeout);

/* NULL-safe; returns NULL. */
struct connlimit *connlimit_free(struct connlimit *cl);

/* New caps (configuration reload); connections over them stay. */
void connlimit_configure(struct connlimit *cl, unsigned total, unsigned per_client,
			 double header_timeout);

/* Decides on a new connection from key (exempt: a trusted proxy), before
 * it is accepted: true to accept, after evicting the connections whose
 * places it takes; false to refuse. */
bool connlimit_admit(struct connlimit *cl, uint64_t key, bool exempt, connlimit_evict_fn evict,
		     void *u);

/* Records an accepted connection (now: monotonic seconds), waiting for its
 * headers.  NULL when no slot is free (close it). */
struct connlimit_slot *connlimit_open(struct connlimit *cl, uint64_t key, bool exempt, double now,
				      void *cookie);

/* After connlimit_open: admissions on several threads at once each saw
 * room, so the client's connections (slot's key) may now be over its cap;
 * evicts its longest waiting ones, other than slot, until they are not.
 * NULL-safe. */
void connlimit_enforce(struct connlimit *cl, struct connlimit_slot *slot, connlimit_evict_fn evict,
		       void *u);

/* The connection's request headers are complete: it is no longer waiting. */
void connlimit_busy(struct connlimit *cl, struct connlimit_slot *slot);

/* Its request is answered: it waits for the next headers from now. */
void connlimit_idle(struct connlimit *cl, struct connlimit_slot *slot, double now);

/* The connection is closed: its slot is free.  NULL-safe. */
void connlimit_close(struct connlimit *cl, struct connlimit_slot *slot);

/* Evicts every connection waiting for headers longer than header_timeout;
 * returns how many. */
unsigned connlimit_expire(struct connlimit *cl, double now, connlimit_evict_fn evict, void *u);

/* Connections held by key, and in all (for tests and logs). */
unsigned connlimit_count(struct connlimit *cl, uint64_t key);
unsigned connlimit_total(struct connlimit *cl);

#endif
