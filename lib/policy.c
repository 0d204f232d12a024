#include "policy.h"

#include "buf.h"
#include "host.h"
#include "render.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define POLICY_MAX_ITEMS 4096

struct policy {
	char **words; /* case-folded */
	size_t n_words;
	char **domains; /* lower-case */
	size_t n_domains;
	struct net_cidrs *networks;
	unsigned char (*allow)[KEYS_HASH_BYTES];
	size_t n_allow;
};

static int split(const char *list, bool fold, char ***out, size_t *n)
{
	char **items = NULL;
	size_t count = 0;
	const char *p = list;
	int r = -ENOMEM;

	while (*p) {
		size_t len;
		char *item;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		if (count == POLICY_MAX_ITEMS)
			goto fail;
		item = strndup(p, len);
		if (!item)
			goto fail;
		if (fold) {
			utf8proc_uint8_t *f = NULL;
			if (!text_utf8_valid(item, len, NULL)) {
				free(item);
				r = 1; /* a bad list, not a lack of memory */
				goto fail;
			}
			f = utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)item);
			free(item);
			if (!f)
				goto fail;
			item = (char *)f;
			if (!*item) {
				/* Only ignorable characters: as "" it would match
				 * every comment. */
				free(item);
				p += len;
				continue;
			}
		} else {
			for (char *q = item; *q; q++) {
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q + 32);
			}
		}
		{
			char **grown = realloc(items, (count + 1) * sizeof(*items));
			if (!grown) {
				free(item);
				goto fail;
			}
			items = grown;
		}
		items[count++] = item;
		p += len;
	}
	*out = items;
	*n = count;
	return 0;
fail:
	for (size_t i = 0; i < count; i++)
		free(items[i]);
	free(items);
	return r;
}

/* A blocklisted domain in the form hosts are compared in (lib/host.h):
 * "*.evil.com", ".evil.com" and "EVIL.COM." all mean evil.com and its
 * subdomains, "bücher.de" is "xn--bcher-kva.de".  Entries that are no host
 * stay as written (lower-case).  0 or -ENOMEM. */
static int domain_entry(char **item)
{
	char host[HOST_MAX], *copy;
	const char *s = *item;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	while (*s == '.')
		s++;
	if (host_normalise(s, strlen(s), host) != 0)
		return 0;
	copy = strdup(host);
	if (!copy)
		return -ENOMEM;
	free(*item);
	*item = copy;
	return 0;
}

int policy_new(struct policy **out, const struct config *cfg)
{
	struct policy *p = calloc(1, sizeof(*p));
	char **hashes = NULL;
	size_t n_hashes = 0;
	int r;

	if (!p)
		return -ENOMEM;
	r = split(cfg->blocklist_words, true, &p->words, &p->n_words);
	if (r == 0)
		r = split(cfg->blocklist_domains, false, &p->domains, &p->n_domains);
	for (size_t i = 0; r == 0 && i < p->n_domains; i++)
		r = domain_entry(&p->domains[i]);
	if (r == 0)
		r = net_cidrs_new(&p->networks, cfg->blocklist_networks);
	/* An IPv6 client can take any address of its /64: an entry blocks at
	 * least that network. */
	if (r == 0)
		net_cidrs_widen(p->networks, 64);
	if (r == 0)
		r = split(cfg->allowlist_emails, false, &hashes, &n_hashes);
	if (r != 0)
		goto out;
	p->allow = calloc(n_hashes ? n_hashes : 1, KEYS_HASH_BYTES);
	if (!p->allow) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_hashes; i++) {
		if (strlen(hashes[i]) != 2 * KEYS_HASH_BYTES) {
			r = 1;
			goto out;
		}
		for (size_t j = 0; j < KEYS_HASH_BYTES; j++) {
			int hi = text_hex_value(hashes[i][2 * j]),
			    lo = text_hex_value(hashes[i][2 * j + 1]);
			if (hi < 0 || lo < 0) {
				r = 1;
				goto out;
			}
			p->allow[i][j] = (unsigned char)(hi << 4 | lo);
		}
	}
	p->n_allow = n_hashes;
	*out = p;
	p = NULL;
out:
	for (size_t i = 0; i < n_hashes; i++)
		free(hashes[i]);
	free(hashes);
	policy_free(p);
	return r;
}

struct policy *policy_free(struct policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_words; i++)
		free(p->words[i]);
	free(p->words);
	for (size_t i = 0; i < p->n_domains; i++)
		free(p->domains[i]);
	free(p->domains);
	net_cidrs_free(p->networks);
	free(p->allow);
	free(p);
	return NULL;
}

static bool domain_blocked(const struct policy *p, const char *host)
{
	for (size_t i = 0; p && i < p->n_domains; i++) {
		if (host_within(host, p->domains[i]))
			return true;
	}
	return false;
}

/* Counts the links in text written out (after "http://", "https://" or at
 * "www."), the way earlier versions did: a link's host is passed over, so
 * "http://www.example.org" is one. */
static unsigned count_written_links(const char *text, size_t len)
{
	unsigned count = 0;
	size_t i = 0;

	while (i < len) {
		const char *s = text + i;
		size_t rest = len - i, skip = 0;

		if (rest > 7 && strncasecmp(s, "http://", 7) == 0)
			skip = 7;
		else if (rest > 8 && strncasecmp(s, "https://", 8) == 0)
			skip = 8;
		else if (rest > 4 && strncasecmp(s, "www.", 4) == 0 &&
			 (i == 0 || !isalnum((unsigned char)s[-1])))
			skip = 4;
		if (!skip) {
			i++;
			continue;
		}
		count++;
		i += skip;
		while (i < len && (isalnum((unsigned char)text[i]) || text[i] == '-' ||
				   text[i] == '.' || (unsigned char)text[i] >= 0x80))
			i++;
	}
	return count;
}

/* What policy_check learns from a text. */
struct scan {
	const struct policy *p;
	bool blocked;
	unsigned links;
	struct buf visible; /* all the text a reader sees */
	struct buf outside; /* the same outside links' own text */
	bool oom;
};

static bool host_seen(const char *host, void *u)
{
	struct scan *sc = u;

	if (domain_blocked(sc->p, host))
		sc->blocked = true;
	return sc->blocked;
}

static void scan_hosts(struct scan *sc, const char *s, size_t len)
{
	if (!sc->blocked && sc->p && sc->p->n_domains)
		host_each_in_text(s, len, host_seen, sc);
}

static void scan_link(const char *url, void *u)
{
	struct scan *sc = u;
	char host[HOST_MAX];

	if (strncasecmp(url, "http:", 5) == 0 || strncasecmp(url, "https:", 6) == 0)
		sc->links++;
	if (host_of_url(url, strlen(url), host) == 0 && domain_blocked(sc->p, host))
		sc->blocked = true;
	scan_hosts(sc, url, strlen(url)); /* mailto: addresses, hosts in queries */
}

static void scan_text(const char *s, size_t len, bool in_link, void *u)
{
	struct scan *sc = u;

	if (buf_append(&sc->visible, s, len) != 0 ||
	    buf_append(&sc->outside, in_link ? "\n" : s, in_link ? 1 : len) != 0)
		sc->oom = true;
}

/* Counts the links in text as a reader meets them (rendered <a> targets and
 * addresses written out in the visible text) and tells whether any host in
 * it - in a link, in the visible text or in the written Markdown - is in a
 * blocklisted domain (p may be NULL). */
static bool links_blocked(const struct policy *p, const char *text, unsigned *count)
{
	struct scan sc = {.p = p};
	struct render_visitor v = {scan_link, scan_text, &sc};
	size_t len = strlen(text);

	buf_init(&sc.visible, 2 * RENDER_MAX_INPUT);
	buf_init(&sc.outside, 2 * RENDER_MAX_INPUT);
	if (render_visit(text, len, &v) != 0 || sc.oom) {
		/* Not Markdown a reader would see: the written text is all. */
		sc.links = count_written_links(text, len);
	} else {
		sc.links +=
		    count_written_links(sc.outside.data ? sc.outside.data : "", sc.outside.len);
		scan_hosts(&sc, sc.visible.data ? sc.visible.data : "", sc.visible.len);
	}
	scan_hosts(&sc, text, len);
	buf_free(&sc.visible);
	buf_free(&sc.outside);
	*count = sc.links;
	return sc.blocked;
}

unsigned policy_count_links(const char *text)
{
	unsigned n;

	links_blocked(NULL, text, &n);
	return n;
}

/* True if the website or the e-mail address is in a blocklisted domain. */
static bool fields_blocked(const struct policy *p, const char *author, const char *url,
			   const char *email)
{
	struct scan sc = {.p = p};
	char host[HOST_MAX];
	const char *at = email ? strrchr(email, '@') : NULL;

	if (p->n_domains == 0)
		return false;
	if (url && *url) {
		if (host_of_url(url, strlen(url), host) == 0 && domain_blocked(p, host))
			return true;
		scan_hosts(&sc, url, strlen(url));
	}
	if (at && host_normalise(at + 1, strlen(at + 1), host) == 0 && domain_blocked(p, host))
		return true;
	if (author)
		scan_hosts(&sc, author, strlen(author));
	return sc.blocked;
}

static bool has_word(const struct policy *p, const char *s)
{
	utf8proc_uint8_t *folded;
	bool found = false;

	if (!s || !*s || p->n_words == 0)
		return false;
	folded = utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)s);
	if (!folded)
		return false;
	for (size_t i = 0; i < p->n_words && !found; i++)
		found = strstr((const char *)folded, p->words[i]) != NULL;
	free(folded);
	return found;
}

void policy_check(const struct policy *p, const char *text, const char *author, const char *url,
		  const char *email, const unsigned char email_hash[KEYS_HASH_BYTES],
		  const struct net_addr *client, struct policy_facts *out)
{
	memset(out, 0, sizeof(*out));
	if (links_blocked(p, text, &out->links) || fields_blocked(p, author, url, email)) {
		out->blocklisted = true;
		out->block_reason = "domain";
	}
	if (url && *url)
		out->links++;
	if (has_word(p, text) || has_word(p, author) || has_word(p, url)) {
		out->blocklisted = true;
		out->block_reason = "word";
	}
	if (client && net_cidrs_contains(p->networks, client)) {
		out->blocklisted = true;
		out->block_reason = "network";
	}
	for (size_t i = 0; email_hash && i < p->n_allow; i++) {
		if (sodium_memcmp(p->allow[i], email_hash, KEYS_HASH_BYTES) == 0)
			out->allowlisted = true;
	}
}
