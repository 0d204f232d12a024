/* akismet: the Akismet protocol mapped onto commentd's classifier, and the
 * site keys that Akismet clients authenticate with.
 *
 * Requests are application/x-www-form-urlencoded bodies (lib/form.h).  This
 * module decodes their fields from the declared blog_charset to UTF-8, turns
 * them into a struct classify_input, finds the API key (a form field or the
 * first label of the Host header), recognises Akismet's test values and
 * derives the learning key: a keyed content hash, so the same comment
 * submitted twice is learned once and a later submit of the other label
 * relearns it.  It also builds the answers of the calls the WordPress plugin
 * makes besides the documented API (get-subscription, test, deactivate).  It knows no HTTP library
 * (daemon/routes_akismet.c does).
 *
 * Charsets: every field value except the key fields and blog_charset is
 * decoded once, when the request is parsed, so scoring, learning and the
 * learning key see the same UTF-8 text whatever the client's charset.
 * blog_charset names follow the WHATWG Encoding Standard where it matters:
 * absent or a UTF-8 label is UTF-8; ISO-8859-1, Latin-1, US-ASCII and
 * Windows-1252 labels are windows-1252 (what browsers send for them);
 * any other name goes to iconv.  A byte the charset does not define becomes
 * U+FFFD and an unknown charset name is read as UTF-8; both are reported by
 * akismet_request_charset_note() and never refuse a request.
 *
 * Site keys are 12 lowercase hex digits, the shape of an Akismet key (the
 * WordPress plugin refuses any other length and strips non-hex characters;
 * hostnames are case-insensitive, so the subdomain form needs one case).
 * Only the keyed hash (keys KEYS_TOKEN) of a key is stored; a key is shown
 * once when created.  Revoked keys stay listed and never verify.
 *
 * E-mail addresses are never stored: the classifier sees only the domain
 * (classify_input.email) and the learning key is a keyed hash.
 */
#ifndef COMMENTD_AKISMET_H
#define COMMENTD_AKISMET_H

#include "classify.h"
#include "config.h"
#include "keys.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AKISMET_KEY_HEX	    12
#define AKISMET_KEY_CHARS   (AKISMET_KEY_HEX + 1) /* with NUL */
#define AKISMET_MSG_KEY_MAX 80			  /* "akismet:" + 64 hex + NUL, rounded */
#define AKISMET_GUID_CHARS  37			  /* 8-4-4-4-12 hex + NUL */
#define AKISMET_BLOG_MAX    2048
#define AKISMET_CHARSET_MAX 64 /* longest blog_charset name tried, with NUL */
#define AKISMET_NOTE_MAX    200

/* Plain answers of the calls the WordPress plugin makes besides the API. */
#define AKISMET_ANSWER_TEST	   "connected"	 /* /1.1/test */
#define AKISMET_ANSWER_DEACTIVATED "deactivated" /* /1.1/deactivate */
/* /1.1/get-stats answers an empty body (the plugin's "no statistics yet")
 * with this X-akismet-debug-help. */
#define AKISMET_STATS_HELP                                                                         \
	"commentd keeps its statistics at home: see /1.2/key-sites or commentctl key list."

enum {
	AKISMET_INVALID = 1,   /* parse: malformed form body */
	AKISMET_DENIED = 2,    /* verify: unknown, revoked or malformed key */
	AKISMET_NOT_FOUND = 3, /* revoke: no such active key; known_label: not learned */
	AKISMET_BAD_BLOG = 4,  /* create: blog is not an http(s) URL */
	AKISMET_BAD_SITE = 5,  /* create: not a site id */
};

/* What Akismet's documented test values ask for. */
enum akismet_test {
	AKISMET_TEST_NONE,
	AKISMET_TEST_SPAM, /* author akismet-guaranteed-spam (or viagra-test-123), or the
			    * e-mail akismet-guaranteed-spam@example.com */
	AKISMET_TEST_HAM,  /* user_role administrator; wins over the spam values */
};

/* What a call did, for a key's monthly counters. */
enum akismet_event {
	AKISMET_EVENT_CHECK_SPAM,  /* comment-check answered true */
	AKISMET_EVENT_CHECK_HAM,   /* comment-check answered false */
	AKISMET_EVENT_SUBMIT_SPAM, /* submit-spam (a missed spam) */
	AKISMET_EVENT_SUBMIT_HAM,  /* submit-ham (a false positive) */
};

struct akismet_request;

/* Parses len bytes of a form body (unknown fields are kept and ignored;
 * comment_context[N] arrays are accepted) and decodes the values from
 * blog_charset to UTF-8 (see above).  0 with *out owned by the caller,
 * AKISMET_INVALID (malformed escapes, a %00, too many fields), or -ENOMEM. */
int akismet_request_parse(struct akismet_request **out, const char *body, size_t len);

/* NULL-safe; returns NULL. */
struct akismet_request *akismet_request_free(struct akismet_request *r);

/* The first value of field name (decoded to UTF-8, except api_key, key and
 * blog_charset, which are as sent), or NULL.  Borrowed from r. */
const char *akismet_request_get(const struct akismet_request *r, const char *name);

/* The charset the fields were decoded from: "UTF-8", "windows-1252", or
 * the blog_charset name as sent (trimmed).  Borrowed from r. */
const char *akismet_request_charset(const struct akismet_request *r);

/* What decoding had to do that the client should know, for
 * X-akismet-debug-help: an unknown blog_charset read as UTF-8, or the first
 * field with bytes not valid in its charset (each became U+FFFD).  NULL when
 * every field decoded cleanly.  Borrowed from r. */
const char *akismet_request_charset_note(const struct akismet_request *r);

/* Copies candidate into out when it is a well-formed key (12 hex digits,
 * surrounding blanks ignored), lower-cased.  false otherwise (out = ""). */
bool akismet_key_normalise(const char *candidate, char out[AKISMET_KEY_CHARS]);

/* The key in a Host header's first label ("<key>.rest.example.org:8080"),
 * when that label is a well-formed key and more labels follow.  host may be
 * NULL.  false otherwise (out = ""). */
bool akismet_key_from_host(const char *host, char out[AKISMET_KEY_CHARS]);

/* The request's key.  For verify-key (verify true) the field key comes
 * before api_key (the WordPress plugin sends the key being verified as key
 * and its stored key as api_key); otherwise api_key, then key.  A present
 * but malformed field still wins over the Host label (it then fails to
 * verify).  Falls back to akismet_key_from_host(host).  false if there is
 * none at all. */
bool akismet_request_key(const struct akismet_request *r, const char *host, bool verify,
			 char out[AKISMET_KEY_CHARS]);

/* The first required field (user_ip) that is missing or empty, or NULL. */
const char *akismet_request_missing(const struct akismet_request *r);

/* Fills *out from the fields (every pointer borrowed from r, valid until it
 * is freed): comment_content, comment_author, comment_author_email (only its
 * domain becomes a token), comment_author_url, user_ip, user_agent, referrer
 * (or referer), permalink as the thread, the blog URL's host as site_host
 * (fallback_site_host when there is no usable blog), the honeypot. */
void akismet_request_classify(struct akismet_request *r, const char *fallback_site_host,
			      struct classify_input *out);

/* Akismet's documented test values: comment_author akismet-guaranteed-spam
 * (and the older viagra-test-123) and comment_author_email
 * akismet-guaranteed-spam@example.com are spam; user_role administrator (in
 * a comma-separated role list) is ham.  When both appear, administrator wins:
 * Akismet never calls an administrator's comment spam, and WordPress sends
 * the role of whoever is signed in, so an administrator trying the spam
 * value while signed in gets false, as from Akismet itself.  Values are
 * compared trimmed and ignoring ASCII case.  is_test is separate: it only
 * stops training (akismet_request_is_test). */
enum akismet_test akismet_request_test(const struct akismet_request *r);

/* is_test as a lenient boolean (1, true, True, yes, on). */
bool akismet_request_is_test(const struct akismet_request *r);

/* True when honeypot_field_name names a field (not one of Akismet's own
 * parameters) whose value is not blank. */
bool akismet_request_honeypot(const struct akismet_request *r);

/* A lenient boolean: 1, true, yes, on (any case); anything else is false. */
bool akismet_parse_bool(const char *v);

/* The learning key "akismet:<64 hex>": a keyed hash (KEYS_TOKEN, domain
 * separated) of the fields that identify a comment: content, author, e-mail
 * (trimmed, lower-cased), author URL, permalink and user IP.  Dates, user
 * agent, referrer, is_test and unknown fields do not change it, so the
 * WordPress plugin's submit (which resends what it checked, minus some
 * fields) finds the check's message. */
void akismet_message_key(const struct akismet_request *r, const struct keys *k,
			 char out[AKISMET_MSG_KEY_MAX]);

/* How message_key was last taught.  0 with *label set, AKISMET_NOT_FOUND,
 * or negative (logged). */
int akismet_known_label(struct store_conn *c, const char *message_key, enum classify_label *label);

/* A random per-answer id (RFC 4122 version 4 text), for X-akismet-guid. */
void akismet_guid(char out[AKISMET_GUID_CHARS]);

/* ---- site keys (schema/0005-akismet.sql) ---- */

/* Creates a key of site (a site id: its checks decide by that site's
 * rules) for blog (an http:// or https:// URL of at most AKISMET_BLOG_MAX
 * bytes) and writes it to key (shown once); *id gets its row id (id may be
 * NULL).  0, AKISMET_BAD_BLOG, AKISMET_BAD_SITE, or negative (logged). */
int akismet_key_create(struct store_conn *c, const struct keys *k, const char *site,
		       const char *blog, char key[AKISMET_KEY_CHARS], int64_t *id);

/* Checks key (any string; normalised first) in constant time against the
 * stored hashes.  0 with *id and site (the key's site; either may be NULL)
 * set, AKISMET_DENIED, or negative. */
int akismet_key_verify(struct store_conn *c, const struct keys *k, const char *key, int64_t *id,
		       char site[CONFIG_SITE_ID_MAX + 1]);

/* Revokes the key with row id, or the key whose text is key (k needed).
 * 0, AKISMET_NOT_FOUND, or negative. */
int akismet_key_revoke_id(struct store_conn *c, int64_t id);
int akismet_key_revoke(struct store_conn *c, const struct keys *k, const char *key);

/* [{"id", "site", "blog", "created", "revoked", "last_used", "month", "calls", "spam",
 * "ham", "missed_spam", "false_positives"}] in creation order; counters are
 * for the month (UTC) of now.  0 or negative. */
int akismet_key_list(struct store_conn *c, int64_t now, json_t **out);

/* Counts one call of key id in the month of now (best effort for the
 * answer: the caller may ignore a failure).  0 or negative. */
int akismet_key_count(struct store_conn *c, int64_t id, enum akismet_event event, int64_t now);

/* The /1.2/usage-limit answer for key id: {"limit":"none","usage":N,
 * "percentage":"0.00","throttled":false}, plus "notice_level" and "upgrade"
 * when extended.  0 or negative. */
int akismet_key_usage(struct store_conn *c, int64_t id, int64_t now, bool extended, json_t **out);

/* The /1.2/key-sites answer (JSON) for key id: {"<YYYY-MM>": [{"site",
 * "api_calls", "spam", "ham", "missed_spam", "false_positives",
 * "is_revoked"}], "limit", "offset", "total"}.  month "YYYY-MM" or NULL (the
 * month of now); only the current month is kept, so another month lists no
 * sites.  0, AKISMET_INVALID (bad month), or negative. */
int akismet_key_sites(struct store_conn *c, int64_t id, int64_t now, const char *month,
		      json_t **out);

/* The /1.1/get-subscription answer for key id, the fields the WordPress
 * plugin reads: {"account_id", "account_type":"commentd", "account_name",
 * "status":"active", "next_billing_date":false, "limit_reached":false}.
 * Only called for a key that verified.  0 or negative. */
int akismet_key_subscription(int64_t id, json_t **out);

#endif
