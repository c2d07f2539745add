/* SPDX-License-Identifier: MIT */
/*
 * svpn-server.h — what the two halves of the Simple-VPN server handshake
 * share: svpn-server.c (the request, the answer, the table) and
 * svpn-auth.c (the password check off the loop, the login limiter, the
 * credential cache, the once-a-second tick).
 */
#ifndef TLS_HTTP_SVPN_SERVER_H
#define TLS_HTTP_SVPN_SERVER_H
#include "tls-http.h"
#include "auth.h"

#define AUTH_QUEUE_MIN 64     /* password checks waiting at least … */
#define AUTH_QUEUE_MAX 65536  /* … and at most: else one per max_sessions */
#define AUTH_MAX_FAILS 5      /* failed logins per address per window … */
#define AUTH_WINDOW_MS 10000  /* … before it gets 429 until the window ends */
#define AUTH_COLLECT 32       /* results taken per aw_collect() */
#define AUTH_INFLIGHT 4       /* password checks of one address at once */
#define LIM_TICK_MS 1000      /* how often released addresses are noticed */
#define TRIM_HEAP_AFTER 64    /* streams trimmed in one tick that return heap pages */

/* The handshake's own part of the context (c->hs_priv). */
struct svs {
	struct auth_db *users;
	struct aw *aw;                 /* password checks (started with the server) */
	unsigned aw_cap;               /* its queue: from max_sessions */
	struct ac *cache;              /* verified credentials; NULL: auth_cache = 0 */
	struct auth_limiter lim;       /* failed logins per source address */
	struct tp_timer *lim_timer;    /* auth_lim_expire() every LIM_TICK_MS */
	unsigned trim_up;              /* sessions up at the last trim_idle() */
	struct th_ratelog rl_refused, rl_timeout, rl_user;
	struct th_ratelog rl_busy;     /* "password checks queue full" */
};

/* svpn-server.c */
void svs_params_of(struct th_ctx *c, struct hs_params *p);
/* Write the error answer and flush it before closing (CS_CLOSING). */
void svs_refuse(struct th_link *l, const struct hs_params *p, const struct hs_request *r);
/* The request is decided (r final): refuse it, or open the session,
 * answer 101 and go up. */
void svs_answer(struct th_link *l, const struct hs_params *p, struct hs_request *r);

/* svpn-auth.c */
/* Credentials in hand: refuse at once (throttled, busy), answer from the
 * credential cache, or hand the check to the worker and wait. */
void svs_auth_start(struct th_link *l, const struct hs_params *p, struct hs_request *r,
		    const char *pass);
/* Waiting for the worker: read on, give up if the peer goes away. */
void svs_auth_wait_io(struct th_link *l);
/* l's check is given up (peer_left: the peer's doing, counted a failure). */
void svs_gone(struct th_ctx *c, struct th_link *l, int peer_left);
/* The worker's eventfd is readable: resume the links whose check ended. */
void svs_auth_results(void *arg, int fd, uint32_t ev);
/* Once a second: the limiter's windows, idle sessions' buffers. */
void svs_lim_tick(void *arg);
void svs_lim_released(void *arg, const uint8_t key[16]);
/* auth_threads, or one per online CPU. */
unsigned svs_auth_threads(struct th_ctx *c);

#endif
