#include "policy.h"

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
	if (r == 0)
		r = net_cidrs_new(&p->networks, cfg->blocklist_networks);
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

/* True if host (len bytes) is domain or a subdomain of it. */
static bool host_in(const char *host, size_t len, const char *domain)
{
	size_t d = strlen(domain);

	if (len < d || strncasecmp(host + len - d, domain, d) != 0)
		return false;
	return len == d || host[len - d - 1] == '.';
}

static bool domain_blocked(const struct policy *p, const char *host, size_t len)
{
	for (size_t i = 0; i < p->n_domains; i++) {
		if (host_in(host, len, p->domains[i]))
			return true;
	}
	return false;
}

/* The host of a link or URL at s (just after "scheme://", or at "www."):
 * user info ("user:pw@") is skipped, and the host name ends at the first
 * byte that cannot be part of one, so punctuation next to a link
 * ("http://spam.example, ..." or a sentence's full stop) is not taken for
 * part of it.  *host gets the start; returns the length of the host name
 * (*blen: without trailing dots, for the blocklist). */
static size_t link_host(const char *s, const char **host, size_t *blen)
{
	size_t auth = strcspn(s, "/?#\\ \t\r\n\"'<>()[]{}"), len = 0;
	const char *h = s;

	for (size_t i = 0; i < auth; i++) {
		if (s[i] == '@')
			h = s + i + 1;
	}
	while (isalnum((unsigned char)h[len]) || h[len] == '-' || h[len] == '.' ||
	       (unsigned char)h[len] >= 0x80)
		len++;
	*host = h;
	*blen = len;
	while (*blen && h[*blen - 1] == '.')
		(*blen)--;
	return len;
}

/* Counts the links in text (after "://" or at "www.") and tells whether
 * any points into a blocklisted domain (p may be NULL). */
static bool links_blocked(const struct policy *p, const char *text, unsigned *count)
{
	bool blocked = false;
	const char *s = text;

	*count = 0;
	while (*s) {
		const char *host = NULL;
		if (strncasecmp(s, "http://", 7) == 0)
			host = s + 7;
		else if (strncasecmp(s, "https://", 8) == 0)
			host = s + 8;
		else if (strncasecmp(s, "www.", 4) == 0 &&
			 (s == text || !isalnum((unsigned char)s[-1])))
			host = s;
		if (host) {
			size_t blen, len = link_host(host, &host, &blen);
			(*count)++;
			if (p && domain_blocked(p, host, blen))
				blocked = true;
			s = host + len;
			if (!*s)
				break;
		}
		s++;
	}
	return blocked;
}

unsigned policy_count_links(const char *text)
{
	unsigned n;

	links_blocked(NULL, text, &n);
	return n;
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
	const char *at = email ? strrchr(email, '@') : NULL;

	memset(out, 0, sizeof(*out));
	if (links_blocked(p, text, &out->links)) {
		out->blocklisted = true;
		out->block_reason = "domain";
	}
	if (url && *url) {
		const char *host = strstr(url, "://");
		out->links++;
		if (host) {
			size_t blen;
			link_host(host + 3, &host, &blen);
			if (domain_blocked(p, host, blen)) {
				out->blocklisted = true;
				out->block_reason = "domain";
			}
		}
	}
	if (at && domain_blocked(p, at + 1, strlen(at + 1))) {
		out->blocklisted = true;
		out->block_reason = "domain";
	}
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
