#include "sender.h"

#include "buf.h"
#include "mail.h"
#include "text.h"
#include "webhook.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SENDER_RCPT_MAX	   64
#define SENDER_REQUEST_MAX (SENDER_FIELD_MAX + (1u << 20))
#define SENDER_ANSWER_MAX  1024
#define SENDER_POLL_MS	   200

/* ---- netstrings ---- */

static int put_field(struct buf *b, const char *data, size_t len)
{
	if (len > SENDER_FIELD_MAX)
		return BUF_TOO_BIG;
	if (buf_printf(b, "%zu:", len) || buf_append(b, data, len) || buf_append(b, ",", 1))
		return BUF_TOO_BIG;
	return 0;
}

static int put_str(struct buf *b, const char *s)
{
	return put_field(b, s ? s : "", s ? strlen(s) : 0);
}

static int put_int(struct buf *b, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, v);
	return put_str(b, text);
}

/* Frees a request: it held a password or secret and perhaps a reader's
 * address (docs/notifications.md: wiped after the send). */
static void wipe_free(struct buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->alloc);
	buf_free(b);
}

/* A cursor over received bytes. */
struct reader {
	char *p, *end;
};

/* The next field, NUL-terminated in place (its comma becomes the NUL).
 * 0, or 1 when the input is not a netstring there. */
static int get_field(struct reader *r, const char **out, size_t *len)
{
	char *colon = memchr(r->p, ':', (size_t)(r->end - r->p));
	unsigned long long n;

	if (!colon || colon == r->p || colon - r->p > 10)
		return 1;
	*colon = '\0';
	if (text_parse_uint(r->p, SENDER_FIELD_MAX, &n) || (size_t)(r->end - colon - 1) < n + 1 ||
	    colon[1 + n] != ',')
		return 1;
	colon[1 + n] = '\0';
	*out = colon + 1;
	if (len)
		*len = (size_t)n;
	r->p = colon + 2 + n;
	return 0;
}

static int get_int(struct reader *r, unsigned long long max, unsigned long long *out)
{
	const char *s;

	return get_field(r, &s, NULL) || text_parse_uint(s, max, out);
}

/* ---- the child's side ---- */

static int read_all(int fd, struct buf *b)
{
	char chunk[65536];
	ssize_t n;

	int r = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if (buf_append(b, chunk, (size_t)n)) {
			r = 1;
			break;
		}
	}
	sodium_memzero(chunk, sizeof(chunk));
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int serve_mail(struct reader *r, char err[MAIL_ERR_MAX])
{
	const char *rcpt[SENDER_RCPT_MAX], *message;
	struct mail_server s = {0};
	unsigned long long n;
	size_t len;

	if (get_field(r, &s.url, NULL) || get_field(r, &s.password, NULL) ||
	    get_field(r, &s.from, NULL) || get_int(r, SENDER_RCPT_MAX, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (get_field(r, &rcpt[i], NULL))
			return -1;
	if (get_field(r, &message, &len))
		return -1;
	return mail_send(&s, rcpt, (size_t)n, message, len, err);
}

static int serve_webhook(struct reader *r, char err[WEBHOOK_ERR_MAX])
{
	const char *url, *secret, *type, *body;
	unsigned long long id, now;

	if (get_field(r, &url, NULL) || get_field(r, &secret, NULL) || get_field(r, &type, NULL) ||
	    get_int(r, INT64_MAX, &id) || get_int(r, INT64_MAX, &now) || get_field(r, &body, NULL))
		return -1;
	return webhook_post(url, secret, type, (int64_t)id, (int64_t)now, body, NULL, err);
}

int sender_serve(int in, int out)
{
	char err[MAIL_ERR_MAX > WEBHOOK_ERR_MAX ? MAIL_ERR_MAX : WEBHOOK_ERR_MAX] = "";
	struct buf req, ans;
	struct reader r;
	const char *kind;
	int result = -1, rc;

	buf_init(&req, SENDER_REQUEST_MAX);
	buf_init(&ans, SENDER_ANSWER_MAX);
	rc = read_all(in, &req);
	if (rc)
		goto out;
	r = (struct reader){req.data, req.data + req.len};
	rc = 1;
	if (!req.data || get_field(&r, &kind, NULL))
		goto out;
	if (strcmp(kind, "mail") == 0)
		result = serve_mail(&r, err);
	else if (strcmp(kind, "webhook") == 0)
		result = serve_webhook(&r, err);
	if (result < 0 && !err[0])
		goto out;
	/* MAIL_RETRY = WEBHOOK_RETRY, MAIL_REFUSED = WEBHOOK_REFUSED. */
	rc = put_int(&ans, result < 0 ? MAIL_RETRY : result) || put_str(&ans, err) ? -ENOMEM : 0;
	if (rc == 0)
		rc = write_all(out, ans.data, ans.len);
out:
	wipe_free(&req);
	buf_free(&ans);
	return rc;
}

/* ---- the daemon's side ---- */

/* Starts s->program --send with pipes on its standard input and output. */
static int spawn(const struct sender *s, pid_t *pid, int *to_child, int *from_child)
{
	char *argv[] = {(char *)s->program, (char *)"--send", NULL};
	int in[2] = {-1, -1}, out[2] = {-1, -1}, r = -EIO;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		goto fail;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	/* Not the daemon's sockets or database: only the two pipes. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* The daemon's environment: a proxy set for it (https_proxy) applies
	 * to its sends. */
	r = -posix_spawn(pid, s->program, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r)
		goto fail;
	close(in[0]);
	close(out[1]);
	*to_child = in[1];
	*from_child = out[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return r;
}

/* Reads the child's answer until it closes its end, or until *cancel. */
static int read_answer(const struct sender *s, int fd, struct buf *ans)
{
	struct pollfd p = {fd, POLLIN, 0};
	char chunk[512];
	ssize_t n;

	for (;;) {
		if (s->cancel && atomic_load(s->cancel))
			return 1;
		if (poll(&p, 1, SENDER_POLL_MS) == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 || buf_append(ans, chunk, (size_t)n))
			return -EIO;
	}
}

/* The answer's code and reason; 2 (retry) with a reason when there is none. */
static int parse_answer(struct buf *ans, int status, char err[OUTBOX_ERR_MAX])
{
	struct reader r = {ans->data, ans->data + ans->len};
	unsigned long long code;
	const char *why;

	if (ans->data && get_int(&r, 3, &code) == 0 && get_field(&r, &why, NULL) == 0) {
		snprintf(err, OUTBOX_ERR_MAX, "%s", why);
		return (int)code;
	}
	if (WIFSIGNALED(status))
		snprintf(err, OUTBOX_ERR_MAX, "the sender process died (signal %d)",
			 WTERMSIG(status));
	else
		snprintf(err, OUTBOX_ERR_MAX, "the sender process failed (exit %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 2;
}

/* Runs one request through a child.  0, 2 (retry) or 3 (refused), with the
 * reason in err. */
static int run(const struct sender *s, struct buf *req, char err[OUTBOX_ERR_MAX])
{
	int to_child, from_child, status = 0, r;
	struct buf ans;
	pid_t pid;

	err[0] = '\0';
	r = spawn(s, &pid, &to_child, &from_child);
	if (r) {
		snprintf(err, OUTBOX_ERR_MAX, "cannot start the sender process: %s", strerror(-r));
		return 2;
	}
	/* The daemon ignores SIGPIPE: a child gone early is an EPIPE here. */
	write_all(to_child, req->data, req->len);
	close(to_child);
	buf_init(&ans, SENDER_ANSWER_MAX);
	r = read_answer(s, from_child, &ans);
	close(from_child);
	if (r == 1)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 1)
		snprintf(err, OUTBOX_ERR_MAX, "stopped: the daemon is stopping");
	r = r == 1 ? 2 : parse_answer(&ans, status, err);
	buf_free(&ans);
	return r;
}

static int sender_mail(void *u, const struct outbox_site *site, const char *const *rcpt, size_t n,
		       const char *message, size_t len, char err[OUTBOX_ERR_MAX])
{
	struct buf req;
	int bad, r;

	if (n > SENDER_RCPT_MAX) {
		snprintf(err, OUTBOX_ERR_MAX, "more than %d recipients", SENDER_RCPT_MAX);
		return 3;
	}
	buf_init(&req, SENDER_REQUEST_MAX);
	bad = put_str(&req, "mail") || put_str(&req, site->smtp_url) ||
	      put_str(&req, site->smtp_password) || put_str(&req, site->smtp_from) ||
	      put_int(&req, (int64_t)n);
	for (size_t i = 0; !bad && i < n; i++)
		bad = put_str(&req, rcpt[i]);
	bad = bad || put_field(&req, message, len);
	if (bad)
		snprintf(err, OUTBOX_ERR_MAX, "the message is too large");
	r = bad ? 3 : run(u, &req, err);
	wipe_free(&req);
	return r;
}

static int sender_webhook(void *u, const struct outbox_site *site, const char *type,
			  int64_t event_id, int64_t now, const char *body, char err[OUTBOX_ERR_MAX])
{
	struct buf req;
	int r;

	buf_init(&req, SENDER_REQUEST_MAX);
	if (put_str(&req, "webhook") || put_str(&req, site->webhook_url) ||
	    put_str(&req, site->webhook_secret) || put_str(&req, type) || put_int(&req, event_id) ||
	    put_int(&req, now) || put_str(&req, body)) {
		snprintf(err, OUTBOX_ERR_MAX, "the event is too large");
		r = 3;
	} else {
		r = run(u, &req, err);
	}
	wipe_free(&req);
	return r;
}

struct outbox_transport sender_transport(struct sender *s)
{
	return (struct outbox_transport){sender_mail, sender_webhook, s};
}
