#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: Debian's postgresql-15, started
in a temporary directory on a loopback port and stopped again.

As a module: `with PgServer() as pg: pg.new_database("x")` gives a libpq URI.
As a program: `pgserver.py run -- CMD ARGS...` starts a server, runs CMD
with COMMENTD_TEST_PG set to a fresh database's URI, stops the server and
exits with CMD's status.  Without PostgreSQL it prints a TAP skip (exit 0),
or fails when CI is set (a missing test dependency is a failure there).

PostgreSQL refuses to run as root: when the tests run as root, initdb and
the server run as the unprivileged user nobody (runuser), in a directory
given to it; the server listens on 127.0.0.1 only, and on a Unix socket in
that directory, with trust authentication for the local test user.

Failover (tests/integration/test_failover.py): `start_standby(primary)`
gives a streaming standby of a running server (pg_basebackup -R), made the
primary's synchronous standby so that a COMMIT returns only once the
standby has flushed it; `kill()` ends a server as a crash would (SIGKILL of
the postmaster and its children: no shutdown, clients see their connection
drop); `promote()` makes a standby the primary.

No server outlives its test.  pg_ctl starts a server in a session of its
own, out of reach of meson's timeout (SIGTERM to the test's process group,
SIGKILL half a second later), so each server's directory gets a watchdog
process, in a session of its own too, that waits on a pipe from us: when
we end in any way (even SIGKILL) it stops a server still running there
and removes the directory.  `stop_on_sigterm()` (called by `run` and by
tests that start servers themselves) is the fast path: on SIGTERM, SIGINT
or SIGHUP every live server gets an immediate shutdown at once (its
directory left to its watchdog) and SystemExit unwinds the caller's `with`
blocks, which stop the daemons they started.
"""
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
RUN_AS = "nobody"
USER = "commentd"


def find_bin():
    """The newest installed server's bin directory, or None."""
    dirs = sorted(glob.glob(PG_BIN_GLOB), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    return None


def hold_port(port=0):
    """A socket bound to 127.0.0.1:port (0: a free one) that does not
    listen: a client connecting there is refused at once, and no other
    server (other tests on a shared machine) can take the port.  A URI
    naming a dead or future server's port must not reach someone else's
    database."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    return s


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_live = set()  # PgServers with a directory (stop_on_sigterm's list)


def stop_on_sigterm():
    """SIGTERM (meson's timeout, a CI cancel), SIGINT or SIGHUP: every live
    server gets an immediate shutdown at once (kill_now: meson sends SIGKILL
    half a second later, too soon for a clean stop; the watchdogs remove
    the directories), then SystemExit unwinds the caller's `with` blocks."""
    def handler(signum, frame):
        for server in list(_live):
            server.kill_now()
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


class PgServer:
    def __init__(self, name="primary"):
        self.bin = find_bin()
        if not self.bin:
            raise FileNotFoundError("PostgreSQL server binaries (postgresql-15) not installed")
        self.name = name  # cluster_name: a standby's application_name upstream
        self.dir = None
        self.port = None
        self.running = False
        self.hold = None  # a killed server's port, kept (see kill)
        self._watch_fd = None  # the pipe to the directory's watchdog

    def _cmd(self, args):
        """args run as the server's user (nobody when we are root)."""
        if os.geteuid() == 0:
            return ["runuser", "-u", RUN_AS, "--"] + args
        return args

    def _run(self, args, **kw):
        return subprocess.run(self._cmd(args), check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=self.dir, **kw)

    def _make_dir(self):
        self.dir = tempfile.mkdtemp(prefix="commentd-pg-")
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_AS)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._start_watchdog()
        _live.add(self)

    def start(self):
        self._make_dir()
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(self.bin, "initdb"), "-D", data, "-U", USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        self.port = free_port()
        # fsync stays on (the default): the store's durability settings
        # are what a test reads back.
        self.start_server()
        return self

    def _start_watchdog(self):
        """A process in a session of its own that holds the read end of a
        pipe we keep open: when we end in any way (meson's timeout sends
        SIGTERM to our process group and SIGKILL half a second later, and
        pg_ctl puts the server in a session of its own, out of reach of
        both), it reads EOF, stops a server still running (immediate mode)
        and removes the directory.  No server outlives its test."""
        r, self._watch_fd = os.pipe()
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "_watch", self.dir,
                          self.bin], stdin=r, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r)

    def _pg_ctl(self, *args):
        data = os.path.join(self.dir, "data")
        return self._run([os.path.join(self.bin, "pg_ctl"), "-D", data, "-w", "-t", "60"]
                         + list(args))

    def stop_server(self):
        """Stops the server, keeping its data (start_server brings it back
        on the same port): what clients see of a restart or a failover."""
        self._pg_ctl("-m", "fast", "stop")
        self.running = False

    def start_server(self):
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
                f" -c max_connections=40 -c shared_buffers=16MB -c cluster_name={self.name}")
        self._pg_ctl("-l", os.path.join(self.dir, "server.log"), "-o", opts, "start")
        self.running = True

    def start_standby(self, name="standby1", port=None, timeout=60):
        """A streaming standby of this (running) server, on a port of its
        own, made this server's synchronous standby: from now on a COMMIT
        here returns only after the standby has flushed its WAL (with the
        store's synchronous_commit = on).  Returns the standby (a PgServer
        to stop like any other) once the primary reports it in sync.
        port: the standby's port (one a client's URI already names), else
        a free one."""
        standby = PgServer(name)
        try:
            standby._make_dir()
            standby._run([os.path.join(self.bin, "pg_basebackup"), "-h", "127.0.0.1",
                          "-p", str(self.port), "-U", USER, "-D",
                          os.path.join(standby.dir, "data"), "-R", "-X", "stream",
                          "-c", "fast", "--no-sync"])
            standby.port = port or free_port()
            standby.start_server()
            self.psql(f"ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ({name})'")
            self.psql("SELECT pg_reload_conf()")
            deadline = time.monotonic() + timeout
            while self.psql("SELECT sync_state FROM pg_stat_replication"
                            f" WHERE application_name = '{name}'").strip() != "sync":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the standby {name} did not become synchronous:\n"
                                       + standby.log()[-2000:])
                time.sleep(0.1)
        except BaseException:
            standby.stop()
            raise
        return standby

    def kill(self):
        """Ends the server as a crash would: SIGKILL to the postmaster and
        every process it started (no shutdown checkpoint, no goodbye to
        clients).  Its directory stays until stop()."""
        data = os.path.join(self.dir, "data")
        with contextlib.suppress(OSError, ValueError):
            with open(os.path.join(data, "postmaster.pid")) as f:
                pid = int(f.readline())
            os.kill(pid, signal.SIGSTOP)  # forks no new child meanwhile
            for child in _children(pid):
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        self.running = False
        self.hold = hold_port(self.port)

    def promote(self):
        """Makes this standby the primary (pg_ctl promote, waiting until it
        accepts writes)."""
        self._pg_ctl("promote")

    def in_recovery(self):
        return self.psql("SELECT pg_is_in_recovery()").strip() == "t"

    def uri(self, dbname="postgres"):
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql, dbname="postgres"):
        """Runs sql through psql; returns its output."""
        out = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                              "-v", "ON_ERROR_STOP=1", "-d", self.uri(dbname), "-c", sql],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        return out.stdout

    def new_database(self, name):
        """Creates an empty database; returns its URI."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.hold:
            self.hold.close()
            self.hold = None
        if self.running:
            data = os.path.join(self.dir, "data")
            try:
                self._run([os.path.join(self.bin, "pg_ctl"), "-D", data, "-m", "fast", "-w",
                           "-t", "60", "stop"])
            except subprocess.CalledProcessError:
                self._kill(data)
            self.running = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self._watch_fd is not None:
            os.close(self._watch_fd)
            self._watch_fd = None
        _live.discard(self)

    def kill_now(self):
        """On SIGTERM: the postmaster's immediate shutdown (SIGQUIT), at
        once; the watchdog waits for it and removes the directory (when
        stop() or our end closes its pipe)."""
        if self.running and self.dir:
            self._kill(os.path.join(self.dir, "data"))
            self.running = False
        self.dir = None  # the watchdog removes it once the server is gone

    @staticmethod
    def _kill(data):
        """The server did not stop in time: its postmaster, by its pid file."""
        with contextlib.suppress(OSError, ValueError):
            with open(os.path.join(data, "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGQUIT)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def watch(directory, bindir):
    """pgserver.py _watch DIR BIN: waits for EOF on stdin (the pipe's
    writer, the PgServer, ended), then stops what is left and removes DIR."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while os.read(0, 4096):
        pass
    data = os.path.join(directory, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        cmd = [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t",
               "60", "stop"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", RUN_AS, "--"] + cmd
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            PgServer._kill(data)
    # A server whose pg_ctl start we interrupted may not have written its
    # pid file yet: found by its command line (postgres -D DATA).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = _postmasters(data)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGQUIT if time.monotonic() < deadline - 3
                        else signal.SIGKILL)
        time.sleep(0.2)
    # A backend can outlive its postmaster's immediate shutdown: one hung
    # in its SIGQUIT handler (on a futex, after a mutation check killed its
    # test) held no port but still ran, and failed CI's check that no
    # server is left.  Every process still working in the data directory
    # is killed.
    for pid in _in_directory(data):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)
    return 0


def _pids_where(test):
    """The pids in /proc for which test(pid) is true; a process that ends
    or cannot be read meanwhile is left out."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if test(int(entry)):
                out.append(int(entry))
    return out


def _works_in(pid, data):
    """True when pid lives and its working directory is data, also once it
    is removed (a server's processes all work in its data directory)."""
    cwd = os.readlink(f"/proc/{pid}/cwd")
    return cwd.removesuffix(" (deleted)") == data and _alive(pid)


def _in_directory(data):
    """The live pids whose working directory is data (/proc)."""
    return _pids_where(lambda pid: _works_in(pid, data))


def _is_postmaster(pid, data):
    """True when pid lives and is a postgres process started with -D data."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        args = f.read().split(b"\0")
    return (args[0].endswith(b"/postgres") and b"-D" in args
            and os.fsencode(data) in args and _alive(pid))


def _postmasters(data):
    """The pids of the postgres processes started with -D data (/proc)."""
    return _pids_where(lambda pid: _is_postmaster(pid, data))


def _parent(pid):
    """pid's parent (/proc/PID/stat: pid (comm) state ppid ...; comm may
    hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _children(pid):
    """The pids whose parent is pid (from /proc)."""
    return _pids_where(lambda child: _parent(child) == pid)


def _alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv):
    if len(argv) == 4 and argv[1] == "_watch":
        return watch(argv[2], argv[3])
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--":
        print("usage: pgserver.py run -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        server = PgServer()
    except FileNotFoundError as e:
        if os.environ.get("CI"):
            print(f"pgserver: {e}", file=sys.stderr)
            return 1
        print(f"1..0 # SKIP {e}")
        return 0
    stop_on_sigterm()
    try:
        with server as pg:
            env = dict(os.environ, COMMENTD_TEST_PG=pg.new_database("commentd_test"))
            rc = subprocess.run(argv[3:], env=env).returncode
            if rc != 0:
                sys.stderr.write(pg.log()[-4000:])
    except SystemExit as e:  # stop_on_sigterm: the command was killed too
        print(f"pgserver: terminated by signal {e.code - 128}; server stopped",
              file=sys.stderr)
        raise
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
