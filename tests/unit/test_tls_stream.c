/* SPDX-License-Identifier: MIT */
/*
 * test_tls_stream.c — the tls-http TLS byte stream (plugins/tls-http/conn.h)
 * on its own, through the test-only tls-stream-probe sink in the harness:
 * a socketpair, the stream as TLS client on one end, a TLS 1.2 peer made
 * here on the other.  The peer counts the application-data records it
 * receives (OpenSSL's message callback shows every record header), so the
 * two write modes are checked on the wire: coalesced full records, and
 * exactly one record per buffer.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "check-main.h"
#include "harness.h"

struct peer {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int up;               /* TLS handshake done */
	int records;          /* application-data records received */
	size_t reads[64];     /* length of each SSL_read that returned data */
	int nreads;
	uint8_t got[200000];
	size_t got_len;
};

static void count_records(int write_p, int version, int content_type, const void *buf,
			  size_t len, SSL *ssl, void *arg)
{
	struct peer *p = arg;
	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HEADER && len >= 5 &&
	    ((const uint8_t *)buf)[0] == SSL3_RT_APPLICATION_DATA)
		p->records++;
}

/* A throwaway self-signed certificate, in memory only. */
static void peer_init(struct peer *p, int fd)
{
	memset(p, 0, sizeof(*p));
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(pk);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"peer", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	p->ctx = SSL_CTX_new(TLS_server_method());
	ck_assert_ptr_nonnull(p->ctx);
	/* TLS 1.2: every record's outer type is its real one, so the
	 * application-data records can be counted from their headers. */
	SSL_CTX_set_max_proto_version(p->ctx, TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_use_certificate(p->ctx, x), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(p->ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	p->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	p->ssl = SSL_new(p->ctx);
	SSL_set_fd(p->ssl, fd);
	SSL_set_accept_state(p->ssl);
	SSL_set_msg_callback(p->ssl, count_records);
	SSL_set_msg_callback_arg(p->ssl, p);
}

static void peer_free(struct peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
	if (p->fd >= 0)
		close(p->fd);
	ERR_clear_error();
}

/* As far as the peer gets without blocking: the handshake, then reads. */
static void peer_step(struct peer *p)
{
	if (!p->up) {
		int r = SSL_do_handshake(p->ssl);
		if (r != 1) {
			int e = SSL_get_error(p->ssl, r);
			ck_assert_msg(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE,
				      "peer handshake failed (%d)", e);
			return;
		}
		p->up = 1;
	}
	for (;;) {
		int n = SSL_read(p->ssl, p->got + p->got_len, (int)(sizeof(p->got) - p->got_len));
		if (n <= 0)
			break;
		if (p->nreads < (int)(sizeof(p->reads) / sizeof(p->reads[0])))
			p->reads[p->nreads] = (size_t)n;
		p->nreads++;
		p->got_len += (size_t)n;
	}
	ERR_clear_error();
}

static struct tp_harness *probe(int fd, const char *extra)
{
	char opts[256];
	snprintf(opts, sizeof(opts), "fd = %d; %s", fd, extra ? extra : "");
	struct tp_harness *h = tp_harness_new("tls-stream-probe", opts);
	ck_assert_msg(h != NULL, "probe: %s", tp_harness_last_error());
	ck_assert_int_eq(tp_harness_start(h), 0);
	return h;
}

/* Turns of the stream's loop and the peer until done() or many turns. */
static int pump(struct tp_harness *h, struct peer *p, int (*done)(struct tp_harness *, struct peer *))
{
	for (int i = 0; i < 2000; i++) {
		tp_harness_run(h, 1);
		if (p)
			peer_step(p);
		if (done(h, p))
			return 1;
	}
	return 0;
}

static int is_open(struct tp_harness *h, struct peer *p)
{
	return p->up && tp_harness_counter(h, "opened") == 1;
}

static size_t want_bytes;
static int got_all(struct tp_harness *h, struct peer *p)
{
	(void)h;
	return p->got_len >= want_bytes;
}

static void connected(struct tp_harness **h, struct peer *p, const char *extra)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	peer_init(p, sv[1]);
	*h = probe(sv[0], extra);
	ck_assert_msg(pump(*h, p, is_open), "the stream did not open");
}

static uint8_t pattern[40000];

static void fill_pattern(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + i / 256);
}

/* Frame mode: each buffer one record, whatever its size; a buffer larger
 * than a record cannot be sent so and is dropped, counted. */
START_TEST(frames_one_record_each)
{
	static const size_t sizes[] = { 1, 7, 100, 1400, 16384, 16385, 3000 };
	struct tp_harness *h;
	struct peer p;
	size_t total = 0;

	fill_pattern();
	connected(&h, &p, "frames = true;");
	int before = p.records;
	struct tp_batch q = TP_BATCH_INIT;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tp_batch_add(&q, tp_harness_buf(h, pattern, sizes[i]));
		if (sizes[i] <= 16384)
			total += sizes[i];
	}
	tp_harness_push_down_batch(h, &q);
	want_bytes = total;
	ck_assert_msg(pump(h, &p, got_all), "only %zu of %zu bytes arrived", p.got_len, total);
	ck_assert_int_eq(p.records - before, 6);
	ck_assert_int_eq(p.nreads, 6);
	size_t off = 0;
	for (int i = 0, j = 0; i < 7; i++) {
		if (sizes[i] > 16384)
			continue;
		ck_assert_uint_eq(p.reads[j], sizes[i]);
		ck_assert_int_eq(memcmp(p.got + off, pattern, sizes[i]), 0);
		off += sizes[i];
		j++;
	}
	ck_assert_uint_eq(tp_harness_counter(h, "queue_drops"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "bytes_out"), total);
	tp_harness_free(h);
	peer_free(&p);
}
END_TEST

/* The default mode: many small buffers share full records. */
START_TEST(coalesced_full_records)
{
	struct tp_harness *h;
	struct peer p;

	fill_pattern();
	connected(&h, &p, NULL);
	int before = p.records;
	struct tp_batch q = TP_BATCH_INIT;
	for (int i = 0; i < 100; i++)
		tp_batch_add(&q, tp_harness_buf(h, pattern + i * 100, 100));
	tp_harness_push_down_batch(h, &q);
	want_bytes = 10000;
	ck_assert(pump(h, &p, got_all));
	ck_assert_int_eq(p.records - before, 1);
	ck_assert_int_eq(memcmp(p.got, pattern, 10000), 0);

	/* 40000 bytes in 20 buffers: two full records and the rest */
	before = p.records;
	p.got_len = 0;
	p.nreads = 0;
	for (int i = 0; i < 20; i++)
		tp_batch_add(&q, tp_harness_buf(h, pattern + i * 2000, 2000));
	tp_harness_push_down_batch(h, &q);
	want_bytes = 40000;
	ck_assert(pump(h, &p, got_all));
	ck_assert_int_eq(p.records - before, 3);
	ck_assert_uint_eq(p.reads[0], 16384);
	ck_assert_uint_eq(p.reads[1], 16384);
	ck_assert_int_eq(memcmp(p.got, pattern, 40000), 0);
	ck_assert_uint_eq(tp_harness_counter(h, "queue_drops"), 0);
	tp_harness_free(h);
	peer_free(&p);
}
END_TEST

static int up_bytes(struct tp_harness *h, struct peer *p)
{
	(void)p;
	return tp_harness_counter(h, "bytes_in") >= want_bytes;
}

static int closed(struct tp_harness *h, struct peer *p)
{
	(void)p;
	return tp_harness_counter(h, "closed") == 1;
}

/* What the peer sends comes up in pool buffers; its close ends the stream. */
START_TEST(reads_up_then_peer_closes)
{
	struct tp_harness *h;
	struct peer p;
	uint8_t got[64];
	size_t n = 0;
	struct tp_buf *b;

	connected(&h, &p, NULL);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(SSL_write(p.ssl, "hello", 5), 5);
	want_bytes = 15;
	ck_assert(pump(h, &p, up_bytes));
	while ((b = tp_harness_pull_up(h))) {
		ck_assert_uint_le(n + b->len, sizeof(got));
		memcpy(got + n, b->data, b->len);
		n += b->len;
		tp_harness_buf_free(h, b);
	}
	ck_assert_uint_eq(n, 15);
	ck_assert_int_eq(memcmp(got, "hellohellohello", 15), 0);

	SSL_shutdown(p.ssl);
	close(p.fd);
	p.fd = -1;
	ck_assert(pump(h, NULL, closed));
	ck_assert_uint_eq(tp_harness_counter(h, "expired"), 0);
	ck_assert_uint_eq(tp_harness_outstanding(h), 0);
	tp_harness_free(h);
	peer_free(&p);
}
END_TEST

/* A peer that never answers the TLS handshake: the deadline ends it. */
START_TEST(deadline_ends_silent_handshake)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	struct tp_harness *h = probe(sv[0], "deadline = 30;");
	ck_assert(pump(h, NULL, closed));
	ck_assert_uint_eq(tp_harness_counter(h, "expired"), 1);
	ck_assert_uint_eq(tp_harness_counter(h, "opened"), 0);
	tp_harness_free(h);
	close(sv[1]);
}
END_TEST

Suite *tp_test_suite(void)
{
	/* As the core does before any plugin starts: a close_notify written
	 * to a peer that is gone must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("tls-stream");
	TCase *tc = tcase_create("stream");
	tcase_add_test(tc, frames_one_record_each);
	tcase_add_test(tc, coalesced_full_records);
	tcase_add_test(tc, reads_up_then_peer_closes);
	tcase_add_test(tc, deadline_ends_silent_handshake);
	suite_add_tcase(s, tc);
	return s;
}
