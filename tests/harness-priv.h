/* SPDX-License-Identifier: MIT */
/*
 * harness-priv.h — what the harness's own files share (not for tests).
 *
 * harness.c: life cycle, data, observations; harness-host.c: the struct
 * tp_host the stages see, the chain's plumbing and the white-box controls;
 * harness-queue.c: the core's no-nesting rule (deliveries to a busy stage
 * wait); harness-clock.c: the test clock.
 */
#ifndef TP_TESTS_HARNESS_PRIV_H
#define TP_TESTS_HARNESS_PRIV_H
#include <libconfig.h>

#include "harness.h"
#include "buf.h"
#include "conf.h"

#define H_HEADROOM 64
#define H_TAILROOM 64
#define H_DEFAULT_LEN 2048
#define H_MAX_COUNTERS 32
#define H_MAX_SESSIONS 8
#define H_MAX_STAGES 8
#define H_MAX_FDS 16
/* What the records keep at most (a fuzz target's one harness lives for
 * millions of inputs): later calls are counted, not kept. */
#define H_MAX_ALLOC_RECORD (1u << 20)
#define H_MAX_LOG_TEXT (1u << 20)

/* The harness's own definitions of the opaque handles; plugins only ever
 * hold pointers to them.  A stage knows its place in the chain. */
struct tp_stage {
	struct tp_harness *h;
	int idx;
};

struct tp_session {
	void *tag;
	int open;   /* handed out by session_open and not closed yet */
	int closed; /* session_close was called on it */
};

/* An fd a stage registered (watched by the loop unless fds are manual). */
struct h_fd {
	int fd; /* -1: slot free */
	uint32_t events;
	tp_fd_cb cb;
	void *arg;
};

struct h_counter {
	char name[48];
	uint64_t value;
};

/* One plugin instance of the chain, with what it alone did. */
struct h_stage {
	struct tp_stage st;
	const struct tp_plugin *p;
	void *ctx;
	config_t cfg; /* owns the option strings the stage may keep */
	struct tp_optset *opts;
	struct h_counter counters[H_MAX_COUNTERS];
	int ncounters;
	uint64_t counter_overflow; /* handed out when the table is full */
	int aborts;
	char abort_reason[128];
	/* harness-queue.c: callbacks and host calls of this stage on the
	 * stack, and what waits for it to be free */
	int depth, flushing;
	struct hq_item *q_head, *q_tail;
};

struct tp_harness {
	struct tp_host host;
	struct h_stage stages[H_MAX_STAGES];
	int nstages;
	int started, stopped;

	struct tp_loader *ld;
	struct tp_pool *pool;
	struct tp_loop *loop;

	struct tp_batch out_down, out_up;
	size_t batches_down, batches_up;
	size_t session_emits; /* batches that reached an end with a session */
	long pool_limit;      /* buffers the stages may hold, -1: no limit */
	int manual_fds;
	struct h_fd fds[H_MAX_FDS];
	int last_fd;

	/* sessions[0] is the harness's session, passed to every callback. */
	struct tp_session sessions[H_MAX_SESSIONS];
	int closes;
	char close_reason[128];
	struct tp_session_info info;
	int has_info;
	uint32_t si_flags;    /* the session's TP_SI_* (session_up or a SESSION_UP event) */
	uint64_t split[4];    /* core/super.c counters: split, segments, bad, nobuf */
	int ends_super;       /* the fake ends take super-packets */
	struct tp_net_info net;
	int has_net, net_announces;
	char stack[256];
	char names[256]; /* "a > b", for messages after the plugins are unloaded */

	int flush_scheduled;          /* a deferred hh_flush_all is queued on the loop */
	struct tp_harness *live_next; /* the live harnesses, to check stage handles */

	/* Every host->buf_alloc() call's length, in order (since the last
	 * tp_harness_allocs_clear), and the injected failure. */
	size_t *alloc_sizes;
	size_t nallocs, alloc_cap;
	long fail_alloc_after; /* -1: none */

	/* What the stages logged: "level: text\n" lines, and a count per level. */
	char *log;
	size_t log_len, log_cap;
	int log_counts[4];
};

/* The harness of a stage handle a plugin passed to a host service, checked
 * (a handle that is no stage of a live harness fails the test, naming the
 * service) -- the core would misbehave on it. */
struct tp_harness *hh_h(struct tp_stage *st, const char *service);
#define HH(st) hh_h((st), __func__)
#define ST(st) (&HH(st)->stages[(st)->idx])

/* The host table every stage of every harness gets. */
void hh_host_init(struct tp_host *host);
/* A harness is live from its allocation to its free: only stage handles
 * of live harnesses are accepted by the host services. */
void hh_live_add(struct tp_harness *h);
void hh_live_remove(struct tp_harness *h);
/* Pass what stage idx emitted to its neighbour, or record it at an end. */
void hh_emit(struct tp_harness *h, int idx, int up, struct tp_batch *q);

/* harness-queue.c.  Feed stage idx's down() (up = 0) or up() (up = 1); a
 * missing callback passes the batch on, as in the core.  Queued while the
 * stage is busy. */
/* Split the super-packets of q for a stage with stage_flags (the core's
 * caps rule). */
void hh_plain(struct tp_harness *h, uint32_t stage_flags, int down, struct tp_batch *q);
void hh_deliver(struct tp_harness *h, int idx, int up, struct tp_batch *q);
/* Deliver ev to stage idx (queued while it is busy). */
void hh_event(struct tp_harness *h, int idx, const struct tp_event *ev);
/* start()/stop() of stage idx, marked busy; a failed start or a stop drops
 * what the stage held. */
int hh_start(struct tp_harness *h, int idx);
void hh_stop(struct tp_harness *h, int idx);
/* Around a host call that can lead back into stages. */
void hh_enter(struct h_stage *s);
void hh_leave(struct tp_harness *h, struct h_stage *s);
/* Deliver what free stages hold (the end of a loop round). */
void hh_flush_all(struct tp_harness *h);
/* Give back what every queue holds (stop, free). */
void hh_drop_queues(struct tp_harness *h);

#endif
