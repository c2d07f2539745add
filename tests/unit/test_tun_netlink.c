/* SPDX-License-Identifier: MIT */
/*
 * test_tun_netlink.c — the tun plugin against the real kernel, through the
 * plugin harness (the built module, as the daemon loads it).  The plugin's
 * prefix parser is linked in directly to test it alone, and tun.h gives
 * the white-box checks of what create() parsed.
 *
 * Parsing tests run anywhere.  Device tests need root and /dev/net/tun;
 * each runs in Check's forked child, which first moves into a fresh network
 * namespace (unshare), so nothing leaks to the host and the namespace
 * disappears with the child even when an assertion fails.  They register
 * the device's fd with manual fds: each tp_harness_fd_fire() is exactly
 * one wakeup, as the batching assertions need.
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

#include "harness.h"
#include "tun.h"

static char err[256];

/* `extra` over the options every test shares (mtu 1400, accept_routes,
 * batch 64, queue 1024): a shared one that `extra` sets is left out, as
 * libconfig refuses a setting given twice. */
static const char *options(const char *extra)
{
	static const char *const base[] = { "mtu = 1400;", "accept_routes = true;", "batch = 64;",
					    "queue = 1024;" };
	static char opts[1024];

	opts[0] = '\0';
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		char key[32];

		snprintf(key, sizeof(key), "%.*s", (int)(strchr(base[i], '=') - base[i]), base[i]);
		if (!strstr(extra, key))
			strcat(opts, base[i]);
	}
	strcat(opts, extra);
	return opts;
}

/* A tun instance with fds under the test's control. */
static struct tp_harness *tun_new(const char *fmt, ...)
{
	char extra[900];
	struct tp_harness *h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	h = tp_harness_new("tun", options(extra));
	ck_assert_msg(h != NULL, "tun: %s", tp_harness_last_error());
	tp_harness_manual_fds(h, 1);
	return h;
}

/* create() must refuse `opts`: its own message (in err) is returned. */
static const char *create_fails(const char *opts)
{
	const char *e;

	ck_assert_ptr_null(tp_harness_new("tun", options(opts)));
	e = strstr(tp_harness_last_error(), "create failed: ");
	ck_assert_msg(e != NULL, "not refused by create(): %s", tp_harness_last_error());
	snprintf(err, sizeof(err), "%s", e + strlen("create failed: "));
	return err;
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
	ck_assert_str_eq(create_fails("address = \"10.0.0.300/24\";"),
			 "address '10.0.0.300/24' is not an IPv4 prefix (like 10.0.0.1/24)");

	ck_assert_str_eq(create_fails("address = \"10.0.0.1/24\"; pool = \"10.0.1.10-10.0.1.20\";"),
			 "pool '10.0.1.10-10.0.1.20' is not inside address 10.0.0.1/24's subnet");
	ck_assert_ptr_nonnull(strstr(create_fails("address = \"10.0.0.1/24\"; pool = \"10.0.0.20-10.0.0.10\";"),
				     "starts after it ends"));
	ck_assert_ptr_nonnull(strstr(create_fails("address = \"10.0.0.1/24\"; pool = \"10.0.0.1-10.0.0.10\";"),
				     "own address"));
	ck_assert_ptr_nonnull(strstr(create_fails("address = \"10.0.0.1/24\"; pool = \"10.0.0.10\";"),
				     "is not an IPv4 range"));

	ck_assert_str_eq(create_fails("routes = [ \"10.1.2.3/16\" ];"),
			 "route '10.1.2.3/16' has host bits set (did you mean 10.1.0.0/16?)");

	ck_assert_ptr_nonnull(strstr(create_fails("address6 = \"fd00::1/64\"; mtu = 1000;"), "at least 1280"));
	ck_assert_str_eq(create_fails("push_dns = [ \"1.1.1.1\", \"8.8.8.8\" ];"), /* server option without address */
			 "push_dns is a server option and needs 'address'");

	ck_assert_ptr_nonnull(strstr(create_fails("device = \"a-name-that-is-far-too-long\";"),
				     "not a valid interface name"));
}
END_TEST

START_TEST(test_create_server_net)
{
	struct tp_harness *h = tun_new("address = \"10.0.0.1/24\"; address6 = \"fd00::1/64\"; "
				       "pool = \"10.0.0.10-10.0.0.200\"; "
				       "push_routes = [ \"192.168.5.0/24\", \"fd00:5::/64\" ]; "
				       "push_dns = [ \"10.0.0.1\", \"fd00::53\" ];");
	struct tun *t = tp_harness_instance(h, 0);

	ck_assert_int_eq(t->net.pool4_first.addr[3], 10);
	ck_assert_int_eq(t->net.pool4_last.addr[3], 200);
	ck_assert_int_eq(t->net.n_routes, 2);
	ck_assert_int_eq(t->net.routes[1].family, AF_INET6);
	ck_assert_int_eq(t->net.n_dns, 2);
	ck_assert_int_eq(t->net.dns[1].plen, 128);
	ck_assert_int_eq(t->net.mtu, 1400);
	ck_assert_int_eq(t->net.addr6.family, AF_INET6);
	ck_assert_int_eq(tp_harness_fd(h, NULL), -1); /* create() has no side effects */
	tp_harness_free(h);
}
END_TEST

/* ---- device tests (root, own namespace) ---- */

START_TEST(test_server_device)
{
	struct tp_harness *h;
	uint32_t ev;

	enter_netns();
	h = tun_new("device = \"tpu0\"; address = \"10.98.0.1/24\"; address6 = \"fd00:98::1/64\"; "
		    "mtu = 1300; routes = [ \"10.50.0.0/16\", \"fd00:50::/48\" ];");
	ck_assert_int_eq(tp_harness_start(h), 0);
	ck_assert_int_ge(tp_harness_fd(h, &ev), 0);
	ck_assert_uint_eq(ev, TP_FD_READ);
	ck_assert_int_eq(tp_harness_net_announces(h), 1);
	ck_assert_int_eq(tp_harness_net_info(h)->addr4.plen, 24);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpu0"), "inet 10.98.0.1/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpu0"), "inet6 fd00:98::1/64"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpu0"), "mtu 1300"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpu0"), ",UP"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpu0"), "10.50.0.0/16"));
	ck_assert_ptr_nonnull(strstr(sh("ip -6 route show dev tpu0"), "fd00:50::/48"));
	tp_harness_stop(h);
	ck_assert_int_eq(tp_harness_fd(h, NULL), -1);
	ck_assert_str_eq(sh("ip link show dev tpu0 2>/dev/null"), "");
	tp_harness_free(h);
}
END_TEST

START_TEST(test_device_busy)
{
	struct tp_harness *a, *b;

	enter_netns();
	a = tun_new("device = \"tpb0\";");
	ck_assert_int_eq(tp_harness_start(a), 0);
	b = tun_new("device = \"tpb0\";");
	ck_assert_int_eq(tp_harness_start(b), -1); /* the name is taken: clear error, nothing left open */
	ck_assert_int_eq(tp_harness_fd(b, NULL), -1);
	tp_harness_free(b);
	tp_harness_free(a);
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

/* Drop what was emitted down. */
static void drop_down(struct tp_harness *h)
{
	struct tp_buf *b;

	while ((b = tp_harness_pull_down(h)))
		tp_harness_buf_free(h, b);
}

/* How many emitted packets are IPv4 to `dst` (the kernel also sends IPv6
 * chatter through a fresh device); frees them all. */
static int take_ipv4_to(struct tp_harness *h, const char *dst)
{
	struct tp_buf *b;
	struct in_addr want;
	int n = 0;

	inet_pton(AF_INET, dst, &want);
	while ((b = tp_harness_pull_down(h))) {
		if (b->len >= 28 && (b->data[0] >> 4) == 4 && !memcmp(b->data + 16, &want, 4)) {
			ck_assert_int_eq(b->len, 28 + 7); /* "hello N" in UDP in IPv4 */
			ck_assert(!memcmp(b->data + 28, "hello ", 6));
			n++;
		}
		tp_harness_buf_free(h, b);
	}
	return n;
}

START_TEST(test_read_batches)
{
	struct tp_harness *h;
	size_t batches;
	uint64_t packets;
	int fd;

	enter_netns();
	h = tun_new("address = \"10.97.0.1/24\"; batch = 3;");
	ck_assert_int_eq(tp_harness_start(h), 0);
	fd = tp_harness_fd(h, NULL);
	usleep(100000); /* let the IPv6 chatter of link-up go by */
	tp_harness_fd_fire(h, fd, TP_FD_READ);
	drop_down(h);
	batches = tp_harness_batches_down(h);
	packets = tp_harness_counter(h, "down_packets");

	send_udp("10.97.0.2", 5);
	tp_harness_fd_fire(h, fd, TP_FD_READ);
	ck_assert_uint_eq(tp_harness_batches_down(h) - batches, 1);   /* one wakeup, one batch */
	ck_assert_uint_eq(tp_harness_queued_down(h), 3);               /* ... capped at `batch` */
	ck_assert_uint_eq(tp_harness_counter(h, "down_packets") - packets, 3);
	ck_assert_int_eq(take_ipv4_to(h, "10.97.0.2"), 3);
	tp_harness_fd_fire(h, fd, TP_FD_READ);
	ck_assert_uint_eq(tp_harness_batches_down(h) - batches, 2);
	ck_assert_int_eq(take_ipv4_to(h, "10.97.0.2"), 2);
	tp_harness_fd_fire(h, fd, TP_FD_READ);                        /* EAGAIN: nothing emitted */
	ck_assert_uint_eq(tp_harness_batches_down(h) - batches, 2);
	/* the top endpoint leaves the session to the router */
	ck_assert_uint_eq(tp_harness_session_emits(h), 0);

	/* Pool exhausted: packets are read and dropped, not left to spin on. */
	tp_harness_set_pool_limit(h, 0);
	send_udp("10.97.0.2", 2);
	tp_harness_fd_fire(h, fd, TP_FD_READ);
	ck_assert_uint_eq(tp_harness_batches_down(h) - batches, 2);
	ck_assert_uint_eq(tp_harness_counter(h, "rx_nobuf"), 2);
	ck_assert_int_lt(read(fd, err, sizeof(err)), 0);
	ck_assert_int_eq(errno, EAGAIN);
	tp_harness_free(h); /* fails the test if a buffer is still out */
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
static struct tp_buf *udp_packet(struct tp_harness *h, uint16_t port, const char *msg)
{
	uint8_t p[128];
	size_t n = strlen(msg);
	uint16_t c;

	ck_assert_uint_le(28 + n, sizeof(p));
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
	return tp_harness_buf(h, p, 28 + n);
}

START_TEST(test_write_and_queue)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct tp_batch q = TP_BATCH_INIT;
	socklen_t sl = sizeof(sa);
	struct tp_harness *h;
	char got[64];
	int us, pfd[2], i, fd;
	uint32_t ev;

	enter_netns();
	/* The plain write path (offload = off: no virtio_net_hdr on the fd). */
	h = tun_new("address = \"10.97.0.1/24\"; queue = 3; offload = \"off\";");
	ck_assert_int_eq(tp_harness_start(h), 0);
	fd = tp_harness_fd(h, NULL);

	/* Up: a packet written to the device reaches a local socket. */
	us = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "10.97.0.1", &sa.sin_addr);
	ck_assert_int_eq(bind(us, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(us, (struct sockaddr *)&sa, &sl), 0);
	tp_batch_add(&q, udp_packet(h, ntohs(sa.sin_port), "up one"));
	tp_batch_add(&q, udp_packet(h, ntohs(sa.sin_port), "up two"));
	tp_harness_push_up_batch(h, &q);
	ck_assert_int_eq(recv(us, got, sizeof(got), MSG_DONTWAIT), 6);
	ck_assert(!memcmp(got, "up one", 6));
	ck_assert_int_eq(recv(us, got, sizeof(got), MSG_DONTWAIT), 6);
	ck_assert(!memcmp(got, "up two", 6));
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 2);
	ck_assert_uint_eq(tp_harness_counter(h, "up_bytes"), 2 * 34);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	close(us);

	/* Back-pressure: a TUN write never blocks, so put a full pipe in
	 * place of the device's fd (same number) to get EAGAIN. */
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK), 0);
	while (write(pfd[1], err, sizeof(err)) > 0)
		;
	ck_assert_int_eq(dup2(pfd[1], fd), fd);
	for (i = 0; i < 5; i++) {
		char m[8];
		snprintf(m, sizeof(m), "q%d", i);
		tp_batch_add(&q, udp_packet(h, 9, m));
	}
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_counter(h, "up_dropped"), 2);       /* over `queue` = 3 */
	ck_assert_int_eq(tp_harness_fd(h, &ev), fd);
	ck_assert_uint_eq(ev, TP_FD_READ | TP_FD_WRITE);
	ck_assert_uint_eq(tp_harness_outstanding(h), 3);
	while (read(pfd[0], got, sizeof(got)) > 0)
		;
	tp_harness_fd_fire(h, fd, TP_FD_WRITE);
	tp_harness_fd(h, &ev);
	ck_assert_uint_eq(ev, TP_FD_READ);                               /* drained: stop watching writes */
	ck_assert_uint_eq(tp_harness_counter(h, "up_packets"), 5);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	for (i = 0; i < 3; i++) {                                        /* in order */
		char m[8];
		ck_assert_int_eq(read(pfd[0], got, 30), 30);
		snprintf(m, sizeof(m), "q%d", i);
		ck_assert(!memcmp(got + 28, m, 2));
	}
	tp_harness_free(h);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

/* A TCP/IPv4 super-packet of 20 + 20 + payload bytes as a TUN with TSO
 * would hand it over (segments of 1000 bytes, checksum partial). */
static struct tp_buf *super_packet(struct tp_harness *h, size_t payload)
{
	static uint8_t p[20 + 20 + 20000];
	size_t n = 40 + payload;
	struct tp_buf *b;

	ck_assert_uint_le(n, sizeof(p));
	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, "\x0a\x61\x00\x02\x0a\x61\x00\x01", 8);
	p[32] = 5 << 4;
	p[33] = 0x10;
	memset(p + 40, 'x', payload);
	b = tp_harness_buf(h, p, n);
	b->off.gso_type = TP_GSO_TCP4;
	b->off.flags = TP_OFF_NEEDS_CSUM;
	b->off.gso_size = 1000;
	b->off.hdr_len = 40;
	b->off.csum_start = 20;
	b->off.csum_offset = 16;
	return b;
}

/* The write queue is bounded in bytes too: `queue` MTU-sized packets'
 * worth.  With queue = 2 and MTU 1400 (2800 bytes), a device that pushes
 * back holds one 10 KB super-packet (an empty queue takes any one), not
 * two: counting packets only, it would have pinned two. */
START_TEST(test_queue_bytes)
{
	struct tp_batch q = TP_BATCH_INIT;
	struct tp_harness *h;
	int pfd[2], fd, i;

	enter_netns();
	h = tun_new("address = \"10.97.0.1/24\"; queue = 2; offload = \"on\";");
	ck_assert_int_eq(tp_harness_start(h), 0);
	fd = tp_harness_fd(h, NULL);
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK), 0);
	while (write(pfd[1], err, sizeof(err)) > 0)
		;
	ck_assert_int_eq(dup2(pfd[1], fd), fd);
	for (i = 0; i < 3; i++)
		tp_batch_add(&q, super_packet(h, 10000));
	tp_harness_push_up_batch(h, &q);
	ck_assert_uint_eq(tp_harness_counter(h, "up_dropped"), 2);
	ck_assert_uint_eq(tp_harness_outstanding(h), 1);
	tp_harness_free(h);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

static void session_up(struct tp_harness *h, uint32_t flags, const char *a4, uint32_t mtu,
		       const char *const *routes)
{
	struct tp_session_info si = { .size = sizeof(si), .flags = flags, .mtu = mtu };
	struct tp_event ev = { .type = TP_EV_SESSION_UP, .info = &si };

	ck_assert_int_eq(tn_prefix_parse(a4, AF_INET, TN_PLEN_REQUIRED, "a", &si.addr4, err, sizeof(err)), 0);
	for (; routes && *routes; routes++)
		ck_assert_int_eq(tn_prefix_parse(*routes, AF_UNSPEC, TN_PLEN_OPTIONAL, "r",
						 &si.routes[si.n_routes++], err, sizeof(err)), 0);
	tp_harness_event(h, &ev);
}

START_TEST(test_client_session)
{
	const char *const r1[] = { "10.60.0.0/16", "192.168.77.0/24", NULL };
	const char *const r2[] = { "10.60.0.0/16", NULL };
	struct tp_event down = { .type = TP_EV_SESSION_DOWN, .reason = "test" };
	struct tp_harness *h;

	enter_netns();
	h = tun_new("device = \"tpc0\"; routes = [ \"10.70.0.0/16\" ];");
	ck_assert_int_eq(tp_harness_start(h), 0);
	ck_assert_int_eq(tp_harness_net_announces(h), 0); /* a client has no network to announce */
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "inet "));

	session_up(h, 0, "10.99.0.50/24", 0, NULL); /* a remote peer: not ours */
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "inet "));

	session_up(h, TP_SI_LOCAL, "10.99.0.2/24", 1350, r1);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.2/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpc0"), "mtu 1350"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.60.0.0/16"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "192.168.77.0/24"));

	/* Reconnect with another address and fewer routes. */
	tp_harness_event(h, &down);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.2/24"));
	session_up(h, TP_SI_LOCAL, "10.99.0.3/24", 0, r2);
	ck_assert_ptr_null(strstr(sh("ip -o addr show dev tpc0"), "10.99.0.2/"));
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc0"), "inet 10.99.0.3/24"));
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpc0"), "mtu 1350"));
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.60.0.0/16"));
	ck_assert_ptr_null(strstr(sh("ip route show dev tpc0"), "192.168.77.0/24"));
	/* The local route survived the kernel's flush on address removal. */
	ck_assert_ptr_nonnull(strstr(sh("ip route show dev tpc0"), "10.70.0.0/16"));

	tp_harness_stop(h);
	ck_assert_str_eq(sh("ip link show dev tpc0 2>/dev/null"), "");
	tp_harness_free(h);
}
END_TEST

START_TEST(test_client_no_accept_routes)
{
	const char *const r1[] = { "10.60.0.0/16", NULL };
	struct tp_harness *h;

	enter_netns();
	h = tun_new("device = \"tpc1\"; accept_routes = false;");
	ck_assert_int_eq(tp_harness_start(h), 0);
	session_up(h, TP_SI_LOCAL, "10.99.0.2/24", 0, r1);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc1"), "inet 10.99.0.2/24"));
	ck_assert_ptr_null(strstr(sh("ip route show dev tpc1"), "10.60.0.0/16"));
	tp_harness_free(h);
}
END_TEST

/* A session's MTU below 1280 would make the kernel switch IPv6 off on a
 * device that carries IPv6 (here a configured IPv6 route: the client's
 * own full tunnel) and drop its routes, so IPv6 would leak: not applied.
 * Without IPv6 on the device it is. */
START_TEST(test_small_mtu_keeps_ipv6)
{
	struct tp_harness *h;

	enter_netns();
	h = tun_new("device = \"tpc2\"; routes = [ \"fd00:77::/64\" ];");
	ck_assert_int_eq(tp_harness_start(h), 0);
	ck_assert_ptr_nonnull(strstr(sh("ip -6 route show dev tpc2"), "fd00:77::/64"));
	session_up(h, TP_SI_LOCAL, "10.99.0.2/24", 576, NULL);
	ck_assert_ptr_nonnull(strstr(sh("ip -o addr show dev tpc2"), "inet 10.99.0.2/24"));
	ck_assert_ptr_null(strstr(sh("ip link show dev tpc2"), "mtu 576"));
	ck_assert_ptr_nonnull(strstr(sh("ip -6 route show dev tpc2"), "fd00:77::/64"));
	tp_harness_free(h);

	h = tun_new("device = \"tpc3\";");
	ck_assert_int_eq(tp_harness_start(h), 0);
	session_up(h, TP_SI_LOCAL, "10.99.1.2/24", 576, NULL);
	ck_assert_ptr_nonnull(strstr(sh("ip link show dev tpc3"), "mtu 576"));
	tp_harness_free(h);
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
		tcase_add_test(dev, test_queue_bytes);
		tcase_add_test(dev, test_client_session);
		tcase_add_test(dev, test_client_no_accept_routes);
		tcase_add_test(dev, test_small_mtu_keeps_ipv6);
		suite_add_tcase(s, dev);
	} else {
		fprintf(stderr, "test_tun_netlink: not root or no /dev/net/tun: device tests skipped\n");
	}
	return s;
}
