/* nodes: what several commentd processes sharing one database agree on.
 *
 * Several daemons ("nodes") may serve one PostgreSQL database behind a
 * load balancer (docs/configuration.md, "Several nodes").  What they must
 * share lives in the database, in table node_keys (schema 0018, pg 0002):
 *
 * - the key of the thread answers' ETags: on PostgreSQL the first node
 *   creates it and every node reads it, so every node computes the same
 *   ETag for the same thread version and a revalidation (If-None-Match)
 *   is answered 304 by whichever node it reaches.  On SQLite (one process
 *   per file) it stays random per start, in memory: ETags are new after
 *   every restart.  Either way the key is mixed with the release version,
 *   so an upgrade (whose answers may differ) changes every ETag;
 * - a keyed fingerprint of the secret key the database was first used
 *   with (never the key): a node started with another key file would hash
 *   e-mail addresses, tokens and site keys differently from its peers and
 *   read none of their sealed values, so it refuses to start.
 */
#ifndef COMMENTD_NODES_H
#define COMMENTD_NODES_H

#include "keys.h"
#include "store.h"

#define NODES_ETAG_KEY_BYTES 32

enum {
	NODES_KEY_MISMATCH = 1, /* nodes_key_check: the database knows another key */
};

/* The ETag key of this process in out: on PostgreSQL the database's
 * shared key (created by the first node to ask, in node_keys) mixed with
 * the release version; on SQLite a random key mixed likewise.  Call
 * outside a transaction.  0 or negative (logged). */
int nodes_etag_key(struct store_conn *c, unsigned char out[NODES_ETAG_KEY_BYTES]);

/* Checks that k is the secret key the database was first used with: the
 * first call on a database stores k's fingerprint (a keyed hash of a fixed
 * text under k's KEYS_NODE subkey), later calls compare with it.  Call
 * outside a transaction.  0 when it matches (or was just stored),
 * NODES_KEY_MISMATCH (logged, with what to do), negative on failure. */
int nodes_key_check(struct store_conn *c, const struct keys *k);

/* nodes_key_check without its log line, for a caller that says it its own
 * way (commentctl's commands that read or write keyed data: ctl/env.c). */
int nodes_key_check_silent(struct store_conn *c, const struct keys *k);

#endif
