#include "host.h"

#include "text.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* WHATWG's forbidden domain code points (ASCII ones; controls and DEL too). */
static bool forbidden_in_domain(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr("#/:<>?@[\\]^|%", c) != NULL;
}

/* Percent-decodes len bytes of in into out (at most HOST_INPUT bytes).
 * Returns the decoded length, or -1 when it decodes to a NUL or is too long. */
static long percent_decode(const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		unsigned char c = (unsigned char)in[i];

		if (c == '%' && i + 2 < len && (hi = text_hex_value(in[i + 1])) >= 0 &&
		    (lo = text_hex_value(in[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == 0 || n == HOST_INPUT)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (long)n;
}

/* "[v6]" to its canonical "[text]". */
static int ipv6_literal(const char *s, size_t len, char out[HOST_MAX])
{
	char inner[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
	unsigned char bytes[16];

	if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(inner))
		return 1;
	memcpy(inner, s + 1, len - 2);
	inner[len - 2] = '\0';
	if (inet_pton(AF_INET6, inner, bytes) != 1 ||
	    !inet_ntop(AF_INET6, bytes, text, sizeof(text)))
		return 1;
	snprintf(out, HOST_MAX, "[%s]", text);
	return 0;
}

/* WHATWG's "ends in a number": the last label (a trailing dot ignored) is
 * decimal digits, or "0x" and hex digits. */
static bool ends_in_number(const char *h)
{
	size_t len = strlen(h);
	const char *label;

	if (len && h[len - 1] == '.')
		len--;
	label = h + len;
	while (label > h && label[-1] != '.')
		label--;
	if (label == h + len)
		return false;
	if (strspn(label, "0123456789") == (size_t)(h + len - label))
		return true;
	if ((label[0] == '0' && (label[1] == 'x' || label[1] == 'X')))
		return strspn(label + 2, "0123456789abcdefABCDEF") == (size_t)(h + len - label - 2);
	return false;
}

/* An IPv4 address in any form browsers take (inet_aton's: decimal, octal,
 * hex, 1 to 4 parts) to dotted decimal.  0 or 1. */
static int ipv4_number(const char *h, char out[HOST_MAX])
{
	char copy[HOST_MAX];
	struct in_addr a;
	size_t len = strlen(h);

	if (len >= sizeof(copy))
		return 1;
	memcpy(copy, h, len + 1);
	if (len && copy[len - 1] == '.')
		copy[len - 1] = '\0';
	if (inet_aton(copy, &a) == 0 || !inet_ntop(AF_INET, &a, out, HOST_MAX))
		return 1;
	return 0;
}

/* Domain to ASCII when libidn2 refuses (a leading hyphen, bad punycode):
 * browsers do not check hyphens, and a blocklist should still see the name,
 * so plain ASCII is lower-cased; anything else is not a host. */
static int ascii_fallback(const char *s, char *out, size_t size)
{
	size_t n = strlen(s);

	if (n >= size)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;
		out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	}
	out[n] = '\0';
	return 0;
}

int host_normalise(const char *in, size_t len, char out[HOST_MAX])
{
	char decoded[HOST_INPUT + 1], ascii[HOST_MAX];
	char *idn = NULL;
	long n;
	size_t alen;
	int r;

	if (len == 0 || len > HOST_INPUT)
		return 1;
	n = percent_decode(in, len, decoded);
	if (n <= 0)
		return 1;
	if (decoded[0] == '[')
		return ipv6_literal(decoded, (size_t)n, out);
	if (!text_utf8_valid(decoded, (size_t)n, NULL))
		return 1;
	for (long i = 0; i < n; i++) {
		if (forbidden_in_domain((unsigned char)decoded[i]))
			return 1;
	}
	r = idn2_lookup_u8((const uint8_t *)decoded, (uint8_t **)&idn, IDN2_NONTRANSITIONAL);
	if (r == IDN2_OK) {
		r = ascii_fallback(idn, ascii, sizeof(ascii));
		idn2_free(idn);
	} else {
		r = ascii_fallback(decoded, ascii, sizeof(ascii));
	}
	if (r != 0)
		return 1;
	/* The mapping may produce forbidden characters (a full-width solidus
	 * becomes '/'): no host then, as in browsers. */
	for (size_t i = 0; ascii[i]; i++) {
		if (forbidden_in_domain((unsigned char)ascii[i]))
			return 1;
	}
	/* Trailing dots go first (a host is compared without them), so that
	 * what comes out normalises to itself. */
	alen = strlen(ascii);
	while (alen && ascii[alen - 1] == '.')
		alen--;
	if (alen == 0)
		return 1;
	ascii[alen] = '\0';
	if (ends_in_number(ascii))
		return ipv4_number(ascii, out);
	memcpy(out, ascii, alen + 1);
	return 0;
}

static bool is_special_scheme(const char *s, size_t n)
{
	static const char *const special[] = {"http", "https", "ws", "wss", "ftp"};

	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		if (strlen(special[i]) == n && strncasecmp(s, special[i], n) == 0)
			return true;
	}
	return false;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The length of a scheme at s ("[A-Za-z][A-Za-z0-9+.-]*" before ':'), or 0. */
static size_t scheme_length(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !is_letter(s[0]))
		return 0;
	while (i < len && (is_letter(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
			   s[i] == '-' || s[i] == '.'))
		i++;
	return (i < len && s[i] == ':') ? i : 0;
}

int host_of_url(const char *url, size_t len, char out[HOST_MAX])
{
	const char *p = url, *end, *host, *stop;
	size_t scheme;
	bool special = true;

	while (len && (unsigned char)*p <= 0x20) {
		p++;
		len--;
	}
	end = p + len;
	scheme = scheme_length(p, len);
	if (scheme) {
		special = is_special_scheme(p, scheme);
		p += scheme + 1;
		if (special) {
			while (p < end && (*p == '/' || *p == '\\'))
				p++;
		} else if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
			p += 2;
		} else {
			return 1; /* mailto:, data: ...: no host */
		}
	} else if (len < 4 || strncasecmp(p, "www.", 4) != 0) {
		return 1;
	}
	/* The authority ends at the path, query or fragment (a backslash is a
	 * slash for special schemes); user info ends at its last '@'. */
	stop = p;
	while (stop < end && *stop != '/' && *stop != '?' && *stop != '#' &&
	       !(special && *stop == '\\'))
		stop++;
	host = p;
	for (const char *q = p; q < stop; q++) {
		if (*q == '@')
			host = q + 1;
	}
	if (host < stop && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(stop - host));
		if (!close)
			return 1;
		return host_normalise(host, (size_t)(close + 1 - host), out);
	}
	p = memchr(host, ':', (size_t)(stop - host));
	if (p)
		stop = p;
	return host_normalise(host, (size_t)(stop - host), out);
}

void host_referrer(const char *referrer, char out[HOST_REFERRER_MAX])
{
	char host[HOST_MAX];
	size_t len = referrer ? strnlen(referrer, HOST_INPUT + 1) : 0;
	bool https = len >= 6 && strncasecmp(referrer, "https:", 6) == 0;

	if (len > HOST_INPUT || !(https || (len >= 5 && strncasecmp(referrer, "http:", 5) == 0)) ||
	    host_of_url(referrer, len, host) != 0) {
		snprintf(out, HOST_REFERRER_MAX, "(invalid)");
		return;
	}
	snprintf(out, HOST_REFERRER_MAX, "%s://%s/", https ? "https" : "http", host);
}

/* What continues a host-like run: letters, marks, digits, '-', '_', '%',
 * dots (as '.'), and invisible format characters (dropped, as the IDNA
 * mapping drops them).  Returns the bytes to append (0: drop, -1: the run
 * ends). */
static int run_char(utf8proc_int32_t cp, size_t n, char *dot)
{
	utf8proc_category_t cat;

	if (cp < 0x80) {
		if (is_letter((char)cp) || (cp >= '0' && cp <= '9') || cp == '-' || cp == '_' ||
		    cp == '%' || cp == '.')
			return 1;
		return -1;
	}
	if (cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61) {
		*dot = '.';
		return 0;
	}
	cat = utf8proc_category(cp);
	if (cat == UTF8PROC_CATEGORY_CF)
		return 0;
	if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO))
		return (int)n;
	return -1;
}

struct run {
	char buf[HOST_INPUT + 1];
	size_t len;
	bool dotted;  /* holds a dot or a percent sign */
	size_t start; /* where it starts in the text */
};

/* True if the run starting at text[start] is in a URL's path or query
 * rather than a host: after a single '/' that does not follow a scheme's
 * colon, or after '?', '=', '&' or '#'.  After "//", ":/", '@' or a space it
 * is a host (a bare domain, a link's host, an address's domain). */
static bool in_path(const char *text, size_t start)
{
	size_t slashes = 0;

	while (slashes < start &&
	       (text[start - slashes - 1] == '/' || text[start - slashes - 1] == '\\'))
		slashes++;
	if (slashes == 1)
		return !(start >= 2 && text[start - 2] == ':');
	if (slashes >= 2)
		return false;
	return start > 0 && strchr("?=&#", text[start - 1]) != NULL;
}

/* Keeps the run within its buffer by dropping its first label: hosts are
 * matched by their end. */
static void run_push(struct run *r, const char *s, size_t n)
{
	while (r->len + n > HOST_INPUT) {
		char *dot = memchr(r->buf, '.', r->len);
		size_t drop = dot ? (size_t)(dot - r->buf) + 1 : r->len;
		memmove(r->buf, r->buf + drop, r->len - drop);
		r->len -= drop;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

/* "1.2", "3.14.15": numbers with fewer than four parts, in a text, are
 * versions and amounts rather than addresses. */
static bool version_like(const char *run)
{
	unsigned dots = 0;

	if (!ends_in_number(run))
		return false;
	for (const char *p = run; *p; p++)
		dots += *p == '.';
	return dots != 3;
}

/* Ends the run: a normalised host with a dot goes to fn. */
static bool run_end(struct run *r, const char *text, bool (*fn)(const char *host, void *u), void *u)
{
	char host[HOST_MAX];
	bool stop = false;
	size_t start = 0, len = r->len;

	while (len > start && r->buf[len - 1] == '.')
		len--;
	/* Longer than a host can be: its last labels (a domain is matched by
	 * its end). */
	while (len - start > HOST_MAX - 3) {
		char *dot = memchr(r->buf + start, '.', len - start);
		start = dot ? (size_t)(dot - r->buf) + 1 : len;
	}
	while (start < len && r->buf[start] == '.')
		start++;
	r->buf[len] = '\0';
	if (r->dotted && start < len && !in_path(text, r->start) && !version_like(r->buf + start) &&
	    host_normalise(r->buf + start, len - start, host) == 0 && strchr(host, '.'))
		stop = fn(host, u);
	r->len = 0;
	r->dotted = false;
	return stop;
}

void host_each_in_text(const char *text, size_t len, bool (*fn)(const char *host, void *u), void *u)
{
	struct run *r = malloc(sizeof(*r));
	size_t i = 0;

	if (!r)
		return;
	r->len = 0;
	r->dotted = false;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		char dot = 0;
		int take;

		if (n <= 0) {
			n = 1;
			cp = -1;
		}
		take = cp < 0 ? -1 : run_char(cp, (size_t)n, &dot);
		if ((dot || take >= 0) && r->len == 0)
			r->start = i;
		if (dot) {
			run_push(r, ".", 1);
			r->dotted = true;
		} else if (take > 0) {
			run_push(r, text + i, (size_t)take);
			if (text[i] == '.' || text[i] == '%')
				r->dotted = true;
		} else if (take < 0 && r->len && run_end(r, text, fn, u)) {
			break;
		}
		i += (size_t)n;
	}
	if (r->len)
		run_end(r, text, fn, u);
	free(r);
}

bool host_within(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (d == 0 || h < d || strcmp(host + h - d, domain) != 0)
		return false;
	return h == d || host[h - d - 1] == '.';
}
