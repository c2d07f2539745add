/* SPDX-License-Identifier: MIT */
/*
 * client-proxy.h — the client's way through an HTTP proxy: which proxy
 * (option `proxy`, else https_proxy/HTTPS_PROXY unless no_proxy matches),
 * and the CONNECT exchange on a fresh socket before TLS starts over it.
 */
#ifndef TLS_HTTP_CLIENT_PROXY_H
#define TLS_HTTP_CLIENT_PROXY_H
#include <stddef.h>
#include <stdint.h>

struct th_ctx;
struct th_cproxy;

enum th_px_result {
	TH_PX_OK,      /* the tunnel is open: the fd carries the server's bytes */
	TH_PX_RETRY,   /* transient: the next address, or back off */
	TH_PX_AUTH,    /* 407: permanent, like a wrong password */
	TH_PX_REFUSED, /* 403: the proxy will not tunnel to this host:port */
};

/* The attempt ended: on TH_PX_OK the fd is the caller's (no longer on
 * the loop), else it is closed already and why says what happened. */
typedef void (*th_px_done_fn)(struct th_ctx *c, int fd, enum th_px_result r, const char *why);

/* Decide at create(): *out stays NULL for a direct connection (logged
 * either way, with the reason).  host/port: the server's, for CONNECT.
 * -1 with err naming the option or variable for a bad URL or file. */
int th_cproxy_setup(struct th_ctx *c, const char *host, const char *port, struct th_cproxy **out,
		    char *err, size_t errlen);
/* Where to resolve and connect to. */
const char *th_cproxy_host(const struct th_cproxy *p);
const char *th_cproxy_port(const struct th_cproxy *p);
/* The proxy's IP:PORT the last attempt connected to (th_cproxy_open). */
const char *th_cproxy_peer(const struct th_cproxy *p);
/* Run CONNECT over fd (connected to the proxy at `peer`, by race.c): the
 * answer must come within answer_ms.  `done` is called once, later,
 * unless cancelled.  -1 (fd closed) if it cannot even start. */
int th_cproxy_open(struct th_cproxy *p, int fd, const char *peer, uint64_t answer_ms,
		   th_px_done_fn done);
/* Abandon the attempt under way, if any (its fd is closed; no done). */
void th_cproxy_cancel(struct th_cproxy *p);
void th_cproxy_free(struct th_cproxy *p);

#endif
