/* host: host names as a browser sees them.
 *
 * A blocklisted domain must be recognised however a link writes it:
 * percent-encoded ("%65vil.com"), in upper case, with full-width or
 * ideographic dots (U+FF0E, U+3002, U+FF61), full-width letters, invisible
 * characters, as an IDN ("bücher.de" is "xn--bcher-kva.de"), with a
 * trailing dot, behind user info ("http://good.example@evil.com") or a
 * backslash ("http://evil.com\@good.example").  The rules are the WHATWG URL
 * standard's host parser: percent-decoding, then domain to ASCII (UTS #46
 * with libidn2, non-transitional), IPv4 numbers in every form a browser
 * takes ("0x7f.1") to dotted decimal, IPv6 literals to their canonical text.
 *
 * Everything here reads untrusted text and is fuzzed (tests/fuzz/fuzz-host.c).
 */
#ifndef COMMENTD_HOST_H
#define COMMENTD_HOST_H

#include <stdbool.h>
#include <stddef.h>

#define HOST_MAX   256	  /* bytes of a normalised host, with the NUL */
#define HOST_INPUT (4096) /* longest host or URL looked at */

/* Normalises len bytes of a host (no scheme, user info or port) into out:
 * lower-case ASCII (A-labels for IDNs), trailing dots removed.  0, or 1 when
 * a browser would not take it as a host. */
int host_normalise(const char *in, size_t len, char out[HOST_MAX]);

/* The normalised host of a URL: "scheme:[//][userinfo@]host[:port]..."
 * (for http and https, any number of slashes or backslashes may follow the
 * colon, as browsers allow), or a scheme-less "www.example.org/...".  0, or
 * 1 when there is no host. */
int host_of_url(const char *url, size_t len, char out[HOST_MAX]);

/* The normalised host of a reduced Referer for storage: "scheme://host/"
 * (http or https) into out, or "(invalid)" when it has none.  Path, query,
 * user info and port are never kept. */
#define HOST_REFERRER_MAX (HOST_MAX + 16)
void host_referrer(const char *referrer, char out[HOST_REFERRER_MAX]);

/* Calls fn for every host-like run in text, normalised: a bare domain
 * ("evil.com", "www.evil.com", "evil。com"), the host of a URL, of an
 * e-mail address.  A run is a stretch of letters, digits, marks, '-', '_',
 * '%' and dots (ASCII, full-width or ideographic) holding at least one dot.
 * fn returns true to stop. */
void host_each_in_text(const char *text, size_t len, bool (*fn)(const char *host, void *u),
		       void *u);

/* True if host (normalised) is domain (normalised) or a subdomain of it. */
bool host_within(const char *host, const char *domain);

#endif
