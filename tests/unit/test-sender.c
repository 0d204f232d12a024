/* Unit tests for lib/sender: deliveries run in a child (this program run
 * as `test-sender --send`, as the daemon runs itself), the child's answer
 * (sent, retry, refused, with libcurl's reason) comes back to the outbox;
 * a child that cannot start, dies or says nothing is a retry; a stopping
 * daemon kills it; malformed or oversized requests are refused. */
#include "tap.h"

#include "sender.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct outbox_site site(const char *smtp_from)
{
	struct outbox_site s = {0};

	s.smtp_url = "smtp://127.0.0.1:1";
	s.smtp_from = smtp_from;
	s.smtp_password = "pa55word";
	s.webhook_url = "http://127.0.0.1:1/hook";
	s.webhook_secret = "secret-0123456789";
	return s;
}

static int send_mail(const char *program, const atomic_bool *cancel, const char *from,
		     char err[OUTBOX_ERR_MAX])
{
	struct sender snd = {program, cancel};
	struct outbox_transport t = sender_transport(&snd);
	struct outbox_site s = site(from);
	const char *rcpt[] = {"mod@example.org"};
	const char *msg = "Subject: hi\r\n\r\nbody\r\n";

	return t.mail(t.u, &s, rcpt, 1, msg, strlen(msg), err);
}

static void child_answers(const char *self)
{
	struct sender snd = {self, NULL};
	struct outbox_transport t = sender_transport(&snd);
	struct outbox_site s = site("Blog <blog@example.org>");
	char err[OUTBOX_ERR_MAX];

	is_int(send_mail(self, NULL, "Blog <blog@example.org>", err), 2,
	       "a mail to a closed port: retry, from the child");
	ok(err[0] && !strstr(err, "mod@example.org"), "with libcurl's reason, no address: %s", err);
	is_int(send_mail(self, NULL, "no address here", err), 3,
	       "a sender without an address: refused, as mail_send says");
	is_str(err, "smtp_from has no address", "its reason comes back whole");
	is_int(t.webhook(t.u, &s, "held", 7, 1700000000, "{}", err), 2,
	       "a webhook to a closed port: retry");
	ok(err[0] != '\0', "with a reason: %s", err);
}

static void child_failures(const char *self)
{
	atomic_bool stop = true;
	char err[OUTBOX_ERR_MAX];

	is_int(send_mail("/nonexistent/commentd", NULL, "b@example.org", err), 2,
	       "a program that cannot start: retry");
	ok(strstr(err, "cannot start") != NULL, "saying so: %s", err);
	is_int(send_mail("/bin/true", NULL, "b@example.org", err), 2,
	       "a child that answers nothing: retry");
	ok(strstr(err, "exit 0") != NULL, "saying how it ended: %s", err);
	is_int(send_mail(self, &stop, "b@example.org", err), 2, "a stopping daemon: retry");
	ok(strstr(err, "stopping") != NULL, "saying so: %s", err);
}

static void oversized(const char *self)
{
	struct sender snd = {self, NULL};
	struct outbox_transport t = sender_transport(&snd);
	struct outbox_site s = site("b@example.org");
	const char *rcpt[] = {"mod@example.org"};
	size_t len = SENDER_FIELD_MAX + 1;
	char *big = calloc(1, len), err[OUTBOX_ERR_MAX];

	if (!ok(big != NULL, "memory for a message over the cap"))
		return;
	memset(big, 'a', len);
	is_int(t.mail(t.u, &s, rcpt, 1, big, len, err), 3, "a message over the cap: refused");
	free(big);
}

/* sender_serve on a request written into a pipe; its answer's length. */
static int serve(const char *req, size_t len, int *rc)
{
	int in[2], out[2];
	char ans[256];
	ssize_t n;

	*rc = -1;
	if (pipe(in) || pipe(out))
		return -1;
	if (write(in[1], req, len) != (ssize_t)len)
		return -1;
	close(in[1]);
	*rc = sender_serve(in[0], out[1]);
	close(in[0]);
	close(out[1]);
	n = read(out[0], ans, sizeof(ans));
	close(out[0]);
	return (int)n;
}

static void malformed(void)
{
	static const struct {
		const char *req, *what;
	} bad[] = {
	    {"", "nothing"},
	    {"4:mail", "a field without its comma"},
	    {"9:mail,", "a length past the end"},
	    {"x:mail,", "a length that is not a number"},
	    {"99999999999:a,", "a length over the cap"},
	    {"4:fax!,", "an unknown kind"},
	    {"4:mail,3:url,0:,6:a@b.cd,2:65,", "more recipients than allowed"},
	    {"7:webhook,3:url,1:s,4:held,2:-1,1:0,2:{},", "a negative event id"},
	};
	int rc = -1, n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = serve(bad[i].req, strlen(bad[i].req), &rc);
		ok(rc > 0 && n == 0, "malformed (%s): refused, no answer (rc %d, %d bytes)",
		   bad[i].what, rc, n);
	}
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;

	if (argc == 2 && strcmp(argv[1], "--send") == 0)
		return sodium_init() < 0 || sender_serve(0, 1) != 0;
	if (sodium_init() < 0)
		return 1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	child_answers(self);
	child_failures(self);
	oversized(self);
	malformed();
	return done_testing();
}
