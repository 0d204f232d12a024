/* fuzz-net: the parsers of lib/net.c.  The first input byte selects the
 * parser (its value modulo the number of modes), the rest is the text:
 *   0  X-Forwarded-For through net_client_addr, from a trusted peer
 *   1  net_parse_ip (and a format/parse round trip)
 *   2  net_parse_listen
 *   3  net_origins_new, then net_origins_match of each listed origin;
 *      text after the first '\n' is matched and tried as a redirect
 *   4  net_redirect_allowed against fixed origins (the result must be
 *      on one of them)
 *   5  net_cidrs_new, then net_cidrs_contains of a few addresses
 */
#include "fuzz.h"

#include "net.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <strings.h>

enum {
	MODE_XFF,
	MODE_IP,
	MODE_LISTEN,
	MODE_ORIGINS,
	MODE_REDIRECT,
	MODE_CIDRS,
	N_MODES,
};

static const char trusted_list[] = "127.0.0.1, ::1 10.0.0.0/8,192.168.0.0/16 fd00::/8";
static const char *const origin_list[] = {"https://blog.example.nl", "http://localhost:8080",
					  "https://[::1]:8443", NULL};

static struct net_cidrs *trusted;
static struct net_origins *origins;

static void init(void)
{
	char list[256] = "";

	if (trusted)
		return;
	fuzz_assert(net_cidrs_new(&trusted, trusted_list) == 0);
	for (size_t i = 0, n = 0; origin_list[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s ", origin_list[i]);
	fuzz_assert(net_origins_new(&origins, list) == 0);
}

static void check_addr(const struct net_addr *a)
{
	char ip[NET_IP_MAX], prefix[NET_IP_MAX + 4];
	struct net_addr back;

	fuzz_assert(a->family == AF_INET || a->family == AF_INET6);
	net_format(a, ip);
	fuzz_assert(strlen(ip) > 0 && strlen(ip) < NET_IP_MAX);
	fuzz_assert(net_parse_ip(ip, &back) == 0);
	fuzz_assert(back.family == a->family && memcmp(back.bytes, a->bytes, 16) == 0);
	net_format_prefix(a, prefix);
	fuzz_assert(strlen(prefix) > 0);
}

static bool same_addr(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static void fuzz_xff(const char *s)
{
	struct net_addr peer, out;

	fuzz_assert(net_parse_ip("10.1.2.3", &peer) == 0);
	net_client_addr(&peer, s, trusted, &out);
	check_addr(&out);
	/* No header, no change. */
	if (!*s)
		fuzz_assert(same_addr(&out, &peer));
	/* An untrusted peer's header is ignored. */
	fuzz_assert(net_parse_ip("203.0.113.9", &peer) == 0);
	net_client_addr(&peer, s, trusted, &out);
	fuzz_assert(same_addr(&out, &peer));
	/* An IPv6 trusted peer. */
	fuzz_assert(net_parse_ip("::1", &peer) == 0);
	net_client_addr(&peer, s, trusted, &out);
	check_addr(&out);
}

static void fuzz_ip(const char *s)
{
	struct net_addr a;

	if (net_parse_ip(s, &a) == 0)
		check_addr(&a);
}

static void fuzz_listen(const char *s)
{
	struct net_addr a;

	if (net_parse_listen(s, &a) == 0)
		check_addr(&a);
}

static void fuzz_origins(char *s)
{
	struct net_origins *o = NULL;
	char *probe = strchr(s, '\n');
	int r;

	if (probe)
		*probe++ = '\0';
	r = net_origins_new(&o, s);
	fuzz_assert(r == 0 || r == 1);
	if (r != 0)
		return;
	/* Every origin listed (unless it repeats an earlier one) matches. */
	for (const char *p = s; *p;) {
		size_t len;
		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len)
			fuzz_assert(net_origins_match(o, p, len));
		p += len;
	}
	if (net_origins_first(o))
		fuzz_assert(net_redirect_allowed(o, net_origins_first(o)));
	if (probe) {
		(void)net_origins_match(o, probe, strlen(probe));
		(void)net_redirect_allowed(o, probe);
	}
	net_origins_free(o);
}

static void fuzz_redirect(const char *s)
{
	bool on_site = false;

	if (!net_redirect_allowed(origins, s))
		return;
	for (size_t i = 0; origin_list[i]; i++) {
		size_t n = strlen(origin_list[i]);
		if (strncasecmp(s, origin_list[i], n) == 0 &&
		    (s[n] == '\0' || s[n] == '/' || s[n] == '?' || s[n] == '#'))
			on_site = true;
	}
	fuzz_assert(on_site);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fuzz_assert(*p > 0x20 && *p != 0x7f && *p != '\\');
}

static void fuzz_cidrs(const char *s)
{
	static const char *const probes[] = {"127.0.0.1",
					     "10.0.0.1",
					     "::1",
					     "fe80::1",
					     "0.0.0.0",
					     "::",
					     "255.255.255.255",
					     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					     NULL};
	struct net_cidrs *c = NULL;
	int r = net_cidrs_new(&c, s);

	fuzz_assert(r == 0 || r == 1);
	if (r != 0)
		return;
	for (size_t i = 0; probes[i]; i++) {
		struct net_addr a;
		fuzz_assert(net_parse_ip(probes[i], &a) == 0);
		(void)net_cidrs_contains(c, &a);
	}
	net_cidrs_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	init();
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % N_MODES) {
	case MODE_XFF:
		fuzz_xff(s);
		break;
	case MODE_IP:
		fuzz_ip(s);
		break;
	case MODE_LISTEN:
		fuzz_listen(s);
		break;
	case MODE_ORIGINS:
		fuzz_origins(s);
		break;
	case MODE_REDIRECT:
		fuzz_redirect(s);
		break;
	case MODE_CIDRS:
		fuzz_cidrs(s);
		break;
	}
	free(s);
	return 0;
}
