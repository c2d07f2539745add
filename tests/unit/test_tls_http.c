/* SPDX-License-Identifier: MIT */
/*
 * test_tls_http.c — the tls-http plugin end to end over loopback TLS: a
 * server and a client instance, each in its own harness (its own event
 * loop), in one process.  The certificate is a throwaway self-signed one
 * made here with the OpenSSL API; nothing leaves 127.0.0.1.
 *
 * Time is the harness's test clock: retries, pauses, timeouts and rate
 * windows elapse when a test advances it, not in wall time, so the whole
 * file runs in well under a second.  Sockets and the password-check
 * worker thread are real (the clock waits for the worker's answer); only
 * slow_check_does_not_block_loop measures wall time, which is its point.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "harness.h"
#include "handshake.h" /* compiled in: the error answers are checked directly */

static char dir[64], cert[128], key[128], users[128];
static int port;

static void make_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(pk);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	ck_assert_ptr_nonnull(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	FILE *f = fopen(cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(key, 0600); /* a key others can read is refused */
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tp-test-tls-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	make_cert();
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt));
	FILE *f = fopen(users, "w");
	fprintf(f, "alice:%s\n", crypt_rn("wonderland", salt, &cd, sizeof(cd)));
	fclose(f);
	/* A free loopback port (the tiny race with other tests is acceptable). */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(fd);
}

static void teardown(void)
{
	unlink(cert);
	unlink(key);
	unlink(users);
	rmdir(dir);
}

static struct tp_harness *server(const char *extra)
{
	char opts[1024];
	snprintf(opts, sizeof(opts),
		 "role = \"server\"; listen = \"127.0.0.1:%d\"; cert = \"%s\"; key = \"%s\"; users = \"%s\"; %s",
		 port, cert, key, users, extra ? extra : "");
	struct tp_harness *h = tp_harness_new("tls-http", opts);
	ck_assert_msg(h != NULL, "server: %s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

static struct tp_harness *client(const char *host, const char *extra)
{
	char opts[1024];
	snprintf(opts, sizeof(opts),
		 "role = \"client\"; url = \"https://%s:%d/vpn\"; user = \"alice\"; "
		 "reconnect_min = 20; reconnect_max = 100; auth_retry = 300; %s",
		 host, port, extra);
	struct tp_harness *h = tp_harness_new("tls-http", opts);
	ck_assert_msg(h != NULL, "client: %s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

/* Wall-clock milliseconds: only for what is about real time. */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define PUMP_STEP 10 /* ms of test clock between two looks at done() */

/* Advance the test clock (both loops run on it) by up to ms, or until
 * done(). */
static int pump(struct tp_harness *a, struct tp_harness *b, int ms,
		int (*done)(struct tp_harness *, struct tp_harness *))
{
	if (!done) {
		tp_harness_advance(a, (uint64_t)ms);
		return 0;
	}
	for (int t = 0; t < ms; t += PUMP_STEP) {
		tp_harness_advance(a, PUMP_STEP);
		if (done(a, b))
			return 1;
	}
	return 0;
}

static int both_up(struct tp_harness *s, struct tp_harness *c)
{
	return tp_harness_session_info(s) && tp_harness_session_info(c);
}

/* Collect everything h emitted up into out; returns the byte count. */
static size_t drain_up(struct tp_harness *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	struct tp_buf *b;
	while ((b = tp_harness_pull_up(h))) {
		ck_assert_uint_le(n + b->len, cap);
		memcpy(out + n, b->data, b->len);
		n += b->len;
		tp_harness_buf_free(h, b);
	}
	return n;
}

START_TEST(session_and_data)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", cert);
	struct tp_harness *s = server(NULL), *c = client("localhost", extra);
	ck_assert_msg(pump(s, c, 5000, both_up), "no session within 5 s");

	const struct tp_session_info *ci = tp_harness_session_info(c), *si = tp_harness_session_info(s);
	ck_assert(ci->flags & TP_SI_LOCAL);
	ck_assert(!(si->flags & TP_SI_LOCAL));
	ck_assert_str_eq(si->user, "alice");
	ck_assert_uint_eq(ci->addr4.plen, 24);
	ck_assert_int_eq(memcmp(ci->addr4.addr, "\x0a\x00\x00\x02", 4), 0);
	ck_assert_int_eq(memcmp(ci->gw4.addr, "\x0a\x00\x00\x01", 4), 0);
	ck_assert_uint_eq(ci->mtu, 1400);
	ck_assert_uint_eq(tp_harness_counter(s, "sessions"), 1);
	ck_assert_uint_eq(tp_harness_counter(c, "sessions"), 1);

	/* client → server: a batch of many small buffers and a large one */
	static uint8_t big[300000], got[400000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	struct tp_batch q = TP_BATCH_INIT;
	for (int i = 0; i < 100; i++)
		tp_batch_add(&q, tp_harness_buf(c, big + i * 100, 100));
	tp_harness_push_down_batch(c, &q);
	size_t n = 0;
	for (int i = 0; i < 500 && n < 10000; i++) {
		pump(s, c, 4, NULL);
		n += drain_up(s, got + n, sizeof(got) - n);
	}
	ck_assert_uint_eq(n, 10000);
	ck_assert_int_eq(memcmp(got, big, 10000), 0);

	/* server → client: 300 KB in 2 KB buffers (more than one record, and
	 * more than the socket takes at once) */
	for (size_t off = 0; off < sizeof(big); off += 2000)
		tp_harness_push_down(s, big + off, 2000);
	n = 0;
	for (int i = 0; i < 2000 && n < sizeof(big); i++) {
		pump(s, c, 4, NULL);
		n += drain_up(c, got + n, sizeof(got) - n);
	}
	ck_assert_uint_eq(n, sizeof(big));
	ck_assert_int_eq(memcmp(got, big, sizeof(big)), 0);
	ck_assert_uint_eq(tp_harness_counter(c, "bytes_in"), sizeof(big));
	ck_assert_uint_eq(tp_harness_counter(s, "queue_drops"), 0);

	/* The server closes the session on request; the client reconnects. */
	struct tp_event ev = { .type = TP_EV_CLOSE_REQUEST, .reason = "test says so" };
	tp_harness_event(s, &ev);
	pump(s, c, 3000, NULL);
	ck_assert_uint_ge(tp_harness_counter(c, "reconnects"), 1);
	ck_assert_uint_eq(tp_harness_counter(s, "sessions"), 2);
	ck_assert_uint_eq(tp_harness_counter(c, "sessions"), 2);

	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

START_TEST(wrong_password)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "password = \"alice\"; ca = \"%s\";", cert);
	struct tp_harness *s = server(NULL), *c = client("127.0.0.1", extra);
	pump(s, c, 1000, NULL);
	ck_assert_ptr_null(tp_harness_session_info(c));
	ck_assert_ptr_null(tp_harness_session_info(s));
	uint64_t fails = tp_harness_counter(s, "auth_failures");
	/* auth_retry = 300 ms: a few attempts in 1 s, not a tight loop (at
	 * least one: a loaded machine may not fit a second in the window) */
	ck_assert_uint_ge(fails, 1);
	ck_assert_uint_le(fails, 5);
	ck_assert_uint_eq(tp_harness_counter(c, "auth_failures"), fails);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

START_TEST(stack_mismatch)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", cert);
	struct tp_harness *s = server(NULL), *c = client("localhost", extra);
	tp_harness_set_stack(c, "framer-len/2");
	pump(s, c, 500, NULL);
	ck_assert_ptr_null(tp_harness_session_info(c));
	ck_assert_uint_ge(tp_harness_counter(s, "refused"), 1);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

/* Without our CA the system store cannot know the self-signed cert; with
 * the CA but the wrong name, host-name verification must refuse. */
START_TEST(verification_fails)
{
	char extra[256];
	struct tp_harness *s = server(NULL), *c = client("localhost", "password = \"wonderland\";");
	pump(s, c, 300, NULL);
	ck_assert_ptr_null(tp_harness_session_info(c));
	ck_assert_uint_ge(tp_harness_counter(c, "reconnects"), 1);
	ck_assert_uint_eq(tp_harness_counter(s, "sessions"), 0);
	tp_harness_free(c);
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\"; server_name = \"other.example\";", cert);
	c = client("localhost", extra);
	pump(s, c, 300, NULL);
	ck_assert_ptr_null(tp_harness_session_info(c));
	ck_assert_uint_eq(tp_harness_counter(s, "sessions"), 0);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

static void copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	size_t n = fread(buf, 1, sizeof(buf), in);
	ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* A client trusting only `ca` gets a session from s (sessions counter +1). */
static int connects_trusting(struct tp_harness *s, const char *ca)
{
	char extra[256];
	uint64_t before = tp_harness_counter(s, "sessions");
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", ca);
	struct tp_harness *c = client("localhost", extra);
	int up = pump(s, c, 500, both_up);
	tp_harness_free(c);
	pump(s, NULL, 50, NULL); /* let the server see the close */
	return up && tp_harness_counter(s, "sessions") == before + 1;
}

/* SIGHUP (TP_EV_RELOAD): a new pair serves new handshakes while a session
 * from before keeps passing data; a broken pair changes nothing. */
START_TEST(certificate_reload)
{
	char extra[256], old_cert[128], old_key[128];
	struct tp_event ev = { .type = TP_EV_RELOAD };
	uint8_t got[16];

	snprintf(old_cert, sizeof(old_cert), "%s/old-cert.pem", dir);
	snprintf(old_key, sizeof(old_key), "%s/old-key.pem", dir);
	copy_file(cert, old_cert);
	copy_file(key, old_key);
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", old_cert);
	struct tp_harness *s = server(NULL), *c = client("localhost", extra);
	ck_assert(pump(s, c, 5000, both_up));

	make_cert(); /* a new key and certificate in place of the old */
	tp_harness_event(s, &ev);
	tp_harness_push_down(c, (const uint8_t *)"still here", 10);
	pump(s, c, 50, NULL);
	ck_assert_uint_eq(drain_up(s, got, sizeof(got)), 10);
	ck_assert_int_eq(memcmp(got, "still here", 10), 0);
	ck_assert(!connects_trusting(s, old_cert));
	ck_assert(connects_trusting(s, cert));

	copy_file(old_key, key); /* a key that does not match: refused */
	tp_harness_event(s, &ev);
	ck_assert(connects_trusting(s, cert));
	copy_file(users, key); /* not PEM: refused */
	tp_harness_event(s, &ev);
	ck_assert(connects_trusting(s, cert));
	ck_assert(!connects_trusting(s, old_cert));
	ck_assert_ptr_nonnull(tp_harness_session_info(c)); /* the first session never left */

	tp_harness_free(c);
	tp_harness_free(s);
	unlink(old_cert);
	unlink(old_key);
}
END_TEST

START_TEST(config_errors)
{
	char opts[1024];
	ck_assert_ptr_null(tp_harness_new("tls-http", "role = \"server\"; url = \"https://x/\";"));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "'url' is only valid with role = client"));
	ck_assert_ptr_null(tp_harness_new("tls-http", "role = \"client\"; url = \"https://x/\"; user = \"a\"; password = \"b\"; listen = \"0.0.0.0:1\";"));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "'listen' is only valid with role = server"));
	ck_assert_ptr_null(tp_harness_new("tls-http", "role = \"client\"; url = \"https://x/\"; user = \"a\";"));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "password"));
	ck_assert_ptr_null(tp_harness_new("tls-http", "role = \"client\"; url = \"http://x/\"; user = \"a\"; password = \"b\";"));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "https://"));
	snprintf(opts, sizeof(opts), "role = \"server\"; cert = \"%s\"; key = \"%s\"; users = \"%s\";", cert, cert, users);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "key"));
	snprintf(opts, sizeof(opts), "role = \"server\"; cert = \"%s\"; key = \"%s\"; users = \"%s\";", cert, key, cert);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "users file"));
	snprintf(opts, sizeof(opts), "role = \"server\"; cert = \"%s\"; key = \"%s\";", cert, key);
	ck_assert_ptr_null(tp_harness_new("tls-http", opts));
	ck_assert_ptr_nonnull(strstr(tp_harness_last_error(), "'users'"));
}
END_TEST

/* A raw TCP connection to the server (no TLS): enough to be accepted,
 * counted against max_sessions, or left in the backlog. */
static int raw_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_ge(fd, 0);
	/* Loopback connects complete into the listen backlog, accepted or not. */
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* 64-byte packets each pin a whole pool buffer (2 KiB class): queue_limit
 * must charge that, not the payload, or one stuck peer drains the shared
 * pool.  One batch is queued before anything is written, so the count of
 * drops shows what was charged; what was admitted arrives intact. */
START_TEST(queue_charges_whole_buffers)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", cert);
	struct tp_harness *s = server("queue_limit = 16384;"), *c = client("localhost", extra);
	ck_assert_msg(pump(s, c, 5000, both_up), "no session within 5 s");
	enum { N = 2000, SZ = 64 };
	static uint8_t pkts[N * SZ], got[N * SZ];
	for (size_t i = 0; i < sizeof(pkts); i++)
		pkts[i] = (uint8_t)(i / SZ);
	struct tp_batch q = TP_BATCH_INIT;
	for (int i = 0; i < N; i++)
		tp_batch_add(&q, tp_harness_buf(s, pkts + i * SZ, SZ));
	tp_harness_push_down_batch(s, &q);
	uint64_t drops = tp_harness_counter(s, "queue_drops");
	/* 16384 bytes hold at most 8 buffers of 2 KiB or more (payload
	 * accounting would have taken 256). */
	ck_assert_uint_ge(drops, N - 8);
	ck_assert_uint_lt(drops, N); /* the first buffer always goes */
	size_t want = (size_t)(N - drops) * SZ, n = 0;
	for (int i = 0; i < 500 && n < want; i++) {
		pump(s, c, 4, NULL);
		n += drain_up(c, got + n, sizeof(got) - n);
	}
	ck_assert_uint_eq(n, want);
	/* Whole buffers from the front were kept: the stream is a prefix. */
	ck_assert_int_eq(memcmp(got, pkts, want), 0);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

/* queue_buffers is shared by every connection and each may take one more
 * buffer only while it holds fewer than are still free: alone, a
 * connection gets half of it (8 of 16), whatever queue_limit allows. */
START_TEST(queue_shares_the_pool_budget)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "password = \"wonderland\"; ca = \"%s\";", cert);
	struct tp_harness *s = server("queue_buffers = 16;"), *c = client("localhost", extra);
	ck_assert_msg(pump(s, c, 5000, both_up), "no session within 5 s");
	enum { N = 100, SZ = 64 };
	static uint8_t pkts[N * SZ], got[N * SZ];
	for (size_t i = 0; i < sizeof(pkts); i++)
		pkts[i] = (uint8_t)(i / SZ);
	struct tp_batch q = TP_BATCH_INIT;
	for (int i = 0; i < N; i++)
		tp_batch_add(&q, tp_harness_buf(s, pkts + i * SZ, SZ));
	tp_harness_push_down_batch(s, &q);
	ck_assert_uint_eq(tp_harness_counter(s, "queue_drops"), N - 8);
	size_t want = 8 * SZ, n = 0;
	for (int i = 0; i < 500 && n < want; i++) {
		pump(s, c, 4, NULL);
		n += drain_up(c, got + n, sizeof(got) - n);
	}
	ck_assert_uint_eq(n, want);
	ck_assert_int_eq(memcmp(got, pkts, want), 0);
	/* Written out, the budget is whole again: the next batch gets 8. */
	for (int i = 0; i < N; i++)
		tp_batch_add(&q, tp_harness_buf(s, pkts + i * SZ, SZ));
	tp_harness_push_down_batch(s, &q);
	ck_assert_uint_eq(tp_harness_counter(s, "queue_drops"), 2 * (N - 8));
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

static uint64_t cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* accept() failing with EMFILE leaves the connection in the backlog and
 * the listening socket readable: the server must stop watching it for a
 * while (no spin, a few log lines) and accept once fds are back.  The
 * fd limit is lowered to exactly the fds in use, in this forked test. */
START_TEST(accept_pauses_when_out_of_fds)
{
	struct tp_harness *s = server("handshake_timeout = 200;");
	struct rlimit old, low;
	int cfd = raw_connect();
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = open("/dev/null", O_RDONLY); /* the lowest free fd */
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);

	uint64_t cpu0 = cpu_ms();
	for (int t = 0; t < 1200; t += 10)
		tp_harness_advance(s, 10);
	uint64_t cpu = cpu_ms() - cpu0, errs = tp_harness_counter(s, "accept_errors");
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* one failure per 500 ms pause: at 0, 500, 1000 ms */
	ck_assert_uint_ge(errs, 2);
	ck_assert_uint_le(errs, 4);
	ck_assert_msg(cpu < 400, "%llu ms of CPU in 1200 ms: the loop spins on the listening socket",
		      (unsigned long long)cpu);

	/* Accepting resumes: the server takes the connection, gets no TLS
	 * hello within handshake_timeout, and hangs up (we read EOF). */
	int eof = 0;
	for (int t = 0; !eof && t < 3000; t += 10) {
		char ch;
		tp_harness_advance(s, 10);
		eof = recv(cfd, &ch, 1, MSG_DONTWAIT) == 0;
	}
	ck_assert_msg(eof, "the pending connection was never accepted after the pause");
	close(cfd);
	tp_harness_free(s);
}
END_TEST

/* Refusals at the per-address handshake budget (max_sessions counts
 * tunnels only since issue 10) are all counted, but logged at most once
 * per 10 s: stderr (the harness's log) is captured into a file and
 * searched. */
START_TEST(max_sessions_warning_rate_limited)
{
	char logf[160], text[16384];
	snprintf(logf, sizeof(logf), "%s/stderr.log", dir);
	struct tp_harness *s = server("max_handshakes_per_address = 1;");
	int fds[6];
	fflush(stderr);
	int saved = dup(2), lf = open(logf, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(lf, 0);
	dup2(lf, 2);
	close(lf);
	for (int i = 0; i < 6; i++)
		fds[i] = raw_connect();
	for (int t = 0; t < 300; t += 10)
		tp_harness_advance(s, 10);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	uint64_t refused = tp_harness_counter(s, "refused");
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	tp_harness_free(s);

	FILE *f = fopen(logf, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	unlink(logf);
	text[n] = '\0';
	ck_assert_uint_eq(refused, 5);
	int lines = 0;
	for (const char *p = text; (p = strstr(p, "(max_handshakes_per_address)")); p++)
		lines++;
	ck_assert_int_eq(lines, 1);
}
END_TEST

/* When max_handshakes connections are still handshaking, the oldest one
 * gives way to the new one (issue 10): the first raw connection is
 * closed, the later ones stay, and the eviction is counted. */
START_TEST(oldest_handshake_gives_way)
{
	struct tp_harness *s = server("max_handshakes = 2;");
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = raw_connect();
		for (int t = 0; t < 50; t += 10)
			tp_harness_advance(s, 10);
	}
	char ch;
	int eof[3];
	for (int t = 0; t < 100; t += 10)
		tp_harness_advance(s, 10);
	for (int i = 0; i < 3; i++)
		eof[i] = recv(fds[i], &ch, 1, MSG_DONTWAIT) == 0;
	ck_assert_msg(eof[0] && !eof[1] && !eof[2], "closed: %d %d %d (want only the first)", eof[0],
		      eof[1], eof[2]);
	ck_assert_uint_eq(tp_harness_counter(s, "refused"), 1);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	tp_harness_free(s);
}
END_TEST

/* Each server-side failure answers with its own text; a 500 is never
 * dressed up as a client's "bad request". */
START_TEST(error_answer_bodies)
{
	static char out[4096];
	struct hs_params p = { .path = "/vpn", .realm = "tunpipe", .stack = "framer-ip",
			       .max_request = 8192, .max_headers = 64 };
	struct hs_request r;
	memset(&r, 0, sizeof(r));
	r.status = 503;
	r.why = "address pool exhausted";
	ck_assert_uint_gt(hs_error_response(out, sizeof(out), &p, &r), 0);
	ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 503 "));
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nservice unavailable: address pool exhausted\n"));
	r.why = "cannot open a session";
	ck_assert_uint_gt(hs_error_response(out, sizeof(out), &p, &r), 0);
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nservice unavailable: cannot open a session\n"));
	ck_assert_ptr_null(strstr(out, "address"));
	r.status = 500;
	r.why = "101 answer too large";
	ck_assert_uint_gt(hs_error_response(out, sizeof(out), &p, &r), 0);
	ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 500 Internal Server Error\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\ninternal server error: 101 answer too large\n"));
	ck_assert_ptr_null(strstr(out, "bad request"));
}
END_TEST

static struct tp_harness *client_as(const char *user, const char *pass, int auth_retry)
{
	char opts[1024];
	snprintf(opts, sizeof(opts),
		 "role = \"client\"; url = \"https://localhost:%d/vpn\"; user = \"%s\"; "
		 "password = \"%s\"; ca = \"%s\"; reconnect_min = 20; reconnect_max = 100; "
		 "auth_retry = %d;", port, user, pass, cert, auth_retry);
	struct tp_harness *h = tp_harness_new("tls-http", opts);
	ck_assert_msg(h != NULL, "client: %s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

/*
 * A slow bcrypt check (cost 12, about a fifth of a second) for a wrong password runs
 * while alice's established session sends a packet every few ms: every
 * packet must arrive well within the check's duration.  With crypt on the
 * event loop the packet in flight would wait for the whole check.
 */
START_TEST(slow_check_does_not_block_loop)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$2b$", 12, NULL, 0, salt, sizeof(salt)));
	uint64_t t0 = mono_ms();
	const char *h = crypt_rn("slow-pw", salt, &cd, sizeof(cd));
	uint64_t cost = mono_ms() - t0;
	ck_assert_ptr_nonnull(h);
	FILE *f = fopen(users, "a");
	fprintf(f, "slow:%s\n", h);
	fclose(f);

	struct tp_harness *s = server(NULL), *c = client_as("alice", "wonderland", 300);
	ck_assert_msg(pump(s, c, 5000, both_up), "no session within 5 s");
	struct tp_harness *slow = client_as("slow", "not-it", 60000);
	static uint64_t sent_at[4096];
	static uint8_t pkt[100], got[4096 * 100];
	size_t sent = 0, rcvd = 0;
	uint64_t worst = 0, end = mono_ms() + 3 * cost + 3000;
	while (mono_ms() < end && sent < 4096) {
		sent_at[sent++] = mono_ms();
		tp_harness_push_down(c, pkt, sizeof(pkt));
		/* Real waits, the clock standing still: advancing it would
		 * wait for the worker, which is the very stall measured. */
		tp_harness_poll(c, 1);
		tp_harness_poll(slow, 1);
		tp_harness_poll(s, 1);
		rcvd += drain_up(s, got, sizeof(got)) / sizeof(pkt);
		for (size_t i = 0; i < rcvd; i++)
			if (sent_at[i] && mono_ms() - sent_at[i] > worst)
				worst = mono_ms() - sent_at[i];
		memset(sent_at, 0, rcvd * sizeof(sent_at[0])); /* measured once */
		if (tp_harness_counter(s, "auth_failures") == 1 && rcvd > 50)
			break;
	}
	ck_assert_msg(tp_harness_counter(s, "auth_failures") == 1,
		      "the slow check never finished (cost %llu ms)", (unsigned long long)cost);
	ck_assert_ptr_null(tp_harness_session_info(slow));
	ck_assert_uint_gt(rcvd, 20);
	/* Valgrind runs one thread at a time, so the worker's crypt does
	 * stall the loop there: only the logic is checked under it. */
	const char *pre = getenv("LD_PRELOAD");
	int under_valgrind = pre && strstr(pre, "vgpreload");
	/* Relative to the check's own cost, measured on this machine under
	 * the same load: a busy CI machine slows both alike. */
	ck_assert_msg(under_valgrind || worst < cost / 2, "a packet waited %llu ms during a %llu ms check",
		      (unsigned long long)worst, (unsigned long long)cost);
	tp_harness_free(slow);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

/* Five wrong passwords from 127.0.0.1 within 10 s: the next attempts get
 * 429 without a check (auth_failures stops at 5, auth_throttled counts). */
START_TEST(failed_logins_throttled)
{
	struct tp_harness *s = server(NULL), *c = client_as("alice", "nope", 50);
	uint64_t seen = 0;
	for (int t = 0; t < 4000; t += 50) {
		pump(s, c, 50, NULL);
		if (tp_harness_counter(s, "auth_throttled") >= 2)
			break;
		/* Our client honours the 429's Retry-After and would not come
		 * back within the window: a fresh one (another program at the
		 * same address) keeps knocking. */
		if (tp_harness_counter(s, "auth_throttled") > seen) {
			seen = tp_harness_counter(s, "auth_throttled");
			tp_harness_free(c);
			c = client_as("alice", "nope", 50);
		}
	}
	ck_assert_uint_eq(tp_harness_counter(s, "auth_failures"), 5);
	ck_assert_uint_ge(tp_harness_counter(s, "auth_throttled"), 2);
	ck_assert_uint_eq(tp_harness_counter(s, "auth_busy"), 0);
	/* even the right password waits for the window to end */
	tp_harness_free(c);
	c = client_as("alice", "wonderland", 50);
	pump(s, c, 500, NULL);
	ck_assert_ptr_null(tp_harness_session_info(s));
	ck_assert_uint_eq(tp_harness_counter(s, "auth_failures"), 5);
	tp_harness_free(c);
	tp_harness_free(s);
}
END_TEST

/* The 429 answer carries Retry-After and a real reason phrase. */
START_TEST(throttled_answer)
{
	struct hs_params p = { .path = "/vpn", .realm = "r", .stack = "framer-ip" };
	struct hs_request r = { .status = 429, .why = "too many failed logins", .retry_after = 7 };
	char out[1024];
	size_t n = hs_error_response(out, sizeof(out), &p, &r);
	ck_assert_uint_gt(n, 0);
	out[n] = '\0';
	ck_assert_msg(strncmp(out, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0, "%s", out);
	ck_assert_msg(strstr(out, "\r\nRetry-After: 7\r\n") != NULL, "%s", out);
	r = (struct hs_request){ .status = 503, .why = "server busy, try again", .retry_after = 1 };
	n = hs_error_response(out, sizeof(out), &p, &r);
	out[n] = '\0';
	ck_assert_msg(strstr(out, "503 Service Unavailable") && strstr(out, "Retry-After: 1\r\n") &&
		      strstr(out, "server busy"), "%s", out);
}
END_TEST

/* Run by the shared main (tests/unit/check-main.c). */
Suite *tp_test_suite(void);

Suite *tp_test_suite(void)
{
	/* The core ignores SIGPIPE before it starts any plugin (a write to a
	 * peer that hung up must be an error return, not death); the plugin
	 * relies on that, so this stand-in host does the same. */
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("tls-http");
	TCase *tc = tcase_create("loopback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, session_and_data);
	tcase_add_test(tc, wrong_password);
	tcase_add_test(tc, stack_mismatch);
	tcase_add_test(tc, verification_fails);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, certificate_reload);
	tcase_add_test(tc, queue_charges_whole_buffers);
	tcase_add_test(tc, queue_shares_the_pool_budget);
	tcase_add_test(tc, accept_pauses_when_out_of_fds);
	tcase_add_test(tc, max_sessions_warning_rate_limited);
	tcase_add_test(tc, oldest_handshake_gives_way);
	tcase_add_test(tc, error_answer_bodies);
	tcase_add_test(tc, slow_check_does_not_block_loop);
	tcase_add_test(tc, failed_logins_throttled);
	tcase_add_test(tc, throttled_answer);
	suite_add_tcase(s, tc);
	return s;
}
