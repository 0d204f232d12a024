#include "mail.h"

#include "curlload.h"
#include "text.h"
#include "webhook.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A header value must stay on its line. */
static bool header_ok(const char *s)
{
	if (!s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

static bool plain_ascii(const char *s, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
		if (*p < 0x20 || *p > 0x7e)
			return false;
	}
	return n <= max && !strstr(s, "=?");
}

/* The length of the longest run of whole UTF-8 characters of s that fits
 * in max bytes. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n ? n : max;
}

int mail_encode_subject(const char *subject, struct buf *out)
{
	/* "=?UTF-8?B?" + base64 + "?=" in 75 characters: 63 base64
	 * characters, 45 bytes of text per word. */
	char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
	size_t len = strlen(subject), pos = 0;
	int r = 0;

	if (plain_ascii(subject, 70))
		return buf_puts(out, subject);
	while (r == 0 && pos < len) {
		size_t n = utf8_prefix(subject + pos, len - pos, 45);
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)subject + pos, n,
				  sodium_base64_VARIANT_ORIGINAL);
		r = buf_printf(out, "%s=?UTF-8?B?%s?=", pos ? "\r\n " : "", b64);
		pos += n;
	}
	return r;
}

int mail_encode_qp(const char *text, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && r == 0; p++) {
		char enc[4];
		size_t n;
		bool line_end = p[1] == '\n' || p[1] == '\0';

		if (*p == '\n') {
			r = buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if (*p == '\r')
			continue;
		if ((*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && !line_end)) {
			enc[0] = (char)*p;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[*p >> 4];
			enc[2] = hex[*p & 15];
			n = 3;
		}
		/* A soft line break keeps lines at 76 characters at most. */
		if (col + n > 75) {
			r = buf_puts(out, "=\r\n");
			col = 0;
		}
		if (r == 0)
			r = buf_append(out, enc, n);
		col += n;
	}
	return r;
}

void mail_date(int64_t t, char out[40])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, 40, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int mail_address(const char *from, char *out, size_t size)
{
	const char *lt = strrchr(from, '<'), *gt;
	size_t n;

	if (lt) {
		gt = strchr(lt, '>');
		if (!gt)
			return MAIL_INVALID;
		from = lt + 1;
		n = (size_t)(gt - from);
	} else {
		n = strlen(from);
	}
	if (n == 0 || n >= size || !memchr(from, '@', n))
		return MAIL_INVALID;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)from[i] <= 0x20 || from[i] == '<' || from[i] == '>')
			return MAIL_INVALID;
	}
	memcpy(out, from, n);
	out[n] = '\0';
	return 0;
}

static int build_headers(const struct mail_message *m, struct buf *b)
{
	char date[40];
	int r;

	mail_date(m->date, date);
	r = buf_printf(b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: ", date, m->from, m->to);
	if (r == 0)
		r = mail_encode_subject(m->subject, b);
	if (r == 0)
		r = buf_printf(b,
			       "\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
			       "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n"
			       "Auto-Submitted: auto-generated\r\n",
			       m->message_id);
	if (r == 0 && m->unsubscribe)
		r = buf_printf(b,
			       "List-Unsubscribe: <%s>\r\n"
			       "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
			       m->unsubscribe);
	return r;
}

int mail_build(const struct mail_message *m, char **out, size_t *len)
{
	struct buf b;
	int r;

	if (!header_ok(m->from) || !header_ok(m->to) || !header_ok(m->message_id) || !m->subject ||
	    !text_utf8_valid(m->subject, strlen(m->subject), NULL) ||
	    text_has_controls(m->subject, false) ||
	    (m->unsubscribe && !header_ok(m->unsubscribe)) || !m->body ||
	    !text_utf8_valid(m->body, strlen(m->body), NULL))
		return MAIL_INVALID;
	buf_init(&b, MAIL_MAX);
	r = build_headers(m, &b);
	if (r == 0)
		r = buf_puts(&b, "\r\n");
	if (r == 0)
		r = mail_encode_qp(m->body, &b);
	if (r == 0 && (b.len < 2 || memcmp(b.data + b.len - 2, "\r\n", 2) != 0))
		r = buf_puts(&b, "\r\n");
	if (r != 0) {
		buf_free(&b);
		return r == BUF_TOO_BIG ? MAIL_INVALID : r;
	}
	*len = b.len;
	*out = buf_steal(&b);
	return *out ? 0 : -ENOMEM;
}

/* ---- sending ---- */

struct upload {
	const char *data;
	size_t len, pos;
};

static size_t read_cb(char *dest, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(dest, u->data + u->pos, n);
	u->pos += n;
	return n;
}

static int progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	return webhook_cancelled(u, (long long)a, (long long)b, (long long)c, (long long)d);
}

/* A server on this machine may go without TLS; anything else must not. */
static bool loopback(const char *url)
{
	const char *host = strstr(url, "://");
	const char *at;

	host = host ? host + 3 : url;
	at = strchr(host, '@');
	if (at && at < host + strcspn(host, "/"))
		host = at + 1;
	return strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.", 4) == 0 ||
	       strncmp(host, "[::1]", 5) == 0;
}

int mail_send(const struct mail_server *s, const char *const *rcpt, size_t n, const char *message,
	      size_t len, char err[MAIL_ERR_MAX])
{
	const struct curl_api *curl_api = curlload();
	struct curl_slist *list = NULL, *grown;
	struct upload u = {message, len, 0};
	char from[300];
	long code = 0;
	CURLcode rc;
	CURL *curl;

	err[0] = '\0';
	if (mail_address(s->from, from, sizeof(from)) != 0) {
		snprintf(err, MAIL_ERR_MAX, "smtp_from has no address");
		return MAIL_REFUSED;
	}
	if (!curl_api) {
		snprintf(err, MAIL_ERR_MAX, "libcurl is not available");
		return MAIL_RETRY;
	}
	curl = curl_api->easy_init();
	if (!curl)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		grown = curl_api->slist_append(list, rcpt[i]);
		if (!grown) {
			curl_api->slist_free_all(list);
			curl_api->easy_cleanup(curl);
			return -ENOMEM;
		}
		list = grown;
	}
	curl_api->easy_setopt(curl, CURLOPT_URL, s->url);
	curl_api->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_api->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_api->easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	curl_api->easy_setopt(curl, CURLOPT_USE_SSL,
			      loopback(s->url) ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	if (s->password && *s->password)
		curl_api->easy_setopt(curl, CURLOPT_PASSWORD, s->password);
	curl_api->easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_api->easy_setopt(curl, CURLOPT_MAIL_RCPT, list);
	curl_api->easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_api->easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_api->easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_api->easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (s->cancel) {
		curl_api->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_api->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
		curl_api->easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)s->cancel);
	}
	rc = curl_api->easy_perform(curl);
	curl_api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_api->slist_free_all(list);
	curl_api->easy_cleanup(curl);
	if (rc == CURLE_OK)
		return 0;
	/* curl's own message and the server's code: neither holds an address. */
	snprintf(err, MAIL_ERR_MAX, "%s (SMTP %ld)", curl_api->easy_strerror(rc), code);
	return code >= 500 && code < 600 ? MAIL_REFUSED : MAIL_RETRY;
}
