/* SPDX-License-Identifier: MIT */
/*
 * control.h — the control socket (a unix socket, never on the network)
 * and the commands that talk to it: `tunpipe status` and
 * `tunpipe disconnect`.
 *
 * Protocol: the client sends one line (at most 256 bytes), the daemon
 * answers and closes the connection.  The answer's first line is "OK" or
 * "ERR <why>"; what follows is the body.
 *     status          the status as text
 *     status json     the status as one JSON document
 *     disconnect ARG  close the sessions of user ARG, or of the session
 *                     whose tunnel address or real peer address is ARG
 */
#ifndef TP_CORE_CONTROL_H
#define TP_CORE_CONTROL_H
#include "conf.h"
#include "srv.h"
#include "stage.h"

struct tp_control;

/* The answer to one request line (srv.h's handler contract). */
int tp_control_handle(void *arg, const char *req, size_t len, int full, struct tp_sbuf *out);
/* Sessions of `pipes` matching `who` (user, tunnel or peer address) are
 * aborted, each logged; returns how many. */
int tp_control_disconnect(struct tp_pipeline *const *pipes, int n, const char *who);

/* Open the socket of c->control (mode, group) and serve it; NULL with
 * the reason logged.  The pipelines' array must outlive it. */
struct tp_control *tp_control_open(struct tp_loop *loop, const struct tp_conf *c,
				   struct tp_pipeline *const *pipes, int n);
/* Stop serving and remove the socket file. */
void tp_control_close(struct tp_control *ctl);

/* `tunpipe status …` / `tunpipe disconnect …` (argv[0] is the command);
 * returns the exit status. */
int tp_control_command(int argc, char **argv);

#endif
