/* sender: mail and webhook deliveries in a short-lived child process.
 *
 * libcurl and its TLS library add about 5 MiB of resident memory to the
 * process that loads them (measured by bench/memory.py --notify), which
 * would put the daemon over its 16 MiB promise from its first
 * notification on.  So the daemon's outbox worker hands every delivery to
 * a child: the daemon's own program run as `commentd --send`, which reads
 * one request from its standard input, sends it through lib/mail.c or
 * lib/webhook.c and writes the result to its standard output, then exits.
 * Its memory goes with it.
 *
 * The request travels as netstrings ("<length>:<bytes>,"): the kind ("mail"
 * or "webhook"), then the fields of mail_send or webhook_post in order,
 * each bounded (SENDER_FIELD_MAX).  The answer is one netstring holding the
 * result code ("0", "2" retry, "3" refused) and one with the reason.  The
 * password and the webhook secret go through the pipe, never on a command
 * line.
 */
#ifndef COMMENTD_SENDER_H
#define COMMENTD_SENDER_H

#include "outbox.h"

#include <stdatomic.h>

#define SENDER_FIELD_MAX (4u << 20) /* a mail's whole message, at most */

struct sender {
	const char *program;	   /* the program run with `--send` (the daemon's own) */
	const atomic_bool *cancel; /* when it becomes true, a send stops (retry); or NULL */
};

/* A transport for outbox_run that delivers through children of s->program;
 * s must outlive the transport's use. */
struct outbox_transport sender_transport(struct sender *s);

/* The child's side: reads one request from fd in, sends it, writes the
 * answer to fd out.  0 when an answer was written (whatever the send's
 * outcome), positive for a malformed request, negative on failure. */
int sender_serve(int in, int out);

#endif
