/*
 * harness.h — run one plugin between fake ends (GStreamer's GstHarness).
 *
 * The harness loads a plugin by name (from $TUNPIPE_PLUGIN_PATH, which the
 * test environment points at the build tree), validates the options with
 * the core's real option parser, creates one instance with a host struct of
 * its own, and records what the stage emits in each direction, the session
 * requests it makes (abort, close, session_up), and its counters.  Buffers
 * come from a real core pool, so leaks show up in tp_harness_outstanding().
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
const char *tp_harness_last_error(void);
/* Calls stop() (if started) and destroy(), frees what is queued. */
void tp_harness_free(struct tp_harness *h);

/* start() the instance (endpoints need it; transforms usually do not). */
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

/* Deliver an event to the stage (with the harness's session). */
void tp_harness_event(struct tp_harness *h, const struct tp_event *ev);

/* Value of a counter the stage registered (0 if it never did). */
uint64_t tp_harness_counter(const struct tp_harness *h, const char *name);
/* Number of session_abort() calls and the last reason (NULL if none). */
int tp_harness_aborts(const struct tp_harness *h);
const char *tp_harness_abort_reason(const struct tp_harness *h);
/* Buffers handed out by the pool and not yet returned. */
size_t tp_harness_outstanding(const struct tp_harness *h);
/* The session the harness passes to the stage. */
struct tp_session *tp_harness_session(struct tp_harness *h);
/* What host->stack() answers (default "framer-ip"). */
void tp_harness_set_stack(struct tp_harness *h, const char *stack);
/* Last info given to host->session_up() (NULL if never). */
const struct tp_session_info *tp_harness_session_info(const struct tp_harness *h);

/* Run the real event loop for up to ms milliseconds (endpoint tests). */
void tp_harness_run(struct tp_harness *h, int ms);

#endif
