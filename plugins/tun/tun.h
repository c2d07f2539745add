/* SPDX-License-Identifier: MIT */
/*
 * tun.h — private state of the tun plugin, shared by tun.c (options,
 * lifecycle, data path) and apply.c (device and kernel configuration).
 * Nothing here is part of the plugin ABI.
 */
#ifndef TUN_TUN_H
#define TUN_TUN_H
#include <net/if.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

#include "cover.h"
#include "netlink.h"
#include "run.h"
#include "prefix.h"

/* Option values, written by the core at the offsets of the option table. */
struct tun_conf {
	const char *device;
	const char *address;
	const char *address6;
	int64_t mtu;
	const char *pool;
	const char *const *push_routes;
	const char *const *push_dns;
	const char *const *routes;
	int accept_routes;
	int64_t batch;
	int64_t queue;
	/* Client DNS and hooks (dns.c, hooks.c). */
	int dns;                 /* enum tn_dns_mode */
	const char *state_dir;
	const char *up;
	const char *down;
	int up_failure;          /* 0 close, 1 ignore */
	int64_t hook_timeout;    /* seconds */
	const char *const *push_search;
	int offload;                     /* 0 auto, 1 on, 2 off */
};

/* `dns` option values, in the order of its choices. */
enum tn_dns_mode { TN_DNSOPT_AUTO, TN_DNSOPT_RESOLVED, TN_DNSOPT_RESOLVCONF, TN_DNSOPT_FILE, TN_DNSOPT_OFF };
/* How DNS was applied. */
enum tn_dns_method { TN_DNS_NONE, TN_DNS_RESOLVED, TN_DNS_RESOLVCONF, TN_DNS_FILE };

struct tun {
	struct tp_stage *st;
	const struct tp_host *host;
	const struct tun_conf *conf;

	/* Parsed at create(). */
	struct tp_prefix addr4, addr6;   /* our own, family 0 when unset */
	struct tp_net_info net;          /* what a server announces */
	struct tp_prefix *routes;        /* `routes`: local routes via the device */
	uint8_t *route_added;            /* per route: 1 if we added it (undo at stop) */
	size_t n_routes;
	uint32_t mtu, batch, queue_max;

	/* Runtime, from start() to stop(). */
	int fd;
	char ifname[IFNAMSIZ];
	unsigned ifindex;
	struct tn_nl *nl;
	struct tp_batch queue;           /* up packets waiting for the fd to be writable */
	int want_write;                  /* TP_FD_WRITE is registered */
	uint8_t *scratch;                /* read target when the pool is exhausted,
					  * and of every read with vnet on */
	int vnet;                        /* opened with IFF_VNET_HDR (offload not off) */
	unsigned offloads;               /* TUN_F_* the kernel accepted */
	int no_merge;                    /* the kernel refused a merged write */

	/* What is applied to the device now, so stop() and a changed
	 * session-up can undo exactly that and nothing else. */
	struct tp_prefix cur4, cur6;
	uint32_t cur_mtu;
	struct tp_prefix pushed[TP_MAX_ROUTES]; /* routes pushed by the server that we added */
	uint32_t n_pushed;

	/* Client: the host route that keeps the connection to the server
	 * out of the tunnel when our routes cover its address (pin.c). */
	struct tn_pin {
		struct tp_prefix server;   /* family 0: no server known */
		struct tp_prefix gw;       /* the pin's gateway (family 0: on-link) */
		unsigned oif;
		int active;                /* we added it and must remove it */
	} pin;

	/* Client: pushed DNS as applied (dns.c). */
	struct {
		int method;                /* enum tn_dns_method */
		uint32_t n;
		struct tp_prefix servers[TP_MAX_DNS];
		char search[TP_SEARCH_LEN];
		int domain_pending;        /* resolved: `resolvectl domain` still to run */
		struct tn_job *job;
	} dns;

	/* Client: up/down hooks (hooks.c). */
	struct {
		struct tp_session *session; /* the session `up` ran for; NULL once down */
		struct tp_session_info info; /* its facts, for `down` */
		struct tn_job *job;
		/* Sessions are told apart by number, not by pointer (a new
		 * session may get a freed one's memory). */
		unsigned gen;                /* the current session's (0: none; else `down` is owed) */
		unsigned last_gen;
		unsigned job_gen;            /* the session the running `up` is for */
		int stopping;                /* at stop: no job starts from a callback */
		/* Hooks asked for while one runs, in order (an up that never
		 * ran and its down cancel out, so with both scripts it holds
		 * at most a down, an up and a down; with `down` only, sessions
		 * flapping during a slow one could fill it: ask() then waits). */
		struct tn_hook_call {
			int down;
			unsigned gen;
			struct tp_session_info info;
		} queue[4];
		unsigned queued;
	} hooks;

	uint64_t *down_packets, *down_bytes, *rx_nobuf, *rx_toolong, *rx_errors;
	uint64_t *up_packets, *up_bytes, *up_dropped, *up_errors;
	uint64_t *rx_super, *rx_bad, *tx_merged, *tx_super;

	struct tp_batch seg_q;           /* segments of the read being split */
};

/* offload.c */
/* Turn offloads on after the device is opened with a vnet header (logs
 * what the kernel accepted).  0, or -1 when `offload = on` gets none. */
int tun_offload_setup(struct tun *t);
/* Read one (super-)packet and append it to q, whole with its offload
 * metadata: 1, 0 for one dropped, -1 when the fd is drained or failed. */
int tun_read_vnet(struct tun *t, struct tp_batch *q);
/* Write the queue's head, merged with the same stream's segments behind
 * it: how many queued packets the write covered, 0 to retry (merging was
 * just turned off), or -1 with errno. */
int tun_write_head(struct tun *t);
/* Replace super-packet b by its plain segments at the end of q (a device
 * opened without a vnet header). */
void tun_split_one(struct tun *t, struct tp_buf *b, struct tp_batch *q);

/* apply.c */
/* Open the device and configure it from the options.  0 or -1 (logged;
 * everything it did is undone). */
int tun_device_open(struct tun *t);
/* Remove what we added and close the device.  Safe to call twice. */
void tun_device_close(struct tun *t);
/* A client learnt its addresses (TP_SI_LOCAL session-up). */
void tun_apply_session(struct tun *t, const struct tp_session_info *info);

/* pin.c */
/* A session came up (info, TP_SI_LOCAL) or went down (info NULL): make the
 * host route to the server right for the routes that are about to be in
 * place.  Called before the session's routes are applied. */
void tun_pin_update(struct tun *t, const struct tp_session_info *info);
/* Say at create (and so in `tunpipe -t`) what a covering route will do. */
void tun_explain_cover(struct tun *t);
/* Remove the host route if we added it. */
void tun_pin_remove(struct tun *t);

/* dns.c */
/* At start: put back a resolv.conf a crashed run left rewritten. */
void tun_dns_recover(struct tun *t);
/* Session up: apply its DNS servers (or say why not). */
void tun_dns_apply(struct tun *t, const struct tp_session_info *info);
/* Remove what tun_dns_apply did (at stop: waiting for the commands). */
void tun_dns_revert(struct tun *t, int at_stop);
/* "A B" of the applied servers. */
void tun_dns_list(const struct tun *t, char *out, size_t cap);

/* hooks.c */
void tun_hooks_up(struct tun *t, struct tp_session *s, const struct tp_session_info *info);
/* Session `s` went down (NULL: whichever), at_stop: run `down` to its end. */
void tun_hooks_down(struct tun *t, struct tp_session *s, int at_stop);
void tun_hooks_stop(struct tun *t);

#endif
