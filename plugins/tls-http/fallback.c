/* SPDX-License-Identifier: MIT */
/*
 * fallback.c — `fallback = "HOST:PORT"`: a request that is not for the
 * VPN (front.c decides) is relayed to a web server, so the listener
 * serves a website to everyone but our clients.
 *
 * The link's socket (and its TLS, if any) is taken over from the stream
 * layer: the request bytes already read go first, then both directions
 * are relayed through one bounded buffer each (FB_BUF; a side is not read
 * while its buffer to the other is full), on the loop, until the web
 * server closes and everything it sent is written, or either side fails.
 * A client that half-closes is passed on (shutdown of the write side).
 * Bounded, since a relay has left the handshake budget: at most
 * fallback_max relays at once and fallback_per_address from one address
 * (the limiter key: IPv4 address or IPv6 /64; more get 503 from front.c),
 * one that moves nothing for FB_IDLE_MS is closed, and so is one older than
 * fallback_lifetime however busy (a byte every 29 s would keep a slot for
 * ever otherwise).  A web server that cannot be reached gets the client a
 * 502.  The address is resolved once, at create(), not per request.  With
 * fallback_proxy_protocol a PROXY v1 line goes first: the request's own
 * forwarding headers prove nothing to the web server.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#define FB_BUF 16384
#define FB_IDLE_MS 30000
#define FB_PP_MAX 128 /* room for a PROXY v1 line (107 bytes at most) */

struct fb {
	struct fb *prev, *next;
	struct th_ctx *c;
	int cfd, bfd;              /* client, web server */
	SSL *ssl;                  /* the client's TLS; NULL: plain */
	char peer[64];
	uint8_t key[16];           /* the client's limiter key (fallback_per_address) */
	int connected, c_eof, b_eof, shut_b, dead;
	uint32_t cev, bev;         /* registered events */
	char *c2b;                 /* client to web server: cap bytes */
	size_t cap, c2b_len;
	char b2c[FB_BUF];
	size_t b2c_len, wlen;      /* wlen: an SSL_write to retry with that length */
	int want_write;            /* the client's TLS asked for writability */
	uint64_t start_ms, last_ms, up, down;
	struct tp_timer *idle;
	const char *why;
};

struct fb_state {
	struct sockaddr_storage addr;
	socklen_t alen;
	struct fb *head;
	unsigned n;
	struct th_ratelog rl_full, rl_addr, rl_conn;
};

int th_fb_setup(struct th_ctx *c, char *err, size_t errlen)
{
	char host[256], port[8] = "";
	struct addrinfo hints, *ai = NULL;
	struct fb_state *fs;
	int rc;
	if (!c->cf->fallback)
		return 0;
	if (th_split_hostport(c->cf->fallback, host, sizeof(host), port, sizeof(port)) < 0 || !port[0]) {
		snprintf(err, errlen, "fallback '%s': expected HOST:PORT or [v6]:PORT", c->cf->fallback);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "fallback '%s': %s", c->cf->fallback, gai_strerror(rc));
		return -1;
	}
	if (!(fs = calloc(1, sizeof(*fs)))) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(&fs->addr, ai->ai_addr, ai->ai_addrlen);
	fs->alen = ai->ai_addrlen;
	freeaddrinfo(ai);
	c->fb_priv = fs;
	return 0;
}

static void fb_free(struct fb *f)
{
	struct th_ctx *c = f->c;
	struct fb_state *fs = c->fb_priv;
	TH_LOG(c, TP_LOG_DEBUG, "fallback for %s closed: %s (%llu bytes to %s, %llu back)", f->peer,
	       f->why ? f->why : "done", (unsigned long long)f->up, c->cf->fallback,
	       (unsigned long long)f->down);
	if (f->idle)
		c->host->timer_cancel(c->st, f->idle);
	c->host->fd_del(c->st, f->cfd);
	if (f->bfd >= 0) {
		c->host->fd_del(c->st, f->bfd);
		close(f->bfd);
	}
	if (f->ssl) {
		ERR_clear_error();
		SSL_shutdown(f->ssl); /* best effort close_notify */
		SSL_free(f->ssl);
		ERR_clear_error();
	}
	close(f->cfd);
	if (f->prev)
		f->prev->next = f->next;
	else
		fs->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	fs->n--;
	free(f->c2b);
	free(f);
}

static void fail(struct fb *f, const char *why)
{
	if (!f->why)
		f->why = why;
	f->dead = 1;
}

/* One read from the client; <0 when nothing more can come now. */
static int client_read(struct fb *f)
{
	size_t room = f->cap - f->c2b_len;
	int n;
	if (!f->ssl) {
		ssize_t r = recv(f->cfd, f->c2b + f->c2b_len, room, 0);
		if (r > 0)
			return (int)r;
		if (r == 0)
			f->c_eof = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			fail(f, "client read failed");
		return -1;
	}
	ERR_clear_error();
	n = SSL_read(f->ssl, f->c2b + f->c2b_len, (int)room);
	if (n > 0)
		return n;
	switch (SSL_get_error(f->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		break;
	case SSL_ERROR_WANT_WRITE:
		f->want_write = 1;
		break;
	case SSL_ERROR_ZERO_RETURN:
		f->c_eof = 1;
		break;
	default:
		/* a browser that just hangs up without close_notify */
		f->c_eof = 1;
		f->b_eof = 1;
		f->b2c_len = 0;
		ERR_clear_error();
		break;
	}
	return -1;
}

/* One write to the client of what the web server sent; <0: not now. */
static int client_write(struct fb *f)
{
	if (!f->ssl) {
		ssize_t r = send(f->cfd, f->b2c, f->b2c_len, MSG_NOSIGNAL);
		if (r > 0)
			return (int)r;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			fail(f, "client write failed");
		f->want_write = 1;
		return -1;
	}
	/* OpenSSL wants a retry with the same length (no partial writes). */
	if (!f->wlen)
		f->wlen = f->b2c_len;
	ERR_clear_error();
	int n = SSL_write(f->ssl, f->b2c, (int)f->wlen);
	if (n > 0) {
		f->wlen = 0;
		return n;
	}
	int e = SSL_get_error(f->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE)
		f->want_write = 1;
	else if (e != SSL_ERROR_WANT_READ)
		fail(f, "client write failed");
	return -1;
}

static void consume(char *buf, size_t *len, size_t n)
{
	memmove(buf, buf + n, *len - n);
	*len -= n;
}

/* Move what can be moved, in both directions, until nothing moves. */
static int pump(struct fb *f)
{
	int moved = 0, progress;
	do {
		progress = 0;
		f->want_write = 0;
		if (f->connected && f->c2b_len) {
			ssize_t r = send(f->bfd, f->c2b, f->c2b_len, MSG_NOSIGNAL);
			if (r > 0) {
				consume(f->c2b, &f->c2b_len, (size_t)r);
				f->up += (uint64_t)r;
				progress = 1;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fail(f, "web server write failed");
			}
		}
		if (!f->c_eof && !f->dead && f->c2b_len < f->cap) {
			int n = client_read(f);
			if (n > 0) {
				f->c2b_len += (size_t)n;
				progress = 1;
			}
		}
		if (f->connected && !f->b_eof && !f->dead && f->b2c_len < FB_BUF) {
			ssize_t r = recv(f->bfd, f->b2c + f->b2c_len, FB_BUF - f->b2c_len, 0);
			if (r > 0) {
				f->b2c_len += (size_t)r;
				progress = 1;
			} else if (r == 0) {
				f->b_eof = 1;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fail(f, "web server read failed");
			}
		}
		if (f->b2c_len && !f->dead) {
			int n = client_write(f);
			if (n > 0) {
				consume(f->b2c, &f->b2c_len, (size_t)n);
				f->down += (uint64_t)n;
				progress = 1;
			}
		}
		moved |= progress;
	} while (progress && !f->dead);
	if (f->c_eof && !f->c2b_len && f->connected && !f->shut_b) {
		shutdown(f->bfd, SHUT_WR); /* the client is done asking */
		f->shut_b = 1;
	}
	if (f->b_eof && !f->b2c_len)
		fail(f, f->c_eof ? "both sides closed" : "web server closed");
	return moved;
}

static void fb_io(void *arg, int fd, uint32_t ev);

/* The web server's socket wants ev from the loop.  With none, it leaves
 * the loop: epoll reports a hang-up even for a socket registered for
 * nothing, and one shut both ways (the client half-closed, the web server
 * closed) while its data waits for a slow client would wake us at once,
 * forever, until the idle timeout.  Finished both ways, it is closed. */
static void watch_b(struct fb *f, uint32_t ev)
{
	struct th_ctx *c = f->c;
	if (f->bfd < 0)
		return;
	if (f->b_eof && f->shut_b) {
		c->host->fd_del(c->st, f->bfd);
		close(f->bfd);
		f->bfd = -1;
		return;
	}
	if (ev == f->bev)
		return;
	if (!ev) {
		c->host->fd_del(c->st, f->bfd);
		f->bev = 0;
	} else if (!f->bev) {
		if (c->host->fd_add(c->st, f->bfd, ev, fb_io, f) < 0)
			fail(f, "cannot watch the web server");
		else
			f->bev = ev;
	} else if (c->host->fd_mod(c->st, f->bfd, ev) == 0) {
		f->bev = ev;
	}
}

static void update(struct fb *f)
{
	struct th_ctx *c = f->c;
	uint32_t cev = 0, bev = 0;
	if (!f->c_eof && f->c2b_len < f->cap)
		cev |= TP_FD_READ;
	if (f->b2c_len && f->want_write)
		cev |= TP_FD_WRITE;
	if (f->b2c_len && f->ssl && !f->want_write && !f->c_eof)
		cev |= TP_FD_READ; /* an SSL_write that waits for a read */
	if (!f->connected)
		bev = TP_FD_WRITE;
	else
		bev = (!f->b_eof && f->b2c_len < FB_BUF ? TP_FD_READ : 0) | (f->c2b_len ? TP_FD_WRITE : 0);
	if (cev != f->cev && c->host->fd_mod(c->st, f->cfd, cev) == 0)
		f->cev = cev;
	watch_b(f, bev);
}

static void answer_502(struct fb *f)
{
	f->b2c_len = http_build_response((char *)f->b2c, FB_BUF, 502, NULL, "web server unreachable\r\n");
	f->b_eof = 1;
	f->c2b_len = 0;
	f->why = "web server unreachable (502 sent)";
	if (f->bfd >= 0) {
		f->c->host->fd_del(f->c->st, f->bfd);
		close(f->bfd);
		f->bfd = -1;
	}
}

static void fb_io(void *arg, int fd, uint32_t ev)
{
	struct fb *f = arg;
	struct th_ctx *c = f->c;
	if (fd == f->bfd && !f->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			struct fb_state *fs = c->fb_priv;
			th_warn_limited(c, &fs->rl_conn, "fallback %s: %s (the client %s gets 502)",
					c->cf->fallback, strerror(soerr), f->peer);
			answer_502(f);
		} else {
			f->connected = 1;
		}
	}
	/* after a 502 (bfd -1, not connected) only the client side moves */
	if (pump(f))
		f->last_ms = c->host->now_ms(c->st);
	else if (fd == f->cfd && (ev & TP_FD_ERROR))
		/* We never shut the client's socket: a hang-up there is a reset
		 * (say, after its FIN), and nothing can reach it any more. */
		fail(f, "client hung up");
	if (!f->dead)
		update(f);
	if (f->dead)
		fb_free(f);
}

static void fb_idle(void *arg)
{
	struct fb *f = arg;
	struct th_ctx *c = f->c;
	uint64_t now = c->host->now_ms(c->st), quiet = now - f->last_ms, age = now - f->start_ms;
	uint64_t life = (uint64_t)c->cf->fallback_lifetime * 1000, next = FB_IDLE_MS - quiet;
	f->idle = NULL;
	if (quiet >= FB_IDLE_MS || (life && age >= life)) {
		fail(f, quiet >= FB_IDLE_MS ? "idle" : "fallback_lifetime reached");
		fb_free(f);
		return;
	}
	if (life && life - age < next)
		next = life - age;
	f->idle = c->host->timer_add(c->st, next, fb_idle, f);
}

/*
 * The PROXY v1 line: the client as the link names it (from a PROXY header
 * or X-Forwarded-For/Forwarded where those apply; port 0 when they gave
 * none), and the address it connected to.  v1 wants one family: an IPv4
 * side is written as ::ffff:a.b.c.d when the other is IPv6.
 */
static size_t proxy_line(const struct fb *f, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN + 8], port[8] = "0", dst[INET6_ADDRSTRLEN];
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	const struct sockaddr_in *m4 = (const void *)&me;
	const struct sockaddr_in6 *m6 = (const void *)&me;
	int v6c, v6m, n;
	if (th_split_hostport(f->peer, host, sizeof(host), port, sizeof(port)) < 0 ||
	    getsockname(f->cfd, (struct sockaddr *)&me, &ml) < 0)
		goto unknown;
	v6c = strchr(host, ':') != NULL;
	v6m = me.ss_family == AF_INET6;
	inet_ntop(me.ss_family, v6m ? (const void *)&m6->sin6_addr : (const void *)&m4->sin_addr, dst,
		  sizeof(dst));
	n = snprintf(out, cap, "PROXY TCP%c %s%s %s%s %s %u\r\n", v6c || v6m ? '6' : '4',
		     v6m && !v6c ? "::ffff:" : "", host, v6c && !v6m ? "::ffff:" : "", dst, port,
		     ntohs(v6m ? m6->sin6_port : m4->sin_port));
	if (n > 0 && n <= 107)
		return (size_t)n;
unknown:
	return (size_t)snprintf(out, cap, "PROXY UNKNOWN\r\n");
}

int th_fb_take(struct th_link *l, const char *head, size_t len)
{
	struct th_ctx *c = l->ctx;
	struct fb_state *fs = c->fb_priv;
	struct th_conn *k = l->io;
	struct fb *f;
	unsigned same = 0;
	if (fs->n >= (unsigned)c->cf->fallback_max) {
		th_warn_limited(c, &fs->rl_full, "refused %s: %u fallback connections already "
				"(fallback_max; 503)", k->peer, fs->n);
		return -1;
	}
	for (f = fs->head; f; f = f->next)
		same += memcmp(f->key, l->peer_key, sizeof(f->key)) == 0;
	if (same >= (unsigned)c->cf->fallback_per_address) {
		th_warn_limited(c, &fs->rl_addr, "refused %s: %u fallback connections from it already "
				"(fallback_per_address; 503)", k->peer, same);
		return -1;
	}
	if (!(f = calloc(1, sizeof(*f))))
		return -1;
	f->cap = len + FB_PP_MAX > FB_BUF ? len + FB_PP_MAX : FB_BUF;
	if (!(f->c2b = malloc(f->cap))) {
		free(f);
		return -1;
	}
	f->c = c;
	f->bfd = -1;
	snprintf(f->peer, sizeof(f->peer), "%s", k->peer);
	memcpy(f->key, l->peer_key, sizeof(f->key));
	f->start_ms = f->last_ms = c->host->now_ms(c->st);
	/* The socket and its TLS are ours now; the link closes without them. */
	c->host->fd_del(c->st, k->fd);
	f->cfd = k->fd;
	f->ssl = k->ssl;
	if (c->cf->fallback_proxy_protocol)
		f->c2b_len = proxy_line(f, f->c2b, FB_PP_MAX);
	memcpy(f->c2b + f->c2b_len, head, len);
	f->c2b_len += len;
	k->fd = -1;
	k->ssl = NULL;
	f->next = fs->head;
	if (fs->head)
		fs->head->prev = f;
	fs->head = f;
	fs->n++;
	th_conn_close(k, "request handed to the fallback");
	f->bfd = socket(fs->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->bfd < 0 || (connect(f->bfd, (struct sockaddr *)&fs->addr, fs->alen) < 0 &&
			   errno != EINPROGRESS)) {
		th_warn_limited(c, &fs->rl_conn, "fallback %s: %s (the client %s gets 502)",
				c->cf->fallback, strerror(errno), f->peer);
		if (f->bfd >= 0)
			close(f->bfd);
		f->bfd = -1;
		answer_502(f);
	} else if (c->host->fd_add(c->st, f->bfd, TP_FD_WRITE, fb_io, f) < 0) {
		goto fail;
	}
	f->bev = TP_FD_WRITE;
	f->cev = TP_FD_READ;
	if (c->host->fd_add(c->st, f->cfd, f->cev, fb_io, f) < 0)
		goto fail;
	if (!(f->idle = c->host->timer_add(c->st, FB_IDLE_MS, fb_idle, f)))
		goto fail;
	if (f->bfd < 0)
		fb_io(f, f->cfd, 0); /* the 502 goes out */
	return 0;
fail:
	fail(f, "cannot watch the sockets");
	fb_free(f);
	return 0; /* the link is closed either way */
}

void th_fb_stop(struct th_ctx *c)
{
	struct fb_state *fs = c->fb_priv;
	while (fs && fs->head) {
		fail(fs->head, "server stopping");
		fb_free(fs->head);
	}
}

void th_fb_destroy(struct th_ctx *c)
{
	th_fb_stop(c);
	free(c->fb_priv);
	c->fb_priv = NULL;
}
