/* SPDX-License-Identifier: MIT */
/*
 * tunpipe/plugin.h — the one header a tunpipe plugin includes.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `tp_plugin_descriptor`, a `struct tp_plugin`.  The core (the `tunpipe`
 * program) loads it, checks its ABI version, validates the stage's options
 * against the plugin's option table, and wires it into a pipeline:
 *
 *     top endpoint (source) ── transform ── … ── transform ── bottom endpoint (sink)
 *          e.g. tun              framer-ip                       tls-http
 *
 * Data moves in two directions.  `down` goes from the top endpoint towards
 * the bottom one (TUN → network); `up` goes the other way (network → TUN).
 * A stage receives a batch on its `down`/`up` callback and hands batches on
 * with host->emit_down()/emit_up().  Ownership of every buffer in a batch
 * passes with each call: the callee either emits it onward or frees it.
 *
 * Sessions.  The bottom endpoint owns connections.  For each connection it
 * opens a session (host->session_open); the core then creates private
 * instances of every transform between the two endpoints for that session.
 * The endpoints themselves are shared by all sessions.  Handshake results
 * (address, gateway, MTU, routes, DNS) reach every stage as a
 * TP_EV_SESSION_UP event; the core's router uses them to route packets from
 * the top endpoint to the right session and to drop spoofed sources.
 *
 * Threading: everything runs on the core's single event-loop thread.  No
 * callback may block.  Host services may be called from any callback.
 *
 * Call sequence and re-entrancy: see "THE CALL SEQUENCE" below.
 *
 * Compatibility rules (OpenVPN's STRUCTVER idea): the structs below are
 * append-only.  A new field bumps TP_ABI_MINOR; anything else bumps
 * TP_ABI_MAJOR.  The core refuses a plugin built for another major or for a
 * newer minor than its own.  Structs carry their size so either side can
 * tell which fields the other knows.
 */
#ifndef TUNPIPE_PLUGIN_H
#define TUNPIPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <arpa/inet.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TP_ABI_MAJOR 1
#define TP_ABI_MINOR 2

/*
 * ABI history (append-only; a plugin built for 1.N loads in any core 1.M, M >= N)
 *
 *   1.0  first release: descriptor, options, host services, deframer.
 *   1.1  tp_option.when (an option that belongs to one value of an enum
 *        option, e.g. "role=server"); tp_plugin.option_size (the stride of
 *        the option table, so rows can grow); tp_plugin.framing and struct
 *        tp_framing (framing as a core service: a framer states its format,
 *        the core runs the deframer, up(), down(), the counters and the
 *        truncation log); TP_PLUGIN_DEFINE and the TP_OPTION_* row macros;
 *        TP_HOST_HAS(); tp_plugin.flags with TP_PLUGIN_LOCAL_ONLY (a
 *        transform that leaves the wire bytes alone is not part of the
 *        stack both ends agree on); `search` (DNS search domains)
 *        appended to tp_session_info and tp_net_info;
 *        tp_host.exit (stop the process with an exit status: a
 *        permanent error) and TP_EXIT_AUTH/TP_EXIT_VERIFY.
 *   1.2  super-packets: struct tp_offload appended to struct tp_buf (the
 *        offload metadata of a TUN super-packet), TP_PLUGIN_SUPER (a stage
 *        that takes them; the core segments for every other stage) and
 *        TP_SI_SUPER (a session whose peer agreed to receive them).  A
 *        plugin built for 1.0/1.1 never sets TP_PLUGIN_SUPER, so it never
 *        sees a buffer whose metadata is set.
 *        TP_FRAMING() (source only: a framing table with its size set).
 *        tp_prefix_str() (source only: an address prefix as text).
 *        tp_offload_canonical() (source only: metadata as a kernel makes it).
 *
 * How the core reads an older plugin: it keeps its own copy of the
 * descriptor, as long as the core's struct, zero beyond the plugin's
 * `size` (so a field the plugin does not know reads as "absent"), and of
 * the option table, read with the plugin's `option_size` as the stride (0:
 * the row of the plugin's minor; 1.0's ends before `when`).  Likewise for
 * struct tp_framing by its `size`.
 */

/* The symbol every plugin exports (use TP_PLUGIN_EXPORT to define it). */
#define TP_PLUGIN_SYMBOL "tp_plugin_descriptor"
#define TP_PLUGIN_EXPORT \
	__attribute__((visibility("default"))) const struct tp_plugin tp_plugin_descriptor

struct tp_stage;   /* the core's handle for one stage instance (opaque) */
struct tp_session; /* one peer connection (opaque) */
struct tp_timer;   /* a pending timer (opaque) */

/* ------------------------------------------------------------------------
 * THE CALL SEQUENCE
 *
 * Endpoints (one instance per pipeline, shared by its sessions):
 *
 *   tunpipe -t FILE        every transform: create(), wire_id(), destroy()
 *                          top: create(); bottom: create()
 *                          bottom: destroy(); top: destroy()    (nothing starts)
 *   tunpipe -c FILE        the same creates (the transforms' instances are
 *                          throwaways that check the options), then
 *                          top: start(); bottom: start()   (pipelines in order)
 *     ... running ...      down/up/event, fd and timer callbacks
 *   SIGTERM/SIGINT         pipelines in reverse order:
 *                          bottom: stop(); every session closes (below);
 *                          top: stop().  Then, pipelines in order:
 *                          bottom: destroy(); top: destroy()
 *
 *   A start() that fails stops the run: what started is stopped, then all
 *   is destroyed.  stop() runs only after a start() that succeeded.
 *
 * Transforms (one instance per session):
 *
 *   bottom: session_open()  each transform, top to bottom: create(), then
 *                           each: start() (a failure: stop the started
 *                           ones, destroy all, session_open() gives NULL)
 *   bottom: session_up()    TP_EV_SESSION_UP to the top endpoint, then to
 *                           each transform, top to bottom (not to the bottom
 *                           endpoint, which called)
 *   any: session_abort()    at the end of the loop round: TP_EV_CLOSE_REQUEST
 *                           to the bottom endpoint, which calls session_close()
 *   bottom: session_close() TP_EV_SESSION_DOWN to the top endpoint, then each
 *                           transform, top to bottom; no data reaches the
 *                           session any more; at the end of the loop round
 *                           each transform, bottom to top: stop(), destroy()
 *   SIGHUP                  TP_EV_RELOAD to top, bottom, then every live
 *                           session's transforms, top to bottom
 *
 * Re-entrancy: a stage instance's callbacks never nest.  While an instance
 * runs one of its callbacks (start, stop, down, up, event) or a host call,
 * the core calls no down, up or event of that same instance: what would
 * reach it is held and delivered, in the order it was sent, as soon as the
 * instance is out: when the callback the core called returns or, for a
 * host call made from the plugin's own fd or timer callback, at the end of
 * the loop round.  So session_up() returns before any down() that a
 * SESSION_UP handler sent the caller, and emit_down() returns before the
 * up() that a loopback below answers with.  Other instances (other
 * sessions' instances of the same plugin too) are called at once.  Data
 * held for a session that closes before its turn is dropped and counted,
 * as all data sent to a closing session is; held events are always
 * delivered.  fd and timer callbacks run only from the loop, never inside
 * a host call.
 *
 * Host calls that run other stages' callbacks before they return:
 * emit_down, emit_up, session_open (create/start of the transforms),
 * session_up and session_close (event).  deframe calls the caller's own
 * len_fn, by design.  No other host call calls any plugin.
 *
 * Versions: create() gets the host the core built; host->size says which
 * services it has.  Before using a service added after the oldest core you
 * support, test TP_HOST_HAS(host, field).  Structs you pass in carry their
 * size (set it to sizeof): the core reads only what your size covers,
 * zeroes what you do not know, writes back (lease) no more than it, and
 * refuses a size below ABI 1.0's.  The structs the core hands you
 * (ev->info) carry the core's size: read a field added after 1.0 only
 * when that size covers it.
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * Packet buffers
 *
 * A buffer is one contiguous allocation: [head … data … data+len … end).
 * The space before `data` is headroom (a framer prepends its header there
 * without copying the payload); the space after `data+len` is tailroom.
 * The core sizes headroom as the sum of what every stage of the pipeline
 * declares in its descriptor, so a buffer allocated anywhere in the
 * pipeline has room for every header added below it.
 *
 * Buffers come from a pool (host->buf_alloc) and go back to it
 * (host->buf_free); no allocation happens per packet once the pool is warm.
 * Plugins may move `data`/`len` within [head, end) freely, with the helpers
 * below, and must not touch the other fields.
 * ------------------------------------------------------------------------ */
struct tp_buf {
	uint8_t *data;       /* first byte of payload */
	uint32_t len;        /* payload length */
	uint32_t flags;      /* reserved for the core; plugins leave it */
	uint8_t *head;       /* start of the allocation */
	uint8_t *end;        /* one past the end of the allocation */
	struct tp_buf *next; /* batch link, owned by whoever owns the buffer */
	void *pool_priv;     /* the pool's bookkeeping */
	/* ---- 1.2 ---- */
	struct tp_offload {
		uint8_t gso_type;     /* TP_GSO_*: how the payload is to be segmented */
		uint8_t flags;        /* TP_OFF_* */
		uint16_t gso_size;    /* payload bytes per segment (TP_GSO_NONE: 0) */
		uint16_t hdr_len;     /* IP + L4 header bytes of the first segment */
		uint16_t csum_start;  /* TP_OFF_NEEDS_CSUM: where the L4 checksum sum starts */
		uint16_t csum_offset; /* ... and where, from csum_start, it is stored */
	} off;               /* all zero: a plain IP packet (or not a packet at all) */
};

/*
 * Super-packets (1.2).  A TUN device with offloads hands over TCP or UDP
 * "super-packets" of up to 64 KiB: one IP header and one L4 header for a
 * payload to be cut into gso_size pieces, the L4 checksum possibly left
 * partial (only the pseudo-header sum in place: TP_OFF_NEEDS_CSUM).  Such a
 * buffer has `off` set; it reaches only stages that declare
 * TP_PLUGIN_SUPER, and only sessions with TP_SI_SUPER: before any other
 * delivery the core replaces it with the plain IP packets it stands for
 * (every checksum complete).  A stage that declares TP_PLUGIN_SUPER either
 * carries `off` along (the buffer stays one IP packet with its metadata)
 * or, like a framer, encodes it into the bytes and zeroes it.  Buffers
 * from buf_alloc have `off` zeroed.
 */
enum { TP_GSO_NONE = 0, TP_GSO_TCP4 = 1, TP_GSO_TCP6 = 2, TP_GSO_UDP = 3 };
#define TP_OFF_NEEDS_CSUM (1u << 0)
#define TP_OFF_ECN (1u << 1)  /* TCP: the sender uses ECN (CWR on the first segment only) */
#define TP_OFF_KNOWN_FLAGS (TP_OFF_NEEDS_CSUM | TP_OFF_ECN)
static inline int tp_buf_is_super(const struct tp_buf *b)
{
	return b->off.gso_type != TP_GSO_NONE || b->off.flags != 0;
}

/* Whether o describes the IP packet p (its first n bytes, n >= 10; the
 * whole packet is at least 20) the way a kernel does: a GSO type matches
 * the IP version and protocol, and a partial checksum sits in the TCP or
 * UDP header right behind the IP header (csum_start = IHL * 4 or 40,
 * csum_offset 16 or 6).  Anything else would make whoever completes the
 * checksum (we, or the kernel behind the TUN) write it elsewhere, e.g.
 * over the source address after the anti-spoofing check: a peer's
 * metadata is refused unless it passes (source only). */
static inline int tp_offload_canonical(const struct tp_offload *o, const uint8_t *p, size_t n)
{
	unsigned ver, iphl, proto;

	if (n < 10)
		return 0;
	ver = p[0] >> 4;
	if (ver == 4) {
		iphl = (p[0] & 15u) * 4;
		proto = p[9];
		if (iphl < 20)
			return 0;
	} else if (ver == 6) {
		iphl = 40;
		proto = p[6];
	} else {
		return 0;
	}
	if ((o->gso_type == TP_GSO_TCP4 && (ver != 4 || proto != 6)) ||
	    (o->gso_type == TP_GSO_TCP6 && (ver != 6 || proto != 6)) ||
	    (o->gso_type == TP_GSO_UDP && proto != 17) || o->gso_type > TP_GSO_UDP)
		return 0;
	if (!(o->flags & TP_OFF_NEEDS_CSUM))
		return o->csum_start == 0 && o->csum_offset == 0;
	return o->csum_start == iphl &&
	       ((proto == 6 && o->csum_offset == 16) || (proto == 17 && o->csum_offset == 6));
}

static inline size_t tp_buf_headroom(const struct tp_buf *b) { return (size_t)(b->data - b->head); }
static inline size_t tp_buf_tailroom(const struct tp_buf *b) { return (size_t)(b->end - (b->data + b->len)); }
/* Grow the payload at the front by n bytes (n <= headroom); returns the new data. */
static inline uint8_t *tp_buf_push(struct tp_buf *b, size_t n) { b->data -= n; b->len += (uint32_t)n; return b->data; }
/* Drop n bytes from the front (n <= len). */
static inline uint8_t *tp_buf_pull(struct tp_buf *b, size_t n) { b->data += n; b->len -= (uint32_t)n; return b->data; }
/* Grow the payload at the back by n bytes (n <= tailroom); returns where they start. */
static inline uint8_t *tp_buf_put(struct tp_buf *b, size_t n) { uint8_t *p = b->data + b->len; b->len += (uint32_t)n; return p; }
/* Keep only the first n bytes. */
static inline void tp_buf_trim(struct tp_buf *b, size_t n) { if (n < b->len) b->len = (uint32_t)n; }

/*
 * A batch: a singly linked list of buffers with its tail and count, so
 * appending is O(1).  Batches live on the caller's stack; only the buffers
 * are pooled.  An empty batch has head == NULL, count == 0.
 */
struct tp_batch {
	struct tp_buf *head;
	struct tp_buf *tail;
	uint32_t count;
	uint32_t bytes;
};

#define TP_BATCH_INIT { NULL, NULL, 0, 0 }

static inline void tp_batch_init(struct tp_batch *q) { q->head = q->tail = NULL; q->count = q->bytes = 0; }
static inline void tp_batch_add(struct tp_batch *q, struct tp_buf *b)
{
	b->next = NULL;
	if (q->tail) q->tail->next = b; else q->head = b;
	q->tail = b;
	q->count++;
	q->bytes += b->len;
}
/* Take the first buffer off the batch (NULL when empty). */
static inline struct tp_buf *tp_batch_pop(struct tp_batch *q)
{
	struct tp_buf *b = q->head;
	if (!b) return NULL;
	q->head = b->next;
	if (!q->head) q->tail = NULL;
	q->count--;
	q->bytes -= b->len;
	b->next = NULL;
	return b;
}
/* Move every buffer of `from` to the end of `to`; `from` becomes empty. */
static inline void tp_batch_splice(struct tp_batch *to, struct tp_batch *from)
{
	if (!from->head) return;
	if (to->tail) to->tail->next = from->head; else to->head = from->head;
	to->tail = from->tail;
	to->count += from->count;
	to->bytes += from->bytes;
	tp_batch_init(from);
}

/* ------------------------------------------------------------------------
 * Link types: what a stage takes and gives on each side.
 *
 * `top` is the side towards the TUN, `bottom` the side towards the network.
 * A stage takes and gives the same kind of data on a given side.  Masks are
 * allowed where a stage accepts several kinds (framer-len carries IP packets
 * or opaque messages).  The core refuses a pipeline where
 * (upper.bottom & lower.top) == 0, naming both stages and config lines.
 * ------------------------------------------------------------------------ */
enum {
	TP_DATA_NONE = 0,
	TP_DATA_IP = 1u << 0,     /* whole IPv4/IPv6 packets, one per buffer */
	TP_DATA_MSG = 1u << 1,    /* opaque messages, one per buffer, boundaries kept */
	TP_DATA_STREAM = 1u << 2, /* a byte stream: buffer boundaries mean nothing */
};

enum tp_kind {
	TP_KIND_SOURCE = 1,    /* top endpoint: first stage (e.g. tun); shared by all sessions */
	TP_KIND_TRANSFORM = 2, /* middle stage: one instance per session */
	TP_KIND_SINK = 3,      /* bottom endpoint: last stage (e.g. tls-http); owns sessions */
};

/* ------------------------------------------------------------------------
 * Options (Fluent Bit's config_map): the core parses the stage's config
 * group, checks every key against this table (unknown key, wrong type,
 * missing required, out of range, not one of the choices) and writes the
 * values into a zeroed struct of `config_size` bytes at each `offset`.
 * The same table drives `tunpipe inspect NAME`.
 *
 * C types at `offset`:
 *   TP_OPT_STRING   const char *        (NULL when absent and no default)
 *   TP_OPT_INT      int64_t             (checked against min..max)
 *   TP_OPT_BOOL     int                 (0 or 1)
 *   TP_OPT_ENUM     int                 (index into `choices`, "a|b|c")
 *   TP_OPT_STRLIST  const char *const * (NULL-terminated; never NULL:
 *                                        an absent list is an empty one)
 *   TP_OPT_PATH     const char *        (a file name; a relative one is
 *                                        resolved against the directory of
 *                                        the config file that names it)
 * Strings stay valid until the stage is destroyed.  `def` is the default
 * written as it would be in the config file (NULL: no default).
 * ------------------------------------------------------------------------ */
enum tp_opt_type {
	TP_OPT_END = 0,
	TP_OPT_STRING,
	TP_OPT_INT,
	TP_OPT_BOOL,
	TP_OPT_ENUM,
	TP_OPT_STRLIST,
	TP_OPT_PATH,
};

#define TP_OPT_REQUIRED (1u << 0)
#define TP_OPT_SECRET (1u << 1) /* never printed (inspect shows no default, logs never show it) */

struct tp_option {
	enum tp_opt_type type;
	const char *name;
	const char *def;
	uint32_t flags;
	int64_t min, max;    /* TP_OPT_INT; both 0 = unbounded */
	const char *choices; /* TP_OPT_ENUM: "client|server" */
	size_t offset;       /* where the value goes in the config struct */
	const char *help;
	/* ---- 1.1 ---- */
	/* "OPT=VALUE": the row applies only when the stage's enum option OPT
	 * (declared earlier in the table) has that value, e.g. "role=server".
	 * Setting the option otherwise is an error naming its role; its
	 * default is written only when the row applies.  Two rows may share a
	 * name (and offset) when their `when` differ: one default per role.
	 * NULL: the option always applies. */
	const char *when;
};

#define TP_OPTIONS_END { .type = TP_OPT_END }

/*
 * Option rows, so a table states only what is the plugin's own.  The option
 * is named after the config struct's field; extra designated initializers
 * may follow the help text, e.g.
 *
 *   TP_OPTION_INT(struct ml_conf, limit, "1200", 68, 65535, "largest packet"),
 *   TP_OPTION_PATH(struct th_conf, cert, NULL, "certificate chain (PEM)",
 *                  .flags = TP_OPT_REQUIRED, .when = "role=server"),
 */
#define TP_OPTION_(type_, conf_, field_, def_, help_, ...) \
	{ .type = (type_), .name = #field_, .def = (def_), \
	  .offset = offsetof(conf_, field_), .help = (help_), __VA_ARGS__ }
#define TP_OPTION_STRING(conf, field, def, help, ...) TP_OPTION_(TP_OPT_STRING, conf, field, def, help, __VA_ARGS__)
#define TP_OPTION_PATH(conf, field, def, help, ...) TP_OPTION_(TP_OPT_PATH, conf, field, def, help, __VA_ARGS__)
#define TP_OPTION_BOOL(conf, field, def, help, ...) TP_OPTION_(TP_OPT_BOOL, conf, field, def, help, __VA_ARGS__)
#define TP_OPTION_LIST(conf, field, help, ...) TP_OPTION_(TP_OPT_STRLIST, conf, field, NULL, help, __VA_ARGS__)
#define TP_OPTION_INT(conf, field, def, lo, hi, help, ...) \
	TP_OPTION_(TP_OPT_INT, conf, field, def, help, .min = (lo), .max = (hi), __VA_ARGS__)
#define TP_OPTION_ENUM(conf, field, def, choices_, help, ...) \
	TP_OPTION_(TP_OPT_ENUM, conf, field, def, help, .choices = (choices_), __VA_ARGS__)

/* ------------------------------------------------------------------------
 * Addresses and session information
 * ------------------------------------------------------------------------ */
struct tp_prefix {
	uint8_t family;    /* AF_INET or AF_INET6; 0 = unset */
	uint8_t plen;      /* prefix length */
	uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
};

/* "10.0.0.2/24" (with_len) or "10.0.0.2" into buf, "" when p holds no
 * address; returns buf.  One formatting for the core and the plugins
 * (source only: nothing of ours is called). */
static inline const char *tp_prefix_str(const struct tp_prefix *p, int with_len, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if ((p->family != AF_INET && p->family != AF_INET6) || !inet_ntop(p->family, p->addr, a, sizeof(a)))
		return buf;
	if (with_len)
		snprintf(buf, len, "%s/%u", a, p->plen);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

#define TP_MAX_ROUTES 16
#define TP_MAX_DNS 4

/* DNS search domains, space-separated, with the terminating NUL. */
#define TP_SEARCH_LEN 256

struct tp_session_info {
	uint32_t size;              /* sizeof(struct tp_session_info) of the writer */
	uint32_t flags;             /* TP_SI_* */
	struct tp_prefix addr4;     /* tunnel address/prefix of the peer (or us, with TP_SI_LOCAL) */
	struct tp_prefix gw4;       /* gateway (plen unused) */
	struct tp_prefix addr6;
	struct tp_prefix gw6;
	uint32_t mtu;               /* 0 = unchanged */
	uint32_t n_routes;
	struct tp_prefix routes[TP_MAX_ROUTES];
	uint32_t n_dns;
	struct tp_prefix dns[TP_MAX_DNS];
	char user[64];              /* authenticated user name, "" if none */
	char peer[64];              /* remote transport address, "1.2.3.4:5678" (a client's
	                             * through an HTTP proxy: the proxy's) */
	/* 1.1: DNS search domains, space-separated ("" none); a plugin of 1.0
	 * reads as "" (the core zeroes what a smaller struct lacks). */
	char search[TP_SEARCH_LEN];
};

/*
 * TP_SI_LOCAL: the addresses describe this host (a client learnt them from
 * the server).  The top endpoint applies them; the router sends every down
 * packet to this session and does not filter sources.
 * Without it the addresses are the remote peer's (a server's session): the
 * router sends a session only packets for its addresses and drops up packets
 * whose source is not one of them.
 */
#define TP_SI_LOCAL (1u << 0)
/*
 * TP_SI_SUPER (1.2): both ends agreed in the handshake to carry
 * super-packets whole (tls-http: Simple-VPN-Offload).  Without it the core
 * segments every super-packet before it reaches the session's first
 * transform, so a peer that did not agree sees only plain packets.
 */
#define TP_SI_SUPER (1u << 1)

/* What the top endpoint announces about its network (server side): the
 * core builds the address pool from it. */
struct tp_net_info {
	uint32_t size;
	struct tp_prefix addr4;     /* the TUN's own address/prefix (gateway for clients) */
	struct tp_prefix addr6;
	struct tp_prefix pool4_first, pool4_last; /* family 0 = rest of addr4's subnet */
	uint32_t mtu;
	uint32_t n_routes;
	struct tp_prefix routes[TP_MAX_ROUTES];   /* pushed to clients */
	uint32_t n_dns;
	struct tp_prefix dns[TP_MAX_DNS];
	char search[TP_SEARCH_LEN];  /* 1.1: DNS search domains pushed to clients */
};

/* ------------------------------------------------------------------------
 * Events delivered to stage->event()
 * ------------------------------------------------------------------------ */
enum tp_event_type {
	TP_EV_SESSION_UP = 1, /* info: handshake done; every stage but the bottom endpoint
			       * (which caused it) gets it */
	TP_EV_SESSION_DOWN,   /* reason: the session is going away; likewise */
	TP_EV_CLOSE_REQUEST,  /* to the bottom endpoint only: a stage asked to close the session */
	TP_EV_RELOAD,         /* SIGHUP: re-read files (htpasswd, …) */
};

struct tp_event {
	enum tp_event_type type;
	const struct tp_session_info *info; /* SESSION_UP */
	const char *reason;                 /* SESSION_DOWN, CLOSE_REQUEST */
};

/* ------------------------------------------------------------------------
 * Host services: what the core offers a plugin.  Passed to create(); the
 * pointer stays valid for the stage's life.  `st` is always the calling
 * stage's own handle (the one create() received).
 * ------------------------------------------------------------------------ */
enum tp_log_level { TP_LOG_ERROR = 0, TP_LOG_WARN, TP_LOG_INFO, TP_LOG_DEBUG };

#define TP_FD_READ (1u << 0)
#define TP_FD_WRITE (1u << 1)
#define TP_FD_ERROR (1u << 2) /* reported only: error or hang-up */

typedef void (*tp_fd_cb)(void *arg, int fd, uint32_t events);
typedef void (*tp_timer_cb)(void *arg);

struct tp_deframer; /* stream reassembly state (opaque) */
/*
 * A framer's length function.  `p` points at the start of the next frame
 * and `avail` bytes are readable there (at least min(hdr_bytes, what the
 * stream has delivered so far); possibly more, running into later frames).
 * Return the frame's total length in bytes, header included (> 0), once
 * those bytes are enough to know it; 0 when more bytes are needed (only
 * while avail < hdr_bytes); or -1 when the bytes cannot start a valid
 * frame (log and count the reason first: the deframer only stops).  Any
 * other answer is a bug the deframer refuses like -1, with an error log.
 */
typedef int64_t (*tp_frame_len_fn)(void *arg, const uint8_t *p, size_t avail);

/* Whether the host a plugin was given has a field (a service added in a
 * later minor than the oldest core the plugin wants to run in). */
#define TP_HOST_HAS(host, field) \
	(offsetof(struct tp_host, field) + sizeof((host)->field) <= (host)->size)

struct tp_host {
	uint32_t size; /* sizeof(struct tp_host) as the core built it */
	uint16_t abi_major, abi_minor;

	/* Log one line; the core prefixes time, level and the stage's name.
	 * Never pass secrets. */
	void (*log)(struct tp_stage *st, enum tp_log_level lvl, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* A buffer with at least `len` bytes of payload room after `data`
	 * (len == 0 means the pool's default, 2 KiB: ask for the size you
	 * need, e.g. the MTU), with the pipeline's headroom before `data`.
	 * buf->len is 0.  NULL when the pool's limit is reached: drop and count. */
	struct tp_buf *(*buf_alloc)(struct tp_stage *st, size_t len);
	void (*buf_free)(struct tp_stage *st, struct tp_buf *b);
	/* Free every buffer of a batch and leave it empty. */
	void (*batch_free)(struct tp_stage *st, struct tp_batch *q);

	/* Hand a batch to the next stage down / up.  The batch is emptied; its
	 * buffers now belong to the next stage.  `s` is the session the data
	 * belongs to: transforms pass on the one they received; the bottom
	 * endpoint names the session of the connection; the top endpoint passes
	 * NULL (the router picks the session per packet).  Nothing re-enters
	 * the caller before they return (see THE CALL SEQUENCE). */
	void (*emit_down)(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);
	void (*emit_up)(struct tp_stage *st, struct tp_session *s, struct tp_batch *q);

	/* Event loop.  `events` is TP_FD_READ|TP_FD_WRITE.  The callback gets
	 * the events that happened.  fd_del before closing the fd. */
	int (*fd_add)(struct tp_stage *st, int fd, uint32_t events, tp_fd_cb cb, void *arg);
	int (*fd_mod)(struct tp_stage *st, int fd, uint32_t events);
	void (*fd_del)(struct tp_stage *st, int fd);
	/* One-shot timer after `ms` milliseconds.  Cancel it before freeing
	 * `arg`; a fired timer is gone (do not cancel it). */
	struct tp_timer *(*timer_add)(struct tp_stage *st, uint64_t ms, tp_timer_cb cb, void *arg);
	void (*timer_cancel)(struct tp_stage *st, struct tp_timer *t);
	uint64_t (*now_ms)(struct tp_stage *st); /* monotonic */

	/* A named counter of this stage instance, zeroed; increment it
	 * directly.  The core prints counters at exit and on SIGUSR1, and sums
	 * per-session instances into the pipeline's totals when they end.
	 * Call at create(); the pointer lives as long as the stage. */
	uint64_t *(*counter)(struct tp_stage *st, const char *name);

	/* ---- sessions: bottom endpoint only ---- */
	/* Open a session for a new connection; the core instantiates the
	 * per-session transforms.  `tag` is the plugin's own pointer, handed
	 * back by session_tag().  NULL on failure (logged). */
	struct tp_session *(*session_open)(struct tp_stage *st, void *tag);
	void *(*session_tag)(struct tp_session *s);
	/* Ask the core for a tunnel address for `user` (server role): fills
	 * addr4/gw4/addr6/mtu/routes/dns of `info` from the pool the top
	 * endpoint announced; the same user gets the same address back when it
	 * is free.  Returns 0, or -1 when the pool is exhausted or absent.  The
	 * lease ends with the session. */
	int (*lease)(struct tp_stage *st, struct tp_session *s, const char *user,
		     struct tp_session_info *info);
	/* Handshake done: broadcast TP_EV_SESSION_UP to every stage and teach
	 * the router.  The core copies `info`.  What the handlers send the
	 * caller waits until this returns (see THE CALL SEQUENCE). */
	int (*session_up)(struct tp_stage *st, struct tp_session *s, const struct tp_session_info *info);
	/* The connection is gone: the core broadcasts TP_EV_SESSION_DOWN,
	 * releases the lease, and destroys the session's transforms after the
	 * current callback returns.  `s` is invalid afterwards. */
	void (*session_close)(struct tp_stage *st, struct tp_session *s, const char *reason);

	/* ---- any stage ---- */
	/* Ask for the session to be closed (bad input from the peer).  The core
	 * sends TP_EV_CLOSE_REQUEST to the bottom endpoint, which tears the
	 * connection down and calls session_close().  Safe to call repeatedly. */
	void (*session_abort)(struct tp_stage *st, struct tp_session *s, const char *reason);

	/* The stack between the two endpoints as a wire string, e.g.
	 * "compress-lz4,framer-len/2": each transform's wire_id (or its plugin
	 * name), top to bottom.  Used to agree on the stack in a handshake.
	 * Transforms with TP_PLUGIN_LOCAL_ONLY are left out. */
	const char *(*stack)(struct tp_stage *st);

	/* ---- top endpoint only ---- */
	/* Announce the local tunnel network; the core builds the address pool
	 * (server side). */
	int (*net_announce)(struct tp_stage *st, const struct tp_net_info *net);

	/* ---- framers: splitting a byte stream into frames ----
	 * A framer describes its format with one function and the core does
	 * the reassembly: chunks with any boundaries in, whole frames out,
	 * each in its own pooled buffer, every byte copied once, no memmove
	 * of the rest of the stream per frame.  See tp_frame_len_fn.  The
	 * deframer registers two counters on the stage: `nobuf` (frames
	 * skipped because the pool was exhausted; the stream stays in step)
	 * and `dropped` (bytes discarded from a refused frame on). */
	struct tp_deframer *(*deframer_new)(struct tp_stage *st, uint32_t hdr_bytes,
					    tp_frame_len_fn len_fn, void *arg);
	/* Consume every buffer of `in` (freed) and append the frames they
	 * complete to `out`, in order, the header included (pull it off with
	 * tp_buf_pull).  Returns 0, or -1 once len_fn has refused the stream:
	 * the frames before the bad one are in `out`, and from then on every
	 * byte fed is dropped (the caller aborts the session). */
	int (*deframe)(struct tp_deframer *d, struct tp_batch *in, struct tp_batch *out);
	/* Bytes of an unfinished frame held back (non-zero at the end of a
	 * session means the stream was cut mid-frame). */
	size_t (*deframer_pending)(const struct tp_deframer *d);
	void (*deframer_free)(struct tp_deframer *d);

	/* ---- any stage (1.1, check TP_HOST_HAS(host, exit)) ---- */
	/* A permanent error (say a client whose password or server
	 * certificate is refused): ask the core to stop the whole process
	 * after the current callback, and to exit with `status` (1..125; the
	 * first request wins).  `reason` is logged once at error level; log
	 * the details yourself before.  The plugin's stop() still runs. */
	void (*exit)(struct tp_stage *st, int status, const char *reason);
};

/* Exit statuses a plugin asks for with tp_host.exit (tunpipe(8) lists them). */
#define TP_EXIT_AUTH 3   /* the peer refused our credentials */
#define TP_EXIT_VERIFY 4 /* the peer's certificate failed verification */
#define TP_EXIT_PROXY 5  /* an HTTP proxy refused to open the tunnel (403) */

/* ------------------------------------------------------------------------
 * Framing (1.1), a core service like GStreamer's base parser class: a
 * framer (a transform between messages on top and a byte stream below)
 * states how long a frame is and what makes it different; the core runs
 * one deframer per session instance, its up() and down(), the counters
 * up_<unit>, up_bytes, down_<unit>, down_bytes, truncated (plus the
 * deframer's nobuf and dropped), the abort of a session whose stream cannot
 * be framed, and the log of a stream cut mid-frame (info).  `ctx` below is
 * the instance create() returned (the config struct without a create());
 * the framer's start, stop, event and wire_id get it as usual (event after
 * the core's own handling of TP_EV_SESSION_DOWN).
 *
 *   static int64_t tb_len(void *ctx, const uint8_t *p, size_t avail,
 *                         char *why, size_t whylen)
 *   { return 1 + p[0]; }                           // a 1-byte length prefix
 *   TP_PLUGIN_DEFINE(..., .framing = TP_FRAMING(.hdr_bytes = 1,
 *           .frame_len = tb_len, .frame_up = tb_pull, .frame_down = tb_push));
 *
 * TP_FRAMING(...) is a static struct tp_framing with its size filled in
 * (a compound literal: it lives as long as the plugin).
 * ------------------------------------------------------------------------ */
struct tp_framing {
	uint32_t size;      /* sizeof(struct tp_framing) */
	uint32_t hdr_bytes; /* the most bytes frame_len needs to size a frame, 1..64 */
	const char *unit;   /* counter names up_<unit>, down_<unit>; NULL: "frames" */
	/* The length of the frame at p, as tp_frame_len_fn says (it may answer
	 * with fewer than hdr_bytes once it knows).  On -1, after counting
	 * the fault, write what is wrong into why ("zero-length frame"): the
	 * core logs "NAME: WHY in the stream from the peer" once (warn) and
	 * aborts the session with that reason. */
	int64_t (*frame_len)(void *ctx, const uint8_t *p, size_t avail, char *why, size_t whylen);
	/* Up, optional: each whole frame (header included) before it goes up,
	 * e.g. tp_buf_pull() of the header. */
	void (*frame_up)(void *ctx, struct tp_buf *b);
	/* Down, optional: frame one payload in place (e.g. tp_buf_push() a
	 * header into the headroom the descriptor reserved).  0 sends it, -1
	 * drops it (count why first).  NULL: buffers go down unchanged. */
	int (*frame_down)(void *ctx, struct tp_buf *b);
};

#define TP_FRAMING(...) \
	(&(const struct tp_framing){ .size = sizeof(struct tp_framing), __VA_ARGS__ })

/* ------------------------------------------------------------------------
 * The descriptor
 * ------------------------------------------------------------------------ */
struct tp_plugin {
	uint16_t abi_major;  /* TP_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;  /* TP_ABI_MINOR the plugin was built with */
	uint32_t size;       /* sizeof(struct tp_plugin) */
	const char *name;    /* the name used in configs: "framer-ip" */
	enum tp_kind kind;
	const char *description; /* one line */
	uint32_t top;        /* TP_DATA_* mask on the top side (0 for a source) */
	uint32_t bottom;     /* TP_DATA_* mask on the bottom side (0 for a sink) */
	uint32_t headroom;   /* bytes this stage may prepend to a buffer going down */
	uint32_t tailroom;   /* bytes it may append */

	const struct tp_option *options; /* ends with TP_OPTIONS_END; may be NULL */
	size_t config_size;              /* size of the struct options are written into */

	/*
	 * create: build an instance from validated options.  No side effects
	 * beyond memory and reading files: `tunpipe -t` calls create() then
	 * destroy() to check a config.  Semantic errors (a bad address, a
	 * missing certificate) go into err (NUL-terminated, errlen bytes) and
	 * make it return NULL; the core prints them with file:line and stage.
	 * For transforms this runs once per session (and once at load to
	 * check the options).  `config` stays valid until destroy().
	 */
	void *(*create)(struct tp_stage *st, const struct tp_host *host, const void *config,
			char *err, size_t errlen);
	/* start: open devices and sockets, register fds/timers.  0 or -1
	 * (logged by the plugin).  Endpoints start in pipeline order after all
	 * stages were created; transforms start when their session opens.
	 * May be NULL (nothing to open). */
	int (*start)(void *ctx);
	/* stop: undo start (unregister fds, close them, remove routes);
	 * emitting is no longer allowed.  May be NULL. */
	void (*stop)(void *ctx);
	/* destroy: free everything create() and the data path took. */
	void (*destroy)(void *ctx);

	/* Data callbacks; either may be NULL (the core then passes batches
	 * through unchanged).  The callee owns every buffer of `q`. */
	void (*down)(void *ctx, struct tp_session *s, struct tp_batch *q);
	void (*up)(void *ctx, struct tp_session *s, struct tp_batch *q);

	/* Events; may be NULL. */
	void (*event)(void *ctx, struct tp_session *s, const struct tp_event *ev);

	/* The wire identity of this stage for stack agreement, e.g.
	 * "framer-len/4"; written to buf.  NULL: the plugin name. */
	void (*wire_id)(void *ctx, char *buf, size_t len);

	/* ---- 1.1 ---- */
	uint32_t option_size; /* sizeof(struct tp_option): the table's stride */
	/* A framer's wire format (see struct tp_framing); NULL for any other
	 * plugin.  With it the core supplies down/up (leave them NULL) and
	 * create/destroy may be NULL: the instance is then the config struct. */
	const struct tp_framing *framing;
	/* TP_PLUGIN_* bits below; 0 for none. */
	uint32_t flags;
};

/*
 * TP_PLUGIN_LOCAL_ONLY: this transform does not change the bytes the peer
 * receives (a counter, a filter, a logger: it passes buffers on as they
 * came, or drops some), so the peer need not run it.  The core leaves it
 * out of host->stack(), the string both ends compare in the handshake:
 * one end may run it alone.  Only for transforms, never for a framer.
 */
#define TP_PLUGIN_LOCAL_ONLY (1u << 0)
/*
 * TP_PLUGIN_SUPER (1.2): this stage takes buffers with offload metadata
 * (super-packets, see struct tp_offload) on its down and up callbacks.
 * Without it the core segments each super-packet into plain IP packets
 * before handing it over, as GStreamer's caps keep a pad from a format it
 * did not accept.  Which shipped stages declare it: tun, framer-ip and
 * framer-len (compress-lz4 does not: the core splits before it).
 */
#define TP_PLUGIN_SUPER (1u << 1)

/*
 * Define the descriptor; the ABI version and struct sizes are filled in:
 *
 *   TP_PLUGIN_DEFINE(.name = "maxlen", .kind = TP_KIND_TRANSFORM,
 *                    .description = "…", .top = TP_DATA_IP, .bottom = TP_DATA_IP,
 *                    .options = ml_options, .config_size = sizeof(struct ml_conf),
 *                    .create = ml_create, .destroy = ml_destroy, .up = ml_up);
 */
#define TP_PLUGIN_DEFINE(...) \
	TP_PLUGIN_EXPORT = { .abi_major = TP_ABI_MAJOR, .abi_minor = TP_ABI_MINOR, \
			     .size = sizeof(struct tp_plugin), \
			     .option_size = sizeof(struct tp_option), __VA_ARGS__ }

#ifdef __cplusplus
}
#endif
#endif /* TUNPIPE_PLUGIN_H */
