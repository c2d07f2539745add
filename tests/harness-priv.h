/*
 * harness-priv.h — what the harness's own files share (not for tests).
 *
 * harness.c: life cycle, data, observations; harness-host.c: the struct
 * tp_host the stages see, the chain's plumbing and the white-box controls;
 * harness-clock.c: the test clock.
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
	struct tp_net_info net;
	int has_net, net_announces;
	char stack[256];
	char names[256]; /* "a > b", for messages after the plugins are unloaded */
};

#define ST(st) (&(st)->h->stages[(st)->idx])

/* The host table every stage of every harness gets. */
void hh_host_init(struct tp_host *host);
/* Feed stage idx's down() (up = 0) or up() (up = 1); a missing callback
 * passes the batch on, as in the core. */
void hh_deliver(struct tp_harness *h, int idx, int up, struct tp_batch *q);

#endif
