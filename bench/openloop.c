/* openloop: an open-loop HTTP load generator for bench/scale.py.
 *
 * Each kind of request is sent at its own constant rate on schedule,
 * whether or not earlier answers came back: request i of a kind is due at
 * start + i / rate.  A due request goes out on an idle keep-alive
 * connection of its kind, on a new one (up to --connections per kind), or
 * waits in the kind's backlog for the first connection to come free.  Its
 * latency is counted from the time it was due, not from when it went out,
 * so a slow server cannot hide its tail by slowing the client down
 * (coordinated omission, as wrk2 corrects for it).
 *
 * usage: openloop --port PORT --seconds S --kind NAME:RATE:FILE [--kind ...]
 *                 [--connections N] [--drain S]
 *
 * FILE holds raw HTTP/1.1 requests separated by NUL bytes, used in turn;
 * "{{SEQ}}" in a request becomes a 10-digit sequence number (write the
 * Content-Length for ten digits).  Answers need a Content-Length (commentd
 * always sends one).  Prints one line per kind:
 *   OPENLOOP {"kind": ..., "rate": ..., "sent": ..., "done": ..., "non2xx": ...,
 *             "errors": ..., "late": ..., "backlog_max": ..., "connections": ...,
 *             "p50_ms": ..., "p90_ms": ..., "p99_ms": ..., "p999_ms": ..., "max_ms": ...}
 * "late" counts requests that went out more than 1 ms after they were due
 * (the client's own delay, a busy machine's or a full connection pool's).
 * A connection idle for IDLE_MAX_NS is closed rather than reused, as a
 * proxy does with a keepalive_timeout below the server's: commentd closes
 * a keep-alive connection that sends no request for header_timeout (10 s),
 * and a request sent just as it closes would count as an error that no
 * deployment following docs/scale.md sees.
 * Only libc; Linux (epoll).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS   8
#define READ_MAX    (8 << 20) /* the largest answer we buffer */
#define N_BUCKETS   600
#define SEQ_MARK    "{{SEQ}}"
#define SEQ_DIGITS  10
#define LATE_NS	    1000000LL
#define BACKLOG_MAX (1 << 20)
#define IDLE_MAX_NS (5 * 1000000000LL)

struct template
{
	const char *data;
	size_t len;
	long seq_at; /* offset of SEQ_MARK, or -1 */
};

struct kind;

struct conn {
	int fd;
	struct kind *k;
	int busy;      /* a request is in flight (or waiting to be written) */
	int connected; /* the non-blocking connect finished */
	int64_t due;   /* the in-flight request's scheduled time */
	int64_t idle;  /* when the last answer came (idle since) */
	char *out;     /* bytes still to write */
	size_t out_len, out_off;
	char *in; /* bytes read of the answer */
	size_t in_len, in_cap;
};

struct kind {
	char name[32];
	double rate;
	struct template *t;
	size_t n_t, next_t;
	uint64_t index; /* requests scheduled so far */
	struct conn *conns;
	size_t n_conns;
	int64_t *backlog; /* scheduled times waiting for a connection (ring) */
	size_t bl_head, bl_len, bl_max;
	uint64_t sent, done, non2xx, errors, late;
	uint64_t hist[N_BUCKETS];
	int64_t max_ns;
};

static struct kind kinds[MAX_KINDS];
static size_t n_kinds;
static int ep;
static struct sockaddr_in addr;
static size_t max_conns = 256;
static uint64_t seq;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "openloop: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Log-linear buckets over microseconds: 10 us steps below 1 ms, 100 us
 * below 10 ms, 1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s. */
static size_t bucket_of(int64_t ns)
{
	int64_t us = ns / 1000;

	if (us < 0)
		us = 0;
	if (us < 1000)
		return (size_t)(us / 10);
	if (us < 10000)
		return 100 + (size_t)((us - 1000) / 100);
	if (us < 100000)
		return 190 + (size_t)((us - 10000) / 1000);
	if (us < 1000000)
		return 280 + (size_t)((us - 100000) / 10000);
	if (us < 10000000)
		return 370 + (size_t)((us - 1000000) / 100000);
	return N_BUCKETS - 1;
}

/* The upper bound of a bucket, in milliseconds. */
static double bucket_ms(size_t b)
{
	if (b < 100)
		return (double)(b + 1) * 0.01;
	if (b < 190)
		return 1.0 + (double)(b - 100 + 1) * 0.1;
	if (b < 280)
		return 10.0 + (double)(b - 190 + 1);
	if (b < 370)
		return 100.0 + (double)(b - 280 + 1) * 10.0;
	if (b < 460)
		return 1000.0 + (double)(b - 370 + 1) * 100.0;
	return 1e9;
}

static double percentile(const struct kind *k, double p)
{
	uint64_t want = (uint64_t)((double)k->done * p / 100.0), seen = 0;

	if (k->done == 0)
		return 0.0;
	for (size_t b = 0; b < N_BUCKETS; b++) {
		seen += k->hist[b];
		if (seen > want) /* the last bucket is open-ended: say the worst */
			return b == N_BUCKETS - 1 ? (double)k->max_ns / 1e6 : bucket_ms(b);
	}
	return bucket_ms(N_BUCKETS - 1);
}

static void load_templates(struct kind *k, const char *path)
{
	struct stat st;
	char *data;
	size_t start = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	data = malloc((size_t)st.st_size + 1);
	if (!data || read(fd, data, (size_t)st.st_size) != st.st_size)
		die(path);
	close(fd);
	data[st.st_size] = '\0';
	for (size_t i = 0; i <= (size_t)st.st_size; i++) {
		if (i < (size_t)st.st_size && data[i] != '\0')
			continue;
		if (i > start) {
			struct template *t = realloc(k->t, (k->n_t + 1) * sizeof(*t));
			char *mark;
			if (!t)
				die("realloc");
			k->t = t;
			t = &k->t[k->n_t++];
			t->data = data + start;
			t->len = i - start;
			mark = strstr(data + start, SEQ_MARK);
			t->seq_at = mark && mark < data + i ? mark - (data + start) : -1;
		}
		start = i + 1;
	}
	if (k->n_t == 0) {
		fprintf(stderr, "openloop: %s holds no request\n", path);
		exit(2);
	}
}

static void parse_kind(const char *spec)
{
	struct kind *k;
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (n_kinds == MAX_KINDS || !c1 || !c2 || (size_t)(c1 - spec) >= sizeof(k->name)) {
		fprintf(stderr, "openloop: --kind NAME:RATE:FILE (at most %d)\n", MAX_KINDS);
		exit(2);
	}
	k = &kinds[n_kinds++];
	memcpy(k->name, spec, (size_t)(c1 - spec));
	k->rate = strtod(c1 + 1, NULL);
	if (k->rate <= 0) {
		fprintf(stderr, "openloop: the rate of %s must be positive\n", k->name);
		exit(2);
	}
	load_templates(k, c2 + 1);
	k->backlog = calloc(BACKLOG_MAX, sizeof(*k->backlog));
	k->conns = calloc(max_conns, sizeof(*k->conns));
	if (!k->backlog || !k->conns)
		die("calloc");
}

static void conn_close(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c->in);
	*c = (struct conn){.fd = -1, .k = c->k};
}

static struct conn *conn_open(struct kind *k)
{
	struct conn *c = NULL;
	struct epoll_event ev;
	int one = 1;

	for (size_t i = 0; i < k->n_conns; i++) {
		if (k->conns[i].fd < 0) {
			c = &k->conns[i];
			break;
		}
	}
	if (!c) {
		if (k->n_conns == max_conns)
			return NULL;
		c = &k->conns[k->n_conns++];
	}
	*c = (struct conn){.k = k};
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS)
		die("connect");
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	return c;
}

/* Writes what is pending; 0, or -1 when the connection failed. */
static int conn_flush(struct conn *c)
{
	while (c->connected && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)n;
	}
	return 0;
}

static void start_request(struct conn *c, int64_t due)
{
	struct kind *k = c->k;
	const struct template *t = &k->t[k->next_t++ % k->n_t];
	size_t len = t->len;

	if (t->seq_at >= 0)
		len = t->len - strlen(SEQ_MARK) + SEQ_DIGITS;
	free(c->out);
	c->out = malloc(len);
	if (!c->out)
		die("malloc");
	if (t->seq_at >= 0) {
		char digits[SEQ_DIGITS + 1];
		snprintf(digits, sizeof(digits), "%010llu",
			 (unsigned long long)(seq++ % 10000000000ULL));
		memcpy(c->out, t->data, (size_t)t->seq_at);
		memcpy(c->out + t->seq_at, digits, SEQ_DIGITS);
		memcpy(c->out + t->seq_at + SEQ_DIGITS, t->data + t->seq_at + strlen(SEQ_MARK),
		       t->len - (size_t)t->seq_at - strlen(SEQ_MARK));
	} else {
		memcpy(c->out, t->data, len);
	}
	c->out_len = len;
	c->out_off = 0;
	c->in_len = 0;
	c->busy = 1;
	c->due = due;
	k->sent++;
	if (now_ns() - due > LATE_NS)
		k->late++;
	if (conn_flush(c) < 0) {
		k->errors++;
		conn_close(c);
	}
}

/* A request of kind k is due: send it, or queue it. */
static void schedule(struct kind *k, int64_t due)
{
	struct conn *c = NULL;
	int64_t now = now_ns();

	for (size_t i = 0; i < k->n_conns; i++) {
		struct conn *o = &k->conns[i];
		if (o->fd >= 0 && !o->busy && o->connected && o->idle &&
		    now - o->idle > IDLE_MAX_NS)
			conn_close(o);
		if (o->fd >= 0 && !o->busy) {
			c = o;
			break;
		}
	}
	if (!c)
		c = conn_open(k);
	if (c) {
		start_request(c, due);
		return;
	}
	if (k->bl_len == BACKLOG_MAX) {
		k->errors++; /* dropped: counted as an error */
		return;
	}
	k->backlog[(k->bl_head + k->bl_len++) % BACKLOG_MAX] = due;
	if (k->bl_len > k->bl_max)
		k->bl_max = k->bl_len;
}

/* The connection is free: take the oldest waiting request. */
static void next_from_backlog(struct conn *c)
{
	struct kind *k = c->k;
	int64_t due;

	if (!k->bl_len)
		return;
	due = k->backlog[k->bl_head];
	k->bl_head = (k->bl_head + 1) % BACKLOG_MAX;
	k->bl_len--;
	start_request(c, due);
}

static void finish(struct conn *c, int status)
{
	struct kind *k = c->k;
	int64_t lat = now_ns() - c->due;

	k->done++;
	if (status < 200 || status > 399)
		k->non2xx++;
	k->hist[bucket_of(lat)]++;
	if (lat > k->max_ns)
		k->max_ns = lat;
	c->busy = 0;
	c->idle = now_ns();
}

/* Checks whether the buffered bytes hold a whole answer: 1 (its status in
 * *status, its length in *total), 0 not yet, -1 malformed. */
static int answer_complete(const struct conn *c, int *status, size_t *total, size_t *head_len)
{
	const char *end, *cl;
	size_t head;

	if (c->in_len < 12)
		return 0;
	end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	head = (size_t)(end - c->in) + 4;
	*head_len = head;
	*status = (int)strtol(c->in + 9, NULL, 10);
	cl = memmem(c->in, head, "\r\nContent-Length:", 17);
	if (!cl)
		cl = memmem(c->in, head, "\r\ncontent-length:", 17);
	if (!cl) {
		if (*status == 304 || *status == 204) {
			*total = head;
			return 1;
		}
		return -1;
	}
	*total = head + strtoul(cl + 17, NULL, 10);
	return c->in_len >= *total ? 1 : 0;
}

static void on_readable(struct conn *c)
{
	int status;
	size_t total, head;

	for (;;) {
		ssize_t n;
		if (c->in_cap - c->in_len < 65536) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 131072;
			char *in = cap <= READ_MAX ? realloc(c->in, cap) : NULL;
			if (!in) {
				c->k->errors++;
				conn_close(c);
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			if (c->busy)
				c->k->errors++;
			conn_close(c);
			return;
		}
		if (n < 0)
			break;
		c->in_len += (size_t)n;
	}
	if (!c->busy)
		return;
	switch (answer_complete(c, &status, &total, &head)) {
	case 1:
		finish(c, status);
		if (memmem(c->in, head, "\r\nConnection: close", 19)) {
			conn_close(c);
			return;
		}
		next_from_backlog(c);
		break;
	case -1:
		c->k->errors++;
		conn_close(c);
		break;
	default:
		break;
	}
}

static void on_event(struct epoll_event *ev)
{
	struct conn *c = ev->data.ptr;

	if (c->fd < 0)
		return;
	if (!c->connected && (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			if (c->busy)
				c->k->errors++;
			conn_close(c);
			return;
		}
		c->connected = 1;
		if (!c->busy)
			next_from_backlog(c);
	}
	if ((ev->events & EPOLLOUT) && conn_flush(c) < 0) {
		c->k->errors++;
		conn_close(c);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		on_readable(c);
}

static uint64_t outstanding(void)
{
	uint64_t n = 0;

	for (size_t i = 0; i < n_kinds; i++)
		n += kinds[i].sent - kinds[i].done + kinds[i].bl_len;
	return n;
}

static void run(double seconds, double drain)
{
	struct epoll_event evs[256];
	int64_t start = now_ns() + 200000000LL, end = start + (int64_t)(seconds * 1e9);
	int64_t stop = end + (int64_t)(drain * 1e9);

	for (;;) {
		int64_t now = now_ns(), next = end;
		struct timespec ts;
		int n;

		for (size_t i = 0; i < n_kinds && now < end; i++) {
			struct kind *k = &kinds[i];
			for (;;) {
				int64_t due = start + (int64_t)((double)k->index * 1e9 / k->rate);
				if (due > now) {
					if (due < next)
						next = due;
					break;
				}
				if (due >= end)
					break;
				k->index++;
				schedule(k, due);
			}
		}
		if (now >= end && (outstanding() == 0 || now >= stop))
			break;
		if (now >= end)
			next = now + 10000000LL;
		ts.tv_sec = (next - now) / 1000000000LL;
		ts.tv_nsec = (next - now) % 1000000000LL;
		n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2");
		for (int i = 0; i < n; i++)
			on_event(&evs[i]);
	}
	for (size_t i = 0; i < n_kinds; i++)
		kinds[i].errors += kinds[i].sent - kinds[i].done + kinds[i].bl_len;
}

static void report(void)
{
	for (size_t i = 0; i < n_kinds; i++) {
		const struct kind *k = &kinds[i];

		printf(
		    "OPENLOOP {\"kind\": \"%s\", \"rate\": %.1f, \"sent\": %llu, \"done\": %llu, "
		    "\"non2xx\": %llu, \"errors\": %llu, \"late\": %llu, \"backlog_max\": %zu, "
		    "\"connections\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
		    "\"p999_ms\": %.3f, \"max_ms\": %.3f}\n",
		    k->name, k->rate, (unsigned long long)k->sent, (unsigned long long)k->done,
		    (unsigned long long)k->non2xx, (unsigned long long)k->errors,
		    (unsigned long long)k->late, k->bl_max, k->n_conns, percentile(k, 50),
		    percentile(k, 90), percentile(k, 99), percentile(k, 99.9),
		    (double)k->max_ns / 1e6);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: openloop --port PORT --seconds S --kind NAME:RATE:FILE "
			"[--kind ...] [--connections N] [--drain S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double seconds = 0, drain = 10;
	long port = 0;
	char **specs = calloc((size_t)argc, sizeof(*specs));
	size_t n_specs = 0;

	if (!specs)
		die("calloc");
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--port") == 0)
			port = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--drain") == 0)
			drain = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--connections") == 0)
			max_conns = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--kind") == 0)
			specs[n_specs++] = argv[++i];
		else
			usage();
	}
	if (port <= 0 || port > 65535 || seconds <= 0 || n_specs == 0 || max_conns == 0)
		usage();
	for (size_t i = 0; i < n_specs; i++)
		parse_kind(specs[i]);
	free(specs);
	signal(SIGPIPE, SIG_IGN);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (size_t i = 0; i < n_kinds; i++) /* a few warm connections */
		for (int j = 0; j < 4; j++)
			conn_open(&kinds[i]);
	run(seconds, drain);
	report();
	return 0;
}
