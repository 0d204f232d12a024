/* Unit tests for lib/policy: link counting, blocklisted words (Unicode case
 * folding), domains (links, author URL, e-mail), networks, the allowlist of
 * e-mail hashes, and list parsing. */
#include "tap.h"

#include "config.h"
#include "keys.h"
#include "net.h"
#include "policy.h"

#include <sodium.h>
#include <stdlib.h>

static struct keys *keys;

/* A policy from the four lists (NULL: leave the default); *r gets
 * policy_new's result. */
static struct policy *make(const char *words, const char *domains, const char *networks,
			   const char *allow, int *r)
{
	struct config *c = NULL;
	struct policy *p = NULL;
	char err[CONFIG_ERR_MAX];

	if (config_new(&c) != 0)
		exit(1);
	if ((words && config_set(c, "blocklist_words", words, err) != 0) ||
	    (domains && config_set(c, "blocklist_domains", domains, err) != 0) ||
	    (networks && config_set(c, "blocklist_networks", networks, err) != 0) ||
	    (allow && config_set(c, "allowlist_emails", allow, err) != 0)) {
		diag("config_set: %s", err);
		config_free(c);
		*r = -100;
		return NULL;
	}
	*r = policy_new(&p, c);
	config_free(c);
	if (*r != 0)
		p = policy_free(p);
	return p;
}

static void email_hash(const char *email, unsigned char out[KEYS_HASH_BYTES])
{
	keys_hash(keys, KEYS_EMAIL, email, strlen(email), out);
}

static void hash_hex(const char *email, char out[2 * KEYS_HASH_BYTES + 1])
{
	unsigned char h[KEYS_HASH_BYTES];

	email_hash(email, h);
	sodium_bin2hex(out, 2 * KEYS_HASH_BYTES + 1, h, sizeof(h));
}

/* Runs policy_check with a default commenter unless given. */
static struct policy_facts check(const struct policy *p, const char *text, const char *author,
				 const char *url, const char *email, const char *ip)
{
	struct policy_facts f;
	unsigned char h[KEYS_HASH_BYTES];
	struct net_addr a;
	const char *e = email ? email : "ann@example.org";

	email_hash(e, h);
	if (ip && net_parse_ip(ip, &a) != 0) {
		diag("bad test address %s", ip);
		exit(1);
	}
	memset(&f, 0x5a, sizeof(f)); /* policy_check must set every field */
	policy_check(p, text, author ? author : "Ann", url, e, h, ip ? &a : NULL, &f);
	return f;
}

/* s with line breaks and tabs written as \n and \t, for a TAP line. */
static const char *shown(const char *s)
{
	static char buf[4][512];
	static int k;
	size_t n = 0;

	k = (k + 1) % 4;
	for (; *s && n + 3 < sizeof(buf[k]); s++) {
		if (*s == '\n' || *s == '\t') {
			buf[k][n++] = '\\';
			buf[k][n++] = *s == '\n' ? 'n' : 't';
		} else {
			buf[k][n++] = *s;
		}
	}
	buf[k][n] = '\0';
	return buf[k];
}

static const char *reason(const struct policy_facts *f)
{
	return f->blocklisted ? (f->block_reason ? f->block_reason : "(null)") : "-";
}

static void test_links(void)
{
	static const struct {
		const char *text;
		unsigned want;
	} cases[] = {
	    {"", 0},
	    {"no links here, just words.", 0},
	    {"http://a.example", 1},
	    {"https://a.example/path?q=1#frag", 1},
	    {"HTTP://A.EXAMPLE", 1},
	    {"HtTpS://a.example", 1},
	    {"www.a.example", 1},
	    {"WWW.a.example", 1},
	    {"go to www.a.example now", 1},
	    {"http://www.a.example", 1},
	    {"awww.example", 0},
	    {"www2.a.example", 0},
	    {"ftp://a.example", 0},
	    {"http:/a.example", 0},
	    {"http//a.example", 0},
	    {"a.example/path", 0},
	    {"http://a.example http://b.example", 2},
	    {"http://a.example\nhttps://b.example\twww.c.example", 3},
	    {"www.a.example www.b.example www.c.example", 3},
	    /* adjacent punctuation */
	    {"(www.a.example)", 1},
	    {"(http://a.example)", 1},
	    {"<http://a.example>", 1},
	    {"[link](https://a.example/x)", 1},
	    {"\"http://a.example\"", 1},
	    {"see http://a.example.", 1},
	    {"see http://a.example, http://b.example!", 2},
	    {"http://a.example,http://b.example", 2},
	    {"http://a.example;https://b.example", 2},
	    {"http://a.example!www.b.example", 2},
	    {"http://a.example/)http://b.example", 2},
	    {"http://a.example:8080/x http://b.example", 2},
	    /* What a reader gets: rendered links, entities decoded. */
	    {"[a](h&#116;tp://a.example)", 1},
	    {"[a](https&#58;//a.example)", 1},
	    {"[http://a.example](http://a.example)", 1},
	    {"<http://a.example> and http://b.example", 2},
	    {"[a](mailto:x@a.example)", 0},
	    {"`http://a.example` in code", 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		is_int(policy_count_links(cases[i].text), cases[i].want, "links in \"%s\": %u",
		       shown(cases[i].text), cases[i].want);
	{
		/* Many links; the count keeps going. */
		char big[4096] = "";
		size_t len = 0;
		for (int i = 0; i < 100; i++)
			len += (size_t)snprintf(big + len, sizeof(big) - len, "http://x%d.example ",
						i);
		is_int(policy_count_links(big), 100, "100 links");
	}
}

static void test_empty(void)
{
	struct policy *p;
	struct policy_facts f;
	int r;

	p = make(NULL, NULL, NULL, NULL, &r);
	is_int(r, 0, "policy_new with the default (empty) lists");
	f = check(p, "Buy viagra at http://spam.example now", "Casino", "https://x.example", NULL,
		  "192.0.2.1");
	ok(!f.blocklisted && f.block_reason == NULL, "empty lists block nothing");
	ok(!f.allowlisted, "and allow nobody");
	is_int(f.links, 2, "links: one in the text plus the author URL");
	f = check(p, "plain", "Ann", NULL, NULL, NULL);
	is_int(f.links, 0, "no URL, no links: 0");
	f = check(p, "plain", "Ann", "", NULL, NULL);
	is_int(f.links, 0, "an empty URL is not a link");
	f = check(p, "www.a.example www.b.example", "Ann", "http://me.example", NULL, NULL);
	is_int(f.links, 3, "two text links plus the URL");
	policy_free(p);

	p = make(" , ,\t", "  ", ",", " ", &r);
	is_int(r, 0, "lists of separators only are empty lists");
	f = check(p, "anything at all", "Ann", NULL, NULL, "192.0.2.1");
	ok(!f.blocklisted && !f.allowlisted, "and block or allow nothing");
	policy_free(p);
	ok(policy_free(NULL) == NULL, "policy_free(NULL)");
}

static void test_words(void)
{
	struct policy *p;
	struct policy_facts f;
	int r;

	/* Configured in mixed case; ß and full-width letters too. */
	p = make("viagra, CASINO,stra\xc3\x9f"
		 "e\tbitcoin",
		 NULL, NULL, NULL, &r);
	is_int(r, 0, "policy_new with blocklisted words");
	static const struct {
		const char *text, *author, *url;
		bool blocked;
		const char *what;
	} cases[] = {
	    {"buy viagra now", NULL, NULL, true, "the word in the text"},
	    {"BUY VIAGRA NOW", NULL, NULL, true, "in capitals"},
	    {"ViAgRa", NULL, NULL, true, "mixed case"},
	    {"cheapviagras", NULL, NULL, true, "as a substring"},
	    {"\xef\xbc\xb6\xef\xbc\xa9\xef\xbc\xa1\xef\xbc\xa7\xef\xbc\xb2\xef\xbc\xa1", NULL, NULL,
	     true, "full-width VIAGRA"},
	    {"\xef\xbd\x96\xef\xbd\x89\xef\xbd\x81\xef\xbd\x87\xef\xbd\x92\xef\xbd\x81", NULL, NULL,
	     true, "full-width viagra"},
	    {"best casino in town", NULL, NULL, true, "a word configured in capitals"},
	    {"STRASSE", NULL, NULL, true, "\xc3\x9f folds to ss: STRASSE"},
	    {"Hauptstrasse 5", NULL, NULL, true, "strasse"},
	    {"Hauptstra\xc3\x9f"
	     "e 5",
	     NULL, NULL, true,
	     "stra\xc3\x9f"
	     "e itself"},
	    {"STRA\xe1\xba\x9e"
	     "E",
	     NULL, NULL, true, "capital \xe1\xba\x9e (U+1E9E)"},
	    {"BITCOIN", NULL, NULL, true, "a word after a tab separator"},
	    {"via gra", NULL, NULL, false, "split by a space: not the word"},
	    {"v-i-a-g-r-a", NULL, NULL, false, "split by hyphens: not the word"},
	    {"Strase", NULL, NULL, false, "a different word"},
	    {"a nice comment", "Casino Royale", NULL, true, "the word in the author"},
	    {"a nice comment", NULL, "https://viagra-shop.example/", true, "the word in the URL"},
	    {"a nice comment", "Ann", "https://ann.example/", false, "nothing"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		f = check(p, cases[i].text, cases[i].author, cases[i].url, NULL, NULL);
		if (cases[i].blocked)
			ok(f.blocklisted && f.block_reason && strcmp(f.block_reason, "word") == 0,
			   "word: %s (got %s)", cases[i].what, reason(&f));
		else
			ok(!f.blocklisted, "word: %s (got %s)", cases[i].what, reason(&f));
	}
	f = check(p, "hello", "Ann", NULL, "viagra@example.org", NULL);
	ok(!f.blocklisted, "words are not matched in the e-mail address (text, name, website)");
	policy_free(p);

	/* A word that folds to nothing (a soft hyphen, a zero-width space) must
	 * not match every comment. */
	p = make("\xc2\xad,\xe2\x80\x8b,spam", NULL, NULL, NULL, &r);
	is_int(r, 0, "a list with ignorable-only words is accepted (those words are dropped)");
	ok(p != NULL, "and gives a policy");
	if (p) {
		f = check(p, "an ordinary comment", "Ann", NULL, NULL, NULL);
		ok(!f.blocklisted, "an ignorable-only word does not block everything");
		f = check(p, "some SPAM here", "Ann", NULL, NULL, NULL);
		ok(f.blocklisted, "while the real word still blocks");
		policy_free(p);
	}

	/* A word list that is not UTF-8 is a bad list, not an OOM. */
	p = make("ok,bad\xff", NULL, NULL, NULL, &r);
	is_int(r, 1, "a blocklisted word with invalid UTF-8: policy_new returns 1");
	ok(p == NULL, "and no policy");
}

static void test_domains(void)
{
	struct policy *p;
	struct policy_facts f;
	int r;

	p = make(NULL, "spam.example, Bad.EXAMPLE", NULL, NULL, &r);
	is_int(r, 0, "policy_new with blocklisted domains");

	static const struct {
		const char *text;
		bool blocked;
	} text_cases[] = {
	    {"see http://spam.example/x", true},
	    {"see https://spam.example", true},
	    {"see https://sub.spam.example/page", true},
	    {"see https://a.b.spam.example", true},
	    {"see www.spam.example", true},
	    {"see WWW.SPAM.EXAMPLE/x", true},
	    {"see HTTP://Spam.Example", true},
	    {"see http://bad.example", true},
	    {"see http://spam.example:8080/x", true},
	    {"(http://spam.example)", true},
	    {"<https://spam.example>", true},
	    {"[x](https://spam.example)", true},
	    {"see http://spam.example?x=1", true},
	    {"see http://spam.example#top", true},
	    {"see http://spam.example.", true},
	    {"go to http://spam.example, now", true},
	    {"go to www.spam.example!", true},
	    {"go to http://spam.example; now", true},
	    {"http://ok.example,http://spam.example", true},
	    {"http://user@spam.example/", true},
	    {"http://user:pw@spam.example/", true},
	    {"http://ok.example/?next=http://spam.example", true},
	    {"see http://notspam.example", false},
	    {"see http://spam.example.org", false},
	    {"see http://spam.examplex", false},
	    {"see http://xspam.example/spam.example", false},
	    {"see http://example", false},
	    {"see http://good.example/spam.example", false},
	    {"see good.example/path/spam.example", false},
	    {"see http://good.example/?to=spam.example", false},
	    {"see http://good.example/#spam.example", false},
	    {"notspam.example and spam.examples", false},
	    /* Bare domains and addresses: a reader follows them as well. */
	    {"spam.example without a scheme is a link too", true},
	    {"mail me at a@spam.example", true},
	    {"SPAM.EXAMPLE, all caps", true},
	    {"(spam.example)", true},
	    /* Hosts as browsers see them (the WHATWG URL host parser). */
	    {"see http://%73pam.example/", true},
	    {"see http://spam%2Eexample/", true},
	    {"see http://SPAM%2eEXAMPLE", true},
	    {"see http://spam.example./x", true},
	    {"see http://spam.example../x", true},
	    {"see spam.example.", true},
	    {"see http://spam\xe3\x80\x82"
	     "example/",
	     true}, /* U+3002 */
	    {"see http://spam\xef\xbc\x8e"
	     "example/",
	     true}, /* U+FF0E */
	    {"see http://spam\xef\xbd\xa1"
	     "example/",
	     true}, /* U+FF61 */
	    {"see spam\xe3\x80\x82"
	     "example",
	     true}, /* bare, ideographic dot */
	    {"\xef\xbd\x93\xef\xbd\x90\xef\xbd\x81\xef\xbd\x8d.example", true}, /* full-width */
	    {"see http://spa\xc2\xadm.example/", true},				/* soft hyphen */
	    {"see http://spa\xe2\x80\x8bm.example/", true}, /* zero-width space */
	    {"see http://ok.example@spam.example/", true},
	    {"see http://ok.example:pw@spam.example/", true},
	    {"see http://spam.example\\@ok.example/", true},
	    {"see http:\\\\spam.example\\x", true},
	    {"see http:/spam.example", true},
	    {"see http:spam.example", true},
	    {"see https:////spam.example", true},
	    {"see [click](http://sp&#97;m.example/)", true}, /* entity in a destination */
	    {"see [click](http://spam&period;example)", true},
	    {"see [click](<http://spam.example/a b>)", true},
	    {"see [click][r]\n\n[r]: http://spam.example", true}, /* reference link */
	    {"see <http://%73pam.example>", true},
	    {"see sp&#97;m.example in the text", true}, /* what a reader sees */
	    {"see `spam.example` in code", true},
	    {"see ![img](http://x.example/a.png \"spam.example\")", true}, /* written */
	    {"see http://[::1]/ and http://127.0.0.1/", false},
	    {"mail me at a@ok.example", false},
	};
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(*text_cases); i++) {
		f = check(p, text_cases[i].text, NULL, NULL, NULL, NULL);
		if (text_cases[i].blocked)
			ok(f.blocklisted && f.block_reason && strcmp(f.block_reason, "domain") == 0,
			   "text \"%s\": domain (got %s)", shown(text_cases[i].text), reason(&f));
		else
			ok(!f.blocklisted, "text \"%s\": not blocked (got %s)",
			   shown(text_cases[i].text), reason(&f));
	}

	static const struct {
		const char *url;
		bool blocked;
	} url_cases[] = {
	    {"https://spam.example", true},
	    {"https://spam.example/", true},
	    {"http://www.spam.example/page", true},
	    {"HTTPS://SPAM.EXAMPLE:443/x", true},
	    {"https://spam.example?ref=1", true},
	    {"https://x@spam.example/", true},
	    {"https://notspam.example/", false},
	    {"https://spam.example.org/", false},
	    {"https://good.example/spam.example", false},
	    {"https://good.example/?u=spam.example", false},
	    {"https://%73pam.example/", true},
	    {"https://spam.example./", true},
	    {"https://SPAM\xe3\x80\x82"
	     "EXAMPLE/",
	     true},
	    {"https://ok.example@spam.example/", true},
	    {"https://spam.example\\@ok.example/", true},
	    {"http://spam%2eexample", true},
	    {"https://\xef\xbd\x93pam.example", true},
	};
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(*url_cases); i++) {
		f = check(p, "a nice comment", NULL, url_cases[i].url, NULL, NULL);
		if (url_cases[i].blocked)
			ok(f.blocklisted && f.block_reason && strcmp(f.block_reason, "domain") == 0,
			   "author URL %s: domain (got %s)", url_cases[i].url, reason(&f));
		else
			ok(!f.blocklisted, "author URL %s: not blocked (got %s)", url_cases[i].url,
			   reason(&f));
		is_int(f.links, 1, "  and counts as a link");
	}

	static const struct {
		const char *email;
		bool blocked;
	} mail_cases[] = {
	    {"a@spam.example", true},
	    {"a@mail.spam.example", true},
	    {"a@bad.example", true},
	    {"a@notspam.example", false},
	    {"spam.example@good.example", false},
	    {"a@spam.example.org", false},
	    {"a@SPAM.EXAMPLE", true},
	    {"a@spam.example.", true},
	    {"a@spam\xe3\x80\x82"
	     "example",
	     true},
	};
	for (size_t i = 0; i < sizeof(mail_cases) / sizeof(*mail_cases); i++) {
		f = check(p, "a nice comment", NULL, NULL, mail_cases[i].email, NULL);
		if (mail_cases[i].blocked)
			ok(f.blocklisted && f.block_reason && strcmp(f.block_reason, "domain") == 0,
			   "e-mail %s: domain (got %s)", mail_cases[i].email, reason(&f));
		else
			ok(!f.blocklisted, "e-mail %s: not blocked (got %s)", mail_cases[i].email,
			   reason(&f));
		is_int(f.links, 0, "  and is not a link");
	}
	policy_free(p);

	/* A domain that is a whole label suffix of another entry. */
	p = make(NULL, "notspam.example", NULL, NULL, &r);
	f = check(p, "http://spam.example", NULL, NULL, NULL, NULL);
	ok(!f.blocklisted, "notspam.example listed: spam.example is not blocked");
	f = check(p, "http://www.notspam.example", NULL, NULL, NULL, NULL);
	ok(f.blocklisted, "notspam.example listed: www.notspam.example is");
	policy_free(p);

	/* Entries are hosts too: an IDN, upper case, a wildcard, a dot. */
	p = make(NULL,
		 "B\xc3\xbc"
		 "cher.example, *.wild.example, .dot.example, TRAIL.example.",
		 NULL, NULL, &r);
	is_int(r, 0, "policy_new with IDN, wildcard and dotted entries");
	static const struct {
		const char *text;
		bool blocked;
	} idn_cases[] = {
	    {"see http://b\xc3\xbc"
	     "cher.example/",
	     true},
	    {"see http://xn--bcher-kva.example/", true},
	    {"see http://XN--BCHER-KVA.EXAMPLE/", true},
	    {"see http://B\xc3\x9c"
	     "CHER.example/",
	     true},
	    {"see http://%62%c3%bc"
	     "cher.example/",
	     true},
	    {"see b\xc3\xbc"
	     "cher.example",
	     true},
	    {"see http://bucher.example/", false},
	    {"see http://a.wild.example/", true},
	    {"see http://wild.example/", true},
	    {"see http://www.dot.example/", true},
	    {"see http://trail.example/", true},
	    {"see http://notwild.example/", false},
	};
	for (size_t i = 0; i < sizeof(idn_cases) / sizeof(*idn_cases); i++) {
		f = check(p, idn_cases[i].text, NULL, NULL, NULL, NULL);
		ok(f.blocklisted == idn_cases[i].blocked, "listed as written: \"%s\": %s (got %s)",
		   idn_cases[i].text, idn_cases[i].blocked ? "domain" : "not blocked", reason(&f));
	}
	policy_free(p);

	/* A name that advertises a blocklisted domain. */
	p = make(NULL, "spam.example", NULL, NULL, &r);
	f = check(p, "a nice comment", "Cheap pills at spam.example", NULL, NULL, NULL);
	ok(f.blocklisted && strcmp(reason(&f), "domain") == 0, "a name naming the domain");
	f = check(p, "a nice comment",
		  "SPAM\xef\xbc\x8e"
		  "EXAMPLE",
		  NULL, NULL, NULL);
	ok(f.blocklisted, "a name naming it with a full-width dot");
	f = check(p, "a nice comment", "Ann from spam.examples", NULL, NULL, NULL);
	ok(!f.blocklisted, "a name with a longer word is not");
	policy_free(p);
}

static void test_networks(void)
{
	struct policy *p;
	struct policy_facts f;
	int r;

	p = make(NULL, NULL, "192.0.2.0/24, 2001:db8::/32,198.51.100.7", NULL, &r);
	is_int(r, 0, "policy_new with blocklisted networks");
	static const struct {
		const char *ip;
		bool blocked;
	} cases[] = {
	    {"192.0.2.0", true},	 {"192.0.2.55", true},	     {"192.0.2.255", true},
	    {"192.0.3.0", false},	 {"192.0.1.255", false},     {"198.51.100.7", true},
	    {"198.51.100.8", false},	 {"2001:db8::1", true},	     {"2001:db8:ffff::1", true},
	    {"2001:db9::1", false},	 {"2001:db7:ffff::", false}, {"::ffff:192.0.2.9", true},
	    {"::ffff:192.0.3.9", false}, {"10.0.0.1", false},	     {"::1", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		f = check(p, "a nice comment", NULL, NULL, NULL, cases[i].ip);
		if (cases[i].blocked)
			ok(f.blocklisted && f.block_reason &&
			       strcmp(f.block_reason, "network") == 0,
			   "client %s: network (got %s)", cases[i].ip, reason(&f));
		else
			ok(!f.blocklisted, "client %s: not blocked (got %s)", cases[i].ip,
			   reason(&f));
	}
	f = check(p, "a nice comment", NULL, NULL, NULL, NULL);
	ok(!f.blocklisted, "no client address: not blocked");
	policy_free(p);

	/* An IPv6 client may take any address of its /64: listing one address
	 * (or a network longer than /64) lists the /64. */
	p = make(NULL, NULL, "2001:db8:1:2::7, 2001:db8:9:9:8000::/65", NULL, &r);
	is_int(r, 0, "policy_new with an IPv6 address and a /65");
	static const struct {
		const char *ip;
		bool blocked;
	} v6[] = {
	    {"2001:db8:1:2::7", true},
	    {"2001:db8:1:2::8", true},
	    {"2001:db8:1:2:ffff:ffff:ffff:ffff", true},
	    {"2001:db8:1:2:abcd::1", true},
	    {"2001:db8:1:3::7", false},
	    {"2001:db8:9:9::1", true},
	    {"2001:db8:9:9:7fff::1", true},
	    {"2001:db8:9:a::1", false},
	    {"192.0.2.7", false},
	};
	for (size_t i = 0; i < sizeof(v6) / sizeof(*v6); i++) {
		f = check(p, "a nice comment", NULL, NULL, NULL, v6[i].ip);
		ok(f.blocklisted == v6[i].blocked, "client %s: %s (got %s)", v6[i].ip,
		   v6[i].blocked ? "network" : "not blocked", reason(&f));
	}
	policy_free(p);

	p = make(NULL, NULL, "192.0.2.0/33", NULL, &r);
	is_int(r, 1, "a /33 IPv4 network: policy_new returns 1");
	ok(p == NULL, "and no policy");
	p = make(NULL, NULL, "192.0.2.0/24, not-an-address", NULL, &r);
	is_int(r, 1, "a word in the network list: 1");
	policy_free(p);
	p = make(NULL, NULL, "2001:db8::/129", NULL, &r);
	is_int(r, 1, "a /129 IPv6 network: 1");
	policy_free(p);
}

static void test_allowlist(void)
{
	struct policy *p;
	struct policy_facts f;
	char ann[65], bob[65], list[300];
	int r;

	hash_hex("ann@example.org", ann);
	hash_hex("bob@example.org", bob);

	snprintf(list, sizeof(list), "%s", ann);
	p = make(NULL, NULL, NULL, list, &r);
	is_int(r, 0, "policy_new with one allowlisted hash");
	f = check(p, "hello", NULL, NULL, "ann@example.org", NULL);
	ok(f.allowlisted && !f.blocklisted, "ann is allowlisted");
	f = check(p, "hello", NULL, NULL, "bob@example.org", NULL);
	ok(!f.allowlisted, "bob is not");
	policy_free(p);

	snprintf(list, sizeof(list), "%s, %s", bob, ann);
	p = make(NULL, NULL, NULL, list, &r);
	is_int(r, 0, "two hashes");
	ok(check(p, "hi", NULL, NULL, "ann@example.org", NULL).allowlisted &&
	       check(p, "hi", NULL, NULL, "bob@example.org", NULL).allowlisted,
	   "both are allowlisted");
	ok(!check(p, "hi", NULL, NULL, "carol@example.org", NULL).allowlisted, "carol is not");
	policy_free(p);

	/* Upper-case hex is the same hash. */
	for (char *q = list; *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 32);
	p = make(NULL, NULL, NULL, list, &r);
	if (p) {
		ok(check(p, "hi", NULL, NULL, "ann@example.org", NULL).allowlisted,
		   "upper-case hex parses to the same hash");
		policy_free(p);
	} else {
		ok(0, "upper-case hex parses to the same hash (policy_new %d)", r);
	}

	/* Allowlisted and blocklisted at once: both facts are reported. */
	snprintf(list, sizeof(list), "%s", ann);
	p = make("viagra", NULL, NULL, list, &r);
	f = check(p, "viagra", NULL, NULL, "ann@example.org", NULL);
	ok(f.allowlisted && f.blocklisted, "allowlisted and blocklisted are independent facts");
	policy_free(p);

	/* Malformed hashes. */
	static const struct {
		int cut; /* characters of ann's hash kept, or -1 */
		const char *suffix;
		const char *what;
	} bad[] = {
	    {63, "", "63 hex digits"},
	    {64, "0", "65 hex digits"},
	    {63, "g", "a 'g'"},
	    {63, "-", "a '-'"},
	    {32, "", "32 hex digits (a 16-byte hash)"},
	    {0, "xyz", "a word"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(list, sizeof(list), "%s %.*s%s", bob, bad[i].cut, ann, bad[i].suffix);
		p = make(NULL, NULL, NULL, list, &r);
		is_int(r, 1, "allowlist with %s: policy_new returns 1", bad[i].what);
		ok(p == NULL, "  and no policy");
	}
}

int main(void)
{
	unsigned char master[KEYS_MASTER_BYTES];

	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(i * 11 + 3);
	if (keys_new_from_bytes(&keys, master) != 0)
		return 1;
	test_links();
	test_empty();
	test_words();
	test_domains();
	test_networks();
	test_allowlist();
	keys_free(keys);
	return done_testing();
}
