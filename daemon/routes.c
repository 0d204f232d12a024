/* routes: the v1 API's handlers.  Each turns a request into a reply using
 * lib/ modules; no SQL and no policy lives here. */
#include "server.h"

#include "cache.h"
#include "comment.h"
#include "form.h"
#include "log.h"
#include "policy.h"
#include "render.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNTS_MAX_PATHS 200

static void internal_error(struct reply *rep)
{
	reply_error(rep, 500, "internal", "The server failed to handle this request.");
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
	char *redirect;	      /* form posts only */
	char *stamp;	      /* the signed render time from GET, if sent */
	bool honeypot_filled; /* the hidden field had a value */
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
	free(sub->stamp);
}

static const char *const comment_fields[] = {"thread", "parent", "author", "email",
					     "url",    "text",	 NULL};

static bool known_field(const struct request *req, const char *key, bool form)
{
	for (size_t i = 0; comment_fields[i]; i++) {
		if (strcmp(comment_fields[i], key) == 0)
			return true;
	}
	return strcmp(key, "stamp") == 0 || strcmp(key, req->snap->cfg->honeypot_field) == 0 ||
	       (form && strcmp(key, "redirect") == 0);
}

/* A filled honeypot: any non-blank value in the hidden field. */
static bool filled(const char *v)
{
	if (!v)
		return false;
	for (; *v; v++) {
		if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
			return true;
	}
	return false;
}

static int submission_from_json(struct request *req, struct reply *rep, struct submission *sub)
{
	json_t *root = request_json(req, rep), *v;
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
		if (!known_field(req, key, false)) {
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
	    take_string(json_object_get(root, "text"), &sub->in.text, "text", rep) ||
	    take_string(json_object_get(root, "stamp"), &sub->stamp, "stamp", rep))
		goto out;
	v = json_object_get(root, req->snap->cfg->honeypot_field);
	sub->honeypot_filled =
	    v && !json_is_null(v) && (!json_is_string(v) || filled(json_string_value(v)));
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
		if (known_field(req, name, true) && form_count(f, name) > 1) {
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
	    form_take(f, "redirect", &sub->redirect, rep) ||
	    form_take(f, "stamp", &sub->stamp, rep))
		goto out;
	sub->honeypot_filled = filled(form_get(f, req->snap->cfg->honeypot_field));
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

/* Seconds since the page was rendered, from a stamp "<unix>.<mac>" that GET
 * handed out; -1 when absent, unverifiable or implausible. */
static long render_seconds(struct request *req, const char *stamp)
{
	unsigned char mac[32];
	const char *dot;
	char *end;
	long long t;
	size_t maclen;
	time_t now = time(NULL);

	if (!stamp || strlen(stamp) > 80)
		return -1;
	dot = strchr(stamp, '.');
	if (!dot || dot == stamp)
		return -1;
	errno = 0;
	t = strtoll(stamp, &end, 10);
	if (errno || end != dot || t <= 0 || t > (long long)now)
		return -1;
	if (sodium_base642bin(mac, sizeof(mac), dot + 1, strlen(dot + 1), NULL, &maclen, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    maclen != sizeof(mac))
		return -1;
	if (keys_mac_verify(req->server->keys, KEYS_STAMP, stamp, (size_t)(dot - stamp), mac) != 0)
		return -1;
	return (long)((long long)now - t);
}

/* A signed render time for the GET answer, echoed back on POST. */
static void make_stamp(struct request *req, char *out, size_t size)
{
	/* One MAC per second and worker thread is plenty. */
	static _Thread_local long long cached_second = -1;
	static _Thread_local char cached[96];
	unsigned char mac[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	long long now = (long long)time(NULL);
	int n;

	if (now != cached_second) {
		n = snprintf(cached, sizeof(cached), "%lld", now);
		keys_mac(req->server->keys, KEYS_STAMP, cached, (size_t)n, mac);
		sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(cached + n, sizeof(cached) - (size_t)n, ".%s", b64);
		cached_second = now;
	}
	snprintf(out, size, "%s", cached);
}

/* Scores the submission and takes the publish decision.  Fills v (its
 * strings point into res, which the caller clears). */
static int decide(struct request *req, struct store_conn *c, const struct submission *sub,
		  struct classify_result *res, struct comment_verdict *v)
{
	const struct comment_input *in = &sub->in;
	struct classify_input ci = {
	    .text = in->text,
	    .author = in->author,
	    .email = in->email,
	    .url = in->url,
	    .ip = in->ip,
	    .user_agent = in->user_agent ? in->user_agent : "",
	    .referrer = in->referrer ? in->referrer : "",
	    .site_host = req->snap->site_host[0] ? req->snap->site_host : NULL,
	    .thread = in->thread,
	    .render_seconds = render_seconds(req, sub->stamp),
	    .honeypot_filled = sub->honeypot_filled,
	};
	unsigned char email_hash[KEYS_HASH_BYTES];
	struct policy_facts pf;
	struct comment_facts facts = {
	    .moderation = req->snap->cfg->moderation,
	    .max_links = req->snap->cfg->max_links,
	    .honeypot_filled = sub->honeypot_filled,
	};
	enum classify_verdict verdict;
	int r;

	r = classifier_score(req->server->classifier, c, &ci, res);
	if (r < 0)
		return r;
	verdict = classify_verdict_for(&req->snap->classify, res->score, res->cold_start,
				       sub->honeypot_filled);
	keys_hash(req->server->keys, KEYS_EMAIL, in->email, strlen(in->email), email_hash);
	policy_check(req->snap->policy, in->text, in->author, in->url, in->email, email_hash,
		     &req->client, &pf);
	facts.verdict = classify_verdict_name(verdict);
	facts.cold_start = res->cold_start;
	facts.score = res->score;
	facts.spam_cutoff = req->snap->classify.spam_cutoff;
	facts.blocklisted = pf.blocklisted;
	facts.allowlisted = pf.allowlisted;
	facts.links = pf.links;
	if (facts.moderation == MODERATION_FIRST) {
		r = comment_previously_approved(c, email_hash);
		if (r < 0)
			return r;
		facts.previously_approved = r == 1;
	}
	v->status = comment_decide(&facts);
	v->score = res->score;
	v->verdict = classify_verdict_name(verdict);
	v->tokens = res->tokens_json;
	v->features = res->features;
	v->features_len = res->features_len;
	return 0;
}

/* What a discarded comment's poster sees: the same as for a held comment. */
static json_t *discarded_reply(const struct submission *sub, struct store_conn *c)
{
	static const char sql_next_id[] =
	    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0) + 1";
	char created[21], avatar[33];
	sqlite3_stmt *st = store_stmt(c, sql_next_id);
	json_int_t id = 1;
	unsigned char rnd[16];

	if (st && sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	comment_format_time((int64_t)time(NULL), created);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(avatar, sizeof(avatar), rnd, sizeof(rnd));
	return json_pack(
	    "{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:s}", "id", id, "thread", sub->in.thread,
	    "parent", sub->in.parent ? json_integer(sub->in.parent) : json_null(), "author",
	    sub->in.author, "url", sub->in.url ? json_string(sub->in.url) : json_null(), "created",
	    created, "html", "", "avatar", avatar, "status", "pending");
}

uint64_t request_client_key(struct request *req)
{
	unsigned char h[KEYS_HASH_BYTES];
	uint64_t key;

	keys_hash(req->server->keys, KEYS_IP, req->client.bytes, sizeof(req->client.bytes), h);
	memcpy(&key, h, sizeof(key));
	return key;
}

/* A browser that posted the plain HTML form (no JavaScript) and gets an
 * error sees a short page with the message and a way back, not JSON.  The
 * status stays the same; API clients (no text/html in Accept) get JSON. */
static void form_error_page(struct request *req, struct reply *rep)
{
	const char *accept = request_header(req, "Accept");
	const char *message;
	char *escaped;

	if (!req->is_form || rep->status < 400 || !rep->json || !accept ||
	    !strstr(accept, "text/html"))
		return;
	message = json_string_value(json_object_get(rep->json, "message"));
	escaped = render_escape(message ? message : "", message ? strlen(message) : 0);
	if (!escaped)
		return;
	if (asprintf(&rep->text,
		     "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width\">"
		     "<title>Comment not posted</title></head><body>"
		     "<h1>Your comment was not posted</h1><p>%s</p>"
		     "<p>Go back to the page, correct it and send it again.</p>"
		     "</body></html>\n",
		     escaped) < 0)
		rep->text = NULL;
	free(escaped);
	if (rep->text) {
		json_decref(rep->json);
		rep->json = NULL;
		rep->content_type = "text/html; charset=utf-8";
		reply_header(rep, "Content-Security-Policy", "default-src 'none'");
	}
}

static void post_comment_json_or_form(struct request *req, struct reply *rep);

static void post_comment(struct request *req, struct reply *rep)
{
	post_comment_json_or_form(req, rep);
	form_error_page(req, rep);
}

static void post_comment_json_or_form(struct request *req, struct reply *rep)
{
	struct submission sub = {0};
	struct comment_error err = {0};
	struct comment_verdict verdict = {0};
	struct classify_result res = {0};
	struct store_conn *c;
	json_t *created = NULL;
	unsigned wait;
	int r;

	wait =
	    ratelimit_take(req->server->post_limit, request_client_key(req), monotonic_seconds());
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
	c = store_acquire(req->server->store);
	r = decide(req, c, &sub, &res, &verdict);
	if (r == 0 && verdict.status == COMMENT_DISCARDED) {
		r = comment_count_discard(c, (int64_t)time(NULL));
		created = discarded_reply(&sub, c);
		if (r == 0 && !created)
			r = -ENOMEM;
		log_info("comment: discarded (%s)",
			 sub.honeypot_filled ? "honeypot" : "classifier score");
	} else if (r == 0) {
		r = comment_create(c, req->snap->cfg, req->server->keys, &sub.in, &verdict,
				   &created, &err);
	}
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
	classify_result_clear(&res);
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

/* A strong ETag from the body's hash. */
static void etag_of(const char *body, char etag[CACHE_ETAG_MAX])
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)body, strlen(body), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(etag, CACHE_ETAG_MAX, "\"%s\"", hex);
}

static void get_comments(struct request *req, struct reply *rep)
{
	const char *thread = request_arg(req, "thread");
	unsigned long long limit = 0, after = 0;
	char key[COMMENT_THREAD_MAX + 48], stamp[96], msg[120];
	struct comment_error err;
	struct store_conn *c;
	json_t *out = NULL;
	char *body = NULL;
	int64_t version = 0;
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
	snprintf(key, sizeof(key), "%llu/%llu/%s", limit, after, thread);
	c = store_acquire(req->server->store);
	r = comment_thread_version(c, thread, &version);
	if (r == 0)
		r = cache_get(req->server->thread_cache, key, version, &body, rep->etag);
	if (r == 1) {
		/* A miss: build the answer and keep it for this version. */
		r = comment_thread(c, thread, (unsigned)limit, (int64_t)after, &out);
		if (r == 0) {
			body = json_dumps(out, JSON_COMPACT);
			r = body ? 0 : -ENOMEM;
		}
		if (r == 0) {
			etag_of(body, rep->etag);
			r = cache_put(req->server->thread_cache, key, version, body, strlen(body),
				      rep->etag);
		}
	}
	store_release(req->server->store, c);
	json_decref(out);
	if (r < 0) {
		free(body);
		rep->etag[0] = '\0';
		internal_error(rep);
		return;
	}
	/* The stamp changes every second; it is spliced into the answer and is
	 * not part of the ETag.  body ends with '}'. */
	make_stamp(req, stamp, sizeof(stamp));
	if (asprintf(&rep->text, "%.*s,\"stamp\":\"%s\"}", (int)strlen(body) - 1, body, stamp) <
	    0) {
		rep->text = NULL;
		free(body);
		rep->etag[0] = '\0';
		internal_error(rep);
		return;
	}
	free(body);
	rep->content_type = "application/json; charset=utf-8";
	rep->status = 200;
}

static void post_counts(struct request *req, struct reply *rep)
{
	json_t *root = request_json(req, rep), *v, *out = NULL;
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

/* PATCH and DELETE /api/v1/comments/{id}: the author's own change, with the
 * edit token from the POST in X-Edit-Token, within the edit window. */
static void author_change(struct request *req, struct reply *rep, bool remove)
{
	const char *token = request_header(req, "X-Edit-Token");
	struct comment_error err = {0};
	struct classify_result res = {0};
	json_t *root = NULL, *text = NULL, *author = NULL, *v;
	const char *key;
	struct store_conn *c;
	bool hold = false;
	int r;

	if (!remove) {
		root = request_json(req, rep);
		if (!root)
			return;
		if (!json_is_object(root)) {
			reply_error(rep, 400, "invalid_json", "The body must be a JSON object.");
			goto out;
		}
		json_object_foreach(root, key, v)
		{
			if (strcmp(key, "text") != 0 && strcmp(key, "author") != 0) {
				reply_error(rep, 400, "unknown_field",
					    "Only text and author can be changed.");
				goto out;
			}
			if (!json_is_string(v) ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				reply_error(rep, 400, "invalid_type",
					    "text and author must be strings.");
				goto out;
			}
		}
		text = json_object_get(root, "text");
		author = json_object_get(root, "author");
		if (!text && !author) {
			reply_error(rep, 422, "nothing_to_change", "Send text, author or both.");
			goto out;
		}
	}
	c = store_acquire(req->server->store);
	if (text) {
		/* An edit is a new text: it must pass the filter again. */
		struct classify_input ci = {
		    .text = json_string_value(text),
		    .author = author ? json_string_value(author) : NULL,
		    .render_seconds = -1,
		};
		enum classify_verdict verdict;
		r = classifier_score(req->server->classifier, c, &ci, &res);
		if (r < 0) {
			store_release(req->server->store, c);
			internal_error(rep);
			goto out;
		}
		verdict =
		    classify_verdict_for(&req->snap->classify, res.score, res.cold_start, false);
		/* The same decision as for a new comment (cold start included); the
		 * author is known, so "first" does not hold again. */
		{
			struct comment_facts facts = {
			    .moderation = req->snap->cfg->moderation,
			    .verdict = classify_verdict_name(verdict),
			    .cold_start = res.cold_start,
			    .score = res.score,
			    .spam_cutoff = req->snap->classify.spam_cutoff,
			    .previously_approved = true,
			    .links = policy_count_links(json_string_value(text)),
			    .max_links = req->snap->cfg->max_links,
			};
			hold = comment_decide(&facts) != COMMENT_PUBLISHED;
		}
	}
	r = comment_author_change(c, req->snap->cfg, req->server->keys, req->id, token,
				  text ? json_string_value(text) : NULL,
				  author ? json_string_value(author) : NULL, remove, hold,
				  (int64_t)time(NULL), &rep->json, &err);
	store_release(req->server->store, c);
	if (r > 0) {
		reply_error(rep, (unsigned)err.status, err.code, err.message);
		goto out;
	}
	if (r < 0) {
		internal_error(rep);
		goto out;
	}
	rep->status = 200;
	if (remove)
		rep->json = json_pack("{s:I, s:b}", "id", (json_int_t)req->id, "deleted", 1);
out:
	classify_result_clear(&res);
	json_decref(root);
}

static void author_edit(struct request *req, struct reply *rep)
{
	author_change(req, rep, false);
}

static void author_delete(struct request *req, struct reply *rep)
{
	author_change(req, rep, true);
}

const struct route public_routes[] = {
    {"/api/v1/comments", "GET, HEAD, POST, OPTIONS", get_comments, post_comment, NULL, NULL,
     BODY_JSON | BODY_FORM, false},
    {"/api/v1/comments/{id}", "PATCH, DELETE, OPTIONS", NULL, NULL, author_edit, author_delete,
     BODY_JSON, false},
    {"/api/v1/counts", "POST, OPTIONS", NULL, post_counts, NULL, NULL, BODY_JSON, false},
    {"/api/v1/health", "GET, HEAD, OPTIONS", get_health, NULL, NULL, NULL, 0, false},
};
const size_t public_routes_count = sizeof(public_routes) / sizeof(public_routes[0]);
