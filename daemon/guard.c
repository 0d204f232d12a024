/* guard: who may hold a connection (lib/connlimit.h) glued to
 * libmicrohttpd: the accept policy, the connection notifications, and a
 * watchman thread that cuts off connections whose request headers are late
 * (MHD's own timeout only notices idle ones, not a client trickling a byte
 * every few seconds). */
#include "server.h"

#include "connlimit.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define WATCH_INTERVAL_MS 250

struct guard {
	struct connlimit *limit;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

unsigned guard_mhd_limit(const struct config *cfg)
{
	/* MHD splits its limit between its worker threads and refuses before
	 * asking the accept policy: give every worker room for all, and let
	 * the policy keep the real count. */
	unsigned long n = (unsigned long)cfg->connections * (cfg->threads ? cfg->threads : 1);

	return n > 65536 ? 65536 : (unsigned)n;
}

/* Closes a connection chosen by lib/connlimit.  Runs under connlimit's
 * lock, and MHD tells connlimit of a close (guard_notify) before it closes
 * the socket, so the descriptor still belongs to that connection. */
static void cut_off(void *cookie, void *u)
{
	(void)u;
	shutdown((int)(intptr_t)cookie, SHUT_RDWR);
}

/* The client key and whether the peer is a trusted proxy. */
static uint64_t peer_key(struct server *s, const struct sockaddr *addr, bool *exempt)
{
	struct net_addr peer = {0};
	struct snapshot *snap = snapshot_ref(s);

	net_from_sockaddr(addr, &peer);
	*exempt = net_cidrs_contains(snap->proxies, &peer);
	snapshot_unref(snap);
	return server_client_key(s, &peer);
}

enum MHD_Result guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct server *s = cls;
	bool exempt;
	uint64_t key;

	(void)addrlen;
	if (!s->guard)
		return MHD_YES;
	key = peer_key(s, addr, &exempt);
	if (connlimit_admit(s->guard->limit, key, exempt, cut_off, NULL))
		return MHD_YES;
	log_debug("http: connection refused: the client's connections are all busy");
	return MHD_NO;
}

void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct connlimit_slot *slot;
	bool exempt = false;
	uint64_t key = 0;
	int fd;

	if (!s->guard)
		return;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		connlimit_close(s->guard->limit, *socket_context);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	fd = ci->connect_fd;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr)
		key = peer_key(s, ci->client_addr, &exempt);
	slot =
	    connlimit_open(s->guard->limit, key, exempt, monotonic_seconds(), (void *)(intptr_t)fd);
	if (!slot)
		shutdown(fd, SHUT_RDWR); /* no room to watch it: no room for it */
	connlimit_enforce(s->guard->limit, slot, cut_off, NULL);
	*socket_context = slot;
}

static struct connlimit_slot *slot_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void guard_busy(struct server *s, struct MHD_Connection *conn)
{
	if (s->guard)
		connlimit_busy(s->guard->limit, slot_of(conn));
}

void guard_idle(struct server *s, struct MHD_Connection *conn)
{
	if (s->guard)
		connlimit_idle(s->guard->limit, slot_of(conn), monotonic_seconds());
}

void guard_configure(struct server *s, const struct config *cfg)
{
	if (s->guard)
		connlimit_configure(s->guard->limit, cfg->connections, cfg->connections_per_client,
				    (double)cfg->header_timeout);
}

static bool stopping(struct guard *g, unsigned ms)
{
	struct timespec deadline;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += (long)ms * 1000000L;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&g->lock);
	while (!g->stopping && pthread_cond_timedwait(&g->wake, &g->lock, &deadline) != ETIMEDOUT)
		;
	stop = g->stopping;
	pthread_mutex_unlock(&g->lock);
	return stop;
}

static void *watch(void *arg)
{
	struct server *s = arg;
	struct guard *g = s->guard;

	while (!stopping(g, WATCH_INTERVAL_MS)) {
		unsigned n = connlimit_expire(g->limit, monotonic_seconds(), cut_off, NULL);
		if (n)
			log_info("http: cut off %u connection%s: request headers not sent within "
				 "header_timeout",
				 n, n == 1 ? "" : "s");
	}
	return NULL;
}

int guard_start(struct server *s)
{
	const struct config *cfg = s->snap->cfg;
	struct guard *g = calloc(1, sizeof(*g));
	pthread_condattr_t attr;
	sigset_t all, old;
	int r;

	if (!g)
		return -ENOMEM;
	r = connlimit_new(&g->limit, guard_mhd_limit(cfg), cfg->connections,
			  cfg->connections_per_client, (double)cfg->header_timeout);
	if (r < 0) {
		free(g);
		return r;
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &attr);
	pthread_condattr_destroy(&attr);
	s->guard = g;
	/* Signals go to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&g->thread, NULL, watch, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_err("http: cannot start the connection watchman: %s", strerror(r));
		s->guard = NULL;
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		connlimit_free(g->limit);
		free(g);
		return -r;
	}
	return 0;
}

void guard_stop(struct server *s)
{
	struct guard *g = s->guard;

	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	s->guard = NULL;
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	connlimit_free(g->limit);
	free(g);
}
