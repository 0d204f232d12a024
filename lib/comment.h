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
	/* Request facts, kept for rate limits and spam features. */
	const char *ip;
	const char *user_agent;
	const char *referrer;
};

/* What the publish decision and the classifier determined for a comment. */
struct comment_verdict {
	enum comment_status status;
	double score;	      /* spam probability, or -1 when not classified */
	const char *verdict;  /* "ham", "unsure", "spam", "discard" or NULL */
	const char *tokens;   /* JSON array text of deciding tokens, or NULL */
	const void *features; /* classifier features to learn from later, or NULL */
	size_t features_len;
};

/* Fills err (status, machine code, printf-style message) and returns
 * COMMENT_UNAVAILABLE for status 503, else COMMENT_INVALID. */
int comment_fail(struct comment_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The facts the publish decision weighs. */
struct comment_facts {
	enum moderation_mode moderation;
	const char *verdict;	  /* classifier verdict name, NULL when none ran */
	bool cold_start;	  /* the classifier has not learned enough yet */
	double score;		  /* the classifier's score (cold start) */
	double spam_cutoff;	  /* its spam cut-off */
	bool honeypot_filled;	  /* the hidden field only bots fill was filled */
	bool previously_approved; /* a comment with the same e-mail hash is published */
	bool allowlisted;	  /* the e-mail hash is on the allowlist */
	bool blocklisted;	  /* a blocklisted word, domain or network */
	unsigned links, max_links;
};

/* The single place where a comment's fate is decided.  Returns the status a
 * new comment gets (COMMENT_DISCARDED: do not store). */
enum comment_status comment_decide(const struct comment_facts *facts);

/* Validates and normalises a submission against cfg.  0, or COMMENT_INVALID
 * with err filled. */
int comment_validate(const struct config *cfg, struct comment_input *in, struct comment_error *err);

/* Checks a thread path: starts with one '/', at most COMMENT_THREAD_MAX
 * bytes, valid UTF-8, no control characters, spaces, backslashes or "."/".."
 * segments.  0 or COMMENT_INVALID with err. */
int comment_thread_check(const char *thread, struct comment_error *err);

/* Stores a validated submission with its verdict in one BEGIN IMMEDIATE
 * transaction.  A parent must be a published comment of the same thread; a
 * reply deeper than cfg->max_depth attaches to the deepest allowed ancestor.
 * On success *out is the comment's public form plus "status" and, for the
 * author only, "edit_token" and "edit_until" (caller owns).
 * Returns 0, COMMENT_INVALID or COMMENT_UNAVAILABLE (err filled), or
 * negative (logged). */
int comment_create(struct store_conn *c, const struct config *cfg, const struct keys *k,
		   const struct comment_input *in, const struct comment_verdict *v, json_t **out,
		   struct comment_error *err);

/* The published comments of thread as a tree, top-level comments paginated
 * by limit (0: all) and after (a top-level id; 0: from the start).  *out is
 * {"thread", "count", "comments": [...]}.  0 or negative. */
int comment_thread(struct store_conn *c, const char *thread, unsigned limit, int64_t after,
		   json_t **out);

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

/* Counts a discarded comment for today.  0 or negative. */
int comment_count_discard(struct store_conn *c, int64_t now);

/* The author's own edit (text and/or author, NULL keeps) or deletion
 * (remove) of comment id, allowed with the comment's edit token within
 * cfg->edit_window seconds of posting.  Edits are re-rendered; *out (edit
 * only) is the public form.  hold: the edited text needs a moderator again
 * (the status becomes pending).  0, COMMENT_INVALID (404 unknown, 403 wrong
 * token or window closed, 422 invalid text), COMMENT_UNAVAILABLE, negative. */
int comment_author_change(struct store_conn *c, const struct config *cfg, const struct keys *k,
			  int64_t id, const char *token, const char *text, const char *author,
			  bool remove, bool hold, int64_t now, json_t **out,
			  struct comment_error *err);

/* Checks an edited author and text by the rules for new comments (author
 * normalised in place) and renders the text into *html (caller frees).
 * 0, COMMENT_INVALID with err, or negative. */
int comment_check_edit(const struct config *cfg, char *author, char *text, char **html,
		       struct comment_error *err);

/* Removes comment id inside the caller's transaction: the row goes, or,
 * when replies hang below it, stays as an empty tombstone (status deleted,
 * no author, text, e-mail hash, IP or features) so the thread keeps its
 * shape.  0, STORE_FULL/STORE_READONLY, or negative. */
int comment_remove(struct store_conn *c, int64_t id, int64_t now);

/* Formats Unix seconds as RFC 3339 UTC into out (21 bytes). */
void comment_format_time(int64_t t, char out[21]);

/* The name of a status ("published", ...). */
const char *comment_status_name(enum comment_status s);

#endif
