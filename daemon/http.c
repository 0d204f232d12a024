/* http: libmicrohttpd glue: request contexts, capped bodies, routing, CORS,
 * JSON responses and the access log. */
#include "server.h"

#include "log.h"
#include "text.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Past this many bytes of an oversized chunked body, stop reading and close. */
#define DISCARD_MAX (1024 * 1024)

/* The request line and headers we accept, and the URL (path and query)
 * within them; larger ones get 431 or 414 in JSON from begin().  MHD's
 * per-connection memory must hold more than that, or MHD answers an
 * oversized request itself, in HTML (docs/api.md lists what it still
 * answers alone: requests beyond MHD_POOL_BYTES, malformed framing). */
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_URL_BYTES	 (8 * 1024)
#define MHD_POOL_BYTES	 ((size_t)64 * 1024)

double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int snapshot_new(struct snapshot **out, struct config *cfg)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	char err[CONFIG_ERR_MAX];
	int r;

	if (!snap)
		return -ENOMEM;
	atomic_init(&snap->refs, 1);
	r = site_set_new(&snap->sites, cfg, err);
	if (r > 0)
		log_err("config: %s", err);
	if (r == 0)
		r = net_cidrs_new(&snap->proxies, cfg->trusted_proxies);
	if (r != 0) {
		site_set_free(snap->sites);
		net_cidrs_free(snap->proxies);
		free(snap);
		return r;
	}
	snap->cfg = cfg;
	*out = snap;
	return 0;
}

void snapshot_unref(struct snapshot *snap)
{
	if (!snap || atomic_fetch_sub(&snap->refs, 1) != 1)
		return;
	config_free(snap->cfg);
	site_set_free(snap->sites);
	net_cidrs_free(snap->proxies);
	free(snap);
}

struct snapshot *snapshot_ref(struct server *s)
{
	struct snapshot *snap;

	pthread_mutex_lock(&s->snap_lock);
	snap = s->snap;
	atomic_fetch_add(&snap->refs, 1);
	pthread_mutex_unlock(&s->snap_lock);
	return snap;
}

void server_set_snapshot(struct server *s, struct snapshot *snap)
{
	struct snapshot *old;

	pthread_mutex_lock(&s->snap_lock);
	old = s->snap;
	s->snap = snap;
	pthread_mutex_unlock(&s->snap_lock);
	snapshot_unref(old);
}

void reply_header(struct reply *rep, const char *name, const char *value)
{
	if (rep->n_headers == sizeof(rep->headers) / sizeof(rep->headers[0]))
		return;
	rep->headers[rep->n_headers].name = name;
	snprintf(rep->headers[rep->n_headers].value, sizeof(rep->headers[0].value), "%s", value);
	rep->n_headers++;
}

void etag_of(const char *body, size_t len, char etag[ETAG_MAX])
{
	etag_keyed(NULL, 0, body, len, etag);
}

void etag_keyed(const unsigned char *key, size_t keylen, const void *body, size_t len,
		char etag[ETAG_MAX])
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), body, len, key, keylen);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(etag, ETAG_MAX, "\"%s\"", hex);
}

void reply_error(struct reply *rep, unsigned status, const char *code, const char *message)
{
	json_decref(rep->json);
	rep->status = status;
	rep->json = json_pack("{s:s, s:s}", "error", code, "message", message);
}

void reply_internal(struct reply *rep)
{
	reply_error(rep, 500, "internal", "The server failed to handle this request.");
}

void reply_comment_error(struct reply *rep, int r, const struct comment_error *err)
{
	if (r > 0)
		reply_error(rep, (unsigned)err->status, err->code, err->message);
	else if (r == -ENOTCONN) /* a PostgreSQL database out of reach (store_row) */
		reply_error(rep, 503, "unavailable",
			    "The database cannot be reached right now. Please try again later.");
	else
		reply_internal(rep);
}

json_t *request_json(struct request *req, struct reply *rep)
{
	struct comment_error err;
	json_t *root = NULL;

	if (wire_json(req->body.data, req->body.len, &root, &err) != 0)
		reply_comment_error(rep, COMMENT_INVALID, &err);
	return root;
}

uint64_t server_client_key(struct server *s, const struct net_addr *client)
{
	unsigned char h[KEYS_HASH_BYTES], id[17];
	struct net_addr net;
	uint64_t key;

	net_client_network(client, &net);
	id[0] = (unsigned char)net.family;
	memcpy(id + 1, net.bytes, sizeof(net.bytes));
	keys_hash(s->keys, KEYS_IP, id, sizeof(id), h);
	memcpy(&key, h, sizeof(key));
	return key;
}

uint64_t request_client_key(struct request *req)
{
	return server_client_key(req->server, &req->client);
}

void request_site_of(struct request *req, const struct site *site, struct submit_site *out)
{
	*out = (struct submit_site){
	    .id = site->id,
	    .cfg = site->cfg,
	    .keys = req->server->keys,
	    .classifier = req->server->classifier,
	    .cutoffs = req->server->cutoffs,
	    .policy = site->policy,
	    .classify = &site->classify,
	    .host = site->host,
	    .origins = site->origins,
	};
}

int request_site(struct request *req, const char *named, struct submit_site *out, struct reply *rep)
{
	const char *arg = request_arg(req, "site");
	const struct site *site = NULL;
	struct comment_error err = {0};
	struct site_hint hint = {
	    .named = named ? named : arg,
	    .origin = request_header(req, "Origin"),
	    .referer = request_header(req, "Referer"),
	    .host = request_header(req, "Host"),
	};
	int r;

	if (named && arg && strcmp(named, arg) != 0) {
		reply_error(rep, 400, "invalid_site", "The site field and ?site= name two sites.");
		return 1;
	}
	r = site_pick(req->snap->sites, &hint, &site, &err);
	if (r != 0) {
		reply_comment_error(rep, r, &err);
		return r;
	}
	request_site_of(req, site, out);
	return 0;
}

void request_submission(struct request *req, enum submit_origin origin, struct submit_request *out)
{
	*out = (struct submit_request){
	    .origin = origin,
	    .client = &req->client,
	    .ip = req->client_ip,
	    .user_agent = request_header(req, "User-Agent"),
	    .referrer = request_header(req, "Referer"),
	    .render_seconds = -1,
	    .now = (int64_t)time(NULL),
	};
}

const char *request_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_arg(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* MHD's own messages can quote a request's path or name an address:
 * log_foreign keeps them out of the log unless nothing in them could be. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_foreign("http", fmt, ap);
}

/* Matches url against a route path segment by segment; "{id}" takes a
 * positive decimal integer into *id. */
static bool route_match(const char *pattern, const char *url, int64_t *id)
{
	while (*pattern && *url) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			long long v = 0;
			size_t digits = 0;
			while (url[digits] >= '0' && url[digits] <= '9') {
				if (digits == 18)
					return false;
				v = v * 10 + (url[digits] - '0');
				digits++;
			}
			if (digits == 0 || v == 0 || (url[digits] != '/' && url[digits] != '\0'))
				return false;
			*id = v;
			url += digits;
			pattern += 4;
			continue;
		}
		if (*pattern != *url)
			return false;
		pattern++;
		url++;
	}
	return *pattern == '\0' && *url == '\0';
}

static const struct route *find_route(const struct server *s, const char *url, int64_t *id,
				      const struct route_table **table)
{
	for (size_t t = 0; t < s->n_tables; t++) {
		for (size_t i = 0; i < s->tables[t]->count; i++) {
			if (route_match(s->tables[t]->routes[i].path, url, id)) {
				*table = s->tables[t];
				return &s->tables[t]->routes[i];
			}
		}
	}
	return NULL;
}

static route_handler handler_for(const struct route *r, const char *method)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return r->get;
	if (strcmp(method, "POST") == 0)
		return r->post;
	if (strcmp(method, "PATCH") == 0)
		return r->patch;
	if (strcmp(method, "DELETE") == 0)
		return r->del;
	return NULL;
}

static bool content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (!ct || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static void add_common_headers(struct request *req, struct MHD_Response *resp, bool json)
{
	const char *origin = request_header(req, "Origin");

	if (json)
		MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	/* CORS: only the origins of a configured site may read answers. */
	if (origin && req->snap && site_set_by_origin(req->snap->sites, origin, strlen(origin)))
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
}

/* Every answer may differ by the request's Origin (the CORS header above),
 * so every answer says so, with or without an Origin in the request: a
 * shared cache in front (nginx, a CDN) that kept an answer to a request
 * without one must not hand it to a browser on a blog's origin, which would
 * refuse it.  One Vary header, the handler's own (Accept-Language) first. */
static void add_vary(struct MHD_Response *resp)
{
	const char *own = MHD_get_response_header(resp, "Vary");
	char both[128];

	if (!own) {
		MHD_add_response_header(resp, "Vary", "Origin");
		return;
	}
	snprintf(both, sizeof(both), "%s, Origin", own);
	MHD_del_response_header(resp, "Vary", own);
	MHD_add_response_header(resp, "Vary", both);
}

/* A shared body and its tail, released when MHD is done sending. */
struct shared_answer {
	struct cache_body *body;
	char *tail;
};

static void shared_answer_free(void *cls)
{
	struct shared_answer *sa = cls;

	cache_body_unref(sa->body);
	free(sa->tail);
	free(sa);
}

/* Below this, a shared body is copied into the answer: libmicrohttpd sends
 * a buffer and its headers in one system call (an iovec answer takes two),
 * and a copy this small costs less than the call; above it, the body is
 * sent from where it is, however many connections send it. */
#define SHARE_MIN (32 * 1024)

/* The shared body (without its last byte) and the tail, copied into one
 * buffer. */
static struct MHD_Response *copied_response(struct reply *rep)
{
	size_t head = rep->shared->len - 1, tail = strlen(rep->tail);
	char *buf = malloc(head + tail);
	struct MHD_Response *resp;

	if (!buf)
		return NULL;
	memcpy(buf, rep->shared->data, head);
	memcpy(buf + head, rep->tail, tail);
	resp = MHD_create_response_from_buffer(head + tail, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(buf);
	return resp;
}

/* A response sent from the shared body (without its last byte) and the
 * tail; takes both from rep.  NULL on failure (rep keeps them). */
static struct MHD_Response *shared_response(struct reply *rep)
{
	struct shared_answer *sa;
	struct MHD_IoVec iov[2];
	struct MHD_Response *resp;

	if (rep->shared->len == 0 || !rep->tail)
		return NULL;
	if (rep->shared->len < SHARE_MIN)
		return copied_response(rep);
	sa = malloc(sizeof(*sa));
	if (!sa)
		return NULL;
	iov[0] = (struct MHD_IoVec){rep->shared->data, rep->shared->len - 1};
	iov[1] = (struct MHD_IoVec){rep->tail, strlen(rep->tail)};
	resp = MHD_create_response_from_iovec(iov, 2, shared_answer_free, sa);
	if (!resp) {
		free(sa);
		return NULL;
	}
	*sa = (struct shared_answer){rep->shared, rep->tail};
	rep->shared = NULL;
	rep->tail = NULL;
	return resp;
}

static void reply_release(struct reply *rep)
{
	json_decref(rep->json);
	rep->json = NULL;
	free(rep->owned_location);
	rep->owned_location = NULL;
	free(rep->text);
	rep->text = NULL;
	cache_body_unref(rep->shared);
	rep->shared = NULL;
	free(rep->tail);
	rep->tail = NULL;
}

static enum MHD_Result send_reply(struct request *req, struct reply *rep)
{
	struct MHD_Response *resp = NULL;
	char *body = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	char num[16];

	if (rep->json && !rep->not_modified) {
		body = json_dumps(rep->json, JSON_COMPACT);
		if (!body) {
			rep->status = 500;
			body = strdup("{\"error\":\"internal\",\"message\":\"The server could not "
				      "build its answer.\"}");
		}
		len = body ? strlen(body) : 0;
	}
	if (!rep->json && rep->text && !rep->not_modified) {
		body = rep->text;
		rep->text = NULL;
		len = strlen(body);
	}
	if (!rep->json && !body && rep->shared && !rep->not_modified) {
		resp = shared_response(rep);
		len = resp ? 1 : 0;
	} else {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp) {
		free(body);
		reply_release(rep);
		return MHD_NO;
	}
	add_common_headers(req, resp, rep->json != NULL && !rep->not_modified);
	if (!rep->json && len)
		MHD_add_response_header(resp, "Content-Type",
					rep->content_type ? rep->content_type
							  : "text/plain; charset=utf-8");
	for (unsigned i = 0; i < rep->n_headers; i++)
		MHD_add_response_header(resp, rep->headers[i].name, rep->headers[i].value);
	add_vary(resp);
	if (rep->location)
		MHD_add_response_header(resp, "Location", rep->location);
	if (rep->allow)
		MHD_add_response_header(resp, "Allow", rep->allow);
	if (rep->retry_after) {
		snprintf(num, sizeof(num), "%u", rep->retry_after);
		MHD_add_response_header(resp, "Retry-After", num);
	}
	if (rep->etag[0])
		MHD_add_response_header(resp, "ETag", rep->etag);
	/* A handler's own Cache-Control (static assets) wins over the default. */
	if (!MHD_get_response_header(resp, "Cache-Control")) {
		if (rep->etag[0])
			MHD_add_response_header(resp, "Cache-Control", "no-cache");
		else if (rep->status != 204)
			MHD_add_response_header(resp, "Cache-Control", "no-store");
	}
	if (rep->status == 204 && req->route) {
		/* CORS preflight. */
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", req->route->allow);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Content-Type, Authorization, If-None-Match, X-Edit-Token");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	req->status = rep->not_modified ? 304 : rep->status;
	ret = MHD_queue_response(req->conn, req->status, resp);
	MHD_destroy_response(resp);
	reply_release(rep);
	return ret;
}

static enum MHD_Result send_error(struct request *req, unsigned status, const char *code,
				  const char *message, const char *allow)
{
	struct reply rep = {0};

	reply_error(&rep, status, code, message);
	rep.allow = allow;
	return send_reply(req, &rep);
}

static void request_free(struct request *req)
{
	if (!req)
		return;
	if (req->deferred) { /* answered, never sent */
		reply_release(req->deferred);
		free(req->deferred);
	}
	snapshot_unref(req->snap);
	free(req->scope);
	buf_free(&req->body);
	free(req);
}

/* What the log may say about a request: a path that matched a route (whose
 * patterns admit only digits besides their fixed text) and a known method.
 * Anything else a client sends could be an e-mail or a client address. */
static const char *log_path(const struct request *req)
{
	return req->route ? req->url : "(unknown path)";
}

static const char *log_method(const struct request *req)
{
	static const char *const known[] = {"GET",     "HEAD", "POST",	"PATCH",  "DELETE",
					    "OPTIONS", "PUT",  "TRACE", "CONNECT"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(req->method, known[i]) == 0)
			return req->method;
	return "(unknown method)";
}

/* The level of a finished request's line.  The journal is not an access
 * log (the reverse proxy keeps one): a successful request is a debug line,
 * posts and counts included (at 2,000 posts and 10,000 counts a second an
 * info line each flooded the journal), except an administrator's change
 * (moderation, tokens, erasure: what a host wants to find again); a refused
 * or failed request stays at info. */
static enum log_level completed_level(const struct request *req)
{
	bool reads = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
		     strcmp(req->method, "OPTIONS") == 0;

	if (req->status >= 400)
		return LOG_LEVEL_INFO;
	if (!reads && req->route && strncmp(req->url, "/api/v1/admin/", 14) == 0)
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_DEBUG;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct request *req = *req_cls;

	if (!req)
		return;
	/* The connection now waits for its next request's headers. */
	guard_idle(cls, conn);
	if (req->status)
		log_msg(completed_level(req), "%s %s %u %.1fms", log_method(req), log_path(req),
			req->status, (monotonic_seconds() - req->started) * 1000.0);
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s aborted", log_method(req), log_path(req));
	request_free(req);
	*req_cls = NULL;
}

/* Counts the request's Content-Length header lines. */
static enum MHD_Result count_content_length(void *cls, enum MHD_ValueKind kind, const char *key,
					    const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, "Content-Length") == 0)
		(*(unsigned *)cls)++;
	return MHD_YES;
}

/* Finds a query argument whose name or value holds a NUL (%00): the C-string
 * lookups would silently cut it short. */
static enum MHD_Result find_nul_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		*(bool *)cls = true;
		return MHD_NO;
	}
	return MHD_YES;
}

#define XFF_LINES_MAX 64

struct xff_lines {
	const char *line[XFF_LINES_MAX];
	size_t n;
};

/* Collects the X-Forwarded-For header lines in order; past
 * XFF_LINES_MAX, the last ones (the client address is read from the
 * right). */
static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct xff_lines *x = cls;

	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
		return MHD_YES;
	if (x->n == XFF_LINES_MAX) {
		memmove(x->line, x->line + 1, (XFF_LINES_MAX - 1) * sizeof(x->line[0]));
		x->n--;
	}
	x->line[x->n++] = value;
	return MHD_YES;
}

/* A new request's context with its client address. */
static struct request *request_new(struct server *s, struct MHD_Connection *conn, const char *url,
				   const char *method)
{
	struct request *req = calloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *ci;
	struct net_addr peer = {0};
	struct xff_lines xff = {0};

	if (!req)
		return NULL;
	req->server = s;
	req->conn = conn;
	req->method = method;
	req->started = monotonic_seconds();
	req->snap = snapshot_ref(s);
	snprintf(req->url, sizeof(req->url), "%s", url);
	buf_init(&req->body, req->snap->cfg->max_body);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr)
		net_from_sockaddr(ci->client_addr, &peer);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_xff, &xff);
	net_client_addr_lines(&peer, xff.line, xff.n, req->snap->proxies, &req->client);
	net_format(&req->client, req->client_ip);
	return req;
}

/* Adds up the bytes of the query arguments (name=value&). */
static enum MHD_Result add_arg_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
				     size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	(void)key;
	(void)value;
	*(size_t *)cls += key_size + value_size + 2;
	return MHD_YES;
}

/* Requests MHD let through but HTTP refuses: an oversized URL (414) or
 * header block (431), an HTTP/1.1 request without Host (RFC 9112 3.2).
 * 0, or the error in rep. */
static int check_shape(struct request *req, const char *url, const char *version, struct reply *rep)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	size_t url_bytes = strlen(url);

	MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, add_arg_bytes, &url_bytes);
	if (url_bytes > MAX_URL_BYTES) {
		reply_error(rep, 414, "uri_too_long",
			    "The URL is longer than this server accepts (8 KiB).");
		return 1;
	}
	if (ci && ci->header_size > MAX_HEADER_BYTES) {
		reply_error(rep, 431, "header_too_large",
			    "The request headers are larger than this server accepts (16 KiB).");
		return 1;
	}
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !request_header(req, "Host")) {
		reply_error(rep, 400, "invalid_request",
			    "An HTTP/1.1 request needs a Host header.");
		return 1;
	}
	return 0;
}

/* Ambiguous framing, the stuff of request smuggling (RFC 9112 6.1, 6.3), and
 * query arguments with a NUL.  0, or the error in rep. */
static int check_framing(struct request *req, struct reply *rep)
{
	const char *te = request_header(req, "Transfer-Encoding");
	unsigned n_cl = 0;
	bool nul_arg = false;

	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_content_length, &n_cl);
	if (n_cl > 1 || (n_cl && te)) {
		reply_error(rep, 400, "invalid_request",
			    "Send one Content-Length, or Transfer-Encoding: chunked, not both.");
		return 1;
	}
	if (te && strcasecmp(te, "chunked") != 0) {
		reply_error(rep, 501, "not_implemented",
			    "Only the chunked transfer coding is supported.");
		return 1;
	}
	MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, find_nul_arg, &nul_arg);
	if (nul_arg) {
		reply_error(rep, 400, "invalid_text", "Query arguments must not contain NUL.");
		return 1;
	}
	return 0;
}

/* A POST or PATCH: the content type the route takes and an announced
 * length within max_body (415 and 413 before the body is read).  0, or the
 * error in rep. */
static int check_body(struct request *req, struct reply *rep)
{
	const char *cl = request_header(req, "Content-Length");
	const char *ct = request_header(req, "Content-Type");
	unsigned body = req->route->body;
	unsigned long long n;

	if ((body & BODY_JSON) && content_type_is(ct, "application/json")) {
		req->is_form = false;
	} else if ((body & BODY_FORM) && content_type_is(ct, "application/x-www-form-urlencoded")) {
		req->is_form = true;
	} else if (body & BODY_ANY) {
		req->is_form = false; /* read, capped, and left to the handler */
	} else if (!((body & BODY_OPTIONAL) && !ct && (!cl || strcmp(cl, "0") == 0) &&
		     !request_header(req, "Transfer-Encoding"))) {
		reply_error(rep, 415, "unsupported_media_type",
			    (body & BODY_FORM)
				? "Send application/json or application/x-www-form-urlencoded."
				: "Send application/json.");
		return 1;
	}
	if (cl && (text_parse_uint(cl, req->snap->cfg->max_body, &n) != 0)) {
		reply_error(rep, 413, "body_too_large",
			    "The request body is larger than this server accepts.");
		return 1;
	}
	return 0;
}

/* First call: route, check method, authentication, content type and
 * announced length. */
static enum MHD_Result begin(struct server *s, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, void **req_cls)
{
	struct request *req = request_new(s, conn, url, method);
	const struct route_table *table = NULL;
	struct reply rep = {0};

	guard_busy(s, conn); /* the headers are in */
	*req_cls = req;
	if (!req)
		return MHD_NO;
	if (check_shape(req, url, version, &rep) != 0 || check_framing(req, &rep) != 0)
		return send_reply(req, &rep);
	req->route = find_route(s, url, &req->id, &table);
	if (!req->route)
		return send_error(req, 404, "not_found", "There is nothing at this address.", NULL);
	if (strcmp(method, "OPTIONS") == 0)
		return MHD_YES;
	if (!handler_for(req->route, method))
		return send_error(req, 405, "method_not_allowed",
				  "This address does not accept that method.", req->route->allow);
	if (table->authenticate && table->authenticate(req, &rep) != 0)
		return send_reply(req, &rep);
	if ((strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) &&
	    check_body(req, &rep) != 0)
		return send_reply(req, &rep);
	return MHD_YES;
}

/* Runs the route's handler for req into rep. */
static void answer(struct request *req, struct reply *rep)
{
	rep->status = 500;
	handler_for(req->route, req->method)(req, rep);
	if (rep->status < 100 || rep->status > 599 ||
	    (!rep->json && !rep->text && rep->status >= 400))
		reply_internal(rep);
	if (rep->etag[0] && request_etag_matches(req, rep->etag))
		rep->not_modified = true;
}

bool request_etag_matches(struct request *req, const char *etag)
{
	const char *inm = request_header(req, "If-None-Match");

	return inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
}

/* Every method but the reading ones may wait for a commit, unless the
 * route says its POST only reads. */
static bool writes(const struct request *req)
{
	if (req->route->body & BODY_READS)
		return false;
	return strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
	       strcmp(req->method, "OPTIONS") != 0;
}

static void suspend_request(void *arg)
{
	struct request *req = arg;

	MHD_suspend_connection(req->conn);
}

/* On a writer thread: the answer, then the connection resumed, after
 * which req may be gone (access_handler sends req->deferred). */
static void run_deferred(void *arg)
{
	struct request *req = arg;

	answer(req, req->deferred);
	MHD_resume_connection(req->conn);
}

/* Hands req to a writer thread with its connection suspended.  0 handed
 * over; otherwise (out of memory, the writers closing) the caller answers
 * it here. */
static int defer(struct server *s, struct request *req)
{
	if (!s->writers)
		return 1;
	req->deferred = calloc(1, sizeof(*req->deferred));
	if (!req->deferred)
		return 1;
	req->job = (struct writer_job){run_deferred, req, NULL};
	if (writers_submit(s->writers, &req->job, suspend_request) == 0)
		return 0;
	free(req->deferred);
	req->deferred = NULL;
	return 1;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	struct server *s = cls;
	struct request *req = *req_cls;
	struct reply rep = {0};

	if (!req)
		return begin(s, conn, url, method, version, req_cls);
	if (req->status)
		return MHD_YES; /* answered in begin(); MHD discards the rest */
	if (req->deferred) {	/* resumed: a writer thread answered */
		enum MHD_Result ret = send_reply(req, req->deferred);

		free(req->deferred);
		req->deferred = NULL;
		return ret;
	}

	if (*upload_data_size) {
		/* A deadline for the whole body: the idle timeout alone lets a
		 * client that trickles a byte now and then hold a connection. */
		if (monotonic_seconds() - req->started > (double)req->snap->cfg->request_timeout) {
			log_info("%s %s cut off: body not sent within %us", log_method(req),
				 log_path(req), req->snap->cfg->request_timeout);
			return MHD_NO;
		}
		if (!req->too_big) {
			int r = buf_append(&req->body, upload_data, *upload_data_size);
			if (r == BUF_TOO_BIG)
				req->too_big = true;
			else if (r < 0)
				return MHD_NO;
		}
		if (req->too_big) {
			req->discarded += *upload_data_size;
			if (req->discarded > DISCARD_MAX)
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (req->too_big)
		return send_error(req, 413, "body_too_large",
				  "The request body is larger than this server accepts.", NULL);
	if (strcmp(method, "OPTIONS") == 0) {
		rep.status = 204;
		rep.allow = req->route->allow;
		return send_reply(req, &rep);
	}
	if (writes(req) && defer(s, req) == 0)
		return MHD_YES; /* answered when a writer resumes the connection */
	answer(req, &rep);
	return send_reply(req, &rep);
}

int http_start(struct server *s, int listen_fd, const struct route_table *const *tables, size_t n)
{
	const struct config *cfg = s->snap->cfg;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	struct net_addr addr;
	struct sockaddr_storage ss = {0};

	s->tables = tables;
	s->n_tables = n;
	if (listen_fd < 0) {
		if (net_parse_listen(cfg->listen, &addr) != 0)
			return -1;
		if (addr.family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, addr.bytes, 16);
			in6->sin6_port = htons(addr.port);
			flags |= MHD_USE_IPv6;
		} else {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, addr.bytes, 4);
			in->sin_port = htons(addr.port);
		}
	}
	if (guard_start(s) != 0)
		return -1;
	/* Connections are admitted by guard_accept (per-client and total caps)
	 * and watched by guard_notify (the header deadline). */
	if (listen_fd >= 0)
		s->mhd = MHD_start_daemon(
		    flags, 0, guard_accept, s, access_handler, s, MHD_OPTION_EXTERNAL_LOGGER,
		    mhd_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		    MHD_OPTION_NOTIFY_CONNECTION, guard_notify, s, MHD_OPTION_THREAD_POOL_SIZE,
		    cfg->threads, MHD_OPTION_CONNECTION_LIMIT, guard_mhd_limit(cfg),
		    MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    MHD_POOL_BYTES, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
		    MHD_OPTION_END);
	else
		s->mhd = MHD_start_daemon(
		    flags, addr.port, guard_accept, s, access_handler, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED,
		    completed, s, MHD_OPTION_NOTIFY_CONNECTION, guard_notify, s,
		    MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
		    guard_mhd_limit(cfg), MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, MHD_POOL_BYTES, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&ss, MHD_OPTION_END);
	if (!s->mhd) {
		log_err("http: cannot listen on %s",
			listen_fd >= 0 ? "the socket from systemd" : cfg->listen);
		guard_stop(s);
		return -1;
	}
	return 0;
}

unsigned http_port(struct server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void http_stop(struct server *s, unsigned grace_seconds)
{
	double deadline = monotonic_seconds() + grace_seconds;
	MHD_socket fd;

	if (!s->mhd)
		return;
	fd = MHD_quiesce_daemon(s->mhd);
	while (monotonic_seconds() < deadline) {
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!info || info->num_connections == 0)
			break;
		usleep(20000);
	}
	/* No connection may stay suspended into MHD_stop_daemon: let every
	 * handed-over write finish and resume (later ones run in place). */
	writers_close(s->writers);
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
	guard_stop(s);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}
