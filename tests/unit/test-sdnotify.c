/* Unit tests for lib/sdnotify: readiness messages to a real datagram socket
 * (path and abstract forms) and the socket-activation environment. */
#include "fixture.h"
#include "tap.h"

#include "sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct fixture fx;

/* Binds a datagram socket; name starting with '@' is abstract.  Returns the
 * fd or -1. */
static int listen_dgram(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
			     (name[0] == '@' ? 0 : 1))) < 0) {
		diag("bind %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Receives one datagram without blocking forever. */
static const char *recv_msg(int fd)
{
	static char buf[512];
	ssize_t n;
	struct timeval tv = {.tv_sec = 2};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void test_notify(void)
{
	char path[200], abstract[120];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(sdnotify("READY=1"), 0, "no NOTIFY_SOCKET: 0, nothing sent");
	setenv("NOTIFY_SOCKET", "", 1);
	is_int(sdnotify("READY=1"), 0, "an empty NOTIFY_SOCKET: 0");

	/* A filesystem socket. */
	snprintf(path, sizeof(path), "%s/notify", fx.dir);
	fd = listen_dgram(path);
	ok(fd >= 0, "bound %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sdnotify("READY=1"), 0, "sdnotify to a path socket");
	is_str(recv_msg(fd), "READY=1", "the datagram arrived intact");
	is_int(sdnotify("STATUS=serving 3 threads\nMAINPID=1"), 0, "a multi-line state");
	is_str(recv_msg(fd), "STATUS=serving 3 threads\nMAINPID=1", "arrived intact");
	is_int(sdnotify("STOPPING=1"), 0, "another message");
	is_str(recv_msg(fd), "STOPPING=1", "one datagram per call");
	close(fd);
	unlink(path);
	is_int(sdnotify("READY=1"), -ENOENT, "a vanished socket gives -ENOENT");

	/* An abstract socket; the length must be exact (no trailing NULs). */
	snprintf(abstract, sizeof(abstract), "@commentd-test-%ld", (long)getpid());
	fd = listen_dgram(abstract);
	ok(fd >= 0, "bound abstract %s", abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	is_int(sdnotify("READY=1"), 0, "sdnotify to an abstract socket");
	is_str(recv_msg(fd), "READY=1", "the datagram arrived");
	close(fd);
	ok(sdnotify("READY=1") < 0, "a closed abstract socket fails (%d)", sdnotify("READY=1"));

	/* Refused addresses. */
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	is_int(sdnotify("READY=1"), -EINVAL, "a relative path is -EINVAL");
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	is_int(sdnotify("READY=1"), -EINVAL, "an unsupported form is -EINVAL");
	{
		char longp[200];
		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		setenv("NOTIFY_SOCKET", longp, 1);
		is_int(sdnotify("READY=1"), -EINVAL, "a path longer than sun_path is -EINVAL");
		longp[108] = '\0'; /* exactly sizeof(sun_path) */
		setenv("NOTIFY_SOCKET", longp, 1);
		is_int(sdnotify("READY=1"), -EINVAL, "a path of sizeof(sun_path) is -EINVAL");
	}
	unsetenv("NOTIFY_SOCKET");
}

static void set_listen_env(const char *pid, const char *fds)
{
	if (pid)
		setenv("LISTEN_PID", pid, 1);
	else
		unsetenv("LISTEN_PID");
	if (fds)
		setenv("LISTEN_FDS", fds, 1);
	else
		unsetenv("LISTEN_FDS");
	setenv("LISTEN_FDNAMES", "http", 1);
}

static bool env_clear(void)
{
	return !getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES");
}

static void test_listen(void)
{
	char me[32], other[32];
	int saved3, sock, fd, flags;

	snprintf(me, sizeof(me), "%ld", (long)getpid());
	snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);

	/* Keep whatever fd 3 is (the test runner may use it) and restore it. */
	saved3 = fcntl(3, F_GETFD) >= 0 ? fcntl(3, F_DUPFD_CLOEXEC, 10) : -1;
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || (sock != 3 && dup2(sock, 3) < 0)) {
		ok(0, "cannot prepare fd 3");
		return;
	}
	if (sock != 3)
		close(sock);
	fcntl(3, F_SETFD, 0);

	set_listen_env(me, "1");
	fd = sdnotify_listen_fd();
	is_int(fd, 3, "LISTEN_PID = us, LISTEN_FDS = 1: fd 3");
	flags = fcntl(3, F_GETFD);
	ok(flags >= 0 && (flags & FD_CLOEXEC), "fd 3 is now close-on-exec");
	ok(env_clear(), "LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES are unset");
	is_int(sdnotify_listen_fd(), -1, "a second call finds nothing (variables gone)");

	fcntl(3, F_SETFD, 0);
	set_listen_env(me, "2");
	is_int(sdnotify_listen_fd(), 3, "LISTEN_FDS = 2: the first, fd 3");

	static const struct {
		bool mine;
		const char *pid, *fds, *what;
	} none[] = {
	    {false, "", "1", "another process's sockets"},
	    {true, NULL, "1", "no LISTEN_FDS... no LISTEN_PID"},
	    {true, "", NULL, "no LISTEN_FDS"},
	    {true, "", "0", "LISTEN_FDS = 0"},
	    {true, "", "-1", "LISTEN_FDS = -1"},
	    {true, "", "1x", "LISTEN_FDS = 1x"},
	    {true, "", "", "LISTEN_FDS empty"},
	    {false, "12x", "1", "LISTEN_PID = 12x"},
	    {false, "", "1", "LISTEN_PID empty"},
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++) {
		const char *pid = none[i].pid;
		if (pid && !*pid && none[i].mine)
			pid = me;
		else if (pid && !*pid && i == 0)
			pid = other;
		fcntl(3, F_SETFD, 0);
		set_listen_env(pid, none[i].fds);
		is_int(sdnotify_listen_fd(), -1, "%s: -1", none[i].what);
		ok(env_clear(), "%s: variables unset", none[i].what);
		ok(fcntl(3, F_GETFD) == 0, "%s: fd 3 untouched", none[i].what);
	}
	{
		char prefixed[40];
		snprintf(prefixed, sizeof(prefixed), "%s ", me);
		set_listen_env(prefixed, "1");
		is_int(sdnotify_listen_fd(), -1, "LISTEN_PID with a trailing space: -1");
	}

	/* The variables point at us but fd 3 is closed. */
	close(3);
	set_listen_env(me, "1");
	is_int(sdnotify_listen_fd(), -1, "fd 3 not open: -1");
	ok(env_clear(), "variables unset");

	if (saved3 >= 0) {
		dup2(saved3, 3);
		close(saved3);
	}
}

int main(void)
{
	if (fixture_tmpdir(&fx, "sdnotify") != 0)
		return 1;
	test_notify();
	test_listen();
	fixture_close(&fx);
	return done_testing();
}
