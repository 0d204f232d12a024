/* net: addresses, networks, origins and the client address behind proxies.
 *
 * Everything here parses untrusted text (X-Forwarded-For, Origin, redirect
 * targets) and is fuzzed (tests/fuzz/fuzz-net.c).
 */
#ifndef COMMENTD_NET_H
#define COMMENTD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_IP_MAX     46  /* INET6_ADDRSTRLEN */
#define NET_ORIGIN_MAX 256 /* longest accepted origin */

struct net_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
	uint16_t port;
};

struct net_cidrs;
struct net_origins;

/* Parses "1.2.3.4:80", "[::1]:80" or "localhost:80".  0 or 1. */
int net_parse_listen(const char *s, struct net_addr *out);

/* Parses a bare IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4).  0 or 1. */
int net_parse_ip(const char *s, struct net_addr *out);

/* Converts a socket address to net_addr.  0, or 1 for other families. */
int net_from_sockaddr(const struct sockaddr *sa, struct net_addr *out);

/* Formats the address (no port) into out.  Returns out. */
const char *net_format(const struct net_addr *a, char out[NET_IP_MAX]);

/* A client as commentd keys it (rate limits, connection caps, sign-in
 * failures): an IPv4 address whole, an IPv6 address by its /64, which one
 * subscriber can fill with addresses at will, and a tunnelled IPv6 address
 * (6to4, Teredo, NAT64) by the IPv4 address it carries.  out is that
 * network with the rest zeroed (port 0). */
void net_client_network(const struct net_addr *a, struct net_addr *out);

/* Formats the address's network prefix (IPv4 /24, IPv6 /48) as "a.b.c.0/24". */
const char *net_format_prefix(const struct net_addr *a, char out[NET_IP_MAX + 4]);

/* Parses a list of addresses or CIDR networks separated by spaces or commas
 * (an empty list is valid).  0, 1 on syntax error, negative on OOM. */
int net_cidrs_new(struct net_cidrs **out, const char *list);
struct net_cidrs *net_cidrs_free(struct net_cidrs *c);
bool net_cidrs_contains(const struct net_cidrs *c, const struct net_addr *a);

/* Widens every IPv6 network of c longer than v6_bits to v6_bits (a single
 * address becomes its /64).  NULL-safe. */
void net_cidrs_widen(struct net_cidrs *c, unsigned v6_bits);

/* Parses a list of origins "scheme://host[:port]" (http or https, no path),
 * separated by spaces or commas.  0, 1, negative on OOM. */
int net_origins_new(struct net_origins **out, const char *list);
struct net_origins *net_origins_free(struct net_origins *o);

/* True if origin (len bytes, as sent in an Origin header) is configured. */
bool net_origins_match(const struct net_origins *o, const char *origin, size_t len);

/* The first configured origin, or NULL when none. */
const char *net_origins_first(const struct net_origins *o);

/* True if url is an absolute http(s) URL on a configured origin, free of
 * control characters, spaces and backslashes (safe for a Location header). */
bool net_redirect_allowed(const struct net_origins *o, const char *url);

/* The client address: the peer itself, unless the peer is a trusted proxy
 * and xff (X-Forwarded-For, may be NULL) is present; then the rightmost
 * entry that is not a trusted proxy.  A malformed entry met on the way
 * yields the peer. */
void net_client_addr(const struct net_addr *peer, const char *xff, const struct net_cidrs *trusted,
		     struct net_addr *out);

/* The same over every X-Forwarded-For header line of a request, in the
 * order received: they count as one list joined by commas (RFC 9110 5.3),
 * so a line the client wrote before the one its proxy appended cannot pick
 * the address.  n may be 0. */
void net_client_addr_lines(const struct net_addr *peer, const char *const *lines, size_t n,
			   const struct net_cidrs *trusted, struct net_addr *out);

#endif
