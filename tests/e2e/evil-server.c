/* SPDX-License-Identifier: MIT */
/*
 * evil-server.c — a malicious Simple-VPN server for tests/e2e/test-evilserver.sh:
 * it accepts TLS connections one after another and answers the N-th
 * upgrade request with the bytes of the N-th ANSWER file, whatever was
 * asked, so the test can send the real client each answer a hostile
 * server could (an address covering half of IPv4 or the server itself,
 * loopback, multicast, routes, control bytes, Retry-After).  It shares no
 * code with tunpipe.
 *
 *   evil-server PORT CERT KEY ANSWER...
 *
 * After answering it waits (up to 5 s, 60 s after the last answer) for
 * the client to close, so a refusal is the client's doing, then takes the
 * next connection; it exits after the last answer's connection ends.  Each step prints
 * "evil-server: answer K sent at T ms" (T since start) on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("evil-server: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Read until the end of the request head (or 5 s, or the peer leaves). */
static int read_head(SSL *ssl, int fd)
{
	char head[8192];
	size_t len = 0;
	long end = now_ms() + 5000;
	while (len < sizeof(head) - 1 && now_ms() < end) {
		int n = SSL_read(ssl, head + len, (int)(sizeof(head) - 1 - len));
		if (n <= 0) {
			int e = SSL_get_error(ssl, n);
			if (e != SSL_ERROR_WANT_READ)
				return -1;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, 100);
			continue;
		}
		len += (size_t)n;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n"))
			return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static char answer[65536];
	long t0 = now_ms();
	int one = 1;

	if (argc < 5)
		die("usage: evil-server PORT CERT KEY ANSWER...");
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1)
		die("cannot load %s / %s", argv[2], argv[3]);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0)
		die("cannot listen on port %s: %s", argv[1], strerror(errno));
	fprintf(stderr, "evil-server: listening on port %s\n", argv[1]);
	for (int k = 4; k < argc; k++) {
		size_t n = slurp(argv[k], answer, sizeof(answer));
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			die("accept: %s", strerror(errno));
		SSL *ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1 || read_head(ssl, fd) < 0) {
			/* not an answer given: the same one goes to the next */
			fprintf(stderr, "evil-server: connection without a request, retrying answer %d\n",
				k - 3);
			k--;
		} else {
			if (SSL_write(ssl, answer, (int)n) != (int)n)
				die("cannot send answer %d", k - 3);
			fprintf(stderr, "evil-server: answer %d sent at %ld ms (%s)\n", k - 3,
				now_ms() - t0, argv[k]);
			/* Wait for the client's verdict: it closes on refusal.
			 * The last answer is held open (the test inspects the
			 * client meanwhile, then ends us). */
			char junk[4096];
			long end = now_ms() + (k == argc - 1 ? 60000 : 5000);
			for (long left; (left = end - now_ms()) > 0;) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				if (poll(&p, 1, (int)left) <= 0)
					break;
				if (SSL_read(ssl, junk, sizeof(junk)) <= 0)
					break;
			}
			fprintf(stderr, "evil-server: connection %d ended at %ld ms\n", k - 3,
				now_ms() - t0);
		}
		SSL_free(ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	close(ls);
	return 0;
}
