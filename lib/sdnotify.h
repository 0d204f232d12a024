/* sdnotify: systemd's readiness protocol and socket activation, without
 * libsystemd (sd_notify(3), sd_listen_fds(3)). */
#ifndef COMMENTD_SDNOTIFY_H
#define COMMENTD_SDNOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET.  0 when sent or when no
 * socket is set; negative errno on failure. */
int sdnotify(const char *state);

/* The first socket passed by systemd (fd 3) when $LISTEN_PID is this
 * process and $LISTEN_FDS >= 1, made close-on-exec; -1 when none.  Unsets
 * the variables. */
int sdnotify_listen_fd(void);

#endif
