/* webhook: events POSTed as JSON to webhook_url (docs/notifications.md).
 *
 * Each POST carries X-Commentd-Event (the type), X-Commentd-Delivery (the
 * event id: the same on every retry, so a receiver can drop repeats),
 * X-Commentd-Timestamp (Unix seconds) and X-Commentd-Signature:
 * "sha256=" and the hex HMAC-SHA256, keyed with webhook_secret, of the
 * timestamp, a ".", and the body.  A receiver recomputes it, compares in
 * constant time and refuses old timestamps (replays).
 */
#ifndef COMMENTD_WEBHOOK_H
#define COMMENTD_WEBHOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SIGNATURE_MAX 72 /* "sha256=" + 64 hex digits + NUL */
#define WEBHOOK_ERR_MAX	      160

enum {
	WEBHOOK_RETRY = 2,   /* no answer, 408, 429 or 5xx: try again later */
	WEBHOOK_REFUSED = 3, /* another 4xx or a redirect: refused for good */
};

/* The signature header's value for body (len bytes) sent at timestamp. */
void webhook_sign(const char *secret, int64_t timestamp, const char *body, size_t len,
		  char out[WEBHOOK_SIGNATURE_MAX]);

/* POSTs body to url, signed with secret at now.  0 on a 2xx answer, else
 * WEBHOOK_RETRY or WEBHOOK_REFUSED with a reason in err.  When *cancel
 * (may be NULL) becomes true the POST stops (WEBHOOK_RETRY). */
int webhook_post(const char *url, const char *secret, const char *type, int64_t event_id,
		 int64_t now, const char *body, const atomic_bool *cancel,
		 char err[WEBHOOK_ERR_MAX]);

/* libcurl's progress callback: stops a transfer once *(atomic_bool *)u is
 * true (shared with lib/mail.c). */
int webhook_cancelled(void *u, long long dltotal, long long dlnow, long long ultotal,
		      long long ulnow);

#endif
