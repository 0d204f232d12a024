/* comment: a submission's validation, the publish decision, and the comment
 * rows in the store (create, thread tree, counts).
 *
 * Raw e-mail addresses live only in struct comment_input while a request is
 * handled: comment_create stores the keyed hash and the avatar seed, never
 * the address.
 */
#ifndef COMMENTD_COMMENT_H
#define COMMENTD_COMMENT_H

#include "config.h"
#include "keys.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define COMMENT_THREAD_MAX 1024 /* bytes of a thread path */
#define COMMENT_EMAIL_MAX  254
#define COMMENT_TITLE_MAX  300 /* characters of a page title kept */

enum comment_status {
	COMMENT_PUBLISHED,
	COMMENT_PENDING,
	COMMENT_SPAM,
	COMMENT_DELETED,
	COMMENT_DISCARDED, /* blatant spam: counted, never stored */
};

/* Positive (domain) results. */
enum {
	COMMENT_INVALID = 1,	 /* the submission is refused; see struct comment_error */
	COMMENT_UNAVAILABLE = 2, /* the disk refuses writes (full, read-only): 503 */
};

struct comment_error {
	int status;	   /* HTTP status: 400 or 422 */
	const char *code;  /* machine code, e.g. "invalid_email" */
	char message[200]; /* a sentence a person understands */
};

/* A submission.  Strings are owned by the caller; comment_validate rewrites
 * them in place (trimmed, normalised), so they must be writable. */
struct comment_input {
	char *thread;
	int64_t parent; /* 0: top level */
	char *author;
	char *email;
	char *url; /* NULL or "" when absent */
	char *text;
	/* The article the comment is posted on, as the widget sends it (NULL
	 * or "" when absent): kept on the thread (comment_create). */
	char *page_title; /* cleaned to one line by comment_validate */
	char *page_url;	  /* an http(s) address; the caller checks its origin */
};

/* An edit of a comment's content: NULL keeps a field; url_set with url NULL
 * or "" removes the website.  Strings are owned (comment_change_clear). */
struct comment_change {
	char *text;
	char *author;
	char *url;
	bool url_set;
};

/* Frees the strings and zeroes ch.  NULL-safe. */
void comment_change_clear(struct comment_change *ch);

/* What the publish decision determined for a new or edited comment, and
 * the request facts kept with it (see docs/privacy.md). */
struct comment_record {
	enum comment_status status;
	double score;	      /* spam probability, or -1 when not classified */
	const char *verdict;  /* "ham", "unsure", "spam", "discard" or NULL */
	const char *tokens;   /* JSON array text of deciding tokens, or NULL */
	const char *reasons;  /* JSON array text of the decision's reasons, or NULL */
	const void *features; /* classifier features to learn from later, or NULL */
	size_t features_len;
	const char *ip; /* client address, cleared after ip_retention_days; NULL */
	const char *user_agent;
	const char *referrer;
	int64_t created;       /* Unix seconds */
	const char *moderator; /* the token name of a moderator's reply, or NULL */
};

/* A stored comment as its poster is told about it. */
struct comment_stored {
	int64_t id;
	int64_t parent; /* after the depth cap */
	char *html;	/* caller frees (comment_stored_clear) */
	char avatar[KEYS_AVATAR_HEX];
	char edit_token[KEYS_TOKEN_CHARS]; /* shown once; "" for edits */
};

/* Frees html and wipes the edit token. */
void comment_stored_clear(struct comment_stored *s);

/* Fills err (status, machine code, printf-style message) and returns
 * COMMENT_UNAVAILABLE for status 503, else COMMENT_INVALID. */
int comment_fail(struct comment_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Maps a store result (0, STORE_FULL, STORE_READONLY, negative) to this
 * module's contract: 0 and negative pass through, a refused write becomes
 * COMMENT_UNAVAILABLE with a 503 in err. */
int comment_store_result(int r, struct comment_error *err);

/* Validates and normalises a submission against cfg.  The page's title is
 * made one line of at most COMMENT_TITLE_MAX characters; a page URL that is
 * not an http(s) address of at most max_url bytes is dropped (made "").
 * 0, or COMMENT_INVALID with err filled. */
int comment_validate(const struct config *cfg, struct comment_input *in, struct comment_error *err);

/* Checks a comment's text by the rules for new comments (valid UTF-8, no
 * control characters but line breaks and tabs, not blank, at most
 * cfg->max_text characters).  0 or COMMENT_INVALID with err. */
int comment_text_check(const struct config *cfg, const char *text, struct comment_error *err);

/* Renders text as a new comment with it would be shown (POST
 * /api/v1/preview): checked by comment_text_check, then lib/render.  0 with
 * *html (caller frees), COMMENT_INVALID with err, or negative. */
int comment_preview(const struct config *cfg, const char *text, char **html,
		    struct comment_error *err);

/* Checks a thread path: starts with one '/', at most COMMENT_THREAD_MAX
 * bytes, valid UTF-8, no control characters, spaces, backslashes or "."/".."
 * segments.  0 or COMMENT_INVALID with err. */
int comment_thread_check(const char *thread, struct comment_error *err);

/* Normalises an e-mail address as comment_validate does (trimmed,
 * lower-case) and writes its keyed hash.  0, or COMMENT_INVALID when it is
 * not an address.  The normalised copy is wiped. */
int comment_email_hash(const struct keys *k, const char *email, unsigned char out[KEYS_HASH_BYTES]);

/* Stores a validated submission (in->email is hashed, never stored) with
 * its record, sharing one transaction and one fsync with concurrent posts
 * (store_group_write).  The page's title and URL, when given, fill a
 * thread that has none, and a published comment's refresh them when they
 * changed (a held comment may only fill them in, one filed as spam not even
 * that).  A parent must be a published comment of the same
 * thread; a reply deeper than cfg->max_depth attaches to the deepest allowed
 * ancestor.  Fills *out (caller clears).  Returns 0, COMMENT_INVALID or
 * COMMENT_UNAVAILABLE (err filled), or negative (logged). */
int comment_create(struct store_conn *c, const struct config *cfg, const struct keys *k,
		   const struct comment_input *in, const struct comment_record *rec,
		   struct comment_stored *out, struct comment_error *err);

/* Checks, without writing, where a reply to *parent in thread would go, as
 * comment_create does (a published parent of that thread; the depth cap
 * applied to *parent).  0, COMMENT_INVALID with err, or negative. */
int comment_place(struct store_conn *c, const struct config *cfg, const char *thread,
		  int64_t *parent, struct comment_error *err);

/* Counts a discarded comment for the day of now and takes an id from the
 * comments' sequence for its decoy answer, so that the id is never handed
 * to another comment.  0 with *id set, COMMENT_UNAVAILABLE, or negative. */
int comment_discard(struct store_conn *c, int64_t now, int64_t *id, struct comment_error *err);

/* The published comments of thread as a tree, top-level comments paginated
 * by limit (0: all) and after (a top-level id; 0: from the start).  *out is
 * {"thread", "count", "comments": [...]}.  0 or negative. */
int comment_thread(struct store_conn *c, const char *thread, unsigned limit, int64_t after,
		   json_t **out);

/* The conversation that comment id belongs to in thread: its top-level
 * ancestor with all replies, as comment_thread shows them ("comments" is
 * empty when id is not a published comment or tombstone of thread).  *out
 * is {"thread", "count", "comments": [...]}.  0 or negative. */
int comment_conversation(struct store_conn *c, const char *thread, int64_t id, json_t **out);

/* The thread's version (bumped by every change to its comments), or -1 when
 * the thread does not exist.  0 or negative. */
int comment_thread_version(struct store_conn *c, const char *thread, int64_t *version);

/* Published-comment counts for each thread path in the JSON array paths
 * (strings, checked by the caller).  *out maps path to count.  0 or negative. */
int comment_counts(struct store_conn *c, const json_t *paths, json_t **out);

/* True if a comment with this e-mail hash is published (moderation =
 * first).  0/1, or negative. */
int comment_previously_approved(struct store_conn *c,
				const unsigned char email_hash[KEYS_HASH_BYTES]);

/* A stored comment, for edits. */
struct comment_row {
	int64_t id;
	char *thread;
	int64_t parent;
	char *author;
	char *url; /* NULL when none */
	char *text;
	char *avatar;
	char *ip, *user_agent, *referrer; /* NULL when not (or no longer) kept */
	enum comment_status status;
	int64_t created;
	bool has_email_hash;
	unsigned char email_hash[KEYS_HASH_BYTES];
	bool has_edit_hash;
	unsigned char edit_hash[KEYS_HASH_BYTES];
	int64_t likes;
};

/* Loads comment id.  1 found (caller clears *out), 0 none, negative. */
int comment_load(struct store_conn *c, int64_t id, struct comment_row *out);

/* Frees the row's strings. */
void comment_row_clear(struct comment_row *row);

/* Applies ch to the row's content in *in (a writable copy: author, url and
 * text from ch or the row), checks it by the rules for new comments
 * (normalising in place) and renders the text into *html (caller frees).
 * The caller frees in's strings.  0, COMMENT_INVALID with err, negative. */
int comment_merge_change(const struct config *cfg, const struct comment_row *row,
			 const struct comment_change *ch, struct comment_input *in, char **html,
			 struct comment_error *err);

/* Writes an edit of comment id inside the caller's transaction: author, url,
 * text, html, modified = now, and, when rec is not NULL (an edit decided
 * again), its status, score, verdict, deciding tokens, reasons and
 * features.  0, STORE_FULL/STORE_READONLY, or negative. */
int comment_update(struct store_conn *c, int64_t id, const struct comment_input *in,
		   const char *html, const struct comment_record *rec, int64_t now);

/* Removes comment id inside the caller's transaction: the row goes, or,
 * when replies hang below it, stays as an empty tombstone (status deleted,
 * no author, text, e-mail hash, IP or features) so the thread keeps its
 * shape.  0, STORE_FULL/STORE_READONLY, or negative. */
int comment_remove(struct store_conn *c, int64_t id, int64_t now);

/* The name of a status ("published", ...), and back (0 or 1). */
const char *comment_status_name(enum comment_status s);
int comment_status_parse(const char *name, enum comment_status *out);

#endif
