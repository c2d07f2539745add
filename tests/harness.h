/* SPDX-License-Identifier: MIT */
/*
 * harness.h — run plugins between fake ends (GStreamer's GstHarness).
 *
 * The harness loads plugins by name (from $TUNPIPE_PLUGIN_PATH, which the
 * test environment points at the build tree), validates the options with
 * the core's real option parser, creates the instances with a host struct
 * of its own, and records what the chain emits at each end, the session
 * requests the stages make (abort, close, session_up), and their counters.
 * Buffers come from a real core pool: tp_harness_outstanding() counts what
 * is out, and a buffer still out when the harness is freed fails the test.
 *
 * The harness keeps the core's rules a plugin may rely on (plugin.h, THE
 * CALL SEQUENCE): a stage's callbacks never nest -- what reaches a stage
 * while it is inside a callback or a host call (emit_*, session_up) waits
 * and is delivered in order once it is out; host->session_up() sends
 * TP_EV_SESSION_UP to every other stage, top first; an empty batch is not
 * passed on.  A host service given a stage handle that is not one the
 * harness handed to create() fails the test.
 *
 * Time is a test clock shared by every harness of the process: it starts
 * at 1000000 ms and moves only in tp_harness_advance() (or _run()), which
 * fires the due timers of every harness in deadline order and handles
 * ready fds between them.  Sockets and threads are real: while advancing,
 * the clock waits (for real, bounded) while another thread of the process
 * is running, so a worker's answer is never overtaken by a timeout.
 *
 *   struct tp_harness *h = tp_harness_new("framer-len", "width = 4;");
 *   tp_harness_push_up(h, bytes, n);           // feed the stage's up()
 *   struct tp_buf *b = tp_harness_pull_up(h);  // what it emitted up
 *   ...
 *   tp_harness_buf_free(h, b);
 *   tp_harness_free(h);
 */
#ifndef TP_TESTS_HARNESS_H
#define TP_TESTS_HARNESS_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

struct tp_harness;

/* `options` is libconfig syntax ("width = 4; max_frame = 2000;"), or NULL.
 * Returns NULL if the plugin cannot load, the options are rejected or
 * create() fails; the error text is then in tp_harness_last_error(). */
struct tp_harness *tp_harness_new(const char *plugin, const char *options);
/* A chain of stages, top first, NULL-terminated; each spec is "plugin" or
 * "plugin: options".  Stage i's emit_down feeds stage i+1's down(), stage
 * i+1's emit_up feeds stage i's up().  push_down feeds the top stage,
 * push_up the bottom one; pull_down gives what the bottom stage emitted
 * down, pull_up what the top stage emitted up.  All stages share one
 * pool, one loop and the harness session. */
struct tp_harness *tp_harness_new_chain(const char *const specs[]);
const char *tp_harness_last_error(void);
/* Calls stop() (if started) and destroy() of every stage, frees what is
 * queued.  Buffers still out of the pool then fail the running Check test
 * (ck_abort_msg naming the stages and the count). */
void tp_harness_free(struct tp_harness *h);

/* stop() every started stage, top first, to look at what stop() undid;
 * whatever the stages emit afterwards is dropped (with an error line). */
void tp_harness_stop(struct tp_harness *h);
/* start() the instances, bottom first (endpoints need it; transforms
 * usually do not). */
int tp_harness_start(struct tp_harness *h);

/* Feed one buffer holding a copy of data[0..len) to down()/up() as a batch
 * of one.  The buffer has the pool's headroom. */
void tp_harness_push_down(struct tp_harness *h, const void *data, size_t len);
void tp_harness_push_up(struct tp_harness *h, const void *data, size_t len);
/* Feed a whole batch (the harness's buffers, from tp_harness_buf()). */
void tp_harness_push_down_batch(struct tp_harness *h, struct tp_batch *q);
void tp_harness_push_up_batch(struct tp_harness *h, struct tp_batch *q);
/* A pool buffer holding a copy of data, for building batches. */
struct tp_buf *tp_harness_buf(struct tp_harness *h, const void *data, size_t len);

/* What the stage emitted, oldest first; NULL when nothing is left.  The
 * caller owns the buffer: give it back with tp_harness_buf_free(). */
struct tp_buf *tp_harness_pull_down(struct tp_harness *h);
struct tp_buf *tp_harness_pull_up(struct tp_harness *h);
size_t tp_harness_queued_down(const struct tp_harness *h);
size_t tp_harness_queued_up(const struct tp_harness *h);
/* How many emit calls (batches) each direction received so far. */
size_t tp_harness_batches_down(const struct tp_harness *h);
size_t tp_harness_batches_up(const struct tp_harness *h);
void tp_harness_buf_free(struct tp_harness *h, struct tp_buf *b);

/* Deliver an event to every stage, top first (with the harness's session). */
void tp_harness_event(struct tp_harness *h, const struct tp_event *ev);

/* Number of stages; stage 0 is the top. */
int tp_harness_stages(const struct tp_harness *h);
/* Super-packets the harness split, as the core does, before a stage
 * without TP_PLUGIN_SUPER or down to a session without TP_SI_SUPER (set by
 * a session_up() of a stage or a TP_EV_SESSION_UP given to
 * tp_harness_event); the segments they became and those dropped. */
uint64_t tp_harness_super_split(const struct tp_harness *h, uint64_t *segments, uint64_t *bad);
/* The harness's ends (what pull_down/pull_up return) are plain-only stages
 * by default, as a plugin of ABI 1.0 is: super-packets reaching them are
 * split.  on = 1: they take super-packets whole (TP_PLUGIN_SUPER; down
 * still only with TP_SI_SUPER on the session). */
void tp_harness_accept_super(struct tp_harness *h, int on);
/* Value of a counter stage 0 (or `stage`) registered (0 if it never did). */
uint64_t tp_harness_counter(const struct tp_harness *h, const char *name);
uint64_t tp_harness_stage_counter(const struct tp_harness *h, int stage, const char *name);
/* session_abort() calls: of all stages, with the reason of the topmost
 * stage that aborted (NULL if none); or of one stage. */
int tp_harness_aborts(const struct tp_harness *h);
const char *tp_harness_abort_reason(const struct tp_harness *h);
int tp_harness_stage_aborts(const struct tp_harness *h, int stage);
const char *tp_harness_stage_abort_reason(const struct tp_harness *h, int stage);
/* Buffers handed out by the pool and not yet returned. */
size_t tp_harness_outstanding(const struct tp_harness *h);
/* The session the harness passes to the stage. */
struct tp_session *tp_harness_session(struct tp_harness *h);
/* What host->stack() answers (default "framer-ip"). */
void tp_harness_set_stack(struct tp_harness *h, const char *stack);
/* Last info given to host->session_up() (NULL if never). */
const struct tp_session_info *tp_harness_session_info(const struct tp_harness *h);

/* ---- white-box controls (tests that need one exact wakeup, a full pool) */

/* Make buf_alloc() fail while `limit` buffers are out (-1: no limit). */
void tp_harness_set_pool_limit(struct tp_harness *h, long limit);
/* With on = 1 (before start), fds the stages register are recorded but not
 * watched: nothing happens on them until tp_harness_fd_fire(). */
void tp_harness_manual_fds(struct tp_harness *h, int on);
/* The fd registered last and still registered (-1 if none), and the
 * events it is registered for (TP_FD_READ | TP_FD_WRITE). */
int tp_harness_fd(const struct tp_harness *h, uint32_t *events);
/* Call fd's callback once with `events`, as one wakeup of the loop. */
void tp_harness_fd_fire(struct tp_harness *h, int fd, uint32_t events);
/* Last info given to host->net_announce() (NULL if never), and how many
 * times it was called. */
const struct tp_net_info *tp_harness_net_info(const struct tp_harness *h);
int tp_harness_net_announces(const struct tp_harness *h);
/* Batches that reached an end of the chain with a non-NULL session. */
size_t tp_harness_session_emits(const struct tp_harness *h);
/* A stage's instance (what create() returned), for a test that includes
 * the plugin's own header. */
void *tp_harness_instance(struct tp_harness *h, int stage);
/* The host table and a stage's handle, for a test that drives a core
 * service (e.g. host->deframer_*) itself, as that stage would. */
const struct tp_host *tp_harness_host(const struct tp_harness *h);
struct tp_stage *tp_harness_stage_handle(struct tp_harness *h, int stage);

/* Every host->buf_alloc() call of any stage since the harness was made or
 * tp_harness_allocs_clear(): how many, and (in *sizes, if not NULL) the
 * length each asked for, in call order; refused calls included.  The
 * array is valid until the next buf_alloc call.  At most 2^20 calls are
 * recorded between clears (later ones are not). */
size_t tp_harness_allocs(const struct tp_harness *h, const size_t **sizes);
void tp_harness_allocs_clear(struct tp_harness *h);
/* Let the next n buf_alloc() calls through, then refuse one (once); -1
 * cancels.  (tp_harness_set_pool_limit refuses by count of buffers out.) */
void tp_harness_fail_alloc_after(struct tp_harness *h, long n);

/* What the stages logged through host->log() since the harness was made
 * or tp_harness_log_clear(): one "error: TEXT\n" line each ("warn",
 * "info", "debug"), and how many lines at a level.  Lines still go to
 * stderr too.  The text keeps the first MiB between clears; the counts go
 * on. */
const char *tp_harness_log_text(const struct tp_harness *h);
int tp_harness_log_count(const struct tp_harness *h, enum tp_log_level lvl);
void tp_harness_log_clear(struct tp_harness *h);

/* ---- time (one test clock for every harness; `h` is only context) ---- */

/* Move the test clock ms forward: every harness's due timers fire in
 * deadline order, ready fds are handled between them, and before each step
 * the loops are settled (rounds until quiet, waiting while another thread
 * of the process runs).  0 just settles. */
void tp_harness_advance(struct tp_harness *h, uint64_t ms);
/* The same, for the tests written when this ran in real time. */
void tp_harness_run(struct tp_harness *h, int ms);
/* Without moving the clock: wait up to real_ms of wall time for an fd of
 * any harness to be ready, then handle what is ready until quiet (no
 * waiting for other threads).  Returns the number of callbacks run. */
int tp_harness_poll(struct tp_harness *h, int real_ms);
/* The test clock, in the loops' milliseconds (host->now_ms()). */
uint64_t tp_harness_now(const struct tp_harness *h);

#endif
