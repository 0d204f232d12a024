/* Unit tests for lib/mail: message building (RFC 5322 headers, RFC 2047
 * subjects, quoted-printable bodies, RFC 8058 headers), dates, header
 * injection, envelope addresses; sending to a closed port is a retry. */
#include "tap.h"

#include "mail.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The value of header name in msg (up to its CRLF that is not folded). */
static char *header(const char *msg, const char *name)
{
	static char out[2048];
	const char *p = msg, *end = strstr(msg, "\r\n\r\n");
	size_t n = strlen(name), o = 0;

	out[0] = '\0';
	while (p && p < end) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 2;
			while (*p && o < sizeof(out) - 1) {
				if (p[0] == '\r' && p[1] == '\n' && p[2] != ' ' && p[2] != '\t')
					break;
				out[o++] = *p++;
			}
			out[o] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
		p = p ? p + 2 : NULL;
	}
	return NULL;
}

/* Decodes the base64 encoded words of an encoded subject. */
static void decode_words(const char *enc, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = enc; (p = strstr(p, "=?UTF-8?B?"));) {
		const char *b = p + 10, *e = strstr(b, "?=");
		size_t len = 0;
		sodium_base642bin((unsigned char *)out + o, size - o - 1, b, (size_t)(e - b), NULL,
				  &len, NULL, sodium_base64_VARIANT_ORIGINAL);
		o += len;
		p = e + 2;
	}
	out[o] = '\0';
}

static void test_subjects(void)
{
	struct buf b;
	char dec[512];
	const char *utf8 = "Reactie wacht op goedkeuring: Zoë Ünïcødé Ærøskøbing on "
			   "/2011/01/social-media-realities with a long tail of words";
	bool words_ok = true;

	buf_init(&b, 4096);
	mail_encode_subject("New reply to your comment on /post", &b);
	is_str(b.data, "New reply to your comment on /post",
	       "short ASCII subjects stay as they are");
	buf_free(&b);
	buf_init(&b, 4096);
	mail_encode_subject("Looks like =?UTF-8?B?xyz?= an encoded word", &b);
	ok(strncmp(b.data, "=?UTF-8?B?", 10) == 0, "an ASCII subject holding \"=?\" is encoded");
	buf_free(&b);
	buf_init(&b, 4096);
	mail_encode_subject(utf8, &b);
	for (char *line = b.data; line;) {
		char *eol = strstr(line, "\r\n");
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (line != b.data && line[0] != ' ')
			words_ok = false;
		if (len - (line != b.data) > 75)
			words_ok = false;
		line = eol ? eol + 2 : NULL;
	}
	ok(words_ok, "encoded words are at most 75 characters, folded with CRLF SP");
	decode_words(b.data, dec, sizeof(dec));
	is_str(dec, utf8, "the words decode to the subject (split between characters)");
	buf_free(&b);
}

static void test_qp(void)
{
	struct buf b;
	bool short_lines = true;
	char longline[400];

	buf_init(&b, 8192);
	mail_encode_qp("a=b caf\xc3\xa9 end \nnext\n", &b);
	is_str(b.data, "a=3Db caf=C3=A9 end=20\r\nnext\r\n",
	       "'=', non-ASCII and a trailing space are encoded; LF becomes CRLF");
	buf_free(&b);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	buf_init(&b, 8192);
	mail_encode_qp(longline, &b);
	for (char *line = b.data; line;) {
		char *eol = strstr(line, "\r\n");
		if ((eol ? (size_t)(eol - line) : strlen(line)) > 76)
			short_lines = false;
		line = eol ? eol + 2 : NULL;
	}
	ok(short_lines, "soft line breaks keep lines at 76 characters");
	ok(strstr(b.data, "=\r\n") != NULL, "with '=' at the end of a broken line");
	buf_free(&b);
}

static void test_build(void)
{
	struct mail_message m = {"Blog <comments@example.nl>",
				 "reader@example.org",
				 "Nieuwe reactie op je reactie op /post",
				 "commentd.7.s3@comments.example.nl",
				 1796036567,
				 "https://comments.example.nl/api/v1/notify/unsubscribe?t=abc",
				 "Hallo,\n\n> citaat\n"};
	char *msg = NULL, *h;
	size_t len = 0;

	is_int(mail_build(&m, &msg, &len), 0, "a message is built");
	ok(msg && strlen(msg) == len, "its length is returned");
	is_str(header(msg, "Date"), "Mon, 30 Nov 2026 11:02:47 +0000", "Date in RFC 5322 form");
	is_str(header(msg, "From"), "Blog <comments@example.nl>", "From");
	is_str(header(msg, "To"), "reader@example.org", "To");
	is_str(header(msg, "Message-ID"), "<commentd.7.s3@comments.example.nl>", "Message-ID");
	is_str(header(msg, "MIME-Version"), "1.0", "MIME-Version");
	is_str(header(msg, "Content-Type"), "text/plain; charset=utf-8", "text/plain UTF-8");
	is_str(header(msg, "Content-Transfer-Encoding"), "quoted-printable", "quoted-printable");
	is_str(header(msg, "List-Unsubscribe"),
	       "<https://comments.example.nl/api/v1/notify/unsubscribe?t=abc>", "List-Unsubscribe");
	is_str(header(msg, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click",
	       "List-Unsubscribe-Post (RFC 8058)");
	h = strstr(msg, "\r\n\r\n");
	is_str(h ? h + 4 : NULL, "Hallo,\r\n\r\n> citaat\r\n", "the body after an empty line");
	ok(!strstr(msg, "\n") || !strstr(msg, "\r\r"), "no bare line ends");
	free(msg);
	m.unsubscribe = NULL;
	msg = NULL;
	mail_build(&m, &msg, &len);
	ok(msg && !header(msg, "List-Unsubscribe"), "no List-Unsubscribe without a link");
	free(msg);
	m.subject = "Hi\r\nBcc: victim@example.org";
	is_int(mail_build(&m, &msg, &len), MAIL_INVALID, "a line break in the subject is refused");
	m.subject = "ok";
	m.to = "a@example.org\r\nBcc: b@example.org";
	is_int(mail_build(&m, &msg, &len), MAIL_INVALID, "and in To");
	m.to = "a@example.org";
	m.body = "bad \xff utf-8";
	is_int(mail_build(&m, &msg, &len), MAIL_INVALID, "an invalid UTF-8 body is refused");
}

static void test_addresses_and_send(void)
{
	char a[64], err[MAIL_ERR_MAX];
	const char *rcpt[] = {"reader@example.org"};
	struct mail_server s = {"smtp://127.0.0.1:1", NULL, "Blog <comments@example.nl>", NULL};

	is_int(mail_address("Blog <comments@example.nl>", a, sizeof(a)), 0, "name and address");
	is_str(a, "comments@example.nl", "the bare address");
	is_int(mail_address("comments@example.nl", a, sizeof(a)), 0, "a bare address");
	is_int(mail_address("Blog <no-at>", a, sizeof(a)), MAIL_INVALID, "no @: refused");
	is_int(mail_address("Blog <a b@c>", a, sizeof(a)), MAIL_INVALID, "spaces: refused");
	is_int(mail_send(&s, rcpt, 1, "x\r\n", 3, err), MAIL_RETRY,
	       "a server that does not answer means: try again later");
	ok(err[0] && !strstr(err, "reader@"), "with a reason that names no address (%s)", err);
}

int main(void)
{
	test_subjects();
	test_qp();
	test_build();
	test_addresses_and_send();
	return done_testing();
}
