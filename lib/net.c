#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cidr {
	struct net_addr addr;
	unsigned bits;
};

struct net_cidrs {
	size_t n;
	struct cidr items[];
};

struct net_origins {
	size_t n;
	char (*items)[NET_ORIGIN_MAX];
};

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int net_parse_ip(const char *s, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= NET_IP_MAX)
		return 1;
	if (inet_pton(AF_INET, s, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->bytes) == 1) {
		out->family = AF_INET6;
		if (memcmp(out->bytes, v4mapped, 12) == 0) {
			memmove(out->bytes, out->bytes + 12, 4);
			memset(out->bytes + 4, 0, 12);
			out->family = AF_INET;
		}
		return 0;
	}
	return 1;
}

int net_parse_listen(const char *s, struct net_addr *out)
{
	char host[NET_IP_MAX + 2];
	const char *colon, *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return 1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return 1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return 1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return 1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port > 65535)
		return 1;
	if (strcmp(host, "localhost") == 0) {
		if (net_parse_ip("127.0.0.1", out) != 0)
			return 1;
	} else if (net_parse_ip(host, out) != 0) {
		return 1;
	}
	out->port = (uint16_t)port;
	return 0;
}

int net_from_sockaddr(const struct sockaddr *sa, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return 1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		out->family = AF_INET6;
		memcpy(out->bytes, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
		if (memcmp(out->bytes, v4mapped, 12) == 0) {
			memmove(out->bytes, out->bytes + 12, 4);
			memset(out->bytes + 4, 0, 12);
			out->family = AF_INET;
		}
		return 0;
	}
	return 1;
}

const char *net_format(const struct net_addr *a, char out[NET_IP_MAX])
{
	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->bytes, out, NET_IP_MAX))
		out[0] = '\0';
	return out;
}

const char *net_format_prefix(const struct net_addr *a, char out[NET_IP_MAX + 4])
{
	struct net_addr p = *a;
	unsigned bits = a->family == AF_INET6 ? 48 : 24;
	size_t n;

	memset(p.bytes + bits / 8, 0, sizeof(p.bytes) - bits / 8);
	net_format(&p, out);
	n = strlen(out);
	snprintf(out + n, NET_IP_MAX + 4 - n, "/%u", bits);
	return out;
}

/* Calls fn on each item of a space/comma separated list; stops on non-zero. */
static int each_item(const char *list, int (*fn)(const char *item, size_t len, void *u), void *u)
{
	const char *p = list;

	while (*p) {
		size_t len;
		int r;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		len = strcspn(p, " ,\t");
		r = fn(p, len, u);
		if (r)
			return r;
		p += len;
	}
	return 0;
}

static int parse_cidr(const char *item, size_t len, struct cidr *out)
{
	char buf[NET_IP_MAX + 5];
	char *slash, *end;
	unsigned long bits;

	if (len >= sizeof(buf))
		return 1;
	memcpy(buf, item, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (net_parse_ip(buf, &out->addr) != 0)
		return 1;
	out->bits = out->addr.family == AF_INET ? 32 : 128;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return 1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > out->bits)
			return 1;
		out->bits = (unsigned)bits;
	}
	return 0;
}

static int count_item(const char *item, size_t len, void *u)
{
	(void)item;
	(void)len;
	(*(size_t *)u)++;
	return 0;
}

static int add_cidr(const char *item, size_t len, void *u)
{
	struct net_cidrs *c = u;

	if (parse_cidr(item, len, &c->items[c->n]) != 0)
		return 1;
	c->n++;
	return 0;
}

int net_cidrs_new(struct net_cidrs **out, const char *list)
{
	struct net_cidrs *c;
	size_t n = 0;

	each_item(list, count_item, &n);
	c = calloc(1, sizeof(*c) + n * sizeof(struct cidr));
	if (!c)
		return -ENOMEM;
	if (each_item(list, add_cidr, c) != 0) {
		free(c);
		return 1;
	}
	*out = c;
	return 0;
}

struct net_cidrs *net_cidrs_free(struct net_cidrs *c)
{
	free(c);
	return NULL;
}

bool net_cidrs_contains(const struct net_cidrs *c, const struct net_addr *a)
{
	if (!c)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		const struct cidr *it = &c->items[i];
		unsigned full = it->bits / 8, rest = it->bits % 8;

		if (it->addr.family != a->family)
			continue;
		if (memcmp(it->addr.bytes, a->bytes, full) != 0)
			continue;
		if (rest) {
			unsigned char mask = (unsigned char)(0xff << (8 - rest));
			if ((it->addr.bytes[full] & mask) != (a->bytes[full] & mask))
				continue;
		}
		return true;
	}
	return false;
}

/* An origin is scheme "://" host [":" port], lowercase host letters, digits,
 * dots, hyphens, or a bracketed IPv6 literal. */
static bool origin_valid(const char *s, size_t len)
{
	size_t i;

	if (len >= NET_ORIGIN_MAX)
		return false;
	if (len > 7 && strncmp(s, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncmp(s, "https://", 8) == 0)
		i = 8;
	else
		return false;
	if (i == len)
		return false;
	for (; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' ||
		      ch == '[' || ch == ']'))
			return false;
	}
	return true;
}

static int add_origin(const char *item, size_t len, void *u)
{
	struct net_origins *o = u;

	if (!origin_valid(item, len))
		return 1;
	memcpy(o->items[o->n], item, len);
	o->items[o->n][len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (o->items[o->n][i] >= 'A' && o->items[o->n][i] <= 'Z')
			o->items[o->n][i] = (char)(o->items[o->n][i] + 32);
	}
	o->n++;
	return 0;
}

int net_origins_new(struct net_origins **out, const char *list)
{
	struct net_origins *o;
	size_t n = 0;

	each_item(list, count_item, &n);
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->items = calloc(n ? n : 1, NET_ORIGIN_MAX);
	if (!o->items) {
		free(o);
		return -ENOMEM;
	}
	if (each_item(list, add_origin, o) != 0) {
		net_origins_free(o);
		return 1;
	}
	*out = o;
	return 0;
}

struct net_origins *net_origins_free(struct net_origins *o)
{
	if (!o)
		return NULL;
	free(o->items);
	free(o);
	return NULL;
}

bool net_origins_match(const struct net_origins *o, const char *origin, size_t len)
{
	if (!o || len == 0 || len >= NET_ORIGIN_MAX)
		return false;
	for (size_t i = 0; i < o->n; i++) {
		if (strlen(o->items[i]) == len && strncasecmp(o->items[i], origin, len) == 0)
			return true;
	}
	return false;
}

const char *net_origins_first(const struct net_origins *o)
{
	return (o && o->n) ? o->items[0] : NULL;
}

bool net_redirect_allowed(const struct net_origins *o, const char *url)
{
	const char *rest;
	size_t len;

	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '\\')
			return false;
	}
	rest = strstr(url, "://");
	if (!rest)
		return false;
	rest += 3;
	len = (size_t)(rest - url) + strcspn(rest, "/?#");
	/* "https://blog.example.nl@evil" has no '/', so the '@' stays inside the
	 * compared origin and does not match. */
	if (!net_origins_match(o, url, len))
		return false;
	return url[len] == '\0' || url[len] == '/' || url[len] == '?' || url[len] == '#';
}

/* Walks one X-Forwarded-For line from the right.  Returns 1 with *out set
 * when an untrusted entry was found, 0 when every entry was trusted (*out:
 * the leftmost), -1 on a malformed entry. */
static int xff_line(const char *xff, const struct net_cidrs *trusted, struct net_addr *out)
{
	char item[NET_IP_MAX + 1];
	size_t end = strlen(xff);

	/* The rightmost entry was added by the nearest proxy; the leftmost is
	 * whatever the client claimed. */
	for (;;) {
		size_t start = end, n;
		struct net_addr a;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		n = end - start;
		while (n > 0 && (xff[start] == ' ' || xff[start] == '\t')) {
			start++;
			n--;
		}
		while (n > 0 && (xff[start + n - 1] == ' ' || xff[start + n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(item))
			return -1;
		memcpy(item, xff + start, n);
		item[n] = '\0';
		if (net_parse_ip(item, &a) != 0)
			return -1;
		*out = a;
		if (!net_cidrs_contains(trusted, &a))
			return 1;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (start == 0)
			return 0;
		end = start - 1;
	}
}

void net_client_addr_lines(const struct net_addr *peer, const char *const *lines, size_t n,
			   const struct net_cidrs *trusted, struct net_addr *out)
{
	struct net_addr a = *peer;

	*out = *peer;
	if (n == 0 || !net_cidrs_contains(trusted, peer))
		return;
	/* The lines are one list: the last line's entries are the rightmost. */
	while (n-- > 0) {
		int r = xff_line(lines[n], trusted, &a);
		if (r < 0)
			return; /* malformed: the peer */
		*out = a;
		if (r == 1)
			return;
	}
}

void net_client_addr(const struct net_addr *peer, const char *xff, const struct net_cidrs *trusted,
		     struct net_addr *out)
{
	net_client_addr_lines(peer, &xff, xff ? 1 : 0, trusted, out);
}

/* An IPv4 address carried inside an IPv6 one, where the IPv6 address is
 * only a tunnel to it: 6to4 (2002:V4::/48: one IPv4 host has the whole
 * /48), Teredo (2001:0::/32, the client's address inverted in the last 32
 * bits) and NAT64 (64:ff9b::/96).  True with out set. */
static bool embedded_ipv4(const unsigned char b[16], unsigned char out[4])
{
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (b[0] == 0x20 && b[1] == 0x02) {
		memcpy(out, b + 2, 4);
		return true;
	}
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
		for (int i = 0; i < 4; i++)
			out[i] = (unsigned char)~b[12 + i];
		return true;
	}
	if (memcmp(b, nat64, sizeof(nat64)) == 0) {
		memcpy(out, b + 12, 4);
		return true;
	}
	return false;
}

void net_client_network(const struct net_addr *a, struct net_addr *out)
{
	unsigned char v4[4];

	memset(out, 0, sizeof(*out));
	out->family = a->family;
	if (a->family == AF_INET6 && embedded_ipv4(a->bytes, v4)) {
		out->family = AF_INET;
		memcpy(out->bytes, v4, 4);
		return;
	}
	memcpy(out->bytes, a->bytes, a->family == AF_INET6 ? 8 : 4);
}

void net_cidrs_widen(struct net_cidrs *c, unsigned v6_bits)
{
	for (size_t i = 0; c && i < c->n; i++) {
		struct cidr *it = &c->items[i];

		if (it->addr.family != AF_INET6 || it->bits <= v6_bits)
			continue;
		it->bits = v6_bits;
		for (unsigned b = v6_bits; b < 128; b++)
			it->addr.bytes[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
	}
}
