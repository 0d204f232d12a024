/* routes: the v1 API's handlers.  Each turns a request into a reply using
 * lib/ modules; no SQL and no policy lives here. */
#include "server.h"

#include "comment.h"
#include "form.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNTS_MAX_PATHS 200

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void internal_error(struct reply *rep)
{
	reply_error(rep, 500, "internal", "The server failed to handle this request.");
}

/* Parses the body as a JSON value, answering 400 on malformed JSON. */
static json_t *parse_json_body(struct request *req, struct reply *rep)
{
	json_error_t jerr;
	json_t *root;
	char msg[300];

	root = json_loadb(req->body.data ? req->body.data : "", req->body.len,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(msg, sizeof(msg), "The body is not valid JSON: %s (line %d, column %d).",
			 jerr.text, jerr.line, jerr.column);
		reply_error(rep, 400, "invalid_json", msg);
	}
	return root;
}

/* Copies a string member into a writable buffer owned by the caller. */
static int take_string(json_t *v, char **out, const char *key, struct reply *rep)
{
	char msg[120];

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "The field \"%s\" must be a string.", key);
		reply_error(rep, 400, "invalid_type", msg);
		return 1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		reply_error(rep, 400, "invalid_text", "Text fields must not contain NUL.");
		return 1;
	}
	*out = strdup(json_string_value(v));
	if (!*out) {
		internal_error(rep);
		return -ENOMEM;
	}
	return 0;
}

struct submission {
	struct comment_input in;
	char *redirect; /* form posts only */
};

static void submission_clear(struct submission *sub)
{
	free(sub->in.thread);
	free(sub->in.author);
	if (sub->in.email)
		sodium_memzero(sub->in.email, strlen(sub->in.email));
	free(sub->in.email);
	free(sub->in.url);
	free(sub->in.text);
	free(sub->redirect);
}

static const char *const comment_fields[] = {"thread", "parent", "author", "email",
					     "url",    "text",	 NULL};

static bool known_field(const char *key, bool form)
{
	for (size_t i = 0; comment_fields[i]; i++) {
		if (strcmp(comment_fields[i], key) == 0)
			return true;
	}
	return form && strcmp(key, "redirect") == 0;
}

static int submission_from_json(struct request *req, struct reply *rep, struct submission *sub)
{
	json_t *root = parse_json_body(req, rep), *v;
	const char *key;
	char msg[160];
	int r = 1;

	if (!root)
		return 1;
	if (!json_is_object(root)) {
		reply_error(rep, 400, "invalid_json", "The body must be a JSON object.");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		if (!known_field(key, false)) {
			snprintf(msg, sizeof(msg), "The field \"%.60s\" is not known.", key);
			reply_error(rep, 400, "unknown_field", msg);
			goto out;
		}
	}
	v = json_object_get(root, "parent");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			reply_error(rep, 400, "invalid_type",
				    "The field \"parent\" must be a comment id (a positive whole "
				    "number) or null.");
			goto out;
		}
		sub->in.parent = json_integer_value(v);
	}
	if (take_string(json_object_get(root, "thread"), &sub->in.thread, "thread", rep) ||
	    take_string(json_object_get(root, "author"), &sub->in.author, "author", rep) ||
	    take_string(json_object_get(root, "email"), &sub->in.email, "email", rep) ||
	    take_string(json_object_get(root, "url"), &sub->in.url, "url", rep) ||
	    take_string(json_object_get(root, "text"), &sub->in.text, "text", rep))
		goto out;
	r = 0;
out:
	json_decref(root);
	return r;
}

static int form_take(const struct form *f, const char *name, char **out, struct reply *rep)
{
	const char *v = form_get(f, name);

	if (!v)
		return 0;
	*out = strdup(v);
	if (!*out) {
		internal_error(rep);
		return -ENOMEM;
	}
	return 0;
}

static int submission_from_form(struct request *req, struct reply *rep, struct submission *sub)
{
	struct form *f = NULL;
	const char *parent;
	char msg[160];
	int r;

	r = form_parse(&f, req->body.data ? req->body.data : "", req->body.len);
	if (r < 0) {
		internal_error(rep);
		return r;
	}
	if (r > 0) {
		reply_error(rep, 400, "invalid_form", "The form data is malformed.");
		return 1;
	}
	r = 1;
	for (size_t i = 0; i < form_size(f); i++) {
		const char *name = form_name(f, i);
		if (known_field(name, true) && form_count(f, name) > 1) {
			snprintf(msg, sizeof(msg), "The field \"%s\" appears more than once.",
				 name);
			reply_error(rep, 400, "duplicate_field", msg);
			goto out;
		}
	}
	parent = form_get(f, "parent");
	if (parent && *parent) {
		char *end;
		long long p;
		errno = 0;
		p = strtoll(parent, &end, 10);
		if (errno || *end || p < 1) {
			reply_error(rep, 400, "invalid_type",
				    "The field \"parent\" must be a comment id.");
			goto out;
		}
		sub->in.parent = p;
	}
	if (form_take(f, "thread", &sub->in.thread, rep) ||
	    form_take(f, "author", &sub->in.author, rep) ||
	    form_take(f, "email", &sub->in.email, rep) || form_take(f, "url", &sub->in.url, rep) ||
	    form_take(f, "text", &sub->in.text, rep) ||
	    form_take(f, "redirect", &sub->redirect, rep))
		goto out;
	r = 0;
out:
	form_free(f);
	return r;
}

/* Where a form post returns to: its redirect field when that is on a
 * configured origin, else the thread's page; plus #comment-<id>. */
static char *form_location(struct request *req, const struct submission *sub, json_int_t id)
{
	const char *first = net_origins_first(req->snap->origins);
	char *loc = NULL;
	size_t base_len;
	const char *base;
	int n;

	if (sub->redirect && net_redirect_allowed(req->snap->origins, sub->redirect)) {
		base = sub->redirect;
		base_len = strcspn(base, "#");
		n = asprintf(&loc, "%.*s#comment-%lld", (int)base_len, base, (long long)id);
	} else {
		n = asprintf(&loc, "%s%s#comment-%lld", first ? first : "", sub->in.thread,
			     (long long)id);
	}
	return n < 0 ? NULL : loc;
}

/* The publish decision for a validated submission. */
static void decide(struct request *req, const struct comment_input *in, struct comment_verdict *v)
{
	struct comment_facts facts = {
	    .moderation = req->snap->cfg->moderation,
	    .verdict = NULL,
	    .previously_approved = false,
	};

	(void)in;
	v->score = -1;
	v->verdict = NULL;
	v->tokens = NULL;
	v->status = comment_decide(&facts);
}

static uint64_t client_key(struct request *req)
{
	unsigned char h[KEYS_HASH_BYTES];
	uint64_t key;

	keys_hash(req->server->keys, KEYS_IP, req->client.bytes, sizeof(req->client.bytes), h);
	memcpy(&key, h, sizeof(key));
	return key;
}

static void post_comment(struct request *req, struct reply *rep)
{
	struct submission sub = {0};
	struct comment_error err = {0};
	struct comment_verdict verdict;
	struct store_conn *c;
	json_t *created = NULL;
	unsigned wait;
	int r;

	wait = ratelimit_take(req->server->post_limit, client_key(req), monotonic_now());
	if (wait) {
		reply_error(rep, 429, "rate_limited",
			    "Too many comments from your address; please wait a moment.");
		rep->retry_after = wait;
		return;
	}
	r = req->is_form ? submission_from_form(req, rep, &sub)
			 : submission_from_json(req, rep, &sub);
	if (r)
		goto out;
	sub.in.ip = req->client_ip;
	sub.in.user_agent = request_header(req, "User-Agent");
	sub.in.referrer = request_header(req, "Referer");
	r = comment_validate(req->snap->cfg, &sub.in, &err);
	if (r > 0) {
		reply_error(rep, (unsigned)err.status, err.code, err.message);
		goto out;
	}
	if (r < 0) {
		internal_error(rep);
		goto out;
	}
	decide(req, &sub.in, &verdict);

	c = store_acquire(req->server->store);
	r = comment_create(c, req->snap->cfg, req->server->keys, &sub.in, &verdict, &created, &err);
	store_release(req->server->store, c);
	if (r > 0) {
		reply_error(rep, (unsigned)err.status, err.code, err.message);
		goto out;
	}
	if (r < 0) {
		internal_error(rep);
		goto out;
	}
	if (req->is_form) {
		rep->owned_location =
		    form_location(req, &sub, json_integer_value(json_object_get(created, "id")));
		if (!rep->owned_location) {
			json_decref(created);
			internal_error(rep);
			goto out;
		}
		rep->location = rep->owned_location;
		rep->status = 303;
		rep->json = created;
	} else {
		rep->status = 201;
		rep->json = created;
	}
out:
	submission_clear(&sub);
}

static int parse_uint_arg(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s)
		return 0;
	if (*s < '0' || *s > '9')
		return 1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return 1;
	return 0;
}

static void set_etag(struct reply *rep)
{
	unsigned char h[16];
	char hex[33];
	char *body = json_dumps(rep->json, JSON_COMPACT);

	if (!body)
		return;
	crypto_generichash(h, sizeof(h), (const unsigned char *)body, strlen(body), NULL, 0);
	free(body);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(rep->etag, sizeof(rep->etag), "\"%s\"", hex);
}

static void get_comments(struct request *req, struct reply *rep)
{
	const char *thread = request_arg(req, "thread");
	unsigned long long limit = 0, after = 0;
	struct comment_error err;
	struct store_conn *c;
	json_t *out = NULL;
	char msg[120];
	int r;

	if (!thread) {
		reply_error(rep, 400, "missing_thread",
			    "Add ?thread=<page path> to say which thread to read.");
		return;
	}
	if (comment_thread_check(thread, &err) != 0) {
		reply_error(rep, (unsigned)err.status, err.code, err.message);
		return;
	}
	if (parse_uint_arg(request_arg(req, "limit"), req->snap->cfg->page_max, &limit) != 0) {
		snprintf(msg, sizeof(msg), "limit must be a whole number from 0 to %u.",
			 req->snap->cfg->page_max);
		reply_error(rep, 400, "invalid_limit", msg);
		return;
	}
	if (parse_uint_arg(request_arg(req, "after"), INT64_MAX, &after) != 0) {
		reply_error(rep, 400, "invalid_after", "after must be a comment id.");
		return;
	}
	c = store_acquire(req->server->store);
	r = comment_thread(c, thread, (unsigned)limit, (int64_t)after, &out);
	store_release(req->server->store, c);
	if (r < 0) {
		internal_error(rep);
		return;
	}
	rep->status = 200;
	rep->json = out;
	set_etag(rep);
}

static void post_counts(struct request *req, struct reply *rep)
{
	json_t *root = parse_json_body(req, rep), *v, *out = NULL;
	struct comment_error err;
	struct store_conn *c;
	char msg[260];
	size_t i;
	int r;

	if (!root)
		return;
	if (!json_is_array(root)) {
		reply_error(rep, 400, "invalid_json",
			    "The body must be a JSON array of thread paths.");
		goto out;
	}
	if (json_array_size(root) > COUNTS_MAX_PATHS) {
		snprintf(msg, sizeof(msg), "Ask for at most %d threads at once.", COUNTS_MAX_PATHS);
		reply_error(rep, 422, "too_many_threads", msg);
		goto out;
	}
	json_array_foreach(root, i, v)
	{
		if (!json_is_string(v)) {
			reply_error(rep, 400, "invalid_type", "Each thread must be a string.");
			goto out;
		}
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			reply_error(rep, 400, "invalid_text", "Thread paths must not contain NUL.");
			goto out;
		}
		if (comment_thread_check(json_string_value(v), &err) != 0) {
			snprintf(msg, sizeof(msg), "Thread %zu: %s", i + 1, err.message);
			reply_error(rep, 422, "invalid_thread", msg);
			goto out;
		}
	}
	c = store_acquire(req->server->store);
	r = comment_counts(c, root, &out);
	store_release(req->server->store, c);
	if (r < 0) {
		internal_error(rep);
		goto out;
	}
	rep->status = 200;
	rep->json = out;
out:
	json_decref(root);
}

static void get_health(struct request *req, struct reply *rep)
{
	bool ok = store_healthy(req->server->store);

	rep->status = ok ? 200 : 503;
	rep->json = json_pack("{s:s, s:s, s:s, s:i}", "status", ok ? "ok" : "unavailable",
			      "version", COMMENTD_VERSION, "database", ok ? "ok" : "unavailable",
			      "schema", store_schema_version());
}

const struct route routes[] = {
    {"/api/v1/comments", "GET, HEAD, POST, OPTIONS", get_comments, post_comment, true, true},
    {"/api/v1/counts", "POST, OPTIONS", NULL, post_counts, true, false},
    {"/api/v1/health", "GET, HEAD, OPTIONS", get_health, NULL, false, false},
};
const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
