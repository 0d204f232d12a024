/* mail: e-mail messages (RFC 5322) and their sending over SMTP (libcurl).
 *
 * mail_build writes a complete message: Date, From, To, a Subject in RFC
 * 2047 encoded words when it is not plain short ASCII, a Message-ID,
 * MIME-Version, a UTF-8 text/plain body in quoted-printable (RFC 2045, lines
 * of at most 76 characters, CRLF), Auto-Submitted, and with an unsubscribe
 * link List-Unsubscribe and List-Unsubscribe-Post (RFC 8058, one click).
 * Header values with line breaks are refused, so nothing a commenter types
 * can add a header.
 *
 * mail_send hands a message to an SMTP server: smtp:// upgrades with
 * STARTTLS (required, except to a server on loopback) and smtps:// speaks
 * TLS from the start; AUTH uses the URL's user name with the password given.
 */
#ifndef COMMENTD_MAIL_H
#define COMMENTD_MAIL_H

#include "buf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_MAX     (256 * 1024) /* bytes of a built message */
#define MAIL_ERR_MAX 160

enum {
	MAIL_INVALID = 1, /* mail_build: a header value would break the message */
	MAIL_RETRY = 2,	  /* mail_send: try again later (server away, 4xx) */
	MAIL_REFUSED = 3, /* mail_send: refused for good (5xx) */
};

struct mail_message {
	const char *from;	 /* the From: header, e.g. "Blog <comments@example.nl>" */
	const char *to;		 /* the To: header: one address or a comma list */
	const char *subject;	 /* UTF-8 */
	const char *message_id;	 /* without angle brackets */
	int64_t date;		 /* Unix seconds */
	const char *unsubscribe; /* an https URL, or NULL */
	const char *body;	 /* UTF-8 text, lines ending in "\n" */
};

/* Builds m into *out (caller frees) of *len bytes.  0, MAIL_INVALID, or
 * negative. */
int mail_build(const struct mail_message *m, char **out, size_t *len);

/* Appends subject as it goes after "Subject: ": as is when it is printable
 * ASCII of at most 70 bytes without "=?", else as UTF-8 base64 encoded words
 * (each at most 75 characters, split between characters, folded with CRLF
 * and a space).  0 or a buf error. */
int mail_encode_subject(const char *subject, struct buf *out);

/* Appends text as quoted-printable with CRLF line ends.  0 or a buf error. */
int mail_encode_qp(const char *text, struct buf *out);

/* The RFC 5322 date of t (UTC), e.g. "Mon, 30 Nov 2026 10:22:47 +0000". */
void mail_date(int64_t t, char out[40]);

/* The bare address of a From: value ("Name <a@b>" or "a@b") into out.
 * 0, or MAIL_INVALID. */
int mail_address(const char *from, char *out, size_t size);

struct mail_server {
	const char *url;	   /* smtp://[user@]host[:port] or smtps:// */
	const char *password;	   /* for AUTH, or NULL/"" for none */
	const char *from;	   /* the envelope sender (bare address) */
	const atomic_bool *cancel; /* when it becomes true, a send stops (retry); or NULL */
};

/* Sends len bytes of message to the n envelope recipients.  0,
 * MAIL_RETRY or MAIL_REFUSED with a reason in err (never an address). */
int mail_send(const struct mail_server *s, const char *const *rcpt, size_t n, const char *message,
	      size_t len, char err[MAIL_ERR_MAX]);

#endif
