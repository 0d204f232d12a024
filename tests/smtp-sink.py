#!/usr/bin/python3
"""A real SMTP server for the notification tests: Debian's python3-aiosmtpd.

usage: smtp-sink.py PORT DIRECTORY [USER:PASSWORD]

Listens on 127.0.0.1:PORT and writes every message it accepts to
DIRECTORY/<pid>-<n>.eml, the envelope first as X-Envelope-From and
X-Envelope-To lines (written to a temporary name, then renamed, so a reader
never sees half a message).  With USER:PASSWORD, AUTH (PLAIN or LOGIN) with
exactly those is required.  Prints "READY" once listening; stops on SIGTERM.
Run it with the interpreter that has aiosmtpd (Debian's /usr/bin/python3).
"""
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = os.path.join(self.dir, "%d-%d" % (os.getpid(), self.n))
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos))
        with open(name + ".tmp", "wb") as f:
            f.write(head.encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    kwargs = {}
    if len(sys.argv) > 3:
        user, password = sys.argv[3].split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            good = (isinstance(auth_data, LoginPassword) and
                    auth_data.login == user.encode() and
                    auth_data.password == password.encode())
            return AuthResult(success=good)
        kwargs = {"authenticator": authenticator, "auth_required": True,
                  "auth_require_tls": False}
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    print("READY", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
