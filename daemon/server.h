/* server: the daemon's shared state and the HTTP layer's interface.
 *
 * Settings that a reload (SIGHUP) may change live in a reference-counted
 * snapshot; each request holds the snapshot it started with.
 */
#ifndef COMMENTD_SERVER_H
#define COMMENTD_SERVER_H

#include "buf.h"
#include "cache.h"
#include "classify.h"
#include "cutoffs.h"
#include "config.h"
#include "keys.h"
#include "net.h"
#include "nodes.h"
#include "policy.h"
#include "ratelimit.h"
#include "site.h"
#include "store.h"
#include "submit.h"
#include "writers.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

/* The longest ETag an answer carries ("<32 hex> + a 4-hex tag", quoted). */
#define ETAG_MAX 40

struct snapshot {
	atomic_int refs;
	struct config *cfg;	/* the top-level settings */
	struct site_set *sites; /* one resolved site per configured site (lib/site.h) */
	struct net_cidrs *proxies;
};

#define LIKE_BURST 10 /* likes a client may give in a quick burst */

struct server {
	struct keys *keys;
	struct store *store;
	struct classifier *classifier;
	struct cutoffs_cache *cutoffs; /* the sites' learned cut-offs (lib/cutoffs.h) */
	struct cache *thread_cache;    /* rendered GET /api/v1/comments answers */
	/* The thread answers' ETag key (thread_etag, lib/nodes.h): on
	 * PostgreSQL shared by every node of the database, so that a 304
	 * works whichever node a revalidation reaches; on SQLite random at
	 * start (ETags are new after every restart).  Mixed with the release
	 * version: an upgrade changes every ETag. */
	unsigned char etag_key[NODES_ETAG_KEY_BYTES];
	struct ratelimit *post_limit;
	struct ratelimit *auth_failures; /* failed admin logins per client */
	struct ratelimit *like_limit;	 /* likes per client (like_rate_limit) */
	pthread_mutex_t snap_lock;
	struct snapshot *snap;
	struct MHD_Daemon *mhd;
	struct maintenance *maintenance;	 /* background jobs (maintenance.h) */
	struct guard *guard;			 /* connection caps and deadlines (guard.c) */
	struct notify *notify;			 /* the outbox worker (notify.h) */
	struct writers *writers;		 /* threads for the requests that write */
	unsigned n_writers;			 /* how many (writers_count) */
	const struct route_table *const *tables; /* set by http_start */
	size_t n_tables;
};

/* Builds a snapshot owning cfg (resolving its sites and parsing its
 * lists).  0, 1 on a bad list (already rejected by config_check), negative
 * on OOM. */
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
	int64_t id;	 /* the {id} path segment, if any */
	char actor[72];	 /* admin token name, for the audit log */
	char *scope;	 /* the admin token's sites (lib/admin.h), NULL: every site */
	unsigned status; /* for the access log */
	/* A request that writes runs on a writer thread (writers.h) while its
	 * connection is suspended; its answer waits here until it is sent. */
	struct writer_job job;
	struct reply *deferred;
};

/* A response under construction: status, body, extra headers. */
struct reply {
	unsigned status;
	json_t *json;	      /* JSON body (stolen), or NULL */
	const char *location; /* Location header */
	char *owned_location; /* freed with the reply */
	const char *allow;    /* Allow header (405) */
	unsigned retry_after; /* Retry-After seconds (429) */
	char etag[ETAG_MAX];  /* ETag when set */
	bool not_modified;    /* 304 */
	/* A non-JSON body (when json is NULL): bytes owned by the reply
	 * (freed), sent with content_type (default text/plain). */
	char *text;
	const char *content_type;
	/* Or (json and text NULL) a shared body sent from where it is, without
	 * its last byte, followed by tail: a JSON object from the thread cache
	 * with a per-request member spliced in.  Both owned by the reply (one
	 * reference, and the string). */
	struct cache_body *shared;
	char *tail;
	/* Extra response headers (names static, values copied). */
	struct {
		const char *name;
		char value[1024]; /* a CSP with the site's origins */
	} headers[4];
	unsigned n_headers;
};

/* Adds a response header; silently drops past four. */
void reply_header(struct reply *rep, const char *name, const char *value);

typedef void (*route_handler)(struct request *req, struct reply *rep);

enum route_body {
	BODY_JSON = 1,	   /* application/json */
	BODY_FORM = 2,	   /* application/x-www-form-urlencoded */
	BODY_OPTIONAL = 4, /* an empty body needs no Content-Type */
	BODY_ANY = 8,	   /* any Content-Type (RFC 8058 one-click unsubscribe) */
	/* The POST only reads (counts, a preview): answered on the HTTP thread,
	 * not queued behind the writes (writers.h). */
	BODY_READS = 16,
};

struct route {
	const char *path;  /* segments; "{id}" matches a positive integer */
	const char *allow; /* methods, e.g. "GET, HEAD, POST, OPTIONS" */
	route_handler get, post, patch, del;
	unsigned body; /* enum route_body flags for POST and PATCH */
};

/* A table of routes handed to the HTTP layer (http_start).  When
 * authenticate is set, every route of the table requires it: it returns 0,
 * or fills rep with the refusal. */
struct route_table {
	const struct route *routes;
	size_t count;
	int (*authenticate)(struct request *req, struct reply *rep);
};

/* A strong ETag ("<32 hex digits>") of len bytes of body. */
void etag_of(const char *body, size_t len, char etag[ETAG_MAX]);

/* The same of body hashed with key (BLAKE2b keyed, 16 to 64 bytes). */
void etag_keyed(const unsigned char *key, size_t keylen, const void *body, size_t len,
		char etag[ETAG_MAX]);

/* Whether the request's If-None-Match names etag (or is "*"): the answer
 * is then 304 without a body. */
bool request_etag_matches(struct request *req, const char *etag);

/* Fills rep with a JSON error {"error": code, "message": message}. */
void reply_error(struct reply *rep, unsigned status, const char *code, const char *message);

/* 500 {"error": "internal"}: a failure of ours (already logged). */
void reply_internal(struct reply *rep);

/* The one mapping from lib's results to API errors: r > 0 answers err's
 * status, code and message; r < 0 is reply_internal. */
void reply_comment_error(struct reply *rep, int r, const struct comment_error *err);

/* Parses the body as JSON (jansson, duplicate keys refused).  The value
 * (caller owns), or NULL with a 400 invalid_json in rep (line and column). */
json_t *request_json(struct request *req, struct reply *rep);

/* The request's header value, or NULL. */
const char *request_header(struct request *req, const char *name);

/* The request's query argument, or NULL. */
const char *request_arg(struct request *req, const char *name);

/* The route tables (routes.c, routes_admin.c, routes_akismet.c,
 * routes_static.c, routes_notify.c), which main.c hands to http_start. */
extern const struct route_table public_route_table;
extern const struct route_table admin_route_table;
extern const struct route_table akismet_route_table;
extern const struct route_table static_route_table;
extern const struct route_table notify_route_table;

/* The site of a public request (lib/site.h, site_pick), named by the
 * request's "site" field (named, NULL when it has none) or ?site=, or shown
 * by its Origin or Referer; out gets its rules and tools for lib/submit.
 * 0, or non-zero with the refusal (4xx JSON) in rep. */
int request_site(struct request *req, const char *named, struct submit_site *out,
		 struct reply *rep);

/* The submit_site of a resolved site. */
void request_site_of(struct request *req, const struct site *site, struct submit_site *out);

/* The request's facts for lib/submit (client address, user agent,
 * referrer, now); render_seconds and honeypot_filled are left unknown. */
void request_submission(struct request *req, enum submit_origin origin, struct submit_request *out);

/* A keyed 64-bit pseudonym of a client (net_client_network: an IPv4
 * address, an IPv6 /64), for rate limits, connection caps and sign-in
 * failures. */
uint64_t server_client_key(struct server *s, const struct net_addr *client);

/* The same for the request's client. */
uint64_t request_client_key(struct request *req);

/* Monotonic seconds. */
double monotonic_seconds(void);

/* guard.c: connection caps (connections, connections_per_client) and the
 * header deadline (header_timeout), with lib/connlimit.h.  guard_start
 * before MHD starts, guard_stop after it stopped. */
int guard_start(struct server *s);
void guard_stop(struct server *s);
void guard_configure(struct server *s, const struct config *cfg);
/* MHD's own connection limit for cfg. */
unsigned guard_mhd_limit(const struct config *cfg);
/* MHD's accept policy and connection notification callbacks (cls: s). */
enum MHD_Result guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		  enum MHD_ConnectionNotificationCode code);
/* The connection's request headers are in; its request is answered. */
void guard_busy(struct server *s, struct MHD_Connection *conn);
void guard_idle(struct server *s, struct MHD_Connection *conn);

/* Starts MHD on listen_fd (>= 0, from systemd) or on cfg->listen, routing
 * to the n tables (tried in order).  0 or -1. */
int http_start(struct server *s, int listen_fd, const struct route_table *const *tables, size_t n);

/* Stops accepting, waits up to grace_seconds for requests in flight, stops. */
void http_stop(struct server *s, unsigned grace_seconds);

/* The port MHD listens on (for logs), 0 if unknown. */
unsigned http_port(struct server *s);

#endif
