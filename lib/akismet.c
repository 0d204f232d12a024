#include "akismet.h"

#include "config.h"

#include "timefmt.h"
#include "form.h"
#include "log.h"
#include "text.h"
#include "tokenize.h"

#include <errno.h>
#include <iconv.h>
#include <sodium.h>
#include <utf8proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct akismet_request {
	struct form *form;
	char **decoded;	     /* per field: its UTF-8 text, or NULL when the raw value is */
	char site_host[256]; /* host of the blog field, or "" */
	char charset[AKISMET_CHARSET_MAX];
	char note[AKISMET_NOTE_MAX]; /* "" or akismet_request_charset_note() */
};

/* Fields read as sent: the key (hex, whatever the charset) and the charset
 * name itself. */
static const char *const raw_fields[] = {"api_key", "key", "blog_charset", NULL};

/* WHATWG Encoding Standard labels of UTF-8 and of windows-1252 (which
 * browsers use for every ISO-8859-1 and ASCII label). */
static const char *const utf8_labels[] = {
    "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8", NULL,
};
static const char *const cp1252_labels[] = {
    "windows-1252", "x-cp1252",	       "cp1252", "iso-8859-1", "iso8859-1",	 "iso88591",
    "iso_8859-1",   "iso_8859-1:1987", "latin1", "l1",	       "cp819",		 "ibm819",
    "iso-ir-100",   "csisolatin1",     "ascii",	 "us-ascii",   "ansi_x3.4-1968", NULL,
};

enum charset_kind {
	CHARSET_UTF8,
	CHARSET_CP1252,
	CHARSET_ICONV,
};

/* Akismet's own parameters: never a honeypot, always known. */
static const char *const akismet_params[] = {
    "api_key",
    "key",
    "blog",
    "user_ip",
    "user_agent",
    "referrer",
    "referer",
    "permalink",
    "comment_type",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_content",
    "comment_date_gmt",
    "comment_post_modified_gmt",
    "comment_parent",
    "blog_lang",
    "blog_charset",
    "charset",
    "user_role",
    "is_test",
    "recheck_reason",
    "honeypot_field_name",
    "reporter",
    "comment_check_response",
    "callback",
    NULL,
};

/* The fields that identify a comment for the learning key, in hash order. */
static const char *const identity_fields[] = {
    "comment_content",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "permalink",
    "user_ip",
    NULL,
};

static const char sql_key_insert[] =
    "INSERT INTO akismet_keys(blog, hash, created, site) VALUES (?1, ?2, ?3, ?4)";
static const char sql_key_find[] =
    "SELECT id, hash, site FROM akismet_keys WHERE hash = ?1 AND revoked IS NULL";
static const char sql_key_revoke_id[] =
    "UPDATE akismet_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL";
static const char sql_key_revoke_hash[] =
    "UPDATE akismet_keys SET revoked = ?2 WHERE hash = ?1 AND revoked IS NULL";
static const char sql_key_list[] =
    "SELECT id, blog, created, revoked, last_used, month, calls, spam, ham, missed_spam,"
    " false_positives, site FROM akismet_keys ORDER BY id";
static const char sql_key_get[] =
    "SELECT blog, revoked, month, calls, spam, ham, missed_spam, false_positives"
    " FROM akismet_keys WHERE id = ?1";
/* ?3..?6: increments of spam, ham, missed_spam, false_positives. */
static const char sql_key_count[] =
    "UPDATE akismet_keys SET last_used = ?2,"
    " calls = CASE WHEN month = ?7 THEN calls + 1 ELSE 1 END,"
    " spam = CASE WHEN month = ?7 THEN spam + ?3 ELSE ?3 END,"
    " ham = CASE WHEN month = ?7 THEN ham + ?4 ELSE ?4 END,"
    " missed_spam = CASE WHEN month = ?7 THEN missed_spam + ?5 ELSE ?5 END,"
    " false_positives = CASE WHEN month = ?7 THEN false_positives + ?6 ELSE ?6 END,"
    " month = ?7 WHERE id = ?1";
static const char sql_learned_label[] = "SELECT label FROM classifier_learned WHERE msg_key = ?1";

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++) {
		if (strcasecmp(list[i], s) == 0)
			return true;
	}
	return false;
}

/* The first value of field name as the classifier sees it: decoded when
 * decoding changed it, else as sent. */
static const char *field(const struct akismet_request *r, const char *name)
{
	size_t n = form_size(r->form);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(form_name(r->form, i), name) == 0)
			return r->decoded && r->decoded[i] ? r->decoded[i] : form_value(r->form, i);
	}
	return NULL;
}

/* Charset names are short ASCII words ("Shift_JIS", "ISO-8859-15"); this
 * keeps iconv suffixes ("//IGNORE") and header-breaking bytes out. */
static bool charset_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._:()+-", c)))
			return false;
	}
	return n > 0;
}

/* Sets r->charset (and r->note for a name that cannot be one) from the
 * blog_charset field. */
static enum charset_kind resolve_charset(struct akismet_request *r)
{
	const char *label = form_get(r->form, "blog_charset");
	size_t n;

	snprintf(r->charset, sizeof(r->charset), "UTF-8");
	if (!label)
		return CHARSET_UTF8;
	while (blank(*label))
		label++;
	n = strlen(label);
	while (n > 0 && blank(label[n - 1]))
		n--;
	if (n == 0)
		return CHARSET_UTF8;
	if (n >= sizeof(r->charset) || !charset_name_ok(label, n)) {
		snprintf(r->note, sizeof(r->note),
			 "blog_charset is not a charset name; the fields were read as UTF-8.");
		return CHARSET_UTF8;
	}
	memcpy(r->charset, label, n);
	r->charset[n] = '\0';
	if (in_list(utf8_labels, r->charset)) {
		snprintf(r->charset, sizeof(r->charset), "UTF-8");
		return CHARSET_UTF8;
	}
	if (in_list(cp1252_labels, r->charset)) {
		snprintf(r->charset, sizeof(r->charset), "windows-1252");
		return CHARSET_CP1252;
	}
	return CHARSET_ICONV;
}

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* len bytes of v with every byte that does not start a valid UTF-8
 * sequence (and every U+0000) replaced by U+FFFD: a new string of at most
 * 3 * len bytes, or NULL. */
static char *utf8_sanitised(const char *v, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)v;
	char *out = malloc(3 * len + 1), *o = out;

	if (!out)
		return NULL;
	while (len > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);

		if (k <= 0 || cp == 0) {
			memcpy(o, replacement, 3);
			o += 3;
			k = 1;
		} else {
			memcpy(o, p, (size_t)k);
			o += k;
		}
		p += k;
		len -= (size_t)k;
	}
	*o = '\0';
	return out;
}

/* An iconv output buffer: grows by doubling up to max bytes. */
struct decode_out {
	char *buf, *at;
	size_t cap, left, max; /* left keeps one byte for the NUL */
};

/* Makes room for at least need more bytes.  0, 1 at the cap, or -ENOMEM. */
static int decode_room(struct decode_out *d, size_t need)
{
	size_t used = (size_t)(d->at - d->buf), cap = d->cap;
	char *p;

	while (cap - 1 - used < need && cap < d->max)
		cap = cap * 2 < d->max ? cap * 2 : d->max;
	if (cap - 1 - used < need)
		return 1;
	if (cap == d->cap)
		return 0;
	p = realloc(d->buf, cap);
	if (!p)
		return -ENOMEM;
	d->buf = p;
	d->cap = cap;
	d->at = p + used;
	d->left = cap - 1 - used;
	return 0;
}

/* Converts len bytes of v with cd (reset first) into d.  A byte the
 * charset does not define, or an incomplete sequence, becomes U+FFFD and
 * sets *replaced; with c1 (windows-1252), the five bytes it leaves undefined
 * become U+0081, U+008D, U+008F, U+0090 and U+009D, as WHATWG decodes
 * them.  Output past d->max is cut (and counts as replaced).  0 or -ENOMEM. */
static int iconv_run(iconv_t cd, bool c1, const char *v, size_t len, struct decode_out *d,
		     bool *replaced)
{
	char *in = (char *)v;
	size_t inleft = len;
	bool flushing = false;
	int room, err;

	iconv(cd, NULL, NULL, NULL, NULL);
	for (;;) {
		size_t n = flushing ? iconv(cd, NULL, NULL, &d->at, &d->left)
				    : iconv(cd, &in, &inleft, &d->at, &d->left);
		if (n != (size_t)-1) {
			if (flushing)
				return 0;
			flushing = true;
			continue;
		}
		err = errno; /* before realloc can change it */
		room = decode_room(d, err == E2BIG ? d->left + 4 : 3);
		if (room != 0) {
			*replaced = room > 0;
			return room < 0 ? room : 0;
		}
		if (err == E2BIG)
			continue;
		if (flushing || (err != EILSEQ && err != EINVAL))
			return 0;
		if (c1 && (unsigned char)*in >= 0x80 && (unsigned char)*in <= 0x9f) {
			d->at[0] = (char)0xc2;
			d->at[1] = *in;
			d->at += 2;
			d->left -= 2;
		} else {
			memcpy(d->at, replacement, 3);
			d->at += 3;
			d->left -= 3;
			*replaced = true;
		}
		in++;
		inleft--;
	}
}

/* v (len bytes) decoded with cd to UTF-8 in a new string, or NULL.  The
 * result is always valid UTF-8 without U+0000: iconv's output is checked,
 * not trusted, and what fails the check becomes U+FFFD too. */
static char *iconv_decoded(iconv_t cd, bool c1, const char *v, size_t len, bool *replaced)
{
	/* Twice the input fits most text (and the growth path gets used); no
	 * glibc charset comes near the hard limit of 16 bytes per byte. */
	struct decode_out d = {.cap = 2 * len + 8, .max = 16 * len + 64};
	size_t n;
	char *clean;

	d.buf = malloc(d.cap);
	if (!d.buf)
		return NULL;
	d.at = d.buf;
	d.left = d.cap - 1;
	if (iconv_run(cd, c1, v, len, &d, replaced) != 0) {
		free(d.buf);
		return NULL;
	}
	n = (size_t)(d.at - d.buf);
	*d.at = '\0';
	if (text_utf8_valid(d.buf, n, NULL))
		return d.buf;
	*replaced = true;
	clean = utf8_sanitised(d.buf, n);
	free(d.buf);
	return clean;
}

static bool is_ascii(const char *v)
{
	for (; *v; v++) {
		if ((unsigned char)*v >= 0x80)
			return false;
	}
	return true;
}

/* Notes the first field that had bytes its charset does not define.  Only
 * Akismet's own field names are repeated (the note becomes a header). */
static void note_replaced(struct akismet_request *r, const char *name)
{
	bool known = false;

	if (r->note[0])
		return;
	for (size_t i = 0; akismet_params[i] && !known; i++)
		known = strcmp(name, akismet_params[i]) == 0;
	snprintf(r->note, sizeof(r->note),
		 "%s%s has bytes that are not valid %s; each became U+FFFD.",
		 known ? "" : "a field", known ? name : "", r->charset);
}

/* Decodes every field but raw_fields into r->decoded.  0 or -ENOMEM. */
static int decode_fields(struct akismet_request *r)
{
	enum charset_kind kind = resolve_charset(r);
	size_t n = form_size(r->form);
	iconv_t cd = (iconv_t)-1;
	int ret = 0;

	if (n == 0)
		return 0;
	r->decoded = calloc(n, sizeof(*r->decoded));
	if (!r->decoded)
		return -ENOMEM;
	if (kind != CHARSET_UTF8) {
		cd = iconv_open("UTF-8", kind == CHARSET_CP1252 ? "CP1252" : r->charset);
		if (cd == (iconv_t)-1 && errno == ENOMEM)
			return -ENOMEM;
		if (cd == (iconv_t)-1) {
			snprintf(r->note, sizeof(r->note),
				 "Unknown blog_charset \"%s\"; the fields were read as UTF-8.",
				 r->charset);
			snprintf(r->charset, sizeof(r->charset), "UTF-8");
			kind = CHARSET_UTF8;
		}
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *name = form_name(r->form, i), *v = form_value(r->form, i);
		size_t len = strlen(v);
		bool replaced = false;

		if (in_list(raw_fields, name))
			continue;
		if (kind == CHARSET_UTF8 && text_utf8_valid(v, len, NULL))
			continue;
		if (kind == CHARSET_CP1252 && is_ascii(v))
			continue;
		if (kind == CHARSET_UTF8) {
			r->decoded[i] = utf8_sanitised(v, len);
			replaced = true;
		} else {
			r->decoded[i] =
			    iconv_decoded(cd, kind == CHARSET_CP1252, v, len, &replaced);
		}
		if (!r->decoded[i])
			ret = -ENOMEM;
		else if (replaced)
			note_replaced(r, name);
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	return ret;
}

int akismet_request_parse(struct akismet_request **out, const char *body, size_t len)
{
	struct akismet_request *r = calloc(1, sizeof(*r));
	const char *blog;
	int ret;

	if (!r)
		return -ENOMEM;
	ret = form_parse(&r->form, body ? body : "", body ? len : 0);
	if (ret != 0) {
		free(r);
		return ret == FORM_INVALID ? AKISMET_INVALID : ret;
	}
	ret = decode_fields(r);
	if (ret != 0) {
		akismet_request_free(r);
		return ret;
	}
	blog = field(r, "blog");
	if (!blog || !blog[0] ||
	    tokenize_url_host(blog, strnlen(blog, AKISMET_BLOG_MAX), r->site_host,
			      sizeof(r->site_host)) != 0)
		r->site_host[0] = '\0';
	*out = r;
	return 0;
}

struct akismet_request *akismet_request_free(struct akismet_request *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; r->decoded && i < form_size(r->form); i++) {
		if (r->decoded[i]) {
			sodium_memzero(r->decoded[i], strlen(r->decoded[i]));
			free(r->decoded[i]);
		}
	}
	free(r->decoded);
	form_free(r->form);
	sodium_memzero(r, sizeof(*r));
	free(r);
	return NULL;
}

const char *akismet_request_get(const struct akismet_request *r, const char *name)
{
	return r ? field(r, name) : NULL;
}

const char *akismet_request_charset(const struct akismet_request *r)
{
	return r->charset;
}

const char *akismet_request_charset_note(const struct akismet_request *r)
{
	return r->note[0] ? r->note : NULL;
}

bool akismet_key_normalise(const char *candidate, char out[AKISMET_KEY_CHARS])
{
	char key[AKISMET_KEY_CHARS];
	size_t n = 0;

	/* out is "" on every refusal: only a whole valid key is written. */
	out[0] = '\0';
	if (!candidate)
		return false;
	while (blank(*candidate))
		candidate++;
	for (; candidate[n] && !blank(candidate[n]); n++) {
		char c = candidate[n];
		if (n == AKISMET_KEY_HEX)
			return false;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		key[n] = c;
	}
	for (size_t i = n; candidate[i]; i++) {
		if (!blank(candidate[i]))
			return false;
	}
	if (n != AKISMET_KEY_HEX)
		return false;
	key[n] = '\0';
	memcpy(out, key, n + 1);
	return true;
}

bool akismet_key_from_host(const char *host, char out[AKISMET_KEY_CHARS])
{
	char label[AKISMET_KEY_CHARS];
	const char *dot;
	size_t n;

	out[0] = '\0';
	if (!host)
		return false;
	dot = strchr(host, '.');
	if (!dot || dot[1] == '\0' || dot[1] == ':')
		return false;
	n = (size_t)(dot - host);
	if (n != AKISMET_KEY_HEX)
		return false;
	memcpy(label, host, n);
	label[n] = '\0';
	return akismet_key_normalise(label, out);
}

bool akismet_request_key(const struct akismet_request *r, const char *host, bool verify,
			 char out[AKISMET_KEY_CHARS])
{
	const char *first = form_get(r->form, verify ? "key" : "api_key");
	const char *second = form_get(r->form, verify ? "api_key" : "key");
	const char *field = first && first[0] ? first : second && second[0] ? second : NULL;

	if (field) {
		/* A malformed field yields "" and fails verification. */
		akismet_key_normalise(field, out);
		return true;
	}
	return akismet_key_from_host(host, out);
}

const char *akismet_request_missing(const struct akismet_request *r)
{
	const char *ip = field(r, "user_ip");
	const char *p = ip;

	while (p && blank(*p))
		p++;
	return p && *p ? NULL : "user_ip";
}

void akismet_request_classify(struct akismet_request *r, const char *fallback_site_host,
			      struct classify_input *out)
{
	const char *referrer = field(r, "referrer");

	if (!referrer)
		referrer = field(r, "referer");
	*out = (struct classify_input){
	    .text = field(r, "comment_content"),
	    .author = field(r, "comment_author"),
	    .email = field(r, "comment_author_email"),
	    .url = field(r, "comment_author_url"),
	    .ip = field(r, "user_ip"),
	    .user_agent = field(r, "user_agent"),
	    .referrer = referrer,
	    .site_host = r->site_host[0]			       ? r->site_host
			 : fallback_site_host && fallback_site_host[0] ? fallback_site_host
								       : NULL,
	    .thread = field(r, "permalink"),
	    .render_seconds = -1,
	    .honeypot_filled = akismet_request_honeypot(r),
	};
	if (out->text && !out->text[0])
		out->text = NULL;
	if (out->ip && !out->ip[0])
		out->ip = NULL;
}

/* Compares s, trimmed of blanks, with want ignoring ASCII case. */
static bool trimmed_equal(const char *s, const char *want)
{
	size_t n, wn = strlen(want);

	if (!s)
		return false;
	while (blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && blank(s[n - 1]))
		n--;
	return n == wn && strncasecmp(s, want, n) == 0;
}

static bool has_role(const char *roles, const char *role)
{
	char one[64];

	if (!roles)
		return false;
	while (*roles) {
		size_t n = strcspn(roles, ",");
		if (n < sizeof(one)) {
			memcpy(one, roles, n);
			one[n] = '\0';
			if (trimmed_equal(one, role))
				return true;
		}
		roles += n;
		if (*roles == ',')
			roles++;
	}
	return false;
}

enum akismet_test akismet_request_test(const struct akismet_request *r)
{
	const char *author = field(r, "comment_author");

	if (has_role(field(r, "user_role"), "administrator"))
		return AKISMET_TEST_HAM;
	if (trimmed_equal(author, "akismet-guaranteed-spam") ||
	    trimmed_equal(author, "viagra-test-123") ||
	    trimmed_equal(field(r, "comment_author_email"), "akismet-guaranteed-spam@example.com"))
		return AKISMET_TEST_SPAM;
	return AKISMET_TEST_NONE;
}

bool akismet_parse_bool(const char *v)
{
	static const char *const yes[] = {"1", "true", "yes", "on", NULL};

	for (size_t i = 0; v && yes[i]; i++) {
		if (trimmed_equal(v, yes[i]))
			return true;
	}
	return false;
}

bool akismet_request_is_test(const struct akismet_request *r)
{
	return akismet_parse_bool(field(r, "is_test"));
}

bool akismet_request_honeypot(const struct akismet_request *r)
{
	const char *name = field(r, "honeypot_field_name"), *v;

	if (!name || !name[0])
		return false;
	for (size_t i = 0; akismet_params[i]; i++) {
		if (strcmp(name, akismet_params[i]) == 0)
			return false;
	}
	v = field(r, name);
	for (; v && *v; v++) {
		if (!blank(*v))
			return true;
	}
	return false;
}

/* Appends name, NUL, the value's length (8 bytes, little-endian) and the
 * value to buf at *at (sized by the caller). */
static void put_field(unsigned char *buf, size_t *at, const char *name, const char *v, size_t vlen)
{
	size_t n = strlen(name) + 1;

	memcpy(buf + *at, name, n);
	*at += n;
	for (int b = 0; b < 8; b++)
		buf[(*at)++] = (unsigned char)((uint64_t)vlen >> (8 * b));
	if (vlen)
		memcpy(buf + *at, v, vlen);
	*at += vlen;
}

void akismet_message_key(const struct akismet_request *r, const struct keys *k,
			 char out[AKISMET_MSG_KEY_MAX])
{
	static const char domain[] = "commentd akismet message v1";
	unsigned char hash[KEYS_HASH_BYTES], *buf;
	char hex[2 * KEYS_HASH_BYTES + 1];
	size_t total = sizeof(domain), at = 0;

	for (size_t i = 0; identity_fields[i]; i++) {
		const char *v = field(r, identity_fields[i]);
		total += strlen(identity_fields[i]) + 1 + 8 + (v ? strlen(v) : 0);
	}
	buf = malloc(total);
	if (!buf) {
		/* Out of memory: a random key learns the message, just not
		 * idempotently; never fail a submit for it. */
		randombytes_buf(hash, sizeof(hash));
		goto out;
	}
	memcpy(buf, domain, sizeof(domain));
	at = sizeof(domain);
	for (size_t i = 0; identity_fields[i]; i++) {
		const char *v = field(r, identity_fields[i]);
		size_t vlen = v ? strlen(v) : 0;

		if (strcmp(identity_fields[i], "comment_author_email") == 0 && v) {
			/* trimmed, lower-cased in place below */
			while (vlen && blank(*v)) {
				v++;
				vlen--;
			}
			while (vlen && blank(v[vlen - 1]))
				vlen--;
			put_field(buf, &at, identity_fields[i], v, vlen);
			for (size_t j = at - vlen; j < at; j++) {
				if (buf[j] >= 'A' && buf[j] <= 'Z')
					buf[j] = (unsigned char)(buf[j] + 32);
			}
			continue;
		}
		put_field(buf, &at, identity_fields[i], v, vlen);
	}
	keys_hash(k, KEYS_TOKEN, buf, at, hash);
	sodium_memzero(buf, total);
	free(buf);
out:
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(out, AKISMET_MSG_KEY_MAX, "akismet:%s", hex);
}

int akismet_known_label(struct store_conn *c, const char *message_key, enum classify_label *label)
{
	struct store_stmt *st = store_stmt(c, sql_learned_label);
	int r = AKISMET_NOT_FOUND, rc;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, message_key);
	rc = store_row(c, st);
	if (rc == 1) {
		const char *l = store_col_text(st, 0);
		*label = l && strcmp(l, "spam") == 0 ? CLASSIFY_LABEL_SPAM : CLASSIFY_LABEL_HAM;
		r = 0;
	} else if (rc < 0) {
		log_err("akismet: reading the classifier ledger: %s", store_errmsg(c));
		r = -EIO;
	}
	store_reset(st);
	return r;
}

void akismet_guid(char out[AKISMET_GUID_CHARS])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, AKISMET_GUID_CHARS,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

/* ---- site keys ---- */

static bool blog_valid(const char *blog)
{
	size_t n;

	if (!blog)
		return false;
	n = strnlen(blog, AKISMET_BLOG_MAX + 1);
	if (n == 0 || n > AKISMET_BLOG_MAX)
		return false;
	if (strncasecmp(blog, "http://", 7) != 0 && strncasecmp(blog, "https://", 8) != 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)blog; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	}
	{
		char host[256];
		return tokenize_url_host(blog, n, host, sizeof(host)) == 0;
	}
}

/* YYYYMM of t (UTC). */
static int64_t month_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return 0;
	return (int64_t)(tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

int akismet_key_create(struct store_conn *c, const struct keys *k, const char *site,
		       const char *blog, char key[AKISMET_KEY_CHARS], int64_t *id)
{
	unsigned char raw[AKISMET_KEY_HEX / 2], hash[KEYS_HASH_BYTES];
	struct store_stmt *st;
	int r = -EIO;

	key[0] = '\0';
	if (!blog_valid(blog))
		return AKISMET_BAD_BLOG;
	if (!config_site_id_valid(site))
		return AKISMET_BAD_SITE;
	r = store_begin(c);
	if (r)
		return r < 0 ? r : -EIO;
	/* 48 random bits: a collision with an existing key is unlikely but
	 * possible; the UNIQUE hash refuses it and we draw again. */
	for (int attempt = 0; attempt < 8; attempt++) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(key, AKISMET_KEY_CHARS, raw, sizeof(raw));
		keys_hash(k, KEYS_TOKEN, key, AKISMET_KEY_HEX, hash);
		st = store_stmt(c, sql_key_insert);
		if (!st) {
			r = -EIO;
			goto out;
		}
		store_bind_text(st, 1, blog);
		store_bind_blob(st, 2, hash, sizeof(hash));
		store_bind_int64(st, 3, (int64_t)time(NULL));
		store_bind_text(st, 4, site);
		r = store_step_write(c, st, "akismet key insert");
		store_reset(st);
		if (r == STORE_CONSTRAINT) {
			r = -EEXIST;
			continue;
		}
		break;
	}
	if (r == 0) {
		if (id)
			*id = store_last_id(c);
		r = store_commit(c);
	}
	if (r > 0)
		r = -EIO;
out:
	store_rollback(c);
	sodium_memzero(raw, sizeof(raw));
	if (r != 0)
		sodium_memzero(key, AKISMET_KEY_CHARS);
	return r;
}

int akismet_key_verify(struct store_conn *c, const struct keys *k, const char *key, int64_t *id,
		       char site[CONFIG_SITE_ID_MAX + 1])
{
	unsigned char hash[KEYS_HASH_BYTES];
	char norm[AKISMET_KEY_CHARS];
	bool well_formed = akismet_key_normalise(key, norm);
	struct store_stmt *st;
	int r;

	/* Hash even a malformed key so timing does not tell the two apart. */
	keys_hash(k, KEYS_TOKEN, norm, strlen(norm), hash);
	if (!well_formed)
		return AKISMET_DENIED;
	st = store_stmt(c, sql_key_find);
	if (!st)
		return -EIO;
	store_bind_blob(st, 1, hash, sizeof(hash));
	r = store_match_blob(c, st, 1, hash, sizeof(hash));
	if (r == 1) {
		if (id)
			*id = store_col_int64(st, 0);
		if (site)
			snprintf(site, CONFIG_SITE_ID_MAX + 1, "%s", store_col_text(st, 2));
		store_reset(st);
	}
	r = r == 1 ? 0 : r == 0 ? AKISMET_DENIED : r;
	sodium_memzero(norm, sizeof(norm));
	return r;
}

static int revoke_with(struct store_conn *c, const char *sql, int64_t id, const void *hash)
{
	struct store_stmt *st = store_stmt(c, sql);
	int r;

	if (!st)
		return -EIO;
	if (hash)
		store_bind_blob(st, 1, hash, KEYS_HASH_BYTES);
	else
		store_bind_int64(st, 1, id);
	store_bind_int64(st, 2, (int64_t)time(NULL));
	r = store_run(c, st, "akismet key revoke");
	if (r)
		return r < 0 ? r : -EIO;
	return store_changes(c) == 1 ? 0 : AKISMET_NOT_FOUND;
}

int akismet_key_revoke_id(struct store_conn *c, int64_t id)
{
	return revoke_with(c, sql_key_revoke_id, id, NULL);
}

int akismet_key_revoke(struct store_conn *c, const struct keys *k, const char *key)
{
	unsigned char hash[KEYS_HASH_BYTES];
	char norm[AKISMET_KEY_CHARS];

	if (!akismet_key_normalise(key, norm))
		return AKISMET_NOT_FOUND;
	keys_hash(k, KEYS_TOKEN, norm, strlen(norm), hash);
	sodium_memzero(norm, sizeof(norm));
	return revoke_with(c, sql_key_revoke_hash, 0, hash);
}

static json_t *time_or_null(struct store_stmt *st, int col)
{
	char buf[21];

	if (store_col_type(st, col) == STORE_NULL)
		return json_null();
	timefmt_rfc3339(store_col_int64(st, col), buf);
	return json_string(buf);
}

/* A counter column, or 0 when the row's month is not the current one. */
static json_int_t counter(struct store_stmt *st, int month_col, int col, int64_t month)
{
	return store_col_int64(st, month_col) == month ? (json_int_t)store_col_int64(st, col) : 0;
}

#define MONTH_TEXT 16

static void month_text(int64_t month, char out[MONTH_TEXT])
{
	snprintf(out, MONTH_TEXT, "%04u-%02u", (unsigned)(month / 100) % 10000u,
		 (unsigned)(month % 100) % 100u);
}

int akismet_key_list(struct store_conn *c, int64_t now, json_t **out)
{
	struct store_stmt *st = store_stmt(c, sql_key_list);
	json_t *list = json_array();
	int64_t month = month_of(now);
	char mtext[MONTH_TEXT];
	int rc;

	if (!st || !list) {
		json_decref(list);
		return st ? -ENOMEM : -EIO;
	}
	month_text(month, mtext);
	while ((rc = store_row(c, st)) == 1) {
		json_t *row = json_pack(
		    "{s:I, s:s, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:I}", "id",
		    (json_int_t)store_col_int64(st, 0), "blog", store_col_text(st, 1), "created",
		    time_or_null(st, 2), "revoked", time_or_null(st, 3), "last_used",
		    time_or_null(st, 4), "month", mtext, "calls", counter(st, 5, 6, month), "spam",
		    counter(st, 5, 7, month), "ham", counter(st, 5, 8, month), "missed_spam",
		    counter(st, 5, 9, month), "false_positives", counter(st, 5, 10, month));
		if (row &&
		    json_object_set_new(row, "site", json_string(store_col_text(st, 11))) != 0) {
			json_decref(row);
			row = NULL;
		}
		if (!row || json_array_append_new(list, row) != 0) {
			rc = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	if (rc != 0) {
		json_decref(list);
		return -EIO;
	}
	*out = list;
	return 0;
}

int akismet_key_count(struct store_conn *c, int64_t id, enum akismet_event event, int64_t now)
{
	struct store_stmt *st = store_stmt(c, sql_key_count);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	store_bind_int64(st, 2, now);
	store_bind_int64(st, 3, event == AKISMET_EVENT_CHECK_SPAM);
	store_bind_int64(st, 4, event == AKISMET_EVENT_CHECK_HAM);
	store_bind_int64(st, 5, event == AKISMET_EVENT_SUBMIT_SPAM);
	store_bind_int64(st, 6, event == AKISMET_EVENT_SUBMIT_HAM);
	store_bind_int64(st, 7, month_of(now));
	r = store_run(c, st, "akismet key count");
	return r > 0 ? -EIO : r;
}

/* Steps sql_key_get for id; the caller resets *st.  0, AKISMET_NOT_FOUND or
 * negative. */
static int key_row(struct store_conn *c, int64_t id, struct store_stmt **st)
{
	int rc;

	*st = store_stmt(c, sql_key_get);
	if (!*st)
		return -EIO;
	store_bind_int64(*st, 1, id);
	rc = store_row(c, *st);
	if (rc == 1)
		return 0;
	store_reset(*st);
	return rc == 0 ? AKISMET_NOT_FOUND : -EIO;
}

int akismet_key_usage(struct store_conn *c, int64_t id, int64_t now, bool extended, json_t **out)
{
	struct store_stmt *st;
	json_int_t calls;
	int r = key_row(c, id, &st);

	if (r != 0)
		return r < 0 ? r : -ENOENT;
	calls = counter(st, 2, 3, month_of(now));
	store_reset(st);
	*out = json_pack("{s:s, s:I, s:s, s:b}", "limit", "none", "usage", calls, "percentage",
			 "0.00", "throttled", 0);
	if (*out && extended) {
		json_object_set_new(*out, "notice_level", json_string("NOTICE_NONE"));
		json_object_set_new(*out, "upgrade", json_false());
	}
	return *out ? 0 : -ENOMEM;
}

int akismet_key_sites(struct store_conn *c, int64_t id, int64_t now, const char *month,
		      json_t **out)
{
	int64_t current = month_of(now), want = current;
	char host[256], mtext[MONTH_TEXT];
	json_t *sites = NULL;
	struct store_stmt *st;
	int r;

	if (month && month[0]) {
		char *end;
		long y, m;
		errno = 0;
		y = strtol(month, &end, 10);
		if (errno || end != month + 4 || *end != '-' || y < 1970 || y > 9999)
			return AKISMET_INVALID;
		m = strtol(end + 1, &end, 10);
		if (errno || *end || end != month + 7 || m < 1 || m > 12)
			return AKISMET_INVALID;
		want = (int64_t)y * 100 + m;
	}
	r = key_row(c, id, &st);
	if (r != 0)
		return r < 0 ? r : -ENOENT;
	sites = json_array();
	if (sites && want == current) {
		const char *blog = store_col_text(st, 0);
		if (!blog || tokenize_url_host(blog, strlen(blog), host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "%s", blog ? blog : "");
		json_array_append_new(
		    sites,
		    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "site", host, "api_calls",
			      counter(st, 2, 3, current), "spam", counter(st, 2, 4, current), "ham",
			      counter(st, 2, 5, current), "missed_spam", counter(st, 2, 6, current),
			      "false_positives", counter(st, 2, 7, current), "is_revoked",
			      store_col_type(st, 1) != STORE_NULL));
	}
	store_reset(st);
	if (!sites)
		return -ENOMEM;
	month_text(want, mtext);
	*out = json_pack("{s:o, s:i, s:i, s:I}", mtext, sites, "limit", 500, "offset", 0, "total",
			 (json_int_t)json_array_size(sites));
	return *out ? 0 : -ENOMEM;
}

int akismet_key_subscription(int64_t id, json_t **out)
{
	*out = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b}", "account_id", (json_int_t)id,
			 "account_type", "commentd", "account_name", "commentd site key", "status",
			 "active", "next_billing_date", 0, "limit_reached", 0);
	return *out ? 0 : -ENOMEM;
}
