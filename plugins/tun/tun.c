/* SPDX-License-Identifier: MIT */
/*
 * tun.c — the `tun` plugin: the top endpoint of a pipeline, a Linux TUN
 * device.  Packets read from the device go down the pipeline in batches;
 * packets coming up are written to it.  Device setup through netlink lives
 * in apply.c, option parsing rules in prefix.c.  See README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gso.h"
#include "tun.h"

/* At most this many bytes read per round with offloads on (a few
 * super-packets: the other fds get their turn). */
#define TUN_READ_BYTES (256 * 1024)
/* The largest IP packet: what the scratch buffer must hold. */
#define TUN_MAX_PACKET 65535

static const struct tp_option tun_options[] = {
	TP_OPTION_STRING(struct tun_conf, device, NULL,
			 "device name (default: the kernel picks tunN)"),
	TP_OPTION_STRING(struct tun_conf, address, NULL,
			 "our IPv4 address/prefix, e.g. 10.0.0.1/24 (server; a client learns it)"),
	TP_OPTION_STRING(struct tun_conf, address6, NULL,
			 "our IPv6 address/prefix, e.g. fd00::1/64"),
	TP_OPTION_INT(struct tun_conf, mtu, "1400", 576, 65535,
		      "device MTU (at least 1280 with address6)"),
	TP_OPTION_STRING(struct tun_conf, pool, NULL,
			 "client addresses, e.g. 10.0.0.10-10.0.0.200 (server; default: rest of "
			 "address's subnet)"),
	TP_OPTION_LIST(struct tun_conf, push_routes, "routes pushed to clients (server)"),
	TP_OPTION_LIST(struct tun_conf, push_dns, "DNS servers pushed to clients (server)"),
	TP_OPTION_LIST(struct tun_conf, push_search, "DNS search domains pushed to clients (server)"),
	TP_OPTION_LIST(struct tun_conf, routes, "routes added locally through the device"),
	TP_OPTION_BOOL(struct tun_conf, accept_routes, "true",
		       "client: add the routes the server pushes"),
	TP_OPTION_INT(struct tun_conf, batch, "64", 1, 1024, "max packets read per wakeup"),
	TP_OPTION_INT(struct tun_conf, queue, "1024", 1, 1000000,
		      "max packets buffered while the device is not writable, and as many "
		      "bytes as that many MTU-sized packets (then dropped)"),
	TP_OPTION_ENUM(struct tun_conf, dns, "auto", "auto|resolved|resolvconf|file|off",
		       "client: how pushed DNS servers are applied (auto: systemd-resolved, else "
		       "resolvconf, else /etc/resolv.conf)"),
	TP_OPTION_PATH(struct tun_conf, state_dir, "/var/lib/tunpipe",
		       "client: where the original /etc/resolv.conf and the name of a resolvconf "
		       "record are kept while in use (restored or removed at the next start after "
		       "a crash)"),
	TP_OPTION_PATH(struct tun_conf, up, NULL, "client: script run when a session comes up"),
	TP_OPTION_PATH(struct tun_conf, down, NULL, "client: script run when a session goes down"),
	TP_OPTION_ENUM(struct tun_conf, up_failure, "close", "close|ignore",
		       "client: what a failing up script does to the session"),
	TP_OPTION_INT(struct tun_conf, hook_timeout, "30", 1, 3600,
		      "client: seconds an up/down script may run before it is killed"),
	TP_OPTION_ENUM(struct tun_conf, offload, "auto", "auto|on|off",
		       "TUN checksum/segmentation offloads (auto: where the kernel has them)"),
	TP_OPTIONS_END
};

static size_t strlist_len(const char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

/* Parse a list of prefixes into out[max]; the routes pushed to clients and
 * the local ones follow the same rules. */
static int parse_routes(const char *what, const char *const *list, struct tp_prefix *out, size_t max,
			char *err, size_t errlen)
{
	char net[TN_PREFIX_STRLEN];
	size_t i, n = strlist_len(list);

	if (n > max) {
		snprintf(err, errlen, "%s: at most %zu entries (got %zu)", what, max, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (tn_prefix_parse(list[i], AF_UNSPEC, TN_PLEN_OPTIONAL, what, &out[i], err, errlen))
			return -1;
		if (tn_prefix_has_host_bits(&out[i])) {
			struct tp_prefix nw = tn_prefix_network(&out[i]);
			snprintf(err, errlen, "%s '%s' has host bits set (did you mean %s?)", what, list[i],
				 tn_prefix_str(&nw, 1, net, sizeof(net)));
			return -1;
		}
	}
	return 0;
}

/* Everything create() checks; no side effects beyond memory. */
static int parse_conf(struct tun *t, const struct tun_conf *c, char *err, size_t errlen)
{
	size_t i, n;

	if (c->device && (!*c->device || strlen(c->device) >= IFNAMSIZ || strchr(c->device, '/'))) {
		snprintf(err, errlen, "device '%s' is not a valid interface name (1..%d characters, no '/')",
			 c->device, IFNAMSIZ - 1);
		return -1;
	}
	if (c->address && tn_prefix_parse(c->address, AF_INET, TN_PLEN_REQUIRED, "address", &t->addr4,
					  err, errlen))
		return -1;
	if (c->address6 && tn_prefix_parse(c->address6, AF_INET6, TN_PLEN_REQUIRED, "address6",
					   &t->addr6, err, errlen))
		return -1;
	if (c->address6 && c->mtu < 1280) {
		snprintf(err, errlen, "mtu %lld is too small for IPv6 (address6 needs at least 1280)",
			 (long long)c->mtu);
		return -1;
	}
	/* Server-only options make no sense without our own address: the
	 * pool is carved from its subnet and pushed routes go with it. */
	if (!c->address && !c->address6 && (c->pool || strlist_len(c->push_routes) || strlist_len(c->push_dns) ||
					    strlist_len(c->push_search))) {
		snprintf(err, errlen, "%s is a server option and needs 'address'",
			 c->pool ? "pool" : strlist_len(c->push_routes) ? "push_routes"
			 : strlist_len(c->push_dns) ? "push_dns" : "push_search");
		return -1;
	}
	if (!c->address && c->pool) {
		snprintf(err, errlen, "pool is an IPv4 range and needs 'address' (an IPv6-only tunnel leases "
			 "from address6's prefix)");
		return -1;
	}

	t->net.size = sizeof(t->net);
	t->net.addr4 = t->addr4;
	t->net.addr6 = t->addr6;
	t->net.mtu = (uint32_t)c->mtu;
	if (c->pool && tn_pool_parse(c->pool, &t->addr4, &t->net.pool4_first, &t->net.pool4_last, err,
				     errlen))
		return -1;
	if (parse_routes("push_routes", c->push_routes, t->net.routes, TP_MAX_ROUTES, err, errlen))
		return -1;
	t->net.n_routes = (uint32_t)strlist_len(c->push_routes);
	n = strlist_len(c->push_dns);
	if (n > TP_MAX_DNS) {
		snprintf(err, errlen, "push_dns: at most %d entries (got %zu)", TP_MAX_DNS, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (tn_prefix_parse(c->push_dns[i], AF_UNSPEC, TN_PLEN_NONE, "push_dns entry",
				    &t->net.dns[i], err, errlen))
			return -1;
	t->net.n_dns = (uint32_t)n;
	if (tn_search_join(c->push_search, t->net.search, sizeof(t->net.search), err, errlen))
		return -1;

	t->n_routes = strlist_len(c->routes);
	if (t->n_routes) {
		t->routes = calloc(t->n_routes, sizeof(*t->routes));
		t->route_added = calloc(t->n_routes, 1);
		if (!t->routes || !t->route_added) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (parse_routes("route", c->routes, t->routes, t->n_routes, err, errlen))
			return -1;
	}
	t->mtu = (uint32_t)c->mtu;
	t->batch = (uint32_t)c->batch;
	t->queue_max = (uint32_t)c->queue;
	t->vnet = c->offload != 2;
	return 0;
}

static void tun_destroy(void *ctx)
{
	struct tun *t = ctx;

	if (!t)
		return;
	tun_device_close(t);
	free(t->routes);
	free(t->route_added);
	free(t->scratch);
	free(t);
}

static void *tun_create(struct tp_stage *st, const struct tp_host *host, const void *config, char *err,
			size_t errlen)
{
	struct tun *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->st = st;
	t->host = host;
	t->conf = config;
	t->fd = -1;
	tp_batch_init(&t->queue);
	if (parse_conf(t, config, err, errlen))
		goto fail;
	/* Announced here, not at start, so `tunpipe -t` builds the address
	 * pool too and refuses a network that cannot serve a client. */
	if ((t->addr4.family || t->addr6.family) && host->net_announce(st, &t->net)) {
		snprintf(err, errlen, "this tunnel cannot lease client addresses (see the error above)");
		goto fail;
	}
	tun_explain_cover(t);
	t->scratch = malloc(TG_VNET_HDR_LEN + TUN_MAX_PACKET);
	if (!t->scratch) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->down_packets = host->counter(st, "down_packets");
	t->down_bytes = host->counter(st, "down_bytes");
	t->rx_nobuf = host->counter(st, "rx_nobuf");
	t->rx_toolong = host->counter(st, "rx_toolong");
	t->rx_errors = host->counter(st, "rx_errors");
	t->up_packets = host->counter(st, "up_packets");
	t->up_bytes = host->counter(st, "up_bytes");
	t->up_dropped = host->counter(st, "up_dropped");
	t->up_errors = host->counter(st, "up_errors");
	t->rx_super = host->counter(st, "rx_super");
	t->rx_bad = host->counter(st, "rx_bad");
	t->tx_merged = host->counter(st, "tx_merged");
	t->tx_super = host->counter(st, "tx_super");
	return t;

fail:
	tun_destroy(t);
	return NULL;
}

/* Read path: drain up to `batch` packets into pool buffers and hand them
 * down as one batch; the router picks a session per packet. */
static void tun_read(struct tun *t)
{
	struct tp_batch q = TP_BATCH_INIT;
	uint32_t i;
	ssize_t n;

	/* Whole super-packets: the batch is bounded in bytes too, so one
	 * round does not pin `batch` 64 KiB buffers. */
	for (i = 0; t->vnet && i < t->batch && q.bytes < TUN_READ_BYTES; i++)
		if (tun_read_vnet(t, &q) < 0)
			break;
	for (i = 0; !t->vnet && i < t->batch; i++) {
		/* A buffer sized for the device's MTU keeps small packets in
		 * small, cache-friendly pool buffers. */
		struct tp_buf *b = t->host->buf_alloc(t->st, t->cur_mtu ? t->cur_mtu : t->mtu);
		size_t room = b ? tp_buf_tailroom(b) : 0;

		/* Without a buffer we still read, into scratch, and drop: the
		 * fd stays readable otherwise and the loop would spin on it. */
		n = read(t->fd, b ? b->data : t->scratch, b ? room : TUN_MAX_PACKET);
		if (n <= 0) {
			if (b)
				t->host->buf_free(t->st, b);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN) {
				(*t->rx_errors)++;
				t->host->log(t->st, TP_LOG_WARN, "read from %s: %s", t->ifname, strerror(errno));
			}
			break;
		}
		if (!b) {
			(*t->rx_nobuf)++;
			continue;
		}
		if ((size_t)n > room) {
			/* The driver reports the whole length of a packet it
			 * truncated: larger than the MTU we were told (someone
			 * raised it behind our back).  Never send a cut packet. */
			(*t->rx_toolong)++;
			t->host->buf_free(t->st, b);
			continue;
		}
		b->len = (uint32_t)n;
		tp_batch_add(&q, b);
	}
	if (q.count) {
		*t->down_packets += q.count;
		*t->down_bytes += q.bytes;
		t->host->emit_down(t->st, NULL, &q);
	}
}

static void set_want_write(struct tun *t, int on)
{
	if (t->want_write == on)
		return;
	if (t->host->fd_mod(t->st, t->fd, TP_FD_READ | (on ? TP_FD_WRITE : 0)) == 0)
		t->want_write = on;
}

/* Write queued packets until the device pushes back. */
static void flush_queue(struct tun *t)
{
	struct tp_buf *b;
	int n, k, err;

	while (t->queue.head) {
		n = tun_write_head(t);
		err = n < 0 ? errno : 0;
		if (n == 0 || (n < 0 && err == EINTR))
			continue;
		if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
			break;
		/* A packet the kernel refuses (malformed) is dropped, never
		 * retried: it would block every packet behind it. */
		for (k = n < 0 ? 1 : n; k > 0; k--) {
			b = tp_batch_pop(&t->queue);
			if (n < 0) {
				(*t->up_errors)++;
			} else {
				(*t->up_packets)++;
				*t->up_bytes += b->len;
			}
			t->host->buf_free(t->st, b);
		}
	}
	set_want_write(t, t->queue.head != NULL);
}

static void tun_fd_cb(void *arg, int fd, uint32_t events)
{
	struct tun *t = arg;

	(void)fd;
	if (events & TP_FD_WRITE)
		flush_queue(t);
	if (events & (TP_FD_READ | TP_FD_ERROR))
		tun_read(t);
}

/* Is there no room for b (NULL: for anything more)?  The queue is
 * bounded in packets (`queue`) and in bytes, to what `queue` plain packets
 * of the MTU would hold: a super-packet of 64 KiB counts as the ~45
 * packets it carries, so a device that pushes back pins at most about
 * queue x MTU bytes, not queue x 64 KiB.  An empty queue takes any one
 * buffer. */
static int queue_full(const struct tun *t, const struct tp_buf *b)
{
	uint64_t max_bytes = (uint64_t)t->queue_max * t->mtu;
	if (max_bytes > (1u << 30)) /* queue.bytes is 32-bit */
		max_bytes = 1u << 30;
	if (t->queue.count >= t->queue_max)
		return 1;
	if (!t->queue.head)
		return 0;
	return (uint64_t)t->queue.bytes + (b ? b->len : 1) > max_bytes;
}

/* Write path: everything goes through the bounded queue so order is kept
 * when the device pushes back; when it does not, the queue is drained at
 * once and no packet waits. */
static void tun_up(void *ctx, struct tp_session *s, struct tp_batch *q)
{
	struct tun *t = ctx;
	struct tp_buf *b;

	(void)s;
	if (t->fd < 0) {
		*t->up_dropped += q->count;
		t->host->batch_free(t->st, q);
		return;
	}
	/* Without a vnet header a super-packet (rare: a peer that agreed)
	 * must be split; look before rebuilding the batch. */
	for (b = q->head; !t->vnet && b && !tp_buf_is_super(b); b = b->next)
		;
	if (!t->vnet && b) {
		struct tp_batch plain = TP_BATCH_INIT;
		while ((b = tp_batch_pop(q)))
			if (tp_buf_is_super(b))
				tun_split_one(t, b, &plain);
			else
				tp_batch_add(&plain, b);
		tp_batch_splice(q, &plain);
	}
	while ((b = tp_batch_pop(q))) {
		if (queue_full(t, b)) {
			(*t->up_dropped)++;
			t->host->buf_free(t->st, b);
			continue;
		}
		tp_batch_add(&t->queue, b);
		/* Flush when the queue is full so a big batch is not refused
		 * by a queue bound smaller than the batch while the device is
		 * writable; otherwise once at the end, so that segments of
		 * one stream meet in the queue and are written merged. */
		if (!t->want_write && (!t->vnet || queue_full(t, NULL)))
			flush_queue(t);
	}
	if (!t->want_write && t->queue.head)
		flush_queue(t);
}

static int tun_start(void *ctx)
{
	struct tun *t = ctx;
	char a4[TN_PREFIX_STRLEN], a6[TN_PREFIX_STRLEN + 2] = "";

	tun_dns_recover(t);
	if (tun_device_open(t))
		return -1;
	if (t->host->fd_add(t->st, t->fd, TP_FD_READ, tun_fd_cb, t)) {
		t->host->log(t->st, TP_LOG_ERROR, "cannot watch %s on the event loop", t->ifname);
		goto fail;
	}
	if (t->addr6.family) {
		a6[0] = ' ';
		tn_prefix_str(&t->addr6, 1, a6 + 1, sizeof(a6) - 1);
	}
	t->host->log(t->st, TP_LOG_INFO, "device %s up, %s%s mtu %u", t->ifname,
		     t->addr4.family ? tn_prefix_str(&t->addr4, 1, a4, sizeof(a4)) : "no address yet",
		     a6, t->mtu);
	return 0;

fail:
	tun_device_close(t);
	return -1;
}

static void tun_stop(void *ctx)
{
	struct tun *t = ctx;

	if (t->fd >= 0)
		t->host->fd_del(t->st, t->fd);
	t->want_write = 0;
	*t->up_dropped += t->queue.count;
	t->host->batch_free(t->st, &t->queue);
	tun_hooks_stop(t);
	tun_dns_revert(t, 1);
	tun_pin_remove(t);
	tun_device_close(t);
}

static void tun_event(void *ctx, struct tp_session *s, const struct tp_event *ev)
{
	struct tun *t = ctx;

	/* Only our own addresses matter; a server's per-client sessions are
	 * the router's business.  Session-down changes nothing: the device
	 * and its configuration outlive reconnects. */
	if (ev->type == TP_EV_SESSION_UP && ev->info && (ev->info->flags & TP_SI_LOCAL) && t->fd >= 0) {
		tun_pin_update(t, ev->info); /* before the routes that may cover the server */
		tun_apply_session(t, ev->info);
		tun_dns_apply(t, ev->info);
		tun_hooks_up(t, s, ev->info);
	}
	if (ev->type == TP_EV_SESSION_DOWN && t->fd >= 0) {
		tun_pin_update(t, NULL); /* the next connection follows today's way out */
		tun_hooks_down(t, s, 0);
	}
}

TP_PLUGIN_DEFINE(.name = "tun", .kind = TP_KIND_SOURCE,
		 .description = "Linux TUN device: the pipeline's top endpoint, configured through "
				"netlink",
		 .top = TP_DATA_NONE, .bottom = TP_DATA_IP,
		 .options = tun_options, .config_size = sizeof(struct tun_conf),
		 .create = tun_create, .start = tun_start, .stop = tun_stop, .destroy = tun_destroy,
		 .up = tun_up, .event = tun_event, .flags = TP_PLUGIN_SUPER);
