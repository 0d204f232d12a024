/* Unit tests for lib/host: hosts as browsers see them (WHATWG URL host
 * parsing with libidn2), hosts in URLs, reduced referrers, host-like runs
 * in text, and domain matching. */
#include "tap.h"

#include "host.h"

#include <stdlib.h>

/* s with bytes >= 0x80 and controls as \xNN, for a TAP line. */
static const char *vis(const char *s)
{
	static char buf[4][400];
	static int k;
	size_t n = 0;

	k = (k + 1) % 4;
	for (; *s && n + 5 < sizeof(buf[k]); s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf[k] + n, sizeof(buf[k]) - n, "\\x%02x", c);
		else
			buf[k][n++] = (char)c;
	}
	buf[k][n] = '\0';
	return buf[k];
}

static void test_normalise(void)
{
	static const struct {
		const char *in, *want; /* want NULL: not a host */
	} cases[] = {
	    {"example.org", "example.org"},
	    {"EXAMPLE.ORG", "example.org"},
	    {"Example.Org.", "example.org"},
	    {"example.org..", "example.org"},
	    {"%65xample.org", "example.org"},
	    {"%45XAMPLE%2Eorg", "example.org"},
	    {"%2e%2e", NULL},
	    {"example\xe3\x80\x82org", "example.org"},
	    {"example\xef\xbc\x8eorg", "example.org"},
	    {"example\xef\xbd\xa1org", "example.org"},
	    {"\xef\xbd\x85xample.org", "example.org"},
	    {"exa\xc2\xadmple.org", "example.org"},
	    {"exa\xe2\x80\x8bmple.org", "example.org"},
	    {"b\xc3\xbc"
	     "cher.de",
	     "xn--bcher-kva.de"},
	    {"B\xc3\x9c"
	     "CHER.DE",
	     "xn--bcher-kva.de"},
	    {"xn--bcher-kva.de", "xn--bcher-kva.de"},
	    {"XN--BCHER-KVA.DE", "xn--bcher-kva.de"},
	    {"fa\xc3\x9f.de", "xn--fa-hia.de"},
	    {"-lead.example", "-lead.example"},
	    {"under_score.example", "under_score.example"},
	    {"127.0.0.1", "127.0.0.1"},
	    {"0x7f.1", "127.0.0.1"},
	    {"2130706433", "127.0.0.1"},
	    {"0177.0.0.1", "127.0.0.1"},
	    {"127.1.", "127.0.0.1"},
	    {"0x7f..", "0.0.0.127"},
	    {"1.2.3.4.5", NULL},
	    {"256.0.0.1", NULL},
	    {"[::1]", "[::1]"},
	    {"[2001:DB8::0:1]", "[2001:db8::1]"},
	    {"[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]"},
	    {"[nonsense]", NULL},
	    {"ex ample.org", NULL},
	    {"ex%20ample.org", NULL},
	    {"ex<ample.org", NULL},
	    {"ex%00ample.org", NULL},
	    {"exa%mple.org", NULL},
	    {"example.org\xef\xbc\x8fpath", NULL}, /* a full-width solidus maps to '/' */
	    {"", NULL},
	    {".", NULL},
	    {"\xff\xfe", NULL},
	};
	char out[HOST_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int r = host_normalise(cases[i].in, strlen(cases[i].in), out);
		if (cases[i].want)
			ok(r == 0 && strcmp(out, cases[i].want) == 0,
			   "\"%s\" is the host %s (got %s)", vis(cases[i].in), cases[i].want,
			   r == 0 ? out : "none");
		else
			ok(r == 1, "\"%s\" is no host (got %s)", vis(cases[i].in),
			   r == 0 ? out : "none");
	}
	{
		char big[HOST_INPUT + 2];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(host_normalise(big, strlen(big), out), 1, "an over-long input is no host");
	}
}

static void test_urls(void)
{
	static const struct {
		const char *url, *want;
	} cases[] = {
	    {"http://example.org", "example.org"},
	    {"https://example.org/path?q=1#f", "example.org"},
	    {"HTTPS://EXAMPLE.ORG:8443/", "example.org"},
	    {"http://user:pw@example.org/", "example.org"},
	    {"http://good.example@evil.example/", "evil.example"},
	    {"http://good.example:80@evil.example/", "evil.example"},
	    {"http://evil.example\\@good.example/", "evil.example"},
	    {"http:\\\\evil.example\\x", "evil.example"},
	    {"http:/evil.example", "evil.example"},
	    {"http:evil.example", "evil.example"},
	    {"https:////evil.example", "evil.example"},
	    {"  http://evil.example", "evil.example"},
	    {"http://%65vil.example", "evil.example"},
	    {"http://evil%2Eexample", "evil.example"},
	    {"http://evil\xe3\x80\x82"
	     "example/",
	     "evil.example"},
	    {"http://[::1]:8080/", "[::1]"},
	    {"http://0x7f.1/", "127.0.0.1"},
	    {"www.evil.example/path", "www.evil.example"},
	    {"WWW.Evil.Example", "www.evil.example"},
	    {"ftp://files.example/", "files.example"},
	    {"foo://host.example/", "host.example"},
	    {"mailto:x@evil.example", NULL},
	    {"javascript:alert(1)", NULL},
	    {"evil.example/path", NULL},
	    {"http://", NULL},
	    {"http:///", NULL},
	    {"http://[::1/", NULL},
	    {"", NULL},
	};
	char out[HOST_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int r = host_of_url(cases[i].url, strlen(cases[i].url), out);
		if (cases[i].want)
			ok(r == 0 && strcmp(out, cases[i].want) == 0, "%s: host %s (got %s)",
			   vis(cases[i].url), cases[i].want, r == 0 ? out : "none");
		else
			ok(r == 1, "%s: no host (got %s)", vis(cases[i].url),
			   r == 0 ? out : "none");
	}
}

static void test_referrer(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"https://blog.example.nl/2011/01/post?utm=x#c", "https://blog.example.nl/"},
	    {"http://User:secret@Forum.Example/thread/42", "http://forum.example/"},
	    {"https://forum.example:8443/private/inbox", "https://forum.example/"},
	    {"HTTPS://B\xc3\xbc"
	     "cher.example/",
	     "https://xn--bcher-kva.example/"},
	    {"android-app://com.example/", "(invalid)"},
	    {"ftp://files.example/", "(invalid)"},
	    {"not a url", "(invalid)"},
	    {"", "(invalid)"},
	    {NULL, "(invalid)"},
	};
	char out[HOST_REFERRER_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		host_referrer(cases[i].in, out);
		is_str(out, cases[i].want, "referrer %s is kept as %s",
		       cases[i].in ? vis(cases[i].in) : "(null)", cases[i].want);
	}
}

struct seen {
	char hosts[16][HOST_MAX];
	size_t n;
	char joined[1024];
};

static bool collect(const char *host, void *u)
{
	struct seen *s = u;

	if (s->n < 16)
		snprintf(s->hosts[s->n++], HOST_MAX, "%s", host);
	return false;
}

static const char *hosts_in(const char *text)
{
	static struct seen s;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	host_each_in_text(text, strlen(text), collect, &s);
	for (size_t i = 0; i < s.n; i++)
		n += (size_t)snprintf(s.joined + n, sizeof(s.joined) - n, "%s%s", i ? " " : "",
				      s.hosts[i]);
	return s.joined;
}

static void test_text(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"no hosts here.", ""},
	    {"visit evil.example today", "evil.example"},
	    {"visit www.evil.example/x", "www.evil.example"},
	    {"see http://evil.example/a/b.example?c=d.example#e.example", "evil.example"},
	    {"see http://u:p@evil.example", "evil.example"},
	    {"see http://good.example@evil.example", "good.example evil.example"},
	    {"mail a@evil.example.", "evil.example"},
	    {"EVIL.EXAMPLE and Evil\xe3\x80\x82"
	     "Example",
	     "evil.example evil.example"},
	    {"\xef\xbd\x85vil\xef\xbc\x8e"
	     "example",
	     "evil.example"},
	    {"ev\xc2\xadil.example", "evil.example"},
	    {"%65vil.example", "evil.example"},
	    {"evil%2Eexample", "evil.example"},
	    {"(evil.example), [evil.example]; \"evil.example\"",
	     "evil.example evil.example evil.example"},
	    {"http:\\\\evil.example", "evil.example"},
	    {"http:/evil.example", "evil.example"},
	    {"a sentence. Another one.", ""},
	    {"version 1.2 of it", ""},
	    {"b\xc3\xbc"
	     "cher.example",
	     "xn--bcher-kva.example"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		is_str(hosts_in(cases[i].text), cases[i].want, "hosts in \"%s\"",
		       vis(cases[i].text));
	{
		/* A label run longer than any buffer: the end, where the domain
		 * is, still counts. */
		size_t n = 3 * HOST_INPUT;
		char *big = malloc(n + 32);
		for (size_t i = 0; i < n; i++)
			big[i] = i % 60 == 59 ? '.' : 'a';
		snprintf(big + n, 32, ".evil.example");
		ok(strstr(hosts_in(big), "evil.example") != NULL,
		   "a 12 KiB run still shows its domain at the end");
		free(big);
	}
}

static void test_within(void)
{
	ok(host_within("evil.example", "evil.example"), "a domain is within itself");
	ok(host_within("a.b.evil.example", "evil.example"), "subdomains are within");
	ok(!host_within("notevil.example", "evil.example"), "a longer label is not");
	ok(!host_within("evil.example.org", "evil.example"), "nor a longer name");
	ok(!host_within("example", "evil.example"), "nor a shorter one");
	ok(!host_within("evil.example", ""), "nothing is within an empty domain");
}

int main(void)
{
	test_normalise();
	test_urls();
	test_referrer();
	test_text();
	test_within();
	return done_testing();
}
