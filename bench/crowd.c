/* SPDX-License-Identifier: MIT */
/*
 * crowd.c — a crowd of Simple-VPN clients in one process, for the server
 * benchmark (bench/netns-bench.sh) and tests/e2e/test-crowd.sh.
 *
 * Each client is a non-blocking TLS connection on one epoll loop that
 * speaks the plain Simple-VPN upgrade (GET PATH with Basic auth as
 * PREFIX<i>, no stack header: the default framer-ip stack), reads the 101
 * and its Simple-VPN-Address, sends one ICMP echo request from that
 * address to the server's tunnel address inside the stream and waits for
 * the echo reply (answered by the server's kernel through its TUN).
 *
 *   crowd --storm N  all N at once, each user PREFIX1..PREFIXN from its own
 *                    source address (--src A.B.C.D: A.B.C.D + i - 1, which
 *                    the caller routes to this namespace); prints the time
 *                    until all were in, the 503 count and other failures,
 *                    then keeps the N sessions idle until SIGTERM/SIGINT
 *                    (SIGUSR1: each pings once more, "crowd: pinged again").
 *                    --wave W: W at a time, each wave in before the next
 *                    (a ramp: the memory of N idle sessions without the
 *                    storm's peak).
 *   crowd --cycle N  N times in turn as PREFIX1: connect, upgrade, ping,
 *                    close (close_notify, then the server's EOF, so the
 *                    server has seen the session end); prints ms per cycle.
 *                    TLS sessions are resumed when the server issues
 *                    tickets (--no-resume: full handshakes).
 *
 * Output lines start with "crowd:" and are key=value for scripts.  Not a
 * client to use: it verifies the server only with --ca.
 */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

enum st { S_CONNECT, S_TLS, S_REQ, S_HEAD, S_PING, S_IDLE, S_SHUT, S_DONE, S_FAIL };
enum why { K_OK, K_503, K_CONNECT, K_TLS, K_STATUS, K_CLOSED, K_TIMEOUT, K_BADHEAD, K_NWHY };
static const char *why_name[K_NWHY] = { "ok", "503", "connect", "tls", "status", "closed",
					"timeout", "bad_101" };

struct cl {
	int idx;
	int fd;
	SSL *ssl;
	enum st st;
	enum why why;
	int status;
	uint32_t addr; /* our tunnel address, network order */
	char out[1024];
	size_t out_len, out_off;
	unsigned char in[65536 + 4096];
	size_t in_len;
	double t0;
};

static struct {
	const char *server, *path, *prefix, *pass, *ca;
	struct sockaddr_in dst;
	uint32_t src; /* host order; 0 = let the kernel pick */
	uint32_t tun;  /* the server's tunnel address, network order */
	int resume;
	int wave; /* --wave W: the storm in waves of W; 0 = all at once */
	double timeout_s;
} o = { .path = "/vpn", .prefix = "user", .resume = 1, .timeout_s = 30 };

static SSL_CTX *ctx;
static SSL_SESSION *last_session;
static int ep;
static volatile sig_atomic_t stop, again;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "crowd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static size_t b64(const char *in, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
}

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An ICMP echo request from c's address to the server's, id = c's index. */
static size_t echo_request(struct cl *c, uint8_t *p)
{
	size_t n = 20 + 8 + 16;
	uint16_t v;
	memset(p, 0, n);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;
	p[9] = 1; /* ICMP */
	memcpy(p + 12, &c->addr, 4);
	memcpy(p + 16, &o.tun, 4);
	v = htons(csum(p, 20));
	memcpy(p + 10, &v, 2);
	p[20] = 8; /* echo request */
	p[24] = (uint8_t)(c->idx >> 8);
	p[25] = (uint8_t)c->idx;
	p[27] = 1; /* seq 1 */
	memcpy(p + 28, "tunpipe-crowd!!!", 16);
	v = htons(csum(p + 20, n - 20));
	memcpy(p + 22, &v, 2);
	return n;
}

static void watch(struct cl *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static void finish(struct cl *c, enum st st, enum why why)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->ssl = NULL;
	c->fd = -1;
	c->st = st;
	c->why = why;
}

static void start(struct cl *c)
{
	int one = 1;
	c->t0 = now();
	c->in_len = c->out_len = c->out_off = 0;
	c->status = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s (raise ulimit -n?)", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	if (o.src) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		sa.sin_addr.s_addr = htonl(o.src + (uint32_t)(c->idx - 1));
		setsockopt(c->fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("bind %s: %s", inet_ntoa(sa.sin_addr), strerror(errno));
	}
	c->st = S_CONNECT;
	if (connect(c->fd, (struct sockaddr *)&o.dst, sizeof(o.dst)) < 0 && errno != EINPROGRESS) {
		finish(c, S_FAIL, K_CONNECT);
		return;
	}
	watch(c, EPOLLOUT);
}

static void request(struct cl *c)
{
	char cred[512], enc[700];
	snprintf(cred, sizeof(cred), "%s%d:%s", o.prefix, c->idx, o.pass);
	b64(cred, enc);
	c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
				      "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
				      "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n\r\n",
				      o.path, o.server, enc);
	c->out_off = 0;
	explicit_bzero(cred, sizeof(cred));
}

/* An SSL call wants: 1 go on later (watched), 0 failed. */
static int want(struct cl *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		watch(c, EPOLLIN);
		return 1;
	case SSL_ERROR_WANT_WRITE:
		watch(c, EPOLLOUT);
		return 1;
	default:
		return 0;
	}
}

/* Parse the answer head in c->in; 1 when complete (c->in keeps what
 * follows it), 0 to read on, -1 refused or malformed. */
static int head(struct cl *c)
{
	unsigned char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!e)
		return c->in_len >= sizeof(c->in) - 1 ? -1 : 0;
	size_t hl = (size_t)(e - c->in) + 4;
	char h[8192];
	if (hl >= sizeof(h))
		return -1;
	memcpy(h, c->in, hl);
	h[hl] = '\0';
	if (sscanf(h, "HTTP/1.1 %d", &c->status) != 1)
		return -1;
	if (c->status != 101)
		return -1;
	char *a = strcasestr(h, "\r\nSimple-VPN-Address:");
	if (!a)
		return -1;
	a += 21;
	while (*a == ' ')
		a++;
	char ip[32];
	size_t n = strcspn(a, "/\r");
	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, a, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &c->addr) != 1)
		return -1;
	memmove(c->in, c->in + hl, c->in_len - hl);
	c->in_len -= hl;
	return 1;
}

/* Look for our echo reply among the IPv4 packets in c->in (framer-ip:
 * each packet's own length); 1 found, 0 not yet, -1 garbage. */
static int reply(struct cl *c)
{
	size_t off = 0;
	int found = 0;
	while (c->in_len - off >= 20) {
		unsigned char *p = c->in + off;
		size_t len = (size_t)(p[2] << 8 | p[3]);
		if (p[0] >> 4 == 6)
			len = 40 + (size_t)(p[4] << 8 | p[5]);
		else if (p[0] >> 4 != 4 || len < 20)
			return -1;
		if (c->in_len - off < len)
			break;
		size_t ihl = (size_t)(p[0] & 15) * 4;
		if (p[0] >> 4 == 4 && p[9] == 1 && len >= ihl + 8 && p[ihl] == 0 &&
		    (p[ihl + 4] << 8 | p[ihl + 5]) == (c->idx & 0xffff))
			found = 1;
		off += len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return found;
}

static void step(struct cl *c)
{
	int r, err;
	socklen_t el = sizeof(err);
	for (;;) {
		switch (c->st) {
		case S_CONNECT:
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
				finish(c, S_FAIL, K_CONNECT);
				return;
			}
			if (!(c->ssl = SSL_new(ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
				die("SSL_new failed");
			SSL_set_tlsext_host_name(c->ssl, o.server);
			if (o.resume > 0 && last_session)
				SSL_set_session(c->ssl, last_session);
			SSL_set_connect_state(c->ssl);
			c->st = S_TLS;
			break;
		case S_TLS:
			r = SSL_do_handshake(c->ssl);
			if (r != 1) {
				if (!want(c, r))
					finish(c, S_FAIL, K_TLS);
				return;
			}
			request(c);
			c->st = S_REQ;
			break;
		case S_REQ:
		case S_PING:
			if (c->out_off < c->out_len) {
				r = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len - c->out_off));
				if (r <= 0) {
					if (!want(c, r))
						finish(c, S_FAIL, K_CLOSED);
					return;
				}
				c->out_off += (size_t)r;
				continue;
			}
			/* everything written: read */
			/* fall through */
		case S_HEAD:
			r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
			if (r <= 0) {
				if (!want(c, r))
					finish(c, S_FAIL, K_CLOSED);
				return;
			}
			c->in_len += (size_t)r;
			if (c->st == S_REQ || c->st == S_HEAD) {
				c->st = S_HEAD;
				int h = head(c);
				if (h < 0) {
					finish(c, S_FAIL, c->status == 503	 ? K_503
							  : c->status && c->status != 101 ? K_STATUS
											  : K_BADHEAD);
					return;
				}
				if (!h)
					continue;
				if (o.resume > 0) { /* the latest ticket */
					SSL_SESSION_free(last_session);
					last_session = SSL_get1_session(c->ssl);
				}
				c->out_len = echo_request(c, (uint8_t *)c->out);
				c->out_off = 0;
				c->st = S_PING;
				continue;
			}
			r = reply(c);
			if (r < 0) {
				finish(c, S_FAIL, K_BADHEAD);
				return;
			}
			if (r) {
				c->st = S_IDLE;
				c->in_len = 0;
				watch(c, EPOLLIN);
				return;
			}
			break;
		case S_IDLE:
			/* Drain what the server sends (nothing, normally); a
			 * close ends the session. */
			r = SSL_read(c->ssl, c->in, (int)sizeof(c->in));
			if (r <= 0 && !want(c, r))
				finish(c, S_FAIL, K_CLOSED);
			if (r <= 0)
				return;
			break;
		case S_SHUT:
			r = SSL_read(c->ssl, c->in, (int)sizeof(c->in));
			if (r > 0)
				continue;
			if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
				watch(c, EPOLLIN);
				return;
			}
			finish(c, S_DONE, K_OK); /* the server's EOF */
			return;
		default:
			return;
		}
	}
}

/* Run the loop until every client in v[0..n) has left the states below
 * `until`, or timeout; 0 if all made it. */
static int run(struct cl *v, int n, enum st until, double deadline)
{
	struct epoll_event ev[256];
	for (;;) {
		int pending = 0;
		for (int i = 0; i < n; i++)
			pending += v[i].st < until;
		if (!pending)
			return 0;
		if (stop || now() > deadline)
			return -1;
		int k = epoll_wait(ep, ev, 256, 100);
		for (int i = 0; i < k; i++)
			step(ev[i].data.ptr);
	}
}

static void on_signal(int s)
{
	if (s == SIGUSR1)
		again = 1;
	else
		stop = 1;
}

/* SIGUSR1 while idle: every idle session pings once more (the server has
 * had time to release its idle buffers: they must come back); prints how
 * many got their reply. */
static void ping_again(struct cl *v, int n)
{
	int sent = 0, ok = 0;
	for (int i = 0; i < n; i++) {
		struct cl *c = &v[i];
		if (c->st != S_IDLE)
			continue;
		c->out_len = echo_request(c, (uint8_t *)c->out);
		c->out_off = 0;
		c->in_len = 0;
		c->st = S_PING;
		sent++;
		step(c);
	}
	run(v, n, S_IDLE, now() + o.timeout_s);
	for (int i = 0; i < n; i++)
		ok += v[i].st == S_IDLE;
	printf("crowd: pinged again sent=%d replies=%d\n", sent, ok);
	fflush(stdout);
}

static int storm(int n)
{
	struct cl *v = calloc((size_t)n, sizeof(*v));
	int count[K_NWHY] = { 0 };
	if (!v)
		die("out of memory");
	for (int i = 0; i < n; i++)
		v[i].fd = -1;
	double t0 = now();
	int rc = 0;
	/* All at once, or in waves of o.wave, each in before the next. */
	for (int w0 = 0; w0 < n && !rc; w0 += o.wave ? o.wave : n) {
		int w1 = o.wave && w0 + o.wave < n ? w0 + o.wave : n;
		for (int i = w0; i < w1; i++) {
			v[i].idx = i + 1;
			start(&v[i]);
		}
		rc = run(v + w0, w1 - w0, S_IDLE, t0 + o.timeout_s);
	}
	for (int i = 0; i < n; i++)
		if (!v[i].idx) { /* never started: a wave timed out */
			v[i].st = S_FAIL;
			v[i].why = K_TIMEOUT;
		}
	double t1 = now();
	int in = 0;
	for (int i = 0; i < n; i++) {
		if (v[i].st == S_IDLE)
			in++;
		else if (v[i].st == S_FAIL)
			count[v[i].why]++;
		else
			count[K_TIMEOUT]++;
	}
	printf("crowd: storm n=%d in=%d all_in_ms=%.0f busy503=%d", n, in, (t1 - t0) * 1000,
	       count[K_503]);
	for (int w = K_CONNECT; w < K_NWHY; w++)
		printf(" %s=%d", why_name[w], count[w]);
	printf("\n");
	fflush(stdout);
	/* Stay idle with the sessions up until told to go (the caller
	 * measures the server meanwhile); report sessions the server closed. */
	if (rc == 0 || in > 0) {
		printf("crowd: idle\n");
		fflush(stdout);
		while (!stop) {
			struct epoll_event ev[64];
			int k = epoll_wait(ep, ev, 64, 200);
			for (int i = 0; i < k; i++)
				step(ev[i].data.ptr);
			if (again) {
				again = 0;
				ping_again(v, n);
			}
		}
		int still = 0;
		for (int i = 0; i < n; i++)
			still += v[i].st == S_IDLE;
		printf("crowd: end still_up=%d\n", still);
	}
	for (int i = 0; i < n; i++)
		if (v[i].fd >= 0)
			finish(&v[i], S_DONE, K_OK);
	free(v);
	return in == n ? 0 : 1;
}

static int cycle(int n)
{
	struct cl *c = calloc(1, sizeof(*c));
	int ok = 0, count[K_NWHY] = { 0 }, resumed = 0;
	if (!c)
		die("out of memory");
	double t0 = now(), worst = 0;
	for (int i = 0; i < n && !stop; i++) {
		double s = now();
		c->idx = 1; /* one user, one source address, every time */
		start(c);
		if (run(c, 1, S_IDLE, s + o.timeout_s) < 0 || c->st != S_IDLE) {
			count[c->st == S_FAIL ? c->why : K_TIMEOUT]++;
			if (c->fd >= 0)
				finish(c, S_FAIL, K_TIMEOUT);
			continue;
		}
		resumed += SSL_session_reused(c->ssl) == 1;
		SSL_shutdown(c->ssl);
		shutdown(c->fd, SHUT_WR);
		c->st = S_SHUT;
		step(c);
		if (run(c, 1, S_DONE, s + o.timeout_s) < 0) {
			count[K_TIMEOUT]++;
			finish(c, S_FAIL, K_TIMEOUT);
			continue;
		}
		ok++;
		if (now() - s > worst)
			worst = now() - s;
	}
	double t = now() - t0;
	printf("crowd: cycle n=%d ok=%d avg_ms=%.3f worst_ms=%.1f resumed=%d", n, ok,
	       n ? t * 1000 / n : 0, worst * 1000, resumed);
	for (int w = K_503; w < K_NWHY; w++)
		printf(" %s=%d", why_name[w], count[w]);
	printf("\n");
	free(c);
	return ok == n ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: crowd (--storm N | --cycle N) --server IP:PORT --tun IP --password PW\n"
		"             [--prefix user] [--path /vpn] [--src IP] [--ca FILE] [--no-resume]\n"
		"             [--timeout SECONDS] [--wave W]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int storm_n = 0, cycle_n = 0;
	char host[64];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-resume")) {
			o.resume = 0;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--storm"))
			storm_n = atoi(v);
		else if (!strcmp(a, "--cycle"))
			cycle_n = atoi(v);
		else if (!strcmp(a, "--server"))
			o.server = v;
		else if (!strcmp(a, "--tun")) {
			if (inet_pton(AF_INET, v, &o.tun) != 1)
				die("--tun %s: not an IPv4 address", v);
		} else if (!strcmp(a, "--password"))
			o.pass = v;
		else if (!strcmp(a, "--prefix"))
			o.prefix = v;
		else if (!strcmp(a, "--path"))
			o.path = v;
		else if (!strcmp(a, "--ca"))
			o.ca = v;
		else if (!strcmp(a, "--wave"))
			o.wave = atoi(v);
		else if (!strcmp(a, "--timeout"))
			o.timeout_s = atof(v);
		else if (!strcmp(a, "--src")) {
			struct in_addr s;
			if (inet_pton(AF_INET, v, &s) != 1)
				die("--src %s: not an IPv4 address", v);
			o.src = ntohl(s.s_addr);
		} else
			usage();
	}
	if ((storm_n > 0) == (cycle_n > 0) || !o.server || !o.tun || !o.pass)
		usage();
	const char *colon = strrchr(o.server, ':');
	if (!colon || (size_t)(colon - o.server) >= sizeof(host))
		die("--server %s: want IP:PORT", o.server);
	memcpy(host, o.server, (size_t)(colon - o.server));
	host[colon - o.server] = '\0';
	o.dst.sin_family = AF_INET;
	o.dst.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &o.dst.sin_addr) != 1)
		die("--server %s: want an IPv4 address", o.server);

	/* One fd per client plus a few: raise the soft limit to the hard one. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	if (!(ctx = SSL_CTX_new(TLS_client_method())))
		die("SSL_CTX_new failed");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if (o.ca) {
		if (SSL_CTX_load_verify_locations(ctx, o.ca, NULL) != 1)
			die("cannot load --ca %s", o.ca);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	int rc = storm_n ? storm(storm_n) : cycle(cycle_n);
	SSL_SESSION_free(last_session);
	SSL_CTX_free(ctx);
	close(ep);
	return rc;
}
