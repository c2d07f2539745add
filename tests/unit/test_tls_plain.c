/* SPDX-License-Identifier: MIT */
/*
 * test_tls_plain.c — the tls-http server behind a reverse proxy, in the
 * harness over loopback, the test playing the proxy with raw sockets:
 * tls = false (plain HTTP for trusted_proxies only, the client from
 * X-Forwarded-For / Forwarded as the session's peer, data both ways over
 * the plain stream), its refusals (400 for a bad or missing header, an
 * untrusted address closed), its config errors, and `fallback` (the
 * request relayed byte for byte to a web server the test plays, 200 KB
 * back and the close; 502 when nothing listens).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <arpa/inet.h>
#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char dir[64], users[128];
static int port, web_port;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	return ntohs(sa.sin_port);
}

static void setup(void)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	snprintf(dir, sizeof(dir), "/tmp/tp-test-plain-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(users, sizeof(users), "%s/users", dir);
	memset(&cd, 0, sizeof(cd));
	crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt));
	FILE *f = fopen(users, "w");
	fprintf(f, "alice:%s\n", crypt_rn("wonderland", salt, &cd, sizeof(cd)));
	fclose(f);
	chmod(users, 0600);
	port = free_port();
	web_port = free_port();
}

static void teardown(void)
{
	unlink(users);
	rmdir(dir);
}

static struct tp_harness *server(const char *extra)
{
	char opts[1024];
	snprintf(opts, sizeof(opts), "role = \"server\"; listen = \"127.0.0.1:%d\"; users = \"%s\"; "
		 "tls = false; %s", port, users, extra);
	struct tp_harness *h = tp_harness_new("tls-http", opts);
	ck_assert_msg(h != NULL, "server: %s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

/* The proxy's connection: connected, then non-blocking. */
static int proxy_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Run the server's loop until `until` arrived on fd (or, NULL, until the
 * server closes it), at most ms of test clock; what came is in buf. */
static size_t wait_for(struct tp_harness *s, int fd, char *buf, size_t cap, const char *until,
		       int *eof, int ms)
{
	size_t n = 0;
	*eof = 0;
	for (int t = 0; t < ms; t += 5) {
		tp_harness_advance(s, 5);
		for (;;) {
			ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
			if (r > 0) {
				n += (size_t)r;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				*eof = 1;
			break;
		}
		buf[n] = '\0';
		if ((until && strstr(buf, until)) || *eof)
			break;
	}
	return n;
}

#define UPGRADE "GET /vpn HTTP/1.1\r\nHost: vpn.test\r\n" \
	"Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n" /* alice:wonderland */ \
	"Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n"

START_TEST(config_errors)
{
	char opts[512];
	snprintf(opts, sizeof(opts), "role = \"server\"; users = \"%s\"; tls = false;", users);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "tls = false needs trusted_proxies"));
	snprintf(opts, sizeof(opts), "role = \"server\"; users = \"%s\"; tls = false; "
		 "trusted_proxies = [ \"127.0.0.1\" ]; proxy_protocol = \"v1\";", users);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "cannot be combined"));
	snprintf(opts, sizeof(opts), "role = \"server\"; users = \"%s\";", users);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "needs option 'cert' (or tls = false"));
	snprintf(opts, sizeof(opts), "role = \"server\"; users = \"%s\"; tls = false; "
		 "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1\";", users);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "fallback '127.0.0.1': expected HOST:PORT"));
	/* and without cert or key it is complete */
	snprintf(opts, sizeof(opts), "role = \"server\"; users = \"%s\"; tls = false; "
		 "trusted_proxies = [ \"127.0.0.1\" ];", users);
	struct tp_harness *h = tp_harness_new("tls-http", opts);
	ck_assert_msg(h != NULL, "%s", tp_harness_last_error());
	tp_harness_free(h);
}
END_TEST

/* The session's peer is the client nginx named, data flows in plain. */
START_TEST(forwarded_session)
{
	static const char *hdr[] = {
		"X-Forwarded-For: 6.6.6.6, 192.0.2.7\r\n",
		"X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-For: 127.0.0.1\r\n",
		"Forwarded: for=\"192.0.2.7:4711\";proto=https\r\n",
		/* the client's own Forwarded, passed on by a proxy that writes
		 * X-Forwarded-For: ignored, even malformed */
		"Forwarded: for=198.51.100.9\r\nX-Forwarded-For: 192.0.2.7\r\nForwarded: for=_x;;\r\n",
	};
	static const char *peer[] = { "192.0.2.7", "192.0.2.7", "192.0.2.7:4711", "192.0.2.7" };
	char buf[4096], req[1024];
	int eof;
	struct tp_harness *s = server(_i == 2 ? "trusted_proxies = [ \"127.0.0.0/8\" ]; "
						"client_address_header = \"forwarded\";"
					      : "trusted_proxies = [ \"127.0.0.0/8\" ];");
	int fd = proxy_connect();
	snprintf(req, sizeof(req), "%s%s\r\nEARLY", UPGRADE, hdr[_i]);
	send_all(fd, req, strlen(req));
	wait_for(s, fd, buf, sizeof(buf), "\r\n\r\n", &eof, 5000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 101 ", 13) == 0, "answer: %s", buf);
	const struct tp_session_info *si = tp_harness_session_info(s);
	ck_assert_ptr_nonnull(si);
	ck_assert_str_eq(si->peer, peer[_i]);
	/* bytes behind the head, and after it, come up as stream data */
	send_all(fd, "-LATE", 5);
	size_t n = 0;
	char up[64];
	for (int t = 0; t < 200 && n < 10; t++) {
		struct tp_buf *b;
		tp_harness_advance(s, 5);
		while ((b = tp_harness_pull_up(s))) {
			ck_assert_uint_le(n + b->len, sizeof(up));
			memcpy(up + n, b->data, b->len);
			n += b->len;
			tp_harness_buf_free(s, b);
		}
	}
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(memcmp(up, "EARLY-LATE", 10), 0);
	/* and down: 100 KB through the plain write path (partial sends) */
	static char big[100000], got[100001];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (size_t off = 0; off < sizeof(big); off += 1000)
		tp_harness_push_down(s, big + off, 1000);
	n = 0;
	for (int t = 0; t < 1000 && n < sizeof(big); t++) {
		ssize_t r;
		tp_harness_advance(s, 5);
		while ((r = recv(fd, got + n, sizeof(got) - n, 0)) > 0)
			n += (size_t)r;
	}
	ck_assert_uint_eq(n, sizeof(big));
	ck_assert_int_eq(memcmp(got, big, sizeof(big)), 0);
	close(fd);
	tp_harness_free(s);
}
END_TEST

START_TEST(refusals)
{
	char buf[4096], req[1024];
	int eof;
	struct tp_harness *s = server("trusted_proxies = [ \"127.0.0.1\" ];");
	/* a bad entry where the walk reaches it, and no header at all */
	const char *bad[] = { "X-Forwarded-For: 192.0.2.7, junk\r\n", "",
			      "Forwarded: for=192.0.2.7;for=192.0.2.8\r\n", "X-Forwarded-For: unknown\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = proxy_connect();
		snprintf(req, sizeof(req), "%s%s\r\n", UPGRADE, bad[i]);
		send_all(fd, req, strlen(req));
		wait_for(s, fd, buf, sizeof(buf), NULL, &eof, 5000);
		ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "'%s': %s", bad[i], buf);
		ck_assert(eof);
		close(fd);
	}
	ck_assert_ptr_null(tp_harness_session_info(s));
	ck_assert_uint_eq(tp_harness_counter(s, "auth_checks"), 0); /* no crypt spent */
	tp_harness_free(s);

	/* 127.0.0.1 is not a trusted proxy: closed before a byte is read */
	s = server("trusted_proxies = [ \"10.9.9.9/32\" ];");
	int fd = proxy_connect();
	snprintf(req, sizeof(req), "%sX-Forwarded-For: 192.0.2.7\r\n\r\n", UPGRADE);
	send_all(fd, req, strlen(req));
	size_t n = wait_for(s, fd, buf, sizeof(buf), NULL, &eof, 5000);
	ck_assert(eof);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(tp_harness_counter(s, "refused"), 1);
	close(fd);
	tp_harness_free(s);
}
END_TEST

/* The test's web server: accept (non-blocking listener), read what comes. */
static int web_listen(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)web_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(fallback_relays)
{
	char opts[256], buf[4096];
	int eof, lfd = web_listen(), wfd = -1;
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\";",
		 web_port);
	struct tp_harness *s = server(opts);
	int fd = proxy_connect();
	/* not for the VPN: another path; and /vpn without Upgrade */
	const char *req = _i == 0 ? "GET /index.html HTTP/1.1\r\nHost: vpn.test\r\n"
				    "X-Forwarded-For: 192.0.2.7\r\n\r\n"
				  : "GET /vpn HTTP/1.1\r\nHost: vpn.test\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n";
	send_all(fd, req, strlen(req));
	size_t n = 0;
	for (int t = 0; t < 1000 && n < strlen(req); t++) {
		tp_harness_advance(s, 5);
		if (wfd < 0)
			wfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		ssize_t r = wfd >= 0 ? recv(wfd, buf + n, sizeof(buf) - 1 - n, 0) : -1;
		if (r > 0)
			n += (size_t)r;
	}
	buf[n] = '\0';
	ck_assert_str_eq(buf, req); /* byte for byte */
	/* 200 KB back through the bounded buffers, then the web server closes */
	static char page[200000], got[200001];
	memcpy(page, "HTTP/1.0 200 OK\r\n\r\n", 19);
	for (size_t i = 19; i < sizeof(page); i++)
		page[i] = (char)('A' + i % 23);
	size_t sent = 0;
	n = 0;
	eof = 0;
	for (int t = 0; t < 4000 && !eof; t++) {
		if (sent < sizeof(page)) {
			ssize_t w = send(wfd, page + sent, sizeof(page) - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			if (sent == sizeof(page))
				close(wfd);
		}
		tp_harness_advance(s, 5);
		ssize_t r;
		while ((r = recv(fd, got + n, sizeof(got) - 1 - n, 0)) > 0)
			n += (size_t)r;
		eof = r == 0;
	}
	ck_assert(eof);
	ck_assert_uint_eq(n, sizeof(page));
	ck_assert_int_eq(memcmp(got, page, sizeof(page)), 0);
	ck_assert_ptr_null(tp_harness_session_info(s));
	close(fd);
	close(lfd);
	tp_harness_free(s);
}
END_TEST

/* An upgrade on the path is the VPN's, with its 401; nobody listening
 * behind the fallback gets the client a 502. */
START_TEST(fallback_401_and_502)
{
	char opts[256], buf[4096];
	int eof;
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\";",
		 web_port);
	struct tp_harness *s = server(opts);
	int fd = proxy_connect();
	const char *vpn = "GET /vpn HTTP/1.1\r\nHost: vpn.test\r\nConnection: Upgrade\r\n"
			  "Upgrade: Simple-VPN\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n";
	send_all(fd, vpn, strlen(vpn));
	wait_for(s, fd, buf, sizeof(buf), NULL, &eof, 5000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 401 ", 13) == 0, "answer: %s", buf);
	close(fd);
	fd = proxy_connect();
	const char *web = "GET / HTTP/1.1\r\nHost: vpn.test\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n";
	send_all(fd, web, strlen(web));
	wait_for(s, fd, buf, sizeof(buf), NULL, &eof, 5000);
	ck_assert(eof);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 502 ", 13) == 0, "answer: %s", buf);
	close(fd);
	tp_harness_free(s);
}
END_TEST

/* Accept the fallback's connection and read the request head (in buf);
 * then the client (fd) half-closes, and its end reaches the web server. */
static int web_take(struct tp_harness *s, int lfd, int fd, char *buf, size_t cap)
{
	int wfd = -1, eof = 0;
	size_t n = 0;
	for (int t = 0; t < 400 && !eof; t++) {
		tp_harness_advance(s, 5);
		if (wfd < 0)
			wfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		ssize_t r = wfd >= 0 ? recv(wfd, buf + n, cap - 1 - n, 0) : -1;
		if (r > 0)
			n += (size_t)r;
		buf[n] = '\0';
		if (fd >= 0 && strstr(buf, "\r\n\r\n")) {
			shutdown(fd, SHUT_WR); /* after the head: before, it is not a request */
			fd = -1;
		}
		eof = r == 0;
	}
	ck_assert_int_ge(wfd, 0);
	ck_assert(eof);
	return wfd;
}

/* Read fd (n bytes in buf already) until the server closes it; the total. */
static size_t read_to_eof(struct tp_harness *s, int fd, char *buf, size_t n, size_t cap)
{
	ssize_t r = -1;
	for (int t = 0; t < 2000 && r != 0; t++) {
		tp_harness_advance(s, 5);
		while ((r = recv(fd, buf + n, cap - n, 0)) > 0)
			n += (size_t)r;
	}
	ck_assert_int_eq(r, 0);
	return n;
}

/* A client that half-closes and stops reading while a big page comes
 * back: once the web server has closed, its socket is shut both ways with
 * data still to deliver.  The relay waits for the client quietly (the
 * loop settles: no callback run over and over on a hang-up nobody asked
 * for), and delivers every byte once the client reads. */
START_TEST(fallback_halfclose_quiet)
{
	char opts[256], buf[4096];
	int lfd = web_listen(), rcv = 4096;
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\";",
		 web_port);
	struct tp_harness *s = server(opts);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	const char *req = "GET /big HTTP/1.1\r\nHost: vpn.test\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n";
	send_all(fd, req, strlen(req));
	int wfd = web_take(s, lfd, fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, req);
	size_t n;
	/* The page is sent while the client reads a little now and then,
	 * until all of it has left the web server (its send queue empty):
	 * then it closes, and the rest of the page and the end sit in the
	 * relay's socket and buffer, waiting for the client. */
	static char page[4 << 20], got[(4 << 20) + 1];
	memcpy(page, "HTTP/1.0 200 OK\r\n\r\n", 19);
	for (size_t i = 19; i < sizeof(page); i++)
		page[i] = (char)('a' + i % 19);
	size_t sent = 0;
	n = 0;
	for (int t = 0; t < 20000; t++) {
		int q = 1;
		ssize_t w = sent < sizeof(page) ? send(wfd, page + sent, sizeof(page) - sent, MSG_NOSIGNAL) : 0;
		if (w > 0)
			sent += (size_t)w;
		tp_harness_advance(s, 5);
		if (sent == sizeof(page) && ioctl(wfd, SIOCOUTQ, &q) == 0 && q == 0)
			break;
		ssize_t r = recv(fd, got + n, 1024, 0);
		if (r > 0)
			n += (size_t)r;
	}
	ck_assert_uint_eq(sent, sizeof(page));
	close(wfd);
	tp_harness_advance(s, 20);
	tp_harness_advance(s, 20);
	/* quiet: a spinning relay runs its callback on every round */
	int ran = tp_harness_poll(s, 0);
	ck_assert_msg(ran < 10, "the loop ran %d callbacks with nothing to do", ran);
	/* and nothing was lost: the client reads it all, then the close */
	ck_assert_uint_eq(read_to_eof(s, fd, got, n, sizeof(got) - 1), sizeof(page));
	ck_assert_int_eq(memcmp(got, page, sizeof(page)), 0);
	close(fd);
	close(lfd);
	tp_harness_free(s);
}
END_TEST

/* A client that half-closes, then resets, while the web server is still
 * thinking: the relay ends at once (no spin on the hang-up, no slot held
 * until the idle timeout). */
START_TEST(fallback_client_reset)
{
	char opts[256], buf[4096];
	int lfd = web_listen();
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\";",
		 web_port);
	struct tp_harness *s = server(opts);
	int fd = proxy_connect();
	const char *req = "GET /slow HTTP/1.1\r\nHost: vpn.test\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n";
	send_all(fd, req, strlen(req));
	int wfd = web_take(s, lfd, fd, buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd); /* RST */
	tp_harness_advance(s, 20);
	int ran = tp_harness_poll(s, 0);
	ck_assert_msg(ran < 10, "the loop ran %d callbacks with nothing to do", ran);
	/* the relay is gone: the web server sees its connection closed */
	int eof = 0;
	for (int t = 0; t < 100 && !eof; t++) {
		tp_harness_advance(s, 5);
		ssize_t r = recv(wfd, buf, sizeof(buf), 0);
		eof = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
	}
	ck_assert_msg(eof, "the relay outlived its client");
	close(wfd);
	close(lfd);
	tp_harness_free(s);
}
END_TEST

/* A page request for the fallback from the client `xff` names. */
static int web_request(const char *xff)
{
	char req[256];
	int fd = proxy_connect();
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: vpn.test\r\nX-Forwarded-For: %s\r\n\r\n", xff);
	send_all(fd, req, strlen(req));
	return fd;
}

/* The web server's side of the next relay (-1: none came). */
static int web_accept(struct tp_harness *s, int lfd)
{
	int wfd = -1;
	for (int t = 0; t < 100 && wfd < 0; t++) {
		tp_harness_advance(s, 5);
		wfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	}
	return wfd;
}

/* fallback_per_address from one client, fallback_max in all (more get
 * 503 while another address still gets its page), fallback_lifetime
 * for one kept busy. */
START_TEST(fallback_limits)
{
	char opts[256], buf[4096];
	int eof, lfd = web_listen(), w[3];
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\"; "
		 "fallback_per_address = 2; fallback_max = 3; fallback_lifetime = 60;", web_port);
	struct tp_harness *s = server(opts);
	int a1 = web_request("192.0.2.7");
	ck_assert_int_ge(w[0] = web_accept(s, lfd), 0);
	int a2 = web_request("192.0.2.7");
	ck_assert_int_ge(w[1] = web_accept(s, lfd), 0);
	int a3 = web_request("192.0.2.7");
	wait_for(s, a3, buf, sizeof(buf), NULL, &eof, 2000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 503 ", 13) == 0, "a third from one address: %s", buf);
	ck_assert_int_lt(web_accept(s, lfd), 0);
	close(a3);
	/* another address still gets its page */
	int b = web_request("192.0.2.8");
	ck_assert_int_ge(w[2] = web_accept(s, lfd), 0);
	send_all(w[2], "HTTP/1.0 200 OK\r\n\r\npage", 23);
	close(w[2]);
	wait_for(s, b, buf, sizeof(buf), NULL, &eof, 2000);
	ck_assert_str_eq(buf, "HTTP/1.0 200 OK\r\n\r\npage");
	close(b);
	/* three at once in all */
	b = web_request("192.0.2.8");
	ck_assert_int_ge(w[2] = web_accept(s, lfd), 0);
	int c = web_request("192.0.2.9");
	wait_for(s, c, buf, sizeof(buf), NULL, &eof, 2000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 503 ", 13) == 0, "a fourth relay: %s", buf);
	close(c);
	/* a byte each way every 20 s keeps a1 from the idle timeout, not
	 * from the lifetime: closed at 60 s (the quiet ones at 30 s) */
	uint64_t t0 = tp_harness_now(s);
	eof = 0;
	for (int i = 0; i < 5 && !eof; i++) {
		send_all(a1, "x", 1);
		wait_for(s, a1, buf, sizeof(buf), NULL, &eof, 20000);
	}
	ck_assert(eof);
	ck_assert_uint_ge(tp_harness_now(s) - t0, 55000);
	ck_assert_uint_le(tp_harness_now(s) - t0, 61000);
	close(a1);
	close(a2);
	close(b);
	for (int i = 0; i < 3; i++)
		close(w[i]);
	close(lfd);
	tp_harness_free(s);
}
END_TEST

/* fallback_proxy_protocol: a PROXY v1 line naming the client (from
 * X-Forwarded-For here: no port, so 0) before the request's bytes. */
START_TEST(fallback_proxy_line)
{
	static const char *xff[] = { "192.0.2.7", "[2001:db8::1]:4711" };
	static const char *src[] = { "TCP4 192.0.2.7 127.0.0.1 0", "TCP6 2001:db8::1 ::ffff:127.0.0.1 4711" };
	char opts[256], buf[4096], want[512];
	int lfd = web_listen(), wfd;
	size_t n = 0;
	snprintf(opts, sizeof(opts), "trusted_proxies = [ \"127.0.0.1\" ]; fallback = \"127.0.0.1:%d\"; "
		 "fallback_proxy_protocol = true;", web_port);
	struct tp_harness *s = server(opts);
	int fd = web_request(xff[_i]);
	ck_assert_int_ge(wfd = web_accept(s, lfd), 0);
	snprintf(want, sizeof(want), "PROXY %s %d\r\nGET / HTTP/1.1\r\nHost: vpn.test\r\n"
		 "X-Forwarded-For: %s\r\n\r\n", src[_i], port, xff[_i]);
	for (int t = 0; t < 200 && n < strlen(want); t++) {
		tp_harness_advance(s, 5);
		ssize_t r = recv(wfd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r > 0)
			n += (size_t)r;
	}
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	close(fd);
	close(wfd);
	close(lfd);
	tp_harness_free(s);
}
END_TEST

Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("tls_plain");
	TCase *tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, config_errors);
	tcase_add_loop_test(tc, forwarded_session, 0, 4);
	tcase_add_test(tc, refusals);
	tcase_add_loop_test(tc, fallback_relays, 0, 2);
	tcase_add_test(tc, fallback_401_and_502);
	tcase_add_test(tc, fallback_halfclose_quiet);
	tcase_add_test(tc, fallback_client_reset);
	tcase_add_test(tc, fallback_limits);
	tcase_add_loop_test(tc, fallback_proxy_line, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
