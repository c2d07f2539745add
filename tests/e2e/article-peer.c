/* SPDX-License-Identifier: MIT */
/*
 * article-peer.c — a plain Simple-VPN peer written from the article's design,
 * used by tests/e2e/test-interop.sh to prove that tunpipe talks to an
 * independent implementation.  It deliberately shares no code with tunpipe
 * and knows none of its extensions: the client sends no Simple-VPN-Stack
 * header, the server answers 101 with Address and Gateway only, and after
 * that the TLS stream is raw IP packets delimited by their own length field.
 *
 *   article-peer client URL USER PASS CAFILE SERVERNAME
 *   article-peer server PORT CERT KEY USER PASS ADDR/PREFIX GATEWAY CLIENTADDR/PREFIX
 *
 * The TUN device is "svpn0" (configured with ip(8): this is a test peer).
 * The server serves exactly one tunnel, then exits when that peer leaves;
 * refused attempts (401 etc.) do not count.  SIGTERM ends the tunnel with a
 * TLS close_notify.  Both print "relayed N packets ..." at exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEV_NAME "svpn0"
#define MTU "1400"
#define HEAD_MAX 8192
/* Room for one whole IPv6 jumbo-less packet (40 + 65535) plus one record. */
#define STREAM_CAP (65575 + 16384)

static volatile sig_atomic_t stop;
static unsigned long n_down, n_up; /* packets tun->tls, tls->tun */
/* TLS reads, and reads that ended inside a packet: shows the test that
 * the reassembly across reads was really exercised. */
static unsigned long n_reads, n_split;
static unsigned char stream[STREAM_CAP];
static unsigned char pkt[65536];

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("article-peer: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Run ip(8) without a shell so addresses from the wire cannot inject. */
static void run_ip(const char *a1, const char *a2, const char *a3, const char *a4,
		   const char *a5, const char *a6)
{
	const char *argv[] = { "ip", a1, a2, a3, a4, a5, a6, NULL };
	int st;
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp("ip", (char **)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("'ip %s %s %s %s %s %s' failed", a1, a2, a3, a4, a5, a6 ? a6 : "");
}

static int tun_open(const char *addr)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", DEV_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF %s: %s", DEV_NAME, strerror(errno));
	run_ip("addr", "add", addr, "dev", DEV_NAME, NULL);
	run_ip("link", "set", "dev", DEV_NAME, "mtu", MTU);
	run_ip("link", "set", "dev", DEV_NAME, "up", NULL);
	return fd;
}

/* Read until the blank line ending an HTTP head.  Returns the head length
 * (NUL-terminated in buf); *len is what was read, as the peer may already
 * have sent stream bytes behind the head. */
static size_t read_head(SSL *ssl, char *buf, size_t cap, size_t *len)
{
	char *end;
	*len = 0;
	for (;;) {
		int n = SSL_read(ssl, buf + *len, (int)(cap - 1 - *len));
		if (n <= 0)
			return 0;
		*len += (size_t)n;
		buf[*len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n"))) {
			end[2] = '\0'; /* keep the last header's CRLF */
			return (size_t)(end + 4 - buf);
		}
		if (*len + 1 >= cap)
			return 0;
	}
}

/* The value of header NAME in a head (case-insensitive), trimmed, or NULL. */
static const char *header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *line = strstr(head, "\r\n");
	while (line && line[2]) {
		line += 2;
		const char *eol = strstr(line, "\r\n");
		if (!eol)
			break;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(eol - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			snprintf(out, cap, "%.*s", (int)vl, v);
			return out;
		}
		line = eol;
	}
	return NULL;
}

/* SSL_write the whole buffer on a non-blocking socket. */
static int write_all(SSL *ssl, int sock, const void *p, size_t n)
{
	for (;;) {
		int w = SSL_write(ssl, p, (int)n);
		if (w > 0)
			return 0;
		int e = SSL_get_error(ssl, w);
		struct pollfd pf = { .fd = sock, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return -1;
		if (poll(&pf, 1, 5000) <= 0)
			return -1;
	}
}

/* Cut the stream at the IP length fields and write whole packets to TUN. */
static int deliver(int tun, size_t *have)
{
	size_t off = 0;
	while (*have - off > 0) {
		const unsigned char *p = stream + off;
		size_t avail = *have - off, len;
		unsigned ver = p[0] >> 4;
		if (ver == 4) {
			if (avail < 4)
				break;
			len = (size_t)p[2] << 8 | p[3];
			if (len < 20) {
				fprintf(stderr, "article-peer: IPv4 total length %zu < 20\n", len);
				return -1;
			}
		} else if (ver == 6) {
			if (avail < 6)
				break;
			len = 40 + ((size_t)p[4] << 8 | p[5]);
		} else {
			fprintf(stderr, "article-peer: IP version %u in the stream: not Simple-VPN framing\n", ver);
			return -1;
		}
		if (avail < len)
			break;
		if (write(tun, p, len) < 0)
			fprintf(stderr, "article-peer: tun write: %s (packet dropped)\n", strerror(errno));
		else
			n_up++;
		off += len;
	}
	memmove(stream, stream + off, *have - off);
	*have -= off;
	return 0;
}

/* The tunnel proper: the article's poll() loop.  `have` bytes of stream
 * already arrived with the HTTP head. */
static int relay(SSL *ssl, int sock, int tun, size_t have)
{
	int rc = -1;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	if (deliver(tun, &have) < 0)
		goto out;
	while (!stop) {
		struct pollfd pf[2] = { { .fd = tun, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
		/* Decrypted bytes may wait inside OpenSSL with nothing on the socket. */
		if (!SSL_pending(ssl) && poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (pf[0].revents & POLLIN) {
			ssize_t n = read(tun, pkt, sizeof(pkt));
			if (n > 0) {
				if (write_all(ssl, sock, pkt, (size_t)n) < 0) {
					fprintf(stderr, "article-peer: TLS write failed\n");
					goto out;
				}
				n_down++;
			}
		}
		if (!(pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !SSL_pending(ssl))
			continue;
		for (;;) {
			int n = SSL_read(ssl, stream + have, (int)(sizeof(stream) - have));
			if (n > 0) {
				have += (size_t)n;
				n_reads++;
				if (deliver(tun, &have) < 0)
					goto out;
				n_split += have > 0;
				continue;
			}
			int e = SSL_get_error(ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
				fprintf(stderr, "article-peer: peer closed the tunnel\n");
				rc = 0;
			} else {
				fprintf(stderr, "article-peer: TLS read error\n");
				ERR_print_errors_fp(stderr);
			}
			goto out;
		}
	}
	fprintf(stderr, "article-peer: SIGTERM, closing the tunnel\n");
	SSL_shutdown(ssl);
	rc = 0;
out:
	fprintf(stderr, "article-peer: relayed %lu packets tun->tls, %lu packets tls->tun "
		"(%lu TLS reads, %lu ended mid-packet)\n", n_down, n_up, n_reads, n_split);
	return rc;
}

static int run_client(char **av)
{
	const char *url = av[0], *user = av[1], *pass = av[2], *ca = av[3], *sni = av[4];
	char host[256], port[16] = "443", path[256] = "/", head[HEAD_MAX], cred[512], b64[700];
	char addr[64], gw[64];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	size_t len, hl;
	int sock;

	/* https://host[:port][/path] — enough for the tests' URLs. */
	if (strncmp(url, "https://", 8) != 0 || sscanf(url + 8, "%255[^:/]", host) != 1)
		die("bad URL '%s' (want https://host[:port]/path)", url);
	const char *rest = url + 8 + strlen(host);
	if (*rest == ':' && sscanf(rest + 1, "%15[0-9]", port) != 1)
		die("bad port in '%s'", url);
	if ((rest = strchr(rest, '/')))
		snprintf(path, sizeof(path), "%s", rest);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("cannot resolve %s", host);
	sock = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect %s:%s: %s", host, port, strerror(errno));
	freeaddrinfo(ai);

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		die("cannot load CA file %s", ca);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL *ssl = SSL_new(ctx);
	if (!ssl || SSL_set_tlsext_host_name(ssl, sni) != 1 || SSL_set1_host(ssl, sni) != 1)
		die("TLS setup failed");
	SSL_set_fd(ssl, sock);
	if (SSL_connect(ssl) != 1)
		die("TLS handshake with %s failed", url);

	snprintf(cred, sizeof(cred), "%s:%s", user, pass);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cred, (int)strlen(cred));
	len = (size_t)snprintf(head, sizeof(head),
			       "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
			       "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n\r\n", path, host, b64);
	if (SSL_write(ssl, head, (int)len) <= 0)
		die("sending the request failed");
	fprintf(stderr, "article-peer: sent GET %s (Host, Authorization, Connection, Upgrade; no stack header)\n", path);

	if (!(hl = read_head(ssl, head, sizeof(head), &len)))
		die("no complete HTTP answer from %s", url);
	fprintf(stderr, "article-peer: answer head:\n%s", head);
	if (strncmp(head, "HTTP/1.1 101", 12) != 0)
		die("server refused: %.*s", (int)strcspn(head, "\r"), head);
	if (!header(head, "Simple-VPN-Address", addr, sizeof(addr)) ||
	    !header(head, "Simple-VPN-Gateway", gw, sizeof(gw)))
		die("101 without Simple-VPN-Address / Simple-VPN-Gateway");
	int tun = tun_open(addr);
	fprintf(stderr, "article-peer: connected: address %s gateway %s on %s\n", addr, gw, DEV_NAME);
	memmove(stream, head + hl, len - hl);
	int rc = relay(ssl, sock, tun, len - hl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(sock);
	close(tun);
	return rc < 0 ? 1 : 0;
}

/* One refusal: a short real HTTP error, then hang up. */
static void refuse(SSL *ssl, const char *status, const char *extra, const char *why)
{
	char r[512];
	int n = snprintf(r, sizeof(r), "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			 status, extra, strlen(why) + 1, why);
	SSL_write(ssl, r, n);
	fprintf(stderr, "article-peer: refused: %s (%s)\n", status, why);
}

static int run_server(char **av)
{
	const char *port = av[0], *cert = av[1], *key = av[2], *user = av[3], *pass = av[4];
	const char *addr = av[5], *gw = av[6], *caddr = av[7];
	char head[HEAD_MAX], val[1024], cred[512], want[700];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int one = 1, rc = 1;

	snprintf(cred, sizeof(cred), "%s:%s", user, pass);
	int wl = snprintf(want, sizeof(want), "Basic ");
	EVP_EncodeBlock((unsigned char *)want + wl, (const unsigned char *)cred, (int)strlen(cred));

	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		die("cannot load certificate %s / key %s", cert, key);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 4) < 0)
		die("listen on port %s: %s", port, strerror(errno));
	int tun = tun_open(addr);
	fprintf(stderr, "article-peer: listening on 0.0.0.0:%s, %s is %s\n", port, DEV_NAME, addr);

	while (!stop) {
		size_t len, hl;
		int s = accept(ls, NULL, NULL);
		if (s < 0)
			continue; /* EINTR from SIGTERM ends the loop */
		SSL *ssl = SSL_new(ctx);
		if (!ssl || SSL_set_fd(ssl, s) != 1 || SSL_accept(ssl) != 1) {
			fprintf(stderr, "article-peer: TLS handshake failed\n");
			ERR_print_errors_fp(stderr);
		} else if (!(hl = read_head(ssl, head, sizeof(head), &len))) {
			fprintf(stderr, "article-peer: no complete request\n");
		} else {
			fprintf(stderr, "article-peer: request head:\n%s", head);
			if (strncmp(head, "GET /vpn HTTP/1.1\r\n", 19) != 0) {
				refuse(ssl, "404 Not Found", "", "not found");
			} else if (!header(head, "Authorization", val, sizeof(val)) || strcmp(val, want) != 0) {
				refuse(ssl, "401 Unauthorized", "WWW-Authenticate: Basic realm=\"Simple-VPN\"\r\n",
				       "authentication required");
			} else if (!header(head, "Upgrade", val, sizeof(val)) || strcasecmp(val, "Simple-VPN") != 0) {
				refuse(ssl, "426 Upgrade Required", "Upgrade: Simple-VPN\r\n", "upgrade required");
			} else {
				int n = snprintf(val, sizeof(val), "HTTP/1.1 101 Switching Protocols\r\n"
						 "Connection: Upgrade\r\nUpgrade: Simple-VPN\r\n"
						 "Simple-VPN-Address: %s\r\nSimple-VPN-Gateway: %s\r\n\r\n", caddr, gw);
				if (SSL_write(ssl, val, n) > 0) {
					fprintf(stderr, "article-peer: session up: user %s, address %s\n", user, caddr);
					memmove(stream, head + hl, len - hl);
					rc = relay(ssl, s, tun, len - hl) < 0;
					stop = 1;
				}
			}
		}
		SSL_free(ssl);
		close(s);
	}
	close(ls);
	close(tun);
	SSL_CTX_free(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term }; /* no SA_RESTART: poll/accept return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 7 && strcmp(argv[1], "client") == 0)
		return run_client(argv + 2);
	if (argc == 10 && strcmp(argv[1], "server") == 0)
		return run_server(argv + 2);
	fprintf(stderr, "usage: article-peer client URL USER PASS CAFILE SERVERNAME\n"
			"       article-peer server PORT CERT KEY USER PASS ADDR/PREFIX GATEWAY CLIENTADDR/PREFIX\n");
	return 2;
}
