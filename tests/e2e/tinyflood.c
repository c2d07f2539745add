/* SPDX-License-Identifier: MIT */
/*
 * tinyflood.c — send 20-byte IPv4 packets (a bare header, protocol 253,
 * "for experimentation" per RFC 3692) to DST as fast as one raw socket
 * can (or PPS packets per second), for SECONDS, then print how many went
 * out.  The smallest packet IP allows: the most per-packet work per byte
 * for whatever carries them.
 *
 *   tinyflood DST SECONDS [PPS]
 *
 * Needs CAP_NET_RAW (the tests run as root in their own namespaces).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct iphdr h;
	unsigned long sent = 0, failed = 0;

	if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: tinyflood DST SECONDS [PPS]\n");
		return 2;
	}
	/* IPPROTO_RAW implies IP_HDRINCL: the kernel fills in the source,
	 * id, total length and checksum it finds zero. */
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		fprintf(stderr, "tinyflood: raw socket: %s\n", strerror(errno));
		return 1;
	}
	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.ihl = 5;
	h.ttl = 64;
	h.protocol = 253;
	h.daddr = to.sin_addr.s_addr;
	double pps = argc == 4 ? atof(argv[3]) : 0, t0 = now_s(), secs = atof(argv[2]);
	for (double t; (t = now_s() - t0) < secs;) {
		/* Paced: what is due by now, in bursts of at most 1000. */
		long due = pps > 0 ? (long)(pps * t) - (long)(sent + failed) : 1000;
		if (due <= 0) {
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
			continue;
		}
		for (long i = 0; i < due && i < 1000; i++) {
			if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(h))
				sent++;
			else
				failed++; /* ENOBUFS: the device queue is full */
		}
	}
	printf("tinyflood: %lu packets of %zu bytes sent to %s (%lu refused by the kernel)\n", sent,
	       sizeof(h), argv[1], failed);
	close(fd);
	return sent ? 0 : 1;
}
