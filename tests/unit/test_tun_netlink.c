/*
 * test_tun_netlink.c — the tun plugin against the real kernel, with a fake
 * host of our own (the plugin's sources are linked in directly, so this
 * test needs neither the core nor the harness).
 *
 * Parsing tests run anywhere.  Device tests need root and /dev/net/tun;
 * each runs in Check's forked child, which first moves into a fresh network
 * namespace (unshare), so nothing leaks to the host and the namespace
 * disappears with the child even when an assertion fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun.h"

extern const struct tp_plugin tp_plugin_descriptor;
#define PLUG tp_plugin_descriptor

/* ---- fake host ---- */
static struct {
	long outstanding;
	long limit;             /* max outstanding buffers, -1 = none */
	struct tp_batch down;   /* everything emitted down */
	int down_batches;
	int fd;                 /* registered fd, -1 none */
	uint32_t fd_events;
	tp_fd_cb cb;
	void *cb_arg;
	int announced;
	struct tp_net_info net;
	const char *names[16];
	uint64_t values[16];
} H;

static void h_log(struct tp_stage *st, enum tp_log_level l, const char *fmt, ...)
{
	va_list ap;

	(void)st;
	fprintf(stderr, "[tun %d] ", (int)l);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct tp_buf *h_alloc(struct tp_stage *st, size_t len)
{
	struct tp_buf *b;
	size_t room = len ? len : 2048;

	(void)st;
	if (H.limit >= 0 && H.outstanding >= H.limit)
		return NULL;
	b = calloc(1, sizeof(*b) + 64 + room);
	ck_assert_ptr_nonnull(b);
	b->head = (uint8_t *)(b + 1);
	b->data = b->head + 64;
	b->end = b->data + room;
	H.outstanding++;
	return b;
}

static void h_free(struct tp_stage *st, struct tp_buf *b)
{
	(void)st;
	H.outstanding--;
	free(b);
}

static void h_batch_free(struct tp_stage *st, struct tp_batch *q)
{
	struct tp_buf *b;

	while ((b = tp_batch_pop(q)))
		h_free(st, b);
}

static void h_emit_down(struct tp_stage *st, struct tp_session *s, struct tp_batch *q)
{
	(void)st;
	ck_assert_ptr_null(s); /* the top endpoint leaves the session to the router */
	H.down_batches++;
	tp_batch_splice(&H.down, q);
}

static int h_fd_add(struct tp_stage *st, int fd, uint32_t ev, tp_fd_cb cb, void *arg)
{
	(void)st;
	H.fd = fd;
	H.fd_events = ev;
	H.cb = cb;
	H.cb_arg = arg;
	return 0;
}

static int h_fd_mod(struct tp_stage *st, int fd, uint32_t ev)
{
	(void)st;
	ck_assert_int_eq(fd, H.fd);
	H.fd_events = ev;
	return 0;
}

static void h_fd_del(struct tp_stage *st, int fd)
{
	(void)st;
	ck_assert_int_eq(fd, H.fd);
	H.fd = -1;
}

static uint64_t *h_counter(struct tp_stage *st, const char *name)
{
	int i;

	(void)st;
	for (i = 0; i < 16 && H.names[i]; i++)
		if (!strcmp(H.names[i], name))
			return &H.values[i];
	ck_assert_int_lt(i, 16);
	H.names[i] = name;
	return &H.values[i];
}

static int h_announce(struct tp_stage *st, const struct tp_net_info *net)
{
	(void)st;
	H.announced++;
	H.net = *net;
	return 0;
}

static const struct tp_host host = {
	.size = sizeof(struct tp_host),
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.log = h_log,
	.buf_alloc = h_alloc,
	.buf_free = h_free,
	.batch_free = h_batch_free,
	.emit_down = h_emit_down,
	.fd_add = h_fd_add,
	.fd_mod = h_fd_mod,
	.fd_del = h_fd_del,
	.counter = h_counter,
	.net_announce = h_announce,
};

static uint64_t counter(const char *name)
{
	int i;

	for (i = 0; i < 16 && H.names[i]; i++)
		if (!strcmp(H.names[i], name))
			return H.values[i];
	return 0;
}

static const char *const empty[] = { NULL };

static struct tun_conf conf(void)
{
	struct tun_conf c = { .mtu = 1400, .accept_routes = 1, .batch = 64, .queue = 1024,
			      .push_routes = empty, .push_dns = empty, .routes = empty };
	return c;
}

static char err[256];

static struct tun *create(const struct tun_conf *c)
{
	memset(&H, 0, sizeof(H));
	H.fd = -1;
	H.limit = -1;
	err[0] = '\0';
	return PLUG.create(NULL, &host, c, err, sizeof(err));
}

/* Output of a shell command (run inside the test's namespace). */
static const char *sh(const char *fmt, ...)
{
	static char out[8192];
	char cmd[512];
	size_t n = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (n < sizeof(out) - 1 && fgets(out + n, (int)(sizeof(out) - n), f))
		n = strlen(out);
	out[n] = '\0';
	pclose(f);
	return out;
}

static void enter_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	sh("ip link set lo up");
}

/* ---- parsing (no privileges) ---- */

START_TEST(test_prefix_parse)
{
	struct tp_prefix p;

	ck_assert_int_eq(tn_prefix_parse("10.0.0.1/24", AF_INET, TN_PLEN_REQUIRED, "address", &p, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_int_eq(p.plen, 24);
	ck_assert_int_eq(p.addr[3], 1);
	ck_assert_int_eq(tn_prefix_parse("10.0.0.300/24", AF_INET, TN_PLEN_REQUIRED, "address", &p, err,
					 sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "address '10.0.0.300/24' is not an IPv4 prefix"));
	ck_assert_int_eq(tn_prefix_parse("10.0.0.1", AF_INET, TN_PLEN_REQUIRED, "address", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("10.0.0.1/33", AF_INET, TN_PLEN_REQUIRED, "a", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("10.0.0.1/ 3", AF_INET, TN_PLEN_REQUIRED, "a", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("fd00::1/64", AF_INET, TN_PLEN_REQUIRED, "a", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("fd00::1/64", AF_INET6, TN_PLEN_REQUIRED, "a", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.plen, 64);
	ck_assert_int_eq(tn_prefix_parse("fd00::1/129", AF_INET6, TN_PLEN_REQUIRED, "a", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("10.1.2.3", AF_UNSPEC, TN_PLEN_OPTIONAL, "r", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.plen, 32);
	ck_assert_int_eq(tn_prefix_parse("1.1.1.1/32", AF_UNSPEC, TN_PLEN_NONE, "dns", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(tn_prefix_parse("10.1.2.3/16", AF_INET, TN_PLEN_OPTIONAL, "r", &p, err, sizeof(err)), 0);
	ck_assert(tn_prefix_has_host_bits(&p));
	ck_assert_int_eq(tn_prefix_network(&p).addr[1], 1);
	ck_assert_int_eq(tn_prefix_network(&p).addr[2], 0);
	p.addr[2] = p.addr[3] = 0;
	ck_assert(!tn_prefix_has_host_bits(&p));
}
END_TEST

START_TEST(test_create_errors)
{
	struct tun_conf c;
	const char *const bad_route[] = { "10.1.2.3/16", NULL };
	const char *const routes2[] = { "1.1.1.1", "8.8.8.8", NULL };

	c = conf();
	c.address = "10.0.0.300/24";
	ck_assert_ptr_null(create(&c));
	ck_assert_str_eq(err, "address '10.0.0.300/24' is not an IPv4 prefix (like 10.0.0.1/24)");

	c = conf();
	c.address = "10.0.0.1/24";
	c.pool = "10.0.1.10-10.0.1.20";
	ck_assert_ptr_null(create(&c));
	ck_assert_str_eq(err, "pool '10.0.1.10-10.0.1.20' is not inside address 10.0.0.1/24's subnet");
	c.pool = "10.0.0.20-10.0.0.10";
	ck_assert_ptr_null(create(&c));
	ck_assert_ptr_nonnull(strstr(err, "starts after it ends"));
	c.pool = "10.0.0.1-10.0.0.10";
	ck_assert_ptr_null(create(&c));
	ck_assert_ptr_nonnull(strstr(err, "own address"));
	c.pool = "10.0.0.10";
	ck_assert_ptr_null(create(&c));
	ck_assert_ptr_nonnull(strstr(err, "is not an IPv4 range"));

	c = conf();
	c.routes = bad_route;
	ck_assert_ptr_null(create(&c));
	ck_assert_str_eq(err, "route '10.1.2.3/16' has host bits set (did you mean 10.1.0.0/16?)");

	c = conf();
	c.address6 = "fd00::1/64";
	c.mtu = 1000;
	ck_assert_ptr_null(create(&c));
	ck_assert_ptr_nonnull(strstr(err, "at least 1280"));

	c = conf();
	c.push_dns = routes2; /* server option without address */
	ck_assert_ptr_null(create(&c));
	ck_assert_str_eq(err, "push_dns is a server option and needs 'address'");

	c = conf();
	c.device = "a-name-that-is-far-too-long";
	ck_assert_ptr_null(create(&c));
	ck_assert_ptr_nonnull(strstr(err, "not a valid interface name"));
}
END_TEST

START_TEST(test_create_server_net)
{
	struct tun_conf c = conf();
	const char *const push[] = { "192.168.5.0/24", "fd00:5::/64", NULL };
	const char *const dns[] = { "10.0.0.1", "fd00::53", NULL };
	struct tun *t;

	c.address = "10.0.0.1/24";
	c.address6 = "fd00::1/64";
	c.pool = "10.0.0.10-10.0.0.200";
	c.push_routes = push;
	c.push_dns = dns;
	t = create(&c);
	ck_assert_msg(t != NULL, "create: %s", err);
	ck_assert_int_eq(t->net.pool4_first.addr[3], 10);
	ck_assert_int_eq(t->net.pool4_last.addr[3], 200);
	ck_assert_int_eq(t->net.n_routes, 2);
	ck_assert_int_eq(t->net.routes[1].family, AF_INET6);
	ck_assert_int_eq(t->net.n_dns, 2);
	ck_assert_int_eq(t->net.dns[1].plen, 128);
	ck_assert_int_eq(t->net.mtu, 1400);
	ck_assert_int_eq(t->net.addr6.family, AF_INET6);
	ck_assert_int_eq(H.fd, -1); /* create() has no side effects */
	PLUG.destroy(t);
}
END_TEST

/* ---- device tests (root, own namespace) ---- */

START_TEST(test_server_device)
{
	struct tun_conf c = conf();
	const char *const routes[] = { "10.50.0.0/16", "fd00:50::/48", NULL };
	struct tun *t;

	enter_netns();
	c.device = "tpu0";
	c.address = "10.98.0.1/24";
	c.address6 = "fd00:98::1/64";
	c.mtu = 1300;
	c.routes = routes;
	t = create(&c);
	ck_assert_msg(t != NULL, "create: %s", err);
	ck_assert_int_eq(PLUG.start(t), 0);
	ck_assert_int_ge(H.fd, 0);
	ck_assert_uint_eq(H.fd_events, TP_FD_READ);
	ck_assert_int_eq(H.announced, 1);
	ck_assert_int_eq(H.net.addr4.plen, 24);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpu0"), "inet 10.98.0.1/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpu0"), "inet6 fd00:98::1/64"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpu0"), "mtu 1300"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpu0"), ",UP"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpu0"), "10.50.0.0/16"));
	ck_assert_ptr_nonnull(strstr(sh("ip -6 route show dev tpu0"), "fd00:50::/48"));
	PLUG.stop(t);
	ck_assert_int_eq(H.fd, -1);
	ck_assert_str_eq(sh("ip link show dev tpu0 2>/dev/null"), "");
	PLUG.destroy(t);
}
END_TEST

START_TEST(test_device_busy)
{
	struct tun_conf c = conf();
	struct tun *a, *b;

	enter_netns();
	c.device = "tpb0";
	a = create(&c);
	ck_assert_int_eq(PLUG.start(a), 0);
	b = PLUG.create(NULL, &host, &c, err, sizeof(err));
	ck_assert_int_eq(PLUG.start(b), -1); /* the name is taken: clear error, nothing left open */
	PLUG.destroy(b);
	PLUG.stop(a);
	PLUG.destroy(a);
}
END_TEST

/* Send n UDP datagrams from the namespace towards `dst` (routed via the tun). */
static void send_udp(const char *dst, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9999) };
	int i, s = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, dst, &sa.sin_addr);
	for (i = 0; i < n; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "hello %d", i);
		ck_assert_int_eq(sendto(s, msg, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)), len);
	}
	close(s);
}

/* How many emitted packets are IPv4 to `dst` (the kernel also sends IPv6
 * chatter through a fresh device); frees them all. */
static int take_ipv4_to(const char *dst)
{
	struct tp_buf *b;
	struct in_addr want;
	int n = 0;

	inet_pton(AF_INET, dst, &want);
	while ((b = tp_batch_pop(&H.down))) {
		if (b->len >= 28 && (b->data[0] >> 4) == 4 && !memcmp(b->data + 16, &want, 4)) {
			ck_assert_int_eq(b->len, 28 + 7); /* "hello N" in UDP in IPv4 */
			ck_assert(!memcmp(b->data + 28, "hello ", 6));
			n++;
		}
		h_free(NULL, b);
	}
	return n;
}

START_TEST(test_read_batches)
{
	struct tun_conf c = conf();
	struct tun *t;

	enter_netns();
	c.address = "10.97.0.1/24";
	c.batch = 3;
	t = create(&c);
	ck_assert_int_eq(PLUG.start(t), 0);
	usleep(100000); /* let the IPv6 chatter of link-up go by */
	H.cb(H.cb_arg, H.fd, TP_FD_READ);
	h_batch_free(NULL, &H.down);
	H.down_batches = 0;
	H.values[0] = 0; /* down_packets, registered first */
	ck_assert_str_eq(H.names[0], "down_packets");

	send_udp("10.97.0.2", 5);
	H.cb(H.cb_arg, H.fd, TP_FD_READ);
	ck_assert_int_eq(H.down_batches, 1);      /* one wakeup, one batch */
	ck_assert_uint_eq(H.down.count, 3);       /* ... capped at `batch` */
	ck_assert_uint_eq(counter("down_packets"), 3);
	ck_assert_int_eq(take_ipv4_to("10.97.0.2"), 3);
	H.cb(H.cb_arg, H.fd, TP_FD_READ);
	ck_assert_int_eq(H.down_batches, 2);
	ck_assert_int_eq(take_ipv4_to("10.97.0.2"), 2);
	H.cb(H.cb_arg, H.fd, TP_FD_READ);         /* EAGAIN: nothing emitted */
	ck_assert_int_eq(H.down_batches, 2);

	/* Pool exhausted: packets are read and dropped, not left to spin on. */
	H.limit = 0;
	send_udp("10.97.0.2", 2);
	H.cb(H.cb_arg, H.fd, TP_FD_READ);
	ck_assert_int_eq(H.down_batches, 2);
	ck_assert_uint_eq(counter("rx_nobuf"), 2);
	ck_assert_int_lt(read(H.fd, err, sizeof(err)), 0);
	ck_assert_int_eq(errno, EAGAIN);
	PLUG.stop(t);
	PLUG.destroy(t);
	ck_assert_int_eq(H.outstanding, 0);
}
END_TEST

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4/UDP packet from 10.97.0.2:7 to 10.97.0.1:port carrying `msg`. */
static struct tp_buf *udp_packet(uint16_t port, const char *msg)
{
	struct tp_buf *b = h_alloc(NULL, 0);
	size_t n = strlen(msg);
	uint8_t *p = tp_buf_put(b, 28 + n);
	uint16_t c;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)((28 + n) >> 8);
	p[3] = (uint8_t)(28 + n);
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.97.0.2", p + 12);
	inet_pton(AF_INET, "10.97.0.1", p + 16);
	c = ip_csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[21] = 7;
	p[22] = (uint8_t)(port >> 8);
	p[23] = (uint8_t)port;
	p[25] = (uint8_t)(8 + n); /* UDP length; checksum 0 = none */
	memcpy(p + 28, msg, n);
	return b;
}

START_TEST(test_write_and_queue)
{
	struct tun_conf c = conf();
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct tp_batch q = TP_BATCH_INIT;
	socklen_t sl = sizeof(sa);
	char got[64];
	int us, pfd[2], i;
	struct tun *t;

	enter_netns();
	c.address = "10.97.0.1/24";
	c.queue = 3;
	t = create(&c);
	ck_assert_int_eq(PLUG.start(t), 0);

	/* Up: a packet written to the device reaches a local socket. */
	us = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "10.97.0.1", &sa.sin_addr);
	ck_assert_int_eq(bind(us, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(us, (struct sockaddr *)&sa, &sl), 0);
	tp_batch_add(&q, udp_packet(ntohs(sa.sin_port), "up one"));
	tp_batch_add(&q, udp_packet(ntohs(sa.sin_port), "up two"));
	PLUG.up(t, NULL, &q);
	ck_assert_int_eq(recv(us, got, sizeof(got), MSG_DONTWAIT), 6);
	ck_assert(!memcmp(got, "up one", 6));
	ck_assert_int_eq(recv(us, got, sizeof(got), MSG_DONTWAIT), 6);
	ck_assert(!memcmp(got, "up two", 6));
	ck_assert_uint_eq(counter("up_packets"), 2);
	ck_assert_uint_eq(counter("up_bytes"), 2 * 34);
	ck_assert_int_eq(H.outstanding, 0);
	close(us);

	/* Back-pressure: a TUN write never blocks, so put a full pipe in
	 * place of the device's fd (same number) to get EAGAIN. */
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK), 0);
	while (write(pfd[1], err, sizeof(err)) > 0)
		;
	ck_assert_int_eq(dup2(pfd[1], H.fd), H.fd);
	for (i = 0; i < 5; i++) {
		char m[8];
		snprintf(m, sizeof(m), "q%d", i);
		tp_batch_add(&q, udp_packet(9, m));
	}
	PLUG.up(t, NULL, &q);
	ck_assert_uint_eq(counter("up_dropped"), 2);       /* over `queue` = 3 */
	ck_assert_uint_eq(H.fd_events, TP_FD_READ | TP_FD_WRITE);
	ck_assert_int_eq(H.outstanding, 3);
	while (read(pfd[0], got, sizeof(got)) > 0)
		;
	H.cb(H.cb_arg, H.fd, TP_FD_WRITE);
	ck_assert_uint_eq(H.fd_events, TP_FD_READ);         /* drained: stop watching writes */
	ck_assert_uint_eq(counter("up_packets"), 5);
	ck_assert_int_eq(H.outstanding, 0);
	for (i = 0; i < 3; i++) {                           /* in order */
		char m[8];
		ck_assert_int_eq(read(pfd[0], got, 30), 30);
		snprintf(m, sizeof(m), "q%d", i);
		ck_assert(!memcmp(got + 28, m, 2));
	}
	PLUG.stop(t);
	PLUG.destroy(t);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

static void session_up(struct tun *t, uint32_t flags, const char *a4, uint32_t mtu, const char *const *routes)
{
	struct tp_session_info si = { .size = sizeof(si), .flags = flags, .mtu = mtu };
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &si };

	ck_assert_int_eq(tn_prefix_parse(a4, AF_INET, TN_PLEN_REQUIRED, "a", &si.addr4, err, sizeof(err)), 0);
	for (; routes && *routes; routes++)
		ck_assert_int_eq(tn_prefix_parse(*routes, AF_UNSPEC, TN_PLEN_OPTIONAL, "r",
						 &si.routes[si.n_routes++], err, sizeof(err)), 0);
	PLUG.event(t, NULL, &ev);
}

START_TEST(test_client_session)
{
	struct tun_conf c = conf();
	const char *const r1[] = { "10.60.0.0/16", "192.168.77.0/24", NULL };
	const char *const r2[] = { "10.60.0.0/16", NULL };
	const char *const local[] = { "10.70.0.0/16", NULL };
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "test" };
	struct tun *t;

	enter_netns();
	c.device = "tpc0";
	c.routes = local;
	t = create(&c);
	ck_assert_int_eq(PLUG.start(t), 0);
	ck_assert_int_eq(H.announced, 0); /* a client has no network to announce */
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "inet "));

	session_up(t, 0, "10.99.0.50/24", 0, NULL); /* a remote peer: not ours */
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "inet "));

	session_up(t, TP_SI_LOCAL, "10.99.0.2/24", 1350, r1);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.2/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpc0"), "mtu 1350"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.60.0.0/16"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "192.168.77.0/24"));

	/* Reconnect with another address and fewer routes. */
	PLUG.event(t, NULL, &down);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.2/24"));
	session_up(t, TP_SI_LOCAL, "10.99.0.3/24", 0, r2);
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "10.99.0.2/"));
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.3/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpc0"), "mtu 1350"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.60.0.0/16"));
	ck_assert_ptr_null(strstr(sh("ip route show dev tpc0"), "192.168.77.0/24"));
	/* The local route survived the kernel's flush on address removal. */
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.70.0.0/16"));

	PLUG.stop(t);
	ck_assert_str_eq(sh("ip link show dev tpc0 2>/dev/null"), "");
	PLUG.destroy(t);
}
END_TEST

START_TEST(test_client_no_accept_routes)
{
	struct tun_conf c = conf();
	const char *const r1[] = { "10.60.0.0/16", NULL };
	struct tun *t;

	enter_netns();
	c.device = "tpc1";
	c.accept_routes = 0;
	t = create(&c);
	ck_assert_int_eq(PLUG.start(t), 0);
	session_up(t, TP_SI_LOCAL, "10.99.0.2/24", 0, r1);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc1"), "inet 10.99.0.2/24"));
	ck_assert_ptr_null(strstr(sh("ip route show dev tpc1"), "10.60.0.0/16"));
	PLUG.stop(t);
	PLUG.destroy(t);
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("tun");
	TCase *parse = tcase_create("parse"), *dev = tcase_create("device");

	tcase_add_test(parse, test_prefix_parse);
	tcase_add_test(parse, test_create_errors);
	tcase_add_test(parse, test_create_server_net);
	suite_add_tcase(s, parse);
	if (geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0) {
		tcase_add_test(dev, test_server_device);
		tcase_add_test(dev, test_device_busy);
		tcase_add_test(dev, test_read_batches);
		tcase_add_test(dev, test_write_and_queue);
		tcase_add_test(dev, test_client_session);
		tcase_add_test(dev, test_client_no_accept_routes);
		suite_add_tcase(s, dev);
	} else {
		fprintf(stderr, "test_tun_netlink: not root or no /dev/net/tun: device tests skipped\n");
	}
	return s;
}
