/* SPDX-License-Identifier: MIT */
/*
 * resolve.c — name resolution off the event loop.  getaddrinfo() may wait
 * seconds for a DNS server; a client's loop also carries its tunnel and
 * signals, so a helper thread resolves and wakes the loop through an
 * eventfd registered with the host.  Cancelling (the client stops) does
 * not wait for the thread: the job is shared by two references and the
 * last one to let go frees it, so a thread stuck in DNS finds its job
 * still there and the loop has already moved on.  Address literals are
 * resolved at once without a thread.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct th_resolve {
	struct th_ctx *c;
	th_resolved_fn done;
	char host[256], port[16];
	int efd;
	atomic_int refs;       /* the loop's and the thread's */
	struct addrinfo *ai;   /* the thread's result … */
	int rc;                /* … and getaddrinfo's status */
};

static void put(struct th_resolve *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	if (r->ai)
		freeaddrinfo(r->ai);
	close(r->efd);
	free(r);
}

static int lookup(const char *host, const char *port, int flags, struct addrinfo **ai)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* AI_ADDRCONFIG: no AAAA on a host without IPv6, and so on. */
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG | flags;
	return getaddrinfo(host, port, &hints, ai);
}

static void *worker(void *arg)
{
	struct th_resolve *r = arg;
	uint64_t one = 1;
	r->rc = lookup(r->host, r->port, 0, &r->ai);
	if (r->rc)
		r->ai = NULL;
	/* An eventfd write cannot block or raise SIGPIPE; the release
	 * ordering of put() publishes r->ai to whoever frees or reads it. */
	if (write(r->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow with one write: nothing to do */
	}
	put(r);
	return NULL;
}

static void on_ready(void *arg, int fd, uint32_t ev)
{
	struct th_resolve *r = arg;
	struct th_ctx *c = r->c;
	uint64_t n;
	(void)ev;
	if (read(fd, &n, sizeof(n)) < 0)
		return; /* spurious wakeup: the thread has not written yet */
	atomic_thread_fence(memory_order_acquire);
	c->host->fd_del(c->st, fd);
	struct addrinfo *ai = r->ai;
	int rc = r->rc;
	th_resolved_fn done = r->done;
	r->ai = NULL; /* the caller's now */
	put(r);
	done(c, ai, rc);
}

struct th_resolve *th_resolve_start(struct th_ctx *c, const char *host, const char *port,
				    th_resolved_fn done)
{
	struct addrinfo *ai = NULL;
	struct th_resolve *r;
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;

	/* An address literal needs no DNS: answer now. */
	int rc = lookup(host, port, AI_NUMERICHOST, &ai);
	if (rc == 0) {
		done(c, ai, 0);
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r))))
		goto fail;
	r->c = c;
	r->done = done;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->port, sizeof(r->port), "%s", port);
	atomic_init(&r->refs, 2);
	if ((r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(r);
		goto fail;
	}
	if (c->host->fd_add(c->st, r->efd, TP_FD_READ, on_ready, r) < 0) {
		close(r->efd);
		free(r);
		goto fail;
	}
	/* Signals stay with the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker, r);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		c->host->fd_del(c->st, r->efd);
		close(r->efd);
		free(r);
		goto fail;
	}
	return r;
fail:
	done(c, NULL, EAI_SYSTEM);
	return NULL;
}

void th_resolve_cancel(struct th_ctx *c, struct th_resolve *r)
{
	if (!r)
		return;
	c->host->fd_del(c->st, r->efd);
	put(r);
}
