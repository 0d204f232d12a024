/* Unit tests for lib/net: addresses, listen syntax, networks, origins,
 * redirect targets and the client address behind proxies. */
#include "tap.h"

#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

static struct net_addr ip(const char *s)
{
	struct net_addr a;

	if (net_parse_ip(s, &a) != 0) {
		diag("test bug: cannot parse %s", s);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

static const char *fmt(const struct net_addr *a)
{
	static char out[4][NET_IP_MAX];
	static int i;

	i = (i + 1) % 4;
	return net_format(a, out[i]);
}

/* s with control characters shown as \xNN, for test names. */
static const char *vis(const char *s)
{
	static char out[4][512];
	static int i;
	size_t n = 0;

	i = (i + 1) % 4;
	for (; *s && n < sizeof(out[0]) - 5; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(out[i] + n, 5, "\\x%02x", ch);
		else
			out[i][n++] = (char)ch;
	}
	out[i][n] = '\0';
	return out[i];
}

static void test_parse_ip(void)
{
	struct net_addr a;
	char out[NET_IP_MAX + 4];

	is_int(net_parse_ip("192.0.2.1", &a), 0, "IPv4 parses");
	is_int(a.family, AF_INET, "as AF_INET");
	ok(a.bytes[0] == 192 && a.bytes[1] == 0 && a.bytes[2] == 2 && a.bytes[3] == 1,
	   "IPv4 bytes");
	is_int(a.port, 0, "no port");
	is_str(fmt(&a), "192.0.2.1", "IPv4 formats back");

	is_int(net_parse_ip("2001:db8::1", &a), 0, "IPv6 parses");
	is_int(a.family, AF_INET6, "as AF_INET6");
	ok(a.bytes[0] == 0x20 && a.bytes[1] == 0x01 && a.bytes[15] == 1, "IPv6 bytes");
	is_str(fmt(&a), "2001:db8::1", "IPv6 formats back");

	is_int(net_parse_ip("::ffff:198.51.100.7", &a), 0, "IPv4-mapped IPv6 parses");
	is_int(a.family, AF_INET, "and becomes IPv4");
	is_str(fmt(&a), "198.51.100.7", "with the IPv4 address");
	ok(a.bytes[4] == 0 && a.bytes[15] == 0, "the rest of the bytes are zero");
	is_int(net_parse_ip("::FFFF:c633:6407", &a), 0, "mapped in hex form");
	is_str(fmt(&a), "198.51.100.7", "also becomes IPv4");

	is_int(net_parse_ip("::1", &a), 0, "::1");
	is_int(a.family, AF_INET6, "stays IPv6");
	is_int(net_parse_ip("::", &a), 0, "::");

	static const char *const bad[] = {"",
					  "1.2.3",
					  "1.2.3.4.5",
					  "256.1.1.1",
					  "1.2.3.4 ",
					  " 1.2.3.4",
					  "1.2.3.4:80",
					  "[::1]",
					  "::1%lo",
					  "01.2.3.4",
					  "localhost",
					  "1.2.3.-4",
					  "2001:db8::1::2",
					  "0x7f.0.0.1",
					  "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		is_int(net_parse_ip(bad[i], &a), 1, "\"%s\" is not an address", bad[i]);
	{
		char longs[200];
		memset(longs, '0', sizeof(longs));
		memcpy(longs, "0000:", 5);
		longs[199] = '\0';
		is_int(net_parse_ip(longs, &a), 1, "a 199-character string is refused");
	}

	/* Prefix formatting (used for rate-limit and spam features). */
	a = ip("203.0.113.77");
	is_str(net_format_prefix(&a, out), "203.0.113.0/24", "IPv4 /24 prefix");
	a = ip("2001:db8:abcd:1234::5");
	is_str(net_format_prefix(&a, out), "2001:db8:abcd::/48", "IPv6 /48 prefix");

	/* Socket addresses. */
	{
		struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(4242)};
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
		struct sockaddr sa = {.sa_family = AF_UNIX};
		inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
		is_int(net_from_sockaddr((struct sockaddr *)&in, &a), 0, "sockaddr_in");
		is_str(fmt(&a), "10.1.2.3", "address");
		is_int(a.port, 4242, "port");
		inet_pton(AF_INET6, "::ffff:10.9.8.7", &in6.sin6_addr);
		is_int(net_from_sockaddr((struct sockaddr *)&in6, &a), 0, "mapped sockaddr_in6");
		is_int(a.family, AF_INET, "becomes IPv4");
		is_str(fmt(&a), "10.9.8.7", "address");
		is_int(a.port, 443, "port");
		inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
		net_from_sockaddr((struct sockaddr *)&in6, &a);
		is_int(a.family, AF_INET6, "real IPv6 stays IPv6");
		is_int(net_from_sockaddr(&sa, &a), 1, "AF_UNIX is refused");
		is_int(net_from_sockaddr(NULL, &a), 1, "NULL is refused");
	}
}

static void test_listen(void)
{
	struct net_addr a;
	static const struct {
		const char *s, *addr;
		int port;
	} good[] = {
	    {"127.0.0.1:8080", "127.0.0.1", 8080}, {"[::1]:8080", "::1", 8080},
	    {"localhost:80", "127.0.0.1", 80},	   {"0.0.0.0:0", "0.0.0.0", 0},
	    {"[::]:65535", "::", 65535},	   {"[::ffff:10.0.0.1]:1", "10.0.0.1", 1},
	    {"10.0.0.1:00080", "10.0.0.1", 80},
	};
	static const char *const bad[] = {"",
					  "8080",
					  ":8080",
					  "127.0.0.1",
					  "127.0.0.1:",
					  "127.0.0.1:65536",
					  "127.0.0.1:-1",
					  "127.0.0.1:+1",
					  "127.0.0.1:80a",
					  "127.0.0.1: 80",
					  "[::1]",
					  "[::1]8080",
					  "[::1:8080",
					  "[]:80",
					  "example.org:80",
					  "LOCALHOST:80",
					  "localhost:",
					  "localhost:99999",
					  "1.2.3.4:99999999999999999999999",
					  "[::1]:",
					  "::1]:80"};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		memset(&a, 0xaa, sizeof(a));
		is_int(net_parse_listen(good[i].s, &a), 0, "listen %s parses", good[i].s);
		is_str(fmt(&a), good[i].addr, "%s: address", good[i].s);
		is_int(a.port, good[i].port, "%s: port", good[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		is_int(net_parse_listen(bad[i], &a), 1, "listen \"%s\" is refused", bad[i]);
}

static void test_cidrs(void)
{
	struct net_cidrs *c = NULL;
	struct net_addr a;

	is_int(net_cidrs_new(&c, ""), 0, "an empty list parses");
	a = ip("127.0.0.1");
	ok(!net_cidrs_contains(c, &a), "and contains nothing");
	net_cidrs_free(c);
	ok(!net_cidrs_contains(NULL, &a), "a NULL list contains nothing");

	is_int(net_cidrs_new(&c, "0.0.0.0/0"), 0, "0.0.0.0/0");
	a = ip("203.0.113.9");
	ok(net_cidrs_contains(c, &a), "/0 contains any IPv4");
	a = ip("255.255.255.255");
	ok(net_cidrs_contains(c, &a), "/0 contains 255.255.255.255");
	a = ip("2001:db8::1");
	ok(!net_cidrs_contains(c, &a), "an IPv4 /0 does not contain IPv6");
	a = ip("::ffff:1.2.3.4");
	ok(net_cidrs_contains(c, &a), "but contains IPv4-mapped IPv6");
	net_cidrs_free(c);

	is_int(net_cidrs_new(&c, "::/0"), 0, "::/0");
	a = ip("2001:db8::1");
	ok(net_cidrs_contains(c, &a), "::/0 contains IPv6");
	a = ip("1.2.3.4");
	ok(!net_cidrs_contains(c, &a), "::/0 does not contain IPv4");
	net_cidrs_free(c);

	is_int(net_cidrs_new(&c, " 10.0.0.0/8,192.168.1.0/24\t172.16.5.4 , 2001:db8:1:2::/64 "), 0,
	       "a mixed list with commas, spaces and tabs");
	static const struct {
		const char *a;
		bool in;
	} cases[] = {
	    {"10.0.0.0", true},	       {"10.255.255.255", true},
	    {"10.1.2.3", true},	       {"11.0.0.0", false},
	    {"9.255.255.255", false},  {"192.168.1.0", true},
	    {"192.168.1.255", true},   {"192.168.2.1", false},
	    {"192.168.0.255", false},  {"172.16.5.4", true},
	    {"172.16.5.5", false},     {"172.16.5.3", false},
	    {"2001:db8:1:2::", true},  {"2001:db8:1:2:ffff:ffff:ffff:ffff", true},
	    {"2001:db8:1:3::", false}, {"2001:db8:1:1:ffff::", false},
	    {"::ffff:10.2.3.4", true}, {"::a02:304", false}, /* IPv4-compatible, not mapped: IPv6 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		a = ip(cases[i].a);
		ok(net_cidrs_contains(c, &a) == cases[i].in, "%s %s the list", cases[i].a,
		   cases[i].in ? "is in" : "is not in");
	}
	net_cidrs_free(c);

	/* Non-octet prefix lengths and host bits set. */
	is_int(net_cidrs_new(&c, "10.0.0.77/27 2001:db8::/33"), 0, "odd prefix lengths");
	a = ip("10.0.0.64");
	ok(net_cidrs_contains(c, &a), "10.0.0.64 in 10.0.0.77/27");
	a = ip("10.0.0.95");
	ok(net_cidrs_contains(c, &a), "10.0.0.95 in 10.0.0.77/27");
	a = ip("10.0.0.96");
	ok(!net_cidrs_contains(c, &a), "10.0.0.96 not in /27");
	a = ip("10.0.0.63");
	ok(!net_cidrs_contains(c, &a), "10.0.0.63 not in /27");
	a = ip("2001:db8:7fff::1");
	ok(net_cidrs_contains(c, &a), "2001:db8:7fff::1 in 2001:db8::/33");
	a = ip("2001:db8:8000::1");
	ok(!net_cidrs_contains(c, &a), "2001:db8:8000::1 not in /33");
	net_cidrs_free(c);

	is_int(net_cidrs_new(&c, "::1/128, 127.0.0.1/32"), 0, "host routes");
	a = ip("::1");
	ok(net_cidrs_contains(c, &a), "::1/128 contains ::1");
	a = ip("::2");
	ok(!net_cidrs_contains(c, &a), "but not ::2");
	a = ip("127.0.0.1");
	ok(net_cidrs_contains(c, &a), "/32 contains its address");
	a = ip("127.0.0.2");
	ok(!net_cidrs_contains(c, &a), "/32 nothing else");
	net_cidrs_free(c);

	static const char *const bad[] = {
	    "10.0.0.0/33",  "::/129",	  "10.0.0.0/",	 "/8",
	    "10.0.0.0/8/8", "10.0.0.0/a", "10.0.0.0/-1", "10.0.0.0/+8",
	    "nope",	    "10.0.0.0;8", "1.2.3.4 x",	 "10.0.0.0/99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		c = NULL;
		is_int(net_cidrs_new(&c, bad[i]), 1, "\"%s\" is refused", bad[i]);
		ok(c == NULL, "no list on refusal");
	}
}

static void test_origins(void)
{
	struct net_origins *o = NULL;

	is_int(net_origins_new(&o, ""), 0, "an empty origin list parses");
	ok(net_origins_first(o) == NULL, "with no first origin");
	ok(!net_origins_match(o, "https://a.example", 17), "and matches nothing");
	ok(!net_redirect_allowed(o, "https://a.example/"), "nor allows redirects");
	net_origins_free(o);
	ok(!net_origins_match(NULL, "https://a.example", 17), "NULL matches nothing");

	is_int(net_origins_new(&o, "https://Blog.Example.NL, http://localhost:8080"), 0,
	       "two origins");
	is_str(net_origins_first(o), "https://blog.example.nl", "first origin, lowercased");
#define M(s) net_origins_match(o, s, strlen(s))
	ok(M("https://blog.example.nl"), "exact match");
	ok(M("HTTPS://BLOG.EXAMPLE.NL"), "case-insensitive match");
	ok(M("http://localhost:8080"), "second origin with port");
	ok(!M("http://localhost"), "port must match (missing)");
	ok(!M("http://localhost:8081"), "port must match (other)");
	ok(!M("https://blog.example.nl:443"), "explicit default port is not the same text");
	ok(!M("http://blog.example.nl"), "scheme must match");
	ok(!M("https://blog.example.nl/"), "no path in Origin");
	ok(!M("https://blog.example.nl.evil.com"), "suffix attack");
	ok(!M("https://evil.blog.example.nl"), "subdomain");
	ok(!M("https://blog.example.n"), "prefix");
	ok(!M("null"), "null origin");
	ok(!M(""), "empty origin");
	ok(!net_origins_match(o, "https://blog.example.nlX", 24), "length limits the compare");
	ok(net_origins_match(o, "https://blog.example.nlX", 23), "len is honoured");
#undef M
	net_origins_free(o);

	static const char *const bad[] = {"blog.example.nl",
					  "https://blog.example.nl/",
					  "https://blog.example.nl/x",
					  "ftp://blog.example.nl",
					  "https://",
					  "http://",
					  "https://a.example?x",
					  "https://a.example#x",
					  "https://user@a.example",
					  "https://a_b.example",
					  "javascript:alert(1)",
					  "//a.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		o = NULL;
		is_int(net_origins_new(&o, bad[i]), 1, "origin \"%s\" refused", bad[i]);
		ok(o == NULL, "no list on refusal");
	}
	{
		char longo[NET_ORIGIN_MAX + 10];
		memcpy(longo, "https://", 8);
		memset(longo + 8, 'a', sizeof(longo) - 9);
		longo[sizeof(longo) - 1] = '\0';
		o = NULL;
		is_int(net_origins_new(&o, longo), 1, "an over-long origin is refused");
	}
}

static void test_redirect(void)
{
	struct net_origins *o = NULL;

	net_origins_new(&o, "https://blog.example.nl http://localhost:8080");
	static const char *const good[] = {"https://blog.example.nl",
					   "https://blog.example.nl/",
					   "https://blog.example.nl/2024/post/#comments",
					   "https://blog.example.nl?x=1",
					   "https://blog.example.nl/p?x=1&y=%20#c-12",
					   "https://blog.example.nl#top",
					   "HTTPS://BLOG.EXAMPLE.NL/Path",
					   "http://localhost:8080/a"};
	static const char *const bad[] = {
	    "",
	    "/relative/path",
	    "//blog.example.nl/x",
	    "//evil.com",
	    "https://evil.com/",
	    "https://blog.example.nl@evil.com",
	    "https://blog.example.nl@evil.com/",
	    "https://blog.example.nl:x@evil.com/",
	    "https://blog.example.nl.evil.com/",
	    "https://blog.example.nl:443/",
	    "http://blog.example.nl/",
	    "https://blog.example.nl/\r\nSet-Cookie: x=1",
	    "https://blog.example.nl/\nx",
	    "https://blog.example.nl/a b",
	    "https://blog.example.nl/\tx",
	    "https://blog.example.nl\\@evil.com",
	    "https://blog.example.nl/\\evil.com",
	    "https:\\\\evil.com",
	    "javascript:alert(1)",
	    "javascript://blog.example.nl/%0aalert(1)",
	    "data:text/html,https://blog.example.nl/",
	    "https://evil.com/https://blog.example.nl/",
	    "/x?https://blog.example.nl/",
	    "https://blog.example.nl/\x7f",
	    "http://localhost/a",
	    "http://localhost:80800/a",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		ok(net_redirect_allowed(o, good[i]), "redirect to %s allowed", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(!net_redirect_allowed(o, bad[i]), "redirect to \"%s\" refused", vis(bad[i]));
	net_origins_free(o);
}

static void test_client_addr(void)
{
	struct net_cidrs *trusted = NULL;
	struct net_addr peer, out;

	net_cidrs_new(&trusted, "10.0.0.0/8 ::1");

	/* Untrusted peer: XFF ignored. */
	peer = ip("203.0.113.5");
	net_client_addr(&peer, "198.51.100.1", trusted, &out);
	is_str(fmt(&out), "203.0.113.5", "an untrusted peer's XFF is ignored");
	net_client_addr(&peer, NULL, trusted, &out);
	is_str(fmt(&out), "203.0.113.5", "no XFF: the peer");
	net_client_addr(&peer, "198.51.100.1", NULL, &out);
	is_str(fmt(&out), "203.0.113.5", "no trusted list: the peer");

	/* Trusted peer. */
	peer = ip("10.0.0.2");
	net_client_addr(&peer, NULL, trusted, &out);
	is_str(fmt(&out), "10.0.0.2", "trusted peer without XFF: the peer");
	net_client_addr(&peer, "198.51.100.1", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "trusted peer: the XFF address");
	net_client_addr(&peer, "1.1.1.1, 198.51.100.1", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "the rightmost untrusted entry, not the spoofed left");
	net_client_addr(&peer, "1.1.1.1, 198.51.100.1, 10.0.0.7, 10.9.9.9", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "a chain of trusted proxies is skipped");
	net_client_addr(&peer, "1.1.1.1,198.51.100.1,10.0.0.7", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "no spaces");
	net_client_addr(&peer, "  198.51.100.1  ,\t10.0.0.7\t", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "spaces and tabs around entries");
	net_client_addr(&peer, "2001:db8::9, ::1", trusted, &out);
	is_str(fmt(&out), "2001:db8::9", "IPv6 entries, trusted ::1 skipped");
	net_client_addr(&peer, "::ffff:198.51.100.3", trusted, &out);
	is_str(fmt(&out), "198.51.100.3", "a mapped entry becomes IPv4");
	is_int(out.family, AF_INET, "with family AF_INET");
	net_client_addr(&peer, "10.0.0.9, 10.0.0.8", trusted, &out);
	ok(out.family == AF_INET && strcmp(fmt(&out), "10.0.0.9") == 0,
	   "all entries trusted: the leftmost (%s)", fmt(&out));

	/* Malformed → the peer. */
	static const char *const bad[] = {"",
					  " ",
					  ",",
					  "garbage",
					  "198.51.100.1:1234",
					  "[2001:db8::1]",
					  "198.51.100.1, ",
					  "198.51.100.1,,10.0.0.7",
					  "198.51.100.1, unknown",
					  "1.1.1.1, bogus, 10.0.0.7",
					  "198.51.100.1 10.0.0.7",
					  "198.51.100.1;10.0.0.7",
					  "2001:db8::1%eth0",
					  "1234567890123456789012345678901234567890123456789"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		net_client_addr(&peer, bad[i], trusted, &out);
		is_str(fmt(&out), "10.0.0.2", "malformed XFF \"%s\" gives the peer", vis(bad[i]));
	}
	/* Garbage to the left of the first untrusted entry is the client's
	 * own claim and is never reached. */
	net_client_addr(&peer, "bogus, 198.51.100.1, 10.0.0.7", trusted, &out);
	is_str(fmt(&out), "198.51.100.1", "junk left of the client entry is not looked at");

	/* No size cap to hide behind: however much a client writes to the left
	 * of the entry its proxy appended, that entry is found (a cap that
	 * gave up would key the client as the proxy, with everyone else). */
	{
		size_t big_len = 64 * 1024;
		char *big = malloc(big_len + 32);
		memset(big, ' ', big_len);
		for (size_t i = 0; i + 9 < big_len; i += 9)
			memcpy(big + i, "1.2.3.4, ", 9);
		snprintf(big + big_len, 32, "198.51.100.1");
		net_client_addr(&peer, big, trusted, &out);
		is_str(fmt(&out), "198.51.100.1", "a 64 KiB header still gives the proxy's entry");
		free(big);
	}
	net_cidrs_free(trusted);
}

/* Every X-Forwarded-For line of a request counts, in order: a line the
 * client wrote before its proxy's cannot pick the address. */
static void test_client_lines(void)
{
	struct net_cidrs *trusted = NULL;
	struct net_addr peer = ip("10.0.0.2"), out;
	static const struct {
		const char *lines[4];
		size_t n;
		const char *want;
		const char *why;
	} cases[] = {
	    {{"198.51.100.9", "203.0.113.5"},
	     2,
	     "203.0.113.5",
	     "a client's own line before the proxy's: the proxy's entry"},
	    {{"1.1.1.1, 2.2.2.2", "203.0.113.5"}, 2, "203.0.113.5", "a list, then the proxy's"},
	    {{"203.0.113.5", "10.0.0.9"},
	     2,
	     "203.0.113.5",
	     "the last line a trusted proxy: the line before"},
	    {{"198.51.100.9", "203.0.113.5, 10.0.0.9"},
	     2,
	     "203.0.113.5",
	     "trusted proxies skipped inside the last line"},
	    {{"198.51.100.9", "10.0.0.8", "10.0.0.9"},
	     3,
	     "198.51.100.9",
	     "trusted proxies over three lines, then the client's entry"},
	    {{"bogus", "203.0.113.5"}, 2, "203.0.113.5", "junk on an earlier line is not reached"},
	    {{"203.0.113.5", "bogus"}, 2, "10.0.0.2", "junk on the proxy's own line: the peer"},
	    {{"203.0.113.5", ""}, 2, "10.0.0.2", "an empty last line: the peer"},
	    {{"2001:db8::5", "203.0.113.5"}, 2, "203.0.113.5", "IPv6 on the client's line"},
	    {{"203.0.113.5"}, 1, "203.0.113.5", "one line"},
	    {{NULL}, 0, "10.0.0.2", "no line: the peer"},
	};

	net_cidrs_new(&trusted, "10.0.0.0/8");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		net_client_addr_lines(&peer, cases[i].lines, cases[i].n, trusted, &out);
		is_str(fmt(&out), cases[i].want, "%s", cases[i].why);
	}
	{
		struct net_addr untrusted = ip("203.0.113.77");
		const char *lines[] = {"198.51.100.9", "198.51.100.10"};
		net_client_addr_lines(&untrusted, lines, 2, trusted, &out);
		is_str(fmt(&out), "203.0.113.77", "lines from an untrusted peer are ignored");
	}
	net_cidrs_free(trusted);
}

/* A client as commentd keys it: IPv4 whole, IPv6 by its /64. */
static void test_client_network(void)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
	    {"2001:db8:1:2::1", "2001:db8:1:2::2", true},
	    {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
	    {"2001:db8:1:2:a:b:c:d", "2001:db8:1:2::", true},
	    {"2001:db8:1:2::1", "2001:db8:1:3::1", false},
	    {"2001:db8:1:2::1", "2001:db9:1:2::1", false},
	    {"192.0.2.1", "192.0.2.2", false},
	    {"192.0.2.1", "192.0.2.1", true},
	    {"::ffff:192.0.2.1", "192.0.2.1", true},
	    {"192.0.2.1", "::ffff:192.0.2.2", false},
	    {"::1", "::2", true},
	    /* Tunnels: the IPv4 address inside is the client. */
	    {"2002:c000:0201:1::1", "2002:c000:0201:ffff::9", true}, /* 6to4 of 192.0.2.1 */
	    {"2002:c000:0201::1", "192.0.2.1", true},
	    {"2002:c000:0201::1", "2002:c000:0202::1", false},
	    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45", true}, /* Teredo */
	    {"2001:0:4136:e378:1:2:3fff:fdd2", "2001:0:9999:1::3fff:fdd2", true},
	    {"64:ff9b::192.0.2.9", "192.0.2.9", true}, /* NAT64 */
	    {"64:ff9b::192.0.2.9", "64:ff9b::192.0.2.10", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct net_addr a = ip(cases[i].a), b = ip(cases[i].b), na, nb;
		net_client_network(&a, &na);
		net_client_network(&b, &nb);
		ok((memcmp(&na, &nb, sizeof(na)) == 0) == cases[i].same, "%s and %s: %s client",
		   cases[i].a, cases[i].b, cases[i].same ? "one" : "two");
	}
	{
		struct net_cidrs *c = NULL;
		struct net_addr a = ip("2001:db8:5:6::99");
		net_cidrs_new(&c, "2001:db8:5:6::1, 10.0.0.1, 2001:db8:7::/48");
		ok(!net_cidrs_contains(c, &a), "before widening, ::1 does not hold ::99");
		net_cidrs_widen(c, 64);
		ok(net_cidrs_contains(c, &a), "widened to /64 it does");
		a = ip("10.0.0.2");
		ok(!net_cidrs_contains(c, &a), "IPv4 entries are not widened");
		a = ip("2001:db8:7:ffff::1");
		ok(net_cidrs_contains(c, &a), "a /48 stays a /48");
		net_cidrs_widen(NULL, 64);
		net_cidrs_free(c);
	}
}

int main(void)
{
	test_parse_ip();
	test_listen();
	test_cidrs();
	test_origins();
	test_redirect();
	test_client_addr();
	test_client_lines();
	test_client_network();
	return done_testing();
}
