/* comment: a submission's validation, the publish decision, and the comment
 * rows in the store (create, thread tree, counts).
 *
 * Raw e-mail addresses live only in struct comment_input while a request is
 * handled: comment_create stores the keyed hash and the avatar seed, never
 * the address.
 */
#ifndef COMMENTD_COMMENT_H
#define COMMENTD_COMMENT_H

#include "buf.h"
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
	const char *site; /* the site's id (borrowed): a thread is (site, thread) */
	/* Set by lib/submit for SUBMIT_IMPORT: the e-mail address may be
	 * missing (NULL or ""), a reply may hang below a parent of any status
	 * (the source's tree is kept), and when the address is unknown its
	 * keyed hash and avatar seed may come with the comment (commentd's own
	 * export; borrowed, NULL when not known). */
	bool imported;
	const unsigned char *email_hash;
	const char *avatar;
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
	bool silent;	       /* no notification (imports) */
	bool notify;	       /* subscribe the poster to replies (lib/outbox.h) */
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

/* What is kept only sealed (lib/keys.h keys_seal): a client address, an
 * e-mail domain. */
#define COMMENT_SEALED_MAX 256 /* longest value sealed */
struct comment_sealed {
	unsigned char data[COMMENT_SEALED_MAX + KEYS_SEAL_OVERHEAD];
	size_t len; /* 0: nothing (NULL, empty or too long a value) */
};

/* Seals value (NULL or "": nothing). */
void comment_seal(const struct keys *k, const char *value, struct comment_sealed *out);

/* Opens len bytes sealed by comment_seal: a string (caller frees), or NULL
 * when k is NULL or the bytes are not ours. */
char *comment_unseal(const struct keys *k, const void *sealed, size_t len);

/* The same for column col of a statement's row (NULL when it is not a
 * blob). */
char *comment_unseal_column(struct store_stmt *st, int col, const struct keys *k);

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

/* True if url is a website address comment_validate accepts: http:// or
 * https:// with a host, at most max bytes, no spaces, quotes or angle
 * brackets. */
bool comment_url_valid(const char *url, size_t max);

/* Checks a thread path: starts with one '/', at most COMMENT_THREAD_MAX
 * bytes, valid UTF-8, no control characters, spaces, backslashes or "."/".."
 * segments.  0 or COMMENT_INVALID with err. */
int comment_thread_check(const char *thread, struct comment_error *err);

/* Normalises an e-mail address as comment_validate does (trimmed,
 * lower-case) and writes its keyed hash.  0, or COMMENT_INVALID when it is
 * not an address.  The normalised copy is wiped. */
int comment_email_hash(const struct keys *k, const char *email, unsigned char out[KEYS_HASH_BYTES]);

/* Stores a validated submission (in->email is hashed, never stored) in the
 * thread (in->site, in->thread) with its record, sharing one transaction
 * and one fsync with concurrent posts (store_group_write); its
 * notification event and, with rec->notify, the poster's sealed
 * subscription go into the same transaction (lib/outbox.h).  The page's
 * title and URL, when given, fill a thread that has none, and a published
 * comment's refresh them when they changed (a held comment may only fill
 * them in, one filed as spam not even that).  A parent must be a published
 * comment of the same thread (an import's: any comment of the thread); a
 * reply deeper than cfg->max_depth attaches to the deepest allowed
 * ancestor.  A comment whose status is deleted (imports) is stored as a
 * tombstone, as comment_remove leaves one: no author, text, e-mail hash,
 * address or features.  Fills *out (caller clears).  Returns 0,
 * COMMENT_INVALID or COMMENT_UNAVAILABLE (err filled), or negative (logged). */
int comment_create(struct store_conn *c, const struct config *cfg, const struct keys *k,
		   const struct comment_input *in, const struct comment_record *rec,
		   struct comment_stored *out, struct comment_error *err);

/* Checks, without writing, where a reply to *parent in site's thread would
 * go, as comment_create does (a published parent of that thread; the depth
 * cap applied to *parent).  0, COMMENT_INVALID with err, or negative. */
int comment_place(struct store_conn *c, const struct config *cfg, const char *site,
		  const char *thread, int64_t *parent, struct comment_error *err);

/* Counts a discarded comment for site and the day of now, takes an id
 * from the comments' sequence for its decoy answer (so that the id is never
 * handed to another comment) and records the decoy on site: its edit
 * token's hash, the time and the sealed content (sealed_len bytes; may be
 * 0), so that the poster's edits and deletion are answered as a held
 * comment's would be.  0 with *id set, COMMENT_UNAVAILABLE, or negative. */
int comment_discard(struct store_conn *c, const char *site, int64_t now,
		    const unsigned char edit_hash[KEYS_HASH_BYTES], const void *sealed,
		    size_t sealed_len, int64_t *id, struct comment_error *err);

/* A discarded comment's decoy record. */
struct comment_decoy {
	int64_t id;
	char site[CONFIG_SITE_ID_MAX + 1]; /* the site it was posted to */
	int64_t created;
	bool has_edit_hash;
	unsigned char edit_hash[KEYS_HASH_BYTES];
	unsigned char *sealed; /* the content, sealed; NULL once the edit window closed */
	size_t sealed_len;
};

/* Loads the decoy of id.  1 found (caller clears), 0 none, negative. */
int comment_decoy_load(struct store_conn *c, int64_t id, struct comment_decoy *out);
void comment_decoy_clear(struct comment_decoy *d);

/* Replaces the decoy's sealed content (an edit), or with sealed NULL
 * removes the decoy (a deletion).  0, STORE_FULL/STORE_READONLY, negative. */
int comment_decoy_update(struct store_conn *c, int64_t id, const void *sealed, size_t len);

/* ---- a thread, page by page ----
 *
 * A thread is read in pages: top-level comments in the sort order, each
 * with its replies (oldest first), until the page holds `roots` top-level
 * comments, `rows` comments or about `bytes` of them.  A page may end inside
 * one comment's replies; the next goes on from there.  Where a page starts
 * is a cursor: the sort order, the top-level comment reached (with its sort
 * key, for orders other than by id) and the last of its rows already sent.
 * The cursor travels as opaque text (base64url of "1:<sort>:<key>:<root>:
 * <row>"), and a cursor of one order never serves another.  Replies are
 * always oldest first under their top-level comment.  Sorting by likes
 * follows the counts as they are when each page is read: a comment whose
 * count changes between two pages may be shown twice or not at all. */

enum comment_sort {
	COMMENT_SORT_OLDEST = 'o', /* top-level comments by id */
	COMMENT_SORT_NEWEST = 'n', /* by id, newest first */
	COMMENT_SORT_TOP = 't',	   /* most liked first (key: the likes), then by id */
};

/* The sort order named "oldest", "newest" or "top" into *out.  0, or 1 for
 * another name. */
int comment_sort_parse(const char *name, char *out);

#define COMMENT_ROW_DONE      INT64_MAX /* cursor.row: the root is finished */
#define COMMENT_CURSOR_MAX    112	/* base64url text with the NUL */
#define COMMENT_PAGE_BYTES    (256 * 1024)
#define COMMENT_PAGE_TEXT_MAX ((size_t)64 << 20) /* a page's JSON text: a cap for its buffer */

struct comment_cursor {
	char sort;    /* enum comment_sort */
	int64_t key;  /* the root's sort key: its likes for COMMENT_SORT_TOP, else 0 */
	int64_t root; /* the top-level comment reached; 0: none yet */
	int64_t row;  /* its last row sent, or COMMENT_ROW_DONE */
};

/* The cursor as opaque text.  0 or -EINVAL. */
int comment_cursor_format(const struct comment_cursor *cur, char out[COMMENT_CURSOR_MAX]);

/* Parses cursor text (untrusted).  0, or 1 when it is not one of ours. */
int comment_cursor_parse(const char *text, struct comment_cursor *out);

struct comment_page_query {
	const char *site; /* a thread is (site, thread) */
	const char *thread;
	struct comment_cursor from; /* from the start: {sort, 0, 0, COMMENT_ROW_DONE} */
	unsigned roots;		    /* top-level comments on the page (>= 1) */
	unsigned rows;		    /* comments on the page, replies included (>= 1) */
	size_t bytes;		    /* about this much comment data at most */
};

/* A page of site's thread: the published comments as a tree, with tombstones
 * where a comment that was deleted, held or filed as spam has published
 * replies (so "count", the published comments of the whole thread, is what
 * readers can see across the pages).  Replies whose parent is on an earlier
 * page come first at the top level.  *out is {"thread", "count",
 * "comments": [...], "cursor": text or null}.  A page always holds at least
 * one comment when any is left.  Only this thread's rows are read, whatever
 * the cursor names: one made for another thread (another site's with the
 * same path) goes on after its top-level id, as "after" would.  0 or
 * negative. */
int comment_thread_page(struct store_conn *c, const struct comment_page_query *q, json_t **out);

/* The same page as JSON text appended to out, byte for byte what
 * json_dumps(comment_thread_page's *out, JSON_COMPACT) writes, without a
 * jansson tree (the daemon's answer: lib/thread.h).  0 or negative: -E2BIG
 * past out's cap, -EILSEQ for a stored string that is not UTF-8 (where
 * comment_thread_page fails too), -ENOMEM, ...; out may then hold part of
 * the page. */
int comment_thread_page_text(struct store_conn *c, const struct comment_page_query *q,
			     struct buf *out);

/* Where the conversation of comment id in site's thread starts: a cursor at its
 * top-level comment in sort order sort, so that a page from it (roots = 1)
 * holds that comment with all its replies.  1 with *from, 0 when id is not
 * a shown comment of thread, or negative. */
int comment_conversation_start(struct store_conn *c, const char *site, const char *thread,
			       int64_t id, char sort, struct comment_cursor *from);

/* The version of site's thread (bumped by every change to its comments), or
 * -1 when the thread does not exist.  0 or negative. */
int comment_thread_version(struct store_conn *c, const char *site, const char *thread,
			   int64_t *version);

/* Steps st (bound by the caller) to its end, setting obj[column 0's text]
 * to column 1's integer for each row (counts by name); resets st.  0 or
 * negative. */
int comment_row_counts(struct store_conn *c, struct store_stmt *st, json_t *obj);

/* Published-comment counts for each of site's thread paths in the JSON
 * array paths (strings, checked by the caller).  *out maps path to count.
 * 0 or negative. */
int comment_counts(struct store_conn *c, const char *site, const json_t *paths, json_t **out);

/* True if a comment with this e-mail hash is published on site
 * (moderation = first: each site's moderators decide for it).  0/1, or
 * negative. */
int comment_previously_approved(struct store_conn *c, const char *site,
				const unsigned char email_hash[KEYS_HASH_BYTES]);

/* A stored comment, for edits. */
struct comment_row {
	int64_t id;
	char site[CONFIG_SITE_ID_MAX + 1];
	char *thread;
	int64_t parent;
	char *author;
	char *url; /* NULL when none */
	char *text;
	char *avatar;
	char *ip, *user_agent, *referrer; /* NULL when not (or no longer) kept */
	char *email_domain;		  /* kept (sealed) for the edit window; or NULL */
	enum comment_status status;
	int64_t created;
	bool has_email_hash;
	unsigned char email_hash[KEYS_HASH_BYTES];
	bool has_edit_hash;
	unsigned char edit_hash[KEYS_HASH_BYTES];
	int64_t likes;
};

/* Loads comment id; k (may be NULL) opens the sealed client address and
 * e-mail domain.  1 found (caller clears *out), 0 none, negative. */
int comment_load(struct store_conn *c, const struct keys *k, int64_t id, struct comment_row *out);

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
