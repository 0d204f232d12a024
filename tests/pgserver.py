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

No server outlives its test: pg_ctl starts the server in a session of its
own, out of reach of meson's timeout (SIGTERM to the test's process group,
SIGKILL half a second later), so a watchdog process, in a session of its
own too, waits on a pipe from us and stops a server still running when we
end in any way; on SIGTERM we also shut the server down at once.
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self):
        self.bin = find_bin()
        if not self.bin:
            raise FileNotFoundError("PostgreSQL server binaries (postgresql-15) not installed")
        self.dir = None
        self.port = None
        self.running = False

    def _cmd(self, args):
        """args run as the server's user (nobody when we are root)."""
        if os.geteuid() == 0:
            return ["runuser", "-u", RUN_AS, "--"] + args
        return args

    def _run(self, args, **kw):
        return subprocess.run(self._cmd(args), check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=self.dir, **kw)

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="commentd-pg-")
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_AS)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._start_watchdog()
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
                " -c max_connections=40 -c shared_buffers=16MB")
        self._pg_ctl("-l", os.path.join(self.dir, "server.log"), "-o", opts, "start")
        self.running = True

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
        if getattr(self, "_watch_fd", None) is not None:
            os.close(self._watch_fd)
            self._watch_fd = None

    def kill_now(self):
        """On SIGTERM: the postmaster's immediate shutdown (SIGQUIT), at
        once; the watchdog waits for it and removes the directory."""
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
    shutil.rmtree(directory, ignore_errors=True)
    return 0


class Terminated(Exception):
    pass


def _terminated(signum, frame):
    raise Terminated(signum)


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
    # meson's timeout: SIGTERM to the process group, SIGKILL 0.5 s later.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _terminated)
    proc = None
    try:
        with server as pg:
            try:
                env = dict(os.environ, COMMENTD_TEST_PG=pg.new_database("commentd_test"))
                proc = subprocess.Popen(argv[3:], env=env)
                rc = proc.wait()
                if rc != 0:
                    sys.stderr.write(pg.log()[-4000:])
            except Terminated as e:
                pg.kill_now()
                if proc and proc.poll() is None:
                    proc.terminate()
                print("pgserver: terminated by signal %d; server stopped" % e.args[0],
                      file=sys.stderr)
                rc = 128 + e.args[0]
    except Terminated as e:  # while starting or stopping: the watchdog stops it
        rc = 128 + e.args[0]
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
