/* server: the daemon's shared state and the HTTP layer's interface.
 *
 * Settings that a reload (SIGHUP) may change live in a reference-counted
 * snapshot; each request holds the snapshot it started with.
 */
#ifndef COMMENTD_SERVER_H
#define COMMENTD_SERVER_H

#include "buf.h"
#include "config.h"
#include "keys.h"
#include "net.h"
#include "ratelimit.h"
#include "store.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

struct snapshot {
	atomic_int refs;
	struct config *cfg;
	struct net_origins *origins;
	struct net_cidrs *proxies;
};

struct server {
	struct keys *keys;
	struct store *store;
	struct ratelimit *post_limit;
	pthread_mutex_t snap_lock;
	struct snapshot *snap;
	struct MHD_Daemon *mhd;
};

/* Builds a snapshot owning cfg (and parsing its lists).  0, 1 on a bad
 * list (already rejected by config_check), negative on OOM. */
int snapshot_new(struct snapshot **out, struct config *cfg);
struct snapshot *snapshot_ref(struct server *s);
void snapshot_unref(struct snapshot *snap);

/* Replaces the current snapshot (reload). */
void server_set_snapshot(struct server *s, struct snapshot *snap);

/* A request as the handlers see it. */
struct request {
	struct server *server;
	struct snapshot *snap;
	struct MHD_Connection *conn;
	const struct route *route;
	const char *method;
	char url[128];
	struct buf body;
	size_t discarded; /* bytes dropped past the cap (chunked bodies) */
	bool too_big;
	bool is_form;	/* application/x-www-form-urlencoded body */
	double started; /* monotonic seconds */
	struct net_addr client;
	char client_ip[NET_IP_MAX];
	unsigned status; /* for the access log */
};

/* A response under construction: status, body, extra headers. */
struct reply {
	unsigned status;
	json_t *json;	      /* JSON body (stolen), or NULL */
	const char *location; /* Location header */
	char *owned_location; /* freed with the reply */
	const char *allow;    /* Allow header (405) */
	unsigned retry_after; /* Retry-After seconds (429) */
	char etag[40];	      /* ETag when set */
	bool not_modified;    /* 304 */
};

typedef void (*route_handler)(struct request *req, struct reply *rep);

struct route {
	const char *path;
	const char *allow; /* methods, e.g. "GET, POST, OPTIONS" */
	route_handler get, post;
	bool body_json, body_form; /* accepted POST content types */
};

/* Fills rep with a JSON error {"error": code, "message": message}. */
void reply_error(struct reply *rep, unsigned status, const char *code, const char *message);

/* The request's header value, or NULL. */
const char *request_header(struct request *req, const char *name);

/* The request's query argument, or NULL. */
const char *request_arg(struct request *req, const char *name);

/* Route table and handlers (routes.c). */
extern const struct route routes[];
extern const size_t routes_count;

/* Starts MHD on listen_fd (>= 0, from systemd) or on cfg->listen.  0 or -1. */
int http_start(struct server *s, int listen_fd);

/* Stops accepting, waits up to grace_seconds for requests in flight, stops. */
void http_stop(struct server *s, unsigned grace_seconds);

/* The port MHD listens on (for logs), 0 if unknown. */
unsigned http_port(struct server *s);

#endif
