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
drop); `promote()` makes a standby the primary.  Every server is stopped
and its directory removed at the end, also when the test is ended by
SIGTERM (`stop_on_sigterm`).
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


def stop_on_sigterm():
    """SIGTERM (meson's timeout, a CI cancel) raises SystemExit, so that
    the `with` blocks of the caller stop their servers and remove their
    directories instead of leaving them running."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


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


def _children(pid):
    """The pids whose parent is pid (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/stat") as f:
                # pid (comm) state ppid ...: comm may hold spaces
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv):
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
    with server as pg:
        env = dict(os.environ, COMMENTD_TEST_PG=pg.new_database("commentd_test"))
        rc = subprocess.run(argv[3:], env=env).returncode
        if rc != 0:
            sys.stderr.write(pg.log()[-4000:])
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
