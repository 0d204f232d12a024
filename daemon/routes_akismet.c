/* routes_akismet: the Akismet-compatible endpoints (docs/akismet.md).
 *
 * Every answer is HTTP 200 text/plain, byte for byte what Akismet sends
 * ("valid", "invalid", "true", "false", "Thanks for making the web a better
 * place.") with an X-akismet-guid; errors add X-akismet-debug-help.  The
 * protocol mapping lives in lib/akismet.c; this file only wires it to HTTP,
 * the classifier and the store.
 */
#include "server.h"

#include "akismet.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char thanks[] = "Thanks for making the web a better place.";

/* The body and headers every answer carries. */
static void answer(struct reply *rep, const char *body)
{
	char guid[AKISMET_GUID_CHARS];

	rep->status = 200;
	rep->text = strdup(body);
	rep->content_type = "text/plain; charset=utf-8";
	akismet_guid(guid);
	reply_header(rep, "X-akismet-guid", guid);
}

static void answer_help(struct reply *rep, const char *body, const char *help)
{
	answer(rep, body);
	reply_header(rep, "X-akismet-debug-help", help);
}

/* A JSON answer (out stays the caller's). */
static void answer_json(struct reply *rep, json_t *out);

/* Says what charset decoding had to do (an unknown blog_charset, bytes
 * that became U+FFFD) in X-akismet-debug-help. */
static void answer_note(struct reply *rep, const struct akismet_request *ar)
{
	const char *note = akismet_request_charset_note(ar);

	if (note)
		reply_header(rep, "X-akismet-debug-help", note);
}

/* A failure of ours: Akismet's clients hold the comment and retry on any
 * body other than the expected words, so say so in words. */
static void answer_internal(struct reply *rep)
{
	answer(rep, "Internal error.");
	reply_header(rep, "X-akismet-error", "internal");
	reply_header(rep, "X-akismet-debug-help",
		     "commentd failed to handle this request; see its log.");
}

/* Checks the key; on failure fills rep and returns non-zero.  Failed keys
 * count against the client's address like failed admin sign-ins.  *site is
 * the key's site, which must be configured (its rules decide). */
static int authenticate(struct request *req, struct reply *rep, const char *key, bool present,
			int64_t *id, const struct site **site)
{
	char site_id[CONFIG_SITE_ID_MAX + 1];

	uint64_t client = request_client_key(req);
	double now = monotonic_seconds();
	struct store_conn *c;
	int r;

	if (ratelimit_peek(req->server->auth_failures, client, now)) {
		answer_help(rep, "invalid",
			    "Too many invalid keys from this address; wait a minute.");
		return 1;
	}
	if (!present) {
		ratelimit_take(req->server->auth_failures, client, now);
		answer_help(rep, "invalid",
			    "Empty \"api_key\" value: send api_key=<site key> or use "
			    "<site key>.<host> as the host.");
		return 1;
	}
	c = store_acquire(req->server->store);
	r = akismet_key_verify(c, req->server->keys, key, id, site_id);
	store_release(req->server->store, c);
	if (r < 0) {
		answer_internal(rep);
		return 1;
	}
	if (r != 0) {
		ratelimit_take(req->server->auth_failures, client, now);
		answer_help(rep, "invalid",
			    "Invalid key: not an active commentd site key (commentctl key "
			    "create --site ID).");
		return 1;
	}
	*site = site_set_find(req->snap->sites, site_id);
	if (!*site) {
		answer_help(rep, "invalid",
			    "This key's site is not configured on this server ([site ID] in "
			    "commentd.conf).");
		return 1;
	}
	return 0;
}

/* Parses the body; on failure fills rep and returns NULL. */
static struct akismet_request *parse(struct request *req, struct reply *rep)
{
	struct akismet_request *ar = NULL;
	int r = akismet_request_parse(&ar, req->body.data, req->body.len);

	if (r == AKISMET_INVALID)
		answer_help(rep, "invalid",
			    "The form body is malformed (a bad %-escape, a %00, or more than 256 "
			    "fields).");
	else if (r < 0)
		answer_internal(rep);
	return r == 0 ? ar : NULL;
}

/* Parses and authenticates a comment-check / submit-* request. */
static struct akismet_request *open_call(struct request *req, struct reply *rep, int64_t *id,
					 const struct site **site)
{
	char key[AKISMET_KEY_CHARS];
	struct akismet_request *ar = parse(req, rep);
	bool present;

	if (!ar)
		return NULL;
	present = akismet_request_key(ar, request_header(req, "Host"), false, key);
	if (authenticate(req, rep, key, present, id, site) != 0)
		return akismet_request_free(ar);
	return ar;
}

static void verify_key(struct request *req, struct reply *rep)
{
	char key[AKISMET_KEY_CHARS];
	struct akismet_request *ar = parse(req, rep);
	const struct site *site;
	bool present;
	int64_t id;

	if (!ar)
		return;
	present = akismet_request_key(ar, request_header(req, "Host"), true, key);
	if (authenticate(req, rep, key, present, &id, &site) == 0)
		answer(rep, "valid");
	akismet_request_free(ar);
}

static void count(struct request *req, int64_t id, enum akismet_event ev)
{
	struct store_conn *c = store_acquire(req->server->store);

	/* Best effort: a counter must not fail the answer. */
	(void)akismet_key_count(c, id, ev, (int64_t)time(NULL));
	store_release(req->server->store, c);
}

/* The pipeline's decision on the comment by the rules of the key's site,
 * checked only: nothing is stored.  0 with *status set, or negative. */
static int decide(struct request *req, const struct site *key_site, struct akismet_request *ar,
		  enum comment_status *status)
{
	struct submit_decision d = {0};
	struct classify_input ci;
	struct submit_content content;
	struct submit_request rq;
	struct submit_site site;
	struct net_addr client;
	struct store_conn *c;
	int r;

	akismet_request_classify(ar, key_site->host, &ci);
	request_site_of(req, key_site, &site);
	site.host = ci.site_host;
	content = (struct submit_content){ci.thread, ci.author, ci.email, ci.url, ci.text, NULL};
	rq = (struct submit_request){
	    .origin = SUBMIT_AKISMET,
	    .client = ci.ip && net_parse_ip(ci.ip, &client) == 0 ? &client : NULL,
	    .ip = ci.ip,
	    .user_agent = ci.user_agent,
	    .referrer = ci.referrer,
	    .render_seconds = -1,
	    .honeypot_filled = ci.honeypot_filled,
	    .now = (int64_t)time(NULL),
	};
	c = store_acquire(req->server->store);
	r = submit_decide(c, &site, &content, NULL, &rq, &d);
	store_release(req->server->store, c);
	*status = d.status;
	submit_decision_clear(&d);
	return r;
}

/* A comment a moderator already reported keeps its label.  0 with *label,
 * AKISMET_NOT_FOUND, or negative. */
static int reported(struct request *req, struct akismet_request *ar, enum classify_label *label)
{
	char msg_key[AKISMET_MSG_KEY_MAX];
	struct store_conn *c = store_acquire(req->server->store);
	int r;

	akismet_message_key(ar, req->server->keys, msg_key);
	r = akismet_known_label(c, msg_key, label);
	store_release(req->server->store, c);
	return r;
}

/* Akismet has two answers: spam (true, and "discard" when blatant) and not
 * spam.  A held comment is not called spam: the site's own moderation rules
 * still apply to it. */
static int check_verdict(struct request *req, const struct site *site, struct akismet_request *ar,
			 bool *spam, bool *discard, const char **why)
{
	enum comment_status status;
	enum classify_label label;
	int r;

	switch (akismet_request_test(ar)) {
	case AKISMET_TEST_HAM:
		*why = "test value (administrator)";
		return 0;
	case AKISMET_TEST_SPAM:
		*why = "test value";
		*spam = true;
		return 0;
	case AKISMET_TEST_NONE:
		break;
	}
	if (!akismet_request_honeypot(ar)) {
		r = reported(req, ar, &label);
		if (r < 0)
			return r;
		if (r == 0) {
			*why = "reported before";
			*spam = *discard = label == CLASSIFY_LABEL_SPAM;
			return 0;
		}
	}
	r = decide(req, site, ar, &status);
	*spam = status == COMMENT_SPAM || status == COMMENT_DISCARDED;
	*discard = status == COMMENT_DISCARDED;
	return r;
}

static void comment_check(struct request *req, struct reply *rep)
{
	const char *missing, *why = "submission pipeline";
	struct akismet_request *ar;
	bool spam = false, discard = false;
	const struct site *site;
	char help[120];
	int64_t id;

	ar = open_call(req, rep, &id, &site);
	if (!ar)
		return;
	missing = akismet_request_missing(ar);
	if (missing) {
		snprintf(help, sizeof(help), "Missing required field: %s.", missing);
		answer_help(rep, help, help);
		goto out;
	}
	if (check_verdict(req, site, ar, &spam, &discard, &why) < 0) {
		answer_internal(rep);
		goto out;
	}
	log_debug("akismet: comment-check for key #%lld: %s (%s)", (long long)id,
		  discard ? "discard"
		  : spam  ? "spam"
			  : "ham",
		  why);
	answer(rep, spam ? "true" : "false");
	answer_note(rep, ar);
	if (discard)
		reply_header(rep, "X-akismet-pro-tip", "discard");
	count(req, id, spam ? AKISMET_EVENT_CHECK_SPAM : AKISMET_EVENT_CHECK_HAM);
out:
	akismet_request_free(ar);
}

/* submit-spam and submit-ham: learn the comment under its content hash, in
 * one transaction (the same comment again is a no-op; the other label
 * relearns it).  is_test submissions are answered and not learned. */
static void submit(struct request *req, struct reply *rep, enum classify_label label)
{
	struct classify_input ci;
	char msg_key[AKISMET_MSG_KEY_MAX];
	struct akismet_request *ar;
	const struct site *site;
	struct store_conn *c;
	int64_t id;
	int r = 0;

	ar = open_call(req, rep, &id, &site);
	if (!ar)
		return;
	if (!akismet_request_is_test(ar)) {
		akismet_request_classify(ar, site->host, &ci);
		ci.site = site->id; /* the key's site learns it */
		akismet_message_key(ar, req->server->keys, msg_key);
		c = store_acquire(req->server->store);
		r = store_begin(c);
		if (r == 0)
			r = classifier_learn(req->server->classifier, c, msg_key, &ci, label);
		if (r == CLASSIFY_ALREADY)
			r = 0;
		if (r == 0)
			r = store_commit(c);
		store_release(req->server->store, c); /* rolls back on failure */
		if (r != 0) {
			log_err("akismet: learning a submitted %s failed",
				label == CLASSIFY_LABEL_SPAM ? "spam" : "ham");
			answer_internal(rep);
			goto out;
		}
	}
	answer(rep, thanks);
	answer_note(rep, ar);
	count(req, id,
	      label == CLASSIFY_LABEL_SPAM ? AKISMET_EVENT_SUBMIT_SPAM : AKISMET_EVENT_SUBMIT_HAM);
out:
	akismet_request_free(ar);
}

static void submit_spam(struct request *req, struct reply *rep)
{
	submit(req, rep, CLASSIFY_LABEL_SPAM);
}

static void submit_ham(struct request *req, struct reply *rep)
{
	submit(req, rep, CLASSIFY_LABEL_HAM);
}

/* GET (query string) or POST (form) /1.2/usage-limit and /1.2/key-sites:
 * the key from api_key or the Host label. */
static void key_report(struct request *req, struct reply *rep, bool sites)
{
	struct akismet_request *ar = NULL;
	const char *api_key, *extended, *month;
	char key[AKISMET_KEY_CHARS];
	struct store_conn *c;
	const struct site *site;
	json_t *out = NULL;
	bool present;
	int64_t id;
	int r;

	if (strcmp(req->method, "POST") == 0) {
		ar = parse(req, rep);
		if (!ar)
			return;
		api_key = akismet_request_get(ar, "api_key");
		extended = akismet_request_get(ar, "extended");
		month = akismet_request_get(ar, "month");
	} else {
		api_key = request_arg(req, "api_key");
		extended = request_arg(req, "extended");
		month = request_arg(req, "month");
	}
	if (api_key && api_key[0]) {
		present = true;
		akismet_key_normalise(api_key, key);
	} else {
		present = akismet_key_from_host(request_header(req, "Host"), key);
	}
	if (authenticate(req, rep, key, present, &id, &site) != 0)
		goto out;
	c = store_acquire(req->server->store);
	if (sites)
		r = akismet_key_sites(c, id, (int64_t)time(NULL), month, &out);
	else
		r = akismet_key_usage(c, id, (int64_t)time(NULL), akismet_parse_bool(extended),
				      &out);
	store_release(req->server->store, c);
	if (r == AKISMET_INVALID) {
		answer_help(rep, "invalid", "month must be YYYY-MM.");
		goto out;
	}
	if (r != 0) {
		answer_internal(rep);
		goto out;
	}
	answer_json(rep, out);
out:
	json_decref(out);
	akismet_request_free(ar);
}

static void answer_json(struct reply *rep, json_t *out)
{
	answer(rep, "");
	free(rep->text);
	rep->text = json_dumps(out, JSON_COMPACT);
	rep->content_type = "application/json; charset=utf-8";
	if (!rep->text) {
		rep->n_headers = 0;
		answer_internal(rep);
	}
}

/* The calls the WordPress plugin makes about a key besides the API
 * (docs/akismet.md): the key is read as for verify-key. */
enum key_call { KEY_SUBSCRIPTION, KEY_STATS, KEY_DEACTIVATE };

static void key_call(struct request *req, struct reply *rep, enum key_call what)
{
	char key[AKISMET_KEY_CHARS];
	struct akismet_request *ar = parse(req, rep);
	const struct site *site;
	json_t *out = NULL;
	int64_t id;

	if (!ar)
		return;
	if (authenticate(req, rep, key,
			 akismet_request_key(ar, request_header(req, "Host"), true, key), &id,
			 &site) != 0)
		goto out;
	if (what == KEY_DEACTIVATE) {
		/* Nothing to undo: the plugin going away leaves its key as it was. */
		answer(rep, AKISMET_ANSWER_DEACTIVATED);
	} else if (what == KEY_STATS) {
		/* No statistics: with some, the plugin's settings page embeds a
		 * frame from akismet.com carrying the key and the blog. */
		answer_help(rep, "", AKISMET_STATS_HELP);
	} else if (akismet_key_subscription(id, &out) != 0) {
		answer_internal(rep);
	} else {
		answer_json(rep, out);
	}
out:
	json_decref(out);
	akismet_request_free(ar);
}

static void get_subscription(struct request *req, struct reply *rep)
{
	key_call(req, rep, KEY_SUBSCRIPTION);
}

static void get_stats(struct request *req, struct reply *rep)
{
	key_call(req, rep, KEY_STATS);
}

static void deactivate(struct request *req, struct reply *rep)
{
	key_call(req, rep, KEY_DEACTIVATE);
}

/* The plugin's connection test: no key, one word. */
static void connection_test(struct request *req, struct reply *rep)
{
	(void)req;
	answer(rep, AKISMET_ANSWER_TEST);
}

/* Jetpack and akismet.com sign-up links: commentd has no such accounts. */
static void verify_wpcom_key(struct request *req, struct reply *rep)
{
	(void)req;
	answer_help(rep, "invalid",
		    "commentd has no WordPress.com accounts: enter a site key (commentctl key "
		    "create) under Manual configuration.");
}

/* The plugin's list of compatible plugins (5.4 and later): none. */
static void compatible_plugins(struct request *req, struct reply *rep)
{
	json_t *none = json_array();

	(void)req;
	if (!none) {
		answer_internal(rep);
		return;
	}
	answer_json(rep, none);
	json_decref(none);
}

static void usage_limit(struct request *req, struct reply *rep)
{
	key_report(req, rep, false);
}

static void key_sites(struct request *req, struct reply *rep)
{
	key_report(req, rep, true);
}

static const struct route akismet_routes[] = {
    {"/1.1/verify-key", "POST", NULL, verify_key, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.1/comment-check", "POST", NULL, comment_check, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.1/submit-spam", "POST", NULL, submit_spam, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.1/submit-ham", "POST", NULL, submit_ham, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.2/usage-limit", "GET, HEAD, POST", usage_limit, usage_limit, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    {"/1.2/key-sites", "GET, HEAD, POST", key_sites, key_sites, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    /* What the WordPress plugin calls besides the API. */
    {"/1.1/get-subscription", "POST", NULL, get_subscription, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    {"/1.1/get-stats", "POST", NULL, get_stats, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.1/deactivate", "POST", NULL, deactivate, NULL, NULL, BODY_FORM | BODY_OPTIONAL},
    {"/1.1/test", "GET, HEAD, POST", connection_test, connection_test, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    {"/1.1/verify-wpcom-key", "POST", NULL, verify_wpcom_key, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    {"/1.2/compatible-plugins", "GET, HEAD", compatible_plugins, NULL, NULL, NULL, 0},
};
const struct route_table akismet_route_table = {
    akismet_routes, sizeof(akismet_routes) / sizeof(akismet_routes[0]), NULL};
