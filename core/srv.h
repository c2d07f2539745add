/* SPDX-License-Identifier: MIT */
/*
 * srv.h — small request/response servers on the event loop, for the
 * control socket (control.c) and the metrics endpoint (metrics.c); and
 * the growing text buffer their answers are written into.
 *
 * One request, one answer, then the connection is closed.  Everything is
 * bounded so that no client can cost the loop more than a little: the
 * request size, the number of clients at once, the time a client may take
 * to send its request and read the answer.  Reads and writes never block:
 * a slow reader keeps its own answer buffer and nothing else waits.
 */
#ifndef TP_CORE_SRV_H
#define TP_CORE_SRV_H
#include <stdarg.h>
#include <stddef.h>
#include "loop.h"

/* A text buffer that grows up to a bound; after a failed allocation (or
 * the bound) it stays `failed` and appends nothing more. */
struct tp_sbuf {
	char *p;
	size_t len, cap, max;
	int failed;
};
void tp_sbuf_init(struct tp_sbuf *b, size_t max);
void tp_sbuf_printf(struct tp_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tp_sbuf_put(struct tp_sbuf *b, const char *s, size_t n);
void tp_sbuf_reset(struct tp_sbuf *b);
void tp_sbuf_free(struct tp_sbuf *b);

/*
 * Called after every read with the request so far (req[len] is a NUL the
 * server adds).  Return 0 for "not complete yet", or 1 with the whole
 * answer written to `out`.  When `full` is set the request has reached the
 * server's max_request and no more will come: the handler must answer
 * (with an error).
 */
typedef int (*tp_srv_handler)(void *arg, const char *req, size_t len, int full, struct tp_sbuf *out);

/* Who sent the request a handler is answering ("uid 0 pid 42" on a unix
 * socket, "127.0.0.1:5000" on TCP), for its log lines; "" elsewhere. */
const char *tp_srv_requester(void);

struct tp_srv_limits {
	size_t max_request;   /* bytes */
	size_t max_answer;    /* bytes */
	int max_clients;      /* connections at once; more are closed at once */
	int timeout_ms;       /* for the whole exchange */
};

struct tp_srv;
/* Serve the listening socket `lfd` (made non-blocking; the server owns it
 * and closes it).  `name` prefixes its log lines.  NULL on failure (lfd
 * closed). */
struct tp_srv *tp_srv_new(struct tp_loop *loop, int lfd, const char *name,
			  const struct tp_srv_limits *lim, tp_srv_handler h, void *arg);
/* Closes the listener and every client. */
void tp_srv_free(struct tp_srv *s);

#endif
